package controlplane

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
)

// Server holds what the gRPC and HTTP handlers share: the raft node and the connections to
// the other control-plane nodes that writes and read barriers are forwarded over.
type Server struct {
	node     *Node
	log      *slog.Logger
	peerCred credentials.TransportCredentials

	// followerReads batches the ReadIndex calls a follower makes to the leader.
	followerReads *readBatcher
	watchCache    preparedCache
	hub           *agentHub
	planner       Planner
	// checks routes agents' plan-check reports; scheduled holds the leader's evaluations.
	checks    checkWaiters
	scheduled *schedule
	// isolated is set on the control plane of a simulated world (see Config.IsolatedWorld).
	isolated bool
	// uiOpen serves the web view under /ui/ on the HTTP port (--ui=open).
	uiOpen bool
	// timeScale is a simulated world's (Config.TimeScale); the web view charts with it.
	timeScale float64
	roles     *security.Roles
	// telemetry is this server's metrics registry (metrics.go).
	telemetry *telemetry
	// refusals gathers the calls the edge refused, for the audit log (refusals.go).
	refusals *refusalLog

	mu    sync.Mutex
	peers map[string]*grpc.ClientConn // by gRPC address
}

// NewServer wraps a node. peerTLS is the client side of this server's own certificate, used
// to call other nodes; nil means plaintext (dev mode).
func NewServer(node *Node, peerTLS *tls.Config, logger *slog.Logger) *Server {
	cred := insecure.NewCredentials()
	if peerTLS != nil {
		cred = credentials.NewTLS(peerTLS)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{node: node, log: logger, peerCred: cred, peers: map[string]*grpc.ClientConn{}}
	s.followerReads = newReadBatcher(s.remoteReadIndex)
	s.hub = newAgentHub()
	s.refusals = newRefusalLog()
	s.scheduled = &schedule{interval: DefaultEvaluateEvery}
	s.telemetry = newTelemetry(s)
	return s
}

// Close closes the peer connections.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.peers {
		c.Close()
	}
	s.peers = map[string]*grpc.ClientConn{}
}

// NewRequestID returns a random request id for callers that did not bring one.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RequestFingerprint identifies what a caller's request asked for: the state machine refuses
// a request id reused for a different request.
func RequestFingerprint(m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

// payloadFingerprint is the fingerprint of a command whose payload is the request itself.
func payloadFingerprint(cmd *kirikaev1.Command) []byte {
	return RequestFingerprint(&kirikaev1.Command{Payload: cmd.GetPayload()})
}

// rolesOf are the roles an actor holds now, from this server's roles file; the command
// carries them so the state machine judges role rules alike on every node. A dev server's
// one caller plays every role.
func (s *Server) rolesOf(actor string) []string {
	if actor == security.DevIdentity.String() {
		out := make([]string, len(security.AllRoles))
		for i, r := range security.AllRoles {
			out[i] = string(r)
		}
		return out
	}
	id, err := security.ParseIdentity(actor)
	if err != nil {
		return []string{}
	}
	held := s.roles.RolesOf(id)
	out := make([]string, len(held))
	for i, r := range held {
		out[i] = string(r)
	}
	return out
}

// peer returns a connection to another node's gRPC address.
func (s *Server) peer(addr string) (*grpc.ClientConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.peers[addr]; ok {
		return c, nil
	}
	c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(s.peerCred))
	if err != nil {
		return nil, fmt.Errorf("dial peer %s: %w", addr, err)
	}
	s.peers[addr] = c
	return c, nil
}

// leaderConn returns a connection to the leader's gRPC address, or ErrNoLeader.
func (s *Server) leaderConn() (*grpc.ClientConn, string, error) {
	_, id := s.node.Leader()
	if id == "" {
		return nil, "", ErrNoLeader
	}
	for _, m := range s.node.FSM().Members() {
		if m.GetId() == string(id) && m.GetGrpcAddress() != "" {
			c, err := s.peer(m.GetGrpcAddress())
			return c, string(id), err
		}
	}
	return nil, "", fmt.Errorf("leader %s has not advertised a gRPC address yet: %w", id, ErrNoLeader)
}

