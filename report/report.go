package report

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/human"
	"github.com/kirikae/kirikae/redact"
	"github.com/kirikae/kirikae/runs"
)

// Default objectives, from seed 001 (region outage: RTO 4 h, RPO 1 h).
const (
	DefaultRTO = 4 * time.Hour
	DefaultRPO = time.Hour
)

// SlowFactor is how much longer than its expect a step may take before it is a problem.
const SlowFactor = 1.5

// manualWaitLimit flags an approval or checklist step without an expect that waited longer.
const manualWaitLimit = 15 * time.Minute

// behindLimit flags a timeline row whose event came this much later than its target.
const behindLimit = 15 * time.Minute

// Input is everything a report is built from. Runs come from RunService.GetRun (with
// plan_source), audit entries from AuditService.ListAudit, readiness from
// AgentAdminService.GetReadiness.
type Input struct {
	// Runs are reported on together: one run, or the failover and the cutback of a
	// full-scale drill. Order does not matter; they are sorted by creation.
	Runs []*kirikaev1.Run
	// Audit is the audit log, or the part of it covering the runs.
	Audit []*kirikaev1.AuditEntry
	// ReadinessStart and ReadinessEnd are the agents' reports at the start and the end.
	ReadinessStart, ReadinessEnd []*kirikaev1.ReadinessReport
	// Timeline is the target timeline, if any.
	Timeline *Timeline
	// RTO and RPO override the objectives; zero takes the runs' params RTO and RPO, else
	// DefaultRTO and DefaultRPO.
	RTO, RPO time.Duration
	// Drill overrides the drill kind; empty takes it from the runs, and a run that is no
	// drill makes an incident report (障害報告書).
	Drill DrillKind
	// LastDrills holds the last drill of each kind before this one, for the next dates.
	LastDrills map[DrillKind]time.Time
	// TimeScale converts run time to the time the plan is written in: a drill run against
	// awssim at scale 0.002 took 0.002 s of wall time per simulated second. 0 means 1.
	// It applies to the simulated AWS, not to people: the stretches where only an approval
	// or a checklist kept a run waiting count as real time (except in a tabletop, whose
	// participants are simulated at the scale). See the package doc.
	TimeScale float64
	// Location prints times; nil takes the timeline's, else UTC.
	Location *time.Location
	// Now is the clock; nil means time.Now. It stamps the report and dates the next drills.
	Now func() time.Time
	// Notes are the assumptions the runs were made under, listed as they are: for a
	// tabletop, what its simulated world was given from the live one.
	Notes []string
	// Problems were found outside the runs (a tabletop's plan findings); they are listed
	// after the problems found in the runs.
	Problems []Problem
}

// Report is a built report, ready to render. Durations and offsets are in plan time (see
// Input.TimeScale); times are wall-clock times in Location, except that on a scaled or
// off-day drill with a timeline, actual times are aligned so the first run starts at the
// first row's target (Aligned says so).
type Report struct {
	Title       string
	Drill       DrillKind // empty for an incident report
	GeneratedAt time.Time
	Location    *time.Location
	TimeScale   float64
	// RealWaits says that TimeScale is not 1 and people's waits on approvals and
	// checklists were taken as real time, not divided by it.
	RealWaits    bool
	Aligned      bool
	Start, End   time.Time
	Scenario     string
	Reason       string
	Runs         []RunSummary
	Participants []Participant
	Phases       []PhaseTiming
	Steps        []StepTiming
	Timeline     *TimelineResult
	RTO          RTOResult
	RPO          RPOResult
	Readiness    []ReadinessResult
	Problems     []Problem
	Improvements []string
	NextDrills   []NextDrill
	Notes        []string

	base time.Time // display time of offset 0
	// live is set while a run has not finished; nowOff is then when the report was built,
	// as an offset, which the chart draws unfinished steps to.
	live   bool
	nowOff time.Duration
}

// RunSummary is one run of the report.
type RunSummary struct {
	ID, Kind, Plan, Status, Error string
	ParentID                      string
	From, To                      string
	EpochBefore, EpochAfter       uint64
	Start, End                    time.Time
	Duration                      time.Duration
	Steps                         int
}

