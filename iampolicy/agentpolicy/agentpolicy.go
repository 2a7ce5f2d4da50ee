package agentpolicy

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/iampolicy"
	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/system"
)

// ErrRegion is returned for a region that is not one of the system's pair, and for a step
// whose region cannot be known before the run.
var ErrRegion = errors.New("region")

// Need kinds: who calls an IAM action.
const (
	NeedStep      = "step"      // the executor of a plan step
	NeedCheck     = "check"     // the read-only plan check of a step
	NeedReadiness = "readiness" // a readiness check of the agent
	NeedAgent     = "agent"     // the agent runtime itself: its health probe
	// NeedIAMCheck: the IAM check of a plan-check request, which asks IAM whether the
	// agent's own credentials may call what its steps call (iam:SimulatePrincipalPolicy on
	// the agent's principal).
	NeedIAMCheck = "iam-check"
)

// HealthProbe names the agent's health probe among the needs (Kind NeedAgent).
const HealthProbe = "health probe"

// agentGrants are what the agent runtime calls on every heartbeat (agent/health.go,
// AWSHealthProbe): sts:GetCallerIdentity, which needs no permission; ec2:DescribeVpcs, to
// see the region's API answer; and AWS Health's open events in its region.
var agentGrants = []grant{g("ec2:DescribeVpcs"), g("health:DescribeEvents")}

// Need is one caller of the granted actions: a step of a plan, the plan check of one, a
// readiness check (Name is the check's name, Plan and Step are empty), or the agent's
// health probe (Name HealthProbe).
type Need struct {
	Kind string `json:"kind"`
	Plan string `json:"plan,omitempty"`
	Step string `json:"step,omitempty"`
	Name string `json:"name,omitempty"`
	// Action is the step's catalog action.
	Action string `json:"action,omitempty"`
	// Optional says the caller needs the statement only on some paths (adopting what an
	// earlier attempt made, offering alternatives to a missing resource): without it, the
	// caller may still succeed.
	Optional bool `json:"optional,omitempty"`
}

func (n Need) String() string {
	switch n.Kind {
	case NeedReadiness:
		return "readiness " + n.Name
	case NeedAgent:
		return "agent " + n.Name
	case NeedIAMCheck:
		return "plan check: IAM"
	}
	return n.Kind + " " + n.Plan + "/" + n.Step
}

// Options tune Generate.
type Options struct {
	// Params are the plans' parameter overrides (declare --set NAME=VALUE), for every plan
	// that declares the name.
	Params map[string]string
	// Undo adds the undo actions of the steps (a drill's teardown, `run undo`).
	Undo bool
	// NoReadiness leaves out the readiness checks (for an agent that runs none).
	NoReadiness bool
}

// Result is the policy of one region's agent and why it holds each statement.
type Result struct {
	Region string
	Policy *iampolicy.Policy
	// Steps are the steps of each plan that run in the region (plan name -> step ids), in
	// plan order.
	Steps map[string][]string
	needs map[string][]Need // statement Sid -> who needs it
}

// Needs lists who calls what the statement sid grants: if it were gone, those calls would
// be refused.
func (r *Result) Needs(sid string) []Need { return slices.Clone(r.needs[sid]) }

// Generate derives the least-privilege policy of the agent of region from plans and sys.
func Generate(plans []*plan.Plan, sys *system.System, region string, opts Options) (*Result, error) {
	role := sys.RegionOf(region)
	if role == nil {
		return nil, fmt.Errorf("%w %s is not one of system %s's pair (%s, %s)", ErrRegion, region, sys.Name,
			sys.Role(system.Primary).Name, sys.Role(system.Secondary).Name)
	}
	account := cmp.Or(sys.Account, "*")
	e := env{region: region, account: account, sys: sys}
	res := &Result{Region: region, Steps: map[string][]string{}, needs: map[string][]Need{}}
	var all []need
	for _, pl := range plans {
		got, err := planGrants(pl, sys, region, account, opts, res)
		if err != nil {
			return nil, err
		}
		all = append(all, got...)
	}
	for _, gr := range agentGrants {
		all = append(all, need{gr, Need{Kind: NeedAgent, Name: HealthProbe}})
	}
	// The principal is the agent's user or role, which the system file does not name.
	all = append(all, need{g("iam:SimulatePrincipalPolicy", "arn:aws:iam::"+account+":*"), Need{Kind: NeedIAMCheck}})
	if !opts.NoReadiness {
		rg := readinessGrants(e)
		for _, name := range slices.Sorted(maps.Keys(rg)) {
			for _, gr := range rg[name] {
				all = append(all, need{gr, Need{Kind: NeedReadiness, Name: name}})
			}
		}
	}
	res.Policy = statements(all, res.needs)
	return res, nil
}

