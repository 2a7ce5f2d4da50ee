package readiness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go/logging"

	awsx "github.com/kirikae/kirikae/agent/aws"
	"github.com/kirikae/kirikae/security"
)

// Defaults for the zero fields of Config. The recovery point objective is not among them:
// it is the system's (objectives.rpo).
const (
	// DefaultRetention is the shortest automated backup retention the primary's database
	// may keep.
	DefaultRetention = 30 * 24 * time.Hour
	// DefaultEFSMaxAge is the oldest the newest EFS recovery point copy may be: a daily
	// AWS Backup plan plus DefaultEFSMargin for its backup and copy jobs.
	DefaultEFSMaxAge    = 24*time.Hour + DefaultEFSMargin
	DefaultEFSMargin    = 2 * time.Hour
	DefaultCheckTimeout = 10 * time.Second
	DefaultMinSubnets   = 2
)

// API interfaces: the few calls the checks make. The aws-sdk-go-v2 clients satisfy them.
type (
	// EC2API reads the DR network.
	EC2API interface {
		DescribeVpcs(ctx context.Context, in *ec2.DescribeVpcsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error)
		DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
		DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
		DescribeRouteTables(ctx context.Context, in *ec2.DescribeRouteTablesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error)
	}
	// ELBAPI reads the ALB and its target group.
	ELBAPI interface {
		DescribeLoadBalancers(ctx context.Context, in *elbv2.DescribeLoadBalancersInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error)
		DescribeTargetGroups(ctx context.Context, in *elbv2.DescribeTargetGroupsInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error)
	}
	// ECSAPI reads the cluster and its service.
	ECSAPI interface {
		DescribeClusters(ctx context.Context, in *ecs.DescribeClustersInput, optFns ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error)
		DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	}
	// RDSAPI reads the RDS groups, snapshots and the source instance.
	RDSAPI interface {
		DescribeDBParameterGroups(ctx context.Context, in *rds.DescribeDBParameterGroupsInput, optFns ...func(*rds.Options)) (*rds.DescribeDBParameterGroupsOutput, error)
		DescribeDBSubnetGroups(ctx context.Context, in *rds.DescribeDBSubnetGroupsInput, optFns ...func(*rds.Options)) (*rds.DescribeDBSubnetGroupsOutput, error)
		DescribeOptionGroups(ctx context.Context, in *rds.DescribeOptionGroupsInput, optFns ...func(*rds.Options)) (*rds.DescribeOptionGroupsOutput, error)
		DescribeDBSnapshots(ctx context.Context, in *rds.DescribeDBSnapshotsInput, optFns ...func(*rds.Options)) (*rds.DescribeDBSnapshotsOutput, error)
		DescribeDBInstances(ctx context.Context, in *rds.DescribeDBInstancesInput, optFns ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
	}
	// BackupAPI lists the recovery points of a vault.
	BackupAPI interface {
		ListRecoveryPointsByBackupVault(ctx context.Context, in *backup.ListRecoveryPointsByBackupVaultInput, optFns ...func(*backup.Options)) (*backup.ListRecoveryPointsByBackupVaultOutput, error)
	}
	// S3API reads a bucket's replication configuration.
	S3API interface {
		GetBucketReplication(ctx context.Context, in *s3.GetBucketReplicationInput, optFns ...func(*s3.Options)) (*s3.GetBucketReplicationOutput, error)
	}
	// SecretsAPI describes a secret (never reads its value).
	SecretsAPI interface {
		DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	}
	// Route53API finds a hosted zone by name and lists its record sets.
	Route53API interface {
		ListHostedZonesByName(ctx context.Context, in *route53.ListHostedZonesByNameInput, optFns ...func(*route53.Options)) (*route53.ListHostedZonesByNameOutput, error)
		ListResourceRecordSets(ctx context.Context, in *route53.ListResourceRecordSetsInput, optFns ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error)
	}
	// ElastiCacheAPI reads the cache's replication group and subnet group.
	ElastiCacheAPI interface {
		DescribeReplicationGroups(ctx context.Context, in *elasticache.DescribeReplicationGroupsInput, optFns ...func(*elasticache.Options)) (*elasticache.DescribeReplicationGroupsOutput, error)
		DescribeCacheSubnetGroups(ctx context.Context, in *elasticache.DescribeCacheSubnetGroupsInput, optFns ...func(*elasticache.Options)) (*elasticache.DescribeCacheSubnetGroupsOutput, error)
	}
	// KMSAPI describes a key (never uses it).
	KMSAPI interface {
		DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	}
	// SNSAPI lists the region's topics.
	SNSAPI interface {
		ListTopics(ctx context.Context, in *sns.ListTopicsInput, optFns ...func(*sns.Options)) (*sns.ListTopicsOutput, error)
	}
)

// Clients are the AWS clients of one region; Route53 is global. A check whose client is nil
// fails with "no client".
type Clients struct {
	EC2         EC2API
	ELB         ELBAPI
	ECS         ECSAPI
	RDS         RDSAPI
	Backup      BackupAPI
	S3          S3API
	Secrets     SecretsAPI
	Route53     Route53API
	ElastiCache ElastiCacheAPI
	KMS         KMSAPI
	SNS         SNSAPI
}

// Config configures the checks of one region. Region is required; every other zero field
// takes the default written on it. What to check comes from the system each Run is given,
// not from here.
type Config struct {
	// Region is the region the agent serves and the checks look at. The system names the
	// region's role (primary or secondary) and its resources.
	Region string
	// Retention is the minimum automated backup retention of the primary's database;
	// default 30 days. It is rounded up to whole days.
	Retention time.Duration
	// EFSMaxAge is the age beyond which the newest EFS recovery point copy in the
	// secondary's backup vault fails; default 26 h: a daily AWS Backup plan plus a 2 h
	// margin for the backup and copy jobs. EFS is copied daily by design, so an age over
	// the RPO is only mentioned in the detail, not graded.
	EFSMaxAge time.Duration
	// MinSubnets is the minimum number of subnets of the region's VPC; default 2. They
	// must also span at least two Availability Zones (one when MinSubnets is 1).
	MinSubnets int
	// CheckTimeout bounds each check, its AWS calls and retries included; default 10 s.
	CheckTimeout time.Duration
	// Clock is the time source for ages and checked_unix_nano; default time.Now.
	Clock func() time.Time

	// Clients, when set, are used as they are for every region (tests, fakes). Otherwise
	// New builds Region's from the AWS default credential chain, pointed at Endpoint when
	// that is set, and a check that calls another region (S3 replication is read in the
	// source bucket's region) builds that region's when it first needs them.
	Clients *Clients
	// Endpoint, when set, sends every AWS call there (awssim, moto_server).
	Endpoint string
	// ConfigOptions are extra options for config.LoadDefaultConfig (static credentials,
	// another retryer ...). They apply after the defaults: three attempts with at most
	// 1 s between them and no client-side retry quota, so a region that is down fails
	// each check within a second or two.
	ConfigOptions []func(*config.LoadOptions) error
	// HTTPClient, when set, replaces the SDK's HTTP client.
	HTTPClient aws.HTTPClient
	// Logger receives the SDK's own log lines (rare warnings); nil discards them. The
	// checks themselves never log: everything they find is in the report.
	Logger *slog.Logger
}

// ErrConfig marks a Config that New rejects; the message names the field.
var ErrConfig = errors.New("readiness: bad config")

// withDefaults validates c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.Region == "" {
		errs = append(errs, errors.New("field Region: required"))
	} else if err := security.ValidateRegion(c.Region); err != nil {
		errs = append(errs, fmt.Errorf("field Region: %w", err))
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"Retention", &c.Retention, DefaultRetention}, {"EFSMaxAge", &c.EFSMaxAge, DefaultEFSMaxAge},
		{"CheckTimeout", &c.CheckTimeout, DefaultCheckTimeout},
	} {
		switch {
		case *d.v < 0:
			errs = append(errs, fmt.Errorf("field %s %s: must not be negative", d.name, *d.v))
		case *d.v == 0:
			*d.v = d.def
		}
	}
	switch {
	case c.MinSubnets < 0:
		errs = append(errs, fmt.Errorf("field MinSubnets %d: must not be negative", c.MinSubnets))
	case c.MinSubnets == 0:
		c.MinSubnets = DefaultMinSubnets
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c, nil
}

