package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds the kirikae binary once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kirikae-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "kirikae")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Dir(filepath.Dir(file))
		cmd := exec.Command("go", "build", "-race", "-o", binPath, "./cmd/kirikae")
		if os.Getenv("KIRIKAE_NO_RACE") != "" {
			cmd = exec.Command("go", "build", "-o", binPath, "./cmd/kirikae")
		}
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
//
// It never returns an address it returned before in this process: the kernel may hand a
// just-released port out again, and two nodes given the same port (one of them failing
// with "address already in use") broke a cluster's start under load.
func FreeAddr(t testing.TB) string {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if !handedOut.m[addr] {
			handedOut.m[addr] = true
			return addr
		}
	}
	t.Fatal("FreeAddr: no port that was not handed out before, in 100 tries")
	return ""
}

// handedOut are the addresses FreeAddr has returned.
var handedOut = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

// Node is one control-plane server process.
type Node struct {
	ID       string
	DataDir  string
	RaftAddr string
	GRPCAddr string
	HTTPAddr string
	// Proxy, when the cluster has one, is what the other nodes dial for this node's raft:
	// a DelayProxy in front of RaftAddr.
	Proxy *DelayProxy
	cmd   *exec.Cmd
	logs  *bytes.Buffer
	done  chan struct{}
}

// Cluster is a set of server processes sharing certificates made by `kirikae certs init`.
type Cluster struct {
	t       testing.TB
	Bin     string
	CertDir string
	Roles   string
	Nodes   []*Node
	net     *Net
	args    []string
}

// Options tune NewCluster.
type Options struct {
	// Operators get certificates; admin is always among them.
	Operators []string
	// Roles is the YAML written to the roles file; empty means no --roles flag.
	Roles string
	// Net runs each node in its own network namespace of Net, on Net's addresses; the
	// CLI and health checks then reach the nodes from Net's client namespace.
	Net *Net
	// RaftProxy puts a DelayProxy in front of every node's raft address, with RaftDelay
	// one way; Cluster.SetRaftDelay changes it later. A RaftDelay implies the proxies.
	RaftProxy bool
	RaftDelay time.Duration
	// ServerArgs are added to every `kirikae server`, e.g. raft timeouts.
	ServerArgs []string
}

