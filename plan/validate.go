package plan

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kirikae/kirikae/awsregion"
	"github.com/kirikae/kirikae/yamlcheck"
)

var (
	idRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	paramRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	roleRe  = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
)

// suggestBudget bounds the names compared to offer "did you mean" for unknown names, so a
// plan full of unknown names costs no more than one that has a few.
const suggestBudget = 1 << 20

// validator decodes a plan from a yaml.Node tree, checking as it goes, and collects every
// problem with its line and field.
type validator struct {
	yamlcheck.Problems
	p   *Plan
	lim limits

	// Nodes kept for the semantic checks after decoding.
	stepNodes  map[*Step]*stepNodes
	paramUses  []paramUse
	phaseLine  int
	paramsLine int
	overrides  map[string]string // ApplyParams values, set before the checks
	refNodes   int               // nodes visited by checkRefs

	graph      *graph
	suggested  int              // names compared by suggest so far
	ancIndex   map[[2]int32]int // (ancestor, step) by graph node -> its question in ancQueries
	ancQueries []ancQuery
	stepIDList []string // every step's id, in file order, for suggestions
	paramList  []string // every param's name, for suggestions
}

type stepNodes struct {
	field string // "steps[ID]" or "steps[N]"
	node  *yaml.Node
	keys  map[string]*yaml.Node // key node per field, for lines
	vals  map[string]*yaml.Node // value node per field
}

// paramUse is a `with` value that is exactly ${params.X} where the input has a checkable
// type, or a step region that is ${params.X}; the param's value must fit.
type paramUse struct {
	param string
	typ   string // input type, or "region"
	field string
	line  int
}

func newValidator(file string, p *Plan, lim limits) *validator {
	return &validator{Problems: yamlcheck.Problems{File: file, Top: "plan"}, p: p, lim: lim}
}

func (v *validator) err() error { return &ValidationError{File: v.File, Errors: v.List()} }

// suggest is the package's suggest within the validator's budget.
func (v *validator) suggest(name string, options []string) string {
	if v.suggested += len(options); v.suggested > suggestBudget {
		return ""
	}
	return suggest(name, options)
}

func (v *validator) run(data []byte) {
	root := v.Load(data, v.lim.Limits, "plan")
	if root == nil {
		return
	}
	v.stepNodes = map[*Step]*stepNodes{}
	v.decodePlan(root)
	for _, pr := range v.p.Params {
		if val, ok := v.overrides[pr.Name]; ok {
			pr.Value, pr.Set = val, true
		}
	}
	if len(v.p.Steps) > 0 {
		v.checkGraph()
		v.checkSteps()
		v.checkParamUses(v.p)
	}
}

var planFields = []string{"apiVersion", "kind", "name", "description", "runKind", "params", "phases", "steps"}

func (v *validator) decodePlan(n *yaml.Node) {
	p := v.p
	got := map[string]bool{}
	ok := v.Fields(n, "plan", planFields, func(key string, k, val *yaml.Node) {
		got[key] = true
		switch key {
		case "apiVersion":
			if s, ok := v.Str(val, key); ok {
				if s != APIVersion {
					v.Add(val.Line, key, "unsupported apiVersion %q: want %s", s, APIVersion)
				}
				p.APIVersion = s
			}
		case "kind":
			if s, ok := v.Str(val, key); ok {
				if s != "Plan" {
					v.Add(val.Line, key, "kind %q: want Plan", s)
				}
				p.Kind = s
			}
		case "name":
			if s, ok := v.Str(val, key); ok {
				if !idRe.MatchString(s) {
					v.Add(val.Line, key, "name %q: want lower-case letters, digits and dashes", s)
				}
				p.Name = s
			}
		case "description":
			p.Description, _ = v.Str(val, key)
		case "runKind":
			if s, ok := v.Str(val, key); ok {
				switch RunKind(s) {
				case RunFailover, RunCutback, RunRecovery, RunTeardown:
				case "drill":
					v.Add(val.Line, key, "drill is a way to run a plan, not a plan kind: want failover, cutback, recovery or teardown")
				default:
					v.Add(val.Line, key, "unknown runKind %q: want failover, cutback, recovery or teardown", s)
				}
				p.RunKind = RunKind(s)
			}
		case "params":
			v.paramsLine = k.Line
			v.decodeParams(val)
		case "phases":
			v.phaseLine = k.Line
			v.decodePhases(val)
		case "steps":
			v.decodeSteps(val)
		}
	})
	if !ok {
		return
	}
	for _, req := range []string{"apiVersion", "kind", "name", "runKind", "steps"} {
		if !got[req] {
			v.Add(n.Line, req, "missing required field %q", req)
		}
	}
}

