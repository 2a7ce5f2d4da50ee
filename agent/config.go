package agent

import (
	"context"
	"errors"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/config"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/buildinfo"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
	"github.com/kirikae/kirikae/system"
)

// Defaults for the zero fields of Config.
const (
	DefaultMaxSteps          = 8
	DefaultHeartbeatInterval = time.Second
	DefaultReadinessInterval = 5 * time.Minute
	DefaultReadinessTimeout  = time.Minute
	DefaultReconnectMin      = 100 * time.Millisecond
	DefaultReconnectMax      = 5 * time.Second
)

// ReadinessFunc runs the agent's readiness checks against sys, the system the control plane
// last sent (kept in DataDir across restarts), or nil when it has sent none: the checks
// then say that no system is stored. It is called every ReadinessInterval, whenever the
// control plane asks, and whenever a new system arrives; calls never overlap. It should
// honour ctx, which carries Config.ReadinessTimeout.
type ReadinessFunc func(ctx context.Context, sys *system.System) []*kirikaev1.ReadinessCheck

// Health is what one run of a HealthProbe found. The agent is healthy when both
// CredentialsOK and APIReachable hold.
type Health struct {
	// CredentialsOK: the credentials were verified (STS GetCallerIdentity answered).
	CredentialsOK bool
	// APIReachable: a cheap call to the region's API answered.
	APIReachable bool
	// OpenHealthEvents counts open AWS Health events for the region.
	OpenHealthEvents int
	// Cause names what is wrong, e.g. "sts GetCallerIdentity: ... connection refused".
	Cause string
}

// Healthy reports whether the agent can do work in its region.
func (h Health) Healthy() bool { return h.CredentialsOK && h.APIReachable }

// HealthProbe checks the agent's region. It is called once per heartbeat interval with a
// context that expires after Config.HealthTimeout; a probe that does not return by then is
// reported as unhealthy, and no new probe starts until it returns.
type HealthProbe func(ctx context.Context) Health

// Config configures an agent. Region, ControlPlane, DataDir and either Dev or the three
// TLS files are required; every other zero field takes the default written on it.
type Config struct {
	// ID is unique per agent process; default "<region>/<hostname>".
	ID string
	// Region is the AWS region this agent serves; its certificate must name the same one.
	Region string
	// ControlPlane lists control-plane gRPC addresses (host:port), tried in turn.
	ControlPlane []string
	// DataDir holds the highest epoch seen, the results of finished steps and the last
	// system the control plane sent.
	DataDir string
	// AWSEndpoint, when set, points every AWS client at it (awssim, moto_server).
	AWSEndpoint string
	// AWSConfigOptions are extra options for every AWS client the agent builds (its health
	// probe and the default registry's executors): static credentials for a simulator,
	// for instance. Empty means the AWS default credential chain alone.
	AWSConfigOptions []func(*config.LoadOptions) error
	// TLSCA, TLSCert and TLSKey are the CA and this region's agent certificate
	// (agent-<region>.pem from `kirikae certs init`).
	TLSCA, TLSCert, TLSKey string
	// TLSReloadEvery is how often the TLS files are checked for changes, which the next
	// connection then presents without a restart; 0 checks only on ReloadCerts.
	TLSReloadEvery time.Duration
	// ReloadCerts reloads the TLS files at each receive, changed or not (SIGHUP).
	ReloadCerts <-chan struct{}
	// Dev speaks plaintext to control-plane addresses on loopback only.
	Dev bool
	// MaxSteps bounds the attempts that run at once; default 8. More wait in a queue.
	MaxSteps int
	// HeartbeatInterval is the default heartbeat period, and the period of the health
	// probe; default 1 s. The server's registered.heartbeat_interval_ms overrides the
	// heartbeat period of its stream.
	HeartbeatInterval time.Duration
	// HealthTimeout bounds one run of the health probe; default three quarters of
	// HeartbeatInterval, at most HeartbeatInterval. A region that hangs is reported
	// unhealthy by the second or third heartbeat.
	HealthTimeout time.Duration
	// ReadinessInterval is the period of the readiness checks; default 5 min.
	ReadinessInterval time.Duration
	// ReadinessTimeout bounds one run of the readiness checks; default 1 min.
	ReadinessTimeout time.Duration
	// ReconnectMin and ReconnectMax bound the jittered exponential backoff between
	// connection attempts; default 100 ms and 5 s.
	ReconnectMin, ReconnectMax time.Duration
	// WaiterDelay is the poll delay of the AWS executors' waiters when the registry is
	// built here; zero means the SDK-like defaults. Simulations use a few milliseconds.
	WaiterDelay time.Duration
	// Registry holds the executors; nil builds one with every AWS action (agent/aws) and
	// the built-in ones (agent/action).
	Registry *action.Registry
	// CheckIAM turns on, with a Registry handed in, the IAM check of plan checks
	// (iamcheck.go), over clients built from AWSEndpoint and AWSConfigOptions as the default
	// registry's are. With the default registry it is always on; a registry of fakes has no
	// AWS to ask.
	CheckIAM bool
	// Readiness runs the readiness checks; nil sends empty reports on request only.
	Readiness ReadinessFunc
	// HealthProbe checks the region; nil probes AWS (STS, EC2, AWS Health).
	HealthProbe HealthProbe
	// HTTPAddr, when set, serves /healthz and /metrics on HOST:PORT (port 0 picks one;
	// Agent.HTTPAddr says which); empty serves nothing. Dev mode allows loopback only.
	HTTPAddr string
	// Version is reported at registration; default the binary's buildinfo.String(), the
	// version `kirikae version` prints with its commit.
	Version string
	// Logger receives the agent's logs; nil discards them.
	Logger *slog.Logger
}

