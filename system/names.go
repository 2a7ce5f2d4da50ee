package system

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kirikae/kirikae/yamlcheck"
)

// rule is what makes a valid name of one kind of resource, after AWS's own rules, and what
// a user who wrote something else most likely wrote instead: an id AWS gives the resource
// (which changes when it is rebuilt), an ARN or a DNS name.
type rule struct {
	what string         // "DB instance identifier"
	re   *regexp.Regexp // the names AWS accepts
	want string         // what re accepts, in words
	max  int            // longest name; 0 when re says
	id   *regexp.Regexp // the shape of the resource's id, when it has one a user might copy
	arn  bool           // an ARN is refused with a hint to give the name
	more func(s string) string
}

var (
	logicalRule = &rule{what: "logical name", re: regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]*$`), max: 63,
		want: "a letter, then letters, digits, _ and -, at most 63: it is a part of a path such as secondary.ecs.services.NAME.name"}
	systemNameRule = &rule{what: "system name", re: regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`), max: 63,
		want: "lower-case letters, digits and dashes, at most 63"}
	accountRule = &rule{what: "account", re: regexp.MustCompile(`^[0-9]{12}$`),
		want: `12 digits, in quotes so that YAML keeps it a string: account: "123456789012"`}

	vpcRule = &rule{what: "VPC Name tag", re: regexp.MustCompile(`^[^\x00-\x1f]+$`), max: 255,
		want: "the VPC's Name tag", id: regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`), arn: true}
	securityGroupRule = &rule{what: "security group name", re: regexp.MustCompile(`^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]+$`), max: 255,
		want: "the group's name (GroupName): letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*",
		id:   regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`), arn: true,
		more: func(s string) string {
			if strings.HasPrefix(s, "sg-") {
				return "a security group's name cannot start with sg-, which is how its id starts: give the group's name"
			}
			return ""
		}}

	dbInstanceRule = &rule{what: "DB instance identifier", re: regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`), max: 63,
		want: "lower-case letters, digits and single hyphens, starting with a letter, not ending with a hyphen, at most 63", arn: true}
	dbInstanceClassRule = &rule{what: "DB instance class", re: regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9]+$`),
		want: "an instance class such as db.r6g.large"}
	dbSubnetGroupRule = &rule{what: "DB subnet group name", re: regexp.MustCompile(`^[a-zA-Z0-9 ._-]+$`), max: 255,
		want: "letters, digits, spaces, periods, underscores and hyphens, at most 255", arn: true}
	dbGroupRule = &rule{what: "group name", re: regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9.:_]*(-[a-zA-Z0-9.:_]+)*$`), max: 255,
		want: "a letter, then letters, digits, '.', ':', '_' and single hyphens, not ending with a hyphen, at most 255", arn: true}
	kmsKeyRule = &rule{what: "KMS key", re: regexp.MustCompile(`^(alias/[a-zA-Z0-9/_-]+|[a-zA-Z0-9-]+|` + kmsARN + `)$`), max: 2048,
		want: "a key id, a key ARN, alias/NAME or an alias ARN"}

	replicationGroupRule = &rule{what: "replication group id", re: regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`), max: 40,
		want: "lower-case letters, digits and single hyphens, starting with a letter, not ending with a hyphen, at most 40", arn: true}
	nodeTypeRule = &rule{what: "node type", re: regexp.MustCompile(`^cache\.[a-z0-9]+\.[a-z0-9]+$`),
		want: "a node type such as cache.r6g.large"}
	cacheSubnetGroupRule = &rule{what: "cache subnet group name", re: regexp.MustCompile(`^[a-zA-Z0-9-]+$`), max: 255,
		want: "letters, digits and hyphens, at most 255", arn: true}
	engineVersionRule = &rule{what: "engine version", re: regexp.MustCompile(`^[0-9]+(\.[0-9x]+)*$`), max: 32,
		want: "a version such as 7.0 or 7.1"}

	vaultRule = &rule{what: "backup vault name", re: regexp.MustCompile(`^[a-zA-Z0-9_-]+$`), max: 50,
		want: "2 to 50 letters, digits, hyphens and underscores", arn: true,
		more: func(s string) string {
			if len(s) < 2 {
				return "a backup vault name has 2 to 50 characters"
			}
			return ""
		}}
	fileSystemRule = &rule{what: "file system Name tag", re: regexp.MustCompile(`^[^\x00-\x1f]+$`), max: 256,
		want: "the file system's Name tag", id: regexp.MustCompile(`^fs-[0-9a-f]{8,17}$`), arn: true}
	iamRoleRule = &rule{what: "IAM role name", re: regexp.MustCompile(`^[a-zA-Z0-9+=,.@_-]+$`), max: 64,
		want: "the role's name: letters, digits and +=,.@_-, at most 64", arn: true}

	secretRule = &rule{what: "secret name", re: regexp.MustCompile(`^[a-zA-Z0-9/_+=.@-]+$`), max: 512,
		want: "letters, digits and /_+=.@-, at most 512", arn: true}
	loadBalancerRule = &rule{what: "load balancer name", re: regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$`), max: 32,
		want: "letters, digits and hyphens, not starting or ending with a hyphen, at most 32", arn: true,
		more: func(s string) string {
			if strings.HasPrefix(s, "internal-") {
				return "a load balancer's name cannot start with internal-, which is how an internal load balancer's DNS name starts: give its name"
			}
			return ""
		}}
	targetGroupRule = &rule{what: "target group name", re: loadBalancerRule.re, max: 32,
		want: "letters, digits and hyphens, not starting or ending with a hyphen, at most 32", arn: true}
	ecsNameRule = &rule{what: "name", re: regexp.MustCompile(`^[a-zA-Z0-9_-]+$`), max: 255,
		want: "letters, digits, hyphens and underscores, at most 255", arn: true}
	taskFamilyRule = &rule{what: "task definition family", re: ecsNameRule.re, max: 255,
		want: "letters, digits, hyphens and underscores, at most 255", arn: true,
		more: func(s string) string {
			if f, rev, ok := strings.Cut(s, ":"); ok && !strings.HasPrefix(s, "arn:") {
				return fmt.Sprintf("a family has no revision: write %s, not %s:%s (the revision is chosen at run time)", f, f, rev)
			}
			return ""
		}}
	imageRule = &rule{what: "image", re: regexp.MustCompile(`^[^\s]+$`), max: 1024,
		want: "an image reference without spaces, such as 123456789012.dkr.ecr.us-west-2.amazonaws.com/app:latest"}
	topicRule = &rule{what: "topic name", re: regexp.MustCompile(`^[a-zA-Z0-9_-]+(\.fifo)?$`), max: 256,
		want: "letters, digits, hyphens and underscores (and .fifo at the end of a FIFO topic), at most 256", arn: true}
	bucketRule = &rule{what: "bucket name", re: regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`), max: 63,
		want: "3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit", arn: true,
		more: func(s string) string {
			if len(s) < 3 {
				return "a bucket name has 3 to 63 characters"
			}
			return ""
		}}

	dnsNameRule = &rule{what: "DNS name", re: regexp.MustCompile(`^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$`), max: 253,
		want: "a domain name such as api.example.com, labels of letters, digits and hyphens",
		id:   regexp.MustCompile(`^Z[A-Z0-9]{4,31}$`), arn: true,
		more: func(s string) string {
			for _, l := range strings.Split(strings.TrimPrefix(s, "*."), ".") {
				if len(l) > 63 {
					return fmt.Sprintf("label %.20q… is %d characters: a DNS label has at most 63", l, len(l))
				}
			}
			return ""
		}}
)

