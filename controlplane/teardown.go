package controlplane

import (
	"context"
	"errors"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// needsTeardown reports whether a partial drill has ended with changes to undo and no
// teardown run yet, and this leader has not started to create one. It waits until no step
// of the drill is still held by an agent, so every change has been reported.
func (o *orchestrator) needsTeardown(r *kirikaev1.Run) bool {
	if o.s.planner == nil || r.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_PARTIAL || r.GetKind() == kirikaev1.RunKind_RUN_KIND_TEARDOWN ||
		runActive(r) || r.GetTeardownRunId() != "" || o.teardown[r.GetId()] {
		return false
	}
	undo := false
	for _, st := range r.GetSteps() {
		switch st.GetStatus() {
		case kirikaev1.StepStatus_STEP_STATUS_DISPATCHED, kirikaev1.StepStatus_STEP_STATUS_RUNNING:
			return false
		}
		undo = undo || len(st.GetUndo()) > 0
	}
	return undo
}

// teardownRunID names the teardown of a drill. It is derived from the drill, so a second
// leader that creates it again is refused by the state machine as a duplicate.
func teardownRunID(drillID string) string { return "teardown-" + drillID }

// startTeardown creates the run that removes what a partial drill created: the planner
// writes a plan from the undo steps the agents reported, and the run is an ordinary run of
// the drill (a partial drill itself, so its readiness is taken at both ends), which
// operators watch, pause, retry and report on like any other.
func (o *orchestrator) startTeardown(ctx context.Context, drill *kirikaev1.Run) {
	log := o.s.log.With("run", drill.GetId())
	src, err := o.s.planner.Teardown(drill)
	if err != nil {
		log.Error("teardown plan of a partial drill", "err", err)
		return
	}
	region, _, _ := o.s.node.FSM().Region()
	run, err := o.s.planner.Compile(src, nil, region)
	if err != nil {
		log.Error("teardown plan of a partial drill does not compile", "err", err)
		return
	}
	run.Id = teardownRunID(drill.GetId())
	run.PlanSource = src
	run.Drill, run.ParentRunId = kirikaev1.DrillKind_DRILL_KIND_PARTIAL, drill.GetId()
	run.Scenario = drill.GetScenario()
	run.Reason = "teardown of partial drill " + drill.GetId()
	run.Participants = drill.GetParticipants()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	run.ReadinessStart = o.s.requestReadiness(rctx, "")
	cancel()
	_, err = o.propose(ctx, &kirikaev1.Command{RequestId: "teardown/" + drill.GetId(),
		Payload: &kirikaev1.Command_CreateRun{CreateRun: run}})
	if err != nil && !errors.Is(err, ErrAlreadyExists) {
		log.Warn("create the teardown run; trying again", "err", err)
		go o.retryLater(ctx, drill.GetId())
		return
	}
	log.Info("teardown run created", "teardown", run.GetId(), "steps", len(run.GetSteps()))
	o.s.hub.poke()
}
