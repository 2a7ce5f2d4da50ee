package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"
	"github.com/gofrs/flock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kirikae/kirikae/agent/action"
	agentaws "github.com/kirikae/kirikae/agent/aws"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
)

// Agent is a running agent. Make one with Start; stop it with Close.
type Agent struct {
	lock    *flock.Flock
	cfg     Config
	log     *slog.Logger
	reg     *action.Registry
	probe   HealthProbe
	creds   grpc.DialOption
	epoch   *epochStore
	results *resultStore
	undo    *undoStore

	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup // the loops
	jobsWG sync.WaitGroup // the running attempts
	closed sync.Once

	mu      sync.Mutex
	sess    *session            // the registered stream, nil while disconnected
	jobs    map[attemptKey]*job // queued or running
	queue   []*job              // waiting for a slot, oldest first
	running int                 // attempts holding a slot
	conns   map[string]*grpc.ClientConn

	health     atomic.Pointer[Health] // the latest probe result
	probed     chan struct{}          // closed after the first probe
	readyMu    sync.Mutex             // serializes readiness runs
	lastReport atomic.Pointer[kirikaev1.ReadinessReport]
	system     atomic.Pointer[heldSystem] // the latest system sent, nil before any
	iamCheck   *iamCheck                  // the IAM check of plan checks; nil without the default registry

	metrics   *agentMetrics          // metrics.go
	streamErr atomic.Pointer[string] // why the last stream ended, for /healthz
	httpLn    net.Listener           // /healthz and /metrics (http.go), nil when off
	httpSrv   *http.Server
}

// Run runs an agent until ctx is cancelled. It returns an error when the agent cannot
// start, and ErrRefused when the control plane refuses it; losing the control plane is not
// an error, the agent keeps reconnecting.
func Run(ctx context.Context, cfg Config) error {
	a, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	<-a.ctx.Done() // ctx's, or the agent's own when refused
	cause := context.Cause(a.ctx)
	if err := a.Close(); err != nil || !errors.Is(cause, ErrRefused) {
		return err
	}
	return cause
}

