package bench_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/kirikae/kirikae/integration"
	"github.com/kirikae/kirikae/security"
)

// The etcd benchmarks run the same loads as BenchmarkGetActiveRegion and
// BenchmarkLeaderFailover against a 3-member etcd cluster on the same machine, with the
// same mTLS certificates (client and peer), so the two can be read side by side:
//
//	go test -run '^$' -bench 'GetActiveRegion|LeaderFailover|Etcd' -benchtime 1x ./bench/
//
// They need Debian's etcd-server (`apt-get install etcd-server`), and skip without it.

// etcdKey is what the reads read: the active region, as a service would keep it in etcd.
const etcdKey = "/kirikae/active-region"

type etcdMember struct {
	name, client, peer, dir string
	cmd                     *exec.Cmd
	done                    chan struct{}
}

type etcdCluster struct {
	b       *testing.B
	bin     string
	certs   string
	members []*etcdMember
	initial string
}

func startEtcd(b *testing.B) *etcdCluster {
	b.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		b.Skip("etcd is not installed (Debian: apt-get install etcd-server); skipping the side-by-side etcd figures")
	}
	dir := b.TempDir()
	certs := filepath.Join(dir, "certs")
	if _, err := security.GenerateCerts(certs, security.CertOptions{Regions: []string{"us-east-1", "us-west-2"}}); err != nil {
		b.Fatal(err)
	}
	c := &etcdCluster{b: b, bin: bin, certs: certs}
	var initial []string
	for i := range 3 {
		m := &etcdMember{name: fmt.Sprintf("e%d", i+1), client: "https://" + integration.FreeAddr(b), peer: "https://" + integration.FreeAddr(b),
			dir: filepath.Join(dir, fmt.Sprintf("e%d", i+1))}
		c.members = append(c.members, m)
		initial = append(initial, m.name+"="+m.peer)
	}
	c.initial = strings.Join(initial, ",")
	for i := range c.members {
		c.start(i)
	}
	b.Cleanup(func() {
		for i := range c.members {
			c.kill(i)
		}
	})
	return c
}

// start runs member i; a member restarted after a kill finds its data directory and rejoins.
func (c *etcdCluster) start(i int) {
	m := c.members[i]
	ca, cert, key := filepath.Join(c.certs, "ca.pem"), filepath.Join(c.certs, "server.pem"), filepath.Join(c.certs, "server-key.pem")
	m.cmd = exec.Command(c.bin, "--name", m.name, "--data-dir", m.dir,
		"--listen-client-urls", m.client, "--advertise-client-urls", m.client,
		"--listen-peer-urls", m.peer, "--initial-advertise-peer-urls", m.peer,
		"--initial-cluster", c.initial, "--initial-cluster-state", "new", "--initial-cluster-token", "kirikae-bench",
		"--cert-file", cert, "--key-file", key, "--trusted-ca-file", ca, "--client-cert-auth",
		"--peer-cert-file", cert, "--peer-key-file", key, "--peer-trusted-ca-file", ca, "--peer-client-cert-auth",
		"--logger", "zap", "--log-outputs", filepath.Join(filepath.Dir(m.dir), m.name+".log"))
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		c.b.Fatalf("etcd %s: %v", m.name, err)
	}
	m.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(m.cmd, m.done)
}

func (c *etcdCluster) kill(i int) {
	m := c.members[i]
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
	m.cmd = nil
}

