package yamlcheck

import "go.yaml.in/yaml/v3"

// shape is what checkShape learns of a node: its height in mappings and lists (a scalar
// is 0, an empty list 1) and its expanded size (see Limits.Expanded).
type shape struct {
	height, size int
}

// checkShape walks the parsed tree once, iteratively, following aliases, and refuses
// nesting deeper than lim.Depth, an alias inside the node it names, and a tree that
// expands past lim.Expanded. It reports whether the tree is safe to walk: every later walk
// of the tree, recursive or not, is bounded by these limits.
//
// Each node is visited once: a node with an anchor (the only kind an alias can name) keeps
// its shape, so every alias of it costs one lookup.
func (p *Problems) checkShape(root *yaml.Node, lim Limits, noun string) bool {
	if root.Kind != yaml.MappingNode && root.Kind != yaml.SequenceNode {
		return true // the format's decoder refuses it
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
		if depth > lim.Depth && deepLine == 0 {
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
		if total > lim.Expanded {
			p.Add(f.n.Line, "yaml", "the %s expands to more than %d (each node counting one plus the length of its text, each alias as what it names): %s may expand to at most %d",
				noun, lim.Expanded, Article(noun), lim.Expanded)
			return false
		}
		if f.next == len(f.n.Content) {
			done := *f
			stack = stack[:len(stack)-1]
			if done.n.Anchor != "" {
				anchored[done.n] = done.shape
			}
			if len(stack) > 0 {
				parent := &stack[len(stack)-1]
				parent.shape.height = max(parent.shape.height, 1+done.shape.height)
				parent.shape.size += done.shape.size
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
				p.Add(c.Line, "yaml", "alias *%s is inside the node it names (line %d), so it would nest forever", c.Value, c.Alias.Line)
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
		p.Add(deepLine, "yaml", "mappings and lists nest %d levels deep: %s may nest at most %d", maxDepth, Article(noun), lim.Depth)
		return false
	}
	return true
}
