package security

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"
)

// Validity periods. Leaves are short enough that a lost operator key stops working within
// a year without a revocation list; the CA outlives them so reissuing leaves is routine.
const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
	// clockSkew backdates NotBefore so a machine whose clock is a little behind accepts a
	// certificate made moments ago on another machine.
	clockSkew = 5 * time.Minute
)

// File names inside the certificate directory.
const (
	CAFile        = "ca.pem"
	CAKeyFile     = "ca-key.pem"
	ServerFile    = "server.pem"
	ServerKeyFile = "server-key.pem"
)

// AgentFiles returns the certificate and key file names for a region's agent.
func AgentFiles(region string) (cert, key string) {
	return "agent-" + region + ".pem", "agent-" + region + "-key.pem"
}

// OperatorFiles returns the certificate and key file names for an operator.
func OperatorFiles(name string) (cert, key string) {
	return "operator-" + name + ".pem", "operator-" + name + "-key.pem"
}

// CertOptions says what GenerateCerts issues. Empty fields take the defaults documented on
// each, which suit a cluster on one machine.
type CertOptions struct {
	// Hosts are the DNS names and IP addresses the server certificate is valid for; every
	// address clients and raft peers dial must be here. Default localhost and 127.0.0.1.
	Hosts []string
	// Operators get one client certificate each, and admin always gets one too: it is the
	// admin when the server runs without a roles file, and the one a new cluster is set up
	// with (region init, system apply), so naming other operators must not drop it.
	Operators []string
	// Regions get one agent certificate each: the regions of the user's system. None means
	// no agent certificate (the CLI asks for them: --region or --system).
	Regions []string
	// ServerID names the server identity, spiffe://kirikae/server/<ServerID>. Default
	// kirikae. Every node may share the one server certificate.
	ServerID string
	// Force replaces everything, the CA included, when ReuseCA is false. With ReuseCA it
	// reissues existing leaf certificates from the existing CA.
	Force bool
	// ReuseCA signs with the ca.pem and ca-key.pem already in the directory instead of
	// making a new CA, so certificates issued later (a new operator) are trusted by
	// running servers. A leaf whose certificate and key both exist is kept unless Force
	// is set, so adding an operator leaves everyone else's files alone.
	ReuseCA bool
}

func (o *CertOptions) defaults() {
	// Repeating a name (--operator admin twice) is harmless; issuing it twice is not.
	o.Hosts, o.Operators, o.Regions = dedupe(o.Hosts), dedupe(o.Operators), dedupe(o.Regions)
	if len(o.Hosts) == 0 {
		o.Hosts = []string{"localhost", "127.0.0.1"}
	}
	if !slices.Contains(o.Operators, "admin") {
		o.Operators = append([]string{"admin"}, o.Operators...)
	}
	if o.ServerID == "" {
		o.ServerID = "kirikae"
	}
}

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

