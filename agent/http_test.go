package agent_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kirikae/kirikae/agent"
)

// get returns the status code and body of an agent endpoint.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// metric returns the value of the one series of the exposition named by its full text
// before the value, e.g. `kirikae_agent_connected{region="us-west-2"}`; -1 when absent.
func metric(t *testing.T, body, series string) float64 {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", sc.Text(), err)
			}
			return f
		}
	}
	return -1
}

// TestHTTPHealthAndMetrics: an agent with an HTTP address serves /healthz, 503 with the
// cause until it is connected to the leader and its region is healthy, 200 then, and
// /metrics with its steps, its fencing refusals and its epoch.
func TestHTTPHealthAndMetrics(t *testing.T) {
	cp := newFakeCP(t, 4)
	cp.stop() // no control plane yet
	var unhealthy atomic.Bool
	ex := newExecutors()
	cfg := testConfig(t, t.TempDir(), ex.registry(), cp)
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.HealthProbe = func(ctx context.Context) agent.Health {
		if unhealthy.Load() {
			return agent.Health{CredentialsOK: true, Cause: "ec2 DescribeAvailabilityZones: connection refused"}
		}
		return healthy(ctx)
	}
	a := start(t, cfg)
	if a.HTTPAddr() == "" || strings.HasSuffix(a.HTTPAddr(), ":0") {
		t.Fatalf("HTTPAddr %q", a.HTTPAddr())
	}
	base := "http://" + a.HTTPAddr()
	healthz := func() (int, agent.Status) {
		code, body := get(t, base+"/healthz")
		var st agent.Status
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("/healthz: %v: %s", err, body)
		}
		return code, st
	}

	waitFor(t, "a failed connection attempt", func() bool {
		_, st := healthz()
		return strings.Contains(st.Status, "stream to "+cp.addr+" ended")
	})
	if code, st := healthz(); code != http.StatusServiceUnavailable || st.Connected || !strings.HasPrefix(st.Status, "not connected to the control-plane leader: ") {
		t.Fatalf("before any control plane: %d %+v", code, st)
	}
	_, body := get(t, base+"/metrics")
	if v := metric(t, body, `kirikae_agent_connected{region="us-west-2"}`); v != 0 {
		t.Fatalf("connected %g before any control plane", v)
	}

	cp.restart()
	waitFor(t, "/healthz 200", func() bool { code, _ := healthz(); return code == http.StatusOK })
	if _, st := healthz(); !st.Connected || st.ControlPlane != cp.addr || !st.RegionHealthy || st.Status != "ok" || st.HighestEpoch != 4 {
		t.Fatalf("connected: %+v", st)
	}

	cp.assign(t, assignment("r1", "old", 1, 3, "test.echo", `{}`))
	cp.waitResult(t, "r1", "old", 1)
	cp.assign(t, assignment("r1", "a", 1, 4, "test.echo", `{}`))
	cp.waitResult(t, "r1", "a", 1)
	cp.assign(t, assignment("r1", "b", 1, 5, "test.fail", `{}`))
	cp.waitResult(t, "r1", "b", 1)
	_, body = get(t, base+"/metrics")
	for series, want := range map[string]float64{
		`kirikae_agent_connected{region="us-west-2"}`:                                         1,
		`kirikae_agent_healthy{region="us-west-2"}`:                                           1,
		`kirikae_agent_epoch{region="us-west-2"}`:                                             5,
		`kirikae_agent_fencing_refusals_total{region="us-west-2"}`:                            1,
		`kirikae_agent_steps_total{action="test.echo",region="us-west-2",status="succeeded"}`: 1,
		`kirikae_agent_steps_total{action="test.fail",region="us-west-2",status="failed"}`:    1,
		`kirikae_agent_step_duration_seconds_count{action="test.echo",region="us-west-2"}`:    1,
		`kirikae_agent_steps_running{region="us-west-2"}`:                                     0,
	} {
		if got := metric(t, body, series); got != want {
			t.Errorf("%s = %g, want %g", series, got, want)
		}
	}

	unhealthy.Store(true)
	waitFor(t, "/healthz 503 for the region", func() bool { code, _ := healthz(); return code == http.StatusServiceUnavailable })
	if _, st := healthz(); !st.Connected || st.RegionHealthy || st.Status != "region us-west-2 unhealthy: ec2 DescribeAvailabilityZones: connection refused" {
		t.Fatalf("unhealthy: %+v", st)
	}
}

// TestHTTPAddrInDevModeIsLoopback: --dev serves plaintext, and its HTTP address too must be
// loopback.
func TestHTTPAddrInDevModeIsLoopback(t *testing.T) {
	cfg := testConfig(t, t.TempDir(), newExecutors().registry(), newFakeCP(t, 1))
	cfg.HTTPAddr = "0.0.0.0:0"
	if _, err := agent.Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "http addr") {
		t.Fatalf("dev agent on 0.0.0.0: %v", err)
	}
}
