package controlplane_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/kirikae/kirikae/agent"
	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/agent/readiness"
	"github.com/kirikae/kirikae/controlplane"
	"github.com/kirikae/kirikae/deploy"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
	"github.com/kirikae/kirikae/system"
)

// activeELB answers that every load balancer asked for exists and is active: the readiness
// check then reports the name the system gave it.
type activeELB struct{ readiness.ELBAPI }

func (activeELB) DescribeLoadBalancers(_ context.Context, in *elbv2.DescribeLoadBalancersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error) {
	var out []elbtypes.LoadBalancer
	for _, n := range in.Names {
		out = append(out, elbtypes.LoadBalancer{LoadBalancerName: aws.String(n), DNSName: aws.String(n + ".elb.example"),
			State: &elbtypes.LoadBalancerState{Code: elbtypes.LoadBalancerStateEnumActive}})
	}
	return &elbv2.DescribeLoadBalancersOutput{LoadBalancers: out}, nil
}

// recordingChecks runs the real readiness checks and remembers the system of each run.
type recordingChecks struct {
	chk  *readiness.Checker
	mu   sync.Mutex
	seen []*system.System
}

func (r *recordingChecks) run(ctx context.Context, sys *system.System) []*kirikaev1.ReadinessCheck {
	r.mu.Lock()
	r.seen = append(r.seen, sys)
	r.mu.Unlock()
	return r.chk.Run(ctx, sys)
}

func (r *recordingChecks) last() *system.System {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) == 0 {
		return nil
	}
	return r.seen[len(r.seen)-1]
}

// TestAgentReadinessFollowsTheStoredSystem: an agent connected to a real control plane is
// not ready before any system is stored, with system.stored as the reason; an apply
// reaches it over its stream and its next report names the system's resources; a second
// apply (another digest) reaches the still-connected agent; a restarted agent has the last
// system from its data dir before it can reconnect.
func TestAgentReadinessFollowsTheStoredSystem(t *testing.T) {
	const west = "us-west-2"
	c := newTestCluster(t, 3)
	ctx := ctxT(t)
	chk, err := readiness.New(ctx, readiness.Config{Region: west, Clients: &readiness.Clients{ELB: activeELB{}}})
	if err != nil {
		t.Fatal(err)
	}
	checks := &recordingChecks{chk: chk}
	var addrs []string
	for _, nd := range c.nodes {
		addrs = append(addrs, nd.GRPCAddr)
	}
	cert, key := security.AgentFiles(west)
	cfg := agent.Config{
		ID: west + "/test", Region: west, ControlPlane: addrs, DataDir: t.TempDir(),
		TLSCA: filepath.Join(c.certs, "ca.pem"), TLSCert: filepath.Join(c.certs, cert), TLSKey: filepath.Join(c.certs, key),
		HeartbeatInterval: 50 * time.Millisecond, ReconnectMin: 10 * time.Millisecond, ReconnectMax: 100 * time.Millisecond,
		ReadinessInterval: time.Hour, // only a new system or a refresh runs the checks
		HealthProbe:       func(context.Context) agent.Health { return agent.Health{CredentialsOK: true, APIReachable: true} },
		Readiness:         checks.run, Registry: action.NewRegistry(), Version: "test",
		Logger: slog.New(slog.NewTextHandler(tLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	a, err := agent.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })

	admin := kirikaev1.NewAgentAdminServiceClient(c.conn(0, "operator-admin"))
	// Before any system: not ready, and the one reason says to apply one.
	var rd *kirikaev1.GetReadinessResponse
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if rd, err = admin.GetReadiness(ctx, &kirikaev1.GetReadinessRequest{Region: west, Refresh: true}); err == nil && len(rd.GetRegions()) > 0 {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(rd.GetRegions()) != 1 || rd.GetRegions()[0].GetReady() ||
		!slices.Equal(rd.GetRegions()[0].GetReasons(), []string{"system.stored: no system file stored: run kirikae system apply FILE"}) {
		t.Fatalf("readiness before any system: %v (unanswered %v)", rd.GetRegions(), rd.GetUnanswered())
	}

	apply := func(edit func(string) string) *kirikaev1.SystemRecord {
		t.Helper()
		src, err := deploy.System("kaigo.yaml")
		if err != nil {
			t.Fatal(err)
		}
		text := string(src)
		if edit != nil {
			text = edit(text)
		}
		resp, err := kirikaev1.NewSystemServiceClient(c.conn(c.follower(), "operator-admin")).ApplySystem(ctx,
			&kirikaev1.ApplySystemRequest{FileName: "kaigo.yaml", Yaml: []byte(text), RequestId: controlplane.NewRequestID()})
		if err != nil || !resp.GetChanged() {
			t.Fatalf("apply: %v, %v", resp, err)
		}
		return resp.GetSystem()
	}
	// recorded waits, without asking for a refresh, until the recorded report of the
	// region names want in its load balancer check: the agent sent it on its own.
	recorded := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			rd, err := admin.GetReadiness(ctx, &kirikaev1.GetReadinessRequest{Region: west})
			if err == nil && len(rd.GetRegions()) == 1 {
				for _, rep := range rd.GetRegions()[0].GetReports() {
					for _, ch := range rep.GetChecks() {
						if ch.GetName() == readiness.CheckLoadBalancer && strings.Contains(ch.GetDetail(), want) {
							return
						}
					}
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no recorded readiness report names %q", want)
	}

	first := apply(nil)
	recorded("load balancer kaigo-subsys-dr-alb is active in us-west-2")
	if got := a.System().GetDigest(); got != first.GetDigest() {
		t.Fatalf("agent holds digest %q, want %q", got, first.GetDigest())
	}

	second := apply(func(s string) string {
		return strings.Replace(s, "name: kaigo-subsys-dr-alb ", "name: kaigo-subsys-dr-edge ", 1)
	})
	if second.GetDigest() == first.GetDigest() {
		t.Fatal("the second apply did not change the system")
	}
	recorded("load balancer kaigo-subsys-dr-edge is active in us-west-2")

	// Restarted where no control plane answers, the agent checks the last system it was sent.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	again := &recordingChecks{chk: chk}
	cfg.Readiness = again.run
	cfg.ControlPlane = []string{"127.0.0.1:1"}
	b, err := agent.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for again.last() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if sys := again.last(); sys == nil || sys.Digest() != second.GetDigest() || sys.RegionOf(west).LoadBalancer.Name != "kaigo-subsys-dr-edge" {
		t.Fatalf("after a restart readiness ran against %v, want the second system", sys)
	}
}
