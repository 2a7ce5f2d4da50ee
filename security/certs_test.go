package security_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kirikae/kirikae/security"
)

func TestGenerateCertsDefaults(t *testing.T) {
	dir := certDir(t, security.CertOptions{})
	roots := x509.NewCertPool()
	ca := readCert(t, filepath.Join(dir, security.CAFile))
	roots.AddCert(ca)
	if !ca.IsCA || !ca.MaxPathLenZero {
		t.Errorf("ca.pem: IsCA=%v MaxPathLenZero=%v, want a CA that signs leaves only", ca.IsCA, ca.MaxPathLenZero)
	}
	if got := ca.NotAfter.Sub(ca.NotBefore); got < 9*365*24*time.Hour || got > 11*365*24*time.Hour {
		t.Errorf("CA validity %v, want about 10 years", got)
	}

	serverOnly := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	clientOnly := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	tests := []struct {
		file      string
		id        security.Identity
		dns       []string
		ips       []string
		serverEKU bool
	}{
		{file: "server", id: security.Identity{Kind: security.KindServer, Name: "kirikae"}, dns: []string{"localhost"}, ips: []string{"127.0.0.1"}, serverEKU: true},
		{file: "agent-us-east-1", id: security.Identity{Kind: security.KindAgent, Name: "us-east-1"}},
		{file: "agent-us-west-2", id: security.Identity{Kind: security.KindAgent, Name: "us-west-2"}},
		{file: "operator-admin", id: security.Identity{Kind: security.KindOperator, Name: "admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cert := readCert(t, filepath.Join(dir, tt.file+".pem"))
			if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: clientOnly}); err != nil {
				t.Errorf("verify as client: %v", err)
			}
			_, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: serverOnly})
			if tt.serverEKU && err != nil {
				t.Errorf("verify as server: %v", err)
			}
			if !tt.serverEKU && err == nil {
				t.Errorf("%s verifies as a TLS server; want client auth only", tt.file)
			}
			id, err := security.IdentityFromCert(cert)
			if err != nil || id != tt.id {
				t.Errorf("IdentityFromCert = %v, %v; want %v", id, err, tt.id)
			}
			if !slices.Equal(cert.DNSNames, tt.dns) {
				t.Errorf("DNS SANs %v, want %v", cert.DNSNames, tt.dns)
			}
			var ips []string
			for _, ip := range cert.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tt.ips) {
				t.Errorf("IP SANs %v, want %v", ips, tt.ips)
			}
			if got := cert.NotAfter.Sub(cert.NotBefore); got < 364*24*time.Hour || got > 367*24*time.Hour {
				t.Errorf("leaf validity %v, want about a year", got)
			}
			key, err := os.Stat(filepath.Join(dir, tt.file+"-key.pem"))
			if err != nil {
				t.Fatal(err)
			}
			if key.Mode().Perm() != 0o600 {
				t.Errorf("key mode %v, want 0600", key.Mode().Perm())
			}
		})
	}
	st, err := os.Stat(filepath.Join(dir, security.CAKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("ca-key.pem: %v, %v; want mode 0600", st, err)
	}
}

func TestGenerateCertsOptions(t *testing.T) {
	dir := certDir(t, security.CertOptions{
		Hosts:     []string{"cp1.internal", "10.0.0.7", "::1"},
		Operators: []string{"alice", "bob", "alice"},
		Regions:   []string{"eu-central-1"},
		ServerID:  "cp",
	})
	server := readCert(t, filepath.Join(dir, "server.pem"))
	if !slices.Equal(server.DNSNames, []string{"cp1.internal"}) {
		t.Errorf("DNS SANs %v", server.DNSNames)
	}
	if len(server.IPAddresses) != 2 || !server.IPAddresses[0].Equal(net.ParseIP("10.0.0.7")) || !server.IPAddresses[1].Equal(net.IPv6loopback) {
		t.Errorf("IP SANs %v", server.IPAddresses)
	}
	if id, _ := security.IdentityFromCert(server); id.String() != "spiffe://kirikae/server/cp" {
		t.Errorf("server identity %v", id)
	}
	// admin is always issued: naming other operators adds them, it does not replace it.
	for _, f := range []string{"operator-alice.pem", "operator-bob-key.pem", "operator-admin.pem", "operator-admin-key.pem", "agent-eu-central-1.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "agent-us-east-1.pem")); err == nil {
		t.Error("agent-us-east-1.pem written, but the default regions apply only when none is named")
	}
}

