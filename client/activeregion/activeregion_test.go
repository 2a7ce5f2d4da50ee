package activeregion_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/kirikae/kirikae/client/activeregion"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// eventuallyWithin is generous: it bounds a hung test, it does not measure anything.
const eventuallyWithin = 15 * time.Second

// fakeFSM is the region history every fake node serves, as raft would replicate it.
// Indexes grow by 3 so that a client which assumed consecutive indexes would show a gap.
type fakeFSM struct {
	mu      sync.Mutex
	history []*kirikaev1.RegionChange
	changed chan struct{} // closed and replaced on every change
	next    uint64
}

func newFakeFSM() *fakeFSM {
	return &fakeFSM{changed: make(chan struct{}), next: 3}
}

// set records a change to active (the first call is the init) and returns its index.
func (f *fakeFSM) set(active string) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	epoch := uint64(len(f.history) + 1)
	ch := &kirikaev1.RegionChange{Index: f.next, State: &kirikaev1.RegionState{
		Primary: "us-east-1", Secondary: "us-west-2", Active: active, Epoch: epoch,
		Mode: kirikaev1.Mode_MODE_NORMAL, ChangedUnixNano: int64(epoch), ChangedBy: "test", Reason: fmt.Sprint("change ", epoch),
	}}
	f.history = append(f.history, ch)
	f.next += 3
	close(f.changed)
	f.changed = make(chan struct{})
	return ch.GetIndex()
}

// since returns the changes after from, and a channel closed at the next change.
func (f *fakeFSM) since(from uint64) ([]*kirikaev1.RegionChange, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*kirikaev1.RegionChange
	for _, c := range f.history {
		if c.GetIndex() > from {
			out = append(out, c)
		}
	}
	return out, f.changed
}

func (f *fakeFSM) has(index uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.history {
		if c.GetIndex() == index {
			return true
		}
	}
	return false
}

func (f *fakeFSM) latest() *kirikaev1.RegionChange {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.history) == 0 {
		return nil
	}
	return f.history[len(f.history)-1]
}

func (f *fakeFSM) indexes() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []uint64
	for _, c := range f.history {
		out = append(out, c.GetIndex())
	}
	return out
}

// fakeNode is one control-plane node serving ActiveRegionService from a shared fakeFSM.
type fakeNode struct {
	kirikaev1.UnimplementedActiveRegionServiceServer

	name string
	addr string
	fsm  *fakeFSM
	srv  *grpc.Server

	mu          sync.Mutex
	froms       []uint64 // from_index of every watch, in order
	gets        int
	bad         []string // contract violations seen by the server; checked by the test
	stalenessMs int64    // what stale reads report
}

func (n *fakeNode) WatchActiveRegion(req *kirikaev1.WatchActiveRegionRequest, stream kirikaev1.ActiveRegionService_WatchActiveRegionServer) error {
	from := req.GetFromIndex()
	n.mu.Lock()
	n.froms = append(n.froms, from)
	if from != 0 && !n.fsm.has(from) {
		n.bad = append(n.bad, fmt.Sprintf("watch from_index %d is not an index any node sent", from))
		n.mu.Unlock()
		return status.Errorf(codes.InvalidArgument, "from_index %d is unknown", from)
	}
	n.mu.Unlock()
	if from == 0 {
		first := &kirikaev1.WatchActiveRegionResponse{}
		if c := n.fsm.latest(); c != nil {
			first = &kirikaev1.WatchActiveRegionResponse{Index: c.GetIndex(), State: c.GetState(), Initialized: true}
		}
		if err := stream.Send(first); err != nil {
			return err
		}
		from = first.GetIndex()
	}
	for {
		changes, next := n.fsm.since(from)
		for _, c := range changes {
			if err := stream.Send(&kirikaev1.WatchActiveRegionResponse{Index: c.GetIndex(), State: c.GetState(), Initialized: true}); err != nil {
				return err
			}
			from = c.GetIndex()
		}
		select {
		case <-next:
		case <-stream.Context().Done():
			return nil
		}
	}
}

func (n *fakeNode) GetActiveRegion(_ context.Context, req *kirikaev1.GetActiveRegionRequest) (*kirikaev1.GetActiveRegionResponse, error) {
	n.mu.Lock()
	n.gets++
	staleness := n.stalenessMs
	n.mu.Unlock()
	resp := &kirikaev1.GetActiveRegionResponse{Consistency: req.GetConsistency(), NodeId: n.name}
	if req.GetConsistency() == kirikaev1.Consistency_CONSISTENCY_STALE {
		resp.StalenessMs = staleness
	}
	if c := n.fsm.latest(); c != nil {
		resp.State, resp.Initialized, resp.RaftIndex = c.GetState(), true, c.GetIndex()
	}
	return resp, nil
}

