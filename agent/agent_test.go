package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/kirikae/kirikae/agent"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
	"github.com/kirikae/kirikae/system"
)

func TestRegistersFirstThenHeartbeats(t *testing.T) {
	cp := newFakeCP(t, 7)
	ex := newExecutors()
	a := start(t, testConfig(t, t.TempDir(), ex.registry(), cp))

	waitFor(t, "three heartbeats", func() bool { return cp.heartbeatCount() >= 3 })
	regs := cp.registrations()
	if len(regs) != 1 {
		t.Fatalf("registrations: %d", len(regs))
	}
	info := regs[0]
	if info.GetId() != region+"/test" || info.GetRegion() != region || info.GetVersion() != "test" {
		t.Errorf("registered %v", info)
	}
	want := []string{"test.block", "test.echo", "test.fail", "test.panic", "test.progress", "test.refuse", "test.undo"}
	if !slices.Equal(info.GetActions(), want) {
		t.Errorf("actions %v, want %v", info.GetActions(), want)
	}
	hb := cp.lastHeartbeat()
	if !hb.GetHealthy() || !hb.GetCredentialsOk() || !hb.GetApiReachable() || hb.GetCause() != "" {
		t.Errorf("heartbeat health %v", hb)
	}
	if hb.GetMaxSteps() != agent.DefaultMaxSteps || hb.GetHighestEpoch() != 7 || hb.GetRunningSteps() != 0 {
		t.Errorf("heartbeat load %v", hb)
	}
	if a.HighestEpoch() != 7 {
		t.Errorf("highest epoch %d", a.HighestEpoch())
	}
}

func TestStaleEpochRefusedAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cp := newFakeCP(t, 4)
	ex := newExecutors()
	a := start(t, testConfig(t, dir, ex.registry(), cp))

	cp.assign(t, assignment("r1", "old", 1, 3, "test.echo", `{}`))
	r := cp.waitResult(t, "r1", "old", 1)
	if !r.GetRefused() || r.GetOk() || r.GetError() != "stale epoch 3 < 4" {
		t.Fatalf("stale assignment: %v", r)
	}
	if n := ex.count("r1", "old", 1); n != 0 {
		t.Fatalf("a refused assignment ran %d times", n)
	}

	cp.assign(t, assignment("r1", "new", 1, 5, "test.echo", `{}`))
	if r := cp.waitResult(t, "r1", "new", 1); !r.GetOk() || r.GetRefused() {
		t.Fatalf("current assignment: %v", r)
	}
	if a.HighestEpoch() != 5 {
		t.Fatalf("highest epoch %d after an assignment at 5", a.HighestEpoch())
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	// A new process on the same data dir, and a control plane that (wrongly) says 1.
	cp2 := newFakeCP(t, 1)
	b := start(t, testConfig(t, dir, ex.registry(), cp2))
	waitFor(t, "a heartbeat from the restarted agent", func() bool { return cp2.heartbeatCount() > 0 })
	if hb := cp2.lastHeartbeat(); hb.GetHighestEpoch() != 5 {
		t.Fatalf("highest epoch after restart %d, want 5", hb.GetHighestEpoch())
	}
	cp2.assign(t, assignment("r2", "s", 1, 4, "test.echo", `{}`))
	r = cp2.waitResult(t, "r2", "s", 1)
	if !r.GetRefused() || r.GetError() != "stale epoch 4 < 5" {
		t.Fatalf("after restart: %v", r)
	}
	if n := ex.count("r2", "s", 1); n != 0 {
		t.Fatalf("a refused assignment ran %d times", n)
	}
	if b.HighestEpoch() != 5 {
		t.Fatalf("highest epoch %d", b.HighestEpoch())
	}
}

