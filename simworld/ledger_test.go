package simworld_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/awssim"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/simworld"
	"github.com/kirikae/kirikae/system"
	"github.com/kirikae/kirikae/tabletop"
)

// The ledger system (deploy/systems/example-eu.yaml) is the second system: another account
// and region pair, MySQL, no cache, two ECS services behind one load balancer. Its plans
// are deploy/plans/ledger-failover.yaml and ledger-cutback.yaml.
const (
	ledgerSystemFile = "../deploy/systems/example-eu.yaml"
	kaigoSystemFile  = "../deploy/systems/kaigo.yaml"
	ledgerFailover   = "../deploy/plans/ledger-failover.yaml"
	ledgerCutback    = "../deploy/plans/ledger-cutback.yaml"
)

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseSystem(t *testing.T, path string) *system.System {
	t.Helper()
	s, err := system.Parse(path, readFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ledgerImages are the images the failover's API_IMAGE and ADMIN_IMAGE params name: the
// system file names none, so the operator gives them when declaring.
func ledgerImages(sys *system.System) map[string]string {
	dr := sys.Role(system.Secondary)
	image := func(l string) string {
		return fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s:release-42", sys.Account, dr.Name, dr.ECS.Services[l].TaskFamily)
	}
	return map[string]string{"API_IMAGE": image("api"), "ADMIN_IMAGE": image("admin")}
}

// TestLedgerPlansReadTheLedgerSystem: both ledger plans resolve every ${system.…} against
// example-eu.yaml, read something from it, and hold no name, id, account or region of the
// ledger system themselves (in a param default or a step input); the kaigo system file is
// refused for them at exactly the paths kaigo has not (the admin service, the load
// balancer's security group by the logical name lb, the admin-sso secret).
func TestLedgerPlansReadTheLedgerSystem(t *testing.T) {
	ledger, kaigo := parseSystem(t, ledgerSystemFile), parseSystem(t, kaigoSystemFile)
	// Every name-like value of the ledger file, and the words the names are made of.
	var literals []string
	for _, p := range ledger.Paths() {
		v, err := ledger.Lookup(p)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(p, "objectives."), p == "description", p == "dns.type",
			strings.HasSuffix(p, ".desiredCount"), strings.HasSuffix(p, ".multiAZ"), strings.HasSuffix(p, ".engine"),
			strings.HasSuffix(p, ".instanceClass"):
			continue
		}
		literals = append(literals, v)
	}
	literals = append(literals, "ledger", "euw1", "euc1", "sg-", "vpc-", "fs-", "arn:aws:kms", "https://", "elb.amazonaws.com")
	for _, tc := range []struct {
		file      string
		kaigoBad  []string // paths the kaigo system has not
		readsFrom []string // paths the plan must read
	}{
		{ledgerFailover,
			[]string{"secondary.network.securityGroups.lb", "secondary.ecs.services.admin.taskFamily", "secondary.ecs.services.admin.name",
				"secondary.ecs.services.admin.desiredCount", "secondary.ecs.services.admin.targetGroup", "secondary.secrets.admin-sso"},
			[]string{"dns.zone", "secondary.loadBalancer.name", "objectives.rpo", "secondary.ecs.services.api.name", "secondary.ecs.services.admin.name"}},
		{ledgerCutback,
			[]string{"primary.network.securityGroups.lb", "primary.ecs.services.admin.targetGroup", "primary.ecs.services.admin.desiredCount",
				"secondary.ecs.services.admin.name"},
			[]string{"dns.zone", "primary.loadBalancer.name", "primary.database.kmsKey", "secondary.ecs.services.admin.name"}},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			p, err := plan.ParseFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.CheckSystem(ledger); err != nil {
				t.Errorf("against %s: %v", ledgerSystemFile, err)
			}
			read := map[string]bool{}
			for _, r := range p.SystemRefs() {
				read[r.Path] = true
			}
			for _, path := range tc.readsFrom {
				if !read[path] {
					t.Errorf("reads no ${system.%s}", path)
				}
			}
			// The kaigo file is refused where, and only where, it lacks a path.
			err = p.CheckSystem(kaigo)
			var ve *plan.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("against %s: %v, want a *plan.ValidationError", kaigoSystemFile, err)
			}
			bad := map[string]bool{}
			for _, fe := range ve.Errors {
				found := false
				for _, path := range tc.kaigoBad {
					if strings.Contains(fe.Msg, "${system."+path+"}") {
						bad[path], found = true, true
					}
				}
				if !found {
					t.Errorf("against %s, an unexpected problem: %s", kaigoSystemFile, fe)
				}
			}
			for _, path := range tc.kaigoBad {
				if !bad[path] {
					t.Errorf("against %s, ${system.%s} is not refused", kaigoSystemFile, path)
				}
			}

			var texts []string
			for _, pr := range p.Params {
				texts = append(texts, "param "+pr.Name+" = "+pr.Default)
				if pr.Name == "APP_URL" && pr.HasDefault {
					t.Errorf("APP_URL has a default (%q), but no URL is safe to assume", pr.Default)
				}
			}
			for _, s := range p.Steps {
				b, _ := json.Marshal(s.With)
				texts = append(texts, "step "+s.ID+" with "+string(b))
				if strings.HasPrefix(s.Action, "aws.elasticache.") {
					t.Errorf("step %s: %s, but the ledger has no cache", s.ID, s.Action)
				}
			}
			for _, text := range texts {
				var held []string
				for _, lit := range literals {
					if strings.Contains(text, lit) {
						held = append(held, lit)
					}
				}
				if len(held) > 0 {
					t.Errorf("%s: holds %q, which belong in the system file", text, held)
				}
			}
		})
	}
}

