package integration_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/integration"
	"github.com/kirikae/kirikae/security"
)

// raftALPN is the protocol the raft port speaks (security.raftALPN).
const raftALPN = "kirikae-raft/1"

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replace writes path through a rename, as a rotation tool does.
func replace(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path+".new", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

func certSerial(t *testing.T, path string) *big.Int {
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

func certsInit(t *testing.T, bin string, args ...string) {
	t.Helper()
	if out, err := exec.Command(bin, append([]string{"certs", "init"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("certs init: %v\n%s", err, out)
	}
}

// clientTLS trusts the CA file ca and presents dir's operator-admin certificate.
func clientTLS(t *testing.T, ca, dir string) *tls.Config {
	t.Helper()
	conf, err := security.ClientTLS(ca, filepath.Join(dir, "operator-admin.pem"), filepath.Join(dir, "operator-admin-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return conf
}

// getRegion makes one linearizable read on a new connection, so on a new TLS handshake; a
// follower confirms it with the leader over its own peer connection.
func getRegion(addr string, conf *tls.Config) error {
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(conf)))
	if err != nil {
		return err
	}
	defer cc.Close()
	return getRegionOn(cc)
}

func getRegionOn(cc *grpc.ClientConn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := kirikaev1.NewActiveRegionServiceClient(cc).GetActiveRegion(ctx,
		&kirikaev1.GetActiveRegionRequest{Consistency: kirikaev1.Consistency_CONSISTENCY_LINEARIZABLE})
	return err
}

// servedSerial is the serial of the certificate addr serves a new connection speaking
// protocol.
func servedSerial(t *testing.T, addr, protocol string, conf *tls.Config) *big.Int {
	t.Helper()
	conf = conf.Clone()
	conf.NextProtos = []string{protocol}
	c, err := tls.Dial("tcp", addr, conf)
	if err != nil {
		t.Fatalf("TLS to %s (%s): %v", addr, protocol, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber
}

// TestCertificateRotationUnderLoad rotates a live three-node cluster to a new CA without a
// restart while a client keeps reading from every node, each read on a new connection: the
// nodes pick up each change from their files (--tls-reload-every), first a CA file
// holding both CAs, then certificates of the new CA, then the new CA alone. No read fails;
// afterwards every node serves the new certificate on its gRPC and raft ports, refuses
// the old CA's certificates, and raft and the write path work with the new ones.
func TestCertificateRotationUnderLoad(t *testing.T) {
	c := integration.NewCluster(t, 3, integration.Options{ServerArgs: []string{"--tls-reload-every", "200ms"}})
	newDir := t.TempDir()
	certsInit(t, c.Bin, "--dir", newDir, "--region", "us-east-1", "--region", "us-west-2")
	oldDir := t.TempDir()
	for _, f := range []string{"ca.pem", "server.pem", "server-key.pem", "operator-admin.pem", "operator-admin-key.pem"} {
		replace(t, filepath.Join(oldDir, f), readFile(t, filepath.Join(c.CertDir, f)))
	}
	both := append(readFile(t, filepath.Join(oldDir, "ca.pem")), readFile(t, filepath.Join(newDir, "ca.pem"))...)
	clientCA := filepath.Join(t.TempDir(), "ca.pem") // the client's bundle, rotated first
	replace(t, clientCA, both)
	oldOp, newOp := clientTLS(t, clientCA, oldDir), clientTLS(t, clientCA, newDir)

	// The load: reads on new connections, round robin over the nodes, until stopped; and
	// one connection per node opened before the rotation, read from at every turn.
	var current atomic.Pointer[tls.Config]
	current.Store(oldOp)
	var open []*grpc.ClientConn
	for _, nd := range c.Nodes {
		cc, err := grpc.NewClient(nd.GRPCAddr, grpc.WithTransportCredentials(credentials.NewTLS(oldOp)))
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		open = append(open, cc)
	}
	var (
		mu       sync.Mutex
		failures []string
		reads    int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			n := i % len(c.Nodes)
			err := getRegion(c.Nodes[n].GRPCAddr, current.Load())
			kind := "new connection"
			if err == nil && i%5 == 0 {
				err, kind = getRegionOn(open[n]), "connection opened before the rotation"
			}
			mu.Lock()
			reads++
			if err != nil {
				failures = append(failures, fmt.Sprintf("%s, %s: %v", c.Nodes[n].ID, kind, err))
			}
			mu.Unlock()
		}
	}()
	stopLoad := func() {
		select {
		case <-stop:
		default:
			close(stop)
			wg.Wait()
		}
	}
	defer stopLoad()

	eachNode := func(what string, ok func(i int) bool) {
		t.Helper()
		for i := range c.Nodes {
			integration.WaitFor(t, 30*time.Second, c.Nodes[i].ID+": "+what, func() bool { return ok(i) })
		}
	}
	for i, nd := range c.Nodes {
		if err := getRegion(nd.GRPCAddr, newOp); err == nil {
			t.Fatalf("%s accepted a certificate of the new CA before the rotation", c.Nodes[i].ID)
		}
	}

	// 1. Every node trusts both CAs.
	replace(t, c.CA(), both)
	eachNode("accept a certificate of the new CA", func(i int) bool { return getRegion(c.Nodes[i].GRPCAddr, newOp) == nil })

	// 2. Every node holds a certificate of the new CA; the certificate goes in before its
	// key, so each node first finds a pair that does not match and keeps its own.
	newSerial := certSerial(t, filepath.Join(newDir, "server.pem"))
	replace(t, filepath.Join(c.CertDir, "server.pem"), readFile(t, filepath.Join(newDir, "server.pem")))
	time.Sleep(500 * time.Millisecond) // past two checks of the files: the mismatch must be refused, not fatal
	replace(t, filepath.Join(c.CertDir, "server-key.pem"), readFile(t, filepath.Join(newDir, "server-key.pem")))
	eachNode("serve the certificate of the new CA", func(i int) bool {
		return servedSerial(t, c.Nodes[i].GRPCAddr, "h2", newOp).Cmp(newSerial) == 0
	})
	current.Store(newOp)

	// 3. The old CA is retired.
	replace(t, c.CA(), readFile(t, filepath.Join(newDir, "ca.pem")))
	eachNode("refuse a certificate of the old CA", func(i int) bool { return getRegion(c.Nodes[i].GRPCAddr, oldOp) != nil })
	time.Sleep(time.Second) // a second of load on the rotated cluster
	stopLoad()

	mu.Lock()
	t.Logf("%d reads during the rotation, %d failed", reads, len(failures))
	if len(failures) > 0 {
		t.Errorf("reads failed during the rotation:\n%s", strings.Join(failures, "\n"))
	}
	if reads < 30 {
		t.Errorf("only %d reads ran: the rotation was not under load", reads)
	}
	mu.Unlock()

	raftConf := clientTLS(t, filepath.Join(newDir, "ca.pem"), newDir)
	raftConf.Certificates = nil
	cert, err := tls.LoadX509KeyPair(filepath.Join(newDir, "server.pem"), filepath.Join(newDir, "server-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	raftConf.Certificates = []tls.Certificate{cert}
	for i, nd := range c.Nodes {
		if got := servedSerial(t, nd.RaftAddr, raftALPN, raftConf); got.Cmp(newSerial) != 0 {
			t.Errorf("%s serves serial %x on its raft port, want %x", c.Nodes[i].ID, got, newSerial)
		}
	}
	// The rotated cluster still fails over: kill the leader, the others elect a new one, and
	// a write goes through it as an operator of the new CA.
	leader := c.WaitLeader(0, 10*time.Second)
	old := c.Nodes[leader].ID
	c.Kill(leader)
	survivor := (leader + 1) % len(c.Nodes)
	c.WaitLeader(survivor, 30*time.Second, old)
	replace(t, filepath.Join(c.CertDir, "operator-admin.pem"), readFile(t, filepath.Join(newDir, "operator-admin.pem")))
	replace(t, filepath.Join(c.CertDir, "operator-admin-key.pem"), readFile(t, filepath.Join(newDir, "operator-admin-key.pem")))
	c.MustCLI("operator-admin", c.Addrs(survivor), "region", "init", "--primary", "us-east-1", "--secondary", "us-west-2")
}

// TestServerFromConfigFileReloadsOnSIGHUP starts a node from a config file alone, with
// file checks off, and rotates its certificate by SIGHUP: a key that does not match is
// refused and logged while the old certificate goes on serving; a reissued pair is
// served after the next SIGHUP.
func TestServerFromConfigFileReloadsOnSIGHUP(t *testing.T) {
	bin := integration.Binary(t)
	dir := t.TempDir()
	certsInit(t, bin, "--dir", dir, "--region", "us-east-1", "--region", "us-west-2")
	live := t.TempDir() // the node's own copies, which the test replaces
	for _, f := range []string{"ca.pem", "server.pem", "server-key.pem"} {
		replace(t, filepath.Join(live, f), readFile(t, filepath.Join(dir, f)))
	}
	httpAddr, grpcAddr := integration.FreeAddr(t), integration.FreeAddr(t)
	config := filepath.Join(t.TempDir(), "server.yaml")
	replace(t, config, fmt.Appendf(nil, `id: cp1
data-dir: %s
bootstrap: true
raft-addr: %s
grpc-addr: %s
http-addr: %s
tls-ca: %s
tls-cert: %s
tls-key: %s
tls-reload-every: 0s
log-level: debug
`, filepath.Join(t.TempDir(), "cp1"), integration.FreeAddr(t), grpcAddr, httpAddr,
		filepath.Join(live, "ca.pem"), filepath.Join(live, "server.pem"), filepath.Join(live, "server-key.pem")))
	node := integration.StartProcForTest(t, bin, "cp1", nil, "server", "--config", config)
	integration.WaitFor(t, 60*time.Second, "the node to lead", func() bool {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var h integration.Health
		return json.NewDecoder(resp.Body).Decode(&h) == nil && h.LeaderID == "cp1"
	})
	conf := clientTLS(t, filepath.Join(dir, "ca.pem"), dir)
	oldSerial := certSerial(t, filepath.Join(dir, "server.pem"))

	replace(t, filepath.Join(live, "server-key.pem"), readFile(t, filepath.Join(dir, "operator-admin-key.pem")))
	node.Signal(syscall.SIGHUP)
	integration.WaitFor(t, 10*time.Second, "the mismatched key to be refused", func() bool {
		return strings.Contains(node.Logs(), "certificates not reloaded; keeping the ones in use")
	})
	if logs := node.Logs(); !strings.Contains(logs, "private key does not match public key") {
		t.Errorf("the refusal does not say why:\n%s", logs)
	}
	if got := servedSerial(t, grpcAddr, "h2", conf); got.Cmp(oldSerial) != 0 {
		t.Fatalf("serving %x after a refused reload, want the old %x", got, oldSerial)
	}
	if err := getRegion(grpcAddr, conf); err != nil {
		t.Fatalf("a read after a refused reload: %v", err)
	}

	certsInit(t, bin, "--dir", dir, "--reuse-ca", "--force", "--region", "us-east-1", "--region", "us-west-2")
	newSerial := certSerial(t, filepath.Join(dir, "server.pem"))
	replace(t, filepath.Join(live, "server.pem"), readFile(t, filepath.Join(dir, "server.pem")))
	replace(t, filepath.Join(live, "server-key.pem"), readFile(t, filepath.Join(dir, "server-key.pem")))
	if got := servedSerial(t, grpcAddr, "h2", conf); got.Cmp(oldSerial) != 0 {
		t.Fatalf("the node loaded new files without SIGHUP though --tls-reload-every is 0s")
	}
	node.Signal(syscall.SIGHUP)
	integration.WaitFor(t, 10*time.Second, "the reissued certificate to be served", func() bool {
		return servedSerial(t, grpcAddr, "h2", conf).Cmp(newSerial) == 0
	})
	if !strings.Contains(node.Logs(), "certificates reloaded") {
		t.Errorf("the reload was not logged:\n%s", node.Logs())
	}
	if err := getRegion(grpcAddr, clientTLS(t, filepath.Join(dir, "ca.pem"), dir)); err != nil {
		t.Fatalf("a read with the reissued operator certificate: %v", err)
	}
}
