package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kirikae/kirikae/awssim"
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