// need is a grant and who needs it.
type need struct {
	grant
	who Need
}

// planGrants lists what the steps of pl that run in region call.
func planGrants(pl *plan.Plan, sys *system.System, region, account string, opts Options, res *Result) ([]need, error) {
	params := pl.ParamValues()
	for k, v := range opts.Params {
		if pl.Param(k) != nil {
			params[k] = v
		}
	}
	roleOf := string(sys.RegionOf(region).Role)
	// A step region chosen by a parameter not set runs where the operator chooses: here.
	for _, s := range pl.Steps {
		for _, name := range paramRefs(s.Region) {
			if _, set := opts.Params[name]; !set {
				params[name] = roleOf
			}
		}
	}
	primary, secondary := sys.Role(system.Primary).Name, sys.Role(system.Secondary).Name
	run := plan.RunVars{ID: unknown, StartedCompact: unknown, Primary: primary, Secondary: secondary}
	switch pl.RunKind {
	case plan.RunFailover:
		run.Failed, run.Target = primary, secondary
	case plan.RunCutback:
		run.Failed, run.Target = secondary, primary
	}
	r := &resolver{ctx: plan.Context{Params: params, Run: run, System: sys}, pl: pl, account: account,
		inputs: map[string]inputs{}, regions: map[string]string{}}
	var out []need
	for _, id := range pl.TopoOrder() {
		s := pl.Step(id)
		if s.Where() != plan.OnAgent {
			continue
		}
		at, err := s.ResolveRegion(r.ctx)
		if err != nil {
			return nil, fmt.Errorf("plan %s: %w: %w (its region is known only at run time: set the parameter it reads)", pl.Name, ErrRegion, err)
		}
		r.regions[id] = at
		in := r.resolve(s)
		if at != region {
			continue
		}
		res.Steps[pl.Name] = append(res.Steps[pl.Name], id)
		e := env{region: at, account: account, sys: sys}
		step := Need{Kind: NeedStep, Plan: pl.Name, Step: id, Action: s.Action}
		if f := executors[s.Action]; f != nil {
			for _, gr := range f(e, in) {
				out = append(out, need{gr, step})
			}
		}
		if opts.Undo {
			if a, ok := catalog.Lookup(s.Action); ok && a.Undo != "" {
				if f := executors[a.Undo]; f != nil {
					for _, gr := range f(e, in) {
						out = append(out, need{gr, Need{Kind: NeedStep, Plan: pl.Name, Step: id + "(undo)", Action: a.Undo}})
					}
				}
			}
		}
		if f := checks[s.Action]; f != nil {
			check := step
			check.Kind = NeedCheck
			for _, gr := range f(e, in) {
				out = append(out, need{gr, check})
			}
		}
	}
	return out, nil
}

// paramRefs lists the names of the ${params.NAME} in s.
func paramRefs(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "${params.")
		if i < 0 {
			return out
		}
		s = s[i+len("${params."):]
		j := strings.IndexByte(s, '}')
		if j < 0 {
			return out
		}
		out = append(out, s[:j])
		s = s[j+1:]
	}
}

