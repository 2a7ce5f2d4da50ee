package simworld_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/awssim"
	"github.com/kirikae/kirikae/catalog"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/iampolicy"
	"github.com/kirikae/kirikae/simworld"
)

// TestPlanEvaluationReportsWhatThePolicyLacks: with the bundled policies enforced, but the
// secondary's without the statement that grants rds:RestoreDBInstanceFromDBSnapshot, the
// failover's evaluation reports exactly the RDS restore, as iam-denied naming that action
// (issue 14); the agents' own IAM checks run under that policy (iam:SimulatePrincipalPolicy).
func TestPlanEvaluationReportsWhatThePolicyLacks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a simulated world")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sys := parseSystem(t, kaigoSystemFile)
	primary, dr := sys.Regions[0].Name, sys.Regions[1].Name
	const lacking = "RdsRestoreDBInstanceFromDBSnapshot"
	policy := func(region, without string) *iampolicy.Policy {
		p, err := iampolicy.Parse(readFile(t, "../deploy/iam/kaigo-"+region+".json"))
		if err != nil {
			t.Fatal(err)
		}
		n := len(p.Statement)
		p.Statement = slices.DeleteFunc(p.Statement, func(s iampolicy.Statement) bool { return s.Sid == without })
		if without != "" && len(p.Statement) != n-1 {
			t.Fatalf("the %s policy has no statement %s", region, without)
		}
		return p
	}
	setup := func(s *awssim.Sim) error {
		keys := s.Credentials()
		s.SetIAM(iampolicy.NewAssignment(map[string][]*iampolicy.Policy{
			keys[0].AccessKeyID: {policy(primary, "")},
			keys[1].AccessKeyID: {policy(dr, lacking)},
		}))
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
	app := "http://" + w.Sim().Addr() + "/_app/dns/" + sys.DNS.Record
	check := kirikaev1.NewPlanCheckServiceClient(w.Conn(w.Operator("sysadmin")))
	ev, err := check.EvaluatePlan(ctx, &kirikaev1.EvaluatePlanRequest{PlanSource: readFile(t, "../deploy/plans/kaigo-failover.yaml"),
		PlanFile: "deploy/plans/kaigo-failover.yaml", Params: map[string]string{"APP_URL": app, "ALLOW_DATA_LOSS": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	var denied []*kirikaev1.PlanFinding
	for _, f := range ev.GetEvaluation().GetFindings() {
		t.Logf("finding: step %s %s %s: %s; fix: %s", f.GetStepId(), f.GetRegion(), f.GetCode(), f.GetProblem(), f.GetFix())
		if f.GetCode() != catalog.FindingIAMDenied {
			t.Errorf("finding %s on step %s: want only %s", f.GetCode(), f.GetStepId(), catalog.FindingIAMDenied)
			continue
		}
		denied = append(denied, f)
	}
	if len(denied) != 1 || denied[0].GetStepId() != "restore-rds" || denied[0].GetRegion() != dr ||
		!strings.Contains(denied[0].GetProblem(), "rds:RestoreDBInstanceFromDBSnapshot") ||
		!strings.Contains(denied[0].GetFix(), `"Action":"rds:RestoreDBInstanceFromDBSnapshot"`) {
		t.Errorf("want one %s finding on restore-rds in %s naming rds:RestoreDBInstanceFromDBSnapshot and the statement to add, got %v",
			catalog.FindingIAMDenied, dr, denied)
	}
}
