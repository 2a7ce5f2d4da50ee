package controlplane

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// Run safety: the rules the state machine enforces whatever plan an operator sends.
//
//   - One live run per region pair. A run is live while it is active, and after it has ended
//     while the control plane still owes it a teardown or a full drill's cutback. Only one
//     live run may change AWS at a time, of any kind; a tabletop changes nothing and never
//     counts. A real declaration may preempt a live drill: the drill is aborted in the same
//     command and what it owns passes to the new run.
//   - Ownership. Every resource a step reports it created or changed (its undo steps) is
//     recorded as its run's, by key. The newest run to change a resource owns it; a preempted
//     drill's resources belong to the run that preempted it. A teardown step runs only while
//     the run it undoes still owns the resource: the check is made when the dispatch is
//     recorded, before anything is sent to an agent.
//   - Approvals are policy. region.activate takes effect only in a failover or cutback run
//     that holds the approvals the runbook demands for it, from distinct people, or an
//     admin's recorded waiver of them.

// liveRun is the run that may change AWS now, or nil.
func (f *FSM) liveRun() *kirikaev1.Run {
	for _, r := range f.state.GetRuns() {
		if r.GetDrill() == kirikaev1.DrillKind_DRILL_KIND_TABLETOP {
			continue
		}
		if runActive(r) || (r.GetUndoRequested() && r.GetPreemptedBy() == "") || drillCutbackDue(r) {
			return r
		}
	}
	return nil
}

// drillCutbackDue reports whether a full-scale drill's failover has succeeded and the
// control plane still has to create its cutback.
func drillCutbackDue(r *kirikaev1.Run) bool {
	return r.GetDrill() == kirikaev1.DrillKind_DRILL_KIND_FULL && r.GetKind() == kirikaev1.RunKind_RUN_KIND_FAILOVER &&
		r.GetStatus() == kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED && len(r.GetCutbackPlanSource()) > 0 &&
		r.GetCutbackRunId() == "" && r.GetPreemptedBy() == ""
}

// describeLive names a live run and why it is live, for refusals.
func describeLive(r *kirikaev1.Run) string {
	what := enum.Name(r.GetKind())
	if r.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED {
		what = enum.Name(r.GetDrill()) + " drill " + what
	}
	switch {
	case runActive(r):
		return fmt.Sprintf("run %s (%s) is %s", r.GetId(), what, enum.Name(r.GetStatus()))
	case r.GetUndoRequested():
		return fmt.Sprintf("run %s (%s) has ended and its teardown is due", r.GetId(), what)
	default:
		return fmt.Sprintf("run %s (%s) has succeeded and its cutback is due", r.GetId(), what)
	}
}

// checkExclusive decides whether run in may start while live is live. parent is the run
// in belongs to (the run a teardown undoes, the failover a drill's cutback follows), which
// may be the live one. It returns the run to preempt, or a refusal.
func (f *FSM) checkExclusive(in, parent, live *kirikaev1.Run) (*kirikaev1.Run, *kirikaev1.CommandResult) {
	want := in.GetPreemptRunId()
	switch {
	case live != nil && parent != nil && live == parent:
		if want != "" {
			return nil, refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "preempt_run_id: run %s continues %s; it preempts nothing", in.GetId(), parent.GetId())
		}
		return nil, nil
	case live != nil && want == "":
		hint := "wait for it to end, or abort it"
		if live.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED && in.GetDrill() == kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED {
			hint = fmt.Sprintf("a real declaration may preempt a drill: declare again with --preempt %s (the drill is aborted, audited, and what it created passes to the new run)", liveID(live))
		}
		return nil, refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
			"%s; one run at a time may change AWS for the region pair; %s", describeLive(live), hint)
	case live != nil:
		if want != live.GetId() && !(live.GetKind() == kirikaev1.RunKind_RUN_KIND_TEARDOWN && want == live.GetParentRunId()) {
			return nil, refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT,
				"preempt_run_id: run %q is not the live run; %s (pass --preempt %s)", want, describeLive(live), liveID(live))
		}
		if in.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED {
			return nil, refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "preempt_run_id: a drill preempts nothing; only a real declaration may")
		}
		if live.GetDrill() == kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED {
			return nil, refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
				"preempt_run_id: %s, and it is no drill: only a drill can be preempted; wait for it to end, or abort it", describeLive(live))
		}
		return live, nil
	case want != "":
		if f.findRun(want) == nil {
			return nil, refuse(kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND, "preempt_run_id: no run %q", want)
		}
		return nil, refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
			"preempt_run_id: run %s is not live (no run is); declare without --preempt", want)
	}
	return nil, nil
}

