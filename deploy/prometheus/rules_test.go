// Package prometheus_test checks the alert rules in this directory with promtool (Debian's
// prometheus package): they load, their unit tests pass, every alert has series that fire
// it and series that do not, and every kirikae metric they read is one the code exports.
package prometheus_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/kirikae/kirikae/agent"
	"github.com/kirikae/kirikae/controlplane"
)

const (
	rulesFile = "kirikae.rules.yml"
	testsFile = "kirikae.rules.test.yml"
)

// promtool finds promtool or fails: CI installs it (.ci/run), and these checks must not
// pass quietly on a machine that lacks it.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is not installed: it comes with Debian's prometheus package (apt-get install prometheus), which .ci/run installs: %v", err)
	}
	return p
}

// run runs promtool in dir and returns its combined output and whether it succeeded.
func run(t *testing.T, dir string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

type testFile struct {
	Tests []struct {
		Name           string `yaml:"name"`
		AlertRuleTests []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

func decode(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// metricName matches the kirikae series an expression reads.
var metricName = regexp.MustCompile(`\bkirikae_[a-z0-9_]+`)

// exported reports whether the code registers a metric family that exports name (a
// histogram's _bucket, _sum and _count series by its base name).
func exported(names []string, name string) bool {
	if slices.Contains(names, name) {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && slices.Contains(names, base) {
			return true
		}
	}
	return false
}

func TestAlertRules(t *testing.T) {
	if out, ok := run(t, ".", "check", "rules", rulesFile); !ok {
		t.Fatalf("promtool check rules %s:\n%s", rulesFile, out)
	}
	if out, ok := run(t, ".", "test", "rules", testsFile); !ok {
		t.Fatalf("promtool test rules %s:\n%s", testsFile, out)
	}

	var rules ruleFile
	decode(t, rulesFile, &rules)
	var tests testFile
	decode(t, testsFile, &tests)
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTests {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				silent[a.Alertname] = true
			}
		}
	}
	names := append(controlplane.MetricNames(), agent.MetricNames()...)
	alerts := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			if !fires[r.Alert] || !silent[r.Alert] {
				t.Errorf("alert %s: the unit tests have a case that fires it: %v, and one that does not: %v", r.Alert, fires[r.Alert], silent[r.Alert])
			}
			if s := r.Labels["severity"]; s != "page" && s != "ticket" {
				t.Errorf("alert %s: severity %q, want page or ticket", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || len(r.Annotations["description"]) < 80 {
				t.Errorf("alert %s: needs a summary and a description that says what to do", r.Alert)
			}
			used := metricName.FindAllString(r.Expr, -1)
			if len(used) == 0 {
				t.Errorf("alert %s reads no kirikae metric: %s", r.Alert, r.Expr)
			}
			for _, m := range used {
				if !exported(names, m) {
					t.Errorf("alert %s reads %s, which neither the control plane nor the agent exports", r.Alert, m)
				}
			}
		}
	}
	// What issue 14 asks to page on, at least.
	for _, want := range []string{"KirikaeNoLeader", "KirikaeQuorumAtRisk", "KirikaeAgentLost", "KirikaeRegionNotReady", "KirikaeRPOGap",
		"KirikaeStepOverdue", "KirikaeAuditChainBroken", "KirikaePlanFindings"} {
		if !fires[want] {
			t.Errorf("no alert %s with a firing test", want)
		}
	}
	if alerts < 8 {
		t.Errorf("%d alerts", alerts)
	}
}

// TestBrokenRulesFail shows that the checks catch a broken file: promtool check rules
// refuses an expression that does not parse and a rule that is neither an alert nor a
// recording rule, and promtool test rules fails when a rule no longer behaves as its tests
// say (a longer for, a threshold off by one).
func TestBrokenRulesFail(t *testing.T) {
	src, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(testsFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, old, new string
		check          bool   // promtool check rules fails (else: the unit tests fail)
		says           string // in promtool's output
	}{
		{"an expression that does not parse", "expr: kirikae_audit_chain_ok == 0", "expr: kirikae_audit_chain_ok == == 0", true, "parse error"},
		{"a rule with neither alert nor record", "      - alert: KirikaeRunPaused\n", "      - name: KirikaeRunPaused\n", true, "field name not found"},
		{"a page that waits too long", "expr: sum(kirikae_node_healthy) == 0 or absent(kirikae_node_healthy)\n        for: 1m",
			"expr: sum(kirikae_node_healthy) == 0 or absent(kirikae_node_healthy)\n        for: 10m", false, "KirikaeNoLeader"},
		{"a threshold off by one", "count(kirikae_node_healthy == 1) <= max(kirikae_raft_quorum)",
			"count(kirikae_node_healthy == 1) < max(kirikae_raft_quorum)", false, "KirikaeQuorumAtRisk"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(string(src), c.old) {
				t.Fatalf("%s no longer holds %q", rulesFile, c.old)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, rulesFile), []byte(strings.Replace(string(src), c.old, c.new, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, testsFile), tests, 0o600); err != nil {
				t.Fatal(err)
			}
			checkOut, checkOK := run(t, dir, "check", "rules", rulesFile)
			testOut, testOK := run(t, dir, "test", "rules", testsFile)
			out, ok := testOut, testOK
			if c.check {
				out, ok = checkOut, checkOK
			} else if !checkOK {
				t.Fatalf("promtool check rules refused a rule that only behaves differently:\n%s", checkOut)
			}
			if ok {
				t.Fatalf("promtool passed the broken file:\n%s", out)
			}
			if !strings.Contains(out, c.says) {
				t.Errorf("promtool failed without naming %q:\n%s", c.says, out)
			}
		})
	}
}
