package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kirikae/kirikae/iampolicy/agentpolicy"
	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/system"
)

// planIAMFlags are the flags of `kirikae plan iam-policy`.
type planIAMFlags struct {
	system      string
	region      string
	outDir      string
	sets        []string
	undo        bool
	noReadiness bool
	why         bool
}

func (f *planIAMFlags) Bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.system, "system", "", "the system file the plans read (required)")
	fs.StringVar(&f.region, "region", "", "the region whose agent the policy is for: one of the system's pair")
	fs.StringVar(&f.outDir, "out-dir", "", "write one policy per region of the pair, DIR/SYSTEMFILE-REGION.json, instead of printing one")
	fs.StringArrayVar(&f.sets, "set", nil, "plan parameter NAME=VALUE, as declare --set gives it (repeatable)")
	fs.BoolVar(&f.undo, "undo", false, "also allow the undo actions of the steps (a drill's teardown, run undo)")
	fs.BoolVar(&f.noReadiness, "no-readiness", false, "leave out the agent's readiness checks")
	fs.BoolVar(&f.why, "why", false, "print each statement with the steps, plan checks and readiness checks that need it, instead of the policy")
}

func newPlanIAMPolicyCommand() *cobra.Command {
	f := &planIAMFlags{}
	cmd := &cobra.Command{
		Use:   "iam-policy PLAN... --system FILE --region REGION",
		Short: "Print the least-privilege IAM policy of a region's agent for the plans it runs",
		Long: `Print the least-privilege IAM policy (a JSON policy document, Version 2012-10-17) that the
agent of REGION needs to run the plans against the system file: every AWS action its steps
call (the steps the plans run in REGION, their regions resolved against the system's pair),
the read-only plan checks of those steps (kirikae plan check, declare, a cutback's
preflight), the agent's readiness checks of REGION's part of the system file, and its
health probe on every heartbeat (ec2:DescribeVpcs and AWS Health's open events).

Each action is allowed on the resources it touches, as narrowly as AWS lets a policy name
them from what the system file and the plans say before a run: the DB instance, snapshots
and subnet group an RDS restore names; a secret as NAME-?????? (Secrets Manager's suffix);
a snapshot named after the run's start time as NAME-*; a Route 53 change, whose zone is
found by name at run time, on any zone but by condition only UPSERT of the one record and
type. Actions that AWS authorizes only on
"*" (EC2 and ELB Describe calls, Health, ECS task definitions) are on "*". Statements are
grouped by service, one per set of resources, with Sids made of the service and the first
action. A step whose region a parameter chooses (region: ${params.REGION}) is in the policy
of each region, unless --set gives the parameter.

The agent's credentials need nothing else: sts:GetCallerIdentity needs no permission.

With --out-dir, one file per region of the pair is written, named after the system file
(DIR/my-system-eu-central-1.json for my-system.yaml). deploy/iam/ holds the bundled
system's, generated this way and checked like generated code (its README says how).

kirikae sim --iam FILE enforces such policies, one per agent's access key.`,
		Example: `  kirikae plan iam-policy --system my-system.yaml --region eu-central-1 my-failover.yaml my-cutback.yaml
  kirikae plan iam-policy --system my-system.yaml --region eu-west-1 --why my-cutback.yaml
  kirikae plan iam-policy --system my-system.yaml --out-dir iam/ my-failover.yaml my-cutback.yaml
  kirikae plan iam-policy --system my-system.yaml --region eu-central-1 --set REGION=secondary my-recovery.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlanIAMPolicy(cmd.OutOrStdout(), f, args)
		},
	}
	f.Bind(cmd.Flags())
	return cmd
}

func runPlanIAMPolicy(out io.Writer, f *planIAMFlags, files []string) error {
	if f.system == "" {
		return &exitError{code: exitUsage, err: errors.New("--system is required: the plans read the system file")}
	}
	if (f.region == "") == (f.outDir == "") {
		return &exitError{code: exitUsage, err: errors.New("give --region (print one policy) or --out-dir (write one per region), one of them")}
	}
	sys, err := system.ParseFile(f.system)
	if err != nil {
		return err
	}
	params := map[string]string{}
	for _, kv := range f.sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("--set %q: want NAME=VALUE", kv)
		}
		params[k] = v
	}
	var plans []*plan.Plan
	for _, file := range files {
		p, err := plan.ParseFile(file)
		if err != nil {
			return err
		}
		if err := p.CheckSystem(sys); err != nil {
			return err
		}
		plans = append(plans, p)
	}
	opts := agentpolicy.Options{Params: params, Undo: f.undo, NoReadiness: f.noReadiness}
	if f.outDir == "" {
		res, err := agentpolicy.Generate(plans, sys, f.region, opts)
		if err != nil {
			return err
		}
		if f.why {
			return writeIAMWhy(out, res)
		}
		_, err = out.Write(res.Policy.Marshal())
		return err
	}
	base := strings.TrimSuffix(filepath.Base(f.system), filepath.Ext(f.system))
	for _, r := range sys.Regions {
		res, err := agentpolicy.Generate(plans, sys, r.Name, opts)
		if err != nil {
			return err
		}
		path := filepath.Join(f.outDir, base+"-"+r.Name+".json")
		if err := os.WriteFile(path, res.Policy.Marshal(), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: %d statements for the %s agent (%s)\n", path, len(res.Policy.Statement), r.Name, r.Role)
	}
	return nil
}

// writeIAMWhy prints each statement with what needs it.
func writeIAMWhy(out io.Writer, res *agentpolicy.Result) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SID\tACTIONS\tRESOURCES\tNEEDED BY")
	for _, s := range res.Policy.Statement {
		var who []string
		for _, n := range res.Needs(s.Sid) {
			w := n.String()
			if n.Optional {
				w += " (some paths)"
			}
			who = append(who, w)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Sid, strings.Join(s.Action, " "), strings.Join(s.Resource, " "), strings.Join(who, ", "))
	}
	return tw.Flush()
}
