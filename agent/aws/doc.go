// Package aws holds the executors of every AWS action in the catalog (catalog/actions.go,
// Where == OnAgent), one file per AWS service, built on aws-sdk-go-v2. Each decodes its
// step's inputs into its definition's In (action.Decode, action.Trim) and returns its Out
// (action.Outputs); what a type cannot say (an ARN's service, a count's range, a default
// that is not the zero value) it checks itself.
//
// Each executor takes a small interface of the SDK client methods it calls (the way the
// SDK's waiters take Describe…APIClient), through a function from region to client, so a
// test can hand in a fake and Register can hand in the real clients.
//
// # Idempotency
//
// Every executor first looks for what it would create or change and adopts it when it is
// already there and matches; only then does it call the mutating API, and it treats the
// service's "already exists" answer to a race the same way. Identifiers come from the plan
// (instance, snapshot, replication group ids) or from tokens derived from the run and step
// ids (Backup's IdempotencyToken, Secrets Manager's ClientRequestToken), never from the
// attempt, so a retry, a re-dispatch or an agent restart mid-step finds the earlier work.
// What each executor checks is written on its type.
//
// Matching includes who made it. What kirikae creates carries kirikae:run and kirikae:step
// tags; the restores and the ElastiCache create adopt an existing resource only when its
// tags name this run or a run passed to it (action.Step.OwnerRuns), never an untagged one,
// and a restored database only when it holds the data a restore would give now. Anything
// else is refused with a guard-rail error that says what is there and what to do.
//
// # Waiting
//
// The executors use the SDK's own waiters where they exist, with Options.MinDelay and
// MaxDelay, and poll with backoff where none exists. While waiting they report progress
// with the elapsed time. The step's context bounds every wait.
//
// # Plan checks
//
// Register also registers, for the actions whose steps can fail on what the account holds,
// a read-only checker (action.Checker, check*.go) that `kirikae plan check` runs before a
// run: it reads with Describe, List and Get calls only, by the executor's own rules, and
// answers with catalog.Finding values. CheckIAM lists the IAM actions those reads need.
//
// This package owns no state; it must not talk to the control plane or decide retries.
package aws
