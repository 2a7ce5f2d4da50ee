// Package plan owns kirikae's plan files: the YAML format, its strict validation, the
// dependency graph of steps, the critical path computed from each step's expected duration,
// and the interpolation of `${...}` references. It also holds the action catalog
// (actions.go) that executors and the orchestrator implement.
//
// The package is pure: it never talks to AWS, to the control plane or to the clock, so the
// orchestrator can re-parse a run's stored plan bytes ([Plan.Source]) on any node and get
// the same plan.
//
// # Format
//
//	apiVersion: kirikae/v1
//	kind: Plan
//	name: kaigo-failover
//	runKind: failover                # failover | cutback | recovery | teardown (written by the control plane)
//	params:
//	  ALLOW_DATA_LOSS: {default: "false", description: "..."}
//	  SMOKE_PASSWORD: {secret: true}  # shown as (secret) in every read of the run, its audit and reports
//	phases:
//	  - {id: prepare, name: "フェーズ1: DR発動準備", expect: 30m}
//	steps:
//	  - id: restore-rds
//	    phase: build
//	    region: secondary            # primary | secondary | control-plane | us-west-2 | ${params.X}
//	    needs: [verify-network]
//	    action: aws.rds.restoreSnapshot
//	    with: {instanceId: "${system.secondary.database.instance}", maxAge: "${system.objectives.rpo}"}
//	    timeout: 90m
//	    retries: 2
//	    expect: 45m
//	    owner: database
//	    onFailure: pause             # pause (default) | abort | continue
//	    drill: skip                  # skipped in partial drills
//	    priority: 2                  # 1 runs first among ready steps; 0 means none
//
// Phases group steps for people and reports and carry the runbook's time budget; they do not
// order anything. Only `needs` orders steps, so steps that do not depend on each other run in
// parallel.
//
// # References
//
// Strings in `with` may hold `${params.NAME}`, `${steps.ID.outputs.NAME}` (with optional
// `.key` path into a map output), `${run.id}`, `${run.startedCompact}`, `${region.primary}`,
// `${region.secondary}`, `${region.failed}` and `${region.target}`, and `${system.PATH}`:
// a value of the stored system file (`kirikae system apply`), e.g.
// `${system.secondary.loadBalancer.name}` or `${system.objectives.rpo}`, checked against the
// system when the plan is declared ([Plan.CheckSystem]). `${system.here.PATH}` reads the
// system in the role of the region the step runs in, for a plan that runs in either region.
// `$${` is a literal `${`.
// A step may only read outputs of its ancestors through needs, so the value is always there
// when the step runs.
//
// # Limits
//
// A plan may be at most [MaxBytes] (4 MiB), hold at most [MaxSteps] (10,000) steps, and nest
// mappings and lists at most [MaxDepth] (50) levels deep; YAML aliases may not expand it past
// [MaxExpanded]. `needs` is always a list, even of one step. A plan past a limit is refused
// with an error naming the limit and the plan's value, before the work the limit bounds.
// Within the limits, validation takes time and memory about linear in the plan: the steps
// are ordered once, and whether a step reads the outputs of an ancestor is answered for all
// steps together, without listing any step's ancestors.
package plan
