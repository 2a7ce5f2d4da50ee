package controlplane

import (
	"context"
	"errors"
	"fmt"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// needsTeardown reports whether a run's teardown is due and this leader has not started to
// create it. The state machine says when it is due: a partial drill that has ended, or a
// run an operator asked to undo (run abort --undo, run undo), that still owns something.
func (o *orchestrator) needsTeardown(r *kirikaev1.Run) bool {
	return o.s.planner != nil && r.GetUndoRequested() && r.GetPreemptedBy() == "" && !runActive(r) && !o.teardown[r.GetId()]
}

// teardownRunID names the n-th teardown of a run. It is derived from the run, so a second
// leader that creates it again is refused by the state machine as a duplicate.
func teardownRunID(runID string, n uint32) string {
	if n <= 1 {
		return "teardown-" + runID
	}
	return fmt.Sprintf("teardown-%s-%d", runID, n)
}

// startTeardown creates the run that removes what a run created and still owns: the
// planner writes a plan from the undo steps its agents reported (the state machine hands
// over only those of resources the run still owns), and the run is an ordinary run, which
// operators watch, pause, retry and report on like any other. Each of its steps carries the
// resource it undoes, so the state machine can check ownership again when it is dispatched.
func (o *orchestrator) startTeardown(ctx context.Context, work *kirikaev1.Run) {
	log := o.s.log.With("run", work.GetId())
	src, undoes, err := o.s.planner.Teardown(work)
	if err != nil {
		log.Error("teardown plan", "err", err)
		return
	}
	region, _, _ := o.s.node.FSM().Region()
	run, err := o.s.planner.Compile(src, nil, region, work.GetSystem())
	if err != nil {
		log.Error("teardown plan does not compile", "err", err)
		return
	}
	for _, st := range run.GetSteps() {
		if u := undoes[st.GetId()]; u != nil {
			st.Spec.Resource = u.GetResource()
		}
	}
	run.Id = teardownRunID(work.GetId(), work.GetTeardowns()+1)
	run.PlanSource = src
	run.ParentRunId = work.GetId()
	if work.GetDrill() == kirikaev1.DrillKind_DRILL_KIND_PARTIAL {
		// A partial drill's teardown is part of the drill: its readiness is taken at both
		// ends, and a real declaration may preempt it.
		run.Drill = kirikaev1.DrillKind_DRILL_KIND_PARTIAL
	}
	run.Scenario = work.GetScenario()
	run.Reason = "teardown of run " + work.GetId()
	run.Participants = work.GetParticipants()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	run.ReadinessStart, _ = o.s.requestReadiness(rctx, "")
	cancel()
	_, err = o.propose(ctx, &kirikaev1.Command{RequestId: "teardown/" + run.GetId(),
		Payload: &kirikaev1.Command_CreateRun{CreateRun: run}})
	if err != nil && !errors.Is(err, ErrAlreadyExists) {
		log.Warn("create the teardown run; trying again", "err", err)
		go o.retryLater(ctx, work.GetId())
		return
	}
	log.Info("teardown run created", "teardown", run.GetId(), "steps", len(run.GetSteps()))
	o.s.hub.poke()
}
