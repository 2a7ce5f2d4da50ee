package controlplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
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
	if _, _, err := s.Propose(ctx, &kirikaev1.Command{Actor: actor,
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
	// The stored system goes right after registered, before anything else can be queued,
	// so the agent's first readiness report on this stream can already follow it.
	sentDigest := ""
	if sys := s.node.FSM().System(); sys != nil {
		if err := stream.Send(&kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_System{System: sys}}); err != nil {
			return err
		}
		sentDigest = sys.GetDigest()
	}
	s.hub.add(c)
	defer s.hub.remove(c)
	s.log.Info("agent connected", "agent", info.GetId(), "region", info.GetRegion(), "version", info.GetVersion(),
		"system_digest", sentDigest)
	go s.pushSystem(ctx, c, sentDigest)

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

// systemRetry is how soon the leader tries again to send a new system to an agent whose
// stream was full.
const systemRetry = HeartbeatInterval

// pushSystem sends the stored system to a connected agent whenever its digest differs from
// the one the agent was last sent: after an apply that changed it, or a restore. It runs
// until the stream ends. sent is the digest sent after registered ("" for none).
func (s *Server) pushSystem(ctx context.Context, c *agentConn, sent string) {
	retry := time.NewTicker(systemRetry)
	defer retry.Stop()
	for {
		applied, _ := s.node.FSM().waitApplied()
		if d := s.node.FSM().SystemDigest(); d != "" && d != sent {
			if sys := s.node.FSM().System(); sys != nil &&
				c.enqueue(&kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_System{System: sys}}) {
				sent = sys.GetDigest()
				s.log.Info("sent the new system to an agent", "agent", c.info.GetId(), "region", c.info.GetRegion(),
					"system", sys.GetName(), "version", sys.GetVersion(), "digest", sent)
			}
		}
		select {
		case <-applied:
		case <-retry.C:
		case <-c.done:
			return
		case <-ctx.Done():
			return
		}
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
	case *kirikaev1.ConnectRequest_CheckReport:
		// Taken only from the agent the request went to (deliver), and Finish keeps its
		// findings to the steps of its own region.
		if !s.checks.deliver(keyOf(c.info), msg.CheckReport) {
			s.log.Warn("a plan-check report nobody asked this agent for", "agent", c.info.GetId(), "region", c.info.GetRegion(),
				"request", msg.CheckReport.GetRequestId())
		}
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
		// Who sent it is the connection's, never the agent's say: the state machine refuses
		// (and audits) a report for a step this agent does not hold.
		p := msg.Progress
		p.AgentId = c.info.GetId()
		s.keyUndo(c.info.GetRegion(), p.GetUndo())
		if _, _, err := s.Propose(ctx, &kirikaev1.Command{Actor: actor,
			Payload: &kirikaev1.Command_StepProgress{StepProgress: p}}); err != nil {
			s.log.Debug("record progress", "agent", c.info.GetId(), "err", err)
		}
	case *kirikaev1.ConnectRequest_Result:
		res := msg.Result
		res.AgentId = c.info.GetId()
		s.keyUndo(c.info.GetRegion(), res.GetUndo())
		// The request id makes a resent result apply once.
		id := fmt.Sprintf("result/%s/%s/%d", res.GetRunId(), res.GetStepId(), res.GetAttempt())
		if _, _, err := s.Propose(ctx, &kirikaev1.Command{RequestId: id, Actor: actor,
			Payload: &kirikaev1.Command_StepResult{StepResult: res}}); err != nil {
			if errors.Is(err, security.ErrPermissionDenied) {
				s.log.Warn("refused a step result from an agent that does not hold the step", "agent", c.info.GetId(), "region", c.info.GetRegion(), "err", err)
			} else {
				s.log.Warn("record step result; the agent will resend it", "agent", c.info.GetId(), "err", err)
			}
		}
		s.hub.poke()
	}
}

// keyUndo names the resource each undo step touches, from the catalog: the state machine
// records who owns it. What the agent put there is overwritten.
func (s *Server) keyUndo(region string, undo []*kirikaev1.UndoStep) {
	for _, u := range undo {
		u.Resource = ""
		if s.planner != nil {
			u.Resource = s.planner.UndoResource(region, u)
		}
	}
}

// readinessChanged reports whether a report differs from the recorded one in anything but
// its timestamps: readiness is recorded when it changes.
func readinessChanged(recorded []*kirikaev1.ReadinessReport, rep *kirikaev1.ReadinessReport) bool {
	for _, old := range recorded {
		if old.GetAgentId() != rep.GetAgentId() || old.GetRegion() != rep.GetRegion() {
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
// waits for their answers until ctx ends. It returns the reports, and the agents asked that
// did not answer, with why.
func (s *Server) requestReadiness(ctx context.Context, region string) ([]*kirikaev1.ReadinessReport, []*kirikaev1.UnansweredAgent) {
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
	pending := map[agentKey]bool{}
	var none []*kirikaev1.UnansweredAgent
	for _, c := range conns {
		if c.enqueue(&kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_ReadinessRequest{ReadinessRequest: &kirikaev1.ReadinessRequest{RequestId: id}}}) {
			pending[keyOf(c.info)] = true
		} else {
			none = append(none, &kirikaev1.UnansweredAgent{AgentId: c.info.GetId(), Region: c.info.GetRegion(), Reason: "its stream is full or closing; the request was not sent"})
		}
	}
	var out []*kirikaev1.ReadinessReport
	for len(pending) > 0 {
		select {
		case r := <-ch:
			delete(pending, agentKey{r.GetRegion(), r.GetAgentId()})
			out = append(out, r)
		case <-ctx.Done():
			for k := range pending {
				none = append(none, &kirikaev1.UnansweredAgent{AgentId: k.id, Region: k.region, Reason: "no answer before the refresh gave up (" + context.Cause(ctx).Error() + ")"})
			}
			slices.SortFunc(none, func(a, b *kirikaev1.UnansweredAgent) int {
				return strings.Compare(a.GetRegion()+a.GetAgentId(), b.GetRegion()+b.GetAgentId())
			})
			return out, none
		}
	}
	return out, none
}
