package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kirikae/kirikae/agent"
	"github.com/kirikae/kirikae/agent/readiness"
	"github.com/kirikae/kirikae/controlplane"
	"github.com/kirikae/kirikae/security"
)

func init() { register(newAgentCommand) }

type agentFlags struct {
	cfg          agent.Config
	controlPlane string
	logLevel     string
}

func (f *agentFlags) Bind(fs *pflag.FlagSet) {
	c := &f.cfg
	fs.StringVar(&c.Region, "region", "", "the AWS region this agent works in (required); its certificate must name the same region")
	fs.StringVar(&f.controlPlane, "control-plane", os.Getenv("KIRIKAE_ADDR"), "control-plane gRPC addresses, comma-separated; any node will do, followers point to the leader (env KIRIKAE_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", "", "where the agent keeps its fencing epoch, step results and the last system it was sent (required); keep it across restarts")
	fs.StringVar(&c.ID, "id", "", "this agent's id (default <region>/<hostname>)")
	fs.StringVar(&c.AWSEndpoint, "aws-endpoint", "", "send every AWS call here instead of AWS, e.g. http://127.0.0.1:4566 for kirikae sim or a moto_server")
	// Not KIRIKAE_CA/CERT/KEY: those are the operator's, and an agent must not pick up a
	// person's certificate from the shell it was started in.
	fs.StringVar(&c.TLSCA, "tls-ca", os.Getenv("KIRIKAE_AGENT_CA"), "CA certificate from kirikae certs init (env KIRIKAE_AGENT_CA)")
	fs.StringVar(&c.TLSCert, "tls-cert", os.Getenv("KIRIKAE_AGENT_CERT"), "this region's agent certificate, agent-<region>.pem (env KIRIKAE_AGENT_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", os.Getenv("KIRIKAE_AGENT_KEY"), "its key, agent-<region>-key.pem (env KIRIKAE_AGENT_KEY)")
	fs.DurationVar(&c.TLSReloadEvery, "tls-reload-every", controlplane.DefaultTLSReloadEvery, "how often the --tls-* files are checked for changes, which the next connection presents without a restart (0: only on SIGHUP)")
	fs.BoolVar(&c.Dev, "dev", false, "plaintext, for a plaintext control plane on loopback (tests); kirikae server --dev serves mTLS, so give its agents a certificate (see above)")
	fs.IntVar(&c.MaxSteps, "max-steps", agent.DefaultMaxSteps, "steps that may run at once; more wait in a queue")
	fs.DurationVar(&c.HeartbeatInterval, "heartbeat", agent.DefaultHeartbeatInterval, "heartbeat and health-probe period (the control plane may ask for another heartbeat period)")
	fs.DurationVar(&c.ReadinessInterval, "readiness-interval", agent.DefaultReadinessInterval, "how often the readiness checks run (they also run whenever the control plane asks or sends a new system)")
	fs.DurationVar(&c.WaiterDelay, "waiter-delay", 0, "poll delay of the AWS waiters (default: the SDK's); a few ms against kirikae sim with a small --time-scale")
	fs.StringVar(&c.HTTPAddr, "http-addr", "", "HOST:PORT for /healthz (200 when connected to the leader and the region is healthy, 503 with the cause) and /metrics; e.g. 127.0.0.1:7400 (default off; loopback only with --dev)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
}

func newAgentCommand() *cobra.Command {
	f := &agentFlags{}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the agent of one AWS region",
		Long: `Run the agent of one AWS region: it holds one stream to the control-plane leader, reports
the region's health every heartbeat and its readiness checks, and executes the plan steps
the leader assigns to the region. Run one per region, in that region.

Readiness follows the stored system file: the control plane sends the system that
` + "`kirikae system apply FILE`" + ` stored right after the agent registers, and again whenever it
changes. The agent checks what that file names for its own region, in the role the file
gives it (primary or secondary): the VPC and security groups, the load balancer, every ECS
service and its target group, the database's groups and KMS key, the snapshot copies
against objectives.rpo, the cache if the region has one, the backup vault, secrets, SNS
topics, S3 replication and the DNS record in the hosted zone found by its name. Until a
system is stored the region is not ready (system.stored); a region outside the system's
pair is not ready either (system.region). Nothing about the system is configured here.

AWS credentials come from the AWS default credential chain (environment, shared config
and credentials files, SSO, the ECS task role or the EC2 instance profile); the health
probe checks them with STS GetCallerIdentity. --aws-endpoint sends every AWS call to a
simulator instead: ` + "`kirikae sim`" + ` (awssim) or moto_server.

The stream is mutual TLS. Make the certificates with ` + "`kirikae certs init`" + ` and give the agent
ca.pem and the certificate of its own region, agent-<region>.pem with agent-<region>-key.pem,
as --tls-* flags or KIRIKAE_AGENT_CA, KIRIKAE_AGENT_CERT and KIRIKAE_AGENT_KEY (never the
operator's KIRIKAE_CA/CERT/KEY): the control plane accepts an agent only for the region its
certificate names, and the agent checks that before it starts. It stops, rather than
retrying, when the control plane refuses it. Replaced certificate files are read again
when they change and on SIGHUP, without a restart (see ` + "`kirikae server --help`" + ` for rotating to a
new CA); files that would not work are refused and logged, and the agent keeps its own.

The data dir holds the highest fencing epoch the agent has seen, so that it refuses work
from a deposed leader even after a restart, the results of finished steps, so that a
result computed while the control plane was unreachable is delivered after reconnecting,
and the last system it was sent, so that a restarted agent checks readiness against it
before it reconnects.`,
		Example: `  # in each region of the system's pair, with certificates from ` + "`kirikae certs init --dir certs`" + `
  kirikae agent --region "$REGION" --data-dir /var/lib/kirikae/agent \
    --control-plane 10.0.0.1:7002,10.0.0.2:7002,10.0.0.3:7002 \
    --tls-ca certs/ca.pem --tls-cert "certs/agent-$REGION.pem" --tls-key "certs/agent-$REGION-key.pem"
  # then, once, from an admin's machine: the agents check readiness against it
  kirikae system apply system.yaml
  # against simulated AWS (` + "`kirikae sim`" + `) and ` + "`kirikae server --dev`" + `, whose certificates are in DIR
  kirikae certs init --dir DIR --reuse-ca --region "$REGION"
  kirikae agent --region "$REGION" --data-dir "/tmp/kirikae-agent-$REGION" --control-plane "$KIRIKAE_ADDR" \
    --tls-ca DIR/ca.pem --tls-cert "DIR/agent-$REGION.pem" --tls-key "DIR/agent-$REGION-key.pem" \
    --aws-endpoint http://127.0.0.1:4566 --waiter-delay 10ms`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(os.Stderr, f.logLevel)
			if err != nil {
				return err
			}
			cfg := f.cfg
			cfg.Logger = logger
			for _, a := range strings.Split(f.controlPlane, ",") {
				if a = strings.TrimSpace(a); a != "" {
					cfg.ControlPlane = append(cfg.ControlPlane, a)
				}
			}
			if cfg.Dev {
				// The env fallbacks must not turn a --dev agent into a TLS one by surprise.
				for fl, v := range map[string]*string{"tls-ca": &cfg.TLSCA, "tls-cert": &cfg.TLSCert, "tls-key": &cfg.TLSKey} {
					if !cmd.Flags().Changed(fl) {
						*v = ""
					}
				}
			}
			if err := checkAgentFlags(cfg); err != nil {
				return err
			}
			if !cfg.Dev {
				if err := checkAgentCert(cmd, cfg); err != nil {
					return err
				}
			}
			chk, err := readiness.New(cmd.Context(), readiness.Config{Region: cfg.Region, Endpoint: cfg.AWSEndpoint, Logger: logger})
			if err != nil {
				return fmt.Errorf("agent: readiness: %w", err)
			}
			cfg.Readiness = chk.Run
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			cfg.ReloadCerts = hangups(ctx)
			if err := agent.Run(ctx, cfg); errors.Is(err, agent.ErrRefused) {
				return fmt.Errorf("agent: %w; the agent needs the agent certificate of %s (spiffe://kirikae/agent/%s) from this cluster's CA", err, cfg.Region, cfg.Region)
			} else if err != nil {
				return fmt.Errorf("agent: %w", err)
			}
			return nil
		},
	}
	f.Bind(cmd.Flags())
	return cmd
}

