package controlplane

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Health is whether a node can serve, as /healthz and the gRPC health service both say: it
// serves while it knows a leader that a quorum of the cluster follows. Health decides; the
// two endpoints only render it, so they cannot disagree.
type Health struct {
	NodeID       string
	State        string // raft state: Follower, Candidate, Leader, Shutdown
	LeaderID     string
	AppliedIndex uint64
	// Cause is empty while the node serves, otherwise why it does not.
	Cause string
}

// Serving reports whether the node serves.
func (h Health) Serving() bool { return h.Cause == "" }

// Health decides whether this node serves.
//
// A leader serves: hashicorp/raft makes a leader step down once it has not heard from a
// quorum within LeaderLeaseTimeout, so a leader that has lost its quorum stops being one
// within that lease. A follower serves while it knows a leader and has heard from it within
// twice the election timeout (it would have started an election long before, unless it
// cannot even do that). A candidate, or a node that knows no leader, does not serve: the
// cluster it can reach has no quorum, or is electing one.
func (n *Node) Health() Health {
	st := n.raft.State()
	_, lid := n.raft.LeaderWithID()
	h := Health{NodeID: n.id, State: st.String(), LeaderID: string(lid), AppliedIndex: n.fsm.AppliedIndex()}
	switch {
	case st == raft.Shutdown:
		h.Cause = "shut down"
	case st == raft.Leader:
	case lid == "":
		h.Cause = "no leader: this node cannot reach a quorum of the cluster, or an election is under way"
	default:
		rc := n.raft.ReloadableConfig()
		limit := 2 * max(rc.ElectionTimeout, rc.HeartbeatTimeout)
		if lc := n.raft.LastContact(); !lc.IsZero() && time.Since(lc) > limit {
			h.Cause = fmt.Sprintf("no leader: leader %s not heard from for %s (limit %s)", lid, time.Since(lc).Round(time.Millisecond), limit)
		}
	}
	return h
}

// healthPoll is how often the gRPC health service's watchers are brought up to date; Check
// always decides afresh.
const healthPoll = 100 * time.Millisecond

// healthService is the standard gRPC health service for the service name "" (the whole
// server), answering what Node.Health decides. Check decides on every call; Watch streams
// the status that watchHealth keeps up to date.
type healthService struct {
	*health.Server
	n *Node
}

func newHealthService(n *Node) *healthService {
	h := &healthService{Server: health.NewServer(), n: n}
	h.refresh()
	return h
}

func (h *healthService) refresh() {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if h.n.Health().Serving() {
		st = healthpb.HealthCheckResponse_SERVING
	}
	h.SetServingStatus("", st)
}

// Check answers from Node.Health at the time of the call.
func (h *healthService) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if req.GetService() == "" {
		h.refresh()
	}
	return h.Server.Check(ctx, req)
}

// watch keeps the status Watch streams up to date until ctx ends, then answers NOT_SERVING
// for good: the server is going away.
func (h *healthService) watch(ctx context.Context) {
	t := time.NewTicker(healthPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			h.Shutdown()
			return
		case <-t.C:
			h.refresh()
		}
	}
}
