package plan

import (
	"slices"
	"sort"
)

// graph is the needs graph of a plan during validation, by index, so that ordering the
// steps, finding cycles and answering ancestry take time and memory about linear in the
// plan. Node i is the i-th step in file order that owns its id (a later step with the same
// id is left out, as it is from Plan.byID).
type graph struct {
	steps []*Step
	index map[string]int32
	// needs holds, for node i, needs[needsAt[i]:needsAt[i+1]]: the nodes it needs, in the
	// order written, leaving out unknown ids and itself and keeping repeats.
	needs   []int32
	needsAt []int32
	// comp is each node's strongly connected component: nodes in a cycle share one.
	// Components are numbered so that a component only needs lower-numbered ones.
	comp  []int32
	ncomp int32
}

func newGraph(p *Plan) *graph {
	g := &graph{index: make(map[string]int32, len(p.byID))}
	for _, s := range p.Steps {
		if p.byID[s.ID] == s {
			g.index[s.ID] = int32(len(g.steps))
			g.steps = append(g.steps, s)
		}
	}
	g.needsAt = make([]int32, len(g.steps)+1)
	for i, s := range g.steps {
		for _, n := range s.Needs {
			if j, ok := g.index[n]; ok && j != int32(i) {
				g.needs = append(g.needs, j)
			}
		}
		g.needsAt[i+1] = int32(len(g.needs))
	}
	g.components()
	return g
}

func (g *graph) needsOf(i int32) []int32 { return g.needs[g.needsAt[i]:g.needsAt[i+1]] }

// topoOrder is Kahn's algorithm with the ready steps in a heap by file position, so that of
// the steps whose needs are all placed, the one first in the file always comes next.
// Steps in a cycle, or after one, are left out.
func (g *graph) topoOrder() []int32 {
	n := len(g.steps)
	indeg := make([]int32, n)
	depAt := make([]int32, n+1) // dependents, the reverse of needs, in the same layout
	for _, j := range g.needs {
		depAt[j+1]++
	}
	for i := range n {
		indeg[i] = g.needsAt[i+1] - g.needsAt[i]
		depAt[i+1] += depAt[i]
	}
	deps := make([]int32, len(g.needs))
	fill := slices.Clone(depAt[:n])
	for i := range int32(n) {
		for _, j := range g.needsOf(i) {
			deps[fill[j]] = i
			fill[j]++
		}
	}
	var ready minHeap
	for i := range int32(n) {
		if indeg[i] == 0 {
			ready.push(i)
		}
	}
	order := make([]int32, 0, n)
	for len(ready) > 0 {
		i := ready.pop()
		order = append(order, i)
		for _, d := range deps[depAt[i]:depAt[i+1]] {
			if indeg[d]--; indeg[d] == 0 {
				ready.push(d)
			}
		}
	}
	return order
}

// minHeap is a binary heap of node indices, smallest first.
type minHeap []int32

func (h *minHeap) push(x int32) {
	*h = append(*h, x)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p] <= a[i] {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *minHeap) pop() int32 {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a = a[:last]
	for i := 0; ; {
		c := 2*i + 1
		if c >= len(a) {
			break
		}
		if c+1 < len(a) && a[c+1] < a[c] {
			c++
		}
		if a[i] <= a[c] {
			break
		}
		a[i], a[c] = a[c], a[i]
		i = c
	}
	*h = a
	return top
}

// components numbers the strongly connected components with Tarjan's algorithm, run
// iteratively so that a long chain of needs cannot exhaust the stack. Tarjan finishes a
// component only after every component it reaches through needs, so numbering them in the
// order they finish puts each component after the ones it needs.
func (g *graph) components() {
	n := int32(len(g.steps))
	const unvisited = -1
	g.comp = make([]int32, n)
	low := make([]int32, n)
	num := make([]int32, n) // discovery number, unvisited before
	for i := range num {
		num[i] = unvisited
	}
	onStack := make([]bool, n)
	var (
		stack []int32 // Tarjan's stack of visited nodes not yet in a component
		next  int32
	)
	type frame struct{ node, edge int32 }
	var calls []frame
	for root := range n {
		if num[root] != unvisited {
			continue
		}
		calls = append(calls, frame{root, g.needsAt[root]})
		num[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(calls) > 0 {
			f := &calls[len(calls)-1]
			v := f.node
			if f.edge < g.needsAt[v+1] {
				w := g.needs[f.edge]
				f.edge++
				switch {
				case num[w] == unvisited:
					num[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					calls = append(calls, frame{w, g.needsAt[w]})
				case onStack[w]:
					low[v] = min(low[v], num[w])
				}
				continue
			}
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				p := calls[len(calls)-1].node
				low[p] = min(low[p], low[v])
			}
			if low[v] == num[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					g.comp[w] = g.ncomp
					if w == v {
						break
					}
				}
				g.ncomp++
			}
		}
	}
}

