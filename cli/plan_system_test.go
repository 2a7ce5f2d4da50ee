package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kirikae/kirikae/system"
)

// TestPlanValidateAgainstSystem: a plan naming a system resource that does not exist is
// refused at plan validate with the line, and the same plan passes when the path exists.
func TestPlanValidateAgainstSystem(t *testing.T) {
	sys, err := system.ParseFile("../deploy/systems/kaigo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const tmpl = "apiVersion: kirikae/v1\nkind: Plan\nname: scale\nrunKind: failover\nsteps:\n  - id: scale\n    region: secondary\n" +
		"    action: aws.ecs.updateService\n    with:\n      cluster: ${system.secondary.ecs.CLUSTER}\n      service: x\n      desiredCount: 2\n"
	dir := t.TempDir()
	write := func(name, field string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(strings.Replace(tmpl, "CLUSTER", field, 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	bad, good := write("bad.yaml", "clustr"), write("good.yaml", "cluster")
	var out bytes.Buffer
	err = runPlanValidate(&out, "table", []string{bad, good}, sys)
	if err == nil || !strings.Contains(out.String(), bad+":10: steps[scale].with.cluster: step scale reads ${system.secondary.ecs.clustr}") ||
		!strings.Contains(out.String(), "did you mean secondary.ecs.cluster") || strings.Contains(out.String(), good+":10") {
		t.Fatalf("err %v, output:\n%s", err, out.String())
	}
	out.Reset()
	if err := runPlanValidate(&out, "table", []string{good}, sys); err != nil {
		t.Fatalf("a plan whose paths exist: %v\n%s", err, out.String())
	}
	if err := runPlanValidate(&out, "table", []string{good}, nil); err == nil || !strings.Contains(out.String(), "there is no system file") {
		t.Fatalf("without --system: %v\n%s", err, out.String())
	}
}
