package controlplane

import (
	"testing"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// TestDrillCutbackLinkedOnce: the cutback of a full-scale drill is linked to its failover,
// and a second one (a second leader, or an operator racing it) is refused.
func TestDrillCutbackLinkedOnce(t *testing.T) {
	r := newRunFSM(t)
	fo := failoverRun("failover-x", outageApproval(), &kirikaev1.StepState{Id: "activate", Spec: spec("region.activate", "control-plane", "approve")})
	fo.GetCreateRun().Drill = kirikaev1.DrillKind_DRILL_KIND_FULL
	fo.GetCreateRun().CutbackPlanSource = []byte("cutback plan")
	r.ok("op", fo)
	r.approveAll("failover-x", "approve")
	r.ok("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{RunId: "failover-x", StepId: "activate", Start: true}}})
	r.ok("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{RunId: "failover-x", StepId: "activate", Attempt: 1, Ok: true, ActivateRegion: "us-west-2"}}})
	cutback := func(id, parent string) *kirikaev1.Command {
		return &kirikaev1.Command{Payload: &kirikaev1.Command_CreateRun{CreateRun: &kirikaev1.Run{Id: id, Kind: kirikaev1.RunKind_RUN_KIND_CUTBACK,
			Drill: kirikaev1.DrillKind_DRILL_KIND_FULL, ParentRunId: parent, PlanName: "cb", FromRegion: "us-west-2", ToRegion: "us-east-1",
			Steps: []*kirikaev1.StepState{{Id: "activate", Spec: spec("region.activate", "control-plane")}}}}}
	}
	if res := r.apply("srv", cutback("c0", "nope")); res.GetCode() != kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND {
		t.Fatalf("cutback of a missing failover: %v", res)
	}
	r.ok("srv", cutback(drillCutbackRunID("failover-x"), "failover-x"))
	if got := r.f.Run("failover-x").GetCutbackRunId(); got != "cutback-x" {
		t.Fatalf("failover's cutback link %q", got)
	}
	if res := r.apply("op", cutback("c2", "failover-x")); res.GetCode() != kirikaev1.ErrorCode_ERROR_CODE_ALREADY_EXISTS {
		t.Fatalf("second cutback of one drill: %v", res)
	}
}
