package awssim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/kirikae/kirikae/system"
)

// Duration keys for Options.Durations. They are operation names, plus two pseudo-operations
// for the transitions no call starts directly (targets turning healthy, a DNS change going
// INSYNC is keyed by ChangeResourceRecordSets).
const (
	OpRestoreFromSnapshot    = "RestoreDBInstanceFromDBSnapshot"
	OpRestorePointInTime     = "RestoreDBInstanceToPointInTime"
	OpCreateDBSnapshot       = "CreateDBSnapshot"
	OpCopyDBSnapshot         = "CopyDBSnapshot"
	OpDeleteDBInstance       = "DeleteDBInstance"
	OpStopDBInstance         = "StopDBInstance"
	OpStartDBInstance        = "StartDBInstance"
	OpCreateReplicationGroup = "CreateReplicationGroup"
	OpDeleteReplicationGroup = "DeleteReplicationGroup"
	OpStartRestoreJob        = "StartRestoreJob"
	OpUpdateService          = "UpdateService"
	OpTargetHealthy          = "TargetHealthy"
	OpChangeRecordSets       = "ChangeResourceRecordSets"
)

// DefaultDurations returns the AWS-time duration of each transition, keyed by operation: a
// fresh copy, so callers cannot change another simulator's defaults.
func DefaultDurations() map[string]time.Duration { return maps.Clone(defaultDurations) }

// defaultDurations: the first seven come from the seed runbook's 所要時間; the rest are
// typical AWS figures the seed does not give.
var defaultDurations = map[string]time.Duration{
	OpRestoreFromSnapshot:    45 * time.Minute,
	OpRestorePointInTime:     45 * time.Minute,
	OpCreateReplicationGroup: 15 * time.Minute,
	OpStartRestoreJob:        30 * time.Minute,
	OpUpdateService:          10 * time.Minute,
	OpTargetHealthy:          2 * time.Minute,
	OpChangeRecordSets:       1 * time.Minute,
	OpCopyDBSnapshot:         20 * time.Minute,
	OpCreateDBSnapshot:       10 * time.Minute,
	OpDeleteDBInstance:       10 * time.Minute,
	OpStopDBInstance:         5 * time.Minute,
	OpStartDBInstance:        5 * time.Minute,
	OpDeleteReplicationGroup: 5 * time.Minute,
}

// Regions returns the regions of the default system, the bundled kaigo one, primary
// first: the regions of the kaigo fixtures and of the empty world. A simulator built from
// another system serves that system's; Sim.Regions says which.
func Regions() []string {
	p, s := defaultPair()
	return []string{p, s}
}

// Options configures a Sim. The zero value is a valid, empty simulator at real time.
type Options struct {
	// TimeScale multiplies every duration: 0.001 turns a 45 min restore into 2.7 s.
	// Zero means 1 (real AWS time).
	TimeScale float64
	// Durations overrides DefaultDurations per operation (AWS time, before TimeScale).
	Durations map[string]time.Duration
	// System, when set, is the system whose peacetime world the simulator starts with
	// (see buildSystem in build.go): its two regions, its account, and every resource its
	// file names, by those names. Requests for another region are refused.
	System *system.System
	// Fixture names the starting state: "" (System's peacetime world, or with no System
	// an empty world in the default system's regions), "outage" (the same peacetime world
	// with an open AWS Health event in the primary region, the starting point of a
	// failover demo or drill), or "kaigo" and "kaigo-outage", the two of the bundled kaigo
	// system (deploy/systems/kaigo.yaml), which no System may be given with.
	Fixture string
	// Logger receives one debug line per request. Nil discards.
	Logger *slog.Logger
	// Now is the clock. Nil means time.Now. Tests inject a fake to step time by hand.
	Now func() time.Time
	// Seed makes fault injection (error and throttle rates) repeatable.
	Seed uint64
	// StateFile, if set, is loaded at New (when it exists) and written on every mutation and
	// at Close, so the simulated world survives a restart.
	StateFile string
	// Credentials are the access key pairs the simulator issues: only requests signed
	// (SigV4) with one of them are served. Empty means New issues one random pair, or keeps
	// the pair recorded in StateFile, so agents keep working across a restart.
	Credentials []Credential
}

