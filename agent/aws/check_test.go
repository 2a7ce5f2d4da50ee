package aws_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kirikae/kirikae/agent/action"
	agentaws "github.com/kirikae/kirikae/agent/aws"
	"github.com/kirikae/kirikae/awssim"
	"github.com/kirikae/kirikae/catalog"
)

// checkCase is one step checked against the kaigo fixture before any run.
type checkCase struct {
	name   string
	action string
	region string
	with   map[string]any
	// setup completes `with` from the fixture (ids kirikae cannot know in advance).
	setup func(t *testing.T, e *env, with map[string]any)
	// want is the one finding's code and input; "" means no finding.
	code, input string
	// says are words the finding's problem and fix must hold, e.g. both zone ids.
	problem, fix []string
}

// sgID is the id of the security group named name in region.
func sgID(t *testing.T, e *env, region, name string) string {
	t.Helper()
	out, err := e.clients(t, region).EC2.DescribeSecurityGroups(testCtx(t), &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{name}}}})
	if err != nil || len(out.SecurityGroups) != 1 {
		t.Fatalf("security group %s in %s: %v (%d found)", name, region, err, len(out.SecurityGroups))
	}
	return aws.ToString(out.SecurityGroups[0].GroupId)
}

func withSG(key, region, name string) func(t *testing.T, e *env, with map[string]any) {
	return func(t *testing.T, e *env, with map[string]any) {
		with[key] = []any{sgID(t, e, region, name)}
	}
}

const deletedSG = "sg-0dead00000000beef" // the shape of an id, of no group

func drRestore(extra map[string]any) map[string]any {
	with := map[string]any{"instanceId": awssim.KaigoDRInstance, "sourceInstance": awssim.KaigoProdInstance,
		"instanceClass": "db.r6g.large", "subnetGroup": awssim.KaigoDRSubnetGroup, "maxAge": "1h", "allowDataLoss": true}
	for k, v := range extra {
		with[k] = v
	}
	return with
}

func alias(extra map[string]any) map[string]any {
	with := map[string]any{"hostedZoneId": awssim.KaigoHostedZoneID, "recordName": "api.kaigo-subsys.example.com"}
	for k, v := range extra {
		with[k] = v
	}
	return with
}

