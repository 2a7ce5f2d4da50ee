package report_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output; if the change is intended, run go test ./report -update\n--- got ---\n%s", path, got)
	}
}

func build(t *testing.T, in report.Input) *report.Report {
	t.Helper()
	r, err := report.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMarkdownGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    func(t *testing.T) report.Input
		check func(t *testing.T, r *report.Report)
	}{
		{"full-drill.md", func(t *testing.T) report.Input { return fixture(t, 1, kirikaev1.DrillKind_DRILL_KIND_FULL) }, func(t *testing.T, r *report.Report) {
			if r.Aligned {
				t.Error("a drill on the timeline's day at scale 1 should use the real times")
			}
			if len(r.Runs) != 2 || r.Runs[0].ID != "run-fo" || r.Runs[1].ID != "run-cb" {
				t.Errorf("runs = %+v, want the failover then the cutback", r.Runs)
			}
			if r.Timeline == nil || len(r.Timeline.Rows) != 11 {
				t.Fatalf("timeline rows = %v, want the seed's 11", r.Timeline)
			}
			for _, row := range r.Timeline.Rows {
				if !row.HasActual {
					t.Errorf("row %s %s has no actual time", row.Clock, row.Action)
				}
			}
		}},
		// A real failover, not a drill, recorded against awssim at 1/100 of real time.
		{"incident.md", func(t *testing.T) report.Input {
			in := fixture(t, 0.01, kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED)
			in.Runs[0].Status = kirikaev1.RunStatus_RUN_STATUS_PAUSED
			in.Runs[0].FinishedUnixNano = 0
			in.Runs[0].Reason = "AWS Health: us-east-1 EC2 operational issue"
			for _, st := range in.Runs[0].GetSteps() {
				switch st.GetId() {
				case "restore-rds":
					st.History[0] = "attempt 1 failed: guard rail: snapshot rds:kaigo-subsys-prod-2025-11-30-03-00 is 21h old > maxAge 1h; set allowDataLoss to restore anyway"
				case "notify-resumed":
					st.Status, st.Error = kirikaev1.StepStatus_STEP_STATUS_FAILED, "sns Publish: AuthorizationError"
					st.History = []string{"attempt 1 failed: sns Publish: AuthorizationError"}
				}
			}
			in.Runs[0].Error = "step notify-resumed failed: sns Publish: AuthorizationError; retry, skip or abort it"
			return in
		}, func(t *testing.T, r *report.Report) {
			if !strings.HasPrefix(r.Title, "障害報告書") || r.Drill != "" {
				t.Errorf("title %q, drill %q: want an incident report", r.Title, r.Drill)
			}
			if r.RTO.Known {
				t.Error("an unfinished failover has no RTO")
			}
			kinds := map[report.ProblemKind]bool{}
			for _, p := range r.Problems {
				kinds[p.Kind] = true
			}
			for _, k := range []report.ProblemKind{report.ProblemRunFailed, report.ProblemFailed, report.ProblemGuardRail, report.ProblemRetried} {
				if !kinds[k] {
					t.Errorf("no %s problem in %+v", k, r.Problems)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := build(t, tc.in(t))
			tc.check(t, r)
			var buf bytes.Buffer
			if err := r.Markdown(&buf); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, buf.Bytes())
		})
	}
}

