package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

func init() {
	register(newAgentsCommand)
	register(newReadinessCommand)
}

func newAgentsCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "agents",
		Short: "List agents: region, version, connection, last heartbeat and health",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.ListAgentsResponse, error) {
				return kirikaev1.NewAgentAdminServiceClient(conn).ListAgents(ctx, &kirikaev1.ListAgentsRequest{})
			})
			if err != nil {
				return err
			}
			if cf.output == "json" {
				return printJSON(cmd.OutOrStdout(), resp)
			}
			var rows [][]string
			now := time.Now()
			for _, a := range resp.GetAgents() {
				conn, hb, health := "no", "-", "-"
				if a.GetConnected() {
					conn = "yes (" + a.GetConnectedTo() + ")"
					hb = now.Sub(time.Unix(0, a.GetLastHeartbeatUnixNano())).Round(100*time.Millisecond).String() + " ago"
					health = "healthy"
					if !a.GetHealth().GetHealthy() {
						health = "UNHEALTHY: " + a.GetHealth().GetCause()
					}
				}
				rows = append(rows, []string{a.GetInfo().GetId(), a.GetInfo().GetRegion(), a.GetInfo().GetVersion(), conn, hb, health})
			}
			return table(cmd.OutOrStdout(), []string{"ID", "REGION", "VERSION", "CONNECTED", "HEARTBEAT", "HEALTH"}, rows)
		},
	}
	cf.Bind(cmd.Flags())
	return cmd
}

func newReadinessCommand() *cobra.Command {
	var cf clientFlags
	var region string
	var refresh, verbose bool
	cmd := &cobra.Command{
		Use:   "readiness",
		Short: "Is each region ready to take over? Ready, or not ready because ...",
		Long: `Show the readiness that agents report for each region: the DR network, the ALB and
ECS cluster, the RDS groups, the age of the newest snapshot copy and EFS recovery point
against the RPO, backup retention and PITR, S3 replication, the secrets and the DNS record.

--refresh asks every connected agent to check again now and waits for the answers (up
to 30 s); the checks shown then carry the time of this refresh, and every agent that did
not answer is named, with why (not connected, or no answer in time).
The command exits 4 when a region shown is not ready, so scripts can gate on it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.GetReadinessResponse, error) {
				return kirikaev1.NewAgentAdminServiceClient(conn).GetReadiness(ctx, &kirikaev1.GetReadinessRequest{Region: region, Refresh: refresh})
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			notReady := 0
			if cf.output == "json" {
				if err := printJSON(out, resp); err != nil {
					return err
				}
			}
			if cf.output != "json" {
				for _, u := range resp.GetUnanswered() {
					fmt.Fprintf(out, "no fresh answer from agent %s (%s): %s\n", u.GetAgentId(), u.GetRegion(), u.GetReason())
				}
			}
			for _, rr := range resp.GetRegions() {
				if !rr.GetReady() {
					notReady++
				}
				if cf.output == "json" {
					continue
				}
				if rr.GetReady() {
					fmt.Fprintf(out, "%s: ready\n", rr.GetRegion())
				} else {
					fmt.Fprintf(out, "%s: not ready, because:\n", rr.GetRegion())
				}
				for _, why := range rr.GetReasons() {
					fmt.Fprintf(out, "  - %s\n", why)
				}
				if verbose {
					for _, rep := range rr.GetReports() {
						var rows [][]string
						for _, c := range rep.GetChecks() {
							rows = append(rows, []string{c.GetName(), enum.Name(c.GetStatus()), c.GetObserved(), c.GetDetail()})
						}
						fmt.Fprintf(out, "  agent %s, reported %s\n", rep.GetAgentId(), formatTime(rep.GetReportedUnixNano()))
						if err := table(out, []string{"  CHECK", "STATUS", "OBSERVED", "DETAIL"}, prefixRows(rows)); err != nil {
							return err
						}
					}
				}
			}
			if notReady > 0 {
				return &exitError{code: exitNotReady, err: fmt.Errorf("%d region(s) not ready", notReady)}
			}
			return nil
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().StringVar(&region, "region", "", "only this region")
	cmd.Flags().BoolVar(&refresh, "refresh", false, "ask the agents to check again now")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "show every check")
	return cmd
}

func prefixRows(rows [][]string) [][]string {
	for _, r := range rows {
		r[0] = "  " + r[0]
	}
	return rows
}