func (n *fakeNode) watchFroms() []uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]uint64(nil), n.froms...)
}

func (n *fakeNode) getCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.gets
}

func (n *fakeNode) violations() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.bad...)
}

// startNode serves a fake node on addr ("127.0.0.1:0" for a fresh port). It is stopped at
// the end of the test, and its contract violations fail the test.
func startNode(t *testing.T, fsm *fakeFSM, name, addr string) *fakeNode {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	n := &fakeNode{name: name, addr: lis.Addr().String(), fsm: fsm, srv: grpc.NewServer()}
	kirikaev1.RegisterActiveRegionServiceServer(n.srv, n)
	go func() { _ = n.srv.Serve(lis) }()
	t.Cleanup(func() {
		n.srv.Stop()
		for _, v := range n.violations() {
			t.Errorf("node %s: %s", name, v)
		}
	})
	return n
}

// deadAddr is a loopback address where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	if err := lis.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func testConfig(t *testing.T, addrs ...string) activeregion.Config {
	return activeregion.Config{
		Addrs:           addrs,
		DialOptions:     []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())},
		Logger:          testLogger(t),
		MinBackoff:      5 * time.Millisecond,
		MaxBackoff:      50 * time.Millisecond,
		ConfirmInterval: 20 * time.Millisecond,
		// A scheduling hiccup under -race must not move the watch; the test of rotating
		// away from a node that cannot vouch turns this on.
		RotateAfter:    -1,
		RequestTimeout: 5 * time.Second,
	}
}

// newClient starts a client that is closed at the end of the test, before the nodes stop.
func newClient(t *testing.T, cfg activeregion.Config) *activeregion.Client {
	t.Helper()
	c, err := activeregion.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

func waitReady(t *testing.T, c *activeregion.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), eventuallyWithin)
	defer cancel()
	if err := c.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

// eventually polls cond until it holds, failing the test at the deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(eventuallyWithin)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// receive takes n changes from ch.
func receive(t *testing.T, ch <-chan activeregion.Change, n int) []activeregion.Change {
	t.Helper()
	deadline := time.NewTimer(eventuallyWithin)
	defer deadline.Stop()
	var out []activeregion.Change
	for len(out) < n {
		select {
		case c, ok := <-ch:
			if !ok {
				t.Fatalf("subscription closed after %d of %d changes", len(out), n)
			}
			out = append(out, c)
		case <-deadline.C:
			t.Fatalf("timed out after %d of %d changes", len(out), n)
		}
	}
	return out
}

// drain reads ch until it is closed.
func drain(t *testing.T, ch <-chan activeregion.Change) {
	t.Helper()
	deadline := time.NewTimer(eventuallyWithin)
	defer deadline.Stop()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline.C:
			t.Fatal("timed out waiting for the subscription to close")
		}
	}
}

func current(t *testing.T, c *activeregion.Client) activeregion.Snapshot {
	t.Helper()
	s, err := c.Current()
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	return s
}

func other(region string) string {
	if region == "us-east-1" {
		return "us-west-2"
	}
	return "us-east-1"
}

// flip records n changes that alternate the active region.
func flip(fsm *fakeFSM, n int) {
	for range n {
		fsm.set(other(fsm.latest().GetState().GetActive()))
	}
}

func indexesOf(changes []activeregion.Change) []uint64 {
	var out []uint64
	for _, c := range changes {
		out = append(out, c.Index)
	}
	return out
}

