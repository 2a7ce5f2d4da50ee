package report

import (
	"html"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kirikae/kirikae/human"
)

const css = `body{font-family:system-ui,-apple-system,"Hiragino Sans","Noto Sans CJK JP",sans-serif;margin:24px;color:#1d2330;max-width:1360px}
h1{font-size:22px}h2{font-size:17px;border-bottom:1px solid #d0d6e0;padding-bottom:4px;margin-top:28px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #d0d6e0;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eef1f6}.met{color:#1a7f37}.missed{color:#c62828;font-weight:bold}.muted{color:#6b7280}
ul{font-size:14px}ol{font-size:14px}
` + ChartCSS + `
.legend span{display:inline-block;width:12px;height:10px;margin:0 4px 0 12px;vertical-align:middle}`

// ChartCSS styles the chart that GanttHTML writes (and HTML, which includes it).
const ChartCSS = `svg{font-size:11px;background:#fff;border:1px solid #d0d6e0}
svg .phase{fill:#f3f5f9}svg .phase.odd{fill:#e8ecf3}svg .runlabel{font-weight:bold;font-size:12px}
svg .target{fill:#f6c343;fill-opacity:.45}svg .expect{fill:none;stroke:#8a94a6;stroke-dasharray:3 2}
svg .bar{fill:#2f6fdf}svg .bar[data-status=failed]{fill:#c62828}svg .bar[data-status=skipped]{fill:#b0b7c3}
svg .bar[data-status=pending]{fill:#b0b7c3}svg .bar[data-human=true]{fill:#8e44ad}svg .bar[data-retried=true]{stroke:#c62828;stroke-width:2}
svg .tick{stroke:#d0d6e0}svg .milestone{stroke:#d48806;stroke-dasharray:4 3}svg .axis{fill:#4b5563}
svg .now{stroke:#c62828;stroke-width:1.5}`

// GanttHTML writes the report's chart alone, the inline SVG that HTML shows under
// タイムライン, for a page that embeds it (the control plane's web view); ChartCSS styles
// it. While a run has not finished, the chart runs to the time the report was built:
// steps still running or waiting are drawn to then, and a line marks it.
func (r *Report) GanttHTML(w io.Writer) error {
	e := &errWriter{w: w}
	r.gantt(e)
	return e.err
}

