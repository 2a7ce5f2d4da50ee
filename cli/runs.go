package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/kirikae/kirikae/controlplane"
	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/plan"
)

func init() {
	register(newDeclareCommand)
	register(newCutbackCommand)
	register(newRunsCommand)
	register(newRunCommand)
}

// parseSets turns --set NAME=VALUE flags into a map, naming the bad one.
func parseSets(sets []string) (map[string]string, error) {
	out := map[string]string{}
	for _, s := range sets {
		name, value, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--set %q: want NAME=VALUE", s)
		}
		out[name] = value
	}
	return out, nil
}

func newDeclareCommand() *cobra.Command {
	var cf clientFlags
	var planFile, scenario, reason, override, preempt, overrideFindings string
	var outage time.Duration
	var sets []string
	var watch bool
	cmd := &cobra.Command{
		Use:   "declare",
		Short: "Declare a disaster and start the failover plan (DR発動)",
		Long: `Declare a disaster and start a failover (or recovery) plan.

The declaration is checked against the activation criteria of the DR runbook:
  region-outage   AWS announces 4 h or more to recover          (sysadmin + manager)
  multi-az        2 or more AZs down, 2 h or more to recover     (sysadmin)
  dc-fire         AWS announces a disaster-level outage          (sysadmin + manager)
  ransomware      data encrypted, more than 8 h to recover       (security + manager)
A declaration that does not meet them is refused unless --override-criteria gives the
reason, which is audited.

One run that may change AWS is live at a time for the region pair: a failover, a cutback,
a recovery plan, a partial or full drill, or a teardown. A real declaration is never held
hostage by a drill: while a drill is live the declaration is refused with the drill's id,
and --preempt DRILL-RUN-ID aborts the drill (audited) and passes everything it created to
the new run, so no teardown of the drill deletes what the failover now uses.

Before the run is created, the plan is evaluated against live AWS, as ` + "`kirikae plan check`" + ` does:
each region's agent checks the steps it will run with read-only calls. A finding (a
resource that is not there, an input AWS would refuse) refuses the declaration, naming the
step, the plan line and the fix, unless --override-findings gives the reason, which is
recorded in the run and the audit log.

The plan then runs on the agents; its approval and checklist steps wait for people:
see ` + "`kirikae run approve`" + ` and ` + "`kirikae run confirm`" + `.`,
		Example: `  kirikae declare --plan deploy/plans/kaigo-failover.yaml --scenario region-outage \
    --expected-outage 6h --reason "AWS Health: us-east-1 EC2 operational issue" --watch`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if planFile == "" || reason == "" {
				return usageError(cmd, errors.New("--plan and --reason are required (and --scenario for a failover plan)"))
			}
			if _, ok := controlplane.Scenarios[scenario]; scenario != "" && !ok {
				return fmt.Errorf("--scenario %q: want region-outage, multi-az, dc-fire or ransomware", scenario)
			}
			src, err := readPlan(planFile)
			if err != nil {
				return err
			}
			params, err := parseSets(sets)
			if err != nil {
				return err
			}
			req := &kirikaev1.DeclareRequest{PlanSource: src, Params: params, Scenario: scenario, ExpectedOutageMs: outage.Milliseconds(),
				Reason: reason, OverrideCriteria: override, RequestId: controlplane.NewRequestID(), PreemptRunId: preempt, OverrideFindings: overrideFindings}
			var resp *kirikaev1.DeclareResponse
			resp, err = rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.DeclareResponse, error) {
				return kirikaev1.NewRunServiceClient(conn).Declare(ctx, req)
			})
			if err != nil {
				return err
			}
			return afterStart(cmd, &cf, resp.GetRun(), watch)
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().StringVar(&planFile, "plan", "", "the plan file, e.g. deploy/plans/kaigo-failover.yaml")
	cmd.Flags().StringVar(&scenario, "scenario", "", "region-outage, multi-az, dc-fire or ransomware (required for a failover plan)")
	cmd.Flags().DurationVar(&outage, "expected-outage", 0, "the recovery estimate, e.g. 6h (from the AWS announcement)")
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the audit log and the incident report")
	cmd.Flags().StringVar(&override, "override-criteria", "", "declare although the criteria are not met, giving the reason (audited)")
	cmd.Flags().StringVar(&preempt, "preempt", "", "the id of the live drill to abort; what it created passes to this run")
	cmd.Flags().StringVar(&overrideFindings, "override-findings", "", "declare although plan evaluation found problems, giving the reason (audited)")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a plan param, NAME=VALUE (repeatable)")
	cmd.Flags().BoolVar(&watch, "watch", false, "watch the run until it ends")
	return cmd
}

