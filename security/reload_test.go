package security_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/kirikae/kirikae/security"
)

// put replaces path with data through a rename, as a careful rotation tool does.
func put(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cp copies the named files of src into dst.
func cp(t *testing.T, dst, src string, names ...string) {
	t.Helper()
	for _, n := range names {
		put(t, filepath.Join(dst, n), read(t, filepath.Join(src, n)))
	}
}

// bundle writes the CA certificates of the given certificate directories into path.
func bundle(t *testing.T, path string, dirs ...string) {
	t.Helper()
	var b []byte
	for _, d := range dirs {
		b = append(b, read(t, filepath.Join(d, security.CAFile))...)
	}
	put(t, path, b)
}

func serial(t *testing.T, path string) *big.Int {
	t.Helper()
	return readCert(t, path).SerialNumber
}

// serverFiles copies the CA, server certificate and key of src into a fresh directory,
// which a reloader then watches.
func serverFiles(t *testing.T, src string) (dir, ca, cert, key string) {
	t.Helper()
	dir = t.TempDir()
	cp(t, dir, src, security.CAFile, security.ServerFile, security.ServerKeyFile)
	return dir, filepath.Join(dir, security.CAFile), filepath.Join(dir, security.ServerFile), filepath.Join(dir, security.ServerKeyFile)
}

func newReloader(t *testing.T, ca, cert, key string, logger *slog.Logger) *security.CertReloader {
	t.Helper()
	r, err := security.NewCertReloader(ca, cert, key, logger)
	if err != nil {
		t.Fatalf("NewCertReloader: %v", err)
	}
	return r
}

// healthServer serves gRPC health with the reloader's credentials.
func healthServer(t *testing.T, r *security.CertReloader) string {
	t.Helper()
	ln := listen(t)
	gs := grpc.NewServer(grpc.Creds(r.Credentials()))
	healthpb.RegisterHealthServer(gs, health.NewServer())
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)
	return ln.Addr().String()
}

// check makes one health call on a new connection, so it makes a new handshake.
func check(addr string, creds credentials.TransportCredentials) error {
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return err
	}
	defer cc.Close()
	return checkOn(cc)
}

