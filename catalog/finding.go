package catalog

// Finding is one problem plan evaluation found in a step, before the step runs.
//
// A finding says what is wrong with the observed values (Problem) and what to write
// instead (Fix), concretely: the id, name or setting that would work, read from the
// account where that can be done. Code is one of the Finding… constants below; a report, a
// CI gate or a test may match on it, so a code never changes meaning.
type Finding struct {
	Step    string `json:"step"`            // step id
	Input   string `json:"input,omitempty"` // the `with` key it concerns, e.g. targetHostedZoneId
	Code    string `json:"code"`            // stable kebab-case kind, e.g. alias-zone-mismatch
	Problem string `json:"problem"`         // what is wrong, with the observed values
	Fix     string `json:"fix"`             // what to write instead, concretely
}

// The codes of findings. Each names one kind of problem, found by reading the account
// (Describe, List and Get calls only) with the step's inputs as far as they are known
// before the run.
const (
	// FindingMissingResource: a resource an input names is not there, in the step's region
	// (or the region the input's ARN names): a hosted zone, a load balancer, a subnet or
	// security group, a secret, a snapshot, a vault, a topic, a cluster or service, a DB
	// instance. The fix names what does exist when that can be listed.
	FindingMissingResource = "missing-resource"
	// FindingAmbiguousResource: a name an input gives matches more than one resource where
	// the step needs exactly one (two public hosted zones or two VPCs of one name); the fix
	// names their ids.
	FindingAmbiguousResource = "ambiguous-resource"
	// FindingAliasZoneMismatch: an alias target's targetHostedZoneId is not the canonical
	// hosted zone of the load balancer with that targetDnsName. Route 53 refuses such an
	// alias (InvalidChangeBatch) only when the step runs, at the moment traffic should move.
	FindingAliasZoneMismatch = "alias-zone-mismatch"
	// FindingRecordNotInZone: the record name does not lie within the hosted zone the step
	// writes it to; Route 53 refuses the change.
	FindingRecordNotInZone = "record-not-in-zone"
	// FindingTaskDefinitionUnpinned: a task definition is written FAMILY:latest or with
	// another revision that is not a number. ECS has no such revision and refuses it
	// (InvalidParameterException "Invalid revision number"); the fix is the family alone
	// (its newest ACTIVE revision) or FAMILY:REVISION.
	FindingTaskDefinitionUnpinned = "task-definition-unpinned"
	// FindingSnapshotTooOld: the snapshot a restore would choose holds data older than its
	// maxAge (the RPO) and allowDataLoss is not set, so the restore would refuse it.
	FindingSnapshotTooOld = "snapshot-too-old"
	// FindingKMSKeyRegion: a KMS key ARN names another region than the step's. KMS keys are
	// regional: RDS refuses it for a copy into the step's region (KMSKeyNotAccessibleFault).
	FindingKMSKeyRegion = "kms-key-region"
	// FindingRecoveryPointTooOld: the newest completed recovery point a Backup restore would
	// use is older than its maxAge.
	FindingRecoveryPointTooOld = "recovery-point-too-old"
	// FindingInvalidInput: the step's inputs do not decode into its action's inputs (an
	// unknown input, a value of the wrong shape), or contradict each other, so the step
	// would fail at once whatever the account holds.
	FindingInvalidInput = "invalid-input"
	// FindingCheckError: an AWS call the check needed failed for another reason than "not
	// found" (access denied, throttling, a region that does not answer). The check went on
	// with the other inputs; the problem names the call, the fix says what to allow or retry.
	FindingCheckError = "check-error"
	// FindingIAMDenied: IAM says the agent's own credentials may not call an IAM action the
	// step calls (its executor or its plan check) on a resource its inputs name, asked with
	// iam:SimulatePrincipalPolicy before the run. The problem names the action, the resources
	// and IAM's decision; the fix is the statement to add to the agent's policy, or the
	// policy `kirikae plan iam-policy` writes. When IAM cannot be asked (the simulation is
	// itself refused or not offered), the request has one check-error finding instead.
	FindingIAMDenied = "iam-denied"
)
