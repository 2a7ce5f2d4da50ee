// Package buildinfo says which kirikae a binary is: its version, the commit it was built
// from and the Go that built it. It is the one place that reads them, so `kirikae version`,
// the server's start line and the version an agent registers with always agree.
//
// The version is the one given at link time, if any:
//
//	go build -ldflags "-X github.com/kirikae/kirikae/buildinfo.version=v1.4.0" ./cmd/kirikae
//
// and otherwise the main module's version as the go command stamped it (a tag or a
// pseudo-version when built from a checkout with VCS stamping, "(devel)" otherwise). The
// commit and whether the tree had uncommitted changes come from the VCS stamping
// (vcs.revision, vcs.modified); a binary built without it has no commit.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// version is set with -ldflags "-X github.com/kirikae/kirikae/buildinfo.version=...".
var version string

// Devel is the version of a binary that was given none and whose module has none.
const Devel = "(devel)"

// Info is what a binary knows about its own build.
type Info struct {
	// Version is the -ldflags version, else the module version, else Devel.
	Version string `json:"version"`
	// Commit is the full VCS revision, empty when the build was not stamped.
	Commit string `json:"commit,omitempty"`
	// CommitTime is the revision's commit time (RFC 3339), empty when unknown.
	CommitTime string `json:"commit_time,omitempty"`
	// Modified reports uncommitted changes in the tree the binary was built from.
	Modified bool `json:"modified"`
	// GoVersion is the Go toolchain that built the binary (go1.26.8).
	GoVersion string `json:"go_version"`
}

// Read returns this binary's Info.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fromBuildInfo(version, nil)
	}
	return fromBuildInfo(version, bi)
}

// fromBuildInfo is Read with its inputs given, for tests.
func fromBuildInfo(ldflagsVersion string, bi *debug.BuildInfo) Info {
	info := Info{Version: ldflagsVersion, GoVersion: runtime.Version()}
	if bi == nil {
		if info.Version == "" {
			info.Version = Devel
		}
		return info
	}
	if bi.GoVersion != "" {
		info.GoVersion = bi.GoVersion
	}
	if info.Version == "" {
		info.Version = bi.Main.Version
	}
	if info.Version == "" {
		info.Version = Devel
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.time":
			info.CommitTime = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the one-line version an agent registers with and `kirikae agents` shows:
// "v1.4.0 (commit 0123456789ab)", with ", modified" when the tree had uncommitted changes,
// or the version alone when the build carries no commit.
func (i Info) String() string {
	if i.Commit == "" {
		return i.Version
	}
	var b strings.Builder
	b.WriteString(i.Version)
	b.WriteString(" (commit ")
	b.WriteString(shortCommit(i.Commit))
	if i.Modified {
		b.WriteString(", modified")
	}
	b.WriteString(")")
	return b.String()
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// String is Read().String().
func String() string { return Read().String() }
