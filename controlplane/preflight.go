package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/kirikae/kirikae/catalog"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// A plan.preflight step evaluates what is left of its run against live AWS before the run
// goes on to a destructive step: a cutback checks that it can rebuild production and move
// DNS back before it deletes the production database. The evaluation runs off the
// orchestrator's loop; its verdict comes back on a channel and is recorded by the loop.

// preflightVerdict is the outcome of one preflight attempt.
type preflightVerdict struct {
	key     attemptKey
	checked int
	// problem is why the step fails; empty when it succeeds.
	problem string
}

// preflight starts the evaluation of an attempt of a plan.preflight step, once per attempt
// while this node leads (a new leader evaluates again: it only reads).
func (o *orchestrator) preflight(ctx context.Context, r *kirikaev1.Run, st *kirikaev1.StepState) {
	key := attemptKey{r.GetId(), st.GetId(), st.GetAttempt()}
	if o.preflights[key] {
		return
	}
	o.preflights[key] = true
	run := proto.Clone(r).(*kirikaev1.Run)
	go func() {
		v := preflightVerdict{key: key}
		steps, finish, err := o.s.planner.EvaluateRun(run)
		if err != nil {
			v.problem = fmt.Sprintf("cannot evaluate the rest of the plan: %v", err)
		} else {
			cctx, cancel := context.WithTimeoutCause(ctx, checkTimeout, fmt.Errorf("no answer within %s", checkTimeout))
			reports, unchecked := o.s.requestChecks(cctx, steps)
			cancel()
			ev := finish(reports, unchecked, time.Now())
			v.checked = int(ev.GetStepsChecked())
			switch {
			case len(ev.GetFindings()) > 0:
				v.problem = FindingsError(ev).Error() + "\nnothing after this step has run: fix the plan or the system and retry this step, or skip it to go on regardless (audited)"
			case len(ev.GetUnchecked()) > 0:
				var why []string
				for _, u := range ev.GetUnchecked() {
					why = append(why, fmt.Sprintf("%s (%s): %s", u.GetRegion(), strings.Join(u.GetSteps(), ", "), u.GetReason()))
				}
				v.problem = "the rest of the plan could not be evaluated: " + strings.Join(why, "; ") +
					"\nretry this step once the agents answer, or skip it to go on without the evaluation (audited)"
			}
		}
		select {
		case o.verdicts <- v:
			o.s.hub.poke()
		case <-ctx.Done():
		}
	}()
}

// recordPreflights records the verdicts that have come back.
func (o *orchestrator) recordPreflights(ctx context.Context) {
	for {
		select {
		case v := <-o.verdicts:
			o.recordPreflight(ctx, v)
		default:
			return
		}
	}
}

func (o *orchestrator) recordPreflight(ctx context.Context, v preflightVerdict) {
	r := o.s.node.FSM().Run(v.key.run)
	var st *kirikaev1.StepState
	for _, s := range r.GetSteps() {
		if s.GetId() == v.key.step {
			st = s
		}
	}
	if st == nil || st.GetAttempt() != v.key.attempt || st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_RUNNING {
		return // the attempt ended otherwise meanwhile (skipped, aborted)
	}
	if v.problem != "" {
		o.failStep(ctx, r, st, v.key.attempt, v.problem, kirikaev1.StepErrorKind_STEP_ERROR_KIND_GUARD_RAIL)
		return
	}
	out, _ := json.Marshal(catalog.PreflightOut{StepsChecked: v.checked})
	if _, err := o.proposeStep(ctx, v.key, "record preflight", &kirikaev1.Command{
		RequestId: fmt.Sprintf("cpdone/%s/%s/%d", v.key.run, v.key.step, v.key.attempt),
		Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{
			RunId: v.key.run, StepId: v.key.step, Attempt: v.key.attempt, Ok: true, OutputsJson: string(out)}}}); err != nil {
		delete(o.preflights, v.key) // evaluate again on a later tick
	}
}
