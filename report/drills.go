package report

import (
	"fmt"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// DrillKind is one of the three drills of seed 000's 訓練計画 (SPEC R4).
type DrillKind string

// Drill kinds.
const (
	Tabletop DrillKind = "tabletop"
	Partial  DrillKind = "partial"
	Full     DrillKind = "full"
)

// DrillKinds lists the kinds in the seed's order.
var DrillKinds = []DrillKind{Tabletop, Partial, Full}

// ParseDrillKind accepts tabletop, partial or full.
func ParseDrillKind(s string) (DrillKind, error) {
	for _, k := range DrillKinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("drill kind %q: want tabletop, partial or full", s)
}

// CadenceMonths is how often the seed asks for each kind: tabletop quarterly (四半期ごと),
// partial every six months (半年ごと), full-scale yearly (年1回).
func (k DrillKind) CadenceMonths() int {
	switch k {
	case Tabletop:
		return 3
	case Partial:
		return 6
	case Full:
		return 12
	}
	return 0
}

// Japanese is the seed's name for the kind.
func (k DrillKind) Japanese() string {
	switch k {
	case Tabletop:
		return "机上訓練"
	case Partial:
		return "部分訓練"
	case Full:
		return "フルスケール訓練"
	}
	return string(k)
}

// NextDrill is the schedule of one kind.
type NextDrill struct {
	Kind DrillKind
	// Last is the last drill of the kind; zero when there has been none.
	Last time.Time
	// Next is Last plus the cadence, or now when there has been none.
	Next time.Time
	// Overdue says Next is before now (or there has been none).
	Overdue bool
}

// NextDrills computes, for every kind in the seed's order, when the next drill is due:
// the cadence after the last one. A month that is too short for the day (a drill on
// 31 August, due quarterly) falls due on the month's last day. A kind never drilled is due
// now and overdue.
func NextDrills(last map[DrillKind]time.Time, now time.Time) []NextDrill {
	out := make([]NextDrill, 0, len(DrillKinds))
	for _, k := range DrillKinds {
		nd := NextDrill{Kind: k, Last: last[k]}
		if nd.Last.IsZero() {
			nd.Next, nd.Overdue = now, true
		} else {
			nd.Next = addMonths(nd.Last, k.CadenceMonths())
			nd.Overdue = nd.Next.Before(now)
		}
		out = append(out, nd)
	}
	return out
}

// addMonths adds n months, clamping the day to the end of the target month.
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	lastDay := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, lastDay)-1)
}

// LastDrills finds the last successful drill of each kind among runs, by when it ended,
// counting only drills that started before before (0: all). A drill is the run an operator
// started: a tabletop or partial drill that succeeded, or a full-scale drill whose failover
// and its cutback both succeeded. A drill that failed or was aborted is not a drill done,
// and a partial drill's teardown or a full drill's cutback is part of its drill, never a
// drill of its own.
func LastDrills(runs []*kirikaev1.Run, before int64) map[DrillKind]time.Time {
	byID := map[string]*kirikaev1.Run{}
	for _, r := range runs {
		byID[r.GetId()] = r
	}
	out := map[DrillKind]time.Time{}
	for _, r := range runs {
		if before != 0 && r.GetCreatedUnixNano() >= before {
			continue
		}
		if r.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED || r.GetKind() == kirikaev1.RunKind_RUN_KIND_TEARDOWN {
			continue
		}
		end := r.GetFinishedUnixNano()
		var kind DrillKind
		switch r.GetDrill() {
		case kirikaev1.DrillKind_DRILL_KIND_TABLETOP:
			kind = Tabletop
		case kirikaev1.DrillKind_DRILL_KIND_PARTIAL:
			kind = Partial
		case kirikaev1.DrillKind_DRILL_KIND_FULL:
			if r.GetKind() != kirikaev1.RunKind_RUN_KIND_FAILOVER {
				continue // the cutback: counted with its failover
			}
			cb := byID[r.GetCutbackRunId()]
			if cb == nil || cb.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
				continue
			}
			kind, end = Full, cb.GetFinishedUnixNano()
		default:
			continue
		}
		if t := time.Unix(0, end); t.After(out[kind]) {
			out[kind] = t
		}
	}
	return out
}