// liveID is the id to preempt: a drill's teardown is preempted through the drill.
func liveID(r *kirikaev1.Run) string {
	if r.GetKind() == kirikaev1.RunKind_RUN_KIND_TEARDOWN && r.GetParentRunId() != "" {
		return r.GetParentRunId()
	}
	return r.GetId()
}

// preempt aborts the live drill (and, for a teardown, marks the drill it undoes) and passes
// everything they own to by, which is being created by cmd.
func (f *FSM) preempt(index uint64, cmd *kirikaev1.Command, live, by *kirikaev1.Run) {
	victims := []*kirikaev1.Run{live}
	if live.GetKind() == kirikaev1.RunKind_RUN_KIND_TEARDOWN {
		if p := f.findRun(live.GetParentRunId()); p != nil {
			victims = append(victims, p)
		}
	}
	for _, v := range victims {
		if runActive(v) {
			f.finishRun(cmd, v, kirikaev1.RunStatus_RUN_STATUS_ABORTED, fmt.Sprintf("preempted by run %s, declared by %s: %s", by.GetId(), cmd.GetActor(), by.GetReason()))
		}
		v.PreemptedBy = by.GetId()
		v.UndoRequested = false
		by.InheritedFrom = appendUnique(by.GetInheritedFrom(), v.GetId())
		var passed []string
		for _, res := range f.state.GetResources() {
			if res.GetOwnerRunId() == v.GetId() {
				res.OwnerRunId = by.GetId()
				res.History = append(res.History, fmt.Sprintf("passed from run %s to run %s, which preempted it", v.GetId(), by.GetId()))
				passed = append(passed, res.GetKey())
			}
		}
		f.auditNote(index, cmd, "run.preempt", fmt.Sprintf(`{"run_id":%q,"preempted_by":%q,"resources_passed":%d}`, v.GetId(), by.GetId(), len(passed)),
			fmt.Sprintf("ok: run %s aborted; %d resources pass to run %s: %s", v.GetId(), len(passed), by.GetId(), strings.Join(passed, ", ")))
	}
}

// Resources.

func (f *FSM) resource(key string) *kirikaev1.Resource {
	for _, r := range f.state.GetResources() {
		if r.GetKey() == key {
			return r
		}
	}
	return nil
}

// owns reports whether run id owns at least one resource.
func (f *FSM) owns(id string) bool {
	return slices.ContainsFunc(f.state.GetResources(), func(r *kirikaev1.Resource) bool { return r.GetOwnerRunId() == id })
}

// claim records the resources a step's undo steps touch as its run's. A step of a
// preempted drill that reports late reports for the run that took the drill over.
func (f *FSM) claim(cmd *kirikaev1.Command, r *kirikaev1.Run, st *kirikaev1.StepState, undo []*kirikaev1.UndoStep) {
	if r.GetKind() == kirikaev1.RunKind_RUN_KIND_TEARDOWN {
		return // undo actions remove; they create nothing to own
	}
	owner := r.GetId()
	if r.GetPreemptedBy() != "" {
		owner = r.GetPreemptedBy()
	}
	for _, u := range undo {
		key := u.GetResource()
		if key == "" {
			continue
		}
		res := f.resource(key)
		switch {
		case res == nil:
			f.state.Resources = append(f.state.Resources, &kirikaev1.Resource{Key: key, OwnerRunId: owner, StepId: st.GetId(),
				CreatedByRunId: r.GetId(), SinceUnixNano: cmd.GetTimeUnixNano(),
				History: []string{fmt.Sprintf("recorded for run %s by step %s of run %s", owner, st.GetId(), r.GetId())}})
		case res.GetOwnerRunId() != owner:
			res.History = append(res.History, fmt.Sprintf("passed from run %s to run %s: its step %s changed it", orNobody(res.GetOwnerRunId()), owner, st.GetId()))
			res.OwnerRunId, res.StepId, res.SinceUnixNano = owner, st.GetId(), cmd.GetTimeUnixNano()
		}
	}
}

