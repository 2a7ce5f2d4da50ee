package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/kirikae/kirikae/controlplane"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// partialDrill runs the plan on the real agents as a partial drill (the steps marked
// "drill: skip" are skipped once their needs complete, so traffic never moves), then
// follows the teardown run the control plane starts when the drill ends. The teardown
// runs even when the drill failed or was aborted: whatever was created by then is removed.
// A drill preempted by a real declaration has no teardown: what it created is the real
// run's now.
func partialDrill(cmd *cobra.Command, cf *clientFlags, in drillInput) error {
	reason := in.reason
	if reason == "" {
		reason = "partial drill"
	}
	out := cmd.OutOrStdout()
	decl, err := rpc(cmd.Context(), cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.DeclareResponse, error) {
		return kirikaev1.NewRunServiceClient(conn).Declare(ctx, &kirikaev1.DeclareRequest{PlanSource: in.planSrc, Params: in.params,
			Scenario: "region-outage", Reason: reason, RequestId: controlplane.NewRequestID(),
			Drill: kirikaev1.DrillKind_DRILL_KIND_PARTIAL, Participants: in.participants, AllowMissingAgent: in.allowMissing})
	})
	if err != nil {
		return err
	}
	id := decl.GetRun().GetId()
	skipped := 0
	for _, st := range decl.GetRun().GetSteps() {
		if st.GetSkippedBy() == "drill" {
			skipped++
		}
	}
	fmt.Fprintf(out, "drill: partial run %s started; %d steps the plan marks drill: skip are skipped once their needs complete (traffic does not move)\n", id, skipped)
	drillErr := watchRun(cmd.Context(), cf, id, out)
	// The drill has ended, one way or another: follow its teardown.
	if err := followTeardown(cmd.Context(), cf, id, 0, out); err != nil {
		return errors.Join(drillErr, err)
	}
	if drillErr != nil {
		return fmt.Errorf("drill: %w", drillErr)
	}
	fmt.Fprintf(out, "drill complete: partial run %s\nreport: kirikae report %s\n", id, id)
	return nil
}
