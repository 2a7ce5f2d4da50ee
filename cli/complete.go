package cli

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/controlplane"
	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
)

// completeTimeout bounds a completion's call to the control plane: a shell waits for it.
const completeTimeout = 2 * time.Second

// completions are the dynamic completions of the tree, by command path below the root;
// attachCompletions hangs them on the built commands, so the verb files need not know.
// args[i] completes the i-th argument (the last one also every later one); flags complete
// flag values.
var completions = []struct {
	path  string
	args  []cobra.CompletionFunc
	flags map[string]cobra.CompletionFunc
}{
	{path: "run show", args: args(completeRunIDs)},
	{path: "run watch", args: args(completeRunIDs)},
	{path: "run undo", args: args(completeRunIDs)},
	{path: "run pause", args: args(completeRunIDs)},
	{path: "run resume", args: args(completeRunIDs)},
	{path: "run abort", args: args(completeRunIDs)},
	{path: "run wait", args: args(completeRunIDs, completeStepIDs)},
	{path: "run approve", args: args(completeRunIDs, completeStepIDs), flags: map[string]cobra.CompletionFunc{"role": completeRoles}},
	{path: "run confirm", args: args(completeRunIDs, completeStepIDs, completeNothing)},
	{path: "run retry", args: args(completeRunIDs, completeStepIDs)},
	{path: "run skip", args: args(completeRunIDs, completeStepIDs)},
	{path: "report", args: args(completeRunIDs)},
	{path: "declare", flags: map[string]cobra.CompletionFunc{"plan": completeYAML, "scenario": completeScenarios, "preempt": completeRunIDs}},
	{path: "cutback", flags: map[string]cobra.CompletionFunc{"plan": completeYAML}},
	{path: "drill start", flags: map[string]cobra.CompletionFunc{"kind": completeDrillKinds, "plan": completeYAML, "cutback-plan": completeYAML,
		"timeline": completeYAML, "system": completeYAML}},
	{path: "plan validate", args: args(completeYAML), flags: map[string]cobra.CompletionFunc{"system": completeYAML}},
	{path: "plan show", args: args(completeYAML)},
	{path: "plan check", args: args(completeYAML)},
	{path: "plan iam-policy", args: args(completeYAML), flags: map[string]cobra.CompletionFunc{"system": completeYAML}},
	{path: "plan actions", args: args(completeActions, completeNothing)},
	{path: "system validate", args: args(completeYAML)},
	{path: "system apply", args: args(completeYAML, completeNothing)},
	{path: "region set", args: args(completeRegions, completeNothing)},
	{path: "certs init", flags: map[string]cobra.CompletionFunc{"system": completeYAML}},
	{path: "sim", flags: map[string]cobra.CompletionFunc{"system": completeYAML}},
	{path: "server", flags: map[string]cobra.CompletionFunc{"evaluate-plan": completeYAML, "config": completeYAML, "roles": completeYAML}},
}

func args(fs ...cobra.CompletionFunc) []cobra.CompletionFunc { return fs }