var hostRE = regexp.MustCompile(`^(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

func (o *CertOptions) validate() error {
	for _, h := range o.Hosts {
		if net.ParseIP(h) == nil && !hostRE.MatchString(h) {
			return fmt.Errorf("%w: host %q: want a DNS name or an IP address", ErrInvalidName, h)
		}
	}
	for _, n := range o.Operators {
		if err := ValidateName(n); err != nil {
			return fmt.Errorf("operator: %w", err)
		}
	}
	for _, r := range o.Regions {
		if err := ValidateRegion(r); err != nil {
			return fmt.Errorf("agent: %w", err)
		}
	}
	if err := ValidateName(o.ServerID); err != nil {
		return fmt.Errorf("server id: %w", err)
	}
	return nil
}

// Generated reports what GenerateCerts did, so the CLI can tell the operator.
type Generated struct {
	// Written are the paths written, certificates before their keys, the CA last.
	Written []string
	// Kept are existing leaf files left alone because ReuseCA was set without Force.
	Kept []string
}

// GenerateCerts makes a CA and the server, agent and operator certificates in dir, which it
// creates (0700) if needed. Keys are written 0600, certificates 0644, each file atomically.
//
// It refuses to touch an existing ca.pem unless Force or ReuseCA is set: replacing a CA
// silently would lock every running node and operator out. Everything is generated in
// memory before the first file is written, and the CA files are written last, so a failure
// part-way leaves no new ca.pem and can simply be retried.
func GenerateCerts(dir string, opts CertOptions) (Generated, error) {
	opts.defaults()
	if err := opts.validate(); err != nil {
		return Generated{}, err
	}
	caPath := filepath.Join(dir, CAFile)
	caKeyPath := filepath.Join(dir, CAKeyFile)
	_, statErr := os.Stat(caPath)
	caExists := statErr == nil
	if statErr != nil && !errors.Is(statErr, os.ErrNotExist) {
		return Generated{}, fmt.Errorf("check %s: %w", caPath, statErr)
	}

	now := time.Now()
	var ca *issuer
	switch {
	case opts.ReuseCA:
		if !caExists {
			return Generated{}, fmt.Errorf("reuse CA: no %s in %s", CAFile, dir)
		}
		var err error
		if ca, err = loadIssuer(caPath, caKeyPath, now); err != nil {
			return Generated{}, fmt.Errorf("reuse CA: %w", err)
		}
	case caExists && !opts.Force:
		return Generated{}, fmt.Errorf("%w: %s", ErrCAExists, caPath)
	default:
		var err error
		if ca, err = newCA(now); err != nil {
			return Generated{}, err
		}
	}

	type leafSpec struct {
		certFile, keyFile string
		tmpl              *x509.Certificate
	}
	var specs []leafSpec
	server := leafTemplate(Identity{Kind: KindServer, Name: opts.ServerID}, "kirikae server "+opts.ServerID,
		[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth})
	for _, h := range opts.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			server.IPAddresses = append(server.IPAddresses, ip)
		} else {
			server.DNSNames = append(server.DNSNames, h)
		}
	}
	specs = append(specs, leafSpec{ServerFile, ServerKeyFile, server})
	for _, r := range opts.Regions {
		c, k := AgentFiles(r)
		specs = append(specs, leafSpec{c, k, leafTemplate(Identity{Kind: KindAgent, Name: r}, "kirikae agent "+r,
			[]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})})
	}
	for _, n := range opts.Operators {
		c, k := OperatorFiles(n)
		specs = append(specs, leafSpec{c, k, leafTemplate(Identity{Kind: KindOperator, Name: n}, "kirikae operator "+n,
			[]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})})
	}

	type file struct {
		path string
		data []byte
		mode os.FileMode
	}
	var files []file
	var out Generated
	for _, s := range specs {
		certPath, keyPath := filepath.Join(dir, s.certFile), filepath.Join(dir, s.keyFile)
		if opts.ReuseCA && !opts.Force && exists(certPath) && exists(keyPath) {
			out.Kept = append(out.Kept, certPath, keyPath)
			continue
		}
		certPEM, keyPEM, err := ca.issue(s.tmpl, now)
		if err != nil {
			return Generated{}, fmt.Errorf("issue %s: %w", s.certFile, err)
		}
		files = append(files, file{certPath, certPEM, 0o644}, file{keyPath, keyPEM, 0o600})
	}
	if !opts.ReuseCA {
		files = append(files, file{caPath, ca.certPEM, 0o644}, file{caKeyPath, ca.keyPEM, 0o600})
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Generated{}, fmt.Errorf("create %s: %w", dir, err)
	}
	for _, f := range files {
		if err := writeFileAtomic(f.path, f.data, f.mode); err != nil {
			return out, err
		}
		out.Written = append(out.Written, f.path)
	}
	return out, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// issuer is a CA that can sign leaves.
type issuer struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
	keyPEM  []byte
}

func newCA(now time.Time) (*issuer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "kirikae CA", Organization: []string{"kirikae"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(caValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		// The CA signs leaves only; an intermediate could mint identities out of sight.
		MaxPathLen:     0,
		MaxPathLenZero: true,
		KeyUsage:       x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &issuer{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM: keyPEM}, nil
}

// loadIssuer reads an existing CA and checks that the key belongs to the certificate, so a
// mismatched pair fails here rather than as a baffling handshake error later.
func loadIssuer(certPath, keyPath string, now time.Time) (*issuer, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("%s: not a CA certificate", certPath)
	}
	if !now.Before(cert.NotAfter) {
		return nil, fmt.Errorf("%s: CA expired at %s; make a new one with force", certPath, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%s does not match %s", keyPath, certPath)
	}
	return &issuer{cert: cert, key: key, certPEM: certPEM, keyPEM: keyPEM}, nil
}

func leafTemplate(id Identity, cn string, eku []x509.ExtKeyUsage) *x509.Certificate {
	u := &url.URL{Scheme: "spiffe", Host: trustDomain, Path: "/" + string(id.Kind) + "/" + id.Name}
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, Organization: []string{"kirikae"}},
		URIs:        []*url.URL{u},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: eku,
	}
}

// issue signs a fresh P-256 key into a leaf certificate. A leaf never outlives its CA.
func (ca *issuer) issue(tmpl *x509.Certificate, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	if tmpl.SerialNumber, err = newSerial(); err != nil {
		return nil, nil, err
	}
	tmpl.NotBefore = now.Add(-clockSkew)
	tmpl.NotAfter = now.Add(leafValidity)
	if tmpl.NotAfter.After(ca.cert.NotAfter) {
		tmpl.NotAfter = ca.cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign: %w", err)
	}
	if keyPEM, err = encodeKey(key); err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

func newSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(block.Bytes)
}

func parseKeyPEM(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported key type %T", k)
		}
		return s, nil
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("unsupported PEM block %q", block.Type)
	}
}

// writeFileAtomic writes through a temporary file and a rename, so a reader never sees a
// half-written key and a crash never leaves one. os.CreateTemp makes the file 0600, so a
// key is never readable by others, not even for a moment.
func writeFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	return nil
}
