package controlplane

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
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
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "invalid argument: a run needs an id and at least one step")
	}
	if f.findRun(in.GetId()) != nil {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "run %s already exists", in.GetId())
	}
	var drill, failover *kirikaev1.Run
	if in.GetKind() == kirikaev1.RunKind_RUN_KIND_CUTBACK && in.GetDrill() == kirikaev1.DrillKind_DRILL_KIND_FULL && in.GetParentRunId() != "" {
		// The cutback of a full-scale drill: one per failover, whoever starts it (the
		// control plane, or an operator with --parent).
		failover = f.findRun(in.GetParentRunId())
		switch {
		case failover == nil:
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND, "not found: cutback %s: drill failover %q", in.GetId(), in.GetParentRunId())
		case failover.GetCutbackRunId() != "":
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "drill failover %s already has its cutback %s", failover.GetId(), failover.GetCutbackRunId())
		}
	}
	if in.GetKind() == kirikaev1.RunKind_RUN_KIND_TEARDOWN {
		// A teardown belongs to one ended partial drill, and each drill has at most one.
		drill = f.findRun(in.GetParentRunId())
		switch {
		case drill == nil:
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND, "not found: teardown %s: partial drill %q", in.GetId(), in.GetParentRunId())
		case drill.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_PARTIAL || runActive(drill):
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
				"failed precondition: teardown %s: run %s is not an ended partial drill", in.GetId(), drill.GetId())
		case drill.GetTeardownRunId() != "":
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "run %s already has its teardown %s", drill.GetId(), drill.GetTeardownRunId())
		}
	}
	region := f.state.GetRegion()
	if movesTraffic(in) && in.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_PARTIAL {
		for _, r := range f.state.GetRuns() {
			if runActive(r) && movesTraffic(r) && r.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_PARTIAL {
				return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
					"failed precondition: run %s (%s) is still %s; one failover or cutback at a time", r.GetId(), kindName(r.GetKind()), statusName(r.GetStatus()))
			}
		}
		switch in.GetKind() {
		case kirikaev1.RunKind_RUN_KIND_FAILOVER:
			if region.GetActive() != region.GetPrimary() {
				return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
					"failed precondition: active region is already %s (not the primary %s); cut back first", region.GetActive(), region.GetPrimary())
			}
		case kirikaev1.RunKind_RUN_KIND_CUTBACK:
			if region.GetActive() != region.GetSecondary() {
				return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
					"failed precondition: nothing to cut back: active region is the primary %s", region.GetActive())
			}
		}
	}
	r := proto.Clone(in).(*kirikaev1.Run)
	r.Status = kirikaev1.RunStatus_RUN_STATUS_RUNNING
	r.CreatedUnixNano = cmd.GetTimeUnixNano()
	r.DeclaredBy = cmd.GetActor()
	r.EpochBefore = region.GetEpoch()
	r.Participants = appendUnique(r.GetParticipants(), cmd.GetActor())
	for _, st := range r.GetSteps() {
		st.Status = kirikaev1.StepStatus_STEP_STATUS_PENDING
		// A partial drill builds in the DR region but never moves traffic: the plan marks
		// the steps it leaves out.
		if r.GetDrill() == kirikaev1.DrillKind_DRILL_KIND_PARTIAL && st.GetSpec().GetDrillSkip() {
			st.Status = kirikaev1.StepStatus_STEP_STATUS_SKIPPED
			st.SkippedBy = "drill"
		}
	}
	f.state.Runs = append(f.state.Runs, r)
	if drill != nil {
		drill.TeardownRunId = r.GetId()
	}
	if failover != nil {
		failover.CutbackRunId = r.GetId()
	}
	if movesTraffic(r) && r.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_PARTIAL {
		mode := kirikaev1.Mode_MODE_FAILING_OVER
		if r.GetKind() == kirikaev1.RunKind_RUN_KIND_CUTBACK {
			mode = kirikaev1.Mode_MODE_CUTTING_BACK
		}
		f.setMode(cmd, mode, fmt.Sprintf("run %s started", r.GetId()))
	}
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
	if movesTraffic(r) && r.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_PARTIAL {
		f.setMode(cmd, settledMode(f.state.GetRegion()), fmt.Sprintf("run %s %s", r.GetId(), statusName(status)))
	}
}

// settle updates the run's status after a step changed.
func (f *FSM) settle(cmd *kirikaev1.Command, r *kirikaev1.Run) {
	if !runActive(r) {
		return
	}
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
		return nil, nil, refuse(kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND, "not found: run %q", runID)
	}
	st := findStep(r, stepID)
	if st == nil {
		return nil, nil, refuse(kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND, "not found: step %q in run %s", stepID, runID)
	}
	return r, st, nil
}