// Participant is a person who acted on the runs, with what they did.
type Participant struct {
	Name     string // the operator name, e.g. alice
	Identity string // spiffe://kirikae/operator/alice
	Roles    []string
	Approver bool
}

// PhaseTiming is a phase's actual span against its expect.
type PhaseTiming struct {
	Run, Plan, ID, Name string
	Expect              time.Duration
	// StartOff and EndOff are offsets from the report's start; Started says whether any
	// step ran.
	StartOff, EndOff time.Duration
	Started, Ended   bool
	Actual           time.Duration
	// TargetFrom and TargetTo span the targets of the phase's steps from the timeline.
	TargetFrom, TargetTo time.Duration
	HasTarget            bool
}

// StepTiming is one step's actual span.
type StepTiming struct {
	Run, Plan, ID, Name, Phase, Owner, Action, Status string
	Attempts                                          uint32
	Expect                                            time.Duration
	StartOff, EndOff                                  time.Duration
	Started, Ended                                    bool
	Actual                                            time.Duration
	Error                                             string
	History                                           []string
	Human                                             bool // approval or checklist
	// Waited is how long a finished human step waited for people. Their waits are real
	// time, not scaled, so it is the step's wall time; it differs from Actual where the
	// wait overlapped other steps, whose scaled time the chart spans. In a tabletop, whose
	// people are simulated at the time scale, it is Actual.
	Waited time.Duration
	// TargetFrom and TargetTo are offsets of the target window from the timeline, if a
	// row matches the step or its phase.
	TargetFrom, TargetTo time.Duration
	HasTarget            bool
}

// TimelineResult sets the timeline's rows against what happened.
type TimelineResult struct {
	Name string
	Date time.Time
	Rows []TimelineRow
}

// TimelineRow is one row: target, actual and the difference.
type TimelineRow struct {
	Clock, Action, Owner, Match string
	Target                      time.Time
	Actual                      time.Time
	HasActual                   bool
	Delta                       time.Duration // actual - target
	TargetOff, ActualOff        time.Duration
}

// RTOResult is the recovery time against the objective.
type RTOResult struct {
	Objective time.Duration
	Achieved  time.Duration
	Known     bool
	Met       bool
	// Basis says what was measured, e.g. "run f-1 declared to finished".
	Basis string
}

// RPOResult is the data-loss window against the objective.
type RPOResult struct {
	Objective time.Duration
	Window    time.Duration
	Known     bool
	Met       bool
	Basis     string
}

// ReadinessResult is one agent's readiness at one moment, with its failing checks.
type ReadinessResult struct {
	When          string // "start" or "end"
	Agent, Region string
	At            time.Time
	Checks        int
	Fails, Warns  []*kirikaev1.ReadinessCheck
}

// ProblemKind classifies a problem.
type ProblemKind string

// Problem kinds.
const (
	ProblemRunFailed  ProblemKind = "run-failed"
	ProblemFailed     ProblemKind = "failed-step"
	ProblemRetried    ProblemKind = "retried-step"
	ProblemSlow       ProblemKind = "slow-step"
	ProblemGuardRail  ProblemKind = "guard-rail"
	ProblemReadiness  ProblemKind = "readiness"
	ProblemManualWait ProblemKind = "manual-wait"
	ProblemRTO        ProblemKind = "rto"
	ProblemRPO        ProblemKind = "rpo"
	ProblemBehind     ProblemKind = "behind-schedule"
)

// Problem is one thing that went wrong or took too long, and what to do about it.
type Problem struct {
	Kind        ProblemKind
	Run, Step   string
	Summary     string
	Improvement string
}

func (in *Input) now() time.Time {
	if in.Now != nil {
		return in.Now()
	}
	return time.Now()
}

