package controlplane

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
)

// Run transitions. Every rule here depends only on the command and the state before it:
// the orchestrator decides what to propose, and the state machine decides whether it still
// applies. A late or duplicated result for an attempt that is no longer current changes
// nothing, which is what makes re-dispatch after a leader change safe.

func runActive(r *kirikaev1.Run) bool {
	return r.GetStatus() == kirikaev1.RunStatus_RUN_STATUS_RUNNING || r.GetStatus() == kirikaev1.RunStatus_RUN_STATUS_PAUSED
}

// movesTraffic reports whether a run is one of the kinds that hold the region pair:
// at most one of them may be active at a time.
func movesTraffic(r *kirikaev1.Run) bool {
	return r.GetKind() == kirikaev1.RunKind_RUN_KIND_FAILOVER || r.GetKind() == kirikaev1.RunKind_RUN_KIND_CUTBACK
}

func stepDone(st *kirikaev1.StepState) bool {
	switch st.GetStatus() {
	case kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED, kirikaev1.StepStatus_STEP_STATUS_SKIPPED:
		return true
	case kirikaev1.StepStatus_STEP_STATUS_FAILED:
		return st.GetSpec().GetOnFailure() == "continue"
	}
	return false
}

// StepHeld reports whether an agent holds the step: it was dispatched and has not ended.
func StepHeld(st *kirikaev1.StepState) bool {
	return st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_DISPATCHED || st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_RUNNING
}

func stepTerminal(st *kirikaev1.StepState) bool {
	switch st.GetStatus() {
	case kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED, kirikaev1.StepStatus_STEP_STATUS_SKIPPED, kirikaev1.StepStatus_STEP_STATUS_FAILED:
		return true
	}
	return false
}

func (f *FSM) findRun(id string) *kirikaev1.Run {
	for _, r := range f.state.GetRuns() {
		if r.GetId() == id {
			return r
		}
	}
	return nil
}

func findStep(r *kirikaev1.Run, id string) *kirikaev1.StepState {
	for _, s := range r.GetSteps() {
		if s.GetId() == id {
			return s
		}
	}
	return nil
}

func runResult(r *kirikaev1.Run) *kirikaev1.CommandResult {
	return &kirikaev1.CommandResult{Run: proto.Clone(r).(*kirikaev1.Run)}
}

func (f *FSM) applyCreateRun(cmd *kirikaev1.Command, in *kirikaev1.Run) *kirikaev1.CommandResult {
	if !f.state.GetInitialized() {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "%v", ErrNotInitialized)
	}
	if in.GetId() == "" || len(in.GetSteps()) == 0 {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "a run needs an id and at least one step")
	}
	if f.findRun(in.GetId()) != nil {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "run %s already exists", in.GetId())
	}
	switch in.GetDrill() {
	case kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED, kirikaev1.DrillKind_DRILL_KIND_PARTIAL, kirikaev1.DrillKind_DRILL_KIND_FULL,
		kirikaev1.DrillKind_DRILL_KIND_TABLETOP: // a tabletop runs only in an isolated world's control plane (Config.IsolatedWorld)
	default:
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT,
			"drill: %v is not a kind of drill", in.GetDrill())
	}
	switch in.GetKind() {
	case kirikaev1.RunKind_RUN_KIND_FAILOVER, kirikaev1.RunKind_RUN_KIND_CUTBACK, kirikaev1.RunKind_RUN_KIND_RECOVERY, kirikaev1.RunKind_RUN_KIND_TEARDOWN:
	default:
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "kind: %v is not a kind of run", in.GetKind())
	}
	// parent is the run this one continues: the failover a full drill's cutback follows, or
	// the run a teardown undoes. It may be the live run.
	var parent *kirikaev1.Run
	if in.GetKind() == kirikaev1.RunKind_RUN_KIND_CUTBACK && in.GetDrill() == kirikaev1.DrillKind_DRILL_KIND_FULL && in.GetParentRunId() != "" {
		// The cutback of a full-scale drill: one per failover, whoever starts it (the
		// control plane, or an operator with --parent).
		parent = f.findRun(in.GetParentRunId())
		switch {
		case parent == nil:
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND, "cutback %s: drill failover %q", in.GetId(), in.GetParentRunId())
		case parent.GetCutbackRunId() != "":
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "drill failover %s already has its cutback %s", parent.GetId(), parent.GetCutbackRunId())
		}
	}
	if in.GetKind() == kirikaev1.RunKind_RUN_KIND_TEARDOWN {
		// A teardown undoes one ended run whose teardown is due.
		parent = f.findRun(in.GetParentRunId())
		switch {
		case parent == nil:
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND, "teardown %s: run %q", in.GetId(), in.GetParentRunId())
		case runActive(parent) || !parent.GetUndoRequested() || parent.GetPreemptedBy() != "":
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
				"teardown %s: run %s has no teardown due (ask for one with `kirikae run undo %s`)", in.GetId(), parent.GetId(), parent.GetId())
		}
	}
	region := f.state.GetRegion()
	preempted, bad := f.checkExclusive(in, parent, f.liveRun())
	if bad != nil {
		return bad
	}
	if in.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_PARTIAL {
		switch in.GetKind() {
		case kirikaev1.RunKind_RUN_KIND_FAILOVER:
			if region.GetActive() != region.GetPrimary() {
				return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
					"active region is already %s (not the primary %s); cut back first", region.GetActive(), region.GetPrimary())
			}
		case kirikaev1.RunKind_RUN_KIND_CUTBACK:
			if region.GetActive() != region.GetSecondary() {
				return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
					"nothing to cut back: active region is the primary %s", region.GetActive())
			}
		}
	}
	r := proto.Clone(in).(*kirikaev1.Run)
	r.Status = kirikaev1.RunStatus_RUN_STATUS_RUNNING
	r.CreatedUnixNano = cmd.GetTimeUnixNano()
	r.DeclaredBy = cmd.GetActor()
	r.EpochBefore = region.GetEpoch()
	r.Participants = appendUnique(r.GetParticipants(), cmd.GetActor())
	r.PreemptedBy, r.InheritedFrom, r.UndoRequested, r.Teardowns, r.TeardownRunId, r.CutbackRunId = "", nil, false, 0, "", ""
	for i, st := range r.GetSteps() {
		// A new run's steps start from their spec alone: no approvals, confirmations,
		// waivers, undo steps or outputs come in with the request.
		st = &kirikaev1.StepState{Id: st.GetId(), Spec: st.GetSpec(), Status: kirikaev1.StepStatus_STEP_STATUS_PENDING}
		r.Steps[i] = st
		// A partial drill builds in the DR region but never moves traffic: it skips the
		// steps the plan marks, each once its own needs have completed (applySkips).
		if r.GetDrill() == kirikaev1.DrillKind_DRILL_KIND_PARTIAL && st.GetSpec().GetDrillSkip() {
			st.SkipRequested = true
			st.SkippedBy = "drill"
		}
	}
	f.state.Runs = append(f.state.Runs, r)
	if preempted != nil {
		f.preempt(f.applying, cmd, preempted, r)
	}
	if parent != nil && r.GetKind() == kirikaev1.RunKind_RUN_KIND_TEARDOWN {
		parent.TeardownRunId = r.GetId()
		parent.Teardowns++
		parent.UndoRequested = false
	}
	if parent != nil && r.GetKind() == kirikaev1.RunKind_RUN_KIND_CUTBACK {
		parent.CutbackRunId = r.GetId()
	}
	if movesTraffic(r) && r.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_PARTIAL {
		mode := kirikaev1.Mode_MODE_FAILING_OVER
		if r.GetKind() == kirikaev1.RunKind_RUN_KIND_CUTBACK {
			mode = kirikaev1.Mode_MODE_CUTTING_BACK
		}
		f.setMode(cmd, mode, fmt.Sprintf("run %s started", r.GetId()))
	}
	f.settle(cmd, r)
	return runResult(r)
}

