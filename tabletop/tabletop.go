package tabletop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/kirikae/kirikae/agent/readiness"
	"github.com/kirikae/kirikae/awssim"
	"github.com/kirikae/kirikae/controlplane"
	"github.com/kirikae/kirikae/deploy"
	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/report"
	"github.com/kirikae/kirikae/runs"
	"github.com/kirikae/kirikae/simworld"
	"github.com/kirikae/kirikae/system"
)

// Errors callers test for with errors.Is.
var (
	// ErrPlan means the plan cannot run at all: it does not parse, a reference is bad, an
	// input or a param is missing. The findings name each problem with its line.
	ErrPlan = errors.New("tabletop: the plan cannot run")
	// ErrUnsupported means the plan is of a kind a tabletop does not run (a cutback).
	ErrUnsupported = errors.New("tabletop: unsupported plan")
)

// DefaultTimeScale runs simulated AWS 500 times faster than real time: a 45-minute RDS
// restore takes 5.4 s.
const DefaultTimeScale = 0.002

// Options configure a tabletop.
type Options struct {
	// PlanSource is the plan file's bytes; PlanFile names it in findings (default "plan").
	PlanSource []byte
	PlanFile   string
	// Params override the plan's params, as `--set NAME=VALUE` does.
	Params map[string]string
	// Participants are the people taking part, recorded in the run.
	Participants []string
	// Reason is recorded in the run; empty means "tabletop drill".
	Reason string
	// TimeScale is simulated AWS time per wall second; 0 means DefaultTimeScale.
	TimeScale float64
	// Progress receives one line per step change; nil discards them.
	Progress io.Writer
	// Logger receives the isolated world's component logs; nil discards them.
	Logger *slog.Logger
	// Readiness are the live readiness reports the isolated world is built after, where
	// they say something it can simulate. May be empty.
	Readiness []*kirikaev1.ReadinessReport
	// Now is the clock for the age of readiness observations; nil means time.Now.
	Now func() time.Time
	// Primary and Secondary are the live region pair the plan runs in; empty means the
	// system's. The isolated world refuses a pair its system does not run in.
	Primary, Secondary string
	// System is the system file the plan reads (${system.…}), as YAML: the live stored one,
	// so the tabletop judges the plan against what a real run would read. SystemFile names
	// it in findings. Empty means the bundled kaigo.yaml, which the report says.
	System     []byte
	SystemFile string
}

// FindingKind classifies a finding.
type FindingKind string

// Finding kinds.
const (
	// FindingPlan is a plan error other than the two below (YAML, unknown field ...).
	FindingPlan FindingKind = "plan-error"
	// FindingMissingInput is a required input or a param without a value.
	FindingMissingInput FindingKind = "missing-input"
	// FindingBadReference is a ${...} that names what does not exist, in the file or at run time.
	FindingBadReference FindingKind = "bad-reference"
	// FindingGuardRail is a step that refused to act on a safety condition.
	FindingGuardRail FindingKind = "guard-rail"
	// FindingStepFailed is a step that failed for another reason.
	FindingStepFailed FindingKind = "step-failed"
	// FindingRPOGap is data older than the RPO: the restore would lose more than allowed.
	FindingRPOGap FindingKind = "rpo-gap"
	// FindingRTO is a predicted RTO over the objective.
	FindingRTO FindingKind = "rto"
	// FindingEvaluation is what the plan's evaluation found before it ran (kirikae plan
	// check): Code says which kind, e.g. alias-zone-mismatch.
	FindingEvaluation FindingKind = "evaluation"
)

// Finding is one problem the tabletop found.
type Finding struct {
	Kind FindingKind `json:"kind"`
	// Step is the step it concerns, if any; Line and Field point into the plan file.
	Step    string `json:"step"`
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
	// Code is the evaluation finding's code, for FindingEvaluation.
	Code string `json:"code"`
}

// inputField names an evaluation finding's input as a plan field, steps[ID].with.INPUT.
func inputField(f *kirikaev1.PlanFinding) string {
	if f.GetInput() == "" {
		return ""
	}
	return "steps[" + f.GetStepId() + "].with." + f.GetInput()
}

