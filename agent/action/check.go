package action

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/kirikae/kirikae/catalog"
)

// CheckStep is one step as plan evaluation hands it to the agent of its region before a
// run (`kirikae plan check`): its inputs resolved as far as they can be before the run.
type CheckStep struct {
	StepID string
	Action string
	Region string
	With   map[string]any
	// Unresolved are the top-level `with` keys whose values wait on earlier steps' outputs
	// (${steps.ID.outputs.NAME}), unknown until the run. Checks skip them: DecodeCheck
	// leaves them at their zero value, and Resolved reports them false.
	Unresolved []string
}

// Resolved reports whether the input name has a value known before the run: it is in With
// and not among Unresolved.
func (s CheckStep) Resolved(name string) bool {
	_, ok := s.With[name]
	return ok && !slices.Contains(s.Unresolved, name)
}

// Checker checks one step against the account before anything runs. The contract:
//
//   - It only reads: Describe, List and Get calls. It never creates, changes or deletes
//     anything, not even a tag; a plan check may run at any time, against production.
//   - It returns findings, never an error. A resource that is not there is a finding
//     (catalog.FindingMissingResource); an AWS call that fails otherwise is one
//     catalog.FindingCheckError finding naming the call, and the check goes on with the
//     other inputs.
//   - It decodes the inputs as the executor does (DecodeCheck with the action's catalog
//     definition), and leaves alone the inputs the step does not know yet (Unresolved).
//   - It judges by the executor's own rules (the snapshot a restore would choose, the zone
//     an alias would use), so a finding is a failure the run would meet.
//   - It honours ctx, and may be called concurrently for different steps.
type Checker interface {
	Check(ctx context.Context, step CheckStep) []catalog.Finding
}

// CheckerFunc adapts a function to Checker.
type CheckerFunc func(ctx context.Context, step CheckStep) []catalog.Finding

// Check calls f.
func (f CheckerFunc) Check(ctx context.Context, step CheckStep) []catalog.Finding {
	return f(ctx, step)
}

// RegisterCheck adds or replaces the checker for the action name. It is registered next to
// the action's executor, by the package that registers that executor.
func (r *Registry) RegisterCheck(name string, c Checker) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.checks == nil {
		r.checks = map[string]Checker{}
	}
	r.checks[name] = c
}

// LookupCheck returns the checker for the action name.
func (r *Registry) LookupCheck(name string) (Checker, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.checks[name]
	return c, ok
}

// CheckNames lists the actions that have a checker, sorted.
func (r *Registry) CheckNames() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.checks))
	for n := range r.checks {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Check runs the checker of step.Action and returns its findings, each naming the step. An
// action without a checker (one that is not registered, or has nothing to read before the
// run) has no findings.
func (r *Registry) Check(ctx context.Context, step CheckStep) []catalog.Finding {
	c, ok := r.LookupCheck(step.Action)
	if !ok {
		return nil
	}
	fs := c.Check(ctx, step)
	for i := range fs {
		if fs[i].Step == "" {
			fs[i].Step = step.StepID
		}
	}
	return fs
}

// DecodeCheck decodes a CheckStep's inputs into its action's typed inputs as Decode does a
// Step's, except for the Unresolved inputs: they stand in by a placeholder of their type
// while decoding, so a required input that waits on an earlier step is not "missing", and
// are then left at their zero value in In. A checker reads an input only when it is
// resolved (CheckStep.Resolved), or when it is not zero.
func DecodeCheck[In, Out any](s CheckStep, def *catalog.Def[In, Out]) (In, error) {
	var zero In
	with := make(map[string]any, len(s.With)+len(s.Unresolved))
	for k, v := range s.With {
		with[k] = v
	}
	spec, _ := catalog.Lookup(def.Name)
	for _, name := range s.Unresolved {
		for _, f := range spec.Inputs {
			if f.Name == name {
				with[name] = placeholder(f.Type)
			}
		}
	}
	b, err := json.Marshal(with)
	if err != nil {
		return zero, fmt.Errorf("%w: with: %v", ErrInvalidInput, err)
	}
	in, err := def.Decode(b)
	if err != nil {
		return zero, err
	}
	v := reflect.ValueOf(&in).Elem()
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if slices.Contains(s.Unresolved, name) {
			v.Field(i).SetZero()
		}
	}
	return in, nil
}

// placeholder is a value of the plan format's type typ that decodes and passes the
// required-input check; DecodeCheck zeroes it again after decoding.
func placeholder(typ string) any {
	switch typ {
	case "int", "number":
		return 0
	case "bool":
		return false
	case "duration":
		return "0s"
	case "time":
		return "2000-01-01T00:00:00Z"
	case "list":
		return []any{}
	case "map":
		return map[string]any{}
	}
	return "unresolved"
}

var withName = regexp.MustCompile(`with\.([A-Za-z0-9_]+)`)

// InvalidInputFinding is the finding for inputs that do not decode (DecodeCheck's error):
// the step would fail at once, whatever the account holds.
func InvalidInputFinding(s CheckStep, err error) catalog.Finding {
	f := catalog.Finding{Step: s.StepID, Code: catalog.FindingInvalidInput, Problem: err.Error(),
		Fix: "correct the step's inputs as the error says; `kirikae plan actions " + s.Action + "` lists them"}
	if m := withName.FindStringSubmatch(err.Error()); m != nil {
		f.Input = m[1]
	}
	return f
}
