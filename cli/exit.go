package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The exit codes of every command, so scripts can tell what happened without parsing
// messages. exitCodesHelp documents them in `kirikae --help`; the README repeats the table.
const (
	exitOK = 0
	// exitFailure is anything not below.
	exitFailure = 1
	// exitUsage: an unknown command or flag, a bad flag value, a missing required flag, the
	// wrong number of arguments.
	exitUsage = 2
	// exitRefused: the control plane refused by policy or a guard rail (permission denied,
	// a failed precondition such as unmet activation criteria or a live drill).
	exitRefused = 3
	// exitNotReady: readiness fails, or a plan check has findings.
	exitNotReady = 4
	// exitRunFailed: the run or step being watched or waited for failed or was aborted.
	exitRunFailed = 5
	// exitUnreachable: the control plane cannot be reached or refuses our certificate, or
	// the TLS settings are missing.
	exitUnreachable = 6
	// exitAuditBroken: the audit hash chain does not verify.
	exitAuditBroken = 7
)

const exitCodesHelp = `Exit codes:
  0  ok
  1  error (anything not below)
  2  usage: unknown command or flag, bad flag value, missing required flag, wrong arguments
  3  refused by policy or a guard rail (permission denied, failed precondition)
  4  not ready: readiness fails, or plan check has findings
  5  the run or step watched or waited for failed or was aborted
  6  cannot reach or authenticate to the control plane (unreachable, certificate refused,
     TLS settings missing)
  7  the audit chain is broken`

// exitError carries a specific exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError is a command line that cannot be right: it exits 2 and says where help is.
func usageError(cmd *cobra.Command, err error) error {
	return &exitError{code: exitUsage, err: fmt.Errorf("%w (see `%s --help`)", err, cmd.CommandPath())}
}

// exitCode maps an error from the command tree to the process exit code, once. A code a
// command chose wins; otherwise the gRPC status anywhere in the chain decides.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ce *connError
	if errors.As(err, &ce) {
		return exitUnreachable
	}
	if st, ok := status.FromError(err); ok {
		switch st.Code() {
		case codes.PermissionDenied, codes.FailedPrecondition:
			return exitRefused
		case codes.Unavailable, codes.Unauthenticated:
			return exitUnreachable
		}
	}
	return exitFailure
}

// markUsageErrors makes every usage mistake cobra finds an exit-2 error, in one walk of the
// tree: flag parse errors through the root's flag error func (children inherit it), the
// argument count, required flags and flag groups through each command's Args (cobra checks
// Args after parsing flags and before the required flags). A command group given an
// unknown subcommand is a usage error too, not its help with exit 0.
func markUsageErrors(root *cobra.Command) {
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError(cmd, err) })
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() && c.HasSubCommands() {
			c.Args = cobra.ArbitraryArgs
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) == 0 {
					return cmd.Help()
				}
				msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
				if cmd.SuggestionsMinimumDistance <= 0 {
					cmd.SuggestionsMinimumDistance = 2 // cobra's default, set only for the root
				}
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					msg += "; did you mean " + strings.Join(s, " or ") + "?"
				}
				return usageError(cmd, errors.New(msg))
			}
		}
		orig := c.Args
		if orig == nil {
			orig = cobra.ArbitraryArgs
		}
		c.Args = func(cmd *cobra.Command, args []string) error {
			for _, check := range []func() error{
				func() error { return orig(cmd, args) }, cmd.ValidateRequiredFlags, cmd.ValidateFlagGroups,
			} {
				if err := check(); err != nil {
					return usageError(cmd, err)
				}
			}
			return nil
		}
	}
	walk(root)
}