func (f *FSM) applyStepDispatched(cmd *kirikaev1.Command, d *kirikaev1.StepDispatched) *kirikaev1.CommandResult {
	r, st, bad := f.activeStep(d.GetRunId(), d.GetStepId())
	if bad != nil {
		return bad
	}
	if r.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_RUNNING {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "failed precondition: run %s is %s", r.GetId(), statusName(r.GetStatus()))
	}
	switch st.GetStatus() {
	case kirikaev1.StepStatus_STEP_STATUS_PENDING, kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT:
		if d.GetAttempt() != st.GetAttempt()+1 {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "failed precondition: step %s: attempt %d is not next (%d)", st.GetId(), d.GetAttempt(), st.GetAttempt()+1)
		}
	case kirikaev1.StepStatus_STEP_STATUS_DISPATCHED, kirikaev1.StepStatus_STEP_STATUS_RUNNING:
		// A re-dispatch of the current attempt, e.g. to another agent after the first was lost.
		if d.GetAttempt() != st.GetAttempt() {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "failed precondition: step %s is on attempt %d", st.GetId(), st.GetAttempt())
		}
	default:
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "failed precondition: step %s is %s", st.GetId(), stepStatusName(st.GetStatus()))
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

func (f *FSM) applyStepProgress(p *kirikaev1.StepProgress) *kirikaev1.CommandResult {
	r, st, bad := f.activeStep(p.GetRunId(), p.GetStepId())
	if bad != nil {
		return bad
	}
	if st.GetAttempt() != p.GetAttempt() || (st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_DISPATCHED && st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_RUNNING) {
		return &kirikaev1.CommandResult{} // stale: nothing to do
	}
	st.Status = kirikaev1.StepStatus_STEP_STATUS_RUNNING
	st.Progress = p.GetStatus()
	st.Undo = mergeUndo(st.GetUndo(), p.GetUndo())
	return runResult(r)
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
	if st.GetAttempt() != res.GetAttempt() || (st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_DISPATCHED && st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_RUNNING) {
		return &kirikaev1.CommandResult{} // a late or duplicated result: the attempt is over
	}
	st.Undo = mergeUndo(st.GetUndo(), res.GetUndo())
	if !runActive(r) {
		// The run ended (aborted or failed) while the agent still held the step: record how
		// the attempt ended, for the report, without retries or policy.
		st.Status = kirikaev1.StepStatus_STEP_STATUS_FAILED
		if res.GetOk() {
			st.Status = kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED
			st.OutputsJson = res.GetOutputsJson()
		}
		st.Error, st.Progress, st.FinishedUnixNano = res.GetError(), "", cmd.GetTimeUnixNano()
		st.History = append(st.History, fmt.Sprintf("attempt %d ended after the run: ok=%v %s", st.GetAttempt(), res.GetOk(), res.GetError()))
		return runResult(r)
	}
	f.finishStep(cmd, r, st, res.GetOk(), res.GetPermanent(), res.GetError(), res.GetOutputsJson())
	return runResult(r)
}