// Build derives a report from its inputs. It fails only without a run.
func Build(in Input) (*Report, error) {
	if len(in.Runs) == 0 {
		return nil, ErrNoRuns
	}
	// A report is read by people: secret params are masked, as every answer of the
	// control plane masks them, also in runs that did not come through it (a tabletop's).
	runs := make([]*kirikaev1.Run, len(in.Runs))
	var secrets []string
	for i, run := range in.Runs {
		secrets = append(secrets, redact.Values(run)...)
		runs[i] = redact.Run(proto.Clone(run).(*kirikaev1.Run))
	}
	if len(secrets) > 0 {
		audit := make([]*kirikaev1.AuditEntry, len(in.Audit))
		for i, e := range in.Audit {
			e = proto.Clone(e).(*kirikaev1.AuditEntry)
			redact.Strings(e.ProtoReflect(), secrets)
			audit[i] = e
		}
		in.Audit = audit
	}
	sort.SliceStable(runs, func(i, j int) bool { return runStart(runs[i]) < runStart(runs[j]) })
	scale := in.TimeScale
	if scale <= 0 {
		scale = 1
	}
	loc := in.Location
	if loc == nil && in.Timeline != nil {
		loc = in.Timeline.Location
	}
	if loc == nil {
		loc = time.UTC
	}
	now := in.now()
	r := &Report{GeneratedAt: now.In(loc), Location: loc, TimeScale: scale}
	anchor := time.Unix(0, runStart(runs[0])).In(loc)
	r.base = anchor
	if tl := in.Timeline; tl != nil && len(tl.Rows) > 0 && !tl.Rows[0].Time.IsZero() {
		d := tl.Date
		sameDay := anchor.In(tl.Location).Format(time.DateOnly) == d.Format(time.DateOnly)
		if scale != 1 || !sameDay {
			r.Aligned = true
			r.base = tl.Rows[0].Time.In(loc)
		}
	}
	r.Start = r.base

	// The drill kind, the title and the scenario come from the first run.
	r.Drill = in.Drill
	for _, run := range runs {
		if r.Drill == "" {
			r.Drill = drillFromProto(run.GetDrill())
		}
		if r.Scenario == "" {
			r.Scenario = run.GetScenario()
		}
		if r.Reason == "" {
			r.Reason = run.GetReason()
		}
	}
	// A tabletop's participants are simulated: they take the runbook's expect at the time
	// scale, so their waits are plan time like the rest. Everyone else's are real time.
	simulated := func(run *kirikaev1.Run) bool {
		return r.Drill == Tabletop || run.GetDrill() == kirikaev1.DrillKind_DRILL_KIND_TABLETOP
	}
	r.RealWaits = scale != 1 && slices.ContainsFunc(runs, func(run *kirikaev1.Run) bool { return !simulated(run) })
	off := newPlanClock(anchor.UnixNano(), scale, runs, simulated, now.UnixNano()).off
	if r.Drill != "" {
		r.Title = fmt.Sprintf("DR訓練レポート (%s) / Drill report: %s", r.Drill.Japanese(), r.Drill)
	} else {
		r.Title = "障害報告書 / Incident report"
	}

	var endOff time.Duration
	for _, run := range runs {
		rs := RunSummary{ID: run.GetId(), Kind: enum.Name(run.GetKind()), Plan: run.GetPlanName(),
			Status: enum.Name(run.GetStatus()), Error: run.GetError(), ParentID: run.GetParentRunId(),
			From: run.GetFromRegion(), To: run.GetToRegion(), EpochBefore: run.GetEpochBefore(), EpochAfter: run.GetEpochAfter(),
			Steps: len(run.GetSteps())}
		so := off(runStart(run))
		rs.Start = r.base.Add(so)
		if run.GetFinishedUnixNano() != 0 {
			eo := off(run.GetFinishedUnixNano())
			rs.End = r.base.Add(eo)
			rs.Duration = eo - so
			endOff = max(endOff, eo)
		}
		r.Runs = append(r.Runs, rs)
		r.addSteps(run, off, !simulated(run), &endOff)
		if run.GetFinishedUnixNano() == 0 {
			r.live = true
		}
	}
	if r.live {
		r.nowOff = off(now.UnixNano())
	}
	r.End = r.base.Add(endOff)
	r.Participants = participants(runs, in.Audit)
	if in.Timeline != nil {
		r.matchTimeline(in.Timeline, runs)
	}
	for i := range r.Phases {
		ph := &r.Phases[i]
		for _, st := range r.Steps {
			if st.Run != ph.Run || st.Phase != ph.ID || !st.HasTarget {
				continue
			}
			if !ph.HasTarget {
				ph.HasTarget, ph.TargetFrom, ph.TargetTo = true, st.TargetFrom, st.TargetTo
			}
			ph.TargetFrom, ph.TargetTo = min(ph.TargetFrom, st.TargetFrom), max(ph.TargetTo, st.TargetTo)
		}
	}
	r.Notes = slices.Clone(in.Notes)
	r.objectives(in, runs)
	r.readiness(in)
	r.findProblems()
	for _, p := range in.Problems {
		r.problem(p)
	}
	last := map[DrillKind]time.Time{}
	for k, v := range in.LastDrills {
		last[k] = v
	}
	if r.Drill != "" {
		at := time.Unix(0, runStart(runs[0])).In(loc)
		if at.After(last[r.Drill]) {
			last[r.Drill] = at
		}
	}
	r.NextDrills = NextDrills(last, r.GeneratedAt)
	return r, nil
}