func TestProblemsAndObjectives(t *testing.T) {
	r := build(t, fixture(t, 1, kirikaev1.DrillKind_DRILL_KIND_FULL))
	kinds := map[report.ProblemKind][]string{}
	for _, p := range r.Problems {
		kinds[p.Kind] = append(kinds[p.Kind], p.Step+" "+p.Summary)
	}
	for _, want := range []struct {
		kind report.ProblemKind
		has  string
	}{
		{report.ProblemRetried, "restore-rds"},
		{report.ProblemSlow, "restore-rds"},
		{report.ProblemManualWait, "approve-activation"},
		{report.ProblemReadiness, "rds.snapshot-copy-age"},
		{report.ProblemRPO, "21h"},
	} {
		if !strings.Contains(strings.Join(kinds[want.kind], "\n"), want.has) {
			t.Errorf("problems of kind %s = %q, want one about %s", want.kind, kinds[want.kind], want.has)
		}
	}
	if n := len(kinds[report.ProblemReadiness]); n != 1 {
		t.Errorf("the same FAIL at start and end is %d problems, want 1", n)
	}
	if !r.RPO.Known || r.RPO.Window != 21*time.Hour || r.RPO.Met || r.RPO.Objective != time.Hour {
		t.Errorf("RPO = %+v, want a 21h window missing the 1h objective", r.RPO)
	}
	if !r.RTO.Known || r.RTO.Objective != 4*time.Hour {
		t.Errorf("RTO = %+v", r.RTO)
	}
	var names []string
	for _, p := range r.Participants {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "alice,bob,carol,erin" {
		t.Errorf("participants = %s, want alice,bob,carol,erin (no servers, no refused or unrelated approvals)", got)
	}
	found := false
	for _, s := range r.Improvements {
		found = found || strings.Contains(s, "at least hourly") && strings.Contains(s, "read replica")
	}
	if !found {
		t.Errorf("improvements %q lack the hourly snapshot copy", r.Improvements)
	}
}

// TestTimeScale: the same drill recorded at scale 1 and against awssim at 0.002, where
// AWS ran 500 times faster but people took their approvals and checklists in real time
// (the fixture's simulate), reads the same in plan time: every step's span and the RTO.
func TestTimeScale(t *testing.T) {
	slow := build(t, fixture(t, 1, kirikaev1.DrillKind_DRILL_KIND_FULL))
	in := fixture(t, 0.002, kirikaev1.DrillKind_DRILL_KIND_FULL)
	fast := build(t, in)
	if !fast.Aligned {
		t.Error("a scaled drill should be aligned to the timeline")
	}
	if fast.RTO.Achieved.Round(time.Second) != slow.RTO.Achieved.Round(time.Second) {
		t.Errorf("RTO at scale 0.002 = %s, at scale 1 = %s: want equal in plan time", fast.RTO.Achieved, slow.RTO.Achieved)
	}
	if len(fast.Steps) != len(slow.Steps) {
		t.Fatalf("%d steps at scale 0.002, %d at scale 1", len(fast.Steps), len(slow.Steps))
	}
	for i, st := range fast.Steps {
		if want := slow.Steps[i]; st.ID != want.ID || st.Actual.Round(time.Second) != want.Actual.Round(time.Second) ||
			st.StartOff.Round(time.Second) != want.StartOff.Round(time.Second) {
			t.Errorf("step %s at scale 0.002: %s from %s; %s at scale 1: %s from %s", st.ID, st.Actual, st.StartOff, want.ID, want.Actual, want.StartOff)
		}
	}
}

func TestBuildNoRuns(t *testing.T) {
	if _, err := report.Build(report.Input{}); !errors.Is(err, report.ErrNoRuns) {
		t.Fatalf("err = %v, want ErrNoRuns", err)
	}
}

func TestFullScaleTimelineMatchesPlans(t *testing.T) {
	tl := loadTimeline(t)
	fo, cb := loadPlan(t, "kaigo-failover.yaml"), loadPlan(t, "kaigo-cutback.yaml")
	if err := tl.ValidateAgainst(fo, cb); err != nil {
		t.Fatal(err)
	}
	want := []struct{ clock, action, owner string }{
		{"09:00", "訓練開始宣言", "管理職"},
		{"09:10", "DR発動判断", "システム管理者 + 管理職"},
		{"09:30", "DR環境構築開始", "インフラチーム"},
		{"11:30", "DR環境構築完了", "インフラチーム"},
		{"11:45", "DNS切り替え", "ネットワークチーム"},
		{"13:00", "動作確認完了", "開発チーム、QAチーム"},
		{"13:30", "切り戻し準備", "システム管理者"},
		{"15:00", "切り戻し完了", "インフラチーム"},
		{"15:30", "動作確認完了", "開発チーム"},
		{"16:00", "振り返りミーティング", "全チーム"},
		{"17:00", "訓練終了", "管理職"},
	}
	if len(tl.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(tl.Rows), len(want))
	}
	jst := time.FixedZone("JST", 9*3600)
	for i, w := range want {
		row := tl.Rows[i]
		if row.Clock != w.clock || row.Action != w.action || row.Owner != w.owner || row.Match.IsZero() {
			t.Errorf("row %d = %s %s %s (%v), want %s %s %s, matched", i, row.Clock, row.Action, row.Owner, row.Match, w.clock, w.action, w.owner)
		}
		if got := row.Time.In(jst).Format("2006-01-02 15:04"); got != "2025-12-01 "+w.clock {
			t.Errorf("row %d at %s, want 2025-12-01 %s JST", i, got, w.clock)
		}
	}
	// With the failover plan alone, the cutback rows name a plan that is not there.
	if err := tl.ValidateAgainst(fo); err == nil || !strings.Contains(err.Error(), "unknown plan") {
		t.Errorf("against the failover alone: %v, want unknown plan", err)
	}
}

