package runs_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/runs"
)

func TestTeardownUndoesNewestFirstAndCompiles(t *testing.T) {
	drill := &kirikaev1.Run{Id: "failover-20261130-0300-abcdef", PlanName: "kaigo-failover", Drill: kirikaev1.DrillKind_DRILL_KIND_PARTIAL,
		Steps: []*kirikaev1.StepState{
			{Id: "verify-network", FinishedUnixNano: 100, Spec: &kirikaev1.StepSpec{Region: "us-west-2"}}, // read-only: no undo
			{Id: "create-cache", FinishedUnixNano: 200, Spec: &kirikaev1.StepSpec{Region: "us-west-2", Owner: "infrastructure"},
				Undo: []*kirikaev1.UndoStep{{Action: "aws.elasticache.deleteReplicationGroup", WithJson: `{"replicationGroupId":"kaigo-subsys-dr"}`,
					Note: "delete replication group kaigo-subsys-dr (created by this run)"}}},
			{Id: "update-service", FinishedUnixNano: 300, Spec: &kirikaev1.StepSpec{Region: "us-west-2", Owner: "application"},
				Undo: []*kirikaev1.UndoStep{
					{Action: "aws.ecs.updateService", WithJson: `{"cluster":"kaigo-subsys-dr","service":"svc","desiredCount":0,"wait":true}`},
					{Action: "aws.ecs.updateService", WithJson: `{"cluster":"kaigo-subsys-dr","service":"svc","desiredCount":1,"wait":false}`},
				}},
		}}
	p := &runs.Planner{}
	src, _, err := p.Teardown(drill)
	if err != nil {
		t.Fatal(err)
	}
	region := &kirikaev1.RegionState{Primary: "us-east-1", Secondary: "us-west-2", Active: "us-east-1"}
	run, err := p.Compile(src, nil, region, nil)
	if err != nil {
		t.Fatalf("the teardown plan does not compile: %v\n%s", err, src)
	}
	if run.GetKind() != kirikaev1.RunKind_RUN_KIND_TEARDOWN || run.GetPlanName() != "kaigo-failover-teardown" {
		t.Fatalf("kind %s, plan %s", run.GetKind(), run.GetPlanName())
	}
	var ids []string
	for _, st := range run.GetSteps() {
		ids = append(ids, st.GetId())
		if st.GetSpec().GetRegion() != "us-west-2" || st.GetSpec().GetPhase() != "teardown" {
			t.Errorf("step %s: region %s phase %s", st.GetId(), st.GetSpec().GetRegion(), st.GetSpec().GetPhase())
		}
	}
	// Newest change first, one after the other; within a step, its last undo first.
	want := []string{"undo-update-service", "undo-update-service-2", "undo-create-cache"}
	if !slices.Equal(ids, want) {
		t.Fatalf("steps %v, want %v\n%s", ids, want, src)
	}
	if n := run.GetSteps()[1].GetSpec().GetNeeds(); !slices.Equal(n, []string{"undo-update-service"}) {
		t.Errorf("second step needs %v", n)
	}
	if !strings.Contains(run.GetSteps()[1].GetSpec().GetWithJson(), `"desiredCount":0`) {
		t.Errorf("the first undo of update-service runs second: %s", run.GetSteps()[1].GetSpec().GetWithJson())
	}
	if run.GetSteps()[2].GetSpec().GetName() != "delete replication group kaigo-subsys-dr (created by this run)" || run.GetSteps()[2].GetSpec().GetOwner() != "infrastructure" {
		t.Errorf("cache step: %+v", run.GetSteps()[2].GetSpec())
	}
}

func TestTeardownOfNothing(t *testing.T) {
	drill := &kirikaev1.Run{Id: "r1", PlanName: "p", Steps: []*kirikaev1.StepState{{Id: "a", Spec: &kirikaev1.StepSpec{Region: "us-west-2"}}}}
	if _, _, err := (&runs.Planner{}).Teardown(drill); !errors.Is(err, runs.ErrNothingToUndo) {
		t.Fatalf("err = %v, want ErrNothingToUndo", err)
	}
	bad := &kirikaev1.Run{Id: "r2", PlanName: "p", Steps: []*kirikaev1.StepState{{Id: "a", Spec: &kirikaev1.StepSpec{Region: "us-west-2"},
		Undo: []*kirikaev1.UndoStep{{Action: "aws.ecs.updateService", WithJson: "{not json"}}}}}
	if _, _, err := (&runs.Planner{}).Teardown(bad); err == nil || !strings.Contains(err.Error(), "step a") {
		t.Fatalf("bad undo inputs: err = %v", err)
	}
}