// setMode changes the mode without moving the active region; the epoch moves only with
// the active region. It is a region change, so watchers see it.
func (f *FSM) setMode(cmd *kirikaev1.Command, mode kirikaev1.Mode, reason string) {
	cur := f.state.GetRegion()
	if cur.GetMode() == mode {
		return
	}
	next := proto.Clone(cur).(*kirikaev1.RegionState)
	next.Mode = mode
	next.ChangedUnixNano = cmd.GetTimeUnixNano()
	next.ChangedBy = cmd.GetActor()
	next.Reason = reason
	f.setRegion(f.applying, next)
}

// settledMode is the mode once no run is moving traffic.
func settledMode(r *kirikaev1.RegionState) kirikaev1.Mode {
	if r.GetActive() == r.GetPrimary() {
		return kirikaev1.Mode_MODE_NORMAL
	}
	return kirikaev1.Mode_MODE_FAILED_OVER
}

// finishRun ends a run and settles the mode.
func (f *FSM) finishRun(cmd *kirikaev1.Command, r *kirikaev1.Run, status kirikaev1.RunStatus, why string) {
	r.Status = status
	r.FinishedUnixNano = cmd.GetTimeUnixNano()
	r.EpochAfter = f.state.GetRegion().GetEpoch()
	if why != "" {
		r.Error = why
	}
	f.metrics.runEnded(f.applying, r)
	if movesTraffic(r) && r.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_PARTIAL {
		f.setMode(cmd, settledMode(f.state.GetRegion()), fmt.Sprintf("run %s %s", r.GetId(), enum.Name(status)))
	}
	// A partial drill is torn down however it ended: whatever it created by then goes.
	if r.GetDrill() == kirikaev1.DrillKind_DRILL_KIND_PARTIAL && r.GetKind() != kirikaev1.RunKind_RUN_KIND_TEARDOWN && r.GetPreemptedBy() == "" {
		r.UndoRequested = true
	}
	f.settleUndo(r)
}

// applySkips completes the skips that are due: a step marked to skip (by a partial drill,
// or an operator's skip of a step still waiting for its needs) is skipped only once its own
// needs have completed, so its dependents never start before what it waited for. A skip
// can make another due, so it runs until nothing changes.
func (f *FSM) applySkips(cmd *kirikaev1.Command, r *kirikaev1.Run) {
	for changed := true; changed; {
		changed = false
		for _, st := range r.GetSteps() {
			if st.GetSkipRequested() && st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_PENDING && needsDone(r, st) {
				st.Status = kirikaev1.StepStatus_STEP_STATUS_SKIPPED
				st.FinishedUnixNano = cmd.GetTimeUnixNano()
				st.History = append(st.History, "skipped once its needs completed (skip requested by "+st.GetSkippedBy()+")")
				f.metrics.stepEnded(f.applying, st, cmd.GetTimeUnixNano())
				changed = true
			}
		}
	}
}

// needsDone reports whether every step st needs has completed.
func needsDone(r *kirikaev1.Run, st *kirikaev1.StepState) bool {
	for _, n := range st.GetSpec().GetNeeds() {
		dep := findStep(r, n)
		if dep == nil || !stepDone(dep) {
			return false
		}
	}
	return true
}