func runStart(r *kirikaev1.Run) int64 {
	if r.GetCreatedUnixNano() != 0 {
		return r.GetCreatedUnixNano()
	}
	first := int64(0)
	for _, st := range r.GetSteps() {
		if s := st.GetStartedUnixNano(); s != 0 && (first == 0 || s < first) {
			first = s
		}
	}
	return first
}

// addSteps adds the run's phases and steps. realPeople says that the run's approvals and
// checklists waited on real people, whose waits are measured in wall time.
func (r *Report) addSteps(run *kirikaev1.Run, off func(int64) time.Duration, realPeople bool, endOff *time.Duration) {
	phases := slices.Clone(run.GetPhases())
	seen := map[string]bool{}
	for _, ph := range phases {
		seen[ph.GetId()] = true
	}
	for _, st := range run.GetSteps() {
		if p := st.GetSpec().GetPhase(); !seen[p] {
			seen[p] = true
			phases = append(phases, &kirikaev1.Phase{Id: p, Name: p})
		}
	}
	for _, ph := range phases {
		pt := PhaseTiming{Run: run.GetId(), Plan: run.GetPlanName(), ID: ph.GetId(), Name: ph.GetName(),
			Expect: time.Duration(ph.GetExpectMs()) * time.Millisecond}
		if pt.Name == "" {
			pt.Name = pt.ID
		}
		allEnded := true
		for _, st := range run.GetSteps() {
			sp := st.GetSpec()
			if sp.GetPhase() != ph.GetId() {
				continue
			}
			t := StepTiming{Run: run.GetId(), Plan: run.GetPlanName(), ID: st.GetId(), Name: sp.GetName(), Phase: ph.GetId(),
				Owner: sp.GetOwner(), Action: sp.GetAction(), Status: enum.Name(st.GetStatus()),
				Attempts: st.GetAttempt(), Expect: time.Duration(sp.GetExpectMs()) * time.Millisecond, Error: st.GetError(),
				History: st.GetHistory(), Human: humanAction(sp.GetAction())}
			if t.Name == "" {
				t.Name = t.ID
			}
			if st.GetStartedUnixNano() != 0 {
				t.Started, t.StartOff = true, off(st.GetStartedUnixNano())
				if !pt.Started || t.StartOff < pt.StartOff {
					pt.StartOff = t.StartOff
				}
				pt.Started = true
			}
			if st.GetFinishedUnixNano() != 0 {
				t.Ended, t.EndOff = true, off(st.GetFinishedUnixNano())
				if t.Started {
					t.Actual = t.EndOff - t.StartOff
					if t.Human {
						t.Waited = t.Actual
						if realPeople {
							t.Waited = time.Duration(st.GetFinishedUnixNano() - st.GetStartedUnixNano())
						}
					}
				}
				pt.EndOff = max(pt.EndOff, t.EndOff)
				*endOff = max(*endOff, t.EndOff)
			} else if st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_SKIPPED {
				allEnded = false
			}
			r.Steps = append(r.Steps, t)
		}
		pt.Ended = pt.Started && allEnded
		if pt.Ended {
			pt.Actual = pt.EndOff - pt.StartOff
		}
		r.Phases = append(r.Phases, pt)
	}
}

// overlapped reports whether a finished human step's wait for people reads differently
// from its span on the chart: other steps ran while it waited, and their time is scaled.
func (st StepTiming) overlapped() bool {
	return st.Human && st.Ended && human.Duration(st.Waited) != human.Duration(st.Actual)
}

