package simworld_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/awssim"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/iampolicy"
	"github.com/kirikae/kirikae/simworld"
)

// TestBundledIAMPoliciesRunTheFailoverAndCutback: with the committed deploy/iam policies
// enforced by awssim, each region's agent signing with its own access key and held to its
// own region's policy, the readiness checks, the plan evaluations and the bundled failover
// and cutback of the kaigo system run as they do without IAM: nothing is refused.
// (iampolicy/agentpolicy's TestEachStatementIsNeededByWhatItSays shows that every
// statement is needed.)
func TestBundledIAMPoliciesRunTheFailoverAndCutback(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a failover and a cutback against awssim")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sys := parseSystem(t, kaigoSystemFile)
	primary, dr := sys.Regions[0].Name, sys.Regions[1].Name
	policy := func(region string) *iampolicy.Policy {
		p, err := iampolicy.Parse(readFile(t, "../deploy/iam/kaigo-"+region+".json"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	var sim *awssim.Sim
	setup := func(s *awssim.Sim) error {
		keys := s.Credentials() // one per region's agent, the primary's first
		if len(keys) != 2 || keys[0].AccessKeyID == keys[1].AccessKeyID {
			t.Fatalf("the world's simulator issued %d keys, want one per region's agent", len(keys))
		}
		s.SetIAM(iampolicy.NewAssignment(map[string][]*iampolicy.Policy{
			keys[0].AccessKeyID: {policy(primary)},
			keys[1].AccessKeyID: {policy(dr)},
		}))
		sim = s
		return nil
	}
	logger := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	w, err := simworld.Start(ctx, simworld.Options{System: readFile(t, kaigoSystemFile), SystemFile: "deploy/systems/kaigo.yaml",
		Nodes: 1, TimeScale: 0.002, People: "iam", LoopbackOnly: true, Out: tWriter{t}, Logger: logger, Dir: t.TempDir(), Setup: setup})
	defer func() {
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	}()
	if err != nil {
		t.Fatal(err)
	}
	denied := func(when string) {
		t.Helper()
		for _, d := range sim.IAMDenials() {
			t.Errorf("%s: IAM refused %s %s on %s in %s (key %s)", when, d.Operation, d.Action, d.Resource, d.Region, d.AccessKey)
		}
	}

	// Readiness of both regions: no check fails for want of a permission.
	rd, err := kirikaev1.NewAgentAdminServiceClient(w.Conn(simworld.Admin)).GetReadiness(ctx, &kirikaev1.GetReadinessRequest{Refresh: true})
	if err != nil {
		t.Fatal(err)
	}
	checks := 0
	for _, r := range rd.GetRegions() {
		for _, rep := range r.GetReports() {
			for _, c := range rep.GetChecks() {
				checks++
				if strings.Contains(c.GetDetail(), "not authorized") {
					t.Errorf("readiness %s %s: %s", r.GetRegion(), c.GetName(), c.GetDetail())
				}
			}
		}
	}
	if checks < 30 {
		t.Errorf("%d readiness checks reported, want both regions' (%v)", checks, rd.GetRegions())
	}
	denied("readiness")

	// The failover: its evaluation at declare finds nothing the agents could not read.
	app := "http://" + w.Sim().Addr() + "/_app/dns/" + sys.DNS.Record
	if err := w.Sim().SetRegionDown(primary, awssim.DownRefuse); err != nil {
		t.Fatal(err)
	}
	w.Sim().OpenHealthEvent(awssim.HealthEvent{Region: primary})
	if err := w.WaitAgents(ctx, map[string]bool{primary: false, dr: true}); err != nil {
		t.Fatal(err)
	}
	runs := kirikaev1.NewRunServiceClient(w.Conn(w.Operator("sysadmin")))
	decl, err := runs.Declare(ctx, &kirikaev1.DeclareRequest{PlanSource: readFile(t, "../deploy/plans/kaigo-failover.yaml"),
		Params: map[string]string{"APP_URL": app, "ALLOW_DATA_LOSS": "true"}, Scenario: "region-outage",
		ExpectedOutageMs: (6 * time.Hour).Milliseconds(), Reason: "test: IAM", RequestId: "iam-declare"})
	if err != nil {
		t.Fatalf("declare: %v", err)
	}
	for _, f := range decl.GetRun().GetEvaluation().GetFindings() {
		t.Errorf("failover evaluation: step %s %s: %s", f.GetStepId(), f.GetCode(), f.GetProblem())
	}
	fo, err := w.Follow(ctx, decl.GetRun().GetId(), simworld.FollowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fo.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
		t.Fatalf("failover %s ended %s: %s", fo.GetId(), fo.GetStatus(), fo.GetError())
	}
	denied("failover")

	// The cutback, with its preflight before production is deleted.
	if err := w.Sim().SetRegionDown(primary, ""); err != nil {
		t.Fatal(err)
	}
	w.Sim().CloseHealthEvent(primary, "")
	if err := w.WaitAgents(ctx, map[string]bool{primary: true, dr: true}); err != nil {
		t.Fatal(err)
	}
	cut, err := runs.Cutback(ctx, &kirikaev1.CutbackRequest{PlanSource: readFile(t, "../deploy/plans/kaigo-cutback.yaml"),
		Params: map[string]string{"APP_URL": app}, Reason: "test: IAM", RequestId: "iam-cutback"})
	if err != nil {
		t.Fatalf("cutback: %v", err)
	}
	for _, f := range cut.GetRun().GetEvaluation().GetFindings() {
		t.Errorf("cutback evaluation: step %s %s: %s", f.GetStepId(), f.GetCode(), f.GetProblem())
	}
	cb, err := w.Follow(ctx, cut.GetRun().GetId(), simworld.FollowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cb.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
		t.Fatalf("cutback %s ended %s: %s", cb.GetId(), cb.GetStatus(), cb.GetError())
	}
	if got := w.Region().GetActive(); got != primary {
		t.Errorf("after the cutback the active region is %s, want %s", got, primary)
	}
	denied("cutback")
	if sim.IAM() == nil {
		t.Fatal("IAM was not enforced")
	}
}
