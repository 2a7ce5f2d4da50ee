package plan_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/system"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func bundledPlans(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("../deploy/plans/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestBundledPlansValidate(t *testing.T) {
	files := bundledPlans(t)
	want := []string{"kaigo-failover.yaml", "kaigo-cutback.yaml", "kaigo-rds-recovery.yaml", "kaigo-rds-pitr.yaml", "kaigo-ecs-recovery.yaml"}
	for _, w := range want {
		found := false
		for _, f := range files {
			found = found || filepath.Base(f) == w
		}
		if !found {
			t.Errorf("deploy/plans/%s is missing", w)
		}
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, err := plan.ParseFile(f)
			if err != nil {
				t.Fatalf("bundled plan does not validate:\n%v", err)
			}
			for _, s := range p.Steps {
				if s.Owner == "" {
					t.Errorf("step %s has no owner (担当)", s.ID)
				}
				if s.Phase == "" {
					t.Errorf("step %s has no phase", s.ID)
				}
			}
			path, total := p.CriticalPath()
			t.Logf("%s: %d steps, critical path %v (%s), sequential sum %v", p.Name, len(p.Steps), total, strings.Join(path, " -> "), p.SequentialSum())
		})
	}
}

// want is one expected error, read from a "# want: FIELD: MESSAGE" marker on its line.
type want struct {
	line  int
	field string
	msg   string
}

func readWants(t *testing.T, path string) []want {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []want
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		_, m, ok := strings.Cut(sc.Text(), "# want: ")
		if !ok {
			continue
		}
		field, msg, _ := strings.Cut(m, ": ")
		out = append(out, want{line: n, field: field, msg: msg})
	}
	return out
}

