// Package cli is the kirikae command tree. Each verb lives in its own file with a small
// flags struct and a run function; the logic behind a verb lives in the domain packages
// (controlplane, agent, awssim, plan). Nothing here holds state of its own.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries a specific exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Main runs the command line and returns the process exit code. A first SIGINT or SIGTERM
// cancels the root context so servers shut down cleanly; a second one kills the process.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := NewRootCommand(os.Stdout, os.Stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "kirikae:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		return 1
	}
	return 0
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
  kirikae server --dev ...          a one-node control plane on loopback
  kirikae region get                which region is live, from any control-plane node

Operator commands find the control plane through --addr or KIRIKAE_ADDR (a comma-separated
list, tried in turn) and authenticate with --ca/--cert/--key or KIRIKAE_CA/KIRIKAE_CERT/KIRIKAE_KEY.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	for _, add := range commands {
		root.AddCommand(add())
	}
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