// attachCompletions hangs the completions on root's tree, and completes the flags every
// command shares by name wherever they are.
func attachCompletions(root *cobra.Command) {
	for _, c := range completions {
		cmd, rest, err := root.Find(strings.Fields(c.path))
		if err != nil || len(rest) > 0 || cmd == root {
			panic(fmt.Sprintf("completion for %q: no such command", c.path)) // a renamed verb; caught by the tests
		}
		if len(c.args) > 0 {
			fs := c.args
			cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return fs[min(len(args), len(fs)-1)](cmd, args, toComplete)
			}
		}
		for name, f := range c.flags {
			if err := cmd.RegisterFlagCompletionFunc(name, f); err != nil {
				panic(fmt.Sprintf("completion for %s --%s: %v", c.path, name, err))
			}
		}
	}
	shared := map[string]cobra.CompletionFunc{
		"output":    cobra.FixedCompletions([]cobra.Completion{"table", "json"}, cobra.ShellCompDirectiveNoFileComp),
		"log-level": cobra.FixedCompletions([]cobra.Completion{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp),
	}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for name, f := range shared {
			if c.Flags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, f)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completeClient is the control plane a completion asks, as the command line so far names
// it (flags or environment), with a short timeout.
func completeClient(cmd *cobra.Command) *clientFlags {
	get := func(name string) string {
		if f := cmd.Flags().Lookup(name); f != nil {
			return f.Value.String()
		}
		return ""
	}
	return &clientFlags{addr: get("addr"), ca: get("ca"), cert: get("cert"), key: get("key"), output: "table", timeout: completeTimeout}
}

// completeRunIDs offers the runs the control plane knows, newest first, each with its kind,
// status and plan. It offers nothing when the control plane does not answer.
func completeRunIDs(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	resp, err := rpc(cmd.Context(), completeClient(cmd), func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.ListRunsResponse, error) {
		return kirikaev1.NewRunServiceClient(conn).ListRuns(ctx, &kirikaev1.ListRunsRequest{})
	})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	runs := slices.Clone(resp.GetRuns())
	slices.SortStableFunc(runs, func(a, b *kirikaev1.Run) int { return cmp.Compare(b.GetCreatedUnixNano(), a.GetCreatedUnixNano()) })
	var out []cobra.Completion
	for _, r := range runs {
		if strings.HasPrefix(r.GetId(), toComplete) {
			out = append(out, cobra.CompletionWithDesc(r.GetId(), enum.Name(r.GetKind())+" "+enum.Name(r.GetStatus())+" "+r.GetPlanName()))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeStepIDs offers the steps of the run named by the first argument, with their
// status and action.
func completeStepIDs(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	r, err := getRun(cmd.Context(), completeClient(cmd), args[0])
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, st := range r.GetSteps() {
		if strings.HasPrefix(st.GetId(), toComplete) {
			out = append(out, cobra.CompletionWithDesc(st.GetId(), enum.Name(st.GetStatus())+" "+st.GetSpec().GetAction()))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeRegions offers the region pair the control plane holds.
func completeRegions(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	resp, err := rpc(cmd.Context(), completeClient(cmd), func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.GetActiveRegionResponse, error) {
		return kirikaev1.NewActiveRegionServiceClient(conn).GetActiveRegion(ctx, &kirikaev1.GetActiveRegionRequest{Consistency: kirikaev1.Consistency_CONSISTENCY_STALE})
	})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	st := resp.GetState()
	var out []cobra.Completion
	for _, r := range []struct{ name, role string }{{st.GetPrimary(), "primary"}, {st.GetSecondary(), "secondary"}} {
		if r.name == "" {
			continue
		}
		desc := r.role
		if r.name == st.GetActive() {
			desc += ", active"
		}
		out = append(out, cobra.CompletionWithDesc(r.name, desc))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeYAML offers YAML files: plans, systems, timelines, config and roles files.
func completeYAML(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return []cobra.Completion{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
}

func completeNothing(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveNoFileComp
}

func completeScenarios(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for name, sc := range controlplane.Scenarios {
		out = append(out, cobra.CompletionWithDesc(name, sc.Criterion))
	}
	slices.Sort(out)
	return out, cobra.ShellCompDirectiveNoFileComp
}

func completeDrillKinds(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for n := range kirikaev1.DrillKind_name {
		if k := kirikaev1.DrillKind(n); k != kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED {
			out = append(out, enum.Name(k))
		}
	}
	slices.Sort(out)
	return out, cobra.ShellCompDirectiveNoFileComp
}

func completeRoles(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	out := make([]cobra.Completion, len(security.AllRoles))
	for i, r := range security.AllRoles {
		out[i] = string(r)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func completeActions(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for _, s := range catalog.All() {
		out = append(out, s.Name)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
