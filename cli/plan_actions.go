package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kirikae/kirikae/plan"
)

func newPlanActionsCommand() *cobra.Command {
	of := &planOutputFlag{}
	cmd := &cobra.Command{
		Use:   "actions [NAME]",
		Short: "List the actions a plan step may name, or show one",
		Long: `List the catalog of actions a plan step may name in its action field: where each
runs (on the agent of the step's region, or in the control plane), its inputs (the step's
with) with their types, whether they are required and what each one is, the outputs
later steps can read as ${steps.ID.outputs.NAME} with their types and what each holds,
and the IAM actions an agent needs to run it.

With NAME, show that action in full. -o json prints the same for scripts, for example
to build an IAM policy for the agents from the actions your plans use.`,
		Example: `  kirikae plan actions
  kirikae plan actions aws.rds.restoreSnapshot
  kirikae plan actions -o json | jq -r '.[].iam[]' | sort -u`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := of.validate(); err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			return runPlanActions(cmd.OutOrStdout(), of.output, name)
		},
	}
	of.Bind(cmd.Flags())
	return cmd
}

// actionJSON is one catalog entry as `plan actions -o json` prints it.
type actionJSON struct {
	Name   string      `json:"name"`
	Where  string      `json:"where"`
	Doc    string      `json:"doc"`
	Inputs []inputJSON `json:"inputs"`
	// Outputs are the names of the outputs; OutputFields holds them with their types and
	// docs, in the same order.
	Outputs      []string     `json:"outputs"`
	OutputFields []outputJSON `json:"output_fields"`
	IAM          []string     `json:"iam"`
	// Undo is the action that reverses a step of this one, recorded by the step.
	Undo string `json:"undo"`
	// Idempotency says how a rerun finds an earlier attempt's work.
	Idempotency string `json:"idempotency"`
	// Undoes is the kind of resource the action removes or reverts as an undo step.
	Undoes string `json:"undoes"`
}

type inputJSON struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
	Doc      string `json:"doc"`
}

// outputJSON is one output of an action, as later steps read it: ${steps.ID.outputs.NAME}.
type outputJSON struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Doc  string `json:"doc"`
}

func catalogJSON(name string) ([]actionJSON, error) {
	list := plan.Actions()
	if name != "" {
		a, ok := plan.ActionOf(name)
		if !ok {
			return nil, fmt.Errorf("no action %q in the catalog (kirikae plan actions lists them)", name)
		}
		list = []plan.Action{a}
	}
	out := make([]actionJSON, 0, len(list))
	for _, a := range list {
		j := actionJSON{Name: a.Name, Where: string(a.Where), Doc: a.Doc, Inputs: []inputJSON{},
			Outputs: append([]string{}, a.Outputs...), OutputFields: []outputJSON{},
			IAM: append([]string{}, a.IAM...), Undo: a.Undo, Idempotency: a.Idempotency}
		for _, in := range a.Inputs {
			j.Inputs = append(j.Inputs, inputJSON{Name: in.Name, Type: in.Type, Required: in.Required, Doc: in.Doc})
		}
		for _, o := range a.OutputFields {
			j.OutputFields = append(j.OutputFields, outputJSON{Name: o.Name, Type: o.Type, Doc: o.Doc})
		}
		if a.Resource != nil {
			j.Undoes = a.Resource.Kind
		}
		out = append(out, j)
	}
	return out, nil
}

func runPlanActions(w io.Writer, output, name string) error {
	list, err := catalogJSON(name)
	if err != nil {
		return err
	}
	if output == "json" {
		return writeJSON(w, list)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if name == "" {
		fmt.Fprintln(tw, "ACTION\tRUNS ON\tWHAT IT DOES")
		for _, a := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name, a.Where, a.Doc)
		}
		return tw.Flush()
	}
	a := list[0]
	fmt.Fprintf(tw, "Action:\t%s\nRuns on:\t%s\nWhat it does:\t%s\n", a.Name, a.Where, a.Doc)
	if a.Undo != "" {
		fmt.Fprintf(tw, "Undone by:\t%s (recorded by each step, for a teardown or run undo)\n", a.Undo)
	}
	if a.Undoes != "" {
		fmt.Fprintf(tw, "Undoes:\t%s (as a teardown's undo step)\n", a.Undoes)
	}
	if a.Idempotency != "" {
		fmt.Fprintf(tw, "On a rerun:\t%s\n", a.Idempotency)
	}
	fmt.Fprintf(tw, "IAM:\t%s\n", orNone(strings.Join(a.IAM, ", ")))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nInputs (with):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tTYPE\tREQUIRED\tABOUT")
	for _, in := range a.Inputs {
		req := ""
		if in.Required {
			req = "yes"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", in.Name, in.Type, req, in.Doc)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(a.OutputFields) == 0 {
		fmt.Fprintln(w, "\nOutputs: none")
		return nil
	}
	fmt.Fprintln(w, "\nOutputs (later steps read ${steps.ID.outputs.NAME}):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tTYPE\tABOUT")
	for _, o := range a.OutputFields {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", o.Name, o.Type, o.Doc)
	}
	return tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
