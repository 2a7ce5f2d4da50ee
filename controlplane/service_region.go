package controlplane

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// activeRegionService is the public read contract.
type activeRegionService struct {
	kirikaev1.UnimplementedActiveRegionServiceServer
	s *Server
}

func (a *activeRegionService) GetActiveRegion(ctx context.Context, req *kirikaev1.GetActiveRegionRequest) (*kirikaev1.GetActiveRegionResponse, error) {
	resp, err := a.s.GetActiveRegion(ctx, req.GetConsistency())
	return resp, toStatus(err)
}

// GetActiveRegion answers a read at the asked consistency. It is shared by gRPC and HTTP.
func (s *Server) GetActiveRegion(ctx context.Context, c kirikaev1.Consistency) (*kirikaev1.GetActiveRegionResponse, error) {
	start := time.Now()
	resp := &kirikaev1.GetActiveRegionResponse{NodeId: s.node.ID()}
	label := "stale"
	switch c {
	case kirikaev1.Consistency_CONSISTENCY_STALE:
		resp.Consistency = c
		if lc := s.node.LastContact(); lc > 0 {
			resp.StalenessMs = lc.Milliseconds()
		} else if lc < 0 {
			// Never heard from a leader: as stale as it gets; say so rather than claim fresh.
			resp.StalenessMs = -1
		}
	case kirikaev1.Consistency_CONSISTENCY_UNSPECIFIED, kirikaev1.Consistency_CONSISTENCY_LINEARIZABLE:
		resp.Consistency = kirikaev1.Consistency_CONSISTENCY_LINEARIZABLE
		label = "linearizable"
		if _, err := s.linearizableIndex(ctx); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: consistency %v is not known", ErrInvalidArgument, c)
	}
	st, init, idx := s.node.FSM().Region()
	resp.State, resp.Initialized, resp.RaftIndex = st, init, idx
	_, lid := s.node.Leader()
	resp.LeaderId = string(lid)
	metricReadSeconds.WithLabelValues(label).Observe(time.Since(start).Seconds())
	return resp, nil
}

func (a *activeRegionService) WatchActiveRegion(req *kirikaev1.WatchActiveRegionRequest, stream kirikaev1.ActiveRegionService_WatchActiveRegionServer) error {
	return toStatus(a.s.Watch(stream.Context(), req.GetFromIndex(), stream))
}

// Watch sends region changes after from, in order, until ctx ends. With from = 0 it first
// sends the current state (at the index of the last change, or 0 before init).
//
// Every watcher wakes on the same change, so each change is encoded once and the same
// bytes are sent on every stream (grpc.PreparedMsg); with ten thousand watchers the
// encoding would otherwise dominate.
func (s *Server) Watch(ctx context.Context, from uint64, stream kirikaev1.ActiveRegionService_WatchActiveRegionServer) error {
	metricWatchers.Inc()
	defer metricWatchers.Dec()
	shared := identityEncoding(ctx)
	send := func(c *kirikaev1.RegionChange) error {
		if shared {
			if pm := s.watchCache.get(stream, c); pm != nil {
				return stream.SendMsg(pm)
			}
		}
		return stream.Send(&kirikaev1.WatchActiveRegionResponse{Index: c.GetIndex(), State: c.GetState(), Initialized: true})
	}
	if from == 0 {
		changes, _ := s.node.FSM().ChangesSince(0)
		if n := len(changes); n > 0 {
			if err := send(changes[n-1]); err != nil {
				return err
			}
			from = changes[n-1].GetIndex()
		} else if err := stream.Send(&kirikaev1.WatchActiveRegionResponse{}); err != nil {
			return err
		}
	}
	for {
		changes, next := s.node.FSM().ChangesSince(from)
		for _, c := range changes {
			if err := send(c); err != nil {
				return err
			}
			from = c.GetIndex()
		}
		select {
		case <-next:
		case <-ctx.Done():
			return nil
		}
	}
}

// identityEncoding reports whether the client sent its request uncompressed, in which case
// the server answers uncompressed and a shared encoding fits every such stream.
func identityEncoding(ctx context.Context) bool {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, e := range md.Get("grpc-encoding") {
		if e != "" && e != "identity" {
			return false
		}
	}
	return true
}

// preparedCache holds the encoded watch message of the most recent changes.
type preparedCache struct {
	mu      sync.Mutex
	byIndex map[uint64]*grpc.PreparedMsg
	order   []uint64
}

const preparedCacheSize = 64

