package activeregion

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// Errors of this package. They come wrapped with detail: test them with errors.Is.
var (
	// ErrInvalidConfig is returned by New for a Config it cannot use.
	ErrInvalidConfig = errors.New("activeregion: invalid config")
	// ErrNoState means no control-plane node has answered the watch yet.
	ErrNoState = errors.New("activeregion: no region state received yet")
	// ErrNotInitialized means the control plane answered, but `kirikae region init` has
	// not run, so no region is active.
	ErrNotInitialized = errors.New("activeregion: region pair not initialized")
	// ErrClosed means Close was called, or the context given to New ended.
	ErrClosed = errors.New("activeregion: client closed")
)

// Defaults for the zero values of Config.
const (
	DefaultMinBackoff      = 100 * time.Millisecond
	DefaultMaxBackoff      = 5 * time.Second
	DefaultConfirmInterval = time.Second
	DefaultRequestTimeout  = 5 * time.Second
)

// Config says where the control plane is and how to reach it.
type Config struct {
	// Addrs are the control-plane gRPC addresses (host:port). The client watches one at a
	// time and rotates through all of them, in this order, when a stream fails.
	Addrs []string
	// DialOptions are passed to grpc.NewClient for every address. They must carry the
	// transport credentials (grpc.WithTransportCredentials): the control plane speaks
	// mTLS, and this package never builds TLS itself.
	DialOptions []grpc.DialOption
	// Logger receives the client's logs. Nil discards them.
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the jittered exponential wait before the next
	// address is tried after a stream fails. The wait starts again from MinBackoff once a
	// stream has worked. Zero means DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// ConfirmInterval is how often the streaming node is asked to confirm the cached
	// state while the stream is quiet (see the package doc, Staleness). Zero means
	// DefaultConfirmInterval; a negative value turns confirmation off, and then only
	// stream messages refresh the cache.
	ConfirmInterval time.Duration
	// RotateAfter moves the watch to the next address when the node being watched answers
	// but has not vouched for the cache for this long: a follower cut off from its leader
	// keeps its stream open and says nothing, and another node may know more. Zero means
	// five ConfirmIntervals; a negative value never rotates for this reason. It has no
	// effect when confirmation is off.
	RotateAfter time.Duration
	// RequestTimeout bounds each unary call: every confirmation, and each address that
	// Get tries. Zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
}

