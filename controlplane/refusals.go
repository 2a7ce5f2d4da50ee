package controlplane

import (
	"context"
	"sort"
	"sync"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// Bounds on how refusals reach the audit log. A caller the edge refuses (a viewer calling
// region set, an agent calling an operator API) could otherwise write to the raft log as
// fast as it can send: each node proposes at most one batch of refusals a second, itemizes
// at most refusalsPerCaller of one caller's refusals a window and refusalsPerBatch in all,
// and counts the rest, by caller, in a later batch. A caller that floods the edge thus
// costs at most one raft entry a second per node, and an audit line per refusal only
// until its allowance is spent; the count it leaves is audited too.
const (
	refusalFlushEvery = time.Second
	// refusalCountsEvery is how often a batch is sent that holds only counts.
	refusalCountsEvery = 5 * time.Second
	refusalsPerBatch   = 32
	refusalsPerCaller  = 10
	refusalWindow      = time.Minute
	// refusalCallersCounted bounds the callers counted one by one; the rest share a line.
	refusalCallersCounted = 64
	refusalReasonMax      = 512
	// otherCallers is the actor of the count of callers beyond refusalCallersCounted.
	otherCallers = "(other callers)"
)

// refusalLog gathers the calls this node's edge refuses until they are proposed. It is
// safe for concurrent use; its memory is bounded whatever callers do.
type refusalLog struct {
	mu       sync.Mutex
	pending  []*kirikaev1.Refusal
	dropped  map[string]uint64
	itemized map[string]int // per caller, in the current window
	window   time.Time      // start of the current window
	counted  time.Time      // when counts were last sent
}

func newRefusalLog() *refusalLog {
	return &refusalLog{dropped: map[string]uint64{}, itemized: map[string]int{}}
}

// note records one refusal at now.
func (l *refusalLog) note(now time.Time, actor, method, reason string) {
	if len(reason) > refusalReasonMax {
		reason = reason[:refusalReasonMax] + "…"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(now)
	n, known := l.itemized[actor]
	if len(l.pending) < refusalsPerBatch && n < refusalsPerCaller && (known || len(l.itemized) < refusalCallersCounted) {
		l.itemized[actor]++
		l.pending = append(l.pending, &kirikaev1.Refusal{Actor: actor, Method: method, Reason: reason, TimeUnixNano: now.UnixNano()})
		return
	}
	l.count(actor, 1)
}

// count adds n refusals of actor that are not itemized. Callers hold mu.
func (l *refusalLog) count(actor string, n uint64) {
	if _, ok := l.dropped[actor]; !ok && len(l.dropped) >= refusalCallersCounted {
		actor = otherCallers
	}
	l.dropped[actor] += n
}

// roll starts a new window when the current one is over. Callers hold mu.
func (l *refusalLog) roll(now time.Time) {
	if now.Sub(l.window) >= refusalWindow {
		l.window = now
		clear(l.itemized)
	}
}

// take returns the next batch to propose, or nil when there is none to send at now:
// itemized refusals go at once, counts alone wait refusalCountsEvery.
func (l *refusalLog) take(now time.Time) *kirikaev1.Refusals {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(now)
	if len(l.pending) == 0 && (len(l.dropped) == 0 || now.Sub(l.counted) < refusalCountsEvery) {
		return nil
	}
	b := &kirikaev1.Refusals{Refusals: l.pending}
	l.pending = nil
	if len(l.dropped) > 0 {
		for actor, n := range l.dropped {
			b.Dropped = append(b.Dropped, &kirikaev1.RefusalCount{Actor: actor, Count: n})
		}
		sort.Slice(b.Dropped, func(i, j int) bool { return b.Dropped[i].GetActor() < b.Dropped[j].GetActor() })
		clear(l.dropped)
		l.counted = now
	}
	return b
}

// lost counts a batch that could not be proposed, so its refusals still show as a count.
func (l *refusalLog) lost(b *kirikaev1.Refusals) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range b.GetRefusals() {
		l.count(r.GetActor(), 1)
	}
	for _, c := range b.GetDropped() {
		l.count(c.GetActor(), c.GetCount())
	}
}

// auditRefusals proposes this node's refusals, a batch at most every refusalFlushEvery,
// through the leader like every other write, until ctx ends.
func (s *Server) auditRefusals(ctx context.Context, nodeID string) {
	t := time.NewTicker(refusalFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			b := s.refusals.take(now)
			if b == nil {
				continue
			}
			b.NodeId = nodeID
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, _, err := s.Propose(pctx, &kirikaev1.Command{Actor: "spiffe://kirikae/server/" + nodeID,
				Payload: &kirikaev1.Command_RecordRefusals{RecordRefusals: b}})
			cancel()
			if err != nil {
				s.log.Warn("audit refusals: kept as counts for the next batch", "err", err)
				s.refusals.lost(b)
			}
		}
	}
}
