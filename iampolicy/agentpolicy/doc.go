// Package agentpolicy derives the least-privilege IAM policy of one region's agent from the
// plans it runs and the user's system file: `kirikae plan iam-policy` and deploy/iam/.
//
// What the agent of region R calls, and so what the policy grants:
//
//   - the executor of every step of the plans that runs in R, as the plan resolves step
//     regions against the system's pair (a step whose region a parameter chooses runs where
//     the operator chooses: each agent's policy has it for its own region, unless the
//     parameter is set);
//   - the read-only plan check of each of those steps (`kirikae plan check`, declare, the
//     cutback's preflight: agent/aws CheckIAM);
//   - the agent's readiness checks of R's part of the system file (agent/readiness);
//   - the agent's health probe on every heartbeat (ec2:DescribeVpcs, AWS Health's events;
//     sts:GetCallerIdentity needs no permission);
//   - the IAM check of a plan check, which asks IAM whether the agent's own principal may
//     call what each step calls (iam:SimulatePrincipalPolicy on the account's IAM
//     principals; StepGrants gives it the grants of one step).
//
// Each IAM action is granted on the resources the call touches, as narrowly as AWS lets a
// policy name them given what the system file and the plans know before the run: an RDS
// restore on arn:aws:rds:R:ACCOUNT:db:INSTANCE, its subnet group and the snapshots it may
// pick; a secret on its name with Secrets Manager's six-character suffix (NAME-??????);
// a snapshot named after the run's start on NAME-*; a Route 53 change, whose zone's id is
// found at run time, on every zone but only, by condition keys, as UPSERT of the one record
// and type; an action that AWS authorizes only on
// "*" (Describe and List calls of EC2 and ELB, Health, ECS task definitions) on "*". A
// value a step reads from an earlier step's outputs is the pattern that step's inputs
// give it (the snapshot ARN of aws.rds.snapshot is arn:aws:rds:R:ACCOUNT:snapshot:ID), and
// "*" within its ARN segment otherwise.
//
// Statements are grouped by service, one per set of resources, with stable Sids: the
// service and the first action (RdsRestoreDBInstanceFromDBSnapshot). Result.Needs says,
// for each statement, which steps, plan checks and readiness checks need it; the
// acceptance tests remove each statement in turn and see exactly those fail.
//
// The package reads the catalog (catalog.Spec.IAM) and agent/aws's CheckIAM; what each IAM
// action is granted on is its own knowledge (actions.go, readiness.go), held to awssim's
// enforcement by the tests. It never talks to AWS.
package agentpolicy
