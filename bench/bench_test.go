package bench_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/integration"
	"github.com/kirikae/kirikae/security"
)

func TestMain(m *testing.M) {
	// Benchmarks measure the product, not the race detector.
	os.Setenv("KIRIKAE_NO_RACE", "1")
	os.Exit(m.Run())
}

// measure is how long each read configuration runs.
var measure = 3 * time.Second

func dial(b *testing.B, c *integration.Cluster, addr string) *grpc.ClientConn {
	b.Helper()
	conf, err := security.ClientTLS(c.CA(), filepath.Join(c.CertDir, "operator-admin.pem"), filepath.Join(c.CertDir, "operator-admin-key.pem"))
	if err != nil {
		b.Fatal(err)
	}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(conf)),
		grpc.WithInitialWindowSize(1<<20), grpc.WithInitialConnWindowSize(1<<22))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cc.Close() })
	return cc
}

func initRegion(b *testing.B, c *integration.Cluster) {
	c.MustCLI("operator-admin", c.Addrs(), "region", "init", "--primary", "us-east-1", "--secondary", "us-west-2")
}

// BenchmarkGetActiveRegion reports reads per second against a 3-node mTLS cluster, with
// clients spread over every node, at each consistency and concurrency.
func BenchmarkGetActiveRegion(b *testing.B) {
	c := integration.NewCluster(b, 3, integration.Options{})
	initRegion(b, c)
	// Eight connections per node, like a few client processes each.
	var conns []kirikaev1.ActiveRegionServiceClient
	for range 8 {
		for _, nd := range c.Nodes {
			conns = append(conns, kirikaev1.NewActiveRegionServiceClient(dial(b, c, nd.GRPCAddr)))
		}
	}
	for _, cons := range []kirikaev1.Consistency{kirikaev1.Consistency_CONSISTENCY_LINEARIZABLE, kirikaev1.Consistency_CONSISTENCY_STALE} {
		for _, conc := range []int{1, 16, 256} {
			name := fmt.Sprintf("%s/c=%d", map[kirikaev1.Consistency]string{
				kirikaev1.Consistency_CONSISTENCY_LINEARIZABLE: "linearizable", kirikaev1.Consistency_CONSISTENCY_STALE: "stale"}[cons], conc)
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					qps, p99 := readLoad(b, conns, cons, conc)
					b.ReportMetric(qps, "reads/s")
					b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
				}
			})
		}
	}
}

func readLoad(b *testing.B, conns []kirikaev1.ActiveRegionServiceClient, cons kirikaev1.Consistency, conc int) (float64, time.Duration) {
	req := &kirikaev1.GetActiveRegionRequest{Consistency: cons}
	return load(b, conc, func(ctx context.Context, w int) error {
		_, err := conns[w%len(conns)].GetActiveRegion(ctx, req)
		return err
	})
}

