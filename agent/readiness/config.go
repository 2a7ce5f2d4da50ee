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
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/logging"

	awsx "github.com/kirikae/kirikae/agent/aws"
	"github.com/kirikae/kirikae/security"
)

// Role says which side of the region pair an agent checks.
type Role string

const (
	// RoleDR is the standby region (us-west-2 in seed 001): the network, ALB, ECS cluster,
	// RDS groups, snapshot and backup copies, secrets, S3 replication and DNS.
	RoleDR Role = "dr"
	// RolePrimary is the production region (us-east-1): backup retention and PITR of the
	// source instance, its secrets, S3 replication and DNS.
	RolePrimary Role = "primary"
)

// Defaults for the zero fields of Config, from seed 001.
const (
	DefaultRPO           = time.Hour
	DefaultRetention     = 30 * 24 * time.Hour
	DefaultEFSMaxAge     = 24*time.Hour + DefaultEFSMargin
	DefaultEFSMargin     = 2 * time.Hour
	DefaultCheckTimeout  = 10 * time.Second
	DefaultPrimaryRegion = "us-east-1"
	DefaultMinSubnets    = 2
)

// Names are the resources the checks look at. Every empty field takes the seed's name
// (see DefaultNames); the secrets default per role.
type Names struct {
	// VPCName is the Name tag of the DR VPC.
	VPCName string
	// LoadBalancer and TargetGroup are the DR ALB and its target group.
	LoadBalancer, TargetGroup string
	// Cluster and Service are the DR ECS cluster and its (0-task) service.
	Cluster, Service string
	// DBParameterGroup and DBSubnetGroup are the RDS groups built in advance.
	DBParameterGroup, DBSubnetGroup string
	// DBOptionGroup is checked only when set: PostgreSQL needs no option group and the
	// seed names none.
	DBOptionGroup string
	// SourceDB is the production instance whose snapshots are copied to the DR region.
	SourceDB string
	// BackupVault holds the EFS recovery point copies in the DR region.
	BackupVault string
	// SourceBucket replicates to DestinationBucket (S3 CRR).
	SourceBucket, DestinationBucket string
	// Secrets must exist in the region; default the role's db and redis endpoint secrets.
	Secrets []string
	// HostedZoneID holds RecordName of type RecordType.
	HostedZoneID, RecordName, RecordType string
}

// DefaultNames returns the seed's names for role.
func DefaultNames(role Role) Names {
	env := "dr"
	if role == RolePrimary {
		env = "prod"
	}
	return Names{
		VPCName:           "kaigo-subsys-dr-vpc",
		LoadBalancer:      "kaigo-subsys-dr-alb",
		TargetGroup:       "kaigo-subsys-dr",
		Cluster:           "kaigo-subsys-dr",
		Service:           "kaigo-subsys-dr-service",
		DBParameterGroup:  "kaigo-subsys-postgres15",
		DBSubnetGroup:     "kaigo-subsys-dr-db-subnet-group",
		SourceDB:          "kaigo-subsys-prod",
		BackupVault:       "kaigo-subsys-dr-backup-vault",
		SourceBucket:      "kaigo-subsys-prod-backups",
		DestinationBucket: "kaigo-subsys-dr-backups",
		Secrets:           []string{"kaigo-subsys/" + env + "/db-endpoint", "kaigo-subsys/" + env + "/redis-endpoint"},
		HostedZoneID:      "Z1234567890ABC",
		RecordName:        "api.kaigo-subsys.example.com",
		RecordType:        "A",
	}
}

func (n Names) withDefaults(role Role) Names {
	d := DefaultNames(role)
	for _, f := range []struct{ v, def *string }{
		{&n.VPCName, &d.VPCName}, {&n.LoadBalancer, &d.LoadBalancer}, {&n.TargetGroup, &d.TargetGroup},
		{&n.Cluster, &d.Cluster}, {&n.Service, &d.Service}, {&n.DBParameterGroup, &d.DBParameterGroup},
		{&n.DBSubnetGroup, &d.DBSubnetGroup}, {&n.SourceDB, &d.SourceDB}, {&n.BackupVault, &d.BackupVault},
		{&n.SourceBucket, &d.SourceBucket}, {&n.DestinationBucket, &d.DestinationBucket},
		{&n.HostedZoneID, &d.HostedZoneID}, {&n.RecordName, &d.RecordName}, {&n.RecordType, &d.RecordType},
	} {
		if *f.v == "" {
			*f.v = *f.def
		}
	}
	if len(n.Secrets) == 0 {
		n.Secrets = d.Secrets
	}
	return n
}

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
	// Route53API lists record sets.
	Route53API interface {
		ListResourceRecordSets(ctx context.Context, in *route53.ListResourceRecordSetsInput, optFns ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error)
	}
)

