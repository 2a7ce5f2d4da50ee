package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kirikae/kirikae/agent"
	"github.com/kirikae/kirikae/agent/readiness"
)

func init() { register(newAgentCommand) }

type agentFlags struct {
	cfg          agent.Config
	controlPlane string
	logLevel     string
	role         string
	primary      string
}

func (f *agentFlags) Bind(fs *pflag.FlagSet) {
	c := &f.cfg
	fs.StringVar(&c.Region, "region", "", "the AWS region this agent works in (required); its certificate must name the same region")
	fs.StringVar(&f.controlPlane, "control-plane", os.Getenv("KIRIKAE_ADDR"), "control-plane gRPC addresses, comma-separated; any node will do, followers point to the leader (env KIRIKAE_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", "", "where the agent keeps its fencing epoch and step results (required); keep it across restarts")
	fs.StringVar(&c.ID, "id", "", "this agent's id (default <region>/<hostname>)")
	fs.StringVar(&c.AWSEndpoint, "aws-endpoint", "", "send every AWS call here instead of AWS, e.g. http://127.0.0.1:4566 for kirikae sim or a moto_server")
	fs.StringVar(&c.TLSCA, "tls-ca", os.Getenv("KIRIKAE_CA"), "CA certificate from kirikae certs init (env KIRIKAE_CA)")
	fs.StringVar(&c.TLSCert, "tls-cert", os.Getenv("KIRIKAE_CERT"), "this region's agent certificate, agent-<region>.pem (env KIRIKAE_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", os.Getenv("KIRIKAE_KEY"), "its key, agent-<region>-key.pem (env KIRIKAE_KEY)")
	fs.BoolVar(&c.Dev, "dev", false, "plaintext, for a --dev control plane; every control-plane address must be loopback")
	fs.IntVar(&c.MaxSteps, "max-steps", agent.DefaultMaxSteps, "steps that may run at once; more wait in a queue")
	fs.DurationVar(&c.HeartbeatInterval, "heartbeat", agent.DefaultHeartbeatInterval, "heartbeat and health-probe period (the control plane may ask for another heartbeat period)")
	fs.DurationVar(&c.ReadinessInterval, "readiness-interval", agent.DefaultReadinessInterval, "how often the readiness checks run (the control plane can also ask at any time)")
	fs.DurationVar(&c.WaiterDelay, "waiter-delay", 0, "poll delay of the AWS waiters (default: the SDK's); a few ms against kirikae sim with a small --time-scale")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.role, "role", "", "readiness role of this region: primary or dr (default: primary for --primary-region, dr otherwise)")
	fs.StringVar(&f.primary, "primary-region", "us-east-1", "the production region, for the readiness checks")
}

func newAgentCommand() *cobra.Command {
	f := &agentFlags{}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the agent of one AWS region",
		Long: `Run the agent of one AWS region: it holds one stream to the control-plane leader, reports
the region's health every heartbeat and its readiness checks, and executes the plan steps
the leader assigns to the region. Run one per region, in that region.

AWS credentials come from the AWS default credential chain (environment, shared config
and credentials files, SSO, the ECS task role or the EC2 instance profile); the health
probe checks them with STS GetCallerIdentity. --aws-endpoint sends every AWS call to a
simulator instead: ` + "`kirikae sim`" + ` (awssim) or moto_server.

The stream is mutual TLS. Make the certificates with ` + "`kirikae certs init`" + ` and give the agent
ca.pem and the certificate of its own region, agent-<region>.pem with agent-<region>-key.pem:
the control plane accepts an agent only for the region its certificate names. --dev talks
plaintext to a --dev control plane on loopback.

The data dir holds the highest fencing epoch the agent has seen, so that it refuses work
from a deposed leader even after a restart, and the results of finished steps, so that a
result computed while the control plane was unreachable is delivered after reconnecting.`,
		Example: `  # in us-west-2, with certificates from ` + "`kirikae certs init --dir certs`" + `
  kirikae agent --region us-west-2 --data-dir /var/lib/kirikae/agent \
    --control-plane 10.0.0.1:7002,10.0.0.2:7002,10.0.0.3:7002 \
    --tls-ca certs/ca.pem --tls-cert certs/agent-us-west-2.pem --tls-key certs/agent-us-west-2-key.pem
  # against simulated AWS and a dev control plane on this machine
  kirikae sim --fixture kaigo --time-scale 0.001 &
  kirikae agent --dev --region us-west-2 --data-dir /tmp/kirikae-agent-west \
    --control-plane 127.0.0.1:7002 --aws-endpoint http://127.0.0.1:4566 --waiter-delay 10ms`,
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
			chk, err := readiness.New(cmd.Context(), readiness.Config{
				Region: cfg.Region, Role: readiness.Role(f.role), PrimaryRegion: f.primary, Endpoint: cfg.AWSEndpoint, Logger: logger,
			})
			if err != nil {
				return fmt.Errorf("agent: readiness: %w", err)
			}
			cfg.Readiness = chk.Run
			if err := agent.Run(cmd.Context(), cfg); err != nil {
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
		errs = append(errs, errors.New("TLS needs --tls-ca, --tls-cert and --tls-key (or KIRIKAE_CA, KIRIKAE_CERT, KIRIKAE_KEY); --dev talks plaintext to a control plane on loopback"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	return nil
}