// cleanChecks are the seed plans' steps as they should be written: no finding.
func cleanChecks() []checkCase {
	return []checkCase{
		{name: "alias/literal", action: "aws.route53.upsertAlias", region: west,
			with: alias(map[string]any{"targetDnsName": awssim.KaigoALBDNS(west), "targetHostedZoneId": awssim.KaigoALBZoneID(west)})},
		{name: "alias/dualstack", action: "aws.route53.upsertAlias", region: west,
			with: alias(map[string]any{"targetDnsName": "dualstack." + strings.ToUpper(awssim.KaigoALBDNS(west)) + ".", "targetHostedZoneId": awssim.KaigoALBZoneID(west)})},
		{name: "alias/byName", action: "aws.route53.upsertAlias", region: west,
			with: map[string]any{"hostedZone": "kaigo-subsys.example.com", "recordName": "api.kaigo-subsys.example.com", "targetLoadBalancer": awssim.KaigoDRALBName}},
		{name: "alias/cutback", action: "aws.route53.upsertAlias", region: east,
			with: alias(map[string]any{"targetLoadBalancer": awssim.KaigoProdALBName})},
		{name: "alias/notALoadBalancer", action: "aws.route53.upsertAlias", region: west,
			with: alias(map[string]any{"targetDnsName": "d111111abcdef8.cloudfront.net", "targetHostedZoneId": "Z2FDTNDATAQYW2"})},
		{name: "registerTaskDefinition", action: "aws.ecs.registerTaskDefinition", region: west,
			with: map[string]any{"family": awssim.KaigoDRTaskFamily, "image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/kaigo-subsys:dr",
				"secrets": map[string]any{"DB_ENDPOINT": awssim.KaigoDRDBSecret, "REDIS_ENDPOINT": awssim.KaigoDRRedisSecret,
					"API_KEY": "arn:aws:ssm:us-west-2:123456789012:parameter/kaigo/api-key"}}},
		{name: "updateService/family", action: "aws.ecs.updateService", region: west,
			with: map[string]any{"cluster": awssim.KaigoDRCluster, "service": awssim.KaigoDRService, "desiredCount": 2, "taskDefinition": awssim.KaigoDRTaskFamily}},
		{name: "updateService/pinned", action: "aws.ecs.updateService", region: west,
			with: map[string]any{"cluster": awssim.KaigoDRCluster, "service": awssim.KaigoDRService, "desiredCount": "2", "taskDefinition": awssim.KaigoDRTaskFamily + ":1"}},
		{name: "updateService/noTaskDefinition", action: "aws.ecs.updateService", region: east,
			with: map[string]any{"cluster": awssim.KaigoProdCluster, "service": awssim.KaigoProdService, "desiredCount": 2, "forceNewDeployment": true}},
		{name: "restoreSnapshot/allowDataLoss", action: "aws.rds.restoreSnapshot", region: west,
			with: drRestore(nil), setup: withSG("securityGroups", west, "kaigo-subsys-dr-rds-sg")},
		{name: "restoreSnapshot/withinRPO", action: "aws.rds.restoreSnapshot", region: west,
			with: drRestore(map[string]any{"maxAge": "3d", "allowDataLoss": false})},
		{name: "copySnapshot", action: "aws.rds.copySnapshot", region: east,
			with: map[string]any{"sourceRegion": west, "targetSnapshotId": "kaigo-subsys-prod-cutback",
				"kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/prod-key-id"},
			setup: func(t *testing.T, e *env, with map[string]any) {
				_, arn, _ := newestSnapshot(t, e, west)
				with["sourceSnapshotArn"] = arn
			}},
		{name: "createReplicationGroup", action: "aws.elasticache.createReplicationGroup", region: west,
			with:  map[string]any{"replicationGroupId": "kaigo-subsys-dr", "subnetGroup": awssim.KaigoDRCacheSubnets},
			setup: withSG("securityGroups", west, "kaigo-subsys-dr-elasticache-sg")},
		{name: "secretPut", action: "aws.secretsmanager.put", region: west,
			with: map[string]any{"secretId": awssim.KaigoDRDBSecret, "value": "kaigo-subsys-dr.example"}},
		{name: "verifyNetwork", action: "aws.ec2.verifyNetwork", region: west,
			with: map[string]any{"vpcName": awssim.KaigoDRVPCName, "securityGroups": []any{"kaigo-subsys-dr-rds-sg", "kaigo-subsys-dr-alb-sg"}}},
		{name: "waitHealthy/name", action: "aws.elbv2.waitHealthy", region: west,
			with: map[string]any{"targetGroupName": awssim.KaigoDRTargetGroup, "count": 2}},
		{name: "waitHealthy/arn", action: "aws.elbv2.waitHealthy", region: west,
			with: map[string]any{"targetGroupArn": awssim.KaigoTargetGroupARN(west)}},
		{name: "backupRestore", action: "aws.backup.restoreLatest", region: west,
			with: map[string]any{"vault": awssim.KaigoDRVault, "iamRoleArn": "arn:aws:iam::123456789012:role/AWSBackupDefaultServiceRole", "maxAge": "2d"}},
		{name: "putAlarm", action: "aws.cloudwatch.putAlarm", region: west,
			with: map[string]any{"alarmName": "kaigo-subsys-dr-ecs-cpu-critical", "metricName": "CPUUtilization", "namespace": "AWS/ECS",
				"threshold": "90", "alarmActions": []any{awssim.KaigoDRAlertsTopic}}},
		{name: "notify", action: "notify", region: west,
			with: map[string]any{"topicArn": awssim.KaigoDRAlertsTopic, "message": "failover started"}},
		{name: "publish", action: "aws.sns.publish", region: west,
			with: map[string]any{"topicArn": awssim.KaigoDRAlertsTopic, "message": "failover started"}},
		{name: "delete", action: "aws.rds.delete", region: east,
			with: map[string]any{"instanceId": awssim.KaigoProdInstance, "finalSnapshotId": "kaigo-subsys-prod-final"},
			setup: func(t *testing.T, e *env, with map[string]any) {
				id, _, _ := newestSnapshot(t, e, east)
				with["verifiedCopy"] = id
			}},
		{name: "noChecker", action: "http.check", region: west, with: map[string]any{"url": "http://127.0.0.1:1/health"}},
	}
}

