package controlplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
)

// LeaderMetadataKey is the trailer a follower sets when it turns an agent away: the
// leader's gRPC address, so the agent can go straight there.
const LeaderMetadataKey = "kirikae-leader-grpc"

// HeartbeatInterval is what the leader asks agents for.
const HeartbeatInterval = time.Second

// agentGrace is how long a new leader waits for agents to reconnect before it treats the
// agent of a dispatched step as lost.
const agentGrace = 5 * time.Second

// agentLost is how long without a heartbeat before a connected agent counts as lost.
const agentLost = 3 * HeartbeatInterval

type attemptKey struct {
	run, step string
	attempt   uint32
}

// agentConn is one connected agent: leader-local soft state, never replicated.
type agentConn struct {
	info        *kirikaev1.AgentInfo
	connectedAt time.Time
	send        chan *kirikaev1.ConnectResponse
	done        chan struct{}
	closeOnce   sync.Once

	mu     sync.Mutex
	health *kirikaev1.AgentHealth
	lastHB time.Time
	sent   map[attemptKey]bool
}

func (c *agentConn) close() { c.closeOnce.Do(func() { close(c.done) }) }

// enqueue sends a message on the agent's stream without blocking the caller.
func (c *agentConn) enqueue(m *kirikaev1.ConnectResponse) bool {
	select {
	case c.send <- m:
		return true
	case <-c.done:
		return false
	default:
		return false
	}
}

func (c *agentConn) healthy(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.health.GetHealthy() && now.Sub(c.lastHB) < agentLost
}

// agentHub holds the agents connected to this node while it leads.
type agentHub struct {
	mu          sync.Mutex
	conns       map[string]*agentConn
	leaderSince time.Time
	// lastSeen remembers when each agent was last connected here, for the grace period.
	lastSeen map[string]time.Time
	waiters  map[string]chan *kirikaev1.ReadinessReport
	wake     chan struct{}
}

func newAgentHub() *agentHub {
	return &agentHub{conns: map[string]*agentConn{}, lastSeen: map[string]time.Time{},
		waiters: map[string]chan *kirikaev1.ReadinessReport{}, wake: make(chan struct{}, 1)}
}

func (h *agentHub) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *agentHub) add(c *agentConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if old, ok := h.conns[c.info.GetId()]; ok {
		old.close()
	}
	h.conns[c.info.GetId()] = c
	h.lastSeen[c.info.GetId()] = time.Now()
	h.poke()
}

func (h *agentHub) remove(c *agentConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns[c.info.GetId()] == c {
		delete(h.conns, c.info.GetId())
		h.lastSeen[c.info.GetId()] = time.Now()
	}
	c.close()
	h.poke()
}

// closeAll drops every stream, e.g. when this node stops leading: agents reconnect to the
// new leader.
func (h *agentHub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, c := range h.conns {
		c.close()
		delete(h.conns, id)
	}
}

func (h *agentHub) get(id string) *agentConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conns[id]
}

// can reports whether the agent advertised the action at registration. An agent that
// advertised nothing is trusted with anything (older agents).
func (c *agentConn) can(action string) bool {
	return len(c.info.GetActions()) == 0 || slices.Contains(c.info.GetActions(), action)
}

// pick returns a healthy connected agent of a region that can run the action, with the
// fewest running steps, preferring prefer when it qualifies.
func (h *agentHub) pick(region, action, prefer string, now time.Time) *agentConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.conns[prefer]; ok && c.info.GetRegion() == region && c.can(action) && c.healthy(now) {
		return c
	}
	var best *agentConn
	var bestLoad int32
	ids := make([]string, 0, len(h.conns))
	for id := range h.conns {
		ids = append(ids, id)
	}
	slices.Sort(ids) // deterministic choice among equals
	for _, id := range ids {
		c := h.conns[id]
		if c.info.GetRegion() != region || !c.can(action) || !c.healthy(now) {
			continue
		}
		c.mu.Lock()
		load := c.health.GetRunningSteps()
		c.mu.Unlock()
		if best == nil || load < bestLoad {
			best, bestLoad = c, load
		}
	}
	return best
}

