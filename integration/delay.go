package integration

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// DelayProxy forwards TCP connections to a target and holds every chunk of bytes, in each
// direction, for a one-way delay before passing it on: a WAN link in user space, for a
// kernel without sch_netem. Order within a connection is kept; throughput is not limited.
// A connection through it has its round trip raised by twice the delay.
type DelayProxy struct {
	ln     net.Listener
	target string
	dial   func(ctx context.Context, addr string) (net.Conn, error)
	delay  atomic.Int64 // nanoseconds, one way

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewDelayProxy serves on ln and forwards to target through dial (a plain dialer when nil).
func NewDelayProxy(ln net.Listener, target string, delay time.Duration, dial func(ctx context.Context, addr string) (net.Conn, error)) *DelayProxy {
	if dial == nil {
		dial = func(ctx context.Context, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		}
	}
	p := &DelayProxy{ln: ln, target: target, dial: dial, conns: map[net.Conn]struct{}{}}
	p.delay.Store(int64(delay))
	p.wg.Add(1)
	go p.serve()
	return p
}

// Addr is where the proxy listens.
func (p *DelayProxy) Addr() string { return p.ln.Addr().String() }

// SetDelay changes the one-way delay for bytes read from now on.
func (p *DelayProxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// Close stops accepting and cuts every connection.
func (p *DelayProxy) Close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

func (p *DelayProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *DelayProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *DelayProxy) serve() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(in) {
			return
		}
		p.wg.Add(1)
		go p.pipe(in)
	}
}

func (p *DelayProxy) pipe(in net.Conn) {
	defer p.wg.Done()
	defer p.untrack(in)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	out, err := p.dial(ctx, p.target)
	cancel()
	if err != nil {
		return
	}
	if !p.track(out) {
		return
	}
	defer p.untrack(out)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.copy(out, in) }()
	go func() { defer wg.Done(); p.copy(in, out) }()
	wg.Wait()
}

// copy moves bytes from src to dst, each chunk no sooner than the delay after it was read.
// When either side fails, both are closed, so the other direction ends too.
func (p *DelayProxy) copy(dst, src net.Conn) {
	type chunk struct {
		b   []byte
		due time.Time
	}
	ch := make(chan chunk, 1024)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				ch <- chunk{b: buf[:n], due: time.Now().Add(time.Duration(p.delay.Load()))}
			}
			if err != nil {
				return
			}
		}
	}()
	broken := false
	for c := range ch {
		if broken {
			continue // drain, so the reader ends
		}
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d) // the link's latency: this is what the proxy is for
		}
		if _, err := dst.Write(c.b); err != nil {
			broken = true
			src.Close()
		}
	}
	closeBoth(dst, src)
}

func closeBoth(a, b io.Closer) {
	a.Close()
	b.Close()
}
