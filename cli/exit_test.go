package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
)

// approvalPlan is a recovery plan that needs no agent: one approval step, so a run of it
// waits for people until it is approved or aborted.
const approvalPlan = `apiVersion: kirikae/v1
kind: Plan
name: approval-test
runKind: recovery
steps:
  - id: approve
    action: approval
    with: {roles: [sysadmin, manager]}
`

func writePlan(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "recovery.yaml")
	if err := os.WriteFile(file, []byte(approvalPlan), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// declareRun declares the approval plan as admin and returns the run id.
func declareRun(t *testing.T, cp *testCP, plan string) string {
	t.Helper()
	out := mustRun(t, append([]string{"declare", "--plan", plan, "--reason", "test", "-o", "json"}, cp.as("admin")...)...)
	_, rest, ok := strings.Cut(out, `"id": "`)
	if !ok {
		t.Fatalf("declare printed no id:\n%s", out)
	}
	id, _, _ := strings.Cut(rest, `"`)
	return id
}

// TestExitCodes runs real command lines, against a live control plane where one is needed,
// and checks the exit code the table in `kirikae --help` gives each situation.
func TestExitCodes(t *testing.T) {
	cp := startControlPlane(t)
	plan := writePlan(t)
	mustRun(t, append([]string{"region", "init", "--primary", "us-east-1", "--secondary", "us-west-2"}, cp.as("admin")...)...)
	aborted := declareRun(t, cp, plan)
	mustRun(t, append([]string{"run", "abort", aborted, "--reason", "test"}, cp.as("admin")...)...)
	broken := brokenAuditServer(t, cp)

	tests := []struct {
		name string
		args []string
		want int
		says string // in stderr
	}{
		{"ok", append([]string{"region", "get"}, cp.as("vic")...), exitOK, ""},
		{"unknown flag", append([]string{"region", "get", "--bogus"}, cp.as("vic")...), exitUsage, "unknown flag: --bogus"},
		{"unknown command", []string{"bogus"}, exitUsage, `unknown command "bogus"`},
		{"unknown subcommand", []string{"run", "shw", "x"}, exitUsage, `unknown command "shw" for "kirikae run"; did you mean show?`},
		{"missing argument", append([]string{"run", "show"}, cp.as("vic")...), exitUsage, "accepts 1 arg(s), received 0"},
		{"too many arguments", append([]string{"run", "approve", "a", "b", "c"}, cp.as("vic")...), exitUsage, "kirikae run approve --help"},
		{"bad flag value", append([]string{"runs", "--timeout", "soon"}, cp.as("vic")...), exitUsage, "invalid argument"},
		{"bad output format", append([]string{"runs", "-o", "yaml"}, cp.as("vic")...), exitUsage, `--output "yaml"`},
		{"missing required flag", []string{"certs", "init"}, exitUsage, `required flag(s) "dir" not set`},
		{"missing flag a verb checks itself", append([]string{"declare", "--reason", "x"}, cp.as("admin")...), exitUsage, "--plan and --reason are required"},
		{"missing region pair", append([]string{"region", "init", "--primary", "us-east-1"}, cp.as("admin")...), exitUsage, "--primary and --secondary are required"},
		{"approval without a role", append([]string{"run", "approve", aborted, "approve"}, cp.as("admin")...), exitUsage, "--role is required"},
		{"refused: a viewer sets the region", append([]string{"region", "set", "us-west-2", "--force", "--reason", "x"}, cp.as("vic")...), exitRefused, "permission denied"},
		{"refused: a second region init", append([]string{"region", "init", "--primary", "us-east-1", "--secondary", "us-west-2"}, cp.as("admin")...), exitFailure, "already"},
		{"refused: approving an aborted run", append([]string{"run", "approve", aborted, "approve", "--role", "sysadmin"}, cp.as("admin")...), exitRefused, ""},
		{"not ready: no agents", append([]string{"readiness"}, cp.as("vic")...), exitNotReady, "not ready"},
		{"watched run aborted", append([]string{"run", "watch", aborted}, cp.as("vic")...), exitRunFailed, "ended aborted"},
		{"waited-for step's run aborted", append([]string{"run", "wait", aborted, "approve"}, cp.as("vic")...), exitRunFailed, "ended aborted"},
		{"unreachable", append([]string{"region", "get", "--timeout", "1s", "--addr", closedPort(t)}, cp.as("vic")[2:]...), exitUnreachable, "cannot reach"},
		{"no TLS settings", []string{"region", "get", "--addr", cp.addr}, exitUnreachable, "KIRIKAE_CA, KIRIKAE_CERT and KIRIKAE_KEY"},
		{"audit chain broken", append([]string{"audit", "--addr", broken}, cp.as("vic")[2:]...), exitAuditBroken, "audit chain broken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.args...)
			if code != tt.want || !strings.Contains(errOut, tt.says) {
				t.Fatalf("kirikae %s: exit %d, want %d with %q\nstdout: %s\nstderr: %s", strings.Join(tt.args, " "), code, tt.want, tt.says, out, errOut)
			}
		})
	}
}