func newCutbackCommand() *cobra.Command {
	var cf clientFlags
	var planFile, reason, overrideFindings string
	var sets []string
	var watch bool
	cmd := &cobra.Command{
		Use:   "cutback",
		Short: "Cut back to the primary region once it has recovered (切り戻し)",
		Long: `Start the cutback plan: confirm the primary has recovered, sync the data (snapshot the DR
database, copy it to the primary with the production KMS key, delete production only with a
final snapshot and only after the copy is available and approved, restore production), move
DNS back, and stop the DR environment. The active region returns to the primary and the
epoch grows by one.

Before the run is created the whole plan is evaluated against live AWS (kirikae plan check):
a finding, such as a production load balancer that is not there for the DNS switch back,
refuses the cutback before anything is deleted, unless --override-findings gives the reason.`,
		Example: `  kirikae cutback --plan deploy/plans/kaigo-cutback.yaml --reason "us-east-1 recovered (AWS Health closed)" --watch`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if planFile == "" || reason == "" {
				return usageError(cmd, errors.New("--plan and --reason are required"))
			}
			src, err := readPlan(planFile)
			if err != nil {
				return err
			}
			params, err := parseSets(sets)
			if err != nil {
				return err
			}
			req := &kirikaev1.CutbackRequest{PlanSource: src, Params: params, Reason: reason, RequestId: controlplane.NewRequestID(), OverrideFindings: overrideFindings}
			var resp *kirikaev1.CutbackResponse
			resp, err = rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.CutbackResponse, error) {
				return kirikaev1.NewRunServiceClient(conn).Cutback(ctx, req)
			})
			if err != nil {
				return err
			}
			return afterStart(cmd, &cf, resp.GetRun(), watch)
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().StringVar(&planFile, "plan", "", "the cutback plan file, e.g. deploy/plans/kaigo-cutback.yaml")
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the audit log")
	cmd.Flags().StringVar(&overrideFindings, "override-findings", "", "start although plan evaluation found problems, giving the reason (audited)")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a plan param, NAME=VALUE (repeatable)")
	cmd.Flags().BoolVar(&watch, "watch", false, "watch the run until it ends")
	return cmd
}

func afterStart(cmd *cobra.Command, cf *clientFlags, run *kirikaev1.Run, watch bool) error {
	if watch {
		return watchRun(cmd.Context(), cf, run.GetId(), cmd.OutOrStdout())
	}
	if cf.output == "json" {
		return printJSON(cmd.OutOrStdout(), run)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "run %s started (%s, plan %s, %d steps)\nwatch it: kirikae run watch %s\n",
		run.GetId(), enum.Name(run.GetKind()), run.GetPlanName(), len(run.GetSteps()), run.GetId())
	return nil
}

func newRunsCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List runs: failovers, cutbacks, recoveries and drills",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.ListRunsResponse, error) {
				return kirikaev1.NewRunServiceClient(conn).ListRuns(ctx, &kirikaev1.ListRunsRequest{})
			})
			if err != nil {
				return err
			}
			if cf.output == "json" {
				return printJSON(cmd.OutOrStdout(), resp)
			}
			var rows [][]string
			for _, r := range resp.GetRuns() {
				done := 0
				for _, st := range r.GetSteps() {
					if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED || st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_SKIPPED {
						done++
					}
				}
				rows = append(rows, []string{r.GetId(), enum.Name(r.GetKind()), drillKind(r.GetDrill()), r.GetPlanName(), enum.Name(r.GetStatus()),
					fmt.Sprintf("%d/%d", done, len(r.GetSteps())), formatTime(r.GetCreatedUnixNano()), r.GetDeclaredBy()})
			}
			return table(cmd.OutOrStdout(), []string{"ID", "KIND", "DRILL", "PLAN", "STATUS", "STEPS", "CREATED", "BY"}, rows)
		},
	}
	cf.Bind(cmd.Flags())
	return cmd
}

func newRunCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Show, watch and steer one run",
		Long: `Show, watch and steer one run.

  show RUN                    the run, phase by phase, with checklist items numbered
  watch RUN                   live progress until the run ends
  wait RUN STEP               until the step waits for people (or has ended)
  approve RUN STEP --role R   approve a waiting step under one of your roles
  confirm RUN STEP [N...]     confirm checklist items by number (all when none is named)
  pause RUN | resume RUN      stop and restart dispatching new steps
  retry RUN STEP              run a failed step again
  skip RUN STEP --reason T    mark a step skipped and go on (an approval: admins only)
  abort RUN --reason T        end the run (--undo: then tear down what it created)
  undo RUN                    tear down what an ended run created and still owns`,
	}
	cmd.AddCommand(newRunShowCommand(), newRunWatchCommand(), newRunWaitCommand(), newRunApproveCommand(), newRunConfirmCommand(), newRunUndoCommand(),
		newRunControlCommand("pause", "Stop dispatching new steps (running steps finish)", kirikaev1.ControlAction_CONTROL_ACTION_PAUSE, false),
		newRunControlCommand("resume", "Start dispatching again", kirikaev1.ControlAction_CONTROL_ACTION_RESUME, false),
		newRunControlCommand("retry", "Run a failed step again", kirikaev1.ControlAction_CONTROL_ACTION_RETRY, true),
		newRunControlCommand("skip", "Mark a step skipped so the run goes on", kirikaev1.ControlAction_CONTROL_ACTION_SKIP, true),
		newRunControlCommand("abort", "End the run; running steps are cancelled", kirikaev1.ControlAction_CONTROL_ACTION_ABORT, false))
	return cmd
}

func getRun(ctx context.Context, cf *clientFlags, id string) (*kirikaev1.Run, error) {
	resp, err := rpc(ctx, cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.GetRunResponse, error) {
		return kirikaev1.NewRunServiceClient(conn).GetRun(ctx, &kirikaev1.GetRunRequest{RunId: id})
	})
	return resp.GetRun(), err
}

func newRunShowCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "show RUN",
		Short: "Show a run phase by phase, its checklists numbered, and what it owns",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.GetRunResponse, error) {
				return kirikaev1.NewRunServiceClient(conn).GetRun(ctx, &kirikaev1.GetRunRequest{RunId: args[0]})
			})
			if err != nil {
				return err
			}
			if cf.output == "json" {
				resp.GetRun().PlanSource, resp.GetRun().CutbackPlanSource = nil, nil
				return printJSON(cmd.OutOrStdout(), resp.GetRun())
			}
			renderRun(cmd.OutOrStdout(), resp.GetRun(), time.Now())
			if len(resp.GetResources()) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "\nowns (what a teardown of this run would remove or revert):\n")
				for _, res := range resp.GetResources() {
					fmt.Fprintf(cmd.OutOrStdout(), "  %s  (step %s)\n", res.GetKey(), res.GetStepId())
				}
			}
			return nil
		},
	}
	cf.Bind(cmd.Flags())
	return cmd
}

func newRunWatchCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "watch RUN",
		Short: "Watch a run live until it ends",
		Long: `Watch a run live. On a terminal the view is redrawn in place; otherwise one line is
printed per change, for logs and scripts (-o json prints each new state as JSON).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return watchRun(cmd.Context(), &cf, args[0], cmd.OutOrStdout())
		},
	}
	cf.Bind(cmd.Flags())
	cf.timeout = 0
	return cmd
}

// watchRun follows a run until it ends, reconnecting to the next address on failure.
func watchRun(ctx context.Context, cf *clientFlags, id string, out io.Writer) error {
	if err := cf.validate(); err != nil {
		return err
	}
	opt, err := cf.dialOption()
	if err != nil {
		return err
	}
	tty := isTerminal(out) && cf.output != "json"
	prev := map[string]string{}
	var last *kirikaev1.Run
	addrs := cf.addrs()
	for i := 0; ctx.Err() == nil; i++ {
		conn, err := grpc.NewClient(addrs[i%len(addrs)], opt)
		if err != nil {
			return fmt.Errorf("address %q: %w", addrs[i%len(addrs)], err)
		}
		stream, err := kirikaev1.NewRunServiceClient(conn).WatchRun(ctx, &kirikaev1.WatchRunRequest{RunId: id})
		for err == nil {
			var msg *kirikaev1.WatchRunResponse
			if msg, err = stream.Recv(); err != nil {
				break
			}
			last = msg.GetRun()
			switch {
			case cf.output == "json":
				err = printJSON(out, last)
			case tty:
				fmt.Fprint(out, "\033[H\033[2J")
				renderRun(out, last, time.Now())
			default:
				lines := stepLines(last)
				keys := make([]string, 0, len(lines))
				for k := range lines {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					if prev[k] != lines[k] {
						fmt.Fprintf(out, "%s %s\n", time.Now().UTC().Format("15:04:05"), lines[k])
					}
				}
				prev = lines
			}
		}
		conn.Close()
		if errors.Is(err, io.EOF) && last != nil {
			if last.GetStatus() == kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
				return nil
			}
			return &exitError{code: exitRunFailed, err: fmt.Errorf("run %s ended %s: %s", id, enum.Name(last.GetStatus()), last.GetError())}
		}
		if err != nil && describe("", err) != nil && !retryableWatch(err) {
			return describe(addrs[i%len(addrs)], err)
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

func newRunApproveCommand() *cobra.Command {
	var cf clientFlags
	var role, comment string
	cmd := &cobra.Command{
		Use:   "approve RUN STEP",
		Short: "Approve an approval step under one of your roles",
		Long: `Approve an approval step. Each role the step names must be approved by a different