// inGrace reports whether an agent that is not connected may still come back before its
// work is moved: within agentGrace of this node becoming leader or of the agent leaving.
func (h *agentHub) inGrace(id string, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if now.Sub(h.leaderSince) < agentGrace {
		return true
	}
	seen, ok := h.lastSeen[id]
	return ok && now.Sub(seen) < agentGrace
}

func (h *agentHub) snapshot() []*agentConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*agentConn, 0, len(h.conns))
	for _, c := range h.conns {
		out = append(out, c)
	}
	return out
}

// agentService is the leader's end of every agent's stream.
type agentService struct {
	kirikaev1.UnimplementedAgentServiceServer
	s *Server
}

func (a *agentService) Connect(stream kirikaev1.AgentService_ConnectServer) error {
	return a.s.serveAgent(stream)
}

func (s *Server) serveAgent(stream kirikaev1.AgentService_ConnectServer) error {
	ctx := stream.Context()
	if !s.node.IsLeader() {
		return s.notLeader(stream)
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	info := first.GetRegister()
	if info == nil {
		return toStatus(fmt.Errorf("%w: the first message on the agent stream must be register", ErrInvalidArgument))
	}
	actor := actorOf(ctx)
	if id, err := security.ParseIdentity(actor); err == nil {
		if err := security.RequireAgent(id, info.GetRegion()); err != nil {
			return toStatus(fmt.Errorf("agent %s registering as %s: %w", actor, info.GetRegion(), err))
		}
	} else if actor != security.DevIdentity.String() {
		return toStatus(fmt.Errorf("%w: caller %q", security.ErrPermissionDenied, actor))
	}
	if err := ValidateRegion("region", info.GetRegion()); err != nil {
		return toStatus(err)
	}
	if info.GetId() == "" {
		return toStatus(fmt.Errorf("%w: agent id is empty", ErrInvalidArgument))
	}
	if _, _, err := s.Propose(ctx, &kirikaev1.Command{RequestId: NewRequestID(), Actor: actor,
		Payload: &kirikaev1.Command_RegisterAgent{RegisterAgent: info}}); err != nil {
		return toStatus(err)
	}
	c := &agentConn{info: proto.Clone(info).(*kirikaev1.AgentInfo), connectedAt: time.Now(),
		send: make(chan *kirikaev1.ConnectResponse, 256), done: make(chan struct{}),
		lastHB: time.Now(), health: &kirikaev1.AgentHealth{Healthy: true}, sent: map[attemptKey]bool{}}
	region, _, _ := s.node.FSM().Region()
	if err := stream.Send(&kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_Registered{Registered: &kirikaev1.Registered{
		LeaderId: s.node.ID(), Epoch: region.GetEpoch(), HeartbeatIntervalMs: HeartbeatInterval.Milliseconds()}}}); err != nil {
		return err
	}
	s.hub.add(c)
	defer s.hub.remove(c)
	s.log.Info("agent connected", "agent", info.GetId(), "region", info.GetRegion(), "version", info.GetVersion())

	sendErr := make(chan error, 1)
	go func() {
		for {
			select {
			case m := <-c.send:
				if err := stream.Send(m); err != nil {
					sendErr <- err
					c.close()
					return
				}
			case <-c.done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	recvErr := make(chan error, 1)
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			s.handleAgentMessage(ctx, c, actor, m)
		}
	}()
	select {
	case err := <-recvErr:
		if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
			return nil
		}
		return err
	case err := <-sendErr:
		return err
	case <-c.done:
		// Replaced by a newer stream of the same agent, or this node stopped leading.
		if !s.node.IsLeader() {
			return s.notLeader(stream)
		}
		return status.Error(codes.Aborted, "replaced by a newer connection of the same agent")
	case <-ctx.Done():
		return nil
	}
}

// notLeader turns an agent away with the leader's address in the trailer.
func (s *Server) notLeader(stream grpc.ServerStream) error {
	addr := ""
	if _, id := s.node.Leader(); id != "" {
		for _, m := range s.node.FSM().Members() {
			if m.GetId() == string(id) {
				addr = m.GetGrpcAddress()
			}
		}
	}
	if addr != "" {
		stream.SetTrailer(metadata.Pairs(LeaderMetadataKey, addr))
	}
	return status.Errorf(codes.Unavailable, "%s is not the leader; agents connect to the leader (%s)", s.node.ID(), orUnknown(addr))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown yet"
	}
	return s
}

