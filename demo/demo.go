// Package demo runs kirikae's main job end to end in one process: a 3-node control plane
// with mTLS on loopback, an agent for each region, and awssim with the seed system's
// peacetime fixture. It declares a region outage with the primary region down, runs the
// bundled failover to the end, brings the primary back and cuts back, then prints a summary.
//
// Demo operators give the approvals, each with a certificate of their own; they are
// labelled as such in the output and the audit log. Nothing here pretends: every AWS step
// goes through the SDK to awssim, every approval through the API.
//
// The world the demo runs in is a [simworld.World], which a tabletop drill builds too.
package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/kirikae/kirikae/awssim"
	"github.com/kirikae/kirikae/deploy"
	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/human"
	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/runs"
	"github.com/kirikae/kirikae/simworld"
)

// Options tune a demo run.
type Options struct {
	// TimeScale multiplies every simulated AWS duration; 0.002 turns the 45-minute RDS
	// restore into 5.4 s.
	TimeScale float64
	// Out receives the progress and the summary.
	Out io.Writer
	// Logger receives component logs; nil discards them.
	Logger *slog.Logger
	// Dir holds certificates and data; empty means a temporary directory, removed after.
	Dir string
}

// Summary is what the demo measured.
type Summary struct {
	Failover, Cutback RunSummary
	// Journal counts awssim's mutating calls by operation.
	Journal map[string]int
	// Mutations are awssim's mutating calls in order, with simulated times.
	Mutations []awssim.JournalEntry
}

// RunSummary describes one finished run.
type RunSummary struct {
	RunID  string
	Status string
	// Makespan is the run's duration in simulated AWS time (wall time / TimeScale).
	Makespan time.Duration
	// PlanCriticalPath is the plan's critical path from the runbook's expected durations.
	PlanCriticalPath time.Duration
	// PlanSequential is the sum of every step's expected duration (the runbook run by hand, in order).
	PlanSequential time.Duration
	// ActualCriticalPath is the longest chain of measured step durations through the needs DAG.
	ActualCriticalPath time.Duration
	// Overhead is Makespan / ActualCriticalPath - 1: time lost between steps.
	Overhead float64
	// DataLoss is the age of the restored snapshot's data (the window of data lost), when
	// the run restored one (HasDataLoss).
	DataLoss    time.Duration
	HasDataLoss bool
	// RTO and RPO are the objectives the run was held to: its system's (runs.Objectives).
	RTO, RPO      time.Duration
	Active        string
	Epoch         uint64
	EpochBefore   uint64
	StepsRetried  int
	StepsSkipped  int
	StepsExecuted int
}

