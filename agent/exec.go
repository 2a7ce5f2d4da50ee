package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kirikae/kirikae/agent/action"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// progressEvery is the most often a step's progress is forwarded.
const progressEvery = time.Second

// job is one accepted attempt, queued or running.
type job struct {
	key    attemptKey
	as     *kirikaev1.Assignment
	step   action.Step
	bad    error // the assignment cannot run (bad with_json); reported without executing
	ctx    context.Context
	cancel context.CancelCauseFunc
	// started is set, under Agent.mu, when the job takes a slot.
	started bool
}

// cancelledError is the cancel cause of an attempt the control plane cancelled.
type cancelledError struct{ reason string }

func (c *cancelledError) Error() string { return "cancelled: " + c.reason }

// timeoutError is the cancel cause of an attempt that ran past its timeout_ms.
type timeoutError struct{ d time.Duration }

func (t *timeoutError) Error() string { return "timed out after " + t.d.String() }

// assign handles an assignment from the control plane; see the package doc for the rules.
// It is called from the stream's receive loop and must not block for long.
func (a *Agent) assign(as *kirikaev1.Assignment) {
	k := keyOf(as.GetRunId(), as.GetStepId(), as.GetAttempt())
	log := a.log.With("run", k.run, "step", k.step, "attempt", k.attempt, "action", as.GetAction(), "epoch", as.GetEpoch())
	if err := a.epoch.admit(as.GetEpoch()); err != nil {
		log.Warn("refusing an assignment", "err", err)
		a.metrics.refusals.Inc()
		now := timeNow().UnixNano()
		a.emitAsync(resultMsg(&kirikaev1.StepResult{
			RunId: k.run, StepId: k.step, Attempt: k.attempt, Ok: false, Refused: true,
			Error: err.Error(), StartedUnixNano: now, FinishedUnixNano: now,
		}))
		return
	}

	a.mu.Lock()
	if _, ok := a.jobs[k]; ok {
		a.mu.Unlock()
		log.Info("dropping a duplicate of an attempt that is queued or running")
		return
	}
	if res, ok := a.results.get(k); ok {
		a.mu.Unlock()
		log.Info("duplicate of a finished attempt: sending its result again", "ok", res.GetOk())
		a.emitAsync(resultMsg(res))
		return
	}
	with, bad := decodeWith(as.GetWithJson())
	ctx, cancel := context.WithCancelCause(a.ctx)
	j := &job{
		key: k, as: as, bad: bad, ctx: ctx, cancel: cancel,
		step: action.Step{
			RunID: k.run, StepID: k.step, Attempt: k.attempt, Epoch: as.GetEpoch(),
			Action: as.GetAction(), Region: a.cfg.Region, With: with, OwnerRuns: as.GetOwnerRuns(),
		},
	}
	a.jobs[k] = j
	a.queue = append(a.queue, j)
	queued := len(a.queue)
	a.pumpLocked()
	a.mu.Unlock()
	log.Info("accepted an assignment", "timeout_ms", as.GetTimeoutMs(), "queued", queued)
}

// pumpLocked starts queued jobs while there are free slots. a.mu must be held.
func (a *Agent) pumpLocked() {
	for a.running < a.cfg.MaxSteps && len(a.queue) > 0 && a.ctx.Err() == nil {
		j := a.queue[0]
		a.queue = a.queue[1:]
		j.started = true
		a.running++
		a.jobsWG.Add(1)
		go a.run(j)
	}
}