func TestDuplicateAttemptRunsOnce(t *testing.T) {
	cp := newFakeCP(t, 1)
	ex := newExecutors()
	start(t, testConfig(t, t.TempDir(), ex.registry(), cp))

	as := assignment("run", "restore", 2, 1, "test.block", `{"instanceId":"kaigo-subsys-dr"}`)
	cp.assign(t, as)
	<-ex.started
	cp.assign(t, as) // while running: dropped
	cp.assign(t, as)
	waitFor(t, "the duplicates to be handled", func() bool { return cp.heartbeatCount() > 5 })
	close(ex.release)
	first := cp.waitResult(t, "run", "restore", 2)
	if !first.GetOk() {
		t.Fatalf("result %v", first)
	}

	cp.assign(t, as) // after it finished: the stored result again
	waitFor(t, "the stored result again", func() bool { return len(cp.resultsFor("run", "restore", 2)) == 2 })
	again := cp.resultsFor("run", "restore", 2)[1]
	if again.GetOutputsJson() != first.GetOutputsJson() || again.GetFinishedUnixNano() != first.GetFinishedUnixNano() {
		t.Fatalf("resent result differs: %v vs %v", again, first)
	}
	if n := ex.count("run", "restore", 2); n != 1 {
		t.Fatalf("ran %d times, want 1", n)
	}

	// A new attempt of the same step is new work.
	cp.assign(t, assignment("run", "restore", 3, 1, "test.echo", `{}`))
	cp.waitResult(t, "run", "restore", 3)
	if n := ex.count("run", "restore", 3); n != 1 {
		t.Fatalf("attempt 3 ran %d times", n)
	}
}

func TestResultDeliveredAfterReconnect(t *testing.T) {
	cp := newFakeCP(t, 1)
	ex := newExecutors()
	start(t, testConfig(t, t.TempDir(), ex.registry(), cp))

	cp.assign(t, assignment("run", "s", 1, 1, "test.block", `{}`))
	<-ex.started
	cp.reject.Store(true)
	cp.dropStream()
	close(ex.release) // finishes while no stream is up
	waitFor(t, "the step to finish", func() bool {
		ex.mu.Lock()
		defer ex.mu.Unlock()
		return ex.active == 0
	})
	if cp.connected() {
		t.Fatal("still connected")
	}
	cp.reject.Store(false)
	r := cp.waitResult(t, "run", "s", 1)
	if !r.GetOk() || r.GetOutputsJson() != `{"released":true}` {
		t.Fatalf("result %v", r)
	}
	if n := ex.count("run", "s", 1); n != 1 {
		t.Fatalf("ran %d times", n)
	}
}

func TestResultSurvivesAgentRestart(t *testing.T) {
	dir := t.TempDir()
	cp := newFakeCP(t, 1)
	ex := newExecutors()
	a := start(t, testConfig(t, dir, ex.registry(), cp))

	cp.assign(t, assignment("run", "s", 1, 1, "test.block", `{}`))
	<-ex.started
	cp.reject.Store(true)
	cp.dropStream()
	close(ex.release)
	waitFor(t, "the step to finish", func() bool {
		ex.mu.Lock()
		defer ex.mu.Unlock()
		return ex.active == 0
	})
	// Close waits for the finished attempt to be stored.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if len(cp.resultsFor("run", "s", 1)) != 0 {
		t.Fatal("the result was delivered before the restart; the test proves nothing")
	}

	cp.reject.Store(false)
	start(t, testConfig(t, dir, ex.registry(), cp))
	r := cp.waitResult(t, "run", "s", 1)
	if !r.GetOk() || r.GetOutputsJson() != `{"released":true}` {
		t.Fatalf("result %v", r)
	}
	// A duplicate after the restart gets the stored result, and does not run again.
	cp.assign(t, assignment("run", "s", 1, 1, "test.block", `{}`))
	waitFor(t, "the stored result again", func() bool { return len(cp.resultsFor("run", "s", 1)) >= 2 })
	if n := ex.count("run", "s", 1); n != 1 {
		t.Fatalf("ran %d times", n)
	}
}