// Credential is an access key pair the simulator accepts.
type Credential struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

// Sim is the simulator. All methods are safe for concurrent use; one mutex guards the
// whole world, which is plenty for a test double.
type Sim struct {
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	scale  float64
	durs   map[string]time.Duration
	mu     sync.Mutex
	st     *world
	faults faultSet
	rng    *rand.Rand

	// closing is closed by Close so hung requests are released.
	closing   chan struct{}
	closeOnce sync.Once
	srv       *http.Server
	ln        net.Listener

	// creds are the issued key pairs, by access key id; fixed at New.
	creds map[string]Credential
	order []Credential
	// iam is the IAM enforcement, off until SetIAM (iam.go).
	iam iamState
}

// New builds a simulator. It fails only on an unknown fixture or an unreadable state file.
// A state file, when it exists, holds the world and wins over System and Fixture, which
// Reset goes back to.
func New(opts Options) (*Sim, error) {
	s := &Sim{
		opts:    opts,
		log:     opts.Logger,
		now:     opts.Now,
		scale:   opts.TimeScale,
		durs:    map[string]time.Duration{},
		closing: make(chan struct{}),
		rng:     rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.scale <= 0 {
		s.scale = 1
	}
	for k, v := range defaultDurations {
		s.durs[k] = v
	}
	for k, v := range opts.Durations {
		s.durs[k] = v
	}
	creds := opts.Credentials
	if opts.StateFile != "" {
		w, err := loadWorld(opts.StateFile)
		if err != nil {
			return nil, err
		}
		if w != nil {
			s.st = w
			if len(creds) == 0 {
				creds = w.Credentials
			}
		}
	}
	if err := s.issue(creds); err != nil {
		return nil, err
	}
	if s.st != nil {
		return s, nil
	}
	if err := s.resetLocked(); err != nil {
		return nil, err
	}
	return s, nil
}

// issue records the key pairs the simulator accepts, or draws a fresh random pair.
func (s *Sim) issue(creds []Credential) error {
	if len(creds) == 0 {
		creds = []Credential{newCredential()}
	}
	s.creds = map[string]Credential{}
	for i, c := range creds {
		if err := c.validate(); err != nil {
			return fmt.Errorf("awssim: credential %d: %w", i+1, err)
		}
		if _, dup := s.creds[c.AccessKeyID]; dup {
			return fmt.Errorf("awssim: credential %d: access key id %s is given twice", i+1, c.AccessKeyID)
		}
		s.creds[c.AccessKeyID] = c
		s.order = append(s.order, c)
	}
	return nil
}

// Credentials returns the key pairs the simulator accepts, the first one first.
func (s *Sim) Credentials() []Credential { return slices.Clone(s.order) }

// Errors of the Go API. Test with errors.Is; they are wrapped with detail.
var (
	// ErrUnknownFixture is returned by New for a fixture name it does not know.
	ErrUnknownFixture = errors.New("awssim: unknown fixture")
	// ErrBadMode is returned by SetRegionDown for a mode other than DownRefuse or DownHang.
	ErrBadMode = errors.New("awssim: unknown region-down mode")
)

// FixtureRegions is the region pair a fixture of the bundled kaigo system builds, primary
// first. The empty fixture holds nothing and fits any pair (ok is false for it). A
// simulator built from a system file serves that system's pair: see Sim.Regions.
func FixtureRegions(fixture string) (primary, secondary string, ok bool, err error) {
	switch fixture {
	case "":
		return "", "", false, nil
	case "kaigo", "kaigo-outage", "outage":
		primary, secondary = defaultPair()
		return primary, secondary, true, nil
	}
	return "", "", false, fmt.Errorf("%w %q (known: kaigo, kaigo-outage, outage)", ErrUnknownFixture, fixture)
}

// startingSystem is the system the options build and whether its primary has an outage;
// nil for the empty world.
func (o *Options) startingSystem() (*system.System, bool, error) {
	switch o.Fixture {
	case "":
		return o.System, false, nil
	case "outage":
		if o.System != nil {
			return o.System, true, nil
		}
		return mustKaigo(), true, nil
	case "kaigo", "kaigo-outage":
		if o.System != nil {
			return nil, false, fmt.Errorf(`%w %q: it is the bundled kaigo system's, and Options.System gives %s; with a System the fixture is "" or "outage"`,
				ErrUnknownFixture, o.Fixture, o.System.Name)
		}
		return mustKaigo(), o.Fixture == "kaigo-outage", nil
	}
	return nil, false, fmt.Errorf("%w %q (known: kaigo, kaigo-outage, outage)", ErrUnknownFixture, o.Fixture)
}

func (s *Sim) resetLocked() error {
	sys, outage, err := s.opts.startingSystem()
	if err != nil {
		return err
	}
	s.faults = faultSet{}
	if sys == nil {
		p, q := defaultPair()
		s.st = newWorld([]string{p, q}, AccountID)
		return nil
	}
	now := s.now()
	s.st = newWorld(systemPair(sys), systemAccount(sys))
	buildSystem(s.st, sys, now)
	if outage {
		// AWS Health reporting the outage the runbook's step 1 looks for.
		primary := s.st.Pair[0]
		s.st.Health = append(s.st.Health, &HealthEvent{
			ARN:     "arn:aws:health:" + primary + "::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/AWS_EC2_OPERATIONAL_ISSUE_SIM_OUTAGE",
			Service: "EC2", TypeCode: "AWS_EC2_OPERATIONAL_ISSUE", Category: "issue", Region: primary,
			Start: now.Add(-30 * time.Minute)})
	}
	return nil
}

// Regions is the world's region pair, the primary first: the only regions it serves.
func (s *Sim) Regions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.Pair)
}

