package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
)

// TestAgentNeedsItsOwnCertificate (issue 15): `kirikae agent` used to fall back to the
// operator's KIRIKAE_CERT, then loop for ever on the control plane's refusal; a certificate
// for the wrong region looped the same way. Now it takes only its own settings, reads the
// certificate's identity before it starts, and says which certificate it needs. Every case
// points at an address that never answers, so a command that returns did not dial.
func TestAgentNeedsItsOwnCertificate(t *testing.T) {
	dir := t.TempDir()
	if _, err := security.GenerateCerts(dir, security.CertOptions{Regions: []string{"us-east-1", "us-west-2"}}); err != nil {
		t.Fatal(err)
	}
	file := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want int
		says string
	}{
		{"the operator's environment is not the agent's",
			map[string]string{"KIRIKAE_CA": file("ca.pem"), "KIRIKAE_CERT": file("operator-admin.pem"), "KIRIKAE_KEY": file("operator-admin-key.pem")},
			nil, exitUsage, "TLS needs --tls-ca, --tls-cert and --tls-key (or KIRIKAE_AGENT_CA, KIRIKAE_AGENT_CERT, KIRIKAE_AGENT_KEY)"},
		{"an operator certificate", nil,
			[]string{"--tls-ca", file("ca.pem"), "--tls-cert", file("operator-admin.pem"), "--tls-key", file("operator-admin-key.pem")}, exitUnreachable,
			"kirikae agent --region us-west-2 needs an agent certificate for us-west-2 (spiffe://kirikae/agent/us-west-2); --tls-cert " + file("operator-admin.pem") +
				" is spiffe://kirikae/operator/admin: make one with `kirikae certs init --dir DIR --reuse-ca --region us-west-2`"},
		{"another region's certificate, from the agent's environment",
			map[string]string{"KIRIKAE_AGENT_CA": file("ca.pem"), "KIRIKAE_AGENT_CERT": file("agent-us-east-1.pem"), "KIRIKAE_AGENT_KEY": file("agent-us-east-1-key.pem")},
			nil, exitUnreachable, "needs an agent certificate for us-west-2 (spiffe://kirikae/agent/us-west-2); KIRIKAE_AGENT_CERT (" + file("agent-us-east-1.pem") + ") is spiffe://kirikae/agent/us-east-1"},
		{"a server certificate", nil,
			[]string{"--tls-ca", file("ca.pem"), "--tls-cert", file("server.pem"), "--tls-key", file("server-key.pem")}, exitUnreachable, "is spiffe://kirikae/server/kirikae"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearClientEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := append([]string{"agent", "--region", "us-west-2", "--data-dir", t.TempDir(), "--control-plane", silentListener(t)}, tt.args...)
			code, _, errOut := run(t, args...)
			if code != tt.want || !strings.Contains(errOut, tt.says) {
				t.Fatalf("exit %d, want %d with %q:\n%s", code, tt.want, tt.says, errOut)
			}
		})
	}
}

// TestAgentExitsWhenRefused (issue 15): a control plane that refuses the agent at register
// ends it, with the refusal and the certificate it needs, instead of a retry loop.
func TestAgentExitsWhenRefused(t *testing.T) {
	clearClientEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "y")
	dir := t.TempDir()
	if _, err := security.GenerateCerts(dir, security.CertOptions{Regions: []string{"us-west-2"}}); err != nil {
		t.Fatal(err)
	}
	file := func(name string) string { return filepath.Join(dir, name) }
	conf, err := security.ServerTLS(file(security.CAFile), file(security.ServerFile), file(security.ServerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(conf)))
	kirikaev1.RegisterAgentServiceServer(gs, refusingAgentService{})
	addr := serveTLS(t, gs)
	code, _, errOut := run(t, "agent", "--region", "us-west-2", "--data-dir", t.TempDir(), "--control-plane", addr,
		"--aws-endpoint", "http://"+closedPort(t), "--log-level", "error",
		"--tls-ca", file("ca.pem"), "--tls-cert", file("agent-us-west-2.pem"), "--tls-key", file("agent-us-west-2-key.pem"))
	want := "the control plane refused this agent: " + addr + ": permission denied: the test refuses every agent"
	if code != exitRefused || !strings.Contains(errOut, want) || !strings.Contains(errOut, "needs the agent certificate of us-west-2") {
		t.Fatalf("exit %d, want %d with %q:\n%s", code, exitRefused, want, errOut)
	}
}

type refusingAgentService struct {
	kirikaev1.UnimplementedAgentServiceServer
}

func (refusingAgentService) Connect(grpc.BidiStreamingServer[kirikaev1.ConnectRequest, kirikaev1.ConnectResponse]) error {
	return status.Error(codes.PermissionDenied, "permission denied: the test refuses every agent")
}
