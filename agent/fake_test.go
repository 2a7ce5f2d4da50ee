package agent_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/kirikae/kirikae/agent"
	"github.com/kirikae/kirikae/agent/action"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
)

const region = "us-west-2"

// fakeCP is an in-process control plane: it records everything an agent sends and lets
// the test send assignments, cancels and readiness requests on the live stream.
type fakeCP struct {
	kirikaev1.UnimplementedAgentServiceServer
	t     *testing.T
	addr  string
	sopts []grpc.ServerOption
	gs    *grpc.Server

	epoch  atomic.Uint64
	hbMs   int64  // heartbeat_interval_ms in registered
	leader string // non-empty: a follower that names this leader in its trailer
	reject atomic.Bool
	refuse codes.Code              // not OK: end every stream with this code, as for a wrong certificate
	auth   *security.Authenticator // non-nil: record the caller's identity

	mu         sync.Mutex
	attempts   int
	violations []string
	infos      []*kirikaev1.AgentInfo
	heartbeats []*kirikaev1.AgentHealth
	results    []*kirikaev1.StepResult
	progress   []*kirikaev1.StepProgress
	readiness  []*kirikaev1.ReadinessReport
	identities []security.Identity
	events     []string // "progress run/step: status" and "result run/step", in arrival order
	stream     *fakeStream
}

type fakeStream struct {
	mu   sync.Mutex
	srv  grpc.BidiStreamingServer[kirikaev1.ConnectRequest, kirikaev1.ConnectResponse]
	drop context.CancelFunc
}

func (s *fakeStream) send(m *kirikaev1.ConnectResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv.Send(m)
}

type cpOption func(*fakeCP, *[]grpc.ServerOption)

func follower(leader string) cpOption {
	return func(cp *fakeCP, _ *[]grpc.ServerOption) { cp.leader = leader }
}

func heartbeatMs(ms int64) cpOption {
	return func(cp *fakeCP, _ *[]grpc.ServerOption) { cp.hbMs = ms }
}

func refusing(code codes.Code) cpOption {
	return func(cp *fakeCP, _ *[]grpc.ServerOption) { cp.refuse = code }
}

func withTLS(dir string) cpOption {
	return func(cp *fakeCP, opts *[]grpc.ServerOption) {
		conf, err := security.ServerTLS(filepath.Join(dir, security.CAFile), filepath.Join(dir, security.ServerFile), filepath.Join(dir, security.ServerKeyFile))
		if err != nil {
			cp.t.Fatal(err)
		}
		*opts = append(*opts, grpc.Creds(credentials.NewTLS(conf)))
		cp.auth = &security.Authenticator{}
	}
}

func newFakeCP(t *testing.T, epoch uint64, opts ...cpOption) *fakeCP {
	t.Helper()
	cp := &fakeCP{t: t, hbMs: 20}
	cp.epoch.Store(epoch)
	var sopts []grpc.ServerOption
	for _, o := range opts {
		o(cp, &sopts)
	}
	cp.sopts = sopts
	cp.serve("127.0.0.1:0")
	t.Cleanup(func() {
		cp.stop()
		cp.mu.Lock()
		defer cp.mu.Unlock()
		for _, v := range cp.violations {
			t.Errorf("protocol violation seen by %s: %s", cp.addr, v)
		}
	})
	return cp
}

func (cp *fakeCP) serve(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		cp.t.Fatal(err)
	}
	gs := grpc.NewServer(cp.sopts...)
	kirikaev1.RegisterAgentServiceServer(gs, cp)
	go func() { _ = gs.Serve(ln) }()
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.addr, cp.gs = ln.Addr().String(), gs
}

// stop stops serving, as a killed node does: connections are closed.
func (cp *fakeCP) stop() {
	cp.mu.Lock()
	gs := cp.gs
	cp.gs = nil
	cp.mu.Unlock()
	if gs != nil {
		gs.Stop()
	}
}

// restart serves again on the same address.
func (cp *fakeCP) restart() { cp.serve(cp.addr) }