// statements builds the policy: each action on the union of its resources (less those
// another of them covers), actions on the same resources in one statement, ordered by
// service and Sid; needs gets who needs each statement.
func statements(all []need, needs map[string][]Need) *iampolicy.Policy {
	type acc struct {
		resources map[string]bool
		who       []Need
		cond      map[string]map[string][]string
		uncond    bool // a grant of the action has no condition: none narrows it
	}
	byAction := map[string]*acc{}
	for _, n := range all {
		a := byAction[n.action]
		if a == nil {
			a = &acc{resources: map[string]bool{}}
			byAction[n.action] = a
		}
		for _, r := range n.resources {
			a.resources[r] = true
		}
		a.cond, a.uncond = mergeCondition(a.cond, a.uncond, n.condition)
		who := n.who
		who.Optional = n.optional
		a.who = addNeed(a.who, who)
	}
	type group struct {
		service   string
		actions   []string
		resources []string
		cond      map[string]map[string]iampolicy.Strings
		who       []Need
	}
	groups := map[string]*group{}
	for _, action := range slices.Sorted(maps.Keys(byAction)) {
		a := byAction[action]
		res := reduce(slices.Sorted(maps.Keys(a.resources)))
		service, _, _ := strings.Cut(action, ":")
		var cond map[string]map[string]iampolicy.Strings
		if !a.uncond && len(a.cond) > 0 {
			cond = map[string]map[string]iampolicy.Strings{}
			for op, keys := range a.cond {
				cond[op] = map[string]iampolicy.Strings{}
				for k, vs := range keys {
					cond[op][k] = slices.Sorted(slices.Values(vs))
				}
			}
		}
		condKey, _ := json.Marshal(cond) // maps marshal with sorted keys
		key := service + " " + strings.Join(res, " ") + " " + string(condKey)
		gr := groups[key]
		if gr == nil {
			gr = &group{service: service, resources: res, cond: cond}
			groups[key] = gr
		}
		gr.actions = append(gr.actions, action)
		for _, w := range a.who {
			gr.who = addNeed(gr.who, w)
		}
	}
	var list []*group
	for _, gr := range groups {
		list = append(list, gr)
	}
	sid := func(gr *group) string { return pascal(gr.service) + strings.SplitN(gr.actions[0], ":", 2)[1] }
	slices.SortFunc(list, func(a, b *group) int { return cmp.Or(cmp.Compare(a.service, b.service), cmp.Compare(sid(a), sid(b))) })
	p := &iampolicy.Policy{Version: iampolicy.Version}
	for _, gr := range list {
		id := sid(gr)
		p.Statement = append(p.Statement, iampolicy.Statement{Sid: id, Effect: iampolicy.Allow, Action: gr.actions, Resource: gr.resources, Condition: gr.cond})
		needs[id] = gr.who
	}
	return p
}

// mergeCondition folds the condition of one more grant of an action into those before it:
// the values of each key are joined; a grant without a condition, or with other keys,
// leaves the action unconditioned, since the statement must allow every grant.
func mergeCondition(have map[string]map[string][]string, uncond bool, add map[string]map[string][]string) (map[string]map[string][]string, bool) {
	switch {
	case uncond:
		return nil, true
	case len(add) == 0:
		return nil, true
	case have == nil:
		out := map[string]map[string][]string{}
		for op, keys := range add {
			out[op] = map[string][]string{}
			for k, vs := range keys {
				out[op][k] = slices.Clone(vs)
			}
		}
		return out, false
	}
	if len(have) != len(add) {
		return nil, true
	}
	for op, keys := range add {
		h, ok := have[op]
		if !ok || len(h) != len(keys) {
			return nil, true
		}
		for k, vs := range keys {
			hv, ok := h[k]
			if !ok {
				return nil, true
			}
			for _, v := range vs {
				if !slices.Contains(hv, v) {
					hv = append(hv, v)
				}
			}
			h[k] = hv
		}
	}
	return have, false
}

// addNeed adds n to list: once per caller, optional only if every need of it is.
func addNeed(list []Need, n Need) []Need {
	for i, o := range list {
		o.Optional = n.Optional
		if o == n {
			list[i].Optional = list[i].Optional && n.Optional
			return list
		}
	}
	return append(list, n)
}

// reduce drops the resources another one of the list covers; "*" covers all.
func reduce(res []string) []string {
	if slices.Contains(res, "*") {
		return []string{"*"}
	}
	var out []string
	for i, r := range res {
		covered := false
		for j, o := range res {
			if i != j && o != r && iampolicy.MatchResource(o, r) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, r)
		}
	}
	return out
}

// pascal turns a service prefix into a Sid's first word: elasticloadbalancing ->
// Elasticloadbalancing, rds -> Rds.
func pascal(service string) string {
	var b strings.Builder
	up := true
	for _, c := range service {
		switch {
		case c == '-':
			up = true
			continue
		case up && c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		up = false
		b.WriteRune(c)
	}
	return b.String()
}

// sortedValues are the values of m, in the order of its sorted keys.
func sortedValues(m map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}
