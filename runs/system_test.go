package runs_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kirikae/kirikae/deploy"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/runs"
	"github.com/kirikae/kirikae/system"
)

const scalePlan = `apiVersion: kirikae/v1
kind: Plan
name: scale-up
runKind: recovery
steps:
  - id: scale
    region: secondary
    action: aws.ecs.updateService
    with:
      cluster: ${system.secondary.ecs.cluster}
      service: ${system.secondary.ecs.services.api.name}
      desiredCount: 2
`

func storedSystem(t *testing.T, name string, edit func(string) string) *kirikaev1.SystemRecord {
	t.Helper()
	src, err := deploy.System(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := system.Parse(name, []byte(edit(string(src))))
	if err != nil {
		t.Fatal(err)
	}
	return &kirikaev1.SystemRecord{Name: s.Name, Yaml: s.Marshal(), Digest: s.Digest(), SourceFile: name, Version: 1}
}

// TestCompileReadsTheStoredSystem: a plan's ${system.…} resolve from the system stored when
// the run was compiled, which the run keeps; without a stored system, or with a path the
// system lacks, the plan is refused at compile time with its line.
func TestCompileReadsTheStoredSystem(t *testing.T) {
	p := &runs.Planner{}
	sys := storedSystem(t, "kaigo.yaml", func(s string) string { return s })
	run, err := p.Compile([]byte(scalePlan), nil, pair, sys)
	if err != nil {
		t.Fatal(err)
	}
	if run.GetSystem().GetDigest() != sys.GetDigest() {
		t.Fatalf("the run keeps no copy of the system: %v", run.GetSystem())
	}
	run.Id, run.PlanSource = "r1", []byte(scalePlan)
	in, err := p.Resolve(run, run.GetSteps()[0])
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	if got["cluster"] != "kaigo-subsys-dr" || got["service"] != "kaigo-subsys-dr-service" {
		t.Fatalf("resolved: %v", got)
	}

	// A system applied after the run was declared (another cluster name) changes nothing
	// for it: the run resolves from its own copy, also once its plan left the cache.
	changed := storedSystem(t, "kaigo.yaml", func(s string) string { return strings.Replace(s, "kaigo-subsys-dr\n", "renamed-dr\n", -1) })
	if changed.GetDigest() == sys.GetDigest() {
		t.Fatal("test data: the edit changed nothing")
	}
	other, err := p.Compile([]byte(scalePlan), nil, pair, changed)
	if err != nil {
		t.Fatal(err)
	}
	other.Id, other.PlanSource = "r2", []byte(scalePlan)
	if in, err := (&runs.Planner{}).Resolve(run, run.GetSteps()[0]); err != nil || !strings.Contains(in, `"cluster":"kaigo-subsys-dr"`) {
		t.Fatalf("the first run after a new system: %s, %v", in, err)
	}
	if in, err := p.Resolve(other, other.GetSteps()[0]); err != nil || !strings.Contains(in, `"cluster":"renamed-dr"`) {
		t.Fatalf("the run declared under the new system: %s, %v", in, err)
	}

	_, err = p.Compile([]byte(scalePlan), nil, pair, nil)
	if !errors.Is(err, plan.ErrInvalid) || !strings.Contains(err.Error(), "plan:10: steps[scale].with.cluster") || !strings.Contains(err.Error(), "kirikae system apply") {
		t.Fatalf("without a stored system: %v", err)
	}
	renamed := storedSystem(t, "kaigo.yaml", func(s string) string {
		return strings.Replace(s, "api:", "web:", -1)
	})
	_, err = p.Compile([]byte(scalePlan), nil, pair, renamed)
	if !errors.Is(err, plan.ErrInvalid) || !strings.Contains(err.Error(), "plan:11: steps[scale].with.service") || !strings.Contains(err.Error(), "secondary.ecs.services.web.name") {
		t.Fatalf("a path the system lacks: %v", err)
	}
}
