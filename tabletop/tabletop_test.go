package tabletop_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/deploy"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/tabletop"
)

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestTabletopKaigoFailover runs the bundled failover plan on the kaigo fixture: it
// finishes, predicts an RTO in a band around the plan's critical path, flags the RPO gap
// (the seed copies snapshots daily yet promises 1 h), and applies the live readiness's
// snapshot age to its world.
func TestTabletopKaigoFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("a tabletop runs the whole plan against awssim")
	}
	src, err := deploy.Plan("kaigo-failover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := plan.Parse("kaigo-failover.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	_, critical := pl.CriticalPath()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// The live DR agent saw a 30-hour-old copy an hour ago: the tabletop's restore should
	// find a copy about 31 hours old, not the fixture's.
	checked := time.Now().Add(-time.Hour)
	live := []*kirikaev1.ReadinessReport{{AgentId: "us-west-2/live", Region: "us-west-2", ReportedUnixNano: checked.UnixNano(),
		Checks: []*kirikaev1.ReadinessCheck{{Name: "rds.snapshot-copy-age", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL,
			Observed: "30h0m0s", Detail: "newest snapshot copy is 30h old > RPO 1h", CheckedUnixNano: checked.UnixNano()}}}}
	var progress bytes.Buffer
	res, err := tabletop.Run(ctx, tabletop.Options{PlanSource: src, PlanFile: "kaigo-failover.yaml", Participants: []string{"alice", "bob"},
		TimeScale: 0.002, Progress: &progress, Readiness: live,
		Logger: slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	t.Log(progress.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		t.Log(f)
	}
	run := res.Run
	if run.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED || run.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_TABLETOP {
		t.Fatalf("run %s %s, drill %s: %s", run.GetId(), run.GetStatus(), run.GetDrill(), run.GetError())
	}
	if res.CriticalPathDuration != critical {
		t.Errorf("critical path %s, the plan's is %s", res.CriticalPathDuration, critical)
	}
	// The simulated AWS work alone on the path (restore 45m, ECS 10m, targets 2m, DNS 1m)
	// and the participants' expected times bound the prediction from below; step overheads
	// at the time scale, from above. Both sit around the plan's critical path.
	if lo, hi := critical/2, critical*3/2; res.PredictedRTO < lo || res.PredictedRTO > hi {
		t.Errorf("predicted RTO %s outside [%s, %s] around the critical path %s", res.PredictedRTO, lo, hi, critical)
	}
	if got := time.Duration(run.GetFinishedUnixNano() - run.GetCreatedUnixNano()); got != res.PredictedRTO {
		t.Errorf("run spans %s in predicted time, predicted RTO %s", got, res.PredictedRTO)
	}
	if !res.HasKind(tabletop.FindingRPOGap) || !res.RPO.Gap() {
		t.Errorf("no RPO gap among the findings %v (rpo %+v)", res.Findings, res.RPO)
	}
	if res.RPO.Window < 30*time.Hour || res.RPO.Window > 32*time.Hour {
		t.Errorf("data-loss window %s, want about 31h: the live readiness's age was not applied", res.RPO.Window)
	}
	applied := false
	for _, a := range res.Adjustments {
		if a.What == "rds.snapshot-copy-age" && a.Region == "us-west-2" && strings.Contains(a.Applied, "old") {
			applied = true
		}
	}
	if !applied {
		t.Errorf("adjustments %v lack the snapshot copy age", res.Adjustments)
	}
	if run.GetEpochBefore() != 0 || run.GetEpochAfter() != 0 {
		t.Errorf("the isolated world's epochs leaked into the result: %d -> %d", run.GetEpochBefore(), run.GetEpochAfter())
	}
	if len(run.GetReadinessStart()) != 1 || run.GetReadinessStart()[0].GetAgentId() != "us-west-2/live" {
		t.Errorf("readiness at start should be the live one it was built from: %v", run.GetReadinessStart())
	}
	approvers := map[string]bool{}
	for _, e := range res.Audit {
		if e.GetMethod() == "run.approve" {
			approvers[e.GetActor()] = true
		}
	}
	if len(approvers) < 3 {
		t.Errorf("audit for the run names approvers %v, want the simulated sysadmin, manager and executive", approvers)
	}
	if !strings.Contains(strings.Join(run.GetParticipants(), ","), "alice") {
		t.Errorf("participants %v lack alice", run.GetParticipants())
	}
}

// TestTabletopGuardRailRefusal lets the restore's guard rail refuse (ALLOW_DATA_LOSS=false):
// the refusal is a finding, the step is skipped, and the rest of the plan still runs.
func TestTabletopGuardRailRefusal(t *testing.T) {
	if testing.Short() {
		t.Skip("a tabletop runs the whole plan against awssim")
	}
	src, err := deploy.Plan("kaigo-failover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	res, err := tabletop.Run(ctx, tabletop.Options{PlanSource: src, PlanFile: "kaigo-failover.yaml",
		Params: map[string]string{"ALLOW_DATA_LOSS": "false"}, TimeScale: 0.002, Progress: &progress})
	t.Log(progress.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		t.Log(f)
	}
	if !res.HasKind(tabletop.FindingGuardRail) || !res.HasKind(tabletop.FindingRPOGap) {
		t.Fatalf("findings %v: want the guard-rail refusal and the RPO gap", res.Findings)
	}
	steps := map[string]kirikaev1.StepStatus{}
	for _, st := range res.Run.GetSteps() {
		steps[st.GetId()] = st.GetStatus()
	}
	if steps["restore-rds"] != kirikaev1.StepStatus_STEP_STATUS_SKIPPED {
		t.Errorf("restore-rds %s, want skipped after its refusal", steps["restore-rds"])
	}
	// verify-data's checklist reads the restore's outputs: with the restore skipped its
	// inputs do not resolve, and the control plane fails it rather than wait for ever.
	if steps["verify-data"] != kirikaev1.StepStatus_STEP_STATUS_SKIPPED ||
		!slices.ContainsFunc(res.Findings, func(f tabletop.Finding) bool { return strings.Contains(f.String(), "verify-data") }) {
		t.Errorf("verify-data %s, findings %v: want it failed on its inputs, reported and skipped", steps["verify-data"], res.Findings)
	}
	if steps["incident-report"] != kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED {
		t.Errorf("the last step is %s: the rest of the plan was not exercised", steps["incident-report"])
	}
}

// TestTabletopPlanErrors refuses a plan with a bad reference, naming its line, before any
// world is started.
func TestTabletopPlanErrors(t *testing.T) {
	src, err := deploy.Plan("kaigo-failover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, old, new string
		kind           tabletop.FindingKind
	}{
		{"bad reference", "${steps.restore-rds.outputs.endpoint}", "${steps.restore-db.outputs.endpoint}", tabletop.FindingBadReference},
		{"missing input", "      secretId: \"${system.secondary.secrets.db}\"\n", "", tabletop.FindingMissingInput},
		{"missing param", "SMOKE_USER: {default: dr-smoke, ", "SMOKE_USER: {", tabletop.FindingMissingInput},
		{"system path", "${system.secondary.loadBalancer.name}", "${system.secondary.loadBalancer.nmae}", tabletop.FindingBadReference},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(src), tc.old, tc.new, 1)
			if bad == string(src) {
				t.Fatalf("%q not in the plan", tc.old)
			}
			// The line of the changed text, counted in the bad plan.
			want := strings.Count(bad[:strings.Index(string(src), tc.old)], "\n") + 1
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := tabletop.Run(ctx, tabletop.Options{PlanSource: []byte(bad), PlanFile: "bad.yaml"})
			if !errors.Is(err, tabletop.ErrPlan) {
				t.Fatalf("err %v, want ErrPlan", err)
			}
			found := false
			for _, f := range res.Findings {
				t.Log(f)
				if f.Kind == tc.kind && f.Line > 0 && f.Line <= want && want-f.Line <= 12 {
					found = true
				}
			}
			if !found {
				t.Errorf("findings %v: want a %s near line %d", res.Findings, tc.kind, want)
			}
			if res.Run != nil {
				t.Error("a plan that cannot run produced a run")
			}
		})
	}
}