// Account is the account in every ARN of the world.
func (s *Sim) Account() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Account
}

// SystemName is the name of the system the world was built from, or "" for the empty world.
func (s *Sim) SystemName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.System
}

// Reset returns the world to the fixture's starting state and clears faults and the journal.
func (s *Sim) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resetLocked()
}

// dur is the wall-clock length of op's transition: the AWS duration times the time scale,
// times any slow-down fault.
func (s *Sim) dur(service, op string) time.Duration {
	d := s.durs[op]
	f := s.faults.slowFactor(service, op)
	return time.Duration(float64(d) * s.scale * f)
}

// Start serves the simulator on addr (for example "127.0.0.1:0") until ctx ends or Close is
// called. It returns once the listener is bound; Addr reports the bound address.
func (s *Sim) Start(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("awssim: listen %s: %w", addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("awssim: serve", "err", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.closing:
		}
	}()
	return nil
}

// Addr is the bound listen address after Start, or "" before.
func (s *Sim) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops the server started by Start, releases hung requests and saves the state file.
func (s *Sim) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closing)
		if s.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if e := s.srv.Shutdown(ctx); e != nil {
				_ = s.srv.Close()
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		err = s.saveLocked()
	})
	return err
}

// Journal returns a copy of every mutating call so far, oldest first.
func (s *Sim) Journal() []JournalEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]JournalEntry(nil), s.st.Journal...)
}

// Now is the simulator's clock, for callers that compare ages with the simulated world.
func (s *Sim) Now() time.Time { return s.now() }

// Published returns the SNS messages published so far, oldest first.
func (s *Sim) Published() []SNSMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SNSMessage(nil), s.st.Messages...)
}

// JournalEntry is one mutating call that succeeded.
type JournalEntry struct {
	Time      time.Time `json:"time"`
	Region    string    `json:"region"`
	Service   string    `json:"service"`
	Operation string    `json:"operation"`
	Resource  string    `json:"resource"`
}
