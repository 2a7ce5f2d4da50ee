package runs_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/runs"
)

var pair = &kirikaev1.RegionState{Primary: "us-east-1", Secondary: "us-west-2", Active: "us-east-1", Epoch: 1}

func load(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "deploy", "plans", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCompileBundledPlans(t *testing.T) {
	p := &runs.Planner{}
	sys := storedSystem(t, "kaigo.yaml", func(s string) string { return s })
	app := map[string]string{"APP_URL": "https://app.example"}
	for _, tc := range []struct {
		file   string
		kind   kirikaev1.RunKind
		params map[string]string
	}{
		{"kaigo-failover.yaml", kirikaev1.RunKind_RUN_KIND_FAILOVER, app},
		{"kaigo-cutback.yaml", kirikaev1.RunKind_RUN_KIND_CUTBACK, app},
		{"kaigo-rds-recovery.yaml", kirikaev1.RunKind_RUN_KIND_RECOVERY, app},
		{"kaigo-ecs-recovery.yaml", kirikaev1.RunKind_RUN_KIND_RECOVERY, app},
	} {
		t.Run(tc.file, func(t *testing.T) {
			run, err := p.Compile(load(t, tc.file), tc.params, pair, sys)
			if err != nil {
				t.Fatal(err)
			}
			if run.GetKind() != tc.kind || len(run.GetSteps()) == 0 {
				t.Fatalf("kind %v with %d steps", run.GetKind(), len(run.GetSteps()))
			}
			for _, st := range run.GetSteps() {
				sp := st.GetSpec()
				if sp.GetRegion() != "control-plane" && sp.GetRegion() != "us-east-1" && sp.GetRegion() != "us-west-2" {
					t.Errorf("step %s region %q not resolved", st.GetId(), sp.GetRegion())
				}
				if sp.GetAction() == "approval" && len(sp.GetRoles()) == 0 {
					t.Errorf("approval step %s has no roles", st.GetId())
				}
				// Items that read earlier outputs are resolved when the step starts.
				if sp.GetAction() == "checklist" && len(sp.GetItems()) == 0 && !strings.Contains(sp.GetWithJson(), "${steps.") {
					t.Errorf("checklist step %s has no items", st.GetId())
				}
			}
		})
	}
}

func TestCompileRefusesUnknownParam(t *testing.T) {
	sys := storedSystem(t, "kaigo.yaml", func(s string) string { return s })
	_, err := (&runs.Planner{}).Compile(load(t, "kaigo-failover.yaml"), map[string]string{"NO_SUCH": "x"}, pair, sys)
	if err == nil || !strings.Contains(err.Error(), "NO_SUCH") {
		t.Fatalf("unknown param: %v", err)
	}
}

func TestResolveReadsOutputsOfNeededSteps(t *testing.T) {
	p := &runs.Planner{}
	src := load(t, "kaigo-failover.yaml")
	sys := storedSystem(t, "kaigo.yaml", func(s string) string { return s })
	run, err := p.Compile(src, map[string]string{"APP_URL": "https://app.example"}, pair, sys)
	if err != nil {
		t.Fatal(err)
	}
	run.Id, run.PlanSource = "failover-test", src
	// Find a step whose inputs reference another step's outputs, and give that step outputs.
	for _, st := range run.GetSteps() {
		if !strings.Contains(st.GetSpec().GetWithJson(), "${steps.") {
			continue
		}
		if _, err := p.Resolve(run, st); err == nil {
			t.Fatalf("step %s resolved before its needs produced outputs", st.GetId())
		}
		for _, dep := range st.GetSpec().GetNeeds() {
			for _, other := range run.GetSteps() {
				if other.GetId() == dep {
					other.OutputsJson = `{"endpoint":"db.example","port":5432,"primaryEndpoint":"redis.example","taskDefinitionArn":"arn:aws:ecs:us-west-2:123456789012:task-definition/kaigo:1","loadBalancerDnsName":"alb.example","fileSystemId":"fs-1","snapshotArn":"arn:aws:rds:us-west-2:123456789012:snapshot:s","snapshotId":"s","approvers":["a"],"confirmedBy":["a"],"healthy":2,"targetGroupArn":"arn:x","changeId":"c","answer":"a","openEvents":0,"eventArns":[],"summary":"","vpcId":"vpc-1","subnetIds":[],"securityGroupIds":[],"routeTableIds":[],"versionId":"v","runningCount":2,"taskDefinition":"t","restoreJobId":"j","recoveryPointArn":"r","recoveryPointAgeSeconds":1,"snapshotTime":"t","snapshotAgeSeconds":1,"dataLossWindow":"1h","delivered":true}`
				}
			}
		}
		with, err := p.Resolve(run, st)
		if err != nil {
			t.Fatalf("step %s: %v", st.GetId(), err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(with), &m); err != nil || strings.Contains(with, "${") {
			t.Fatalf("step %s resolved to %s", st.GetId(), with)
		}
		return
	}
	t.Fatal("no step of the failover plan reads another step's outputs")
}