// checkAgentFlags names the flags behind the most common mistakes; agent.Config checks the
// rest.
func checkAgentFlags(cfg agent.Config) error {
	var errs []error
	if cfg.Region == "" {
		errs = append(errs, errors.New("--region is required"))
	}
	if len(cfg.ControlPlane) == 0 {
		errs = append(errs, errors.New("--control-plane HOST:PORT[,HOST:PORT...] (or KIRIKAE_ADDR) is required"))
	}
	if cfg.DataDir == "" {
		errs = append(errs, errors.New("--data-dir is required"))
	}
	if !cfg.Dev && (cfg.TLSCA == "" || cfg.TLSCert == "" || cfg.TLSKey == "") {
		errs = append(errs, errors.New("TLS needs --tls-ca, --tls-cert and --tls-key (or KIRIKAE_AGENT_CA, KIRIKAE_AGENT_CERT, KIRIKAE_AGENT_KEY): ca.pem and this region's agent-<region>.pem and agent-<region>-key.pem from `kirikae certs init --region REGION`"))
	}
	if err := errors.Join(errs...); err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("agent: %w", err)}
	}
	return nil
}

// checkAgentCert reads the identity of the agent's certificate before anything starts: a
// certificate that is not this region's agent certificate would only be refused by the
// control plane, over and over.
func checkAgentCert(cmd *cobra.Command, cfg agent.Config) error {
	from := "KIRIKAE_AGENT_CERT (" + cfg.TLSCert + ")"
	if cmd.Flags().Changed("tls-cert") {
		from = "--tls-cert " + cfg.TLSCert
	}
	pair, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return fmt.Errorf("agent: %s with its key: %w", from, err)
	}
	want := security.Identity{Kind: security.KindAgent, Name: cfg.Region}
	got, err := security.IdentityFromCert(pair.Leaf)
	if err == nil && got == want {
		return nil
	}
	is := "has no kirikae identity (" + fmt.Sprint(err) + ")"
	if err == nil {
		is = "is " + got.String()
	}
	return &connError{fmt.Errorf("kirikae agent --region %s needs an agent certificate for %s (%s); %s %s: make one with `kirikae certs init --dir DIR --reuse-ca --region %s`",
		cfg.Region, cfg.Region, want, from, is, cfg.Region)}
}
