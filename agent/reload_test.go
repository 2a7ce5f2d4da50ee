package agent_test

import (
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/kirikae/kirikae/buildinfo"
	"github.com/kirikae/kirikae/security"
)

// serials records the serial of the client certificate of every stream a fake control
// plane accepts.
type serials struct {
	mu   sync.Mutex
	seen []*big.Int
}

func (s *serials) option() cpOption {
	return func(_ *fakeCP, opts *[]grpc.ServerOption) {
		*opts = append(*opts, grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if p, ok := peer.FromContext(ss.Context()); ok {
				if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.PeerCertificates) > 0 {
					s.mu.Lock()
					s.seen = append(s.seen, ti.State.PeerCertificates[0].SerialNumber)
					s.mu.Unlock()
				}
			}
			return h(srv, ss)
		}))
	}
}

func (s *serials) last() *big.Int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		return nil
	}
	return s.seen[len(s.seen)-1]
}

func copyFile(t *testing.T, dst, src string) {
	t.Helper()
	if err := os.WriteFile(dst+".tmp", readFile(t, src), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dst+".tmp", dst); err != nil {
		t.Fatal(err)
	}
}

// TestAgentReloadsItsCertificate: an agent told to reload (SIGHUP) presents its reissued
// certificate on its next connection, without a restart; it registers with the binary's
// version when given none.
func TestAgentReloadsItsCertificate(t *testing.T) {
	dir := t.TempDir()
	if _, err := security.GenerateCerts(dir, security.CertOptions{Regions: []string{"us-east-1", "us-west-2"}}); err != nil {
		t.Fatal(err)
	}
	var seen serials
	cp := newFakeCP(t, 2, withTLS(dir), seen.option())
	certName, keyName := security.AgentFiles(region)
	own := t.TempDir() // the agent's files, as a rotation tool would replace them
	for _, f := range []string{security.CAFile, certName, keyName} {
		copyFile(t, filepath.Join(own, f), filepath.Join(dir, f))
	}
	cfg := testConfig(t, t.TempDir(), newExecutors().registry(), cp)
	cfg.Dev, cfg.Version = false, ""
	cfg.TLSCA, cfg.TLSCert, cfg.TLSKey = filepath.Join(own, security.CAFile), filepath.Join(own, certName), filepath.Join(own, keyName)
	hup := make(chan struct{})
	cfg.ReloadCerts = hup
	start(t, cfg)
	waitFor(t, "registration over mTLS", func() bool { return len(cp.registrations()) > 0 })
	if v := cp.registrations()[0].GetVersion(); v != buildinfo.String() {
		t.Errorf("registered version %q, want %q", v, buildinfo.String())
	}
	first := seen.last()

	if _, err := security.GenerateCerts(dir, security.CertOptions{ReuseCA: true, Force: true, Regions: []string{"us-east-1", "us-west-2"}}); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(own, certName), filepath.Join(dir, certName))
	copyFile(t, filepath.Join(own, keyName), filepath.Join(dir, keyName))
	// The second send is taken only once the first reload is done.
	hup <- struct{}{}
	hup <- struct{}{}
	// A stream already open keeps its certificate; a new connection takes the new one.
	cp.stop()
	cp.restart()
	reissued := readSerial(t, filepath.Join(dir, certName))
	waitFor(t, "a connection with the reissued certificate", func() bool {
		s := seen.last()
		return s != nil && s.Cmp(reissued) == 0
	})
	if first.Cmp(reissued) == 0 {
		t.Fatal("the reissued certificate has the old serial")
	}
}

func readSerial(t *testing.T, path string) *big.Int {
	t.Helper()
	block, _ := pem.Decode(readFile(t, path))
	if block == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
