// Package agent is the regional agent runtime: one process per AWS region that holds one
// bidirectional AgentService.Connect stream to the control-plane leader, reports health and
// readiness, and executes the steps the leader assigns. The executors themselves live in
// agent/action (the contract and the non-AWS actions) and agent/aws; this package owns
// everything around them and must not call AWS except for its health probe.
//
// # The stream
//
// The agent dials the control-plane addresses in turn. The first message on a stream is
// register (AgentInfo), and nothing else is sent until the server answers registered. A
// follower ends the stream with codes.Unavailable and, when it knows the leader, trailer
// metadata kirikae-leader-grpc holding the leader's gRPC address; the agent tries that
// address next, otherwise the next one in its list. Failed attempts back off exponentially
// with jitter, from 100 ms to 5 s. While registered the agent sends a heartbeat every
// interval (the server's heartbeat_interval_ms when given), carrying the latest result of
// the health probe, which runs on its own clock with its own timeout so that a hung region
// still yields a heartbeat that says unhealthy. A control-plane node that vanishes without
// closing the connection (power loss, a partition) is noticed through TCP_USER_TIMEOUT on
// the connection (20 s, Linux), since heartbeats keep data in flight; gRPC keepalive pings
// are not used because the server's default enforcement policy would reject them.
//
// # The system
//
// Readiness is checked against the user's system file as the control plane stores it. The
// leader sends the stored system (ConnectResponse.system) right after registered, and again
// whenever its digest changes. The agent keeps the latest one in memory and in
// DataDir/system.json (written before it is used), so a restarted agent checks readiness
// against it before it has reconnected; a file there that cannot be read is logged and
// ignored until the control plane sends the system again. A system with a new digest runs
// the readiness checks at once and sends the report; the same digest again changes nothing.
// Config.Readiness gets the parsed system, or nil while none has been sent; a system this
// agent cannot parse is reported as one failed check, agent.system, instead of being
// checked against anything.
//
// # Idempotency rules
//
// These are what the control plane may rely on:
//
//   - Fencing. The agent keeps the highest epoch it has seen, from registered and from
//     assignments, in DataDir (written to a temporary file, synced and renamed before the
//     assignment is accepted). An assignment whose epoch is below it gets
//     StepResult{refused: true, error: "stale epoch 3 < 4"} and never runs.
//   - Duplicates. An attempt is identified by (run, step, attempt). An assignment for an
//     attempt that is queued or running is dropped. An assignment for an attempt that has
//     finished gets its stored result again; it does not run again.
//   - Results. A finished result is written to DataDir (synced) before it is sent, and kept
//     (the newest 1024) across restarts. Because the protocol has no acknowledgement, a
//     result counts as delivered only some time after it was sent on a stream: every
//     result not sent yet, or sent less than two minutes before, is sent again after each
//     reconnect, including after an agent restart. The control plane must treat a result
//     for an attempt that already finished as a no-op.
//   - Shutdown. A step interrupted because the agent stops produces no result; the control
//     plane re-dispatches it, and the executors are idempotent.
//   - Undo. Every attempt gets an action.UndoLog in Step.Undo, and StepResult.undo carries
//     what it recorded (with_json is the JSON of Undo.With) whatever the outcome: success,
//     failure, timeout, cancel or panic. Each step recorded is written to DataDir/undo
//     (synced) before UndoLog.Add returns, keyed by run and step, so an attempt that ends
//     without a result (shutdown, crash) does not lose it: the next attempt of that step
//     on this agent starts its log with those steps and reports them with its own result.
//     The file goes once a result holding them is stored. Undo steps are stored and resent
//     with their result like the rest of it. Each Add also sends every step recorded so
//     far to the control plane at once, in a StepProgress, which keeps them in the run: a
//     retry on another agent, or a teardown after this agent is gone, still has them.
//
// # Execution
//
// Up to MaxSteps attempts run at once; the rest wait in arrival order. with_json is decoded
// with json.Decoder.UseNumber and then every number becomes int64 when it is a whole number
// that fits, float64 otherwise, so executors see int64, float64, string, bool, []any and
// map[string]any. timeout_ms bounds the attempt's context. Progress lines are forwarded at
// most once per second per attempt, and the last line before the result is always sent
// (while connected; progress is not kept across a disconnect). CancelStep cancels the
// attempt's context and its result is a failure "cancelled: <reason>". A panicking
// executor fails its attempt; the agent keeps running.
package agent