person holding that role (from the server's --roles file); the same person approving twice
counts once.`,
		Example: `  kirikae run approve failover-20260101-0900-ab12cd approve-activation --role executive`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if role == "" {
				return usageError(cmd, errors.New("--role is required: the role you approve under, e.g. sysadmin, manager, security, executive"))
			}
			req := &kirikaev1.ApproveRequest{RunId: args[0], StepId: args[1], Role: role, Comment: comment, RequestId: controlplane.NewRequestID()}
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.ApproveResponse, error) {
				return kirikaev1.NewRunServiceClient(conn).Approve(ctx, req)
			})
			if err != nil {
				return err
			}
			return printStepAfter(cmd.OutOrStdout(), &cf, resp.GetRun(), args[1])
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().StringVar(&role, "role", "", "the role you approve under")
	cmd.Flags().StringVar(&comment, "comment", "", "a note for the report")
	return cmd
}

func newRunConfirmCommand() *cobra.Command {
	var cf clientFlags
	var note string
	cmd := &cobra.Command{
		Use:   "confirm RUN STEP [N...]",
		Short: "Confirm checklist items by number (every item when none is named)",
		Long: `Confirm checklist items of a waiting checklist step, by their number as
` + "`kirikae run show RUN`" + ` lists them (from 1); with no number, every item. An item confirmed
before keeps its first confirmation. Confirming needs the role the step names (its roles,
or else its owner), and the step must be waiting: a confirmation sent earlier is refused,
with what the step still waits for.`,
		Example: `  kirikae run show failover-20260101-0900-ab12cd          # lists "checklist" items 1 to 6
  kirikae run confirm failover-20260101-0900-ab12cd checklist 1 3
  kirikae run confirm failover-20260101-0900-ab12cd checklist --note "all checked with AWS support"`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &kirikaev1.ConfirmRequest{RunId: args[0], StepId: args[1], Note: note, RequestId: controlplane.NewRequestID()}
			for _, a := range args[2:] {
				n, err := strconv.ParseUint(a, 10, 32)
				if err != nil || n == 0 {
					return fmt.Errorf("item %q: confirm items by their number, 1 or more, as `kirikae run show %s` lists them", a, args[0])
				}
				req.ItemNumbers = append(req.ItemNumbers, uint32(n))
			}
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.ConfirmResponse, error) {
				return kirikaev1.NewRunServiceClient(conn).Confirm(ctx, req)
			})
			if err != nil {
				return err
			}
			if err := printStepAfter(cmd.OutOrStdout(), &cf, resp.GetRun(), args[1]); err != nil || cf.output == "json" {
				return err
			}
			if st := findStepIn(resp.GetRun(), args[1]); st != nil {
				renderChecklist(cmd.OutOrStdout(), st)
			}
			return nil
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().StringVar(&note, "note", "", "a note for the report")
	return cmd
}

func findStepIn(r *kirikaev1.Run, id string) *kirikaev1.StepState {
	for _, st := range r.GetSteps() {
		if st.GetId() == id {
			return st
		}
	}
	return nil
}

func newRunUndoCommand() *cobra.Command {
	var cf clientFlags
	var watch bool
	cmd := &cobra.Command{
		Use:   "undo RUN",
		Short: "Tear down what an ended run created and still owns",
		Long: `Ask the control plane to tear down what an ended run created or changed and still owns:
a teardown run removes it newest first, as the agents reported it, under the guard rails (no
database is deleted without a verified snapshot of its data). What has passed to a later run
(a secret it wrote again, a drill's resources a real failover took over) is left alone, and
so is anything the run found already there.

A run that is still live is refused: stop it with ` + "`kirikae run abort RUN --undo`" + `, which
tears down once its running steps have ended. The teardown is itself a run: one run at a
time may change AWS, so it waits for a live run to end first.`,
		Example: `  kirikae run undo failover-20260101-0900-ab12cd --watch`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			before, err := getRun(cmd.Context(), &cf, args[0])
			if err != nil {
				return err
			}
			req := &kirikaev1.ControlRequest{RunId: args[0], Action: kirikaev1.ControlAction_CONTROL_ACTION_UNDO, RequestId: controlplane.NewRequestID()}
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.ControlResponse, error) {
				return kirikaev1.NewRunServiceClient(conn).Control(ctx, req)
			})
			if err != nil {
				return err
			}
			if cf.output == "json" && !watch {
				resp.GetRun().PlanSource = nil
				return printJSON(cmd.OutOrStdout(), resp.GetRun())
			}
			fmt.Fprintf(cmd.OutOrStdout(), "run %s: teardown due; the control plane starts it now\n", args[0])
			if !watch {
				fmt.Fprintf(cmd.OutOrStdout(), "follow it: kirikae run show %s (its teardown is linked there)\n", args[0])
				return nil
			}
			return followTeardown(cmd.Context(), &cf, args[0], before.GetTeardowns(), cmd.OutOrStdout())
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().BoolVar(&watch, "watch", false, "follow the teardown run until it ends")
	return cmd
}

// teardownWait bounds how long the CLI waits for the control plane to start a teardown
// once it is due and no agent holds a step of the run any more; the leader creates it on
// its next tick.
const teardownWait = 2 * time.Minute

// followTeardown waits for the teardown of run id after the one numbered after (0 for its
// first) and watches it to its end. It says so, and returns nil, when the run turns out
// to have nothing to undo.
func followTeardown(ctx context.Context, cf *clientFlags, id string, after uint32, out io.Writer) error {
	var r *kirikaev1.Run
	var settled time.Time
	for {
		var err error
		if r, err = getRun(ctx, cf, id); err != nil {
			return fmt.Errorf("run %s: %w", id, err)
		}
		if r.GetTeardowns() > after {
			break
		}
		undo := 0
		for _, st := range r.GetSteps() {
			undo += len(st.GetUndo())
		}
		inFlight := slices.ContainsFunc(r.GetSteps(), func(st *kirikaev1.StepState) bool {
			return controlplane.StepHeld(st)
		})
		ended := r.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_RUNNING && r.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_PAUSED
		switch {
		case ended && !inFlight && !r.GetUndoRequested() && r.GetPreemptedBy() != "":
			fmt.Fprintf(out, "run %s was preempted by run %s, which took over what it created; no teardown\n", id, r.GetPreemptedBy())
			return nil
		case ended && !inFlight && !r.GetUndoRequested():
			fmt.Fprintf(out, "run %s owns nothing that needs undoing (%d undo steps reported, none still its own); no teardown\n", id, undo)
			return nil
		case ended && !inFlight && settled.IsZero():
			settled = time.Now()
		case inFlight:
			settled = time.Time{}
		}
		if !settled.IsZero() && time.Since(settled) > teardownWait {
			return fmt.Errorf("run %s has a teardown due, but the control plane started none within %s; see the server log (\"teardown plan\")", id, teardownWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	fmt.Fprintf(out, "teardown run %s started for %s\n", r.GetTeardownRunId(), id)
	if err := watchRun(ctx, cf, r.GetTeardownRunId(), out); err != nil {
		return fmt.Errorf("teardown: %w; what is left is listed in `kirikae run show %s`", err, r.GetTeardownRunId())
	}
	return nil
}

func printStepAfter(w io.Writer, cf *clientFlags, r *kirikaev1.Run, stepID string) error {
	if cf.output == "json" {
		r.PlanSource = nil
		return printJSON(w, r)
	}
	for _, st := range r.GetSteps() {
		if st.GetId() == stepID {
			fmt.Fprintf(w, "step %s: %s\n", stepID, enum.Name(st.GetStatus()))
		}
	}
	return nil
}

func newRunControlCommand(verb, short string, action kirikaev1.ControlAction, needsStep bool) *cobra.Command {
	var cf clientFlags
	var reason string
	var undo bool
	use := verb + " RUN"
	args := cobra.ExactArgs(1)
	if needsStep {
		use, args = verb+" RUN STEP", cobra.ExactArgs(2)
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (action == kirikaev1.ControlAction_CONTROL_ACTION_ABORT || action == kirikaev1.ControlAction_CONTROL_ACTION_SKIP) && reason == "" {
				return usageError(cmd, fmt.Errorf("--reason is required to %s", verb))
			}
			req := &kirikaev1.ControlRequest{RunId: args[0], Action: action, Reason: reason, RequestId: controlplane.NewRequestID(), Undo: undo}
			if needsStep {
				req.StepId = args[1]
			}
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.ControlResponse, error) {
				return kirikaev1.NewRunServiceClient(conn).Control(ctx, req)
			})
			if err != nil {
				return err
			}
			if cf.output == "json" {
				resp.GetRun().PlanSource = nil
				return printJSON(cmd.OutOrStdout(), resp.GetRun())
			}
			fmt.Fprintf(cmd.OutOrStdout(), "run %s: %s\n", args[0], enum.Name(resp.GetRun().GetStatus()))
			if needsStep {
				if st := findStepIn(resp.GetRun(), args[1]); st != nil && st.GetSkipRequested() {
					fmt.Fprintf(cmd.OutOrStdout(), "step %s is skipped once its needs have completed\n", args[1])
				}
			}
			if undo && resp.GetRun().GetUndoRequested() {
				fmt.Fprintf(cmd.OutOrStdout(), "teardown due: it starts once the run's running steps have ended; follow it with kirikae run show %s\n", args[0])
			}
			return nil
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the audit log")
	switch action {
	case kirikaev1.ControlAction_CONTROL_ACTION_ABORT:
		cmd.Flags().BoolVar(&undo, "undo", false, "then tear down what the run created and still owns, newest first (see kirikae run undo)")
	case kirikaev1.ControlAction_CONTROL_ACTION_SKIP:
		cmd.Long = `Mark a step skipped so the run goes on. A step still waiting for its needs is skipped
once they have completed, so nothing after it starts early. Skipping an approval step is an
admin's act: it waives the approval, and is recorded as a waiver with the reason and audited.`
	}
	return cmd
}

// readPlan reads a plan file and checks it here, so a mistake is reported against the
// file and its line before anything is sent (the control plane checks it again).
func readPlan(file string) ([]byte, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--plan: %w", err)
	}
	if _, err := plan.Parse(file, src); err != nil {
		return nil, err
	}
	return src, nil
}