// mistakeChecks are inputs that would fail the run, each found before it.
func mistakeChecks() []checkCase {
	return []checkCase{
		// The seed's row 1: the alias to the us-west-2 ALB in zone Z1BKCTXD74EZPE.
		{name: "alias/seedZone", action: "aws.route53.upsertAlias", region: west,
			with: alias(map[string]any{"targetDnsName": awssim.KaigoALBDNS(west), "targetHostedZoneId": "Z1BKCTXD74EZPE"}),
			code: catalog.FindingAliasZoneMismatch, input: "targetHostedZoneId",
			problem: []string{"Z1BKCTXD74EZPE", awssim.KaigoALBZoneID(west), awssim.KaigoDRALBName},
			fix:     []string{"targetHostedZoneId: " + awssim.KaigoALBZoneID(west), "targetLoadBalancer: " + awssim.KaigoDRALBName}},
		{name: "alias/noSuchDNSName", action: "aws.route53.upsertAlias", region: west,
			with: alias(map[string]any{"targetDnsName": "kaigo-subsys-dr-alb-xxxxx.us-west-2.elb.amazonaws.com", "targetHostedZoneId": awssim.KaigoALBZoneID(west)}),
			code: catalog.FindingMissingResource, input: "targetDnsName",
			problem: []string{"kaigo-subsys-dr-alb-xxxxx", awssim.KaigoALBDNS(west)}, fix: []string{"targetLoadBalancer: " + awssim.KaigoDRALBName}},
		// The seed written literally: the placeholder DNS name and the wrong zone. Both are
		// found; fixing the name alone would still leave Route 53 refusing the zone.
		{name: "alias/seedLiteral", action: "aws.route53.upsertAlias", region: west,
			with: alias(map[string]any{"targetDnsName": "kaigo-subsys-dr-alb-xxxxx.us-west-2.elb.amazonaws.com", "targetHostedZoneId": "Z1BKCTXD74EZPE"}),
			code: catalog.FindingAliasZoneMismatch, input: "targetHostedZoneId",
			problem: []string{"Z1BKCTXD74EZPE", awssim.KaigoALBZoneID(west)}, fix: []string{"targetLoadBalancer: " + awssim.KaigoDRALBName}},
		{name: "alias/noSuchLoadBalancer", action: "aws.route53.upsertAlias", region: west,
			with: alias(map[string]any{"targetLoadBalancer": "kaigo-dr-alb"}),
			code: catalog.FindingMissingResource, input: "targetLoadBalancer",
			problem: []string{"kaigo-dr-alb", awssim.KaigoDRALBName}, fix: []string{"targetLoadBalancer: " + awssim.KaigoDRALBName}},
		{name: "alias/noSuchZone", action: "aws.route53.upsertAlias", region: west,
			with: alias(map[string]any{"hostedZoneId": "Z0000000NOPE", "targetLoadBalancer": awssim.KaigoDRALBName}),
			code: catalog.FindingMissingResource, input: "hostedZoneId",
			problem: []string{"Z0000000NOPE"}, fix: []string{"hostedZoneId: " + awssim.KaigoHostedZoneID, "hostedZone: kaigo-subsys.example.com"}},
		{name: "alias/noSuchZoneName", action: "aws.route53.upsertAlias", region: west,
			with: map[string]any{"hostedZone": "kaigo.example.com", "recordName": "api.kaigo-subsys.example.com", "targetLoadBalancer": awssim.KaigoDRALBName},
			code: catalog.FindingMissingResource, input: "hostedZone", fix: []string{"hostedZoneId: " + awssim.KaigoHostedZoneID}},
		{name: "alias/recordOutsideZone", action: "aws.route53.upsertAlias", region: west,
			with: alias(map[string]any{"recordName": "api.kaigo.example.org", "targetLoadBalancer": awssim.KaigoDRALBName}),
			code: catalog.FindingRecordNotInZone, input: "recordName", problem: []string{"api.kaigo.example.org.", awssim.KaigoZoneName}},
		// The seed's row 9: --task-definition kaigo-subsys-dr:latest.
		{name: "updateService/latest", action: "aws.ecs.updateService", region: west,
			with: map[string]any{"cluster": awssim.KaigoDRCluster, "service": awssim.KaigoDRService, "desiredCount": 2, "taskDefinition": awssim.KaigoDRTaskFamily + ":latest"},
			code: catalog.FindingTaskDefinitionUnpinned, input: "taskDefinition",
			problem: []string{`"latest"`}, fix: []string{"taskDefinition: kaigo-subsys-dr (its newest ACTIVE revision, now 1)", "kaigo-subsys-dr:1"}},
		{name: "registerTaskDefinition/latest", action: "aws.ecs.registerTaskDefinition", region: west,
			with: map[string]any{"family": awssim.KaigoDRTaskFamily + ":latest", "image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/kaigo-subsys:dr"},
			code: catalog.FindingTaskDefinitionUnpinned, input: "family", fix: []string{"family: kaigo-subsys-dr (", "now 1"}},
		{name: "registerTaskDefinition/noSuchSecret", action: "aws.ecs.registerTaskDefinition", region: west,
			with: map[string]any{"family": awssim.KaigoDRTaskFamily, "image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/kaigo-subsys:dr",
				"secrets": map[string]any{"DB_ENDPOINT": "kaigo-subsys/dr/db"}},
			code: catalog.FindingMissingResource, input: "secrets", problem: []string{"kaigo-subsys/dr/db"}, fix: []string{"secrets.DB_ENDPOINT"}},
		{name: "updateService/noSuchRevision", action: "aws.ecs.updateService", region: west,
			with: map[string]any{"cluster": awssim.KaigoDRCluster, "service": awssim.KaigoDRService, "desiredCount": 2, "taskDefinition": awssim.KaigoDRTaskFamily + ":7"},
			code: catalog.FindingMissingResource, input: "taskDefinition"},
		{name: "updateService/noSuchService", action: "aws.ecs.updateService", region: west,
			with: map[string]any{"cluster": awssim.KaigoDRCluster, "service": "kaigo-subsys-dr-api", "desiredCount": 2},
			code: catalog.FindingMissingResource, input: "service", problem: []string{"kaigo-subsys-dr-api"}},
		{name: "updateService/noSuchCluster", action: "aws.ecs.updateService", region: west,
			with: map[string]any{"cluster": "kaigo-dr", "service": awssim.KaigoDRService, "desiredCount": 2},
			code: catalog.FindingMissingResource, input: "cluster", problem: []string{"kaigo-dr"}},
		{name: "restoreSnapshot/deletedSecurityGroup", action: "aws.rds.restoreSnapshot", region: west,
			with: drRestore(map[string]any{"securityGroups": []any{deletedSG}}),
			code: catalog.FindingMissingResource, input: "securityGroups",
			problem: []string{deletedSG}, fix: []string{"kaigo-subsys-dr-rds-sg (sg-"}},
		{name: "restoreSnapshot/securityGroupByName", action: "aws.rds.restoreSnapshot", region: west,
			with: drRestore(map[string]any{"securityGroups": []any{"kaigo-subsys-dr-rds-sg"}}),
			code: catalog.FindingMissingResource, input: "securityGroups", fix: []string{"securityGroups: [sg-", "(ids, not names)"}},
		{name: "restoreSnapshot/noSuchSubnetGroup", action: "aws.rds.restoreSnapshot", region: west,
			with: drRestore(map[string]any{"subnetGroup": "kaigo-subsys-dr-subnet-group"}),
			code: catalog.FindingMissingResource, input: "subnetGroup",
			problem: []string{"kaigo-subsys-dr-subnet-group"}, fix: []string{"subnetGroup: " + awssim.KaigoDRSubnetGroup}},
		// The seed's RPO of 1 h against the day-old copy.
		{name: "restoreSnapshot/rpo", action: "aws.rds.restoreSnapshot", region: west,
			with: drRestore(map[string]any{"allowDataLoss": false}),
			code: catalog.FindingSnapshotTooOld, input: "maxAge",
			problem: []string{"maxAge 1h", "would refuse"}, fix: []string{"allowDataLoss: true", "aws.rds.copySnapshot"}},
		{name: "restoreSnapshot/noSnapshot", action: "aws.rds.restoreSnapshot", region: west,
			with: drRestore(map[string]any{"sourceInstance": "kaigo-subsys-stg"}),
			code: catalog.FindingMissingResource, input: "sourceInstance", problem: []string{"kaigo-subsys-stg"}},
		// A us-east-1 key for a copy made in us-west-2.
		{name: "copySnapshot/keyRegion", action: "aws.rds.copySnapshot", region: west,
			with: map[string]any{"sourceRegion": east, "targetSnapshotId": "kaigo-subsys-prod-copy",
				"kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/prod-key-id"},
			setup: func(t *testing.T, e *env, with map[string]any) {
				_, arn, _ := newestSnapshot(t, e, east)
				with["sourceSnapshotArn"] = arn
			},
			code: catalog.FindingKMSKeyRegion, input: "kmsKeyId",
			problem: []string{"us-east-1", "us-west-2"}, fix: []string{"arn:aws:kms:us-west-2:123456789012:key/"}},
		{name: "copySnapshot/noKey", action: "aws.rds.copySnapshot", region: west,
			with: map[string]any{"sourceRegion": east, "targetSnapshotId": "kaigo-subsys-prod-copy"},
			setup: func(t *testing.T, e *env, with map[string]any) {
				_, arn, _ := newestSnapshot(t, e, east)
				with["sourceSnapshotArn"] = arn
			},
			code: catalog.FindingKMSKeyRegion, input: "kmsKeyId", problem: []string{"encrypted"}},
		{name: "copySnapshot/noSource", action: "aws.rds.copySnapshot", region: west,
			with: map[string]any{"sourceRegion": east, "targetSnapshotId": "kaigo-subsys-prod-copy",
				"sourceSnapshotArn": "arn:aws:rds:us-east-1:123456789012:snapshot:kaigo-subsys-prod-gone",
				"kmsKeyId":          "arn:aws:kms:us-west-2:123456789012:key/dr-key-id"},
			code: catalog.FindingMissingResource, input: "sourceSnapshotArn", problem: []string{"kaigo-subsys-prod-gone", east}},
		{name: "createReplicationGroup/deletedSecurityGroup", action: "aws.elasticache.createReplicationGroup", region: west,
			with: map[string]any{"replicationGroupId": "kaigo-subsys-dr", "subnetGroup": awssim.KaigoDRCacheSubnets, "securityGroups": []any{deletedSG}},
			code: catalog.FindingMissingResource, input: "securityGroups", problem: []string{deletedSG}, fix: []string{"kaigo-subsys-dr-elasticache-sg"}},
		{name: "secretPut/missing", action: "aws.secretsmanager.put", region: west,
			with: map[string]any{"secretId": "kaigo-subsys/dr/db-password", "value": "x"},
			code: catalog.FindingMissingResource, input: "secretId", problem: []string{"kaigo-subsys/dr/db-password", west}},
		{name: "verifyNetwork/noVPC", action: "aws.ec2.verifyNetwork", region: west,
			with: map[string]any{"vpcName": "kaigo-dr-vpc"},
			code: catalog.FindingMissingResource, input: "vpcName", fix: []string{"vpcName: " + awssim.KaigoDRVPCName}},
		{name: "verifyNetwork/noGroup", action: "aws.ec2.verifyNetwork", region: west,
			with: map[string]any{"vpcName": awssim.KaigoDRVPCName, "securityGroups": []any{"kaigo-subsys-dr-rds-sg", "kaigo-subsys-dr-db-sg"}},
			code: catalog.FindingMissingResource, input: "securityGroups", problem: []string{"kaigo-subsys-dr-db-sg"}, fix: []string{"kaigo-subsys-dr-rds-sg"}},
		{name: "waitHealthy/missing", action: "aws.elbv2.waitHealthy", region: west,
			with: map[string]any{"targetGroupName": "kaigo-subsys-dr-tg"},
			code: catalog.FindingMissingResource, input: "targetGroupName", fix: []string{"targetGroupName: " + awssim.KaigoDRTargetGroup}},
		{name: "backupRestore/noVault", action: "aws.backup.restoreLatest", region: west,
			with: map[string]any{"vault": "kaigo-subsys-dr-vault", "iamRoleArn": "arn:aws:iam::123456789012:role/AWSBackupDefaultServiceRole"},
			code: catalog.FindingMissingResource, input: "vault", problem: []string{"kaigo-subsys-dr-vault"}},
		{name: "backupRestore/old", action: "aws.backup.restoreLatest", region: west,
			with: map[string]any{"vault": awssim.KaigoDRVault, "iamRoleArn": "arn:aws:iam::123456789012:role/AWSBackupDefaultServiceRole", "maxAge": "1h"},
			code: catalog.FindingRecoveryPointTooOld, input: "maxAge", problem: []string{"maxAge 1h"}},
		{name: "delete/noInstance", action: "aws.rds.delete", region: east,
			with: map[string]any{"instanceId": "kaigo-subsys-prd", "finalSnapshotId": "kaigo-subsys-prod-final", "verifiedCopy": "kaigo-subsys-prod-none"},
			code: catalog.FindingMissingResource, input: "instanceId", problem: []string{"kaigo-subsys-prd"}, fix: []string{awssim.KaigoProdInstance}},
		{name: "unknownInput", action: "aws.secretsmanager.put", region: west,
			with: map[string]any{"secretId": awssim.KaigoDRDBSecret, "secretValue": "x"},
			code: catalog.FindingInvalidInput, problem: []string{"secretValue"}},
	}
}

