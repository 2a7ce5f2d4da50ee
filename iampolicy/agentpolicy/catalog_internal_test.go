package agentpolicy

import (
	"maps"
	"slices"
	"testing"

	agentaws "github.com/kirikae/kirikae/agent/aws"
	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/system"
)

// everyInput gives each input of action a value, so every grant that depends on one shows.
func everyInput(a catalog.Spec) inputs {
	in := inputs{}
	for _, f := range a.Inputs {
		switch f.Type {
		case "list", "[]string":
			in[f.Name] = []any{"arn:aws:sns:us-west-2:123456789012:x"}
		case "map", "map[string]string", "object":
			in[f.Name] = map[string]any{"k": "x:1"}
		default:
			in[f.Name] = "x:1"
		}
	}
	return in
}

func grantedActions(gs []grant) []string {
	set := map[string]bool{}
	for _, g := range gs {
		set[g.action] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// TestGrantsFollowTheCatalog: every agent action the catalog defines with IAM actions has
// its grants here, granting exactly the catalog's actions (with every input given) plus the
// ones beyondCatalog names; every action with a plan check grants exactly CheckIAM's.
func TestGrantsFollowTheCatalog(t *testing.T) {
	sys, err := system.ParseFile("../../deploy/systems/kaigo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := env{region: "us-west-2", account: sys.Account, sys: sys}
	for _, a := range catalog.All() {
		if a.Where != catalog.OnAgent || len(a.IAM) == 0 {
			if executors[a.Name] != nil {
				t.Errorf("%s: grants for an action the catalog gives no IAM actions", a.Name)
			}
			continue
		}
		f := executors[a.Name]
		if f == nil {
			t.Errorf("%s: the catalog gives it IAM actions %v, and nothing here says on what", a.Name, a.IAM)
			continue
		}
		want := slices.Sorted(slices.Values(append(slices.Clone(a.IAM), beyondCatalog[a.Name]...)))
		want = slices.Compact(want)
		if got := grantedActions(f(e, everyInput(a))); !slices.Equal(got, want) {
			t.Errorf("%s: grants %v, want the catalog's %v (and beyondCatalog's %v)", a.Name, got, a.IAM, beyondCatalog[a.Name])
		}
		if got := agentaws.CheckIAM(a.Name); len(got) > 0 || checks[a.Name] != nil {
			c := checks[a.Name]
			if c == nil {
				t.Errorf("%s: its plan check calls %v, and nothing here says on what", a.Name, got)
				continue
			}
			if have := grantedActions(c(e, everyInput(a))); !slices.Equal(have, got) {
				t.Errorf("%s: the plan check's grants %v, want CheckIAM's %v", a.Name, have, got)
			}
		}
	}
	for name := range beyondCatalog {
		a, _ := catalog.Lookup(name)
		for _, x := range beyondCatalog[name] {
			if slices.Contains(a.IAM, x) {
				t.Errorf("%s: the catalog now lists %s: drop it from beyondCatalog", name, x)
			}
		}
	}
}