func (f Finding) String() string {
	var b strings.Builder
	b.WriteString("[" + string(f.Kind) + "] ")
	if f.Code != "" {
		b.WriteString("[" + f.Code + "] ")
	}
	if f.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", f.Line)
	}
	if f.Field != "" {
		b.WriteString(f.Field + ": ")
	} else if f.Step != "" {
		b.WriteString("step " + f.Step + ": ")
	}
	b.WriteString(f.Message)
	return b.String()
}

// Adjustment is one thing the tabletop set in its world, or its params, and why.
type Adjustment struct {
	// What is a readiness check name, or "param NAME".
	What string `json:"what"`
	// Region is the region of a readiness check.
	Region string `json:"region"`
	// Observed is what the live world said (a readiness check's observed value, a param's
	// value as given); Applied is what the isolated world got, or why nothing was.
	Observed string `json:"observed"`
	Applied  string `json:"applied"`
}

func (a Adjustment) String() string {
	s := a.What
	if a.Region != "" {
		s += " in " + a.Region
	}
	if a.Observed != "" {
		s += fmt.Sprintf(" (live: %s)", a.Observed)
	}
	return s + ": " + a.Applied
}

// RPOGap is the data-loss window predicted against the plan's RPO.
type RPOGap struct {
	RPO    time.Duration `json:"rpo"`
	Window time.Duration `json:"window"`
	// Known says whether a restore measured (or refused on) the window.
	Known bool   `json:"known"`
	Step  string `json:"step,omitempty"`
}

// Gap reports whether the window exceeds the RPO.
func (g RPOGap) Gap() bool { return g.Known && g.Window > g.RPO }

// Result is a finished tabletop.
type Result struct {
	// Run is the run as the isolated world finished it, marked DRILL_KIND_TABLETOP, with
	// every time converted to predicted real time: the run ends when the tabletop ended,
	// and every earlier time is its distance from the end divided by the time scale. Its epochs
	// are zero (the isolated world's do not count), and its readiness at start is the
	// live readiness it was built from (none without). PlanSource is set.
	Run *kirikaev1.Run
	// PredictedRTO is the run's predicted duration, from the declaration to its end.
	PredictedRTO time.Duration
	// CriticalPath is the plan's longest chain of expected durations, and its total.
	CriticalPath         []string
	CriticalPathDuration time.Duration
	// RTO is the RTO objective (the system's, or the plan's param RTO), zero if none.
	RTO time.Duration
	// RPO is the data-loss window against the plan's RPO.
	RPO RPOGap
	// Evaluation is the plan's evaluation against the simulated account before it ran.
	Evaluation *kirikaev1.PlanEvaluation
	// Findings are the problems found, in the order found: the evaluation's first.
	Findings []Finding
	// Adjustments say what the isolated world was given from the live one and why.
	Adjustments []Adjustment
	// Skipped are the steps the simulated participants skipped after they failed.
	Skipped []string
	// Audit holds the isolated world's audit entries about the run: who declared,
	// approved, confirmed and skipped.
	Audit []*kirikaev1.AuditEntry
	// SimMutations counts the AWS calls that changed the isolated awssim.
	SimMutations int
	// TimeScale is the scale the isolated world ran at.
	TimeScale float64
	// System names the system the isolated world was built from: its name and file.
	System string
}

// AuditFor returns the audit entries with the isolated run's id replaced by id, the id
// under which the run was recorded, so that a report on the recorded run finds them.
func (r *Result) AuditFor(id string) []*kirikaev1.AuditEntry {
	old := r.Run.GetId()
	out := make([]*kirikaev1.AuditEntry, 0, len(r.Audit))
	for _, e := range r.Audit {
		c := proto.Clone(e).(*kirikaev1.AuditEntry)
		if old != "" && id != "" {
			c.Request = strings.ReplaceAll(c.GetRequest(), old, id)
		}
		out = append(out, c)
	}
	return out
}

// HasKind reports whether a finding of kind was made.
func (r *Result) HasKind(kind FindingKind) bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Kind == kind })
}

// Params the tabletop sets to bind the plan to its isolated world, when the plan declares them.
const (
	paramAppURL        = "APP_URL"
	paramWebhook       = "NOTIFY_WEBHOOK"
	paramAllowDataLoss = "ALLOW_DATA_LOSS"
)

