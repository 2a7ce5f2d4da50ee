package integration_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/integration"
)

// exitCode is the exit code of a CLI run that failed, 0 for nil and -1 for no exit.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// evaluationJSON is the part of `kirikae plan check -o json` the tests read.
type evaluationJSON struct {
	PlanName     string        `json:"plan_name"`
	StepsChecked int           `json:"steps_checked"`
	Findings     []findingJSON `json:"findings"`
	Unchecked    []struct {
		Region string `json:"region"`
	} `json:"unchecked"`
}

func lineOf(t *testing.T, file, text string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, text) {
			return i + 1
		}
	}
	t.Fatalf("%s: no line holds %q", file, text)
	return 0
}

type findingJSON struct {
	StepID  string `json:"step_id"`
	Input   string `json:"input"`
	Code    string `json:"code"`
	Problem string `json:"problem"`
	Fix     string `json:"fix"`
	Line    int    `json:"line"`
	Region  string `json:"region"`
}

// TestPlanCheckFindsTheSeedsMistakes: `kirikae plan check` on the seed's failover written
// literally reports the runbook's three mistakes, each with its step and the line of the
// input, from read-only checks by the us-west-2 agent, and exits 4; the bundled plan, which
// reads the stored system file, has none. A viewer may not make the agents call AWS.
func TestPlanCheckFindsTheSeedsMistakes(t *testing.T) {
	w := newDRWorld(t, 0.002)
	w.waitAgent("us-east-1")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	journal := len(w.sim.Journal(t))

	literal := filepath.Join(repoRoot(t), "plan", "testdata", "seed", "kaigo-failover-literal.yaml")
	out, errOut, err := w.c.CLI(ctx, "operator-sam", w.c.Addrs(), "plan", "check", literal, "-o", "json")
	if code := exitCode(err); code != 4 {
		t.Fatalf("plan check of the literal seed: exit %d (%v), want 4\nstderr: %s", code, err, errOut)
	}
	var ev evaluationJSON
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatalf("plan check -o json: %v\n%s", err, out)
	}
	for _, want := range []struct{ step, code, input, line string }{
		{"switch-dns", "alias-zone-mismatch", "targetHostedZoneId", "targetHostedZoneId: Z1BKCTXD74EZPE"},
		{"update-service", "task-definition-unpinned", "taskDefinition", `taskDefinition: "kaigo-subsys-dr:latest"`},
		{"put-redis-secret", "output-absent", "json", "configurationEndpoint.address"},
	} {
		line := lineOf(t, literal, want.line)
		if !slices.ContainsFunc(ev.Findings, func(f findingJSON) bool {
			return f.StepID == want.step && f.Code == want.code && f.Input == want.input && f.Line == line && f.Region == "us-west-2" && f.Fix != ""
		}) {
			t.Errorf("no %s finding on step %s, with.%s, line %d, in us-west-2: %+v", want.code, want.step, want.input, line, ev.Findings)
		}
	}
	// The same as text, for people: FILE:LINE: step ID (REGION): [code] ...
	text, _, _ := w.c.CLI(ctx, "operator-sam", w.c.Addrs(), "plan", "check", literal)
	if want := literal + ":" + strconv.Itoa(lineOf(t, literal, "targetHostedZoneId: Z1BKCTXD74EZPE")) + ": step switch-dns (us-west-2): [alias-zone-mismatch]"; !strings.Contains(text, want) {
		t.Errorf("plan check text lacks %q:\n%s", want, text)
	}

	bundled := filepath.Join(w.planDir, "kaigo-failover.yaml")
	out, errOut, err = w.c.CLI(ctx, "operator-sam", w.c.Addrs(), "plan", "check", bundled, "--set", "APP_URL=https://app.invalid", "--set", "ALLOW_DATA_LOSS=true", "-o", "json")
	if err != nil {
		t.Fatalf("plan check of the bundled failover: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}
	ev = evaluationJSON{}
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Findings) != 0 || len(ev.Unchecked) != 0 || ev.StepsChecked < 20 {
		t.Errorf("bundled failover: %d findings, unchecked %v, %d steps checked: %s", len(ev.Findings), ev.Unchecked, ev.StepsChecked, out)
	}
	// Without the data-loss decision, the day-old copy is over the system's 1 h RPO.
	out, _, err = w.c.CLI(ctx, "operator-sam", w.c.Addrs(), "plan", "check", bundled, "--set", "APP_URL=https://app.invalid", "-o", "json")
	ev = evaluationJSON{}
	if exitCode(err) != 4 || json.Unmarshal([]byte(out), &ev) != nil || len(ev.Findings) != 1 || ev.Findings[0].Code != "snapshot-too-old" || ev.Findings[0].StepID != "restore-rds" {
		t.Errorf("bundled failover without ALLOW_DATA_LOSS: exit %d, %s", exitCode(err), out)
	}

	if _, errOut, err := w.c.CLI(ctx, "operator-vic", w.c.Addrs(), "plan", "check", bundled); err == nil || !strings.Contains(errOut, "permission denied") {
		t.Errorf("a viewer evaluated a plan: err=%v stderr=%s", err, errOut)
	}
	if after := w.sim.Journal(t); len(after) != journal {
		t.Errorf("plan check changed AWS: %v", after[journal:])
	}
}

