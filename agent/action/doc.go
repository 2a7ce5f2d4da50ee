// Package action is the contract between the agent runtime and the step executors, and
// home of the agent-side actions that are not AWS calls (http.check, notify).
//
// The runtime owns dispatch: it drops duplicate assignments by (run, step, attempt), fences
// by epoch, bounds concurrency and turns a step's timeout into the context deadline. This
// package owns what an executor may assume and must guarantee:
//
//   - Execute is called with the step's inputs as decoded from the plan (`with`), already
//     interpolated. It decodes them into its action's typed inputs with Decode and the
//     action's catalog definition (catalog.Def): unknown inputs, missing required ones
//     and values of the wrong shape are errors wrapping ErrInvalidInput that name the
//     input ("with.instanceId is required"), and blanks around strings are no value. It
//     returns the definition's typed outputs through Outputs.
//   - Execute must be idempotent: the same step may run again after a retry, a re-dispatch
//     or an agent restart, possibly while the first attempt's AWS work is still in flight.
//     An executor looks for what it would create before creating it, and adopts it when it
//     matches. It must never create a second resource.
//   - Execute honours ctx: cancellation stops waiting, never leaves the executor running.
//   - progress may be called any number of times with a one-line status; it must be cheap
//     and must not block. A nil ProgressFunc is allowed.
//   - An executor that creates or changes something records, right after the mutating call
//     succeeded, how to reverse it: step.Undo.Add(Undo{Action, With, Note}), naming a
//     catalog action and its fully resolved inputs. The runtime reports the log of every
//     attempt, failed ones included, in StepResult.undo; a partial drill's teardown runs
//     them. Only what the attempt itself did is recorded: an adopted resource has none.
//   - Outputs are the action's Out, as a map holding strings, int64, float64, bool, []any
//     and map[string]any only, so they survive protobuf Struct and JSON round trips
//     unchanged.
//
// Before a run, plan evaluation may ask for a step's findings instead (Registry.Check,
// check.go): a Checker only reads, and says what the step would meet.
//
// Errors wrap the sentinels below so the runtime can tell a permanent refusal
// (ErrInvalidInput, ErrGuardRail) from a failure worth retrying.
//
// This package must not import the AWS SDK; agent/aws does that.
package action