func (v *validator) decodeParams(n *yaml.Node) {
	v.Fields(n, "params", nil, func(name string, k, val *yaml.Node) {
		field := "params." + name
		if !paramRe.MatchString(name) {
			v.Add(k.Line, field, "bad param name %q: want letters, digits and _", name)
		}
		pr := &Param{Name: name, Line: k.Line}
		v.p.Params = append(v.p.Params, pr)
		if v.p.byParam == nil {
			v.p.byParam = map[string]*Param{}
		}
		v.p.byParam[name] = pr
		if val.Kind == yaml.ScalarNode && val.ShortTag() != "!!null" {
			// Shorthand: NAME: value.
			pr.Default, pr.HasDefault = val.Value, true
			return
		}
		v.Fields(val, field, []string{"default", "description", "secret"}, func(key string, _, fv *yaml.Node) {
			switch key {
			case "default":
				if fv.Kind == yaml.ScalarNode && fv.ShortTag() == "!!null" {
					return
				}
				if s, ok := v.Str(fv, field+".default"); ok {
					if strings.Contains(s, "${") {
						v.Add(fv.Line, field+".default", "a default cannot hold a reference")
					}
					pr.Default, pr.HasDefault = s, true
				}
			case "description":
				pr.Description, _ = v.Str(fv, field+".description")
			case "secret":
				pr.Secret, _ = v.Bool(fv, field+".secret")
			}
		})
	})
}

func (v *validator) decodePhases(n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		v.Add(n.Line, "phases", "want a list, got %s", yamlcheck.KindName(n))
		return
	}
	seen := map[string]bool{}
	for i, e := range n.Content {
		e = yamlcheck.ResolveAlias(e)
		field := fmt.Sprintf("phases[%d]", i)
		ph := &Phase{Line: e.Line}
		if !v.Fields(e, field, []string{"id", "name", "expect"}, func(key string, _, val *yaml.Node) {
			switch key {
			case "id":
				ph.ID, _ = v.Str(val, field+".id")
			case "name":
				ph.Name, _ = v.Str(val, field+".name")
			case "expect":
				ph.Expect, _ = v.Duration(val, field+".expect")
			}
		}) {
			continue
		}
		switch {
		case ph.ID == "":
			v.Add(e.Line, field+".id", "missing required field \"id\"")
		case !idRe.MatchString(ph.ID):
			v.Add(e.Line, field+".id", "bad phase id %q: want lower-case letters, digits and dashes", ph.ID)
		case seen[ph.ID]:
			v.Add(e.Line, field+".id", "duplicate phase id %q", ph.ID)
		}
		seen[ph.ID] = true
		v.p.Phases = append(v.p.Phases, ph)
	}
}

var stepFields = []string{"id", "name", "phase", "region", "needs", "action", "with", "timeout", "retries",
	"expect", "owner", "onFailure", "drill", "priority"}