// client dials one member with the operator certificate, as kirikae's clients do.
func (c *etcdCluster) client(endpoints ...string) *clientv3.Client {
	c.b.Helper()
	tlsConf, err := security.ClientTLS(filepath.Join(c.certs, "ca.pem"), filepath.Join(c.certs, "operator-admin.pem"), filepath.Join(c.certs, "operator-admin-key.pem"))
	if err != nil {
		c.b.Fatal(err)
	}
	cl, err := clientv3.New(clientv3.Config{Endpoints: endpoints, TLS: tlsConf, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		c.b.Fatal(err)
	}
	c.b.Cleanup(func() { cl.Close() })
	return cl
}

// waitReady waits until a linearizable read through every member succeeds.
func (c *etcdCluster) waitReady() {
	c.b.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for _, m := range c.members {
		cl := c.client(m.client)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err := cl.Get(ctx, etcdKey)
			cancel()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				c.b.Fatalf("etcd %s not ready: %v", m.name, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// leader returns the index of the member that leads, or -1.
func (c *etcdCluster) leader() int {
	for i, m := range c.members {
		if m.cmd == nil {
			continue
		}
		cl := c.client(m.client)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := cl.Status(ctx, m.client)
		cancel()
		if err == nil && st.Header.GetMemberId() == st.Leader {
			return i
		}
	}
	return -1
}

// BenchmarkEtcdRange is BenchmarkGetActiveRegion's load against etcd: one key, 24 client
// connections spread over the three members, linearizable reads (etcd's default) and
// serializable reads (its stale reads, from the member's local store).
func BenchmarkEtcdRange(b *testing.B) {
	c := startEtcd(b)
	c.waitReady()
	ctx := context.Background()
	if _, err := c.client(c.members[0].client).Put(ctx, etcdKey, "us-east-1"); err != nil {
		b.Fatal(err)
	}
	var clients []*clientv3.Client
	for range 8 {
		for _, m := range c.members {
			clients = append(clients, c.client(m.client))
		}
	}
	for _, serializable := range []bool{false, true} {
		for _, conc := range []int{1, 16, 256} {
			name := fmt.Sprintf("%s/c=%d", map[bool]string{false: "linearizable", true: "serializable"}[serializable], conc)
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					qps, p99 := etcdReadLoad(b, clients, serializable, conc)
					b.ReportMetric(qps, "reads/s")
					b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
				}
			})
		}
	}
}

func etcdReadLoad(b *testing.B, clients []*clientv3.Client, serializable bool, conc int) (float64, time.Duration) {
	var opts []clientv3.OpOption
	if serializable {
		opts = append(opts, clientv3.WithSerializable())
	}
	return load(b, conc, func(ctx context.Context, w int) error {
		resp, err := clients[w%len(clients)].Get(ctx, etcdKey, opts...)
		if err == nil && len(resp.Kvs) != 1 {
			err = errors.New("the active region key is missing")
		}
		return err
	})
}

// BenchmarkEtcdLeaderFailover is BenchmarkLeaderFailover against etcd with its default
// timeouts (100 ms heartbeat, 1 s election): kill -9 the leader, then time until a write
// through the survivors succeeds; 5 rounds.
func BenchmarkEtcdLeaderFailover(b *testing.B) {
	c := startEtcd(b)
	c.waitReady()
	const rounds = 5
	for b.Loop() {
		var ds []time.Duration
		for r := range rounds {
			leader := -1
			for deadline := time.Now().Add(30 * time.Second); leader < 0 && time.Now().Before(deadline); {
				if leader = c.leader(); leader < 0 {
					time.Sleep(100 * time.Millisecond)
				}
			}
			if leader < 0 {
				b.Fatal("etcd has no leader")
			}
			var survivors []string
			for i, m := range c.members {
				if i != leader {
					survivors = append(survivors, m.client)
				}
			}
			// One client per survivor, dialled before the kill, as kirikae's bench does.
			var cls []*clientv3.Client
			for _, s := range survivors {
				cls = append(cls, c.client(s))
			}
			killed := time.Now()
			c.kill(leader)
			ok := etcdWriteUntilOK(b, cls, r)
			ds = append(ds, ok.Sub(killed))
			c.start(leader)
			c.waitReady()
		}
		slices.Sort(ds)
		b.ReportMetric(float64(ds[len(ds)/2].Milliseconds()), "median-ms")
		b.ReportMetric(float64(ds[len(ds)-1].Milliseconds()), "max-ms")
		b.Logf("etcd: kill -9 leader -> first successful write, %d rounds: %v", rounds, ds)
	}
}

func etcdWriteUntilOK(b *testing.B, clients []*clientv3.Client, round int) time.Time {
	deadline := time.Now().Add(60 * time.Second)
	region := []string{"us-west-2", "us-east-1"}[round%2]
	for i := 0; time.Now().Before(deadline); i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		_, err := clients[i%len(clients)].Put(ctx, etcdKey, region)
		cancel()
		if err == nil {
			return time.Now()
		}
	}
	b.Fatal("no etcd write succeeded within 60s of killing the leader")
	return time.Time{}
}
