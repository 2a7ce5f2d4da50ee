package integration_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/buildinfo"
	"github.com/kirikae/kirikae/integration"
)

type agentsJSON struct {
	Agents []struct {
		Info struct {
			ID      string `json:"id"`
			Region  string `json:"region"`
			Version string `json:"version"`
		} `json:"info"`
		Connected   bool   `json:"connected"`
		ConnectedTo string `json:"connected_to"`
	} `json:"agents"`
}

func (w *drWorld) agents() agentsJSON {
	var a agentsJSON
	if err := w.c.CLIJSON("operator-vic", &a, "agents"); err != nil {
		w.t.Logf("agents: %v", err)
	}
	return a
}

// TestAgentStreamAgainstRealControlPlane covers the agent stream with three real mTLS
// control-plane processes: reconnecting after the leader dies, refusing an assignment
// fenced by a lower epoch, and refusing a certificate for another region.
func TestAgentStreamAgainstRealControlPlane(t *testing.T) {
	w := newDRWorld(t, 0.01)
	w.east.Kill() // only us-west-2 matters here

	t.Run("registers with the version kirikae version prints", func(t *testing.T) {
		out, err := exec.Command(w.c.Bin, "version", "-o", "json").Output()
		if err != nil {
			t.Fatal(err)
		}
		var info buildinfo.Info
		if err := json.Unmarshal(out, &info); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		w.waitAgent("us-west-2")
		found := false
		for _, a := range w.agents().Agents {
			if a.Info.Region == "us-west-2" {
				found = true
				if a.Info.Version != info.String() {
					t.Errorf("kirikae agents shows version %q, kirikae version says %q", a.Info.Version, info.String())
				}
			}
		}
		if !found {
			t.Error("kirikae agents lists no us-west-2 agent")
		}
	})

	t.Run("reconnects after the leader is killed", func(t *testing.T) {
		leader := w.c.WaitLeader(0, 20*time.Second)
		old := w.c.Nodes[leader].ID
		w.c.Kill(leader)
		survivor := (leader + 1) % 3
		w.c.WaitLeader(survivor, 20*time.Second, old)
		integration.WaitFor(t, 30*time.Second, "the agent to reconnect to the new leader", func() bool {
			for _, a := range w.agents().Agents {
				if a.Info.Region == "us-west-2" && a.Connected && a.ConnectedTo != "" && a.ConnectedTo != old {
					return true
				}
			}
			return false
		})
		w.c.Start(leader)
		for i := range w.c.Nodes {
			w.c.WaitLeader(i, 30*time.Second)
		}
	})

	t.Run("an assignment with a lower epoch is refused", func(t *testing.T) {
		// The agent has seen epoch 100 (say, from a control plane restored from backup
		// that has not caught up): anything fenced lower must not run.
		w.west.Stop()
		dir := filepath.Join(w.c.CertDir, "agent-data-us-west-2")
		if err := os.WriteFile(filepath.Join(dir, "epoch"), []byte("100\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		w.west.Start()
		w.waitAgent("us-west-2")
		plan := filepath.Join(w.planDir, "kaigo-ecs-recovery.yaml")
		var r runJSON
		if err := w.c.CLIJSON("operator-sam", &r, "declare", "--plan", plan, "--reason", "epoch test", "--set", "REGION=secondary",
			"--set", "APP_URL="+w.sim.URL+"/_app/dns/api.kaigo-subsys.example.com"); err != nil {
			t.Fatal(err)
		}
		confirmed := false
		integration.WaitFor(t, 60*time.Second, "the first agent step to be refused", func() bool {
			for _, st := range w.run(r.ID).Steps {
				if st.Spec.Action == "checklist" && st.Status == "waiting" && !confirmed {
					confirmed = true
					w.c.MustCLI("operator-sam", w.c.Addrs(), "run", "confirm", r.ID, st.ID)
				}
				if strings.Contains(st.Error, "stale epoch 1 < 100") {
					return true
				}
			}
			return false
		})
		// Nothing in us-west-2 changed: the refused step never reached AWS.
		for _, e := range w.sim.Journal(t) {
			if e.Region == "us-west-2" && e.Operation == "UpdateService" {
				t.Fatalf("a fenced step mutated AWS: %+v", e)
			}
		}
		w.c.MustCLI("operator-sam", w.c.Addrs(), "run", "abort", r.ID, "--reason", "test done")
	})

	t.Run("an agent certificate for us-east-1 cannot register as us-west-2", func(t *testing.T) {
		imposter := integration.StartProcForTest(t, w.c.Bin, "imposter", []string{"AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y"},
			"agent", "--region", "us-west-2", "--id", "us-west-2/imposter", "--control-plane", w.c.Addrs(),
			"--data-dir", t.TempDir(), "--aws-endpoint", w.sim.URL, "--tls-ca", w.c.CA(),
			"--tls-cert", filepath.Join(w.c.CertDir, "agent-us-east-1.pem"), "--tls-key", filepath.Join(w.c.CertDir, "agent-us-east-1-key.pem"))
		integration.WaitFor(t, 30*time.Second, "the imposter to be refused", func() bool {
			return strings.Contains(imposter.Logs(), "spiffe://kirikae/agent/us-east-1")
		})
		imposter.Kill()
		for _, a := range w.agents().Agents {
			if a.Info.ID == "us-west-2/imposter" {
				t.Fatalf("the imposter registered: %+v", a)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		audit, _, _ := w.c.CLI(ctx, "operator-admin", w.c.Addrs(), "audit")
		if strings.Contains(audit, "us-west-2/imposter") {
			t.Fatal("the imposter's registration reached the audit log as applied")
		}
	})

	t.Run("readiness shows the RPO gap of the daily snapshot copy", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		out, errOut, err := w.c.CLI(ctx, "operator-vic", w.c.Addrs(), "readiness", "--refresh", "--region", "us-west-2")
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 4 {
			t.Fatalf("readiness of a region that is not ready: err=%v stderr=%s", err, errOut)
		}
		if !strings.Contains(out, "us-west-2: not ready, because:") || !strings.Contains(out, "rds.snapshot-copy-age") || !strings.Contains(out, "RPO 1h") {
			t.Fatalf("readiness output:\n%s", out)
		}
		if n := strings.Count(out, "\n  - "); n != 1 {
			t.Fatalf("want exactly the RPO finding, got %d reasons:\n%s", n, out)
		}
	})
}