// settle updates the run's status after a step changed.
func (f *FSM) settle(cmd *kirikaev1.Command, r *kirikaev1.Run) {
	if !runActive(r) {
		f.settleUndo(r)
		return
	}
	f.applySkips(cmd, r)
	all := true
	for _, st := range r.GetSteps() {
		if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_FAILED {
			switch st.GetSpec().GetOnFailure() {
			case "abort":
				f.finishRun(cmd, r, kirikaev1.RunStatus_RUN_STATUS_FAILED, fmt.Sprintf("step %s failed: %s", st.GetId(), st.GetError()))
				return
			case "continue":
			default:
				r.Status = kirikaev1.RunStatus_RUN_STATUS_PAUSED
				r.Error = fmt.Sprintf("step %s failed: %s; retry, skip or abort it", st.GetId(), st.GetError())
				return
			}
		}
		if !stepDone(st) {
			all = false
		}
	}
	if all {
		f.finishRun(cmd, r, kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED, "")
		r.Error = ""
	}
}

func (f *FSM) activeStep(runID, stepID string) (*kirikaev1.Run, *kirikaev1.StepState, *kirikaev1.CommandResult) {
	r := f.findRun(runID)
	if r == nil {
		return nil, nil, refuse(kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND, "run %q", runID)
	}
	st := findStep(r, stepID)
	if st == nil {
		return nil, nil, refuse(kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND, "step %q in run %s", stepID, runID)
	}
	return r, st, nil
}

func (f *FSM) applyStepDispatched(cmd *kirikaev1.Command, d *kirikaev1.StepDispatched) *kirikaev1.CommandResult {
	r, st, bad := f.activeStep(d.GetRunId(), d.GetStepId())
	if bad != nil {
		return bad
	}
	if r.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_RUNNING {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "run %s is %s", r.GetId(), enum.Name(r.GetStatus()))
	}
	switch st.GetStatus() {
	case kirikaev1.StepStatus_STEP_STATUS_PENDING, kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT:
		if d.GetAttempt() != st.GetAttempt()+1 {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "step %s: attempt %d is not next (%d)", st.GetId(), d.GetAttempt(), st.GetAttempt()+1)
		}
	case kirikaev1.StepStatus_STEP_STATUS_DISPATCHED, kirikaev1.StepStatus_STEP_STATUS_RUNNING:
		// A re-dispatch of the current attempt, e.g. to another agent after the first was lost.
		if d.GetAttempt() != st.GetAttempt() {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "step %s is on attempt %d", st.GetId(), st.GetAttempt())
		}
	default:
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "step %s is %s", st.GetId(), enum.Name(st.GetStatus()))
	}
	if st.GetSkipRequested() {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "step %s is to be skipped (by %s)", st.GetId(), st.GetSkippedBy())
	}
	if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_PENDING && !needsDone(r, st) {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "step %s needs %s, which have not all completed", st.GetId(), strings.Join(st.GetSpec().GetNeeds(), ", "))
	}
	// A teardown undoes only what its run still owns: checked here, when the dispatch is
	// recorded and before anything is sent, so no agent is ever asked to remove a resource
	// another run owns.
	if f.ownershipSkip(cmd, r, st) {
		return runResult(r)
	}
	if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_PENDING || st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT {
		st.AttemptStartedUnixNano = cmd.GetTimeUnixNano()
	}
	st.Status = kirikaev1.StepStatus_STEP_STATUS_DISPATCHED
	st.Attempt = d.GetAttempt()
	st.AgentId = d.GetAgentId()
	st.Epoch = d.GetEpoch()
	st.Error = ""
	if st.GetStartedUnixNano() == 0 {
		st.StartedUnixNano = cmd.GetTimeUnixNano()
	}
	return runResult(r)
}

func (f *FSM) applyStepProgress(cmd *kirikaev1.Command, p *kirikaev1.StepProgress) *kirikaev1.CommandResult {
	r, st, bad := f.activeStep(p.GetRunId(), p.GetStepId())
	if bad != nil {
		return bad
	}
	if bad := checkSender(cmd, r, st, p.GetAttempt(), p.GetAgentId()); bad != nil {
		return bad
	}
	if st.GetAttempt() != p.GetAttempt() || !StepHeld(st) {
		return &kirikaev1.CommandResult{} // stale: nothing to do
	}
	st.Status = kirikaev1.StepStatus_STEP_STATUS_RUNNING
	if p.GetStatus() != "" {
		st.Progress = p.GetStatus()
	}
	st.Undo = mergeUndo(st.GetUndo(), p.GetUndo())
	f.claim(cmd, r, st, p.GetUndo())
	return &kirikaev1.CommandResult{RunId: r.GetId()}
}

// checkSender refuses a progress line or a result for a step from anyone but an agent of
// the step's region, and, for the step's current attempt, from anyone but the agent the
// attempt was dispatched to. The control plane's own records (a timeout, a lost agent)
// come from a server. A late report of an attempt that has moved on is not refused here:
// it is stale, and changes nothing.
func checkSender(cmd *kirikaev1.Command, r *kirikaev1.Run, st *kirikaev1.StepState, attempt uint32, agentID string) *kirikaev1.CommandResult {
	if ScopeOf(cmd.GetActor()) == "server" {
		return nil
	}
	region := st.GetSpec().GetRegion()
	if cmd.GetActor() != security.DevIdentity.String() { // a dev server's one caller plays every agent
		id, err := security.ParseIdentity(cmd.GetActor())
		if err != nil || id.Kind != security.KindAgent {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED, "%s is not an agent; only the agent holding step %s of run %s reports for it", cmd.GetActor(), st.GetId(), r.GetId())
		}
		if id.Name != region {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED,
				"agent %q of %s reported for step %s of run %s, which runs in %s", agentID, id.Name, st.GetId(), r.GetId(), region)
		}
	}
	if attempt == st.GetAttempt() && agentID != st.GetAgentId() && StepHeld(st) {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED,
			"agent %q reported for attempt %d of step %s of run %s, which agent %q holds", agentID, attempt, st.GetId(), r.GetId(), st.GetAgentId())
	}
	return nil
}

