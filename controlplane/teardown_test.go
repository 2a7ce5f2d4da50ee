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
	if findStep(run, "dns").GetStatus() != kirikaev1.StepStatus_STEP_STATUS_SKIPPED {
		t.Fatalf("the drill-skip step is %s", findStep(run, "dns").GetStatus())
	}
	del := &kirikaev1.UndoStep{Action: "aws.rds.deleteRestored", WithJson: `{"instanceId":"dr"}`}
	r.ok("srv", dispatched("d1", "restore", 1))
	r.ok("srv", undoResult("d1", "restore", 1, false, del)) // created, then the wait failed
	r.ok("srv", dispatched("d1", "restore", 2))
	run = r.ok("srv", undoResult("d1", "restore", 2, true)) // adopted: reports no undo itself
	if run.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
		t.Fatalf("drill %s", run.GetStatus())
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
	if res := r.apply("srv", teardown("t2", "d1")); res.GetCode() != kirikaev1.ErrorCode_ERROR_CODE_ALREADY_EXISTS {
		t.Fatalf("second teardown: %v", res)
	}
	r.ok("op", failoverRun("f1", &kirikaev1.StepState{Id: "a", Spec: spec("aws.rds.restoreSnapshot", "us-west-2")}))
	if res := r.apply("srv", teardown("t3", "f1")); res.GetCode() != kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION {
		t.Fatalf("teardown of a real failover: %v", res)
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
