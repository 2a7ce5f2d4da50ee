package aws

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/health"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/awshttp"
	"github.com/kirikae/kirikae/catalog"
)

// Options tune the executors. The zero value suits real AWS.
type Options struct {
	// MinDelay and MaxDelay bound the delay between polls of a waiter; zero means 5 s and
	// 60 s. Simulations at a small time scale use a few milliseconds.
	MinDelay, MaxDelay time.Duration
	// MaxWait bounds any single wait when the step's context has no deadline; zero means 6 h.
	MaxWait time.Duration
	// Now is the clock used for snapshot and recovery-point ages; nil means time.Now.
	Now func() time.Time
	// HealthRegion is where the AWS Health API is called; "" means us-east-1 (its global
	// endpoint) against real AWS, and the agent's own region when an endpoint is set.
	HealthRegion string
	// LookupHost, when set, resolves the alias target for the Route 53 answer check.
	LookupHost func(ctx context.Context, host string) ([]string, error)
	// Memo remembers SNS publishes so a re-dispatch does not publish twice; nil means
	// no memo (at-least-once).
	Memo action.Memo
	// HTTPClient, when set, replaces the SDK's HTTP client after the config is loaded (a
	// proxy, or a test transport); AWS_CA_BUNDLE then does not apply to it.
	HTTPClient aws.HTTPClient
	// ConfigOptions are extra options for config.LoadDefaultConfig (static credentials,
	// a retryer with short backoffs for tests ...).
	ConfigOptions []func(*config.LoadOptions) error
	// KMSKeyExists, when set, tells the plan checks whether a KMS key (key id, key ARN,
	// alias name or alias ARN) exists and is enabled in region (kms:DescribeKey). Nil: a
	// key's region is checked, not its existence; this package holds no KMS client.
	KMSKeyExists func(ctx context.Context, region, key string) (bool, error)
}

func (o Options) delays() (time.Duration, time.Duration) {
	lo, hi := o.MinDelay, o.MaxDelay
	if lo <= 0 {
		lo = 5 * time.Second
	}
	if hi <= 0 {
		hi = 60 * time.Second
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

func (o Options) backoff() action.Backoff {
	lo, hi := o.delays()
	return action.Backoff{Min: lo, Max: hi}
}

// maxWait is how long a waiter may wait: until ctx's deadline, else MaxWait.
func (o Options) maxWait(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d > 0 {
			return d
		}
		return time.Millisecond
	}
	if o.MaxWait > 0 {
		return o.MaxWait
	}
	return 6 * time.Hour
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Clients are the SDK clients of one region.
type Clients struct {
	Region         string
	Config         aws.Config
	Health         *health.Client
	EC2            *ec2.Client
	RDS            *rds.Client
	ElastiCache    *elasticache.Client
	Backup         *backup.Client
	EFS            *efs.Client
	SecretsManager *secretsmanager.Client
	ECS            *ecs.Client
	ELBv2          *elbv2.Client
	Route53        *route53.Client
	CloudWatch     *cloudwatch.Client
	SNS            *sns.Client
	STS            *sts.Client
	S3             *s3.Client
}

// NewClients loads the default credential chain for region and builds every client. When
// endpoint is not empty (awssim, moto_server) every client is pointed at it, and S3 uses
// path-style addressing.
func NewClients(ctx context.Context, region, endpoint string, opts Options) (*Clients, error) {
	if region == "" {
		return nil, fmt.Errorf("%w: region is required", action.ErrInvalidInput)
	}
	lo := append([]func(*config.LoadOptions) error{config.WithRegion(region)}, opts.ConfigOptions...)
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("aws config for %s: %w", region, err)
	}
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	if opts.HTTPClient != nil {
		cfg.HTTPClient = opts.HTTPClient
	}
	// Without this, a request answered in full can still fail on the SDK's own early close of
	// its body (see awshttp.KeepRequestBody): a retry, on a step that changes AWS.
	cfg.HTTPClient = awshttp.KeepRequestBody(cfg.HTTPClient)
	healthRegion := opts.HealthRegion
	if healthRegion == "" {
		healthRegion = "us-east-1"
		if endpoint != "" {
			healthRegion = region
		}
	}
	return &Clients{
		Region:         region,
		Config:         cfg,
		Health:         health.NewFromConfig(cfg, func(o *health.Options) { o.Region = healthRegion }),
		EC2:            ec2.NewFromConfig(cfg),
		RDS:            rds.NewFromConfig(cfg),
		ElastiCache:    elasticache.NewFromConfig(cfg),
		Backup:         backup.NewFromConfig(cfg),
		EFS:            efs.NewFromConfig(cfg),
		SecretsManager: secretsmanager.NewFromConfig(cfg),
		ECS:            ecs.NewFromConfig(cfg),
		ELBv2:          elbv2.NewFromConfig(cfg),
		Route53:        route53.NewFromConfig(cfg),
		CloudWatch:     cloudwatch.NewFromConfig(cfg),
		SNS:            sns.NewFromConfig(cfg),
		STS:            sts.NewFromConfig(cfg),
		S3:             s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = endpoint != "" }),
	}, nil
}