func TestTimelineErrors(t *testing.T) {
	fo, cb := loadPlan(t, "kaigo-failover.yaml"), loadPlan(t, "kaigo-cutback.yaml")
	head := "apiVersion: kirikae/v1\nkind: Timeline\nname: t\ndate: 2025-12-01\nrows:\n"
	for _, tc := range []struct {
		name, body string
		validate   bool
		want       []string
	}{
		{"bad time", `  - {time: "09:00", action: a, owner: o, match: {phase: prepare}}
  - {time: "25:00", action: b, owner: o}
`, false, []string{`t.yaml:7: rows[1].time: "25:00" is not a time`}},
		{"bad minutes", `  - {time: "9:75", action: a}
`, false, []string{`t.yaml:6: rows[0].time: "9:75" is not a time`}},
		{"out of order", `  - {time: "10:00", action: a}
  - {time: "09:00", action: b}
`, false, []string{`t.yaml:7: rows[1].time: 09:00 is before the row above (10:00, line 6)`}},
		{"unknown field", `  - {time: "09:00", action: a, ownr: o}
`, false, []string{`t.yaml:6: rows[0]: unknown field "ownr" (want time, action, owner, match)`}},
		{"unknown match field", `  - {time: "09:00", action: a}
  - time: "09:30"
    action: b
    match: {stp: x}
`, false, []string{`t.yaml:9: rows[1].match: unknown field "stp" (want plan, phase, step, at)`}},
		{"unknown top field", `  - {time: "09:00", action: a}
owner: x
`, false, []string{`t.yaml:7: timeline: unknown field "owner"`}},
		{"unknown step", `  - {time: "09:00", action: a, match: {plan: kaigo-failover, phase: prepare}}
  - time: "09:30"
    action: b
    match: {step: restore-rdss}
`, true, []string{`t.yaml:9: rows[1].match.step: unknown step "restore-rdss"`}},
		{"unknown phase", `  - {time: "09:00", action: a, match: {phase: teardown}}
`, true, []string{`t.yaml:6: rows[0].match.phase: unknown phase "teardown"`}},
		{"ambiguous", `  - {time: "09:00", action: a, match: {phase: dns}}
`, true, []string{`t.yaml:6: rows[0].match: phase dns is in kaigo-failover and kaigo-cutback: name the plan`}},
		{"phase and step", `  - {time: "09:00", action: a, match: {phase: dns, step: switch-dns, at: middle}}
`, false, []string{"t.yaml:6: rows[0].match: name a phase or a step, not both", `t.yaml:6: rows[0].match.at: "middle": want start or end`}},
		{"missing action", `  - {time: "09:00", owner: o}
`, false, []string{"t.yaml:6: rows[0].action: required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl, err := report.ParseTimeline("t.yaml", []byte(head+tc.body))
			if tc.validate {
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				err = tl.ValidateAgainst(fo, cb)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, report.ErrInvalidTimeline) {
				t.Errorf("%v does not wrap ErrInvalidTimeline", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nlacks %q", err, w)
				}
			}
		})
	}
	if _, err := report.ParseTimeline("e.yaml", nil); err == nil || !strings.Contains(err.Error(), "e.yaml:1: timeline: empty file") {
		t.Errorf("empty file: %v", err)
	}
	var te *report.TimelineError
	_, err := report.ParseTimeline("h.yaml", []byte("apiVersion: v0\nkind: Plan\nname: x\ndate: 2025-13-01\nrows: []\n"))
	if !errors.As(err, &te) || len(te.Errors) != 4 {
		t.Errorf("header errors: %v, want 4 (apiVersion, kind, date, rows)", err)
	}
	_ = plan.FieldError{}
}

func TestNextDrills(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	got := report.NextDrills(map[report.DrillKind]time.Time{
		report.Tabletop: time.Date(2025, 11, 30, 0, 0, 0, 0, time.UTC),
		report.Full:     time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC),
	}, now)
	want := []struct {
		kind    report.DrillKind
		next    string
		overdue bool
	}{
		{report.Tabletop, "2026-02-28", true}, // 30 Nov + 3 months, clamped to February's end
		{report.Partial, "2026-03-01", true},  // never drilled: due now
		{report.Full, "2026-12-01", false},
	}
	if len(got) != len(want) {
		t.Fatalf("%d kinds, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Kind != w.kind || got[i].Next.Format(time.DateOnly) != w.next || got[i].Overdue != w.overdue {
			t.Errorf("%d: %+v, want %s next %s overdue %t", i, got[i], w.kind, w.next, w.overdue)
		}
	}
	if k, err := report.ParseDrillKind("full"); err != nil || k != report.Full || k.CadenceMonths() != 12 {
		t.Errorf("ParseDrillKind(full) = %v, %v", k, err)
	}
	if _, err := report.ParseDrillKind("yearly"); err == nil {
		t.Error("ParseDrillKind(yearly) accepted")
	}
}

