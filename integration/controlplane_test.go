package integration_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/integration"
)

type regionJSON struct {
	State struct {
		Active    string `json:"active"`
		Epoch     uint64 `json:"epoch"`
		Mode      string `json:"mode"`
		Primary   string `json:"primary"`
		Secondary string `json:"secondary"`
	} `json:"state"`
	Initialized bool   `json:"initialized"`
	RaftIndex   uint64 `json:"raft_index"`
	NodeID      string `json:"node_id"`
	StalenessMs int64  `json:"staleness_ms"`
	Consistency string `json:"consistency"`
}

func decodeRegion(t *testing.T, s string) regionJSON {
	t.Helper()
	var r regionJSON
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return r
}

const rolesYAML = `operators:
  admin: [admin]
  vic: [viewer]
  oscar: [operator]
`

func TestClusterSurvivesLeaderKill(t *testing.T) {
	c := integration.NewCluster(t, 3, integration.Options{Operators: []string{"vic", "oscar"}, Roles: rolesYAML})
	c.MustCLI("operator-admin", c.Addrs(), "region", "init", "--primary", "us-east-1", "--secondary", "us-west-2")
	before := decodeRegion(t, c.MustCLI("operator-vic", c.Addrs(), "region", "get", "-o", "json"))
	if before.State.Active != "us-east-1" || before.State.Epoch != 1 || before.State.Mode != "normal" {
		t.Fatalf("after init: %+v", before.State)
	}

	leader := c.WaitLeader(0, 10*time.Second)
	old := c.Nodes[leader].ID
	var survivors []int
	for i := range c.Nodes {
		if i != leader {
			survivors = append(survivors, i)
		}
	}
	// The init is committed once a majority holds it, which may not yet include the node the
	// stale read goes to: a linearizable read through it first waits until it has applied the
	// init, so the stale read below has something to be stale about.
	c.MustCLI("operator-vic", c.Addrs(survivors[0]), "region", "get")
	c.Kill(leader)
	// A stale read answers at once from a survivor, even before a new leader exists.
	stale := decodeRegion(t, c.MustCLI("operator-vic", c.Addrs(survivors[0]), "region", "get", "--stale", "-o", "json"))
	if stale.State.Active != "us-east-1" || stale.State.Epoch != 1 || stale.Consistency != "stale" {
		t.Fatalf("stale read on survivor: %+v", stale)
	}
	c.WaitLeader(survivors[0], 20*time.Second, old)
	got := decodeRegion(t, c.MustCLI("operator-vic", c.Addrs(survivors[0]), "region", "get", "-o", "json"))
	if got.State.Active != "us-east-1" || got.State.Epoch != 1 {
		t.Fatalf("survivor answers %+v, want us-east-1 epoch 1", got.State)
	}
	// A write sent to a follower's address is forwarded to the new leader.
	newLeader := c.WaitLeader(survivors[0], 20*time.Second, old)
	follower := survivors[0]
	if follower == newLeader {
		follower = survivors[1]
	}
	set := decodeRegion(t, c.MustCLI("operator-admin", c.Addrs(follower), "region", "set", "us-west-2", "--force", "--reason", "leader killed", "-o", "json"))
	if set.State.Active != "us-west-2" || set.State.Epoch != 2 {
		t.Fatalf("region set via follower: %+v", set.State)
	}
}

