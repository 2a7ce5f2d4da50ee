package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/kirikae/kirikae/awshttp"
	"github.com/kirikae/kirikae/awssim"
	"github.com/kirikae/kirikae/system"
)

// syncBuffer is a bytes.Buffer safe to read while runSim writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startSim runs `kirikae sim` with f until the test ends and returns what it printed once
// it printed its export lines.
func startSim(t *testing.T, f simFlags) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- runSim(ctx, &out, io.Discard, f) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sim: %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "AWS_SECRET_ACCESS_KEY") {
		select {
		case err := <-done:
			t.Fatalf("sim stopped: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sim printed no keys within 10s:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	return out.String()
}

// TestSimPrintsIssuedKeys: without --credentials each sim prints a pair of its own, and
// with one it prints the file's; the pace of simulated time is said either way.
func TestSimPrintsIssuedKeys(t *testing.T) {
	a := startSim(t, simFlags{listen: "127.0.0.1:0", timeScale: 1, logLevel: "error"})
	b := startSim(t, simFlags{listen: "127.0.0.1:0", timeScale: 0.001, logLevel: "error"})
	key := func(out string) string {
		_, rest, _ := strings.Cut(out, "export AWS_ACCESS_KEY_ID=")
		k, _, _ := strings.Cut(rest, "\n")
		return k
	}
	if key(a) == "" || key(a) == key(b) {
		t.Fatalf("two sims printed keys %q and %q", key(a), key(b))
	}
	if !strings.Contains(a, "real AWS time: a restore takes 45 minutes") || !strings.Contains(b, "a 45-minute restore takes 2.7s") {
		t.Fatalf("the pace is not said:\n%s\n%s", a, b)
	}

	file := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(file, []byte("[sim]\naws_access_key_id = AKIAFIXEDKEY0000001\naws_secret_access_key = fixed-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := startSim(t, simFlags{listen: "127.0.0.1:0", timeScale: 1, logLevel: "error", creds: file})
	if !strings.Contains(c, "export AWS_ACCESS_KEY_ID=AKIAFIXEDKEY0000001\nexport AWS_SECRET_ACCESS_KEY=fixed-secret\n") {
		t.Fatalf("the file's keys are not printed:\n%s", c)
	}
}

// TestSimBadCredentialsFile: a bad --credentials file stops the sim before it serves, naming
// the file and the line.
func TestSimBadCredentialsFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(file, []byte("[sim]\naws_access_key_id = AKIAX\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := runSim(context.Background(), io.Discard, io.Discard, simFlags{listen: "127.0.0.1:0", timeScale: 1, logLevel: "error", creds: file})
	if !errors.Is(err, awssim.ErrBadCredentials) || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("got %v", err)
	}
	err = runSim(context.Background(), io.Discard, io.Discard, simFlags{listen: "127.0.0.1:0", timeScale: 1, logLevel: "error", creds: file + ".missing"})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "--credentials") {
		t.Fatalf("got %v", err)
	}
}

// TestSimSystemFile: --system builds that file's world in its own regions and account, says
// so at start, and serves it; without it the bundled kaigo system is the fixtures'.
func TestSimSystemFile(t *testing.T) {
	out := startSim(t, simFlags{listen: "127.0.0.1:0", timeScale: 1, logLevel: "error", system: "../deploy/systems/example-eu.yaml"})
	for _, want := range []string{"awssim serving system ledger: eu-west-1 → eu-central-1 (account 210987654321) at http://127.0.0.1:",
		"export AWS_REGION=eu-west-1\n", "/_app/eu-central-1/health"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	export := func(name string) string {
		_, rest, _ := strings.Cut(out, "export "+name+"=")
		v, _, _ := strings.Cut(rest, "\n")
		return v
	}
	cfg := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(export("AWS_ENDPOINT_URL")), HTTPClient: awshttp.KeepRequestBody(nil),
		Credentials: credentials.NewStaticCredentialsProvider(export("AWS_ACCESS_KEY_ID"), export("AWS_SECRET_ACCESS_KEY"), "")}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := ecs.NewFromConfig(cfg).DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"ledger-euw1"}})
	if err != nil || len(cl.Clusters) != 1 {
		t.Fatalf("the ledger cluster in eu-west-1: %v %+v", err, cl)
	}

	kaigo := startSim(t, simFlags{listen: "127.0.0.1:0", timeScale: 1, logLevel: "error", fixture: "kaigo"})
	if !strings.Contains(kaigo, "awssim serving system kaigo-subsys: us-east-1 → us-west-2 (account 123456789012)") {
		t.Errorf("the kaigo fixture:\n%s", kaigo)
	}
	empty := startSim(t, simFlags{listen: "127.0.0.1:0", timeScale: 1, logLevel: "error"})
	if !strings.Contains(empty, "awssim serving an empty world: us-east-1 → us-west-2") {
		t.Errorf("no fixture:\n%s", empty)
	}
}

// TestSimBadSystemFile: a system file that is not valid stops the sim before it serves,
// each problem named by the file's line; so does a fixture of the bundled system with it.
func TestSimBadSystemFile(t *testing.T) {
	good, err := os.ReadFile("../deploy/systems/example-eu.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(good), "engine: mysql\n", "engine: mysqll\n", 1)
	line := strings.Count(bad[:strings.Index(bad, "engine: mysqll")], "\n") + 1
	file := filepath.Join(t.TempDir(), "ledger.yaml")
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	err = runSim(context.Background(), io.Discard, io.Discard, simFlags{listen: "127.0.0.1:0", timeScale: 1, logLevel: "error", system: file})
	if !errors.Is(err, system.ErrInvalid) || !strings.Contains(err.Error(), fmt.Sprintf("%s:%d: ", file, line)) || !strings.Contains(err.Error(), "mysqll") {
		t.Fatalf("got %v, want the problem at %s:%d", err, file, line)
	}
	err = runSim(context.Background(), io.Discard, io.Discard, simFlags{listen: "127.0.0.1:0", timeScale: 1, logLevel: "error",
		system: "../deploy/systems/example-eu.yaml", fixture: "kaigo"})
	if !errors.Is(err, awssim.ErrUnknownFixture) {
		t.Fatalf("--system with --fixture kaigo: %v", err)
	}
}

// TestSimPrintsShell: what the sim prints is sh, so a script can source it; a secret from
// --credentials that sh would split or expand comes through unchanged.
func TestSimPrintsShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh:", err)
	}
	secret := `it's a $ecret; with "spaces"`
	file := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(file, []byte("[sim]\naws_access_key_id = AKIAFIXEDKEY0000001\naws_secret_access_key = "+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := startSim(t, simFlags{listen: "127.0.0.1:0", timeScale: 0.002, logLevel: "error", fixture: "kaigo", creds: file})
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l != "" && !strings.HasPrefix(l, "# ") && !strings.HasPrefix(l, "export ") {
			t.Errorf("line %q is neither a comment nor an export", l)
		}
	}
	env := filepath.Join(t.TempDir(), "sim.env")
	if err := os.WriteFile(env, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command(sh, "-c", `. "$1" && printf '%s|%s|%s' "$AWS_SECRET_ACCESS_KEY" "$AWS_REGION" "$AWS_ENDPOINT_URL"`, "sh", env).CombinedOutput()
	if err != nil {
		t.Fatalf("sourcing what the sim printed: %v\n%s", err, got)
	}
	if want := secret + "|us-east-1|http://127.0.0.1:"; !strings.HasPrefix(string(got), want) {
		t.Fatalf("sourced %q, want it to start with %q", got, want)
	}
}