// finishStep ends the current attempt and applies retries and the on-failure policy.
// A permanent failure is not retried: the same inputs cannot succeed.
func (f *FSM) finishStep(cmd *kirikaev1.Command, r *kirikaev1.Run, st *kirikaev1.StepState, ok, permanent bool, errText, outputs string) {
	now := cmd.GetTimeUnixNano()
	if ok {
		st.Status = kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED
		st.OutputsJson = outputs
		st.Error = ""
		st.FinishedUnixNano = now
		st.History = append(st.History, fmt.Sprintf("attempt %d succeeded", st.GetAttempt()))
	} else {
		st.History = append(st.History, fmt.Sprintf("attempt %d failed: %s", st.GetAttempt(), errText))
		st.Error = errText
		if !permanent && st.GetAttempt() <= st.GetSpec().GetRetries() {
			st.Status = kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT
			st.NotBeforeUnixNano = now + int64(retryBackoff(st.GetAttempt()))
		} else {
			st.Status = kirikaev1.StepStatus_STEP_STATUS_FAILED
			st.FinishedUnixNano = now
		}
	}
	st.Progress = ""
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
		case "approval", "checklist":
			if st.Spec == nil {
				st.Spec = &kirikaev1.StepSpec{}
			}
			if len(c.GetRoles()) > 0 {
				st.Spec.Roles, st.Spec.ApprovalsRequired = c.GetRoles(), c.GetApprovalsRequired()
			}
			if len(c.GetItems()) > 0 {
				st.Spec.Items = c.GetItems()
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
		cur := f.state.GetRegion()
		target := c.GetActivateRegion()
		if target != cur.GetPrimary() && target != cur.GetSecondary() {
			f.finishStep(cmd, r, st, false, true, fmt.Sprintf("region.activate: %q is not in the pair (%s, %s)", target, cur.GetPrimary(), cur.GetSecondary()), "")
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
		f.finishStep(cmd, r, st, true, false, "", string(out))
		return runResult(r)
	}
	f.finishStep(cmd, r, st, c.GetOk(), c.GetPermanent(), c.GetError(), c.GetOutputsJson())
	return runResult(r)
}

// settleHumanStep completes an approval or checklist step once people have done enough.
func (f *FSM) settleHumanStep(cmd *kirikaev1.Command, r *kirikaev1.Run, st *kirikaev1.StepState) {
	if st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_WAITING {
		return
	}
	spec := st.GetSpec()
	switch spec.GetAction() {
	case "approval":
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
		f.finishStep(cmd, r, st, true, false, "", string(out))
	case "checklist":
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
		f.finishStep(cmd, r, st, true, false, "", string(out))
	}
}

func (f *FSM) applyApprove(cmd *kirikaev1.Command, a *kirikaev1.ApproveRequest) *kirikaev1.CommandResult {
	r, st, bad := f.activeStep(a.GetRunId(), a.GetStepId())
	if bad != nil {
		return bad
	}
	if st.GetSpec().GetAction() != "approval" {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "invalid argument: step %s is a %s step, not an approval", st.GetId(), st.GetSpec().GetAction())
	}
	if !runActive(r) || stepTerminal(st) {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "failed precondition: step %s is %s (run %s)", st.GetId(), stepStatusName(st.GetStatus()), statusName(r.GetStatus()))
	}
	if !slices.Contains(st.GetSpec().GetRoles(), a.GetRole()) {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "invalid argument: step %s needs approval by %s, not %s",
			st.GetId(), strings.Join(st.GetSpec().GetRoles(), " and "), a.GetRole())
	}
	for _, prev := range st.GetApprovals() {
		if prev.GetActor() == cmd.GetActor() {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
				"failed precondition: %s already approved step %s (as %s); approvals need distinct people", cmd.GetActor(), st.GetId(), prev.GetRole())
		}
		if prev.GetRole() == a.GetRole() {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
				"failed precondition: role %s on step %s is already approved by %s", a.GetRole(), st.GetId(), prev.GetActor())
		}
	}
	st.Approvals = append(st.Approvals, &kirikaev1.Approval{Actor: cmd.GetActor(), Role: a.GetRole(), TimeUnixNano: cmd.GetTimeUnixNano(), Comment: a.GetComment()})
	r.Participants = appendUnique(r.GetParticipants(), cmd.GetActor())
	f.settleHumanStep(cmd, r, st)
	return runResult(r)
}

func (f *FSM) applyConfirm(cmd *kirikaev1.Command, c *kirikaev1.ConfirmRequest) *kirikaev1.CommandResult {
	r, st, bad := f.activeStep(c.GetRunId(), c.GetStepId())
	if bad != nil {
		return bad
	}
	if st.GetSpec().GetAction() != "checklist" {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "invalid argument: step %s is a %s step, not a checklist", st.GetId(), st.GetSpec().GetAction())
	}
	if !runActive(r) || stepTerminal(st) {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "failed precondition: step %s is %s (run %s)", st.GetId(), stepStatusName(st.GetStatus()), statusName(r.GetStatus()))
	}
	items := c.GetItems()
	if len(items) == 0 {
		items = st.GetSpec().GetItems()
	}
	for _, item := range items {
		if !slices.Contains(st.GetSpec().GetItems(), item) {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "invalid argument: step %s has no checklist item %q", st.GetId(), item)
		}
	}
	for _, item := range items {
		st.Confirmations = append(st.Confirmations, &kirikaev1.Confirmation{Item: item, Actor: cmd.GetActor(), TimeUnixNano: cmd.GetTimeUnixNano(), Note: c.GetNote()})
	}
	r.Participants = appendUnique(r.GetParticipants(), cmd.GetActor())
	f.settleHumanStep(cmd, r, st)
	return runResult(r)
}