func TestFollowsLeaderTrailer(t *testing.T) {
	leader := newFakeCP(t, 3)
	fol := newFakeCP(t, 3, follower(leader.addr))
	ex := newExecutors()
	start(t, testConfig(t, t.TempDir(), ex.registry(), fol))

	waitFor(t, "registration with the leader", func() bool { return len(leader.registrations()) > 0 })
	fol.mu.Lock()
	tried := fol.attempts
	fol.mu.Unlock()
	if tried == 0 {
		t.Fatal("the follower was never tried")
	}
	if len(fol.registrations()) != 0 {
		t.Fatal("the follower registered the agent")
	}
	leader.assign(t, assignment("run", "s", 1, 3, "test.echo", `{}`))
	if r := leader.waitResult(t, "run", "s", 1); !r.GetOk() {
		t.Fatalf("result %v", r)
	}
}

func TestReconnectsAfterControlPlaneRestart(t *testing.T) {
	cp := newFakeCP(t, 1)
	ex := newExecutors()
	start(t, testConfig(t, t.TempDir(), ex.registry(), cp))
	waitFor(t, "registration", func() bool { return len(cp.registrations()) == 1 })

	cp.stop()
	waitFor(t, "the agent to notice", func() bool { return !cp.connected() })
	cp.restart()
	waitFor(t, "registration after the restart", func() bool { return len(cp.registrations()) == 2 })
	cp.assign(t, assignment("run", "s", 1, 1, "test.echo", `{}`))
	if r := cp.waitResult(t, "run", "s", 1); !r.GetOk() {
		t.Fatalf("result %v", r)
	}
}

func TestRotatesPastDeadAddress(t *testing.T) {
	cp := newFakeCP(t, 1)
	ex := newExecutors()
	cfg := testConfig(t, t.TempDir(), ex.registry(), cp)
	cfg.ControlPlane = append([]string{"127.0.0.1:1"}, cfg.ControlPlane...)
	start(t, cfg)
	waitFor(t, "registration with the live address", func() bool { return len(cp.registrations()) > 0 })
}

func TestCancelStopsRunningStep(t *testing.T) {
	cp := newFakeCP(t, 1)
	ex := newExecutors()
	start(t, testConfig(t, t.TempDir(), ex.registry(), cp))

	cp.assign(t, assignment("run", "wait-rds", 1, 1, "test.block", `{}`))
	<-ex.started
	cp.send(t, &kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_Cancel{Cancel: &kirikaev1.CancelStep{
		RunId: "run", StepId: "wait-rds", Attempt: 1, Reason: "run aborted by alice",
	}}})
	if err := <-ex.cancels; !errors.Is(err, context.Canceled) {
		t.Fatalf("executor saw %v", err)
	}
	r := cp.waitResult(t, "run", "wait-rds", 1)
	if r.GetOk() || r.GetError() != "cancelled: run aborted by alice" || r.GetRefused() {
		t.Fatalf("result %v", r)
	}
}

func TestQueueBeyondMaxStepsAndCancelQueued(t *testing.T) {
	cp := newFakeCP(t, 1)
	ex := newExecutors()
	cfg := testConfig(t, t.TempDir(), ex.registry(), cp)
	cfg.MaxSteps = 2
	start(t, cfg)

	for _, s := range []string{"a", "b", "c", "d"} {
		cp.assign(t, assignment("run", s, 1, 1, "test.block", `{}`))
	}
	<-ex.started
	<-ex.started
	waitFor(t, "a heartbeat with two running steps", func() bool {
		hb := cp.lastHeartbeat()
		return hb.GetRunningSteps() == 2 && hb.GetMaxSteps() == 2
	})
	cp.send(t, &kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_Cancel{Cancel: &kirikaev1.CancelStep{
		RunId: "run", StepId: "d", Attempt: 1, Reason: "skipped",
	}}})
	if r := cp.waitResult(t, "run", "d", 1); r.GetError() != "cancelled: skipped" {
		t.Fatalf("queued cancel: %v", r)
	}
	close(ex.release)
	for _, s := range []string{"a", "b", "c"} {
		if r := cp.waitResult(t, "run", s, 1); !r.GetOk() {
			t.Fatalf("%s: %v", s, r)
		}
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.maxSeen != 2 {
		t.Fatalf("at most %d ran at once, want 2", ex.maxSeen)
	}
	if ex.runs["run/d#1"] != 0 {
		t.Fatal("the cancelled queued step ran")
	}
}

