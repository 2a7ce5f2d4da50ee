package controlplane

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kirikae/kirikae/awsregion"
	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// Planner turns plan files into runs and resolves a step's inputs at dispatch. Package
// runs implements it on top of package plan; the control plane never parses plans itself.
type Planner interface {
	// Compile checks a plan and builds a run from it: steps with their specs, phases,
	// the plan's name and kind. Regions named primary/secondary are resolved against the pair,
	// and ${system.…} against sys (nil: no system stored), which the run keeps.
	Compile(source []byte, params map[string]string, region *kirikaev1.RegionState, sys *kirikaev1.SystemRecord) (*kirikaev1.Run, error)
	// Resolve returns the step's inputs as a JSON object with every ${...} reference
	// replaced from the run's params and the outputs of the steps it needs.
	Resolve(run *kirikaev1.Run, step *kirikaev1.StepState) (string, error)
	// Teardown writes the plan that removes what a run created or changed, from the undo
	// steps in its steps, and says which undo step each step of the plan runs.
	Teardown(run *kirikaev1.Run) (src []byte, undoes map[string]*kirikaev1.UndoStep, err error)
	// UndoResource names the resource an undo step touches (region/kind/id), or "".
	UndoResource(region string, u *kirikaev1.UndoStep) string
	// Evaluate prepares a plan's evaluation against the pair and sys, as a run of it would
	// now resolve: the steps each region's agent checks with read-only AWS calls, and finish,
	// which adds what the planner finds without AWS to the agents' reports (by region) and
	// places every finding on its plan line. A param without a value leaves what reads it
	// unchecked; a plan that does not parse is an error.
	Evaluate(file string, source []byte, params map[string]string, region *kirikaev1.RegionState, sys *kirikaev1.SystemRecord, now time.Time) (
		steps map[string][]*kirikaev1.CheckStep, finish EvaluationFinish, err error)
	// EvaluateRun prepares the evaluation of what is left of a live run: the steps that have
	// not started, resolved with the outputs of those that have.
	EvaluateRun(run *kirikaev1.Run) (steps map[string][]*kirikaev1.CheckStep, finish EvaluationFinish, err error)
}

// EvaluationFinish completes a plan evaluation from the agents' reports, by region, and the
// regions no agent checked.
type EvaluationFinish = func(reports map[string]*kirikaev1.CheckReport, unchecked []*kirikaev1.UncheckedRegion, now time.Time) *kirikaev1.PlanEvaluation

// orchestrator is the level-triggered loop that drives runs. It runs on the leader only.
//
// Contract: every decision is recorded in raft before it takes effect outside. A dispatch
// is proposed (StepDispatched) before the assignment is sent; a new leader recomputes all
// pending work from the state machine and sends again, and agents drop duplicates by
// (run, step, attempt). The state machine ignores results for attempts that are no longer
// current, so a late answer can never overwrite a newer one.
type orchestrator struct {
	s *Server
	// endReadiness remembers the drills whose closing readiness this leader has asked for.
	endReadiness map[string]bool
	// teardown remembers the partial drills whose teardown this leader has started to create.
	teardown map[string]bool
	// cutback remembers the full-scale drills whose cutback this leader has started to create.
	cutback map[string]bool
	// retry receives the drills whose teardown or cutback could not be created, to try again.
	retry chan string
	// backoff holds back proposals about a step whose last proposal failed, so a proposal
	// the state machine keeps refusing cannot feed the loop (every applied entry wakes it).
	backoff map[attemptKey]proposalBackoff
	// preflights are the plan.preflight attempts this leader has started to evaluate;
	// verdicts brings their outcomes back to the loop.
	preflights map[attemptKey]bool
	verdicts   chan preflightVerdict
}

type proposalBackoff struct {
	until time.Time
	wait  time.Duration
}

// held reports whether proposals about key are held back now.
func (o *orchestrator) held(key attemptKey, now time.Time) bool {
	return now.Before(o.backoff[key].until)
}

// failed holds back proposals about key for a while: 100 ms, doubling to 5 s.
func (o *orchestrator) failed(key attemptKey, now time.Time) {
	b := o.backoff[key]
	b.wait = min(max(2*b.wait, 100*time.Millisecond), 5*time.Second)
	b.until = now.Add(b.wait)
	o.backoff[key] = b
}

