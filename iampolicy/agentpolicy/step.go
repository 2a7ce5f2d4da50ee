package agentpolicy

import (
	"slices"
	"strings"

	"github.com/kirikae/kirikae/system"
)

// Grant is one IAM action a step calls, on resources (ARN patterns, or "*"), as the
// generated policy grants it.
type Grant struct {
	Action    string
	Resources []string
	// Optional marks a call made only on some paths (adopting what an earlier attempt made,
	// listing the alternatives to a missing resource).
	Optional bool
	// Condition is the grant's condition: operator -> key -> values.
	Condition map[string]map[string][]string
}

// unresolvedMark stands in for an input not known before the run while StepGrants derives
// the resources; a resource that still holds it depends on that input.
const unresolvedMark = "kirikae-unresolved-input"

// StepGrants lists what the executor and the plan check of one step call, in region of
// account, given its inputs as they are known before the run (the agent's plan check:
// with, less the inputs in unresolved, which wait on earlier steps' outputs), by the same
// rules Generate writes the policy with. sys may be nil (the agent holds no system yet).
//
// A resource that depends on an unresolved input, or on the system when sys is nil, is
// left out, since the generator names it after the earlier step's inputs instead; a grant
// left without resources is left out too. So every grant listed is one the generated
// policy holds word for word for this step, and one that is missing from a policy is a
// call the step would be refused.
func StepGrants(action, region, account string, sys *system.System, with map[string]any, unresolved []string) []Grant {
	in := inputs{}
	for k, v := range with {
		in[k] = v
	}
	for _, k := range unresolved {
		in[k] = unresolvedMark
	}
	e := env{region: region, account: account, sys: sys}
	var all []grant
	if f := executors[action]; f != nil {
		all = append(all, f(e, in)...)
	}
	if f := checks[action]; f != nil {
		all = append(all, f(e, in)...)
	}
	var out []Grant
	for _, gr := range all {
		var res []string
		for _, r := range gr.resources {
			if !strings.Contains(r, unresolvedMark) && !slices.Contains(res, r) {
				res = append(res, r)
			}
		}
		if len(res) == 0 {
			continue
		}
		out = append(out, Grant{Action: gr.action, Resources: res, Optional: gr.optional, Condition: gr.condition})
	}
	return out
}
