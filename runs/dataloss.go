package runs

import (
	"time"

	"github.com/kirikae/kirikae/catalog"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/plan"
)

// DataLoss is the window of data a run's database restore loses: how old the data in the
// restored snapshot was when it was restored.
type DataLoss struct {
	Window   time.Duration
	Step     string
	Snapshot string
	// Refused marks a window read from a restore that refused its snapshot as older than
	// the RPO: what a restore would lose, had it gone on.
	Refused bool
}

// DataLossOf finds the data-loss window of run: the widest among its RDS snapshot
// restores that succeeded. With refused, a restore that refused its snapshot as too old
// counts too, with that snapshot's age: a tabletop predicts the window with it. ok is
// false when no restore says.
func DataLossOf(run *kirikaev1.Run, refused bool) (dl DataLoss, ok bool) {
	for _, st := range run.GetSteps() {
		if st.GetSpec().GetAction() != catalog.RestoreSnapshot.Name {
			continue
		}
		src, wasRefused := st.GetOutputsJson(), false
		if st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED {
			src, wasRefused = "", true
			if refused {
				src = st.GetFailureOutputsJson()
			}
		}
		if src == "" {
			continue
		}
		out, err := catalog.RestoreSnapshot.Outputs(src)
		if err != nil || out.SnapshotID == "" {
			continue
		}
		if w := out.DataLoss(); !ok || w > dl.Window {
			dl, ok = DataLoss{Window: w, Step: st.GetId(), Snapshot: out.SnapshotID, Refused: wasRefused}, true
		}
	}
	return dl, ok
}

// Params are the values a run's plan ran with: its defaults, overridden by what was
// declared with --set.
func Params(run *kirikaev1.Run) map[string]string {
	out := map[string]string{}
	if len(run.GetPlanSource()) > 0 {
		if p, err := plan.Parse(run.GetPlanName(), run.GetPlanSource()); err == nil {
			out = p.ParamValues()
		}
	}
	for k, v := range run.GetParams() {
		out[k] = v
	}
	return out
}

// Objectives are the RTO and RPO a run is held to: the objectives of the system it was
// compiled against, else its plan's RTO and RPO params (a plan may still declare them).
// A zero duration means the run names none.
func Objectives(run *kirikaev1.Run) (rto, rpo time.Duration) {
	if sys, err := parseSystem(run.GetSystem()); err == nil && sys != nil {
		return sys.Objectives.RTO, sys.Objectives.RPO
	}
	params := Params(run)
	rto, _ = time.ParseDuration(params["RTO"])
	rpo, _ = time.ParseDuration(params["RPO"])
	return rto, rpo
}
