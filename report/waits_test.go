package report_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/report"
)

// TestHumanWaitsInRealTime is issue 15's "with --time-scale, a 12-second human wait is
// reported as verify-data waited 1h40m": a drill against awssim at scale 0.002 whose
// people took 12 s on the verify-data checklist. AWS steps are in plan time (wall time /
// 0.002); the checklist's wait is the 12 s the people took, in the step table, the manual
// waits, the problems, the chart and the RTO. An approval that waited while a restore ran
// spans the restore's scaled time on the chart, but reads as the seconds people took. A
// tabletop's people are simulated at the scale, so there the same wall times are plan time.
func TestHumanWaitsInRealTime(t *testing.T) {
	const scale = 0.002
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	at := func(wall time.Duration) int64 { return start.Add(wall).UnixNano() }
	step := func(id, action string, expect, from, to time.Duration) *kirikaev1.StepState {
		return &kirikaev1.StepState{Id: id, Status: kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED, Attempt: 1,
			StartedUnixNano: at(from), FinishedUnixNano: at(to),
			Spec: &kirikaev1.StepSpec{Phase: "p", Action: action, ExpectMs: expect.Milliseconds()}}
	}
	run := func(drill kirikaev1.DrillKind) *kirikaev1.Run {
		// Wall times: 5.4 s of restore is 45 m of AWS; 0.6 s of gap is 5 m; 1.2 s of DNS is 10 m.
		return &kirikaev1.Run{Id: "fo-1", Kind: kirikaev1.RunKind_RUN_KIND_FAILOVER, Drill: drill, PlanName: "kaigo-failover",
			Status: kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED, CreatedUnixNano: at(0), FinishedUnixNano: at(19200 * time.Millisecond),
			Params: map[string]string{"RTO": "4h", "RPO": "1h"}, Phases: []*kirikaev1.Phase{{Id: "p", Name: "Phase"}},
			Steps: []*kirikaev1.StepState{
				step("restore-rds", "aws.rds.restoreSnapshot", 45*time.Minute, 0, 5400*time.Millisecond),
				step("approve-activation", "approval", 10*time.Minute, 1200*time.Millisecond, 3600*time.Millisecond),
				step("verify-data", "checklist", 30*time.Minute, 6*time.Second, 18*time.Second),
				step("switch-dns", "aws.route53.upsertAlias", 10*time.Minute, 18*time.Second, 19200*time.Millisecond),
			}}
	}
	render := func(r *report.Report) (string, string) {
		var md, html bytes.Buffer
		if err := r.Markdown(&md); err != nil {
			t.Fatal(err)
		}
		if err := r.HTML(&html); err != nil {
			t.Fatal(err)
		}
		return md.String(), html.String()
	}
	actual := func(r *report.Report, id string) time.Duration {
		for _, st := range r.Steps {
			if st.ID == id {
				return st.Actual.Round(time.Second)
			}
		}
		t.Fatalf("no step %s", id)
		return 0
	}
	now := func() time.Time { return start.Add(time.Hour) }

	r := build(t, report.Input{Runs: []*kirikaev1.Run{run(kirikaev1.DrillKind_DRILL_KIND_FULL)}, TimeScale: scale, Now: now})
	for id, want := range map[string]time.Duration{
		"restore-rds": 45 * time.Minute, "verify-data": 12 * time.Second, "switch-dns": 10 * time.Minute,
		// Waiting while restore-rds ran: 2.4 s of wall time under a scaled step is 20 m.
		"approve-activation": 20 * time.Minute,
	} {
		if got := actual(r, id); got != want {
			t.Errorf("step %s took %s in the report, want %s", id, got, want)
		}
	}
	if want := 60*time.Minute + 12*time.Second; r.RTO.Achieved.Round(time.Second) != want {
		t.Errorf("RTO = %s, want %s: 45m restore, 5m gap, the 12s checklist, 10m DNS", r.RTO.Achieved, want)
	}
	md, html := render(r)
	for _, out := range []struct{ name, text string }{{"Markdown", md}, {"HTML", html}} {
		if strings.Contains(out.text, "1h40m") {
			t.Errorf("%s reports the 12s wait as 1h40m:\n%s", out.name, out.text)
		}
	}
	for _, want := range []string{
		"people's waits on approvals and checklists are in real time",
		"| fo-1 | verify-data | - | succeeded | 1 | 00:50 | 00:50 | 12s | 30m | - |",
		"| fo-1 | restore-rds | - | succeeded | 1 | 00:00 | 00:45 | 45m | 45m | - |",
		"| fo-1 | switch-dns | - | succeeded | 1 | 00:50 | 01:00 | 10m | 10m | - |",
		"- fo-1 verify-data (checklist): 12s (expect 30m)\n",
		"- fo-1 approve-activation (approval): 2s (expect 10m); other steps ran meanwhile, so it spans 20m of plan time\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "[manual-wait]") {
		t.Errorf("12s and 2s waits against expects of 30m and 10m are a problem:\n%s", md)
	}
	for _, re := range []string{
		`<tr><td>fo-1</td><td>verify-data</td>.*<td>12s</td><td>30m</td>`,
		`data-step="verify-data"[^>]*><title>verify-data · succeeded · 00:50–00:50 \(12s\)`,
		`data-step="approve-activation"[^>]*><title>[^<]*\(20m\) · people took 2s`,
		`durations in plan time, people's waits on approvals and checklists in real time`,
	} {
		if !regexp.MustCompile(re).MatchString(html) {
			t.Errorf("HTML does not match %s:\n%s", re, html)
		}
	}

	// A tabletop's participants act at the time scale: their waits are plan time.
	tt := build(t, report.Input{Runs: []*kirikaev1.Run{run(kirikaev1.DrillKind_DRILL_KIND_TABLETOP)}, TimeScale: scale, Now: now})
	if got := actual(tt, "verify-data"); got != 100*time.Minute {
		t.Errorf("tabletop: verify-data took %s, want 12s / %g = 1h40m of simulated people", got, scale)
	}
	if want := 160 * time.Minute; tt.RTO.Achieved.Round(time.Second) != want {
		t.Errorf("tabletop: RTO = %s, want %s", tt.RTO.Achieved, want)
	}
	if md, _ := render(tt); strings.Contains(md, "in real time") {
		t.Errorf("a tabletop's report says people's waits are real time:\n%s", md)
	}
}