// Run runs a tabletop. On a plan that cannot run it returns the findings and an error
// wrapping ErrPlan; on any other error the result may be nil.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.TimeScale <= 0 {
		opts.TimeScale = DefaultTimeScale
	}
	if opts.PlanFile == "" {
		opts.PlanFile = "plan"
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Reason == "" {
		opts.Reason = "tabletop drill"
	}
	res := &Result{TimeScale: opts.TimeScale}

	// 1. The plan, with the params the isolated world needs; the real values are known
	// once it runs, and placeholders of the same shape validate the same.
	pl, err := plan.Parse(opts.PlanFile, opts.PlanSource)
	if err != nil {
		res.Findings = append(res.Findings, planFindings(err)...)
		return res, fmt.Errorf("%w: %s: %w", ErrPlan, opts.PlanFile, err)
	}
	res.CriticalPath, res.CriticalPathDuration = pl.CriticalPath()
	if pl.RunKind == plan.RunCutback {
		return res, fmt.Errorf("%w: plan %s is a cutback plan; a tabletop runs a failover or recovery plan from the peacetime world", ErrUnsupported, pl.Name)
	}
	var sysAdj []Adjustment
	if len(opts.System) == 0 {
		if opts.System, err = deploy.System("kaigo.yaml"); err != nil {
			return res, err
		}
		opts.SystemFile = "deploy/systems/kaigo.yaml"
		sysAdj = append(sysAdj, Adjustment{What: "system file", Applied: "the bundled " + opts.SystemFile +
			": no live system was given, so the plan's ${system.…} read the seed system's names"})
	}
	if opts.SystemFile == "" {
		opts.SystemFile = "system.yaml"
	}
	sys, err := system.Parse(opts.SystemFile, opts.System)
	if err != nil {
		return res, fmt.Errorf("tabletop: %w", err)
	}
	res.System = sys.Name + " (" + opts.SystemFile + ")"
	sysRec := &kirikaev1.SystemRecord{Name: sys.Name, Yaml: sys.Marshal(), Digest: sys.Digest(), SourceFile: opts.SystemFile}
	primary, secondary := opts.Primary, opts.Secondary
	if primary == "" && secondary == "" {
		primary, secondary = sys.Role(system.Primary).Name, sys.Role(system.Secondary).Name
	}
	params, _ := worldParams(pl, opts.Params, "http://127.0.0.1/_app/dns/placeholder")
	if err := checkParams(opts.PlanFile, pl, params); err != nil {
		res.Findings = append(res.Findings, planFindings(err)...)
		return res, fmt.Errorf("%w: %s: %w", ErrPlan, opts.PlanFile, err)
	}
	region := &kirikaev1.RegionState{Primary: primary, Secondary: secondary, Active: primary}
	if _, err := (&runs.Planner{}).Compile(opts.PlanSource, params, region, sysRec); err != nil {
		res.Findings = append(res.Findings, planFindings(err)...)
		return res, fmt.Errorf("%w: %s: %w", ErrPlan, opts.PlanFile, err)
	}

	// 2. The isolated world, built after the live readiness.
	var setupAdj []Adjustment
	w, err := simworld.Start(ctx, simworld.Options{TimeScale: opts.TimeScale, Nodes: 1, Out: opts.Progress, Logger: opts.Logger,
		Primary: primary, Secondary: secondary, System: opts.System, SystemFile: opts.SystemFile,
		People: "tabletop", LoopbackOnly: true, Setup: func(sim *awssim.Sim) error {
			setupAdj = applyReadiness(sim, sys, opts.Readiness, opts.Now(), primary, secondary)
			return nil
		}})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("tabletop world: %w", err), w.Close())
	}
	defer w.Close()
	params, adj := worldParams(pl, opts.Params, "http://"+w.Sim().Addr()+"/_app/dns/"+sys.DNS.Record)
	res.Adjustments = append(append(sysAdj, setupAdj...), adj...)
	for _, a := range res.Adjustments {
		w.Say("tabletop    %s", a)
	}

	// 3. The scenario: the primary region is down, and AWS Health says so.
	scenario := ""
	if pl.RunKind == plan.RunFailover {
		scenario = "region-outage"
		w.Say("\n== The primary region %s goes down (simulated)", primary)
		if err := w.Sim().SetRegionDown(primary, awssim.DownRefuse); err != nil {
			return nil, fmt.Errorf("tabletop world: %w", err)
		}
		w.Sim().OpenHealthEvent(awssim.HealthEvent{Region: primary})
		if err := w.WaitAgents(ctx, map[string]bool{primary: false, secondary: true}); err != nil {
			return nil, fmt.Errorf("tabletop world: %w", err)
		}
	}

	// 4. The plan's evaluation, as `kirikae plan check` and a real declaration make it: the
	// isolated agents check each step's inputs against the simulated account, read-only.
	w.Say("\n== Evaluate plan %s against the simulated account", pl.Name)
	evr, err := kirikaev1.NewPlanCheckServiceClient(w.Conn(w.Operator("operator"))).EvaluatePlan(ctx, &kirikaev1.EvaluatePlanRequest{
		PlanSource: opts.PlanSource, PlanFile: opts.PlanFile, Params: params})
	if err != nil {
		return res, fmt.Errorf("tabletop evaluation: %w", err)
	}
	res.Evaluation = evr.GetEvaluation()
	for _, f := range res.Evaluation.GetFindings() {
		res.Findings = append(res.Findings, Finding{Kind: FindingEvaluation, Step: f.GetStepId(), Line: int(f.GetLine()), Code: f.GetCode(),
			Field: inputField(f), Message: f.GetProblem() + "; fix: " + f.GetFix()})
		w.Say("tabletop    %s", controlplane.FormatFinding(opts.PlanFile, f))
	}
	override := ""
	if n := len(res.Evaluation.GetFindings()); n > 0 {
		// A real declaration would be refused here. The tabletop goes on, to show what else
		// the plan would meet, and says so.
		override = fmt.Sprintf("tabletop: %d evaluation finding(s) reported; the plan runs on to show what else it meets", n)
	}

	// 5. Declare as a tabletop drill, and play the participants.
	w.Say("\n== Declare plan %s as a tabletop drill", pl.Name)
	decl, err := kirikaev1.NewRunServiceClient(w.Conn(w.Operator("operator"))).Declare(ctx, &kirikaev1.DeclareRequest{
		PlanSource: opts.PlanSource, Params: params, Scenario: scenario, ExpectedOutageMs: (6 * time.Hour).Milliseconds(),
		Reason: opts.Reason, RequestId: "tabletop-declare", Drill: kirikaev1.DrillKind_DRILL_KIND_TABLETOP,
		Participants: opts.Participants, AllowMissingAgent: true, OverrideFindings: override})
	if err != nil {
		// The plan compiled above with the same params; what refuses it now is the world.
		return res, fmt.Errorf("tabletop declare: %w", err)
	}
	var mu sync.Mutex
	skippedIDs := map[string]bool{}
	run, err := w.Follow(ctx, decl.GetRun().GetId(), simworld.FollowOptions{
		SkipFailed: true,
		OnSkip: func(st *kirikaev1.StepState) {
			mu.Lock()
			defer mu.Unlock()
			res.Findings = append(res.Findings, stepFinding(pl, st, skippedIDs))
			res.Skipped = append(res.Skipped, st.GetId())
			skippedIDs[st.GetId()] = true
		},
		HurryRetries: true,
		// The participants take the time the runbook expects of them.
		ActDelay: func(st *kirikaev1.StepState) time.Duration {
			return time.Duration(float64(st.GetSpec().GetExpectMs()) * float64(time.Millisecond) * opts.TimeScale)
		},
	})
	if err != nil {
		return res, fmt.Errorf("tabletop run: %w", err)
	}
	if run == nil || !slices.Contains([]kirikaev1.RunStatus{kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED, kirikaev1.RunStatus_RUN_STATUS_FAILED,
		kirikaev1.RunStatus_RUN_STATUS_ABORTED}, run.GetStatus()) {
		return res, fmt.Errorf("tabletop run %s did not end (%s)", decl.GetRun().GetId(), run.GetStatus())
	}
	// Steps that fail without pausing the run (onFailure: continue) are findings too.
	for _, st := range run.GetSteps() {
		if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_FAILED && !skippedIDs[st.GetId()] {
			res.Findings = append(res.Findings, stepFinding(pl, st, skippedIDs))
		}
	}

	// 5. What it predicts.
	full, err := kirikaev1.NewRunServiceClient(w.Conn(simworld.Admin)).GetRun(ctx, &kirikaev1.GetRunRequest{RunId: run.GetId()})
	if err != nil {
		return res, fmt.Errorf("tabletop run %s: %w", run.GetId(), err)
	}
	run = full.GetRun()
	res.Run = predicted(run, opts.TimeScale)
	res.Run.PlanSource = opts.PlanSource
	res.Run.EpochBefore, res.Run.EpochAfter = 0, 0
	// The isolated agents' readiness describes the simulated outage, not the live world.
	res.Run.ReadinessStart, res.Run.ReadinessEnd = opts.Readiness, nil
	res.PredictedRTO = time.Duration(res.Run.GetFinishedUnixNano() - res.Run.GetCreatedUnixNano())
	// The objectives as the run saw them: its system's (or its params', for a plan that
	// declares RTO and RPO itself).
	effective := pl.ParamValues()
	for k, v := range run.GetParams() {
		effective[k] = v
	}
	var rpo time.Duration
	res.RTO, rpo = runs.Objectives(run)
	if res.RTO > 0 && res.PredictedRTO > res.RTO {
		res.Findings = append(res.Findings, Finding{Kind: FindingRTO,
			Message: fmt.Sprintf("predicted RTO %s exceeds the objective of %s", res.PredictedRTO.Round(time.Minute), res.RTO)})
	}
	res.RPO = rpoGap(run, rpo)
	if res.RPO.Gap() {
		msg := fmt.Sprintf("the newest restorable RDS data is %s old, over the RPO of %s: a failover now loses %s of data",
			res.RPO.Window.Round(time.Minute), res.RPO.RPO, res.RPO.Window.Round(time.Minute))
		if _, chosen := opts.Params[paramAllowDataLoss]; !chosen && effective[paramAllowDataLoss] == "true" {
			msg += fmt.Sprintf("; step %s would refuse it unless %s=true, which the tabletop set to exercise the rest of the plan (the approvers must decide it in a real failover)",
				res.RPO.Step, paramAllowDataLoss)
		}
		res.Findings = append(res.Findings, Finding{Kind: FindingRPOGap, Step: res.RPO.Step, Line: stepLine(pl, res.RPO.Step), Message: msg})
	}
	audit, err := w.Audit(ctx)
	if err != nil {
		return res, err
	}
	for _, e := range audit {
		if strings.Contains(e.GetRequest(), run.GetId()) {
			res.Audit = append(res.Audit, e)
		}
	}
	res.SimMutations = len(w.Sim().Journal())
	w.Say("\n== Tabletop %s: %s; predicted RTO %s (plan critical path %s), %d finding(s)", run.GetId(),
		enum.Name(run.GetStatus()), res.PredictedRTO.Round(time.Minute),
		res.CriticalPathDuration, len(res.Findings))
	return res, nil
}

