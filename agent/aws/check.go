package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
)

// The plan-step checks (`kirikae plan check`): for each action whose step can go wrong on
// what the account holds, a checker (action.Checker) that reads the account before the run
// and says what the step would meet. The checkers live in check_*.go, one file per
// service as the executors do, and judge by the executors' own rules (the zone an alias
// uses, the snapshot a restore chooses, how a task definition is named).
//
// Each checker takes narrow interfaces of Describe, List and Get calls only, so it cannot
// change AWS by construction; awssim's journal of mutating calls proves it in the tests.
//
// A call the endpoint does not implement (an emulator such as moto, which lacks some of
// them) leaves that part unchecked, as the Route 53 executor leaves TestDNSAnswer; on AWS,
// and on awssim, every call here exists.

// registerChecks registers the checkers next to the executors (Register).
func registerChecks(reg *action.Registry, clientsFor func(region string) (*Clients, error), opts Options) {
	ec2c := client(clientsFor, func(c *Clients) ec2CheckAPI { return c.EC2 })
	rdsc := client(clientsFor, func(c *Clients) rdsCheckAPI { return c.RDS })
	ecsc := client(clientsFor, func(c *Clients) ecsCheckAPI { return c.ECS })
	smc := client(clientsFor, func(c *Clients) secretsCheckAPI { return c.SecretsManager })
	snsc := client(clientsFor, func(c *Clients) snsCheckAPI { return c.SNS })
	elbc := client(clientsFor, func(c *Clients) elbCheckAPI { return c.ELBv2 })
	topics := &topicCheck{sns: snsc}
	reg.RegisterCheck(catalog.UpsertAlias.Name, &aliasCheck{route53: client(clientsFor, func(c *Clients) route53CheckAPI { return c.Route53 }), elb: elbc})
	reg.RegisterCheck(catalog.RegisterTaskDefinition.Name, &taskDefinitionCheck{ecs: ecsc, secrets: smc})
	reg.RegisterCheck(catalog.UpdateService.Name, &serviceCheck{ecs: ecsc})
	reg.RegisterCheck(catalog.RestoreSnapshot.Name, &restoreSnapshotCheck{rds: rdsc, ec2: ec2c, opts: opts})
	reg.RegisterCheck(catalog.CopySnapshot.Name, &copySnapshotCheck{rds: rdsc, opts: opts})
	reg.RegisterCheck(catalog.Delete.Name, &deleteCheck{rds: rdsc})
	reg.RegisterCheck(catalog.CreateReplicationGroup.Name, &replicationGroupCheck{
		elasticache: client(clientsFor, func(c *Clients) elastiCacheCheckAPI { return c.ElastiCache }), ec2: ec2c})
	reg.RegisterCheck(catalog.SecretPut.Name, &secretCheck{secrets: smc})
	reg.RegisterCheck(catalog.VerifyNetwork.Name, &networkCheck{ec2: ec2c})
	reg.RegisterCheck(catalog.WaitHealthy.Name, &targetGroupCheck{elb: elbc})
	reg.RegisterCheck(catalog.RestoreLatest.Name, &recoveryPointCheck{backup: client(clientsFor, func(c *Clients) backupCheckAPI { return c.Backup }), opts: opts})
	reg.RegisterCheck(catalog.PutAlarm.Name, action.CheckerFunc(topics.alarm))
	reg.RegisterCheck(catalog.Notify.Name, action.CheckerFunc(topics.notify))
	reg.RegisterCheck(catalog.Publish.Name, action.CheckerFunc(topics.publish))
}

// checkIAM lists, per action, the IAM actions its check calls: what the agent's role needs
// besides the executor's (catalog.Spec.IAM) for `kirikae plan check` to read the account.
var checkIAM = map[string][]string{
	catalog.UpsertAlias.Name:            {"route53:GetHostedZone", "route53:ListHostedZonesByName", "elasticloadbalancing:DescribeLoadBalancers"},
	catalog.RegisterTaskDefinition.Name: {"ecs:DescribeTaskDefinition", "secretsmanager:DescribeSecret"},
	catalog.UpdateService.Name:          {"ecs:DescribeClusters", "ecs:DescribeServices", "ecs:DescribeTaskDefinition"},
	catalog.RestoreSnapshot.Name:        {"rds:DescribeDBSubnetGroups", "rds:DescribeDBSnapshots", "ec2:DescribeSecurityGroups"},
	catalog.CopySnapshot.Name:           {"rds:DescribeDBSnapshots", "kms:DescribeKey"},
	catalog.Delete.Name:                 {"rds:DescribeDBInstances", "rds:DescribeDBSnapshots"},
	catalog.CreateReplicationGroup.Name: {"elasticache:DescribeCacheSubnetGroups", "ec2:DescribeSecurityGroups"},
	catalog.SecretPut.Name:              {"secretsmanager:DescribeSecret"},
	catalog.VerifyNetwork.Name:          {"ec2:DescribeVpcs", "ec2:DescribeSecurityGroups"},
	catalog.WaitHealthy.Name:            {"elasticloadbalancing:DescribeTargetGroups"},
	catalog.RestoreLatest.Name:          {"backup:ListRecoveryPointsByBackupVault", "backup:ListBackupVaults"},
	catalog.PutAlarm.Name:               {"sns:GetTopicAttributes"},
	catalog.Notify.Name:                 {"sns:GetTopicAttributes"},
	catalog.Publish.Name:                {"sns:GetTopicAttributes"},
}

