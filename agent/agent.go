package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/gofrs/flock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kirikae/kirikae/agent/action"
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
}

// Run runs an agent until ctx is cancelled. It returns an error only when the agent cannot
// start; losing the control plane is not an error, the agent keeps reconnecting.
func Run(ctx context.Context, cfg Config) error {
	a, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return a.Close()
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
	if cfg.Dev {
		a.creds = grpc.WithTransportCredentials(insecure.NewCredentials())
	} else {
		conf, err := security.ClientTLS(cfg.TLSCA, cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("agent TLS: %w", err)
		}
		a.creds = grpc.WithTransportCredentials(credentials.NewTLS(conf))
	}
	a.ctx, a.cancel = context.WithCancelCause(ctx)
	if a.reg == nil {
		if a.reg, err = defaultRegistry(a.ctx, cfg); err != nil {
			a.cancel(errShutdown)
			return nil, err
		}
	}
	if a.probe == nil {
		if a.probe, err = NewAWSHealthProbe(a.ctx, cfg.Region, cfg.AWSEndpoint, a.log, cfg.AWSConfigOptions...); err != nil {
			a.cancel(errShutdown)
			return nil, err
		}
	}
	a.log.Info("agent starting", "control_plane", cfg.ControlPlane, "data_dir", cfg.DataDir,
		"highest_epoch", a.epoch.get(), "stored_results", len(a.results.unacked(timeNow())),
		"actions", len(a.reg.Names()), "max_steps", cfg.MaxSteps, "dev", cfg.Dev)
	a.goLoop(a.probeLoop)
	a.goLoop(a.readinessLoop)
	a.goLoop(a.connectLoop)
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
		a.wg.Wait()
		a.jobsWG.Wait()
		a.mu.Lock()
		defer a.mu.Unlock()
		var errs []error
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