// Offset converts an offset from the report's start to the time it is printed as.
func (r *Report) Offset(d time.Duration) time.Time { return r.base.Add(d) }

// event finds the offset of a match in the runs: the run whose plan it names (or the
// first that has the step or phase), and the start or end of the step, phase or run.
func (r *Report) event(m Match) (time.Duration, bool) {
	end := m.at() == AtEnd
	for _, rs := range r.Runs {
		if m.Plan != "" && rs.Plan != m.Plan {
			continue
		}
		switch {
		case m.Step != "":
			for _, st := range r.Steps {
				if st.Run == rs.ID && st.ID == m.Step {
					if end {
						return st.EndOff, st.Ended
					}
					return st.StartOff, st.Started
				}
			}
		case m.Phase != "":
			for _, ph := range r.Phases {
				if ph.Run == rs.ID && ph.ID == m.Phase {
					if end {
						return ph.EndOff, ph.Ended
					}
					return ph.StartOff, ph.Started
				}
			}
		default:
			if end {
				return rs.End.Sub(r.base), !rs.End.IsZero()
			}
			return rs.Start.Sub(r.base), true
		}
	}
	return 0, false
}

func (r *Report) matchTimeline(tl *Timeline, runs []*kirikaev1.Run) {
	res := &TimelineResult{Name: tl.Name, Date: tl.Date}
	for _, row := range tl.Rows {
		tr := TimelineRow{Clock: row.Clock, Action: row.Action, Owner: row.Owner, Target: row.Time.In(r.Location),
			TargetOff: row.Time.Sub(r.base)}
		if !row.Match.IsZero() {
			tr.Match = row.Match.String()
			if o, ok := r.event(row.Match); ok {
				tr.HasActual, tr.ActualOff = true, o
				tr.Actual = r.base.Add(o)
				tr.Delta = o - tr.TargetOff
			}
		}
		res.Rows = append(res.Rows, tr)
	}
	r.Timeline = res
	// Target windows for the chart. A step row's window runs to the next row; a phase
	// row's runs on past rows inside the same phase, to the row that ends it or to the
	// first row of another phase. Step rows go first, so they win over their phase's.
	type key struct{ plan, phase string }
	phaseOf := func(m Match) key {
		if m.Step == "" {
			return key{m.Plan, m.Phase}
		}
		for _, st := range r.Steps {
			if st.ID == m.Step && (m.Plan == "" || st.Plan == m.Plan) {
				return key{st.Plan, st.Phase}
			}
		}
		return key{m.Plan, ""}
	}
	for _, stepRows := range []bool{true, false} {
		for i, row := range tl.Rows {
			m := row.Match
			if m.IsZero() || m.at() != AtStart || (m.Step != "") != stepRows || (m.Step == "" && m.Phase == "") {
				continue
			}
			from := res.Rows[i].TargetOff
			to := from
			if i+1 < len(tl.Rows) {
				to = res.Rows[i+1].TargetOff
			}
			if !stepRows {
				own := phaseOf(m)
				for j := i + 1; j < len(tl.Rows); j++ {
					to = res.Rows[j].TargetOff
					n := tl.Rows[j].Match
					if k := phaseOf(n); k.phase != own.phase || (own.plan != "" && k.plan != "" && k.plan != own.plan) || n.at() == AtEnd {
						break
					}
				}
			}
			for k := range r.Steps {
				st := &r.Steps[k]
				if (m.Plan != "" && st.Plan != m.Plan) || st.HasTarget {
					continue
				}
				if (stepRows && st.ID == m.Step) || (!stepRows && st.Phase == m.Phase) {
					st.HasTarget, st.TargetFrom, st.TargetTo = true, from, to
				}
			}
		}
	}
	// A row that only says when something must be done by gives the steps it covers, if
	// still without a target, the window from the row above to it.
	for _, stepRows := range []bool{true, false} {
		for i, row := range tl.Rows {
			m := row.Match
			if m.at() != AtEnd || (m.Step != "") != stepRows || (m.Step == "" && m.Phase == "") {
				continue
			}
			to := res.Rows[i].TargetOff
			from := to
			if i > 0 {
				from = res.Rows[i-1].TargetOff
			}
			for k := range r.Steps {
				st := &r.Steps[k]
				if (m.Plan != "" && st.Plan != m.Plan) || st.HasTarget {
					continue
				}
				if (stepRows && st.ID == m.Step) || (!stepRows && st.Phase == m.Phase) {
					st.HasTarget, st.TargetFrom, st.TargetTo = true, from, to
				}
			}
		}
	}
}

