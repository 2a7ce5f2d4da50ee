package agentpolicy

import (
	"fmt"
	"strings"

	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/plan"
)

// unknown stands for a value no one knows before the run: within an ARN it becomes the
// wildcard of its segment.
const unknown = "*"

// inputs are a step's inputs resolved as far as they can be before a run: strings, lists
// and maps of them, with unknown where a value is not known yet.
type inputs map[string]any

// str is the input k as a string; "" when absent, not a string, or empty.
func (in inputs) str(k string) string {
	switch v := in[k].(type) {
	case string:
		return v
	case nil:
		return ""
	case []any, map[string]any:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// strs is the list input k, each item as a string.
func (in inputs) strs(k string) []string {
	var out []string
	switch v := in[k].(type) {
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
	case string:
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// values are the string values of the map input k.
func (in inputs) values(k string) []string {
	m, _ := in[k].(map[string]any)
	var out []string
	for _, x := range m {
		if s, ok := x.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// resolver resolves the inputs of one plan's steps in topological order, so a step that
// reads an earlier step's output gets what that step's resolved inputs say the output is.
type resolver struct {
	ctx     plan.Context
	pl      *plan.Plan
	account string
	inputs  map[string]inputs
	regions map[string]string
}

// resolve returns the inputs of s, resolved.
func (r *resolver) resolve(s *plan.Step) inputs {
	ctx := r.ctx.ForStep(s)
	out := inputs{}
	for k, v := range s.With {
		out[k] = r.value(v, ctx)
	}
	r.inputs[s.ID] = out
	return out
}

func (r *resolver) value(v any, ctx plan.Context) any {
	switch x := v.(type) {
	case string:
		return r.str(x, ctx)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.value(e, ctx)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.str(e, ctx)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = r.value(e, ctx)
		}
		return out
	}
	return v
}

// str resolves the references in s: a string that is exactly one reference takes the
// referenced value (a list stays a list); each reference that cannot be resolved before the
// run becomes unknown, or the pattern of the step output it reads.
func (r *resolver) str(s string, ctx plan.Context) any {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	refs := 0
	var only any
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
			continue
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				i = len(s)
				continue
			}
			ref := s[i+2 : i+2+end]
			v := r.ref(ref, ctx)
			refs++
			only = v
			b.WriteString(plan.Stringify(v))
			i += 2 + end + 1
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	if refs == 1 && strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") && strings.Count(s, "${") == 1 {
		return only
	}
	return b.String()
}

func (r *resolver) ref(ref string, ctx plan.Context) any {
	parts := strings.Split(strings.TrimSpace(ref), ".")
	if parts[0] == "steps" {
		if len(parts) != 4 || parts[2] != "outputs" {
			return unknown // a key into a map output, or an item of a list: not known
		}
		return r.output(parts[1], parts[3])
	}
	v, err := plan.Interpolate("${"+ref+"}", ctx)
	if err != nil {
		return unknown
	}
	return v
}

// output is what step id's output name will be, as far as its resolved inputs say.
func (r *resolver) output(id, name string) string {
	s := r.pl.Step(id)
	in := r.inputs[id]
	if s == nil || in == nil {
		return unknown
	}
	region := r.regions[id]
	arn := func(service, rest string) string {
		return "arn:aws:" + service + ":" + region + ":" + r.account + ":" + rest
	}
	switch s.Action {
	case catalog.Snapshot.Name, catalog.CopySnapshot.Name:
		sid := in.str("snapshotId")
		if s.Action == catalog.CopySnapshot.Name {
			sid = in.str("targetSnapshotId")
		}
		switch name {
		case "snapshotId":
			return orUnknown(sid)
		case "snapshotArn":
			return arn("rds", "snapshot:"+orUnknown(sid))
		}
	case catalog.RestoreSnapshot.Name:
		if name == "snapshotId" {
			return orUnknown(in.str("snapshotId"))
		}
	case catalog.RegisterTaskDefinition.Name:
		if name == "taskDefinitionArn" {
			return arn("ecs", "task-definition/"+orUnknown(in.str("family"))+":*")
		}
	case catalog.WaitHealthy.Name:
		if name == "targetGroupArn" {
			if a := in.str("targetGroupArn"); a != "" {
				return a
			}
			return arn("elasticloadbalancing", "targetgroup/"+orUnknown(in.str("targetGroupName"))+"/*")
		}
	}
	return unknown
}

func orUnknown(s string) string {
	if s == "" {
		return unknown
	}
	return s
}
