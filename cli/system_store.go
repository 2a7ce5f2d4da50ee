package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/kirikae/kirikae/controlplane"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/system"
)

func newSystemApplyCommand() *cobra.Command {
	var cf clientFlags
	var expect string
	cmd := &cobra.Command{
		Use:   "apply FILE",
		Short: "Validate a system file and store it in the control plane (admin)",
		Long: `apply validates FILE as ` + "`system validate`" + ` does, here first and again on the control plane,
and stores its canonical form in the replicated state, where plans, readiness, drills and plan
evaluation read it. Every problem is reported with its line; nothing is stored unless the
whole file is valid.

The system's region pair must match the control plane's (kirikae region init): a system for
another pair is refused. Applying the same system again changes nothing (the digest is the
same even if comments or key order differ).

--expect DIGEST makes the apply conditional: it is refused unless the stored system has that
digest ("none" when nothing is stored yet), so two operators cannot overwrite each other's
change unseen. ` + "`kirikae system show`" + ` prints the digest.`,
		Example: `  kirikae system apply deploy/systems/kaigo.yaml
  kirikae system apply deploy/systems/kaigo.yaml --expect none       # only if none is stored yet
  kirikae system apply kaigo.yaml --expect 3f2a...                    # only over the version you read`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSystemApply(cmd.Context(), cmd.OutOrStdout(), &cf, args[0], expect)
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().StringVar(&expect, "expect", "", `apply only if the stored system's digest is this ("none": nothing stored yet)`)
	return cmd
}

func runSystemApply(ctx context.Context, out io.Writer, cf *clientFlags, file, expect string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("system apply: %w", err)
	}
	// The same validation the server runs, so a bad file fails without a control plane.
	if _, err := system.Parse(file, data); err != nil {
		return err
	}
	req := &kirikaev1.ApplySystemRequest{FileName: file, Yaml: data, ExpectedDigest: expect, RequestId: controlplane.NewRequestID()}
	resp, err := rpc(ctx, cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.ApplySystemResponse, error) {
		return kirikaev1.NewSystemServiceClient(conn).ApplySystem(ctx, req)
	})
	if err != nil {
		return err
	}
	if cf.output == "json" {
		return printJSON(out, resp)
	}
	s := resp.GetSystem()
	verb := "stored"
	if !resp.GetChanged() {
		verb = "unchanged (the stored system already has this digest)"
	}
	fmt.Fprintf(out, "system %s %s: version %d, digest %s, %s → %s\n", s.GetName(), verb, s.GetVersion(), s.GetDigest(), s.GetPrimary(), s.GetSecondary())
	return nil
}

func newSystemShowCommand() *cobra.Command {
	var cf clientFlags
	var stale bool
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print the system stored in the control plane",
		Long: `show prints the stored system: who applied it and when, its version and digest, and the
canonical system file itself (defaults filled in, comments dropped), which ` + "`system apply`" + `
accepts back. -o json gives the record for scripts; --stale answers from the node's replica.`,
		Example: `  kirikae system show
  kirikae system show -o json | jq -r .system.digest`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := kirikaev1.Consistency_CONSISTENCY_LINEARIZABLE
			if stale {
				c = kirikaev1.Consistency_CONSISTENCY_STALE
			}
			resp, err := rpc(cmd.Context(), &cf, func(ctx context.Context, conn *grpc.ClientConn) (*kirikaev1.GetSystemResponse, error) {
				return kirikaev1.NewSystemServiceClient(conn).GetSystem(ctx, &kirikaev1.GetSystemRequest{Consistency: c})
			})
			if err != nil {
				return err
			}
			return printSystemRecord(cmd.OutOrStdout(), cf.output, resp)
		},
	}
	cf.Bind(cmd.Flags())
	cmd.Flags().BoolVar(&stale, "stale", false, "answer from the node's replica without asking the leader")
	return cmd
}

// errNoSystem is what `system show` says before any apply.
var errNoSystem = errors.New("no system stored: run `kirikae system apply FILE` (see `kirikae system --help`)")

func printSystemRecord(out io.Writer, output string, resp *kirikaev1.GetSystemResponse) error {
	if output == "json" {
		return printJSON(out, resp)
	}
	s := resp.GetSystem()
	if s == nil {
		return errNoSystem
	}
	if err := table(out, []string{"SYSTEM", "VERSION", "PRIMARY", "SECONDARY", "APPLIED BY", "APPLIED", "FROM FILE"},
		[][]string{{s.GetName(), strconv.FormatUint(s.GetVersion(), 10), s.GetPrimary(), s.GetSecondary(), s.GetAppliedBy(),
			time.Unix(0, s.GetAppliedUnixNano()).UTC().Format(time.RFC3339), s.GetSourceFile()}}); err != nil {
		return err
	}
	fmt.Fprintf(out, "digest %s\n---\n%s", s.GetDigest(), s.GetYaml())
	return nil
}
