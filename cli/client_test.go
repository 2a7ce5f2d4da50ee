package cli

import (
	"net"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/kirikae/kirikae/security"
)

// silentListener accepts connections and never answers: a client that dialed it would
// wait for its whole --timeout. A command against it that returns at all did not dial.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return ln.Addr().String()
}

// TestMissingTLSSettingsFailAtOnce (issue 15): without KIRIKAE_CA, KIRIKAE_CERT and
// KIRIKAE_KEY the CLI used to fall back to plaintext and wait out its 15 s; with the CA
// alone it waited too, then printed "tls: certificate required". Now it fails before
// dialing, naming what is missing and where to get it, with exit 6.
func TestMissingTLSSettingsFailAtOnce(t *testing.T) {
	certs := t.TempDir()
	if _, err := security.GenerateCerts(certs, security.CertOptions{Regions: []string{"us-east-1"}}); err != nil {
		t.Fatal(err)
	}
	ca, cert, key := filepath.Join(certs, "ca.pem"), filepath.Join(certs, "operator-admin.pem"), filepath.Join(certs, "operator-admin-key.pem")
	tests := []struct {
		name          string
		ca, cert, key string
		says, notSays []string
	}{
		{"none", "", "", "", []string{"no TLS settings", "KIRIKAE_CA, KIRIKAE_CERT and KIRIKAE_KEY", "--ca, --cert, --key", "kirikae certs init", "kirikae server --dev"}, nil},
		{"only the CA", ca, "", "", []string{"TLS settings incomplete: KIRIKAE_CERT and KIRIKAE_KEY (--cert, --key) not set, only KIRIKAE_CA"}, nil},
		{"no key", ca, cert, "", []string{"KIRIKAE_KEY (--key) not set, only KIRIKAE_CA and KIRIKAE_CERT"}, []string{"KIRIKAE_CERT (", "KIRIKAE_CA ("}},
		{"no CA", "", cert, key, []string{"KIRIKAE_CA (--ca) not set"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearClientEnv(t)
			t.Setenv("KIRIKAE_ADDR", silentListener(t))
			t.Setenv("KIRIKAE_CA", tt.ca)
			t.Setenv("KIRIKAE_CERT", tt.cert)
			t.Setenv("KIRIKAE_KEY", tt.key)
			code, _, errOut := run(t, "region", "get", "--timeout", "1h")
			if code != exitUnreachable {
				t.Errorf("exit %d, want %d", code, exitUnreachable)
			}
			for _, s := range tt.says {
				if !strings.Contains(errOut, s) {
					t.Errorf("the error lacks %q:\n%s", s, errOut)
				}
			}
			for _, s := range tt.notSays {
				if strings.Contains(errOut, s) {
					t.Errorf("the error names %q, which is set:\n%s", s, errOut)
				}
			}
		})
	}
}