// cancelStep handles CancelStep.
func (a *Agent) cancelStep(c *kirikaev1.CancelStep) {
	k := keyOf(c.GetRunId(), c.GetStepId(), c.GetAttempt())
	reason := c.GetReason()
	if reason == "" {
		reason = "by the control plane"
	}
	cause := &cancelledError{reason: reason}
	a.mu.Lock()
	j, ok := a.jobs[k]
	if !ok {
		a.mu.Unlock()
		if res, done := a.results.get(k); done {
			a.log.Info("cancel for a finished attempt: sending its result again", "attempt", k)
			a.emitAsync(resultMsg(res))
		} else {
			a.log.Info("cancel for an attempt this agent does not have", "attempt", k)
		}
		return
	}
	if j.started {
		a.mu.Unlock()
		a.log.Info("cancelling a running attempt", "attempt", k, "reason", reason)
		j.cancel(cause)
		return
	}
	// Still queued: it never runs.
	a.queue = slices.DeleteFunc(a.queue, func(q *job) bool { return q == j })
	a.mu.Unlock()
	a.log.Info("cancelling a queued attempt", "attempt", k, "reason", reason)
	j.cancel(cause)
	a.metrics.stepEnded(j.step.Action, outcomeCancelled, 0)
	now := timeNow().UnixNano()
	res := &kirikaev1.StepResult{
		RunId: k.run, StepId: k.step, Attempt: k.attempt, Ok: false, Error: cause.Error(),
		StartedUnixNano: now, FinishedUnixNano: now,
	}
	a.wg.Go(func() { _ = a.finish(j, res, false, nil) })
}

// emitAsync sends a reliable message without blocking the receive loop: a receive loop
// that waits for room in the outbox while the server waits for us to read would deadlock.
func (a *Agent) emitAsync(m *kirikaev1.ConnectRequest) {
	a.wg.Go(func() { a.emit(m, true) })
}