// objectives measures the RTO and the data-loss window on the first run that restores
// service (a failover, else a recovery, else the first run).
func (r *Report) objectives(in Input, list []*kirikaev1.Run) {
	main := list[0]
	for _, kind := range []kirikaev1.RunKind{kirikaev1.RunKind_RUN_KIND_FAILOVER, kirikaev1.RunKind_RUN_KIND_RECOVERY} {
		if i := slices.IndexFunc(list, func(x *kirikaev1.Run) bool { return x.GetKind() == kind }); i >= 0 {
			main = list[i]
			break
		}
	}
	rto, rpo := runs.Objectives(main)
	r.RTO.Objective = objective(in.RTO, rto, DefaultRTO)
	r.RPO.Objective = objective(in.RPO, rpo, DefaultRPO)
	for _, rs := range r.Runs {
		if rs.ID != main.GetId() {
			continue
		}
		if !rs.End.IsZero() && rs.Status == "succeeded" {
			r.RTO.Known, r.RTO.Achieved = true, rs.Duration
			r.RTO.Met = rs.Duration <= r.RTO.Objective
			r.RTO.Basis = fmt.Sprintf("run %s, from the declaration to the end of the plan", rs.ID)
			if main.GetDrill() == kirikaev1.DrillKind_DRILL_KIND_PARTIAL {
				r.RTO.Basis += "; a partial drill skips the DNS switch and region.activate, so this is the time to a built and verified DR environment, without the traffic switch"
			}
		} else {
			r.RTO.Basis = fmt.Sprintf("run %s did not succeed (%s): service was not restored by the plan", rs.ID, rs.Status)
		}
	}
	// A tabletop predicts: a restore it refused as too old says what it would have lost.
	if dl, ok := runs.DataLossOf(main, r.Predicted()); ok {
		r.RPO.Known, r.RPO.Window = true, dl.Window
		r.RPO.Basis = fmt.Sprintf("step %s restored snapshot %s, taken %s before the restore", dl.Step, dl.Snapshot, human.Duration(dl.Window))
		if dl.Refused {
			r.RPO.Basis = fmt.Sprintf("step %s refused snapshot %s as %s old; restored, it would lose that much", dl.Step, dl.Snapshot, human.Duration(dl.Window))
		}
	}
	if r.RPO.Known {
		r.RPO.Met = r.RPO.Window <= r.RPO.Objective
	} else {
		r.RPO.Basis = "no RDS snapshot restore finished in the run"
	}
	if r.Predicted() {
		r.RTO.Basis = "predicted by the tabletop in simulated AWS: " + r.RTO.Basis
		r.RPO.Basis = "predicted by the tabletop in simulated AWS: " + r.RPO.Basis
	}
}

// Predicted reports whether the report's times are a prediction: a tabletop drill ran
// the plan against simulated AWS, so its RTO and data-loss window are what the plan
// would achieve, not what it achieved.
func (r *Report) Predicted() bool { return r.Drill == Tabletop }

// actualWord heads the column of achieved values: "Predicted" for a tabletop.
func (r *Report) actualWord() string {
	if r.Predicted() {
		return "Predicted"
	}
	return "Actual"
}

func objective(override, run, def time.Duration) time.Duration {
	if override > 0 {
		return override
	}
	if run > 0 {
		return run
	}
	return def
}