// kmsARN is the pattern of a KMS key or alias ARN; its groups are the region and account.
const kmsARN = `arn:aws[a-z-]*:kms:([a-z0-9-]+):([0-9]{12}):(key/[a-zA-Z0-9-]+|alias/[a-zA-Z0-9/_-]+)`

var kmsARNRe = regexp.MustCompile(`^` + kmsARN + `$`)

// rdsEngines are the RDS engines of DB instances restored from DB snapshots. Aurora is not
// among them: it restores clusters from cluster snapshots.
var rdsEngines = []string{"db2-ae", "db2-se", "mariadb", "mysql", "oracle-ee", "oracle-ee-cdb", "oracle-se2",
	"oracle-se2-cdb", "postgres", "sqlserver-ee", "sqlserver-ex", "sqlserver-se", "sqlserver-web"}

// cacheEngines are the engines of ElastiCache replication groups.
var cacheEngines = []string{"redis", "valkey"}

// dnsTypes are the types of an alias record to a load balancer.
var dnsTypes = []string{"A", "AAAA"}

// problem says what is wrong with s as a name of r's kind, or "".
func (r *rule) problem(s string) string {
	switch {
	case s == "":
		return fmt.Sprintf("empty %s", r.what)
	case r.arn && strings.HasPrefix(s, "arn:"):
		return fmt.Sprintf("%q is an ARN: want the %s; kirikae builds ARNs from the name, the region and the account", s, r.what)
	case r.arn && strings.HasSuffix(s, ".amazonaws.com"):
		return fmt.Sprintf("%q is a DNS name: want the %s; endpoints and DNS names are looked up by name at run time", s, r.what)
	case r.id != nil && r.id.MatchString(s):
		return fmt.Sprintf("%q is an id: want the %s, which stays the same when the resource is rebuilt; the id is looked up by name at run time", s, r.what)
	case r.max > 0 && len(s) > r.max:
		return fmt.Sprintf("%s of %d characters: want at most %d", r.what, len(s), r.max)
	}
	if r.more != nil {
		if msg := r.more(s); msg != "" {
			return msg
		}
	}
	if !r.re.MatchString(s) {
		return fmt.Sprintf("bad %s %q: want %s", r.what, s, r.want)
	}
	return ""
}

// oneOf says what is wrong with s as one of options, or "".
func oneOf(what, s string, options []string) string {
	if slices.Contains(options, s) {
		return ""
	}
	if m := yamlcheck.Suggest(s, options); m != "" {
		return fmt.Sprintf("unknown %s %q: did you mean %q? (want one of: %s)", what, s, m, strings.Join(options, ", "))
	}
	return fmt.Sprintf("unknown %s %q (want one of: %s)", what, s, strings.Join(options, ", "))
}
