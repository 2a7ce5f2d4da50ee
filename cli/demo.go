package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/kirikae/kirikae/demo"
)

func init() { register(newDemoCommand) }

func newDemoCommand() *cobra.Command {
	var scale float64
	var dir, logLevel string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Fail the seed system over to us-west-2 and back, against simulated AWS",
		Long: `Run kirikae's main job in one process, with nothing to set up:

  - a 3-node raft control plane with mTLS on loopback,
  - an agent for us-east-1 and one for us-west-2,
  - awssim, a simulated AWS speaking the real protocols, loaded with the seed system
    (kaigo-subsys) in peacetime, its durations scaled by --time-scale.

It takes us-east-1 down, declares a region outage, and runs the bundled failover plan
(deploy/plans/kaigo-failover.yaml) to the end, with live progress. Demo operators, each
with a certificate of their own, confirm the checklist and give the approvals; they are
labelled as such. Then us-east-1 comes back and the bundled cutback plan runs.

The summary shows the simulated RTO against the seed's 4 h, the critical path, the
data-loss window against the 1 h RPO, and the active region and epoch after each run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(os.Stderr, logLevel)
			if err != nil {
				return err
			}
			if scale <= 0 || scale > 1 {
				return fmt.Errorf("--time-scale %g: want a number in (0, 1], e.g. 0.002", scale)
			}
			_, err = demo.Run(cmd.Context(), demo.Options{TimeScale: scale, Out: cmd.OutOrStdout(), Logger: logger, Dir: dir})
			return err
		},
	}
	cmd.Flags().Float64Var(&scale, "time-scale", 0.002, "real seconds per simulated second; 0.002 turns 45 min into 5.4 s")
	cmd.Flags().StringVar(&dir, "dir", "", "keep certificates and data here (default: a temporary directory, removed)")
	cmd.Flags().StringVar(&logLevel, "log-level", "error", "component logs on stderr: debug, info, warn or error")
	return cmd
}
