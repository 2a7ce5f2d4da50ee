package controlplane

import (
	"testing"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

func undoResult(run, step string, attempt uint32, ok bool, undo ...*kirikaev1.UndoStep) *kirikaev1.Command {
	c := result(run, step, attempt, ok)
	c.GetStepResult().Undo = undo
	return c
}

// TestPartialDrillKeepsUndoAndLinksOneTeardown: undo steps survive a failed attempt (the
// retry adopts what the first attempt created), the DNS step is skipped, the region never
// moves, and a drill gets exactly one teardown run.
func TestPartialDrillKeepsUndoAndLinksOneTeardown(t *testing.T) {
	r := newRunFSM(t)
	dns := spec("aws.route53.upsertAlias", "us-west-2", "restore")
	dns.DrillSkip = true
	restore := spec("aws.rds.restoreSnapshot", "us-west-2")
	restore.Retries = 1
	create := failoverRun("d1", &kirikaev1.StepState{Id: "restore", Spec: restore}, &kirikaev1.StepState{Id: "dns", Spec: dns})
	create.GetCreateRun().Drill = kirikaev1.DrillKind_DRILL_KIND_PARTIAL
	run := r.ok("op", create)
	// The drill-skip step waits for what it needs, so it never opens its dependents early.
	if st := findStep(run, "dns"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_PENDING || !st.GetSkipRequested() {
		t.Fatalf("the drill-skip step at the start is %s (skip requested %v), want pending until restore completes", st.GetStatus(), st.GetSkipRequested())
	}
	del := &kirikaev1.UndoStep{Action: "aws.rds.deleteRestored", WithJson: `{"instanceId":"dr"}`}
	r.ok("srv", dispatched("d1", "restore", 1))
	r.ok("srv", undoResult("d1", "restore", 1, false, del)) // created, then the wait failed
	r.ok("srv", dispatched("d1", "restore", 2))
	run = r.ok("srv", undoResult("d1", "restore", 2, true)) // adopted: reports no undo itself
	if run.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED || findStep(run, "dns").GetStatus() != kirikaev1.StepStatus_STEP_STATUS_SKIPPED {
		t.Fatalf("drill %s, dns %s", run.GetStatus(), findStep(run, "dns").GetStatus())
	}
	if u := findStep(run, "restore").GetUndo(); len(u) != 1 || u[0].GetAction() != "aws.rds.deleteRestored" {
		t.Fatalf("undo after the retry: %v", u)
	}
	if st, _, _ := r.f.Region(); st.GetActive() != "us-east-1" || st.GetEpoch() != 1 || st.GetMode() != kirikaev1.Mode_MODE_NORMAL {
		t.Fatalf("a partial drill moved the region: %v", st)
	}

	teardown := func(id, parent string) *kirikaev1.Command {
		return &kirikaev1.Command{Payload: &kirikaev1.Command_CreateRun{CreateRun: &kirikaev1.Run{Id: id, Kind: kirikaev1.RunKind_RUN_KIND_TEARDOWN,
			Drill: kirikaev1.DrillKind_DRILL_KIND_PARTIAL, ParentRunId: parent, PlanName: "t",
			Steps: []*kirikaev1.StepState{{Id: "undo-restore", Spec: spec("aws.rds.deleteRestored", "us-west-2")}}}}}
	}
	if res := r.apply("srv", teardown("t0", "nope")); res.GetCode() != kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND {
		t.Fatalf("teardown of a missing drill: %v", res)
	}
	r.ok("srv", teardown("teardown-d1", "d1"))
	if got := r.f.Run("d1").GetTeardownRunId(); got != "teardown-d1" {
		t.Fatalf("drill teardown link %q", got)
	}
	if res := r.apply("srv", teardown("teardown-d1", "d1")); res.GetCode() != kirikaev1.ErrorCode_ERROR_CODE_ALREADY_EXISTS {
		t.Fatalf("the same teardown again: %v", res)
	}
	if res := r.apply("srv", teardown("t2", "d1")); res.GetCode() != kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION {
		t.Fatalf("second teardown: %v", res)
	}
	r.ok("op", &kirikaev1.Command{Payload: &kirikaev1.Command_Control{Control: &kirikaev1.ControlRequest{RunId: "teardown-d1", Action: kirikaev1.ControlAction_CONTROL_ACTION_ABORT, Reason: "test"}}})
	r.ok("op", failoverRun("f1", &kirikaev1.StepState{Id: "a", Spec: spec("aws.rds.restoreSnapshot", "us-west-2")}))
	if res := r.apply("srv", teardown("t3", "f1")); res.GetCode() != kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION {
		t.Fatalf("teardown of a real failover nobody asked to undo: %v", res)
	}
}

func TestRecordTabletopRefusals(t *testing.T) {
	r := newRunFSM(t)
	rec := func(run *kirikaev1.Run) *kirikaev1.CommandResult {
		return r.apply("op", &kirikaev1.Command{Payload: &kirikaev1.Command_RecordTabletop{RecordTabletop: run}})
	}
	done := []*kirikaev1.StepState{{Id: "a", Status: kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED}}
	for name, run := range map[string]*kirikaev1.Run{
		"not a tabletop": {Id: "x1", Drill: kirikaev1.DrillKind_DRILL_KIND_FULL, Status: kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED, Steps: done},
		"still running":  {Id: "x2", Drill: kirikaev1.DrillKind_DRILL_KIND_TABLETOP, Status: kirikaev1.RunStatus_RUN_STATUS_RUNNING, Steps: done},
		"no status":      {Id: "x3", Drill: kirikaev1.DrillKind_DRILL_KIND_TABLETOP, Steps: done},
		"pending step": {Id: "x4", Drill: kirikaev1.DrillKind_DRILL_KIND_TABLETOP, Status: kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED,
			Steps: []*kirikaev1.StepState{{Id: "a", Status: kirikaev1.StepStatus_STEP_STATUS_PENDING}}},
	} {
		if res := rec(run); res.GetCode() != kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT {
			t.Errorf("%s: %v", name, res)
		}
	}
	before, _, _ := r.f.Region()
	got := rec(&kirikaev1.Run{Id: "tt", Drill: kirikaev1.DrillKind_DRILL_KIND_TABLETOP, Status: kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED, Steps: done, EpochAfter: 7})
	if got.GetError() != "" || got.GetRun().GetEpochAfter() != before.GetEpoch() {
		t.Fatalf("record: %v", got)
	}
	if after, _, _ := r.f.Region(); after.GetEpoch() != before.GetEpoch() || after.GetActive() != before.GetActive() || after.GetMode() != before.GetMode() {
		t.Fatalf("recording a tabletop changed the region: %v -> %v", before, after)
	}
}

// TestFailuresNoRetryCanCure: a checklist whose inputs do not resolve fails although it
// never started (it used to be left pending for ever), and a permanent agent failure is not
// retried whatever the step's retries.
func TestFailuresNoRetryCanCure(t *testing.T) {
	r := newRunFSM(t)
	check := spec("checklist", "control-plane")
	check.Retries = 3
	build := spec("aws.rds.restoreSnapshot", "us-west-2")
	build.Retries = 3
	r.ok("op", failoverRun("r1", &kirikaev1.StepState{Id: "verify", Spec: check}, &kirikaev1.StepState{Id: "build", Spec: build}))
	run := r.ok("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{
		RunId: "r1", StepId: "verify", Attempt: 1, Ok: false, Permanent: true, Error: "resolve inputs: steps.restore-rds.outputs.endpoint: skipped"}}})
	if st := findStep(run, "verify"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_FAILED || st.GetAttempt() != 1 {
		t.Fatalf("checklist that never started: %s, attempt %d", st.GetStatus(), st.GetAttempt())
	}
	if run.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_PAUSED {
		t.Fatalf("run %s, want paused (on failure: pause)", run.GetStatus())
	}
	r3 := newRunFSM(t)
	r3.ok("op", failoverRun("r3", &kirikaev1.StepState{Id: "build", Spec: build}))
	r3.ok("srv", dispatched("r3", "build", 1))
	res := result("r3", "build", 1, false)
	res.GetStepResult().Permanent = true
	run = r3.ok("srv", res)
	if st := findStep(run, "build"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_FAILED {
		t.Fatalf("a permanent failure with 3 retries left is %s, want failed", st.GetStatus())
	}
	// The same failure, not permanent, is retried.
	r2 := newRunFSM(t)
	r2.ok("op", failoverRun("r2", &kirikaev1.StepState{Id: "build", Spec: build}))
	r2.ok("srv", dispatched("r2", "build", 1))
	if st := findStep(r2.ok("srv", result("r2", "build", 1, false)), "build"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT {
		t.Fatalf("a transient failure is %s, want retry-wait", st.GetStatus())
	}
}

// TestUndoFromProgress: undo steps sent in a progress message are kept, so a step whose
// agent dies before its result still has them for the teardown.
func TestUndoFromProgress(t *testing.T) {
	r := newRunFSM(t)
	r.ok("op", failoverRun("r1", &kirikaev1.StepState{Id: "restore", Spec: spec("aws.rds.restoreSnapshot", "us-west-2")}))
	r.ok("srv", dispatched("r1", "restore", 1))
	del := &kirikaev1.UndoStep{Action: "aws.rds.deleteRestored", WithJson: `{"instanceId":"dr"}`}
	r.ok("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_StepProgress{StepProgress: &kirikaev1.StepProgress{
		RunId: "r1", StepId: "restore", Attempt: 1, Status: "recorded how to undo", Undo: []*kirikaev1.UndoStep{del}}}})
	// The agent dies; the step is failed by the control plane, with no undo of its own.
	run := r.ok("srv", result("r1", "restore", 1, false))
	if u := findStep(run, "restore").GetUndo(); len(u) != 1 || u[0].GetWithJson() != del.GetWithJson() {
		t.Fatalf("undo after a progress message and a failure without undo: %v", u)
	}
}
