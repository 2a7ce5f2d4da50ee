// Package controlplane is the raft-replicated authority on which region is live.
//
// It owns the replicated state machine (fsm.go), the raft node that carries it
// (node.go), the gRPC services and their single error-to-status mapping (service_*.go,
// errors.go), the plain HTTP twin with health and metrics (http.go), and the wiring
// that starts a server process (run.go).
//
// It must not touch AWS: agents do that. It must not read clocks or random sources
// inside the state machine: the leader stamps every command before it is proposed,
// so every node applies the same bytes and reaches the same state.
package controlplane