// retryLater lets the loop try again, after a pause, to create a drill's teardown or cutback.
func (o *orchestrator) retryLater(ctx context.Context, runID string) {
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		select {
		case o.retry <- runID:
		case <-ctx.Done():
		}
	}
}

const orchestratorTick = 200 * time.Millisecond

func (o *orchestrator) run(ctx context.Context) {
	t := time.NewTicker(orchestratorTick)
	defer t.Stop()
	for {
		ch, _ := o.s.node.FSM().waitApplied()
		o.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-o.s.hub.wake:
		case <-ch:
		}
	}
}

func (o *orchestrator) tick(ctx context.Context) {
	o.recordPreflights(ctx)
	now := time.Now()
	for k, b := range o.backoff {
		if now.Sub(b.until) > time.Minute {
			delete(o.backoff, k)
		}
	}
	for drained := false; !drained; {
		select {
		case id := <-o.retry:
			delete(o.teardown, id)
			delete(o.cutback, id)
		default:
			drained = true
		}
	}
	// Only runs with work left: active ones, and ended ones whose agents still hold steps
	// to cancel. Finished history is never copied here.
	for _, r := range o.s.node.FSM().RunsWhere(func(r *kirikaev1.Run) bool {
		if runActive(r) || o.needsEndReadiness(r) || o.needsTeardown(r) || o.needsDrillCutback(r) {
			return true
		}
		for _, st := range r.GetSteps() {
			if StepHeld(st) {
				return true
			}
		}
		return false
	}) {
		switch r.GetStatus() {
		case kirikaev1.RunStatus_RUN_STATUS_RUNNING:
			o.drive(ctx, r, now)
		case kirikaev1.RunStatus_RUN_STATUS_PAUSED:
			// Pause stops new dispatches; steps already running still finish.
			for _, st := range r.GetSteps() {
				if StepHeld(st) {
					o.tend(ctx, r, st, now)
				}
			}
		case kirikaev1.RunStatus_RUN_STATUS_ABORTED, kirikaev1.RunStatus_RUN_STATUS_FAILED:
			o.cancelAll(r, "run "+enum.Name(r.GetStatus()))
			o.closeLost(ctx, r, now)
		}
		if o.needsEndReadiness(r) {
			o.endReadiness[r.GetId()] = true
			go o.recordEndReadiness(ctx, r.GetId())
		}
		if o.needsTeardown(r) {
			// The state machine hands over the work once no agent holds a step of the run,
			// so every change has been reported.
			if work := o.s.node.FSM().TeardownWork(r.GetId()); work != nil {
				o.teardown[r.GetId()] = true
				go o.startTeardown(ctx, work)
			}
		}
		if o.needsDrillCutback(r) {
			o.cutback[r.GetId()] = true
			go o.startDrillCutback(ctx, r)
		}
	}
}

// needsEndReadiness reports whether a drill has ended without its closing readiness, and
// this leader has not asked for it yet.
func (o *orchestrator) needsEndReadiness(r *kirikaev1.Run) bool {
	return r.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED && !runActive(r) &&
		len(r.GetReadinessEnd()) == 0 && !o.endReadiness[r.GetId()]
}

// recordEndReadiness asks every connected agent for a fresh report and records them in the
// drill's run.
func (o *orchestrator) recordEndReadiness(ctx context.Context, runID string) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	reports, _ := o.s.requestReadiness(rctx, "")
	cancel()
	if _, err := o.propose(ctx, &kirikaev1.Command{RequestId: "readiness-end/" + runID,
		Payload: &kirikaev1.Command_RunReadiness{RunReadiness: &kirikaev1.RunReadiness{RunId: runID, Reports: reports}}}); err != nil {
		o.s.log.Warn("record drill readiness", "run", runID, "err", err)
	}
}

