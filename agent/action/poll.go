package action

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/kirikae/kirikae/human"
)

// Backoff is the delay schedule of Poll: it starts at Min, doubles up to Max, with jitter.
type Backoff struct {
	Min, Max time.Duration
}

// Poll calls check until it reports done, it returns an error, or ctx ends. Between calls
// it waits with exponential backoff and jitter, as the SDK's waiters do. It is for the
// operations that have no SDK waiter (Backup restore jobs, RDS "stopped", Secrets Manager).
func Poll(ctx context.Context, b Backoff, check func(ctx context.Context) (done bool, err error)) error {
	if b.Min <= 0 {
		b.Min = time.Second
	}
	if b.Max < b.Min {
		b.Max = b.Min
	}
	delay := b.Min
	for {
		done, err := check(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		wait := delay
		if half := int64(delay / 2); half > 0 {
			wait = delay/2 + time.Duration(rand.Int64N(half+1))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("cancelled while waiting: %w", ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, b.Max)
	}
}

// Token derives a stable idempotency token from the step's run and step ids and any extra
// parts, as 32 hex digits (or a UUID-shaped string with UUID true). The attempt is left
// out on purpose: a re-dispatch must find the earlier attempt's work.
func Token(s Step, uuid bool, parts ...string) string {
	h := sha256.New()
	for _, p := range append([]string{"kirikae", s.RunID, s.StepID}, parts...) {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	x := hex.EncodeToString(h.Sum(nil))[:32]
	if !uuid {
		return x
	}
	return x[0:8] + "-" + x[8:12] + "-4" + x[13:16] + "-8" + x[17:20] + "-" + x[20:32]
}

// Tracker formats progress lines with the time elapsed since it was made:
// "RDS kaigo-subsys-dr: creating (12m elapsed)".
type Tracker struct {
	progress ProgressFunc
	label    string
	now      func() time.Time
	start    time.Time
}

// NewTracker starts a tracker for one resource. now may be nil (time.Now).
func NewTracker(progress ProgressFunc, label string, now func() time.Time) *Tracker {
	if now == nil {
		now = time.Now
	}
	return &Tracker{progress: progress, label: label, now: now, start: now()}
}

// Report sends "label: status (Xm elapsed)".
func (t *Tracker) Report(status string) {
	if t == nil || t.progress == nil {
		return
	}
	t.progress(fmt.Sprintf("%s: %s (%s elapsed)", t.label, status, human.Duration(t.now().Sub(t.start))))
}