func (f *FSM) applyControl(cmd *kirikaev1.Command, c *kirikaev1.ControlRequest) *kirikaev1.CommandResult {
	r := f.findRun(c.GetRunId())
	if r == nil {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND, "not found: run %q", c.GetRunId())
	}
	if !runActive(r) {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "failed precondition: run %s is %s", r.GetId(), statusName(r.GetStatus()))
	}
	r.Participants = appendUnique(r.GetParticipants(), cmd.GetActor())
	switch c.GetAction() {
	case kirikaev1.ControlAction_CONTROL_ACTION_PAUSE:
		if r.GetStatus() == kirikaev1.RunStatus_RUN_STATUS_PAUSED {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "failed precondition: run %s is already paused", r.GetId())
		}
		r.Status = kirikaev1.RunStatus_RUN_STATUS_PAUSED
		r.Error = "paused by " + cmd.GetActor()
	case kirikaev1.ControlAction_CONTROL_ACTION_RESUME:
		if r.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_PAUSED {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "failed precondition: run %s is not paused", r.GetId())
		}
		for _, st := range r.GetSteps() {
			if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_FAILED && st.GetSpec().GetOnFailure() != "continue" {
				return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
					"failed precondition: step %s failed; retry or skip it (resume alone would stop again)", st.GetId())
			}
		}
		r.Status = kirikaev1.RunStatus_RUN_STATUS_RUNNING
		r.Error = ""
	case kirikaev1.ControlAction_CONTROL_ACTION_RETRY, kirikaev1.ControlAction_CONTROL_ACTION_SKIP:
		st := findStep(r, c.GetStepId())
		if st == nil {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND, "not found: step %q in run %s", c.GetStepId(), r.GetId())
		}
		if c.GetAction() == kirikaev1.ControlAction_CONTROL_ACTION_RETRY {
			if st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_FAILED && st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT {
				return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "failed precondition: step %s is %s; only a failed step can be retried", st.GetId(), stepStatusName(st.GetStatus()))
			}
			st.Status = kirikaev1.StepStatus_STEP_STATUS_PENDING
			st.NotBeforeUnixNano = 0
			st.FinishedUnixNano = 0
			st.History = append(st.History, "retry requested by "+cmd.GetActor())
		} else {
			if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED || st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_SKIPPED {
				return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "failed precondition: step %s is already %s", st.GetId(), stepStatusName(st.GetStatus()))
			}
			st.Status = kirikaev1.StepStatus_STEP_STATUS_SKIPPED
			st.SkippedBy = cmd.GetActor()
			st.FinishedUnixNano = cmd.GetTimeUnixNano()
			st.History = append(st.History, "skipped by "+cmd.GetActor()+": "+c.GetReason())
		}
		r.Status = kirikaev1.RunStatus_RUN_STATUS_RUNNING
		r.Error = ""
		f.settle(cmd, r)
	case kirikaev1.ControlAction_CONTROL_ACTION_ABORT:
		f.finishRun(cmd, r, kirikaev1.RunStatus_RUN_STATUS_ABORTED, "aborted by "+cmd.GetActor()+": "+c.GetReason())
	default:
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "invalid argument: unknown control action %v", c.GetAction())
	}
	return runResult(r)
}

func appendUnique(s []string, v string) []string {
	if v == "" || slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

func kindName(k kirikaev1.RunKind) string {
	return strings.ToLower(strings.TrimPrefix(k.String(), "RUN_KIND_"))
}

func statusName(s kirikaev1.RunStatus) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "RUN_STATUS_"))
}

func stepStatusName(s kirikaev1.StepStatus) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(s.String(), "STEP_STATUS_")), "_", "-")
}

// applyRunReadiness records the readiness reports taken when a drill ended, once.
func (f *FSM) applyRunReadiness(rr *kirikaev1.RunReadiness) *kirikaev1.CommandResult {
	r := f.findRun(rr.GetRunId())
	if r == nil {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND, "not found: run %q", rr.GetRunId())
	}
	if runActive(r) {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "failed precondition: run %s has not ended", r.GetId())
	}
	if len(r.GetReadinessEnd()) == 0 {
		r.ReadinessEnd = rr.GetReports()
	}
	return runResult(r)
}

// Agents and readiness.

func (f *FSM) applyRegisterAgent(cmd *kirikaev1.Command, a *kirikaev1.AgentInfo) *kirikaev1.CommandResult {
	if a.GetId() == "" || a.GetRegion() == "" {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "invalid argument: agent id and region are required")
	}
	info := proto.Clone(a).(*kirikaev1.AgentInfo)
	info.RegisteredUnixNano = cmd.GetTimeUnixNano()
	for i, old := range f.state.GetAgents() {
		if old.GetId() == a.GetId() {
			f.state.Agents[i] = info
			return &kirikaev1.CommandResult{}
		}
	}
	f.state.Agents = append(f.state.Agents, info)
	return &kirikaev1.CommandResult{}
}

func (f *FSM) applyRecordReadiness(cmd *kirikaev1.Command, rep *kirikaev1.ReadinessReport) *kirikaev1.CommandResult {
	if rep.GetAgentId() == "" || rep.GetRegion() == "" {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "invalid argument: readiness report needs agent id and region")
	}
	r := proto.Clone(rep).(*kirikaev1.ReadinessReport)
	if r.GetReportedUnixNano() == 0 {
		r.ReportedUnixNano = cmd.GetTimeUnixNano()
	}
	for i, old := range f.state.GetReadiness() {
		if old.GetAgentId() == r.GetAgentId() {
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