// cycles returns one cycle for each component that has one, each found by following needs
// from the component's first step in the file and read in run order (a needed step before
// the step that needs it), starting at the cycle's first step in the file. They come in
// the order of their components' first steps.
func (g *graph) cycles() [][]int32 {
	n := int32(len(g.steps))
	size := make([]int32, g.ncomp)
	for _, c := range g.comp {
		size[c]++
	}
	const (
		unvisited = iota
		onPath
		finished
	)
	state := make([]uint8, n)
	pathPos := make([]int32, n)
	reported := make([]bool, g.ncomp)
	var out [][]int32
	type frame struct{ node, edge int32 }
	var path []int32
	var calls []frame
	for start := range n {
		c := g.comp[start]
		if size[c] < 2 || reported[c] {
			continue
		}
		reported[c] = true
		path, calls = path[:0], calls[:0]
		visit := func(v int32) {
			state[v] = onPath
			pathPos[v] = int32(len(path))
			path = append(path, v)
			calls = append(calls, frame{v, g.needsAt[v]})
		}
		// Depth-first through needs, within the component, to the first need that leads
		// back onto the path. Nodes left marked belong to this component only, and each
		// component is searched once.
		visit(start)
		var cyc []int32
		for len(calls) > 0 && cyc == nil {
			f := &calls[len(calls)-1]
			if f.edge == g.needsAt[f.node+1] {
				state[f.node] = finished
				path = path[:len(path)-1]
				calls = calls[:len(calls)-1]
				continue
			}
			w := g.needs[f.edge]
			f.edge++
			switch {
			case g.comp[w] != c:
			case state[w] == onPath:
				cyc = slices.Clone(path[pathPos[w]:])
			case state[w] == unvisited:
				visit(w)
			}
		}
		if cyc == nil {
			continue // cannot happen: a component of two or more steps holds a cycle
		}
		// Found following needs (dependent -> dependency); read it in run order, rotated to
		// start at the step first in the file.
		slices.Reverse(cyc)
		best := 0
		for i, v := range cyc {
			if v < cyc[best] {
				best = i
			}
		}
		out = append(out, append(cyc[best:], cyc[:best]...))
	}
	return out
}

// ancestry answers many "does step of need step anc, directly or through other steps"
// questions at once and sets each one's yes.
//
// A question between two steps of one cycle is yes, and one whose anc comes after of in
// the component order is no. The rest are answered 64 distinct ancestors at a time, by one
// pass over the components from the lowest ancestor of the batch to the highest step asked
// about, each component carrying a 64-bit set of the batch's ancestors it reaches. Plans
// read the outputs of steps shortly before them, or of a few steps that many read, and
// then each pass is short or there are few passes; at worst it is one pass over the plan
// per 64 distinct ancestors, which MaxSteps bounds.
func (g *graph) ancestry(qs []ancQuery) {
	// The needs of each component, among components.
	cAt := make([]int32, g.ncomp+1)
	for i := range g.steps {
		for _, j := range g.needsOf(int32(i)) {
			if g.comp[j] != g.comp[i] {
				cAt[g.comp[i]+1]++
			}
		}
	}
	for c := range g.ncomp {
		cAt[c+1] += cAt[c]
	}
	cNeeds := make([]int32, cAt[g.ncomp])
	fill := slices.Clone(cAt[:g.ncomp])
	for i := range g.steps {
		ci := g.comp[i]
		for _, j := range g.needsOf(int32(i)) {
			if cj := g.comp[j]; cj != ci {
				cNeeds[fill[ci]] = cj
				fill[ci]++
			}
		}
	}

	var rest []*ancQuery
	for k := range qs {
		q := &qs[k]
		ca, co := g.comp[q.anc], g.comp[q.of]
		switch {
		case q.anc == q.of || ca > co:
			q.yes = false
		case ca == co:
			q.yes = true
		default:
			rest = append(rest, q)
		}
	}
	sort.Slice(rest, func(i, j int) bool { return g.comp[rest[i].anc] < g.comp[rest[j].anc] })
	bit := make([]int8, g.ncomp)
	for i := range bit {
		bit[i] = -1
	}
	var reach []uint64
	for len(rest) > 0 {
		// Take the questions about the next 64 distinct ancestors.
		var batch []*ancQuery
		var ancs []int32
		hi := int32(0)
		for len(rest) > 0 {
			ca := g.comp[rest[0].anc]
			if bit[ca] < 0 {
				if len(ancs) == 64 {
					break
				}
				bit[ca] = int8(len(ancs))
				ancs = append(ancs, ca)
			}
			hi = max(hi, g.comp[rest[0].of])
			batch = append(batch, rest[0])
			rest = rest[1:]
		}
		lo := ancs[0]
		reach = slices.Grow(reach[:0], int(hi-lo+1))[:hi-lo+1]
		for c := lo; c <= hi; c++ {
			var w uint64
			if b := bit[c]; b >= 0 {
				w = 1 << b
			}
			for _, d := range cNeeds[cAt[c]:cAt[c+1]] {
				if d >= lo {
					w |= reach[d-lo]
				}
			}
			reach[c-lo] = w
		}
		for _, q := range batch {
			q.yes = reach[g.comp[q.of]-lo]&(1<<bit[g.comp[q.anc]]) != 0
		}
		for _, c := range ancs {
			bit[c] = -1
		}
	}
}

// ancQuery asks whether step of needs step anc, directly or through other steps.
type ancQuery struct {
	anc, of int32
	yes     bool
}