func TestRestartAndSnapshotRoundTrip(t *testing.T) {
	c := integration.NewCluster(t, 3, integration.Options{})
	c.MustCLI("operator-admin", c.Addrs(), "region", "init", "--primary", "us-east-1", "--secondary", "us-west-2")
	c.MustCLI("operator-admin", c.Addrs(), "region", "set", "us-west-2", "--force", "--reason", "before restart")

	// Restart every node: the state comes back from the data dirs.
	c.Stop()
	for i := range c.Nodes {
		c.Start(i)
	}
	for i := range c.Nodes {
		c.WaitLeader(i, 30*time.Second)
	}
	got := decodeRegion(t, c.MustCLI("operator-admin", c.Addrs(), "region", "get", "-o", "json"))
	if got.State.Active != "us-west-2" || got.State.Epoch != 2 {
		t.Fatalf("after restart: %+v", got.State)
	}

	snap := filepath.Join(t.TempDir(), "state.snap")
	c.MustCLI("operator-admin", c.Addrs(), "cluster", "snapshot", "save", snap)
	c.MustCLI("operator-admin", c.Addrs(), "region", "set", "us-east-1", "--force", "--reason", "after save")

	// Restore into a fresh cluster: the state round-trips exactly.
	fresh := integration.NewCluster(t, 3, integration.Options{})
	// The fresh cluster has its own CA; copy the snapshot file only.
	fresh.MustCLI("operator-admin", fresh.Addrs(), "cluster", "snapshot", "restore", snap)
	got = decodeRegion(t, fresh.MustCLI("operator-admin", fresh.Addrs(), "region", "get", "-o", "json"))
	if got.State.Active != "us-west-2" || got.State.Epoch != 2 || got.State.Primary != "us-east-1" {
		t.Fatalf("restored into fresh cluster: %+v", got.State)
	}
	hist := fresh.MustCLI("operator-admin", fresh.Addrs(), "region", "history")
	if !strings.Contains(hist, "before restart") {
		t.Fatalf("history not restored:\n%s", hist)
	}

	// Restore over the live cluster: the saved region comes back, and the epoch, a fencing
	// token, still grows.
	c.MustCLI("operator-admin", c.Addrs(), "cluster", "snapshot", "restore", snap)
	got = decodeRegion(t, c.MustCLI("operator-admin", c.Addrs(), "region", "get", "-o", "json"))
	if got.State.Active != "us-west-2" || got.State.Epoch != 4 {
		t.Fatalf("restored over live cluster: %+v, want us-west-2 at epoch 4", got.State)
	}
	audit := c.MustCLI("operator-admin", c.Addrs(), "audit")
	if !strings.Contains(audit, "cluster.snapshot.restore") || !strings.Contains(audit, "hash chain verified") {
		t.Fatalf("audit after restore:\n%s", audit)
	}
}

func TestRefusals(t *testing.T) {
	c := integration.NewCluster(t, 3, integration.Options{Operators: []string{"vic", "oscar"}, Roles: rolesYAML})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c.MustCLI("operator-admin", c.Addrs(), "region", "init", "--primary", "us-east-1", "--secondary", "us-west-2")

	refused := func(name, as string, wantErr string, args ...string) {
		t.Helper()
		out, errOut, err := c.CLI(ctx, as, c.Addrs(), append(args, "--timeout", "5s")...)
		if err == nil {
			t.Fatalf("%s: succeeded, want refusal\n%s", name, out)
		}
		if !strings.Contains(errOut, wantErr) {
			t.Fatalf("%s: stderr %q does not say %q", name, errOut, wantErr)
		}
	}
	refused("plaintext client", "", "", "region", "get")
	refused("viewer sets region", "operator-vic", "permission denied", "region", "set", "us-west-2", "--force", "--reason", "x")
	refused("agent sets region", "agent-us-east-1", "permission denied", "region", "set", "us-west-2", "--force", "--reason", "x")
	refused("unknown region", "operator-admin", "eu-west-1", "region", "set", "eu-west-1", "--force", "--reason", "x")
	refused("init twice", "operator-admin", "already initialized", "region", "init", "--primary", "us-east-1", "--secondary", "us-west-2")
	refused("set without force", "operator-admin", "--force", "region", "set", "us-west-2", "--reason", "x")
	refused("bad region name", "operator-admin", "not an AWS region name", "region", "init", "--primary", "nowhere", "--secondary", "us-west-2")

	// A certificate from another CA is refused at the handshake.
	other := t.TempDir()
	if out, err := exec.Command(c.Bin, "certs", "init", "--dir", other, "--region", "us-east-1").CombinedOutput(); err != nil {
		t.Fatalf("certs init: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, c.Bin, "region", "get", "--timeout", "5s", "--addr", c.Addrs(),
		"--ca", c.CA(), "--cert", filepath.Join(other, "operator-admin.pem"), "--key", filepath.Join(other, "operator-admin-key.pem"))
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("client cert from another CA accepted:\n%s", out)
	}

	errorTexts(t, c)

	// Nothing above changed the state.
	got := decodeRegion(t, c.MustCLI("operator-admin", c.Addrs(), "region", "get", "-o", "json"))
	if got.State.Active != "us-east-1" || got.State.Epoch != 1 {
		t.Fatalf("state changed by refused requests: %+v", got.State)
	}
}