// newClients builds the SDK clients of region.
func newClients(ctx context.Context, c Config, region string) (*Clients, error) {
	opts := awsx.Options{HTTPClient: c.HTTPClient}
	opts.ConfigOptions = append([]func(*config.LoadOptions) error{
		config.WithLogger(sdkLogger(c.Logger)),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.MaxBackoff = time.Second
				o.RateLimiter = ratelimit.None
			})
		}),
	}, c.ConfigOptions...)
	cl, err := awsx.NewClients(ctx, region, c.Endpoint, opts)
	if err != nil {
		return nil, fmt.Errorf("readiness: clients for %s: %w", region, err)
	}
	return &Clients{
		EC2: cl.EC2, ELB: cl.ELBv2, ECS: cl.ECS, RDS: cl.RDS, Backup: cl.Backup, S3: cl.S3,
		Secrets: cl.SecretsManager, Route53: cl.Route53, ElastiCache: cl.ElastiCache,
		KMS: kms.NewFromConfig(cl.Config), SNS: cl.SNS,
	}, nil
}

// sdkLogger sends the SDK's log lines to l, or nowhere: the SDK's default logger writes to
// stderr.
func sdkLogger(l *slog.Logger) logging.Logger {
	if l == nil {
		return logging.Nop{}
	}
	return logging.LoggerFunc(func(cl logging.Classification, format string, v ...any) {
		level := slog.LevelDebug
		if cl == logging.Warn {
			level = slog.LevelWarn
		}
		l.Log(context.Background(), level, fmt.Sprintf(format, v...), "component", "readiness", "source", "aws-sdk")
	})
}
