package agent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"google.golang.org/grpc"
	gbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
)

// LeaderTrailer is the trailer metadata key in which a follower names the leader's gRPC
// address when it ends an agent stream with codes.Unavailable.
const LeaderTrailer = "kirikae-leader-grpc"

const (
	// registerTimeout bounds the wait for registered after register.
	registerTimeout = 10 * time.Second
	// outboxSize is the per-stream send buffer.
	outboxSize = 256
)

// timeNow is the agent's clock; a variable so the format of times is in one place.
var timeNow = time.Now

// session is one registered stream. Every message to the control plane goes through out,
// which one goroutine drains into Send (a gRPC stream allows one sender at a time).
type session struct {
	addr string
	out  chan *kirikaev1.ConnectRequest
	done chan struct{} // closed when the stream ends
}

// backoff is jittered exponential backoff.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	}
	d := b.cur
	b.cur = min(b.cur*2, b.max)
	// Full jitter over the upper half keeps agents that lost the same leader apart.
	half := int64(d / 2)
	if half <= 0 {
		return d
	}
	return time.Duration(half + rand.Int64N(half+1))
}

func (b *backoff) reset() { b.cur = 0 }

// connectLoop holds a stream to the leader for as long as the agent runs.
func (a *Agent) connectLoop(ctx context.Context) {
	bo := backoff{min: a.cfg.ReconnectMin, max: a.cfg.ReconnectMax}
	idx := 0
	redirect := ""
	for ctx.Err() == nil {
		addr := a.cfg.ControlPlane[idx]
		followed := redirect != ""
		if followed {
			addr, redirect = redirect, ""
		}
		registered, leader, err := a.session(ctx, addr)
		if ctx.Err() != nil {
			return
		}
		a.noteStreamEnd(addr, err)
		if registered {
			bo.reset()
		}
		if c := status.Code(err); !registered && (c == codes.PermissionDenied || c == codes.Unauthenticated) {
			a.log.Error("the control plane refuses this agent; stopping", "addr", addr, "err", err)
			a.cancel(&refusedError{addr: addr, err: err})
			return
		}
		if leader != "" && leader != addr {
			if err := a.usable(leader); err != nil {
				a.log.Warn("ignoring the leader address a follower gave", "from", addr, "leader", leader, "err", err)
			} else {
				a.log.Info("following the leader", "from", addr, "leader", leader)
				redirect = leader
				if !followed {
					continue // straight to the leader; a second redirect in a row backs off
				}
			}
		}
		if !followed || redirect == "" {
			idx = (idx + 1) % len(a.cfg.ControlPlane)
		}
		level := a.log.Warn
		if status.Code(err) == codes.Unavailable || errors.Is(err, context.Canceled) {
			level = a.log.Info
		}
		wait := bo.next()
		level("control-plane stream ended", "addr", addr, "registered", registered, "err", err, "retry_in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// refusedError is ErrRefused with the address and the control plane's reason; the status
// stays in the chain.
type refusedError struct {
	addr string
	err  error
}

func (e *refusedError) Error() string {
	why := e.err.Error()
	var st interface{ GRPCStatus() *status.Status }
	if errors.As(e.err, &st) {
		why = st.GRPCStatus().Message()
	}
	return fmt.Sprintf("%v: %s: %s", ErrRefused, e.addr, why)
}
func (e *refusedError) Is(target error) bool { return target == ErrRefused }
func (e *refusedError) Unwrap() error        { return e.err }

// usable checks an address learned from a follower before dialling it: in dev mode it
// must be loopback like the configured ones.
func (a *Agent) usable(addr string) error {
	if a.cfg.Dev {
		return security.RequireLoopback(addr)
	}
	return nil
}

func (a *Agent) conn(addr string) (*grpc.ClientConn, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.conns[addr]; ok {
		return c, nil
	}
	if a.conns == nil {
		return nil, errShutdown
	}
	// gRPC's own reconnect backoff (up to 2 min by default) must not outlast ours, or a
	// returning control-plane node would be refused for minutes by a stale backoff.
	c, err := grpc.NewClient(addr, a.creds, grpc.WithContextDialer(dial), grpc.WithConnectParams(grpc.ConnectParams{
		Backoff:           gbackoff.Config{BaseDelay: a.cfg.ReconnectMin, Multiplier: 1.6, Jitter: 0.2, MaxDelay: a.cfg.ReconnectMax},
		MinConnectTimeout: 5 * time.Second,
	}))
	if err != nil {
		return nil, fmt.Errorf("control plane %q: %w", addr, err)
	}
	a.conns[addr] = c
	return c, nil
}

// session runs one stream to addr until it ends. It reports whether the server registered
// the agent, and the leader's address when a follower named it.
func (a *Agent) session(ctx context.Context, addr string) (registered bool, leader string, err error) {
	cc, err := a.conn(addr)
	if err != nil {
		return false, "", err
	}
	cc.ResetConnectBackoff() // our loop already waited
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := kirikaev1.NewAgentServiceClient(cc).Connect(sctx)
	if err != nil {
		return false, "", fmt.Errorf("connect: %w", err)
	}
	leaderOf := func(err error) string {
		if status.Code(err) != codes.Unavailable {
			return ""
		}
		if v := stream.Trailer().Get(LeaderTrailer); len(v) > 0 {
			return v[0]
		}
		return ""
	}

	info := &kirikaev1.AgentInfo{
		Id: a.cfg.ID, Region: a.cfg.Region, Version: a.cfg.Version,
		Actions: a.reg.Names(), RegisteredUnixNano: timeNow().UnixNano(),
	}
	if err := stream.Send(&kirikaev1.ConnectRequest{Msg: &kirikaev1.ConnectRequest_Register{Register: info}}); err != nil {
		// The real reason is in the status that Recv returns.
		_, rerr := stream.Recv()
		if rerr == nil {
			rerr = err
		}
		return false, leaderOf(rerr), fmt.Errorf("register: %w", rerr)
	}
	timer := time.AfterFunc(registerTimeout, cancel)
	first, err := stream.Recv()
	if !timer.Stop() {
		return false, "", fmt.Errorf("%w: no answer to register within %s", ErrProtocol, registerTimeout)
	}
	if err != nil {
		return false, leaderOf(err), fmt.Errorf("register: %w", err)
	}
	reg := first.GetRegistered()
	if reg == nil {
		return false, "", fmt.Errorf("%w: the first message was %T, want registered", ErrProtocol, first.GetMsg())
	}
	if err := a.epoch.observe(reg.GetEpoch()); err != nil {
		a.log.Error("cannot persist the epoch from registered", "err", err)
	}
	interval := a.cfg.HeartbeatInterval
	if ms := reg.GetHeartbeatIntervalMs(); ms > 0 {
		interval = time.Duration(ms) * time.Millisecond
	}
	a.log.Info("registered", "addr", addr, "leader_id", reg.GetLeaderId(), "epoch", reg.GetEpoch(),
		"heartbeat", interval)

	s := &session{addr: addr, out: make(chan *kirikaev1.ConnectRequest, outboxSize), done: make(chan struct{})}
	var wg sync.WaitGroup
	sendErr := make(chan error, 1)
	wg.Go(func() {
		err := a.sendLoop(sctx, stream, s)
		if err != nil {
			cancel()
		}
		sendErr <- err
	})
	a.setSession(s)
	wg.Go(func() { a.heartbeatLoop(sctx, s, interval) })
	wg.Go(func() { a.resend(s) })

	err = a.recvLoop(stream)
	a.clearSession(s)
	cancel()
	wg.Wait()
	if serr := <-sendErr; err == nil {
		err = serr
	}
	return true, leaderOf(err), err
}

func (a *Agent) setSession(s *session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sess = s
}

func (a *Agent) clearSession(s *session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sess == s {
		a.sess = nil
	}
	close(s.done)
}

// emit queues a message for the current stream. A reliable message waits for room in the
// outbox; any other is dropped when the outbox is full. Both are dropped while
// disconnected, which is why results are also kept in the result store.
func (a *Agent) emit(m *kirikaev1.ConnectRequest, reliable bool) bool {
	a.mu.Lock()
	s := a.sess
	a.mu.Unlock()
	if s == nil {
		return false
	}
	return s.send(m, reliable)
}

func (s *session) send(m *kirikaev1.ConnectRequest, reliable bool) bool {
	if reliable {
		select {
		case s.out <- m:
			return true
		case <-s.done:
			return false
		}
	}
	select {
	case s.out <- m:
		return true
	case <-s.done:
		return false
	default:
		return false
	}
}

// sendLoop is the stream's only sender.
func (a *Agent) sendLoop(ctx context.Context, stream grpc.BidiStreamingClient[kirikaev1.ConnectRequest, kirikaev1.ConnectResponse], s *session) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-s.out:
			if err := stream.Send(m); err != nil {
				return fmt.Errorf("send: %w", err)
			}
			if r := m.GetResult(); r != nil {
				if err := a.results.markSent(r, timeNow()); err != nil {
					a.log.Warn("cannot record a result as sent", "err", err)
				}
			}
		}
	}
}