func (v *validator) decodeSteps(n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		v.Add(n.Line, "steps", "want a list, got %s", yamlcheck.KindName(n))
		return
	}
	if len(n.Content) == 0 {
		v.Add(n.Line, "steps", "a plan needs at least one step")
	}
	if len(n.Content) > v.lim.steps {
		v.Add(n.Line, "steps", "%d steps: a plan may have at most %d", len(n.Content), v.lim.steps)
		return
	}
	v.p.byID = make(map[string]*Step, len(n.Content))
	for i, e := range n.Content {
		e = yamlcheck.ResolveAlias(e)
		field := fmt.Sprintf("steps[%d]", i)
		if e.Kind != yaml.MappingNode {
			v.Add(e.Line, field, "want a mapping, got %s", yamlcheck.KindName(e))
			continue
		}
		// Name the step by its id in messages when it has a usable one.
		for j := 0; j+1 < len(e.Content); j += 2 {
			if k := e.Content[j]; k.Value == "id" {
				if idv := yamlcheck.ResolveAlias(e.Content[j+1]); idv != nil && idv.Kind == yaml.ScalarNode && idRe.MatchString(idv.Value) {
					field = "steps[" + idv.Value + "]"
				}
			}
		}
		s := &Step{Line: e.Line, OnFailure: FailPause}
		sn := &stepNodes{field: field, node: e, keys: map[string]*yaml.Node{}, vals: map[string]*yaml.Node{}}
		v.Fields(e, field, stepFields, func(key string, k, val *yaml.Node) {
			sn.keys[key], sn.vals[key] = k, val
			f := field + "." + key
			switch key {
			case "id":
				s.ID, _ = v.Str(val, f)
			case "name":
				s.Name, _ = v.Str(val, f)
			case "phase":
				s.Phase, _ = v.Str(val, f)
			case "region":
				s.Region, _ = v.Str(val, f)
			case "needs":
				if val.Kind == yaml.ScalarNode && val.ShortTag() == "!!str" {
					// Refused, but kept as the one need it means, so that what depends on it
					// (reading its outputs) is not reported as well.
					v.Add(val.Line, f, "want a list of step ids, got %s: write needs: [%s]", yamlcheck.KindName(val), val.Value)
					s.Needs = []string{val.Value}
					return
				}
				s.Needs, _ = v.StrList(val, f)
			case "action":
				s.Action, _ = v.Str(val, f)
			case "with":
				if val.Kind == yaml.ScalarNode && val.ShortTag() == "!!null" {
					return
				}
				if val.Kind != yaml.MappingNode {
					v.Add(val.Line, f, "want a mapping of inputs, got %s", yamlcheck.KindName(val))
					return
				}
				s.With = map[string]any{}
				v.Fields(val, f, nil, func(in string, _, iv *yaml.Node) {
					var x any
					if err := iv.Decode(&x); err != nil {
						v.Add(iv.Line, f+"."+in, "%s", yamlcheck.ErrMsg(err))
						return
					}
					s.With[in] = normalize(x)
				})
			case "timeout":
				s.Timeout, _ = v.Duration(val, f)
			case "expect":
				s.Expect, _ = v.Duration(val, f)
			case "retries":
				if r, ok := v.Int(val, f); ok {
					if r < 0 || r > 100 {
						v.Add(val.Line, f, "retries %d: want 0 to 100", r)
					}
					s.Retries = r
				}
			case "owner":
				if o, ok := v.Str(val, f); ok {
					if !roleRe.MatchString(o) {
						v.Add(val.Line, f, "owner %q: want a role name such as sysadmin, database or network", o)
					}
					s.Owner = o
				}
			case "onFailure":
				if o, ok := v.Str(val, f); ok {
					switch OnFailure(o) {
					case FailPause, FailAbort, FailContinue:
					default:
						v.Add(val.Line, f, "unknown onFailure %q: want pause, abort or continue", o)
					}
					s.OnFailure = OnFailure(o)
				}
			case "drill":
				if d, ok := v.Str(val, f); ok {
					if d != DrillSkip {
						v.Add(val.Line, f, "drill %q: want skip", d)
					}
					s.Drill = d
				}
			case "priority":
				if pr, ok := v.Int(val, f); ok {
					if pr < 0 || pr > 1000 {
						v.Add(val.Line, f, "priority %d: want 0 (none) to 1000, 1 first", pr)
					}
					s.Priority = pr
				}
			}
		})
		if s.ID == "" {
			if sn.vals["id"] == nil {
				v.Add(e.Line, field+".id", "missing required field \"id\"")
			}
		} else if !idRe.MatchString(s.ID) {
			v.Add(sn.vals["id"].Line, field+".id", "bad step id %q: want lower-case letters, digits and dashes", s.ID)
		} else if prev, dup := v.p.byID[s.ID]; dup {
			v.Add(sn.vals["id"].Line, field+".id", "duplicate step id %q (first at line %d)", s.ID, prev.Line)
			v.p.Steps = append(v.p.Steps, s)
			v.stepNodes[s] = sn
			continue
		}
		if sn.vals["action"] == nil {
			v.Add(e.Line, field+".action", "missing required field \"action\"")
		}
		if s.ID != "" {
			v.p.byID[s.ID] = s
		}
		v.p.Steps = append(v.p.Steps, s)
		v.stepNodes[s] = sn
	}
}

