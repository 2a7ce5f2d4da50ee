package agent

import "errors"

// Errors of the agent runtime, wrapped with %w; test them with errors.Is.
var (
	// ErrConfig means the Config is incomplete or contradictory; the message says which
	// field.
	ErrConfig = errors.New("agent config")
	// ErrStaleEpoch means an assignment carried an epoch below the highest the agent has
	// seen: it came from a deposed leader, and the agent refuses it.
	ErrStaleEpoch = errors.New("stale epoch")
	// ErrProtocol means the control plane broke the stream protocol (for example it did
	// not answer register with registered).
	ErrProtocol = errors.New("agent stream protocol")
	// ErrRefused means the control plane refused the agent at register, PermissionDenied or
	// Unauthenticated: its certificate is not an agent's, or not for its region. Retrying
	// cannot mend that, so the agent stops and Run returns it.
	ErrRefused = errors.New("the control plane refused this agent")
	// errShutdown is the cancel cause of everything when the agent stops.
	errShutdown = errors.New("agent shutting down")
)
