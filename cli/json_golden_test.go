package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/kirikae/kirikae/controlplane"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// jsonDataKeys hold data, not records: the keys under them are plan params, step inputs
// and outputs, resource kinds, and their values strings of any shape. The convention
// checker does not look inside them.
var jsonDataKeys = map[string]bool{"outputs": true, "failure_outputs": true, "with": true, "params": true,
	"cutback_params": true, "resources": true}

// digitStrings are strings made of digits by nature: an AWS account id keeps its leading
// zeros only as a string.
var digitStrings = map[string]bool{"account": true}

var (
	enumPrefixRE = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$`)
	numberRE     = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	snakeKeyRE   = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
)

// checkConvention reports every place where v, one command's -o json output, breaks the
// convention of the README's "JSON output": an enum with its type's prefix, a number in a
// string, JSON inside a string, a key that is not snake_case or that still says how a time
// or a JSON string was encoded.
func checkConvention(v any, path string) []string {
	var bad []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := path + "." + k
			switch {
			case !snakeKeyRE.MatchString(k):
				bad = append(bad, p+": key not in snake_case")
			case strings.HasSuffix(k, "_unix_nano") || strings.HasSuffix(k, "_json"):
				bad = append(bad, p+": key says how it was encoded")
			}
			if jsonDataKeys[k] {
				continue
			}
			bad = append(bad, checkConvention(e, p)...)
		}
	case []any:
		for i, e := range x {
			bad = append(bad, checkConvention(e, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case string:
		t := strings.TrimSpace(x)
		switch {
		case enumPrefixRE.MatchString(x):
			bad = append(bad, fmt.Sprintf("%s: %q looks like a prefixed enum", path, x))
		case numberRE.MatchString(x) && !digitStrings[path[strings.LastIndex(path, ".")+1:]]:
			bad = append(bad, fmt.Sprintf("%s: %q is a number in a string", path, x))
		case (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Valid([]byte(t)):
			bad = append(bad, fmt.Sprintf("%s: %q is JSON in a string", path, x))
		}
	}
	return bad
}

// parseOutput reads every JSON document in out (a watch prints one per change).
func parseOutput(t *testing.T, out string) []any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	var docs []any
	for dec.More() {
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		docs = append(docs, v)
	}
	if len(docs) == 0 {
		t.Fatalf("no JSON printed")
	}
	return docs
}

// volatile are the keys whose values change from run to run; normalize replaces them.
var volatile = map[string]any{
	"request_id": "<request-id>", "hash": "<hash>", "prev_hash": "<hash>", "raft_index": json.Number("0"),
	"index": json.Number("0"), "commit_index": json.Number("0"), "term": json.Number("0"), "applied_index": json.Number("0"),
	"go_version": "<go>", "commit": "<commit>", "version": "<version>",
}

var (
	timeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`)
	addrRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	runRE  = regexp.MustCompile(`\b(tabletop|failover|cutback|recovery|teardown)-\d{8}-\d{4}-[0-9a-f]+\b`)
)

// normalize replaces what changes between runs: times, loopback ports, run ids, request
// ids, hashes and raft indexes. It keeps every key and the type of every value.
func normalize(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = normalize(e, k)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e, key)
		}
		return out
	case string:
		if r, ok := volatile[key]; ok && x != "" {
			if _, isString := r.(string); isString {
				return r
			}
		}
		if timeRE.MatchString(x) {
			return "<time>"
		}
		return runRE.ReplaceAllString(addrRE.ReplaceAllString(x, "127.0.0.1:<port>"), "<run-id>")
	case json.Number:
		if r, ok := volatile[key]; ok {
			if _, isNumber := r.(json.Number); isNumber {
				return r
			}
		}
	}
	return v
}

// goldenJSON checks one command's -o json output against the convention, then against
// testdata/json/NAME.golden once normalized.
func goldenJSON(t *testing.T, name, out string) {
	t.Helper()
	docs := parseOutput(t, out)
	var b bytes.Buffer
	for _, d := range docs {
		for _, problem := range checkConvention(d, "") {
			t.Errorf("%s: %s", name, problem)
		}
		if err := writeJSON(&b, normalize(d, "")); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join("testdata", "json", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cli -run %s -update)", err, t.Name())
	}
	if b.String() != string(want) {
		t.Errorf("%s differs from %s (go test ./cli -run %s -update rewrites it):\n%s", name, path, t.Name(), b.String())
	}
}