// load runs conc workers calling read for the measure time and returns the reads per
// second and the 99th percentile latency. Worker w passes its index, to pick its client.
func load(b *testing.B, conc int, read func(ctx context.Context, w int) error) (float64, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), measure+10*time.Second)
	defer cancel()
	stop := time.Now().Add(measure)
	var total atomic.Int64
	lat := make([][]time.Duration, conc)
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for w := range conc {
		wg.Go(func() {
			for time.Now().Before(stop) {
				t0 := time.Now()
				if err := read(ctx, w); err != nil {
					failed.Store(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
				total.Add(1)
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	return float64(total.Load()) / time.Since(start).Seconds(), all[len(all)*99/100]
}

// BenchmarkWatchFanout reports the latency from the leader stamping a region change (just
// before it is proposed) until each watcher receives it, with watchers spread over all nodes.
func BenchmarkWatchFanout(b *testing.B) {
	c := integration.NewCluster(b, 3, integration.Options{})
	initRegion(b, c)
	admin := kirikaev1.NewRegionAdminServiceClient(dial(b, c, c.Nodes[0].GRPCAddr))
	var conns []kirikaev1.ActiveRegionServiceClient
	for range 16 {
		for _, nd := range c.Nodes {
			conns = append(conns, kirikaev1.NewActiveRegionServiceClient(dial(b, c, nd.GRPCAddr)))
		}
	}
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("watchers=%d", n), func(b *testing.B) {
			for b.Loop() {
				p50, p99, max := watchRound(b, conns, admin, n)
				b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(max.Microseconds())/1000, "max-ms")
			}
		})
	}
}

func watchRound(b *testing.B, conns []kirikaev1.ActiveRegionServiceClient, admin kirikaev1.RegionAdminServiceClient, n int) (p50, p99, max time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	type sample struct {
		d   time.Duration
		err error
	}
	ready := make(chan error, n)
	results := make(chan sample, n)
	for i := range n {
		go func() {
			s, err := conns[i%len(conns)].WatchActiveRegion(wctx, &kirikaev1.WatchActiveRegionRequest{})
			if err == nil {
				_, err = s.Recv() // the current state
			}
			ready <- err
			if err != nil {
				return
			}
			msg, err := s.Recv()
			if err != nil {
				results <- sample{err: err}
				return
			}
			results <- sample{d: time.Since(time.Unix(0, msg.GetState().GetChangedUnixNano()))}
		}()
	}
	for range n {
		if err := <-ready; err != nil {
			b.Fatal(err)
		}
	}
	// Move the active region and measure delivery of that one change to every watcher.
	cur, err := conns[0].GetActiveRegion(ctx, &kirikaev1.GetActiveRegionRequest{})
	if err != nil {
		b.Fatal(err)
	}
	next := "us-west-2"
	if cur.GetState().GetActive() == next {
		next = "us-east-1"
	}
	if _, err := admin.SetRegion(ctx, &kirikaev1.SetRegionRequest{Region: next, Force: true, Reason: "bench"}); err != nil {
		b.Fatal(err)
	}
	var ds []time.Duration
	for range n {
		s := <-results
		if s.err != nil {
			b.Fatal(s.err)
		}
		ds = append(ds, s.d)
	}
	slices.Sort(ds)
	return ds[len(ds)/2], ds[len(ds)*99/100], ds[len(ds)-1]
}

// BenchmarkLeaderFailover kills the leader with SIGKILL and reports the time until a write
// sent to the survivors succeeds, over several rounds.
func BenchmarkLeaderFailover(b *testing.B) {
	c := integration.NewCluster(b, 3, integration.Options{})
	initRegion(b, c)
	for b.Loop() {
		failoverRounds(b, c, 5)
	}
}

// wanTimeouts suit raft links with tens of milliseconds each way: heartbeats every 100 ms
// instead of 40, and a follower waits 1 to 2 s, not 0.4 to 0.8 s, before it calls an
// election, so a slow round trip is not taken for a dead leader.
var wanTimeouts = []string{"--raft-heartbeat-timeout", "1s", "--raft-election-timeout", "1s",
	"--raft-leader-lease-timeout", "500ms", "--raft-commit-timeout", "50ms"}

// BenchmarkLeaderFailoverWAN is BenchmarkLeaderFailover with 40 ms added each way on every
// raft link (a user-space delay proxy), at the default raft timeouts and at WAN ones.
func BenchmarkLeaderFailoverWAN(b *testing.B) {
	for _, tc := range []struct {
		name string
		args []string
	}{{"default-timeouts", nil}, {"wan-timeouts", wanTimeouts}} {
		b.Run(tc.name, func(b *testing.B) {
			c := integration.NewCluster(b, 3, integration.Options{RaftDelay: 40 * time.Millisecond, ServerArgs: tc.args})
			initRegion(b, c)
			for b.Loop() {
				failoverRounds(b, c, 5)
			}
		})
	}
}

// failoverRounds kills the leader rounds times, each time measuring until a write through
// the survivors succeeds, and reports the median and the maximum.
func failoverRounds(b *testing.B, c *integration.Cluster, rounds int) {
	var ds []time.Duration
	for r := range rounds {
		leader := c.WaitLeader(0, 20*time.Second)
		if leader == 0 {
			leader = c.WaitLeader(1, 20*time.Second)
		}
		var survivors []kirikaev1.RegionAdminServiceClient
		for i, nd := range c.Nodes {
			if i != leader {
				survivors = append(survivors, kirikaev1.NewRegionAdminServiceClient(dial(b, c, nd.GRPCAddr)))
			}
		}
		killed := time.Now()
		c.Kill(leader)
		d := writeUntilOK(b, survivors, r)
		ds = append(ds, d.Sub(killed))
		c.Start(leader)
		for i := range c.Nodes {
			c.WaitLeader(i, 30*time.Second)
		}
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Milliseconds()), "median-ms")
	b.ReportMetric(float64(ds[len(ds)-1].Milliseconds()), "max-ms")
	b.Logf("kill -9 leader -> first successful write, %d rounds: %v", rounds, ds)
}

func writeUntilOK(b *testing.B, clients []kirikaev1.RegionAdminServiceClient, round int) time.Time {
	deadline := time.Now().Add(60 * time.Second)
	region := []string{"us-west-2", "us-east-1"}[round%2]
	id := fmt.Sprintf("failover-bench-%d-%d", time.Now().UnixNano(), round)
	for i := 0; time.Now().Before(deadline); i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		_, err := clients[i%len(clients)].SetRegion(ctx, &kirikaev1.SetRegionRequest{Region: region, Force: true, Reason: "failover bench", RequestId: id})
		cancel()
		if err == nil {
			return time.Now()
		}
	}
	b.Fatal("no write succeeded within 60s of killing the leader")
	return time.Time{}
}
