package cli

import (
	"context"
	"encoding/json"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

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
	cmd.AddCommand(newDrillScheduleCommand())
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