func TestFollowsChangesInOrder(t *testing.T) {
	fsm := newFakeFSM()
	fsm.set("us-east-1")
	node := startNode(t, fsm, "n1", "127.0.0.1:0")
	c := newClient(t, testConfig(t, node.addr))
	waitReady(t, c)

	sub := c.Subscribe(t.Context())
	got := receive(t, sub, 1)
	flip(fsm, 20)
	got = append(got, receive(t, sub, 20)...)

	if want := fsm.indexes(); fmt.Sprint(indexesOf(got)) != fmt.Sprint(want) {
		t.Fatalf("changes arrived as indexes %v, want %v", indexesOf(got), want)
	}
	fsm.mu.Lock()
	for i, ch := range got {
		if w := fsm.history[i].GetState(); ch.State.GetActive() != w.GetActive() || ch.State.GetEpoch() != w.GetEpoch() || !ch.Initialized {
			t.Errorf("change %d: got active %q epoch %d, want %q epoch %d", i, ch.State.GetActive(), ch.State.GetEpoch(), w.GetActive(), w.GetEpoch())
		}
		if ch.Addr != node.addr {
			t.Errorf("change %d came from %q, want %q", i, ch.Addr, node.addr)
		}
	}
	fsm.mu.Unlock()

	last := fsm.latest()
	eventually(t, "the cache to hold the last change", func() bool {
		s, err := c.Current()
		return err == nil && s.Index == last.GetIndex()
	})
	s := current(t, c)
	want := last.GetState().GetActive()
	if s.Active() != want || !s.IsActive(want) || s.IsActive(other(want)) || s.Addr != node.addr {
		t.Errorf("snapshot %+v: want active %q from %s", s, want, node.addr)
	}
	if c.Active() != want || !c.IsActive(want) || c.IsActive(other(want)) || c.IsActive("") {
		t.Errorf("client says active %q, want %q", c.Active(), want)
	}
	// The snapshot is a copy: changing it must not change the cache.
	s.State.Active = "eu-west-1"
	if c.Active() != want {
		t.Errorf("changing a snapshot changed the cache to %q", c.Active())
	}
}

func TestRotatesAndResumesWithoutGap(t *testing.T) {
	fsm := newFakeFSM()
	fsm.set("us-east-1")
	nodes := []*fakeNode{
		startNode(t, fsm, "a", "127.0.0.1:0"),
		startNode(t, fsm, "b", "127.0.0.1:0"),
		startNode(t, fsm, "c", "127.0.0.1:0"),
	}
	c := newClient(t, testConfig(t, nodes[0].addr, nodes[1].addr, nodes[2].addr))
	waitReady(t, c)
	sub := c.Subscribe(t.Context())
	got := receive(t, sub, 1)

	// Each round: changes while the node is up, then the node dies and more changes land
	// while the client is between nodes. The next node must be asked for exactly what
	// follows the last index the client saw.
	for i, n := range nodes[:2] {
		flip(fsm, 7)
		got = append(got, receive(t, sub, 7)...)
		lastSeen := got[len(got)-1].Index

		n.srv.Stop()
		flip(fsm, 5)
		got = append(got, receive(t, sub, 5)...)

		next := nodes[i+1]
		if froms := next.watchFroms(); len(froms) == 0 || froms[0] != lastSeen {
			t.Fatalf("node %s was asked to watch from %v, want first from %d (the last index seen)", next.name, froms, lastSeen)
		}
		eventually(t, "the snapshot to come from "+next.name, func() bool {
			s, err := c.Current()
			return err == nil && s.Addr == next.addr && s.Index == fsm.latest().GetIndex()
		})
	}
	if froms := nodes[0].watchFroms(); fmt.Sprint(froms) != "[0]" {
		t.Errorf("first node watches from %v, want [0]", froms)
	}
	if want := fsm.indexes(); fmt.Sprint(indexesOf(got)) != fmt.Sprint(want) {
		t.Fatalf("changes arrived as indexes %v, want every index in order: %v", indexesOf(got), want)
	}
	if c.Active() != fsm.latest().GetState().GetActive() {
		t.Errorf("active %q, want %q", c.Active(), fsm.latest().GetState().GetActive())
	}
}

func TestStalenessGrowsWhileNoServerAnswers(t *testing.T) {
	fsm := newFakeFSM()
	fsm.set("us-east-1")
	node := startNode(t, fsm, "n1", "127.0.0.1:0")
	c := newClient(t, testConfig(t, node.addr))
	waitReady(t, c)

	node.srv.Stop()
	stopped := time.Now()
	before := current(t, c)
	eventually(t, "staleness to grow past the moment the node stopped", func() bool {
		s := current(t, c) // the cached answer stays available, with its age
		if s.ConfirmedAt.After(stopped) {
			t.Fatalf("confirmed at %v, after the only node stopped at %v", s.ConfirmedAt, stopped)
		}
		return s.Staleness > before.Staleness+250*time.Millisecond
	})
	if s := current(t, c); !s.IsActive("us-east-1") || s.Index != fsm.latest().GetIndex() {
		t.Errorf("the cached state changed while no node answered: %+v", s)
	}

	// The node comes back on the same address: the client resumes and is fresh again.
	back := startNode(t, fsm, "n1-again", node.addr)
	eventually(t, "a confirmation after the node came back", func() bool {
		return current(t, c).ConfirmedAt.After(stopped) && len(back.watchFroms()) > 0
	})
	if froms := back.watchFroms(); len(froms) == 0 || froms[0] != fsm.latest().GetIndex() {
		t.Errorf("the restarted node was asked to watch from %v, want %d first", froms, fsm.latest().GetIndex())
	}
}