// worldParams returns the params the tabletop declares with: the caller's, with those that
// bind the plan to an environment pointed at the isolated world, and the decisions a
// tabletop makes for its participants.
func worldParams(pl *plan.Plan, given map[string]string, appURL string) (map[string]string, []Adjustment) {
	out := map[string]string{}
	for k, v := range given {
		out[k] = v
	}
	var adj []Adjustment
	set := func(name, value, why string) {
		if pl.Param(name) == nil {
			return
		}
		old, had := given[name]
		out[name] = value
		a := Adjustment{What: "param " + name, Applied: why}
		if had && old != value {
			a.Observed = old
		}
		adj = append(adj, a)
	}
	set(paramAppURL, appURL, "the isolated world's application behind the simulated Route 53 record")
	set(paramWebhook, "", "empty: notifications go to the simulated SNS only, no webhook is called")
	if _, chosen := given[paramAllowDataLoss]; !chosen && pl.Param(paramAllowDataLoss) != nil {
		out[paramAllowDataLoss] = "true"
		adj = append(adj, Adjustment{What: "param " + paramAllowDataLoss, Applied: "true, so the restore goes on and every later step is exercised; " +
			"a snapshot older than the RPO is still reported as the RPO gap (give --set ALLOW_DATA_LOSS=false to see the guard rail refuse)"})
	}
	return out, adj
}