// normalize turns yaml's decoded maps into map[string]any so plans serialize as JSON.
func normalize(x any) any {
	switch t := x.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalize(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = normalize(e)
		}
		return t
	}
	return x
}

// checkGraph checks needs and cycles and computes the topological order.
func (v *validator) checkGraph() {
	p := v.p
	for _, s := range p.Steps {
		if p.byID[s.ID] != s {
			continue // a duplicate id, already reported
		}
		sn := v.stepNodes[s]
		line := s.Line
		if n := sn.vals["needs"]; n != nil {
			line = n.Line
		}
		// Needs are few, so a repeat is looked for in the list, except in a long list.
		var seen map[string]bool
		if len(s.Needs) > 16 {
			seen = make(map[string]bool, len(s.Needs))
		}
		for i, need := range s.Needs {
			var twice bool
			if seen != nil {
				twice, seen[need] = seen[need], true
			} else {
				twice = slices.Contains(s.Needs[:i], need)
			}
			switch {
			case twice:
				v.Add(line, sn.field+".needs", "%q is listed twice", need)
			case need == s.ID:
				v.Add(line, sn.field+".needs", "a step cannot need itself")
			case p.byID[need] == nil:
				v.Add(line, sn.field+".needs", "unknown step %q%s", need, v.suggest(need, v.stepIDs()))
			}
		}
	}
	g := newGraph(p)
	v.graph = g
	order := g.topoOrder()
	p.order = make([]string, len(order))
	for i, n := range order {
		p.order[i] = g.steps[n].ID
	}
	if len(order) == len(g.steps) {
		return
	}
	// What is left over holds a cycle, or comes after one.
	for _, cyc := range g.cycles() {
		ids := make([]string, len(cyc), len(cyc)+1)
		for i, n := range cyc {
			ids[i] = g.steps[n].ID
		}
		first := g.steps[cyc[0]]
		sn := v.stepNodes[first]
		line := first.Line
		if n := sn.vals["needs"]; n != nil {
			line = n.Line
		}
		v.Add(line, sn.field+".needs", "cycle: %s", strings.Join(append(ids, ids[0]), " -> "))
	}
}

// stepIDs is every step's id, in file order, computed once.
func (v *validator) stepIDs() []string {
	if v.stepIDList == nil {
		v.stepIDList = make([]string, 0, len(v.p.Steps))
		for _, s := range v.p.Steps {
			v.stepIDList = append(v.stepIDList, s.ID)
		}
	}
	return v.stepIDList
}

