package plan

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kirikae/kirikae/awsregion"
	"github.com/kirikae/kirikae/yamlcheck"
)

// APIVersion is the only plan format version this package reads.
const APIVersion = "kirikae/v1"

// RunKind says what a plan is for. A drill is a way to run a plan, not a kind of plan.
type RunKind string

// Run kinds.
const (
	RunFailover RunKind = "failover"
	RunCutback  RunKind = "cutback"
	RunRecovery RunKind = "recovery"
	// RunTeardown removes what a partial drill created. The control plane writes these
	// plans from what the drill's steps reported; operators do not declare them.
	RunTeardown RunKind = "teardown"
)

// OnFailure is what the orchestrator does when a step has failed its last attempt.
type OnFailure string

// Failure policies.
const (
	// FailPause stops dispatching new steps of the run until an operator retries, skips or
	// aborts. It is the default.
	FailPause OnFailure = "pause"
	// FailAbort ends the run.
	FailAbort OnFailure = "abort"
	// FailContinue marks the step failed and lets its dependents run.
	FailContinue OnFailure = "continue"
)

// Region words a step's region may use besides a literal region name or a parameter.
const (
	RegionPrimary      = awsregion.Primary
	RegionSecondary    = awsregion.Secondary
	RegionControlPlane = "control-plane"
)

// DrillSkip marks a step that partial drills skip (DNS switch, region.activate).
const DrillSkip = "skip"

// Errors callers test for with errors.Is.
var (
	// ErrInvalid is wrapped by every *ValidationError.
	ErrInvalid = errors.New("invalid plan")
	// ErrUnknownParam is returned by ApplyParams for a name the plan does not declare.
	ErrUnknownParam = errors.New("unknown param")
	// ErrUnknownStep is returned for a step id the plan does not have.
	ErrUnknownStep = errors.New("unknown step")
	// ErrReference is returned by Interpolate when a reference cannot be resolved.
	ErrReference = errors.New("unresolved reference")
)