func checkStep(c checkCase) action.CheckStep {
	return action.CheckStep{StepID: c.name, Action: c.action, Region: c.region, With: c.with}
}

// TestChecks: every checker passes the steps as the seed plans should write them, and
// finds each mistake the run would meet, with its code, input, observed values and fix.
func TestChecks(t *testing.T) {
	e := newSimEnv(t)
	ctx := testCtx(t)
	for _, c := range append(cleanChecks(), mistakeChecks()...) {
		t.Run(c.name, func(t *testing.T) {
			if c.setup != nil {
				c.setup(t, e, c.with)
			}
			got := e.reg.Check(ctx, checkStep(c))
			for _, f := range got {
				t.Logf("%s %s: %s\n\tfix: %s", f.Code, f.Input, f.Problem, f.Fix)
			}
			if c.code == "" {
				if len(got) != 0 {
					t.Fatalf("want no finding, got %d", len(got))
				}
				return
			}
			var f *catalog.Finding
			for i := range got {
				if got[i].Code == c.code && got[i].Input == c.input && f == nil {
					f = &got[i]
				}
			}
			switch {
			case f == nil:
				t.Fatalf("want a %s finding on %q, got %+v", c.code, c.input, got)
			case len(got) != 1 && c.name != "delete/noInstance" && c.name != "alias/seedLiteral": // their other input is wrong too
				t.Errorf("want one finding, got %d", len(got))
			}
			if f.Step != c.name || f.Problem == "" || f.Fix == "" {
				t.Errorf("finding %+v: want step %s, a problem and a fix", *f, c.name)
			}
			for _, w := range c.problem {
				if !strings.Contains(f.Problem, w) {
					t.Errorf("problem %q does not say %q", f.Problem, w)
				}
			}
			for _, w := range c.fix {
				if !strings.Contains(f.Fix, w) {
					t.Errorf("fix %q does not say %q", f.Fix, w)
				}
			}
		})
	}
}