func orNobody(id string) string {
	if id == "" {
		return "nobody"
	}
	return id
}

// release forgets a resource a teardown step has undone, once no other step of the same
// teardown still has to touch it.
func (f *FSM) release(r *kirikaev1.Run, st *kirikaev1.StepState) {
	key := st.GetSpec().GetResource()
	if key == "" || r.GetKind() != kirikaev1.RunKind_RUN_KIND_TEARDOWN {
		return
	}
	for _, other := range r.GetSteps() {
		if other != st && other.GetSpec().GetResource() == key && !stepTerminal(other) {
			return
		}
	}
	f.state.Resources = slices.DeleteFunc(f.state.Resources, func(res *kirikaev1.Resource) bool {
		return res.GetKey() == key && res.GetOwnerRunId() == r.GetParentRunId()
	})
	st.History = append(st.History, "released "+key)
}

// ownershipSkip skips a teardown step whose resource its run no longer owns, and says so.
// It reports whether it did.
func (f *FSM) ownershipSkip(cmd *kirikaev1.Command, r *kirikaev1.Run, st *kirikaev1.StepState) bool {
	key := st.GetSpec().GetResource()
	if r.GetKind() != kirikaev1.RunKind_RUN_KIND_TEARDOWN || key == "" {
		return false
	}
	res := f.resource(key)
	if res != nil && res.GetOwnerRunId() == r.GetParentRunId() {
		return false
	}
	why := "it is gone from the record (already removed)"
	if res != nil {
		why = "it belongs to run " + res.GetOwnerRunId() + " now"
	}
	st.Status = kirikaev1.StepStatus_STEP_STATUS_SKIPPED
	st.SkippedBy = "ownership"
	st.FinishedUnixNano = cmd.GetTimeUnixNano()
	st.History = append(st.History, fmt.Sprintf("not undone: %s: %s, not to run %s", key, why, r.GetParentRunId()))
	f.metrics.stepEnded(f.applying, st, cmd.GetTimeUnixNano())
	f.settle(cmd, r)
	return true
}

// Resources returns copies of the recorded resources.
func (f *FSM) Resources() []*kirikaev1.Resource {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]*kirikaev1.Resource, 0, len(f.state.GetResources()))
	for _, r := range f.state.GetResources() {
		out = append(out, cloneResource(r))
	}
	return out
}

func cloneResource(r *kirikaev1.Resource) *kirikaev1.Resource {
	return &kirikaev1.Resource{Key: r.GetKey(), OwnerRunId: r.GetOwnerRunId(), StepId: r.GetStepId(), CreatedByRunId: r.GetCreatedByRunId(),
		SinceUnixNano: r.GetSinceUnixNano(), History: slices.Clone(r.GetHistory())}
}

// TeardownWork returns, for a run whose teardown is due and none of whose steps an agent
// still holds, a copy of it whose steps keep only the undo steps of what it still owns,
// from its own steps and those of the runs it inherited from; nil otherwise.
func (f *FSM) TeardownWork(id string) *kirikaev1.Run {
	f.mu.RLock()
	defer f.mu.RUnlock()
	r := f.findRun(id)
	if r == nil || runActive(r) || !r.GetUndoRequested() || r.GetPreemptedBy() != "" || inFlight(r) {
		return nil
	}
	out := &kirikaev1.Run{Id: r.GetId(), Kind: r.GetKind(), Drill: r.GetDrill(), PlanName: r.GetPlanName(), Scenario: r.GetScenario(),
		Participants: slices.Clone(r.GetParticipants()), Teardowns: r.GetTeardowns()}
	from := append([]string{r.GetId()}, r.GetInheritedFrom()...)
	for _, src := range from {
		sr := f.findRun(src)
		if sr == nil {
			continue
		}
		for _, st := range sr.GetSteps() {
			var keep []*kirikaev1.UndoStep
			for _, u := range st.GetUndo() {
				if res := f.resource(u.GetResource()); u.GetResource() == "" && src == r.GetId() || res != nil && res.GetOwnerRunId() == r.GetId() {
					keep = append(keep, cloneUndo(u))
				}
			}
			if len(keep) > 0 {
				out.Steps = append(out.Steps, &kirikaev1.StepState{Id: st.GetId(), Spec: &kirikaev1.StepSpec{Region: st.GetSpec().GetRegion(),
					Owner: st.GetSpec().GetOwner()}, FinishedUnixNano: st.GetFinishedUnixNano(), Undo: keep})
			}
		}
	}
	return out
}

