// Package tabletop runs the quarterly tabletop drill (机上訓練, SPEC R4): the whole plan
// against simulated AWS, with no real change.
//
// [Run] first validates and compiles the plan; plan errors (missing inputs, bad
// references) become findings with their line, and a plan that cannot run at all stops
// the tabletop there. Otherwise it starts an isolated world of its own (package demo's
// World: an in-process awssim holding the system's peacetime world (the stored system
// file, or the bundled kaigo.yaml standalone), a one-node control plane and an
// agent per region, in a temporary directory, on loopback only), sets in it what the live
// readiness reports observed (the age of the newest cross-region RDS snapshot copy and of
// the newest EFS recovery point), takes the primary region down with an open AWS Health
// event, evaluates the plan against the simulated account as `kirikae plan check` does
// (every finding, with its step and line, is reported: the same evaluation that refuses a
// real declaration), and declares the plan as a DRILL_KIND_TABLETOP drill anyway, to show
// what else it meets. Simulated participants give
// the approvals and confirm the checklists, taking the time the runbook expects of them; a
// step that fails and pauses the run (a guard-rail refusal, a reference that cannot be
// resolved) is recorded as a finding and skipped, so every later step is exercised too.
//
// The finished run comes back with its times converted to predicted real time (distances
// from the run's end divided by the time scale), the predicted RTO, the plan's critical
// path, the findings and the isolated world's audit entries for the run.
//
// This package owns nothing live: it never talks to a control plane, an agent or AWS
// outside its own world. Recording the finished run in the live control plane
// (RunService.RecordTabletop) is the caller's job.
package tabletop