// resend sends, after registration, every result the control plane may not have yet, and
// the latest readiness report.
func (a *Agent) resend(s *session) {
	pending := a.results.unacked(timeNow())
	if len(pending) > 0 {
		a.log.Info("sending results again after reconnecting", "count", len(pending))
	}
	for _, r := range pending {
		if !s.send(resultMsg(r), true) {
			return
		}
	}
	if rep := a.lastReport.Load(); rep != nil {
		s.send(&kirikaev1.ConnectRequest{Msg: &kirikaev1.ConnectRequest_Readiness{Readiness: rep}}, true)
	}
}

func (a *Agent) recvLoop(stream grpc.BidiStreamingClient[kirikaev1.ConnectRequest, kirikaev1.ConnectResponse]) error {
	for {
		m, err := stream.Recv()
		if err != nil {
			return err
		}
		switch msg := m.GetMsg().(type) {
		case *kirikaev1.ConnectResponse_Assign:
			a.assign(msg.Assign)
		case *kirikaev1.ConnectResponse_Cancel:
			a.cancelStep(msg.Cancel)
		case *kirikaev1.ConnectResponse_ReadinessRequest:
			id := msg.ReadinessRequest.GetRequestId()
			a.wg.Go(func() { a.runReadiness(a.ctx, id) })
		case *kirikaev1.ConnectResponse_System:
			a.receiveSystem(msg.System)
		case *kirikaev1.ConnectResponse_Check:
			req := msg.Check
			a.wg.Go(func() { a.runCheck(a.ctx, req) })
		case *kirikaev1.ConnectResponse_Registered:
			if err := a.epoch.observe(msg.Registered.GetEpoch()); err != nil {
				a.log.Error("cannot persist the epoch from registered", "err", err)
			}
		default:
			a.log.Warn("ignoring an unknown message from the control plane", "type", fmt.Sprintf("%T", m.GetMsg()))
		}
	}
}

