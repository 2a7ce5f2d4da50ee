package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/kirikae/kirikae/controlplane"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/report"
)

func init() { register(newDrillCommand) }

func newDrillCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drill",
		Short: "DR drills (DR訓練): the schedule of tabletop, partial and full-scale drills",
		Long: `DR drills, following the runbook's cadence:

  tabletop (机上訓練)       quarterly        the whole plan against simulated AWS
  partial (部分訓練)        every six months  the build phases in the DR region, no DNS switch
  full (フルスケール訓練)   yearly           failover then cutback, against a target timeline`,
	}
	cmd.AddCommand(newDrillScheduleCommand(), newDrillStartCommand())
	return cmd
}

// drillInput is what `kirikae drill start` was given, for every kind.
type drillInput struct {
	kind         string
	planFile     string
	planSrc      []byte
	params       map[string]string
	cutbackFile  string
	cutbackSets  []string
	participants []string
	reason       string
	allowMissing bool
	// timelineFile, reportFile and format shape the report a tabletop ends with. timeline is
	// the file parsed and checked against the drill's plans before anything starts.
	timelineFile string
	timeline     *report.Timeline
	reportFile   string
	format       string
	// timeScale runs a tabletop's simulated AWS faster than real time.
	timeScale float64
	// systemFile is the system file a standalone tabletop reads; connected, the stored one.
	systemFile string
}

