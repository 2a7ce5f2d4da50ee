// Package report turns finished runs into the after-action documents of SPEC R4: the drill
// report (DR訓練レポート) and the incident report (障害報告書). It owns three things:
//
//   - target timelines ([Timeline], parsed from deploy/drills/*.yaml), whose rows are
//     matched to a plan's phases and steps;
//   - [Build], which derives a [Report] from runs, the audit log and readiness reports:
//     target against actual, RTO and RPO, problems found and the improvements they call
//     for, and the next drill of each kind ([NextDrills]);
//   - the renderers, [Report.Markdown] and [Report.HTML] (self-contained, with an inline
//     SVG Gantt chart).
//
// Time scale. A drill against simulated AWS (awssim) runs faster than real time, and
// Input.TimeScale turns its wall time back into plan time, the time the plan and the
// timeline are written in. Only AWS is simulated, though: people answer approvals and
// work through checklists in real time at any scale. So the report's clock is piecewise:
// a stretch where an approval or a checklist was waiting and no other step was running
// counts as real time; all other time (steps running, people waiting alongside them, the
// gaps between steps) is divided by the scale. Durations, the chart, the timeline's
// actual times and the RTO all come from that one clock, and a human step's own wait
// (StepTiming.Waited, what the manual waits and their problems report) is its wall time.
// A tabletop is the exception: its participants are simulated, taking the runbook's
// expect at the time scale, so its waits are plan time and are scaled like the rest (the
// tabletop package converts its run to predicted real time and reports it at scale 1).
//
// The package is pure: it reads protos and writes to the io.Writer it is given. It never
// talks to the control plane (the cli package fetches the inputs) and never reads the wall
// clock (Input.Now supplies it), so the same inputs always render the same bytes, which is
// what the golden files rely on.
package report