// TestExitCodeOfEachStatus is the mapping itself, for the statuses no live case above
// reaches, and through wrapping.
func TestExitCodeOfEachStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, exitOK},
		{errors.New("plain"), exitFailure},
		{describe("a", status.Error(codes.PermissionDenied, "permission denied: no")), exitRefused},
		{fmt.Errorf("wrapped: %w", describe("a", status.Error(codes.FailedPrecondition, "failed precondition: drill live"))), exitRefused},
		{describe("a", status.Error(codes.Unauthenticated, "unauthenticated")), exitUnreachable},
		{describe("a", status.Error(codes.Unavailable, "down")), exitUnreachable},
		{describe("a", status.Error(codes.NotFound, "no run")), exitFailure},
		{describe("a", status.Error(codes.InvalidArgument, "bad")), exitFailure},
		{&connError{errors.New("cannot reach")}, exitUnreachable},
		{fmt.Errorf("x: %w", &exitError{code: exitNotReady, err: errors.New("not ready")}), exitNotReady},
		{&exitError{code: exitAuditBroken, err: describe("a", status.Error(codes.PermissionDenied, "x"))}, exitAuditBroken},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// TestHelpListsExitCodes: the table is where a script writer looks.
func TestHelpListsExitCodes(t *testing.T) {
	out := mustRun(t, "--help")
	for _, want := range []string{"Exit codes:", "2  usage", "3  refused", "5  the run or step", "6  cannot reach", "7  the audit chain"} {
		if !strings.Contains(out, want) {
			t.Errorf("kirikae --help lacks %q", want)
		}
	}
}

// brokenAuditServer serves an audit log whose second entry was altered, with the node's
// certificates, and returns its address.
func brokenAuditServer(t *testing.T, cp *testCP) string {
	t.Helper()
	conf, err := security.ServerTLS(filepath.Join(cp.dir, security.CAFile), filepath.Join(cp.dir, security.ServerFile), filepath.Join(cp.dir, security.ServerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(conf)))
	kirikaev1.RegisterAuditServiceServer(gs, brokenAudit{cp: cp})
	return serveTLS(t, gs)
}

type brokenAudit struct {
	kirikaev1.UnimplementedAuditServiceServer
	cp *testCP
}

func (b brokenAudit) ListAudit(ctx context.Context, req *kirikaev1.ListAuditRequest) (*kirikaev1.ListAuditResponse, error) {
	entries := b.cp.inst.Node.FSM().Audit()
	if len(entries) < 2 {
		return nil, status.Error(codes.Internal, "the test needs two audit entries")
	}
	entries[1].Method = "region.set"
	return &kirikaev1.ListAuditResponse{Entries: entries, Total: uint64(len(entries))}, nil
}