// checkParams applies params to the parsed plan and lists those without a value.
func checkParams(file string, pl *plan.Plan, params map[string]string) error {
	if err := plan.ApplyParams(pl, params); err != nil {
		return err
	}
	missing := pl.MissingParams()
	if len(missing) == 0 {
		return nil
	}
	ve := &plan.ValidationError{File: file}
	for _, name := range missing {
		ve.Errors = append(ve.Errors, plan.FieldError{File: file, Line: pl.Param(name).Line, Field: "params." + name,
			Msg: "param has no default and no value: give it with --set " + name + "=VALUE"})
	}
	return ve
}

// planFindings turns a plan error into findings, one per problem, with its line.
func planFindings(err error) []Finding {
	var ve *plan.ValidationError
	if !errors.As(err, &ve) {
		kind := FindingPlan
		if errors.Is(err, plan.ErrUnknownParam) {
			kind = FindingMissingInput
		} else if errors.Is(err, plan.ErrReference) {
			kind = FindingBadReference
		}
		return []Finding{{Kind: kind, Message: err.Error()}}
	}
	var out []Finding
	for _, fe := range ve.Errors {
		kind := FindingPlan
		switch {
		case strings.Contains(fe.Msg, "missing required input"), strings.HasPrefix(fe.Field, "params."):
			kind = FindingMissingInput
		case strings.Contains(fe.Msg, "${"), strings.Contains(fe.Msg, "unknown step"), strings.Contains(fe.Msg, "undeclared param"):
			kind = FindingBadReference
		}
		out = append(out, Finding{Kind: kind, Line: fe.Line, Field: fe.Field, Message: fe.Msg})
	}
	return out
}