// paramNames is every param's name, computed once.
func (v *validator) paramNames() []string {
	if v.paramList == nil {
		v.paramList = v.p.paramNames()
	}
	return v.paramList
}

func suggest(name string, options []string) string {
	if s := yamlcheck.Suggest(name, options); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// checkSteps checks each step's phase, region, action and inputs, and every reference.
func (v *validator) checkSteps() {
	p := v.p
	phases := map[string]bool{}
	for _, ph := range p.Phases {
		phases[ph.ID] = true
	}
	params := map[string]bool{}
	for _, pr := range p.Params {
		params[pr.Name] = true
	}
	phaseList := nameList(p.phaseIDs())
	v.answerAncestry()
	for _, s := range p.Steps {
		sn := v.stepNodes[s]
		line := func(key string) int {
			if n := sn.vals[key]; n != nil {
				return n.Line
			}
			return s.Line
		}
		// Phase.
		switch {
		case s.Phase == "" && len(p.Phases) > 0 && sn.vals["phase"] == nil:
			v.Add(s.Line, sn.field+".phase", "missing phase: the plan declares phases (%s)", phaseList)
		case s.Phase != "" && !phases[s.Phase]:
			v.Add(line("phase"), sn.field+".phase", "unknown phase %q (want one of: %s)", s.Phase, phaseList)
		}
		// Action.
		act, known := ActionOf(s.Action)
		if s.Action != "" && !known {
			v.Add(line("action"), sn.field+".action", "unknown action %q%s", s.Action, suggest(s.Action, catalogNames()))
		}
		// Region.
		if known {
			v.checkRegion(s, sn, act, params)
		}
		// Inputs.
		if known {
			v.checkInputs(s, sn, act)
			keepLiterals(s, sn, act)
		}
		// References in with.
		if w := sn.vals["with"]; w != nil && w.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(w.Content); i += 2 {
				k, val := w.Content[i], yamlcheck.ResolveAlias(w.Content[i+1])
				if s.inputLines == nil {
					s.inputLines = map[string]int{}
				}
				s.inputLines[k.Value] = val.Line
				var typ string
				if known {
					if in, ok := inputOf(act, k.Value); ok {
						typ = in.Type
					}
				}
				v.checkRefs(val, sn.field+".with."+k.Value, s, params, typ, 0)
			}
		}
	}
}

// answerAncestry asks the graph, in one batch, every ancestry question checkRefs will ask
// (whether a step whose outputs a step's `with` reads is an ancestor of that step), so
// that no step's ancestors are ever listed. It walks `with` as checkRefs does, but to the
// end, so it asks at least what checkRefs will.
func (v *validator) answerAncestry() {
	g := v.graph
	v.ancIndex = map[[2]int32]int{}
	v.ancQueries = v.ancQueries[:0]
	var walk func(n *yaml.Node, of int32, depth int)
	walk = func(n *yaml.Node, of int32, depth int) {
		if n == nil || depth > maxRefDepth {
			return
		}
		switch n.Kind {
		case yaml.SequenceNode:
			for _, e := range n.Content {
				walk(yamlcheck.ResolveAlias(e), of, depth+1)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(yamlcheck.ResolveAlias(n.Content[i+1]), of, depth+1)
			}
		case yaml.ScalarNode:
			if !strings.Contains(n.Value, "${") {
				return
			}
			segs, _ := parseRefs(n.Value)
			for _, sg := range segs {
				if r := sg.ref; r != nil && r.kind == "steps" {
					if src := v.p.byID[r.name]; src != nil {
						key := [2]int32{g.index[src.ID], of}
						if _, ok := v.ancIndex[key]; !ok {
							v.ancIndex[key] = len(v.ancQueries)
							v.ancQueries = append(v.ancQueries, ancQuery{anc: key[0], of: of})
						}
					}
				}
			}
		}
	}
	for _, s := range v.p.Steps {
		of, ok := g.index[s.ID] // a later step with a taken id has the first one's ancestors
		if !ok {
			continue
		}
		if w := v.stepNodes[s].vals["with"]; w != nil && w.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(w.Content); i += 2 {
				walk(yamlcheck.ResolveAlias(w.Content[i+1]), of, 0)
			}
		}
	}
	g.ancestry(v.ancQueries)
}