// TestChecksReadOnly: checking every step, clean and mistaken, changes nothing in AWS:
// awssim journals every mutating call, and the journal stays empty.
func TestChecksReadOnly(t *testing.T) {
	e := newSimEnv(t)
	ctx := testCtx(t)
	if j := e.sim.Journal(); len(j) != 0 {
		t.Fatalf("the fixture starts with a journal: %v", j)
	}
	checked := map[string]bool{}
	for _, c := range append(cleanChecks(), mistakeChecks()...) {
		if c.setup != nil {
			c.setup(t, e, c.with)
		}
		e.reg.Check(ctx, checkStep(c))
		checked[c.action] = true
	}
	for _, name := range e.reg.CheckNames() {
		if !checked[name] {
			t.Errorf("no case checks %s", name)
		}
	}
	if j := e.sim.Journal(); len(j) != 0 {
		t.Fatalf("checking changed AWS: %+v", j)
	}
}

// TestChecksRegistered: every action the brief names has a checker, and the IAM its check
// needs is declared.
func TestChecksRegistered(t *testing.T) {
	e := newSimEnv(t)
	for _, name := range []string{"aws.route53.upsertAlias", "aws.ecs.registerTaskDefinition", "aws.ecs.updateService",
		"aws.rds.restoreSnapshot", "aws.rds.copySnapshot", "aws.elasticache.createReplicationGroup", "aws.secretsmanager.put",
		"aws.ec2.verifyNetwork", "aws.elbv2.waitHealthy", "aws.backup.restoreLatest", "aws.cloudwatch.putAlarm", "notify",
		"aws.sns.publish", "aws.rds.delete"} {
		if _, ok := e.reg.LookupCheck(name); !ok {
			t.Errorf("%s has no checker", name)
		}
		if len(agentaws.CheckIAM(name)) == 0 {
			t.Errorf("%s declares no IAM for its check", name)
		}
	}
	if got := e.reg.Check(testCtx(t), action.CheckStep{StepID: "x", Action: "no.such.action", Region: west}); got != nil {
		t.Errorf("an action without a checker has findings: %v", got)
	}
}

