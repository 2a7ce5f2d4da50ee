package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/internal/chromiumtest"
)

func TestHTMLRendersInChromium(t *testing.T) {
	bin := chromiumtest.Find(t)
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
	chromiumtest.Run(t, bin, "--screenshot="+shot, "--window-size=1400,1000", url)
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

	dom := chromiumtest.Run(t, bin, "--dump-dom", url)
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
