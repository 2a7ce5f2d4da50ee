package integration_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/integration"
)

type drillRunJSON struct {
	runJSON
	Drill          string            `json:"drill"`
	ParentRunID    string            `json:"parent_run_id"`
	Participants   []string          `json:"participants"`
	ReadinessStart []json0           `json:"readiness_start"`
	ReadinessEnd   []json0           `json:"readiness_end"`
	Params         map[string]string `json:"params"`
}

type json0 = map[string]any

// TestFullDrill runs `kirikae drill start --kind full` as an operator would: the failover,
// then the cutback, with two epoch changes, linked runs, readiness at both ends, and a
// report that lists both runs.
func TestFullDrill(t *testing.T) {
	w := newDRWorld(t, 0.002)
	w.waitAgent("us-east-1")
	drill := integration.StartProcForTest(t, w.c.Bin, "drill", w.c.Env("operator-sam"), w.fullDrillArgs("--participants", "sam,mia,eve")...)

	var ids []string
	integration.WaitFor(t, 4*time.Minute, "the drill to complete", func() bool {
		var list struct{ Runs []drillRunJSON }
		if err := w.c.CLIJSON("operator-vic", &list, "runs"); err != nil {
			return false
		}
		ids = ids[:0]
		for _, r := range list.Runs {
			if r.Drill != "full" {
				continue
			}
			ids = append(ids, r.ID)
			if r.Status == "running" {
				w.drive(r.ID, 3*time.Minute, nil)
			}
		}
		return strings.Contains(drill.Logs(), "drill complete")
	})
	if len(ids) != 2 {
		t.Fatalf("drill runs: %v\n%s", ids, drill.Logs())
	}
	var fo, cb drillRunJSON
	if err := w.c.CLIJSON("operator-vic", &fo, "run", "show", ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.c.CLIJSON("operator-vic", &cb, "run", "show", ids[1]); err != nil {
		t.Fatal(err)
	}
	if fo.Status != "succeeded" || cb.Status != "succeeded" || cb.ParentRunID != fo.ID {
		t.Fatalf("drill runs: %s %s, cutback parent %q", fo.Status, cb.Status, cb.ParentRunID)
	}
	if len(fo.ReadinessStart) == 0 || len(cb.ReadinessStart) == 0 || !strings.Contains(strings.Join(fo.Participants, ","), "mia") {
		t.Fatalf("readiness at start %d/%d, participants %v", len(fo.ReadinessStart), len(cb.ReadinessStart), fo.Participants)
	}
	integration.WaitFor(t, 60*time.Second, "readiness at the end of both runs", func() bool {
		var a, b drillRunJSON
		return w.c.CLIJSON("operator-vic", &a, "run", "show", ids[0]) == nil && w.c.CLIJSON("operator-vic", &b, "run", "show", ids[1]) == nil &&
			len(a.ReadinessEnd) > 0 && len(b.ReadinessEnd) > 0
	})
	got := w.regionState()
	if got.State.Active != "us-east-1" || got.State.Epoch != 3 || got.State.Mode != "normal" {
		t.Fatalf("after the full drill: %+v, want us-east-1 at epoch 3 (two changes)", got.State)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, errOut, err := w.c.CLI(ctx, "operator-vic", w.c.Addrs(), "report", fo.ID, "--format", "md",
		"--timeline", filepath.Join(repoRoot(t), "deploy", "drills", "full-scale.yaml"), "--time-scale", "0.002")
	if err != nil {
		t.Fatalf("report: %v\n%s", err, errOut)
	}
	for _, id := range ids {
		if !strings.Contains(rep, id) {
			t.Errorf("the drill report does not list run %s", id)
		}
	}
}

// fullDrillArgs are the arguments of a full drill of the bundled plans against this world.
func (w *drWorld) fullDrillArgs(extra ...string) []string {
	args := []string{"drill", "start", "--kind", "full", "--reason", "yearly drill",
		"--plan", filepath.Join(w.planDir, "kaigo-failover.yaml"), "--cutback-plan", filepath.Join(w.planDir, "kaigo-cutback.yaml"),
		"--cutback-set", "APP_URL=" + w.sim.URL + "/_app/dns/api.kaigo-subsys.example.com"}
	return append(append(args, extra...), w.params...)
}

func TestDrillRefusesWithoutAgent(t *testing.T) {
	w := newDRWorld(t, 0.002)
	w.west.Kill()
	integration.WaitFor(t, 30*time.Second, "the us-west-2 agent to be gone", func() bool {
		for _, a := range w.agents().Agents {
			if a.Info.Region == "us-west-2" && a.Connected {
				return false
			}
		}
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"drill", "start", "--kind", "full", "--plan", filepath.Join(w.planDir, "kaigo-failover.yaml"),
		"--cutback-plan", filepath.Join(w.planDir, "kaigo-cutback.yaml"), "--set", "APP_URL=" + w.sim.URL + "/_app/dns/api.kaigo-subsys.example.com",
		"--cutback-set", "APP_URL=" + w.sim.URL + "/_app/dns/api.kaigo-subsys.example.com"}
	_, errOut, err := w.c.CLI(ctx, "operator-sam", w.c.Addrs(), args...)
	if err == nil || !strings.Contains(errOut, "needs an agent in us-west-2") || !strings.Contains(errOut, "--allow-missing-agent") {
		t.Fatalf("drill without the DR agent: err=%v stderr=%s", err, errOut)
	}
	var list struct{ Runs []drillRunJSON }
	if err := w.c.CLIJSON("operator-vic", &list, "runs"); err != nil {
		t.Fatal(err)
	}
	if len(list.Runs) != 0 {
		t.Fatalf("a refused drill created runs: %d", len(list.Runs))
	}
}

// TestFullDrillOutlivesTheCLI kills `kirikae drill start --kind full` as soon as the
// failover is declared: the control plane still starts the cutback when the failover
// succeeds, so the drill ends with the primary active again and nothing left half done.
func TestFullDrillOutlivesTheCLI(t *testing.T) {
	w := newDRWorld(t, 0.002)
	w.waitAgent("us-east-1")
	drill := integration.StartProcForTest(t, w.c.Bin, "drill", w.c.Env("operator-sam"), w.fullDrillArgs()...)
	integration.WaitFor(t, 60*time.Second, "the drill's failover to be declared", func() bool {
		return strings.Contains(drill.Logs(), "failover run")
	})
	drill.Kill()

	var fo, cb drillRunJSON
	integration.WaitFor(t, 4*time.Minute, "the failover and the cutback the control plane starts", func() bool {
		var list struct{ Runs []drillRunJSON }
		if err := w.c.CLIJSON("operator-vic", &list, "runs"); err != nil {
			return false
		}
		for _, r := range list.Runs {
			if r.Status == "running" {
				w.drive(r.ID, 3*time.Minute, nil)
			}
			switch {
			case r.ParentRunID == "":
				fo = r
			default:
				cb = r
			}
		}
		return cb.ID != "" && cb.Status != "running"
	})
	if fo.Status != "succeeded" || cb.Status != "succeeded" || cb.ParentRunID != fo.ID || cb.Drill != "full" {
		t.Fatalf("failover %s %s, cutback %s %s (parent %q, %s)", fo.ID, fo.Status, cb.ID, cb.Status, cb.ParentRunID, cb.Drill)
	}
	if got := w.regionState(); got.State.Active != "us-east-1" || got.State.Epoch != 3 || got.State.Mode != "normal" {
		t.Fatalf("after the drill: %+v, want us-east-1 at epoch 3", got.State)
	}
}
