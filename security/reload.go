package security

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/credentials"
)

// CertReloader holds the CA bundle and the key pair a long-running process (a control-plane
// node, an agent) authenticates with, and replaces them when their files change, so that
// certificates rotate without a restart.
//
// The certificates in use are one immutable set behind an atomic pointer. Every TLS
// handshake, server or client side, takes the set of that moment: a handshake never mixes
// an old certificate with a new CA bundle, and connections already open keep the
// certificates they were made with. Reload builds a whole new set and swaps it in only when
// every check passes; otherwise the old set stays and Reload says why (ErrReloadRefused).
// A new set must hold:
//   - a CA bundle of PEM certificates and nothing else;
//   - a certificate with the private key that belongs to it;
//   - the same kirikae identity as the first set, so a file mix-up cannot turn a server
//     into an agent, or one region's agent into another's;
//   - a certificate that the new bundle verifies now, since peers trusting the bundle
//     would refuse one it does not.
//
// A rotation to a new CA therefore goes in two steps, each reloaded on its own: first a
// bundle holding the old and the new CA on every node and agent, then the leaf
// certificates signed by the new CA (and, later, a bundle without the old CA).
//
// Methods are safe for concurrent use.
type CertReloader struct {
	caFile, certFile, keyFile string
	logger                    *slog.Logger

	cur atomic.Pointer[certSet]

	mu   sync.Mutex // serializes reloads; guards seen
	seen fileData   // what the files held at the last attempt, good or bad
}

// certSet is one consistent set of certificates and the configurations built from it.
type certSet struct {
	files  fileData
	pool   *x509.CertPool
	cas    int
	cert   *tls.Certificate // nil: a client that presents no certificate
	leaf   *x509.Certificate
	id     Identity
	server *tls.Config
	client *tls.Config
	// The gRPC credentials hold their own clone of the configuration, kept with the set
	// so that TLS session tickets survive from one handshake to the next.
	grpcServer, grpcClient credentials.TransportCredentials
}

type fileData struct {
	ca, cert, key []byte
}

func (f fileData) equal(o fileData) bool {
	return bytes.Equal(f.ca, o.ca) && bytes.Equal(f.cert, o.cert) && bytes.Equal(f.key, o.key)
}

// NewCertReloader reads caFile (one or more PEM CA certificates) and the key pair in
// certFile and keyFile, which must carry a kirikae identity. certFile and keyFile may both
// be empty for a client that presents no certificate. logger (nil discards) hears about
// every reload Watch makes.
func NewCertReloader(caFile, certFile, keyFile string, logger *slog.Logger) (*CertReloader, error) {
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("client certificate and key go together: give both or neither")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &CertReloader{caFile: caFile, certFile: certFile, keyFile: keyFile, logger: logger}
	files, err := r.read()
	if err != nil {
		return nil, err
	}
	set, err := r.build(files, time.Now())
	if err != nil {
		return nil, err
	}
	r.seen = files
	r.cur.Store(set)
	return r, nil
}

// Identity is the identity in the certificate in use (the zero Identity without one).
func (r *CertReloader) Identity() Identity { return r.cur.Load().id }

// Leaf is the certificate in use, nil without one. It must not be modified.
func (r *CertReloader) Leaf() *x509.Certificate { return r.cur.Load().leaf }

// ServerConfig is the ServerTLS configuration of the certificates in use, for one
// handshake or one listener's lifetime; it does not change when they are reloaded.
func (r *CertReloader) ServerConfig() *tls.Config { return r.cur.Load().server.Clone() }

// ClientConfig is the ClientTLS configuration of the certificates in use, for one
// handshake; it does not change when they are reloaded.
func (r *CertReloader) ClientConfig() *tls.Config { return r.cur.Load().client.Clone() }

// Credentials are gRPC transport credentials that take the certificates in use at each
// handshake: ServerConfig's on a gRPC server, ClientConfig's on a client connection. A
// gRPC client connection that reconnects after a reload presents the new certificate.
func (r *CertReloader) Credentials() credentials.TransportCredentials {
	return &reloadingCreds{r: r}
}

// Reload rereads the files and, when they hold a set that passes every check, makes it the
// one in use. changed is false, with no error, when the files hold the set already in use.
// A refused set leaves the one in use as it was, and the error, wrapping
// ErrReloadRefused, names the file and the problem.
func (r *CertReloader) Reload() (changed bool, err error) {
	res := r.reloadNow(false)
	return res.changed, res.err
}

func (r *CertReloader) reloadLocked(files fileData) (bool, error) {
	r.seen = files
	old := r.cur.Load()
	if files.equal(old.files) {
		return false, nil
	}
	set, err := r.build(files, time.Now())
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrReloadRefused, err)
	}
	if set.id != old.id {
		return false, fmt.Errorf("%w: %s holds %s, but this process is %s", ErrReloadRefused, r.certFile, describeID(set.id), describeID(old.id))
	}
	r.cur.Store(set)
	return true, nil
}

func describeID(id Identity) string {
	if id == (Identity{}) {
		return "no certificate"
	}
	return id.String()
}

// Watch reloads until ctx ends: whenever a check, every interval, finds that a file's
// contents changed since the last attempt (0 checks never), and at every receive on
// reload (SIGHUP, say), changed files or not. Each reload is logged: what was loaded, or
// why the files were refused and that the certificates in use stay. A refused set is not
// retried until the files change again or reload fires, so a half-written rotation (a new
// certificate before its key) is logged once and picked up once its key lands.
func (r *CertReloader) Watch(ctx context.Context, interval time.Duration, reload <-chan struct{}) {
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-reload:
			r.logReload("reload requested", r.reloadNow(false))
		case <-tick:
			if res := r.reloadNow(true); res.attempted {
				r.logReload("certificate files changed", res)
			}
		}
	}
}