// retryable reports whether an error means "try again, maybe elsewhere": no leader, a
// leader change, or an unreachable peer. Applying again is safe because of request ids.
func retryable(err error) bool {
	if errors.Is(err, ErrNoLeader) || errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) ||
		errors.Is(err, raft.ErrEnqueueTimeout) || errors.Is(err, ErrOutcomeUnknown) {
		return true
	}
	if st, ok := status.FromError(err); ok {
		return st.Code() == codes.Unavailable
	}
	return false
}

// withDefaultDeadline bounds work that the caller left unbounded.
func withDefaultDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// Propose applies a command through raft from any node: locally on the leader, forwarded
// to the leader otherwise. It retries through elections until ctx ends. The command must
// carry a request id, so a retry never applies twice. A refusal by the state machine comes
// back as an error wrapping one of this package's sentinels.
func (s *Server) Propose(ctx context.Context, cmd *kirikaev1.Command) (*kirikaev1.CommandResult, uint64, error) {
	if cmd.GetRequestId() == "" && cmd.GetStepProgress() == nil {
		cmd.RequestId = NewRequestID()
	}
	if len(cmd.GetFingerprint()) == 0 {
		cmd.Fingerprint = payloadFingerprint(cmd)
	}
	if cmd.CallerRoles == nil {
		cmd.CallerRoles = s.rolesOf(cmd.GetActor())
	}
	ctx, cancel := withDefaultDeadline(ctx, 15*time.Second)
	defer cancel()
	backoff := 10 * time.Millisecond
	for {
		res, idx, err := s.proposeOnce(ctx, cmd)
		if err == nil {
			return res, idx, errorFromResult(res)
		}
		if !retryable(err) {
			return nil, 0, err
		}
		select {
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("propose %s: %w (last error: %w)", cmd.GetRequestId(), ctx.Err(), err)
		case <-time.After(backoff):
		}
		if backoff < 200*time.Millisecond {
			backoff *= 2
		}
	}
}

func (s *Server) proposeOnce(ctx context.Context, cmd *kirikaev1.Command) (*kirikaev1.CommandResult, uint64, error) {
	if s.node.IsLeader() {
		return s.applyAsLeader(ctx, cmd)
	}
	conn, _, err := s.leaderConn()
	if err != nil {
		return nil, 0, err
	}
	resp, err := kirikaev1.NewInternalServiceClient(conn).Apply(ctx, &kirikaev1.ApplyRequest{Command: cmd})
	if err != nil {
		return nil, 0, fmt.Errorf("forward to leader: %w", err)
	}
	return resp.GetResult(), resp.GetRaftIndex(), nil
}

// applyAsLeader stamps the command with the leader's clock and applies it.
func (s *Server) applyAsLeader(ctx context.Context, cmd *kirikaev1.Command) (*kirikaev1.CommandResult, uint64, error) {
	cmd.TimeUnixNano = time.Now().UnixNano()
	return s.node.ApplyLocal(ctx, cmd)
}

// linearizableIndex returns an index that is safe for a linearizable read on this node:
// the leader's batched ReadIndex, asked for over the network on a follower.
func (s *Server) linearizableIndex(ctx context.Context) (uint64, error) {
	ctx, cancel := withDefaultDeadline(ctx, 5*time.Second)
	defer cancel()
	backoff := 5 * time.Millisecond
	for {
		idx, err := s.readIndexOnce(ctx)
		if err == nil {
			if err := s.node.WaitApplied(ctx, idx); err != nil {
				return 0, err
			}
			return idx, nil
		}
		if !retryable(err) {
			return 0, err
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("linearizable read: %w (last error: %w)", ctx.Err(), err)
		case <-time.After(backoff):
		}
		if backoff < 100*time.Millisecond {
			backoff *= 2
		}
	}
}

func (s *Server) readIndexOnce(ctx context.Context) (uint64, error) {
	if s.node.IsLeader() {
		return s.node.ReadIndex(ctx)
	}
	return s.followerReads.readIndex(ctx)
}

// remoteReadIndex asks the leader for a read index: one call serves a whole batch.
func (s *Server) remoteReadIndex(ctx context.Context) (uint64, error) {
	conn, _, err := s.leaderConn()
	if err != nil {
		return 0, err
	}
	resp, err := kirikaev1.NewInternalServiceClient(conn).ReadIndex(ctx, &kirikaev1.ReadIndexRequest{})
	if err != nil {
		return 0, fmt.Errorf("read index from leader: %w", err)
	}
	return resp.GetIndex(), nil
}
