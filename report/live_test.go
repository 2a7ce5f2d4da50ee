package report_test

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/report"
)

// TestGanttOfALiveRun: a run still going is charted up to the moment the report was built:
// a running step's bar and a waiting approval's bar end at the "now" line, a finished
// step's bar ends where it ended, and a pending step has its stub. A finished run has no
// now line.
func TestGanttOfALiveRun(t *testing.T) {
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) int64 { return start.Add(d).UnixNano() }
	now := start.Add(10 * time.Minute)
	step := func(id, action string, st kirikaev1.StepStatus, from, to time.Duration) *kirikaev1.StepState {
		s := &kirikaev1.StepState{Id: id, Status: st, Attempt: 1, Spec: &kirikaev1.StepSpec{Phase: "p", Action: action}}
		if from >= 0 {
			s.StartedUnixNano = at(from)
		}
		if to >= 0 {
			s.FinishedUnixNano = at(to)
		}
		return s
	}
	run := &kirikaev1.Run{Id: "r1", Kind: kirikaev1.RunKind_RUN_KIND_FAILOVER, PlanName: "live", Status: kirikaev1.RunStatus_RUN_STATUS_RUNNING,
		CreatedUnixNano: at(0), Phases: []*kirikaev1.Phase{{Id: "p", Name: "Phase"}},
		Steps: []*kirikaev1.StepState{
			step("done", "aws.rds.restoreSnapshot", kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED, 0, 2*time.Minute),
			step("going", "aws.ecs.updateService", kirikaev1.StepStatus_STEP_STATUS_RUNNING, 3*time.Minute, -1),
			step("asking", "approval", kirikaev1.StepStatus_STEP_STATUS_WAITING, 4*time.Minute, -1),
			step("later", "region.activate", kirikaev1.StepStatus_STEP_STATUS_PENDING, -1, -1),
		}}
	chart := func(r *kirikaev1.Run) string {
		rep, err := report.Build(report.Input{Runs: []*kirikaev1.Run{r}, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := rep.GanttHTML(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	svg := chart(run)
	if !strings.HasPrefix(svg, "<svg") || strings.Contains(svg, "<html") {
		t.Fatalf("GanttHTML should write the chart alone:\n%s", svg)
	}
	nowLine := regexp.MustCompile(`<line class="now" x1="([0-9.]+)"`).FindStringSubmatch(svg)
	if nowLine == nil {
		t.Fatalf("no now line on a live run's chart:\n%s", svg)
	}
	nowX, _ := strconv.ParseFloat(nowLine[1], 64)
	barEnd := func(id string) (status string, end float64) {
		m := regexp.MustCompile(`<rect class="bar" data-step="` + id + `" data-run="r1" data-status="([a-z-]+)"[^>]* x="([0-9.]+)" y="[0-9]+" width="([0-9.]+)"`).FindStringSubmatch(svg)
		if m == nil {
			t.Fatalf("no bar for %s:\n%s", id, svg)
		}
		x, _ := strconv.ParseFloat(m[2], 64)
		w, _ := strconv.ParseFloat(m[3], 64)
		return m[1], x + w
	}
	for id, want := range map[string]string{"going": "running", "asking": "waiting"} {
		status, end := barEnd(id)
		if status != want || end < nowX-0.2 || end > nowX+0.2 {
			t.Errorf("step %s: %s bar ends at x=%.1f, want %s to now (x=%.1f)", id, status, end, want, nowX)
		}
	}
	if status, end := barEnd("done"); status != "succeeded" || end >= nowX-1 {
		t.Errorf("finished step: %s bar ends at x=%.1f, want succeeded and well before now (x=%.1f)", status, end, nowX)
	}
	if status, _ := barEnd("later"); status != "pending" {
		t.Errorf("pending step drawn as %s", status)
	}

	run.Status, run.FinishedUnixNano = kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED, at(5*time.Minute)
	if svg := chart(run); strings.Contains(svg, `class="now"`) {
		t.Errorf("a finished run's chart has a now line:\n%s", svg)
	}
}
