package plan

import "github.com/kirikae/kirikae/yamlcheck"

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
	yamlcheck.Limits
	steps int
}

var defaultLimits = limits{Limits: yamlcheck.Limits{Bytes: MaxBytes, Depth: MaxDepth, Expanded: MaxExpanded}, steps: MaxSteps}
