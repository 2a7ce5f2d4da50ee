package controlplane

import (
	"context"
	"errors"
	"fmt"
	"strings"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// ErrFindings is wrapped by the refusal of a declaration whose plan evaluation found
// problems; it maps to FAILED_PRECONDITION.
var ErrFindings = errors.New("plan evaluation found problems")

// gateOnEvaluation evaluates the run's plan against live AWS before the run is created, so
// before its first step changes anything. Findings refuse the run, naming each with its
// line and fix, unless the operator overrides them with a reason; the evaluation and the
// reason are kept in the run (and the request, with the reason, in the audit log).
func (s *Server) gateOnEvaluation(ctx context.Context, run *kirikaev1.Run, source []byte, params map[string]string, override string) error {
	ev, err := s.evaluateOnLeader(ctx, run.GetPlanName(), source, params)
	if err != nil {
		return fmt.Errorf("plan evaluation before the run: %w", err)
	}
	run.Evaluation = ev
	if len(ev.GetFindings()) == 0 {
		return nil
	}
	if strings.TrimSpace(override) == "" {
		return fmt.Errorf("%w: %w\nfix the plan or the system, or start it anyway with --override-findings REASON (recorded in the run and the audit log)",
			ErrFailedPrecondition, FindingsError(ev))
	}
	run.FindingsOverride = override
	s.log.Warn("run started despite plan findings", "plan", run.GetPlanName(), "findings", len(ev.GetFindings()), "override", override, "actor", actorOf(ctx))
	return nil
}

// evaluateOnLeader evaluates a plan on the leader, whose agents can check it: here when
// this node leads, else through the leader.
func (s *Server) evaluateOnLeader(ctx context.Context, file string, source []byte, params map[string]string) (*kirikaev1.PlanEvaluation, error) {
	if s.node.IsLeader() {
		return s.evaluatePlan(ctx, file, source, params)
	}
	conn, _, err := s.leaderConn()
	if err != nil {
		return nil, err
	}
	resp, err := kirikaev1.NewPlanCheckServiceClient(conn).EvaluatePlan(forwardActor(ctx), &kirikaev1.EvaluatePlanRequest{PlanSource: source, PlanFile: file, Params: params})
	if err != nil {
		return nil, err
	}
	return resp.GetEvaluation(), nil
}

// FindingsError describes an evaluation's findings, one per line.
func FindingsError(ev *kirikaev1.PlanEvaluation) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: plan %s has %d finding(s) against live AWS:", ErrFindings, ev.GetPlanName(), len(ev.GetFindings()))
	for _, f := range ev.GetFindings() {
		b.WriteString("\n  " + FormatFinding(ev.GetPlanFile(), f))
	}
	return errors.New(b.String())
}

// FormatFinding renders a finding as FILE:LINE: step ID (REGION): [code] with.INPUT:
// problem; fix: what to write instead.
func FormatFinding(file string, f *kirikaev1.PlanFinding) string {
	var b strings.Builder
	if file != "" {
		b.WriteString(file + ":")
	}
	if f.GetLine() > 0 {
		fmt.Fprintf(&b, "%d:", f.GetLine())
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	b.WriteString("step " + f.GetStepId())
	if f.GetRegion() != "" {
		b.WriteString(" (" + f.GetRegion() + ")")
	}
	b.WriteString(": [" + f.GetCode() + "] ")
	if f.GetInput() != "" {
		b.WriteString("with." + f.GetInput() + ": ")
	}
	b.WriteString(f.GetProblem())
	if f.GetFix() != "" {
		b.WriteString("; fix: " + f.GetFix())
	}
	return b.String()
}