// retryBackoff is the wait before attempt n+1: 5s, 10s, 20s ... capped at 2 minutes.
func retryBackoff(attempt uint32) time.Duration {
	d := 5 * time.Second << min(attempt-1, 5)
	return min(d, 2*time.Minute)
}

func (f *FSM) applyStepResult(cmd *kirikaev1.Command, res *kirikaev1.StepResult) *kirikaev1.CommandResult {
	r, st, bad := f.activeStep(res.GetRunId(), res.GetStepId())
	if bad != nil {
		return bad
	}
	if bad := checkSender(cmd, r, st, res.GetAttempt(), res.GetAgentId()); bad != nil {
		return bad
	}
	if res.GetRefused() {
		f.metrics.refused(f.applying, st.GetSpec().GetRegion())
	}
	if st.GetAttempt() != res.GetAttempt() || !StepHeld(st) {
		return &kirikaev1.CommandResult{RunId: r.GetId()} // a late or duplicated result: the attempt is over
	}
	st.Undo = mergeUndo(st.GetUndo(), res.GetUndo())
	f.claim(cmd, r, st, res.GetUndo())
	if !runActive(r) {
		// The run ended (aborted or failed) while the agent still held the step: record how
		// the attempt ended, for the report, without retries or policy.
		st.Status = kirikaev1.StepStatus_STEP_STATUS_FAILED
		if res.GetOk() {
			st.Status = kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED
			st.OutputsJson = res.GetOutputsJson()
		}
		st.Error, st.ErrorKind, st.Progress, st.FinishedUnixNano = res.GetError(), res.GetErrorKind(), "", cmd.GetTimeUnixNano()
		st.History = append(st.History, fmt.Sprintf("attempt %d ended after the run: ok=%v %s", st.GetAttempt(), res.GetOk(), res.GetError()))
		f.metrics.stepEnded(f.applying, st, cmd.GetTimeUnixNano())
		if res.GetOk() {
			f.release(r, st)
		}
		f.settleUndo(r)
		return runResult(r)
	}
	f.finishStep(cmd, r, st, res.GetOk(), res.GetPermanent(), res.GetErrorKind(), res.GetError(), res.GetOutputsJson())
	return runResult(r)
}

// finishStep ends the current attempt and applies retries and the on-failure policy.
// A permanent failure is not retried: the same inputs cannot succeed.
func (f *FSM) finishStep(cmd *kirikaev1.Command, r *kirikaev1.Run, st *kirikaev1.StepState, ok, permanent bool, kind kirikaev1.StepErrorKind, errText, outputs string) {
	now := cmd.GetTimeUnixNano()
	if ok {
		st.Status = kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED
		st.OutputsJson = outputs
		st.Error, st.FailureOutputsJson, st.ErrorKind = "", "", kirikaev1.StepErrorKind_STEP_ERROR_KIND_UNSPECIFIED
		st.FinishedUnixNano = now
		st.History = append(st.History, fmt.Sprintf("attempt %d succeeded", st.GetAttempt()))
		f.release(r, st)
	} else {
		st.History = append(st.History, fmt.Sprintf("attempt %d failed: %s", st.GetAttempt(), errText))
		st.Error, st.FailureOutputsJson, st.ErrorKind = errText, outputs, kind
		if !permanent && st.GetAttempt() <= st.GetSpec().GetRetries() {
			st.Status = kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT
			st.NotBeforeUnixNano = now + int64(retryBackoff(st.GetAttempt()))
		} else {
			st.Status = kirikaev1.StepStatus_STEP_STATUS_FAILED
			st.FinishedUnixNano = now
		}
	}
	st.Progress = ""
	f.metrics.stepEnded(f.applying, st, now)
	f.settle(cmd, r)
}