// TestCutbackStopsBeforeDeletingWhenTheDNSTargetIsGone: after a failover, the system names
// a production load balancer that is not there. The cutback is refused before it exists,
// naming the DNS step and its line; started anyway (--override-findings, audited), its
// preflight stops it before the production database is deleted: awssim's journal has no
// DeleteDBInstance.
func TestCutbackStopsBeforeDeletingWhenTheDNSTargetIsGone(t *testing.T) {
	w := newDRWorld(t, 0.002)
	w.waitAgent("us-east-1")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if fo := w.drive(w.declare(), 4*time.Minute, nil); fo.Status != "succeeded" {
		t.Fatalf("failover: %s %s", fo.Status, fo.Error)
	}
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "systems", "kaigo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	gone := strings.Replace(string(src), "name: kaigo-subsys-prod-alb ", "name: kaigo-subsys-prod-alb-2024 ", 1)
	if gone == string(src) {
		t.Fatal("the system file names no kaigo-subsys-prod-alb to replace")
	}
	file := filepath.Join(t.TempDir(), "kaigo.yaml")
	if err := os.WriteFile(file, []byte(gone), 0o600); err != nil {
		t.Fatal(err)
	}
	w.c.MustCLI("operator-admin", w.c.Addrs(), "system", "apply", file)

	plan := filepath.Join(w.planDir, "kaigo-cutback.yaml")
	args := []string{"cutback", "--plan", plan, "--reason", "us-east-1 recovered", "--set", "APP_URL=" + w.sim.URL + "/_app/dns/api.kaigo-subsys.example.com"}
	_, errOut, err := w.c.CLI(ctx, "operator-sam", w.c.Addrs(), args...)
	want := "kaigo-cutback:" + strconv.Itoa(lineOf(t, plan, `targetLoadBalancer: "${system.primary.loadBalancer.name}"`)) + ": step switch-dns-back (us-east-1): [missing-resource]"
	if err == nil || !strings.Contains(errOut, want) || !strings.Contains(errOut, "kaigo-subsys-prod-alb-2024") || !strings.Contains(errOut, "--override-findings") {
		t.Fatalf("cutback to a missing load balancer: err=%v, want %q in stderr:\n%s", err, want, errOut)
	}
	var list struct{ Runs []drillRunJSON }
	if err := w.c.CLIJSON("operator-vic", &list, "runs"); err != nil {
		t.Fatal(err)
	}
	if len(list.Runs) != 1 {
		t.Fatalf("a refused cutback created a run: %d runs", len(list.Runs))
	}

	var cut runJSON
	if err := w.c.CLIJSON("operator-sam", &cut, append(args, "--override-findings", "testing the preflight")...); err != nil {
		t.Fatal(err)
	}
	r := w.drive(cut.ID, 4*time.Minute, nil)
	var preflight string
	for _, st := range r.Steps {
		if st.ID == "preflight" {
			preflight = st.Status + ": " + st.Error
		}
		if st.ID == "delete-prod" && st.Status != "pending" {
			t.Errorf("delete-prod is %s", st.Status)
		}
	}
	if r.Status != "paused" || !strings.HasPrefix(preflight, "failed") || !strings.Contains(preflight, "switch-dns-back") {
		t.Fatalf("cutback with the findings overridden: %s; preflight %s", r.Status, preflight)
	}
	if n := opCount(w.sim.Journal(t), "us-east-1", "DeleteDBInstance"); n != 0 {
		t.Fatalf("the production database was deleted (%d DeleteDBInstance in us-east-1)", n)
	}
	audit := w.c.MustCLI("operator-admin", w.c.Addrs(), "audit")
	if !strings.Contains(audit, "testing the preflight") {
		t.Errorf("the override is not in the audit log:\n%s", audit)
	}
}

