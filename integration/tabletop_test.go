package integration_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tabletopJSON is the summary `drill start --kind tabletop -o json` prints.
type tabletopJSON struct {
	RunID        string `json:"run_id"`
	Recorded     bool   `json:"recorded"`
	Status       string `json:"status"`
	PredictedRTO string `json:"predicted_rto"`
	CriticalPath struct {
		Steps    []string `json:"steps"`
		Duration string   `json:"duration"`
	} `json:"critical_path"`
	RPOGap *struct {
		RPO, Window string
		Gap         bool
	} `json:"rpo_gap"`
	Findings []struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	} `json:"findings"`
	Adjustments []struct {
		What, Region, Observed, Applied string
	} `json:"adjustments"`
	Report       string `json:"report"`
	ActiveBefore struct {
		Active string `json:"active"`
		Epoch  uint64 `json:"epoch"`
	} `json:"active_before"`
	ActiveAfter struct {
		Active string `json:"active"`
		Epoch  uint64 `json:"epoch"`
	} `json:"active_after"`
}

// TestTabletopDrill runs `kirikae drill start --kind tabletop` against a live cluster, a
// live `kirikae sim` and its agents: the drill runs in its own isolated world, built from
// the live readiness, and is recorded. The live region state does not move, the live sim
// sees no mutation, the report names the predicted RTO and the RPO gap, and the schedule
// shows the tabletop as the last one.
func TestTabletopDrill(t *testing.T) {
	w := newDRWorld(t, 0.002)
	w.waitAgent("us-east-1")
	before := w.regionState()
	journal := len(w.sim.Journal(t))

	reportFile := filepath.Join(t.TempDir(), "tabletop.md")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	args := []string{"drill", "start", "--kind", "tabletop", "--plan", filepath.Join(w.planDir, "kaigo-failover.yaml"),
		"--participants", "sam,mia", "--report", reportFile, "--timeline", filepath.Join(repoRoot(t), "deploy", "drills", "full-scale.yaml"),
		"-o", "json"}
	out, errOut, err := w.c.CLI(ctx, "operator-sam", w.c.Addrs(), args...)
	if err != nil {
		t.Fatalf("kirikae %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	var sum tabletopJSON
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("summary %q: %v", out, err)
	}
	t.Logf("summary: %s", out)
	if !sum.Recorded || sum.RunID == "" || sum.Status != "succeeded" {
		t.Fatalf("tabletop not recorded or not succeeded: %+v", sum)
	}
	if sum.RPOGap == nil || !sum.RPOGap.Gap {
		t.Errorf("no RPO gap in the summary: %+v", sum.RPOGap)
	}
	// The live DR agent's snapshot age reached the isolated world.
	built := false
	for _, a := range sum.Adjustments {
		if a.What == "rds.snapshot-copy-age" && a.Region == "us-west-2" && a.Observed != "" && strings.Contains(a.Applied, "old") {
			built = true
		}
	}
	if !built {
		t.Errorf("the isolated world was not built from the live readiness: %+v", sum.Adjustments)
	}
	predicted, err := time.ParseDuration(strings.ReplaceAll(sum.PredictedRTO, " ", ""))
	critical, cerr := time.ParseDuration(sum.CriticalPath.Duration)
	if err != nil || cerr != nil || predicted < critical/2 || predicted > critical*3/2 {
		t.Errorf("predicted RTO %q (%v) not near the critical path %q (%v)", sum.PredictedRTO, err, sum.CriticalPath.Duration, cerr)
	}

	// The live world did not move.
	after := w.regionState()
	if after.State.Active != before.State.Active || after.State.Epoch != before.State.Epoch || after.State.Mode != before.State.Mode {
		t.Errorf("live region state moved: %+v -> %+v", before.State, after.State)
	}
	if sum.ActiveBefore != sum.ActiveAfter || sum.ActiveAfter.Active != "us-east-1" {
		t.Errorf("the CLI saw the live region move: %+v -> %+v", sum.ActiveBefore, sum.ActiveAfter)
	}
	if got := w.sim.Journal(t); len(got) != journal {
		t.Errorf("the live awssim saw %d mutations during the tabletop: %+v", len(got)-journal, got[journal:])
	}

	// The record, and the report.
	var rec drillRunJSON
	if err := w.c.CLIJSON("operator-vic", &rec, "run", "show", sum.RunID); err != nil {
		t.Fatal(err)
	}
	if rec.Drill != "tabletop" || rec.Status != "succeeded" {
		t.Errorf("recorded run %s: drill %s status %s", rec.ID, rec.Drill, rec.Status)
	}
	md, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"机上訓練", "| | Objective | Predicted | Result |", "| RTO | 4h | " + sum.PredictedRTO + " |", "**missed**",
		"data-loss window", "exceeds the RPO of 1h", sum.RunID} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}

	// The schedule knows the tabletop.
	var schedule []struct {
		Kind string
		Last time.Time
	}
	if err := w.c.CLIJSON("operator-vic", &schedule, "drill", "schedule"); err != nil {
		t.Fatal(err)
	}
	var runs struct {
		Runs []struct {
			ID       string    `json:"id"`
			Finished time.Time `json:"finished"`
		}
	}
	if err := w.c.CLIJSON("operator-vic", &runs, "runs"); err != nil {
		t.Fatal(err)
	}
	var finished time.Time
	for _, r := range runs.Runs {
		if r.ID == sum.RunID {
			finished = r.Finished
		}
	}
	found := false
	for _, s := range schedule {
		if s.Kind == "tabletop" {
			found = true
			if !s.Last.Equal(finished) || s.Last.Format(time.DateOnly) != finished.Format(time.DateOnly) {
				t.Errorf("schedule: last tabletop %s, want the recorded one, finished %s", s.Last, finished)
			}
		}
	}
	if !found {
		t.Errorf("schedule has no tabletop row: %+v", schedule)
	}
}