func (r *Report) readiness(in Input) {
	add := func(when string, reps []*kirikaev1.ReadinessReport) {
		reps = slices.Clone(reps)
		sort.SliceStable(reps, func(i, j int) bool {
			if reps[i].GetRegion() != reps[j].GetRegion() {
				return reps[i].GetRegion() < reps[j].GetRegion()
			}
			return reps[i].GetAgentId() < reps[j].GetAgentId()
		})
		for _, rep := range reps {
			rr := ReadinessResult{When: when, Agent: rep.GetAgentId(), Region: rep.GetRegion(), Checks: len(rep.GetChecks())}
			if rep.GetReportedUnixNano() != 0 {
				rr.At = time.Unix(0, rep.GetReportedUnixNano()).In(r.Location)
			}
			for _, c := range rep.GetChecks() {
				switch c.GetStatus() {
				case kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL:
					rr.Fails = append(rr.Fails, c)
				case kirikaev1.ReadinessStatus_READINESS_STATUS_WARN:
					rr.Warns = append(rr.Warns, c)
				}
			}
			r.Readiness = append(r.Readiness, rr)
		}
	}
	add("start", in.ReadinessStart)
	add("end", in.ReadinessEnd)
}

func drillFromProto(k kirikaev1.DrillKind) DrillKind {
	switch k {
	case kirikaev1.DrillKind_DRILL_KIND_TABLETOP:
		return Tabletop
	case kirikaev1.DrillKind_DRILL_KIND_PARTIAL:
		return Partial
	case kirikaev1.DrillKind_DRILL_KIND_FULL:
		return Full
	}
	return ""
}

// participants are the people (operator identities) who declared, approved, confirmed or
// controlled the runs: from the audit log, and from the runs themselves.
func participants(runs []*kirikaev1.Run, audit []*kirikaev1.AuditEntry) []Participant {
	ids := map[string]bool{}
	for _, r := range runs {
		ids[r.GetId()] = true
	}
	by := map[string]*Participant{}
	note := func(actor, role string, approver bool) {
		name, ok := operatorName(actor)
		if !ok {
			return
		}
		p := by[actor]
		if p == nil {
			p = &Participant{Name: name, Identity: actor}
			by[actor] = p
		}
		if role != "" && !slices.Contains(p.Roles, role) {
			p.Roles = append(p.Roles, role)
		}
		p.Approver = p.Approver || approver
	}
	for _, e := range audit {
		if e.GetResult() != "ok" {
			continue
		}
		var req map[string]any
		if json.Unmarshal([]byte(e.GetRequest()), &req) != nil {
			continue
		}
		str := func(k string) string { s, _ := req[k].(string); return s }
		switch e.GetMethod() {
		case "run.create":
			if ids[str("id")] {
				note(e.GetActor(), "declared "+str("id"), false)
			}
		case "run.approve":
			if ids[str("run_id")] {
				note(e.GetActor(), fmt.Sprintf("approved %s as %s", str("step_id"), str("role")), true)
			}
		case "run.confirm":
			if ids[str("run_id")] {
				note(e.GetActor(), "confirmed "+str("step_id"), false)
			}
		case "run.control":
			if ids[str("run_id")] {
				act := enum.Name(kirikaev1.ControlAction(kirikaev1.ControlAction_value[str("action")]))
				if s := str("step_id"); s != "" {
					act += " " + s
				}
				note(e.GetActor(), act, false)
			}
		}
	}
	// The runs record who declared, approved and confirmed, should the audit be short.
	for _, r := range runs {
		note(r.GetDeclaredBy(), "declared "+r.GetId(), false)
		for _, st := range r.GetSteps() {
			for _, a := range st.GetApprovals() {
				note(a.GetActor(), fmt.Sprintf("approved %s as %s", st.GetId(), a.GetRole()), true)
			}
			for _, c := range st.GetConfirmations() {
				note(c.GetActor(), "confirmed "+st.GetId(), false)
			}
		}
		for _, p := range r.GetParticipants() {
			note(p, "", false)
		}
	}
	out := make([]Participant, 0, len(by))
	for _, p := range by {
		sort.Strings(p.Roles)
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// operatorName returns the name of an operator identity; servers and agents are not people.
func operatorName(actor string) (string, bool) {
	const pfx = "spiffe://kirikae/"
	if actor == "" {
		return "", false
	}
	if !strings.HasPrefix(actor, pfx) {
		return actor, true
	}
	kind, name, ok := strings.Cut(strings.TrimPrefix(actor, pfx), "/")
	if !ok || kind != "operator" {
		return "", false
	}
	return name, true
}