func (f *FSM) applyControlPlaneStep(cmd *kirikaev1.Command, c *kirikaev1.ControlPlaneStep) *kirikaev1.CommandResult {
	r, st, bad := f.activeStep(c.GetRunId(), c.GetStepId())
	if bad != nil {
		return bad
	}
	if !runActive(r) || stepTerminal(st) || (c.GetStart() && r.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_RUNNING) {
		return &kirikaev1.CommandResult{}
	}
	if c.GetStart() {
		if st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_PENDING && st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT {
			return &kirikaev1.CommandResult{}
		}
		st.Attempt++
		st.AttemptStartedUnixNano = cmd.GetTimeUnixNano()
		if st.GetStartedUnixNano() == 0 {
			st.StartedUnixNano = cmd.GetTimeUnixNano()
		}
		st.Status = kirikaev1.StepStatus_STEP_STATUS_RUNNING
		switch st.GetSpec().GetAction() {
		case catalog.Approval.Name, catalog.Checklist.Name:
			if st.Spec == nil {
				st.Spec = &kirikaev1.StepSpec{}
			}
			if len(c.GetRoles()) > 0 {
				st.Spec.Roles, st.Spec.ApprovalsRequired = c.GetRoles(), c.GetApprovalsRequired()
			}
			if len(c.GetItems()) > 0 {
				st.Spec.Items = c.GetItems()
			}
			if st.GetSpec().GetAction() == catalog.Approval.Name && len(st.GetSpec().GetRoles()) == 0 {
				f.finishStep(cmd, r, st, false, true, kirikaev1.StepErrorKind_STEP_ERROR_KIND_INVALID_INPUT, "approval step "+st.GetId()+" names no roles: an approval nobody has to give approves nothing", "")
				return runResult(r)
			}
			st.Status = kirikaev1.StepStatus_STEP_STATUS_WAITING
			f.settleHumanStep(cmd, r, st)
		}
		return runResult(r)
	}
	if !c.GetOk() && c.GetAttempt() == st.GetAttempt()+1 &&
		(st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_PENDING || st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT) {
		// It failed before it could start (its inputs do not resolve): the failure is its
		// next attempt, so it lands, and the run's on-failure policy applies.
		st.Attempt++
		st.AttemptStartedUnixNano = cmd.GetTimeUnixNano()
		if st.GetStartedUnixNano() == 0 {
			st.StartedUnixNano = cmd.GetTimeUnixNano()
		}
	}
	if c.GetAttempt() != st.GetAttempt() {
		return &kirikaev1.CommandResult{}
	}
	if c.GetActivateRegion() != "" && c.GetOk() {
		if why := activationRefusal(r); why != "" {
			// The region does not move; the step fails for good (more approvals cannot be
			// added to approval steps that have ended) and the refusal is audited.
			f.finishStep(cmd, r, st, false, true, kirikaev1.StepErrorKind_STEP_ERROR_KIND_GUARD_RAIL, why, "")
			res := runResult(r)
			res.Error, res.Code = why, kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED
			return res
		}
		cur := f.state.GetRegion()
		target := c.GetActivateRegion()
		if target != cur.GetPrimary() && target != cur.GetSecondary() {
			f.finishStep(cmd, r, st, false, true, kirikaev1.StepErrorKind_STEP_ERROR_KIND_INVALID_INPUT, fmt.Sprintf("region.activate: %q is not in the pair (%s, %s)", target, cur.GetPrimary(), cur.GetSecondary()), "")
			return runResult(r)
		}
		if target != cur.GetActive() {
			next := proto.Clone(cur).(*kirikaev1.RegionState)
			next.Active = target
			next.Epoch = cur.GetEpoch() + 1
			next.ChangedUnixNano = cmd.GetTimeUnixNano()
			next.ChangedBy = cmd.GetActor()
			next.Reason = fmt.Sprintf("run %s step %s", r.GetId(), st.GetId())
			f.setRegion(f.applying, next)
		}
		out, _ := json.Marshal(map[string]any{"active": target, "epoch": f.state.GetRegion().GetEpoch()})
		f.finishStep(cmd, r, st, true, false, kirikaev1.StepErrorKind_STEP_ERROR_KIND_UNSPECIFIED, "", string(out))
		return runResult(r)
	}
	f.finishStep(cmd, r, st, c.GetOk(), c.GetPermanent(), c.GetErrorKind(), c.GetError(), c.GetOutputsJson())
	return runResult(r)
}

// settleHumanStep completes an approval or checklist step once people have done enough.
func (f *FSM) settleHumanStep(cmd *kirikaev1.Command, r *kirikaev1.Run, st *kirikaev1.StepState) {
	if st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_WAITING {
		return
	}
	spec := st.GetSpec()
	switch spec.GetAction() {
	case catalog.Approval.Name:
		covered := map[string]bool{}
		var approvers []string
		for _, a := range st.GetApprovals() {
			covered[a.GetRole()] = true
			approvers = append(approvers, a.GetActor())
		}
		need := spec.GetApprovalsRequired()
		if need == 0 {
			need = uint32(len(spec.GetRoles()))
		}
		for _, role := range spec.GetRoles() {
			if !covered[role] {
				return
			}
		}
		if uint32(len(approvers)) < need {
			return
		}
		out, _ := json.Marshal(map[string]any{"approvers": approvers})
		f.finishStep(cmd, r, st, true, false, kirikaev1.StepErrorKind_STEP_ERROR_KIND_UNSPECIFIED, "", string(out))
	case catalog.Checklist.Name:
		done := map[string]bool{}
		var by []string
		for _, c := range st.GetConfirmations() {
			done[c.GetItem()] = true
			by = appendUnique(by, c.GetActor())
		}
		for _, item := range spec.GetItems() {
			if !done[item] {
				return
			}
		}
		out, _ := json.Marshal(map[string]any{"confirmedBy": by})
		f.finishStep(cmd, r, st, true, false, kirikaev1.StepErrorKind_STEP_ERROR_KIND_UNSPECIFIED, "", string(out))
	}
}

// holds reports whether the command's caller held role when the request was accepted.
func holds(cmd *kirikaev1.Command, role string) bool {
	return slices.Contains(cmd.GetCallerRoles(), role)
}

// notWaiting refuses an approval or a confirmation for a step that is not waiting for
// people yet (or any more): it is neither kept nor counted, and the answer says when to
// send it.
func notWaiting(r *kirikaev1.Run, st *kirikaev1.StepState, what string) *kirikaev1.CommandResult {
	if !runActive(r) || stepTerminal(st) {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "step %s is %s (run %s is %s); nothing to %s",
			st.GetId(), enum.Name(st.GetStatus()), r.GetId(), enum.Name(r.GetStatus()), what)
	}
	var waitsFor []string
	for _, n := range st.GetSpec().GetNeeds() {
		if dep := findStep(r, n); dep != nil && !stepDone(dep) {
			waitsFor = append(waitsFor, fmt.Sprintf("%s (%s)", n, enum.Name(dep.GetStatus())))
		}
	}
	why := "it has not started yet"
	if len(waitsFor) > 0 {
		why = "it starts once " + strings.Join(waitsFor, ", ") + " completed"
	}
	return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
		"step %s is %s: %s. Nothing was recorded: %s only a waiting step, so send this when `kirikae run show %s` lists %s as waiting (or follow it with `kirikae run watch %s`)",
		st.GetId(), enum.Name(st.GetStatus()), why, what, r.GetId(), st.GetId(), r.GetId())
}