// Run runs the demo and returns its summary.
func Run(ctx context.Context, opts Options) (_ *Summary, err error) {
	sw, err := simworld.Start(ctx, simworld.Options{TimeScale: opts.TimeScale, Out: opts.Out, Logger: opts.Logger, Dir: opts.Dir, People: "demo"})
	w := &world{sw}
	defer func() {
		if cerr := w.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	if err != nil {
		return nil, err
	}
	return w.scenario(ctx)
}

// world is the simulated world the demo plays its scenario in.
type world struct{ *simworld.World }

func (w *world) scenario(ctx context.Context) (*Summary, error) {
	sum := &Summary{}
	primary, dr := w.Regions()[0], w.Regions()[1]
	w.Say("\n== 1. Disaster: %s goes down", primary)
	if err := w.Sim().SetRegionDown(primary, awssim.DownRefuse); err != nil {
		return nil, err
	}
	w.Sim().OpenHealthEvent(awssim.HealthEvent{Region: primary})
	if err := w.WaitAgents(ctx, map[string]bool{primary: false, dr: true}); err != nil {
		return nil, err
	}
	w.Say("   the %s agent reports unhealthy; AWS Health has an open EC2 operational issue", primary)

	failoverSrc, err := deploy.Plan("kaigo-failover.yaml")
	if err != nil {
		return nil, err
	}
	// The application answers on the sim under the system's public record name; the plans
	// find the ALBs, their zones and the hosted zone by the names in the system file.
	app := "http://" + w.Sim().Addr() + "/_app/dns/" + w.System().DNS.Record
	params := map[string]string{
		"APP_URL": app,
		// The newest cross-region snapshot copy is a day old (the seed copies daily, yet
		// promises a 1 h RPO). The demo operators accept the loss knowingly; the summary
		// reports the window.
		"ALLOW_DATA_LOSS": "true",
	}
	w.Say("\n== 2. Declare: region outage, 6 h expected (criterion: 4 h or more)")
	runs := kirikaev1.NewRunServiceClient(w.Conn(w.Operator("sysadmin")))
	decl, err := runs.Declare(ctx, &kirikaev1.DeclareRequest{PlanSource: failoverSrc, Params: params, Scenario: "region-outage",
		ExpectedOutageMs: (6 * time.Hour).Milliseconds(), Reason: "demo: " + primary + " region outage", RequestId: "demo-declare"})
	if err != nil {
		return nil, fmt.Errorf("declare: %w", err)
	}
	w.Say("   run %s: plan %s, %d steps, all pending", decl.GetRun().GetId(), decl.GetRun().GetPlanName(), len(decl.GetRun().GetSteps()))
	w.sayEvaluation(decl.GetRun())
	fo, err := w.Follow(ctx, decl.GetRun().GetId(), simworld.FollowOptions{})
	if err != nil {
		return nil, err
	}
	sum.Failover = w.summarize(fo, failoverSrc)
	w.printRun("failover", sum.Failover)
	if fo.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
		return sum, fmt.Errorf("failover run %s ended %s: %s", fo.GetId(), fo.GetStatus(), fo.GetError())
	}

	w.Say("\n== 3. %s recovers", primary)
	if err := w.Sim().SetRegionDown(primary, ""); err != nil {
		return nil, err
	}
	w.Sim().CloseHealthEvent(primary, "")
	if err := w.WaitAgents(ctx, map[string]bool{primary: true, dr: true}); err != nil {
		return nil, err
	}
	w.Say("   the %s agent is healthy again; the AWS Health event is closed", primary)
	cutSrc, err := deploy.Plan("kaigo-cutback.yaml")
	if err != nil {
		return nil, err
	}
	cutParams := map[string]string{"APP_URL": app}
	w.Say("\n== 4. Cut back to %s", primary)
	cut, err := runs.Cutback(ctx, &kirikaev1.CutbackRequest{PlanSource: cutSrc, Params: cutParams, Reason: "demo: " + primary + " recovered", RequestId: "demo-cutback"})
	if err != nil {
		return nil, fmt.Errorf("cutback: %w", err)
	}
	w.Say("   run %s: plan %s, %d steps, all pending", cut.GetRun().GetId(), cut.GetRun().GetPlanName(), len(cut.GetRun().GetSteps()))
	w.sayEvaluation(cut.GetRun())
	cb, err := w.Follow(ctx, cut.GetRun().GetId(), simworld.FollowOptions{})
	if err != nil {
		return nil, err
	}
	sum.Cutback = w.summarize(cb, cutSrc)
	w.printRun("cutback", sum.Cutback)
	sum.Journal = map[string]int{}
	sum.Mutations = w.Sim().Journal()
	for _, e := range sum.Mutations {
		sum.Journal[e.Operation]++
	}
	w.printSummary(sum)
	if cb.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
		return sum, fmt.Errorf("cutback run %s ended %s: %s", cb.GetId(), cb.GetStatus(), cb.GetError())
	}
	return sum, nil
}

// sayEvaluation says what the plan's evaluation against the simulated account found before
// the run was created.
func (w *world) sayEvaluation(r *kirikaev1.Run) {
	ev := r.GetEvaluation()
	unchecked := 0
	for _, u := range ev.GetUnchecked() {
		unchecked += len(u.GetSteps())
	}
	w.Say("   evaluated before it started (read-only checks by the agents): %d step(s) checked, %d left unchecked, %d finding(s)",
		ev.GetStepsChecked(), unchecked, len(ev.GetFindings()))
}

