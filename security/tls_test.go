package security_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kirikae/kirikae/security"
)

// handshake runs a real TLS handshake over loopback. The server writes "ok" after its
// handshake succeeds; the client reads it. Under TLS 1.3 the client's own handshake ends
// before the server has checked the client certificate, so the read is where a client
// learns it was refused.
func handshake(t *testing.T, sconf, cconf *tls.Config) (peer *x509.Certificate, serverErr, clientErr error) {
	t.Helper()
	ln := listen(t)
	type result struct {
		peer *x509.Certificate
		err  error
	}
	done := make(chan result, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer raw.Close()
		_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
		c := tls.Server(raw, sconf)
		if err := c.Handshake(); err != nil {
			done <- result{err: err}
			return
		}
		_, err = c.Write([]byte("ok"))
		var p *x509.Certificate
		if chains := c.ConnectionState().VerifiedChains; len(chains) > 0 {
			p = chains[0][0]
		}
		done <- result{peer: p, err: err}
	}()
	cconf = cconf.Clone()
	cconf.ServerName = "localhost"
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
	c := tls.Client(raw, cconf)
	clientErr = c.Handshake()
	if clientErr == nil {
		buf := make([]byte, 2)
		if _, clientErr = io.ReadFull(c, buf); clientErr == nil && string(buf) != "ok" {
			clientErr = errors.New("unexpected greeting " + string(buf))
		}
	}
	raw.Close()
	r := <-done
	return r.peer, r.err, clientErr
}

func TestMutualTLS(t *testing.T) {
	dir := certDir(t, security.CertOptions{})
	other := certDir(t, security.CertOptions{})
	noURICert, noURIKey := signLeaf(t, dir, "no-uri", nil, x509.ExtKeyUsageClientAuth)
	impCert, impKey := signLeaf(t, dir, "impostor", []string{"spiffe://kirikae/operator/mallory"}, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	in := func(d, f string) string { return filepath.Join(d, f) }
	impostorServer, err := security.ServerTLS(in(dir, security.CAFile), impCert, impKey)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		server *tls.Config
		client *tls.Config
		wantID string // empty: the handshake must fail
	}{
		{"operator", serverConf(t, dir), clientConf(t, dir, in(dir, "operator-admin.pem"), in(dir, "operator-admin-key.pem")), "spiffe://kirikae/operator/admin"},
		{"agent", serverConf(t, dir), clientConf(t, dir, in(dir, "agent-us-east-1.pem"), in(dir, "agent-us-east-1-key.pem")), "spiffe://kirikae/agent/us-east-1"},
		{"server as client", serverConf(t, dir), clientConf(t, dir, in(dir, "server.pem"), in(dir, "server-key.pem")), "spiffe://kirikae/server/kirikae"},
		{"operator of another CA", serverConf(t, dir), clientConf(t, dir, in(other, "operator-admin.pem"), in(other, "operator-admin-key.pem")), ""},
		{"no client certificate", serverConf(t, dir), clientConf(t, dir, "", ""), ""},
		{"client certificate without identity", serverConf(t, dir), clientConf(t, dir, noURICert, noURIKey), ""},
		{"client trusts another CA", serverConf(t, dir), clientConf(t, other, in(other, "operator-admin.pem"), in(other, "operator-admin-key.pem")), ""},
		{"server is not a server identity", impostorServer, clientConf(t, dir, in(dir, "operator-admin.pem"), in(dir, "operator-admin-key.pem")), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer, serverErr, clientErr := handshake(t, tt.server, tt.client)
			if tt.wantID == "" {
				// Whichever side refuses, both must see the connection fail: the server
				// must never serve it, and the client must learn it was refused.
				if serverErr == nil {
					t.Error("server completed the handshake, want it refused")
				}
				if clientErr == nil {
					t.Error("client completed the handshake, want it refused")
				}
				t.Logf("server: %v; client: %v", serverErr, clientErr)
				return
			}
			if serverErr != nil || clientErr != nil {
				t.Fatalf("handshake: server %v, client %v", serverErr, clientErr)
			}
			id, err := security.IdentityFromCert(peer)
			if err != nil || id.String() != tt.wantID {
				t.Fatalf("peer identity %v, %v; want %s", id, err, tt.wantID)
			}
		})
	}
}

func TestTLSConfigErrors(t *testing.T) {
	dir := certDir(t, security.CertOptions{})
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	ca, cert, key := filepath.Join(dir, security.CAFile), filepath.Join(dir, security.ServerFile), filepath.Join(dir, security.ServerKeyFile)
	tests := []struct {
		name string
		fn   func() error
	}{
		{"server: missing CA", func() error { _, err := security.ServerTLS(filepath.Join(dir, "nope.pem"), cert, key); return err }},
		{"server: CA without PEM", func() error { _, err := security.ServerTLS(garbage, cert, key); return err }},
		{"server: no CA", func() error { _, err := security.ServerTLS("", cert, key); return err }},
		{"server: key of another cert", func() error {
			_, err := security.ServerTLS(ca, cert, filepath.Join(dir, "operator-admin-key.pem"))
			return err
		}},
		{"client: cert without key", func() error { _, err := security.ClientTLS(ca, cert, ""); return err }},
		{"client: key without cert", func() error { _, err := security.ClientTLS(ca, "", key); return err }},
		{"client: missing CA", func() error { _, err := security.ClientTLS(filepath.Join(dir, "nope.pem"), "", ""); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.fn(); err == nil {
				t.Fatal("got nil error")
			}
		})
	}
	conf := serverConf(t, dir)
	if conf.ClientAuth != tls.RequireAndVerifyClientCert || conf.MinVersion < tls.VersionTLS13 {
		t.Errorf("ServerTLS: ClientAuth %v MinVersion %x; want RequireAndVerifyClientCert, TLS 1.3", conf.ClientAuth, conf.MinVersion)
	}
}
