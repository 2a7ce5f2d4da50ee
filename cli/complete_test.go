package cli

import (
	"strings"
	"testing"
)

// TestCompletion (issue 15): completion was cobra's default, and `__complete run show ""`
// offered nothing. It now offers the run ids the control plane knows, the steps of the run
// named, plan files, scenarios, drill kinds and roles.
func TestCompletion(t *testing.T) {
	cp := startControlPlane(t)
	plan := writePlan(t)
	mustRun(t, append([]string{"region", "init", "--primary", "us-east-1", "--secondary", "us-west-2"}, cp.as("admin")...)...)
	id := declareRun(t, cp, plan)
	// As the shell would: the settings in the environment.
	for k, v := range map[string]string{"KIRIKAE_ADDR": cp.addr, "KIRIKAE_CA": cp.dir + "/ca.pem", "KIRIKAE_CERT": cp.dir + "/operator-vic.pem", "KIRIKAE_KEY": cp.dir + "/operator-vic-key.pem"} {
		t.Setenv(k, v)
	}
	tests := []struct {
		name string
		args []string
		want []string // lines of the output, the directive last
	}{
		{"run ids", []string{"run", "show", ""}, []string{id + "\trecovery running approval-test", ":4"}},
		{"run ids by prefix", []string{"run", "approve", id[:5]}, []string{id + "\trecovery running approval-test", ":4"}},
		{"run ids of a report", []string{"report", ""}, []string{id + "\t", ":4"}},
		{"step ids of the run", []string{"run", "wait", id, ""}, []string{"approve\t", ":4"}},
		{"step ids to approve", []string{"run", "approve", id, "a"}, []string{"approve\t", ":4"}},
		{"regions of the pair", []string{"region", "set", ""}, []string{"us-east-1\tprimary, active", "us-west-2\tsecondary", ":4"}},
		{"plan files", []string{"declare", "--plan", ""}, []string{"yaml", "yml", ":8"}},
		{"plan file arguments", []string{"plan", "check", ""}, []string{"yaml", "yml", ":8"}},
		{"scenarios", []string{"declare", "--scenario", ""}, []string{"dc-fire\t", "multi-az\t", "ransomware\t", "region-outage\t", ":4"}},
		{"drill kinds", []string{"drill", "start", "--kind", ""}, []string{"full", "partial", "tabletop", ":4"}},
		{"roles", []string{"run", "approve", id, "approve", "--role", ""}, []string{"viewer", "sysadmin", "executive", ":4"}},
		{"output formats", []string{"runs", "-o", ""}, []string{"table", "json", ":4"}},
		{"actions", []string{"plan", "actions", "aws.rds."}, []string{"aws.rds.restoreSnapshot", ":4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := mustRun(t, append([]string{"__complete"}, tt.args...)...)
			for _, w := range tt.want {
				found := false
				for _, line := range strings.Split(out, "\n") {
					found = found || strings.HasPrefix(line, w)
				}
				if !found {
					t.Errorf("__complete %s: no line %q in:\n%s", strings.Join(tt.args, " "), w, out)
				}
			}
		})
	}
	t.Run("silent without a control plane", func(t *testing.T) {
		clearClientEnv(t)
		code, out, errOut := run(t, "__complete", "run", "show", "")
		if code != 0 || strings.TrimSpace(out) != ":4" || strings.Contains(errOut, "kirikae:") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
}