func TestDevRefusesNonLoopback(t *testing.T) {
	bin := integration.Binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "server", "--dev", "--id", "d", "--data-dir", t.TempDir(),
		"--raft-addr", "0.0.0.0:0", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0").CombinedOutput()
	if err == nil {
		t.Fatal("--dev on 0.0.0.0 started")
	}
	if !strings.Contains(string(out), "--raft-addr") || !strings.Contains(string(out), "loopback") {
		t.Fatalf("error does not name the flag and the rule: %s", out)
	}
}

func TestGrpcurlAndHTTP(t *testing.T) {
	c := integration.NewCluster(t, 3, integration.Options{})
	c.MustCLI("operator-admin", c.Addrs(), "region", "init", "--primary", "us-east-1", "--secondary", "us-west-2")

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	// grpcurl is pinned in go.mod as a tool; it discovers the API through reflection.
	cmd := exec.CommandContext(ctx, "go", "tool", "grpcurl",
		"-cacert", c.CA(), "-cert", filepath.Join(c.CertDir, "operator-admin.pem"), "-key", filepath.Join(c.CertDir, "operator-admin-key.pem"),
		"-d", `{"consistency":"CONSISTENCY_LINEARIZABLE"}`, c.Nodes[1].GRPCAddr, "kirikae.v1.ActiveRegionService/GetActiveRegion")
	cmd.Dir = repoRoot(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("grpcurl: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"active": "us-east-1"`) {
		t.Fatalf("grpcurl answer: %s", out)
	}

	for _, q := range []string{"", "?stale=true"} {
		resp, err := http.Get("http://" + c.Nodes[2].HTTPAddr + "/v1/active-region" + q)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET /v1/active-region%s: %d %s", q, resp.StatusCode, body)
		}
		// The HTTP twin is API, not CLI: it answers protojson, as gRPC does.
		var got kirikaev1.GetActiveRegionResponse
		if err := protojson.Unmarshal(body, &got); err != nil {
			t.Fatalf("GET /v1/active-region%s: %v: %s", q, err, body)
		}
		if got.GetState().GetActive() != "us-east-1" || got.GetState().GetEpoch() != 1 || got.GetNodeId() != c.Nodes[2].ID {
			t.Fatalf("GET /v1/active-region%s: %s", q, body)
		}
	}
	resp, err := http.Get("http://" + c.Nodes[0].HTTPAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"kirikae_raft_state", "kirikae_raft_apply_seconds", "kirikae_read_seconds", "kirikae_watchers"} {
		if !strings.Contains(string(body), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// errorTexts checks, against testdata/errors.golden, what the CLI prints for a run that
// does not exist, a role the caller lacks and a plan that is wrong: each said once, with
// no kind of error repeated.
func errorTexts(t *testing.T, c *integration.Cluster) {
	t.Helper()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: kirikae/v1\nkind: Plan\nname: bad\nrunKind: failover\nsteps:\n  - {id: a, action: wait, with: {duration: 1m}, colour: red}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, tc := range []struct {
		name, as string
		args     []string
	}{
		{"a run that does not exist", "operator-admin", []string{"run", "show", "failover-20990101-0000-000000"}},
		{"a role the caller lacks", "operator-vic", []string{"region", "set", "us-west-2", "--force", "--reason", "x"}},
		{"a plan that is wrong", "operator-oscar", []string{"declare", "--plan", bad, "--scenario", "region-outage", "--expected-outage", "6h", "--reason", "x"}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, errOut, err := c.CLI(ctx, tc.as, c.Addrs(), tc.args...)
		cancel()
		if err == nil {
			t.Fatalf("%s: succeeded", tc.name)
		}
		fmt.Fprintf(&got, "# %s\n%s", tc.name, strings.ReplaceAll(errOut, dir, "$DIR"))
	}
	golden := filepath.Join("testdata", "errors.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./integration -run TestRefusals -update to write it)", err)
	}
	if got.String() != string(want) {
		t.Fatalf("the CLI's error texts differ from %s:\n--- got ---\n%s--- want ---\n%s", golden, got.String(), want)
	}
}
