package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/kirikae/kirikae/controlplane"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
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
	var planFile, scenario, reason, override string
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
reason, which is audited. One failover or cutback runs at a time.

The plan then runs on the agents; its approval and checklist steps wait for people:
see ` + "`kirikae run approve`" + ` and ` + "`kirikae run confirm`" + `.`,
		Example: `  kirikae declare --plan deploy/plans/kaigo-failover.yaml --scenario region-outage \
    --expected-outage 6h --reason "AWS Health: us-east-1 EC2 operational issue" --watch`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if planFile == "" || reason == "" {
				return errors.New("--plan and --reason are required (and --scenario for a failover plan)")
			}
			if _, ok := controlplane.Scenarios[scenario]; scenario != "" && !ok {
				return fmt.Errorf("--scenario %q: want region-outage, multi-az, dc-fire or ransomware", scenario)
			}
			src, err := os.ReadFile(planFile)
			if err != nil {
				return fmt.Errorf("--plan: %w", err)
			}
			params, err := parseSets(sets)
			if err != nil {
				return err
			}
			req := &kirikaev1.DeclareRequest{PlanSource: src, Params: params, Scenario: scenario, ExpectedOutageMs: outage.Milliseconds(),
				Reason: reason, OverrideCriteria: override, RequestId: controlplane.NewRequestID()}
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
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a plan param, NAME=VALUE (repeatable)")
	cmd.Flags().BoolVar(&watch, "watch", false, "watch the run until it ends")
	return cmd
}

func newCutbackCommand() *cobra.Command {
	var cf clientFlags
	var planFile, reason string
	var sets []string
	var watch bool
	cmd := &cobra.Command{
		Use:   "cutback",
		Short: "Cut back to the primary region once it has recovered (切り戻し)",
		Long: `Start the cutback plan: confirm the primary has recovered, sync the data (snapshot the DR
database, copy it to the primary with the production KMS key, delete production only with a
final snapshot and only after the copy is available and approved, restore production), move
DNS back, and stop the DR environment. The active region returns to the primary and the
epoch grows by one.`,
		Example: `  kirikae cutback --plan deploy/plans/kaigo-cutback.yaml --reason "us-east-1 recovered (AWS Health closed)" --watch`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if planFile == "" || reason == "" {
				return errors.New("--plan and --reason are required")
			}
			src, err := os.ReadFile(planFile)
			if err != nil {
				return fmt.Errorf("--plan: %w", err)
			}
			params, err := parseSets(sets)
			if err != nil {
				return err
			}
			req := &kirikaev1.CutbackRequest{PlanSource: src, Params: params, Reason: reason, RequestId: controlplane.NewRequestID()}
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
		run.GetId(), runKind(run.GetKind()), run.GetPlanName(), len(run.GetSteps()), run.GetId())
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
				rows = append(rows, []string{r.GetId(), runKind(r.GetKind()), drillKind(r.GetDrill()), r.GetPlanName(), runStatus(r.GetStatus()),
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

  show RUN                  the run, phase by phase
  watch RUN                 live progress until the run ends
  approve RUN STEP --role R approve a step under one of your roles
  confirm RUN STEP [ITEM]   confirm checklist items (all when none is named)
  pause RUN | resume RUN    stop and restart dispatching new steps
  retry RUN STEP            run a failed step again
  skip RUN STEP --reason T  mark a step skipped and go on
  abort RUN --reason T      end the run`,
	}
	cmd.AddCommand(newRunShowCommand(), newRunWatchCommand(), newRunApproveCommand(), newRunConfirmCommand(),
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
		Short: "Show a run phase by phase",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := getRun(cmd.Context(), &cf, args[0])
			if err != nil {
				return err
			}
			if cf.output == "json" {
				r.PlanSource = nil
				return printJSON(cmd.OutOrStdout(), r)
			}
			renderRun(cmd.OutOrStdout(), r, time.Now())
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
			return &exitError{code: 2, err: fmt.Errorf("run %s ended %s: %s", id, runStatus(last.GetStatus()), last.GetError())}
		}
		if err != nil && describe("", err) != nil && !retryableWatch(err) {
			return describe(addrs[i%len(addrs)], err)
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
		Example: `  kirikae run approve failover-20260101-0900-ab12cd approve-activation --role manager`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if role == "" {
				return errors.New("--role is required: the role you approve under, e.g. sysadmin, manager, security, executive")
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
		Use:   "confirm RUN STEP [ITEM...]",
		Short: "Confirm checklist items (every item when none is named)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &kirikaev1.ConfirmRequest{RunId: args[0], StepId: args[1], Items: args[2:], Note: note, RequestId: controlplane.NewRequestID()}
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.ConfirmResponse, error) {
				return kirikaev1.NewRunServiceClient(conn).Confirm(ctx, req)
			})
			if err != nil {
				return err
			}
			return printStepAfter(cmd.OutOrStdout(), &cf, resp.GetRun(), args[1])
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().StringVar(&note, "note", "", "a note for the report")
	return cmd
}

func printStepAfter(w io.Writer, cf *clientFlags, r *kirikaev1.Run, stepID string) error {
	if cf.output == "json" {
		r.PlanSource = nil
		return printJSON(w, r)
	}
	for _, st := range r.GetSteps() {
		if st.GetId() == stepID {
			fmt.Fprintf(w, "step %s: %s\n", stepID, stepStatus(st.GetStatus()))
		}
	}
	return nil
}

func newRunControlCommand(verb, short string, action kirikaev1.ControlAction, needsStep bool) *cobra.Command {
	var cf clientFlags
	var reason string
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
				return fmt.Errorf("--reason is required to %s", verb)
			}
			req := &kirikaev1.ControlRequest{RunId: args[0], Action: action, Reason: reason, RequestId: controlplane.NewRequestID()}
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
			fmt.Fprintf(cmd.OutOrStdout(), "run %s: %s\n", args[0], runStatus(resp.GetRun().GetStatus()))
			return nil
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the audit log")
	return cmd
}
