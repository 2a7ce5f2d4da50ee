package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

func newRunWaitCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "wait RUN STEP",
		Short: "Wait until a step waits for people, or has ended",
		Long: `Wait until STEP of the run waits for people (a checklist to confirm, an approval to
give) or has ended, then print it: a checklist with its items numbered as ` + "`kirikae run confirm`" + `
takes them, an approval with the roles it needs and those it has. It is how a script, or
an operator at a terminal, knows the moment to act; a step that needs nobody is waited for
until it ends.

Exit 0 when the step waits for people, has succeeded or was skipped; 5 when it failed, or
when the run ended before the step got there.`,
		Example: `  kirikae run wait failover-20260101-0900-ab12cd checklist
  kirikae run confirm failover-20260101-0900-ab12cd checklist 1 2 3 4 5 6
  kirikae run wait failover-20260101-0900-ab12cd approve-region-outage`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if cf.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, cf.timeout)
				defer cancel()
			}
			st, err := waitStep(ctx, &cf, args[0], args[1])
			if st == nil {
				return err
			}
			if cf.output == "json" {
				if perr := printJSON(cmd.OutOrStdout(), st); perr != nil {
					return perr
				}
			} else {
				printWaited(cmd.OutOrStdout(), st)
			}
			return err
		},
	}
	cf.Bind(cmd.Flags())
	// Waiting for people takes as long as it takes, unless the caller bounds it.
	cf.timeout = 0
	t := cmd.Flags().Lookup("timeout")
	t.DefValue, t.Usage = "0s", "give up after this long; 0 waits as long as it takes"
	return cmd
}

// waitStep follows run id until step waits for people or has ended, reconnecting to the
// next address when a stream breaks. It returns the step as it was then; the error is an
// exitError (code 5) when the step failed or the run ended before it got there.
func waitStep(ctx context.Context, cf *clientFlags, id, step string) (*kirikaev1.StepState, error) {
	if err := cf.validate(); err != nil {
		return nil, err
	}
	opt, err := cf.dialOption()
	if err != nil {
		return nil, err
	}
	addrs := cf.addrs()
	for i := 0; ctx.Err() == nil; i++ {
		conn, err := grpc.NewClient(addrs[i%len(addrs)], opt)
		if err != nil {
			return nil, fmt.Errorf("address %q: %w", addrs[i%len(addrs)], err)
		}
		stream, err := kirikaev1.NewRunServiceClient(conn).WatchRun(ctx, &kirikaev1.WatchRunRequest{RunId: id})
		for err == nil {
			var msg *kirikaev1.WatchRunResponse
			if msg, err = stream.Recv(); err != nil {
				break
			}
			if st, done, werr := stepWaited(msg.GetRun(), step); done {
				conn.Close()
				return st, werr
			}
		}
		conn.Close()
		if err != nil && !errors.Is(err, io.EOF) && !retryableWatch(err) {
			return nil, describe(addrs[i%len(addrs)], err)
		}
		if rerr := cf.refused(ctx, addrs[i%len(addrs)], err); rerr != nil {
			return nil, rerr
		}
		select {
		case <-ctx.Done():
		case <-timeAfterBackoff(i):
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("run %s: step %s neither waits for people nor has ended after --timeout", id, step)
	}
	return nil, ctx.Err()
}

// stepWaited says whether the wait for step is over in r, and how it ended.
func stepWaited(r *kirikaev1.Run, step string) (*kirikaev1.StepState, bool, error) {
	st := findStepIn(r, step)
	if st == nil {
		ids := make([]string, 0, len(r.GetSteps()))
		for _, s := range r.GetSteps() {
			ids = append(ids, s.GetId())
		}
		return nil, true, fmt.Errorf("run %s has no step %q; its steps: %s", r.GetId(), step, strings.Join(ids, ", "))
	}
	ended := r.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_RUNNING && r.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_PAUSED
	switch st.GetStatus() {
	case kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED, kirikaev1.StepStatus_STEP_STATUS_SKIPPED:
		return st, true, nil
	case kirikaev1.StepStatus_STEP_STATUS_WAITING:
		if !ended { // an aborted run leaves its waiting step so; nobody can act on it now
			return st, true, nil
		}
	case kirikaev1.StepStatus_STEP_STATUS_FAILED:
		return st, true, &exitError{code: exitRunFailed, err: fmt.Errorf("run %s: step %s failed: %s", r.GetId(), step, st.GetError())}
	}
	if ended {
		return st, true, &exitError{code: exitRunFailed, err: fmt.Errorf("run %s ended %s before step %s got there (it is %s): %s",
			r.GetId(), enum.Name(r.GetStatus()), step, enum.Name(st.GetStatus()), r.GetError())}
	}
	return st, false, nil
}

// printWaited says what the step waits for, or how it ended.
func printWaited(w io.Writer, st *kirikaev1.StepState) {
	sp := st.GetSpec()
	switch {
	case st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_WAITING && sp.GetAction() == catalog.Checklist.Name:
		by := strings.Join(sp.GetRoles(), " or ")
		if by == "" {
			by = "any operator" // the control plane's rule for a checklist that names no role
		}
		fmt.Fprintf(w, "step %s waits for its checklist: %d of %d confirmed (by %s)\n", st.GetId(), confirmedCount(st), len(sp.GetItems()), by)
		renderChecklist(w, st)
	case st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_WAITING && sp.GetAction() == catalog.Approval.Name:
		var got []string
		for _, a := range st.GetApprovals() {
			got = append(got, a.GetRole()+"="+a.GetActor())
		}
		fmt.Fprintf(w, "step %s waits for approval: %s (have: %s)\n", st.GetId(), strings.Join(sp.GetRoles(), ", "), strings.Join(got, ", "))
	case st.GetError() != "":
		fmt.Fprintf(w, "step %s: %s: %s\n", st.GetId(), enum.Name(st.GetStatus()), st.GetError())
	default:
		fmt.Fprintf(w, "step %s: %s\n", st.GetId(), enum.Name(st.GetStatus()))
	}
}