func (cp *fakeCP) Connect(srv grpc.BidiStreamingServer[kirikaev1.ConnectRequest, kirikaev1.ConnectResponse]) error {
	cp.mu.Lock()
	cp.attempts++
	cp.mu.Unlock()
	if cp.auth != nil {
		id, err := cp.auth.Identify(srv.Context())
		if err != nil {
			return status.Error(codes.Unauthenticated, err.Error())
		}
		cp.mu.Lock()
		cp.identities = append(cp.identities, id)
		cp.mu.Unlock()
	}
	if cp.reject.Load() {
		return status.Error(codes.Unavailable, "fake control plane: not now")
	}
	if cp.refuse != codes.OK {
		return status.Error(cp.refuse, "permission denied: spiffe://kirikae/operator/admin is not an agent, for AgentService.Connect")
	}
	if cp.leader != "" {
		srv.SetTrailer(metadata.Pairs(agent.LeaderTrailer, cp.leader))
		return status.Error(codes.Unavailable, "fake control plane: not the leader")
	}
	first, err := srv.Recv()
	if err != nil {
		return err
	}
	info := first.GetRegister()
	if info == nil {
		cp.violate("first message is %T, want register", first.GetMsg())
		return status.Error(codes.FailedPrecondition, "register first")
	}
	ctx, drop := context.WithCancel(srv.Context())
	defer drop()
	fs := &fakeStream{srv: srv, drop: drop}
	if err := fs.send(&kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_Registered{Registered: &kirikaev1.Registered{
		LeaderId: "fake", Epoch: cp.epoch.Load(), HeartbeatIntervalMs: cp.hbMs,
	}}}); err != nil {
		return err
	}
	cp.mu.Lock()
	cp.infos = append(cp.infos, info)
	cp.stream = fs
	cp.mu.Unlock()
	defer func() {
		cp.mu.Lock()
		if cp.stream == fs {
			cp.stream = nil
		}
		cp.mu.Unlock()
	}()

	msgs := make(chan *kirikaev1.ConnectRequest)
	errc := make(chan error, 1)
	go func() {
		for {
			m, err := srv.Recv()
			if err != nil {
				errc <- err
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return status.Error(codes.Unavailable, "fake control plane: dropped the stream")
		case err := <-errc:
			return err
		case m := <-msgs:
			cp.record(m)
		}
	}
}

func (cp *fakeCP) violate(format string, args ...any) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.violations = append(cp.violations, fmt.Sprintf(format, args...))
}

func (cp *fakeCP) record(m *kirikaev1.ConnectRequest) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	switch msg := m.GetMsg().(type) {
	case *kirikaev1.ConnectRequest_Register:
		cp.violations = append(cp.violations, "register sent twice on one stream")
	case *kirikaev1.ConnectRequest_Heartbeat:
		cp.heartbeats = append(cp.heartbeats, msg.Heartbeat)
	case *kirikaev1.ConnectRequest_Result:
		cp.results = append(cp.results, msg.Result)
		cp.events = append(cp.events, "result "+msg.Result.GetRunId()+"/"+msg.Result.GetStepId())
	case *kirikaev1.ConnectRequest_Progress:
		cp.progress = append(cp.progress, msg.Progress)
		cp.events = append(cp.events, "progress "+msg.Progress.GetRunId()+"/"+msg.Progress.GetStepId()+": "+msg.Progress.GetStatus())
	case *kirikaev1.ConnectRequest_Readiness:
		cp.readiness = append(cp.readiness, msg.Readiness)
	}
}

// send sends on the live stream, waiting for one.
func (cp *fakeCP) send(t *testing.T, m *kirikaev1.ConnectResponse) {
	t.Helper()
	waitFor(t, "a registered stream to send on", func() bool {
		cp.mu.Lock()
		s := cp.stream
		cp.mu.Unlock()
		return s != nil && s.send(m) == nil
	})
}

func (cp *fakeCP) assign(t *testing.T, a *kirikaev1.Assignment) {
	t.Helper()
	cp.send(t, &kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_Assign{Assign: a}})
}

