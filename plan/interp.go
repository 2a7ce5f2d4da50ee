package plan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// RunVars are the ${run.*} and ${region.*} values of one run.
type RunVars struct {
	ID string
	// StartedCompact is the run's start time as 20060102-150405 in UTC.
	StartedCompact string
	Primary        string
	Secondary      string
	// Failed is the region being failed away from; Target the region being moved to.
	Failed string
	Target string
}

// Context is what Interpolate resolves references against.
type Context struct {
	Params  map[string]string
	Outputs map[string]map[string]any // step id -> output name -> value
	Run     RunVars
	// System answers ${system.PATH}; nil when the run has no system file.
	System SystemValues
	// StepRole is the role (primary or secondary) of the region the step being resolved
	// runs in, which ${system.here.PATH} reads; "" outside a step. ForStep sets it.
	StepRole string
}

// SystemHere is the system path prefix that stands for the role of the step's own region:
// ${system.here.database.instance} is the primary's instance in a step that runs in the
// primary region, and the secondary's in one that runs in the secondary.
const SystemHere = "here"

// ForStep returns ctx for resolving the inputs of s: with StepRole the role of the region
// s runs in, when that is a region of the pair.
func (ctx Context) ForStep(s *Step) Context {
	ctx.StepRole = ""
	if s.Where() != OnAgent {
		return ctx
	}
	r, err := s.ResolveRegion(ctx)
	if err != nil {
		return ctx
	}
	switch r {
	case ctx.Run.Primary:
		ctx.StepRole = RegionPrimary
	case ctx.Run.Secondary:
		ctx.StepRole = RegionSecondary
	}
	return ctx
}

// SystemValues is the user's system as plans read it: *system.System implements it. The
// path is what follows "system." in a reference, e.g. secondary.loadBalancer.name.
type SystemValues interface {
	Lookup(path string) (string, error)
}

// ref is one parsed ${...} reference.
type ref struct {
	raw  string // the text between ${ and }
	kind string // params, steps, run, region, system
	name string // param name, step id, run or region var, system path
	out  string // output name for steps
	path []string
}

// segment is a piece of a string: literal text or a reference.
type segment struct {
	lit string
	ref *ref
}

// parseRefs splits s into literal text and references. `$${` is a literal `${`.
func parseRefs(s string) ([]segment, error) {
	var segs []segment
	var lit strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			lit.WriteString("${")
			i += 3
			continue
		}
		if strings.HasPrefix(s[i:], "${") {
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unterminated reference %q", s[i:])
			}
			raw := s[i+2 : i+2+end]
			r, err := parseRef(raw)
			if err != nil {
				return nil, err
			}
			if lit.Len() > 0 {
				segs = append(segs, segment{lit: lit.String()})
				lit.Reset()
			}
			segs = append(segs, segment{ref: r})
			i += 2 + end + 1
			continue
		}
		lit.WriteByte(s[i])
		i++
	}
	if lit.Len() > 0 || len(segs) == 0 {
		segs = append(segs, segment{lit: lit.String()})
	}
	return segs, nil
}

func parseRef(raw string) (*ref, error) {
	parts := strings.Split(strings.TrimSpace(raw), ".")
	for _, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("bad reference ${%s}", raw)
		}
	}
	r := &ref{raw: raw, kind: parts[0]}
	switch parts[0] {
	case "params":
		if len(parts) != 2 {
			return nil, fmt.Errorf("bad reference ${%s}: want ${params.NAME}", raw)
		}
		r.name = parts[1]
	case "steps":
		if len(parts) < 4 || parts[2] != "outputs" {
			return nil, fmt.Errorf("bad reference ${%s}: want ${steps.ID.outputs.NAME}", raw)
		}
		r.name, r.out, r.path = parts[1], parts[3], parts[4:]
	case "run":
		if len(parts) != 2 || (parts[1] != "id" && parts[1] != "startedCompact") {
			return nil, fmt.Errorf("bad reference ${%s}: want ${run.id} or ${run.startedCompact}", raw)
		}
		r.name = parts[1]
	case "region":
		if len(parts) != 2 {
			return nil, fmt.Errorf("bad reference ${%s}: want ${region.primary|secondary|failed|target}", raw)
		}
		switch parts[1] {
		case "primary", "secondary", "failed", "target":
		default:
			return nil, fmt.Errorf("bad reference ${%s}: want ${region.primary|secondary|failed|target}", raw)
		}
		r.name = parts[1]
	case "system":
		if len(parts) < 2 {
			return nil, fmt.Errorf("bad reference ${%s}: want ${system.PATH}, e.g. ${system.secondary.loadBalancer.name}", raw)
		}
		r.name = strings.Join(parts[1:], ".")
	default:
		return nil, fmt.Errorf("unknown reference ${%s}: want params, steps, run, region or system", raw)
	}
	return r, nil
}

// Interpolate replaces references in v, which is a string, a list ([]any), a map
// (map[string]any) or any other scalar, recursively. A string that is exactly one reference
// takes the referenced value with its type (an output may be a number, a list or a map);
// references embedded in a longer string are stringified (maps and lists as JSON).
// Unresolvable references return an error wrapping ErrReference.
func Interpolate(v any, ctx Context) (any, error) {
	switch x := v.(type) {
	case string:
		return interpolateString(x, ctx)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := Interpolate(e, ctx)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = r
		}
		return out, nil
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := interpolateString(e, ctx)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := Interpolate(e, ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
		}
		return out, nil
	default:
		return v, nil
	}
}