func (w *world) summarize(r *kirikaev1.Run, src []byte) RunSummary {
	s := RunSummary{RunID: r.GetId(), Status: enum.Name(r.GetStatus()),
		EpochBefore: r.GetEpochBefore(), Epoch: r.GetEpochAfter()}
	scale := func(ns int64) time.Duration { return time.Duration(float64(ns) / w.TimeScale()) }
	s.Makespan = scale(r.GetFinishedUnixNano() - r.GetCreatedUnixNano())
	if pl, err := plan.Parse("plan", src); err == nil {
		_, s.PlanCriticalPath = pl.CriticalPath()
		s.PlanSequential = pl.SequentialSum()
	}
	// The longest chain of measured durations, each step from its first dispatch to its end.
	finish := map[string]int64{}
	var longest int64
	for _, st := range r.GetSteps() { // steps are stored in topological order
		var ready int64
		for _, n := range st.GetSpec().GetNeeds() {
			ready = max(ready, finish[n])
		}
		d := int64(0)
		if st.GetStartedUnixNano() != 0 && st.GetFinishedUnixNano() != 0 {
			d = st.GetFinishedUnixNano() - st.GetStartedUnixNano()
			s.StepsExecuted++
		}
		finish[st.GetId()] = ready + d
		longest = max(longest, ready+d)
		if st.GetAttempt() > 1 {
			s.StepsRetried++
		}
		if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_SKIPPED {
			s.StepsSkipped++
		}
	}
	if dl, ok := runs.DataLossOf(r, false); ok {
		s.DataLoss, s.HasDataLoss = dl.Window, true
	}
	s.RTO, s.RPO = runs.Objectives(r)
	s.ActualCriticalPath = scale(longest)
	if longest > 0 {
		s.Overhead = float64(r.GetFinishedUnixNano()-r.GetCreatedUnixNano())/float64(longest) - 1
	}
	s.Active = w.Region().GetActive()
	return s
}

func (w *world) printRun(name string, s RunSummary) {
	w.Say("   %s %s: %s in %s of AWS time; active region %s, epoch %d -> %d",
		name, s.RunID, s.Status, s.Makespan.Round(time.Second), s.Active, s.EpochBefore, s.Epoch)
}

func (w *world) printSummary(sum *Summary) {
	fo := sum.Failover
	w.Say("\n== Summary")
	w.Say("   simulated RTO        %s  (%s)", fo.Makespan.Round(time.Second), against("objective", fo.RTO, fo.Makespan))
	w.Say("   plan critical path   %s  (the runbook in order: %s)", fo.PlanCriticalPath, fo.PlanSequential)
	w.Say("   makespan vs measured critical path  %s vs %s: overhead %.2f%%", fo.Makespan.Round(time.Second), fo.ActualCriticalPath.Round(time.Second), fo.Overhead*100)
	if fo.HasDataLoss {
		w.Say("   data-loss window     %s  (%s)", human.Duration(fo.DataLoss), against("RPO", fo.RPO, fo.DataLoss))
	}
	w.Say("   after failover       active %s, epoch %d", fo.Active, fo.Epoch)
	w.Say("   after cutback        active %s, epoch %d", sum.Cutback.Active, sum.Cutback.Epoch)
	keys := make([]string, 0, len(sum.Journal))
	for k := range sum.Journal {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, sum.Journal[k]))
	}
	w.Say("   AWS mutations        %s", strings.Join(parts, ", "))
}

// against says how a measured time compares with the plan's objective.
func against(name string, objective, got time.Duration) string {
	switch {
	case objective <= 0:
		return "the plan declares no " + name
	case got <= objective:
		return fmt.Sprintf("%s %s: met", name, human.Duration(objective))
	}
	return fmt.Sprintf("%s %s: NOT met", name, human.Duration(objective))
}