// dropStream ends the live stream, as a dying leader would.
func (cp *fakeCP) dropStream() {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.stream != nil {
		cp.stream.drop()
		cp.stream = nil
	}
}

func (cp *fakeCP) connected() bool {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.stream != nil
}

func (cp *fakeCP) registrations() []*kirikaev1.AgentInfo {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return append([]*kirikaev1.AgentInfo(nil), cp.infos...)
}

func (cp *fakeCP) lastHeartbeat() *kirikaev1.AgentHealth {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if len(cp.heartbeats) == 0 {
		return nil
	}
	return cp.heartbeats[len(cp.heartbeats)-1]
}

func (cp *fakeCP) heartbeatCount() int {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return len(cp.heartbeats)
}

// resultsFor returns every result received for (run, step, attempt).
func (cp *fakeCP) resultsFor(run, step string, attempt uint32) []*kirikaev1.StepResult {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	var out []*kirikaev1.StepResult
	for _, r := range cp.results {
		if r.GetRunId() == run && r.GetStepId() == step && r.GetAttempt() == attempt {
			out = append(out, r)
		}
	}
	return out
}

// waitResult waits for the first result of (run, step, attempt).
func (cp *fakeCP) waitResult(t *testing.T, run, step string, attempt uint32) *kirikaev1.StepResult {
	t.Helper()
	var r *kirikaev1.StepResult
	waitFor(t, fmt.Sprintf("the result of %s/%s#%d", run, step, attempt), func() bool {
		rs := cp.resultsFor(run, step, attempt)
		if len(rs) > 0 {
			r = rs[0]
		}
		return r != nil
	})
	return r
}

func (cp *fakeCP) progressFor(run, step string) []string {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	var out []string
	for _, p := range cp.progress {
		if p.GetRunId() == run && p.GetStepId() == step {
			out = append(out, p.GetStatus())
		}
	}
	return out
}

// progressUndo is the undo steps the progress messages of run/step carried, newest message last.
func (cp *fakeCP) progressUndo(run, step string) [][]*kirikaev1.UndoStep {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	var out [][]*kirikaev1.UndoStep
	for _, p := range cp.progress {
		if p.GetRunId() == run && p.GetStepId() == step && len(p.GetUndo()) > 0 {
			out = append(out, p.GetUndo())
		}
	}
	return out
}

func (cp *fakeCP) readinessReports() []*kirikaev1.ReadinessReport {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return append([]*kirikaev1.ReadinessReport(nil), cp.readiness...)
}

// waitFor polls cond until it holds, failing the test after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// executors are the test executors, counting how often each step ran.
type executors struct {
	mu      sync.Mutex
	runs    map[string]int // by run/step#attempt
	active  int
	maxSeen int
	release chan struct{} // closed to let every test.block step finish
	started chan string   // receives run/step#attempt when test.block starts
	cancels chan error    // receives the context error when test.block is cancelled
}

func newExecutors() *executors {
	return &executors{runs: map[string]int{}, release: make(chan struct{}), started: make(chan string, 64), cancels: make(chan error, 64)}
}

func stepName(s action.Step) string { return fmt.Sprintf("%s/%s#%d", s.RunID, s.StepID, s.Attempt) }

func (e *executors) enter(s action.Step) func() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.runs[stepName(s)]++
	e.active++
	e.maxSeen = max(e.maxSeen, e.active)
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.active--
	}
}

func (e *executors) count(run, step string, attempt uint32) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.runs[fmt.Sprintf("%s/%s#%d", run, step, attempt)]
}

