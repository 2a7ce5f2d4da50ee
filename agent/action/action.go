package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/kirikae/kirikae/catalog"
)

// Errors an executor wraps so callers can classify failures with errors.Is.
var (
	// ErrInvalidInput means a step's `with` is missing an input or has one of the wrong
	// shape. Retrying the same step cannot succeed.
	ErrInvalidInput = catalog.ErrInvalidInput
	// ErrGuardRail means an executor refused to act because a safety condition did not
	// hold (no verified copy before a delete, a snapshot older than the RPO ...). The
	// message says which condition and how to override it, when that is possible.
	ErrGuardRail = errors.New("guard rail")
	// ErrCheckFailed means a verification ran and its result was wrong: an http.check over
	// its limits, a DNS answer that does not point at the target, a missing network piece.
	ErrCheckFailed = errors.New("check failed")
	// ErrUnknownAction is returned by Registry.Execute for a name nobody registered.
	ErrUnknownAction = errors.New("unknown action")
)

// Decode decodes a step's inputs into its action's typed inputs (catalog.Def.Decode): an
// input that is missing, unknown or of the wrong shape is an error wrapping
// ErrInvalidInput that names it.
func Decode[In, Out any](s Step, def *catalog.Def[In, Out]) (In, error) {
	b, err := json.Marshal(s.With)
	if err != nil {
		var zero In
		return zero, fmt.Errorf("%w: with: %v", ErrInvalidInput, err)
	}
	return def.Decode(b)
}

// OutputsError is a failure that carries what the step learned before it failed: a
// restore that refuses a snapshot as too old names the snapshot and its age. The agent
// reports them with the failure, for reports and the tabletop; no later step reads them.
type OutputsError struct {
	Err     error
	Outputs map[string]any
}

func (e *OutputsError) Error() string { return e.Err.Error() }
func (e *OutputsError) Unwrap() error { return e.Err }

// WithOutputs attaches outputs to err; nil stays nil.
func WithOutputs(err error, outputs map[string]any) error {
	if err == nil {
		return nil
	}
	return &OutputsError{Err: err, Outputs: outputs}
}

// Step is one assignment as the agent receives it from the control plane.
type Step struct {
	RunID   string
	StepID  string
	Attempt uint32
	Epoch   uint64
	Action  string
	Region  string
	With    map[string]any
	// OwnerRuns are the earlier runs whose resources the control plane has passed to this
	// run: a drill that a real failover preempted hands over what it created (DESIGN,
	// "Invariants the server enforces": what the drill created passes to the real run).
	// An executor may adopt what one of these runs created as it adopts this run's own work;
	// whatever another run created, or nobody recorded creating, it refuses. Empty means
	// this run owns only what it created itself.
	OwnerRuns []string
	// Undo receives the undo steps of what this attempt creates or changes (see Undo). The
	// runtime sets it for every attempt; it may be nil, and then recording is a no-op.
	Undo *UndoLog
}

// Key identifies the step across attempts: executors derive idempotency tokens from it, so
// a re-dispatch (a new attempt) still finds the work of the earlier one.
func (s Step) Key() string { return s.RunID + "/" + s.StepID }

// Owns reports whether run, the run a resource's kirikae tags name, is this step's run or
// one of its OwnerRuns. The empty run (a resource kirikae did not tag) is never owned.
func (s Step) Owns(run string) bool {
	return run != "" && (run == s.RunID || slices.Contains(s.OwnerRuns, run))
}

// ProgressFunc receives a one-line status while a step runs, for example
// "RDS kaigo-subsys-dr: creating (12m elapsed)".
type ProgressFunc func(status string)

// Report calls p if it is not nil.
func (p ProgressFunc) Report(status string) {
	if p != nil {
		p(status)
	}
}

// Executor runs one action. See the package doc for the contract.
type Executor interface {
	Execute(ctx context.Context, step Step, progress ProgressFunc) (map[string]any, error)
}

// ExecutorFunc adapts a function to Executor.
type ExecutorFunc func(ctx context.Context, step Step, progress ProgressFunc) (map[string]any, error)

// Execute calls f.
func (f ExecutorFunc) Execute(ctx context.Context, step Step, progress ProgressFunc) (map[string]any, error) {
	return f(ctx, step, progress)
}

// Registry maps action names to executors, and to the read-only checkers plan evaluation
// runs before a run (RegisterCheck, Check). It is safe for concurrent use; registration
// normally happens once at start-up.
type Registry struct {
	mu     sync.RWMutex
	m      map[string]Executor
	checks map[string]Checker // see check.go
}

// NewRegistry returns an empty registry. The zero Registry is usable too.
func NewRegistry() *Registry { return &Registry{} }

// Register adds or replaces the executor for name.
func (r *Registry) Register(name string, e Executor) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]Executor{}
	}
	r.m[name] = e
}

// Lookup returns the executor for name.
func (r *Registry) Lookup(name string) (Executor, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.m[name]
	return e, ok
}

// Names lists the registered action names, sorted; the agent reports them as capabilities.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.m))
	for n := range r.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Execute looks up step.Action and runs it.
func (r *Registry) Execute(ctx context.Context, step Step, progress ProgressFunc) (map[string]any, error) {
	e, ok := r.Lookup(step.Action)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownAction, step.Action)
	}
	return e.Execute(ctx, step, progress)
}