func TestQuietStreamIsConfirmed(t *testing.T) {
	for _, tc := range []struct {
		name         string
		stalenessMs  int64
		wantConfirms bool
	}{
		{name: "node in touch with the leader", stalenessMs: 0, wantConfirms: true},
		{name: "node an hour out of touch", stalenessMs: time.Hour.Milliseconds(), wantConfirms: false},
		{name: "node never heard from a leader", stalenessMs: -1, wantConfirms: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsm := newFakeFSM()
			fsm.set("us-east-1")
			node := startNode(t, fsm, "n1", "127.0.0.1:0")
			node.mu.Lock()
			node.stalenessMs = tc.stalenessMs
			node.mu.Unlock()
			c := newClient(t, testConfig(t, node.addr))
			waitReady(t, c)
			first := current(t, c).ConfirmedAt

			// No change is made, so the stream stays silent: only the confirming reads
			// can move ConfirmedAt.
			if tc.wantConfirms {
				eventually(t, "a confirmation of the quiet stream", func() bool {
					return current(t, c).ConfirmedAt.After(first)
				})
				return
			}
			reads := node.getCount()
			eventually(t, "several confirming reads", func() bool { return node.getCount() >= reads+3 })
			if s := current(t, c); !s.ConfirmedAt.Equal(first) {
				t.Errorf("a node out of touch with its leader moved ConfirmedAt from %v to %v", first, s.ConfirmedAt)
			}
		})
	}
}

func TestRotatesAwayFromNodeThatCannotVouch(t *testing.T) {
	for _, tc := range []struct {
		name        string
		stalenessMs int64
	}{
		{name: "follower cut off from its leader", stalenessMs: time.Hour.Milliseconds()},
		{name: "node that never heard from a leader", stalenessMs: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsm := newFakeFSM()
			fsm.set("us-east-1")
			cutOff := startNode(t, fsm, "cut-off", "127.0.0.1:0")
			cutOff.mu.Lock()
			cutOff.stalenessMs = tc.stalenessMs
			cutOff.mu.Unlock()
			healthy := startNode(t, fsm, "healthy", "127.0.0.1:0")
			cfg := testConfig(t, cutOff.addr, healthy.addr)
			cfg.RotateAfter = 100 * time.Millisecond
			c := newClient(t, cfg)
			waitReady(t, c)
			first := current(t, c).ConfirmedAt

			eventually(t, "the healthy node to vouch for the cache", func() bool {
				s := current(t, c)
				// The confirming read may overtake the watch call it follows.
				return s.Addr == healthy.addr && s.ConfirmedAt.After(first) && len(healthy.watchFroms()) > 0
			})
			if froms := healthy.watchFroms(); len(froms) == 0 || froms[0] != fsm.latest().GetIndex() {
				t.Errorf("the healthy node was asked to watch from %v, want %d first", froms, fsm.latest().GetIndex())
			}
		})
	}
}

func TestGetTriesAddressesInTurn(t *testing.T) {
	fsm := newFakeFSM()
	fsm.set("us-west-2")
	node := startNode(t, fsm, "alive", "127.0.0.1:0")
	c := newClient(t, testConfig(t, deadAddr(t), node.addr))

	for _, consistency := range []kirikaev1.Consistency{
		kirikaev1.Consistency_CONSISTENCY_LINEARIZABLE,
		kirikaev1.Consistency_CONSISTENCY_STALE,
	} {
		resp, err := c.Get(t.Context(), consistency)
		if err != nil {
			t.Fatalf("Get(%s): %v", consistency, err)
		}
		if resp.GetNodeId() != "alive" || resp.GetState().GetActive() != "us-west-2" || resp.GetConsistency() != consistency {
			t.Errorf("Get(%s) = %v", consistency, resp)
		}
	}

	dead := newClient(t, testConfig(t, deadAddr(t), deadAddr(t)))
	_, err := dead.Get(t.Context(), kirikaev1.Consistency_CONSISTENCY_STALE)
	if status.Code(err) != codes.Unavailable {
		t.Errorf("Get with no live node: got %v, want Unavailable", err)
	}
	if _, err := dead.Current(); !errors.Is(err, activeregion.ErrNoState) {
		t.Errorf("Current with no live node: got %v, want ErrNoState", err)
	}
}

