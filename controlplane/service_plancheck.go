package controlplane

import (
	"context"
	"fmt"
	"sync"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// Plan evaluation (PlanCheckService): a plan is checked against live AWS before anything
// relies on it. The leader resolves each step's inputs as a run would now (the planner's
// Evaluate), sends every agent the steps of its own region, which it checks with read-only
// calls, and puts the findings on their plan lines. Agents answer on their stream; an
// answer is taken only from the agent the request went to, and only for steps of its
// region (Finish), so one region's agent cannot speak for another's steps.

// checkTimeout bounds how long an evaluation waits for the agents.
const checkTimeout = 60 * time.Second

// checkWait is one request sent to one agent, waiting for its report.
type checkWait struct {
	to agentKey
	ch chan *kirikaev1.CheckReport
}

// checkWaiters routes agents' check reports to the evaluation that asked.
type checkWaiters struct {
	mu sync.Mutex
	m  map[string]checkWait // request id -> who was asked
}

// deliver hands a report to its waiter, if from is the agent the request went to.
func (w *checkWaiters) deliver(from agentKey, rep *kirikaev1.CheckReport) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	cw, ok := w.m[rep.GetRequestId()]
	if !ok || cw.to != from {
		return false
	}
	delete(w.m, rep.GetRequestId())
	cw.ch <- rep // buffered, one report per request
	return true
}

func (w *checkWaiters) add(id string, to agentKey) chan *kirikaev1.CheckReport {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string]checkWait{}
	}
	ch := make(chan *kirikaev1.CheckReport, 1)
	w.m[id] = checkWait{to: to, ch: ch}
	return ch
}

func (w *checkWaiters) drop(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.m, id)
}

// evaluatePlan evaluates a plan now, on the leader, against the stored pair and system.
func (s *Server) evaluatePlan(ctx context.Context, file string, source []byte, params map[string]string) (*kirikaev1.PlanEvaluation, error) {
	if s.planner == nil {
		return nil, fmt.Errorf("%w: this server has no planner", ErrFailedPrecondition)
	}
	if _, err := s.linearizableIndex(ctx); err != nil {
		return nil, err
	}
	region, _, _ := s.node.FSM().Region()
	if region.GetPrimary() == "" {
		return nil, fmt.Errorf("%w: the region pair is not initialized (kirikae region init)", ErrFailedPrecondition)
	}
	if file == "" {
		file = "plan"
	}
	steps, finish, err := s.planner.Evaluate(file, source, params, region, s.node.FSM().System(), time.Now())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	cctx, cancel := context.WithTimeoutCause(ctx, checkTimeout, fmt.Errorf("no answer within %s", checkTimeout))
	defer cancel()
	reports, unchecked := s.requestChecks(cctx, steps)
	return finish(reports, unchecked, time.Now()), nil
}

// requestChecks sends each region's steps to one healthy connected agent of that region
// and waits for the reports until ctx ends.
func (s *Server) requestChecks(ctx context.Context, byRegion map[string][]*kirikaev1.CheckStep) (map[string]*kirikaev1.CheckReport, []*kirikaev1.UncheckedRegion) {
	type answer struct {
		region string
		rep    *kirikaev1.CheckReport
		err    error
	}
	answers := make(chan answer, len(byRegion))
	reports := map[string]*kirikaev1.CheckReport{}
	var unchecked []*kirikaev1.UncheckedRegion
	ids := func(steps []*kirikaev1.CheckStep) []string {
		out := make([]string, 0, len(steps))
		for _, cs := range steps {
			out = append(out, cs.GetStepId())
		}
		return out
	}
	asked := 0
	for region, steps := range byRegion {
		c := s.hub.pick(region, "", nil, time.Now())
		if c == nil {
			unchecked = append(unchecked, &kirikaev1.UncheckedRegion{Region: region, Steps: ids(steps), Reason: "no connected, healthy agent in " + region})
			continue
		}
		id := NewRequestID()
		ch := s.checks.add(id, keyOf(c.info))
		if !c.enqueue(&kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_Check{Check: &kirikaev1.CheckRequest{RequestId: id, Steps: steps}}}) {
			s.checks.drop(id)
			unchecked = append(unchecked, &kirikaev1.UncheckedRegion{Region: region, Steps: ids(steps), Reason: "agent " + c.info.GetId() + "'s stream is full or closing"})
			continue
		}
		asked++
		go func() {
			select {
			case rep := <-ch:
				answers <- answer{region: region, rep: rep}
			case <-ctx.Done():
				s.checks.drop(id)
				answers <- answer{region: region, err: fmt.Errorf("agent %s: %w", c.info.GetId(), context.Cause(ctx))}
			}
		}()
	}
	for range asked {
		a := <-answers
		if a.err != nil {
			unchecked = append(unchecked, &kirikaev1.UncheckedRegion{Region: a.region, Steps: ids(byRegion[a.region]), Reason: a.err.Error()})
			continue
		}
		reports[a.region] = a.rep
	}
	return reports, unchecked
}

// planCheckService is PlanCheckService.
type planCheckService struct {
	kirikaev1.UnimplementedPlanCheckServiceServer
	s *Server
}

func (p *planCheckService) EvaluatePlan(ctx context.Context, req *kirikaev1.EvaluatePlanRequest) (*kirikaev1.EvaluatePlanResponse, error) {
	if len(req.GetPlanSource()) == 0 {
		return nil, toStatus(fmt.Errorf("%w: plan_source is empty", ErrInvalidArgument))
	}
	if !p.s.node.IsLeader() {
		// Agents stream to the leader; only it can ask them.
		conn, _, err := p.s.leaderConn()
		if err != nil {
			return nil, toStatus(err)
		}
		return kirikaev1.NewPlanCheckServiceClient(conn).EvaluatePlan(forwardActor(ctx), req)
	}
	ev, err := p.s.evaluatePlan(ctx, req.GetPlanFile(), req.GetPlanSource(), req.GetParams())
	if err != nil {
		return nil, toStatus(err)
	}
	return &kirikaev1.EvaluatePlanResponse{Evaluation: ev}, nil
}

func (p *planCheckService) ListPlanEvaluations(ctx context.Context, req *kirikaev1.ListPlanEvaluationsRequest) (*kirikaev1.ListPlanEvaluationsResponse, error) {
	if !p.s.node.IsLeader() {
		conn, _, err := p.s.leaderConn()
		if err != nil {
			return nil, toStatus(err)
		}
		return kirikaev1.NewPlanCheckServiceClient(conn).ListPlanEvaluations(forwardActor(ctx), req)
	}
	return &kirikaev1.ListPlanEvaluationsResponse{Evaluations: p.s.scheduled.list(), IntervalMs: p.s.scheduled.interval.Milliseconds()}, nil
}
