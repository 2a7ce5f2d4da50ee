package aws_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"

	"github.com/kirikae/kirikae/plan"
)

// calls records the AWS operations a set of SDK clients make, as IAM action names.
type calls struct {
	mu  sync.Mutex
	ops map[string]bool
}

// iamPrefix maps the SDK's service ids to the service prefixes of IAM action names.
var iamPrefix = map[string]string{
	"RDS": "rds", "ElastiCache": "elasticache", "Backup": "backup", "EFS": "elasticfilesystem",
	"Secrets Manager": "secretsmanager", "ECS": "ecs", "Elastic Load Balancing v2": "elasticloadbalancing",
	"Route 53": "route53", "CloudWatch": "cloudwatch", "SNS": "sns", "EC2": "ec2", "Health": "health", "STS": "sts",
}

func (c *calls) option() func(*config.LoadOptions) error {
	return config.WithAPIOptions([]func(*middleware.Stack) error{func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("kirikae-record-call", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			svc, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
			name := svc + ":" + op
			if p, ok := iamPrefix[svc]; ok {
				name = p + ":" + op
			}
			c.mu.Lock()
			c.ops[name] = true
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	}})
}

func (c *calls) reset() {
	c.mu.Lock()
	c.ops = map[string]bool{}
	c.mu.Unlock()
}

func (c *calls) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for op := range c.ops {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// TestIAMCoversEveryCall runs every executor against awssim, twice (as a first attempt
// and as a rerun), and checks that the catalog declares, as the action's IAM actions,
// every AWS operation the executor called: a policy made from the catalog lets it work.
func TestIAMCoversEveryCall(t *testing.T) {
	for _, c := range simCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rec := &calls{ops: map[string]bool{}}
			e := newSimEnv(t)
			e.opts.ConfigOptions = append(e.opts.ConfigOptions, rec.option())
			e.restart(t)
			if c.setup != nil {
				c.setup(t, e, c.with)
			}
			rec.reset()
			s := step(c.action, c.region, c.with)
			if _, _, err := e.exec(testCtx(t), s); err != nil {
				t.Fatalf("first run: %v", err)
			}
			s.Attempt = 2
			if _, _, err := e.exec(testCtx(t), s); err != nil {
				t.Fatalf("second run: %v", err)
			}
			declared := actionOf(t, c.action).IAM
			var missing []string
			for _, op := range rec.list() {
				if !slices.Contains(declared, op) {
					missing = append(missing, op)
				}
			}
			if len(missing) > 0 {
				t.Errorf("%s called %s, which its IAM actions %v do not cover", c.action, strings.Join(missing, ", "), declared)
			}
		})
	}
}

// actionOf is the catalog's definition of name; the test fails without one.
func actionOf(t *testing.T, name string) plan.Action {
	t.Helper()
	a, ok := plan.ActionOf(name)
	if !ok {
		t.Fatalf("no action %s in the catalog", name)
	}
	return a
}
