package action

import (
	"reflect"
	"slices"
	"sync"
)

// Undo is one catalog action that reverses one change an attempt made, for the teardown of
// a partial drill: the control plane keeps the undo steps of every attempt of a step and
// later runs them, newest first, as ordinary steps. With must be fully resolved (concrete
// ids, no ${...}) and hold only the output types (strings, int64, float64, bool, []any,
// map[string]any). Note says in one line what is undone, e.g. "delete DB instance
// kaigo-subsys-dr (restored by this run)".
type Undo struct {
	Action string
	With   map[string]any
	Note   string
}

// UndoLog collects the undo steps of one attempt. The runtime gives every attempt its own
// log in Step.Undo and reports what it holds with the attempt's result, whether the attempt
// succeeded, failed, timed out, was cancelled or panicked. It is safe for concurrent use,
// and a nil *UndoLog accepts and drops everything (an executor run outside the runtime).
type UndoLog struct {
	mu    sync.Mutex
	steps []Undo
	onAdd func([]Undo)
}

// NewUndoLog returns a log that holds initial (the undo steps of an earlier attempt of the
// same step that produced no result) and calls onAdd, when not nil, with every step
// recorded so far each time a new one is added, before Add returns: the runtime keeps them
// on disk there, so neither a crash nor a shutdown in the middle of a step loses them.
func NewUndoLog(initial []Undo, onAdd func([]Undo)) *UndoLog {
	l := &UndoLog{}
	for _, u := range initial {
		l.Add(u)
	}
	l.onAdd = onAdd
	return l
}

// Add records u. An executor calls it right after the call that created or changed
// something has succeeded, before it waits for anything, so a later failure of the same
// attempt does not lose it. Only what the attempt itself did is recorded: a resource that
// was already there and is adopted has no undo. Adding the same action with equal inputs
// again is a no-op, so an executor may record from a loop or a waiter's callback.
func (l *UndoLog) Add(u Undo) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if slices.ContainsFunc(l.steps, func(h Undo) bool { return h.Action == u.Action && reflect.DeepEqual(h.With, u.With) }) {
		return
	}
	l.steps = append(l.steps, u)
	if l.onAdd != nil {
		l.onAdd(slices.Clone(l.steps))
	}
}

// Steps returns the recorded undo steps in the order they were added (the teardown runs
// them in reverse).
func (l *UndoLog) Steps() []Undo {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.steps)
}