func TestResults(t *testing.T) {
	cp := newFakeCP(t, 1)
	ex := newExecutors()
	start(t, testConfig(t, t.TempDir(), ex.registry(), cp))

	tests := []struct {
		name, action, with string
		timeoutMs          int64
		ok                 bool
		errHas             string
		outputs            string
		permanent          bool // invalid input: no retry can cure it
		kind               kirikaev1.StepErrorKind
	}{
		{name: "outputs", action: "test.echo", with: `{"n":3,"f":1.5,"s":"x","l":[1,{"m":2}]}`, ok: true,
			outputs: `{"epoch":1,"region":"us-west-2","with":{"f":1.5,"l":[1,{"m":2}],"n":3,"s":"x"}}`},
		{name: "empty with", action: "test.echo", ok: true, outputs: `{"epoch":1,"region":"us-west-2","with":{}}`},
		{name: "unknown action", action: "aws.nope", errHas: `unknown action "aws.nope"`},
		{name: "panic", action: "test.panic", errHas: "executor for test.panic panicked: boom"},
		{name: "executor error", action: "test.fail", errHas: "invalid input: with.instanceId is required", permanent: true,
			kind: kirikaev1.StepErrorKind_STEP_ERROR_KIND_INVALID_INPUT},
		{name: "refusal with what it refused", action: "test.refuse", errHas: "guard rail: snapshot s1 is 21h old",
			outputs: `{"snapshotAgeSeconds":75600,"snapshotId":"s1"}`, kind: kirikaev1.StepErrorKind_STEP_ERROR_KIND_GUARD_RAIL},
		{name: "bad with", action: "test.echo", with: `[1,2]`, errHas: "with_json is not a JSON object", permanent: true,
			kind: kirikaev1.StepErrorKind_STEP_ERROR_KIND_INVALID_INPUT},
		{name: "timeout", action: "test.block", timeoutMs: 30, errHas: "timed out after 30ms"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as := assignment("results", tc.name, uint32(i+1), 1, tc.action, tc.with)
			as.TimeoutMs = tc.timeoutMs
			cp.assign(t, as)
			r := cp.waitResult(t, "results", tc.name, uint32(i+1))
			if r.GetOk() != tc.ok || !strings.Contains(r.GetError(), tc.errHas) || (tc.ok && r.GetError() != "") || r.GetPermanent() != tc.permanent || r.GetErrorKind() != tc.kind {
				t.Fatalf("result %v", r)
			}
			if tc.outputs != "" {
				var got, want any
				if err := json.Unmarshal([]byte(r.GetOutputsJson()), &got); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal([]byte(tc.outputs), &want); err != nil {
					t.Fatal(err)
				}
				if g, _ := json.Marshal(got); string(g) != mustJSON(t, want) {
					t.Fatalf("outputs %s, want %s", r.GetOutputsJson(), tc.outputs)
				}
			}
			if r.GetStartedUnixNano() == 0 || r.GetFinishedUnixNano() < r.GetStartedUnixNano() {
				t.Fatalf("times %d..%d", r.GetStartedUnixNano(), r.GetFinishedUnixNano())
			}
		})
	}
	// The agent survived the panic.
	before := cp.heartbeatCount()
	waitFor(t, "heartbeats after the panic", func() bool { return cp.heartbeatCount() > before+2 })
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestProgressIsRateLimitedAndLastIsSent(t *testing.T) {
	cp := newFakeCP(t, 1)
	ex := newExecutors()
	start(t, testConfig(t, t.TempDir(), ex.registry(), cp))

	cp.assign(t, assignment("run", "p", 1, 1, "test.progress", `{"lines":200}`))
	cp.waitResult(t, "run", "p", 1)
	lines := cp.progressFor("run", "p")
	if len(lines) < 2 || lines[0] != "line 0" || lines[len(lines)-1] != "line 199" {
		t.Fatalf("progress %v", lines)
	}
	if len(lines) >= 100 {
		t.Fatalf("%d progress lines for 200 reports: not rate-limited", len(lines))
	}
	// The last line goes out before the result.
	cp.mu.Lock()
	defer cp.mu.Unlock()
	last, res := slices.Index(cp.events, "progress run/p: line 199"), slices.Index(cp.events, "result run/p")
	if last < 0 || res < 0 || last > res {
		t.Fatalf("events %v", cp.events)
	}
}