func (f *FSM) applyApprove(cmd *kirikaev1.Command, a *kirikaev1.ApproveRequest) *kirikaev1.CommandResult {
	r, st, bad := f.activeStep(a.GetRunId(), a.GetStepId())
	if bad != nil {
		return bad
	}
	if st.GetSpec().GetAction() != catalog.Approval.Name {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "step %s is a %s step, not an approval", st.GetId(), st.GetSpec().GetAction())
	}
	if !runActive(r) || st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_WAITING {
		return notWaiting(r, st, "approve")
	}
	if !slices.Contains(st.GetSpec().GetRoles(), a.GetRole()) {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "step %s needs approval by %s, not %s",
			st.GetId(), strings.Join(st.GetSpec().GetRoles(), " and "), a.GetRole())
	}
	if !holds(cmd, a.GetRole()) {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED, "%s does not hold role %s (holds: %s), so cannot approve step %s as %s",
			cmd.GetActor(), a.GetRole(), rolesText(cmd), st.GetId(), a.GetRole())
	}
	for _, prev := range st.GetApprovals() {
		if prev.GetActor() == cmd.GetActor() {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
				"%s already approved step %s (as %s); approvals need distinct people", cmd.GetActor(), st.GetId(), prev.GetRole())
		}
		if prev.GetRole() == a.GetRole() {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
				"role %s on step %s is already approved by %s", a.GetRole(), st.GetId(), prev.GetActor())
		}
	}
	st.Approvals = append(st.Approvals, &kirikaev1.Approval{Actor: cmd.GetActor(), Role: a.GetRole(), TimeUnixNano: cmd.GetTimeUnixNano(), Comment: a.GetComment()})
	f.metrics.approved(f.applying, a.GetRole())
	r.Participants = appendUnique(r.GetParticipants(), cmd.GetActor())
	f.settleHumanStep(cmd, r, st)
	return runResult(r)
}

func rolesText(cmd *kirikaev1.Command) string {
	if len(cmd.GetCallerRoles()) == 0 {
		return "no roles"
	}
	return strings.Join(cmd.GetCallerRoles(), ", ")
}

// checklistItems resolves what a confirmation names, by number (from 1) or by text, to the
// step's items; with neither, every item.
func checklistItems(r *kirikaev1.Run, st *kirikaev1.StepState, c *kirikaev1.ConfirmRequest) ([]string, *kirikaev1.CommandResult) {
	all := st.GetSpec().GetItems()
	if len(c.GetItems()) == 0 && len(c.GetItemNumbers()) == 0 {
		return all, nil
	}
	var out []string
	for _, n := range c.GetItemNumbers() {
		if n < 1 || int(n) > len(all) {
			return nil, refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT,
				"step %s has no checklist item %d: it has %d, numbered 1 to %d (see `kirikae run show %s`)", st.GetId(), n, len(all), len(all), r.GetId())
		}
		out = appendUnique(out, all[n-1])
	}
	for _, item := range c.GetItems() {
		if !slices.Contains(all, item) {
			return nil, refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT,
				"step %s has no checklist item %q: confirm items by their number, 1 to %d (see `kirikae run show %s`)", st.GetId(), item, len(all), r.GetId())
		}
		out = appendUnique(out, item)
	}
	return out, nil
}

func (f *FSM) applyConfirm(cmd *kirikaev1.Command, c *kirikaev1.ConfirmRequest) *kirikaev1.CommandResult {
	r, st, bad := f.activeStep(c.GetRunId(), c.GetStepId())
	if bad != nil {
		return bad
	}
	if st.GetSpec().GetAction() != catalog.Checklist.Name {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "step %s is a %s step, not a checklist", st.GetId(), st.GetSpec().GetAction())
	}
	items, bad := checklistItems(r, st, c)
	if bad != nil {
		return bad
	}
	if !runActive(r) || st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_WAITING {
		return notWaiting(r, st, "confirm")
	}
	roles := st.GetSpec().GetRoles()
	if len(roles) == 0 {
		roles = []string{string(security.RoleOperator)}
	}
	if !slices.ContainsFunc(roles, func(role string) bool { return holds(cmd, role) }) {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED, "%s does not hold role %s (holds: %s); checklist %s is confirmed by that role",
			cmd.GetActor(), strings.Join(roles, " or "), rolesText(cmd), st.GetId())
	}
	for _, item := range items {
		if slices.ContainsFunc(st.GetConfirmations(), func(x *kirikaev1.Confirmation) bool { return x.GetItem() == item }) {
			continue // confirmed already: the first confirmation stands
		}
		st.Confirmations = append(st.Confirmations, &kirikaev1.Confirmation{Item: item, Actor: cmd.GetActor(), TimeUnixNano: cmd.GetTimeUnixNano(), Note: c.GetNote()})
	}
	r.Participants = appendUnique(r.GetParticipants(), cmd.GetActor())
	f.settleHumanStep(cmd, r, st)
	return runResult(r)
}

