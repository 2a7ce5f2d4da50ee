package controlplane

import (
	"strings"
	"testing"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// runFSM is an FSM with an initialized pair and a helper that applies commands in order.
type runFSM struct {
	t   *testing.T
	f   *FSM
	idx uint64
}

func newRunFSM(t *testing.T) *runFSM {
	r := &runFSM{t: t, f: NewFSM()}
	r.apply("admin", &kirikaev1.Command{Payload: &kirikaev1.Command_InitRegion{InitRegion: &kirikaev1.InitRegionRequest{Primary: "us-east-1", Secondary: "us-west-2"}}})
	return r
}

// testRoles are the roles of the test's operators, stamped on their commands as the edge
// would. "srv" is a control-plane server, "agent-REGION" the agent of REGION.
var testRoles = map[string][]string{
	"admin": {"admin", "operator", "viewer"},
	"op":    {"operator", "viewer"},
	"alice": {"sysadmin", "operator", "viewer"},
	"bob":   {"manager", "viewer"},
	"carol": {"executive", "viewer"},
	"dave":  {"security", "viewer"},
	"eve":   {"viewer"},
	"frank": {"sysadmin", "manager", "viewer"},
}

func (r *runFSM) apply(actor string, cmd *kirikaev1.Command) *kirikaev1.CommandResult {
	r.t.Helper()
	r.idx++
	switch {
	case actor == "srv":
		cmd.Actor = "spiffe://kirikae/server/cp1"
	case strings.HasPrefix(actor, "agent-"):
		cmd.Actor = "spiffe://kirikae/agent/" + strings.TrimPrefix(actor, "agent-")
	default:
		cmd.Actor = "spiffe://kirikae/operator/" + actor
		cmd.CallerRoles = testRoles[actor]
	}
	if len(cmd.Fingerprint) == 0 {
		cmd.Fingerprint = payloadFingerprint(cmd)
	}
	cmd.TimeUnixNano = int64(r.idx) * 1e9
	return applyCmd(r.t, r.f, r.idx, cmd)
}

// approveAll starts approval step id of run and approves each of its roles with the test
// operator who holds it.
func (r *runFSM) approveAll(run, id string) {
	r.t.Helper()
	r.ok("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{RunId: run, StepId: id, Start: true}}})
	for _, role := range r.step(run, id).GetSpec().GetRoles() {
		who := map[string]string{"sysadmin": "alice", "manager": "bob", "executive": "carol", "security": "dave"}[role]
		r.ok(who, &kirikaev1.Command{Payload: &kirikaev1.Command_Approve{Approve: &kirikaev1.ApproveRequest{RunId: run, StepId: id, Role: role}}})
	}
}

// outageApproval is the approval step a region outage's activation needs.
func outageApproval() *kirikaev1.StepState {
	return &kirikaev1.StepState{Id: "approve", Spec: &kirikaev1.StepSpec{Action: "approval", Region: "control-plane", Roles: []string{"sysadmin", "manager", "executive"}}}
}

func (r *runFSM) ok(actor string, cmd *kirikaev1.Command) *kirikaev1.Run {
	r.t.Helper()
	res := r.apply(actor, cmd)
	if res.GetError() != "" {
		r.t.Fatalf("unexpected refusal: %s", res.GetError())
	}
	return res.GetRun()
}

func (r *runFSM) step(runID, id string) *kirikaev1.StepState {
	return findStep(r.f.Run(runID), id)
}

func spec(action, region string, needs ...string) *kirikaev1.StepSpec {
	return &kirikaev1.StepSpec{Action: action, Region: region, Needs: needs}
}

func failoverRun(id string, steps ...*kirikaev1.StepState) *kirikaev1.Command {
	return &kirikaev1.Command{Payload: &kirikaev1.Command_CreateRun{CreateRun: &kirikaev1.Run{
		Id: id, Kind: kirikaev1.RunKind_RUN_KIND_FAILOVER, PlanName: "test", Scenario: "region-outage", FromRegion: "us-east-1", ToRegion: "us-west-2", Steps: steps}}}
}

func dispatched(run, step string, attempt uint32) *kirikaev1.Command {
	return &kirikaev1.Command{Payload: &kirikaev1.Command_StepDispatched{StepDispatched: &kirikaev1.StepDispatched{RunId: run, StepId: step, Attempt: attempt, AgentId: "a1", Epoch: 1}}}
}

func result(run, step string, attempt uint32, ok bool) *kirikaev1.Command {
	return &kirikaev1.Command{Payload: &kirikaev1.Command_StepResult{StepResult: &kirikaev1.StepResult{RunId: run, StepId: step, Attempt: attempt, Ok: ok, Error: "boom", OutputsJson: `{"x":1}`}}}
}

func TestRunFailoverMovesRegionAtActivate(t *testing.T) {
	r := newRunFSM(t)
	r.ok("op", failoverRun("r1", outageApproval(),
		&kirikaev1.StepState{Id: "build", Spec: spec("aws.rds.restoreSnapshot", "us-west-2")},
		&kirikaev1.StepState{Id: "activate", Spec: spec("region.activate", "control-plane", "build", "approve")}))
	if st, _, _ := r.f.Region(); st.GetMode() != kirikaev1.Mode_MODE_FAILING_OVER || st.GetEpoch() != 1 {
		t.Fatalf("after declare: %v", st)
	}
	r.approveAll("r1", "approve")
	r.ok("srv", dispatched("r1", "build", 1))
	r.ok("srv", result("r1", "build", 1, true))
	r.ok("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{RunId: "r1", StepId: "activate", Start: true}}})
	run := r.ok("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{RunId: "r1", StepId: "activate", Attempt: 1, Ok: true, ActivateRegion: "us-west-2"}}})
	if run.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
		t.Fatalf("run %v", run.GetStatus())
	}
	st, _, _ := r.f.Region()
	if st.GetActive() != "us-west-2" || st.GetEpoch() != 2 || st.GetMode() != kirikaev1.Mode_MODE_FAILED_OVER {
		t.Fatalf("after failover: %v", st)
	}
	if run.GetEpochBefore() != 1 || run.GetEpochAfter() != 2 {
		t.Fatalf("epochs %d -> %d", run.GetEpochBefore(), run.GetEpochAfter())
	}
	// The activate and the run's end share one raft index: history holds one change for it.
	h := r.f.History()
	if h[len(h)-1].GetIndex() == h[len(h)-2].GetIndex() {
		t.Fatal("two history entries share an index")
	}
}

func TestRunOneFailoverAtATime(t *testing.T) {
	r := newRunFSM(t)
	r.ok("op", failoverRun("r1", &kirikaev1.StepState{Id: "a", Spec: spec("wait", "control-plane")}))
	res := r.apply("op", failoverRun("r2", &kirikaev1.StepState{Id: "a", Spec: spec("wait", "control-plane")}))
	if !strings.Contains(res.GetError(), "one run at a time") {
		t.Fatalf("second failover: %q", res.GetError())
	}
	cut := failoverRun("r3", &kirikaev1.StepState{Id: "a", Spec: spec("wait", "control-plane")})
	cut.GetCreateRun().Kind = kirikaev1.RunKind_RUN_KIND_CUTBACK
	r.ok("op", &kirikaev1.Command{Payload: &kirikaev1.Command_Control{Control: &kirikaev1.ControlRequest{RunId: "r1", Action: kirikaev1.ControlAction_CONTROL_ACTION_ABORT}}})
	if st, _, _ := r.f.Region(); st.GetMode() != kirikaev1.Mode_MODE_NORMAL {
		t.Fatalf("mode after abort: %v", st.GetMode())
	}
	if res := r.apply("op", cut); !strings.Contains(res.GetError(), "nothing to cut back") {
		t.Fatalf("cutback while on primary: %q", res.GetError())
	}
}

func TestApprovalsNeedDistinctPeopleWithTheRoles(t *testing.T) {
	r := newRunFSM(t)
	approval := &kirikaev1.StepSpec{Action: "approval", Region: "control-plane", Roles: []string{"sysadmin", "manager"}}
	r.ok("op", failoverRun("r1", &kirikaev1.StepState{Id: "approve", Spec: approval}))
	r.ok("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{RunId: "r1", StepId: "approve", Start: true}}})
	approve := func(who, role string) *kirikaev1.CommandResult {
		return r.apply(who, &kirikaev1.Command{Payload: &kirikaev1.Command_Approve{Approve: &kirikaev1.ApproveRequest{RunId: "r1", StepId: "approve", Role: role}}})
	}
	if res := approve("alice", "executive"); !strings.Contains(res.GetError(), "needs approval by sysadmin and manager") {
		t.Fatalf("wrong role: %q", res.GetError())
	}
	if res := approve("eve", "sysadmin"); res.GetCode() != kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED || !strings.Contains(res.GetError(), "does not hold role sysadmin") {
		t.Fatalf("approval without the role: %v", res)
	}
	if res := approve("frank", "sysadmin"); res.GetError() != "" {
		t.Fatal(res.GetError())
	}
	if res := approve("frank", "manager"); !strings.Contains(res.GetError(), "distinct people") {
		t.Fatalf("same person twice: %q", res.GetError())
	}
	if st := r.step("r1", "approve"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_WAITING {
		t.Fatalf("one approver completed the step: %v", st.GetStatus())
	}
	if res := approve("bob", "manager"); res.GetError() != "" {
		t.Fatal(res.GetError())
	}
	st := r.step("r1", "approve")
	if st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED || !strings.Contains(st.GetOutputsJson(), "bob") {
		t.Fatalf("after two approvers: %v %s", st.GetStatus(), st.GetOutputsJson())
	}
}

func TestChecklistNeedsEveryItem(t *testing.T) {
	r := newRunFSM(t)
	cl := &kirikaev1.StepSpec{Action: "checklist", Region: "control-plane", Items: []string{"announcement", "scope"}}
	r.ok("op", failoverRun("r1", &kirikaev1.StepState{Id: "check", Spec: cl}))
	r.ok("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{RunId: "r1", StepId: "check", Start: true}}})
	confirm := func(items ...string) *kirikaev1.CommandResult {
		return r.apply("alice", &kirikaev1.Command{Payload: &kirikaev1.Command_Confirm{Confirm: &kirikaev1.ConfirmRequest{RunId: "r1", StepId: "check", Items: items}}})
	}
	if res := confirm("nonsense"); !strings.Contains(res.GetError(), `no checklist item "nonsense"`) {
		t.Fatalf("unknown item: %q", res.GetError())
	}
	confirm("announcement")
	if st := r.step("r1", "check"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_WAITING {
		t.Fatalf("half a checklist completed the step")
	}
	confirm("scope")
	if st := r.step("r1", "check"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED {
		t.Fatalf("full checklist: %v", st.GetStatus())
	}
}

func TestRetriesThenPolicy(t *testing.T) {
	for _, tc := range []struct {
		policy string
		want   kirikaev1.RunStatus
	}{{"", kirikaev1.RunStatus_RUN_STATUS_PAUSED}, {"abort", kirikaev1.RunStatus_RUN_STATUS_FAILED}, {"continue", kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED}} {
		t.Run("onFailure="+tc.policy, func(t *testing.T) {
			r := newRunFSM(t)
			sp := spec("aws.ecs.updateService", "us-west-2")
			sp.Retries = 1
			sp.OnFailure = tc.policy
			r.ok("op", failoverRun("r1", &kirikaev1.StepState{Id: "s", Spec: sp}))
			r.ok("srv", dispatched("r1", "s", 1))
			r.ok("srv", result("r1", "s", 1, false))
			st := r.step("r1", "s")
			if st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT || st.GetNotBeforeUnixNano() <= 0 {
				t.Fatalf("after first failure: %v", st.GetStatus())
			}
			// A late duplicate of attempt 1 changes nothing.
			r.ok("srv", result("r1", "s", 1, true))
			if st := r.step("r1", "s"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT {
				t.Fatalf("late result applied: %v", st.GetStatus())
			}
			r.ok("srv", dispatched("r1", "s", 2))
			run := r.ok("srv", result("r1", "s", 2, false))
			if run.GetStatus() != tc.want {
				t.Fatalf("run %v, want %v", run.GetStatus(), tc.want)
			}
		})
	}
}

func TestControlRetrySkipPauseResume(t *testing.T) {
	r := newRunFSM(t)
	r.ok("op", failoverRun("r1",
		&kirikaev1.StepState{Id: "a", Spec: spec("aws.rds.stop", "us-west-2")},
		&kirikaev1.StepState{Id: "b", Spec: spec("aws.rds.stop", "us-west-2", "a")}))
	r.ok("srv", dispatched("r1", "a", 1))
	run := r.ok("srv", result("r1", "a", 1, false))
	if run.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_PAUSED {
		t.Fatalf("run %v after failure", run.GetStatus())
	}
	ctl := func(a kirikaev1.ControlAction, step string) *kirikaev1.CommandResult {
		return r.apply("op", &kirikaev1.Command{Payload: &kirikaev1.Command_Control{Control: &kirikaev1.ControlRequest{RunId: "r1", Action: a, StepId: step, Reason: "test"}}})
	}
	if res := ctl(kirikaev1.ControlAction_CONTROL_ACTION_RESUME, ""); !strings.Contains(res.GetError(), "retry or skip") {
		t.Fatalf("resume over a failed step: %q", res.GetError())
	}
	if res := ctl(kirikaev1.ControlAction_CONTROL_ACTION_RETRY, "a"); res.GetRun().GetStatus() != kirikaev1.RunStatus_RUN_STATUS_RUNNING {
		t.Fatalf("retry: %v %s", res.GetRun().GetStatus(), res.GetError())
	}
	if st := r.step("r1", "a"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_PENDING || st.GetAttempt() != 1 {
		t.Fatalf("retried step: %v attempt %d", st.GetStatus(), st.GetAttempt())
	}
	r.ok("srv", dispatched("r1", "a", 2))
	r.ok("srv", result("r1", "a", 2, true))
	ctl(kirikaev1.ControlAction_CONTROL_ACTION_PAUSE, "")
	if res := r.apply("srv", dispatched("r1", "b", 1)); !strings.Contains(res.GetError(), "paused") {
		t.Fatalf("dispatch while paused: %q", res.GetError())
	}
	ctl(kirikaev1.ControlAction_CONTROL_ACTION_RESUME, "")
	run = ctl(kirikaev1.ControlAction_CONTROL_ACTION_SKIP, "b").GetRun()
	if run.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED || findStep(run, "b").GetSkippedBy() == "" {
		t.Fatalf("after skip: %v", run.GetStatus())
	}
}

func TestPartialDrillSkipsMarkedStepsAndKeepsMode(t *testing.T) {
	r := newRunFSM(t)
	cmd := failoverRun("d1",
		&kirikaev1.StepState{Id: "build", Spec: spec("aws.rds.stop", "us-west-2")},
		&kirikaev1.StepState{Id: "dns", Spec: &kirikaev1.StepSpec{Action: "aws.route53.upsertAlias", Region: "us-west-2", DrillSkip: true}})
	cmd.GetCreateRun().Drill = kirikaev1.DrillKind_DRILL_KIND_PARTIAL
	r.ok("op", cmd)
	// The skip waits for the step's needs: dns needs nothing here, so it is skipped at once.
	if st := r.step("d1", "dns"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_SKIPPED || st.GetSkippedBy() != "drill" {
		t.Fatalf("dns step in partial drill: %v", st.GetStatus())
	}
	if st, _, _ := r.f.Region(); st.GetMode() != kirikaev1.Mode_MODE_NORMAL {
		t.Fatalf("partial drill changed the mode: %v", st.GetMode())
	}
}

func TestResultAfterAbortIsRecordedWithoutPolicy(t *testing.T) {
	r := newRunFSM(t)
	sp := spec("aws.rds.stop", "us-west-2")
	sp.Retries = 3
	r.ok("op", failoverRun("r1", &kirikaev1.StepState{Id: "a", Spec: sp}))
	r.ok("srv", dispatched("r1", "a", 1))
	r.ok("op", &kirikaev1.Command{Payload: &kirikaev1.Command_Control{Control: &kirikaev1.ControlRequest{RunId: "r1", Action: kirikaev1.ControlAction_CONTROL_ACTION_ABORT, Reason: "x"}}})
	run := r.ok("srv", result("r1", "a", 1, false))
	if run.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_ABORTED {
		t.Fatalf("run %v", run.GetStatus())
	}
	if st := findStep(run, "a"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_FAILED || st.GetFinishedUnixNano() == 0 {
		t.Fatalf("step after a late result: %v (no retry may start for an aborted run)", st.GetStatus())
	}
}

// TestFailureOutputsAreKeptApart: what a failed attempt learned is kept, apart from the
// outputs later steps read, and a success clears it.
func TestFailureOutputsAreKeptApart(t *testing.T) {
	r := newRunFSM(t)
	sp := spec("aws.rds.restoreSnapshot", "us-west-2")
	sp.Retries = 1
	r.ok("op", failoverRun("r1", &kirikaev1.StepState{Id: "s", Spec: sp}))
	r.ok("srv", dispatched("r1", "s", 1))
	r.ok("srv", result("r1", "s", 1, false))
	if st := r.step("r1", "s"); st.GetFailureOutputsJson() != `{"x":1}` || st.GetOutputsJson() != "" {
		t.Fatalf("after a failure: outputs %q, failure outputs %q", st.GetOutputsJson(), st.GetFailureOutputsJson())
	}
	r.ok("srv", dispatched("r1", "s", 2))
	r.ok("srv", result("r1", "s", 2, true))
	if st := r.step("r1", "s"); st.GetFailureOutputsJson() != "" || st.GetOutputsJson() != `{"x":1}` {
		t.Fatalf("after a success: outputs %q, failure outputs %q", st.GetOutputsJson(), st.GetFailureOutputsJson())
	}
}