// withDefaults validates c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if err := security.ValidateRegion(c.Region); err != nil {
		errs = append(errs, fmt.Errorf("region: %w", err))
	}
	var addrs []string
	for _, a := range c.ControlPlane {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	c.ControlPlane = addrs
	if len(addrs) == 0 {
		errs = append(errs, errors.New("no control-plane address"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("no data dir: the agent keeps its fencing epoch and step results there"))
	}
	tlsGiven := c.TLSCA != "" || c.TLSCert != "" || c.TLSKey != ""
	switch {
	case c.Dev && tlsGiven:
		errs = append(errs, errors.New("dev mode is plaintext: give either dev or the TLS files, not both"))
	case c.Dev:
		for _, a := range addrs {
			if err := security.RequireLoopback(a); err != nil {
				errs = append(errs, fmt.Errorf("dev mode: control-plane address: %w", err))
			}
		}
	case c.TLSCA == "" || c.TLSCert == "" || c.TLSKey == "":
		errs = append(errs, errors.New("TLS needs the CA, the agent certificate and its key together (or dev mode on loopback)"))
	}
	if c.Dev && c.HTTPAddr != "" {
		if err := security.RequireLoopback(c.HTTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("dev mode: http addr: %w", err))
		}
	}
	if c.MaxSteps < 0 {
		errs = append(errs, fmt.Errorf("max steps %d: must not be negative", c.MaxSteps))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"heartbeat interval", c.HeartbeatInterval}, {"health timeout", c.HealthTimeout},
		{"readiness interval", c.ReadinessInterval}, {"readiness timeout", c.ReadinessTimeout},
		{"reconnect min", c.ReconnectMin}, {"reconnect max", c.ReconnectMax}, {"waiter delay", c.WaiterDelay},
		{"tls reload every", c.TLSReloadEvery},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s %s: must not be negative", d.name, d.v))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("%w: %w", ErrConfig, err)
	}

	if c.ID == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "agent"
		}
		c.ID = c.Region + "/" + host
	}
	if c.MaxSteps == 0 {
		c.MaxSteps = DefaultMaxSteps
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.HealthTimeout == 0 {
		c.HealthTimeout = c.HeartbeatInterval * 3 / 4
	}
	c.HealthTimeout = min(c.HealthTimeout, c.HeartbeatInterval)
	if c.ReadinessInterval == 0 {
		c.ReadinessInterval = DefaultReadinessInterval
	}
	if c.ReadinessTimeout == 0 {
		c.ReadinessTimeout = DefaultReadinessTimeout
	}
	if c.ReconnectMin == 0 {
		c.ReconnectMin = DefaultReconnectMin
	}
	if c.ReconnectMax == 0 {
		c.ReconnectMax = DefaultReconnectMax
	}
	if c.ReconnectMax < c.ReconnectMin {
		c.ReconnectMax = c.ReconnectMin
	}
	if c.Version == "" {
		c.Version = buildinfo.String()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