func TestGenerateCertsRefusesExistingCA(t *testing.T) {
	dir := certDir(t, security.CertOptions{})
	before, err := os.ReadFile(filepath.Join(dir, security.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := security.GenerateCerts(dir, security.CertOptions{}); !errors.Is(err, security.ErrCAExists) {
		t.Fatalf("second GenerateCerts: %v, want ErrCAExists", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, security.CAFile))
	if !bytes.Equal(before, after) {
		t.Fatal("refused GenerateCerts changed ca.pem")
	}
	if _, err := security.GenerateCerts(dir, security.CertOptions{Force: true}); err != nil {
		t.Fatalf("Force: %v", err)
	}
	forced, _ := os.ReadFile(filepath.Join(dir, security.CAFile))
	if bytes.Equal(before, forced) {
		t.Fatal("Force kept the old CA")
	}
}

func TestGenerateCertsReuseCA(t *testing.T) {
	dir := certDir(t, security.CertOptions{})
	read := func(f string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	caBefore, serverBefore := read(security.CAFile), read(security.ServerFile)

	res, err := security.GenerateCerts(dir, security.CertOptions{ReuseCA: true, Operators: []string{"bob"}})
	if err != nil {
		t.Fatalf("ReuseCA: %v", err)
	}
	if !bytes.Equal(caBefore, read(security.CAFile)) {
		t.Error("ReuseCA replaced ca.pem")
	}
	if !bytes.Equal(serverBefore, read(security.ServerFile)) {
		t.Error("ReuseCA without Force reissued server.pem")
	}
	want := []string{filepath.Join(dir, "operator-bob.pem"), filepath.Join(dir, "operator-bob-key.pem")}
	if !slices.Equal(res.Written, want) {
		t.Errorf("Written %v, want %v", res.Written, want)
	}
	if !slices.Contains(res.Kept, filepath.Join(dir, security.ServerFile)) {
		t.Errorf("Kept %v, want server.pem among them", res.Kept)
	}
	roots := x509.NewCertPool()
	roots.AddCert(readCert(t, filepath.Join(dir, security.CAFile)))
	bob := readCert(t, filepath.Join(dir, "operator-bob.pem"))
	if _, err := bob.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("bob's certificate does not verify against the original CA: %v", err)
	}

	if _, err := security.GenerateCerts(dir, security.CertOptions{ReuseCA: true, Force: true}); err != nil {
		t.Fatalf("ReuseCA+Force: %v", err)
	}
	if !bytes.Equal(caBefore, read(security.CAFile)) {
		t.Error("ReuseCA+Force replaced ca.pem")
	}
	if bytes.Equal(serverBefore, read(security.ServerFile)) {
		t.Error("ReuseCA+Force kept server.pem")
	}
}

func TestGenerateCertsReuseCAErrors(t *testing.T) {
	t.Run("no CA", func(t *testing.T) {
		if _, err := security.GenerateCerts(t.TempDir(), security.CertOptions{ReuseCA: true}); err == nil {
			t.Fatal("ReuseCA in an empty directory succeeded")
		}
	})
	t.Run("key of another CA", func(t *testing.T) {
		dir, other := certDir(t, security.CertOptions{}), certDir(t, security.CertOptions{})
		key, err := os.ReadFile(filepath.Join(other, security.CAKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, security.CAKeyFile), key, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = security.GenerateCerts(dir, security.CertOptions{ReuseCA: true, Operators: []string{"bob"}})
		if err == nil {
			t.Fatal("ReuseCA with a mismatched key succeeded")
		}
		if _, statErr := os.Stat(filepath.Join(dir, "operator-bob.pem")); statErr == nil {
			t.Error("a certificate was written despite the error")
		}
	})
}

func TestGenerateCertsRejectsBadNames(t *testing.T) {
	tests := []struct {
		name string
		opts security.CertOptions
	}{
		{"operator with slash", security.CertOptions{Operators: []string{"a/b"}}},
		{"operator with space", security.CertOptions{Operators: []string{"a b"}}},
		{"operator dot-dot", security.CertOptions{Operators: []string{".."}}},
		{"region without number", security.CertOptions{Regions: []string{"us-east"}}},
		{"region upper case", security.CertOptions{Regions: []string{"US-EAST-1"}}},
		{"region path", security.CertOptions{Regions: []string{"../us-east-1"}}},
		{"server id with slash", security.CertOptions{ServerID: "a/b"}},
		{"host with space", security.CertOptions{Hosts: []string{"a host"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := security.GenerateCerts(dir, tt.opts)
			if !errors.Is(err, security.ErrInvalidName) {
				t.Fatalf("err = %v, want ErrInvalidName", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("files written despite the error: %v", entries)
			}
		})
	}
}
