package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kirikae/kirikae/buildinfo"
)

func TestVersionText(t *testing.T) {
	info := buildinfo.Info{Version: "v1.4.0", Commit: "0123456789abcdef", CommitTime: "2026-01-02T03:04:05Z", Modified: true, GoVersion: "go1.26.8"}
	var out bytes.Buffer
	if err := runVersion(&out, &versionFlags{output: "text"}, info); err != nil {
		t.Fatal(err)
	}
	want := "kirikae v1.4.0\ncommit:  0123456789abcdef (modified), 2026-01-02T03:04:05Z\ngo:      go1.26.8\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	if err := runVersion(&out, &versionFlags{}, buildinfo.Info{Version: buildinfo.Devel, GoVersion: "go1.26.8"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "commit:  unknown") {
		t.Errorf("an unstamped build should say its commit is unknown:\n%s", out.String())
	}
}

// TestVersionCommand runs the verb as a user would: this test binary's own build info, as
// text and as JSON, and the two agree.
func TestVersionCommand(t *testing.T) {
	text, err := runSystemCLI(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	js, err := runSystemCLI(t, "version", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got buildinfo.Info
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	if got != buildinfo.Read() {
		t.Errorf("json %+v, want %+v", got, buildinfo.Read())
	}
	if !strings.HasPrefix(text, "kirikae "+got.Version+"\n") || !strings.Contains(text, "go:      "+got.GoVersion) {
		t.Errorf("text output:\n%s", text)
	}
	if _, err := runSystemCLI(t, "version", "-o", "yaml"); err == nil {
		t.Error("-o yaml was accepted")
	}
}
