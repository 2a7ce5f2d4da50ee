package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kirikae/kirikae/buildinfo"
	"github.com/kirikae/kirikae/controlplane"
	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/runs"
)

func init() { register(newServerCommand) }

type serverFlags struct {
	cfg      controlplane.Config
	logLevel string
	// config is the YAML file of flag values; printConfig prints the effective values.
	config      string
	printConfig bool
	// evaluate are the plans the leader evaluates on a schedule; evaluateSets their params.
	evaluate     []string
	evaluateSets []string
}

func (f *serverFlags) Bind(fs *pflag.FlagSet) {
	c := &f.cfg
	fs.StringVar(&c.ID, "id", "", "this node's raft id, unique in the cluster (required)")
	fs.StringVar(&c.DataDir, "data-dir", "", "where the raft log and snapshots live (required); a restarted node rejoins with it")
	fs.StringVar(&c.RaftAddr, "raft-addr", "", "HOST:PORT for raft traffic between nodes (required)")
	fs.StringVar(&c.RaftAdvertise, "raft-advertise", "", "HOST:PORT the other nodes dial for raft, when it differs from --raft-addr (NAT, a port forward, a proxy)")
	fs.StringVar(&c.GRPCAddr, "grpc-addr", "", "HOST:PORT for the gRPC API (required)")
	fs.StringVar(&c.GRPCAdvertise, "grpc-advertise", "", "HOST:PORT the other nodes, agents and operators dial for gRPC, when it differs from --grpc-addr (a Kubernetes pod behind a stable name, NAT); the server certificate must name it")
	fs.StringVar(&c.HTTPAddr, "http-addr", "", "HOST:PORT for /v1/active-region, /healthz and /metrics (required)")
	fs.BoolVar(&c.Bootstrap, "bootstrap", false, "form a new cluster with this node as its first member; ignored when the data dir holds state")
	fs.StringVar(&c.Join, "join", "", "gRPC address of any member to join; ignored when the data dir holds state")
	fs.StringVar(&c.TLSCA, "tls-ca", "", "CA certificate `file` for mTLS, as kirikae certs init writes it")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "this server's certificate")
	fs.StringVar(&c.TLSKey, "tls-key", "", "this server's key")
	fs.DurationVar(&c.TLSReloadEvery, "tls-reload-every", controlplane.DefaultTLSReloadEvery, "how often the --tls-* files are checked for changes, which are loaded without a restart (0: only on SIGHUP)")
	fs.StringVar(&c.RolesFile, "roles", "", "YAML `file` mapping operator names to roles; without it only the operator named admin may change anything")
	fs.BoolVar(&c.Dev, "dev", false, "one node on loopback for trying things out, needing no other flag: a temporary data dir, ports of its own, throwaway certificates, and the export lines printed")
	fs.DurationVar(&c.Timeouts.Heartbeat, "raft-heartbeat-timeout", controlplane.DefaultRaftTimeouts.Heartbeat, "raft heartbeat timeout; raise it for a WAN")
	fs.DurationVar(&c.Timeouts.Election, "raft-election-timeout", controlplane.DefaultRaftTimeouts.Election, "raft election timeout; raise it for a WAN")
	fs.DurationVar(&c.Timeouts.LeaderLease, "raft-leader-lease-timeout", controlplane.DefaultRaftTimeouts.LeaderLease, "raft leader lease timeout")
	fs.DurationVar(&c.Timeouts.Commit, "raft-commit-timeout", controlplane.DefaultRaftTimeouts.Commit, "raft commit timeout")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringArrayVar(&f.evaluate, "evaluate-plan", nil, "a plan `file` the leader evaluates against live AWS on a schedule, as kirikae plan check does; its findings show in kirikae readiness (repeatable)")
	fs.StringArrayVar(&f.evaluateSets, "evaluate-set", nil, "a param of the evaluated plans, NAME=VALUE, given to each plan that declares it (repeatable)")
	fs.DurationVar(&c.EvaluateEvery, "evaluate-every", controlplane.DefaultEvaluateEvery, "how often the leader evaluates the --evaluate-plan plans")
	fs.StringVar((*string)(&c.UI), "ui", string(controlplane.UIOff), "the read-only web view: off; mtls, on its own HTTPS listener (--ui-addr) for browsers holding an operator certificate of the cluster's CA; or open, under /ui/ on --http-addr to anyone who can reach it (a trusted network only)")
	fs.StringVar(&c.UIAddr, "ui-addr", "", "HOST:PORT of the web view's HTTPS listener with --ui=mtls, e.g. 10.0.0.1:7443; the server certificate must name the host the browser uses")
	fs.StringVar(&f.config, "config", "", "YAML file of flag values (see above); flags given on the command line win")
	fs.BoolVar(&f.printConfig, "print-config", false, "print the effective configuration, as a config file with the source of each value, and exit")
}

