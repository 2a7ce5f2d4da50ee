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
// The package is pure: it reads protos and writes to the io.Writer it is given. It never
// talks to the control plane (the cli package fetches the inputs) and never reads the wall
// clock (Input.Now supplies it), so the same inputs always render the same bytes, which is
// what the golden files rely on.
package report
