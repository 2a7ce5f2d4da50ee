package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/kirikae/kirikae/controlplane"
	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/report"
	"github.com/kirikae/kirikae/tabletop"
)

// tabletopSummary is what `drill start --kind tabletop -o json` prints.
type tabletopSummary struct {
	RunID        string                `json:"run_id"`
	SimRunID     string                `json:"sim_run_id"`
	Recorded     bool                  `json:"recorded"`
	Status       string                `json:"status"`
	PredictedRTO string                `json:"predicted_rto"`
	RTOObjective string                `json:"rto_objective"`
	CriticalPath criticalPathJSON      `json:"critical_path"`
	RPOGap       *rpoGapJSON           `json:"rpo_gap"`
	Findings     []tabletop.Finding    `json:"findings"`
	Adjustments  []tabletop.Adjustment `json:"adjustments"`
	Report       string                `json:"report"`
	// ActiveBefore and ActiveAfter are the live region state around the tabletop.
	ActiveBefore *activeJSON `json:"active_before"`
	ActiveAfter  *activeJSON `json:"active_after"`
}

type criticalPathJSON struct {
	Steps    []string `json:"steps"`
	Duration string   `json:"duration"`
}

type rpoGapJSON struct {
	RPO    string `json:"rpo"`
	Window string `json:"window"`
	Gap    bool   `json:"gap"`
	Step   string `json:"step"`
}

type activeJSON struct {
	Active string `json:"active"`
	Epoch  uint64 `json:"epoch"`
}

