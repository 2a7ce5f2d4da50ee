package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Net is a private network of Linux network namespaces for partition tests: a switch
// namespace holding a bridge, one namespace per node and one for clients, each wired to the
// bridge by a veth pair. Nothing is added to the host's own namespace; everything goes
// when the test ends. It needs root and iproute2 (`ip`).
//
// Node i has address 10.<subnet>.0.<i+1>; the client namespace has .100. Partition cuts a
// node's cable at the switch, so it can reach nobody and nobody can reach it.
type Net struct {
	t      testing.TB
	prefix string
	subnet int
	nodes  int
}

// NewNet creates the switch, n node namespaces and a client namespace. Without root or
// iproute2 it fails the test, naming what is missing.
func NewNet(t testing.TB, n int) *Net {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("partition tests need iproute2 (`ip`): %v (Debian: apt-get install iproute2)", err)
	}
	if os.Geteuid() != 0 {
		t.Fatalf("partition tests need root to create network namespaces (running as uid %d)", os.Geteuid())
	}
	pid := os.Getpid() % 10000
	nw := &Net{t: t, prefix: fmt.Sprintf("kk%d", pid), subnet: 64 + pid%128, nodes: n}
	t.Cleanup(nw.remove)
	nw.ip("netns", "add", nw.ns("sw"))
	nw.ip("-n", nw.ns("sw"), "link", "add", "br0", "type", "bridge")
	nw.ip("-n", nw.ns("sw"), "link", "set", "br0", "up")
	for i := range n {
		nw.wire(fmt.Sprintf("n%d", i+1), i+1)
	}
	nw.wire("cl", 100)
	return nw
}

func (nw *Net) ns(name string) string { return nw.prefix + "-" + name }

func (nw *Net) ip(args ...string) {
	nw.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		nw.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// wire creates namespace name with address host on the bridge: eth0 inside, p-<name> at
// the switch.
func (nw *Net) wire(name string, host int) {
	ns := nw.ns(name)
	nw.ip("netns", "add", ns)
	nw.ip("-n", ns, "link", "set", "lo", "up")
	nw.ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "p-"+name, "netns", nw.ns("sw"))
	nw.ip("-n", ns, "addr", "add", fmt.Sprintf("10.%d.0.%d/24", nw.subnet, host), "dev", "eth0")
	nw.ip("-n", ns, "link", "set", "eth0", "up")
	nw.ip("-n", nw.ns("sw"), "link", "set", "p-"+name, "master", "br0")
	nw.ip("-n", nw.ns("sw"), "link", "set", "p-"+name, "up")
}

func (nw *Net) remove() {
	for i := range nw.nodes {
		_ = exec.Command("ip", "netns", "del", nw.ns(fmt.Sprintf("n%d", i+1))).Run()
	}
	_ = exec.Command("ip", "netns", "del", nw.ns("cl")).Run()
	_ = exec.Command("ip", "netns", "del", nw.ns("sw")).Run()
}

// Addr is node i's address with port.
func (nw *Net) Addr(i, port int) string { return fmt.Sprintf("10.%d.0.%d:%d", nw.subnet, i+1, port) }

// Hosts are the node addresses, for the server certificate.
func (nw *Net) Hosts() []string {
	var h []string
	for i := range nw.nodes {
		h = append(h, fmt.Sprintf("10.%d.0.%d", nw.subnet, i+1))
	}
	return h
}

// NodeCommand runs a program inside node i's namespace.
func (nw *Net) NodeCommand(i int, bin string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", nw.ns(fmt.Sprintf("n%d", i+1)), bin}, args...)...)
}

// ClientCommand runs a program inside the client namespace.
func (nw *Net) ClientCommand(ctx context.Context, bin string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", nw.ns("cl"), bin}, args...)...)
}

// Partition cuts node i off from everyone; Heal reconnects it.
func (nw *Net) Partition(i int) {
	nw.ip("-n", nw.ns("sw"), "link", "set", fmt.Sprintf("p-n%d", i+1), "down")
}

// Heal reconnects node i.
func (nw *Net) Heal(i int) { nw.ip("-n", nw.ns("sw"), "link", "set", fmt.Sprintf("p-n%d", i+1), "up") }

// DialContext dials from the client namespace: the socket is made on an OS thread moved
// into that namespace, and keeps it after the thread moves back.
func (nw *Net) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return inNamespace(nw.ns("cl"), func() (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	})
}

// DialNode dials TCP from inside node i's own namespace, where the node is reachable even
// while it is partitioned from the others (grpc.WithContextDialer takes it).
func (nw *Net) DialNode(i int) func(ctx context.Context, addr string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		return inNamespace(nw.ns(fmt.Sprintf("n%d", i+1)), func() (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		})
	}
}

// ListenNode listens on addr inside node i's namespace: the socket stays there, while the
// goroutine that accepts on it runs anywhere.
func (nw *Net) ListenNode(i int, addr string) (net.Listener, error) {
	return inNamespace(nw.ns(fmt.Sprintf("n%d", i+1)), func() (net.Listener, error) {
		return net.Listen("tcp", addr)
	})
}

// inNamespace makes a socket inside namespace ns: on an OS thread moved into ns for the
// call and moved back after it; the socket keeps its namespace.
func inNamespace[T io.Closer](ns string, open func() (T, error)) (T, error) {
	var zero T
	target, err := os.Open("/var/run/netns/" + ns)
	if err != nil {
		return zero, err
	}
	defer target.Close()
	runtime.LockOSThread()
	home, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return zero, err
	}
	defer home.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return zero, fmt.Errorf("enter netns %s: %w", ns, err)
	}
	v, merr := open()
	if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread is stuck in the wrong namespace: it stays locked, so it dies with
		// this goroutine instead of running others.
		if merr == nil {
			v.Close()
		}
		return zero, fmt.Errorf("leave netns %s: %w", ns, err)
	}
	runtime.UnlockOSThread()
	return v, merr
}

// HTTPClient reaches the nodes from the client namespace.
func (nw *Net) HTTPClient() *http.Client {
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: nw.DialContext, DisableKeepAlives: true}}
}