// TestChecksSkipUnresolved: an input that waits on an earlier step is not checked, even
// when the value the plan check was given for it would be a finding, and a required one
// is not missing.
func TestChecksSkipUnresolved(t *testing.T) {
	e := newSimEnv(t)
	ctx := testCtx(t)
	for _, c := range []checkCase{
		{name: "alias", action: "aws.route53.upsertAlias", region: west,
			with: alias(map[string]any{"targetDnsName": "${steps.alb.outputs.loadBalancerDnsName}", "targetHostedZoneId": "Z1BKCTXD74EZPE"})},
		{name: "restore", action: "aws.rds.restoreSnapshot", region: west,
			with: map[string]any{"instanceId": awssim.KaigoDRInstance, "sourceInstance": awssim.KaigoProdInstance,
				"subnetGroup": awssim.KaigoDRSubnetGroup, "securityGroups": "${steps.network.outputs.securityGroupIds}",
				"maxAge": "1h", "allowDataLoss": "${inputs.allowDataLoss}"}},
		{name: "copy", action: "aws.rds.copySnapshot", region: west,
			with: map[string]any{"sourceSnapshotArn": "${steps.snap.outputs.snapshotArn}", "sourceRegion": east,
				"targetSnapshotId": "kaigo-subsys-prod-copy", "kmsKeyId": "${steps.key.outputs.keyArn}"}},
		{name: "secret", action: "aws.secretsmanager.put", region: west,
			with: map[string]any{"secretId": "${steps.s.outputs.secretId}", "value": "${steps.db.outputs.endpoint}"}},
		{name: "update", action: "aws.ecs.updateService", region: west,
			with: map[string]any{"cluster": awssim.KaigoDRCluster, "service": awssim.KaigoDRService, "desiredCount": "${steps.n.outputs.count}",
				"taskDefinition": "${steps.td.outputs.taskDefinitionArn}"}},
		{name: "delete", action: "aws.rds.delete", region: east,
			with: map[string]any{"instanceId": awssim.KaigoProdInstance, "finalSnapshotId": "kaigo-subsys-prod-final",
				"verifiedCopy": "${steps.copy.outputs.snapshotId}"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := checkStep(c)
			for k, v := range c.with {
				if str, ok := v.(string); ok && strings.HasPrefix(str, "${") {
					s.Unresolved = append(s.Unresolved, k)
				}
			}
			if c.name == "alias" {
				s.Unresolved = append(s.Unresolved, "targetHostedZoneId") // e.g. read from an earlier step too
			}
			slices.Sort(s.Unresolved)
			if got := e.reg.Check(ctx, s); len(got) != 0 {
				t.Fatalf("unresolved %v: want no finding, got %+v", s.Unresolved, got)
			}
		})
	}
	// The same alias, its zone resolved: the mistake is found.
	s := checkStep(checkCase{name: "alias", action: "aws.route53.upsertAlias", region: west,
		with: alias(map[string]any{"targetDnsName": awssim.KaigoALBDNS(west), "targetHostedZoneId": "Z1BKCTXD74EZPE"})})
	s.Unresolved = []string{"hostedZoneId"}
	if got := e.reg.Check(ctx, s); len(got) != 1 || got[0].Code != catalog.FindingAliasZoneMismatch {
		t.Fatalf("want the zone mismatch with only hostedZoneId unresolved, got %+v", got)
	}
}