func TestUnhealthyProbe(t *testing.T) {
	tests := []struct {
		name  string
		probe agent.HealthProbe
		cause string
		creds bool
	}{
		{
			name: "region refuses",
			probe: func(context.Context) agent.Health {
				return agent.Health{CredentialsOK: false, APIReachable: false,
					Cause: "sts GetCallerIdentity: dial tcp 127.0.0.1:4566: connect: connection refused"}
			},
			cause: "sts GetCallerIdentity: dial tcp 127.0.0.1:4566: connect: connection refused",
		},
		{
			name: "probe hangs",
			probe: func(ctx context.Context) agent.Health {
				select {} // ignores ctx, as a hung SDK call might
			},
			cause: "health probe: ",
		},
		{
			name: "api unreachable",
			probe: func(context.Context) agent.Health {
				return agent.Health{CredentialsOK: true, Cause: "us-west-2 API unreachable: ec2 DescribeVpcs: timeout"}
			},
			cause: "us-west-2 API unreachable", creds: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cp := newFakeCP(t, 1)
			ex := newExecutors()
			cfg := testConfig(t, t.TempDir(), ex.registry(), cp)
			cfg.HealthProbe = tc.probe
			start(t, cfg)
			waitFor(t, "an unhealthy heartbeat", func() bool {
				hb := cp.lastHeartbeat()
				return hb != nil && !hb.GetHealthy() && strings.Contains(hb.GetCause(), tc.cause)
			})
			if hb := cp.lastHeartbeat(); hb.GetCredentialsOk() != tc.creds || hb.GetApiReachable() {
				t.Fatalf("heartbeat %v", hb)
			}
		})
	}
}

func TestHealthRecovers(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	cp := newFakeCP(t, 1)
	ex := newExecutors()
	cfg := testConfig(t, t.TempDir(), ex.registry(), cp)
	cfg.HealthProbe = func(context.Context) agent.Health {
		if down.Load() {
			return agent.Health{CredentialsOK: true, Cause: "us-west-2 API unreachable: connection refused"}
		}
		return agent.Health{CredentialsOK: true, APIReachable: true, OpenHealthEvents: 2}
	}
	start(t, cfg)
	waitFor(t, "an unhealthy heartbeat", func() bool { return cp.lastHeartbeat() != nil && !cp.lastHeartbeat().GetHealthy() })
	down.Store(false)
	waitFor(t, "a healthy heartbeat", func() bool {
		hb := cp.lastHeartbeat()
		return hb.GetHealthy() && hb.GetOpenHealthEvents() == 2 && hb.GetCause() == ""
	})
}