// Clients are the AWS clients the checks use. EC2, ELB, ECS, RDS, Backup and Secrets are
// clients of Config.Region; S3 is a client of the source bucket's region
// (Config.PrimaryRegion), because S3 answers bucket configuration calls only there;
// Route53 is global. A check whose client is nil fails with "no client".
type Clients struct {
	EC2     EC2API
	ELB     ELBAPI
	ECS     ECSAPI
	RDS     RDSAPI
	Backup  BackupAPI
	S3      S3API
	Secrets SecretsAPI
	Route53 Route53API
}

// Config configures the checks. Region is required; every other zero field takes the
// default written on it.
type Config struct {
	// Region is the region the agent serves and the checks look at.
	Region string
	// Role is RoleDR or RolePrimary; default RolePrimary when Region is PrimaryRegion,
	// else RoleDR.
	Role Role
	// PrimaryRegion is the production region: where the source instance and the source
	// bucket live and where snapshot copies come from; default us-east-1.
	PrimaryRegion string
	// RPO is the recovery point objective; default 1 h (seed 001). The newest RDS
	// snapshot copy must be younger, and the source instance's latest restorable time
	// must lag less.
	RPO time.Duration
	// Retention is the minimum automated backup retention of the source instance;
	// default 30 days. It is rounded up to whole days.
	Retention time.Duration
	// EFSMaxAge is the age beyond which the newest EFS recovery point copy fails; default
	// 26 h: the daily AWS Backup plan (seed 001) plus a 2 h margin for the backup and copy
	// jobs. EFS is copied daily by design, so an age over RPO is only mentioned in the
	// detail, not graded.
	EFSMaxAge time.Duration
	// MinSubnets is the minimum number of subnets of the DR VPC; default 2. They must
	// also span at least two Availability Zones (one when MinSubnets is 1).
	MinSubnets int
	// CheckTimeout bounds each check, its AWS calls and retries included; default 10 s.
	CheckTimeout time.Duration
	// Names are the resources to check; empty fields take the seed's names.
	Names Names
	// Clock is the time source for ages and checked_unix_nano; default time.Now.
	Clock func() time.Time

	// Clients, when set, are used as they are (tests, fakes). Otherwise New builds them
	// from the AWS default credential chain, pointed at Endpoint when that is set.
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
	if c.PrimaryRegion == "" {
		c.PrimaryRegion = DefaultPrimaryRegion
	} else if err := security.ValidateRegion(c.PrimaryRegion); err != nil {
		errs = append(errs, fmt.Errorf("field PrimaryRegion: %w", err))
	}
	switch c.Role {
	case "":
		c.Role = RoleDR
		if c.Region == c.PrimaryRegion {
			c.Role = RolePrimary
		}
	case RoleDR, RolePrimary:
	default:
		errs = append(errs, fmt.Errorf("field Role %q: want %q or %q", c.Role, RoleDR, RolePrimary))
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"RPO", &c.RPO, DefaultRPO}, {"Retention", &c.Retention, DefaultRetention},
		{"EFSMaxAge", &c.EFSMaxAge, DefaultEFSMaxAge}, {"CheckTimeout", &c.CheckTimeout, DefaultCheckTimeout},
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
	if c.Role != RoleDR && c.Role != RolePrimary {
		c.Names = c.Names.withDefaults(RoleDR)
	} else {
		c.Names = c.Names.withDefaults(c.Role)
	}
	for i, s := range c.Names.Secrets {
		if s == "" {
			errs = append(errs, fmt.Errorf("field Names.Secrets[%d]: empty secret name", i))
		}
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c, nil
}

// newClients builds the SDK clients of c.Region, and an S3 client of c.PrimaryRegion.
func newClients(ctx context.Context, c Config) (*Clients, error) {
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
	local, err := awsx.NewClients(ctx, c.Region, c.Endpoint, opts)
	if err != nil {
		return nil, fmt.Errorf("readiness: clients for %s: %w", c.Region, err)
	}
	src := local
	if c.PrimaryRegion != c.Region {
		if src, err = awsx.NewClients(ctx, c.PrimaryRegion, c.Endpoint, opts); err != nil {
			return nil, fmt.Errorf("readiness: clients for %s: %w", c.PrimaryRegion, err)
		}
	}
	return &Clients{
		EC2: local.EC2, ELB: local.ELBv2, ECS: local.ECS, RDS: local.RDS, Backup: local.Backup,
		S3: src.S3, Secrets: local.SecretsManager, Route53: local.Route53,
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