func (p *preparedCache) get(stream grpc.ServerStream, c *kirikaev1.RegionChange) *grpc.PreparedMsg {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pm, ok := p.byIndex[c.GetIndex()]; ok {
		return pm
	}
	pm := &grpc.PreparedMsg{}
	if err := pm.Encode(stream, &kirikaev1.WatchActiveRegionResponse{Index: c.GetIndex(), State: c.GetState(), Initialized: true}); err != nil {
		return nil
	}
	if p.byIndex == nil {
		p.byIndex = map[uint64]*grpc.PreparedMsg{}
	}
	p.byIndex[c.GetIndex()] = pm
	p.order = append(p.order, c.GetIndex())
	if len(p.order) > preparedCacheSize {
		delete(p.byIndex, p.order[0])
		p.order = p.order[1:]
	}
	return pm
}

// regionAdminService changes the region state; the policy table limits it to admins.
type regionAdminService struct {
	kirikaev1.UnimplementedRegionAdminServiceServer
	s *Server
}

func (r *regionAdminService) InitRegion(ctx context.Context, req *kirikaev1.InitRegionRequest) (*kirikaev1.InitRegionResponse, error) {
	for _, f := range []struct{ name, v string }{{"primary", req.GetPrimary()}, {"secondary", req.GetSecondary()}} {
		if err := ValidateRegion(f.name, f.v); err != nil {
			return nil, toStatus(err)
		}
	}
	res, idx, err := r.s.Propose(ctx, &kirikaev1.Command{
		RequestId: req.GetRequestId(), Actor: actorOf(ctx),
		Payload: &kirikaev1.Command_InitRegion{InitRegion: req},
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &kirikaev1.InitRegionResponse{State: res.GetRegion(), RaftIndex: idx}, nil
}

func (r *regionAdminService) SetRegion(ctx context.Context, req *kirikaev1.SetRegionRequest) (*kirikaev1.SetRegionResponse, error) {
	if !req.GetForce() {
		return nil, toStatus(fmt.Errorf("%w: region set is the audited break-glass; pass force (--force) to confirm", ErrFailedPrecondition))
	}
	if req.GetReason() == "" {
		return nil, toStatus(fmt.Errorf("%w: reason is required (--reason)", ErrInvalidArgument))
	}
	if err := ValidateRegion("region", req.GetRegion()); err != nil {
		return nil, toStatus(err)
	}
	res, idx, err := r.s.Propose(ctx, &kirikaev1.Command{
		RequestId: req.GetRequestId(), Actor: actorOf(ctx),
		Payload: &kirikaev1.Command_SetRegion{SetRegion: req},
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &kirikaev1.SetRegionResponse{State: res.GetRegion(), RaftIndex: idx}, nil
}

func (r *regionAdminService) ListRegionHistory(ctx context.Context, _ *kirikaev1.ListRegionHistoryRequest) (*kirikaev1.ListRegionHistoryResponse, error) {
	if _, err := r.s.linearizableIndex(ctx); err != nil {
		return nil, toStatus(err)
	}
	return &kirikaev1.ListRegionHistoryResponse{Changes: r.s.node.FSM().History()}, nil
}

// auditService reads the audit log.
type auditService struct {
	kirikaev1.UnimplementedAuditServiceServer
	s *Server
}

func (a *auditService) ListAudit(ctx context.Context, req *kirikaev1.ListAuditRequest) (*kirikaev1.ListAuditResponse, error) {
	if _, err := a.s.linearizableIndex(ctx); err != nil {
		return nil, toStatus(err)
	}
	all := a.s.node.FSM().Audit()
	out := &kirikaev1.ListAuditResponse{Total: uint64(len(all))}
	for _, e := range all {
		if e.GetTimeUnixNano() >= req.GetSinceUnixNano() {
			out.Entries = append(out.Entries, e)
		}
	}
	return out, nil
}

// internalService is what nodes call on the leader.
type internalService struct {
	kirikaev1.UnimplementedInternalServiceServer
	s *Server
}

func (i *internalService) Apply(ctx context.Context, req *kirikaev1.ApplyRequest) (*kirikaev1.ApplyResponse, error) {
	if req.GetCommand() == nil || req.GetCommand().GetRequestId() == "" {
		return nil, toStatus(fmt.Errorf("%w: forwarded command needs a request id", ErrInvalidArgument))
	}
	res, idx, err := i.s.applyAsLeader(ctx, req.GetCommand())
	if err != nil {
		return nil, toStatus(err)
	}
	return &kirikaev1.ApplyResponse{Result: res, RaftIndex: idx}, nil
}

func (i *internalService) ReadIndex(ctx context.Context, _ *kirikaev1.ReadIndexRequest) (*kirikaev1.ReadIndexResponse, error) {
	idx, err := i.s.node.ReadIndex(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &kirikaev1.ReadIndexResponse{Index: idx}, nil
}
