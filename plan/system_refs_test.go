package plan_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/system"
)

const systemRefPlan = `apiVersion: kirikae/v1
kind: Plan
name: scale-up
runKind: failover
steps:
  - id: scale
    region: secondary
    action: aws.ecs.updateService
    with:
      cluster: ${system.secondary.ecs.cluster}
      service: ${system.secondary.ecs.services.api.name}
      desiredCount: 2
  - id: scale-typo
    region: secondary
    needs: [scale]
    action: aws.ecs.updateService
    with:
      cluster: ${system.secondary.ecs.clustr}
      service: "svc-${system.secondary.ecs.services.web.name}"
      desiredCount: 2
`

// TestSystemReferences: ${system.PATH} is checked against a system file with the line of
// each reference that does not resolve, refused outright without a system, and resolved to
// the system's value when a step runs.
func TestSystemReferences(t *testing.T) {
	p, err := plan.Parse("scale.yaml", []byte(systemRefPlan))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(p.SystemRefs()); got != 4 {
		t.Fatalf("found %d system references, want 4: %+v", got, p.SystemRefs())
	}
	sys, err := system.ParseFile("../deploy/systems/kaigo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	err = p.CheckSystem(sys)
	var ve *plan.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, plan.ErrInvalid) || len(ve.Errors) != 2 {
		t.Fatalf("want 2 problems, got %v", err)
	}
	for i, want := range []struct {
		line  int
		field string
		text  string
	}{{18, "steps[scale-typo].with.cluster", "secondary.ecs.cluster"}, {19, "steps[scale-typo].with.service", "did you mean secondary.ecs.services.api.name"}} {
		e := ve.Errors[i]
		if e.Line != want.line || e.Field != want.field || !strings.Contains(e.Msg, want.text) || !strings.Contains(e.Msg, "step scale-typo") {
			t.Errorf("problem %d: %+v, want line %d field %s mentioning %q", i, e, want.line, want.field, want.text)
		}
	}
	if err := p.CheckSystem(nil); err == nil || !strings.Contains(err.Error(), "there is no system file") || !strings.Contains(err.Error(), "scale.yaml:10: steps[scale].with.cluster") {
		t.Fatalf("without a system: %v", err)
	}

	in, err := plan.InterpolateWith(p.Step("scale"), plan.Context{System: sys})
	if err != nil {
		t.Fatal(err)
	}
	if in["cluster"] != "kaigo-subsys-dr" || in["service"] != "kaigo-subsys-dr-service" {
		t.Fatalf("resolved inputs: %v", in)
	}
	if _, err := plan.InterpolateWith(p.Step("scale"), plan.Context{}); !errors.Is(err, plan.ErrReference) || !strings.Contains(err.Error(), "kirikae system apply") {
		t.Fatalf("without a system at run time: %v", err)
	}
	if _, err := plan.Parse("bad.yaml", []byte(strings.Replace(systemRefPlan, "${system.secondary.ecs.cluster}", "${system}", 1))); err == nil || !strings.Contains(err.Error(), "want ${system.PATH}") {
		t.Fatalf("a bare ${system}: %v", err)
	}
}