// ClientCache builds Clients once per region and hands them out; it is the clientsFor the
// agent passes to Register.
func ClientCache(ctx context.Context, endpoint string, opts Options) func(region string) (*Clients, error) {
	type entry struct {
		c   *Clients
		err error
	}
	var mu sync.Mutex
	cache := map[string]entry{}
	return func(region string) (*Clients, error) {
		mu.Lock()
		defer mu.Unlock()
		if e, ok := cache[region]; ok && e.err == nil {
			return e.c, nil
		}
		c, err := NewClients(ctx, region, endpoint, opts)
		cache[region] = entry{c, err}
		return c, err
	}
}

// client returns a per-region getter of one service's client out of clientsFor.
func client[T any](clientsFor func(region string) (*Clients, error), pick func(*Clients) T) func(region string) (T, error) {
	return func(region string) (T, error) {
		var zero T
		if region == "" {
			return zero, fmt.Errorf("%w: step has no region", action.ErrInvalidInput)
		}
		c, err := clientsFor(region)
		if err != nil {
			return zero, fmt.Errorf("aws clients for %s: %w", region, err)
		}
		return pick(c), nil
	}
}

// Register registers an executor for every AWS action of the catalog. clientsFor returns
// the clients of a step's region; it is called on each Execute, so it should cache (see
// ClientCache). http.check and notify are registered by action.RegisterBuiltins; give it
// Publisher(clientsFor) for SNS. It registers the read-only plan-step checkers too
// (action.Registry.Check; see check.go), notify's among them.
func Register(reg *action.Registry, clientsFor func(region string) (*Clients, error), opts Options) {
	rdsc := func(c *Clients) *rds.Client { return c.RDS }
	ecc := func(c *Clients) *elasticache.Client { return c.ElastiCache }
	ecsc := func(c *Clients) *ecs.Client { return c.ECS }
	reg.Register(catalog.HealthEvents.Name, &HealthEvents{Client: client(clientsFor, func(c *Clients) HealthAPI { return c.Health }), Opts: opts})
	reg.Register(catalog.VerifyNetwork.Name, &VerifyNetwork{Client: client(clientsFor, func(c *Clients) EC2API { return c.EC2 }), Opts: opts})
	reg.Register(catalog.RestoreSnapshot.Name, &RDSRestoreSnapshot{Client: client(clientsFor, func(c *Clients) RDSRestoreAPI { return rdsc(c) }), Opts: opts})
	reg.Register(catalog.RestorePointInTime.Name, &RDSRestorePointInTime{Client: client(clientsFor, func(c *Clients) RDSPointInTimeAPI { return rdsc(c) }), Opts: opts})
	reg.Register(catalog.Snapshot.Name, &RDSSnapshot{Client: client(clientsFor, func(c *Clients) RDSSnapshotAPI { return rdsc(c) }), Opts: opts})
	reg.Register(catalog.CopySnapshot.Name, &RDSCopySnapshot{Client: client(clientsFor, func(c *Clients) RDSCopyAPI { return rdsc(c) }), Opts: opts})
	reg.Register(catalog.Delete.Name, &RDSDelete{Client: client(clientsFor, func(c *Clients) RDSDeleteAPI { return rdsc(c) }), Opts: opts})
	reg.Register(catalog.DeleteRestored.Name, &RDSDeleteRestored{Client: client(clientsFor, func(c *Clients) RDSDeleteRestoredAPI { return rdsc(c) }), Opts: opts})
	reg.Register(catalog.Stop.Name, &RDSStop{Client: client(clientsFor, func(c *Clients) RDSStopAPI { return rdsc(c) }), Opts: opts})
	reg.Register(catalog.CreateReplicationGroup.Name, &ElastiCacheCreate{Client: client(clientsFor, func(c *Clients) ElastiCacheCreateAPI { return ecc(c) }), Opts: opts})
	reg.Register(catalog.DeleteReplicationGroup.Name, &ElastiCacheDelete{Client: client(clientsFor, func(c *Clients) ElastiCacheDeleteAPI { return ecc(c) }), Opts: opts})
	reg.Register(catalog.RestoreLatest.Name, &BackupRestoreLatest{Client: client(clientsFor, func(c *Clients) BackupAPI { return c.Backup }), Opts: opts})
	reg.Register(catalog.DeleteRestoredJob.Name, &BackupDeleteRestored{Backup: client(clientsFor, func(c *Clients) BackupJobAPI { return c.Backup }),
		EFS: client(clientsFor, func(c *Clients) EFSDeleteAPI { return c.EFS }), Opts: opts})
	reg.Register(catalog.DeleteFileSystem.Name, &EFSDeleteFileSystem{Client: client(clientsFor, func(c *Clients) EFSDeleteAPI { return c.EFS }), Opts: opts})
	reg.Register(catalog.SecretPut.Name, &SecretPut{Client: client(clientsFor, func(c *Clients) SecretsAPI { return c.SecretsManager }), Opts: opts})
	reg.Register(catalog.SecretRestoreVersion.Name, &SecretRestoreVersion{Client: client(clientsFor, func(c *Clients) SecretsRestoreAPI { return c.SecretsManager }), Opts: opts})
	reg.Register(catalog.RegisterTaskDefinition.Name, &ECSRegisterTaskDefinition{Client: client(clientsFor, func(c *Clients) ECSRegisterAPI { return ecsc(c) }), Opts: opts})
	reg.Register(catalog.DeregisterTaskDefinition.Name, &ECSDeregisterTaskDefinition{Client: client(clientsFor, func(c *Clients) ECSDeregisterAPI { return ecsc(c) }), Opts: opts})
	reg.Register(catalog.UpdateService.Name, &ECSUpdateService{Client: client(clientsFor, func(c *Clients) ECSServiceAPI { return ecsc(c) }), Opts: opts})
	reg.Register(catalog.WaitHealthy.Name, &ELBWaitHealthy{Client: client(clientsFor, func(c *Clients) ELBAPI { return c.ELBv2 }), Opts: opts})
	reg.Register(catalog.UpsertAlias.Name, &Route53UpsertAlias{Client: client(clientsFor, func(c *Clients) Route53API { return c.Route53 }),
		LoadBalancers: client(clientsFor, func(c *Clients) elbv2.DescribeLoadBalancersAPIClient { return c.ELBv2 }), Opts: opts})
	reg.Register(catalog.PutAlarm.Name, &CloudWatchPutAlarm{Client: client(clientsFor, func(c *Clients) CloudWatchAPI { return c.CloudWatch }), Opts: opts})
	reg.Register(catalog.DeleteAlarm.Name, &CloudWatchDeleteAlarm{Client: client(clientsFor, func(c *Clients) CloudWatchDeleteAPI { return c.CloudWatch }), Opts: opts})
	reg.Register(catalog.Publish.Name, &SNSPublish{Client: client(clientsFor, func(c *Clients) SNSAPI { return c.SNS }), Opts: opts})
	registerChecks(reg, clientsFor, opts)
}