func cloneUndo(u *kirikaev1.UndoStep) *kirikaev1.UndoStep {
	return &kirikaev1.UndoStep{Action: u.GetAction(), WithJson: u.GetWithJson(), Note: u.GetNote(), Resource: u.GetResource()}
}

// inFlight reports whether an agent still holds a step of the run.
func inFlight(r *kirikaev1.Run) bool {
	return slices.ContainsFunc(r.GetSteps(), StepHeld)
}

// settleUndo drops a run's pending teardown once it is moot: the run has ended, no agent
// holds a step of it (so nothing more can be reported), and it owns nothing.
func (f *FSM) settleUndo(r *kirikaev1.Run) {
	if r.GetUndoRequested() && !runActive(r) && !inFlight(r) && !f.owns(r.GetId()) && !hasUnkeyedUndo(r) {
		r.UndoRequested = false
	}
}

// hasUnkeyedUndo reports whether the run holds undo steps whose resource is not known: they
// are torn down too (nothing else can own them).
func hasUnkeyedUndo(r *kirikaev1.Run) bool {
	for _, st := range r.GetSteps() {
		for _, u := range st.GetUndo() {
			if u.GetResource() == "" {
				return true
			}
		}
	}
	return false
}

// Approvals.

// activationRule is what region.activate needs in a run: a role each from a different
// person (or waived by an admin), and where the requirement comes from.
type activationRule struct {
	roles []string
	why   string
}

// activationRuleOf is the approval policy for a run's region.activate, from the runbook's
// 判断者 (seed 000, DR発動基準): the deciders of the scenario, then an executive for the
// activation (経営層の承認). A cutback moves production back and, in the runbook, deletes and
// restores the production database: the deciders of an outage approve it.
func activationRuleOf(r *kirikaev1.Run) (activationRule, string) {
	if r.GetDrill() == kirikaev1.DrillKind_DRILL_KIND_PARTIAL {
		return activationRule{}, "a partial drill never moves the active region"
	}
	switch r.GetKind() {
	case kirikaev1.RunKind_RUN_KIND_FAILOVER:
		sc, ok := Scenarios[r.GetScenario()]
		if !ok {
			return activationRule{}, fmt.Sprintf("scenario %q has no approval policy (want one of %s)", r.GetScenario(), scenarioNames())
		}
		return activationRule{roles: append(slices.Clone(sc.Deciders), ActivationApprover),
			why: fmt.Sprintf("%s (scenario %s) and %s (activation)", strings.Join(sc.Deciders, " + "), sc.Name, ActivationApprover)}, ""
	case kirikaev1.RunKind_RUN_KIND_CUTBACK:
		return activationRule{roles: slices.Clone(CutbackDeciders), why: strings.Join(CutbackDeciders, " + ") + " (cutback)"}, ""
	}
	return activationRule{}, fmt.Sprintf("region.activate runs only in failover and cutback runs, not in a %s run", enum.Name(r.GetKind()))
}