// HTML writes the report as one self-contained page: inline CSS, an inline SVG Gantt chart
// (one rect of class "bar" per step, with data-step and data-run, in front of the target
// window from the timeline and the expect outline), and no external asset of any kind.
func (r *Report) HTML(w io.Writer) error {
	e := &errWriter{w: w}
	esc := html.EscapeString
	e.printf("<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n<style>\n%s\n</style>\n</head>\n<body>\n", esc(r.Title), css)
	e.printf("<h1>%s</h1>\n", esc(r.Title))
	e.printf("<p class=\"muted\">作成日時 / Generated %s (%s)", esc(r.clock(r.GeneratedAt)), esc(r.Location.String()))
	if r.TimeScale != 1 {
		e.printf(" · time scale %g: durations in plan time", r.TimeScale)
		if r.RealWaits {
			e.printf(", people's waits on approvals and checklists in real time")
		}
	}
	if r.Aligned {
		e.printf(" · actual times aligned to the timeline's first row")
	}
	e.printf("</p>\n")
	e.printf("<h2>実施日時 / Date and time</h2>\n<p>%s – %s (%s)</p>\n", esc(r.clock(r.Start)), esc(r.clock(r.End)), esc(human.Duration(r.End.Sub(r.Start))))
	e.printf("<h2>シナリオとプラン / Scenario and plan</h2>\n<p>シナリオ / Scenario: %s", esc(dash(r.Scenario)))
	if r.Reason != "" {
		e.printf("<br>理由 / Reason: %s", esc(r.Reason))
	}
	e.printf("</p>\n")
	if len(r.Notes) > 0 {
		e.printf("<p>前提 / Assumptions:</p>\n<ul>\n")
		for _, n := range r.Notes {
			e.printf("<li>%s</li>\n", esc(n))
		}
		e.printf("</ul>\n")
	}
	e.printf("<table><tr><th>Run</th><th>Kind</th><th>Plan</th><th>Regions</th><th>Status</th><th>Start</th><th>End</th><th>Duration</th><th>Epoch</th></tr>\n")
	for _, rs := range r.Runs {
		e.printf("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s → %s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d → %d</td></tr>\n",
			esc(rs.ID), esc(rs.Kind), esc(rs.Plan), esc(dash(rs.From)), esc(dash(rs.To)), esc(rs.Status), esc(r.clock(rs.Start)), esc(r.clock(rs.End)),
			esc(dur(rs.Duration)), rs.EpochBefore, rs.EpochAfter)
	}
	e.printf("</table>\n<h2>参加者 / Participants</h2>\n<ul>\n")
	for _, p := range r.Participants {
		tag := "operator"
		if p.Approver {
			tag = "approver"
		}
		e.printf("<li><b>%s</b> (%s): %s</li>\n", esc(p.Name), tag, esc(dash(strings.Join(p.Roles, "; "))))
	}
	e.printf("</ul>\n<h2>目標 / Objectives</h2>\n<table><tr><th></th><th>Objective</th><th>%s</th><th>Result</th></tr>\n", r.actualWord())
	e.printf("<tr><td>RTO</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", human.Duration(r.RTO.Objective), esc(known(r.RTO.Known, human.Duration(r.RTO.Achieved))), htmlVerdict(r.RTO.Known, r.RTO.Met))
	e.printf("<tr><td>RPO (data-loss window)</td><td>%s</td><td>%s</td><td>%s</td></tr>\n</table>\n", human.Duration(r.RPO.Objective), esc(known(r.RPO.Known, human.Duration(r.RPO.Window))), htmlVerdict(r.RPO.Known, r.RPO.Met))
	e.printf("<p class=\"muted\">RTO: %s<br>RPO: %s</p>\n", esc(r.RTO.Basis), esc(r.RPO.Basis))

	e.printf("<h2>タイムライン / Timeline</h2>\n<div class=\"legend\"><span style=\"background:#2f6fdf\"></span>actual<span style=\"background:#8e44ad\"></span>approval / checklist<span style=\"background:#c62828\"></span>failed<span style=\"background:#f6c343\"></span>target (timeline)<span style=\"border:1px dashed #8a94a6\"></span>expect</div>\n")
	r.gantt(e)
	if r.Timeline != nil {
		e.printf("<table><tr><th>時刻 Target</th><th>実績 Actual</th><th>差 Delta</th><th>アクション Action</th><th>担当 Owner</th><th>Match</th></tr>\n")
		for _, row := range r.Timeline.Rows {
			act, dl := "-", "-"
			if row.HasActual {
				act, dl = r.hhmm(row.ActualOff), delta(row.Delta)
			}
			e.printf("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", esc(row.Clock), act, esc(dl), esc(row.Action), esc(dash(row.Owner)), esc(dash(row.Match)))
		}
		e.printf("</table>\n")
	}
	e.printf("<h2>フェーズ / Phases</h2>\n<table><tr><th>Run</th><th>Phase</th><th>Start</th><th>End</th><th>Actual</th><th>Expect</th><th>Target</th><th>End vs target</th></tr>\n")
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
		e.printf("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", esc(ph.Run), esc(ph.Name), start, end, dur(ph.Actual), dur(ph.Expect), target, esc(late))
	}
	e.printf("</table>\n<h2>ステップ / Steps</h2>\n<table><tr><th>Run</th><th>Step</th><th>Owner</th><th>Status</th><th>Attempts</th><th>Start</th><th>End</th><th>Actual</th><th>Expect</th><th>Target</th></tr>\n")
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
		e.printf("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			esc(st.Run), esc(st.ID), esc(dash(st.Owner)), esc(st.Status), st.Attempts, start, end, dur(st.Actual), dur(st.Expect), target)
	}
	e.printf("</table>\n<h2>準備状況 / Readiness</h2>\n<ul>\n")
	for _, rr := range r.Readiness {
		state := "ready"
		if len(rr.Fails) > 0 {
			state = "<b class=\"missed\">NOT READY</b>"
		}
		e.printf("<li>%s, %s (%s), %s: %s, %d checks", esc(rr.When), esc(rr.Region), esc(rr.Agent), esc(r.clock(rr.At)), state, rr.Checks)
		for _, c := range rr.Fails {
			e.printf("<br>FAIL %s: %s", esc(c.GetName()), esc(c.GetDetail()))
		}
		e.printf("</li>\n")
	}
	e.printf("</ul>\n<h2>問題点 / Problems found</h2>\n<ol>\n")
	for _, p := range r.Problems {
		e.printf("<li>[%s] %s</li>\n", esc(string(p.Kind)), esc(p.Summary))
	}
	e.printf("</ol>\n<h2>改善提案 / Proposed improvements</h2>\n<ol>\n")
	for _, s := range r.Improvements {
		e.printf("<li>%s</li>\n", esc(s))
	}
	e.printf("</ol>\n<h2>次回訓練の予定 / Next drills</h2>\n<table><tr><th>Kind</th><th>Cadence</th><th>Last</th><th>Next</th></tr>\n")
	for _, nd := range r.NextDrills {
		last, next := "never", nd.Next.In(r.Location).Format(time.DateOnly)
		if !nd.Last.IsZero() {
			last = nd.Last.In(r.Location).Format(time.DateOnly)
		}
		if nd.Overdue {
			next += " (overdue)"
		}
		e.printf("<tr><td>%s %s</td><td>every %d months</td><td>%s</td><td>%s</td></tr>\n", esc(nd.Kind.Japanese()), esc(string(nd.Kind)), nd.Kind.CadenceMonths(), last, next)
	}
	e.printf("</table>\n</body>\n</html>\n")
	return e.err
}

