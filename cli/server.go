package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kirikae/kirikae/controlplane"
	"github.com/kirikae/kirikae/runs"
)

func init() { register(newServerCommand) }

type serverFlags struct {
	cfg      controlplane.Config
	logLevel string
}

func (f *serverFlags) Bind(fs *pflag.FlagSet) {
	c := &f.cfg
	fs.StringVar(&c.ID, "id", "", "this node's raft id, unique in the cluster (required)")
	fs.StringVar(&c.DataDir, "data-dir", "", "where the raft log and snapshots live (required); a restarted node rejoins with it")
	fs.StringVar(&c.RaftAddr, "raft-addr", "", "HOST:PORT for raft traffic between nodes (required)")
	fs.StringVar(&c.RaftAdvertise, "raft-advertise", "", "HOST:PORT the other nodes dial for raft, when it differs from --raft-addr (NAT, a port forward, a proxy)")
	fs.StringVar(&c.GRPCAddr, "grpc-addr", "", "HOST:PORT for the gRPC API (required)")
	fs.StringVar(&c.HTTPAddr, "http-addr", "", "HOST:PORT for /v1/active-region, /healthz and /metrics (required)")
	fs.BoolVar(&c.Bootstrap, "bootstrap", false, "form a new cluster with this node as its first member; ignored when the data dir holds state")
	fs.StringVar(&c.Join, "join", "", "gRPC address of any member to join; ignored when the data dir holds state")
	fs.StringVar(&c.TLSCA, "tls-ca", "", "CA certificate for mTLS (from `kirikae certs init`)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "this server's certificate")
	fs.StringVar(&c.TLSKey, "tls-key", "", "this server's key")
	fs.StringVar(&c.RolesFile, "roles", "", "YAML file mapping operator names to roles; without it only the operator `admin` may change anything")
	fs.BoolVar(&c.Dev, "dev", false, "plaintext single-node mode for development; every address must be loopback")
	fs.DurationVar(&c.Timeouts.Heartbeat, "raft-heartbeat-timeout", controlplane.DefaultRaftTimeouts.Heartbeat, "raft heartbeat timeout; raise it for a WAN")
	fs.DurationVar(&c.Timeouts.Election, "raft-election-timeout", controlplane.DefaultRaftTimeouts.Election, "raft election timeout; raise it for a WAN")
	fs.DurationVar(&c.Timeouts.LeaderLease, "raft-leader-lease-timeout", controlplane.DefaultRaftTimeouts.LeaderLease, "raft leader lease timeout")
	fs.DurationVar(&c.Timeouts.Commit, "raft-commit-timeout", controlplane.DefaultRaftTimeouts.Commit, "raft commit timeout")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
}

func newServerCommand() *cobra.Command {
	f := &serverFlags{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a control-plane node",
		Long: `Run one node of the raft-replicated control plane. Run three or five, outside both
AWS regions, so the authority on the active region survives the loss of either region and
of a minority of nodes.

Every connection, raft included, is mutual TLS. Make certificates with ` + "`kirikae certs init`" + `.`,
		Example: `  # first node
  kirikae server --id cp1 --data-dir /var/lib/kirikae/cp1 --bootstrap \
    --raft-addr 10.0.0.1:7001 --grpc-addr 10.0.0.1:7002 --http-addr 10.0.0.1:7003 \
    --tls-ca ca.pem --tls-cert server.pem --tls-key server-key.pem --roles roles.yaml
  # the others
  kirikae server --id cp2 ... --join 10.0.0.1:7002
  # one plaintext node on this machine, for trying things out
  kirikae server --dev --id dev --data-dir /tmp/kirikae \
    --raft-addr 127.0.0.1:7001 --grpc-addr 127.0.0.1:7002 --http-addr 127.0.0.1:7003`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(os.Stderr, f.logLevel)
			if err != nil {
				return err
			}
			f.cfg.Logger = logger
			f.cfg.Planner = &runs.Planner{}
			if err := controlplane.Run(cmd.Context(), f.cfg); err != nil {
				return fmt.Errorf("server: %w", err)
			}
			return nil
		},
	}
	f.Bind(cmd.Flags())
	return cmd
}
