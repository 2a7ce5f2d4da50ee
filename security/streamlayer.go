package security

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// raftALPN keeps raft and gRPC apart: a gRPC client dialling the raft port, or a raft peer
// dialling the gRPC port, fails the handshake instead of speaking the wrong protocol.
const raftALPN = "kirikae-raft/1"

// ackByte is what the accepting side writes once it has verified the dialler's
// certificate. Under TLS 1.3 the client's handshake completes before the server has looked
// at the client certificate, so without it a refused dialler would only find out on its
// first read, far from the cause. Waiting for it makes Dial itself fail with the server's
// TLS alert.
const ackByte = 0x4b // 'K'

// DefaultHandshakeTimeout bounds how long a raft peer may take to complete the TLS
// handshake, on both sides.
const DefaultHandshakeTimeout = 10 * time.Second

// TLSStreamLayer is a raft.StreamLayer over mutual TLS in which both ends must hold a
// server identity (spiffe://kirikae/server/...). Agent and operator certificates come from
// the same CA, so chain verification alone would let them into the raft mesh, where they
// could vote or feed the log; the identity check keeps them out.
//
// Accept returns only connections whose handshake and identity check have succeeded.
// Handshakes run in their own goroutines with a deadline, so a peer that connects and says
// nothing delays no one and is dropped when its deadline passes. Refused connections are
// logged and closed; Accept does not report them, because raft backs off after an Accept
// error and a hostile client could use that to slow the cluster.
type TLSStreamLayer struct {
	ln        net.Listener
	advertise net.Addr
	// serverConf and clientConf give the configuration of each handshake, already made
	// raft's (raftConf).
	serverConf func() *tls.Config
	clientConf func() *tls.Config
	timeout    time.Duration
	logger     *slog.Logger

	start   sync.Once
	results chan acceptResult
	done    chan struct{}
	closing sync.Once
	wg      sync.WaitGroup

	mu       sync.Mutex
	inflight map[net.Conn]struct{}
	closed   bool // under mu: no accept loop may start once Close has begun
}

type acceptResult struct {
	conn net.Conn
	err  error
}

// StreamOption adjusts a TLSStreamLayer.
type StreamOption func(*TLSStreamLayer)

// WithHandshakeTimeout sets how long a handshake may take on accepted connections, and on
// dialled ones when raft passes no timeout. The default is DefaultHandshakeTimeout.
func WithHandshakeTimeout(d time.Duration) StreamOption {
	return func(l *TLSStreamLayer) { l.timeout = d }
}

// WithLogger sets where refused connections are reported. The default discards.
func WithLogger(logger *slog.Logger) StreamOption {
	return func(l *TLSStreamLayer) { l.logger = logger }
}

// NewTLSStreamLayer wraps ln. serverConf and clientConf should come from ServerTLS and
// ClientTLS with the node's server certificate; they are cloned, and the clones are made to
// demand a server identity from the peer and to speak only the raft ALPN protocol.
// advertise is the address peers dial; nil means ln.Addr(). The layer owns ln: Close
// closes it.
func NewTLSStreamLayer(ln net.Listener, advertise net.Addr, serverConf, clientConf *tls.Config, opts ...StreamOption) *TLSStreamLayer {
	s, c := raftConf(serverConf), raftConf(clientConf)
	return newTLSStreamLayer(ln, advertise, func() *tls.Config { return s }, func() *tls.Config { return c }, opts)
}

// TLSSource gives the TLS configurations of the moment; a CertReloader is one.
type TLSSource interface {
	ServerConfig() *tls.Config
	ClientConfig() *tls.Config
}

// NewReloadingTLSStreamLayer is NewTLSStreamLayer with the configurations taken from certs
// at each handshake, accepted or dialled, so that reloaded certificates serve the next
// raft connection. Connections already made keep theirs.
func NewReloadingTLSStreamLayer(ln net.Listener, advertise net.Addr, certs TLSSource, opts ...StreamOption) *TLSStreamLayer {
	return newTLSStreamLayer(ln, advertise,
		func() *tls.Config { return raftConf(certs.ServerConfig()) },
		func() *tls.Config { return raftConf(certs.ClientConfig()) }, opts)
}

func newTLSStreamLayer(ln net.Listener, advertise net.Addr, serverConf, clientConf func() *tls.Config, opts []StreamOption) *TLSStreamLayer {
	if advertise == nil {
		advertise = ln.Addr()
	}
	l := &TLSStreamLayer{
		ln:         ln,
		advertise:  advertise,
		serverConf: serverConf,
		clientConf: clientConf,
		timeout:    DefaultHandshakeTimeout,
		logger:     slog.New(slog.DiscardHandler),
		results:    make(chan acceptResult),
		done:       make(chan struct{}),
		inflight:   map[net.Conn]struct{}{},
	}
	for _, o := range opts {
		o(l)
	}
	return l
}

func raftConf(c *tls.Config) *tls.Config {
	if c == nil {
		c = &tls.Config{}
	}
	c = c.Clone()
	c.NextProtos = []string{raftALPN}
	c.VerifyConnection = requirePeer([]Kind{KindServer})
	if c.MinVersion < tls.VersionTLS13 {
		c.MinVersion = tls.VersionTLS13
	}
	return c
}

var _ raft.StreamLayer = (*TLSStreamLayer)(nil)

// Accept waits for the next connection from a verified raft peer.
func (l *TLSStreamLayer) Accept() (net.Conn, error) {
	l.start.Do(func() {
		// Under mu, so the loop is either counted before Close waits for it, or never
		// started: WaitGroup.Add must not race with Wait.
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.closed {
			return
		}
		l.wg.Add(1)
		go l.acceptLoop()
	})
	select {
	case r := <-l.results:
		return r.conn, r.err
	case <-l.done:
		return nil, fmt.Errorf("raft stream layer: %w", net.ErrClosed)
	}
}

