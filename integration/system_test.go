package integration_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/integration"
)

// TestBadSystemFilesChangeNothing: through the CLI against a cluster, a system file with an
// unknown key, a wrong type, a duplicate name or an unknown region is refused with its
// file, line and field, and the stored system stays what it was; a plan that names a
// resource the system does not have is refused at plan validate, with the plan's line.
func TestBadSystemFilesChangeNothing(t *testing.T) {
	c := integration.NewCluster(t, 1, integration.Options{Operators: []string{"vic"}, Roles: drRoles})
	c.MustCLI("operator-admin", c.Addrs(), "region", "init", "--primary", "us-east-1", "--secondary", "us-west-2")
	good := filepath.Join(repoRoot(t), "deploy", "systems", "kaigo.yaml")
	c.MustCLI("operator-admin", c.Addrs(), "system", "apply", good)
	before := c.MustCLI("operator-vic", c.Addrs(), "system", "show", "-o", "json")
	src, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	lineOfText := func(text, in string) int {
		i := strings.Index(in, text)
		if i < 0 {
			t.Fatalf("%q not in the edited file", text)
		}
		return strings.Count(in[:i], "\n") + 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tc := range []struct{ name, old, new, at, field string }{
		{"unknown key", "  dns:\n", "  dnss: {}\n  dns:\n", "dnss:", "spec.dnss"},
		{"wrong type", "desiredCount: 2                        # desired count を 2に", "desiredCount: two", "desiredCount: two", "spec.regions.secondary.ecs.services.api.desiredCount"},
		{"duplicate name", "          api:\n            name: kaigo-subsys-dr-service\n", "          api:\n            name: kaigo-subsys-dr-service\n            name: kaigo-subsys-dr-api\n", "name: kaigo-subsys-dr-api", "spec.regions.secondary.ecs.services.api.name"},
		{"unknown region", "region: us-west-2", "region: us-westt", "region: us-westt", "spec.regions.secondary.region"},
	} {
		edited := strings.Replace(string(src), tc.old, tc.new, 1)
		if edited == string(src) {
			t.Fatalf("%s: %q is not in kaigo.yaml", tc.name, tc.old)
		}
		file := filepath.Join(t.TempDir(), "kaigo.yaml")
		if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
			t.Fatal(err)
		}
		want := file + ":" + strconv.Itoa(lineOfText(tc.at, edited)) + ": " + tc.field
		_, errOut, err := c.CLI(ctx, "operator-admin", c.Addrs(), "system", "apply", file)
		if err == nil || !strings.Contains(errOut, want) {
			t.Errorf("%s: err=%v, want %q in:\n%s", tc.name, err, want, errOut)
		}
		if after := c.MustCLI("operator-vic", c.Addrs(), "system", "show", "-o", "json"); after != before {
			t.Fatalf("%s: a refused apply changed the stored system", tc.name)
		}
	}

	plan := filepath.Join(t.TempDir(), "scale.yaml")
	if err := os.WriteFile(plan, []byte(`apiVersion: kirikae/v1
kind: Plan
name: scale-worker
runKind: recovery
steps:
  - id: scale
    region: secondary
    action: aws.ecs.updateService
    with:
      cluster: ${system.secondary.ecs.cluster}
      service: ${system.secondary.ecs.services.worker.name}
      desiredCount: 2
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := c.CLI(ctx, "operator-vic", c.Addrs(), "plan", "validate", "--system", good, plan)
	if err == nil || !strings.Contains(out, plan+":11: steps[scale].with.service") || !strings.Contains(out, "did you mean secondary.ecs.services.api.name?") {
		t.Errorf("plan naming a service the system lacks: err=%v\n%s%s", err, out, errOut)
	}
}
