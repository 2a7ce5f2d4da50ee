package runs_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/runs"
)

// TestEvaluationPreparesEachRegionsSteps: the bundled failover, evaluated against the seed
// system, hands the DR agent every step it will run with the inputs resolved from the
// system file, and leaves out only what waits on earlier steps or on a param not given.
func TestEvaluationPreparesEachRegionsSteps(t *testing.T) {
	sys := storedSystem(t, "kaigo.yaml", func(s string) string { return s })
	ev, err := (&runs.Planner{}).PrepareEvaluation("kaigo-failover.yaml", load(t, "kaigo-failover.yaml"), nil, pair, sys, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Static) != 0 {
		t.Errorf("static findings on the bundled plan: %v", ev.Static)
	}
	if len(ev.ByRegion["us-east-1"]) != 0 || len(ev.ByRegion["us-west-2"]) == 0 {
		t.Fatalf("steps by region: %v", ev.ByRegion)
	}
	steps := map[string]*kirikaev1.CheckStep{}
	for _, cs := range ev.ByRegion["us-west-2"] {
		steps[cs.GetStepId()] = cs
	}
	var dns map[string]any
	if err := json.Unmarshal([]byte(steps["switch-dns"].GetWithJson()), &dns); err != nil {
		t.Fatal(err)
	}
	if dns["hostedZone"] != "kaigo-subsys.example.com" || dns["targetLoadBalancer"] != "kaigo-subsys-dr-alb" {
		t.Errorf("switch-dns inputs %v, want the zone and ALB by the system's names", dns)
	}
	if rds := steps["restore-rds"]; !slices.Equal(rds.GetUnresolved(), []string{"securityGroups"}) || !strings.Contains(rds.GetWithJson(), `"maxAge":"1h"`) {
		t.Errorf("restore-rds: unresolved %v, with %s", rds.GetUnresolved(), rds.GetWithJson())
	}
	if h := steps["check-health"]; !slices.Equal(h.GetUnresolved(), []string{"url"}) {
		t.Errorf("check-health without APP_URL: unresolved %v, want [url]", h.GetUnresolved())
	}
}

// TestEvaluationFindsAnOutputTheStepWillNotHave: the seed's ConfigurationEndpoint.Address,
// read from a group created with cluster mode disabled, is found before the run, on the
// line that reads it.
func TestEvaluationFindsAnOutputTheStepWillNotHave(t *testing.T) {
	src, err := os.ReadFile("../plan/testdata/seed/kaigo-failover-literal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := (&runs.Planner{}).PrepareEvaluation("literal.yaml", src, nil, pair, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Static) != 1 {
		t.Fatalf("static findings %v, want the one output-absent", ev.Static)
	}
	f := ev.Static[0]
	if f.GetStepId() != "put-redis-secret" || f.GetCode() != runs.FindingOutputAbsent || int(f.GetLine()) != lineOf(t, src, "configurationEndpoint.address") ||
		f.GetInput() != "json" || !strings.Contains(f.GetFix(), "${steps.create-cache.outputs.primaryEndpoint}") {
		t.Errorf("finding %+v", f)
	}
}

// TestEvaluationKeepsEachAgentToItsOwnSteps: a finding is placed on its step's input line
// and region; a report that names a step of another region, or one it was not asked about,
// is dropped, so one region's agent cannot put findings on another's steps.
func TestEvaluationKeepsEachAgentToItsOwnSteps(t *testing.T) {
	sys := storedSystem(t, "kaigo.yaml", func(s string) string { return s })
	src := load(t, "kaigo-cutback.yaml")
	ev, err := (&runs.Planner{}).PrepareEvaluation("kaigo-cutback.yaml", src, nil, pair, sys, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	mk := func(step, input string) *kirikaev1.PlanFinding {
		return &kirikaev1.PlanFinding{StepId: step, Input: input, Code: "missing-resource", Problem: "p", Fix: "f"}
	}
	reports := map[string]*kirikaev1.CheckReport{
		// switch-dns-back runs in us-east-1; the us-west-2 agent may not speak for it.
		"us-west-2": {Findings: []*kirikaev1.PlanFinding{mk("switch-dns-back", "targetLoadBalancer"), mk("snapshot-dr", "instanceId"), mk("no-such-step", "")}},
		"us-east-1": {Findings: []*kirikaev1.PlanFinding{mk("switch-dns-back", "targetLoadBalancer")}},
	}
	out := ev.Finish(reports, nil, time.Now())
	var got []string
	for _, f := range out.GetFindings() {
		got = append(got, f.GetStepId()+"@"+f.GetRegion())
	}
	if !slices.Equal(got, []string{"snapshot-dr@us-west-2", "switch-dns-back@us-east-1"}) {
		t.Fatalf("findings %v", got)
	}
	if l := out.GetFindings()[1].GetLine(); l != int32(lineOf(t, src, "targetLoadBalancer:")) {
		t.Errorf("switch-dns-back finding on line %d, want the line of targetLoadBalancer", l)
	}
	// A region that did not answer leaves its steps unchecked, by name.
	out = ev.Finish(map[string]*kirikaev1.CheckReport{"us-west-2": {}}, []*kirikaev1.UncheckedRegion{{Region: "us-east-1", Reason: "no connected agent"}}, time.Now())
	if int(out.GetStepsChecked()) >= len(ev.Plan.Steps) || len(out.GetUnchecked()) != 1 {
		t.Errorf("steps checked %d of %d, unchecked %v", out.GetStepsChecked(), len(ev.Plan.Steps), out.GetUnchecked())
	}
}

func lineOf(t *testing.T, src []byte, text string) int {
	t.Helper()
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, text) {
			return i + 1
		}
	}
	t.Fatalf("no line holds %q", text)
	return 0
}

// BenchmarkPrepareEvaluation: what the control plane does for a plan check or a declaration
// before it asks the agents: parse, resolve every step's inputs against the system, split
// them by region, find absent outputs.
func BenchmarkPrepareEvaluation(b *testing.B) {
	src, err := os.ReadFile("../deploy/plans/kaigo-failover.yaml")
	if err != nil {
		b.Fatal(err)
	}
	t := &testing.T{}
	sys := storedSystem(t, "kaigo.yaml", func(s string) string { return s })
	p := &runs.Planner{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.PrepareEvaluation("kaigo-failover.yaml", src, map[string]string{"APP_URL": "https://app.example"}, pair, sys, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
