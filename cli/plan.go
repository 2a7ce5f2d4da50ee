package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/system"
)

func init() { register(newPlanCommand) }

var planFormatHelp = `A plan is a YAML file; deploy/plans/ holds the seed system's plans
(kaigo-failover, kaigo-cutback, kaigo-rds-recovery, kaigo-rds-pitr, kaigo-ecs-recovery),
which are the best examples. The shape:

  apiVersion: kirikae/v1
  kind: Plan
  name: kaigo-failover
  runKind: failover            # failover | cutback | recovery (a drill is a way to run one)
  params:                      # read as ${params.NAME}; declare --set NAME=VALUE overrides
    ALLOW_DATA_LOSS: {default: "false", description: "..."}
  phases:                      # ordered groups with the runbook's time budget
    - {id: build, name: "フェーズ2: DR環境構築", expect: 2h}
  steps:
    - id: restore-rds
      phase: build
      region: secondary        # primary | secondary | us-west-2 | ${params.X}; control-plane
                               # actions (approval, checklist, wait, region.activate) need none
      needs: [verify-network]  # only what this step really depends on; the rest runs in parallel
      action: aws.rds.restoreSnapshot
      with: {instanceId: "${system.secondary.database.instance}", maxAge: "${system.objectives.rpo}"}
      timeout: 90m
      retries: 2
      expect: 45m              # the runbook's 所要時間; the critical path is computed from it
      owner: database          # the runbook's 担当
      onFailure: pause         # pause (default) | abort | continue
      drill: skip              # skipped in partial drills
      priority: 2              # tie-breaker among ready steps, 1 first

References in with: ${params.NAME}, ${steps.ID.outputs.NAME} (ID must be an ancestor through
needs), ${run.id}, ${run.startedCompact}, ${region.primary|secondary|failed|target}, and
${system.PATH}: a value of the stored system file (kirikae system apply), such as
${system.secondary.loadBalancer.name} or ${system.objectives.rpo}; ${system.here.PATH} reads
it in the role of the step's own region. Name resources once, in the system file: the
agents find their ids by those names at run time.
Parsing is strict: unknown keys, unknown actions or inputs, missing inputs, wrong types, bad
durations, cycles and dangling references are all reported with file:line and field.
Limits: at most ` + limitsHelp + `; a plan past one is refused
before anything else is checked.`

var limitsHelp = fmt.Sprintf("%d MiB, %d steps and %d levels of nesting", plan.MaxBytes>>20, plan.MaxSteps, plan.MaxDepth)

func newPlanCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Validate and inspect plan files",
		Long:  "Validate and inspect plan files offline (no control plane is needed), and check them against live AWS\nthrough the agents (plan check).\n\n" + planFormatHelp,
	}
	cmd.AddCommand(newPlanValidateCommand(), newPlanShowCommand(), newPlanActionsCommand(), newPlanCheckCommand(), newPlanIAMPolicyCommand())
	return cmd
}

type planOutputFlag struct{ output string }

func (f *planOutputFlag) Bind(fs *pflag.FlagSet) {
	bindOutput(fs, &f.output)
}

func (f *planOutputFlag) validate() error { return checkOutput(f.output) }

// planFileResult is one file's outcome in `plan validate -o json`.
type planFileResult struct {
	File   string            `json:"file"`
	Valid  bool              `json:"valid"`
	Steps  int               `json:"steps"`
	Errors []plan.FieldError `json:"errors"`
}

