package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/kirikae/kirikae/controlplane"
	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

func init() { register(newRegionCommand) }

func newRegionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "region",
		Short: "Read and administer the active region",
		Long: `The control plane is the single source of truth for which region is live. It holds the
region pair, the active region, the epoch (a fencing token that grows by one on every change)
and the mode: normal, failing-over, failed-over or cutting-back.`,
	}
	cmd.AddCommand(newRegionInitCommand(), newRegionGetCommand(), newRegionSetCommand(), newRegionHistoryCommand())
	return cmd
}

func newRegionInitCommand() *cobra.Command {
	var cf clientFlags
	var primary, secondary string
	cmd := &cobra.Command{
		Use:     "init",
		Short:   "Set the region pair, once: active = primary, epoch 1",
		Example: `  kirikae region init --primary us-east-1 --secondary us-west-2`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if primary == "" || secondary == "" {
				return usageError(cmd, errors.New("--primary and --secondary are required"))
			}
			req := &kirikaev1.InitRegionRequest{Primary: primary, Secondary: secondary, RequestId: controlplane.NewRequestID()}
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.InitRegionResponse, error) {
				return kirikaev1.NewRegionAdminServiceClient(conn).InitRegion(ctx, req)
			})
			if err != nil {
				return err
			}
			return printRegion(cmd.OutOrStdout(), cf.output, resp.GetState(), resp.GetRaftIndex(), resp)
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().StringVar(&primary, "primary", "", "the peacetime region, e.g. us-east-1")
	cmd.Flags().StringVar(&secondary, "secondary", "", "the disaster-recovery region, e.g. us-west-2")
	return cmd
}

func newRegionGetCommand() *cobra.Command {
	var cf clientFlags
	var stale, watch bool
	var from uint64
	cmd := &cobra.Command{
		Use:   "get",
		Short: "Show the active region (linearizable by default)",
		Long: `Show the active region, epoch and mode.

By default the read is linearizable: the node confirms with the leader before it answers.
--stale answers from the node's own replica, even without a leader, and says how long ago
the node last heard from the leader. --watch streams every change until interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if watch {
				return watchRegion(cmd.Context(), &cf, from, out)
			}
			c := kirikaev1.Consistency_CONSISTENCY_LINEARIZABLE
			if stale {
				c = kirikaev1.Consistency_CONSISTENCY_STALE
			}
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.GetActiveRegionResponse, error) {
				return kirikaev1.NewActiveRegionServiceClient(conn).GetActiveRegion(ctx, &kirikaev1.GetActiveRegionRequest{Consistency: c})
			})
			if err != nil {
				return err
			}
			if cf.output == "json" {
				return printJSON(out, resp)
			}
			if !resp.GetInitialized() {
				fmt.Fprintln(out, "region pair not initialized: run `kirikae region init --primary R --secondary R`")
				return nil
			}
			st := resp.GetState()
			fresh := "linearizable"
			if stale {
				fresh = fmt.Sprintf("stale, %dms since leader contact", resp.GetStalenessMs())
				if resp.GetStalenessMs() < 0 {
					fresh = "stale, never heard from a leader"
				}
			}
			return table(out, []string{"ACTIVE", "EPOCH", "MODE", "PRIMARY", "SECONDARY", "INDEX", "NODE", "READ"},
				[][]string{{st.GetActive(), strconv.FormatUint(st.GetEpoch(), 10), enum.Name(st.GetMode()), st.GetPrimary(),
					st.GetSecondary(), strconv.FormatUint(resp.GetRaftIndex(), 10), resp.GetNodeId(), fresh}})
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().BoolVar(&stale, "stale", false, "answer from the node's replica without asking the leader")
	cmd.Flags().BoolVar(&watch, "watch", false, "stream every change until interrupted")
	cmd.Flags().Uint64Var(&from, "from-index", 0, "with --watch: resume after this raft index")
	return cmd
}

// watchRegion streams changes, reconnecting (to the next address) with the last index seen.
func watchRegion(ctx context.Context, cf *clientFlags, from uint64, out io.Writer) error {
	if err := cf.validate(); err != nil {
		return err
	}
	opt, err := cf.dialOption()
	if err != nil {
		return err
	}
	addrs := cf.addrs()
	for i := 0; ctx.Err() == nil; i++ {
		conn, err := grpc.NewClient(addrs[i%len(addrs)], opt)
		if err != nil {
			return fmt.Errorf("address %q: %w", addrs[i%len(addrs)], err)
		}
		stream, err := kirikaev1.NewActiveRegionServiceClient(conn).WatchActiveRegion(ctx, &kirikaev1.WatchActiveRegionRequest{FromIndex: from})
		for err == nil {
			var msg *kirikaev1.WatchActiveRegionResponse
			if msg, err = stream.Recv(); err != nil {
				break
			}
			from = msg.GetIndex()
			if cf.output == "json" {
				err = printJSON(out, msg)
			} else {
				st := msg.GetState()
				_, err = fmt.Fprintf(out, "index=%d active=%s epoch=%d mode=%s by=%s reason=%q\n", msg.GetIndex(), st.GetActive(),
					st.GetEpoch(), enum.Name(st.GetMode()), st.GetChangedBy(), st.GetReason())
			}
		}
		conn.Close()
		if ctx.Err() != nil {
			return nil
		}
		if rerr := cf.refused(ctx, addrs[i%len(addrs)], err); rerr != nil {
			return rerr
		}
		select {
		case <-ctx.Done():
		case <-timeAfterBackoff(i):
		}
	}
	return nil
}

func newRegionSetCommand() *cobra.Command {
	var cf clientFlags
	var force bool
	var reason string
	cmd := &cobra.Command{
		Use:   "set REGION",
		Short: "Break-glass: move the active region by hand (audited, epoch + 1)",
		Long: `Move the active region without a plan. This is the audited break-glass for when plans
cannot run. It needs --force and a --reason, grows the epoch by one, and is recorded in the
audit log with your identity. Only admins may call it.`,
		Example: `  kirikae region set us-west-2 --force --reason "INC-1234: us-east-1 outage, plans unavailable"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force {
				return errors.New("region set is the break-glass: add --force to confirm (and --reason)")
			}
			if reason == "" {
				return usageError(cmd, errors.New("--reason is required: it goes into the audit log"))
			}
			req := &kirikaev1.SetRegionRequest{Region: args[0], Force: force, Reason: reason, RequestId: controlplane.NewRequestID()}
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.SetRegionResponse, error) {
				return kirikaev1.NewRegionAdminServiceClient(conn).SetRegion(ctx, req)
			})
			if err != nil {
				return err
			}
			return printRegion(cmd.OutOrStdout(), cf.output, resp.GetState(), resp.GetRaftIndex(), resp)
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().BoolVar(&force, "force", false, "confirm the break-glass")
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the audit log (required)")
	return cmd
}

func newRegionHistoryCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List every change of the active region",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.ListRegionHistoryResponse, error) {
				return kirikaev1.NewRegionAdminServiceClient(conn).ListRegionHistory(ctx, &kirikaev1.ListRegionHistoryRequest{})
			})
			if err != nil {
				return err
			}
			if cf.output == "json" {
				return printJSON(cmd.OutOrStdout(), resp)
			}
			var rows [][]string
			for _, c := range resp.GetChanges() {
				st := c.GetState()
				rows = append(rows, []string{strconv.FormatUint(c.GetIndex(), 10), formatTime(st.GetChangedUnixNano()), st.GetActive(),
					strconv.FormatUint(st.GetEpoch(), 10), enum.Name(st.GetMode()), st.GetChangedBy(), st.GetReason()})
			}
			return table(cmd.OutOrStdout(), []string{"INDEX", "TIME", "ACTIVE", "EPOCH", "MODE", "BY", "REASON"}, rows)
		},
	}
	cf.Bind(cmd.Flags())
	return cmd
}

// timeAfterBackoff waits a little longer after each failed attempt, up to a second.
func timeAfterBackoff(attempt int) <-chan time.Time {
	return time.After(min(time.Duration(attempt+1)*100*time.Millisecond, time.Second))
}

func printRegion(w io.Writer, format string, st *kirikaev1.RegionState, idx uint64, raw proto.Message) error {
	if format == "json" {
		return printJSON(w, raw)
	}
	return table(w, []string{"ACTIVE", "EPOCH", "MODE", "PRIMARY", "SECONDARY", "INDEX"},
		[][]string{{st.GetActive(), strconv.FormatUint(st.GetEpoch(), 10), enum.Name(st.GetMode()), st.GetPrimary(), st.GetSecondary(), strconv.FormatUint(idx, 10)}})
}
