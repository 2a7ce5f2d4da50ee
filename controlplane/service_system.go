package controlplane

import (
	"context"
	"errors"
	"fmt"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/system"
)

// systemService stores and serves the user's system file.
type systemService struct {
	kirikaev1.UnimplementedSystemServiceServer
	s *Server
}

// ApplySystem validates the operator's file here, at the edge, so every problem comes back
// with its line, and proposes only the canonical form.
func (x *systemService) ApplySystem(ctx context.Context, req *kirikaev1.ApplySystemRequest) (*kirikaev1.ApplySystemResponse, error) {
	name := req.GetFileName()
	if name == "" {
		name = "system.yaml"
	}
	sys, err := system.Parse(name, req.GetYaml())
	if err != nil {
		var ve *system.ValidationError
		if errors.As(err, &ve) {
			return nil, toStatus(fmt.Errorf("%w: %s", ErrInvalidArgument, ve.Error()))
		}
		return nil, toStatus(fmt.Errorf("%w: system file %s: %v", ErrInvalidArgument, name, err))
	}
	res, idx, err := x.s.Propose(ctx, &kirikaev1.Command{
		RequestId: req.GetRequestId(), Actor: actorOf(ctx),
		Payload: &kirikaev1.Command_ApplySystem{ApplySystem: &kirikaev1.ApplySystem{
			FileName: name, Yaml: sys.Marshal(), ExpectedDigest: req.GetExpectedDigest()}},
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &kirikaev1.ApplySystemResponse{System: res.GetSystem(), Changed: res.GetChanged(), RaftIndex: idx}, nil
}

// GetSystem answers at the asked consistency, linearizable by default.
func (x *systemService) GetSystem(ctx context.Context, req *kirikaev1.GetSystemRequest) (*kirikaev1.GetSystemResponse, error) {
	switch req.GetConsistency() {
	case kirikaev1.Consistency_CONSISTENCY_STALE:
	case kirikaev1.Consistency_CONSISTENCY_UNSPECIFIED, kirikaev1.Consistency_CONSISTENCY_LINEARIZABLE:
		if _, err := x.s.linearizableIndex(ctx); err != nil {
			return nil, toStatus(err)
		}
	default:
		return nil, toStatus(fmt.Errorf("%w: consistency %v is not known", ErrInvalidArgument, req.GetConsistency()))
	}
	return &kirikaev1.GetSystemResponse{System: x.s.node.FSM().System()}, nil
}
