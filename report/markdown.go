package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kirikae/kirikae/human"
)

// errWriter keeps the first write error, so renderers can write freely and check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	_, e.err = fmt.Fprintf(e.w, format, args...)
}

func (r *Report) clock(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(r.Location).Format("2006-01-02 15:04")
}

func (r *Report) hhmm(off time.Duration) string {
	return r.base.Add(off).In(r.Location).Format("15:04")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func dur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return human.Duration(d)
}

func delta(d time.Duration) string {
	switch {
	case d > 0:
		return "+" + human.Duration(d)
	case d < 0:
		return "-" + human.Duration(-d)
	}
	return "±0"
}

// md escapes the characters that would break a table cell.
func md(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// Markdown writes the report as Markdown, with the seed's headings (実施日時, 参加者,
// タイムライン, 問題点, 改善提案, 次回訓練の予定). The output depends only on the report.
func (r *Report) Markdown(w io.Writer) error {
	e := &errWriter{w: w}
	e.printf("# %s\n\n", r.Title)
	tz := r.Location.String()
	e.printf("- 作成日時 / Generated: %s (%s)\n", r.clock(r.GeneratedAt), tz)
	if r.TimeScale != 1 {
		e.printf("- 時間倍率 / Time scale: %g (durations are in plan time: wall time / %g", r.TimeScale, r.TimeScale)
		if r.RealWaits {
			e.printf("; people's waits on approvals and checklists are in real time, as they took them")
		}
		e.printf(")\n")
	}
	if r.Aligned {
		e.printf("- Actual times are aligned so that the first run starts at the timeline's first row (%s).\n", r.clock(r.base))
	}
	e.printf("\n## 実施日時 / Date and time\n\n")
	e.printf("%s – %s (%s), %s\n\n", r.clock(r.Start), r.clock(r.End), tz, human.Duration(r.End.Sub(r.Start)))
	e.printf("## シナリオとプラン / Scenario and plan\n\n")
	e.printf("- シナリオ / Scenario: %s\n", dash(r.Scenario))
	if r.Reason != "" {
		e.printf("- 理由 / Reason: %s\n", r.Reason)
	}
	if len(r.Notes) > 0 {
		e.printf("\n前提 / Assumptions:\n\n")
		for _, n := range r.Notes {
			e.printf("- %s\n", md(n))
		}
	}
	e.printf("\n| Run | Kind | Plan | Regions | Status | Start | End | Duration | Epoch |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, rs := range r.Runs {
		e.printf("| %s | %s | %s | %s → %s | %s | %s | %s | %s | %d → %d |\n", rs.ID, rs.Kind, rs.Plan, dash(rs.From), dash(rs.To), rs.Status,
			r.clock(rs.Start), r.clock(rs.End), dur(rs.Duration), rs.EpochBefore, rs.EpochAfter)
	}
	e.printf("\n## 参加者 / Participants\n\n")
	if len(r.Participants) == 0 {
		e.printf("No operator is recorded in the audit log or the runs.\n")
	}
	for _, p := range r.Participants {
		tag := "operator"
		if p.Approver {
			tag = "approver"
		}
		e.printf("- **%s** (%s): %s\n", p.Name, tag, dash(strings.Join(p.Roles, "; ")))
	}

	e.printf("\n## 目標 / Objectives\n\n| | Objective | %s | Result |\n|---|---|---|---|\n", r.actualWord())
	e.printf("| RTO | %s | %s | %s |\n", human.Duration(r.RTO.Objective), known(r.RTO.Known, human.Duration(r.RTO.Achieved)), verdict(r.RTO.Known, r.RTO.Met))
	e.printf("| RPO (data-loss window) | %s | %s | %s |\n\n", human.Duration(r.RPO.Objective), known(r.RPO.Known, human.Duration(r.RPO.Window)), verdict(r.RPO.Known, r.RPO.Met))
	e.printf("- RTO: %s\n- RPO: %s\n", r.RTO.Basis, r.RPO.Basis)

	if r.Timeline != nil {
		e.printf("\n## タイムライン（目標と実績） / Target and actual timeline: %s\n\n", r.Timeline.Name)
		e.printf("| 時刻 Target | 実績 Actual | 差 Delta | アクション Action | 担当 Owner | Match |\n|---|---|---|---|---|---|\n")
		for _, row := range r.Timeline.Rows {
			act, dl := "-", "-"
			if row.HasActual {
				act, dl = r.hhmm(row.ActualOff), delta(row.Delta)
			}
			e.printf("| %s | %s | %s | %s | %s | %s |\n", row.Clock, act, dl, md(row.Action), md(dash(row.Owner)), dash(row.Match))
		}
	}
	e.printf("\n## フェーズ / Phases\n\n| Run | Phase | Start | End | Actual | Expect | Target | End vs target |\n|---|---|---|---|---|---|---|---|\n")
	for _, ph := range r.Phases {
		start, end, target, late := "-", "-", "-", "-"
		if ph.Started {
			start = r.hhmm(ph.StartOff)
		}
		if ph.Ended {
			end = r.hhmm(ph.EndOff)
		}
		if ph.HasTarget {
			target = r.hhmm(ph.TargetFrom) + "–" + r.hhmm(ph.TargetTo)
			if ph.Ended {
				late = delta(ph.EndOff - ph.TargetTo)
			}
		}
		e.printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", ph.Run, md(ph.Name), start, end, dur(ph.Actual), dur(ph.Expect), target, late)
	}
	e.printf("\n## ステップ / Steps\n\n| Run | Step | Owner | Status | Attempts | Start | End | Actual | Expect | Target |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, st := range r.Steps {
		start, end, target := "-", "-", "-"
		if st.Started {
			start = r.hhmm(st.StartOff)
		}
		if st.Ended {
			end = r.hhmm(st.EndOff)
		}
		if st.HasTarget {
			target = r.hhmm(st.TargetFrom) + "–" + r.hhmm(st.TargetTo)
		}
		e.printf("| %s | %s | %s | %s | %d | %s | %s | %s | %s | %s |\n", st.Run, st.ID, dash(st.Owner), st.Status, st.Attempts, start, end, dur(st.Actual), dur(st.Expect), target)
	}

	e.printf("\n## 人による待ち / Manual waits\n\n")
	waits := 0
	for _, st := range r.Steps {
		if st.Human && st.Started {
			waits++
			e.printf("- %s %s (%s): %s (expect %s)", st.Run, st.ID, st.Action, dur(st.Waited), dur(st.Expect))
			if st.overlapped() {
				e.printf("; other steps ran meanwhile, so it spans %s of plan time", dur(st.Actual))
			}
			e.printf("\n")
		}
	}
	if waits == 0 {
		e.printf("None.\n")
	}

	e.printf("\n## 準備状況 / Readiness\n\n")
	if len(r.Readiness) == 0 {
		e.printf("No readiness reports were given.\n")
	}
	for _, rr := range r.Readiness {
		state := "ready"
		if len(rr.Fails) > 0 {
			state = "NOT READY"
		}
		e.printf("- %s, %s (%s), %s: %s, %d check(s), %d FAIL, %d WARN\n", rr.When, rr.Region, rr.Agent, r.clock(rr.At), state, rr.Checks, len(rr.Fails), len(rr.Warns))
		for _, c := range rr.Fails {
			e.printf("  - FAIL %s: %s\n", c.GetName(), md(c.GetDetail()))
		}
		for _, c := range rr.Warns {
			e.printf("  - WARN %s: %s\n", c.GetName(), md(c.GetDetail()))
		}
	}

	e.printf("\n## 問題点 / Problems found\n\n")
	if len(r.Problems) == 0 {
		e.printf("None.\n")
	}
	for i, p := range r.Problems {
		e.printf("%d. [%s] %s\n", i+1, p.Kind, md(p.Summary))
	}
	e.printf("\n## 改善提案 / Proposed improvements\n\n")
	if len(r.Improvements) == 0 {
		e.printf("None.\n")
	}
	for i, s := range r.Improvements {
		e.printf("%d. %s\n", i+1, s)
	}
	e.printf("\n## 次回訓練の予定 / Next drills\n\n| Kind | Cadence | Last | Next |\n|---|---|---|---|\n")
	for _, nd := range r.NextDrills {
		last, next := "never", nd.Next.In(r.Location).Format(time.DateOnly)
		if !nd.Last.IsZero() {
			last = nd.Last.In(r.Location).Format(time.DateOnly)
		}
		if nd.Overdue {
			next += " (overdue)"
		}
		e.printf("| %s %s | every %d months | %s | %s |\n", nd.Kind.Japanese(), nd.Kind, nd.Kind.CadenceMonths(), last, next)
	}
	return e.err
}

func known(ok bool, s string) string {
	if !ok {
		return "unknown"
	}
	return s
}

func verdict(known, met bool) string {
	switch {
	case !known:
		return "not measured"
	case met:
		return "met"
	}
	return "**missed**"
}