type reloadResult struct {
	attempted, changed bool
	err                error
}

// reloadNow reloads; onlyIfNew skips files that hold what the last attempt read.
func (r *CertReloader) reloadNow(onlyIfNew bool) reloadResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	files, err := r.read()
	if err != nil {
		// A missing or unreadable file (a rename in progress) is reported on request only,
		// not every interval.
		return reloadResult{attempted: !onlyIfNew, err: fmt.Errorf("%w: %w", ErrReloadRefused, err)}
	}
	if onlyIfNew && files.equal(r.seen) {
		return reloadResult{}
	}
	changed, err := r.reloadLocked(files)
	return reloadResult{attempted: true, changed: changed, err: err}
}

func (r *CertReloader) logReload(why string, res reloadResult) {
	set := r.cur.Load()
	attrs := []any{"why", why, "identity", describeID(set.id), "ca_certificates", set.cas}
	if set.leaf != nil {
		attrs = append(attrs, "serial", set.leaf.SerialNumber.Text(16), "not_after", set.leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	switch {
	case res.err != nil:
		r.logger.Error("certificates not reloaded; keeping the ones in use", append(attrs, "err", res.err)...)
	case res.changed:
		r.logger.Info("certificates reloaded", attrs...)
	default:
		r.logger.Info("certificates unchanged", attrs...)
	}
}

func (r *CertReloader) read() (fileData, error) {
	var f fileData
	var err error
	if r.caFile == "" {
		return f, errors.New("no CA file given")
	}
	if f.ca, err = os.ReadFile(r.caFile); err != nil {
		return f, fmt.Errorf("read CA: %w", err)
	}
	if r.certFile == "" {
		return f, nil
	}
	if f.cert, err = os.ReadFile(r.certFile); err != nil {
		return f, fmt.Errorf("read certificate: %w", err)
	}
	if f.key, err = os.ReadFile(r.keyFile); err != nil {
		return f, fmt.Errorf("read key: %w", err)
	}
	return f, nil
}

// build checks files and makes a set of them (see CertReloader for the checks; the
// identity is compared by the caller).
func (r *CertReloader) build(files fileData, now time.Time) (*certSet, error) {
	pool, n, err := parseCABundle(files.ca)
	if err != nil {
		return nil, fmt.Errorf("CA %s: %w", r.caFile, err)
	}
	set := &certSet{files: files, pool: pool, cas: n}
	if r.certFile != "" {
		cert, err := tls.X509KeyPair(files.cert, files.key)
		if err != nil {
			return nil, fmt.Errorf("certificate %s with key %s: %w", r.certFile, r.keyFile, err)
		}
		leaf := cert.Leaf
		if leaf == nil {
			if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
				return nil, fmt.Errorf("certificate %s: %w", r.certFile, err)
			}
		}
		if set.id, err = IdentityFromCert(leaf); err != nil {
			return nil, fmt.Errorf("certificate %s: %w", r.certFile, err)
		}
		inter := x509.NewCertPool()
		for _, der := range cert.Certificate[1:] {
			if c, err := x509.ParseCertificate(der); err == nil {
				inter.AddCert(c)
			}
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			return nil, fmt.Errorf("certificate %s (serial %s) does not verify against CA %s, so peers trusting it would refuse it: %w",
				r.certFile, leaf.SerialNumber.Text(16), r.caFile, err)
		}
		set.cert, set.leaf = &cert, leaf
	}
	set.server = serverConfig(pool, set.cert)
	set.client = clientConfig(pool, set.cert)
	set.grpcServer = credentials.NewTLS(set.server)
	set.grpcClient = credentials.NewTLS(set.client)
	return set, nil
}

// parseCABundle reads PEM CERTIFICATE blocks and refuses anything else, so a file caught
// half-written fails rather than quietly losing the CA it was adding.
func parseCABundle(data []byte) (*x509.CertPool, int, error) {
	pool := x509.NewCertPool()
	n := 0
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, 0, fmt.Errorf("PEM block %d is %q, want CERTIFICATE", n+1, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, 0, fmt.Errorf("certificate %d: %w", n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, 0, fmt.Errorf("after %d certificates: %d bytes that are not a PEM certificate (a file still being written?)", n, len(bytes.TrimSpace(rest)))
	}
	if n == 0 {
		return nil, 0, errors.New("no PEM certificates found")
	}
	return pool, n, nil
}

// reloadingCreds hands each gRPC handshake to the credentials of the set in use.
type reloadingCreds struct {
	r *CertReloader
}

func (c *reloadingCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return c.r.cur.Load().grpcClient.ClientHandshake(ctx, authority, raw)
}

func (c *reloadingCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return c.r.cur.Load().grpcServer.ServerHandshake(raw)
}

func (c *reloadingCreds) Info() credentials.ProtocolInfo { return c.r.cur.Load().grpcClient.Info() }

func (c *reloadingCreds) Clone() credentials.TransportCredentials { return &reloadingCreds{r: c.r} }

// OverrideServerName is refused: grpc.WithAuthority names the server instead.
func (c *reloadingCreds) OverrideServerName(string) error {
	return errors.New("reloading credentials: OverrideServerName is not supported; use grpc.WithAuthority")
}