func TestWaitForInit(t *testing.T) {
	fsm := newFakeFSM()
	node := startNode(t, fsm, "n1", "127.0.0.1:0")
	c := newClient(t, testConfig(t, node.addr))

	eventually(t, "the uninitialized state", func() bool {
		_, err := c.Current()
		return errors.Is(err, activeregion.ErrNotInitialized)
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Wait(ctx); !errors.Is(err, context.Canceled) || !errors.Is(err, activeregion.ErrNotInitialized) {
		t.Errorf("Wait before init: got %v, want context.Canceled and ErrNotInitialized", err)
	}
	if c.IsActive("us-east-1") || c.Active() != "" {
		t.Errorf("active %q before init", c.Active())
	}

	fsm.set("us-east-1")
	waitReady(t, c)
	if !c.IsActive("us-east-1") {
		t.Errorf("active %q after init, want us-east-1", c.Active())
	}
}

// ourGoroutines counts goroutines running this package's code.
func ourGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "client/activeregion.(*Client)") {
			count++
		}
	}
	return count
}

func TestCloseStopsEverything(t *testing.T) {
	fsm := newFakeFSM()
	fsm.set("us-east-1")
	node := startNode(t, fsm, "n1", "127.0.0.1:0")

	t.Run("Close", func(t *testing.T) {
		c, err := activeregion.New(context.Background(), testConfig(t, node.addr, deadAddr(t)))
		if err != nil {
			t.Fatal(err)
		}
		waitReady(t, c)
		sub := c.Subscribe(context.Background())
		if ourGoroutines() == 0 {
			t.Fatal("the leak check sees no goroutine of the running client")
		}

		if err := c.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		drain(t, sub) // the current state, then the end
		// A goroutine that has signalled it is done may take a moment to exit.
		eventually(t, "no goroutine of the client after Close", func() bool { return ourGoroutines() == 0 })
		if _, err := c.Current(); !errors.Is(err, activeregion.ErrClosed) {
			t.Errorf("Current after Close: %v", err)
		}
		if err := c.Wait(t.Context()); !errors.Is(err, activeregion.ErrClosed) {
			t.Errorf("Wait after Close: %v", err)
		}
		if _, err := c.Get(t.Context(), kirikaev1.Consistency_CONSISTENCY_STALE); !errors.Is(err, activeregion.ErrClosed) {
			t.Errorf("Get after Close: %v", err)
		}
		if c.IsActive("us-east-1") {
			t.Error("a closed client still vouches for a region")
		}
		if _, ok := <-c.Subscribe(context.Background()); ok {
			t.Error("Subscribe after Close delivered a change")
		}
	})

	t.Run("context given to New ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		c, err := activeregion.New(ctx, testConfig(t, node.addr))
		if err != nil {
			t.Fatal(err)
		}
		waitReady(t, c)
		sub := c.Subscribe(context.Background())
		cancel()
		drain(t, sub)
		eventually(t, "the background goroutines to end", func() bool { return ourGoroutines() == 0 })
		if _, err := c.Current(); !errors.Is(err, activeregion.ErrClosed) || !errors.Is(err, context.Canceled) {
			t.Errorf("Current after the context ended: %v", err)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})

	t.Run("subscription context ends", func(t *testing.T) {
		c := newClient(t, testConfig(t, node.addr))
		waitReady(t, c)
		ctx, cancel := context.WithCancel(context.Background())
		sub := c.Subscribe(ctx)
		cancel()
		drain(t, sub)
		if !c.IsActive("us-east-1") {
			t.Error("ending a subscription disturbed the client")
		}
	})
}

func TestNewRejectsBadConfig(t *testing.T) {
	plaintext := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	for _, tc := range []struct {
		name string
		cfg  activeregion.Config
	}{
		{name: "no address", cfg: activeregion.Config{DialOptions: plaintext}},
		{name: "blank address", cfg: activeregion.Config{Addrs: []string{"127.0.0.1:1", " "}, DialOptions: plaintext}},
		{name: "no transport credentials", cfg: activeregion.Config{Addrs: []string{"127.0.0.1:1"}}},
		{name: "backoff bounds reversed", cfg: activeregion.Config{
			Addrs: []string{"127.0.0.1:1"}, DialOptions: plaintext, MinBackoff: time.Second, MaxBackoff: time.Millisecond,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := activeregion.New(t.Context(), tc.cfg)
			if err == nil {
				_ = c.Close()
				t.Fatal("New accepted the config")
			}
			if !errors.Is(err, activeregion.ErrInvalidConfig) {
				t.Errorf("got %v, want ErrInvalidConfig", err)
			}
		})
	}
}