func (l *TLSStreamLayer) acceptLoop() {
	defer l.wg.Done()
	for {
		raw, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Anything else (EMFILE, say) goes to raft, which logs it and backs off.
			select {
			case l.results <- acceptResult{err: err}:
				continue
			case <-l.done:
				return
			}
		}
		if !l.track(raw) {
			raw.Close()
			return
		}
		l.wg.Add(1)
		go l.handshake(raw)
	}
}

// track records a connection whose handshake is in flight, so Close can cut it short. It
// reports false once the layer is closed.
func (l *TLSStreamLayer) track(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inflight == nil {
		return false
	}
	l.inflight[c] = struct{}{}
	return true
}

func (l *TLSStreamLayer) untrack(c net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.inflight, c)
}

func (l *TLSStreamLayer) handshake(raw net.Conn) {
	defer l.wg.Done()
	defer l.untrack(raw)
	tc := tls.Server(raw, l.serverConf())
	err := raw.SetDeadline(time.Now().Add(l.timeout))
	if err == nil {
		err = tc.Handshake()
	}
	if err == nil {
		_, err = tc.Write([]byte{ackByte})
	}
	if err == nil {
		err = raw.SetDeadline(time.Time{})
	}
	if err != nil {
		l.logger.Warn("raft: refused connection", "remote", raw.RemoteAddr().String(), "err", err)
		tc.Close()
		return
	}
	select {
	case l.results <- acceptResult{conn: tc}:
	case <-l.done:
		tc.Close()
	}
}

// Close stops accepting, closes the listener and any handshakes in flight, and waits for
// the layer's goroutines. Connections already returned by Accept belong to the caller.
func (l *TLSStreamLayer) Close() error {
	var err error
	l.closing.Do(func() {
		close(l.done)
		err = l.ln.Close()
		l.mu.Lock()
		l.closed = true
		for c := range l.inflight {
			c.Close()
		}
		l.inflight = nil
		l.mu.Unlock()
		l.wg.Wait()
	})
	return err
}

// Addr is the advertised address, the one peers dial.
func (l *TLSStreamLayer) Addr() net.Addr { return l.advertise }

// Dial connects to a raft peer, completes the handshake, checks that the peer holds a
// server identity, and waits for the peer to accept ours, all within timeout. The peer's
// certificate must cover the host in address, as for any TLS client.
func (l *TLSStreamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	if timeout <= 0 {
		timeout = l.timeout
	}
	deadline := time.Now().Add(timeout)
	host, _, err := net.SplitHostPort(string(address))
	if err != nil {
		return nil, fmt.Errorf("raft dial %s: %w", address, err)
	}
	raw, err := (&net.Dialer{Deadline: deadline}).Dial("tcp", string(address))
	if err != nil {
		return nil, fmt.Errorf("raft dial %s: %w", address, err)
	}
	conf := l.clientConf()
	if conf.ServerName == "" {
		conf = conf.Clone()
		conf.ServerName = host
	}
	tc := tls.Client(raw, conf)
	if err := raw.SetDeadline(deadline); err != nil {
		raw.Close()
		return nil, fmt.Errorf("raft dial %s: %w", address, err)
	}
	if err := tc.Handshake(); err != nil {
		raw.Close()
		return nil, fmt.Errorf("raft dial %s: TLS handshake: %w", address, err)
	}
	var ack [1]byte
	if _, err := io.ReadFull(tc, ack[:]); err != nil {
		raw.Close()
		return nil, fmt.Errorf("raft dial %s: peer refused our certificate (raft needs a server certificate): %w", address, err)
	}
	if ack[0] != ackByte {
		raw.Close()
		return nil, fmt.Errorf("raft dial %s: peer is not a kirikae raft listener", address)
	}
	if err := raw.SetDeadline(time.Time{}); err != nil {
		raw.Close()
		return nil, fmt.Errorf("raft dial %s: %w", address, err)
	}
	return tc, nil
}

// PlainStreamLayer is the raft.StreamLayer for --dev: plaintext TCP, refusing to listen
// or dial anywhere but loopback. A dev node has no certificates, so the loopback rule is
// its only protection, and it is enforced here as well as at flag parsing so that a
// mistake in one place still fails closed.
type PlainStreamLayer struct {
	net.Listener
	advertise net.Addr
}

var _ raft.StreamLayer = (*PlainStreamLayer)(nil)

// NewPlainStreamLayer wraps ln, which must be bound to a loopback address. advertise nil
// means ln.Addr(). The layer owns ln.
func NewPlainStreamLayer(ln net.Listener, advertise net.Addr) (*PlainStreamLayer, error) {
	if advertise == nil {
		advertise = ln.Addr()
	}
	for _, a := range []net.Addr{ln.Addr(), advertise} {
		if err := RequireLoopback(a.String()); err != nil {
			return nil, fmt.Errorf("plaintext raft: %w", err)
		}
	}
	return &PlainStreamLayer{Listener: ln, advertise: advertise}, nil
}

// Addr is the advertised address.
func (l *PlainStreamLayer) Addr() net.Addr { return l.advertise }

// Dial connects to a loopback raft peer in plaintext.
func (l *PlainStreamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	if err := RequireLoopback(string(address)); err != nil {
		return nil, fmt.Errorf("plaintext raft dial: %w", err)
	}
	c, err := net.DialTimeout("tcp", string(address), timeout)
	if err != nil {
		return nil, fmt.Errorf("raft dial %s: %w", address, err)
	}
	return c, nil
}
