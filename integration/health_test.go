package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/kirikae/kirikae/integration"
	"github.com/kirikae/kirikae/security"
)

// TestGRPCHealthFollowsQuorum: the standard gRPC health service (Check on "") says
// NOT_SERVING exactly when /healthz answers 503: a node serves while it knows a leader
// that a quorum follows. Killing the leader of three leaves two that elect another and
// keep serving; killing one of those leaves the new leader alone, which steps down and
// stops serving (its Watch stream says so too); bringing both back makes all three serve.
func TestGRPCHealthFollowsQuorum(t *testing.T) {
	c := integration.NewCluster(t, 3, integration.Options{})
	conf, err := security.ClientTLS(c.CA(), filepath.Join(c.CertDir, "operator-admin.pem"), filepath.Join(c.CertDir, "operator-admin-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	hc := make([]healthpb.HealthClient, len(c.Nodes))
	for i, nd := range c.Nodes {
		// Reconnect promptly once a killed node is back: gRPC's default backoff reaches minutes.
		cc, err := grpc.NewClient(nd.GRPCAddr, grpc.WithTransportCredentials(credentials.NewTLS(conf)),
			grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, MaxDelay: time.Second}}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cc.Close() })
		hc[i] = healthpb.NewHealthClient(cc)
	}
	// health reads both endpoints of node i: the gRPC status and /healthz's code and status.
	health := func(i int) (grpcStatus healthpb.HealthCheckResponse_ServingStatus, code int, status string, err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		resp, err := hc[i].Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return 0, 0, "", fmt.Errorf("grpc health of %s: %w", c.Nodes[i].ID, err)
		}
		r, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + c.Nodes[i].HTTPAddr + "/healthz")
		if err != nil {
			return 0, 0, "", err
		}
		defer r.Body.Close()
		var body struct{ Status string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return 0, 0, "", err
		}
		return resp.GetStatus(), r.StatusCode, body.Status, nil
	}
	// await polls node i until both endpoints say serving (or both say not), and agree.
	await := func(i int, serving bool, timeout time.Duration) string {
		t.Helper()
		want, wantCode := healthpb.HealthCheckResponse_NOT_SERVING, http.StatusServiceUnavailable
		if serving {
			want, wantCode = healthpb.HealthCheckResponse_SERVING, http.StatusOK
		}
		deadline := time.Now().Add(timeout)
		var last string
		for {
			g, code, status, err := health(i)
			if err == nil && g == want && code == wantCode {
				return status
			}
			last = fmt.Sprintf("grpc %v, /healthz %d %q, err %v", g, code, status, err)
			if time.Now().After(deadline) {
				t.Fatalf("%s: want %v and %d within %s; last: %s", c.Nodes[i].ID, want, wantCode, timeout, last)
			}
			time.Sleep(50 * time.Millisecond) // polling interval
		}
	}

	for i := range c.Nodes {
		await(i, true, 10*time.Second)
	}
	old := c.WaitLeader(0, 10*time.Second)
	c.Kill(old)
	var survivors []int
	for i := range c.Nodes {
		if i != old {
			survivors = append(survivors, i)
		}
	}
	lead := c.WaitLeader(survivors[0], 30*time.Second, c.Nodes[old].ID)
	for _, i := range survivors {
		await(i, true, 30*time.Second)
	}

	// The new leader's Watch stream follows it down.
	wctx, wcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer wcancel()
	watch, err := hc[lead].Watch(wctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if first, err := watch.Recv(); err != nil || first.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("watch %s: first %v, %v; want SERVING", c.Nodes[lead].ID, first.GetStatus(), err)
	}
	other := survivors[0]
	if other == lead {
		other = survivors[1]
	}
	c.Kill(other) // one of three left: no quorum
	status := await(lead, false, 30*time.Second)
	if !strings.HasPrefix(status, "no leader") {
		t.Errorf("%s /healthz status %q, want the cause (no leader…)", c.Nodes[lead].ID, status)
	}
	if next, err := watch.Recv(); err != nil || next.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("watch %s: next %v, %v; want NOT_SERVING", c.Nodes[lead].ID, next.GetStatus(), err)
	}
	// Stays down while the quorum is missing: a check a moment later agrees.
	if g, code, _, err := health(lead); err != nil || g != healthpb.HealthCheckResponse_NOT_SERVING || code != http.StatusServiceUnavailable {
		t.Errorf("%s without a quorum: grpc %v, /healthz %d, %v", c.Nodes[lead].ID, g, code, err)
	}

	c.Start(old)
	c.Start(other)
	for i := range c.Nodes {
		await(i, true, 90*time.Second)
	}
}
