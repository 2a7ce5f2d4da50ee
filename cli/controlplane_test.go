package cli

import (
	"bytes"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/kirikae/kirikae/controlplane"
	"github.com/kirikae/kirikae/runs"
	"github.com/kirikae/kirikae/security"
)

// testCP is one in-process control-plane node with mTLS on loopback, made for the CLI
// tests, and the certificates to call it with.
type testCP struct {
	addr string
	dir  string // ca.pem, operator-admin.pem, operator-vic.pem (a viewer), agent-us-east-1.pem...
	inst *controlplane.Instance
}

// startControlPlane starts a one-node control plane and waits until it leads; tune, if
// given, changes its config first (a roles file, say).
func startControlPlane(t *testing.T, tune ...func(dir string, cfg *controlplane.Config)) *testCP {
	t.Helper()
	clearClientEnv(t)
	dir := t.TempDir()
	if _, err := security.GenerateCerts(dir, security.CertOptions{Regions: []string{"us-east-1", "us-west-2"}, Operators: []string{"vic"}}); err != nil {
		t.Fatal(err)
	}
	cfg := controlplane.Config{
		ID: "cp1", DataDir: filepath.Join(dir, "data"), Bootstrap: true,
		RaftAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		TLSCA: filepath.Join(dir, security.CAFile), TLSCert: filepath.Join(dir, security.ServerFile), TLSKey: filepath.Join(dir, security.ServerKeyFile),
		Planner: &runs.Planner{}, Logger: slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	for _, f := range tune {
		f(dir, &cfg)
	}
	inst, err := controlplane.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	deadline := time.Now().Add(20 * time.Second)
	for !inst.Node.IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("the node did not become leader")
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	return &testCP{addr: inst.GRPCAddr, dir: dir, inst: inst}
}

// as are the flags that make a command talk to the node as operator name.
func (c *testCP) as(name string) []string {
	cert, key := security.OperatorFiles(name)
	return []string{"--addr", c.addr, "--ca", filepath.Join(c.dir, security.CAFile),
		"--cert", filepath.Join(c.dir, cert), "--key", filepath.Join(c.dir, key)}
}

// run runs one command line and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := execute(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// mustRun runs a command line that must succeed and returns its stdout.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := run(t, args...)
	if code != 0 {
		t.Fatalf("kirikae %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// clearClientEnv keeps the developer's own KIRIKAE_* settings out of a test.
func clearClientEnv(t *testing.T) {
	for _, v := range []string{"KIRIKAE_ADDR", "KIRIKAE_CA", "KIRIKAE_CERT", "KIRIKAE_KEY", "KIRIKAE_AGENT_CA", "KIRIKAE_AGENT_CERT", "KIRIKAE_AGENT_KEY"} {
		t.Setenv(v, "")
	}
}

// serveTLS serves gs on a loopback port and returns the address.
func serveTLS(t *testing.T, gs *grpc.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)
	return ln.Addr().String()
}

// tWriter sends a logger's lines to t.Log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