// stepFinding classifies a failed step by the kind of its failure.
func stepFinding(pl *plan.Plan, st *kirikaev1.StepState, skipped map[string]bool) Finding {
	f := Finding{Kind: FindingStepFailed, Step: st.GetId(), Line: stepLine(pl, st.GetId()), Message: st.GetError()}
	switch st.GetErrorKind() {
	case kirikaev1.StepErrorKind_STEP_ERROR_KIND_GUARD_RAIL:
		f.Kind = FindingGuardRail
	case kirikaev1.StepErrorKind_STEP_ERROR_KIND_UNRESOLVED_INPUT:
		f.Kind = FindingBadReference
		var with any
		_ = json.Unmarshal([]byte(st.GetSpec().GetWithJson()), &with)
		for _, id := range plan.ReferencedSteps(with) {
			if skipped[id] {
				// Not the plan's fault: an earlier step the tabletop skipped left no outputs.
				f.Kind = FindingStepFailed
				f.Message += fmt.Sprintf(" (follows from skipping %s)", id)
				break
			}
		}
	}
	if st.GetSpec().GetOnFailure() == "continue" {
		f.Message += " (onFailure: continue, the run went on)"
	}
	return f
}

func stepLine(pl *plan.Plan, id string) int {
	if s := pl.Step(id); s != nil {
		return s.Line
	}
	return 0
}

// rpoGap measures the data-loss window of the run's RDS restore against the RPO: from the
// restore's outputs, or from its guard-rail refusal.
func rpoGap(run *kirikaev1.Run, rpo time.Duration) RPOGap {
	g := RPOGap{RPO: rpo}
	// A restore the tabletop's guard rail refused says what it would have lost.
	if dl, ok := runs.DataLossOf(run, true); ok {
		g.Known, g.Window, g.Step = true, dl.Window, dl.Step
		if g.RPO == 0 {
			for _, st := range run.GetSteps() {
				if st.GetId() == dl.Step {
					g.RPO, _ = time.ParseDuration(fmt.Sprint(stepInput(st, "maxAge")))
				}
			}
		}
	}
	return g
}

func stepInput(st *kirikaev1.StepState, name string) any {
	var with map[string]any
	_ = json.Unmarshal([]byte(st.GetSpec().GetWithJson()), &with)
	return with[name]
}

// predicted converts a run's times to predicted real time. The run ends when the tabletop
// ended, and every earlier time is its distance from the end divided by the time scale: the
// record reads as the real plan would have gone had it started that long ago, and no time
// lies in the future (the drill schedule dates the tabletop by when it ended).
func predicted(in *kirikaev1.Run, scale float64) *kirikaev1.Run {
	r := proto.Clone(in).(*kirikaev1.Run)
	end := r.GetFinishedUnixNano()
	conv := func(t int64) int64 {
		if t == 0 {
			return 0
		}
		return end - int64(float64(end-t)/scale)
	}
	r.CreatedUnixNano = conv(r.GetCreatedUnixNano())
	r.FinishedUnixNano = conv(r.GetFinishedUnixNano())
	for _, st := range r.GetSteps() {
		st.StartedUnixNano = conv(st.GetStartedUnixNano())
		st.FinishedUnixNano = conv(st.GetFinishedUnixNano())
		st.NotBeforeUnixNano = conv(st.GetNotBeforeUnixNano())
		st.AttemptStartedUnixNano = conv(st.GetAttemptStartedUnixNano())
		for _, a := range st.GetApprovals() {
			a.TimeUnixNano = conv(a.GetTimeUnixNano())
		}
		for _, c := range st.GetConfirmations() {
			c.TimeUnixNano = conv(c.GetTimeUnixNano())
		}
	}
	return r
}

