package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/kirikae/kirikae/controlplane"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

func newPlanCheckCommand() *cobra.Command {
	var cf clientFlags
	var sets []string
	cmd := &cobra.Command{
		Use:   "check PLAN",
		Short: "Evaluate a plan against live AWS through the agents, before anything relies on it",
		Long: `Evaluate a plan against live AWS: nothing is changed. The control plane resolves every
step's inputs as a run of the plan would now (the stored region pair and system file, the
params you --set), and each region's agent checks the steps that will run in its region with
read-only AWS calls. It finds, for example:

  - an alias target outside the zone given (the seed's Z1BKCTXD74EZPE for a us-west-2 ALB);
  - an ECS task definition that is no revision (family:latest);
  - an output a later step reads that the step will not have (ConfigurationEndpoint of a
    cluster-mode-disabled ElastiCache group);
  - a missing secret, security group, subnet group, target group or topic;
  - a snapshot copy older than the RPO; a KMS key in the wrong region.

Each finding names the step, the plan line and the fix. Inputs that wait on an earlier
step's outputs, or on a param you did not give, are left unchecked, and so are the steps of
a region with no connected agent: the command says which.

Exit codes: 0 no findings; 4 findings (or steps left unchecked, with --strict); 1 the plan
could not be evaluated. The leader also evaluates the plans its server was started with
(kirikae server --evaluate-plan) every 30 minutes, and ` + "`kirikae readiness`" + ` shows their findings.`,
		Example: `  kirikae plan check deploy/plans/kaigo-failover.yaml --set APP_URL=https://api.example.com
  kirikae plan check deploy/plans/kaigo-cutback.yaml -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cf.validate(); err != nil {
				return err
			}
			src, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("plan: %w", err)
			}
			params, err := parseSets(sets)
			if err != nil {
				return err
			}
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.EvaluatePlanResponse, error) {
				return kirikaev1.NewPlanCheckServiceClient(conn).EvaluatePlan(ctx, &kirikaev1.EvaluatePlanRequest{PlanSource: src, PlanFile: args[0], Params: params})
			})
			if err != nil {
				return err
			}
			ev := resp.GetEvaluation()
			if cf.output == "json" {
				if err := printJSON(cmd.OutOrStdout(), ev); err != nil {
					return err
				}
			} else {
				printEvaluation(cmd.OutOrStdout(), ev)
			}
			strict, _ := cmd.Flags().GetBool("strict")
			switch {
			case len(ev.GetFindings()) > 0:
				return &exitError{code: exitNotReady, err: fmt.Errorf("plan %s: %d finding(s)", ev.GetPlanName(), len(ev.GetFindings()))}
			case strict && len(ev.GetUnchecked()) > 0:
				return &exitError{code: exitNotReady, err: fmt.Errorf("plan %s: steps left unchecked in %d region(s) (--strict)", ev.GetPlanName(), len(ev.GetUnchecked()))}
			}
			return nil
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().StringArrayVar(&sets, "set", nil, "a param's value, NAME=VALUE, as declare takes it (repeatable)")
	cmd.Flags().Bool("strict", false, "exit 4 also when steps are left unchecked (a region without a connected agent)")
	return cmd
}

// printEvaluation writes an evaluation for people: the findings, one per line, then what
// was left unchecked.
func printEvaluation(w io.Writer, ev *kirikaev1.PlanEvaluation) {
	for _, f := range ev.GetFindings() {
		fmt.Fprintln(w, controlplane.FormatFinding(ev.GetPlanFile(), f))
	}
	for _, u := range ev.GetUnchecked() {
		where := u.GetRegion()
		if where == "" {
			where = "the plan"
		}
		fmt.Fprintf(w, "unchecked: %s: %s", where, u.GetReason())
		if len(u.GetSteps()) > 0 {
			fmt.Fprintf(w, " (steps %s)", strings.Join(u.GetSteps(), ", "))
		}
		fmt.Fprintln(w)
	}
	verdict := "no findings"
	if n := len(ev.GetFindings()); n > 0 {
		verdict = fmt.Sprintf("%d finding(s)", n)
	}
	fmt.Fprintf(w, "plan %s: %s; %d step(s) checked against system %.12s\n", ev.GetPlanName(), verdict, ev.GetStepsChecked(), ev.GetSystemDigest())
}
