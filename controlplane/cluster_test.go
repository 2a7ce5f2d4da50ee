package controlplane_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/kirikae/kirikae/controlplane"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/runs"
	"github.com/kirikae/kirikae/security"
)

// testCluster is an in-process cluster with mTLS and short raft timeouts.
type testCluster struct {
	t     *testing.T
	certs string
	nodes []*controlplane.Instance
	cfgs  []controlplane.Config
}

type tLogWriter struct{ t *testing.T }

func (w tLogWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newTestCluster(t *testing.T, n int) *testCluster {
	return newTestClusterWith(t, n, "")
}

// newTestClusterWith starts a cluster whose servers read roles (YAML; empty for none) and
// compile plans with runs.Planner.
func newTestClusterWith(t *testing.T, n int, roles string) *testCluster {
	t.Helper()
	dir := t.TempDir()
	if _, err := security.GenerateCerts(dir, security.CertOptions{Operators: []string{"admin", "vic", "alice", "bob"}, Regions: []string{"us-east-1", "us-west-2"}}); err != nil {
		t.Fatal(err)
	}
	rolesFile := ""
	if roles != "" {
		rolesFile = filepath.Join(dir, "roles.yaml")
		if err := os.WriteFile(rolesFile, []byte(roles), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := &testCluster{t: t, certs: dir}
	logger := slog.New(slog.NewTextHandler(tLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for i := range n {
		cfg := controlplane.Config{
			ID: fmt.Sprintf("n%d", i+1), DataDir: filepath.Join(t.TempDir(), "data"),
			RaftAddr: freeAddr(t), GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			TLSCA: filepath.Join(dir, "ca.pem"), TLSCert: filepath.Join(dir, "server.pem"), TLSKey: filepath.Join(dir, "server-key.pem"),
			Timeouts: controlplane.RaftTimeouts{Heartbeat: 100 * time.Millisecond, Election: 100 * time.Millisecond,
				LeaderLease: 50 * time.Millisecond, Commit: 5 * time.Millisecond},
			Logger: logger, RolesFile: rolesFile, Planner: &runs.Planner{},
		}
		if i == 0 {
			cfg.Bootstrap = true
		} else {
			cfg.Join = c.nodes[0].GRPCAddr
		}
		inst, err := controlplane.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, inst)
		c.cfgs = append(c.cfgs, cfg)
	}
	t.Cleanup(func() {
		for _, nd := range c.nodes {
			if nd != nil {
				nd.Close()
			}
		}
	})
	c.waitMembers(n)
	return c
}

// waitMembers polls until every node sees n voters and a leader.
func (c *testCluster) waitMembers(n int) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ok := true
		for _, nd := range c.nodes {
			servers, err := nd.Node.Servers()
			if _, lid := nd.Node.Leader(); err != nil || len(servers) != n || lid == "" || len(nd.Node.FSM().Members()) != n {
				ok = false
			}
		}
		if ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("cluster of %d did not form", n)
}

func (c *testCluster) conn(i int, as string) *grpc.ClientConn {
	c.t.Helper()
	conf, err := security.ClientTLS(filepath.Join(c.certs, "ca.pem"), filepath.Join(c.certs, as+".pem"), filepath.Join(c.certs, as+"-key.pem"))
	if err != nil {
		c.t.Fatal(err)
	}
	cc, err := grpc.NewClient(c.nodes[i].GRPCAddr, grpc.WithTransportCredentials(credentials.NewTLS(conf)))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cc.Close() })
	return cc
}

func (c *testCluster) follower() int {
	for i, nd := range c.nodes {
		if !nd.Node.IsLeader() {
			return i
		}
	}
	c.t.Fatal("no follower")
	return -1
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestWriteOnFollowerIsForwarded(t *testing.T) {
	c := newTestCluster(t, 3)
	ctx := ctxT(t)
	admin := kirikaev1.NewRegionAdminServiceClient(c.conn(c.follower(), "operator-admin"))
	resp, err := admin.InitRegion(ctx, &kirikaev1.InitRegionRequest{Primary: "us-east-1", Secondary: "us-west-2"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetState().GetEpoch() != 1 || resp.GetState().GetActive() != "us-east-1" {
		t.Fatalf("init: %v", resp.GetState())
	}
	// A linearizable read on any node sees the write.
	for i := range c.nodes {
		got, err := kirikaev1.NewActiveRegionServiceClient(c.conn(i, "operator-vic")).GetActiveRegion(ctx, &kirikaev1.GetActiveRegionRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetState().GetActive() != "us-east-1" || got.GetRaftIndex() < resp.GetRaftIndex() {
			t.Fatalf("node %d: %v at %d, write was at %d", i, got.GetState(), got.GetRaftIndex(), resp.GetRaftIndex())
		}
	}
}

func TestSameRequestIDChangesStateOnce(t *testing.T) {
	c := newTestCluster(t, 3)
	ctx := ctxT(t)
	admin := kirikaev1.NewRegionAdminServiceClient(c.conn(c.follower(), "operator-admin"))
	if _, err := admin.InitRegion(ctx, &kirikaev1.InitRegionRequest{Primary: "us-east-1", Secondary: "us-west-2"}); err != nil {
		t.Fatal(err)
	}
	req := &kirikaev1.SetRegionRequest{Region: "us-west-2", Force: true, Reason: "retry test", RequestId: "req-1"}
	first, err := admin.SetRegion(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	// The same request again, through another node, as a client retry would send it.
	other := kirikaev1.NewRegionAdminServiceClient(c.conn((c.follower()+1)%3, "operator-admin"))
	second, err := other.SetRegion(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if first.GetState().GetEpoch() != 2 || second.GetState().GetEpoch() != 2 {
		t.Fatalf("epochs %d and %d, want 2 and 2", first.GetState().GetEpoch(), second.GetState().GetEpoch())
	}
	got, err := kirikaev1.NewActiveRegionServiceClient(c.conn(0, "operator-admin")).GetActiveRegion(ctx, &kirikaev1.GetActiveRegionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetState().GetEpoch() != 2 {
		t.Fatalf("epoch %d after a duplicated request, want 2", got.GetState().GetEpoch())
	}
}

// TestWatchResumesWithoutGap makes many changes while a watcher reconnects several times,
// to a different node each time, resuming from the last index it saw.
func TestWatchResumesWithoutGap(t *testing.T) {
	c := newTestCluster(t, 3)
	ctx := ctxT(t)
	admin := kirikaev1.NewRegionAdminServiceClient(c.conn(0, "operator-admin"))
	if _, err := admin.InitRegion(ctx, &kirikaev1.InitRegionRequest{Primary: "us-east-1", Secondary: "us-west-2"}); err != nil {
		t.Fatal(err)
	}
	const changes = 60
	writerDone := make(chan error, 1)
	go func() {
		regions := []string{"us-west-2", "us-east-1"}
		for i := range changes {
			if _, err := admin.SetRegion(ctx, &kirikaev1.SetRegionRequest{Region: regions[i%2], Force: true, Reason: fmt.Sprint(i)}); err != nil {
				writerDone <- err
				return
			}
		}
		writerDone <- nil
	}()

	var epochs []uint64
	var last uint64
	for reconnect := 0; len(epochs) == 0 || epochs[len(epochs)-1] < changes+1; reconnect++ {
		wctx, cancel := context.WithCancel(ctx)
		stream, err := kirikaev1.NewActiveRegionServiceClient(c.conn(reconnect%3, "operator-vic")).
			WatchActiveRegion(wctx, &kirikaev1.WatchActiveRegionRequest{FromIndex: last})
		if err != nil {
			t.Fatal(err)
		}
		// Read a few messages, then drop the stream.
		for range 7 {
			msg, err := stream.Recv()
			if err != nil {
				t.Fatalf("recv: %v", err)
			}
			if msg.GetIndex() <= last && last != 0 {
				t.Fatalf("index went back: %d after %d", msg.GetIndex(), last)
			}
			last = msg.GetIndex()
			epochs = append(epochs, msg.GetState().GetEpoch())
			if msg.GetState().GetEpoch() == changes+1 {
				break
			}
		}
		cancel()
	}
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	// The first message of a watch from 0 may start at any epoch; from there every epoch
	// must appear exactly once, in order.
	for i := 1; i < len(epochs); i++ {
		if epochs[i] != epochs[i-1]+1 {
			t.Fatalf("gap or duplicate in epochs: %v", epochs)
		}
	}
}

func TestStaleReadSaysHowStale(t *testing.T) {
	c := newTestCluster(t, 3)
	ctx := ctxT(t)
	f := c.follower()
	got, err := kirikaev1.NewActiveRegionServiceClient(c.conn(f, "operator-vic")).GetActiveRegion(ctx,
		&kirikaev1.GetActiveRegionRequest{Consistency: kirikaev1.Consistency_CONSISTENCY_STALE})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetConsistency() != kirikaev1.Consistency_CONSISTENCY_STALE || got.GetNodeId() != c.cfgs[f].ID || got.GetLeaderId() == "" {
		t.Fatalf("stale read: %v", got)
	}
	if got.GetInitialized() {
		t.Fatal("uninitialized cluster reported initialized")
	}
}

func TestLinearizableReadAfterLeaderLoss(t *testing.T) {
	c := newTestCluster(t, 3)
	ctx := ctxT(t)
	if _, err := kirikaev1.NewRegionAdminServiceClient(c.conn(0, "operator-admin")).InitRegion(ctx,
		&kirikaev1.InitRegionRequest{Primary: "us-east-1", Secondary: "us-west-2"}); err != nil {
		t.Fatal(err)
	}
	var leader int
	for i, nd := range c.nodes {
		if nd.Node.IsLeader() {
			leader = i
		}
	}
	c.nodes[leader].Close()
	c.nodes[leader] = nil
	survivor := (leader + 1) % 3
	got, err := kirikaev1.NewActiveRegionServiceClient(c.conn(survivor, "operator-vic")).GetActiveRegion(ctx, &kirikaev1.GetActiveRegionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetState().GetActive() != "us-east-1" || got.GetLeaderId() == c.cfgs[leader].ID {
		t.Fatalf("after leader loss: %v", got)
	}
}

const approvalPlan = `apiVersion: kirikae/v1
kind: Plan
name: approval-test
runKind: recovery
steps:
  - id: approve
    action: approval
    with: {roles: [sysadmin, manager]}
`

// TestApproveNeedsTheRole checks the edge: a caller may approve only under a role the
// roles file gives them, and the step completes once distinct people cover every role.
func TestApproveNeedsTheRole(t *testing.T) {
	c := newTestClusterWith(t, 3, "operators:\n  admin: [admin]\n  vic: [viewer]\n  alice: [sysadmin, operator]\n  bob: [manager]\n")
	ctx := ctxT(t)
	if _, err := kirikaev1.NewRegionAdminServiceClient(c.conn(0, "operator-admin")).InitRegion(ctx,
		&kirikaev1.InitRegionRequest{Primary: "us-east-1", Secondary: "us-west-2"}); err != nil {
		t.Fatal(err)
	}
	decl, err := kirikaev1.NewRunServiceClient(c.conn(1, "operator-alice")).Declare(ctx, &kirikaev1.DeclareRequest{
		PlanSource: []byte(approvalPlan), Reason: "approval test"})
	if err != nil {
		t.Fatal(err)
	}
	id := decl.GetRun().GetId()
	approve := func(as, role string) error {
		_, err := kirikaev1.NewRunServiceClient(c.conn(2, "operator-"+as)).Approve(ctx, &kirikaev1.ApproveRequest{RunId: id, StepId: "approve", Role: role})
		return err
	}
	waitStep := func(want kirikaev1.StepStatus) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if r := c.nodes[0].Node.FSM().Run(id); r != nil && r.GetSteps()[0].GetStatus() == want {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("step never reached %v", want)
	}
	waitStep(kirikaev1.StepStatus_STEP_STATUS_WAITING)
	for _, tc := range []struct{ who, role string }{{"vic", "manager"}, {"alice", "manager"}, {"bob", "sysadmin"}} {
		if err := approve(tc.who, tc.role); status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s approving as %s: %v, want PermissionDenied", tc.who, tc.role, err)
		}
	}
	if err := approve("alice", "sysadmin"); err != nil {
		t.Fatal(err)
	}
	// Node 0 is a replica: the approval, committed through node 2, reaches it when node 0
	// applies it. Wait for that, then check the step still waits for the second approver.
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := c.nodes[0].Node.FSM().Run(id).GetSteps()[0]
		if len(st.GetApprovals()) == 1 {
			if st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_WAITING {
				t.Fatalf("after one approval: %v, want still waiting", st.GetStatus())
			}
			break
		}
		if len(st.GetApprovals()) > 1 || time.Now().After(deadline) {
			t.Fatalf("after one approval: %v with %d approvals", st.GetStatus(), len(st.GetApprovals()))
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	if err := approve("bob", "manager"); err != nil {
		t.Fatal(err)
	}
	waitStep(kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED)
}
