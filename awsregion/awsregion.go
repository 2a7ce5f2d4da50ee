// Package awsregion knows the shape of an AWS region name. It is the one place that does:
// plans, the state machine and certificate identities all ask it, so a region one of them
// accepts is never refused by another.
package awsregion

import "regexp"

// pattern: two letters, one or more words, a number. It covers the commercial regions
// (us-east-1, ap-northeast-1, mx-central-1), GovCloud (us-gov-west-1), China (cn-north-1)
// and the isolated partitions (us-iso-east-1, us-isob-east-1, eu-isoe-west-1).
var pattern = regexp.MustCompile(`^[a-z]{2}(?:-[a-z]+)+-[0-9]+$`)

// Valid reports whether name has the shape of an AWS region name. It does not say the
// region exists: a new region is valid the day it opens.
func Valid(name string) bool { return pattern.MatchString(name) }

// The words a plan may use for the regions of the pair.
const (
	Primary   = "primary"
	Secondary = "secondary"
)

// InPair resolves name against a pair: Primary and Secondary name the pair's regions, and
// any other name stands for itself.
func InPair(name, primary, secondary string) string {
	switch name {
	case Primary:
		return primary
	case Secondary:
		return secondary
	}
	return name
}