// TestCheckErrorGoesOn: a call refused otherwise than "not found" is one check-error that
// names the call and what to allow, and the rest of the step is still checked.
func TestCheckErrorGoesOn(t *testing.T) {
	e := newSimEnv(t)
	e.sim.AddFault(awssim.Fault{Service: "rds", Operation: "DescribeDBSubnetGroups", Rate: 1, Code: "AccessDenied", Status: 403})
	c := checkCase{name: "restore", action: "aws.rds.restoreSnapshot", region: west,
		with: drRestore(map[string]any{"allowDataLoss": false, "securityGroups": []any{deletedSG}})}
	got := e.reg.Check(testCtx(t), checkStep(c))
	codes := map[string]catalog.Finding{}
	for _, f := range got {
		t.Logf("%s %s: %s\n\tfix: %s", f.Code, f.Input, f.Problem, f.Fix)
		codes[f.Code] = f
	}
	ce, ok := codes[catalog.FindingCheckError]
	if !ok || ce.Input != "subnetGroup" || !strings.Contains(ce.Problem, "rds:DescribeDBSubnetGroups in us-west-2") ||
		!strings.Contains(ce.Fix, "allow rds:DescribeDBSubnetGroups") {
		t.Errorf("want a check-error naming rds:DescribeDBSubnetGroups, got %+v", got)
	}
	if _, ok := codes[catalog.FindingMissingResource]; !ok {
		t.Errorf("the security groups were not checked after the error: %+v", got)
	}
	if _, ok := codes[catalog.FindingSnapshotTooOld]; !ok {
		t.Errorf("the snapshot was not checked after the error: %+v", got)
	}
	if len(got) != 3 {
		t.Errorf("want 3 findings, got %d", len(got))
	}
}

// TestCheckIAMCoversEveryCall: every AWS operation a check calls is among the IAM actions
// CheckIAM declares for its action, so a policy made from them lets `plan check` read.
func TestCheckIAMCoversEveryCall(t *testing.T) {
	rec := &calls{ops: map[string]bool{}}
	e := newSimEnv(t)
	e.opts.ConfigOptions = append(e.opts.ConfigOptions, rec.option())
	e.restart(t)
	ctx := context.Background()
	for _, c := range append(cleanChecks(), mistakeChecks()...) {
		if c.setup != nil {
			c.setup(t, e, c.with)
		}
		rec.reset()
		e.reg.Check(ctx, checkStep(c))
		declared := agentaws.CheckIAM(c.action)
		for _, op := range rec.list() {
			if !slices.Contains(declared, op) {
				t.Errorf("%s: the check of %s called %s, which CheckIAM %v does not declare", c.name, c.action, op, declared)
			}
		}
	}
}
