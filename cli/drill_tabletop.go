package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// tabletopDrill runs the plan in an isolated simulated world. Being built now.
func tabletopDrill(cmd *cobra.Command, cf *clientFlags, in drillInput) error {
	return errors.New("--kind tabletop: not built yet")
}