func (s *Server) handleAgentMessage(ctx context.Context, c *agentConn, actor string, m *kirikaev1.ConnectRequest) {
	switch msg := m.GetMsg().(type) {
	case *kirikaev1.ConnectRequest_Heartbeat:
		c.mu.Lock()
		c.health = msg.Heartbeat
		c.lastHB = time.Now()
		c.mu.Unlock()
	case *kirikaev1.ConnectRequest_Readiness:
		rep := msg.Readiness
		rep.AgentId, rep.Region = c.info.GetId(), c.info.GetRegion()
		s.hub.mu.Lock()
		w := s.hub.waiters[rep.GetRequestId()]
		s.hub.mu.Unlock()
		if w != nil {
			select {
			case w <- rep:
			default:
			}
		}
		if readinessChanged(s.node.FSM().Readiness(), rep) {
			if _, _, err := s.Propose(ctx, &kirikaev1.Command{RequestId: NewRequestID(), Actor: actor,
				Payload: &kirikaev1.Command_RecordReadiness{RecordReadiness: rep}}); err != nil {
				s.log.Warn("record readiness", "agent", c.info.GetId(), "err", err)
			}
		}
	case *kirikaev1.ConnectRequest_Progress:
		if _, _, err := s.Propose(ctx, &kirikaev1.Command{RequestId: NewRequestID(), Actor: actor,
			Payload: &kirikaev1.Command_StepProgress{StepProgress: msg.Progress}}); err != nil {
			s.log.Debug("record progress", "agent", c.info.GetId(), "err", err)
		}
	case *kirikaev1.ConnectRequest_Result:
		res := msg.Result
		// The request id makes a resent result apply once.
		id := fmt.Sprintf("result/%s/%s/%d", res.GetRunId(), res.GetStepId(), res.GetAttempt())
		if _, _, err := s.Propose(ctx, &kirikaev1.Command{RequestId: id, Actor: actor,
			Payload: &kirikaev1.Command_StepResult{StepResult: res}}); err != nil {
			s.log.Warn("record step result; the agent will resend it", "agent", c.info.GetId(), "err", err)
		}
		s.hub.poke()
	}
}

// readinessChanged reports whether a report differs from the recorded one in anything but
// its timestamps: readiness is recorded when it changes.
func readinessChanged(recorded []*kirikaev1.ReadinessReport, rep *kirikaev1.ReadinessReport) bool {
	for _, old := range recorded {
		if old.GetAgentId() != rep.GetAgentId() {
			continue
		}
		if len(old.GetChecks()) != len(rep.GetChecks()) {
			return true
		}
		for i, c := range rep.GetChecks() {
			o := old.GetChecks()[i]
			if o.GetName() != c.GetName() || o.GetStatus() != c.GetStatus() || o.GetDetail() != c.GetDetail() {
				return true
			}
		}
		return false
	}
	return true
}

// requestReadiness asks every connected agent (of region, if set) for a fresh report and
// waits for their answers until ctx ends.
func (s *Server) requestReadiness(ctx context.Context, region string) []*kirikaev1.ReadinessReport {
	var conns []*agentConn
	for _, c := range s.hub.snapshot() {
		if region == "" || c.info.GetRegion() == region {
			conns = append(conns, c)
		}
	}
	id := NewRequestID()
	ch := make(chan *kirikaev1.ReadinessReport, len(conns))
	s.hub.mu.Lock()
	s.hub.waiters[id] = ch
	s.hub.mu.Unlock()
	defer func() {
		s.hub.mu.Lock()
		delete(s.hub.waiters, id)
		s.hub.mu.Unlock()
	}()
	asked := 0
	for _, c := range conns {
		if c.enqueue(&kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_ReadinessRequest{ReadinessRequest: &kirikaev1.ReadinessRequest{RequestId: id}}}) {
			asked++
		}
	}
	var out []*kirikaev1.ReadinessReport
	for len(out) < asked {
		select {
		case r := <-ch:
			out = append(out, r)
		case <-ctx.Done():
			return out
		}
	}
	return out
}
