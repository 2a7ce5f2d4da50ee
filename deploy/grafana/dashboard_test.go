// Package grafana_test checks the Grafana dashboard in this directory: it is valid JSON
// that Grafana can import, every query is PromQL (promtool parses it) and reads metrics the
// code exports, and every metric the code exports is on a panel.
package grafana_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kirikae/kirikae/agent"
	"github.com/kirikae/kirikae/controlplane"
)

type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query string `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
}

var metricName = regexp.MustCompile(`\bkirikae_[a-z0-9_]+`)

// family is the metric family a series name belongs to among names (a histogram's
// _bucket, _sum and _count series by its base name), or "".
func family(names []string, name string) string {
	if slices.Contains(names, name) {
		return name
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && slices.Contains(names, base) {
			return base
		}
	}
	return ""
}

func TestDashboard(t *testing.T) {
	b, err := os.ReadFile("kirikae.json")
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatal("kirikae.json is not valid JSON")
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("kirikae.json: %v", err)
	}
	if d.Title == "" || d.UID == "" || d.SchemaVersion == 0 || len(d.Panels) == 0 {
		t.Fatalf("a dashboard needs a title, a uid, a schemaVersion and panels: %q %q %d, %d panels", d.Title, d.UID, d.SchemaVersion, len(d.Panels))
	}
	// Queries go to the data source the importer picks.
	if len(d.Templating.List) == 0 || d.Templating.List[0].Name != "datasource" || d.Templating.List[0].Query != "prometheus" {
		t.Errorf("the first template variable must be the Prometheus data source: %+v", d.Templating.List)
	}
	names := append(controlplane.MetricNames(), agent.MetricNames()...)
	var kirikae []string
	for _, n := range names {
		if strings.HasPrefix(n, "kirikae_") {
			kirikae = append(kirikae, n)
		}
	}
	shown := map[string]bool{}
	ids := map[int]bool{}
	var exprs []string
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d is used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Title == "" || p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %d %q: needs a title and a place in the 24-column grid: %+v", p.ID, p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %+v, want the ${datasource} variable", p.Title, p.Datasource)
		}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" || tg.RefID == "" {
				t.Errorf("panel %q: query %q needs a refId and the ${datasource} variable", p.Title, tg.Expr)
			}
			used := metricName.FindAllString(tg.Expr, -1)
			if len(used) == 0 {
				t.Errorf("panel %q: query %q reads no kirikae metric", p.Title, tg.Expr)
			}
			exprs = append(exprs, tg.Expr)
			for _, m := range used {
				f := family(kirikae, m)
				if f == "" {
					t.Errorf("panel %q reads %s, which neither the control plane nor the agent exports", p.Title, m)
				}
				shown[f] = true
			}
		}
	}
	for _, n := range kirikae {
		if !shown[n] {
			t.Errorf("no panel shows %s", n)
		}
	}
	checkPromQL(t, exprs)
}

// checkPromQL has promtool parse every query, as the expressions of recording rules.
func checkPromQL(t *testing.T, exprs []string) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is not installed: it comes with Debian's prometheus package (apt-get install prometheus), which .ci/run installs: %v", err)
	}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range exprs {
		q, err := json.Marshal(e) // a JSON string is a YAML string
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&rules, "      - record: kirikae_dashboard_query_%d\n        expr: %s\n", i, q)
	}
	f := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	if err := os.WriteFile(f, []byte(rules.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", f).CombinedOutput(); err != nil {
		t.Errorf("a dashboard query is not PromQL: promtool check rules: %v\n%s", err, out)
	}
}
