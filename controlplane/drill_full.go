package controlplane

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// attachDrillCutback keeps the cutback plan of a full-scale drill with its failover run, so
// the control plane can start it the moment the failover succeeds. The plan is compiled now,
// against the pair as it will be then (the secondary active), so a broken or wrong cutback
// plan is refused before the drill moves any traffic.
func (s *Server) attachDrillCutback(ctx context.Context, run *kirikaev1.Run, req *kirikaev1.DeclareRequest) error {
	if req.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_FULL {
		return fmt.Errorf("%w: cutback_plan_source: only a full-scale drill (drill = full) runs a cutback after its failover", ErrInvalidArgument)
	}
	if run.GetKind() != kirikaev1.RunKind_RUN_KIND_FAILOVER {
		return fmt.Errorf("%w: plan %s is a %s plan; a full-scale drill starts with a failover plan", ErrInvalidArgument, run.GetPlanName(), enum.Name(run.GetKind()))
	}
	region, _, _ := s.node.FSM().Region()
	after := proto.Clone(region).(*kirikaev1.RegionState)
	after.Active = after.GetSecondary()
	cb, err := s.planner.Compile(req.GetCutbackPlanSource(), req.GetCutbackParams(), after, s.node.FSM().System())
	if err != nil {
		return fmt.Errorf("%w: cutback plan: %w", ErrInvalidArgument, err)
	}
	if cb.GetKind() != kirikaev1.RunKind_RUN_KIND_CUTBACK {
		return fmt.Errorf("%w: cutback plan: plan %s is a %s plan, not a cutback plan", ErrInvalidArgument, cb.GetPlanName(), enum.Name(cb.GetKind()))
	}
	run.CutbackPlanSource, run.CutbackParams = req.GetCutbackPlanSource(), req.GetCutbackParams()
	for _, name := range cb.GetSecretParams() {
		run.SecretParams = appendUnique(run.SecretParams, name)
	}
	return nil
}

// needsDrillCutback reports whether a full-scale drill's failover has succeeded and its
// cutback has not been created yet, nor asked for by this leader.
func (o *orchestrator) needsDrillCutback(r *kirikaev1.Run) bool {
	return o.s.planner != nil && r.GetDrill() == kirikaev1.DrillKind_DRILL_KIND_FULL &&
		r.GetKind() == kirikaev1.RunKind_RUN_KIND_FAILOVER && r.GetStatus() == kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED &&
		len(r.GetCutbackPlanSource()) > 0 && r.GetCutbackRunId() == "" && !o.cutback[r.GetId()]
}

// drillCutbackRunID names the cutback of a drill's failover, so a second leader creating it
// again is refused by the state machine as a duplicate.
func drillCutbackRunID(failoverID string) string {
	if rest, ok := strings.CutPrefix(failoverID, "failover-"); ok {
		return "cutback-" + rest
	}
	return failoverID + "-cutback"
}

// startDrillCutback creates the cutback run of a full-scale drill, linked to its failover,
// with fresh readiness from every agent, as `kirikae cutback` would.
func (o *orchestrator) startDrillCutback(ctx context.Context, fo *kirikaev1.Run) {
	log := o.s.log.With("run", fo.GetId())
	region, _, _ := o.s.node.FSM().Region()
	run, err := o.s.planner.Compile(fo.GetCutbackPlanSource(), fo.GetCutbackParams(), region, fo.GetSystem())
	if err != nil {
		log.Error("the cutback plan of a full-scale drill does not compile", "err", err)
		return
	}
	run.Id = drillCutbackRunID(fo.GetId())
	run.PlanSource = fo.GetCutbackPlanSource()
	run.Drill, run.ParentRunId = kirikaev1.DrillKind_DRILL_KIND_FULL, fo.GetId()
	run.Scenario, run.Reason, run.Participants = fo.GetScenario(), fo.GetReason(), fo.GetParticipants()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	run.ReadinessStart, _ = o.s.requestReadiness(rctx, "")
	cancel()
	if _, err := o.propose(ctx, &kirikaev1.Command{RequestId: "drill-cutback/" + fo.GetId(),
		Payload: &kirikaev1.Command_CreateRun{CreateRun: run}}); err != nil && !errors.Is(err, ErrAlreadyExists) {
		log.Warn("create the cutback of a full-scale drill; trying again", "err", err)
		go o.retryLater(ctx, fo.GetId())
		return
	}
	log.Info("full-scale drill: cutback run created", "cutback", run.GetId())
	o.s.hub.poke()
}
