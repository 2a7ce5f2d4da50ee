package runs

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/kirikae/kirikae/catalog"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/plan"
)

// Plan evaluation: what a plan will meet when it runs, found before anything changes. The
// control plane resolves each step's inputs as far as they can be before the run, finds
// what it can from the catalog alone (an output a later step reads that the step will not
// have), and hands each agent the steps of its region, which it checks with read-only AWS
// calls (agent/action's Registry.Check). Finish gathers the agents' findings with the plan
// lines they point at.

// Evaluation is a plan prepared for evaluation.
type Evaluation struct {
	Plan *plan.Plan
	File string
	// ByRegion holds the steps each region's agent checks.
	ByRegion map[string][]*kirikaev1.CheckStep
	// Static are the findings made without AWS.
	Static []*kirikaev1.PlanFinding
	// SystemDigest is the digest of the system the plan was evaluated against.
	SystemDigest string
	// stepRegion is where each agent step runs; included are the steps evaluated.
	stepRegion map[string]string
	included   map[string]bool
}

// Finding codes the control plane makes itself; the agents' are in catalog (finding.go).
const (
	// FindingOutputAbsent: a step reads an output the step that makes it will not have.
	FindingOutputAbsent = "output-absent"
	// FindingUnresolved: an input that should resolve before the run does not.
	FindingUnresolved = "unresolved-input"
)

// PrepareEvaluation parses a plan, applies params, and resolves each step's inputs against
// the region pair and the stored system as a run of it would now. Unlike Compile, a param
// without a value is no error: the inputs that read it are left unchecked. A plan that does
// not parse or reads a system path that does not exist is an error, as at declare.
func (p *Planner) PrepareEvaluation(file string, source []byte, params map[string]string, region *kirikaev1.RegionState,
	sysRec *kirikaev1.SystemRecord, now time.Time) (*Evaluation, error) {
	pl, err := plan.Parse(file, source)
	if err != nil {
		return nil, err
	}
	sys, err := parseSystem(sysRec)
	if err != nil {
		return nil, err
	}
	var values plan.SystemValues
	if sys != nil {
		values = sys
	}
	if err := pl.CheckSystem(values); err != nil {
		return nil, err
	}
	if err := plan.ApplyParams(pl, params); err != nil {
		return nil, err
	}
	run := &kirikaev1.Run{Id: "evaluation", CreatedUnixNano: now.UnixNano(), Params: pl.ParamValues(),
		Primary: region.GetPrimary(), Secondary: region.GetSecondary()}
	run.Kind, run.FromRegion, run.ToRegion = kindOf(pl.RunKind, region)
	return prepare(pl, file, context(run, nil, sys), sysRec.GetDigest(), func(string) bool { return true })
}

// PrepareRunEvaluation prepares the evaluation of what is left of a live run: the steps
// that have not started, resolved against the run's own params, system copy and the
// outputs of its finished steps. A cutback's preflight evaluates it before its first
// destructive step, so a later step that would fail stops the run before anything is
// deleted.
func (p *Planner) PrepareRunEvaluation(run *kirikaev1.Run) (*Evaluation, error) {
	c, err := p.planOf(run)
	if err != nil {
		return nil, err
	}
	outputs, err := outputsOf(run)
	if err != nil {
		return nil, err
	}
	left := map[string]bool{}
	for _, st := range run.GetSteps() {
		if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_PENDING {
			left[st.GetId()] = true
		}
	}
	return prepare(c.plan, run.GetPlanName(), context(run, outputs, c.sys), run.GetSystem().GetDigest(), func(id string) bool { return left[id] })
}

// EvaluateRun is PrepareRunEvaluation for the control plane: the steps by region, and Finish.
func (p *Planner) EvaluateRun(run *kirikaev1.Run) (map[string][]*kirikaev1.CheckStep,
	func(map[string]*kirikaev1.CheckReport, []*kirikaev1.UncheckedRegion, time.Time) *kirikaev1.PlanEvaluation, error) {
	ev, err := p.PrepareRunEvaluation(run)
	if err != nil {
		return nil, nil, err
	}
	return ev.ByRegion, ev.Finish, nil
}

