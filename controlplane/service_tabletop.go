package controlplane

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

func (rs *runService) RecordTabletop(ctx context.Context, req *kirikaev1.RecordTabletopRequest) (*kirikaev1.RecordTabletopResponse, error) {
	run, err := rs.s.RecordTabletop(ctx, req)
	if err != nil {
		return nil, toStatus(err)
	}
	return &kirikaev1.RecordTabletopResponse{Run: run}, nil
}

// RecordTabletop stores the finished run of a tabletop drill under a new id. The run took
// place in an isolated, simulated world: recording it changes no region state, epoch or
// mode, and dispatches nothing (the state machine checks that the run is a finished
// tabletop). A retry with the same request id returns the first record.
func (s *Server) RecordTabletop(ctx context.Context, req *kirikaev1.RecordTabletopRequest) (*kirikaev1.Run, error) {
	in := req.GetRun()
	switch {
	case in == nil:
		return nil, fmt.Errorf("%w: run is required", ErrInvalidArgument)
	case in.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_TABLETOP:
		return nil, fmt.Errorf("%w: run.drill: only a tabletop drill can be recorded, not %s", ErrInvalidArgument, in.GetDrill())
	}
	run := proto.Clone(in).(*kirikaev1.Run)
	run.Id = newRunID(run.GetKind(), time.Now())
	res, _, err := s.Propose(ctx, &kirikaev1.Command{RequestId: req.GetRequestId(), Actor: actorOf(ctx), Fingerprint: RequestFingerprint(req),
		Payload: &kirikaev1.Command_RecordTabletop{RecordTabletop: run}})
	if err != nil {
		return nil, err
	}
	return res.GetRun(), nil
}
