package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kirikae/kirikae/buildinfo"
)

func init() { register(newVersionCommand) }

type versionFlags struct {
	output string
}

func (f *versionFlags) Bind(fs *pflag.FlagSet) {
	fs.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
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

func runVersion(w io.Writer, f *versionFlags, info buildinfo.Info) error {
	switch f.output {
	case "json":
		return writeJSON(w, info)
	case "text", "":
	default:
		return fmt.Errorf("version: -o %q: want text or json", f.output)
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