// NewCluster starts n nodes with mTLS: the first bootstraps, the others join it. It waits
// until every node knows a leader.
func NewCluster(t testing.TB, n int, opts Options) *Cluster {
	t.Helper()
	c := &Cluster{t: t, Bin: Binary(t), CertDir: t.TempDir(), net: opts.Net, args: opts.ServerArgs}
	// The tests' agents run in the seed system's pair (StartSim serves it).
	args := []string{"certs", "init", "--dir", c.CertDir, "--region", "us-east-1", "--region", "us-west-2"}
	if c.net != nil {
		for _, h := range append(c.net.Hosts(), "127.0.0.1") {
			args = append(args, "--host", h)
		}
	}
	for _, op := range append([]string{"admin"}, opts.Operators...) {
		args = append(args, "--operator", op)
	}
	if out, err := exec.Command(c.Bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("certs init: %v\n%s", err, out)
	}
	if opts.Roles != "" {
		c.Roles = filepath.Join(c.CertDir, "roles.yaml")
		if err := os.WriteFile(c.Roles, []byte(opts.Roles), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := t.TempDir()
	for i := range n {
		nd := &Node{ID: fmt.Sprintf("cp%d", i+1), DataDir: filepath.Join(base, fmt.Sprintf("cp%d", i+1))}
		if c.net != nil {
			nd.RaftAddr, nd.GRPCAddr, nd.HTTPAddr = c.net.Addr(i, 7100), c.net.Addr(i, 7200), c.net.Addr(i, 7300)
		} else {
			nd.RaftAddr, nd.GRPCAddr, nd.HTTPAddr = FreeAddr(t), FreeAddr(t), FreeAddr(t)
		}
		c.Nodes = append(c.Nodes, nd)
	}
	if opts.RaftProxy || opts.RaftDelay > 0 {
		for i, nd := range c.Nodes {
			nd.Proxy = c.raftProxy(i, opts.RaftDelay)
			t.Cleanup(nd.Proxy.Close)
		}
	}
	t.Cleanup(c.Stop)
	for i := range c.Nodes {
		c.Start(i)
	}
	// Generous: race-built servers share two cores with everything else a CI run does.
	for i := range c.Nodes {
		c.WaitLeader(i, 90*time.Second)
	}
	return c
}

// Start starts node i (again). The first node bootstraps and the others join the first;
// both flags are ignored by a node whose data dir holds state.
func (c *Cluster) Start(i int) {
	c.t.Helper()
	nd := c.Nodes[i]
	args := []string{"server", "--id", nd.ID, "--data-dir", nd.DataDir,
		"--raft-addr", nd.RaftAddr, "--grpc-addr", nd.GRPCAddr, "--http-addr", nd.HTTPAddr,
		"--tls-ca", c.CA(), "--tls-cert", filepath.Join(c.CertDir, "server.pem"), "--tls-key", filepath.Join(c.CertDir, "server-key.pem"),
		"--log-level", "debug"}
	if c.Roles != "" {
		args = append(args, "--roles", c.Roles)
	}
	if nd.Proxy != nil {
		args = append(args, "--raft-advertise", nd.Proxy.Addr())
	}
	args = append(args, c.args...)
	if i == 0 {
		args = append(args, "--bootstrap")
	} else {
		args = append(args, "--join", c.Nodes[0].GRPCAddr)
	}
	nd.logs = &bytes.Buffer{}
	cmd := exec.Command(c.Bin, args...)
	if c.net != nil {
		cmd = c.net.NodeCommand(i, c.Bin, args...)
	}
	cmd.Stdout = &lockedWriter{w: nd.logs}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start %s: %v", nd.ID, err)
	}
	nd.cmd = cmd
	nd.done = make(chan struct{})
	go func() { cmd.Wait(); close(nd.done) }()
}

// Kill sends SIGKILL to node i and waits for it to die.
func (c *Cluster) Kill(i int) {
	nd := c.Nodes[i]
	if nd.cmd == nil {
		return
	}
	_ = nd.cmd.Process.Signal(syscall.SIGKILL)
	<-nd.done
	nd.cmd = nil
}

// raftProxy starts node i's raft proxy: on loopback, or inside the node's own namespace,
// so a partition cuts the proxy off with the node.
func (c *Cluster) raftProxy(i int, delay time.Duration) *DelayProxy {
	c.t.Helper()
	nd := c.Nodes[i]
	if c.net == nil {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			c.t.Fatal(err)
		}
		return NewDelayProxy(ln, nd.RaftAddr, delay, nil)
	}
	ln, err := c.net.ListenNode(i, c.net.Addr(i, 7101))
	if err != nil {
		c.t.Fatal(err)
	}
	return NewDelayProxy(ln, nd.RaftAddr, delay, c.net.DialNode(i))
}

// SetRaftDelay sets the one-way delay on every node's raft proxy.
func (c *Cluster) SetRaftDelay(d time.Duration) {
	for _, nd := range c.Nodes {
		if nd.Proxy != nil {
			nd.Proxy.SetDelay(d)
		}
	}
}

// Signal sends sig to node i, if it runs.
func (c *Cluster) Signal(i int, sig os.Signal) {
	if nd := c.Nodes[i]; nd.cmd != nil {
		_ = nd.cmd.Process.Signal(sig)
	}
}

// Running reports whether node i has a process (it may be stopped by SIGSTOP).
func (c *Cluster) Running(i int) bool { return c.Nodes[i].cmd != nil }