// run executes one job in its slot and reports the result.
func (a *Agent) run(j *job) {
	defer a.jobsWG.Done()
	k := j.key
	log := a.log.With("run", k.run, "step", k.step, "attempt", k.attempt, "action", j.step.Action)
	started := timeNow()
	ctx := j.ctx
	if ms := j.as.GetTimeoutMs(); ms > 0 {
		d := time.Duration(ms) * time.Millisecond
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, &timeoutError{d: d})
		defer cancel()
	}
	progress := newProgressLimiter(progressEvery, func(status string, last bool) {
		a.emit(&kirikaev1.ConnectRequest{Msg: &kirikaev1.ConnectRequest_Progress{Progress: &kirikaev1.StepProgress{
			RunId: k.run, StepId: k.step, Attempt: k.attempt, Status: status,
		}}}, last)
	})
	// The undo log starts with what earlier attempts of this step recorded but could not
	// report (interrupted by a shutdown or a crash), and is kept on disk as it grows.
	pending, perr := a.undo.load(k.run, k.step)
	if perr != nil {
		log.Error("cannot read the undo steps an earlier attempt left; they are not reported", "err", perr)
	}
	// Every undo step also goes to the control plane at once, in a progress message, so it
	// outlives this agent: a retry on another agent cannot report what this one did.
	sendUndo := func(all []action.Undo) {
		undo := a.undoSteps(log, all)
		if len(undo) == 0 {
			return
		}
		a.emitAsync(&kirikaev1.ConnectRequest{Msg: &kirikaev1.ConnectRequest_Progress{Progress: &kirikaev1.StepProgress{
			RunId: k.run, StepId: k.step, Attempt: k.attempt, Undo: undo,
			Status: "recorded how to undo: " + undo[len(undo)-1].GetNote()}}})
	}
	j.step.Undo = action.NewUndoLog(pending, func(all []action.Undo) {
		if err := a.undo.save(k.run, k.step, all); err != nil {
			log.Error("cannot persist undo steps; they are kept in memory only", "err", err)
		}
		sendUndo(all)
	})
	if len(pending) > 0 {
		sendUndo(pending)
	}
	outputs, err := map[string]any(nil), j.bad
	if err == nil {
		log.Debug("executing")
		outputs, err = a.execute(ctx, j.step, progress.report)
	}
	progress.close()
	finished := timeNow()
	j.cancel(nil) // release the context; the cause of an earlier cancel stays

	cause := context.Cause(j.ctx)
	if err != nil && errors.Is(cause, errShutdown) {
		log.Info("attempt interrupted by shutdown; the control plane will dispatch it again", "err", err,
			"undo_kept_for_next_attempt", len(j.step.Undo.Steps()))
		a.release(j)
		return
	}
	res := &kirikaev1.StepResult{
		RunId: k.run, StepId: k.step, Attempt: k.attempt,
		StartedUnixNano: started.UnixNano(), FinishedUnixNano: finished.UnixNano(),
	}
	var ce *cancelledError
	var te *timeoutError
	outcome := outcomeFailed
	switch {
	case errors.As(cause, &ce):
		res.Error, outcome = ce.Error(), outcomeCancelled
	case err != nil && ctx.Err() != nil && errors.As(context.Cause(ctx), &te):
		res.Error, outcome = fmt.Sprintf("%s: %v", te.Error(), err), outcomeTimedOut
	case err != nil:
		res.Error = err.Error()
		res.ErrorKind = errorKind(err)
		// Invalid inputs stay invalid: a retry of the same step cannot succeed.
		res.Permanent = res.ErrorKind == kirikaev1.StepErrorKind_STEP_ERROR_KIND_INVALID_INPUT
		var oe *action.OutputsError
		if errors.As(err, &oe) {
			if b, merr := json.Marshal(oe.Outputs); merr == nil {
				res.OutputsJson = string(b)
			}
		}
	default:
		if outputs == nil {
			outputs = map[string]any{}
		}
		b, merr := json.Marshal(outputs)
		if merr != nil {
			res.Error = fmt.Sprintf("outputs of %s are not JSON: %v", j.step.Action, merr)
			break
		}
		res.Ok, res.OutputsJson, outcome = true, string(b), outcomeSucceeded
	}
	a.metrics.stepEnded(j.step.Action, outcome, finished.Sub(started))
	// Undo is reported whatever the outcome: an attempt that created something and then
	// failed (a wait that timed out, a cancel, a panic) must not lose it.
	res.Undo = a.undoSteps(log, j.step.Undo.Steps())
	if res.Ok {
		log.Info("attempt succeeded", "took", finished.Sub(started).Round(time.Millisecond), "undo", len(res.Undo))
	} else {
		log.Warn("attempt failed", "err", res.Error, "took", finished.Sub(started).Round(time.Millisecond), "undo", len(res.Undo))
	}
	_ = a.finish(j, res, true, func() {
		// The stored result holds every pending undo step of the step now. They are dropped
		// before the result is sent or the slot freed, so the next attempt of the step, which
		// may be dispatched the moment the result arrives, does not report them again.
		if err := a.undo.drop(k.run, k.step); err != nil {
			log.Warn("cannot drop pending undo steps; a later attempt reports them again", "err", err)
		}
	})
}

// undoSteps turns an attempt's undo log into the wire form. An undo step whose inputs are
// not JSON is an executor bug; it is logged and left out rather than failing the attempt.
func (a *Agent) undoSteps(log *slog.Logger, steps []action.Undo) []*kirikaev1.UndoStep {
	var out []*kirikaev1.UndoStep
	for _, u := range steps {
		with := u.With
		if with == nil {
			with = map[string]any{}
		}
		b, err := json.Marshal(with)
		if err != nil {
			log.Error("dropping an undo step whose inputs are not JSON", "undo", u.Action, "note", u.Note, "err", err)
			continue
		}
		out = append(out, &kirikaev1.UndoStep{Action: u.Action, WithJson: string(b), Note: u.Note})
	}
	return out
}

