package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// tabletopDrill runs the plan in an isolated simulated world. Being built now.
//
// Note for whoever builds it: the report file flag is --report (in.reportFile; -o is the
// clientFlags --output shorthand), and when --timeline is given, drill.go has already
// parsed and checked it: use in.timeline (a *report.Timeline) rather than reading it again.
func tabletopDrill(cmd *cobra.Command, cf *clientFlags, in drillInput) error {
	return errors.New("--kind tabletop: not built yet")
}