func (o *orchestrator) drive(ctx context.Context, r *kirikaev1.Run, now time.Time) {
	var ready []*kirikaev1.StepState
	for _, st := range r.GetSteps() {
		switch st.GetStatus() {
		case kirikaev1.StepStatus_STEP_STATUS_PENDING:
			if needsDone(r, st) && !st.GetSkipRequested() {
				ready = append(ready, st)
			}
		case kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT:
			if now.UnixNano() >= st.GetNotBeforeUnixNano() {
				ready = append(ready, st)
			}
		case kirikaev1.StepStatus_STEP_STATUS_DISPATCHED, kirikaev1.StepStatus_STEP_STATUS_RUNNING:
			o.tend(ctx, r, st, now)
		}
	}
	// Recovery priority (auth, DB, app, cache) orders dispatch among ready steps.
	slices.SortStableFunc(ready, func(a, b *kirikaev1.StepState) int {
		return int(a.GetSpec().GetPriority()) - int(b.GetSpec().GetPriority())
	})
	for _, st := range ready {
		if o.held(attemptKey{r.GetId(), st.GetId(), st.GetAttempt() + 1}, now) {
			continue
		}
		if st.GetSpec().GetRegion() == "control-plane" {
			o.startControlPlaneStep(ctx, r, st)
			continue
		}
		o.dispatch(ctx, r, st, st.GetAttempt()+1, nil, now)
	}
}

func (o *orchestrator) propose(ctx context.Context, p *kirikaev1.Command) (*kirikaev1.CommandResult, error) {
	if p.Actor == "" {
		p.Actor = "spiffe://kirikae/server/" + o.s.node.ID()
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, _, err := o.s.Propose(pctx, p)
	return res, err
}

// proposeStep proposes a command about one attempt of a step; a failure holds further
// proposals about it back for a while, and is logged once per hold.
func (o *orchestrator) proposeStep(ctx context.Context, key attemptKey, what string, p *kirikaev1.Command) (*kirikaev1.CommandResult, error) {
	res, err := o.propose(ctx, p)
	if err != nil {
		now := time.Now()
		if !o.held(key, now) {
			o.s.log.Warn(what, "run", key.run, "step", key.step, "attempt", key.attempt, "err", err)
		}
		o.failed(key, now)
		return nil, err
	}
	delete(o.backoff, key)
	return res, nil
}

// dispatch records an attempt in raft and then sends it. With avoid set it re-sends the
// current attempt to another healthy agent of the region than avoid (lost or hung).
func (o *orchestrator) dispatch(ctx context.Context, r *kirikaev1.Run, st *kirikaev1.StepState, attempt uint32, avoid *agentConn, now time.Time) {
	region, _, _ := o.s.node.FSM().Region()
	c := o.s.hub.pick(st.GetSpec().GetRegion(), st.GetSpec().GetAction(), avoid, now)
	if c == nil {
		return // no healthy agent in the region yet; the next tick tries again
	}
	key := attemptKey{r.GetId(), st.GetId(), attempt}
	with, err := o.s.planner.Resolve(r, st)
	if err != nil {
		// Inputs that cannot be resolved will not resolve on a retry either.
		o.failPermanently(ctx, r, st, attempt, fmt.Sprintf("resolve inputs: %v", err), kirikaev1.StepErrorKind_STEP_ERROR_KIND_UNRESOLVED_INPUT)
		return
	}
	if attempt != st.GetAttempt() || c.info.GetId() != st.GetAgentId() {
		res, err := o.proposeStep(ctx, key, "record dispatch", &kirikaev1.Command{
			RequestId: fmt.Sprintf("dispatch/%s/%s/%d/%s/%s", r.GetId(), st.GetId(), attempt, c.info.GetRegion(), c.info.GetId()),
			Payload: &kirikaev1.Command_StepDispatched{StepDispatched: &kirikaev1.StepDispatched{
				RunId: r.GetId(), StepId: st.GetId(), Attempt: attempt, AgentId: c.info.GetId(), Epoch: region.GetEpoch()}},
		})
		if err != nil {
			return
		}
		// The state machine may have done something else with the step (a teardown step
		// whose resource has passed to another run is skipped): send only what it recorded.
		now := findStep(res.GetRun(), st.GetId())
		if now == nil || now.GetAttempt() != attempt || now.GetAgentId() != c.info.GetId() || !StepHeld(now) {
			return
		}
	}
	if avoid != nil {
		o.cancelOn(avoid, r, st, attempt, "moved to agent "+c.info.GetId())
	}
	o.send(c, r, st, attempt, region.GetEpoch(), with)
}

func (o *orchestrator) send(c *agentConn, r *kirikaev1.Run, st *kirikaev1.StepState, attempt uint32, epoch uint64, with string) {
	key := attemptKey{r.GetId(), st.GetId(), attempt}
	c.mu.Lock()
	already := c.sent[key]
	c.mu.Unlock()
	if already {
		return
	}
	timeout := st.GetSpec().GetTimeoutMs()
	if c.enqueue(&kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_Assign{Assign: &kirikaev1.Assignment{
		RunId: r.GetId(), StepId: st.GetId(), Attempt: attempt, Epoch: epoch,
		Action: st.GetSpec().GetAction(), WithJson: with, TimeoutMs: timeout, OwnerRuns: r.GetInheritedFrom()}}}) {
		c.mu.Lock()
		c.sent[key] = true
		c.mu.Unlock()
		o.s.log.Info("step dispatched", "run", r.GetId(), "step", st.GetId(), "attempt", attempt, "agent", c.info.GetId(), "region", c.info.GetRegion(), "epoch", epoch)
	}
}