func newDrillStartCommand() *cobra.Command {
	var cf clientFlags
	var in drillInput
	var sets []string
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run a drill: tabletop (simulated), partial (build and tear down in the DR region) or full",
		Long: `Run a DR drill, marked as a drill in the runs and the audit log.

  --kind tabletop  the quarterly tabletop (机上訓練): the plan runs in an isolated, simulated
                   world (an in-process awssim, control plane and agents), built from the live
                   readiness reports where they say something. Nothing real is touched: the
                   active region and the epoch stay as they are. The drill predicts the
                   timeline and the RTO, and finds plan errors (missing inputs, bad
                   references, guard-rail refusals). It ends with a report (--report FILE),
                   and is recorded in the control plane for the schedule when one is
                   reachable.
  --kind partial   the half-yearly partial drill (部分訓練): the real agents run the plan in the
                   DR region, except the steps the plan marks "drill: skip" (the DNS switch
                   and region.activate): traffic does not move. When the run ends, the control
                   plane starts a teardown run that removes exactly what the drill created or
                   changed, as the agents reported it, and nothing else. DNS still points at
                   production, so point the checks at the DR load balancer (for the bundled
                   plan: --set APP_URL=https://DR-ALB-DNS-NAME).
  --kind full      the yearly full-scale drill (フルスケール訓練): the failover plan, then, once
                   it has succeeded, the cutback plan, which the control plane starts itself
                   (the drill completes even if this command is interrupted). Traffic really
                   moves: the active region and the epoch change twice. The two runs are
                   linked, and ` + "`kirikae report`" + ` lists both.

Approval and checklist steps of partial and full drills wait for people as in a real
failover (` + "`kirikae run approve`" + `, ` + "`kirikae run confirm`" + `); a tabletop plays them with simulated
participants. Before each real run the control plane takes fresh readiness from every agent,
and again when it ends; a partial or full drill refuses to start while a region of the plan
has no connected agent, unless --allow-missing-agent.`,
		Example: `  kirikae drill start --kind tabletop --plan deploy/plans/kaigo-failover.yaml --report tabletop.md
  kirikae drill start --kind partial --plan deploy/plans/kaigo-failover.yaml --participants alice,bob
  kirikae drill start --kind full --plan deploy/plans/kaigo-failover.yaml \
    --cutback-plan deploy/plans/kaigo-cutback.yaml --participants alice,bob --reason "yearly drill"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := drillFlagsFit(cmd, in.kind); err != nil {
				return err
			}
			if in.planFile == "" {
				return usageError(cmd, errors.New("--plan is required"))
			}
			src, err := os.ReadFile(in.planFile)
			if err != nil {
				return fmt.Errorf("--plan: %w", err)
			}
			in.planSrc = src
			if in.params, err = parseSets(sets); err != nil {
				return err
			}
			if in.timelineFile != "" {
				if in.timeline, err = checkDrillTimeline(in); err != nil {
					return err
				}
			}
			switch in.kind {
			case "tabletop":
				return tabletopDrill(cmd, &cf, in)
			case "partial":
				return partialDrill(cmd, &cf, in)
			case "full":
				return fullDrill(cmd, &cf, in)
			case "":
				return usageError(cmd, errors.New("--kind is required: tabletop, partial or full"))
			default:
				return fmt.Errorf("--kind %q: want tabletop, partial or full", in.kind)
			}
		},
	}
	cf.Bind(cmd.Flags())
	fs := cmd.Flags()
	fs.StringVar(&in.kind, "kind", "", "tabletop, partial or full")
	fs.StringVar(&in.planFile, "plan", "", "the failover plan")
	fs.StringVar(&in.cutbackFile, "cutback-plan", "", "the cutback plan, for a full drill")
	fs.StringVar(&in.reason, "reason", "", "recorded in the runs and the audit log")
	fs.StringSliceVar(&in.participants, "participants", nil, "people taking part, for the report (comma-separated)")
	fs.StringArrayVar(&sets, "set", nil, "override a param of the failover plan, NAME=VALUE (repeatable)")
	fs.StringArrayVar(&in.cutbackSets, "cutback-set", nil, "override a param of the cutback plan, NAME=VALUE (repeatable)")
	fs.BoolVar(&in.allowMissing, "allow-missing-agent", false, "start although a region of the plan has no connected agent")
	fs.StringVar(&in.timelineFile, "timeline", "", "target timeline, checked against the plans before the drill starts and set against the times in the report, e.g. deploy/drills/full-scale.yaml")
	fs.StringVar(&in.reportFile, "report", "", "tabletop: write the report here (default: standard output)")
	fs.StringVar(&in.format, "format", "md", "tabletop: report format, md or html")
	fs.StringVar(&in.systemFile, "system", "", "tabletop: the system file the plan reads when no control plane is configured (default: the stored one when connected, else the bundled kaigo.yaml)")
	fs.Float64Var(&in.timeScale, "time-scale", 0.002, "tabletop: real seconds per simulated second (0.002 runs a 45-minute restore in 5.4 s)")
	return cmd
}

// drillOnlyFlags are the flags that mean something to one kind of drill only.
var drillOnlyFlags = map[string][]string{
	"full":     {"cutback-plan", "cutback-set"},
	"tabletop": {"report", "format", "time-scale", "system"},
}

// drillFlagsFit refuses a flag given to a kind of drill it means nothing to, rather than
// ignore it: a --cutback-plan on a partial drill is a mistake worth hearing about.
func drillFlagsFit(cmd *cobra.Command, kind string) error {
	for owner, names := range drillOnlyFlags {
		if owner == kind {
			continue
		}
		for _, name := range names {
			if cmd.Flags().Changed(name) {
				return fmt.Errorf("--%s is only for --kind %s, not %q", name, owner, kind)
			}
		}
	}
	return nil
}

// checkDrillTimeline reads the target timeline and checks it against the drill's plans, so
// a bad time or an unknown step is refused, with its line, before anything starts. Rows
// that name a plan this drill does not run (the cutback rows of the full-scale timeline, in
// a tabletop of the failover) are left for the drill that runs it.
func checkDrillTimeline(in drillInput) (*report.Timeline, error) {
	data, err := os.ReadFile(in.timelineFile)
	if err != nil {
		return nil, fmt.Errorf("--timeline: %w", err)
	}
	tl, err := report.ParseTimeline(in.timelineFile, data)
	if err != nil {
		return nil, err
	}
	fo, err := plan.Parse(in.planFile, in.planSrc)
	if err != nil {
		return nil, fmt.Errorf("--plan: %w", err)
	}
	plans := []*plan.Plan{fo}
	if in.kind == "full" && in.cutbackFile != "" {
		src, err := os.ReadFile(in.cutbackFile)
		if err != nil {
			return nil, fmt.Errorf("--cutback-plan: %w", err)
		}
		cb, err := plan.Parse(in.cutbackFile, src)
		if err != nil {
			return nil, fmt.Errorf("--cutback-plan: %w", err)
		}
		plans = append(plans, cb)
	}
	var names []string
	for _, p := range plans {
		names = append(names, p.Name)
	}
	if err := tl.ForPlans(names...).ValidateAgainst(plans...); err != nil {
		return nil, err
	}
	return tl, nil
}

// fullDrill declares the failover with its cutback attached: the control plane starts the
// cutback itself once the failover has succeeded, so the drill completes even if this
// command is interrupted. The command follows both runs.
func fullDrill(cmd *cobra.Command, cf *clientFlags, in drillInput) error {
	if in.cutbackFile == "" {
		return usageError(cmd, errors.New("--cutback-plan is required for a full drill"))
	}
	reason := in.reason
	if reason == "" {
		reason = "full-scale drill"
	}
	back, err := os.ReadFile(in.cutbackFile)
	if err != nil {
		return fmt.Errorf("--cutback-plan: %w", err)
	}
	backParams, err := parseSets(in.cutbackSets)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fo, err := rpc(cmd.Context(), cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.DeclareResponse, error) {
		return kirikaev1.NewRunServiceClient(conn).Declare(ctx, &kirikaev1.DeclareRequest{PlanSource: in.planSrc, Params: in.params,
			Scenario: "region-outage", Reason: reason, RequestId: controlplane.NewRequestID(),
			Drill: kirikaev1.DrillKind_DRILL_KIND_FULL, Participants: in.participants, AllowMissingAgent: in.allowMissing,
			CutbackPlanSource: back, CutbackParams: backParams})
	})
	if err != nil {
		return err
	}
	id := fo.GetRun().GetId()
	fmt.Fprintf(out, "drill: failover run %s started; the control plane starts the cutback when it succeeds\n", id)
	if err := watchRun(cmd.Context(), cf, id, out); err != nil {
		return fmt.Errorf("drill failover: %w", err)
	}
	var cutback string
	deadline := time.Now().Add(teardownWait)
	for cutback == "" {
		got, err := rpc(cmd.Context(), cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.GetRunResponse, error) {
			return kirikaev1.NewRunServiceClient(conn).GetRun(ctx, &kirikaev1.GetRunRequest{RunId: id})
		})
		if err != nil {
			return fmt.Errorf("drill failover %s: %w", id, err)
		}
		if cutback = got.GetRun().GetCutbackRunId(); cutback != "" {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("drill failover %s succeeded, but the control plane started no cutback within %s; it keeps trying: "+
				"see the server log (\"create the cutback of a full-scale drill\") and `kirikae run show %s`", id, teardownWait, id)
		}
		select {
		case <-cmd.Context().Done():
			return cmd.Context().Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	fmt.Fprintf(out, "drill: cutback run %s started\n", cutback)
	if err := watchRun(cmd.Context(), cf, cutback, out); err != nil {
		return fmt.Errorf("drill cutback: %w", err)
	}
	timeline := " --timeline deploy/drills/full-scale.yaml"
	if in.timelineFile != "" {
		timeline = " --timeline " + in.timelineFile
	}
	fmt.Fprintf(out, "drill complete: failover %s, cutback %s\nreport: kirikae report %s%s\n", id, cutback, id, timeline)
	return nil
}

func newDrillScheduleCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "List the last and next drill of each kind",
		Long: `List the last successful drill of each kind, recorded in the control plane, and when the
next one is due by the runbook's cadence. A kind never drilled is due now. A drill counts
once it has succeeded: a full-scale drill once its failover and its cutback have; a drill
that failed or was aborted, or a partial drill's teardown, does not.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.ListRunsResponse, error) {
				return kirikaev1.NewRunServiceClient(conn).ListRuns(ctx, &kirikaev1.ListRunsRequest{})
			})
			if err != nil {
				return err
			}
			now := time.Now()
			next := report.NextDrills(report.LastDrills(resp.GetRuns(), 0), now)
			if cf.output == "json" {
				return writeJSON(cmd.OutOrStdout(), drillScheduleJSON(next))
			}
			var rows [][]string
			for _, n := range next {
				last, due := "never", n.Next.Format("2006-01-02")
				if !n.Last.IsZero() {
					last = n.Last.Format("2006-01-02")
				}
				if n.Overdue {
					due += " (overdue)"
				}
				rows = append(rows, []string{string(n.Kind), n.Kind.Japanese(), last, due})
			}
			return table(cmd.OutOrStdout(), []string{"KIND", "訓練", "LAST", "NEXT"}, rows)
		},
	}
	cf.Bind(cmd.Flags())
	return cmd
}
