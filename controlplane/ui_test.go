package controlplane_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kirikae/kirikae/controlplane"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/report"
	"github.com/kirikae/kirikae/security"
)

// startUINode starts one node with the web view in mode, its certificates from certs (nil
// config for a --dev node).
func startUINode(t *testing.T, cfg controlplane.Config) *controlplane.Instance {
	t.Helper()
	cfg.ID, cfg.DataDir = "n1", filepath.Join(t.TempDir(), "data")
	cfg.RaftAddr, cfg.GRPCAddr, cfg.HTTPAddr, cfg.Bootstrap = freeAddr(t), "127.0.0.1:0", "127.0.0.1:0", true
	cfg.Logger = slog.New(slog.NewTextHandler(tLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg.Timeouts = controlplane.RaftTimeouts{Heartbeat: 100 * time.Millisecond, Election: 100 * time.Millisecond,
		LeaderLease: 50 * time.Millisecond, Commit: 5 * time.Millisecond}
	inst, err := controlplane.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for !inst.Node.IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("the node did not become leader")
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	return inst
}

func getUI(t *testing.T, c *http.Client, url string) (*http.Response, string, error) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b), nil
}

// TestWebViewMTLS: with --ui=mtls the web view is served on its own HTTPS listener to
// operators who hold a role, and to no one else: a browser without a certificate fails the
// handshake, an agent's certificate and an operator the roles file does not name get 403,
// and a viewer gets the page. The plain HTTP port does not serve it.
func TestWebViewMTLS(t *testing.T) {
	dir := t.TempDir()
	if _, err := security.GenerateCerts(dir, security.CertOptions{Operators: []string{"admin", "alice", "vic"}, Regions: []string{"us-east-1", "us-west-2"}}); err != nil {
		t.Fatal(err)
	}
	roles := filepath.Join(dir, "roles.yaml")
	if err := os.WriteFile(roles, []byte("operators:\n  admin: [admin]\n  alice: [viewer]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inst := startUINode(t, controlplane.Config{UI: controlplane.UIMTLS, UIAddr: "127.0.0.1:0", RolesFile: roles,
		TLSCA: filepath.Join(dir, "ca.pem"), TLSCert: filepath.Join(dir, "server.pem"), TLSKey: filepath.Join(dir, "server-key.pem")})
	if inst.UIAddr == "" {
		t.Fatal("no web view listener with --ui=mtls")
	}
	client := func(as string) *http.Client {
		cert, key := "", ""
		if as != "" {
			cert, key = filepath.Join(dir, as+".pem"), filepath.Join(dir, as+"-key.pem")
		}
		conf, err := security.ClientTLS(filepath.Join(dir, "ca.pem"), cert, key)
		if err != nil {
			t.Fatal(err)
		}
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: conf}}
	}
	url := "https://" + inst.UIAddr + "/ui/"

	if resp, _, err := getUI(t, client(""), url); err == nil {
		t.Errorf("no client certificate: %s, want the handshake refused", resp.Status)
	}
	for _, as := range []string{"agent-us-east-1", "operator-vic"} {
		resp, body, err := getUI(t, client(as), url)
		if err != nil {
			t.Errorf("%s: %v, want a 403", as, err)
			continue
		}
		if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "Active region") {
			t.Errorf("%s: %s %q, want 403 and no view", as, resp.Status, body)
		}
	}
	resp, body, err := getUI(t, client("operator-alice"), url)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="fresh" data-node="n1" data-raft-state="Leader"`) {
		t.Fatalf("viewer alice: %s\n%s", resp.Status, body)
	}
	if strings.Contains(body, "no authentication") {
		t.Errorf("the mTLS view shows the open mode's banner")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q: want default-src 'none' (no other origin)", csp)
	}
	if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
		t.Errorf("the view is not served over TLS 1.3: %+v", resp.TLS)
	}

	// The plain HTTP port keeps to its API: no web view there in mtls mode.
	if resp, _, err := getUI(t, &http.Client{Timeout: 10 * time.Second}, "http://"+inst.HTTPAddr+"/ui/"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /ui/ on the HTTP port with --ui=mtls: %v %v, want 404", resp, err)
	}
}

// TestWebViewOpenAndOff: --ui=open serves the view on the HTTP port with a banner on every
// page, its fragments and its embedded assets (the chart's CSS among them); a run that is not
// there is a 404. Off, the default, serves nothing under /ui/.
func TestWebViewOpenAndOff(t *testing.T) {
	open := startUINode(t, controlplane.Config{Dev: true, UI: controlplane.UIOpen})
	c := &http.Client{Timeout: 10 * time.Second}
	base := "http://" + open.HTTPAddr
	for _, tc := range []struct {
		path, want string
		code       int
		banner     bool
	}{
		{"/ui/", `<main id="live" data-src="/ui/?fragment=1">`, http.StatusOK, true},
		{"/ui/?fragment=1", `id="fresh" data-node="n1"`, http.StatusOK, false},
		{"/ui/runs/nope", "no run nope", http.StatusNotFound, false},
		{"/ui/static/ui.css", report.ChartCSS, http.StatusOK, false},
		{"/ui/static/ui.js", "setTimeout(tick, 1000)", http.StatusOK, false},
	} {
		resp, body, err := getUI(t, c, base+tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s: %s, want %d with %q:\n%s", tc.path, resp.Status, tc.code, tc.want, body)
		}
		if got := strings.Contains(body, "read-only view, no authentication (--ui=open)"); got != tc.banner {
			t.Errorf("GET %s: banner shown %t, want %t", tc.path, got, tc.banner)
		}
		if tc.code == http.StatusOK && !strings.HasPrefix(tc.path, "/ui/static/") && strings.Contains(body, "<html") == strings.Contains(tc.path, "fragment") {
			t.Errorf("GET %s: a page must be a whole document and a fragment must not be", tc.path)
		}
	}
	if resp, _, err := getUI(t, c, base+"/ui"); err != nil || resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/ui/" {
		t.Errorf("GET /ui: %v %v, want redirected to /ui/", resp, err)
	}

	off := startUINode(t, controlplane.Config{Dev: true})
	if resp, _, err := getUI(t, c, "http://"+off.HTTPAddr+"/ui/"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /ui/ with the view off: %v %v, want 404", resp, err)
	}
}

// TestWebViewMasksSecrets: the web view masks a secret param's value wherever the run
// holds it (a step's error here), as the API does; the pages read the replica directly, so
// the API's interceptors do not cover them.
func TestWebViewMasksSecrets(t *testing.T) {
	open := startUINode(t, controlplane.Config{Dev: true, UI: controlplane.UIOpen})
	const secret = "hunter2-in-the-error"
	conn, err := grpc.NewClient(open.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials())) // a --dev node
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := kirikaev1.NewRegionAdminServiceClient(conn).InitRegion(context.Background(),
		&kirikaev1.InitRegionRequest{Primary: "us-east-1", Secondary: "us-west-2"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixNano()
	run, err := open.Server.RecordTabletop(context.Background(), &kirikaev1.RecordTabletopRequest{RequestId: controlplane.NewRequestID(), Run: &kirikaev1.Run{
		Kind: kirikaev1.RunKind_RUN_KIND_FAILOVER, Drill: kirikaev1.DrillKind_DRILL_KIND_TABLETOP, PlanName: "p",
		Status: kirikaev1.RunStatus_RUN_STATUS_FAILED, CreatedUnixNano: now, FinishedUnixNano: now, FromRegion: "us-east-1", ToRegion: "us-west-2",
		Params: map[string]string{"SMOKE_PASSWORD": secret}, SecretParams: []string{"SMOKE_PASSWORD"}, Error: "check-login: login with " + secret + " refused",
		Steps: []*kirikaev1.StepState{{Id: "check-login", Status: kirikaev1.StepStatus_STEP_STATUS_FAILED, Error: "login with " + secret + " refused",
			StartedUnixNano: now, FinishedUnixNano: now, Spec: &kirikaev1.StepSpec{Action: "http.check", Region: "us-west-2"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	for _, path := range []string{"/ui/", "/ui/?fragment=1", "/ui/runs/" + run.GetId(), "/ui/runs/" + run.GetId() + "?fragment=1"} {
		resp, body, err := getUI(t, c, "http://"+open.HTTPAddr+path)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		if strings.Contains(body, secret) {
			t.Errorf("GET %s shows the secret param's value", path)
		}
		if strings.HasPrefix(path, "/ui/runs/") && !strings.Contains(body, "login with (secret) refused") {
			t.Errorf("GET %s: the step's error is not shown masked:\n%s", path, body)
		}
	}
}
