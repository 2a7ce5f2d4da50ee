// Package iam names what the bundled agents' IAM policies in this directory are generated
// from: the system file and the plans. `kirikae plan iam-policy --out-dir deploy/iam`
// writes them (see README.md); the tests that regenerate and prove them read these lists.
package iam

// System is the system file the policies are for, from the repository's root.
const System = "deploy/systems/kaigo.yaml"

// Plans are the plans the policies cover, from the repository's root: the failover and
// the cutback first, then the recovery plans.
var Plans = []string{
	"deploy/plans/kaigo-failover.yaml", "deploy/plans/kaigo-cutback.yaml",
	"deploy/plans/kaigo-rds-recovery.yaml", "deploy/plans/kaigo-rds-pitr.yaml", "deploy/plans/kaigo-ecs-recovery.yaml",
}
