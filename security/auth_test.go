package security_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthgrpc "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"

	"github.com/kirikae/kirikae/security"
)

type identified struct {
	id  security.Identity
	err error
}

// startGRPC serves the health service with an interceptor that records what the
// Authenticator says about each caller.
func startGRPC(t *testing.T, auth security.Authenticator, conf *tls.Config) (addr string, seen <-chan identified) {
	t.Helper()
	ch := make(chan identified, 1)
	opts := []grpc.ServerOption{grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		id, err := auth.Identify(ctx)
		ch <- identified{id, err}
		if err != nil {
			return nil, err
		}
		return h(ctx, req)
	})}
	if conf != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(conf)))
	}
	s := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(s, healthgrpc.NewServer())
	ln := listen(t)
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(s.Stop)
	return ln.Addr().String(), ch
}

func TestAuthenticatorOverGRPC(t *testing.T) {
	dir := certDir(t, security.CertOptions{})
	in := func(f string) string { return filepath.Join(dir, f) }
	plain := grpc.WithTransportCredentials(insecure.NewCredentials())
	withCert := func(cert, key string) grpc.DialOption {
		return grpc.WithTransportCredentials(credentials.NewTLS(clientConf(t, dir, in(cert), in(key))))
	}
	tests := []struct {
		name    string
		auth    security.Authenticator
		tls     bool
		dial    grpc.DialOption
		want    security.Identity
		wantErr error // from Identify; nil and a zero want mean the call never reaches it
	}{
		{name: "operator over mTLS", tls: true, dial: withCert("operator-admin.pem", "operator-admin-key.pem"),
			want: security.Identity{Kind: security.KindOperator, Name: "admin"}},
		{name: "agent over mTLS", tls: true, dial: withCert("agent-us-west-2.pem", "agent-us-west-2-key.pem"),
			want: security.Identity{Kind: security.KindAgent, Name: "us-west-2"}},
		{name: "dev flag does not override a certificate", auth: security.Authenticator{Dev: true}, tls: true,
			dial: withCert("operator-admin.pem", "operator-admin-key.pem"), want: security.Identity{Kind: security.KindOperator, Name: "admin"}},
		{name: "plaintext client to mTLS server", tls: true, dial: plain},
		{name: "plaintext server without dev", dial: plain, wantErr: security.ErrUnauthenticated},
		{name: "plaintext dev server on loopback", auth: security.Authenticator{Dev: true}, dial: plain, want: security.DevIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var conf *tls.Config
			if tt.tls {
				conf = serverConf(t, dir)
			}
			addr, seen := startGRPC(t, tt.auth, conf)
			cc, err := grpc.NewClient(addr, tt.dial)
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			_, callErr := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
			if tt.want == (security.Identity{}) && tt.wantErr == nil {
				if callErr == nil {
					t.Fatal("call succeeded, want the connection refused")
				}
				select {
				case got := <-seen:
					t.Fatalf("the server handled the call as %v, %v", got.id, got.err)
				default:
				}
				return
			}
			got := <-seen
			if tt.wantErr != nil {
				if !errors.Is(got.err, tt.wantErr) || callErr == nil {
					t.Fatalf("Identify = %v, %v (call: %v); want %v", got.id, got.err, callErr, tt.wantErr)
				}
				return
			}
			if got.err != nil || got.id != tt.want || callErr != nil {
				t.Fatalf("Identify = %v, %v (call: %v); want %v", got.id, got.err, callErr, tt.want)
			}
		})
	}
}

func TestAuthenticatorContexts(t *testing.T) {
	loop := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}
	remote := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 9), Port: 5000}
	tests := []struct {
		name string
		auth security.Authenticator
		ctx  context.Context
		want security.Identity // zero: ErrUnauthenticated
	}{
		{"no peer, dev", security.Authenticator{Dev: true}, t.Context(), security.DevIdentity},
		{"no peer", security.Authenticator{}, t.Context(), security.Identity{}},
		{"plaintext loopback, dev", security.Authenticator{Dev: true}, peer.NewContext(t.Context(), &peer.Peer{Addr: loop}), security.DevIdentity},
		{"plaintext remote, dev", security.Authenticator{Dev: true}, peer.NewContext(t.Context(), &peer.Peer{Addr: remote}), security.Identity{}},
		{"plaintext loopback", security.Authenticator{}, peer.NewContext(t.Context(), &peer.Peer{Addr: loop}), security.Identity{}},
		{"TLS without verified chain", security.Authenticator{Dev: true}, peer.NewContext(t.Context(), &peer.Peer{Addr: loop, AuthInfo: credentials.TLSInfo{}}), security.Identity{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.auth.Identify(tt.ctx)
			if tt.want == (security.Identity{}) {
				if !errors.Is(err, security.ErrUnauthenticated) {
					t.Fatalf("Identify = %v, %v; want ErrUnauthenticated", id, err)
				}
				return
			}
			if err != nil || id != tt.want {
				t.Fatalf("Identify = %v, %v; want %v", id, err, tt.want)
			}
		})
	}
}