// finish stores a result, frees the job's slot and sends the result. The result is stored
// before the job leaves a.jobs, so a duplicate assignment always finds one or the other;
// stored, if not nil, runs once the result is stored and before anything else sees it.
// It returns the error of storing the result, already logged.
func (a *Agent) finish(j *job, res *kirikaev1.StepResult, held bool, stored func()) error {
	perr := a.results.put(res)
	if perr != nil {
		a.log.Error("cannot store a result; it is kept in memory only", "attempt", j.key, "err", perr)
	} else if stored != nil {
		stored()
	}
	if held {
		a.release(j)
	} else {
		a.mu.Lock()
		delete(a.jobs, j.key)
		a.mu.Unlock()
	}
	a.emit(resultMsg(res), true)
	return perr
}

// release frees a running job's slot and starts the next queued job.
func (a *Agent) release(j *job) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.jobs, j.key)
	a.running--
	a.pumpLocked()
}

// execute runs the step's executor. A panic fails the attempt instead of the agent (only
// in this goroutine: an executor must not panic in goroutines of its own).
func (a *Agent) execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (out map[string]any, err error) {
	e, ok := a.reg.Lookup(step.Action)
	if !ok {
		return nil, fmt.Errorf("%w %q: no executor for it on agent %s", action.ErrUnknownAction, step.Action, a.cfg.ID)
	}
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("executor panicked", "action", step.Action, "panic", r, "stack", string(debug.Stack()))
			out, err = nil, fmt.Errorf("executor for %s panicked: %v", step.Action, r)
		}
	}()
	return e.Execute(ctx, step, progress)
}

// decodeWith decodes with_json into a map. Numbers become int64 when whole and in range,
// float64 otherwise (see the package doc).
func decodeWith(s string) (map[string]any, error) {
	if strings.TrimSpace(s) == "" {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return map[string]any{}, fmt.Errorf("%w: with_json is not a JSON object: %w", action.ErrInvalidInput, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return map[string]any{}, fmt.Errorf("%w: with_json has data after the object", action.ErrInvalidInput)
	}
	if m == nil {
		m = map[string]any{}
	}
	for k, v := range m {
		m[k] = normalizeNumbers(v)
	}
	return m, nil
}

func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	}
	return v
}

// progressLimiter forwards at most one status per interval; a status that arrives sooner
// is held and sent when the interval is up, replaced by any later one. close sends the
// held status at once, so the last status before the result is never lost.
type progressLimiter struct {
	every time.Duration
	emit  func(status string, last bool)

	mu      sync.Mutex
	last    time.Time
	pending string
	held    bool
	timer   *time.Timer
	closed  bool
}

func newProgressLimiter(every time.Duration, emit func(string, bool)) *progressLimiter {
	return &progressLimiter{every: every, emit: emit}
}

func (p *progressLimiter) report(status string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	now := time.Now()
	if p.last.IsZero() || now.Sub(p.last) >= p.every {
		p.last, p.held = now, false
		p.emit(status, false)
		return
	}
	p.pending, p.held = status, true
	if p.timer == nil {
		p.timer = time.AfterFunc(p.last.Add(p.every).Sub(now), p.fire)
	}
}

func (p *progressLimiter) fire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timer = nil
	if p.closed || !p.held {
		return
	}
	p.last, p.held = time.Now(), false
	p.emit(p.pending, false)
}

func (p *progressLimiter) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	if p.held {
		p.held = false
		p.emit(p.pending, true)
	}
}

// errorKind classifies an executor's failure by the sentinel it wraps.
func errorKind(err error) kirikaev1.StepErrorKind {
	switch {
	case errors.Is(err, action.ErrInvalidInput):
		return kirikaev1.StepErrorKind_STEP_ERROR_KIND_INVALID_INPUT
	case errors.Is(err, action.ErrGuardRail):
		return kirikaev1.StepErrorKind_STEP_ERROR_KIND_GUARD_RAIL
	case errors.Is(err, action.ErrCheckFailed):
		return kirikaev1.StepErrorKind_STEP_ERROR_KIND_CHECK_FAILED
	}
	return kirikaev1.StepErrorKind_STEP_ERROR_KIND_UNSPECIFIED
}