// Stop terminates every node and, if the test failed, logs their output.
func (c *Cluster) Stop() {
	for i, nd := range c.Nodes {
		if nd.cmd != nil {
			_ = nd.cmd.Process.Signal(syscall.SIGCONT) // a node a test stopped cannot hear SIGTERM
			_ = nd.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-nd.done:
			case <-time.After(5 * time.Second):
				c.Kill(i)
			}
			nd.cmd = nil
		}
		if c.t.Failed() && nd.logs != nil {
			c.t.Logf("---- logs of %s ----\n%s", nd.ID, tail(nd.logs.String(), 60))
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// CA is the CA certificate path.
func (c *Cluster) CA() string { return filepath.Join(c.CertDir, "ca.pem") }

// Health is what /healthz answers.
type Health struct {
	Status   string `json:"status"`
	State    string `json:"state"`
	LeaderID string `json:"leader_id"`
	NodeID   string `json:"node_id"`
}

// Health reads node i's /healthz.
func (c *Cluster) Health(i int) (Health, error) {
	var h Health
	// Bounded: a node under SIGSTOP accepts the connection and never answers.
	get := (&http.Client{Timeout: 2 * time.Second}).Get
	if c.net != nil {
		get = c.net.HTTPClient().Get
	}
	resp, err := get("http://" + c.Nodes[i].HTTPAddr + "/healthz")
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&h)
	return h, err
}

// WaitLeader polls node i until it knows a leader other than except, and returns the
// leader's index in Nodes.
func (c *Cluster) WaitLeader(i int, timeout time.Duration, except ...string) int {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if h, err := c.Health(i); err == nil && h.LeaderID != "" && !slices.Contains(except, h.LeaderID) {
			for j, nd := range c.Nodes {
				if nd.ID == h.LeaderID {
					return j
				}
			}
		}
		time.Sleep(50 * time.Millisecond) // polling interval, not a wait for a condition
	}
	c.t.Fatalf("node %s saw no leader within %s", c.Nodes[i].ID, timeout)
	return -1
}

// LeaderIndex asks the running nodes, in turn, which node leads; ok is false when none
// answers with a leader.
func (c *Cluster) LeaderIndex() (int, bool) {
	for i, nd := range c.Nodes {
		if nd.cmd == nil {
			continue
		}
		h, err := c.Health(i)
		if err != nil || h.LeaderID == "" {
			continue
		}
		for j, other := range c.Nodes {
			if other.ID == h.LeaderID {
				return j, true
			}
		}
	}
	return 0, false
}

// Addrs is the comma-separated gRPC address list of the given nodes (all when none given).
func (c *Cluster) Addrs(idx ...int) string {
	if len(idx) == 0 {
		for i := range c.Nodes {
			idx = append(idx, i)
		}
	}
	var a []string
	for _, i := range idx {
		a = append(a, c.Nodes[i].GRPCAddr)
	}
	return strings.Join(a, ",")
}

// Env is the environment that makes the kirikae CLI act as `as` (a certificate name such
// as operator-sam) against every node, for long-running commands started with StartProc.
func (c *Cluster) Env(as string) []string {
	return append([]string{"KIRIKAE_ADDR=" + c.Addrs()}, c.certEnv(as)...)
}

// certEnv makes the CLI present as's certificate.
func (c *Cluster) certEnv(as string) []string {
	return []string{"KIRIKAE_CA=" + c.CA(), "KIRIKAE_CERT=" + filepath.Join(c.CertDir, as+".pem"), "KIRIKAE_KEY=" + filepath.Join(c.CertDir, as+"-key.pem")}
}

// CLI runs the kirikae binary as operator `as` against addrs and returns stdout, stderr
// and the error.
func (c *Cluster) CLI(ctx context.Context, as, addrs string, args ...string) (string, string, error) {
	cmd := exec.CommandContext(ctx, c.Bin, args...)
	if c.net != nil {
		cmd = c.net.ClientCommand(ctx, c.Bin, args...)
	}
	cmd.Env = append(os.Environ(), "KIRIKAE_ADDR="+addrs)
	if as != "" {
		cmd.Env = append(cmd.Env, c.certEnv(as)...)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// MustCLI is CLI that fails the test on error.
func (c *Cluster) MustCLI(as, addrs string, args ...string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, errOut, err := c.CLI(ctx, as, addrs, args...)
	if err != nil {
		c.t.Fatalf("kirikae %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
