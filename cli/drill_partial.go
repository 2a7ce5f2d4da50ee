package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// partialDrill runs the plan's build phases on the real agents, then its teardown. Being built now.
func partialDrill(cmd *cobra.Command, cf *clientFlags, in drillInput) error {
	return errors.New("--kind partial: not built yet")
}
