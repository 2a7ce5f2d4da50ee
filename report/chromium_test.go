package report_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// chromium finds the browser, installing the Debian package when it is missing and the
// test runs as root. In CI (the CI variable is set) a browser that cannot be found is a
// failure; elsewhere the test is skipped.
func chromium(t *testing.T) string {
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
				t.Logf("apt-get %v: %v\n%s", args, err, tail(out))
				break
			}
		}
		if p := find(); p != "" {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found and could not be installed (apt-get install -y chromium); CI must render the HTML report")
	}
	t.Skip("chromium not found: apt-get install -y chromium to run the HTML rendering test")
	return ""
}

func tail(b []byte) []byte {
	if len(b) > 2000 {
		return b[len(b)-2000:]
	}
	return b
}

func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, tail(stderr.Bytes()))
	}
	return stdout.Bytes()
}

func TestHTMLRendersInChromium(t *testing.T) {
	bin := chromium(t)
	in := fixture(t, 1, kirikaev1.DrillKind_DRILL_KIND_FULL)
	var buf bytes.Buffer
	if err := build(t, in).HTML(&buf); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "file://" + page
	if out := os.Getenv("KIRIKAE_REPORT_HTML"); out != "" {
		if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	shot := filepath.Join(dir, "report.png")
	runChromium(t, bin, "--screenshot="+shot, "--window-size=1400,1000", url)
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 20_000 {
		t.Errorf("screenshot is %d bytes (want a PNG of at least 20 kB: a rendered page, not a blank one)", len(png))
	}
	if out := os.Getenv("KIRIKAE_REPORT_SCREENSHOT"); out != "" {
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	dom := runChromium(t, bin, "--dump-dom", url)
	n, seen := bars(t, dom)
	if want := stepCount(in); n != want {
		t.Errorf("the DOM chromium built has %d bars, want one per step: %d", n, want)
	}
	for _, r := range in.Runs {
		for _, st := range r.GetSteps() {
			if seen[r.GetId()+"/"+st.GetId()] != 1 {
				t.Errorf("the DOM has %d bars for %s/%s", seen[r.GetId()+"/"+st.GetId()], r.GetId(), st.GetId())
			}
		}
	}
}