func htmlVerdict(known, met bool) string {
	switch {
	case !known:
		return `<span class="muted">not measured</span>`
	case met:
		return `<span class="met">met</span>`
	}
	return `<span class="missed">missed</span>`
}

// Chart geometry.
const (
	svgWidth   = 1300
	labelWidth = 300
	rowHeight  = 18
	headHeight = 34
	runHeight  = 20
)

// gantt draws the chart: per run a header, per phase a band, per step a row with the
// target window (behind), the expect outline and the actual bar (in front); a time axis on
// top, and the timeline's rows as dashed milestones.
func (r *Report) gantt(e *errWriter) {
	esc := html.EscapeString
	lo, hi := time.Duration(0), r.End.Sub(r.base)
	for _, st := range r.Steps {
		if st.HasTarget {
			lo, hi = min(lo, st.TargetFrom), max(hi, st.TargetTo)
		}
		if st.Started && st.Expect > 0 {
			hi = max(hi, st.StartOff+st.Expect)
		}
		hi = max(hi, st.EndOff)
	}
	if r.Timeline != nil {
		for _, row := range r.Timeline.Rows {
			lo, hi = min(lo, row.TargetOff), max(hi, row.TargetOff)
		}
	}
	if r.live {
		hi = max(hi, r.nowOff)
	}
	if hi <= lo {
		hi = lo + time.Minute
	}
	chartW := float64(svgWidth - labelWidth - 20)
	x := func(d time.Duration) float64 { return float64(labelWidth) + float64(d-lo)/float64(hi-lo)*chartW }

	height := headHeight + len(r.Runs)*runHeight + len(r.Steps)*rowHeight + 10
	e.printf("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"gantt\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"timeline chart\">\n", svgWidth, height, svgWidth, height)

	// Time axis: about ten ticks on a round step.
	step := tickStep(hi - lo)
	first := (lo / step) * step
	if first < lo {
		first += step
	}
	e.printf("<g class=\"time-axis\">\n")
	for t := first; t <= hi; t += step {
		e.printf("<line class=\"tick\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/><text class=\"axis\" x=\"%.1f\" y=\"14\" text-anchor=\"middle\">%s</text>\n",
			x(t), 20, x(t), height-4, x(t), r.hhmm(t))
	}
	e.printf("</g>\n")

	y := headHeight
	for _, rs := range r.Runs {
		e.printf("<text class=\"runlabel\" x=\"4\" y=\"%d\">%s · %s (%s)</text>\n", y+14, esc(rs.ID), esc(rs.Plan), esc(rs.Kind))
		y += runHeight
		for pi, ph := range r.Phases {
			if ph.Run != rs.ID {
				continue
			}
			n := 0
			for _, st := range r.Steps {
				if st.Run == rs.ID && st.Phase == ph.ID {
					n++
				}
			}
			if n == 0 {
				continue
			}
			odd := ""
			if pi%2 == 1 {
				odd = " odd"
			}
			e.printf("<rect class=\"phase%s\" data-run=\"%s\" data-phase=\"%s\" x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\"><title>%s</title></rect>\n",
				odd, esc(rs.ID), esc(ph.ID), y, svgWidth, n*rowHeight, esc(ph.Name))
			for _, st := range r.Steps {
				if st.Run != rs.ID || st.Phase != ph.ID {
					continue
				}
				label := st.ID
				if len(label) > 40 {
					label = label[:40]
				}
				e.printf("<text x=\"12\" y=\"%d\">%s</text>\n", y+13, esc(label))
				if st.HasTarget {
					e.printf("<rect class=\"target\" data-step=\"%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\"/>\n",
						esc(st.ID), x(st.TargetFrom), y+1, max(x(st.TargetTo)-x(st.TargetFrom), 1), rowHeight-2)
				}
				if st.Started && st.Expect > 0 {
					e.printf("<rect class=\"expect\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\"/>\n",
						x(st.StartOff), y+3, max(x(st.StartOff+st.Expect)-x(st.StartOff), 1), rowHeight-6)
				}
				bx, bw := x(0), 2.0
				if st.Started {
					end := st.EndOff
					if !st.Ended {
						end = hi
						if r.live {
							end = max(r.nowOff, st.StartOff) // still going: to now
						}
					}
					bx, bw = x(st.StartOff), max(x(end)-x(st.StartOff), 2)
				}
				tip := st.Name + " · " + st.Status
				if st.Started {
					tip += " · " + r.hhmm(st.StartOff)
					if st.Ended {
						tip += "–" + r.hhmm(st.EndOff) + " (" + human.Duration(st.Actual) + ")"
						if st.overlapped() {
							tip += " · people took " + human.Duration(st.Waited)
						}
					}
				}
				if st.Expect > 0 {
					tip += " · expect " + human.Duration(st.Expect)
				}
				if st.Attempts > 1 {
					tip += " · attempts " + strconv.Itoa(int(st.Attempts))
				}
				e.printf("<rect class=\"bar\" data-step=\"%s\" data-run=\"%s\" data-status=\"%s\" data-human=\"%t\" data-retried=\"%t\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\"><title>%s</title></rect>\n",
					esc(st.ID), esc(st.Run), esc(st.Status), st.Human, st.Attempts > 1, bx, y+4, bw, rowHeight-8, esc(tip))
				y += rowHeight
			}
		}
	}
	if r.Timeline != nil {
		for _, row := range r.Timeline.Rows {
			e.printf("<line class=\"milestone\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"><title>%s %s (%s)</title></line>\n",
				x(row.TargetOff), 20, x(row.TargetOff), height-4, esc(row.Clock), esc(row.Action), esc(row.Owner))
		}
	}
	if r.live {
		e.printf("<line class=\"now\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"><title>now</title></line>\n", x(r.nowOff), 20, x(r.nowOff), height-4)
	}
	e.printf("</svg>\n")
}

// tickStep picks a round interval that gives at most about twelve ticks.
func tickStep(span time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour} {
		if span/s <= 12 {
			return s
		}
	}
	return 48 * time.Hour
}
