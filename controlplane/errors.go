package controlplane

import (
	"context"
	"errors"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
)

// Errors returned by this package. Callers test them with errors.Is; the gRPC edge maps
// them to status codes in toStatus, and nowhere else.
var (
	// ErrNotInitialized means `region init` has not run yet.
	ErrNotInitialized = errors.New("region pair not initialized: run `kirikae region init` first")
	// ErrAlreadyExists means the thing to create is there already, e.g. a second `region init`.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalidArgument means the request itself is wrong; the message names the field.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrFailedPrecondition means the request is well-formed but the state forbids it.
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrNotFound means the named thing does not exist.
	ErrNotFound = errors.New("not found")
	// ErrNoLeader means no leader is known, e.g. during an election. Retry.
	ErrNoLeader = errors.New("no raft leader known; retry shortly")
	// ErrOutcomeUnknown means a write was proposed but its result was not observed.
	// Retrying with the same request id is always safe.
	ErrOutcomeUnknown = errors.New("outcome unknown: retry with the same request id")
	// ErrCriteriaNotMet means a declaration falls short of its scenario's activation
	// criterion; --override-criteria, with a reason, declares anyway.
	ErrCriteriaNotMet = errors.New("activation criteria not met")
	// ErrUnknownCommand stops a node that meets a raft command it cannot read in full,
	// written by a newer version (see mustUnderstand).
	ErrUnknownCommand = errors.New("unknown raft command")
)

// errorFromResult turns a state machine refusal into a wrapped sentinel.
func errorFromResult(res *kirikaev1.CommandResult) error {
	if res == nil || res.GetError() == "" {
		return nil
	}
	var base error
	switch res.GetCode() {
	case kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT:
		base = ErrInvalidArgument
	case kirikaev1.ErrorCode_ERROR_CODE_ALREADY_EXISTS:
		base = ErrAlreadyExists
	case kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND:
		base = ErrNotFound
	case kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED:
		base = security.ErrPermissionDenied
	default:
		base = ErrFailedPrecondition
	}
	return &resultError{base: base, msg: res.GetError()}
}

// resultError is a state machine refusal: its kind, and a message that does not repeat it.
type resultError struct {
	base error
	msg  string
}

func (e *resultError) Error() string { return e.base.Error() + ": " + e.msg }
func (e *resultError) Unwrap() error { return e.base }

// toStatus maps an error to a gRPC status, once, at the edge. Wrapped errors map too.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Internal
	switch {
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, security.ErrUnauthenticated):
		code = codes.Unauthenticated
	case errors.Is(err, security.ErrPermissionDenied):
		code = codes.PermissionDenied
	case errors.Is(err, ErrInvalidArgument):
		code = codes.InvalidArgument
	case errors.Is(err, ErrAlreadyExists):
		code = codes.AlreadyExists
	case errors.Is(err, ErrNotInitialized), errors.Is(err, ErrFailedPrecondition):
		code = codes.FailedPrecondition
	case errors.Is(err, ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, ErrNoLeader), errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost),
		errors.Is(err, raft.ErrRaftShutdown), errors.Is(err, raft.ErrEnqueueTimeout):
		code = codes.Unavailable
	case errors.Is(err, ErrOutcomeUnknown):
		code = codes.Unavailable
	}
	return status.Error(code, err.Error())
}