func (f *FSM) applyControl(cmd *kirikaev1.Command, c *kirikaev1.ControlRequest) *kirikaev1.CommandResult {
	r := f.findRun(c.GetRunId())
	if r == nil {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND, "run %q", c.GetRunId())
	}
	if c.GetAction() == kirikaev1.ControlAction_CONTROL_ACTION_UNDO {
		return f.requestUndo(cmd, r)
	}
	if !runActive(r) {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "run %s is %s", r.GetId(), enum.Name(r.GetStatus()))
	}
	switch c.GetAction() {
	case kirikaev1.ControlAction_CONTROL_ACTION_PAUSE:
		if r.GetStatus() == kirikaev1.RunStatus_RUN_STATUS_PAUSED {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "run %s is already paused", r.GetId())
		}
		r.Status = kirikaev1.RunStatus_RUN_STATUS_PAUSED
		r.Error = "paused by " + cmd.GetActor()
	case kirikaev1.ControlAction_CONTROL_ACTION_RESUME:
		if r.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_PAUSED {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "run %s is not paused", r.GetId())
		}
		for _, st := range r.GetSteps() {
			if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_FAILED && st.GetSpec().GetOnFailure() != "continue" {
				return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
					"step %s failed; retry or skip it (resume alone would stop again)", st.GetId())
			}
		}
		r.Status = kirikaev1.RunStatus_RUN_STATUS_RUNNING
		r.Error = ""
	case kirikaev1.ControlAction_CONTROL_ACTION_RETRY, kirikaev1.ControlAction_CONTROL_ACTION_SKIP:
		st := findStep(r, c.GetStepId())
		if st == nil {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND, "step %q in run %s", c.GetStepId(), r.GetId())
		}
		if c.GetAction() == kirikaev1.ControlAction_CONTROL_ACTION_RETRY {
			if st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_FAILED && st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT {
				return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "step %s is %s; only a failed step can be retried", st.GetId(), enum.Name(st.GetStatus()))
			}
			st.Status = kirikaev1.StepStatus_STEP_STATUS_PENDING
			st.NotBeforeUnixNano = 0
			st.FinishedUnixNano = 0
			st.History = append(st.History, "retry requested by "+cmd.GetActor())
		} else if bad := f.skip(cmd, r, st, c.GetReason()); bad != nil {
			return bad
		}
		r.Status = kirikaev1.RunStatus_RUN_STATUS_RUNNING
		r.Error = ""
		f.settle(cmd, r)
	case kirikaev1.ControlAction_CONTROL_ACTION_ABORT:
		f.finishRun(cmd, r, kirikaev1.RunStatus_RUN_STATUS_ABORTED, "aborted by "+cmd.GetActor()+": "+c.GetReason())
		if c.GetUndo() && r.GetKind() != kirikaev1.RunKind_RUN_KIND_TEARDOWN && r.GetPreemptedBy() == "" {
			r.UndoRequested = true
			f.settleUndo(r)
		}
	default:
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "unknown control action %v", c.GetAction())
	}
	r.Participants = appendUnique(r.GetParticipants(), cmd.GetActor())
	return runResult(r)
}

// skip skips a step for an operator. Skipping an approval is an admin's act: it needs a
// reason and is recorded as a waiver of the approval's roles. A step still waiting for its
// needs is skipped once they have completed (applySkips), so its dependents keep their order.
func (f *FSM) skip(cmd *kirikaev1.Command, r *kirikaev1.Run, st *kirikaev1.StepState, reason string) *kirikaev1.CommandResult {
	if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED || st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_SKIPPED {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "step %s is already %s", st.GetId(), enum.Name(st.GetStatus()))
	}
	if st.GetSpec().GetAction() == catalog.Approval.Name {
		if !holds(cmd, string(security.RoleAdmin)) {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED,
				"step %s is an approval; only an admin may skip it, which waives the approval of %s (%s holds: %s)",
				st.GetId(), strings.Join(st.GetSpec().GetRoles(), " and "), cmd.GetActor(), rolesText(cmd))
		}
		if strings.TrimSpace(reason) == "" {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "reason: skipping approval step %s waives it; the waiver needs a reason (--reason)", st.GetId())
		}
		st.Waiver = &kirikaev1.Waiver{Actor: cmd.GetActor(), Reason: reason, TimeUnixNano: cmd.GetTimeUnixNano(), Roles: slices.Clone(st.GetSpec().GetRoles())}
	}
	st.SkippedBy = cmd.GetActor()
	if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_PENDING && !needsDone(r, st) {
		st.SkipRequested = true
		st.History = append(st.History, "skip requested by "+cmd.GetActor()+": "+reason+"; it takes effect once its needs have completed")
		return nil
	}
	st.Status = kirikaev1.StepStatus_STEP_STATUS_SKIPPED
	st.FinishedUnixNano = cmd.GetTimeUnixNano()
	st.History = append(st.History, "skipped by "+cmd.GetActor()+": "+reason)
	f.metrics.stepEnded(f.applying, st, cmd.GetTimeUnixNano())
	return nil
}

// requestUndo asks for the teardown of what an ended run created and still owns.
func (f *FSM) requestUndo(cmd *kirikaev1.Command, r *kirikaev1.Run) *kirikaev1.CommandResult {
	switch {
	case runActive(r):
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
			"run %s is still %s; stop it with `kirikae run abort %s --undo`, which tears down what it created once its running steps have ended",
			r.GetId(), enum.Name(r.GetStatus()), r.GetId())
	case r.GetKind() == kirikaev1.RunKind_RUN_KIND_TEARDOWN:
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "run %s is a teardown; undo the run it tears down, %s", r.GetId(), r.GetParentRunId())
	case r.GetDrill() == kirikaev1.DrillKind_DRILL_KIND_TABLETOP:
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "run %s is a tabletop drill; it changed nothing", r.GetId())
	case r.GetPreemptedBy() != "":
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "what run %s created passed to run %s, which preempted it; undo %s instead", r.GetId(), r.GetPreemptedBy(), r.GetPreemptedBy())
	case r.GetUndoRequested():
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "the teardown of run %s is already due; follow it with `kirikae run show %s`", r.GetId(), r.GetId())
	}
	if t := f.findRun(r.GetTeardownRunId()); t != nil && runActive(t) {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "run %s is already being torn down by run %s (%s)", r.GetId(), t.GetId(), enum.Name(t.GetStatus()))
	}
	if !f.owns(r.GetId()) && !hasUnkeyedUndo(r) && !inFlight(r) {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
			"run %s owns nothing to undo: its steps created nothing, or what they created has been removed or has passed to a later run", r.GetId())
	}
	if live := f.liveRun(); live != nil {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "%s; one run at a time may change AWS, so ask for this teardown once it has ended", describeLive(live))
	}
	r.UndoRequested = true
	r.Participants = appendUnique(r.GetParticipants(), cmd.GetActor())
	return runResult(r)
}

