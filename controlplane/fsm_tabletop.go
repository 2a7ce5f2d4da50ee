package controlplane

import (
	"google.golang.org/protobuf/proto"

	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// applyRecordTabletop stores the finished run of a tabletop drill. The run happened in an
// isolated simulated world; recording it touches nothing else: the region state, the epoch
// and the mode stay as they are, and since the run is already over the orchestrator never
// dispatches any of its steps.
func (f *FSM) applyRecordTabletop(cmd *kirikaev1.Command, in *kirikaev1.Run) *kirikaev1.CommandResult {
	if !f.state.GetInitialized() {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "%v", ErrNotInitialized)
	}
	switch {
	case in.GetId() == "" || len(in.GetSteps()) == 0:
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "run: a tabletop record needs an id and at least one step")
	case in.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_TABLETOP:
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "run.drill: only a tabletop drill can be recorded, not %s", in.GetDrill())
	case in.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED && in.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_FAILED &&
		in.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_ABORTED:
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "run.status: a tabletop is recorded once it has ended, not while %s", enum.Name(in.GetStatus()))
	case f.findRun(in.GetId()) != nil:
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "run %s already exists", in.GetId())
	}
	for _, st := range in.GetSteps() {
		if in.GetStatus() == kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED && !stepTerminal(st) {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "run.steps[%s]: step is still %s in a finished tabletop", st.GetId(), st.GetStatus())
		}
	}
	r := proto.Clone(in).(*kirikaev1.Run)
	r.DeclaredBy = cmd.GetActor()
	r.Participants = appendUnique(r.GetParticipants(), cmd.GetActor())
	// The tabletop's epochs were the isolated world's; the live epoch did not move.
	region := f.state.GetRegion()
	r.EpochBefore, r.EpochAfter = region.GetEpoch(), region.GetEpoch()
	f.state.Runs = append(f.state.Runs, r)
	f.metrics.runEnded(f.applying, r)
	return runResult(r)
}