func (cfg Config) normalize() (Config, error) {
	if len(cfg.Addrs) == 0 {
		return cfg, fmt.Errorf("%w: no control-plane address in Addrs", ErrInvalidConfig)
	}
	addrs := make([]string, 0, len(cfg.Addrs))
	for i, a := range cfg.Addrs {
		a = strings.TrimSpace(a)
		if a == "" {
			return cfg, fmt.Errorf("%w: Addrs[%d] is empty", ErrInvalidConfig, i)
		}
		addrs = append(addrs, a)
	}
	cfg.Addrs = addrs
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	if cfg.MinBackoff < 0 || cfg.MaxBackoff < cfg.MinBackoff {
		return cfg, fmt.Errorf("%w: backoff must satisfy 0 < MinBackoff (%s) <= MaxBackoff (%s)",
			ErrInvalidConfig, cfg.MinBackoff, cfg.MaxBackoff)
	}
	if cfg.ConfirmInterval == 0 {
		cfg.ConfirmInterval = DefaultConfirmInterval
	}
	if cfg.RotateAfter == 0 {
		cfg.RotateAfter = 5 * cfg.ConfirmInterval
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.RequestTimeout < 0 {
		return cfg, fmt.Errorf("%w: RequestTimeout %s is negative", ErrInvalidConfig, cfg.RequestTimeout)
	}
	return cfg, nil
}

// Snapshot is the cached answer at one moment, with how far it can be trusted.
type Snapshot struct {
	// State is the region state, a copy the caller may keep. It is nil before init.
	State *kirikaev1.RegionState
	// Initialized is false until `kirikae region init` has run.
	Initialized bool
	// Index is the raft index of the change that produced State.
	Index uint64
	// Addr is the control-plane address that last delivered or confirmed State.
	Addr string
	// ConfirmedAt is when a control-plane node last vouched for State (see the package
	// doc, Staleness).
	ConfirmedAt time.Time
	// Staleness is how long before the Current call that was: the answer may have been
	// wrong for at most this long.
	Staleness time.Duration
}

// Active returns the active region, or "" before init.
func (s Snapshot) Active() string {
	if !s.Initialized {
		return ""
	}
	return s.State.GetActive()
}

// IsActive reports whether region is the active region in this snapshot. It does not look
// at Staleness: check that too.
func (s Snapshot) IsActive(region string) bool {
	return region != "" && s.Active() == region
}

// Change is one region change, as Subscribe delivers it.
type Change struct {
	// Index is the raft index of the change.
	Index uint64
	// State is the region state after the change, a copy the receiver may keep. It is nil
	// before init.
	State *kirikaev1.RegionState
	// Initialized is false until `kirikae region init` has run.
	Initialized bool
	// Addr is the control-plane address that delivered the change.
	Addr string
}

// endpoint is one control-plane address with its own connection, so the client chooses
// which node it watches and can say where an answer came from.
type endpoint struct {
	addr string
	conn *grpc.ClientConn
	rpc  kirikaev1.ActiveRegionServiceClient
}

// Client keeps a cached active region fresh. Create it with New and release it with Close.
type Client struct {
	cfg Config
	log *slog.Logger
	eps []endpoint

	// ctx bounds the background work; cancel ends it with ErrClosed as the cause.
	ctx       context.Context
	cancel    context.CancelCauseFunc
	done      chan struct{} // closed when the watch goroutine returns
	ready     chan struct{} // closed at the first initialized state
	readyOnce sync.Once
	subsWG    sync.WaitGroup // subscriber pumps
	closeOnce sync.Once
	closeErr  error

	mu          sync.RWMutex
	closing     bool // set by Close before it waits, so no subscriber starts after
	have        bool // a watch message has arrived
	state       *kirikaev1.RegionState
	initialized bool
	index       uint64
	addr        string
	confirmedAt time.Time
	current     int   // the endpoint being watched, tried first by Get
	lastErr     error // why the last stream ended, for ErrNoState and Wait
	subs        map[*subscriber]struct{}
}

// New starts a client that watches the control plane at cfg.Addrs. It does not wait for an
// answer: call Wait for that.
//
// ctx bounds the client's life: when it ends, the background watch stops as if Close were
// called. Close must still be called to release the connections.
func New(ctx context.Context, cfg Config) (*Client, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("activeregion: new client: %w", err)
	}
	// gRPC's own reconnect backoff grows to two minutes by default, which would keep a
	// node that came back unused long after our rotation returns to it. The caller's
	// options come after ours, so they win.
	opts := append([]grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
		Backoff: backoff.Config{
			BaseDelay:  cfg.MinBackoff,
			Multiplier: backoff.DefaultConfig.Multiplier,
			Jitter:     backoff.DefaultConfig.Jitter,
			MaxDelay:   cfg.MaxBackoff,
		},
		MinConnectTimeout: cfg.RequestTimeout,
	})}, cfg.DialOptions...)
	eps := make([]endpoint, 0, len(cfg.Addrs))
	for _, addr := range cfg.Addrs {
		conn, err := grpc.NewClient(addr, opts...)
		if err != nil {
			for _, ep := range eps {
				_ = ep.conn.Close()
			}
			return nil, fmt.Errorf("%w: address %q: %w", ErrInvalidConfig, addr, err)
		}
		eps = append(eps, endpoint{addr: addr, conn: conn, rpc: kirikaev1.NewActiveRegionServiceClient(conn)})
	}
	bg, cancel := context.WithCancelCause(ctx)
	c := &Client{
		cfg:    cfg,
		log:    cfg.Logger,
		eps:    eps,
		ctx:    bg,
		cancel: cancel,
		done:   make(chan struct{}),
		ready:  make(chan struct{}),
		subs:   make(map[*subscriber]struct{}),
	}
	go c.run()
	return c, nil
}

// Close stops the background watch and every subscription, waits for them to return, and
// closes the connections. It is safe to call more than once.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closing = true
		c.mu.Unlock()
		c.cancel(ErrClosed)
		<-c.done
		c.subsWG.Wait()
		var errs []error
		for _, ep := range c.eps {
			if err := ep.conn.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close connection to %s: %w", ep.addr, err))
			}
		}
		if err := errors.Join(errs...); err != nil {
			c.closeErr = fmt.Errorf("activeregion: close: %w", err)
		}
	})
	return c.closeErr
}