// activationRefusal returns why region.activate may not take effect in run r, or "".
func activationRefusal(r *kirikaev1.Run) string {
	rule, bad := activationRuleOf(r)
	if bad != "" {
		return "region.activate refused: " + bad
	}
	type grant struct{ actor, role string }
	var grants []grant
	waived := map[string]string{}
	for _, st := range r.GetSteps() {
		for _, a := range st.GetApprovals() {
			grants = append(grants, grant{a.GetActor(), a.GetRole()})
		}
		if w := st.GetWaiver(); w != nil {
			for _, role := range w.GetRoles() {
				waived[role] = w.GetActor()
			}
		}
	}
	// Match each required role to a different approver (tiny bipartite matching).
	var need []string
	for _, role := range rule.roles {
		if waived[role] == "" {
			need = append(need, role)
		}
	}
	holder := map[string]string{} // actor -> role it is matched to
	var try func(role string, seen map[string]bool) bool
	try = func(role string, seen map[string]bool) bool {
		for _, g := range grants {
			if g.role != role || seen[g.actor] {
				continue
			}
			seen[g.actor] = true
			if cur, taken := holder[g.actor]; !taken || try(cur, seen) {
				holder[g.actor] = role
				return true
			}
		}
		return false
	}
	var missing []string
	for _, role := range need {
		if !try(role, map[string]bool{}) {
			missing = append(missing, role)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	var have []string
	for _, g := range grants {
		have = append(have, g.role+" by "+g.actor)
	}
	for role, by := range waived {
		have = append(have, role+" waived by "+by)
	}
	slices.Sort(have)
	if len(have) == 0 {
		have = []string{"none"}
	}
	return fmt.Sprintf("region.activate refused: run %s needs approvals of %s, each by a different person; missing %s (approvals held: %s)",
		r.GetId(), rule.why, strings.Join(missing, ", "), strings.Join(have, "; "))
}

// auditNote appends an audit entry for something a command did besides its main effect,
// such as the drill a declaration preempted.
func (f *FSM) auditNote(index uint64, cmd *kirikaev1.Command, method, request, result string) {
	e := &kirikaev1.AuditEntry{
		Seq:          uint64(len(f.state.Audit)) + 1,
		RaftIndex:    index,
		TimeUnixNano: cmd.GetTimeUnixNano(),
		Actor:        cmd.GetActor(),
		Method:       method,
		Request:      request,
		RequestId:    cmd.GetRequestId(),
		Result:       result,
	}
	if n := len(f.state.Audit); n > 0 {
		e.PrevHash = f.state.Audit[n-1].GetHash()
	}
	e.Hash = AuditHash(e)
	f.state.Audit = append(f.state.Audit, e)
}

// applyRefusals audits the calls a node's edge refused: a line for each, under the caller's
// name, and a line for each caller's count of refusals that were not itemized. Only
// control-plane servers send these; the batch is bounded here too, so no sender can
// write more than refusalsPerBatch itemized lines an entry.
func (f *FSM) applyRefusals(index uint64, cmd *kirikaev1.Command, req *kirikaev1.Refusals) *kirikaev1.CommandResult {
	if ScopeOf(cmd.GetActor()) != "server" {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED, "%s is not a control-plane server; only servers record refusals", cmd.GetActor())
	}
	node, _ := json.Marshal(map[string]string{"refused_by": req.GetNodeId()})
	items := req.GetRefusals()
	dropped := map[string]uint64{}
	var order []string
	drop := func(actor string, n uint64) {
		if _, ok := dropped[actor]; !ok {
			order = append(order, actor)
		}
		dropped[actor] += n
	}
	if len(items) > refusalsPerBatch {
		for _, r := range items[refusalsPerBatch:] {
			drop(r.GetActor(), 1)
		}
		items = items[:refusalsPerBatch]
	}
	for _, r := range items {
		line := &kirikaev1.Command{Actor: r.GetActor(), TimeUnixNano: r.GetTimeUnixNano()}
		f.auditNote(index, line, r.GetMethod(), string(node), "refused: "+r.GetReason())
	}
	for _, c := range req.GetDropped() {
		drop(c.GetActor(), c.GetCount())
	}
	for _, actor := range order {
		line := &kirikaev1.Command{Actor: actor, TimeUnixNano: cmd.GetTimeUnixNano()}
		f.auditNote(index, line, "(more refusals)", string(node),
			fmt.Sprintf("refused: %d more calls refused and not itemized (at most %d a caller are itemized each %v)",
				dropped[actor], refusalsPerCaller, refusalWindow))
	}
	return &kirikaev1.CommandResult{}
}
