package plan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomPlan is a plan of n steps, each needing up to four others picked at random, mostly
// earlier ones (so it has long chains), and later ones with probability back (cycles).
func randomPlan(r *rand.Rand, n int, back float64) *Plan {
	p := &Plan{byID: map[string]*Step{}}
	for i := range n {
		s := &Step{ID: fmt.Sprintf("s%d", i)}
		for range r.IntN(5) {
			switch {
			case r.Float64() < back:
				s.Needs = append(s.Needs, fmt.Sprintf("s%d", r.IntN(n)))
			case i > 0:
				s.Needs = append(s.Needs, fmt.Sprintf("s%d", i-1-r.IntN(min(i, 8))))
			}
		}
		p.Steps = append(p.Steps, s)
		p.byID[s.ID] = s
	}
	return p
}

// naiveOrder is Kahn's algorithm restarting from the top of the file after each step.
func naiveOrder(p *Plan) []string {
	done := map[string]bool{}
	var order []string
	for {
		progressed := false
		for _, s := range p.Steps {
			if done[s.ID] {
				continue
			}
			ready := true
			for _, n := range s.Needs {
				if n != s.ID && !done[n] {
					ready = false
				}
			}
			if ready {
				done[s.ID] = true
				order = append(order, s.ID)
				progressed = true
				break
			}
		}
		if !progressed {
			return order
		}
	}
}

func TestGraphAgreesWithNaiveWalks(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 100 {
		n := 1 + r.IntN(150)
		back := []float64{0, 0, 0.01, 0.1}[trial%4]
		p := randomPlan(r, n, back)
		g := newGraph(p)

		var order []string
		for _, i := range g.topoOrder() {
			order = append(order, g.steps[i].ID)
		}
		if want := naiveOrder(p); !slices.Equal(order, want) {
			t.Fatalf("trial %d: order\n%v\nwant\n%v", trial, order, want)
		}

		// Every pair, answered in one batch.
		var qs []ancQuery
		for a := range int32(n) {
			for o := range int32(n) {
				qs = append(qs, ancQuery{anc: a, of: o})
			}
		}
		r.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
		g.ancestry(qs)
		anc := map[string]map[string]bool{}
		for _, q := range qs {
			of := g.steps[q.of].ID
			if anc[of] == nil {
				anc[of] = p.ancestorSet(of) // the plain walk, one step at a time
			}
			if want := anc[of][g.steps[q.anc].ID]; q.yes != want {
				t.Fatalf("trial %d: is %s an ancestor of %s: %v, want %v", trial, g.steps[q.anc].ID, of, q.yes, want)
			}
		}

		// Each cycle reported is one, and a plan has one exactly when some step is unordered.
		cycles := g.cycles()
		if (len(cycles) > 0) != (len(order) < n) {
			t.Fatalf("trial %d: %d cycles with %d of %d steps ordered", trial, len(cycles), len(order), n)
		}
		for _, c := range cycles {
			for k, i := range c {
				next := g.steps[c[(k+1)%len(c)]]
				if !slices.Contains(next.Needs, g.steps[i].ID) {
					t.Fatalf("trial %d: cycle %v: %s does not need %s", trial, c, next.ID, g.steps[i].ID)
				}
			}
		}
	}
}