func appendUnique(s []string, v string) []string {
	if v == "" || slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// applyRunReadiness records the readiness reports taken when a drill ended, once.
func (f *FSM) applyRunReadiness(rr *kirikaev1.RunReadiness) *kirikaev1.CommandResult {
	r := f.findRun(rr.GetRunId())
	if r == nil {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND, "run %q", rr.GetRunId())
	}
	if runActive(r) {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "run %s has not ended", r.GetId())
	}
	if len(r.GetReadinessEnd()) == 0 {
		r.ReadinessEnd = rr.GetReports()
	}
	return runResult(r)
}

// Agents and readiness.

func (f *FSM) applyRegisterAgent(cmd *kirikaev1.Command, a *kirikaev1.AgentInfo) *kirikaev1.CommandResult {
	if a.GetId() == "" || a.GetRegion() == "" {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "agent id and region are required")
	}
	info := proto.Clone(a).(*kirikaev1.AgentInfo)
	info.RegisteredUnixNano = cmd.GetTimeUnixNano()
	// An agent is its region and its id within it: one region's agent never replaces
	// another's, whatever id it chose.
	if id, err := security.ParseIdentity(cmd.GetActor()); err == nil && (id.Kind != security.KindAgent || id.Name != a.GetRegion()) {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED, "%s may not register an agent of %s", cmd.GetActor(), a.GetRegion())
	}
	for i, old := range f.state.GetAgents() {
		if old.GetId() == a.GetId() && old.GetRegion() == a.GetRegion() {
			f.state.Agents[i] = info
			return &kirikaev1.CommandResult{}
		}
	}
	f.state.Agents = append(f.state.Agents, info)
	return &kirikaev1.CommandResult{}
}

func (f *FSM) applyRecordReadiness(cmd *kirikaev1.Command, rep *kirikaev1.ReadinessReport) *kirikaev1.CommandResult {
	if rep.GetAgentId() == "" || rep.GetRegion() == "" {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "readiness report needs agent id and region")
	}
	r := proto.Clone(rep).(*kirikaev1.ReadinessReport)
	if r.GetReportedUnixNano() == 0 {
		r.ReportedUnixNano = cmd.GetTimeUnixNano()
	}
	for i, old := range f.state.GetReadiness() {
		if old.GetAgentId() == r.GetAgentId() && old.GetRegion() == r.GetRegion() {
			f.state.Readiness[i] = r
			return &kirikaev1.CommandResult{}
		}
	}
	f.state.Readiness = append(f.state.Readiness, r)
	return &kirikaev1.CommandResult{}
}

// Runs returns copies of every run, in creation order.
func (f *FSM) Runs() []*kirikaev1.Run {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]*kirikaev1.Run, 0, len(f.state.GetRuns()))
	for _, r := range f.state.GetRuns() {
		out = append(out, proto.Clone(r).(*kirikaev1.Run))
	}
	return out
}

// RunsWhere returns copies of the runs that keep says yes to, in creation order. keep sees
// the stored run and must not change or retain it.
func (f *FSM) RunsWhere(keep func(*kirikaev1.Run) bool) []*kirikaev1.Run {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []*kirikaev1.Run
	for _, r := range f.state.GetRuns() {
		if keep(r) {
			out = append(out, proto.Clone(r).(*kirikaev1.Run))
		}
	}
	return out
}

// Run returns a copy of one run, or nil.
func (f *FSM) Run(id string) *kirikaev1.Run {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if r := f.findRun(id); r != nil {
		return proto.Clone(r).(*kirikaev1.Run)
	}
	return nil
}

// Agents returns the registered agents.
func (f *FSM) Agents() []*kirikaev1.AgentInfo {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]*kirikaev1.AgentInfo, 0, len(f.state.GetAgents()))
	for _, a := range f.state.GetAgents() {
		out = append(out, proto.Clone(a).(*kirikaev1.AgentInfo))
	}
	return out
}

// Readiness returns the latest report of each agent.
func (f *FSM) Readiness() []*kirikaev1.ReadinessReport {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]*kirikaev1.ReadinessReport, 0, len(f.state.GetReadiness()))
	for _, r := range f.state.GetReadiness() {
		out = append(out, proto.Clone(r).(*kirikaev1.ReadinessReport))
	}
	return out
}

// mergeUndo adds the undo steps an attempt reported to those earlier attempts of the same
// step reported: a retry adopts what a failed attempt created, and must not forget it.
func mergeUndo(have, add []*kirikaev1.UndoStep) []*kirikaev1.UndoStep {
	for _, u := range add {
		if !slices.ContainsFunc(have, func(h *kirikaev1.UndoStep) bool {
			return h.GetAction() == u.GetAction() && h.GetWithJson() == u.GetWithJson()
		}) {
			have = append(have, u)
		}
	}
	return have
}
