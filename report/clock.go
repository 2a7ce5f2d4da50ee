package report

import (
	"cmp"
	"slices"
	"time"

	"github.com/kirikae/kirikae/catalog"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// span is a stretch of wall time, in Unix nanoseconds, from inclusive to exclusive.
type span struct{ from, to int64 }

// planClock converts the runs' wall times to offsets in plan time. Wall time is divided
// by the time scale, except in the stretches where people alone kept the runs waiting:
// an approval or a checklist step of a run with real participants was waiting and no
// other step was running. People answer in real time whatever the scale of simulated
// AWS, so those stretches count as they are. Where a wait overlaps a running step, the
// step's (scaled) time is what the plan is waiting on, and it wins.
//
// The conversion is continuous and increasing, so the order of events is kept.
type planClock struct {
	anchor int64
	scale  float64
	real   []span // counted as real time: sorted, disjoint
}

// newPlanClock builds the clock of runs from anchor. A step still going ends at its run's
// end, or at now while the run goes on. simulated says whether a run's people were
// simulated at the time scale (a tabletop's), whose waits are then plan time too.
func newPlanClock(anchor int64, scale float64, runs []*kirikaev1.Run, simulated func(*kirikaev1.Run) bool, now int64) *planClock {
	c := &planClock{anchor: anchor, scale: scale}
	if scale == 1 {
		return c
	}
	var waits, busy []span
	for _, run := range runs {
		for _, st := range run.GetSteps() {
			from, to := st.GetStartedUnixNano(), st.GetFinishedUnixNano()
			if from == 0 {
				continue
			}
			if to == 0 {
				to = run.GetFinishedUnixNano()
			}
			if to == 0 {
				to = now
			}
			if to <= from {
				continue
			}
			switch {
			case !humanAction(st.GetSpec().GetAction()):
				busy = append(busy, span{from, to})
			case !simulated(run):
				waits = append(waits, span{from, to})
			}
		}
	}
	c.real = subtract(merge(waits), merge(busy))
	return c
}

// off is the plan-time offset of the wall time ns from the anchor.
func (c *planClock) off(ns int64) time.Duration {
	rt := c.realBetween(c.anchor, ns)
	return time.Duration(float64(ns-c.anchor-rt)/c.scale) + time.Duration(rt)
}

// realBetween is the wall time counted as real from a to b, negative if b is before a.
func (c *planClock) realBetween(a, b int64) int64 {
	if b < a {
		return -c.realBetween(b, a)
	}
	var n int64
	for _, s := range c.real {
		if lo, hi := max(s.from, a), min(s.to, b); hi > lo {
			n += hi - lo
		}
	}
	return n
}

// humanAction reports whether a step of the action waits on people: an approval or a
// checklist.
func humanAction(action string) bool {
	return action == catalog.Approval.Name || action == catalog.Checklist.Name
}

// merge sorts spans and joins those that overlap or touch.
func merge(in []span) []span {
	in = slices.Clone(in)
	slices.SortFunc(in, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	var out []span
	for _, s := range in {
		if n := len(out); n > 0 && s.from <= out[n-1].to {
			out[n-1].to = max(out[n-1].to, s.to)
			continue
		}
		out = append(out, s)
	}
	return out
}

// subtract returns the parts of a outside b; both are merged.
func subtract(a, b []span) []span {
	var out []span
	for _, s := range a {
		from := s.from
		for _, cut := range b {
			if cut.to <= from || cut.from >= s.to {
				continue
			}
			if cut.from > from {
				out = append(out, span{from, cut.from})
			}
			from = max(from, cut.to)
		}
		if from < s.to {
			out = append(out, span{from, s.to})
		}
	}
	return out
}
