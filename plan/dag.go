package plan

import (
	"fmt"
	"sort"
	"time"
)

// DAG is the needs graph of a plan.
type DAG struct {
	// Order is a topological order: every step after all it needs, ties in file order.
	Order []string
	// Needs maps a step to the steps it needs; Dependents is the reverse.
	Needs      map[string][]string
	Dependents map[string][]string
}

// DAG returns the plan's dependency graph.
func (p *Plan) DAG() DAG {
	needs := make(map[string][]string, len(p.Steps))
	for _, s := range p.Steps {
		needs[s.ID] = append([]string(nil), s.Needs...)
	}
	return DAG{Order: p.TopoOrder(), Needs: needs, Dependents: p.dependents()}
}

// TopoOrder returns step ids so that every step comes after the steps it needs; steps that
// could go in either order keep their file order.
func (p *Plan) TopoOrder() []string { return append([]string(nil), p.order...) }

func (p *Plan) dependents() map[string][]string {
	out := map[string][]string{}
	for _, s := range p.Steps {
		for _, n := range s.Needs {
			out[n] = append(out[n], s.ID)
		}
	}
	return out
}

// ancestorSet is every step id needs directly or indirectly, walked one step at a time.
func (p *Plan) ancestorSet(id string) map[string]bool {
	seen := map[string]bool{}
	stack := []string{id}
	for len(stack) > 0 {
		s := p.byID[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		for _, n := range s.Needs {
			if !seen[n] && p.byID[n] != nil {
				seen[n] = true
				stack = append(stack, n)
			}
		}
	}
	delete(seen, id)
	return seen
}

// Ancestors returns every step that id needs directly or indirectly, in topological order.
// It walks the needs once from id, so it costs time linear in what it returns.
func (p *Plan) Ancestors(id string) ([]string, error) {
	if p.byID[id] == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownStep, id)
	}
	seen := p.ancestorSet(id)
	out := make([]string, 0, len(seen))
	for _, s := range p.order {
		if seen[s] {
			out = append(out, s)
		}
	}
	return out, nil
}

// CriticalPath returns the longest chain of steps through needs, weighted by each step's
// expect (steps without expect weigh nothing), and its total. With unlimited parallelism this
// is how long the plan takes if every step takes what the runbook expects. Among equal
// chains the one whose steps come first in topological order wins, so the answer is stable.
func (p *Plan) CriticalPath() ([]string, time.Duration) {
	dist := make(map[string]time.Duration, len(p.order))
	prev := make(map[string]string, len(p.order))
	pos := make(map[string]int, len(p.order))
	for i, id := range p.order {
		pos[id] = i
	}
	var end string
	for _, id := range p.order {
		s := p.byID[id]
		best, from := time.Duration(0), ""
		for _, n := range s.Needs {
			d := dist[n]
			if from == "" || d > best || (d == best && pos[n] < pos[from]) {
				best, from = d, n
			}
		}
		dist[id] = best + s.Expect
		prev[id] = from
		if end == "" || dist[id] > dist[end] {
			end = id
		}
	}
	if end == "" {
		return nil, 0
	}
	// Carry the path on through steps that take no time (region.activate, a final notify
	// without expect), so it ends where the plan really ends.
	deps := p.dependents()
	for moved := true; moved; {
		moved = false
		for _, d := range deps[end] {
			if prev[d] == end && dist[d] == dist[end] {
				end, moved = d, true
				break
			}
		}
	}
	var path []string
	for id := end; id != ""; id = prev[id] {
		path = append(path, id)
	}
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	return path, dist[end]
}

// SequentialSum is the sum of every step's expect: how long the plan takes run one step
// after another, as the runbook does.
func (p *Plan) SequentialSum() time.Duration {
	var t time.Duration
	for _, s := range p.Steps {
		t += s.Expect
	}
	return t
}

// Ready returns the steps that may be dispatched now: not yet started, with every step they
// need finished. They come in dispatch order: priority 1 first (0 means no priority and
// comes after every prioritized step), then topological order.
func (p *Plan) Ready(finished, started func(id string) bool) []*Step {
	pos := make(map[string]int, len(p.order))
	for i, id := range p.order {
		pos[id] = i
	}
	var out []*Step
	for _, id := range p.order {
		if started(id) || finished(id) {
			continue
		}
		s := p.byID[id]
		ok := true
		for _, n := range s.Needs {
			if !finished(n) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Priority, out[j].Priority
		if a != b {
			if a == 0 || b == 0 {
				return b == 0
			}
			return a < b
		}
		return pos[out[i].ID] < pos[out[j].ID]
	})
	return out
}
