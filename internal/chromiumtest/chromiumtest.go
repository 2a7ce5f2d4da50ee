// Package chromiumtest runs headless Chromium for tests that render HTML: the report's
// page and the control plane's web view. It owns finding the browser (installing the
// Debian package when the test runs as root) and running it with bounded time; what a test
// checks in the screenshots and DOMs it gets is the test's own business.
package chromiumtest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Find returns the browser, installing the Debian package when it is missing and the test
// runs as root. In CI (the CI variable is set) a browser that cannot be found is a
// failure; elsewhere the test is skipped.
func Find(t testing.TB) string {
	t.Helper()
	find := func() string {
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				return p
			}
		}
		return ""
	}
	if p := find(); p != "" {
		return p
	}
	if os.Geteuid() == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		for _, args := range [][]string{{"update"}, {"install", "-y", "chromium"}} {
			cmd := exec.CommandContext(ctx, "apt-get", args...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Logf("apt-get %v: %v\n%s", args, err, Tail(out))
				break
			}
		}
		if p := find(); p != "" {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found and could not be installed (apt-get install -y chromium); CI must render HTML")
	}
	t.Skip("chromium not found: apt-get install -y chromium to run the HTML rendering tests")
	return ""
}

// Tail is the end of a long output, for a failure message.
func Tail(b []byte) []byte {
	if len(b) > 2000 {
		return b[len(b)-2000:]
	}
	return b
}

// Run runs the headless browser once with args after the usual ones (no sandbox, GPU,
// network chatter or first-run work, a fresh profile), within three minutes, and returns
// what it wrote to stdout: the DOM for --dump-dom.
func Run(t testing.TB, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, Tail(stderr.Bytes()))
	}
	return stdout.Bytes()
}
