package readiness

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/system"
)

// Check names, stable across versions: the control plane records a report when a check's
// status changes, and operators grep for them.
const (
	CheckNetwork               = "ec2.dr-network"
	CheckPrimaryNetwork        = "ec2.network"
	CheckSecurityGroups        = "ec2.security-groups"
	CheckLoadBalancer          = "elbv2.load-balancer"
	CheckTargetGroup           = "elbv2.target-group"
	CheckECSCluster            = "ecs.cluster"
	CheckDBParameterGroup      = "rds.parameter-group"
	CheckDBOptionGroup         = "rds.option-group"
	CheckDBSubnetGroup         = "rds.subnet-group"
	CheckKMSKey                = "kms.key"
	CheckSnapshotCopyAge       = "rds.snapshot-copy-age"
	CheckBackupRetention       = "rds.backup-retention"
	CheckPITR                  = "rds.pitr"
	CheckCacheReplicationGroup = "elasticache.replication-group"
	CheckCacheSubnetGroup      = "elasticache.subnet-group"
	CheckEFSCopyAge            = "backup.efs-copy-age"
	CheckBackupVault           = "backup.vault"
	CheckS3Replication         = "s3.replication"
	CheckSecrets               = "secretsmanager.secrets"
	CheckSNSTopics             = "sns.topics"
	CheckDNSRecord             = "route53.record"
	CheckConfig                = "readiness.config"
	// CheckSystemStored is the one check while no system file is stored.
	CheckSystemStored = "system.stored"
	// CheckSystemRegion is the one check when the stored system's pair leaves out the
	// agent's region.
	CheckSystemRegion = "system.region"
)

// NoSystemDetail is the detail of CheckSystemStored.
const NoSystemDetail = "no system file stored: run kirikae system apply FILE"

const (
	statusOK   = kirikaev1.ReadinessStatus_READINESS_STATUS_OK
	statusWarn = kirikaev1.ReadinessStatus_READINESS_STATUS_WARN
	statusFail = kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL
	// skipped is the observed value of a check that does not apply to the role.
	skipped = "skipped"
)

// result is what one check found.
type result struct {
	status   kirikaev1.ReadinessStatus
	detail   string
	observed string
}

func ok(observed, format string, a ...any) result {
	return result{statusOK, fmt.Sprintf(format, a...), observed}
}

func warn(observed, format string, a ...any) result {
	return result{statusWarn, fmt.Sprintf(format, a...), observed}
}

func fail(observed, format string, a ...any) result {
	return result{statusFail, fmt.Sprintf(format, a...), observed}
}

// check is one named check; run gets a context bounded by Config.CheckTimeout.
type check struct {
	name string
	run  func(ctx context.Context) result
}

// Checker runs the readiness checks of one region against the system it is given. It is
// safe for concurrent use.
type Checker struct {
	cfg Config

	mu      sync.Mutex
	clients map[string]*Clients // by region, built on first use
}