func TestReadiness(t *testing.T) {
	cp := newFakeCP(t, 1)
	ex := newExecutors()
	cfg := testConfig(t, t.TempDir(), ex.registry(), cp)
	var calls atomic.Int32
	cfg.ReadinessInterval = 30 * time.Millisecond
	cfg.Readiness = func(context.Context, *system.System) []*kirikaev1.ReadinessCheck {
		calls.Add(1)
		return []*kirikaev1.ReadinessCheck{{
			Name: "rds.snapshot-copy-age", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL,
			Detail: "newest snapshot copy 21h old > RPO 1h", Observed: "21h0m0s",
		}}
	}
	start(t, cfg)

	waitFor(t, "two periodic reports", func() bool { return len(cp.readinessReports()) >= 2 })
	cp.send(t, &kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_ReadinessRequest{
		ReadinessRequest: &kirikaev1.ReadinessRequest{RequestId: "req-1"},
	}})
	var rep *kirikaev1.ReadinessReport
	waitFor(t, "the requested report", func() bool {
		for _, r := range cp.readinessReports() {
			if r.GetRequestId() == "req-1" {
				rep = r
				return true
			}
		}
		return false
	})
	if rep.GetAgentId() != region+"/test" || rep.GetRegion() != region || rep.GetReportedUnixNano() == 0 ||
		len(rep.GetChecks()) != 1 || rep.GetChecks()[0].GetName() != "rds.snapshot-copy-age" {
		t.Fatalf("report %v", rep)
	}
	for _, r := range cp.readinessReports() {
		if r.GetRequestId() != "" && r.GetRequestId() != "req-1" {
			t.Fatalf("unexpected request id %q", r.GetRequestId())
		}
	}
}

func TestReadinessRequestWithoutHook(t *testing.T) {
	cp := newFakeCP(t, 1)
	ex := newExecutors()
	start(t, testConfig(t, t.TempDir(), ex.registry(), cp))
	cp.send(t, &kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_ReadinessRequest{
		ReadinessRequest: &kirikaev1.ReadinessRequest{RequestId: "req-2"},
	}})
	waitFor(t, "an empty report", func() bool {
		rs := cp.readinessReports()
		return len(rs) == 1 && rs[0].GetRequestId() == "req-2" && len(rs[0].GetChecks()) == 0
	})
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	if _, err := security.GenerateCerts(dir, security.CertOptions{Regions: []string{"us-east-1", "us-west-2"}}); err != nil {
		t.Fatal(err)
	}
	cp := newFakeCP(t, 2, withTLS(dir))
	ex := newExecutors()
	cfg := testConfig(t, t.TempDir(), ex.registry(), cp)
	cert, key := security.AgentFiles(region)
	cfg.Dev = false
	cfg.TLSCA, cfg.TLSCert, cfg.TLSKey = dir+"/"+security.CAFile, dir+"/"+cert, dir+"/"+key
	start(t, cfg)
	waitFor(t, "registration over mTLS", func() bool { return len(cp.registrations()) > 0 })
	cp.mu.Lock()
	id := cp.identities[0]
	cp.mu.Unlock()
	if id != (security.Identity{Kind: security.KindAgent, Name: region}) {
		t.Fatalf("the control plane saw %v", id)
	}
	cp.assign(t, assignment("run", "s", 1, 2, "test.echo", `{}`))
	if r := cp.waitResult(t, "run", "s", 1); !r.GetOk() {
		t.Fatalf("result %v", r)
	}
}