// closedErr is nil while the client runs, and otherwise says why it stopped.
func (c *Client) closedErr() error {
	if c.ctx.Err() == nil {
		return nil
	}
	cause := context.Cause(c.ctx)
	if errors.Is(cause, ErrClosed) {
		return ErrClosed
	}
	return fmt.Errorf("%w: %w", ErrClosed, cause)
}

// Current returns the cached state and how stale it is. The error is
//   - ErrNoState before any node has answered (wrapping why the last attempt failed);
//   - ErrNotInitialized when the control plane has no region pair yet;
//   - ErrClosed after Close.
//
// With ErrNotInitialized and ErrClosed the snapshot is still filled in as far as it is
// known, for logging; do not act on it.
func (c *Client) Current() (Snapshot, error) {
	now := time.Now()
	c.mu.RLock()
	if !c.have {
		last := c.lastErr
		c.mu.RUnlock()
		if err := c.closedErr(); err != nil {
			return Snapshot{}, err
		}
		if last != nil {
			return Snapshot{}, fmt.Errorf("%w: %w", ErrNoState, last)
		}
		return Snapshot{}, ErrNoState
	}
	s := Snapshot{
		Initialized: c.initialized,
		Index:       c.index,
		Addr:        c.addr,
		ConfirmedAt: c.confirmedAt,
		Staleness:   max(now.Sub(c.confirmedAt), 0),
	}
	if c.state != nil {
		s.State = proto.CloneOf(c.state)
	}
	c.mu.RUnlock()
	if err := c.closedErr(); err != nil {
		return s, err
	}
	if !s.Initialized {
		return s, ErrNotInitialized
	}
	return s, nil
}

// Active returns the cached active region, or "" when there is none yet or the client is
// closed. It says nothing about staleness; use Current when that matters.
func (c *Client) Active() string {
	if c.closedErr() != nil {
		return ""
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.initialized {
		return ""
	}
	return c.state.GetActive()
}

// IsActive reports whether region is the cached active region. It is false before the
// first state and after Close. It does not look at staleness: a caller that acts on the
// answer should use Current and check Snapshot.Staleness as well.
func (c *Client) IsActive(region string) bool {
	return region != "" && c.Active() == region
}

// Wait blocks until the first initialized state has arrived, ctx ends, or the client is
// closed. It returns nil at once if that state arrived before, and ErrClosed after Close.
func (c *Client) Wait(ctx context.Context) error {
	if err := c.closedErr(); err != nil {
		return err
	}
	select {
	case <-c.ready:
		return nil
	default:
	}
	select {
	case <-c.ready:
		return nil
	case <-c.ctx.Done():
		return c.closedErr()
	case <-ctx.Done():
		c.mu.RLock()
		last, have := c.lastErr, c.have
		c.mu.RUnlock()
		err := fmt.Errorf("activeregion: wait for the first region state: %w", context.Cause(ctx))
		switch {
		case have:
			err = fmt.Errorf("%w (the control plane answers, but %w)", err, ErrNotInitialized)
		case last != nil:
			err = fmt.Errorf("%w (last watch error: %w)", err, last)
		}
		return err
	}
}

// Subscribe delivers the current state (when there is one) and then every later change,
// in index order, until ctx ends or the client is closed; then the channel is closed.
// Changes queue for a slow receiver rather than being dropped; region changes are rare.
func (c *Client) Subscribe(ctx context.Context) <-chan Change {
	s := &subscriber{wake: make(chan struct{}, 1), out: make(chan Change)}
	c.mu.Lock()
	if c.closing || c.ctx.Err() != nil {
		c.mu.Unlock()
		close(s.out)
		return s.out
	}
	if c.have {
		s.push(c.changeLocked())
	}
	c.subs[s] = struct{}{}
	c.subsWG.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.subsWG.Done()
		c.pump(ctx, s)
	}()
	return s.out
}