// tend looks after a step that an agent holds: it re-sends after a leader change or a
// reconnect, moves the step when its agent is lost or stops heartbeating, and enforces the
// timeout.
func (o *orchestrator) tend(ctx context.Context, r *kirikaev1.Run, st *kirikaev1.StepState, now time.Time) {
	if st.GetSpec().GetRegion() == "control-plane" {
		o.tendControlPlaneStep(ctx, r, st, now)
		return
	}
	region := st.GetSpec().GetRegion()
	if t := st.GetSpec().GetTimeoutMs(); t > 0 && now.UnixNano()-st.GetAttemptStartedUnixNano() > t*int64(time.Millisecond) {
		if c := o.s.hub.get(region, st.GetAgentId()); c != nil {
			c.enqueue(&kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_Cancel{Cancel: &kirikaev1.CancelStep{
				RunId: r.GetId(), StepId: st.GetId(), Attempt: st.GetAttempt(), Reason: "timeout"}}})
		}
		o.failStep(ctx, r, st, st.GetAttempt(), fmt.Sprintf("timed out after %s", time.Duration(t)*time.Millisecond), kirikaev1.StepErrorKind_STEP_ERROR_KIND_UNSPECIFIED)
		return
	}
	if c := o.s.hub.get(region, st.GetAgentId()); c != nil {
		if c.hung(now) {
			// Connected but silent past the grace period (a stopped process, a wedged
			// host): the same attempt goes to another healthy agent of the region, if there
			// is one. A late report from this one is then refused, and the executors'
			// idempotency keeps AWS right.
			o.dispatch(ctx, r, st, st.GetAttempt(), c, now)
			return
		}
		// The same agent: make sure this leader has sent it the attempt (a new leader, or a
		// reconnected agent, has not). The agent drops it if it already has it.
		region, _, _ := o.s.node.FSM().Region()
		with, err := o.s.planner.Resolve(r, st)
		if err == nil {
			o.send(c, r, st, st.GetAttempt(), max(st.GetEpoch(), region.GetEpoch()), with)
		}
		return
	}
	if o.s.hub.inGrace(region, st.GetAgentId(), now) {
		return
	}
	// The agent is gone: run the same attempt on another healthy agent of the region.
	o.dispatch(ctx, r, st, st.GetAttempt(), nil, now)
}

// closeLost ends, as failed, the attempts of an ended run whose agent is gone for good:
// nothing will report them, and a teardown waits until every step has been reported.
func (o *orchestrator) closeLost(ctx context.Context, r *kirikaev1.Run, now time.Time) {
	for _, st := range r.GetSteps() {
		if !StepHeld(st) {
			continue
		}
		region := st.GetSpec().GetRegion()
		if region == "control-plane" || o.s.hub.get(region, st.GetAgentId()) != nil || o.s.hub.inGrace(region, st.GetAgentId(), now) {
			continue
		}
		if o.held(attemptKey{r.GetId(), st.GetId(), st.GetAttempt()}, now) {
			continue
		}
		o.failStep(ctx, r, st, st.GetAttempt(), fmt.Sprintf("agent %s of %s was lost after the run ended; the attempt's outcome was never reported", st.GetAgentId(), region), kirikaev1.StepErrorKind_STEP_ERROR_KIND_UNSPECIFIED)
	}
}