func TestConfigErrors(t *testing.T) {
	base := func() agent.Config {
		return agent.Config{Region: region, ControlPlane: []string{"127.0.0.1:7002"}, DataDir: t.TempDir(), Dev: true,
			Registry: newExecutors().registry(), HealthProbe: healthy}
	}
	tests := []struct {
		name   string
		mutate func(*agent.Config)
		errHas string
	}{
		{"no region", func(c *agent.Config) { c.Region = "" }, "region"},
		{"no control plane", func(c *agent.Config) { c.ControlPlane = []string{" "} }, "no control-plane address"},
		{"no data dir", func(c *agent.Config) { c.DataDir = "" }, "no data dir"},
		{"dev off loopback", func(c *agent.Config) { c.ControlPlane = []string{"10.0.0.1:7002"} }, "loopback"},
		{"dev and tls", func(c *agent.Config) { c.TLSCA = "ca.pem" }, "not both"},
		{"partial tls", func(c *agent.Config) { c.Dev = false; c.TLSCA = "ca.pem" }, "TLS needs"},
		{"negative steps", func(c *agent.Config) { c.MaxSteps = -1 }, "max steps"},
		{"missing ca file", func(c *agent.Config) {
			c.Dev = false
			c.TLSCA, c.TLSCert, c.TLSKey = "/nonexistent/ca.pem", "/nonexistent/a.pem", "/nonexistent/k.pem"
		}, "agent TLS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			tc.mutate(&cfg)
			a, err := agent.Start(context.Background(), cfg)
			if err == nil {
				_ = a.Close()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("error %q does not mention %q", err, tc.errHas)
			}
		})
	}
}