// tabletopDrill runs the plan in an isolated simulated world (package tabletop), records
// the finished run in the control plane when one is configured, checks that the live
// active region and epoch did not move, and writes the report.
func tabletopDrill(cmd *cobra.Command, cf *clientFlags, in drillInput) error {
	ctx := cmd.Context()
	if in.format != "md" && in.format != "html" {
		return fmt.Errorf("--format %q: want md or html", in.format)
	}
	if err := checkOutput(cf.output); err != nil {
		return err
	}
	if in.timeScale <= 0 || in.timeScale > 1 {
		return fmt.Errorf("--time-scale %g: want a factor in (0, 1]", in.timeScale)
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	progress := stderr
	if cf.output == "json" {
		progress = io.Discard
	}
	connected := len(cf.addrs()) > 0
	sum := tabletopSummary{Findings: []tabletop.Finding{}, Adjustments: []tabletop.Adjustment{}}

	// The live world, before: its readiness, its active region, its drills.
	var live []*kirikaev1.ReadinessReport
	var before *kirikaev1.RegionState
	var sysYAML []byte
	sysFile := in.systemFile
	if sysFile != "" {
		if connected {
			return errors.New("--system is for a standalone tabletop: connected, the tabletop reads the stored system, as a real run would (`kirikae system show`)")
		}
		var err error
		if sysYAML, err = os.ReadFile(sysFile); err != nil {
			return fmt.Errorf("--system: %w", err)
		}
	}
	last := map[report.DrillKind]time.Time{}
	if connected {
		var err error
		if before, err = liveActiveRegion(ctx, cf); err != nil {
			return err
		}
		got, err := rpc(ctx, cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.GetSystemResponse, error) {
			return kirikaev1.NewSystemServiceClient(conn).GetSystem(ctx, &kirikaev1.GetSystemRequest{})
		})
		if err != nil {
			return fmt.Errorf("the stored system: %w", err)
		}
		if got.GetSystem() == nil {
			return errors.New("no system file is stored, so the plan's ${system.…} have nothing to read: store one first with `kirikae system apply FILE`")
		}
		sysYAML, sysFile = got.GetSystem().GetYaml(), got.GetSystem().GetSourceFile()
		rd, err := rpc(ctx, cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.GetReadinessResponse, error) {
			return kirikaev1.NewAgentAdminServiceClient(conn).GetReadiness(ctx, &kirikaev1.GetReadinessRequest{Refresh: true})
		})
		if err != nil {
			return fmt.Errorf("live readiness: %w", err)
		}
		for _, r := range rd.GetRegions() {
			live = append(live, r.GetReports()...)
		}
		list, err := rpc(ctx, cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.ListRunsResponse, error) {
			return kirikaev1.NewRunServiceClient(conn).ListRuns(ctx, &kirikaev1.ListRunsRequest{})
		})
		if err != nil {
			return fmt.Errorf("drills so far: %w", err)
		}
		last = report.LastDrills(list.GetRuns(), 0)
		sum.ActiveBefore = &activeJSON{Active: before.GetActive(), Epoch: before.GetEpoch()}
		fmt.Fprintf(progress, "tabletop: live active region %s, epoch %d; %d live readiness report(s)\n", before.GetActive(), before.GetEpoch(), len(live))
	} else {
		fmt.Fprintf(progress, "tabletop: no control plane configured (--addr, KIRIKAE_ADDR): standalone, not recorded\n")
		if sysFile == "" {
			fmt.Fprintf(progress, "tabletop: no --system given: the isolated world and the plan use the bundled deploy/systems/kaigo.yaml\n")
		}
	}

	res, err := tabletop.Run(ctx, tabletop.Options{PlanSource: in.planSrc, PlanFile: in.planFile, Params: in.params,
		Participants: in.participants, Reason: in.reason, TimeScale: in.timeScale, Progress: progress, Readiness: live,
		Primary: before.GetPrimary(), Secondary: before.GetSecondary(), System: sysYAML, SystemFile: sysFile})
	if res != nil {
		sum.Findings = append(sum.Findings, res.Findings...)
		sum.CriticalPath = criticalPathJSON{Steps: res.CriticalPath, Duration: plan.FormatDuration(res.CriticalPathDuration)}
	}
	if err != nil {
		if res != nil && cf.output == "json" {
			_ = writeJSON(stdout, sum)
		} else if res != nil {
			for _, f := range res.Findings {
				fmt.Fprintf(stderr, "  %s\n", f)
			}
		}
		return err
	}
	run := res.Run
	sum.SimRunID, sum.Status = run.GetId(), enum.Name(run.GetStatus())
	sum.PredictedRTO = plan.FormatDuration(res.PredictedRTO.Round(time.Minute))
	if res.RTO > 0 {
		sum.RTOObjective = plan.FormatDuration(res.RTO)
	}
	sum.Adjustments = res.Adjustments
	if res.RPO.Known {
		sum.RPOGap = &rpoGapJSON{RPO: plan.FormatDuration(res.RPO.RPO), Window: plan.FormatDuration(res.RPO.Window.Round(time.Minute)),
			Gap: res.RPO.Gap(), Step: res.RPO.Step}
	}

	// The live world, after: record the drill, and check nothing moved.
	audit := res.Audit
	if connected {
		rec, err := rpc(ctx, cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.RecordTabletopResponse, error) {
			return kirikaev1.NewRunServiceClient(conn).RecordTabletop(ctx, &kirikaev1.RecordTabletopRequest{Run: run, RequestId: controlplane.NewRequestID()})
		})
		if err != nil {
			return fmt.Errorf("record the tabletop: %w", err)
		}
		audit = res.AuditFor(rec.GetRun().GetId())
		run = rec.GetRun()
		sum.RunID, sum.Recorded = run.GetId(), true
		after, err := liveActiveRegion(ctx, cf)
		if err != nil {
			return err
		}
		sum.ActiveAfter = &activeJSON{Active: after.GetActive(), Epoch: after.GetEpoch()}
		if after.GetActive() != before.GetActive() || after.GetEpoch() != before.GetEpoch() {
			return fmt.Errorf("the live active region changed during the tabletop: %s epoch %d before, %s epoch %d after; a tabletop never moves it, so something else did: check `kirikae region history`",
				before.GetActive(), before.GetEpoch(), after.GetActive(), after.GetEpoch())
		}
		fmt.Fprintf(progress, "tabletop: recorded as run %s; live active region still %s, epoch %d (unchanged)\n", run.GetId(), after.GetActive(), after.GetEpoch())
	}

	// The report.
	notes := []string{fmt.Sprintf("Tabletop drill: plan %s ran in an isolated simulated world (awssim holding system %s in peacetime, time scale %g); nothing real was touched. Times are predicted: each is its distance from the end of the tabletop divided by the time scale.",
		run.GetPlanName(), res.System, res.TimeScale),
		"Simulated participants approved and confirmed, each taking the time the runbook expects of the step; a failed step was recorded and skipped so that every later step was exercised."}
	for _, a := range res.Adjustments {
		notes = append(notes, a.String())
	}
	problems := res.Problems(run.GetId())
	var tl *report.Timeline
	if in.timeline != nil {
		// Rows of plans this tabletop did not run (a cutback's) have nothing to match.
		tl = in.timeline.ForPlans(run.GetPlanName())
	}
	rep, err := report.Build(report.Input{Runs: []*kirikaev1.Run{run}, Audit: audit, ReadinessStart: live, Timeline: tl,
		TimeScale: 1, LastDrills: last, Notes: notes, Problems: problems})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	buf, err := renderReport(rep, in.format)
	if err != nil {
		return err
	}
	switch {
	case in.reportFile != "":
		if err := os.WriteFile(in.reportFile, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
		sum.Report = in.reportFile
	case cf.output == "json":
		return errors.New("--output json prints the summary on standard output: give the report a file with --report FILE")
	default:
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	if cf.output == "json" {
		return writeJSON(stdout, sum)
	}
	objective := sum.RTOObjective
	if objective == "" {
		objective = "none"
	}
	fmt.Fprintf(progress, "tabletop: predicted RTO %s (objective %s; plan critical path %s)\n", sum.PredictedRTO, objective, sum.CriticalPath.Duration)
	if g := sum.RPOGap; g != nil && g.Gap {
		fmt.Fprintf(progress, "tabletop: RPO gap: the newest restorable data is %s old, over the RPO of %s\n", g.Window, g.RPO)
	}
	fmt.Fprintf(progress, "tabletop: %d finding(s)\n", len(sum.Findings))
	for _, f := range sum.Findings {
		fmt.Fprintf(progress, "  %s\n", f)
	}
	if sum.Report != "" {
		fmt.Fprintf(progress, "tabletop: report written to %s\n", sum.Report)
	}
	return nil
}

// activeRegion reads the live region state, linearizably; a pair never initialized is an error.
func liveActiveRegion(ctx context.Context, cf *clientFlags) (*kirikaev1.RegionState, error) {
	resp, err := rpc(ctx, cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.GetActiveRegionResponse, error) {
		return kirikaev1.NewActiveRegionServiceClient(conn).GetActiveRegion(ctx, &kirikaev1.GetActiveRegionRequest{})
	})
	if err != nil {
		return nil, fmt.Errorf("live active region: %w", err)
	}
	if !resp.GetInitialized() {
		return nil, errors.New("the live region pair is not initialized (`kirikae region init`): a tabletop is recorded against it")
	}
	return resp.GetState(), nil
}