// CheckIAM lists the IAM actions ("service:Operation") the plan check of action calls,
// sorted; nil for an action without a check. The agent's role needs them besides the
// action's own (catalog.Spec.IAM) for `kirikae plan check` to read what it checks; without
// one, that part of the check is a check-error finding naming the call.
func CheckIAM(action string) []string {
	return slices.Sorted(slices.Values(checkIAM[action]))
}

// Read-only interfaces: every method a checker may call. None of them changes anything.
type (
	ec2CheckAPI interface {
		ec2.DescribeVpcsAPIClient
		ec2.DescribeSecurityGroupsAPIClient
	}
	rdsCheckAPI interface {
		rds.DescribeDBInstancesAPIClient
		rds.DescribeDBSnapshotsAPIClient
		rds.DescribeDBSubnetGroupsAPIClient
	}
	ecsCheckAPI interface {
		ecs.DescribeServicesAPIClient
		DescribeClusters(context.Context, *ecs.DescribeClustersInput, ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error)
		DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	}
	secretsCheckAPI interface {
		DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	}
	snsCheckAPI interface {
		GetTopicAttributes(context.Context, *sns.GetTopicAttributesInput, ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error)
	}
	elbCheckAPI interface {
		elbv2.DescribeLoadBalancersAPIClient
		elbv2.DescribeTargetGroupsAPIClient
	}
	route53CheckAPI interface {
		GetHostedZone(context.Context, *route53.GetHostedZoneInput, ...func(*route53.Options)) (*route53.GetHostedZoneOutput, error)
		ListHostedZonesByName(context.Context, *route53.ListHostedZonesByNameInput, ...func(*route53.Options)) (*route53.ListHostedZonesByNameOutput, error)
	}
	elastiCacheCheckAPI interface {
		elasticache.DescribeCacheSubnetGroupsAPIClient
	}
	backupCheckAPI interface {
		backup.ListRecoveryPointsByBackupVaultAPIClient
		backup.ListBackupVaultsAPIClient
	}
)

// findings collects one step's findings.
type findings struct {
	step action.CheckStep
	list []catalog.Finding
}

func newFindings(s action.CheckStep) *findings { return &findings{step: s} }

func (f *findings) add(input, code, problem, fix string) {
	f.list = append(f.list, catalog.Finding{Step: f.step.StepID, Input: input, Code: code, Problem: problem, Fix: fix})
}

func (f *findings) missing(input, problem, fix string) {
	f.add(input, catalog.FindingMissingResource, problem, fix)
}

func (f *findings) invalid(err error) []catalog.Finding {
	f.list = append(f.list, action.InvalidInputFinding(f.step, err))
	return f.list
}

// failed records a call that failed otherwise than "not found": call is its IAM action
// name, e.g. ec2:DescribeSecurityGroups.
func (f *findings) failed(input, call, region string, err error) {
	fix := fmt.Sprintf("check again once %s answers in %s; until then this input is not verified", strings.SplitN(call, ":", 2)[0], region)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		fix = "check again with more time; the check was cut short before this input was verified"
	case isCode(err, "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError", "UnauthorizedException", "AuthFailure"):
		fix = fmt.Sprintf("allow %s in %s to the agent's role (kirikae plan check reads with it), then check again", call, region)
	}
	f.add(input, catalog.FindingCheckError, fmt.Sprintf("%s in %s failed: %v", call, region, err), fix)
}

// noClients records that the clients of region could not be built: nothing of the step
// can be read there.
func (f *findings) noClients(region string, err error) []catalog.Finding {
	f.add("", catalog.FindingCheckError, fmt.Sprintf("no AWS clients for %q: %v", region, err),
		"give the step a region this agent serves, then check again")
	return f.list
}

// oneOf names the candidates a fix can offer: "x", or "one of x, y, z", at most ten.
func oneOf(names []string) string {
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	switch {
	case len(names) == 0:
		return "none"
	case len(names) == 1:
		return names[0]
	case len(names) > 10:
		return fmt.Sprintf("one of %s … (%d in all)", strings.Join(names[:10], ", "), len(names))
	}
	return "one of " + strings.Join(names, ", ")
}

// secretRef reads a secret reference (a name, or a Secrets Manager ARN, possibly with an
// ECS JSON-key suffix) as the secret to describe and the region it is in; ok is false for
// references that are no Secrets Manager secret (an SSM parameter ARN).
func secretRef(ref, region string) (id, in string, ok bool) {
	if !strings.HasPrefix(ref, "arn:") {
		return ref, region, true
	}
	f := strings.Split(ref, ":")
	if len(f) < 7 || f[2] != "secretsmanager" || f[5] != "secret" {
		return "", "", false
	}
	return strings.Join(f[:7], ":"), f[3], true
}