// isAncestor reports whether s needs src, directly or through other steps, from the
// answers of answerAncestry.
func (v *validator) isAncestor(src, s *Step) bool {
	of, ok := v.graph.index[s.ID]
	if !ok {
		return false // a step without a usable id has no ancestors
	}
	k, ok := v.ancIndex[[2]int32{v.graph.index[src.ID], of}]
	return ok && v.ancQueries[k].yes
}

// nameList joins names for a message, cut short past a few hundred characters.
func nameList(names []string) string {
	const room = 400
	var b strings.Builder
	for i, n := range names {
		if i > 0 && b.Len()+len(n) > room {
			fmt.Fprintf(&b, ", and %d more", len(names)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if len(n) > room {
			n = n[:room] + "…"
		}
		b.WriteString(n)
	}
	return b.String()
}

func (p *Plan) phaseIDs() []string {
	out := make([]string, 0, len(p.Phases))
	for _, ph := range p.Phases {
		out = append(out, ph.ID)
	}
	return out
}

func catalogNames() []string {
	var out []string
	for _, a := range Actions() {
		out = append(out, a.Name)
	}
	return out
}

func inputOf(a Action, name string) (Input, bool) {
	for _, in := range a.Inputs {
		if in.Name == name {
			return in, true
		}
	}
	return Input{}, false
}

func (v *validator) checkRegion(s *Step, sn *stepNodes, act Action, params map[string]bool) {
	field := sn.field + ".region"
	line := s.Line
	if n := sn.vals["region"]; n != nil {
		line = n.Line
	}
	if act.Where == OnControlPlane {
		if s.Region != "" && s.Region != RegionControlPlane {
			v.Add(line, field, "%s runs on the control plane: leave region out or write control-plane", s.Action)
		}
		s.Region = RegionControlPlane
		return
	}
	switch {
	case s.Region == "" && sn.vals["region"] == nil:
		v.Add(line, field, "missing region: %s runs on an agent (want primary, secondary, a region name or ${params.X})", s.Action)
	case s.Region == RegionControlPlane:
		v.Add(line, field, "%s runs on an agent, not on the control plane", s.Action)
	case strings.Contains(s.Region, "${"):
		segs, err := parseRefs(s.Region)
		if err != nil || len(segs) != 1 || segs[0].ref == nil {
			v.Add(line, field, "region %q: want exactly one ${params.X} or ${region.X}", s.Region)
			return
		}
		r := segs[0].ref
		switch r.kind {
		case "params":
			if !params[r.name] {
				v.Add(line, field, "undeclared param %q", r.name)
				return
			}
			v.paramUses = append(v.paramUses, paramUse{param: r.name, typ: "region", field: field, line: line})
		case "region":
		default:
			v.Add(line, field, "region %q: want ${params.X} or ${region.X}", s.Region)
		}
	case !validRegion(s.Region):
		v.Add(line, field, "bad region %q: want primary, secondary, a region name like us-west-2, or ${params.X}", s.Region)
	}
}

func validRegion(r string) bool {
	return r == RegionPrimary || r == RegionSecondary || awsregion.Valid(r)
}

func (v *validator) checkInputs(s *Step, sn *stepNodes, act Action) {
	w := sn.vals["with"]
	given := map[string]bool{}
	if w != nil && w.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(w.Content); i += 2 {
			k, val := w.Content[i], yamlcheck.ResolveAlias(w.Content[i+1])
			field := sn.field + ".with." + k.Value
			given[k.Value] = true
			in, ok := inputOf(act, k.Value)
			if !ok {
				v.Add(k.Line, field, "unknown input %q for %s (want one of: %s)", k.Value, s.Action, strings.Join(inputNames(act), ", "))
				continue
			}
			v.checkType(val, field, in.Type)
		}
	}
	line := s.Line
	if w != nil {
		line = w.Line
	}
	for _, in := range act.Inputs {
		if in.Required && !given[in.Name] {
			v.Add(line, sn.field+".with."+in.Name, "missing required input %q of %s", in.Name, s.Action)
		}
	}
}

func inputNames(a Action) []string {
	out := make([]string, len(a.Inputs))
	for i, in := range a.Inputs {
		out[i] = in.Name
	}
	return out
}

// exactRef returns the reference when n is a scalar that is exactly one reference.
func exactRef(n *yaml.Node) *ref {
	if n.Kind != yaml.ScalarNode || !strings.Contains(n.Value, "${") {
		return nil
	}
	segs, err := parseRefs(n.Value)
	if err != nil || len(segs) != 1 {
		return nil
	}
	return segs[0].ref
}

// checkType checks a literal input value against its catalog type. Values that hold a
// reference are checked when they run, except ${params.X} whose value is known now.
func (v *validator) checkType(n *yaml.Node, field, typ string) {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		if typ != "string" && n.Kind == yaml.ScalarNode && exactRef(n) == nil {
			if typ != "list" && typ != "map" {
				return // embedded references in a typed scalar are checked at run time
			}
			v.Add(n.Line, field, "want a %s, got a string with embedded references", typ)
		}
		return
	}
	bad := func() { v.Add(n.Line, field, "want %s, got %s", typeWant(typ), yamlcheck.KindName(n)) }
	switch typ {
	case "string":
		if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
			bad()
		}
	case "int":
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			bad()
		}
	case "bool":
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			bad()
		}
	case "duration":
		if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
			bad()
		} else if _, err := time.ParseDuration(n.Value); err != nil {
			v.Add(n.Line, field, "bad duration %q: want e.g. 90s, 45m, 1h30m", n.Value)
		}
	case "time":
		if n.Kind != yaml.ScalarNode {
			bad()
		} else if _, err := time.Parse(time.RFC3339, n.Value); err != nil {
			v.Add(n.Line, field, "bad time %q: want RFC 3339, e.g. 2025-01-15T12:00:00Z", n.Value)
		}
	case "list":
		if n.Kind != yaml.SequenceNode {
			bad()
		}
	case "map":
		if n.Kind != yaml.MappingNode {
			bad()
		}
	}
}

