package security_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/kirikae/kirikae/security"
)

// newLayer starts a TLS stream layer on a fresh loopback listener.
func newLayer(t *testing.T, sconf, cconf *tls.Config, opts ...security.StreamOption) *security.TLSStreamLayer {
	t.Helper()
	l := security.NewTLSStreamLayer(listen(t), nil, sconf, cconf, opts...)
	t.Cleanup(func() { l.Close() })
	return l
}

type accepted struct {
	conn net.Conn
	err  error
}

func acceptAsync(l net.Listener) <-chan accepted {
	ch := make(chan accepted, 1)
	go func() {
		c, err := l.Accept()
		ch <- accepted{c, err}
	}()
	return ch
}

func serverLayerConfs(t *testing.T, dir string) (*tls.Config, *tls.Config) {
	return serverConf(t, dir), clientConf(t, dir, filepath.Join(dir, security.ServerFile), filepath.Join(dir, security.ServerKeyFile))
}

// exchange checks that bytes flow both ways between a dialled and an accepted conn, and
// that the accepted conn's peer is the server identity.
func exchange(t *testing.T, dialled net.Conn, acc <-chan accepted) {
	t.Helper()
	if _, err := dialled.Write([]byte("ping")); err != nil {
		t.Fatalf("write: %v", err)
	}
	a := <-acc
	if a.err != nil {
		t.Fatalf("Accept: %v", a.err)
	}
	defer a.conn.Close()
	_ = a.conn.SetDeadline(time.Now().Add(10 * time.Second))
	_ = dialled.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(a.conn, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("accepted side read %q, %v; want ping", buf, err)
	}
	if _, err := a.conn.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(dialled, buf); err != nil || string(buf) != "pong" {
		t.Fatalf("dialled side read %q, %v; want pong", buf, err)
	}
	tc, ok := a.conn.(*tls.Conn)
	if !ok {
		t.Fatalf("accepted %T, want *tls.Conn", a.conn)
	}
	id, err := security.IdentityFromCert(tc.ConnectionState().PeerCertificates[0])
	if err != nil || id.Kind != security.KindServer {
		t.Fatalf("accepted peer %v, %v; want a server identity", id, err)
	}
}

func TestTLSStreamLayerConnects(t *testing.T) {
	dir := certDir(t, security.CertOptions{})
	s, c := serverLayerConfs(t, dir)
	a, b := newLayer(t, s, c), newLayer(t, s, c)
	acc := acceptAsync(b)
	conn, err := a.Dial(raft.ServerAddress(b.Addr().String()), 5*time.Second)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()
	exchange(t, conn, acc)

	adv := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 7001}
	if got := security.NewTLSStreamLayer(listen(t), adv, s, c).Addr(); got != adv {
		t.Errorf("Addr() = %v, want the advertised %v", got, adv)
	}
}

func TestTLSStreamLayerRefuses(t *testing.T) {
	dir := certDir(t, security.CertOptions{})
	other := certDir(t, security.CertOptions{})
	in := func(f string) string { return filepath.Join(dir, f) }
	impCert, impKey := signLeaf(t, dir, "impostor", []string{"spiffe://kirikae/operator/mallory"}, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	s, c := serverLayerConfs(t, dir)
	// Trusts our CA, so only the listener's check can refuse it.
	otherClient := clientConf(t, dir, filepath.Join(other, security.ServerFile), filepath.Join(other, security.ServerKeyFile))
	impostorServer, err := security.ServerTLS(in(security.CAFile), impCert, impKey)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name         string
		dialer       *tls.Config // the client side of the dialling layer
		listener     *tls.Config // the server side of the listening layer
		listenerSeen bool        // whether the listening side refuses (so Accept must skip it)
	}{
		{"operator certificate", clientConf(t, dir, in("operator-admin.pem"), in("operator-admin-key.pem")), s, true},
		{"agent certificate", clientConf(t, dir, in("agent-us-east-1.pem"), in("agent-us-east-1-key.pem")), s, true},
		{"operator URI with server usages", clientConf(t, dir, impCert, impKey), s, true},
		{"server certificate of another CA", otherClient, s, true},
		{"no certificate", clientConf(t, dir, "", ""), s, true},
		{"listener with an operator identity", c, impostorServer, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := newLayer(t, s, c)
			target := newLayer(t, tt.listener, c)
			bad := newLayer(t, s, tt.dialer)
			acc := acceptAsync(target)

			conn, err := bad.Dial(raft.ServerAddress(target.Addr().String()), 5*time.Second)
			if err == nil {
				conn.Close()
				t.Fatal("Dial succeeded, want it refused")
			}
			t.Logf("refused: %v", err)
			if !tt.listenerSeen {
				return
			}
			// The refused connection must never come out of Accept: the next one must be
			// the good peer's.
			conn, err = good.Dial(raft.ServerAddress(target.Addr().String()), 5*time.Second)
			if err != nil {
				t.Fatalf("good Dial after a refused one: %v", err)
			}
			defer conn.Close()
			exchange(t, conn, acc)
		})
	}
}