// New validates cfg and builds the checker; without cfg.Clients it builds the SDK clients
// of cfg.Region from the AWS default credential chain (no AWS call is made here). The
// error wraps ErrConfig and names the field when cfg is bad.
func New(ctx context.Context, cfg Config) (*Checker, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Checker{cfg: cfg, clients: map[string]*Clients{}}
	if cfg.Clients == nil {
		if _, err := c.clientsFor(ctx, cfg.Region); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// clientsFor returns the clients of region: Config.Clients when set, else the SDK clients
// of the region, built once.
func (c *Checker) clientsFor(ctx context.Context, region string) (*Clients, error) {
	if c.cfg.Clients != nil {
		return c.cfg.Clients, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl := c.clients[region]; cl != nil {
		return cl, nil
	}
	cl, err := newClients(ctx, c.cfg, region)
	if err != nil {
		return nil, err
	}
	c.clients[region] = cl
	return cl, nil
}

// Checks returns the readiness function for agent.Config.Readiness. It is New with a
// background context; when cfg is bad the function reports a single failed
// "readiness.config" check naming the field, so the agent keeps running and the control
// plane shows why the region is not ready. Use New to reject a bad config at start-up.
func Checks(cfg Config) func(ctx context.Context, sys *system.System) []*kirikaev1.ReadinessCheck {
	c, err := New(context.Background(), cfg)
	if err != nil {
		clock := cfg.Clock
		if clock == nil {
			clock = time.Now
		}
		return func(context.Context, *system.System) []*kirikaev1.ReadinessCheck {
			return []*kirikaev1.ReadinessCheck{{Name: CheckConfig, Status: statusFail,
				Detail: err.Error(), CheckedUnixNano: clock().UnixNano()}}
		}
	}
	return c.Run
}

// Names lists the checks Run reports for sys, in order.
func (c *Checker) Names(sys *system.System) []string {
	checks := c.plan(sys)
	out := make([]string, len(checks))
	for i, ch := range checks {
		out[i] = ch.name
	}
	return out
}

// Config returns the checker's configuration with its defaults filled in.
func (c *Checker) Config() Config { return c.cfg }

// Run checks the agent's region as sys describes it: its role there (primary or secondary)
// and the resources it names. Every check runs concurrently, each bounded by
// Config.CheckTimeout and by ctx, and they come back in the stable order of Names. A check
// whose AWS call fails, times out or panics is FAIL with the cause as its detail.
//
// Without a system (nil) the report is one FAIL check, system.stored; when the system's
// pair leaves out Config.Region, one FAIL check, system.region.
func (c *Checker) Run(ctx context.Context, sys *system.System) []*kirikaev1.ReadinessCheck {
	checks := c.plan(sys)
	out := make([]*kirikaev1.ReadinessCheck, len(checks))
	var wg sync.WaitGroup
	for i, ch := range checks {
		wg.Go(func() {
			r := c.runOne(ctx, ch)
			out[i] = &kirikaev1.ReadinessCheck{Name: ch.name, Status: r.status, Detail: r.detail,
				Observed: r.observed, CheckedUnixNano: c.cfg.Clock().UnixNano()}
		})
	}
	wg.Wait()
	return out
}

// runOne runs ch in its own goroutine, so that neither a panic nor a client that ignores
// its context can take the report down or hold it past the check's timeout.
func (c *Checker) runOne(ctx context.Context, ch check) result {
	cctx, cancel := context.WithTimeout(ctx, c.cfg.CheckTimeout)
	defer cancel()
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fail("", "the check panicked: %v", p)
			}
		}()
		done <- ch.run(cctx)
	}()
	select {
	case r := <-done:
		return r
	case <-cctx.Done():
		// A client that ignores its context must not hold the whole report.
		if ctx.Err() != nil {
			return fail("", "canceled: the readiness run was stopped (%v)", context.Cause(ctx))
		}
		return fail("", "no answer within %s", c.cfg.CheckTimeout)
	}
}

// callFailed grades a failed AWS call: FAIL, naming the call and the cause.
func (c *Checker) callFailed(ctx context.Context, region, call string, err error) result {
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) && send.Err != nil && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fail("", "%s API unreachable: %s: %v", region, call, send.Err)
	}
	return fail("", "%s in %s: %s", call, region, c.describe(ctx, err))
}

// describe shortens the SDK's error chain to what an operator needs: a timeout, or the
// service's error code and message.
func (c *Checker) describe(ctx context.Context, err error) string {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s", c.cfg.CheckTimeout)
	}
	if errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled) {
		return "canceled: the readiness run was stopped"
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Sprintf("%s: %s", api.ErrorCode(), api.ErrorMessage())
	}
	return err.Error()
}

// isNotFound reports whether err is an AWS error whose code is one of codes.
func isNotFound(err error, codes ...string) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	for _, code := range codes {
		if api.ErrorCode() == code {
			return true
		}
	}
	return false
}

// Summarize rolls checks up as the control plane does: any FAIL makes the region not
// ready, with "name: detail" as the reason; a WARN is listed as "warning: name: detail"
// but leaves it ready. No checks at all is not ready: nothing was verified.
func Summarize(checks []*kirikaev1.ReadinessCheck) (ready bool, reasons []string) {
	if len(checks) == 0 {
		return false, []string{"no readiness checks ran"}
	}
	ready = true
	for _, ch := range checks {
		switch ch.GetStatus() {
		case statusFail:
			ready = false
			reasons = append(reasons, fmt.Sprintf("%s: %s", ch.GetName(), ch.GetDetail()))
		case statusWarn:
			reasons = append(reasons, fmt.Sprintf("warning: %s: %s", ch.GetName(), ch.GetDetail()))
		}
	}
	return ready, reasons
}

// age formats a duration for observed values: whole seconds, e.g. "21h0m0s".
func age(d time.Duration) string { return d.Truncate(time.Second).String() }
