package plan

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Size limits of a plan. Parse and ApplyParams refuse a plan past any of them with a
// *ValidationError whose message names the limit and the plan's value (and the line where
// there is one), and they check each limit before doing any work that grows faster than
// the plan's bytes: the size before the YAML is parsed, the nesting and what aliases
// expand to in one pass over the parsed tree, and the steps before any step is decoded.
// The control plane validates every declared plan on the leader, so these limits are what
// keeps one oversized or hostile plan from stalling it or exhausting its memory.
//
// They are generous for real plans: the bundled failover plan is 30 steps in 20 KiB and
// nests 5 levels deep. Within them validation takes time and memory about linear in the
// plan (BenchmarkValidate measures it up to 100,000 steps, with the limits raised).
const (
	// MaxBytes is the largest plan file: 4 MiB, which is also gRPC's default limit on
	// the size of the request that declares a run.
	MaxBytes = 4 << 20
	// MaxSteps is the most steps a plan may have.
	MaxSteps = 10_000
	// MaxDepth is how deeply mappings and lists may nest, counting the plan's top-level
	// mapping as 1: a step's `with` is at depth 4, so an input may nest 46 levels. An alias
	// counts as the node it names, at the depth where it is used.
	MaxDepth = 50
	// MaxExpanded bounds what YAML aliases expand to: the plan, with every alias replaced
	// by the node it names, may hold at most this much, counting each node as one plus the
	// length of its text. Without aliases that count is at most about the file's size in
	// bytes, so only aliases can reach it: it stops a small file from standing for a huge one.
	MaxExpanded = 2 * MaxBytes
)

// limits is what one validation enforces; only the benchmark raises them.
type limits struct {
	bytes, steps, depth, expanded int
}

var defaultLimits = limits{bytes: MaxBytes, steps: MaxSteps, depth: MaxDepth, expanded: MaxExpanded}

// shape is what checkShape learns of a node: its height in mappings and lists (a scalar
// is 0, an empty list 1) and its expanded size (see MaxExpanded).
type shape struct {
	height, size int
}

// checkShape walks the parsed tree once, iteratively, following aliases, and refuses
// nesting deeper than the depth limit, an alias inside the node it names, and a tree that
// expands past the expanded limit. It reports whether the tree is safe to decode: every
// later walk of the tree, recursive or not, is bounded by these limits.
//
// Each node is visited once: a node with an anchor (the only kind an alias can name) keeps
// its shape, so every alias of it costs one lookup.
func (v *validator) checkShape(root *yaml.Node) bool {
	if root.Kind != yaml.MappingNode && root.Kind != yaml.SequenceNode {
		return true // decodePlan refuses it
	}
	type frame struct {
		n     *yaml.Node
		next  int // index of the next child to visit
		depth int
		shape shape
	}
	const inProgress = -1
	anchored := map[*yaml.Node]shape{} // height inProgress while the node is being walked
	var (
		stack    []frame
		total    int // expanded size of what has been seen
		maxDepth int
		deepLine int // first line past the depth limit
		cyclic   bool
	)
	// reach records that mappings and lists nest depth levels deep at line.
	reach := func(depth, line int) {
		maxDepth = max(maxDepth, depth)
		if depth > v.lim.depth && deepLine == 0 {
			deepLine = line
		}
	}
	enter := func(n *yaml.Node, depth int) {
		if n.Anchor != "" {
			anchored[n] = shape{height: inProgress}
		}
		reach(depth, n.Line)
		total++
		stack = append(stack, frame{n: n, depth: depth, shape: shape{height: 1, size: 1}})
	}
	enter(root, 1)
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if total > v.lim.expanded {
			v.errf(f.n.Line, "yaml", "the plan expands to more than %d (each node counting one plus the length of its text, each alias as what it names): a plan may expand to at most %d",
				v.lim.expanded, v.lim.expanded)
			return false
		}
		if f.next == len(f.n.Content) {
			done := *f
			stack = stack[:len(stack)-1]
			if done.n.Anchor != "" {
				anchored[done.n] = done.shape
			}
			if len(stack) > 0 {
				p := &stack[len(stack)-1]
				p.shape.height = max(p.shape.height, 1+done.shape.height)
				p.shape.size += done.shape.size
			}
			continue
		}
		c := f.n.Content[f.next]
		f.next++
		if c == nil {
			continue
		}
		if c.Kind == yaml.AliasNode && c.Alias != nil {
			s, ok := anchored[c.Alias]
			switch {
			case ok && s.height == inProgress:
				v.errf(c.Line, "yaml", "alias *%s is inside the node it names (line %d), so it would nest forever", c.Value, c.Alias.Line)
				cyclic = true
				continue
			case ok:
				if s.height > 0 {
					reach(f.depth+s.height, c.Line)
				}
				total += s.size
				f.shape.height = max(f.shape.height, 1+s.height)
				f.shape.size += s.size
				continue
			}
			// An alias of a node not walked yet, which one document cannot hold since its
			// anchors come before their aliases: walk the node here.
			c = c.Alias
		}
		switch c.Kind {
		case yaml.MappingNode, yaml.SequenceNode:
			enter(c, f.depth+1)
		default:
			s := shape{size: 1 + len(c.Value)}
			if c.Anchor != "" {
				anchored[c] = s
			}
			total += s.size
			f.shape.size += s.size
		}
	}
	if cyclic {
		return false
	}
	if deepLine != 0 {
		v.errf(deepLine, "yaml", "mappings and lists nest %d levels deep: a plan may nest at most %d", maxDepth, v.lim.depth)
		return false
	}
	return true
}

// tooLarge refuses a plan file past the byte limit.
func (v *validator) tooLarge(data []byte) bool {
	if len(data) <= v.lim.bytes {
		return false
	}
	v.errf(1, "plan", "the file is %d bytes: a plan may be at most %d bytes (%s)", len(data), v.lim.bytes, sizeName(v.lim.bytes))
	return true
}

func sizeName(n int) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