// bars counts the elements whose class list holds "bar" in an HTML document, and their
// (data-run, data-step) pairs.
func bars(t *testing.T, doc []byte) (int, map[string]int) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	n, seen := 0, map[string]int{}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("parse html: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		var class, run, step string
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "class":
				class = a.Value
			case "data-run":
				run = a.Value
			case "data-step":
				step = a.Value
			}
		}
		for _, c := range strings.Fields(class) {
			if c == "bar" {
				n++
				seen[run+"/"+step]++
			}
		}
	}
	return n, seen
}

func stepCount(in report.Input) int {
	n := 0
	for _, r := range in.Runs {
		n += len(r.GetSteps())
	}
	return n
}

func TestHTMLOneBarPerStep(t *testing.T) {
	t.Run("full drill", func(t *testing.T) { checkHTML(t, fixture(t, 1, kirikaev1.DrillKind_DRILL_KIND_FULL)) })
	t.Run("unfinished failover, no timeline", func(t *testing.T) {
		in := fixture(t, 0.01, kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED)
		r := in.Runs[0]
		r.Status, r.FinishedUnixNano = kirikaev1.RunStatus_RUN_STATUS_RUNNING, 0
		for _, st := range r.GetSteps()[20:] {
			st.Status, st.StartedUnixNano, st.FinishedUnixNano = kirikaev1.StepStatus_STEP_STATUS_PENDING, 0, 0
		}
		r.Steps[19].Status, r.Steps[19].FinishedUnixNano = kirikaev1.StepStatus_STEP_STATUS_RUNNING, 0
		checkHTML(t, in)
	})
}

func checkHTML(t *testing.T, in report.Input) {
	t.Helper()
	var buf bytes.Buffer
	if err := build(t, in).HTML(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, banned := range []string{"<script", "<link", "src=", "@import", "url("} {
		if strings.Contains(out, banned) {
			t.Errorf("the page has %q: it must be self-contained", banned)
		}
	}
	want := []string{"<svg", `class="phase`, `class="time-axis"`}
	if in.Timeline != nil {
		want = append(want, `class="target"`, `class="milestone"`)
	}
	for _, want := range want {
		if !strings.Contains(out, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	n, seen := bars(t, buf.Bytes())
	if want := stepCount(in); n != want {
		t.Errorf("%d bars, want one per step: %d", n, want)
	}
	for _, r := range in.Runs {
		for _, st := range r.GetSteps() {
			if seen[r.GetId()+"/"+st.GetId()] != 1 {
				t.Errorf("step %s/%s has %d bars", r.GetId(), st.GetId(), seen[r.GetId()+"/"+st.GetId()])
			}
		}
	}
}

func TestPartialDrillRTOSaysNoTrafficMoved(t *testing.T) {
	in := fixture(t, 1, kirikaev1.DrillKind_DRILL_KIND_PARTIAL)
	r := build(t, in)
	if !strings.Contains(r.RTO.Basis, "partial drill skips the DNS switch") {
		t.Errorf("RTO basis of a partial drill: %q", r.RTO.Basis)
	}
	if full := build(t, fixture(t, 1, kirikaev1.DrillKind_DRILL_KIND_FULL)); strings.Contains(full.RTO.Basis, "partial") {
		t.Errorf("RTO basis of a full drill: %q", full.RTO.Basis)
	}
}

func TestTimelineForPlans(t *testing.T) {
	tl, err := report.ParseTimeline("t.yaml", []byte(`apiVersion: kirikae/v1
kind: Timeline
name: t
date: 2025-12-01
rows:
  - {time: "09:00", action: a, match: {plan: kaigo-failover, phase: prepare}}
  - {time: "10:00", action: b}
  - {time: "13:00", action: c, match: {plan: kaigo-cutback, phase: confirm}}
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range tl.ForPlans("kaigo-failover").Rows {
		got = append(got, r.Action)
	}
	if strings.Join(got, ",") != "a,b" || len(tl.Rows) != 3 {
		t.Fatalf("rows for kaigo-failover: %v (the original keeps %d)", got, len(tl.Rows))
	}
}
