// Package cli is the kirikae command tree. Each verb lives in its own file with a small
// flags struct and a run function; the logic behind a verb lives in the domain packages
// (controlplane, agent, awssim, plan). Nothing here holds state of its own.
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Main runs the command line and returns the process exit code (see exitCodesHelp). A first
// SIGINT or SIGTERM cancels the root context so servers shut down cleanly; a second one
// kills the process.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

// execute runs one command line and returns its exit code; errors are printed to errOut.
func execute(ctx context.Context, args []string, out, errOut io.Writer) int {
	root := NewRootCommand(out, errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintln(errOut, "kirikae:", err)
	}
	return exitCode(err)
}

// NewRootCommand builds the whole tree. Tests call it with buffers for out and errOut.
func NewRootCommand(out, errOut io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "kirikae",
		Short: "Cross-region disaster recovery for AWS, run from a replicated control plane",
		Long: `kirikae (切り替え, "switch-over") turns a disaster-recovery runbook into plans that a
raft-replicated control plane runs, with one agent per AWS region doing the work.

The control plane is the single source of truth for which region is live: it holds the
region pair, the active region, a fencing epoch and the mode, and every service can ask it.

Start here:
  kirikae demo                      a full failover and cutback against simulated AWS
  kirikae server --dev              a one-node control plane on loopback; prints what to export
  kirikae region get                which region is live, from any control-plane node

Operator commands find the control plane through --addr or KIRIKAE_ADDR (a comma-separated
list, tried in turn) and authenticate with --ca/--cert/--key or KIRIKAE_CA/KIRIKAE_CERT/KIRIKAE_KEY.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	for _, add := range commands {
		root.AddCommand(add())
	}
	markUsageErrors(root)
	attachCompletions(root)
	return root
}

// commands is filled by each verb file's init, so adding a verb touches one file only.
var commands []func() *cobra.Command

func register(f func() *cobra.Command) { commands = append(commands, f) }

// newLogger builds the process logger in one place.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