// TestUnreachableIsToldApartFromARefusedCertificate (issue 15): an address that does not
// answer, a server whose certificate our CA did not sign, a server that refuses our
// certificate, and a server without TLS each get their own message, exit 6. The three TLS
// failures cannot be mended by retrying: they end the command at once rather than after
// --timeout (1h here, so a test that returns did not wait for it), for one call and for a
// watch, which otherwise reconnects for ever.
func TestUnreachableIsToldApartFromARefusedCertificate(t *testing.T) {
	clearClientEnv(t)
	ours, theirs := t.TempDir(), t.TempDir()
	for _, dir := range []string{ours, theirs} {
		if _, err := security.GenerateCerts(dir, security.CertOptions{Regions: []string{"us-east-1"}}); err != nil {
			t.Fatal(err)
		}
	}
	file := func(dir, name string) string { return filepath.Join(dir, name) }
	// server serves gRPC health with the server certificate of certDir, trusting clients of
	// the CA in clientCADir.
	server := func(certDir, clientCADir string) string {
		conf, err := security.ServerTLS(file(clientCADir, security.CAFile), file(certDir, security.ServerFile), file(certDir, security.ServerKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(conf)))
		healthpb.RegisterHealthServer(gs, healthpb.UnimplementedHealthServer{})
		return serveTLS(t, gs)
	}
	plain := grpc.NewServer()
	healthpb.RegisterHealthServer(plain, healthpb.UnimplementedHealthServer{})
	tlsFlags := []string{"--ca", file(ours, security.CAFile), "--cert", file(ours, "operator-admin.pem"), "--key", file(ours, "operator-admin-key.pem")}

	tests := []struct {
		name    string
		addr    string
		timeout string
		says    string
	}{
		{"nothing listens", closedPort(t), "1s", "cannot reach ADDR: dial tcp ADDR: connect: connection refused"},
		{"a server of another CA", server(theirs, ours), "1h", "ADDR presents a certificate that KIRIKAE_CA (--ca) did not sign"},
		{"a server refusing our certificate", server(ours, theirs), "1h", "ADDR refused our certificate (tls: "},
		{"a server without TLS", serveTLS(t, plain), "1h", "ADDR does not speak TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			says := strings.ReplaceAll(tt.says, "ADDR", tt.addr)
			for _, args := range [][]string{{"region", "get", "--timeout", tt.timeout}, {"run", "watch", "r1"}} {
				if tt.timeout != "1h" && args[0] == "run" {
					continue // a watch waits for an address to come back
				}
				code, _, errOut := run(t, append(append(args, "--addr", tt.addr), tlsFlags...)...)
				t.Log(errOut)
				if code != exitUnreachable || !strings.Contains(errOut, says) {
					t.Errorf("kirikae %s: exit %d, want %d with %q:\n%s", strings.Join(args, " "), code, exitUnreachable, says, errOut)
				}
			}
		})
	}
	t.Run("the refusal names what to check", func(t *testing.T) {
		_, _, errOut := run(t, append([]string{"region", "get", "--addr", server(ours, theirs)}, tlsFlags...)...)
		if !strings.Contains(errOut, "check that KIRIKAE_CERT and KIRIKAE_KEY (--cert, --key) are an operator certificate and key made by this cluster's CA") {
			t.Errorf("the refusal does not say what to check:\n%s", errOut)
		}
	})
}

// TestARefusingNodeDoesNotHideTheOthers: an address whose certificate we do not trust (a
// node of another cluster, a stale certificate) is skipped, not fatal, while another
// address of the list answers; when every address refuses, the command fails at once.
func TestARefusingNodeDoesNotHideTheOthers(t *testing.T) {
	cp := startControlPlane(t)
	other := t.TempDir()
	if _, err := security.GenerateCerts(other, security.CertOptions{Regions: []string{"us-east-1"}}); err != nil {
		t.Fatal(err)
	}
	foreign := func() string {
		conf, err := security.ServerTLS(filepath.Join(other, security.CAFile), filepath.Join(other, security.ServerFile), filepath.Join(other, security.ServerKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(conf)))
		healthpb.RegisterHealthServer(gs, healthpb.UnimplementedHealthServer{})
		return serveTLS(t, gs)
	}
	bad1, bad2 := foreign(), foreign()
	creds := cp.as("admin")[2:] // --ca, --cert, --key without --addr
	out := mustRun(t, append([]string{"region", "get", "--timeout", "1h", "-o", "json", "--addr", bad1 + "," + cp.addr}, creds...)...)
	if !strings.Contains(out, `"initialized": false`) {
		t.Errorf("region get through the second address: %s", out)
	}
	// --timeout 1h: an answer means it did not wait for the timeout.
	code, _, errOut := run(t, append([]string{"region", "get", "--timeout", "1h", "--addr", bad1 + "," + bad2}, creds...)...)
	if code != exitUnreachable || !strings.Contains(errOut, "presents a certificate that KIRIKAE_CA (--ca) did not sign") {
		t.Errorf("every address refusing: exit %d, want %d naming the certificate:\n%s", code, exitUnreachable, errOut)
	}
}