// runCLI runs a whole command line as a user would, and returns what it printed.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRootCommand(&out, &errOut)
	root.SetArgs(args)
	err := root.Execute()
	if err != nil {
		t.Logf("%s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), err
}

// TestJSONGoldenOffline: the verbs that need no control plane.
func TestJSONGoldenOffline(t *testing.T) {
	t.Setenv(formatEnv, "")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"plan-show", []string{"plan", "show", "../deploy/plans/kaigo-rds-pitr.yaml", "--set", "RESTORE_TIME=2025-01-15T12:00:00Z"}},
		{"plan-validate", []string{"plan", "validate", "../deploy/plans/kaigo-rds-pitr.yaml", "--system", kaigoSystem}},
		{"plan-actions", []string{"plan", "actions", "aws.rds.restoreSnapshot"}},
		{"system-validate", []string{"system", "validate", kaigoSystem}},
		{"version", []string{"version"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCLI(t, append(tc.args, "-o", "json")...)
			if err != nil {
				t.Fatal(err)
			}
			goldenJSON(t, tc.name, out)
		})
	}
}

// goldenControlPlane starts a one-node mTLS control plane in this process and returns it
// once it leads and has recorded the addresses it advertises (cluster.join in the audit log).
func goldenControlPlane(t *testing.T) *testCP {
	t.Helper()
	c := startControlPlane(t, func(dir string, cfg *controlplane.Config) {
		cfg.RolesFile = filepath.Join(dir, "roles.yaml")
		// admin approves as sysadmin in the run-approve step.
		if err := os.WriteFile(cfg.RolesFile, []byte("operators:\n  admin: [admin, sysadmin]\n  vic: [viewer]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !slices.ContainsFunc(c.inst.Node.FSM().Members(), func(m *kirikaev1.MemberAddress) bool {
		return m.GetGrpcAddress() == c.addr
	}) {
		if time.Now().After(deadline) {
			t.Fatal("no leader with its addresses within 10s")
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	return c
}

// dial opens a gRPC connection to the node with the certificate pair given (ca.pem beside it).
func (c *testCP) dial(t *testing.T, cert, key string) *grpc.ClientConn {
	t.Helper()
	cfg, err := security.ClientTLS(filepath.Join(c.dir, security.CAFile), filepath.Join(c.dir, cert), filepath.Join(c.dir, key))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(c.addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// fakeAgent registers over the agent stream with its region's agent certificate, and answers
// readiness and check requests; cancel ends its stream, and the agent is then disconnected.
func fakeAgent(t *testing.T, c *testCP, id, region string) (cancel func()) {
	t.Helper()
	cert, key := security.AgentFiles(region)
	conn := c.dial(t, cert, key)
	ctx, stop := context.WithCancel(context.Background())
	stream, err := kirikaev1.NewAgentServiceClient(conn).Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	send := func(m *kirikaev1.ConnectRequest) {
		if err := stream.Send(m); err != nil && ctx.Err() == nil {
			t.Errorf("agent %s: %v", id, err)
		}
	}
	send(&kirikaev1.ConnectRequest{Msg: &kirikaev1.ConnectRequest_Register{Register: &kirikaev1.AgentInfo{Id: id, Region: region, Version: "v-test",
		Actions: []string{"aws.rds.restoreSnapshot"}}}})
	send(&kirikaev1.ConnectRequest{Msg: &kirikaev1.ConnectRequest_Heartbeat{Heartbeat: &kirikaev1.AgentHealth{Healthy: true, CredentialsOk: true,
		ApiReachable: true, MaxSteps: 4, HighestEpoch: 1}}})
	report := func(requestID string) *kirikaev1.ConnectRequest {
		now := time.Now().UnixNano()
		return &kirikaev1.ConnectRequest{Msg: &kirikaev1.ConnectRequest_Readiness{Readiness: &kirikaev1.ReadinessReport{AgentId: id, Region: region,
			RequestId: requestID, ReportedUnixNano: now, Checks: []*kirikaev1.ReadinessCheck{
				{Name: "rds.snapshot-copy-age", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL, Detail: "newest snapshot copy 21h old > RPO 1h",
					Observed: "21h0m0s", CheckedUnixNano: now},
				{Name: "dns.record", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_OK, Observed: "A 203.0.113.10", CheckedUnixNano: now},
			}}}}
	}
	send(report(""))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			msg, err := stream.Recv()
			if err != nil {
				return
			}
			switch m := msg.GetMsg().(type) {
			case *kirikaev1.ConnectResponse_ReadinessRequest:
				send(report(m.ReadinessRequest.GetRequestId()))
			case *kirikaev1.ConnectResponse_Check:
				var findings []*kirikaev1.PlanFinding
				for _, st := range m.Check.GetSteps() {
					if st.GetStepId() != "restore-rds" {
						continue
					}
					findings = append(findings, &kirikaev1.PlanFinding{StepId: st.GetStepId(), Input: "snapshot", Code: "snapshot-too-old",
						Problem: "the newest snapshot is 21h old", Fix: "copy a newer snapshot", Region: region})
				}
				send(&kirikaev1.ConnectRequest{Msg: &kirikaev1.ConnectRequest_CheckReport{CheckReport: &kirikaev1.CheckReport{
					RequestId: m.Check.GetRequestId(), Findings: findings}}})
			}
		}
	}()
	return func() {
		stop()
		<-done
		conn.Close()
	}
}

// TestJSONGoldenServer: every verb with -o json against a control plane in this process,
// with one agent connected and one gone.
func TestJSONGoldenServer(t *testing.T) {
	t.Setenv(formatEnv, "")
	c := goldenControlPlane(t)
	cli := func(t *testing.T, args ...string) string {
		t.Helper()
		out, err := runCLI(t, append(args, append(c.as("admin"), "-o", "json")...)...)
		var ee *exitError
		// 4: not ready, findings; 5: the watched run ended aborted. Both still print JSON.
		if err != nil && !(errorsAs(err, &ee) && (ee.code == exitNotReady || ee.code == exitRunFailed)) {
			t.Fatal(err)
		}
		return out
	}
	steps := []struct {
		name string
		args []string
		// before runs first, for what the step shows; it is given the whole test, whose
		// cleanup outlives the step.
		before func(t *testing.T)
		// waiting names a step of the current run that must be waiting for people first.
		waiting string
	}{
		{name: "region-init", args: []string{"region", "init", "--primary", "us-east-1", "--secondary", "us-west-2"}},
		{name: "system-apply", args: []string{"system", "apply", kaigoSystem}},
		{name: "system-show", args: []string{"system", "show"}},
		{name: "agents", before: func(t *testing.T) {
			gone := fakeAgent(t, c, "us-east-1/gone", "us-east-1")
			waitAgents(t, c, map[string]bool{"us-east-1/gone": true})
			gone()
			t.Cleanup(fakeAgent(t, c, "us-west-2/golden", "us-west-2"))
			waitAgents(t, c, map[string]bool{"us-east-1/gone": false, "us-west-2/golden": true})
		}, args: []string{"agents"}},
		{name: "readiness", args: []string{"readiness"}},
		{name: "plan-check", args: []string{"plan", "check", "../deploy/plans/kaigo-failover.yaml"}},
		{name: "region-set", args: []string{"region", "set", "us-west-2", "--force", "--reason", "golden test"}},
		{name: "region-get", args: []string{"region", "get"}},
		{name: "region-history", args: []string{"region", "history"}},
		{name: "runs", before: func(t *testing.T) { recordTabletop(t, c) }, args: []string{"runs"}},
		{name: "run-show", args: []string{"run", "show", "RUN"}},
		{name: "drill-schedule", args: []string{"drill", "schedule"}},
		{name: "cluster-members", args: []string{"cluster", "members"}},
		{name: "cluster-snapshot-save", args: []string{"cluster", "snapshot", "save", filepath.Join(t.TempDir(), "snap")}},
		{name: "audit", args: []string{"audit"}},
		// A run declared, approved in part and aborted: what declare and the run-control
		// verbs print (the approval plan needs no agent).
		{name: "declare", args: []string{"declare", "--plan", writePlan(t), "--reason", "golden test"}},
		{name: "run-pause", args: []string{"run", "pause", "RUN"}, waiting: "approve"},
		{name: "run-resume", args: []string{"run", "resume", "RUN"}},
		{name: "run-approve", args: []string{"run", "approve", "RUN", "approve", "--role", "sysadmin"}},
		{name: "run-abort", args: []string{"run", "abort", "RUN", "--reason", "golden test"}},
		{name: "run-watch", args: []string{"run", "watch", "RUN"}},
		{name: "run-wait", args: []string{"run", "wait", "RUN", "approve"}},
		// A second run, of a plan with a checklist: an item confirmed, a later step skipped.
		{name: "declare-controls", args: []string{"declare", "--plan", writeGoldenPlan(t, controlsPlan), "--reason", "golden test"}},
		{name: "run-confirm", args: []string{"run", "confirm", "RUN", "checklist", "1"}, waiting: "checklist"},
		{name: "run-skip", args: []string{"run", "skip", "RUN", "later", "--reason", "golden test"}},
	}
	var runID string
	for _, st := range steps {
		if st.before != nil {
			st.before(t)
		}
		if st.waiting != "" {
			waitStepWaiting(t, c, runID, st.waiting)
		}
		if !t.Run(st.name, func(t *testing.T) {
			args := slices.Clone(st.args)
			for i, a := range args {
				if a == "RUN" {
					args[i] = runID
				}
			}
			out := cli(t, args...)
			if st.name == "runs" || strings.HasPrefix(st.name, "declare") {
				runID = runRE.FindString(out)
			}
			goldenJSON(t, st.name, out)
		}) {
			t.FailNow() // each step builds on the one before
		}
	}
}

func errorsAs(err error, target **exitError) bool {
	for err != nil {
		if e, ok := err.(*exitError); ok {
			*target = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// waitAgents polls `agents` until each agent named is connected or not, as want says.
func waitAgents(t *testing.T, c *testCP, want map[string]bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := runCLI(t, append([]string{"agents", "-o", "json"}, c.as("admin")...)...)
		if err != nil {
			t.Fatal(err)
		}
		var resp struct {
			Agents []struct {
				Info struct {
					ID string `json:"id"`
				} `json:"info"`
				Connected *bool `json:"connected"`
			} `json:"agents"`
		}
		if err := json.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, a := range resp.Agents {
			if a.Connected == nil {
				t.Fatalf("agent %s: connected is missing:\n%s", a.Info.ID, out)
			}
			got[a.Info.ID] = *a.Connected
		}
		ok := true
		for id, c := range want {
			if v, seen := got[id]; !seen || v != c {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("agents: want %v, have %v", want, got)
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
}

// recordTabletop records a finished tabletop with one step of each kind of content: outputs
// and failure outputs as JSON, approvals, times.
func recordTabletop(t *testing.T, c *testCP) {
	t.Helper()
	cert, key := security.OperatorFiles("admin")
	conn := c.dial(t, cert, key)
	defer conn.Close()
	start := time.Now().Add(-time.Hour).UnixNano()
	end := time.Now().UnixNano()
	run := &kirikaev1.Run{Kind: kirikaev1.RunKind_RUN_KIND_RECOVERY, Drill: kirikaev1.DrillKind_DRILL_KIND_TABLETOP, PlanName: "kaigo-rds-pitr",
		Status: kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED, Scenario: "region-outage", ExpectedOutageMs: 3600000, Reason: "golden test",
		CreatedUnixNano: start, FinishedUnixNano: end, FromRegion: "us-east-1", ToRegion: "us-west-2", Primary: "us-east-1", Secondary: "us-west-2",
		Params: map[string]string{"RESTORE_TIME": "2025-01-15T12:00:00Z", "RETRIES": "3"},
		Steps: []*kirikaev1.StepState{
			{Id: "approve", Status: kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED, Attempt: 1, StartedUnixNano: start, FinishedUnixNano: start,
				Approvals: []*kirikaev1.Approval{{Actor: "spiffe://kirikae/operator/alice", Role: "sysadmin", TimeUnixNano: start}},
				Spec:      &kirikaev1.StepSpec{Action: "approval", Region: "control-plane", Roles: []string{"sysadmin"}, ApprovalsRequired: 1}},
			{Id: "restore", Status: kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED, Attempt: 2, AgentId: "us-west-2/golden", Epoch: 1,
				OutputsJson: `{"dbInstanceIdentifier":"kaigo-subsys-dr","port":5432}`, FailureOutputsJson: `{"snapshotAge":"21h"}`,
				ErrorKind: kirikaev1.StepErrorKind_STEP_ERROR_KIND_GUARD_RAIL, StartedUnixNano: start, FinishedUnixNano: end,
				Spec: &kirikaev1.StepSpec{Action: "aws.rds.restoreSnapshot", Region: "us-west-2", Needs: []string{"approve"},
					WithJson: `{"snapshot":"${params.RESTORE_TIME}"}`, TimeoutMs: 1800000, Retries: 2, ExpectMs: 900000}},
		}}
	if _, err := kirikaev1.NewRunServiceClient(conn).RecordTabletop(context.Background(),
		&kirikaev1.RecordTabletopRequest{Run: run, RequestId: controlplane.NewRequestID()}); err != nil {
		t.Fatal(err)
	}
	// The leader then asks the agents for the drill's closing readiness, and records it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := kirikaev1.NewRunServiceClient(conn).ListRuns(context.Background(), &kirikaev1.ListRunsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if rs := resp.GetRuns(); len(rs) == 1 && len(rs[0].GetReadinessEnd()) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the tabletop's closing readiness was not recorded within 10s")
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}

// TestGoldenJSONKeepsTheConvention walks every golden file: none holds a prefixed enum, a
// number in a string, JSON in a string, or a key that is not snake_case.
func TestGoldenJSONKeepsTheConvention(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "json", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("%d golden files, want one per verb with -o json", len(files))
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range parseOutput(t, string(b)) {
			for _, problem := range checkConvention(d, "") {
				t.Errorf("%s: %s", f, problem)
			}
		}
	}
}

// waitStepWaiting polls `run show` until step of run waits for people.
func waitStepWaiting(t *testing.T, c *testCP, run, step string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := runCLI(t, append([]string{"run", "show", run, "-o", "json"}, c.as("admin")...)...)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Steps []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"steps"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		for _, st := range r.Steps {
			if st.ID == step && st.Status == "waiting" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s: step %s is not waiting after 10s:\n%s", run, step, out)
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
}

// controlsPlan is a recovery plan with a checklist and a later step, for run confirm and
// run skip; it needs no agent.
const controlsPlan = `apiVersion: kirikae/v1
kind: Plan
name: controls-test
runKind: recovery
steps:
  - id: checklist
    action: checklist
    with: {roles: [sysadmin], items: [backups checked, people told]}
  - id: later
    action: approval
    needs: [checklist]
    with: {roles: [sysadmin]}
`

// writeGoldenPlan writes a plan to a file of the test's and returns its path.
func writeGoldenPlan(t *testing.T, text string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// withoutGolden are the commands with -o json that no golden here shows, and why; every
// other command with -o must have one (TestEveryJSONCommandHasAGolden).
var withoutGolden = map[string]string{
	"cluster join":             "changes the membership of a cluster; prints through printMembers, as cluster members does",
	"cluster remove":           "changes the membership of a cluster; prints through printMembers, as cluster members does",
	"cluster snapshot restore": "replaces the node's state; prints its response through printJSON, as cluster snapshot save does",
	"cutback":                  "needs a failed-over pair with agents; prints the Run through afterStart, as declare does",
	"drill start":              "runs a whole simulated world; integration/tabletop_test.go reads its tabletop JSON",
	"run retry":                "the same newRunControlCommand as run pause, resume and abort, which have goldens",
	"run undo":                 "needs an aborted run that created something; prints the Run through printJSON with its plan source dropped, as run abort does",
}

// TestEveryJSONCommandHasAGolden: a command that takes -o json has a golden file here, or
// a reason in withoutGolden; a new command cannot go unchecked by the convention test.
func TestEveryJSONCommandHasAGolden(t *testing.T) {
	root := NewRootCommand(io.Discard, io.Discard)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() || c.Flags().Lookup("output") == nil {
			return
		}
		path := strings.TrimPrefix(c.CommandPath(), "kirikae ")
		_, excused := withoutGolden[path]
		_, err := os.Stat(filepath.Join("testdata", "json", strings.ReplaceAll(path, " ", "-")+".golden"))
		switch {
		case err == nil && excused:
			t.Errorf("%s has a golden and an excuse in withoutGolden: drop the excuse", path)
		case err != nil && !excused:
			t.Errorf("%s takes -o json but has no golden in testdata/json and no reason in withoutGolden", path)
		}
	}
	walk(root)
}