// TestTabletopFindsTheSeedsMistakes: the seed's failover transcribed literally keeps the
// runbook's three mistakes. The tabletop's evaluation (the one that refuses a real
// declaration) reports each, with its step and the line of the input: the alias zone
// Z1BKCTXD74EZPE, the task definition kaigo-subsys-dr:latest, and the ConfigurationEndpoint
// a cluster-mode-disabled group does not have. The run then meets them for real in the
// isolated world.
func TestTabletopFindsTheSeedsMistakes(t *testing.T) {
	if testing.Short() {
		t.Skip("a tabletop runs the whole plan against awssim")
	}
	src, err := os.ReadFile("../plan/testdata/seed/kaigo-failover-literal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	res, err := tabletop.Run(ctx, tabletop.Options{PlanSource: src, PlanFile: "kaigo-failover-literal.yaml", TimeScale: 0.002, Progress: &progress})
	t.Log(progress.String())
	if err != nil {
		t.Fatal(err)
	}
	line := func(text string) int {
		for i, l := range strings.Split(string(src), "\n") {
			if strings.Contains(l, text) {
				return i + 1
			}
		}
		t.Fatalf("no line holds %q", text)
		return 0
	}
	want := []struct {
		step, code string
		line       int
	}{
		{"put-redis-secret", "output-absent", line("configurationEndpoint.address")},
		{"update-service", "task-definition-unpinned", line(`taskDefinition: "kaigo-subsys-dr:latest"`)},
		{"switch-dns", "alias-zone-mismatch", line("targetHostedZoneId: Z1BKCTXD74EZPE")},
	}
	for _, w := range want {
		found := slices.ContainsFunc(res.Findings, func(f tabletop.Finding) bool {
			return f.Kind == tabletop.FindingEvaluation && f.Step == w.step && f.Code == w.code && f.Line == w.line
		})
		if !found {
			t.Errorf("no %s finding on step %s at line %d", w.code, w.step, w.line)
		}
	}
	for _, f := range res.Findings {
		t.Log(f)
	}
	if !slices.ContainsFunc(res.Adjustments, func(a tabletop.Adjustment) bool { return a.What == "system file" }) {
		t.Errorf("the tabletop used the bundled system without saying so: %v", res.Adjustments)
	}
}