func (e *executors) registry() *action.Registry {
	reg := action.NewRegistry()
	reg.Register("test.echo", action.ExecutorFunc(func(ctx context.Context, s action.Step, p action.ProgressFunc) (map[string]any, error) {
		defer e.enter(s)()
		return map[string]any{"with": s.With, "region": s.Region, "epoch": int64(s.Epoch)}, nil
	}))
	reg.Register("test.block", action.ExecutorFunc(func(ctx context.Context, s action.Step, p action.ProgressFunc) (map[string]any, error) {
		defer e.enter(s)()
		e.started <- stepName(s)
		select {
		case <-e.release:
			return map[string]any{"released": true}, nil
		case <-ctx.Done():
			e.cancels <- ctx.Err()
			return nil, fmt.Errorf("waiting for release: %w", ctx.Err())
		}
	}))
	reg.Register("test.progress", action.ExecutorFunc(func(ctx context.Context, s action.Step, p action.ProgressFunc) (map[string]any, error) {
		defer e.enter(s)()
		n, _ := s.With["lines"].(int64) // the agent decodes whole numbers as int64
		if n == 0 {
			return nil, fmt.Errorf("%w: with.lines is required", action.ErrInvalidInput)
		}
		for i := range n {
			p.Report(fmt.Sprintf("line %d", i))
		}
		return map[string]any{"lines": n}, nil
	}))
	reg.Register("test.panic", action.ExecutorFunc(func(ctx context.Context, s action.Step, p action.ProgressFunc) (map[string]any, error) {
		defer e.enter(s)()
		panic("boom")
	}))
	// test.undo records an undo step for with.id (when given), then fails (fail), waits for
	// its context (block) or succeeds.
	reg.Register("test.undo", action.ExecutorFunc(func(ctx context.Context, s action.Step, p action.ProgressFunc) (map[string]any, error) {
		defer e.enter(s)()
		id, _ := s.With["id"].(string)
		if id != "" {
			s.Undo.Add(action.Undo{Action: "test.delete", With: map[string]any{"id": id, "n": int64(2)}, Note: "delete " + id})
		}
		if b, _ := s.With["block"].(bool); b {
			e.started <- stepName(s)
			<-ctx.Done()
			return nil, fmt.Errorf("waiting for %s: %w", id, ctx.Err())
		}
		if f, _ := s.With["fail"].(bool); f {
			return nil, fmt.Errorf("waiting for %s: timed out", id)
		}
		return map[string]any{"id": id}, nil
	}))
	reg.Register("test.fail", action.ExecutorFunc(func(ctx context.Context, s action.Step, p action.ProgressFunc) (map[string]any, error) {
		defer e.enter(s)()
		return nil, fmt.Errorf("%w: with.instanceId is required", action.ErrInvalidInput)
	}))
	reg.Register("test.refuse", action.ExecutorFunc(func(ctx context.Context, s action.Step, p action.ProgressFunc) (map[string]any, error) {
		defer e.enter(s)()
		return nil, action.WithOutputs(fmt.Errorf("%w: snapshot s1 is 21h old > maxAge 1h", action.ErrGuardRail), map[string]any{"snapshotId": "s1", "snapshotAgeSeconds": 75600})
	}))
	return reg
}

func healthy(context.Context) agent.Health {
	return agent.Health{CredentialsOK: true, APIReachable: true}
}

// testConfig is a dev-mode config against the given control planes, with short periods.
func testConfig(t *testing.T, dataDir string, reg *action.Registry, cps ...*fakeCP) agent.Config {
	var addrs []string
	for _, cp := range cps {
		addrs = append(addrs, cp.addr)
	}
	return agent.Config{
		ID: region + "/test", Region: region, ControlPlane: addrs, DataDir: dataDir, Dev: true,
		HeartbeatInterval: 20 * time.Millisecond, ReconnectMin: 5 * time.Millisecond, ReconnectMax: 50 * time.Millisecond,
		Registry: reg, HealthProbe: healthy, Version: "test",
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func start(t *testing.T, cfg agent.Config) *agent.Agent {
	t.Helper()
	a, err := agent.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Error(err)
		}
	})
	return a
}

// testWriter sends logs to t.Log, and drops them once the test is over.
type testWriter struct{ t *testing.T }

var logMu sync.Mutex

func (w testWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	defer func() { _ = recover() }() // a log line after the test ended
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func assignment(run, step string, attempt uint32, epoch uint64, act, with string) *kirikaev1.Assignment {
	return &kirikaev1.Assignment{RunId: run, StepId: step, Attempt: attempt, Epoch: epoch, Action: act, WithJson: with}
}
