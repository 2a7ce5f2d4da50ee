package controlplane

import (
	"context"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// DefaultEvaluateEvery is how often the leader evaluates the configured plans, as AWS ARC
// Region switch evaluates its plans: every 30 minutes.
const DefaultEvaluateEvery = 30 * time.Minute

// EvaluatedPlan is a plan the leader evaluates on a schedule (Config.EvaluatePlans).
type EvaluatedPlan struct {
	// File names the plan in findings; Source is its bytes.
	File   string
	Source []byte
	// Params are given as to declare; a param without a value leaves what reads it unchecked.
	Params map[string]string
}

// incompleteRetry is how soon a scheduled round that left steps unchecked is tried again.
const incompleteRetry = 15 * time.Second

// schedule holds the leader's latest scheduled evaluations. They are leader-local soft
// state, as agent connections are: a new leader evaluates again before it answers.
type schedule struct {
	plans    []EvaluatedPlan
	interval time.Duration

	mu     sync.Mutex
	latest map[string]*kirikaev1.PlanEvaluation // by file
}

func (sc *schedule) list() []*kirikaev1.PlanEvaluation {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	out := make([]*kirikaev1.PlanEvaluation, 0, len(sc.latest))
	for _, p := range sc.plans {
		if ev, ok := sc.latest[p.File]; ok {
			out = append(out, proto.Clone(ev).(*kirikaev1.PlanEvaluation))
		}
	}
	return out
}

func (sc *schedule) set(file string, ev *kirikaev1.PlanEvaluation) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.latest == nil {
		sc.latest = map[string]*kirikaev1.PlanEvaluation{}
	}
	sc.latest[file] = ev
}

func (sc *schedule) clear() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.latest = nil
}

// evaluateOnSchedule evaluates every configured plan now and then every interval, while
// ctx (the leadership) lasts. The first round waits for the agents to reconnect to this
// leader; a round that could not check everything is retried after incompleteRetry. A plan that cannot be evaluated at all (not parsed, no pair yet) is kept as an
// evaluation whose unchecked entry says why, so readiness shows it.
func (s *Server) evaluateOnSchedule(ctx context.Context) {
	sc := s.scheduled
	if len(sc.plans) == 0 || s.planner == nil {
		return
	}
	defer sc.clear()
	wait := agentGrace
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		complete := true
		for _, p := range sc.plans {
			ev, err := s.evaluatePlan(ctx, p.File, p.Source, p.Params)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				s.log.Warn("scheduled plan evaluation", "plan", p.File, "err", err)
				ev = &kirikaev1.PlanEvaluation{PlanFile: p.File, EvaluatedUnixNano: time.Now().UnixNano(),
					Unchecked: []*kirikaev1.UncheckedRegion{{Reason: "not evaluated: " + err.Error()}}}
			} else if n := len(ev.GetFindings()); n > 0 {
				s.log.Warn("scheduled plan evaluation found problems", "plan", p.File, "findings", n)
			}
			complete = complete && len(ev.GetUnchecked()) == 0
			sc.set(p.File, ev)
		}
		// A round that left steps unchecked (agents not yet connected to a new leader, no
		// system stored yet) is tried again soon rather than a whole interval later.
		wait = sc.interval
		if !complete {
			wait = min(wait, incompleteRetry)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
