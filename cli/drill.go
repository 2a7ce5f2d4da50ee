package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/kirikae/kirikae/controlplane"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
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

func newDrillStartCommand() *cobra.Command {
	var cf clientFlags
	var kind, planFile, cutbackFile, reason string
	var sets, cutbackSets, participants []string
	var allowMissing bool
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run a drill: --kind full runs the failover, then the cutback",
		Long: `Run a DR drill against the real agents, marked as a drill in the runs and the audit log.

  --kind full   the yearly full-scale drill (フルスケール訓練): the failover plan, then, once it
                has succeeded, the cutback plan. Traffic really moves: the active region and the
                epoch change twice. The two runs are linked, and ` + "`kirikae report`" + ` lists both.

Approval and checklist steps wait for people as in a real failover (` + "`kirikae run approve`" + `,
` + "`kirikae run confirm`" + `). Before each run the control plane takes fresh readiness from every
agent, and again when it ends; a drill refuses to start while a region of the plan has no
connected agent, unless --allow-missing-agent.

Tabletop and partial drills are not available yet.`,
		Example: `  kirikae drill start --kind full --plan deploy/plans/kaigo-failover.yaml \
    --cutback-plan deploy/plans/kaigo-cutback.yaml --participants alice,bob --reason "yearly drill"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if kind != "full" {
				return fmt.Errorf("--kind %q: only full is available (tabletop and partial are not built yet)", kind)
			}
			if planFile == "" || cutbackFile == "" {
				return errors.New("--plan and --cutback-plan are required for a full drill")
			}
			if reason == "" {
				reason = "full-scale drill"
			}
			src, err := os.ReadFile(planFile)
			if err != nil {
				return fmt.Errorf("--plan: %w", err)
			}
			back, err := os.ReadFile(cutbackFile)
			if err != nil {
				return fmt.Errorf("--cutback-plan: %w", err)
			}
			params, err := parseSets(sets)
			if err != nil {
				return err
			}
			backParams, err := parseSets(cutbackSets)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fo, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.DeclareResponse, error) {
				return kirikaev1.NewRunServiceClient(conn).Declare(ctx, &kirikaev1.DeclareRequest{PlanSource: src, Params: params,
					Scenario: "region-outage", Reason: reason, RequestId: controlplane.NewRequestID(),
					Drill: kirikaev1.DrillKind_DRILL_KIND_FULL, Participants: participants, AllowMissingAgent: allowMissing})
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "drill: failover run %s started\n", fo.GetRun().GetId())
			if err := watchRun(cmd.Context(), &cf, fo.GetRun().GetId(), out); err != nil {
				return fmt.Errorf("drill failover: %w", err)
			}
			cb, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.CutbackResponse, error) {
				return kirikaev1.NewRunServiceClient(conn).Cutback(ctx, &kirikaev1.CutbackRequest{PlanSource: back, Params: backParams,
					Reason: reason, RequestId: controlplane.NewRequestID(), Drill: kirikaev1.DrillKind_DRILL_KIND_FULL,
					ParentRunId: fo.GetRun().GetId(), Participants: participants, AllowMissingAgent: allowMissing})
			})
			if err != nil {
				return fmt.Errorf("drill cutback: %w", err)
			}
			fmt.Fprintf(out, "drill: cutback run %s started\n", cb.GetRun().GetId())
			if err := watchRun(cmd.Context(), &cf, cb.GetRun().GetId(), out); err != nil {
				return fmt.Errorf("drill cutback: %w", err)
			}
			fmt.Fprintf(out, "drill complete: failover %s, cutback %s\nreport: kirikae report %s --timeline deploy/drills/full-scale.yaml\n",
				fo.GetRun().GetId(), cb.GetRun().GetId(), fo.GetRun().GetId())
			return nil
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().StringVar(&kind, "kind", "", "full (tabletop and partial are not built yet)")
	cmd.Flags().StringVar(&planFile, "plan", "", "the failover plan")
	cmd.Flags().StringVar(&cutbackFile, "cutback-plan", "", "the cutback plan, for a full drill")
	cmd.Flags().StringVar(&reason, "reason", "", "recorded in the runs and the audit log")
	cmd.Flags().StringSliceVar(&participants, "participants", nil, "people taking part, for the report (comma-separated)")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a param of the failover plan, NAME=VALUE (repeatable)")
	cmd.Flags().StringArrayVar(&cutbackSets, "cutback-set", nil, "override a param of the cutback plan, NAME=VALUE (repeatable)")
	cmd.Flags().BoolVar(&allowMissing, "allow-missing-agent", false, "start although a region of the plan has no connected agent")
	return cmd
}

func newDrillScheduleCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "List the last and next drill of each kind",
		Long: `List the last successful drill of each kind, recorded in the control plane, and when the
next one is due by the runbook's cadence. A kind never drilled is due now.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.ListRunsResponse, error) {
				return kirikaev1.NewRunServiceClient(conn).ListRuns(ctx, &kirikaev1.ListRunsRequest{})
			})
			if err != nil {
				return err
			}
			now := time.Now()
			next := report.NextDrills(lastDrills(resp.GetRuns()), now)
			if cf.output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(next)
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

// lastDrills finds the last successful drill run of each kind.
func lastDrills(runs []*kirikaev1.Run) map[report.DrillKind]time.Time {
	out := map[report.DrillKind]time.Time{}
	for _, r := range runs {
		if r.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
			continue
		}
		kind, err := report.ParseDrillKind(drillKind(r.GetDrill()))
		if err != nil {
			continue
		}
		if t := time.Unix(0, r.GetFinishedUnixNano()); t.After(out[kind]) {
			out[kind] = t
		}
	}
	return out
}