// Start validates cfg, opens the data dir and starts the agent in the background. The agent
// runs until ctx is cancelled or Close is called.
func Start(ctx context.Context, cfg Config) (*Agent, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	// Two agents on one data dir would each trust an epoch and results the other rewrites.
	lock := flock.New(filepath.Join(cfg.DataDir, lockFile))
	locked, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	if !locked {
		return nil, fmt.Errorf("%w: data dir %s is in use by another agent", ErrConfig, cfg.DataDir)
	}
	started := false
	defer func() {
		if !started {
			_ = lock.Unlock()
		}
	}()
	a := &Agent{
		lock:   lock,
		cfg:    cfg,
		log:    cfg.Logger.With("agent", cfg.ID, "region", cfg.Region),
		reg:    cfg.Registry,
		probe:  cfg.HealthProbe,
		jobs:   map[attemptKey]*job{},
		conns:  map[string]*grpc.ClientConn{},
		probed: make(chan struct{}),
	}
	a.metrics = newAgentMetrics(a)
	// Every AWS client the agent builds (the default executors, the health probe) counts
	// the calls that fail.
	a.cfg.AWSConfigOptions = append(slices.Clip(cfg.AWSConfigOptions), config.WithAPIOptions([]func(*middleware.Stack) error{a.metrics.countAWSErrors}))
	cfg = a.cfg
	if a.epoch, err = openEpoch(cfg.DataDir); err != nil {
		return nil, err
	}
	var warnings []error
	if a.results, warnings, err = openResults(cfg.DataDir, maxResults); err != nil {
		return nil, err
	}
	for _, w := range warnings {
		a.log.Warn("skipping a stored result", "err", w)
	}
	if a.undo, err = openUndo(cfg.DataDir); err != nil {
		return nil, err
	}
	// A system file that cannot be read costs readiness until the control plane sends the
	// system again after registered; refusing to start would cost the region its agent.
	if h, err := loadSystem(cfg.DataDir); err != nil {
		a.log.Warn("ignoring the stored system until the control plane sends it again", "err", err)
	} else if h != nil {
		a.system.Store(h)
	}
	var certs *security.CertReloader
	if cfg.Dev {
		a.creds = grpc.WithTransportCredentials(insecure.NewCredentials())
	} else {
		// Reloaded by certs.Watch below: each new connection presents the certificate of
		// the moment; the stream already open keeps the one it was made with.
		if certs, err = security.NewCertReloader(cfg.TLSCA, cfg.TLSCert, cfg.TLSKey, a.log.With("component", "tls")); err != nil {
			return nil, fmt.Errorf("agent TLS: %w", err)
		}
		a.creds = grpc.WithTransportCredentials(certs.Credentials())
	}
	a.ctx, a.cancel = context.WithCancelCause(ctx)
	if a.reg == nil {
		var clientsFor func(string) (*agentaws.Clients, error)
		if a.reg, clientsFor, err = defaultRegistry(a.ctx, cfg); err != nil {
			a.cancel(errShutdown)
			return nil, err
		}
		a.iamCheck = newIAMCheck(clientsFor, cfg.Region, a.heldSystem)
	} else if cfg.CheckIAM {
		a.iamCheck = newIAMCheck(agentaws.ClientCache(a.ctx, cfg.AWSEndpoint, agentaws.Options{ConfigOptions: cfg.AWSConfigOptions}), cfg.Region, a.heldSystem)
	}
	if a.probe == nil {
		if a.probe, err = NewAWSHealthProbe(a.ctx, cfg.Region, cfg.AWSEndpoint, a.log, cfg.AWSConfigOptions...); err != nil {
			a.cancel(errShutdown)
			return nil, err
		}
	}
	if err := a.listenHTTP(); err != nil {
		a.cancel(errShutdown)
		return nil, err
	}
	a.log.Info("agent starting", "control_plane", cfg.ControlPlane, "data_dir", cfg.DataDir,
		"highest_epoch", a.epoch.get(), "stored_results", len(a.results.unacked(timeNow())),
		"actions", len(a.reg.Names()), "max_steps", cfg.MaxSteps, "dev", cfg.Dev, "system", a.System().GetName(),
		"system_digest", a.System().GetDigest())
	if certs != nil {
		a.goLoop(func(ctx context.Context) { certs.Watch(ctx, cfg.TLSReloadEvery, cfg.ReloadCerts) })
	}
	a.goLoop(a.probeLoop)
	a.goLoop(a.readinessLoop)
	a.goLoop(a.connectLoop)
	a.serveHTTP()
	started = true
	return a, nil
}

func (a *Agent) goLoop(f func(ctx context.Context)) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f(a.ctx)
	}()
}

// ID is the agent's id as registered.
func (a *Agent) ID() string { return a.cfg.ID }

// HighestEpoch is the highest fencing epoch the agent has seen.
func (a *Agent) HighestEpoch() uint64 { return a.epoch.get() }

// Close stops the agent: it closes the stream, cancels running attempts (which then report
// nothing; see the package doc) and waits for everything to stop. It is safe to call more
// than once.
func (a *Agent) Close() error {
	var err error
	a.closed.Do(func() {
		a.cancel(errShutdown)
		herr := a.closeHTTP()
		a.wg.Wait()
		a.jobsWG.Wait()
		a.mu.Lock()
		defer a.mu.Unlock()
		errs := []error{herr}
		for addr, c := range a.conns {
			if cerr := c.Close(); cerr != nil {
				errs = append(errs, fmt.Errorf("close connection to %s: %w", addr, cerr))
			}
		}
		a.conns = nil
		if uerr := a.lock.Unlock(); uerr != nil {
			errs = append(errs, fmt.Errorf("unlock data dir: %w", uerr))
		}
		err = errors.Join(errs...)
		a.log.Info("agent stopped")
	})
	return err
}