// notInConfigFile are the server flags a config file cannot set.
var notInConfigFile = []string{"config", "print-config"}

// evaluatedPlans reads the --evaluate-plan files, each with the --evaluate-set params it
// declares. A file that cannot be read, or a param no plan declares, is an error at start.
func (f *serverFlags) evaluatedPlans() ([]controlplane.EvaluatedPlan, error) {
	sets, err := parseSets(f.evaluateSets)
	if err != nil {
		return nil, fmt.Errorf("--evaluate-set: %w", err)
	}
	used := map[string]bool{}
	var out []controlplane.EvaluatedPlan
	for _, file := range f.evaluate {
		src, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--evaluate-plan: %w", err)
		}
		pl, err := plan.Parse(file, src)
		if err != nil {
			return nil, fmt.Errorf("--evaluate-plan: %w", err)
		}
		params := map[string]string{}
		for k, v := range sets {
			if pl.Param(k) != nil {
				params[k], used[k] = v, true
			}
		}
		out = append(out, controlplane.EvaluatedPlan{File: file, Source: src, Params: params})
	}
	for k := range sets {
		if !used[k] {
			return nil, fmt.Errorf("--evaluate-set %s: no --evaluate-plan declares param %s", k, k)
		}
	}
	if f.cfg.EvaluateEvery < time.Minute && len(out) > 0 {
		return nil, fmt.Errorf("--evaluate-every %s: want a minute or more (each evaluation makes the agents call AWS)", f.cfg.EvaluateEvery)
	}
	return out, nil
}