// Get asks the control plane directly, bypassing the cache: the node being watched first,
// then each other address in turn, until one answers. It gives up early on errors that
// another node would repeat (bad argument, permission, authentication) and when ctx ends.
func (c *Client) Get(ctx context.Context, consistency kirikaev1.Consistency) (*kirikaev1.GetActiveRegionResponse, error) {
	if err := c.closedErr(); err != nil {
		return nil, err
	}
	c.mu.RLock()
	first := c.current
	c.mu.RUnlock()
	req := &kirikaev1.GetActiveRegionRequest{Consistency: consistency}
	var errs []error
	for k := range c.eps {
		ep := c.eps[(first+k)%len(c.eps)]
		rctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
		resp, err := ep.rpc.GetActiveRegion(rctx, req)
		cancel()
		if err == nil {
			return resp, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", ep.addr, err))
		if ctx.Err() != nil || !worthAnotherNode(err) {
			break
		}
		c.log.Debug("activeregion: get failed, trying the next address", "addr", ep.addr, "err", err)
	}
	return nil, fmt.Errorf("activeregion: get active region (%s): %w", consistency, errors.Join(errs...))
}

// worthAnotherNode says whether a different control-plane node might answer err better.
func worthAnotherNode(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.PermissionDenied, codes.Unauthenticated, codes.Unimplemented:
		return false
	}
	return true
}

// run is the background watch: one stream at a time, rotating through the addresses.
func (c *Client) run() {
	defer close(c.done)
	failures := 0
	for i := 0; ; i = (i + 1) % len(c.eps) {
		worked, err := c.watch(i)
		if c.ctx.Err() != nil {
			return
		}
		if worked {
			failures = 0
		}
		wait := c.backoff(failures)
		failures++
		c.mu.Lock()
		c.lastErr = err
		from := c.index
		c.mu.Unlock()
		next := c.eps[(i+1)%len(c.eps)].addr
		c.log.Warn("activeregion: watch ended; trying the next address",
			"addr", c.eps[i].addr, "next", next, "resume_after_index", from, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return
		}
	}
}