// prepare resolves the steps include admits against ctx and splits them by region.
func prepare(pl *plan.Plan, file string, ctx plan.Context, digest string, include func(id string) bool) (*Evaluation, error) {
	ev := &Evaluation{Plan: pl, File: file, ByRegion: map[string][]*kirikaev1.CheckStep{}, SystemDigest: digest,
		stepRegion: map[string]string{}, included: map[string]bool{}}
	resolved := map[string]map[string]any{} // step -> the inputs that resolved
	missing := pl.MissingParams()
	for _, id := range pl.TopoOrder() {
		if !include(id) {
			continue
		}
		ev.included[id] = true
		s := pl.Step(id)
		with, unresolved, bad := resolvable(s, ctx, missing)
		ev.Static = append(ev.Static, bad...)
		resolved[id] = with
		if s.Where() != plan.OnAgent {
			continue
		}
		r, err := s.ResolveRegion(ctx)
		if err != nil {
			ev.Static = append(ev.Static, &kirikaev1.PlanFinding{StepId: id, Code: FindingUnresolved, Line: int32(s.Line),
				Problem: err.Error(), Fix: "name primary, secondary, a region of the pair, or a param that holds one"})
			continue
		}
		b, err := json.Marshal(with)
		if err != nil {
			return nil, fmt.Errorf("step %s: with: %w", id, err)
		}
		ev.stepRegion[id] = r
		ev.ByRegion[r] = append(ev.ByRegion[r], &kirikaev1.CheckStep{StepId: id, Action: s.Action, WithJson: string(b), Unresolved: unresolved})
	}
	ev.Static = append(ev.Static, absentOutputs(pl, resolved, ev.included)...)
	return ev, nil
}

// outputsOf reads the outputs of a run's steps that have them.
func outputsOf(run *kirikaev1.Run) (map[string]map[string]any, error) {
	outputs := map[string]map[string]any{}
	for _, st := range run.GetSteps() {
		if st.GetOutputsJson() == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(st.GetOutputsJson()), &m); err != nil {
			return nil, fmt.Errorf("outputs of step %s: %w", st.GetId(), err)
		}
		outputs[st.GetId()] = m
	}
	return outputs, nil
}

// Evaluate is PrepareEvaluation for the control plane: the steps by region, and Finish.
func (p *Planner) Evaluate(file string, source []byte, params map[string]string, region *kirikaev1.RegionState, sys *kirikaev1.SystemRecord, now time.Time) (
	map[string][]*kirikaev1.CheckStep, func(map[string]*kirikaev1.CheckReport, []*kirikaev1.UncheckedRegion, time.Time) *kirikaev1.PlanEvaluation, error) {
	ev, err := p.PrepareEvaluation(file, source, params, region, sys, now)
	if err != nil {
		return nil, nil, err
	}
	return ev.ByRegion, ev.Finish, nil
}

// resolvable resolves the inputs of s that can be resolved before the run, converted to
// their catalog types as InterpolateWith does. unresolved lists the inputs that read an
// earlier step's outputs not known yet, or a param in missing (no value yet); bad are
// inputs that cannot resolve at all.
func resolvable(s *plan.Step, ctx plan.Context, missing []string) (with map[string]any, unresolved []string, bad []*kirikaev1.PlanFinding) {
	keep := &plan.Step{ID: s.ID, Action: s.Action, Region: s.Region, With: map[string]any{}}
	stepCtx := ctx.ForStep(s)
	for _, k := range slices.Sorted(maps.Keys(s.With)) {
		v := s.With[k]
		text := plan.Stringify(v)
		waits := slices.ContainsFunc(plan.ReferencedSteps(v), func(id string) bool { _, done := ctx.Outputs[id]; return !done })
		if waits || slices.ContainsFunc(missing, func(p string) bool { return strings.Contains(text, "${params."+p+"}") }) {
			unresolved = append(unresolved, k)
			continue
		}
		if _, err := plan.Interpolate(v, stepCtx); err != nil {
			bad = append(bad, &kirikaev1.PlanFinding{StepId: s.ID, Input: k, Code: FindingUnresolved, Line: int32(s.InputLine(k)),
				Problem: err.Error(), Fix: "correct the reference"})
			continue
		}
		keep.With[k] = v
	}
	with, err := plan.InterpolateWith(keep, ctx)
	if err != nil {
		// A value of the wrong type for its input (a param "two" for an int): reported on
		// the input it names, and the step checked without it.
		bad = append(bad, &kirikaev1.PlanFinding{StepId: s.ID, Code: FindingUnresolved, Line: int32(s.Line), Problem: err.Error(),
			Fix: "give the input a value of its type (kirikae plan actions " + s.Action + ")"})
		return map[string]any{}, unresolved, bad
	}
	return with, unresolved, bad
}

