package security_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kirikae/kirikae/security"
)

// certDir runs GenerateCerts with opts into a fresh directory and returns it; with no
// Regions, the tests' two.
func certDir(t *testing.T, opts security.CertOptions) string {
	t.Helper()
	if len(opts.Regions) == 0 {
		opts.Regions = []string{"us-east-1", "us-west-2"}
	}
	dir := t.TempDir()
	if _, err := security.GenerateCerts(dir, opts); err != nil {
		t.Fatalf("GenerateCerts: %v", err)
	}
	return dir
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s: no CERTIFICATE block", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

func readKey(t *testing.T, path string) crypto.Signer {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return k.(crypto.Signer)
}

// signLeaf issues a certificate from the CA in dir with arbitrary URIs and usages, for
// certificates GenerateCerts would never make (impostors, missing or extra URIs). It writes
// name.pem and name-key.pem into dir and returns their paths.
func signLeaf(t *testing.T, dir, name string, uris []string, eku ...x509.ExtKeyUsage) (certFile, keyFile string) {
	t.Helper()
	caCert := readCert(t, filepath.Join(dir, security.CAFile))
	caKey := readKey(t, filepath.Join(dir, security.CAKeyFile))
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  eku,
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	for _, u := range uris {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, pu)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// parsedCert makes an unsigned-looking certificate value with the given URIs, for
// IdentityFromCert, which reads SANs and does not verify.
func parsedCert(t *testing.T, uris ...string) *x509.Certificate {
	t.Helper()
	c := &x509.Certificate{Subject: pkix.Name{CommonName: "test"}}
	for _, u := range uris {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		c.URIs = append(c.URIs, pu)
	}
	return c
}

func serverConf(t *testing.T, dir string) *tls.Config {
	t.Helper()
	c, err := security.ServerTLS(filepath.Join(dir, security.CAFile), filepath.Join(dir, security.ServerFile), filepath.Join(dir, security.ServerKeyFile))
	if err != nil {
		t.Fatalf("ServerTLS: %v", err)
	}
	return c
}

func clientConf(t *testing.T, dir, certFile, keyFile string) *tls.Config {
	t.Helper()
	c, err := security.ClientTLS(filepath.Join(dir, security.CAFile), certFile, keyFile)
	if err != nil {
		t.Fatalf("ClientTLS: %v", err)
	}
	return c
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}