// applyReadiness sets in the isolated awssim what the live readiness observed, where it
// can: the age of the newest cross-region RDS snapshot copy and of the newest EFS recovery
// point in the DR vault, each aged by the time since it was checked.
func applyReadiness(sim *awssim.Sim, sys *system.System, reports []*kirikaev1.ReadinessReport, now time.Time, primary, secondary string) []Adjustment {
	// The copies are of the primary's database, and the recovery points in the DR vault:
	// named by the system, as the readiness checks that observed them name them.
	db, vault := sys.Role(system.Primary).Database.Instance, ""
	if b := sys.Role(system.Secondary).Backup; b != nil {
		vault = b.Vault
	}
	// The newest report of each region.
	newest := map[string]*kirikaev1.ReadinessReport{}
	for _, rep := range reports {
		if cur := newest[rep.GetRegion()]; cur == nil || rep.GetReportedUnixNano() > cur.GetReportedUnixNano() {
			newest[rep.GetRegion()] = rep
		}
	}
	var out []Adjustment
	for _, region := range sortedKeys(newest) {
		for _, c := range newest[region].GetChecks() {
			var set func(time.Duration) (string, error)
			var remove func() (int, error)
			switch c.GetName() {
			case readiness.CheckSnapshotCopyAge:
				set = func(d time.Duration) (string, error) {
					return sim.SetSnapshotCopyAge(region, db, d)
				}
				remove = func() (int, error) { return sim.RemoveSnapshotCopies(region, db) }
			case readiness.CheckEFSCopyAge:
				if vault == "" {
					continue // the system keeps no file system backups
				}
				set = func(d time.Duration) (string, error) { return sim.SetRecoveryPointAge(region, vault, d) }
				remove = func() (int, error) { return sim.RemoveRecoveryPoints(region, vault) }
			default:
				continue
			}
			a := Adjustment{What: c.GetName(), Region: region, Observed: c.GetObserved()}
			if region != primary && region != secondary {
				a.Applied = fmt.Sprintf("not applied: the isolated world simulates %s and %s only", primary, secondary)
				out = append(out, a)
				continue
			}
			switch obs := c.GetObserved(); obs {
			case "none", "absent":
				if n, err := remove(); err != nil {
					a.Applied = "not applied: " + err.Error()
				} else {
					a.Applied = fmt.Sprintf("removed the %d simulated copies, as the live world has none", n)
				}
			default:
				age, err := time.ParseDuration(obs)
				if err != nil {
					a.Applied = fmt.Sprintf("not applied: observed %q is not an age", obs)
					break
				}
				checked := c.GetCheckedUnixNano()
				if checked == 0 {
					checked = newest[region].GetReportedUnixNano()
				}
				if checked > 0 && now.UnixNano() > checked {
					age += now.Sub(time.Unix(0, checked)).Truncate(time.Second)
				}
				id, err := set(age)
				if err != nil {
					a.Applied = "not applied: " + err.Error()
					break
				}
				a.Applied = fmt.Sprintf("the newest simulated copy (%s) is %s old", id, age)
			}
			out = append(out, a)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Problems are the findings a report lists as problems of run (the tabletop's record),
// each with the improvement to make. The RPO gap, guard-rail refusals and the RTO are left
// out: the report finds those in the run itself.
func (r *Result) Problems(runID string) []report.Problem {
	var out []report.Problem
	for _, f := range r.Findings {
		switch f.Kind {
		case FindingRPOGap, FindingGuardRail, FindingRTO:
			continue
		}
		out = append(out, report.Problem{Kind: report.ProblemKind("tabletop-" + string(f.Kind)), Run: runID, Step: f.Step,
			Summary:     strings.TrimPrefix(f.String(), "["+string(f.Kind)+"] "),
			Improvement: fmt.Sprintf("Fix what the tabletop found at step %s (%s) in the plan or the environment, and run the tabletop again.", f.Step, f.Kind)})
	}
	return out
}
