package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/kirikae/kirikae/controlplane"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

func init() { register(newClusterCommand) }

func newClusterCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Administer the control-plane cluster: members, join, remove, snapshots",
	}
	snap := &cobra.Command{Use: "snapshot", Short: "Save or restore the replicated state"}
	snap.AddCommand(newSnapshotSaveCommand(), newSnapshotRestoreCommand())
	cmd.AddCommand(newMembersCommand(), newJoinCommand(), newRemoveCommand(), snap)
	return cmd
}

func printMembers(w io.Writer, format string, members []*kirikaev1.Member, raw *kirikaev1.ListMembersResponse) error {
	if format == "json" {
		if raw == nil {
			raw = &kirikaev1.ListMembersResponse{Members: members}
		}
		return printJSON(w, raw)
	}
	var rows [][]string
	for _, m := range members {
		role := "follower"
		if m.GetLeader() {
			role = "leader"
		}
		rows = append(rows, []string{m.GetId(), role, m.GetSuffrage(), m.GetRaftAddress(), m.GetGrpcAddress(), m.GetHttpAddress()})
	}
	return table(w, []string{"ID", "ROLE", "SUFFRAGE", "RAFT", "GRPC", "HTTP"}, rows)
}

func newMembersCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "members",
		Short: "List the raft members and the leader",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.ListMembersResponse, error) {
				return kirikaev1.NewClusterServiceClient(conn).ListMembers(ctx, &kirikaev1.ListMembersRequest{})
			})
			if err != nil {
				return err
			}
			return printMembers(cmd.OutOrStdout(), cf.output, resp.GetMembers(), resp)
		},
	}
	cf.Bind(cmd.Flags())
	return cmd
}

func newJoinCommand() *cobra.Command {
	var cf clientFlags
	var req kirikaev1.JoinClusterRequest
	cmd := &cobra.Command{
		Use:     "join",
		Short:   "Add a node as a voter (a node started with --join does this itself)",
		Example: `  kirikae cluster join --id cp4 --raft-addr 10.0.0.4:7001 --grpc-addr 10.0.0.4:7002 --http-addr 10.0.0.4:7003`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.Id == "" || req.RaftAddress == "" || req.GrpcAddress == "" {
				return usageError(cmd, errors.New("--id, --raft-addr and --grpc-addr are required"))
			}
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.JoinClusterResponse, error) {
				return kirikaev1.NewClusterServiceClient(conn).JoinCluster(ctx, &req)
			})
			if err != nil {
				return err
			}
			return printMembers(cmd.OutOrStdout(), cf.output, resp.GetMembers(), nil)
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().StringVar(&req.Id, "id", "", "the new node's id")
	cmd.Flags().StringVar(&req.RaftAddress, "raft-addr", "", "the new node's raft address")
	cmd.Flags().StringVar(&req.GrpcAddress, "grpc-addr", "", "the new node's gRPC address")
	cmd.Flags().StringVar(&req.HttpAddress, "http-addr", "", "the new node's HTTP address")
	return cmd
}

func newRemoveCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a node from the cluster",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.RemoveMemberResponse, error) {
				return kirikaev1.NewClusterServiceClient(conn).RemoveMember(ctx, &kirikaev1.RemoveMemberRequest{Id: args[0]})
			})
			if err != nil {
				return err
			}
			return printMembers(cmd.OutOrStdout(), cf.output, resp.GetMembers(), nil)
		},
	}
	cf.Bind(cmd.Flags())
	return cmd
}

func newSnapshotSaveCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "save FILE",
		Short: "Save a consistent copy of the replicated state to FILE",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var data []byte
			var index uint64
			err := cf.call(cmd.Context(), func(ctx context.Context, conn *grpc.ClientConn) error {
				stream, err := kirikaev1.NewClusterServiceClient(conn).SaveSnapshot(ctx, &kirikaev1.SaveSnapshotRequest{})
				if err != nil {
					return err
				}
				data = data[:0]
				for {
					msg, err := stream.Recv()
					if errors.Is(err, io.EOF) {
						return nil
					}
					if err != nil {
						return err
					}
					if msg.GetRaftIndex() != 0 {
						index = msg.GetRaftIndex()
					}
					data = append(data, msg.GetChunk()...)
				}
			})
			if err != nil {
				return err
			}
			// Write to a temporary file and rename, so a crash never leaves half a snapshot.
			tmp := args[0] + ".tmp"
			if err := os.WriteFile(tmp, data, 0o600); err != nil {
				return fmt.Errorf("write %s: %w", tmp, err)
			}
			if err := os.Rename(tmp, args[0]); err != nil {
				return fmt.Errorf("rename %s: %w", tmp, err)
			}
			if cf.output == "json" {
				return printJSON(cmd.OutOrStdout(), &kirikaev1.SaveSnapshotResponse{RaftIndex: index})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "saved %s: %d bytes at raft index %d\n", args[0], len(data), index)
			return nil
		},
	}
	cf.Bind(cmd.Flags())
	return cmd
}

func newSnapshotRestoreCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the replicated state with a saved snapshot (audited)",
		Long: `Replace the region state, its history and the member list with a snapshot saved by
` + "`kirikae cluster snapshot save`" + `. The restore goes through the raft log, so every node applies
it. The audit log is append-only and is not rewound: the restore is added to it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("read snapshot: %w", err)
			}
			if _, err := controlplane.DecodeSnapshot(data); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			reqID := controlplane.NewRequestID()
			var resp *kirikaev1.RestoreSnapshotResponse
			err = cf.call(cmd.Context(), func(ctx context.Context, conn *grpc.ClientConn) error {
				stream, err := kirikaev1.NewClusterServiceClient(conn).RestoreSnapshot(ctx)
				if err != nil {
					return err
				}
				for off := 0; off < len(data); off += 256 << 10 {
					end := min(off+256<<10, len(data))
					if err := stream.Send(&kirikaev1.RestoreSnapshotRequest{Chunk: data[off:end], RequestId: reqID}); err != nil {
						_, err = stream.CloseAndRecv()
						return err
					}
				}
				resp, err = stream.CloseAndRecv()
				return err
			})
			if err != nil {
				return err
			}
			if cf.output == "json" {
				return printJSON(cmd.OutOrStdout(), resp)
			}
			st := resp.GetState()
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s at raft index %d: active %s, epoch %s\n", args[0], resp.GetRaftIndex(),
				st.GetActive(), strconv.FormatUint(st.GetEpoch(), 10))
			return nil
		},
	}
	cf.Bind(cmd.Flags())
	return cmd
}