// TestLedgerWorld runs the ledger system end to end in one world: readiness of both
// regions, the failover plan's evaluation, the failover with the primary down, and the
// cutback once it is back, checked against what awssim was asked to change and where.
func TestLedgerWorld(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a failover and a cutback against awssim")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dir := t.TempDir()
	w, err := simworld.Start(ctx, simworld.Options{System: readFile(t, ledgerSystemFile), SystemFile: "deploy/systems/example-eu.yaml",
		Nodes: 1, TimeScale: 0.002, People: "ledger", LoopbackOnly: true, Out: tWriter{t}, Logger: logger, Dir: dir})
	defer func() {
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	}()
	if err != nil {
		t.Fatal(err)
	}
	sys := w.System()
	primary, dr := w.Regions()[0], w.Regions()[1]
	if sys.Name != "ledger" || primary != "eu-west-1" || dr != "eu-central-1" {
		t.Fatalf("world of %s in %s and %s, want the ledger in eu-west-1 and eu-central-1", sys.Name, primary, dr)
	}

	// 1. Readiness: every check of both regions passes but one, the age of the newest
	// snapshot copy in the DR region against the 15m RPO (the copies are daily).
	rd, err := kirikaev1.NewAgentAdminServiceClient(w.Conn(simworld.Admin)).GetReadiness(ctx, &kirikaev1.GetReadinessRequest{Refresh: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rd.GetUnanswered()) != 0 {
		t.Errorf("agents did not answer the refresh: %v", rd.GetUnanswered())
	}
	regions := map[string]*kirikaev1.RegionReadiness{}
	for _, r := range rd.GetRegions() {
		regions[r.GetRegion()] = r
		for _, rep := range r.GetReports() {
			for _, c := range rep.GetChecks() {
				t.Logf("readiness %s %s %s: %s (observed %s)", r.GetRegion(), c.GetName(), c.GetStatus(), c.GetDetail(), c.GetObserved())
			}
		}
	}
	failing := map[string][]string{}
	for _, region := range []string{primary, dr} {
		r := regions[region]
		if r == nil || len(r.GetReports()) == 0 {
			t.Fatalf("no readiness report for %s: %v", region, rd.GetRegions())
		}
		for _, rep := range r.GetReports() {
			for _, c := range rep.GetChecks() {
				if c.GetStatus() != kirikaev1.ReadinessStatus_READINESS_STATUS_OK {
					failing[region] = append(failing[region], c.GetName())
				}
			}
		}
	}
	if !regions[primary].GetReady() || len(failing[primary]) != 0 {
		t.Errorf("%s not ready (%v): %v", primary, failing[primary], regions[primary].GetReasons())
	}
	if regions[dr].GetReady() || !slices.Equal(failing[dr], []string{"rds.snapshot-copy-age"}) {
		t.Errorf("%s: ready %v, failing %v (%v); want only rds.snapshot-copy-age failing", dr, regions[dr].GetReady(),
			failing[dr], regions[dr].GetReasons())
	}
	for _, rep := range regions[dr].GetReports() {
		for _, c := range rep.GetChecks() {
			if c.GetName() != "rds.snapshot-copy-age" {
				continue
			}
			if age, err := time.ParseDuration(c.GetObserved()); err != nil || age <= sys.Objectives.RPO {
				t.Errorf("snapshot copy age %q (%v), want over the RPO %s", c.GetObserved(), err, sys.Objectives.RPO)
			}
		}
	}

	// 2. The failover plan's evaluation against the simulated account: nothing to fix once
	// the data loss is accepted; without it, the restore's snapshot is too old, and only that.
	failSrc := readFile(t, ledgerFailover)
	app := "http://" + w.Sim().Addr() + "/_app/dns/" + sys.DNS.Record
	params := ledgerImages(sys)
	params["APP_URL"] = app
	params["ALLOW_DATA_LOSS"] = "true"
	check := kirikaev1.NewPlanCheckServiceClient(w.Conn(w.Operator("operator")))
	ev, err := check.EvaluatePlan(ctx, &kirikaev1.EvaluatePlanRequest{PlanSource: failSrc, PlanFile: "deploy/plans/ledger-failover.yaml", Params: params})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ev.GetEvaluation().GetFindings() {
		t.Errorf("evaluation finding: step %s line %d %s %s: %s; fix: %s", f.GetStepId(), f.GetLine(), f.GetCode(), f.GetInput(), f.GetProblem(), f.GetFix())
	}
	if u := ev.GetEvaluation().GetUnchecked(); len(u) != 0 {
		t.Errorf("unchecked: %v", u)
	}
	if ev.GetEvaluation().GetStepsChecked() == 0 || ev.GetEvaluation().GetSystemDigest() != sys.Digest() {
		t.Errorf("evaluation checked %d steps against system %s, want the ledger's %s", ev.GetEvaluation().GetStepsChecked(),
			ev.GetEvaluation().GetSystemDigest(), sys.Digest())
	}
	strict := maps.Clone(params)
	delete(strict, "ALLOW_DATA_LOSS")
	ev, err = check.EvaluatePlan(ctx, &kirikaev1.EvaluatePlanRequest{PlanSource: failSrc, PlanFile: "deploy/plans/ledger-failover.yaml", Params: strict})
	if err != nil {
		t.Fatal(err)
	}
	if fs := ev.GetEvaluation().GetFindings(); len(fs) != 1 || fs[0].GetStepId() != "restore-rds" || fs[0].GetCode() != "snapshot-too-old" {
		t.Errorf("without ALLOW_DATA_LOSS, findings %v; want restore-rds snapshot-too-old alone", fs)
	}

	// 3. The primary goes down, and the failover runs.
	if err := w.Sim().SetRegionDown(primary, awssim.DownRefuse); err != nil {
		t.Fatal(err)
	}
	w.Sim().OpenHealthEvent(awssim.HealthEvent{Region: primary})
	if err := w.WaitAgents(ctx, map[string]bool{primary: false, dr: true}); err != nil {
		t.Fatal(err)
	}
	runs := kirikaev1.NewRunServiceClient(w.Conn(w.Operator("sysadmin")))
	decl, err := runs.Declare(ctx, &kirikaev1.DeclareRequest{PlanSource: failSrc, Params: params, Scenario: "region-outage",
		ExpectedOutageMs: (6 * time.Hour).Milliseconds(), Reason: "test: " + primary + " region outage", RequestId: "ledger-declare"})
	if err != nil {
		t.Fatalf("declare: %v", err)
	}
	if n := len(decl.GetRun().GetEvaluation().GetFindings()); n != 0 {
		t.Errorf("the declaration's evaluation has %d finding(s)", n)
	}
	fo, err := w.Follow(ctx, decl.GetRun().GetId(), simworld.FollowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fo.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
		t.Fatalf("failover %s ended %s: %s", fo.GetId(), fo.GetStatus(), fo.GetError())
	}
	if got := w.Region().GetActive(); got != dr {
		t.Errorf("after the failover the active region is %s, want %s", got, dr)
	}
	afterFailover := len(w.Sim().Journal())

	// 4. The primary is back, and the cutback runs.
	if err := w.Sim().SetRegionDown(primary, ""); err != nil {
		t.Fatal(err)
	}
	w.Sim().CloseHealthEvent(primary, "")
	if err := w.WaitAgents(ctx, map[string]bool{primary: true, dr: true}); err != nil {
		t.Fatal(err)
	}
	cut, err := runs.Cutback(ctx, &kirikaev1.CutbackRequest{PlanSource: readFile(t, ledgerCutback), Params: map[string]string{"APP_URL": app},
		Reason: "test: " + primary + " recovered", RequestId: "ledger-cutback"})
	if err != nil {
		t.Fatalf("cutback: %v", err)
	}
	if n := len(cut.GetRun().GetEvaluation().GetFindings()); n != 0 {
		t.Errorf("the cutback's evaluation has %d finding(s)", n)
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

	// 5. What awssim was asked to change, and where.
	journal := w.Sim().Journal()
	for _, e := range journal {
		t.Logf("journal %s %s %s %s", e.Region, e.Service, e.Operation, e.Resource)
	}
	checkJournal(t, "failover", journal[:afterFailover], map[string]int{
		dr + " RestoreDBInstanceFromDBSnapshot": 1,
		dr + " StartRestoreJob":                 1,
		dr + " PutSecretValue":                  1,
		dr + " RegisterTaskDefinition":          2,
		dr + " UpdateService":                   2,
		dr + " PutMetricAlarm":                  2,
		"ChangeResourceRecordSets":              1,
	}, map[string]bool{primary: true})
	checkJournal(t, "cutback", journal[afterFailover:], map[string]int{
		dr + " CreateDBSnapshot":                     1,
		primary + " CopyDBSnapshot":                  1,
		primary + " DeleteDBInstance":                1,
		primary + " RestoreDBInstanceFromDBSnapshot": 1,
		"ChangeResourceRecordSets":                   1,
		dr + " UpdateService":                        2,
		dr + " DeleteDBInstance":                     1,
	}, nil)
	for _, e := range journal {
		if strings.Contains(e.Operation, "ReplicationGroup") || strings.Contains(e.Operation, "CacheCluster") {
			t.Errorf("journal: %s %s %s: the ledger has no cache", e.Region, e.Operation, e.Resource)
		}
	}
	services := map[string]int{}
	for _, e := range journal[:afterFailover] {
		if e.Operation == "UpdateService" {
			for _, l := range []string{"api", "admin"} {
				if strings.Contains(e.Resource, "/"+sys.Role(system.Secondary).ECS.Services[l].Name) {
					services[l]++
				}
			}
		}
	}
	if services["api"] != 1 || services["admin"] != 1 {
		t.Errorf("the failover's UpdateService calls were for %v, want api and admin once each", services)
	}
}

// checkJournal compares the count of each "REGION Operation" (or global "Operation") in
// entries with want, for the operations want names, and refuses any mutation in a region of
// quiet.
func checkJournal(t *testing.T, what string, entries []awssim.JournalEntry, want map[string]int, quiet map[string]bool) {
	t.Helper()
	got := map[string]int{}
	for _, e := range entries {
		got[e.Region+" "+e.Operation]++
		got[e.Operation]++
		if quiet[e.Region] {
			t.Errorf("%s: %s %s %s in %s, which is down", what, e.Service, e.Operation, e.Resource, e.Region)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			t.Errorf("%s: %d × %s, want %d", what, got[k], k, want[k])
		}
	}
}

// TestLedgerTabletop runs the ledger failover as a tabletop drill on the ledger's own
// system file: it succeeds, and its one finding is the RPO gap (daily snapshot copies
// against a 15m RPO).
func TestLedgerTabletop(t *testing.T) {
	if testing.Short() {
		t.Skip("a tabletop runs the whole plan against awssim")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	src := readFile(t, ledgerSystemFile)
	sys := parseSystem(t, ledgerSystemFile)
	res, err := tabletop.Run(ctx, tabletop.Options{PlanSource: readFile(t, ledgerFailover), PlanFile: "deploy/plans/ledger-failover.yaml",
		System: src, SystemFile: "deploy/systems/example-eu.yaml", TimeScale: 0.002, Params: ledgerImages(sys),
		Progress: tWriter{t}, Logger: slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		t.Log(f)
	}
	for _, a := range res.Adjustments {
		t.Log(a)
	}
	run := res.Run
	if run.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
		t.Fatalf("tabletop run %s %s: %s", run.GetId(), run.GetStatus(), run.GetError())
	}
	if len(res.Findings) != 1 || res.Findings[0].Kind != tabletop.FindingRPOGap || res.Findings[0].Step != "restore-rds" {
		t.Errorf("findings %v, want the RPO gap at restore-rds alone", res.Findings)
	}
	if !res.RPO.Gap() || res.RPO.RPO != sys.Objectives.RPO {
		t.Errorf("RPO %+v, want a gap against %s", res.RPO, sys.Objectives.RPO)
	}
	if res.RTO != sys.Objectives.RTO || res.PredictedRTO > res.RTO {
		t.Errorf("predicted RTO %s against %s, want within the system's %s", res.PredictedRTO, res.RTO, sys.Objectives.RTO)
	}
	if len(res.Skipped) != 0 || len(res.Evaluation.GetFindings()) != 0 {
		t.Errorf("skipped %v, evaluation findings %v", res.Skipped, res.Evaluation.GetFindings())
	}
}

// kaigoAllowed are the Go files outside deploy/, testdata and tests whose code (not their
// comments) names the seed system, and why each may.
var kaigoAllowed = map[string]string{
	// The bundled seed system is the default where no system file is given.
	"awssim/kaigo.go":       "the simulator's default system and the Kaigo* names tests of it use",
	"awssim/sim.go":         `the "kaigo" and "kaigo-outage" fixtures (kirikae sim --fixture kaigo)`,
	"simworld/world.go":     "Options.System empty means the bundled kaigo.yaml",
	"tabletop/tabletop.go":  "Options.System empty means the bundled kaigo.yaml",
	"demo/demo.go":          "kirikae demo runs the seed system's bundled plans",
	"integration/procs.go":  "the integration helpers start kirikae sim with deploy/systems/kaigo.yaml",
	"catalog/actions.go":    "input docs give the seed's names as examples",
	"cli/demo.go":           "help text",
	"cli/drill.go":          "help text and the --system flag's default",
	"cli/drill_tabletop.go": "what a tabletop without --system says it used",
	"cli/plan.go":           "help text: the bundled plans as examples",
	"cli/plan_check.go":     "help text",
	"cli/runs.go":           "help text",
	"cli/sim.go":            "help text and the kaigo fixtures",
	"cli/system.go":         "help text",
	"cli/system_store.go":   "help text",
	"cli/certs.go":          "help text: certificates for the bundled system's regions, as an example",
	"cli/plan_iam.go":       "help text: the bundled plans and system as examples",
}

// TestNoGoCodeNamesKaigo: outside deploy/, testdata and tests, no Go identifier or string
// literal names the seed system, except in the files kaigoAllowed lists: a second system
// runs through the same code.
func TestNoGoCodeNamesKaigo(t *testing.T) {
	root := ".."
	found := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || rel == "deploy" || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			text := ""
			switch n := n.(type) {
			case *ast.Ident:
				text = n.Name
			case *ast.BasicLit:
				if n.Kind == token.STRING {
					text, _ = strconv.Unquote(n.Value)
				}
			}
			if strings.Contains(strings.ToLower(text), "kaigo") {
				found[rel] = append(found[rel], text)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range slices.Sorted(maps.Keys(found)) {
		if _, ok := kaigoAllowed[file]; !ok {
			t.Errorf("%s names the seed system in code: %q", file, found[file])
		}
	}
	for _, file := range slices.Sorted(maps.Keys(kaigoAllowed)) {
		if _, ok := found[file]; !ok {
			t.Logf("%s no longer names the seed system in code; its exception (%s) can go", file, kaigoAllowed[file])
		}
	}
}
