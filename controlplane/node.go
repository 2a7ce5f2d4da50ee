package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// RaftTimeouts are the raft timing knobs. Loopback and LAN clusters can use short ones;
// a cluster spread over a WAN needs longer ones.
type RaftTimeouts struct {
	Heartbeat   time.Duration
	Election    time.Duration
	LeaderLease time.Duration
	Commit      time.Duration
}

// DefaultRaftTimeouts suit a cluster whose round trips are a few milliseconds.
var DefaultRaftTimeouts = RaftTimeouts{
	Heartbeat:   400 * time.Millisecond,
	Election:    400 * time.Millisecond,
	LeaderLease: 200 * time.Millisecond,
	Commit:      20 * time.Millisecond,
}

// NodeConfig configures a raft node.
type NodeConfig struct {
	ID      string
	DataDir string
	// Layer carries raft traffic; mTLS outside dev mode.
	Layer     raft.StreamLayer
	Timeouts  RaftTimeouts
	Logger    *slog.Logger
	Bootstrap bool
}

// Node is one control-plane raft member and its state machine.
type Node struct {
	id     string
	raft   *raft.Raft
	fsm    *FSM
	log    *slog.Logger
	store  *raftboltdb.BoltStore
	logs   raft.LogStore
	trans  *raft.NetworkTransport
	reads  *readBatcher
	closed chan struct{}

	mu        sync.Mutex // serializes termCommitted
	readyTerm uint64     // the term in which this node, as leader, committed a barrier
}

// NewNode opens the data dir, starts raft, and bootstraps a one-node cluster when asked to
// and the data dir holds no state yet.
func NewNode(cfg NodeConfig) (*Node, error) {
	if cfg.ID == "" {
		return nil, fmt.Errorf("%w: node id is empty (--id)", ErrInvalidArgument)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t := cfg.Timeouts
	if t == (RaftTimeouts{}) {
		t = DefaultRaftTimeouts
	}
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.HeartbeatTimeout = t.Heartbeat
	rc.ElectionTimeout = t.Election
	rc.LeaderLeaseTimeout = t.LeaderLease
	rc.CommitTimeout = t.Commit
	rc.SnapshotThreshold = 4096
	rc.TrailingLogs = 4096
	rc.Logger = newHCLogger(logger.With("component", "raft"))

	store, err := raftboltdb.NewBoltStore(filepath.Join(cfg.DataDir, "raft.db"))
	if err != nil {
		return nil, fmt.Errorf("open raft log %s: %w", filepath.Join(cfg.DataDir, "raft.db"), err)
	}
	logs, err := raft.NewLogCache(1024, store)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("log cache: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, 3, rc.Logger)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("snapshot store: %w", err)
	}
	trans := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  cfg.Layer,
		MaxPool: 5,
		Timeout: 10 * time.Second,
		Logger:  rc.Logger,
	})
	fsm := NewFSM()
	// What the log already holds was counted by the process that appended it; raft replays
	// it after a restart, and the state machine's counters must not count it again.
	if last, err := logs.LastIndex(); err == nil {
		fsm.metrics.quietThrough = last
	}
	r, err := raft.NewRaft(rc, fsm, logs, store, snaps, trans)
	if err != nil {
		trans.Close()
		store.Close()
		return nil, fmt.Errorf("start raft: %w", err)
	}
	n := &Node{id: cfg.ID, raft: r, fsm: fsm, log: logger, store: store, logs: logs, trans: trans, closed: make(chan struct{})}
	n.reads = newReadBatcher(n.leaderReadIndex)
	if cfg.Bootstrap {
		has, err := raft.HasExistingState(logs, store, snaps)
		if err != nil {
			n.Close()
			return nil, fmt.Errorf("inspect data dir: %w", err)
		}
		if has {
			logger.Info("data dir holds state; --bootstrap ignored", "data_dir", cfg.DataDir)
		} else {
			f := r.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{
				ID: rc.LocalID, Address: trans.LocalAddr(), Suffrage: raft.Voter,
			}}})
			if err := f.Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
				n.Close()
				return nil, fmt.Errorf("bootstrap: %w", err)
			}
		}
	}
	go n.watchLeadership()
	return n, nil
}

// HasState reports whether this node's data dir held raft state, i.e. it has been part of
// a cluster before and must not join again.
func (n *Node) HasState() bool {
	return n.raft.LastIndex() > 0
}

// ID is this node's raft server id.
func (n *Node) ID() string { return n.id }

