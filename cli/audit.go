package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/kirikae/kirikae/controlplane"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

func init() { register(newAuditCommand) }

func newAuditCommand() *cobra.Command {
	var cf clientFlags
	var since time.Duration
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Print the audit log and verify its hash chain",
		Long: `Print every mutating request the control plane applied: who, when, what, and the result.
Each entry carries the SHA-256 of the one before it; the whole chain is verified on every
call, and the command fails if any entry was altered or removed.

Calls refused for lack of a role, or from the wrong kind of identity, are audited too, with
the result "refused: " and the reason. A caller's refusals are itemized up to 10 a minute;
the rest are audited as a count, method "(more refusals)". Calls without a valid
certificate name no one and are not audited.`,
		Example: `  kirikae audit --since 24h
  kirikae audit -o json | jq '.entries[] | select(.method=="region.set")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The chain is verified from its start, so fetch it all and filter here.
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.ListAuditResponse, error) {
				return kirikaev1.NewAuditServiceClient(conn).ListAudit(ctx, &kirikaev1.ListAuditRequest{})
			})
			if err != nil {
				return err
			}
			if seq, err := controlplane.VerifyAuditChain(resp.GetEntries()); err != nil {
				return &exitError{code: exitAuditBroken, err: fmt.Errorf("audit chain broken at entry %d: %w", seq, err)}
			}
			cutoff := int64(0)
			if since > 0 {
				cutoff = time.Now().Add(-since).UnixNano()
			}
			shown := &kirikaev1.ListAuditResponse{Total: resp.GetTotal()}
			for _, e := range resp.GetEntries() {
				if e.GetTimeUnixNano() >= cutoff {
					shown.Entries = append(shown.Entries, e)
				}
			}
			if cf.output == "json" {
				return printJSON(cmd.OutOrStdout(), shown)
			}
			var rows [][]string
			for _, e := range shown.GetEntries() {
				rows = append(rows, []string{strconv.FormatUint(e.GetSeq(), 10), formatTime(e.GetTimeUnixNano()), e.GetActor(),
					e.GetMethod(), e.GetResult(), e.GetRequest()})
			}
			if err := table(cmd.OutOrStdout(), []string{"SEQ", "TIME", "ACTOR", "METHOD", "RESULT", "REQUEST"}, rows); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d of %d entries shown; hash chain verified\n", len(shown.GetEntries()), resp.GetTotal())
			return nil
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().DurationVar(&since, "since", 0, "only entries newer than this, e.g. 24h (the whole chain is still verified)")
	return cmd
}
