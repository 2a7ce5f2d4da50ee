package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kirikae/kirikae/buildinfo"
	"github.com/kirikae/kirikae/jsonview"
)

func init() { register(newVersionCommand) }

type versionFlags struct {
	output string
}

// Bind binds -o/--output as every verb does (KIRIKAE_FORMAT when not given); "text", the
// name this verb used first, is kept as a synonym of table.
func (f *versionFlags) Bind(fs *pflag.FlagSet) {
	bindOutput(fs, &f.output)
}

func newVersionCommand() *cobra.Command {
	f := &versionFlags{}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version of this binary",
		Long: `Print which kirikae this binary is: its version, the commit it was built from (and
whether that tree had uncommitted changes) and the Go that built it. Agents register with
the same one-line version, which ` + "`kirikae agents`" + ` shows.

The version is the one set at link time, else the module version the go command stamped:
  go build -ldflags "-X github.com/kirikae/kirikae/buildinfo.version=v1.4.0" ./cmd/kirikae`,
		Example: `  kirikae version
  kirikae version -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVersion(cmd.OutOrStdout(), f, buildinfo.Read())
		},
	}
	f.Bind(cmd.Flags())
	return cmd
}

// versionJSON is `version -o json`: every field present, commit_time null when unknown.
type versionJSON struct {
	Version    string `json:"version"`
	Commit     string `json:"commit"`
	CommitTime any    `json:"commit_time"`
	Modified   bool   `json:"modified"`
	GoVersion  string `json:"go_version"`
}

// commitTime is the VCS time in the convention's form (RFC 3339, UTC), nil when unknown;
// what does not parse is passed on as it is.
func commitTime(s string) any {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return jsonview.Time(t)
}

func runVersion(w io.Writer, f *versionFlags, info buildinfo.Info) error {
	switch f.output {
	case "json":
		return writeJSON(w, versionJSON{Version: info.Version, Commit: info.Commit, CommitTime: commitTime(info.CommitTime),
			Modified: info.Modified, GoVersion: info.GoVersion})
	case "table", "text", "":
	default:
		return fmt.Errorf("version: %w", checkOutput(f.output))
	}
	commit := info.Commit
	switch {
	case commit == "":
		commit = "unknown (built without VCS stamping)"
	case info.Modified:
		commit += " (modified)"
	}
	if info.CommitTime != "" {
		commit += ", " + info.CommitTime
	}
	_, err := fmt.Fprintf(w, "kirikae %s\ncommit:  %s\ngo:      %s\n", info.Version, commit, info.GoVersion)
	return err
}