// absentOutputs finds the steps that read an output their source step will not have, as
// the source's action definition says for its inputs.
func absentOutputs(pl *plan.Plan, resolved map[string]map[string]any, included map[string]bool) []*kirikaev1.PlanFinding {
	var out []*kirikaev1.PlanFinding
	for _, ref := range pl.OutputRefs() {
		if !included[ref.Step] || !included[ref.From] {
			continue // a step already run, or reading one that has: its outputs are known
		}
		from := pl.Step(ref.From)
		spec, ok := catalog.Lookup(from.Action)
		if !ok || spec.Absent == nil {
			continue
		}
		b, err := json.Marshal(resolved[ref.From])
		if err != nil {
			continue
		}
		why, absent := spec.Absent(b)[ref.Output]
		if !absent {
			continue
		}
		var others []string
		for _, o := range spec.Outputs {
			if _, gone := spec.Absent(b)[o]; !gone {
				others = append(others, "${steps."+ref.From+".outputs."+o+"}")
			}
		}
		out = append(out, &kirikaev1.PlanFinding{StepId: ref.Step, Input: topInput(ref.Field), Code: FindingOutputAbsent, Line: int32(ref.Line),
			Problem: fmt.Sprintf("reads ${%s}, which step %s (%s) will not have: %s", ref.Raw, ref.From, from.Action,
				strings.ReplaceAll(why, "${steps.ID.", "${steps."+ref.From+".")),
			Fix: "read what it will have: " + strings.Join(others, ", ")})
	}
	return out
}

// topInput is the with key of a field path such as steps[a].with.json.endpoint.
func topInput(field string) string {
	_, rest, ok := strings.Cut(field, ".with.")
	if !ok {
		return ""
	}
	k, _, _ := strings.Cut(rest, ".")
	k, _, _ = strings.Cut(k, "[")
	return k
}

// Finish puts together the evaluation from what the agents found (by region) and the
// regions no agent checked: every finding with its plan line and region, in file order.
func (e *Evaluation) Finish(reports map[string]*kirikaev1.CheckReport, unchecked []*kirikaev1.UncheckedRegion, now time.Time) *kirikaev1.PlanEvaluation {
	ev := &kirikaev1.PlanEvaluation{PlanName: e.Plan.Name, PlanFile: e.File, SystemDigest: e.SystemDigest, EvaluatedUnixNano: now.UnixNano(),
		Unchecked: unchecked}
	for _, f := range e.Static {
		ev.Findings = append(ev.Findings, proto.Clone(f).(*kirikaev1.PlanFinding))
	}
	for _, f := range ev.Findings {
		if f.GetRegion() == "" {
			f.Region = e.stepRegion[f.GetStepId()] // "" for a step on the control plane
		}
	}
	gone := map[string]bool{}
	for _, u := range unchecked {
		gone[u.GetRegion()] = true
	}
	for _, s := range e.Plan.Steps {
		r, onAgent := e.stepRegion[s.ID]
		if e.included[s.ID] && (!onAgent || !gone[r]) {
			ev.StepsChecked++
		}
	}
	for region, rep := range reports {
		if rep.GetError() != "" {
			ev.Unchecked = append(ev.Unchecked, &kirikaev1.UncheckedRegion{Region: region, Reason: rep.GetError(), Steps: e.stepsIn(region)})
			continue
		}
		for _, f := range rep.GetFindings() {
			s := e.Plan.Step(f.GetStepId())
			if s == nil || e.stepRegion[s.ID] != region {
				continue // an agent may speak only for steps of its own region that it was asked about
			}
			f.Region, f.Line = region, int32(s.InputLine(f.GetInput()))
			ev.Findings = append(ev.Findings, f)
		}
	}
	slices.SortStableFunc(ev.Findings, func(a, b *kirikaev1.PlanFinding) int {
		return cmp.Or(cmp.Compare(a.GetLine(), b.GetLine()), strings.Compare(a.GetStepId(), b.GetStepId()), strings.Compare(a.GetCode(), b.GetCode()))
	})
	slices.SortFunc(ev.Unchecked, func(a, b *kirikaev1.UncheckedRegion) int { return strings.Compare(a.GetRegion(), b.GetRegion()) })
	return ev
}

func (e *Evaluation) stepsIn(region string) []string {
	var out []string
	for _, cs := range e.ByRegion[region] {
		out = append(out, cs.GetStepId())
	}
	return out
}