func (o *orchestrator) failStep(ctx context.Context, r *kirikaev1.Run, st *kirikaev1.StepState, attempt uint32, why string, kind kirikaev1.StepErrorKind) {
	o.fail(ctx, r, st, attempt, why, false, kind)
}

// failPermanently records a failure no retry can cure, such as inputs that do not resolve.
func (o *orchestrator) failPermanently(ctx context.Context, r *kirikaev1.Run, st *kirikaev1.StepState, attempt uint32, why string, kind kirikaev1.StepErrorKind) {
	o.fail(ctx, r, st, attempt, why, true, kind)
}

func (o *orchestrator) fail(ctx context.Context, r *kirikaev1.Run, st *kirikaev1.StepState, attempt uint32, why string, permanent bool, kind kirikaev1.StepErrorKind) {
	key := attemptKey{r.GetId(), st.GetId(), attempt}
	if st.GetSpec().GetRegion() == "control-plane" {
		_, _ = o.proposeStep(ctx, key, "record failure", &kirikaev1.Command{RequestId: fmt.Sprintf("cpfail/%s/%s/%d", r.GetId(), st.GetId(), attempt),
			Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{
				RunId: r.GetId(), StepId: st.GetId(), Attempt: attempt, Ok: false, Error: why, Permanent: permanent, ErrorKind: kind}}})
		return
	}
	if attempt != st.GetAttempt() {
		// Not dispatched yet: record the attempt so the failure has one to land on.
		if _, err := o.proposeStep(ctx, key, "record dispatch", &kirikaev1.Command{
			RequestId: fmt.Sprintf("dispatch/%s/%s/%d/-", r.GetId(), st.GetId(), attempt),
			Payload: &kirikaev1.Command_StepDispatched{StepDispatched: &kirikaev1.StepDispatched{
				RunId: r.GetId(), StepId: st.GetId(), Attempt: attempt}},
		}); err != nil {
			return
		}
	}
	_, _ = o.proposeStep(ctx, key, "record failure", &kirikaev1.Command{RequestId: fmt.Sprintf("fail/%s/%s/%d", r.GetId(), st.GetId(), attempt),
		Payload: &kirikaev1.Command_StepResult{StepResult: &kirikaev1.StepResult{
			RunId: r.GetId(), StepId: st.GetId(), Attempt: attempt, Ok: false, Error: why, Permanent: permanent, ErrorKind: kind}}})
}

// startControlPlaneStep starts a step the orchestrator runs itself.
func (o *orchestrator) startControlPlaneStep(ctx context.Context, r *kirikaev1.Run, st *kirikaev1.StepState) {
	next := st.GetAttempt() + 1
	switch st.GetSpec().GetAction() {
	case catalog.Activate.Name:
		with, err := o.s.planner.Resolve(r, st)
		if err != nil {
			o.failPermanently(ctx, r, st, next, fmt.Sprintf("resolve inputs: %v", err), kirikaev1.StepErrorKind_STEP_ERROR_KIND_UNRESOLVED_INPUT)
			return
		}
		in, err := catalog.Activate.Decode([]byte(with))
		if err != nil {
			o.failPermanently(ctx, r, st, next, fmt.Sprintf("region.activate: %v", err), kirikaev1.StepErrorKind_STEP_ERROR_KIND_INVALID_INPUT)
			return
		}
		in.Region = awsregion.InPair(in.Region, r.GetPrimary(), r.GetSecondary())
		key := attemptKey{r.GetId(), st.GetId(), next}
		if _, err := o.proposeStep(ctx, key, "start step", &kirikaev1.Command{RequestId: fmt.Sprintf("cpstart/%s/%s/%d", r.GetId(), st.GetId(), next),
			Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{
				RunId: r.GetId(), StepId: st.GetId(), Start: true}}}); err != nil {
			return
		}
		// The state machine applies the approval policy: a refusal fails the step, the
		// region stays where it is, and the refusal is in the audit log.
		_, _ = o.proposeStep(ctx, key, "activate region", &kirikaev1.Command{RequestId: fmt.Sprintf("cpdone/%s/%s/%d", r.GetId(), st.GetId(), next),
			Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{
				RunId: r.GetId(), StepId: st.GetId(), Attempt: next, Ok: true, ActivateRegion: in.Region}}})
	default: // wait, approval, checklist
		start := &kirikaev1.ControlPlaneStep{RunId: r.GetId(), StepId: st.GetId(), Start: true}
		if a := st.GetSpec().GetAction(); a == catalog.Approval.Name || a == catalog.Checklist.Name {
			// Their terms may read earlier outputs: resolve them now, once, into the log.
			with, err := o.s.planner.Resolve(r, st)
			if err != nil {
				o.failPermanently(ctx, r, st, next, fmt.Sprintf("resolve inputs: %v", err), kirikaev1.StepErrorKind_STEP_ERROR_KIND_UNRESOLVED_INPUT)
				return
			}
			roles, count, items, err := catalog.Terms(a, []byte(with))
			if err != nil {
				o.failPermanently(ctx, r, st, next, fmt.Sprintf("%s inputs: %v", a, err), kirikaev1.StepErrorKind_STEP_ERROR_KIND_INVALID_INPUT)
				return
			}
			start.Roles, start.Items, start.ApprovalsRequired = roles, items, count
		}
		_, _ = o.proposeStep(ctx, attemptKey{r.GetId(), st.GetId(), next}, "start step", &kirikaev1.Command{
			RequestId: fmt.Sprintf("cpstart/%s/%s/%d", r.GetId(), st.GetId(), next),
			Payload:   &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: start}})
	}
}