func TestBrokenPlans(t *testing.T) {
	// Each file in testdata/invalid is a small valid plan with mistakes; each mistake's line
	// carries "# want: FIELD: MESSAGE". Every mistake must be reported with that line and
	// field, and nothing else may be reported.
	tests := []struct {
		file   string
		errors int
	}{
		{"unknown-top-key", 1}, {"unknown-step-key", 1}, {"unknown-action", 1}, {"missing-input", 1},
		{"unknown-input", 1}, {"wrong-input-type", 1}, {"wrong-input-list", 1}, {"duplicate-id", 1},
		{"cycle", 1}, {"unknown-needs", 1}, {"bad-region", 1}, {"missing-region", 1},
		{"agent-on-control-plane", 1}, {"control-plane-with-region", 1}, {"ref-unknown-step", 1},
		{"ref-not-ancestor", 1}, {"ref-unknown-output", 1}, {"ref-undeclared-param", 1},
		{"ref-unknown-kind", 1}, {"ref-unterminated", 1}, {"bad-duration", 1}, {"bad-input-duration", 1},
		{"bad-param-default", 1}, {"bad-phase-expect", 1}, {"unknown-phase", 1}, {"bad-on-failure", 1},
		{"bad-retries", 1}, {"bad-drill", 1}, {"run-kind-drill", 1}, {"bad-api-version", 1},
		{"missing-name", 1}, {"duplicate-key", 1}, {"yaml-syntax", 1}, {"many-errors", 4},
	}
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	if len(files) != len(tests) {
		t.Errorf("testdata/invalid has %d files, the table %d", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "invalid", tt.file+".yaml")
			wants := readWants(t, path)
			if len(wants) != tt.errors {
				t.Fatalf("%s has %d want markers, the table says %d", path, len(wants), tt.errors)
			}
			_, err := plan.ParseFile(path)
			if err == nil {
				t.Fatal("plan validated, want errors")
			}
			if !errors.Is(err, plan.ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			var ve *plan.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error is %T, want *plan.ValidationError: %v", err, err)
			}
			msg := err.Error()
			for _, w := range wants {
				prefix := path + ":" + itoa(w.line) + ": " + w.field + ": "
				found := false
				for _, l := range strings.Split(msg, "\n") {
					if strings.HasPrefix(l, prefix) && strings.Contains(l, w.msg) {
						found = true
					}
				}
				if !found {
					t.Errorf("want an error %q...%q, got:\n%s", prefix, w.msg, msg)
				}
			}
			if len(ve.Errors) != tt.errors {
				t.Errorf("got %d errors, want %d:\n%s", len(ve.Errors), tt.errors, msg)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

const diamond = `apiVersion: kirikae/v1
kind: Plan
name: diamond
runKind: recovery
steps:
  - {id: a, action: wait, with: {duration: 1s}, expect: 10m}
  - {id: e, action: wait, with: {duration: 1s}, expect: 20m}
  - {id: b, action: wait, with: {duration: 1s}, expect: 30m, needs: [a]}
  - {id: c, action: wait, with: {duration: 1s}, expect: 5m, needs: [a], priority: 1}
  - {id: d, action: wait, with: {duration: 1s}, expect: 1m, needs: [b, c]}
  - {id: f, action: wait, with: {duration: 1s}, needs: [d]}
`

func TestCriticalPathSmallDAG(t *testing.T) {
	p, err := plan.Parse("diamond.yaml", []byte(diamond))
	if err != nil {
		t.Fatal(err)
	}
	path, total := p.CriticalPath()
	if want := []string{"a", "b", "d", "f"}; !reflect.DeepEqual(path, want) {
		t.Errorf("critical path %v, want %v", path, want)
	}
	if total != 41*time.Minute {
		t.Errorf("critical path time %v, want 41m", total)
	}
	if got := p.SequentialSum(); got != 66*time.Minute {
		t.Errorf("sequential sum %v, want 66m", got)
	}
	if got, want := p.TopoOrder(), []string{"a", "e", "b", "c", "d", "f"}; !reflect.DeepEqual(got, want) {
		t.Errorf("topo order %v, want %v", got, want)
	}
	anc, err := p.Ancestors("d")
	if err != nil || !reflect.DeepEqual(anc, []string{"a", "b", "c"}) {
		t.Errorf("Ancestors(d) = %v, %v; want [a b c]", anc, err)
	}
	if _, err := p.Ancestors("zz"); !errors.Is(err, plan.ErrUnknownStep) {
		t.Errorf("Ancestors(zz) error %v, want ErrUnknownStep", err)
	}
	dag := p.DAG()
	if !reflect.DeepEqual(dag.Dependents["a"], []string{"b", "c"}) {
		t.Errorf("dependents of a: %v", dag.Dependents["a"])
	}
	// Ready: after a, both b and c are ready; c has priority 1 so it comes first.
	done := map[string]bool{"a": true}
	ready := p.Ready(func(id string) bool { return done[id] }, func(string) bool { return false })
	var ids []string
	for _, s := range ready {
		ids = append(ids, s.ID)
	}
	if want := []string{"c", "e", "b"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ready %v, want %v", ids, want)
	}
	if s := p.Step("c"); s == nil || s.Region != plan.RegionControlPlane || s.OnFailure != plan.FailPause {
		t.Errorf("step c: %+v; want region control-plane and onFailure pause by default", s)
	}
}

func TestFailoverCriticalPath(t *testing.T) {
	p, err := plan.ParseFile("../deploy/plans/kaigo-failover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path, total := p.CriticalPath()
	seq := p.SequentialSum()
	t.Logf("kaigo-failover: critical path %v, sequential sum %v (%d%%)", total, seq, total*100/seq)
	t.Logf("critical path: %s", strings.Join(path, " -> "))
	if total*4 > seq*3 {
		t.Errorf("critical path %v is not well below the sequential sum %v", total, seq)
	}
	if total >= 4*time.Hour {
		t.Errorf("critical path %v does not fit the seed's RTO of 4h", total)
	}
	for _, id := range []string{"restore-rds", "update-service", "switch-dns", "activate-secondary"} {
		if !contains(path, id) {
			t.Errorf("critical path lacks %s: %v", id, path)
		}
	}
	// The DNS switch and region.activate are the only steps partial drills skip.
	var skipped []string
	for _, s := range p.Steps {
		if s.SkipInDrill() {
			skipped = append(skipped, s.ID)
		}
	}
	if want := []string{"switch-dns", "activate-secondary"}; !reflect.DeepEqual(skipped, want) {
		t.Errorf("drill-skipped steps %v, want %v", skipped, want)
	}
	// Recovery priority: auth 1, DB 2, app 3, cache 4.
	for id, pr := range map[string]int{"check-login": 1, "restore-rds": 2, "update-service": 3, "create-cache": 4} {
		if got := p.Step(id).Priority; got != pr {
			t.Errorf("%s priority %d, want %d", id, got, pr)
		}
	}
}

func contains(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}

func TestInterpolate(t *testing.T) {
	ctx := plan.Context{
		Params: map[string]string{"RPO": "1h", "DB": "kaigo-subsys-dr", "N": "2"},
		Outputs: map[string]map[string]any{
			"restore-rds": {"endpoint": "db.example", "port": 5432, "tags": []any{"a", "b"}},
			"login":       {"body": map[string]any{"token": "sim-x", "n": 3.5}},
		},
		Run: plan.RunVars{ID: "run-1", StartedCompact: "20260101-093000", Primary: "us-east-1", Secondary: "us-west-2", Failed: "us-east-1", Target: "us-west-2"},
	}
	tests := []struct {
		name string
		in   any
		want any
		err  error
	}{
		{"plain", "abc", "abc", nil},
		{"param exact", "${params.RPO}", "1h", nil},
		{"output keeps type", "${steps.restore-rds.outputs.port}", 5432, nil},
		{"output list keeps type", "${steps.restore-rds.outputs.tags}", []any{"a", "b"}, nil},
		{"embedded stringified", "${steps.restore-rds.outputs.endpoint}:${steps.restore-rds.outputs.port}", "db.example:5432", nil},
		{"embedded list as json", "tags=${steps.restore-rds.outputs.tags}", `tags=["a","b"]`, nil},
		{"map path", "Bearer ${steps.login.outputs.body.token}", "Bearer sim-x", nil},
		{"map path float", "${steps.login.outputs.body.n}", 3.5, nil},
		{"run vars", "kaigo-subsys-dr-before-cutback-${run.startedCompact}", "kaigo-subsys-dr-before-cutback-20260101-093000", nil},
		{"run id", "${run.id}", "run-1", nil},
		{"regions", "${region.failed}->${region.target} (${region.primary}/${region.secondary})", "us-east-1->us-west-2 (us-east-1/us-west-2)", nil},
		{"escape", "$${params.RPO} is ${params.RPO}", "${params.RPO} is 1h", nil},
		{"nested map and list", map[string]any{"a": []any{"${params.DB}", 1}, "b": map[string]any{"c": "${params.N}"}},
			map[string]any{"a": []any{"kaigo-subsys-dr", 1}, "b": map[string]any{"c": "2"}}, nil},
		{"non-string scalar", 42, 42, nil},
		{"missing param", "${params.NOPE}", nil, plan.ErrReference},
		{"missing step", "${steps.zz.outputs.x}", nil, plan.ErrReference},
		{"missing output", "${steps.restore-rds.outputs.x}", nil, plan.ErrReference},
		{"missing path", "${steps.login.outputs.body.nope}", nil, plan.ErrReference},
		{"bad syntax", "${params.RPO", nil, plan.ErrReference},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := plan.Interpolate(tt.in, ctx)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestInterpolateWithAndRegion(t *testing.T) {
	p, err := plan.ParseFile("../deploy/plans/kaigo-failover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sys, err := system.ParseFile("../deploy/systems/kaigo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := plan.Context{
		System:  sys,
		Params:  p.ParamValues(),
		Outputs: map[string]map[string]any{"register-task-definition": {"taskDefinitionArn": "arn:td:3"}, "verify-network": {"securityGroupIds": []any{"sg-1", "sg-2"}}},
		Run:     plan.RunVars{ID: "r1", StartedCompact: "20260101-093000", Primary: "us-east-1", Secondary: "us-west-2", Failed: "us-east-1", Target: "us-west-2"},
	}
	with, err := plan.InterpolateWith(p.Step("update-service"), ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"cluster": "kaigo-subsys-dr", "service": "kaigo-subsys-dr-service", "desiredCount": 2, "taskDefinition": "arn:td:3", "wait": true}
	if !reflect.DeepEqual(with, want) {
		t.Errorf("with = %#v\nwant %#v", with, want)
	}
	with, err = plan.InterpolateWith(p.Step("create-cache"), ctx)
	if err != nil || with["engineVersion"] != "7.0" || with["numCacheClusters"] != 2 {
		t.Errorf("create-cache with = %#v, %v; want engineVersion \"7.0\" and numCacheClusters 2", with, err)
	}
	with, err = plan.InterpolateWith(p.Step("put-alarm"), ctx)
	if err != nil || with["threshold"] != "90.0" || with["period"] != 300 {
		t.Errorf("put-alarm with = %#v, %v; want threshold \"90.0\" and period 300", with, err)
	}
	r, err := p.Step("restore-rds").ResolveRegion(ctx)
	if err != nil || r != "us-west-2" {
		t.Errorf("region %q, %v; want us-west-2", r, err)
	}
	with, err = plan.InterpolateWith(p.Step("health-events"), ctx)
	if err != nil || with["region"] != "us-east-1" {
		t.Errorf("health-events with = %v, %v; want region us-east-1", with, err)
	}
	ecs, err := plan.ParseFile("../deploy/plans/kaigo-ecs-recovery.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// ${system.here.…} reads the role of the region the step runs in.
	for region, want := range map[string]string{"primary": "kaigo-subsys-prod-service", "secondary": "kaigo-subsys-dr-service",
		"us-west-2": "kaigo-subsys-dr-service"} {
		if err := plan.ApplyParams(ecs, map[string]string{"REGION": region}); err != nil {
			t.Fatal(err)
		}
		ctx.Params = ecs.ParamValues()
		if r, err := ecs.Step("scale-up").ResolveRegion(ctx); err != nil || (region == "secondary" && r != "us-west-2") {
			t.Errorf("REGION=%s: ecs scale-up region %q, %v", region, r, err)
		}
		with, err := plan.InterpolateWith(ecs.Step("scale-up"), ctx)
		if err != nil || with["service"] != want {
			t.Errorf("REGION=%s: scale-up with %v, %v; want service %s", region, with, err, want)
		}
	}
	if err := plan.ApplyParams(ecs, map[string]string{"REGION": "eu-west-1"}); err != nil {
		t.Fatal(err)
	}
	ctx.Params = ecs.ParamValues()
	if _, err := plan.InterpolateWith(ecs.Step("scale-up"), ctx); err == nil || !strings.Contains(err.Error(), "no region of the pair") {
		t.Errorf("${system.here.…} in a region outside the pair: %v", err)
	}
}

// applyParamsPlan uses params where a duration, an int and a bool are wanted.
const applyParamsPlan = `apiVersion: kirikae/v1
kind: Plan
name: restore
runKind: recovery
params:
  RPO: {default: 1h}
  COUNT: {default: "2"}
  ALLOW_DATA_LOSS: {default: "false"}
steps:
  - id: restore-db
    region: primary
    action: aws.rds.restoreSnapshot
    with: {instanceId: db2, sourceInstance: db, maxAge: "${params.RPO}", allowDataLoss: "${params.ALLOW_DATA_LOSS}"}
  - id: scale
    region: primary
    needs: [restore-db]
    action: aws.ecs.updateService
    with: {cluster: c, service: s, desiredCount: "${params.COUNT}"}
`

func TestApplyParams(t *testing.T) {
	p, err := plan.Parse("restore.yaml", []byte(applyParamsPlan))
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.ApplyParams(p, map[string]string{"NOPE": "x"}); !errors.Is(err, plan.ErrUnknownParam) {
		t.Errorf("unknown param: error %v, want ErrUnknownParam", err)
	}
	err = plan.ApplyParams(p, map[string]string{"RPO": "soon"})
	var ve *plan.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "steps[restore-db].with.maxAge") {
		t.Errorf("bad RPO: error %v, want a ValidationError naming steps[restore-db].with.maxAge", err)
	}
	if got := p.ParamValues()["RPO"]; got != "1h" {
		t.Errorf("a refused override changed RPO to %q", got)
	}
	if err := plan.ApplyParams(p, map[string]string{"RPO": "2h"}); err != nil {
		t.Fatal(err)
	}
	if got := p.ParamValues()["RPO"]; got != "2h" {
		t.Errorf("RPO = %q, want 2h", got)
	}
	if err := plan.ApplyParams(p, map[string]string{"COUNT": "two"}); err == nil {
		t.Error("COUNT=two accepted")
	}
	if err := plan.ApplyParams(p, map[string]string{"ALLOW_DATA_LOSS": "maybe"}); err == nil {
		t.Error("ALLOW_DATA_LOSS=maybe accepted")
	}
	rec, err := plan.ParseFile("../deploy/plans/kaigo-rds-recovery.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.ApplyParams(rec, map[string]string{"REGION": "nowhere"}); err == nil {
		t.Error("REGION=nowhere accepted")
	}
	pitr, err := plan.ParseFile("../deploy/plans/kaigo-rds-pitr.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := pitr.MissingParams(); !reflect.DeepEqual(got, []string{"RESTORE_TIME", "APP_URL"}) {
		t.Errorf("MissingParams = %v, want [RESTORE_TIME APP_URL]", got)
	}
	if err := plan.ApplyParams(pitr, map[string]string{"RESTORE_TIME": "yesterday"}); err == nil {
		t.Error("RESTORE_TIME=yesterday accepted")
	}
	if err := plan.ApplyParams(pitr, map[string]string{"RESTORE_TIME": "2025-01-15T12:00:00Z", "APP_URL": "https://app.example"}); err != nil {
		t.Error(err)
	}
	if got := pitr.MissingParams(); len(got) != 0 {
		t.Errorf("MissingParams after set = %v", got)
	}
}

// The orchestrator stores a run's plan as its YAML bytes and re-parses them on every node.
func TestSourceRoundTrip(t *testing.T) {
	for _, f := range bundledPlans(t) {
		p, err := plan.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("%s: marshal: %v", f, err)
		}
		var back plan.Plan
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: unmarshal: %v", f, err)
		}
		q, err := plan.Parse(back.File, back.Source)
		if err != nil {
			t.Fatalf("%s: re-parse from Source: %v", f, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Errorf("%s: re-parsed plan differs", f)
		}
	}
}

func TestShowGolden(t *testing.T) {
	for _, f := range bundledPlans(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			p, err := plan.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p.File = "deploy/plans/" + filepath.Base(f)
			var buf bytes.Buffer
			if err := plan.WriteSummary(&buf, p.Summarize()); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "show", name+".golden"), buf.Bytes())
			if name == "kaigo-failover" {
				buf.Reset()
				enc := json.NewEncoder(&buf)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if err := enc.Encode(p.Summarize()); err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("testdata", "show", name+".json.golden"), buf.Bytes())
			}
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./plan -run TestShowGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./plan -run TestShowGolden -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range bundledPlans(f) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	invalid, _ := filepath.Glob("testdata/invalid/*.yaml")
	for _, p := range invalid {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(diamond))
	f.Add([]byte("a: &x [*x]"))
	f.Add([]byte("steps: [{id: a, needs: [a]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := plan.Parse("fuzz.yaml", data)
		if err != nil {
			var ve *plan.ValidationError
			if !errors.As(err, &ve) || len(ve.Errors) == 0 {
				t.Fatalf("error is not a non-empty ValidationError: %T %v", err, err)
			}
			return
		}
		// A valid plan supports every graph operation.
		p.CriticalPath()
		p.SequentialSum()
		p.Summarize()
		if len(p.TopoOrder()) != len(p.Steps) {
			t.Fatalf("topo order has %d steps, plan %d", len(p.TopoOrder()), len(p.Steps))
		}
	})
}

// The failover plan covers every step of seed 000's "DR手順" with the seed's owners and
// names.
func TestFailoverFollowsSeed(t *testing.T) {
	p, err := plan.ParseFile("../deploy/plans/kaigo-failover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]bool{"sysadmin": true, "manager": true, "network": true, "database": true, "infrastructure": true,
		"storage": true, "application": true, "dev-qa": true, "operations": true, "support": true}
	names := ""
	for _, s := range p.Steps {
		if !roles[s.Owner] {
			t.Errorf("step %s owner %q is not one of the seed's roles", s.ID, s.Owner)
		}
		names += s.Name + "\n"
	}
	for n := 1; n <= 12; n++ {
		if !strings.Contains(names, "ステップ"+strconv.Itoa(n)+":") {
			t.Errorf("no step for the seed's ステップ%d", n)
		}
	}
}

// TestBundledDRPlansNameNothingOfTheirSystem: the bundled kaigo plans read every resource
// of the system from the system file, so no param default and no step input holds a name,
// id, account or region of the seed's system, and none holds a placeholder. With the seed's
// system file every ${system.…} they read resolves; the recovery plans, which run in either
// region (REGION), read it as ${system.here.…}.
func TestBundledDRPlansNameNothingOfTheirSystem(t *testing.T) {
	src, err := os.ReadFile("../deploy/systems/kaigo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sys, err := system.Parse("kaigo.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"kaigo-failover.yaml", "kaigo-cutback.yaml", "kaigo-rds-recovery.yaml", "kaigo-rds-pitr.yaml", "kaigo-ecs-recovery.yaml"} {
		p, err := plan.ParseFile("../deploy/plans/" + file)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.CheckSystem(sys); err != nil {
			t.Errorf("%s: %v", file, err)
		}
		if err := p.CheckSystem(nil); err == nil {
			t.Errorf("%s reads no ${system.…}", file)
		}
		var texts []string
		for _, pr := range p.Params {
			texts = append(texts, "param "+pr.Name+" = "+pr.Default)
			if pr.Name == "APP_URL" && pr.HasDefault {
				t.Errorf("%s: APP_URL has a default (%q), but no URL is safe to assume", file, pr.Default)
			}
		}
		for _, s := range p.Steps {
			b, _ := json.Marshal(s.With)
			texts = append(texts, "step "+s.ID+" with "+string(b))
		}
		for _, text := range texts {
			for _, lit := range []string{"kaigo", "123456789012", "us-east-1", "us-west-2", "Z1234567890ABC", "Z1BKCTXD74EZPE", "sg-", "xxxxx",
				"elb.amazonaws.com", "https://", "AWSBackupDefaultServiceRole"} {
				if strings.Contains(text, lit) {
					t.Errorf("%s: %s: holds %q, which belongs in the system file", file, text, lit)
				}
			}
		}
	}
}

// TestEveryAWSActionDeclaresItsIAM: an AWS action names the IAM actions it needs, each as
// service:Operation (agent/aws's TestIAMCoversEveryCall holds them to the executor's calls).
func TestEveryAWSActionDeclaresItsIAM(t *testing.T) {
	shape := regexp.MustCompile(`^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$`)
	for _, a := range plan.Actions() {
		name := a.Name
		if strings.HasPrefix(name, "aws.") && len(a.IAM) == 0 {
			t.Errorf("%s declares no IAM actions", name)
		}
		for _, act := range a.IAM {
			if !shape.MatchString(act) {
				t.Errorf("%s: IAM action %q is not service:Operation", name, act)
			}
		}
	}
}

// TestUnknownParamSuggests checks that an unknown --set name is named with the closest
// declared param, case-insensitively, and that the error does not list every param.
func TestUnknownParamSuggests(t *testing.T) {
	p, err := plan.ParseFile("../deploy/plans/kaigo-failover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ set, want string }{
		{"SMOKE_PASWORD", `"SMOKE_PASWORD" (did you mean "SMOKE_PASSWORD"?)`},
		{"app_url", `"app_url" (did you mean "APP_URL"?)`},
		{"ZZZ", `"ZZZ" is not a param of plan kaigo-failover`},
	} {
		err := plan.ApplyParams(p, map[string]string{tc.set: "x"})
		if !errors.Is(err, plan.ErrUnknownParam) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--set %s: %v, want ErrUnknownParam naming %s", tc.set, err, tc.want)
		}
		if strings.Contains(err.Error(), "UNAUTHENTICATED_STATUS") || !strings.Contains(err.Error(), "kirikae plan show") {
			t.Errorf("--set %s: %v lists the params instead of pointing to plan show", tc.set, err)
		}
	}
}