func newServerCommand() *cobra.Command {
	f := &serverFlags{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a control-plane node",
		Long: `Run one node of the raft-replicated control plane. Run three or five, outside both
AWS regions, so the authority on the active region survives the loss of either region and
of a minority of nodes.

Every connection, raft included, is mutual TLS. Make certificates with ` + "`kirikae certs init`" + `.

A config file (--config) holds the same settings as the flags, under the flags' names, with
a list for a repeatable flag. Flags given on the command line win over the file, and
--print-config shows what results, and where each value came from. A file with an unknown
key or a value of the wrong type is refused, each problem named as FILE:LINE: FLAG, and
the server starts only once every setting is valid: it binds no address and creates no
data dir before then.

  # /etc/kirikae/server.yaml
  id: cp1
  data-dir: /var/lib/kirikae/cp1
  raft-addr: 10.0.0.1:7001
  grpc-addr: 10.0.0.1:7002
  http-addr: 10.0.0.1:7003
  join: 10.0.0.2:7002
  tls-ca: /etc/kirikae/ca.pem
  tls-cert: /etc/kirikae/server.pem
  tls-key: /etc/kirikae/server-key.pem
  roles: /etc/kirikae/roles.yaml
  raft-heartbeat-timeout: 1s
  evaluate-plan: [/etc/kirikae/plans/failover.yaml]
  evaluate-set: [APP_URL=https://app.example.com]

Certificates rotate without a restart. The node rereads --tls-ca, --tls-cert and --tls-key
when they change (checked every --tls-reload-every) and on SIGHUP; the next connection, to
its gRPC and raft ports and from it to other nodes, uses what it read. A set that would not
work (bad PEM, a key that is not the certificate's, another identity, a certificate the new
CA file does not verify) is refused and logged, and the node keeps the certificates it had.
To move to a new CA, install a CA file holding both CAs on every node and agent first, then
the new certificates, then, once nothing uses the old CA, the new CA alone.

With --evaluate-plan, the leader evaluates those plans against live AWS every
--evaluate-every (30 minutes by default), as ` + "`kirikae plan check`" + ` does: each region's
agent checks the steps it would run, read-only. A finding makes ` + "`kirikae readiness`" + ` say the
region is not ready, naming the plan, the step and the problem.

The web view (--ui, off by default) shows, read-only and refreshed every second, the active
region, epoch and mode, the agents with health and readiness, and the runs, each run with
its Gantt chart, what waits for approval or a checklist, and who gave them. Every node
serves it from its own replica and says how fresh that is. --ui=mtls serves it on
--ui-addr over HTTPS with the cluster's certificates: the browser must present an operator
certificate from the cluster's CA, of an operator who holds a role (any role reads), and
an agent's certificate or none is refused. --ui=open serves it under /ui/ on --http-addr
with no authentication at all, behind a banner saying so: anyone who can reach that port
sees every run's steps, errors and approvers. Use it only on a network you trust.`,
		Example: `  # first node
  kirikae server --id cp1 --data-dir /var/lib/kirikae/cp1 --bootstrap \
    --raft-addr 10.0.0.1:7001 --grpc-addr 10.0.0.1:7002 --http-addr 10.0.0.1:7003 \
    --tls-ca ca.pem --tls-cert server.pem --tls-key server-key.pem --roles roles.yaml
  # the others
  kirikae server --id cp2 ... --join 10.0.0.1:7002
  # from a config file, one setting overridden, checked before starting
  kirikae server --config /etc/kirikae/server.yaml --log-level debug --print-config
  kirikae server --config /etc/kirikae/server.yaml --log-level debug
  # after replacing the certificate files, to load them now
  kill -HUP "$(pidof kirikae)"
  # the web view for operators' browsers (import ca.pem, and operator-NAME.pem with its key)
  kirikae server --config /etc/kirikae/server.yaml --ui mtls --ui-addr 10.0.0.1:7443
  # one node on this machine, for trying things out; it prints what to export
  kirikae server --dev`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var fromFile map[string]bool
			if f.config != "" {
				var err error
				if fromFile, err = applyConfigFile(cmd.Flags(), f.config, notInConfigFile...); err != nil {
					return fmt.Errorf("server --config: %w", err)
				}
			}
			if f.printConfig {
				return printConfig(cmd.OutOrStdout(), cmd.Flags(), fromFile, notInConfigFile...)
			}
			logger, err := newLogger(os.Stderr, f.logLevel)
			if err != nil {
				return err
			}
			logger.Info("kirikae server", "version", buildinfo.String())
			f.cfg.Logger = logger
			f.cfg.Planner = &runs.Planner{}
			if f.cfg.EvaluatePlans, err = f.evaluatedPlans(); err != nil {
				return err
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			f.cfg.ReloadCerts = hangups(ctx)
			if f.cfg.Dev {
				cfg := f.cfg
				cfg.Dev = false // mTLS too, with certificates of its own
				return runDev(ctx, cmd.OutOrStdout(), cmd.Flags(), cfg)
			}
			if err := controlplane.Run(ctx, f.cfg); err != nil {
				return fmt.Errorf("server: %w", err)
			}
			return nil
		},
	}
	f.Bind(cmd.Flags())
	return cmd
}