// FSM is the node's state machine, for reads.
func (n *Node) FSM() *FSM { return n.fsm }

// Raft exposes the raft instance to this package's services and to tests.
func (n *Node) Raft() *raft.Raft { return n.raft }

// IsLeader reports whether this node is the leader now.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Leader returns the leader's raft address and id, empty when unknown.
func (n *Node) Leader() (raft.ServerAddress, raft.ServerID) { return n.raft.LeaderWithID() }

// watchLeadership commits the new term's barrier as soon as this node becomes leader, so
// the first linearizable read of the term does not pay for it.
func (n *Node) watchLeadership() {
	for {
		select {
		case <-n.closed:
			return
		case isLeader := <-n.raft.LeaderCh():
			if !isLeader {
				continue
			}
			if err := n.termCommitted(); err != nil {
				n.log.Warn("leader barrier failed", "err", err)
				continue
			}
			n.log.Info("became leader", "term", n.raft.CurrentTerm(), "index", n.fsm.AppliedIndex())
		}
	}
}

// termCommitted makes sure this node leads and has committed an entry of its current term.
// Until it has, its commit index may belong to an earlier term and must not serve a
// linearizable read (raft paper, section 8). The barrier runs once per term.
func (n *Node) termCommitted() error {
	if n.raft.State() != raft.Leader {
		return fmt.Errorf("read index on %s: %w", n.id, raft.ErrNotLeader)
	}
	term := n.raft.CurrentTerm()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.readyTerm == term {
		return nil
	}
	if err := n.raft.Barrier(5 * time.Second).Error(); err != nil {
		return fmt.Errorf("commit barrier for term %d: %w", term, err)
	}
	n.readyTerm = term
	return nil
}

// ApplyLocal proposes a command on this node, which must be the leader. The caller stamps
// the command. Every error means the outcome is unknown unless it says otherwise.
func (n *Node) ApplyLocal(ctx context.Context, cmd *kirikaev1.Command) (*kirikaev1.CommandResult, uint64, error) {
	if n.raft.State() != raft.Leader {
		return nil, 0, fmt.Errorf("apply on %s: %w", n.id, raft.ErrNotLeader)
	}
	b, err := proto.Marshal(cmd)
	if err != nil {
		return nil, 0, fmt.Errorf("marshal command: %w", err)
	}
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
		if timeout <= 0 {
			return nil, 0, context.DeadlineExceeded
		}
	}
	start := time.Now()
	f := n.raft.Apply(b, timeout)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrEnqueueTimeout) {
			// Not appended by us; a retry with the same id is safe either way.
			return nil, 0, fmt.Errorf("apply: %w", err)
		}
		return nil, 0, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	}
	metricApplySeconds.Observe(time.Since(start).Seconds())
	res, _ := f.Response().(*kirikaev1.CommandResult)
	return res, f.Index(), nil
}

// ReadIndex returns an index at which a linearizable read may be served, once applied.
// Concurrent callers share one VerifyLeader round.
func (n *Node) ReadIndex(ctx context.Context) (uint64, error) {
	if n.raft.State() != raft.Leader {
		return 0, fmt.Errorf("read index on %s: %w", n.id, raft.ErrNotLeader)
	}
	return n.reads.readIndex(ctx)
}

// WaitApplied blocks until the state machine has applied every command at or below index,
// so a read served after it sees every write committed by then.
//
// raft's own applied index is not that: hashicorp/raft moves it when it hands entries to
// the FSM goroutine, before the FSM has applied them, so a read served on it can miss an
// acknowledged write. The FSM's index alone is not enough either: raft never hands the FSM
// no-op, barrier or configuration entries, so a commit index that ends in one of those is
// never reached. So once raft has handed over everything through index, the wait is for
// the FSM to pass the last command at or below index, as the log says.
func (n *Node) WaitApplied(ctx context.Context, index uint64) error {
	for {
		ch, applied := n.fsm.waitApplied()
		if applied >= index {
			return nil
		}
		if n.raft.AppliedIndex() >= index {
			pending, err := n.commandIn(applied, index)
			if err != nil {
				return err
			}
			if !pending {
				return nil
			}
		}
		select {
		case <-ch:
		case <-time.After(2 * time.Millisecond): // raft's applied index has no channel
		case <-ctx.Done():
			return fmt.Errorf("wait for index %d (state machine at %d): %w", index, applied, ctx.Err())
		}
	}
}