func TestTLSStreamLayerSilentClient(t *testing.T) {
	dir := certDir(t, security.CertOptions{})
	s, c := serverLayerConfs(t, dir)
	a := newLayer(t, s, c)

	t.Run("does not block others", func(t *testing.T) {
		// The handshake timeout is far longer than the Dial timeout, so a layer that
		// handshakes one connection at a time would fail this Dial.
		b := newLayer(t, s, c, security.WithHandshakeTimeout(time.Minute))
		silent, err := net.Dial("tcp", b.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		acc := acceptAsync(b)
		conn, err := a.Dial(raft.ServerAddress(b.Addr().String()), 5*time.Second)
		if err != nil {
			t.Fatalf("Dial while a silent client holds a connection: %v", err)
		}
		defer conn.Close()
		exchange(t, conn, acc)
	})

	t.Run("is cut off at the deadline", func(t *testing.T) {
		b := newLayer(t, s, c, security.WithHandshakeTimeout(100*time.Millisecond))
		acc := acceptAsync(b)
		silent, err := net.Dial("tcp", b.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		_ = silent.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = silent.Read(make([]byte, 1))
		var ne net.Error
		if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
			t.Fatalf("silent client read: %v; want the server to have closed it", err)
		}
		select {
		case a := <-acc:
			t.Fatalf("Accept returned the silent connection: %v, %v", a.conn, a.err)
		default:
		}
	})
}

func TestTLSStreamLayerClose(t *testing.T) {
	dir := certDir(t, security.CertOptions{})
	s, c := serverLayerConfs(t, dir)
	l := security.NewTLSStreamLayer(listen(t), nil, s, c)
	acc := acceptAsync(l)
	// A handshake in flight must not hold Close up.
	pending, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer pending.Close()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if a := <-acc; !errors.Is(a.err, net.ErrClosed) {
		t.Fatalf("Accept after Close = %v, %v; want net.ErrClosed", a.conn, a.err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second Accept after Close: %v", err)
	}
}

// TestRaftTransportOverTLS runs real raft RPCs through the layer.
func TestRaftTransportOverTLS(t *testing.T) {
	dir := certDir(t, security.CertOptions{})
	s, c := serverLayerConfs(t, dir)
	operator := clientConf(t, dir, filepath.Join(dir, "operator-admin.pem"), filepath.Join(dir, "operator-admin-key.pem"))
	transport := func(l raft.StreamLayer) *raft.NetworkTransport {
		tr := raft.NewNetworkTransport(l, 2, 5*time.Second, io.Discard)
		t.Cleanup(func() { tr.Close() })
		return tr
	}
	a, b, intruder := transport(newLayer(t, s, c)), transport(newLayer(t, s, c)), transport(newLayer(t, s, operator))
	go func() {
		for rpc := range b.Consumer() {
			req, ok := rpc.Command.(*raft.RequestVoteRequest)
			if !ok {
				rpc.Respond(nil, errors.New("unexpected RPC"))
				continue
			}
			rpc.Respond(&raft.RequestVoteResponse{Term: req.Term, Granted: true}, nil)
		}
	}()
	req := &raft.RequestVoteRequest{RPCHeader: raft.RPCHeader{ID: []byte("a"), Addr: []byte(a.LocalAddr())}, Term: 7}
	var resp raft.RequestVoteResponse
	if err := a.RequestVote("b", b.LocalAddr(), req, &resp); err != nil {
		t.Fatalf("RequestVote over TLS: %v", err)
	}
	if !resp.Granted || resp.Term != 7 {
		t.Fatalf("response %+v", resp)
	}
	if err := intruder.RequestVote("b", b.LocalAddr(), req, &resp); err == nil {
		t.Fatal("RequestVote from an operator certificate succeeded")
	}
}

func TestPlainStreamLayer(t *testing.T) {
	if _, err := security.NewPlainStreamLayer(listen(t), &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 7001}); !errors.Is(err, security.ErrNotLoopback) {
		t.Fatalf("non-loopback advertise: %v, want ErrNotLoopback", err)
	}
	l, err := security.NewPlainStreamLayer(listen(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Dial("10.0.0.1:7001", time.Second); !errors.Is(err, security.ErrNotLoopback) {
		t.Fatalf("Dial to a non-loopback address: %v, want ErrNotLoopback", err)
	}
	acc := acceptAsync(l)
	conn, err := l.Dial(raft.ServerAddress(l.Addr().String()), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	a := <-acc
	if a.err != nil {
		t.Fatal(a.err)
	}
	a.conn.Close()
}