// TestScheduledEvaluationShowsInReadiness: a server started with --evaluate-plan evaluates
// it on the leader by itself; `kirikae readiness` then says the DR region is not ready,
// naming the plan, the step and the finding, and lists the evaluation for scripts.
func TestScheduledEvaluationShowsInReadiness(t *testing.T) {
	literal := filepath.Join(repoRoot(t), "plan", "testdata", "seed", "kaigo-failover-literal.yaml")
	sim := integration.StartSim(t, 0.002)
	c := integration.NewCluster(t, 1, integration.Options{Operators: []string{"vic"}, Roles: drRoles,
		ServerArgs: []string{"--evaluate-plan", literal, "--evaluate-every", "1h"}})
	c.MustCLI("operator-admin", c.Addrs(), "region", "init", "--primary", "us-east-1", "--secondary", "us-west-2")
	c.MustCLI("operator-admin", c.Addrs(), "system", "apply", filepath.Join(repoRoot(t), "deploy", "systems", "kaigo.yaml"))
	c.StartAgent("us-west-2", sim)
	var resp struct {
		Regions []struct {
			Region  string   `json:"region"`
			Ready   bool     `json:"ready"`
			Reasons []string `json:"reasons"`
		} `json:"regions"`
		PlanEvaluations []evaluationJSON `json:"plan_evaluations"`
	}
	want := "plan " + literal + ": step switch-dns: [alias-zone-mismatch]"
	integration.WaitFor(t, 90*time.Second, "the scheduled evaluation in readiness", func() bool {
		resp.Regions, resp.PlanEvaluations = nil, nil
		out, _, _ := c.CLI(context.Background(), "operator-vic", c.Addrs(), "readiness", "-o", "json")
		if json.Unmarshal([]byte(out), &resp) != nil {
			return false
		}
		for _, r := range resp.Regions {
			if r.Region == "us-west-2" && !r.Ready && slices.ContainsFunc(r.Reasons, func(s string) bool { return strings.HasPrefix(s, want) }) {
				return true
			}
		}
		return false
	})
	if len(resp.PlanEvaluations) != 1 || resp.PlanEvaluations[0].PlanName != "kaigo-failover-literal" || len(resp.PlanEvaluations[0].Findings) < 3 {
		t.Errorf("plan_evaluations: %+v", resp.PlanEvaluations)
	}
	text, _, _ := c.CLI(context.Background(), "operator-vic", c.Addrs(), "readiness")
	if !strings.Contains(text, want) {
		t.Errorf("readiness text lacks %q:\n%s", want, text)
	}
}