// commandIn reports whether the log holds a command in (from, to]. It reads down from to;
// an entry no longer in the log was compacted into a snapshot, which the FSM applied or
// restored before raft let the log go, so it and everything below it are not pending.
func (n *Node) commandIn(from, to uint64) (bool, error) {
	for i := to; i > from; i-- {
		var l raft.Log
		if err := n.logs.GetLog(i, &l); err != nil {
			if errors.Is(err, raft.ErrLogNotFound) {
				return false, nil
			}
			return false, fmt.Errorf("read raft log at %d: %w", i, err)
		}
		if l.Type == raft.LogCommand {
			return true, nil
		}
	}
	return false, nil
}

// LastContact is the time since this node last heard from the leader; 0 on the leader.
func (n *Node) LastContact() time.Duration {
	if n.raft.State() == raft.Leader {
		return 0
	}
	lc := n.raft.LastContact()
	if lc.IsZero() {
		return -1
	}
	return time.Since(lc)
}

// AddVoter adds a node. Leader only.
func (n *Node) AddVoter(ctx context.Context, id, addr string) error {
	cfg := n.raft.GetConfiguration()
	if err := cfg.Error(); err != nil {
		return fmt.Errorf("read configuration: %w", err)
	}
	for _, s := range cfg.Configuration().Servers {
		if s.ID == raft.ServerID(id) && s.Address == raft.ServerAddress(addr) {
			return nil // already a member with this address: idempotent
		}
	}
	if err := n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, timeoutOf(ctx)).Error(); err != nil {
		return fmt.Errorf("add voter %s at %s: %w", id, addr, err)
	}
	return nil
}

// RemoveServer removes a node. Leader only.
func (n *Node) RemoveServer(ctx context.Context, id string) error {
	cfg := n.raft.GetConfiguration()
	if err := cfg.Error(); err != nil {
		return fmt.Errorf("read configuration: %w", err)
	}
	found := false
	for _, s := range cfg.Configuration().Servers {
		if s.ID == raft.ServerID(id) {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("%w: no member with id %q", ErrNotFound, id)
	}
	if err := n.raft.RemoveServer(raft.ServerID(id), 0, timeoutOf(ctx)).Error(); err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	return nil
}

// Servers returns the raft configuration.
func (n *Node) Servers() ([]raft.Server, error) {
	cfg := n.raft.GetConfiguration()
	if err := cfg.Error(); err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return cfg.Configuration().Servers, nil
}

func timeoutOf(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d > 0 {
			return d
		}
	}
	return 10 * time.Second
}

// Close shuts raft down and closes the stores.
func (n *Node) Close() error {
	select {
	case <-n.closed:
		return nil
	default:
		close(n.closed)
	}
	err := n.raft.Shutdown().Error()
	n.trans.Close()
	if cerr := n.store.Close(); err == nil {
		err = cerr
	}
	return err
}

// readBatcher implements ReadIndex with batching: every read that arrives while a round is
// in flight joins the next round, so N concurrent reads cost one round, not N. A round that
// started before a read arrived never answers it: its index could predate the read.
type readBatcher struct {
	fetch   func(ctx context.Context) (uint64, error)
	mu      sync.Mutex
	waiting []chan readResult
	running bool
}

type readResult struct {
	index uint64
	err   error
}

func newReadBatcher(fetch func(ctx context.Context) (uint64, error)) *readBatcher {
	return &readBatcher{fetch: fetch}
}

func (b *readBatcher) readIndex(ctx context.Context) (uint64, error) {
	ch := make(chan readResult, 1)
	b.mu.Lock()
	b.waiting = append(b.waiting, ch)
	if !b.running {
		b.running = true
		go b.loop()
	}
	b.mu.Unlock()
	select {
	case r := <-ch:
		return r.index, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (b *readBatcher) loop() {
	for {
		b.mu.Lock()
		batch := b.waiting
		b.waiting = nil
		if len(batch) == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		idx, err := b.fetch(ctx)
		cancel()
		for _, ch := range batch {
			ch <- readResult{index: idx, err: err}
		}
	}
}

// leaderReadIndex is one ReadIndex round on the leader: the commit index, confirmed by a
// heartbeat round that shows this node still leads.
func (n *Node) leaderReadIndex(context.Context) (uint64, error) {
	if err := n.termCommitted(); err != nil {
		return 0, err
	}
	// The commit index is taken before leadership is confirmed: any write acknowledged
	// before these reads arrived is at or below it.
	idx := n.raft.CommitIndex()
	if err := n.raft.VerifyLeader().Error(); err != nil {
		return 0, fmt.Errorf("verify leader: %w", err)
	}
	return idx, nil
}