func newPlanValidateCommand() *cobra.Command {
	var of planOutputFlag
	var sysFile string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check plan files strictly and report every problem with file:line and field",
		Long: `Check plan files strictly. Every problem in every file is reported, each as
FILE:LINE: FIELD: MESSAGE, and the command exits 1 if any file is invalid.

A plan that reads the system file (${system.secondary.loadBalancer.name}, ...) is checked
against the one --system names: a path the system does not have is a problem at its line,
and so is any ${system.…} when no --system is given.

` + planFormatHelp,
		Example: `  kirikae plan validate deploy/plans/*.yaml
  kirikae plan validate --system deploy/systems/kaigo.yaml deploy/plans/kaigo-failover.yaml
  kirikae plan validate -o json my-plan.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := of.validate(); err != nil {
				return err
			}
			var sys plan.SystemValues
			if sysFile != "" {
				s, err := system.ParseFile(sysFile)
				if err != nil {
					return err
				}
				sys = s
			}
			return runPlanValidate(cmd.OutOrStdout(), of.output, args, sys)
		},
	}
	of.Bind(cmd.Flags())
	cmd.Flags().StringVar(&sysFile, "system", "", "system file the plans' ${system.…} references are checked against")
	return cmd
}

func runPlanValidate(out io.Writer, output string, files []string, sys plan.SystemValues) error {
	var results []planFileResult
	invalid, count := 0, 0
	for _, f := range files {
		r := planFileResult{File: f, Errors: []plan.FieldError{}}
		p, err := plan.ParseFile(f)
		if err == nil {
			err = p.CheckSystem(sys)
		}
		var ve *plan.ValidationError
		switch {
		case err == nil:
			r.Valid, r.Steps = true, len(p.Steps)
		case errors.As(err, &ve):
			r.Errors = ve.Errors
		default:
			r.Errors = []plan.FieldError{{File: f, Field: "file", Msg: err.Error()}}
		}
		if !r.Valid {
			invalid++
			count += len(r.Errors)
		}
		results = append(results, r)
	}
	if output == "json" {
		if err := writeJSON(out, results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			if r.Valid {
				fmt.Fprintf(out, "%s: ok (%d steps)\n", r.File, r.Steps)
				continue
			}
			for _, e := range r.Errors {
				fmt.Fprintln(out, e.String())
			}
		}
	}
	if invalid > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d plan files invalid, %d errors", invalid, len(files), count)}
	}
	return nil
}

func newPlanShowCommand() *cobra.Command {
	var of planOutputFlag
	var sets []string
	cmd := &cobra.Command{
		Use:   "show FILE",
		Short: "Print a plan's phases, steps, owners, dependencies and critical path",
		Long: `Print a plan's phases (with the runbook's budget, the span of the phase's own steps and
their sum), its steps in dependency order (id, phase, region, action, owner, needs, expected
duration, priority, drill), the critical path through needs weighted by each step's expect,
and the critical-path time against the sequential sum: how much running independent steps
in parallel saves against the runbook's one-after-another.

--set NAME=VALUE overrides a parameter as declare would; an unknown name is an error.

` + planFormatHelp,
		Example: `  kirikae plan show deploy/plans/kaigo-failover.yaml
  kirikae plan show deploy/plans/kaigo-rds-pitr.yaml --set RESTORE_TIME=2025-01-15T12:00:00Z -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := of.validate(); err != nil {
				return err
			}
			return runPlanShow(cmd.OutOrStdout(), of.output, args[0], sets)
		},
	}
	of.Bind(cmd.Flags())
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a parameter, NAME=VALUE (repeatable)")
	return cmd
}

func runPlanShow(out io.Writer, output, file string, sets []string) error {
	p, err := plan.ParseFile(file)
	if err != nil {
		return err
	}
	overrides, err := parsePlanSets(sets)
	if err != nil {
		return err
	}
	if err := plan.ApplyParams(p, overrides); err != nil {
		return fmt.Errorf("--set: %w", err)
	}
	s := p.Summarize()
	if output == "json" {
		return writeJSON(out, s)
	}
	return plan.WriteSummary(out, s)
}

// parsePlanSets turns repeated NAME=VALUE flags into a map.
func parsePlanSets(sets []string) (map[string]string, error) {
	m := make(map[string]string, len(sets))
	for _, s := range sets {
		name, value, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--set %q: want NAME=VALUE", s)
		}
		m[name] = value
	}
	return m, nil
}