func TestDataDirInUse(t *testing.T) {
	cp := newFakeCP(t, 1)
	dir := t.TempDir()
	a := start(t, testConfig(t, dir, newExecutors().registry(), cp))
	_, err := agent.Start(context.Background(), testConfig(t, dir, newExecutors().registry(), cp))
	if !errors.Is(err, agent.ErrConfig) || !strings.Contains(err.Error(), "in use by another agent") {
		t.Fatalf("second agent on one data dir: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	start(t, testConfig(t, dir, newExecutors().registry(), cp)) // free again
}

func TestRunStopsWithContext(t *testing.T) {
	cp := newFakeCP(t, 1)
	ex := newExecutors()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- agent.Run(ctx, testConfig(t, t.TempDir(), ex.registry(), cp)) }()
	waitFor(t, "registration", func() bool { return len(cp.registrations()) > 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// undoOf is a result's undo steps as "action with_json note" lines.
func undoOf(r *kirikaev1.StepResult) []string {
	var out []string
	for _, u := range r.GetUndo() {
		out = append(out, u.GetAction()+" "+u.GetWithJson()+" "+u.GetNote())
	}
	return out
}

func TestUndoReportedWithEveryOutcome(t *testing.T) {
	dir := t.TempDir()
	cp := newFakeCP(t, 1)
	ex := newExecutors()
	a := start(t, testConfig(t, dir, ex.registry(), cp))

	for i, tc := range []struct {
		name, with string
		ok         bool
		undo       []string
	}{
		{name: "created", with: `{"id":"db-1"}`, ok: true, undo: []string{`test.delete {"id":"db-1","n":2} delete db-1`}},
		{name: "created then failed", with: `{"id":"db-2","fail":true}`, undo: []string{`test.delete {"id":"db-2","n":2} delete db-2`}},
		{name: "adopted", with: `{}`, ok: true},
	} {
		cp.assign(t, assignment("undo", tc.name, uint32(i+1), 1, "test.undo", tc.with))
		r := cp.waitResult(t, "undo", tc.name, uint32(i+1))
		if r.GetOk() != tc.ok || !slices.Equal(undoOf(r), tc.undo) {
			t.Fatalf("%s: ok=%v undo=%q, want ok=%v undo=%q (%v)", tc.name, r.GetOk(), undoOf(r), tc.ok, tc.undo, r)
		}
	}

	// A cancelled attempt reports what it created before the cancel.
	cp.assign(t, assignment("undo", "cancelled", 1, 1, "test.undo", `{"id":"db-3","block":true}`))
	<-ex.started
	cp.send(t, &kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_Cancel{Cancel: &kirikaev1.CancelStep{
		RunId: "undo", StepId: "cancelled", Attempt: 1, Reason: "operator"}}})
	r := cp.waitResult(t, "undo", "cancelled", 1)
	if r.GetOk() || !slices.Equal(undoOf(r), []string{`test.delete {"id":"db-3","n":2} delete db-3`}) {
		t.Fatalf("cancelled: %v", r)
	}

	// An attempt interrupted by a shutdown has no result; its undo is not lost: the next
	// attempt of the step, after a restart, reports it with its own.
	cp.assign(t, assignment("undo", "interrupted", 1, 1, "test.undo", `{"id":"db-4","block":true}`))
	<-ex.started
	// The control plane hears of the undo the moment it is recorded, long before any
	// result, so not even a retry on another agent would lose it.
	waitFor(t, "the undo of db-4 in a progress message", func() bool {
		sent := cp.progressUndo("undo", "interrupted")
		return len(sent) > 0 && slices.Equal(undoOf(&kirikaev1.StepResult{Undo: sent[len(sent)-1]}), []string{`test.delete {"id":"db-4","n":2} delete db-4`})
	})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(cp.resultsFor("undo", "interrupted", 1)); n != 0 {
		t.Fatalf("%d results for the interrupted attempt", n)
	}
	cp = newFakeCP(t, 1) // a fresh one: the old one may still hold the dead stream
	start(t, testConfig(t, dir, ex.registry(), cp))
	cp.assign(t, assignment("undo", "interrupted", 2, 1, "test.undo", `{"id":"db-4b"}`))
	r = cp.waitResult(t, "undo", "interrupted", 2)
	want := []string{`test.delete {"id":"db-4","n":2} delete db-4`, `test.delete {"id":"db-4b","n":2} delete db-4b`}
	if !r.GetOk() || !slices.Equal(undoOf(r), want) {
		t.Fatalf("attempt after the interrupted one: undo %q, want %q", undoOf(r), want)
	}
	// Once reported, they are not reported again by a later attempt.
	cp.assign(t, assignment("undo", "interrupted", 3, 1, "test.undo", `{}`))
	if r := cp.waitResult(t, "undo", "interrupted", 3); len(r.GetUndo()) != 0 {
		t.Fatalf("attempt 3 reported %q again", undoOf(r))
	}
	// A duplicate of a finished attempt gets its stored result, undo included.
	cp.assign(t, assignment("undo", "created", 1, 1, "test.undo", `{"id":"db-1"}`))
	waitFor(t, "the stored result again", func() bool { return len(cp.resultsFor("undo", "created", 1)) >= 2 })
	if again := cp.resultsFor("undo", "created", 1)[1]; !slices.Equal(undoOf(again), []string{`test.delete {"id":"db-1","n":2} delete db-1`}) {
		t.Fatalf("resent result lost its undo: %v", again)
	}
	if n := ex.count("undo", "created", 1); n != 1 {
		t.Fatalf("ran %d times", n)
	}
}

// TestRunStopsWhenTheControlPlaneRefuses (issue 15): an agent the control plane refuses at
// register, for a certificate that is not an agent's or not its region's, used to retry
// for ever; Run now returns ErrRefused. A control plane that is merely unavailable is
// still retried.
func TestRunStopsWhenTheControlPlaneRefuses(t *testing.T) {
	for _, code := range []codes.Code{codes.PermissionDenied, codes.Unauthenticated} {
		t.Run(code.String(), func(t *testing.T) {
			cp := newFakeCP(t, 1, refusing(code))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := agent.Run(ctx, testConfig(t, t.TempDir(), newExecutors().registry(), cp))
			if !errors.Is(err, agent.ErrRefused) || !strings.Contains(err.Error(), "is not an agent") || ctx.Err() != nil {
				t.Fatalf("Run = %v, want ErrRefused with the control plane's reason, before the test's deadline", err)
			}
		})
	}
	t.Run("Unavailable", func(t *testing.T) {
		cp := newFakeCP(t, 1)
		cp.reject.Store(true)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- agent.Run(ctx, testConfig(t, t.TempDir(), newExecutors().registry(), cp)) }()
		waitFor(t, "three attempts", func() bool {
			cp.mu.Lock()
			defer cp.mu.Unlock()
			return cp.attempts >= 3
		})
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v after cancel, want nil", err)
		}
	})
}
