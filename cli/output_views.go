package cli

import (
	"github.com/kirikae/kirikae/jsonview"
	"github.com/kirikae/kirikae/report"
)

// The Go values that verbs print with -o json, beside the API's messages, in the same
// convention (see printJSON): snake_case keys, every field present, times RFC 3339 or null.

// drillDueJSON is one kind of drill in `drill schedule -o json`.
type drillDueJSON struct {
	Kind string `json:"kind"`
	// Last is the last successful drill, null when there has been none.
	Last any `json:"last"`
	Next any `json:"next"`
	// Overdue says next is before now (or there has been none).
	Overdue bool `json:"overdue"`
}

func drillScheduleJSON(next []report.NextDrill) []drillDueJSON {
	out := make([]drillDueJSON, 0, len(next))
	for _, n := range next {
		out = append(out, drillDueJSON{Kind: string(n.Kind), Last: jsonview.Time(n.Last), Next: jsonview.Time(n.Next), Overdue: n.Overdue})
	}
	return out
}