func (o *orchestrator) tendControlPlaneStep(ctx context.Context, r *kirikaev1.Run, st *kirikaev1.StepState, now time.Time) {
	if st.GetSpec().GetAction() == catalog.Preflight.Name {
		o.preflight(ctx, r, st)
		return
	}
	if st.GetSpec().GetAction() != catalog.Wait.Name {
		return
	}
	with, err := o.s.planner.Resolve(r, st)
	if err != nil {
		o.failStep(ctx, r, st, st.GetAttempt(), fmt.Sprintf("resolve inputs: %v", err), kirikaev1.StepErrorKind_STEP_ERROR_KIND_UNRESOLVED_INPUT)
		return
	}
	in, err := catalog.Wait.Decode([]byte(with))
	if err != nil {
		o.failStep(ctx, r, st, st.GetAttempt(), fmt.Sprintf("wait: %v", err), kirikaev1.StepErrorKind_STEP_ERROR_KIND_INVALID_INPUT)
		return
	}
	d := time.Duration(in.Duration)
	if now.UnixNano()-st.GetAttemptStartedUnixNano() < int64(d) {
		return
	}
	key := attemptKey{r.GetId(), st.GetId(), st.GetAttempt()}
	if o.held(key, now) {
		return
	}
	_, _ = o.proposeStep(ctx, key, "finish wait", &kirikaev1.Command{RequestId: fmt.Sprintf("cpdone/%s/%s/%d", r.GetId(), st.GetId(), st.GetAttempt()),
		Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{
			RunId: r.GetId(), StepId: st.GetId(), Attempt: st.GetAttempt(), Ok: true}}})
}

// cancelAll tells agents to stop the attempts of a run that has ended.
func (o *orchestrator) cancelAll(r *kirikaev1.Run, why string) {
	for _, st := range r.GetSteps() {
		if !StepHeld(st) {
			continue
		}
		if c := o.s.hub.get(st.GetSpec().GetRegion(), st.GetAgentId()); c != nil {
			o.cancelOn(c, r, st, st.GetAttempt(), why)
		}
	}
}

// cancelOn tells one agent to stop an attempt this leader sent it, once per stream.
func (o *orchestrator) cancelOn(c *agentConn, r *kirikaev1.Run, st *kirikaev1.StepState, attempt uint32, why string) {
	key := attemptKey{r.GetId(), st.GetId(), attempt}
	c.mu.Lock()
	sent := c.sent[key]
	delete(c.sent, key)
	c.mu.Unlock()
	if sent {
		c.enqueue(&kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_Cancel{Cancel: &kirikaev1.CancelStep{
			RunId: r.GetId(), StepId: st.GetId(), Attempt: attempt, Reason: why}}})
	}
}