// Plan is a parsed and validated plan. It is immutable once parsed, except through
// ApplyParams. Source holds the file's bytes so that a stored run can re-parse its plan
// deterministically on any node: store Source (and the parameter overrides), not the
// struct, because a Plan decoded from JSON has no graph until Parse builds it.
type Plan struct {
	APIVersion  string   `json:"apiVersion"`
	Kind        string   `json:"kind"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	RunKind     RunKind  `json:"runKind"`
	Params      []*Param `json:"params,omitempty"`
	Phases      []*Phase `json:"phases,omitempty"`
	Steps       []*Step  `json:"steps"`

	// File is the name the plan was parsed under, used in error messages.
	File string `json:"file,omitempty"`
	// Source is the exact YAML the plan was parsed from.
	Source []byte `json:"source,omitempty"`

	byID       map[string]*Step
	byParam    map[string]*Param // nil in a Plan that Parse did not build
	order      []string          // topological order, ties broken by file order
	systemRefs []SystemRef       // every ${system.…} in the steps' inputs, in file order
	outputRefs []OutputRef       // every ${steps.…} in the steps' inputs, in file order
}

// OutputRef is one ${steps.FROM.outputs.OUTPUT…} a step reads.
type OutputRef struct {
	Step   string `json:"step"`   // the step that reads it
	Field  string `json:"field"`  // where, e.g. steps[put-redis-secret].with.json.endpoint
	Line   int    `json:"line"`   // its line in the plan file
	From   string `json:"from"`   // the step whose output it reads
	Output string `json:"output"` // the output's name
	Raw    string `json:"raw"`    // the reference as written, without ${ }
}

// OutputRefs returns every ${steps.…} the plan's steps read, in file order.
func (p *Plan) OutputRefs() []OutputRef { return slices.Clone(p.outputRefs) }

// SystemRef is one ${system.PATH} a step reads.
type SystemRef struct {
	Path  string `json:"path"`
	Step  string `json:"step"`
	Field string `json:"field"`
	Line  int    `json:"line"`
}

// SystemRefs returns every ${system.…} the plan's steps read, in file order.
func (p *Plan) SystemRefs() []SystemRef { return slices.Clone(p.systemRefs) }

// CheckSystem checks every ${system.…} the plan reads against sys, and returns a
// *ValidationError naming the line and the fix of each that does not resolve. A plan that
// reads the system needs one: a nil sys is an error for each reference.
func (p *Plan) CheckSystem(sys SystemValues) error {
	if sys == nil && len(p.systemRefs) > 0 {
		// One error, not one per reference: the fix is the same for all of them.
		r := p.systemRefs[0]
		more := ""
		if n := len(p.systemRefs) - 1; n > 0 {
			more = fmt.Sprintf(" (and %d more ${system.…} references)", n)
		}
		return &ValidationError{File: p.File, Errors: []FieldError{{File: p.File, Line: r.Line, Field: r.Field,
			Msg: fmt.Sprintf("step %s reads ${system.%s}%s, but there is no system file: give one (--system FILE) or store one with `kirikae system apply FILE`", r.Step, r.Path, more)}}}
	}
	var errs []FieldError
	for _, r := range p.systemRefs {
		rest, here := strings.CutPrefix(r.Path, SystemHere+".")
		if !here {
			if _, err := sys.Lookup(r.Path); err != nil {
				errs = append(errs, FieldError{File: p.File, Line: r.Line, Field: r.Field, Msg: fmt.Sprintf("step %s reads ${system.%s}: %v", r.Step, r.Path, err)})
			}
			continue
		}
		// ${system.here.…} reads the role of the step's region: the one its region names
		// when that is primary or secondary, else either, so the path must hold in both.
		s := p.Step(r.Step)
		roles := []string{RegionPrimary, RegionSecondary}
		switch {
		case s == nil || s.Where() != OnAgent:
			errs = append(errs, FieldError{File: p.File, Line: r.Line, Field: r.Field,
				Msg: fmt.Sprintf("step %s reads ${system.%s}, but it runs on the control plane, in no region: name the role, e.g. ${system.primary.%s}", r.Step, r.Path, rest)})
			continue
		case s.Region == RegionPrimary || s.Region == RegionSecondary:
			roles = []string{s.Region}
		}
		for _, role := range roles {
			if _, err := sys.Lookup(role + "." + rest); err != nil {
				errs = append(errs, FieldError{File: p.File, Line: r.Line, Field: r.Field,
					Msg: fmt.Sprintf("step %s reads ${system.%s} and runs in %s, so in the %s region: %v", r.Step, r.Path, hereWhere(s.Region), role, err)})
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &ValidationError{File: p.File, Errors: errs}
}

// Param is a declared plan parameter. Steps read it as ${params.NAME}.
type Param struct {
	Name        string `json:"name"`
	Default     string `json:"default,omitempty"`
	HasDefault  bool   `json:"hasDefault"`
	Description string `json:"description,omitempty"`
	// Secret marks a value no reader of the run may see (a password, a token): the run
	// keeps it for the agents, and every read of the run, its audit lines and its reports
	// show it masked (see the redact package).
	Secret bool `json:"secret,omitempty"`
	// Value is set by ApplyParams; Set says whether it was.
	Value string `json:"value,omitempty"`
	Set   bool   `json:"set,omitempty"`
	Line  int    `json:"line,omitempty"`
}

// Effective is the value steps see: the override if set, else the default.
func (p *Param) Effective() (string, bool) {
	if p.Set {
		return p.Value, true
	}
	return p.Default, p.HasDefault
}

// Phase groups steps, in order, with the runbook's time budget.
type Phase struct {
	ID     string        `json:"id"`
	Name   string        `json:"name,omitempty"`
	Expect time.Duration `json:"expect,omitempty"`
	Line   int           `json:"line,omitempty"`
}

// Step is one unit of work, executed on an agent or on the control plane.
type Step struct {
	ID        string         `json:"id"`
	Name      string         `json:"name,omitempty"`
	Phase     string         `json:"phase,omitempty"`
	Region    string         `json:"region"`
	Needs     []string       `json:"needs,omitempty"`
	Action    string         `json:"action"`
	With      map[string]any `json:"with,omitempty"`
	Timeout   time.Duration  `json:"timeout,omitempty"`
	Retries   int            `json:"retries,omitempty"`
	Expect    time.Duration  `json:"expect,omitempty"`
	Owner     string         `json:"owner,omitempty"`
	OnFailure OnFailure      `json:"onFailure"`
	Drill     string         `json:"drill,omitempty"`
	Priority  int            `json:"priority,omitempty"`
	Line      int            `json:"line,omitempty"`

	inputLines map[string]int // with key -> line of its value
}

// InputLine is the line of the step's with.KEY in the plan file, or the step's own line
// when the plan was not parsed from a file or has no such input.
func (s *Step) InputLine(key string) int {
	if l := s.inputLines[key]; l > 0 {
		return l
	}
	return s.Line
}

// Where says whether the step runs on an agent or on the control plane.
func (s *Step) Where() Where {
	a, _ := ActionOf(s.Action)
	return a.Where
}

// SkipInDrill reports whether partial drills skip the step.
func (s *Step) SkipInDrill() bool { return s.Drill == DrillSkip }

// ResolveRegion turns the step's region into a region name: primary and secondary map to
// the run's pair, ${params.X} and ${region.X} are looked up in ctx, and control-plane stays
// as it is.
func (s *Step) ResolveRegion(ctx Context) (string, error) {
	r := s.Region
	if strings.Contains(r, "${") {
		v, err := Interpolate(r, ctx)
		if err != nil {
			return "", fmt.Errorf("step %s: region: %w", s.ID, err)
		}
		r = fmt.Sprint(v)
	}
	r = awsregion.InPair(r, ctx.Run.Primary, ctx.Run.Secondary)
	if r == "" {
		return "", fmt.Errorf("step %s: region %q: %w: the run has no such region", s.ID, s.Region, ErrReference)
	}
	return r, nil
}

// Parse reads and validates a plan. filename is only used in messages. Every problem found
// is reported in one *ValidationError, which wraps ErrInvalid; a plan past a size limit
// (MaxBytes, MaxSteps, MaxDepth, MaxExpanded) is refused that way too, before the work
// that limit bounds.
func Parse(filename string, data []byte) (*Plan, error) {
	return parse(filename, data, defaultLimits)
}

func parse(filename string, data []byte, lim limits) (*Plan, error) {
	p := &Plan{File: filename}
	v := newValidator(filename, p, lim)
	v.run(data)
	if v.Len() > 0 {
		return nil, v.err()
	}
	p.Source = append([]byte(nil), data...)
	return p, nil
}

// ParseFile reads and validates the plan at path.
func ParseFile(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	return Parse(path, data)
}

// Step returns the step with id, or nil.
func (p *Plan) Step(id string) *Step { return p.byID[id] }

// Param returns the declared parameter name, or nil.
func (p *Plan) Param(name string) *Param {
	if p.byParam != nil {
		return p.byParam[name]
	}
	for _, pr := range p.Params {
		if pr.Name == name {
			return pr
		}
	}
	return nil
}

// ParamValues returns the effective value of every parameter that has one.
func (p *Plan) ParamValues() map[string]string {
	m := make(map[string]string, len(p.Params))
	for _, pr := range p.Params {
		if v, ok := pr.Effective(); ok {
			m[pr.Name] = v
		}
	}
	return m
}

// SecretParams names the parameters marked secret, in declaration order.
func (p *Plan) SecretParams() []string {
	var out []string
	for _, pr := range p.Params {
		if pr.Secret {
			out = append(out, pr.Name)
		}
	}
	return out
}

// MissingParams lists parameters that have neither a default nor an override.
func (p *Plan) MissingParams() []string {
	var out []string
	for _, pr := range p.Params {
		if _, ok := pr.Effective(); !ok {
			out = append(out, pr.Name)
		}
	}
	return out
}

// ApplyParams sets parameter overrides (declare --set NAME=VALUE). A name the plan does not
// declare is refused with ErrUnknownParam, and a value that does not fit where the plan uses
// it (a duration, an int, a region) is refused with a *ValidationError; in both cases the
// plan is left unchanged.
func ApplyParams(p *Plan, overrides map[string]string) error {
	var unknown []string
	for name := range overrides {
		if p.Param(name) == nil {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		// Each unknown name with the declared one it most likely meant. The whole list of
		// params would bury that (a plan may declare dozens): plan show prints it.
		sort.Strings(unknown)
		names := p.paramNames()
		parts := make([]string, len(unknown))
		for i, name := range unknown {
			parts[i] = fmt.Sprintf("%q%s", name, suggest(name, names))
		}
		what := "plan"
		if p.Name != "" {
			what = p.Name
		}
		return fmt.Errorf("%w: %s is not a param of plan %s; `kirikae plan show PLAN` lists its %d params",
			ErrUnknownParam, strings.Join(parts, ", "), what, len(names))
	}
	merged := map[string]string{}
	for _, pr := range p.Params {
		if pr.Set {
			merged[pr.Name] = pr.Value
		}
	}
	for k, val := range overrides {
		merged[k] = val
	}
	// Re-validate the typed uses of the parameters on a fresh parse with the new values.
	v := newValidator(p.File, &Plan{File: p.File}, defaultLimits)
	v.overrides = merged
	v.run(p.Source)
	if v.Len() > 0 {
		return v.err()
	}
	for name, val := range merged {
		pr := p.Param(name)
		pr.Value, pr.Set = val, true
	}
	return nil
}

func (p *Plan) paramNames() []string {
	out := make([]string, 0, len(p.Params))
	for _, pr := range p.Params {
		out = append(out, pr.Name)
	}
	return out
}

// FieldError is one problem in a plan file: FILE:LINE: FIELD: MESSAGE.
type FieldError = yamlcheck.FieldError

// ValidationError holds every problem found in one plan file, sorted by line.
type ValidationError struct {
	File   string       `json:"file"`
	Errors []FieldError `json:"errors"`
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		lines[i] = fe.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// hereWhere says where a step whose region is r runs, for a ${system.here.…} error.
func hereWhere(r string) string {
	if r == RegionPrimary || r == RegionSecondary {
		return "the " + r + " region"
	}
	return fmt.Sprintf("%q, which may be either region of the pair", r)
}