func checkOn(cc *grpc.ClientConn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

// servedSerial is the serial of the certificate addr serves to a new connection.
func servedSerial(t *testing.T, addr string, conf *tls.Config) *big.Int {
	t.Helper()
	conf = conf.Clone()
	conf.NextProtos = []string{"h2"}
	c, err := tls.Dial("tcp", addr, conf)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber
}

// TestCertReloaderRotatesToANewCA rotates a gRPC server's certificates to a new CA the way
// an operator does, reloading after each step: a bundle of both CAs, then the new
// certificate, then a bundle of the new CA alone. Callers with certificates of either CA
// are served while both are trusted, the new certificate is served once loaded, and a
// connection opened before the rotation keeps working throughout.
func TestCertReloaderRotatesToANewCA(t *testing.T) {
	oldDir := certDir(t, security.CertOptions{})
	newDir := certDir(t, security.CertOptions{})
	dir, ca, cert, key := serverFiles(t, oldDir)
	srv := newReloader(t, ca, cert, key, nil)
	addr := healthServer(t, srv)

	// The callers trust both CAs from the start: their bundle was rotated first.
	callerCA := filepath.Join(t.TempDir(), "ca.pem")
	bundle(t, callerCA, oldDir, newDir)
	caller := func(d string) *security.CertReloader {
		return newReloader(t, callerCA, filepath.Join(d, "operator-admin.pem"), filepath.Join(d, "operator-admin-key.pem"), nil)
	}
	oldOp, newOp := caller(oldDir), caller(newDir)
	open, err := grpc.NewClient(addr, grpc.WithTransportCredentials(oldOp.Credentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()

	reload := func(step string) {
		t.Helper()
		if changed, err := srv.Reload(); err != nil || !changed {
			t.Fatalf("%s: Reload = %v, %v; want changed", step, changed, err)
		}
		if err := checkOn(open); err != nil {
			t.Fatalf("%s: the connection opened before the rotation failed: %v", step, err)
		}
	}
	want := func(step string, oldOK, newOK bool, served *big.Int) {
		t.Helper()
		for _, c := range []struct {
			name string
			r    *security.CertReloader
			ok   bool
		}{{"old CA's operator", oldOp, oldOK}, {"new CA's operator", newOp, newOK}} {
			if err := check(addr, c.r.Credentials()); (err == nil) != c.ok {
				t.Errorf("%s: %s: err %v, want ok=%v", step, c.name, err, c.ok)
			}
		}
		if got := servedSerial(t, addr, oldOp.ClientConfig()); got.Cmp(served) != 0 {
			t.Errorf("%s: served serial %x, want %x", step, got, served)
		}
	}
	oldSerial, newSerial := serial(t, cert), serial(t, filepath.Join(newDir, security.ServerFile))

	want("before", true, false, oldSerial)
	bundle(t, ca, oldDir, newDir)
	reload("bundle of both CAs")
	want("bundle of both CAs", true, true, oldSerial)
	cp(t, dir, newDir, security.ServerFile, security.ServerKeyFile)
	reload("new certificate")
	want("new certificate", true, true, newSerial)
	if srv.Leaf().SerialNumber.Cmp(newSerial) != 0 {
		t.Errorf("Leaf serial %x, want %x", srv.Leaf().SerialNumber, newSerial)
	}
	bundle(t, ca, newDir)
	reload("new CA alone")
	want("new CA alone", false, true, newSerial)
	if changed, err := srv.Reload(); changed || err != nil {
		t.Errorf("Reload of unchanged files = %v, %v; want false, nil", changed, err)
	}
}

// TestCertReloaderRefusesBadFiles: a reload that finds files it cannot use keeps the
// certificates in use, which go on serving, and says what is wrong.
func TestCertReloaderRefusesBadFiles(t *testing.T) {
	oldDir := certDir(t, security.CertOptions{})
	newDir := certDir(t, security.CertOptions{})
	in := func(d, f string) string { return filepath.Join(d, f) }
	tests := []struct {
		name   string
		mutate func(t *testing.T, dir string)
		errHas string
	}{
		{"bad PEM certificate", func(t *testing.T, dir string) {
			put(t, in(dir, security.ServerFile), []byte("-----BEGIN CERTIFICATE-----\nnot base64\n"))
		}, "server.pem with key"},
		{"key of another certificate", func(t *testing.T, dir string) {
			put(t, in(dir, security.ServerKeyFile), read(t, in(oldDir, "operator-admin-key.pem")))
		}, "private key does not match public key"},
		{"another identity", func(t *testing.T, dir string) {
			put(t, in(dir, security.ServerFile), read(t, in(oldDir, "agent-us-east-1.pem")))
			put(t, in(dir, security.ServerKeyFile), read(t, in(oldDir, "agent-us-east-1-key.pem")))
		}, "holds spiffe://kirikae/agent/us-east-1, but this process is spiffe://kirikae/server/kirikae"},
		{"a certificate of a CA not in the bundle", func(t *testing.T, dir string) {
			cp(t, dir, newDir, security.ServerFile, security.ServerKeyFile)
		}, "does not verify against CA"},
		{"a bundle without the CA of the certificate in use", func(t *testing.T, dir string) {
			cp(t, dir, newDir, security.CAFile)
		}, "does not verify against CA"},
		{"a bundle caught half-written", func(t *testing.T, dir string) {
			both := append(read(t, in(oldDir, security.CAFile)), read(t, in(newDir, security.CAFile))...)
			put(t, in(dir, security.CAFile), both[:len(both)-40])
		}, "not a PEM certificate"},
		{"a CA file that is not a certificate", func(t *testing.T, dir string) {
			put(t, in(dir, security.CAFile), read(t, in(oldDir, security.CAKeyFile)))
		}, `PEM block 1 is "PRIVATE KEY"`},
		{"the CA file gone", func(t *testing.T, dir string) {
			if err := os.Remove(in(dir, security.CAFile)); err != nil {
				t.Fatal(err)
			}
		}, "read CA"},
	}
	client := clientConf(t, oldDir, in(oldDir, "operator-admin.pem"), in(oldDir, "operator-admin-key.pem"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, ca, cert, key := serverFiles(t, oldDir)
			r := newReloader(t, ca, cert, key, nil)
			before := r.Leaf().SerialNumber
			tt.mutate(t, dir)
			changed, err := r.Reload()
			if !errors.Is(err, security.ErrReloadRefused) || changed {
				t.Fatalf("Reload = %v, %v; want ErrReloadRefused", changed, err)
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q lacks %q", err, tt.errHas)
			}
			if r.Leaf().SerialNumber.Cmp(before) != 0 || r.Identity().String() != "spiffe://kirikae/server/kirikae" {
				t.Errorf("the refused files replaced the certificates in use")
			}
			peer, serverErr, clientErr := handshake(t, r.ServerConfig(), client)
			if serverErr != nil || clientErr != nil || peer == nil {
				t.Fatalf("the old certificates stopped serving: server %v, client %v", serverErr, clientErr)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer for a logger written from another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
}

// TestCertReloaderWatch: Watch notices changed files by itself, refuses a certificate
// written before its key (logging why once) and loads the pair once the key lands, and
// reloads on request (SIGHUP) even when nothing changed.
func TestCertReloaderWatch(t *testing.T) {
	oldDir := certDir(t, security.CertOptions{})
	_, ca, cert, key := serverFiles(t, oldDir)
	logs := &syncBuffer{}
	r := newReloader(t, ca, cert, key, slog.New(slog.NewTextHandler(logs, nil)))
	hup := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Watch(ctx, 10*time.Millisecond, hup); close(done) }()
	defer func() { cancel(); <-done }()

	// The same identity, reissued by the same CA, as `kirikae certs init --reuse-ca
	// --force` would.
	newCert, newKey := signLeaf(t, oldDir, "reissued", []string{"spiffe://kirikae/server/kirikae"},
		x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	before := r.Leaf().SerialNumber
	put(t, cert, read(t, newCert))
	waitUntil(t, "the certificate without its key to be refused", func() bool {
		return strings.Contains(logs.String(), "certificates not reloaded; keeping the ones in use")
	})
	if !strings.Contains(logs.String(), "private key does not match public key") || r.Leaf().SerialNumber.Cmp(before) != 0 {
		t.Fatalf("a certificate without its key was loaded, or the log does not say why:\n%s", logs)
	}
	put(t, key, read(t, newKey))
	want := serial(t, newCert)
	waitUntil(t, "the new pair to be loaded", func() bool { return r.Leaf().SerialNumber.Cmp(want) == 0 })
	waitUntil(t, "the reload to be logged", func() bool {
		return strings.Contains(logs.String(), "certificates reloaded") && strings.Contains(logs.String(), "serial="+want.Text(16))
	})
	if n := strings.Count(logs.String(), "certificates not reloaded"); n != 1 {
		t.Errorf("the refused certificate was logged %d times, want once:\n%s", n, logs)
	}
	hup <- struct{}{}
	waitUntil(t, "a requested reload to be logged", func() bool {
		return strings.Contains(logs.String(), "certificates unchanged") && strings.Contains(logs.String(), "why=\"reload requested\"")
	})
}

// TestReloadingStreamLayer: raft connections made after a reload present, and are served,
// the new certificate.
func TestReloadingStreamLayer(t *testing.T) {
	oldDir := certDir(t, security.CertOptions{})
	_, ca, cert, key := serverFiles(t, oldDir)
	r := newReloader(t, ca, cert, key, nil)
	l := security.NewReloadingTLSStreamLayer(listen(t), nil, r)
	t.Cleanup(func() { l.Close() })
	peers := func() (dialled, accepted *big.Int) {
		t.Helper()
		acc := acceptAsync(l)
		c, err := l.Dial(raft.ServerAddress(l.Addr().String()), 5*time.Second)
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		defer c.Close()
		a := <-acc
		if a.err != nil {
			t.Fatalf("Accept: %v", a.err)
		}
		defer a.conn.Close()
		return c.(*tls.Conn).ConnectionState().PeerCertificates[0].SerialNumber,
			a.conn.(*tls.Conn).ConnectionState().PeerCertificates[0].SerialNumber
	}
	old := serial(t, cert)
	if d, a := peers(); d.Cmp(old) != 0 || a.Cmp(old) != 0 {
		t.Fatalf("before: peers %x, %x; want %x", d, a, old)
	}
	newCert, newKey := signLeaf(t, oldDir, "reissued", []string{"spiffe://kirikae/server/kirikae"},
		x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	put(t, cert, read(t, newCert))
	put(t, key, read(t, newKey))
	if _, err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	want := serial(t, newCert)
	if d, a := peers(); d.Cmp(want) != 0 || a.Cmp(want) != 0 {
		t.Fatalf("after: peers %x, %x; want %x", d, a, want)
	}
}