// heartbeatLoop sends a heartbeat at once (after the first health probe, bounded by its
// timeout) and then every interval.
func (a *Agent) heartbeatLoop(ctx context.Context, s *session, interval time.Duration) {
	first := time.NewTimer(a.cfg.HealthTimeout)
	select {
	case <-a.probed:
		first.Stop()
	case <-first.C:
	case <-ctx.Done():
		first.Stop()
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if !s.send(&kirikaev1.ConnectRequest{Msg: &kirikaev1.ConnectRequest_Heartbeat{Heartbeat: a.healthMsg()}}, true) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Agent) healthMsg() *kirikaev1.AgentHealth {
	h := Health{Cause: "health not probed yet"}
	if p := a.health.Load(); p != nil {
		h = *p
	}
	a.mu.Lock()
	running := a.running
	a.mu.Unlock()
	msg := &kirikaev1.AgentHealth{
		Healthy:          h.Healthy(),
		CredentialsOk:    h.CredentialsOK,
		ApiReachable:     h.APIReachable,
		OpenHealthEvents: int32(min(h.OpenHealthEvents, 1<<31-1)),
		RunningSteps:     int32(running),
		MaxSteps:         int32(a.cfg.MaxSteps),
		HighestEpoch:     a.epoch.get(),
	}
	if !msg.Healthy {
		msg.Cause = h.Cause
		if msg.Cause == "" {
			msg.Cause = "unhealthy (the probe named no cause)"
		}
	}
	return msg
}

func resultMsg(r *kirikaev1.StepResult) *kirikaev1.ConnectRequest {
	return &kirikaev1.ConnectRequest{Msg: &kirikaev1.ConnectRequest_Result{Result: r}}
}