func typeWant(typ string) string {
	switch typ {
	case "int":
		return "an integer"
	case "list":
		return "a list"
	case "map":
		return "a mapping"
	}
	return "a " + typ
}

// maxRefDepth is how deep into an input checkRefs looks for references.
const maxRefDepth = 50

// checkRefs checks every reference inside n: params must be declared, step outputs must
// come from an ancestor's action outputs.
func (v *validator) checkRefs(n *yaml.Node, field string, s *Step, params map[string]bool, typ string, depth int) {
	// Aliases can make a small file a huge tree; a budget keeps validation linear.
	v.refNodes++
	if n == nil || depth > maxRefDepth || v.refNodes > 100000 {
		return
	}
	switch n.Kind {
	case yaml.SequenceNode:
		for i, e := range n.Content {
			v.checkRefs(yamlcheck.ResolveAlias(e), fmt.Sprintf("%s[%d]", field, i), s, params, "", depth+1)
		}
		return
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			v.checkRefs(yamlcheck.ResolveAlias(n.Content[i+1]), field+"."+n.Content[i].Value, s, params, "", depth+1)
		}
		return
	case yaml.ScalarNode:
	default:
		return
	}
	if !strings.Contains(n.Value, "${") {
		return
	}
	segs, err := parseRefs(n.Value)
	if err != nil {
		v.Add(n.Line, field, "%s", err)
		return
	}
	for _, sg := range segs {
		r := sg.ref
		if r == nil {
			continue
		}
		switch r.kind {
		case "params":
			if !params[r.name] {
				v.Add(n.Line, field, "undeclared param %q in ${%s}%s", r.name, r.raw, v.suggest(r.name, v.paramNames()))
				continue
			}
			if len(segs) == 1 && typ != "" && typ != "string" {
				v.paramUses = append(v.paramUses, paramUse{param: r.name, typ: typ, field: field, line: n.Line})
			}
		case "system":
			v.p.systemRefs = append(v.p.systemRefs, SystemRef{Path: r.name, Step: s.ID, Field: field, Line: n.Line})
		case "steps":
			src := v.p.byID[r.name]
			switch {
			case src == nil:
				v.Add(n.Line, field, "${%s}: unknown step %q", r.raw, r.name)
			case src == s:
				v.Add(n.Line, field, "${%s}: a step cannot read its own outputs", r.raw)
			case !v.isAncestor(src, s):
				v.Add(n.Line, field, "${%s}: step %q is not an ancestor of %q through needs, so its outputs may not exist yet", r.raw, r.name, s.ID)
			default:
				v.p.outputRefs = append(v.p.outputRefs, OutputRef{Step: s.ID, Field: field, Line: n.Line, From: r.name, Output: r.out, Raw: r.raw})
				if act, ok := ActionOf(src.Action); ok && !slices.Contains(act.Outputs, r.out) {
					outs := "none"
					if len(act.Outputs) > 0 {
						outs = strings.Join(act.Outputs, ", ")
					}
					v.Add(n.Line, field, "${%s}: %s has no output %q (outputs: %s)", r.raw, src.Action, r.out, outs)
				}
			}
		}
	}
}

