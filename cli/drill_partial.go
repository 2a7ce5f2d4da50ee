package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/kirikae/kirikae/controlplane"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// teardownWait bounds how long the CLI waits for the control plane to start the teardown
// once the drill has ended; the leader creates it on its next tick.
const teardownWait = 2 * time.Minute

// partialDrill runs the plan on the real agents as a partial drill (the steps marked
// "drill: skip" are skipped, so traffic never moves), then follows the teardown run the
// control plane starts when the drill ends. The teardown runs even when the drill failed or
// was aborted: whatever was created by then is removed.
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
	fmt.Fprintf(out, "drill: partial run %s started; %d steps the plan marks drill: skip are skipped (traffic does not move)\n", id, skipped)
	drillErr := watchRun(cmd.Context(), cf, id, out)

	// The drill has ended, one way or another: follow its teardown.
	var teardown string
	var undo int
	deadline := time.Now().Add(teardownWait)
	for teardown == "" {
		got, err := rpc(cmd.Context(), cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.GetRunResponse, error) {
			return kirikaev1.NewRunServiceClient(conn).GetRun(ctx, &kirikaev1.GetRunRequest{RunId: id})
		})
		if err != nil {
			return errors.Join(drillErr, fmt.Errorf("drill %s: %w", id, err))
		}
		undo = 0
		for _, st := range got.GetRun().GetSteps() {
			undo += len(st.GetUndo())
		}
		teardown = got.GetRun().GetTeardownRunId()
		if undo == 0 && teardown == "" {
			fmt.Fprintf(out, "drill: run %s changed nothing that needs undoing; no teardown\n", id)
			return drillErr
		}
		if teardown != "" {
			break
		}
		if time.Now().After(deadline) {
			return errors.Join(drillErr, fmt.Errorf("drill %s reported %d changes to undo, but the control plane started no teardown within %s; see the server log (%s)",
				id, undo, teardownWait, "teardown plan of a partial drill"))
		}
		select {
		case <-cmd.Context().Done():
			return errors.Join(drillErr, cmd.Context().Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
	fmt.Fprintf(out, "drill: teardown run %s started: %d changes to undo, newest first\n", teardown, undo)
	if err := watchRun(cmd.Context(), cf, teardown, out); err != nil {
		return errors.Join(drillErr, fmt.Errorf("teardown: %w; what is left is listed in `kirikae run show %s`", err, teardown))
	}
	if drillErr != nil {
		return fmt.Errorf("drill: %w (its teardown %s succeeded)", drillErr, teardown)
	}
	fmt.Fprintf(out, "drill complete: partial run %s, teardown %s\nreport: kirikae report %s\n", id, teardown, id)
	return nil
}