// backoff is the wait after the given number of consecutive failures: exponential from
// MinBackoff, capped at MaxBackoff, with the upper half jittered so that many clients
// that lost the same node do not come back in step.
func (c *Client) backoff(failures int) time.Duration {
	d := c.cfg.MinBackoff
	for range failures {
		if d >= c.cfg.MaxBackoff/2 {
			d = c.cfg.MaxBackoff
			break
		}
		d *= 2
	}
	d = min(d, c.cfg.MaxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

// watch follows one stream on endpoint i until it fails. worked reports whether the node
// was of use (it sent a message or vouched for the cache), which resets the backoff.
func (c *Client) watch(i int) (worked bool, err error) {
	ep := c.eps[i]
	ctx, cancel := context.WithCancelCause(c.ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel(nil)
		wg.Wait()
	}()

	c.mu.Lock()
	from := c.index
	c.current = i
	c.mu.Unlock()

	stream, err := ep.rpc.WatchActiveRegion(ctx, &kirikaev1.WatchActiveRegionRequest{FromIndex: from})
	if err != nil {
		return false, fmt.Errorf("watch %s after index %d: %w", ep.addr, from, err)
	}
	c.log.Debug("activeregion: watching", "addr", ep.addr, "after_index", from)
	var answered atomic.Bool
	if c.cfg.ConfirmInterval > 0 {
		wg.Go(func() { c.confirmLoop(ctx, cancel, ep, &answered) })
	}
	for {
		msg, err := stream.Recv()
		if err != nil {
			if cause := context.Cause(ctx); cause != nil && c.ctx.Err() == nil {
				err = cause // the confirm loop gave up on this node
			} else if errors.Is(err, io.EOF) {
				err = errors.New("the server ended the stream")
			}
			return answered.Load(), fmt.Errorf("watch %s after index %d: %w", ep.addr, from, err)
		}
		answered.Store(true)
		c.apply(ep.addr, msg)
	}
}

// apply takes one watch message into the cache and hands a change to every subscriber.
func (c *Client) apply(addr string, msg *kirikaev1.WatchActiveRegionResponse) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	idx := msg.GetIndex()
	if c.have && idx <= c.index {
		// A watch from index 0 starts with the current state, which may be the one held.
		if idx == c.index && msg.GetInitialized() == c.initialized {
			c.confirmedAt, c.addr = now, addr
			return
		}
		c.log.Warn("activeregion: ignoring an older region state", "addr", addr, "index", idx, "have_index", c.index)
		return
	}
	prev := c.state.GetActive()
	c.have = true
	c.state, c.initialized, c.index = msg.GetState(), msg.GetInitialized(), idx
	c.addr, c.confirmedAt = addr, now
	for s := range c.subs {
		s.push(c.changeLocked())
	}
	if c.initialized {
		c.readyOnce.Do(func() { close(c.ready) })
	}
	c.log.Info("activeregion: region state",
		"index", idx, "initialized", c.initialized, "active", c.state.GetActive(), "previous", prev,
		"epoch", c.state.GetEpoch(), "mode", c.state.GetMode().String(), "addr", addr)
}

// changeLocked is the cached state as a Change; c.mu must be held.
func (c *Client) changeLocked() Change {
	ch := Change{Index: c.index, Initialized: c.initialized, Addr: c.addr}
	if c.state != nil {
		ch.State = proto.CloneOf(c.state)
	}
	return ch
}

// confirmLoop asks the streaming node, right away and then every ConfirmInterval, whether
// it still holds the cached state. It tears the stream down when the node stops answering,
// since a stream over a dead connection may never report an error by itself.
//
// It also gives up on a node that answers but cannot vouch for the cache for RotateAfter
// (it lags, or has lost its leader), so that the watch moves on to a node that can.
func (c *Client) confirmLoop(ctx context.Context, teardown context.CancelCauseFunc, ep endpoint, answered *atomic.Bool) {
	start := time.Now()
	t := time.NewTicker(c.cfg.ConfirmInterval)
	defer t.Stop()
	for {
		resp, vouched, err := c.confirm(ctx, ep)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			if vouched {
				answered.Store(true)
			}
			if c.cfg.RotateAfter < 0 {
				break
			}
			c.mu.RLock()
			since := c.confirmedAt
			c.mu.RUnlock()
			if since.Before(start) {
				since = start
			}
			if quiet := time.Since(since); quiet > c.cfg.RotateAfter {
				teardown(fmt.Errorf("%s has not vouched for the cached state at index %d for %s (it reports index %d, %d ms since it heard from the leader)",
					ep.addr, c.cachedIndex(), quiet.Round(time.Millisecond), resp.GetRaftIndex(), resp.GetStalenessMs()))
				return
			}
		case status.Code(err) == codes.Unavailable, status.Code(err) == codes.DeadlineExceeded:
			teardown(fmt.Errorf("confirm with %s: %w", ep.addr, err))
			return
		default:
			c.log.Debug("activeregion: confirmation failed", "addr", ep.addr, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// confirm makes one stale read on ep and, when it returns the cached state, moves
// confirmedAt to when that node last heard from the leader. vouched reports that case.
func (c *Client) confirm(ctx context.Context, ep endpoint) (resp *kirikaev1.GetActiveRegionResponse, vouched bool, err error) {
	sent := time.Now()
	rctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	resp, err = ep.rpc.GetActiveRegion(rctx, &kirikaev1.GetActiveRegionRequest{
		Consistency: kirikaev1.Consistency_CONSISTENCY_STALE,
	})
	if err != nil {
		return nil, false, err
	}
	if resp.GetStalenessMs() < 0 {
		return resp, false, nil // the node has never heard from a leader: it vouches for nothing
	}
	at := sent.Add(-time.Duration(resp.GetStalenessMs()) * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	same := c.have && c.initialized == resp.GetInitialized() &&
		(!c.initialized || (resp.GetRaftIndex() >= c.index && proto.Equal(c.state, resp.GetState())))
	// A different state means a change is on its way down the stream (or the node lags);
	// either way this read confirms nothing.
	if same && at.After(c.confirmedAt) {
		c.confirmedAt, c.addr = at, ep.addr
	}
	return resp, same, nil
}

func (c *Client) cachedIndex() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.index
}

// subscriber queues changes for one Subscribe channel, so a slow receiver never holds up
// the watch.
type subscriber struct {
	mu    sync.Mutex
	queue []Change
	wake  chan struct{} // capacity 1: "the queue may have grown"
	out   chan Change
}

func (s *subscriber) push(ch Change) {
	s.mu.Lock()
	s.queue = append(s.queue, ch)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// pump moves queued changes to s.out until ctx ends or the client stops.
func (c *Client) pump(ctx context.Context, s *subscriber) {
	defer func() {
		c.mu.Lock()
		delete(c.subs, s)
		c.mu.Unlock()
		close(s.out)
	}()
	for {
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		s.mu.Unlock()
		if len(batch) == 0 {
			select {
			case <-s.wake:
				continue
			case <-ctx.Done():
				return
			case <-c.ctx.Done():
				return
			}
		}
		for _, ch := range batch {
			select {
			case s.out <- ch:
			case <-ctx.Done():
				return
			case <-c.ctx.Done():
				return
			}
		}
	}
}