// checkParamUses checks that the value of each parameter fits where it is used.
func (v *validator) checkParamUses(p *Plan) {
	for _, u := range v.paramUses {
		pr := p.Param(u.param)
		if pr == nil {
			continue
		}
		val, ok := pr.Effective()
		if !ok {
			continue // required at run time
		}
		what := "default"
		if pr.Set {
			what = "value"
		}
		var bad string
		switch u.typ {
		case "region":
			if !validRegion(val) {
				bad = "want primary, secondary or a region name like us-west-2"
			}
		case "int":
			if _, err := strconv.Atoi(val); err != nil {
				bad = "want an integer"
			}
		case "bool":
			if _, err := strconv.ParseBool(val); err != nil {
				bad = "want true or false"
			}
		case "duration":
			if _, err := time.ParseDuration(val); err != nil {
				bad = "want a duration such as 1h or 90m"
			}
		case "time":
			if _, err := time.Parse(time.RFC3339, val); err != nil {
				bad = "want an RFC 3339 time"
			}
		case "list", "map":
			bad = "a param is a string and cannot fill a " + u.typ
		}
		if bad != "" {
			v.Add(u.line, u.field, "param %s %s %q: %s", u.param, what, val, bad)
		}
	}
}

// keepLiterals stores string, duration and time inputs as written: `engineVersion: 7.0` is
// the string "7.0", not the number 7.
func keepLiterals(s *Step, sn *stepNodes, act Action) {
	w := sn.vals["with"]
	if w == nil || w.Kind != yaml.MappingNode || s.With == nil {
		return
	}
	for i := 0; i+1 < len(w.Content); i += 2 {
		k, val := w.Content[i], yamlcheck.ResolveAlias(w.Content[i+1])
		in, ok := inputOf(act, k.Value)
		if !ok || val == nil || val.Kind != yaml.ScalarNode || val.ShortTag() == "!!null" {
			continue
		}
		switch in.Type {
		case "string", "duration", "time":
			if _, present := s.With[k.Value]; present {
				s.With[k.Value] = val.Value
			}
		}
	}
}