// InterpolateWith resolves every input of a step and converts strings to the input's
// catalog type where that is an int or a bool (a ${params.X} is always a string), so an
// executor gets desiredCount as an int whether the plan wrote 2 or "${params.COUNT}".
func InterpolateWith(s *Step, ctx Context) (map[string]any, error) {
	out, err := Interpolate(s.With, ctx.ForStep(s))
	if err != nil {
		return nil, fmt.Errorf("step %s: with.%w", s.ID, err)
	}
	m, _ := out.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	act, _ := ActionOf(s.Action)
	for k, val := range m {
		in, ok := inputOf(act, k)
		str, isStr := val.(string)
		if !ok || !isStr {
			continue
		}
		switch in.Type {
		case "int":
			n, err := strconv.Atoi(strings.TrimSpace(str))
			if err != nil {
				return nil, fmt.Errorf("step %s: with.%s: %w: %q is not an integer", s.ID, k, ErrReference, str)
			}
			m[k] = n
		case "bool":
			b, err := strconv.ParseBool(strings.TrimSpace(str))
			if err != nil {
				return nil, fmt.Errorf("step %s: with.%s: %w: %q is not true or false", s.ID, k, ErrReference, str)
			}
			m[k] = b
		}
	}
	return m, nil
}

func interpolateString(s string, ctx Context) (any, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	segs, err := parseRefs(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrReference, err)
	}
	if len(segs) == 1 && segs[0].ref != nil {
		return resolve(segs[0].ref, ctx)
	}
	var b strings.Builder
	for _, sg := range segs {
		if sg.ref == nil {
			b.WriteString(sg.lit)
			continue
		}
		v, err := resolve(sg.ref, ctx)
		if err != nil {
			return nil, err
		}
		b.WriteString(Stringify(v))
	}
	return b.String(), nil
}

func resolve(r *ref, ctx Context) (any, error) {
	switch r.kind {
	case "system":
		if ctx.System == nil {
			return nil, fmt.Errorf("%w: ${%s}: no system file: store one with `kirikae system apply FILE`", ErrReference, r.raw)
		}
		path := r.name
		if rest, here := strings.CutPrefix(path, SystemHere+"."); here {
			if ctx.StepRole == "" {
				return nil, fmt.Errorf("%w: ${%s}: the step runs in no region of the pair, so it has no %s", ErrReference, r.raw, SystemHere)
			}
			path = ctx.StepRole + "." + rest
		}
		v, err := ctx.System.Lookup(path)
		if err != nil {
			return nil, fmt.Errorf("%w: ${%s}: %w", ErrReference, r.raw, err)
		}
		return v, nil
	case "params":
		v, ok := ctx.Params[r.name]
		if !ok {
			return nil, fmt.Errorf("%w: ${%s}: param %s has no value", ErrReference, r.raw, r.name)
		}
		return v, nil
	case "steps":
		outs, ok := ctx.Outputs[r.name]
		if !ok {
			return nil, fmt.Errorf("%w: ${%s}: step %s has no outputs yet", ErrReference, r.raw, r.name)
		}
		v, ok := outs[r.out]
		if !ok {
			return nil, fmt.Errorf("%w: ${%s}: step %s has no output %s", ErrReference, r.raw, r.name, r.out)
		}
		for _, k := range r.path {
			next, ok := index(v, k)
			if !ok {
				return nil, fmt.Errorf("%w: ${%s}: no %q in output %s", ErrReference, r.raw, k, r.out)
			}
			v = next
		}
		return v, nil
	case "run":
		v := ctx.Run.ID
		if r.name == "startedCompact" {
			v = ctx.Run.StartedCompact
		}
		if v == "" {
			return nil, fmt.Errorf("%w: ${%s} is not set", ErrReference, r.raw)
		}
		return v, nil
	case "region":
		var v string
		switch r.name {
		case "primary":
			v = ctx.Run.Primary
		case "secondary":
			v = ctx.Run.Secondary
		case "failed":
			v = ctx.Run.Failed
		case "target":
			v = ctx.Run.Target
		}
		if v == "" {
			return nil, fmt.Errorf("%w: ${%s} is not set", ErrReference, r.raw)
		}
		return v, nil
	}
	return nil, fmt.Errorf("%w: ${%s}", ErrReference, r.raw)
}

func index(v any, k string) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		e, ok := x[k]
		return e, ok
	case map[string]string:
		e, ok := x[k]
		return e, ok
	case []any:
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(x) {
			return nil, false
		}
		return x[i], true
	case []string:
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(x) {
			return nil, false
		}
		return x[i], true
	}
	return nil, false
}

// Stringify renders a value the way an embedded reference shows it: strings as they are,
// numbers and booleans in Go syntax, nil as empty, lists and maps as JSON.
func Stringify(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int, int32, int64, uint, uint32, uint64:
		return fmt.Sprint(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case fmt.Stringer:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// ReferencedSteps lists the steps whose outputs v reads through ${steps.ID.outputs...},
// where v is a string, a list ([]any) or a map (map[string]any), as Interpolate takes.
// References that do not parse are left out.
func ReferencedSteps(v any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			segs, err := parseRefs(t)
			if err != nil {
				return
			}
			for _, sg := range segs {
				if sg.ref != nil && sg.ref.kind == "steps" && !slices.Contains(out, sg.ref.name) {
					out = append(out, sg.ref.name)
				}
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		case map[string]any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	slices.Sort(out)
	return out
}
