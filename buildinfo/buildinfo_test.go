package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/kirikae/kirikae", Version: "v0.0.0-20260102030405-0123456789ab+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name    string
		ldflags string
		bi      *debug.BuildInfo
		want    Info
		str     string
	}{
		{"ldflags version wins", "v1.4.0", stamped,
			Info{Version: "v1.4.0", Commit: "0123456789abcdef0123456789abcdef01234567", CommitTime: "2026-01-02T03:04:05Z", Modified: true, GoVersion: "go1.26.8"},
			"v1.4.0 (commit 0123456789ab, modified)"},
		{"module version", "", stamped,
			Info{Version: "v0.0.0-20260102030405-0123456789ab+dirty", Commit: "0123456789abcdef0123456789abcdef01234567", CommitTime: "2026-01-02T03:04:05Z", Modified: true, GoVersion: "go1.26.8"},
			"v0.0.0-20260102030405-0123456789ab+dirty (commit 0123456789ab, modified)"},
		{"clean tree", "v1.4.0", &debug.BuildInfo{GoVersion: "go1.26.8", Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}},
			Info{Version: "v1.4.0", Commit: "abc", GoVersion: "go1.26.8"}, "v1.4.0 (commit abc)"},
		{"nothing stamped", "", &debug.BuildInfo{GoVersion: "go1.26.8"}, Info{Version: Devel, GoVersion: "go1.26.8"}, Devel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fromBuildInfo(tt.ldflags, tt.bi)
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if s := got.String(); s != tt.str {
				t.Errorf("String() = %q, want %q", s, tt.str)
			}
		})
	}
}

func TestReadHasGoVersion(t *testing.T) {
	if got := Read(); !strings.HasPrefix(got.GoVersion, "go") || got.Version == "" {
		t.Errorf("Read() = %+v", got)
	}
}
