package aws_test

import (
	"context"
	"errors"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/kirikae/kirikae/agent/action"
	agentaws "github.com/kirikae/kirikae/agent/aws"
	"github.com/kirikae/kirikae/awssim"
	"github.com/kirikae/kirikae/human"
)

// newestSnapshot is the available snapshot of the production instance in region with the
// newest data, and that data's time.
func newestSnapshot(t *testing.T, e *env, region string) (id, arn string, created time.Time) {
	t.Helper()
	out, err := e.clients(t, region).RDS.DescribeDBSnapshots(testCtx(t), &rds.DescribeDBSnapshotsInput{
		DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range out.DBSnapshots {
		if at := agentaws.SnapshotDataTime(&s); aws.ToString(s.Status) == "available" && at.After(created) {
			id, arn, created = aws.ToString(s.DBSnapshotIdentifier), aws.ToString(s.DBSnapshotArn), at
		}
	}
	if id == "" {
		t.Fatalf("no snapshot of %s in %s", awssim.KaigoProdInstance, region)
	}
	return id, arn, created
}

// simCase is one executor's step against the kaigo fixture.
type simCase struct {
	name   string
	action string
	region string
	with   map[string]any
	// setup completes `with` or the world before the step; its mutations are not counted.
	setup func(t *testing.T, e *env, with map[string]any)
	// op is the journal operation the step makes exactly once; "" means it only reads.
	op string
	// waits says the step waits after its mutation, so it can be interrupted there.
	waits bool
	// atLeastOnce marks the side effects AWS cannot show afterwards (an SNS message, a
	// forced deployment): a lost answer repeats them, by design.
	atLeastOnce bool
	ignore      []string
	check       func(t *testing.T, out map[string]any)
}

func simCases() []simCase {
	return []simCase{
		{name: "health", action: "aws.health.events", region: west, with: map[string]any{"region": east, "failIfOpen": false},
			setup: func(t *testing.T, e *env, _ map[string]any) { e.sim.OpenHealthEvent(awssim.HealthEvent{Region: east}) },
			check: func(t *testing.T, out map[string]any) {
				if out["openEvents"] != int64(1) || len(out["eventArns"].([]any)) != 1 || !strings.Contains(out["summary"].(string), "AWS_EC2_OPERATIONAL_ISSUE") {
					t.Fatalf("want the one open EC2 event, got %v", out)
				}
			}},
		{name: "verifyNetwork", action: "aws.ec2.verifyNetwork", region: west, with: map[string]any{
			"vpcName": awssim.KaigoDRVPCName, "minSubnets": 3.0, "securityGroups": []any{"kaigo-subsys-dr-rds-sg", "kaigo-subsys-dr-alb-sg"}},
			check: func(t *testing.T, out map[string]any) {
				if len(out["subnetIds"].([]any)) != 3 || len(out["securityGroupIds"].([]any)) != 2 ||
					len(out["routeTableIds"].([]any)) != 3 { // every table in the VPC: public, private and main
					t.Fatalf("unexpected network: %v", out)
				}
			}},
		{name: "restoreSnapshot", action: "aws.rds.restoreSnapshot", region: west, op: "RestoreDBInstanceFromDBSnapshot", waits: true,
			with: map[string]any{"instanceId": awssim.KaigoDRInstance, "sourceInstance": awssim.KaigoProdInstance,
				"instanceClass": "db.r6g.large", "subnetGroup": awssim.KaigoDRSubnetGroup, "securityGroups": []any{"sg-dr-rds"},
				"multiAz": true, "publiclyAccessible": false, "maxAge": "1h", "allowDataLoss": true},
			check: func(t *testing.T, out map[string]any) {
				if !strings.HasPrefix(out["endpoint"].(string), awssim.KaigoDRInstance+".") || out["port"] != int64(5432) {
					t.Fatalf("bad endpoint: %v", out)
				}
				if age := out["snapshotAgeSeconds"].(int64); age <= 3600 {
					t.Fatalf("the fixture's newest copy must be older than the 1 h RPO, got %d s", age)
				}
			}},
		{name: "restorePointInTime", action: "aws.rds.restorePointInTime", region: east, op: "RestoreDBInstanceToPointInTime", waits: true,
			with: map[string]any{"sourceInstance": awssim.KaigoProdInstance, "instanceId": "kaigo-subsys-prod-pitr",
				"restoreTime": "2025-12-01T08:00:00Z", "subnetGroup": "kaigo-subsys-prod-db-subnet-group"},
			check: func(t *testing.T, out map[string]any) {
				if out["restoreTime"] != "2025-12-01T08:00:00Z" || out["endpoint"] == "" {
					t.Fatalf("bad outputs: %v", out)
				}
			}},
		{name: "snapshot", action: "aws.rds.snapshot", region: east, op: "CreateDBSnapshot", waits: true,
			with: map[string]any{"instanceId": awssim.KaigoProdInstance, "snapshotId": "kaigo-subsys-prod-before-cutback-20251201"}},
		{name: "copySnapshot", action: "aws.rds.copySnapshot", region: east, op: "CopyDBSnapshot", waits: true,
			with: map[string]any{"sourceRegion": west, "targetSnapshotId": "kaigo-subsys-prod-cutback",
				"kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/prod-key-id"},
			setup: func(t *testing.T, e *env, with map[string]any) {
				_, arn, _ := newestSnapshot(t, e, west)
				with["sourceSnapshotArn"] = arn
			}},
		{name: "delete", action: "aws.rds.delete", region: east, op: "DeleteDBInstance", waits: true,
			with: map[string]any{"instanceId": awssim.KaigoProdInstance, "finalSnapshotId": "kaigo-subsys-prod-final-before-cutback"},
			setup: func(t *testing.T, e *env, with map[string]any) {
				id, _, _ := newestSnapshot(t, e, east)
				with["verifiedCopy"] = id
			}},
		{name: "stop", action: "aws.rds.stop", region: east, op: "StopDBInstance", waits: true,
			with: map[string]any{"instanceId": awssim.KaigoProdInstance}},
		{name: "createReplicationGroup", action: "aws.elasticache.createReplicationGroup", region: west, op: "CreateReplicationGroup", waits: true,
			with: map[string]any{"replicationGroupId": "kaigo-subsys-dr", "description": "DR ElastiCache for kaigo subsystem",
				"nodeType": "cache.r6g.large", "numCacheClusters": 2, "engineVersion": "7.0", "automaticFailover": true,
				"subnetGroup": awssim.KaigoDRCacheSubnets, "securityGroups": []any{"sg-dr-elasticache"}},
			check: func(t *testing.T, out map[string]any) {
				if !strings.HasPrefix(out["primaryEndpoint"].(string), "master.kaigo-subsys-dr.") || out["port"] != int64(6379) {
					t.Fatalf("bad endpoint: %v", out)
				}
			}},
		{name: "deleteReplicationGroup", action: "aws.elasticache.deleteReplicationGroup", region: east, op: "DeleteReplicationGroup", waits: true,
			with: map[string]any{"replicationGroupId": "kaigo-subsys-prod"}},
		{name: "backupRestore", action: "aws.backup.restoreLatest", region: west, op: "StartRestoreJob", waits: true,
			with: map[string]any{"vault": awssim.KaigoDRVault, "iamRoleArn": "arn:aws:iam::123456789012:role/AWSBackupDefaultServiceRole",
				"metadata": map[string]any{"PerformanceMode": "generalPurpose", "Encrypted": true}, "maxAge": "24h"},
			check: func(t *testing.T, out map[string]any) {
				if !strings.HasPrefix(out["fileSystemId"].(string), "fs-") || out["recoveryPointAgeSeconds"].(int64) <= 0 {
					t.Fatalf("bad outputs: %v", out)
				}
			}},
		{name: "secretPut", action: "aws.secretsmanager.put", region: west, op: "PutSecretValue",
			with: map[string]any{"secretId": awssim.KaigoDRDBSecret, "json": map[string]any{"endpoint": "kaigo-subsys-dr.c000001.us-west-2.rds.amazonaws.com"}}},
		{name: "registerTaskDefinition", action: "aws.ecs.registerTaskDefinition", region: west, op: "RegisterTaskDefinition",
			with: map[string]any{"family": awssim.KaigoDRTaskFamily, "image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/kaigo-subsys:dr",
				"cpu": "1024", "memory": "2048", "environment": map[string]any{"REGION": west, "MODE": "dr"},
				"secrets": map[string]any{"DB_ENDPOINT": awssim.KaigoDRDBSecret}},
			check: func(t *testing.T, out map[string]any) {
				if out["revision"] != int64(2) {
					t.Fatalf("want revision 2 after the fixture's 1, got %v", out)
				}
			}},
		{name: "updateService", action: "aws.ecs.updateService", region: west, op: "UpdateService", waits: true,
			with: map[string]any{"cluster": awssim.KaigoDRCluster, "service": awssim.KaigoDRService, "desiredCount": "2",
				"taskDefinition": awssim.KaigoDRTaskFamily},
			check: func(t *testing.T, out map[string]any) {
				if out["runningCount"] != int64(2) || !strings.HasSuffix(out["taskDefinition"].(string), "task-definition/kaigo-subsys-dr:1") {
					t.Fatalf("bad outputs: %v", out)
				}
			}},
		{name: "forceNewDeployment", action: "aws.ecs.updateService", region: east, op: "UpdateService", waits: true, atLeastOnce: true,
			with: map[string]any{"cluster": awssim.KaigoProdCluster, "service": awssim.KaigoProdService, "desiredCount": 2, "forceNewDeployment": true},
			check: func(t *testing.T, out map[string]any) {
				if out["runningCount"] != int64(2) {
					t.Fatalf("bad outputs: %v", out)
				}
			}},
		{name: "waitHealthy", action: "aws.elbv2.waitHealthy", region: west,
			with: map[string]any{"targetGroupName": awssim.KaigoDRTargetGroup, "count": 2},
			setup: func(t *testing.T, e *env, _ map[string]any) {
				s := step("aws.ecs.updateService", west, map[string]any{"cluster": awssim.KaigoDRCluster, "service": awssim.KaigoDRService, "desiredCount": 2, "wait": false})
				if _, _, err := e.exec(testCtx(t), s); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, out map[string]any) {
				if out["healthy"] != int64(2) || out["loadBalancerDnsName"] != awssim.KaigoALBDNS(west) || out["targetGroupArn"] != awssim.KaigoTargetGroupARN(west) {
					t.Fatalf("bad outputs: %v", out)
				}
			}},
		{name: "upsertAlias", action: "aws.route53.upsertAlias", region: west, op: "ChangeResourceRecordSets", waits: true,
			with: map[string]any{"hostedZoneId": awssim.KaigoHostedZoneID, "recordName": "api.kaigo-subsys.example.com",
				"targetDnsName": awssim.KaigoALBDNS(west), "targetHostedZoneId": awssim.KaigoALBZoneID(west)},
			check: func(t *testing.T, out map[string]any) {
				if out["answer"] != "198.51.100.20" {
					t.Fatalf("want the DR ALB's address in the answer, got %v", out)
				}
			}},
		{name: "putAlarm", action: "aws.cloudwatch.putAlarm", region: west, op: "PutMetricAlarm",
			with: map[string]any{"alarmName": "kaigo-subsys-dr-ecs-cpu-critical", "description": "DR環境のECS CPU使用率が90%を超過",
				"metricName": "CPUUtilization", "namespace": "AWS/ECS", "statistic": "Average", "period": 300, "evaluationPeriods": 2,
				"threshold": "90.0", "comparison": "GreaterThanThreshold",
				"dimensions":   map[string]any{"ClusterName": awssim.KaigoDRCluster, "ServiceName": awssim.KaigoDRService},
				"alarmActions": []any{awssim.KaigoDRAlertsTopic}},
			check: func(t *testing.T, out map[string]any) {
				if !strings.HasSuffix(out["alarmArn"].(string), ":alarm:kaigo-subsys-dr-ecs-cpu-critical") {
					t.Fatalf("bad outputs: %v", out)
				}
			}},
		// The undo actions, each undoing what its setup created with the undo it reported.
		{name: "deleteRestored", action: "aws.rds.deleteRestored", region: west, op: "DeleteDBInstance", waits: true,
			with: map[string]any{}, setup: undoSetup("aws.rds.restoreSnapshot", map[string]any{"instanceId": awssim.KaigoDRInstance,
				"sourceInstance": awssim.KaigoProdInstance, "subnetGroup": awssim.KaigoDRSubnetGroup, "allowDataLoss": true})},
		{name: "deleteRestoredFileSystem", action: "aws.backup.deleteRestored", region: west, op: "DeleteFileSystem",
			with: map[string]any{}, setup: undoSetup("aws.backup.restoreLatest", restoreEFS)},
		{name: "deleteFileSystem", action: "aws.efs.deleteFileSystem", region: west, op: "DeleteFileSystem",
			with: map[string]any{}, setup: func(t *testing.T, e *env, into map[string]any) {
				s := step("aws.backup.restoreLatest", west, restoreEFS)
				s.StepID = "setup"
				out, _, err := e.execUndo(testCtx(t), s)
				if err != nil {
					t.Fatalf("setup: %v", err)
				}
				into["fileSystemId"] = out["fileSystemId"]
			}},
		{name: "restoreVersion", action: "aws.secretsmanager.restoreVersion", region: west, op: "UpdateSecretVersionStage",
			with: map[string]any{}, setup: undoSetup("aws.secretsmanager.put", map[string]any{"secretId": awssim.KaigoDRDBSecret, "value": "drill"})},
		{name: "deregisterTaskDefinition", action: "aws.ecs.deregisterTaskDefinition", region: west, op: "DeregisterTaskDefinition",
			with: map[string]any{}, setup: undoSetup("aws.ecs.registerTaskDefinition", map[string]any{"family": awssim.KaigoDRTaskFamily,
				"image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/kaigo-subsys:drill"}),
			check: func(t *testing.T, out map[string]any) {
				if out["status"] != "INACTIVE" || !strings.HasSuffix(out["taskDefinitionArn"].(string), ":task-definition/kaigo-subsys-dr:2") {
					t.Fatalf("bad outputs: %v", out)
				}
			}},
		{name: "deleteAlarm", action: "aws.cloudwatch.deleteAlarm", region: west, op: "DeleteAlarms",
			with: map[string]any{}, setup: undoSetup("aws.cloudwatch.putAlarm", map[string]any{"alarmName": "kaigo-subsys-dr-drill",
				"metricName": "CPUUtilization", "namespace": "AWS/ECS", "threshold": 90})},
		{name: "snsPublish", action: "aws.sns.publish", region: west, op: "Publish", atLeastOnce: true,
			with: map[string]any{"topicArn": awssim.KaigoDRAlertsTopic, "subject": "DR", "message": "サービスを再開しました"}},
	}
}

var restoreEFS = map[string]any{"vault": awssim.KaigoDRVault, "iamRoleArn": "arn:aws:iam::123456789012:role/AWSBackupDefaultServiceRole"}

// undoSetup runs a creating step and completes `with` from the one undo step it reported.
func undoSetup(act string, with map[string]any) func(t *testing.T, e *env, into map[string]any) {
	return func(t *testing.T, e *env, into map[string]any) {
		t.Helper()
		s := step(act, west, with)
		s.StepID = "setup"
		_, undo, err := e.execUndo(testCtx(t), s)
		if err != nil {
			t.Fatalf("setup %s: %v", act, err)
		}
		if len(undo) != 1 {
			t.Fatalf("setup %s reported undo %+v, want one step", act, undo)
		}
		for k, v := range undo[0].With {
			into[k] = v
		}
	}
}

// TestIdempotentOnAwssim runs every executor's step twice, as a retry or a re-dispatch
// would (the second time as attempt 2 of a restarted agent): the outputs are the same and
// the journal holds exactly one mutation.
func TestIdempotentOnAwssim(t *testing.T) {
	names := map[string]bool{}
	for _, c := range simCases() {
		names[c.action] = true
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newSimEnv(t)
			ctx := testCtx(t)
			if c.setup != nil {
				c.setup(t, e, c.with)
			}
			before := e.mutations("")
			s := step(c.action, c.region, c.with)
			out1, _, err := e.exec(ctx, s)
			if err != nil {
				t.Fatalf("first run: %v", err)
			}
			e.restart(t)
			s.Attempt = 2
			out2, _, err := e.exec(ctx, s)
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			sameOutputs(t, out1, out2, c.ignore...)
			want := 0
			if c.op != "" {
				want = 1
				if n := e.mutations(c.op); n != 1 {
					t.Fatalf("journal holds %d %s, want 1: %v", n, c.op, e.sim.Journal())
				}
			}
			if n := e.mutations("") - before; n != want {
				t.Fatalf("journal grew by %d mutations, want %d: %v", n, want, e.sim.Journal())
			}
			if c.check != nil {
				c.check(t, out1)
			}
			if c.action == "aws.route53.upsertAlias" && out1["changeId"] == "" {
				t.Fatalf("want the change id of the UPSERT, got %v", out1)
			}
		})
	}
	// Every agent action of the catalog that talks to AWS is covered here.
	reg := action.NewRegistry()
	agentaws.Register(reg, func(string) (*agentaws.Clients, error) { return nil, errors.New("unused") }, agentaws.Options{})
	for _, n := range reg.Names() {
		if !names[n] {
			t.Errorf("registered action %s has no awssim case", n)
		}
	}
}

// TestRestartMidStep interrupts each waiting executor right after its mutation, while it
// waits (AWS time stands still, so the wait cannot end first), the way an agent killed
// mid-step is. A fresh registry then runs the step again: it finishes, and the journal
// still holds one mutation.
func TestRestartMidStep(t *testing.T) {
	for _, c := range simCases() {
		if !c.waits {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newSimEnv(t)
			if c.setup != nil {
				c.setup(t, e, c.with)
			}
			before := e.mutations("")
			e.clock.Freeze(true)
			ctx, cancel := context.WithCancel(testCtx(t))
			defer cancel()
			s := step(c.action, c.region, c.with)
			interrupted := false
			_, err := e.reg.Execute(ctx, s, func(string) {
				if e.mutations("") > before {
					interrupted = true
					cancel()
				}
			})
			if !errors.Is(err, context.Canceled) || !interrupted {
				t.Fatalf("want the step cancelled while waiting after its mutation, got interrupted=%v err=%v", interrupted, err)
			}
			e.clock.Freeze(false)
			e.restart(t)
			s.Attempt = 2
			out, _, err := e.exec(testCtx(t), s)
			if err != nil {
				t.Fatalf("after restart: %v", err)
			}
			if n := e.mutations(c.op); n != 1 {
				t.Fatalf("journal holds %d %s, want 1: %v", n, c.op, e.sim.Journal())
			}
			if c.check != nil {
				c.check(t, out)
			}
		})
	}
}

func TestDeleteGuardRail(t *testing.T) {
	e := newSimEnv(t)
	ctx := testCtx(t)
	// A snapshot that is still being taken is no verified copy.
	e.clock.Freeze(true)
	if _, err := e.clients(t, east).RDS.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{
		DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), DBSnapshotIdentifier: aws.String("in-progress")}); err != nil {
		t.Fatal(err)
	}
	base := map[string]any{"instanceId": awssim.KaigoProdInstance, "finalSnapshotId": "kaigo-subsys-prod-final"}
	for _, tc := range []struct {
		name     string
		with     map[string]any
		sentinel error
		says     []string
	}{
		{"no verified copy", map[string]any{}, action.ErrInvalidInput, []string{"with.verifiedCopy is required", "refusing to delete"}},
		{"verified copy missing", map[string]any{"verifiedCopy": "nope"}, action.ErrGuardRail, []string{"verifiedCopy nope not found in us-east-1"}},
		{"verified copy not available", map[string]any{"verifiedCopy": "in-progress"}, action.ErrGuardRail, []string{"verifiedCopy in-progress is creating, not available"}},
		{"no final snapshot", map[string]any{"finalSnapshotId": nil, "verifiedCopy": "in-progress"}, action.ErrInvalidInput, []string{"with.finalSnapshotId is required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			with := map[string]any{}
			for k, v := range base {
				with[k] = v
			}
			for k, v := range tc.with {
				with[k] = v
			}
			_, _, err := e.exec(ctx, step("aws.rds.delete", east, with))
			wantErr(t, err, tc.sentinel, tc.says...)
			if n := e.mutations("DeleteDBInstance"); n != 0 {
				t.Fatalf("the guard rail let %d deletes through", n)
			}
		})
	}
}

func TestRestoreSnapshotGuardRail(t *testing.T) {
	e := newSimEnv(t)
	ctx := testCtx(t)
	with := map[string]any{"instanceId": awssim.KaigoDRInstance, "sourceInstance": awssim.KaigoProdInstance,
		"subnetGroup": awssim.KaigoDRSubnetGroup, "maxAge": "1h"}
	_, _, err := e.exec(ctx, step("aws.rds.restoreSnapshot", west, with))
	wantErr(t, err, action.ErrGuardRail)
	re := regexp.MustCompile(`newest snapshot rds:kaigo-subsys-prod-\S+ is \d+h(\d+m)? old > maxAge 1h; set allowDataLoss to restore anyway`)
	if !re.MatchString(err.Error()) {
		t.Fatalf("error %q does not state the RPO finding", err)
	}
	if n := e.mutations(""); n != 0 {
		t.Fatalf("a refused restore made %d mutations", n)
	}
	with["allowDataLoss"] = "true"
	out, _, err := e.exec(ctx, step("aws.rds.restoreSnapshot", west, with))
	if err != nil {
		t.Fatal(err)
	}
	age := out["snapshotAgeSeconds"].(int64)
	if age <= 3600 || out["dataLossWindow"] != human.Duration(time.Duration(age)*time.Second) {
		t.Fatalf("want the data-loss window reported, got %v", out)
	}
}

// staleRecords hides a change from the read-back, as a record that did not take would.
type staleRecords struct {
	agentaws.Route53API
	first *route53.ListResourceRecordSetsOutput
}

func (s *staleRecords) ListResourceRecordSets(ctx context.Context, in *route53.ListResourceRecordSetsInput, o ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error) {
	if s.first == nil {
		out, err := s.Route53API.ListResourceRecordSets(ctx, in, o...)
		s.first = out
		return out, err
	}
	return s.first, nil
}

func TestUpsertAliasVerifies(t *testing.T) {
	e := newSimEnv(t)
	r53 := e.clients(t, west).Route53
	with := map[string]any{"hostedZoneId": awssim.KaigoHostedZoneID, "recordName": "api.kaigo-subsys.example.com",
		"targetDnsName": awssim.KaigoALBDNS(west), "targetHostedZoneId": awssim.KaigoALBZoneID(west)}
	t.Run("record not changed", func(t *testing.T) {
		ex := &agentaws.Route53UpsertAlias{Client: func(string) (agentaws.Route53API, error) { return &staleRecords{Route53API: r53}, nil }, Opts: e.opts}
		_, err := ex.Execute(testCtx(t), step("aws.route53.upsertAlias", west, with), nil)
		wantErr(t, err, action.ErrCheckFailed, "not an alias to "+awssim.KaigoALBDNS(west))
	})
	t.Run("answer is not the target", func(t *testing.T) {
		opts := e.opts
		opts.LookupHost = func(context.Context, string) ([]string, error) { return []string{"203.0.113.99"}, nil }
		ex := &agentaws.Route53UpsertAlias{Client: func(string) (agentaws.Route53API, error) { return r53, nil }, Opts: opts}
		_, err := ex.Execute(testCtx(t), step("aws.route53.upsertAlias", west, with), nil)
		wantErr(t, err, action.ErrCheckFailed, "none of which is an address of")
	})
	t.Run("answer is the target", func(t *testing.T) {
		opts := e.opts
		opts.LookupHost = func(context.Context, string) ([]string, error) { return []string{"198.51.100.20"}, nil }
		ex := &agentaws.Route53UpsertAlias{Client: func(string) (agentaws.Route53API, error) { return r53, nil }, Opts: opts}
		if _, err := ex.Execute(testCtx(t), step("aws.route53.upsertAlias", west, with), nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBadInputNamesTheInput(t *testing.T) {
	e := newSimEnv(t)
	ctx := testCtx(t)
	for _, tc := range []struct {
		action string
		with   map[string]any
		says   string
	}{
		{"aws.rds.restoreSnapshot", map[string]any{"sourceInstance": awssim.KaigoProdInstance}, "with.instanceId is required"},
		{"aws.rds.restoreSnapshot", map[string]any{"instanceId": "x"}, "with.sourceInstance or with.snapshotId is required"},
		{"aws.rds.restoreSnapshot", map[string]any{"instanceId": "x", "snapshotId": "s", "maxAge": "an hour"}, "with.maxAge"},
		{"aws.rds.copySnapshot", map[string]any{"sourceSnapshotArn": "arn:aws:rds:us-west-2:snapshot", "sourceRegion": west, "targetSnapshotId": "t"}, "with.sourceSnapshotArn: malformed ARN"},
		{"aws.rds.copySnapshot", map[string]any{"sourceSnapshotArn": "arn:aws:s3:us-west-2:123456789012:snapshot:x", "sourceRegion": west, "targetSnapshotId": "t"}, "with.sourceSnapshotArn: malformed ARN"},
		{"aws.rds.copySnapshot", map[string]any{"sourceSnapshotArn": "arn:aws:rds:us-west-2:123456789012:snapshot:x", "sourceRegion": east, "targetSnapshotId": "t"}, "with.sourceRegion"},
		{"aws.rds.stop", map[string]any{}, "with.instanceId is required"},
		{"aws.backup.restoreLatest", map[string]any{"vault": "v", "iamRoleArn": "AWSBackupDefaultServiceRole"}, "with.iamRoleArn: malformed ARN"},
		{"aws.ecs.updateService", map[string]any{"cluster": "c", "service": "s", "desiredCount": "two"}, "with.desiredCount"},
		{"aws.elbv2.waitHealthy", map[string]any{"targetGroupArn": "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/x"}, "with.targetGroupArn: malformed ARN"},
		{"aws.elbv2.waitHealthy", map[string]any{}, "with.targetGroupArn or with.targetGroupName is required"},
		{"aws.cloudwatch.putAlarm", map[string]any{"alarmName": "a", "metricName": "m", "namespace": "n", "threshold": "high"}, "with.threshold"},
		{"aws.route53.upsertAlias", map[string]any{"hostedZoneId": "Z", "recordName": "r", "targetHostedZoneId": "Z2"}, "as targetLoadBalancer (an ALB's name), or as targetDnsName with targetHostedZoneId"},
		{"aws.secretsmanager.put", map[string]any{"secretId": "s"}, "with.value or with.json is required"},
		{"aws.sns.publish", map[string]any{"topicArn": "kaigo-alerts", "message": "m"}, "with.topicArn: malformed ARN"},
		{"aws.elasticache.createReplicationGroup", map[string]any{"replicationGroupId": "g", "numCacheClusters": 2.5}, "with.numCacheClusters"},
		{"aws.health.events", map[string]any{}, "with.region is required"},
	} {
		t.Run(tc.action+"/"+tc.says, func(t *testing.T) {
			_, _, err := e.exec(ctx, step(tc.action, west, tc.with))
			wantErr(t, err, action.ErrInvalidInput, tc.says)
		})
	}
	if n := e.mutations(""); n != 0 {
		t.Fatalf("bad input made %d mutations", n)
	}
}

// TestProgressReportsElapsed checks the status line shape the runtime forwards.
func TestProgressReportsElapsed(t *testing.T) {
	e := newSimEnv(t)
	_, lines, err := e.exec(testCtx(t), step("aws.elasticache.createReplicationGroup", west, map[string]any{"replicationGroupId": "kaigo-subsys-dr"}))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^ElastiCache kaigo-subsys-dr: creating \(\d+(s|m|h)\S* elapsed\)$`)
	var got []string
	for _, l := range lines {
		if re.MatchString(l) {
			got = append(got, l)
		}
	}
	if len(got) == 0 {
		sort.Strings(lines)
		t.Fatalf("no progress line like %q while creating; got %q", re, lines)
	}
}

// TestNotifyThroughSNS wires the notify action to SNS the way the agent does, and checks a
// re-dispatch tells nobody twice.
func TestNotifyThroughSNS(t *testing.T) {
	e := newSimEnv(t)
	reg := action.NewRegistry()
	memo := &action.MemoryMemo{}
	pub := agentaws.Publisher(agentaws.ClientCache(context.Background(), e.endpoint, e.opts))
	action.RegisterBuiltins(reg, action.BuiltinOptions{Publisher: pub, Memo: memo})
	s := step("notify", west, map[string]any{"topicArn": "arn:aws:sns:us-west-2:123456789012:kaigo-subsys-dr-notifications",
		"message": "DR発動", "audience": []any{"operations"}})
	for attempt := uint32(1); attempt <= 2; attempt++ {
		s.Attempt = attempt
		out, err := reg.Execute(testCtx(t), s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := out["delivered"].([]any); len(got) != 1 || got[0] != "sns" {
			t.Fatalf("delivered = %v", got)
		}
	}
	if n := e.mutations("Publish"); n != 1 {
		t.Fatalf("%d SNS publishes for one notify step, want 1", n)
	}
}

func TestHealthFailIfOpen(t *testing.T) {
	e := newSimEnv(t)
	s := step("aws.health.events", west, map[string]any{"region": east, "failIfOpen": true})
	if _, _, err := e.exec(testCtx(t), s); err != nil {
		t.Fatalf("no open events, yet: %v", err)
	}
	arn := e.sim.OpenHealthEvent(awssim.HealthEvent{Region: east, Service: "RDS"})
	out, _, err := e.exec(testCtx(t), s)
	wantErr(t, err, action.ErrCheckFailed, "1 open AWS Health event(s) in us-east-1: RDS AWS_RDS_OPERATIONAL_ISSUE")
	if out["openEvents"] != int64(1) || out["eventArns"].([]any)[0] != arn {
		t.Fatalf("outputs with the failure: %v", out)
	}
	e.sim.CloseHealthEvent(east, arn)
	if _, _, err := e.exec(testCtx(t), s); err != nil {
		t.Fatalf("after the event closed: %v", err)
	}
}

// TestUpsertAliasFindsByName: given the zone's name and the ALB's name, the step reads the
// zone id and the ALB's own DNS name and canonical zone, so no plan carries them; a wrong
// name is a failed check naming it, and a wrong form is refused before any call.
func TestUpsertAliasFindsByName(t *testing.T) {
	e := newSimEnv(t)
	c := e.clients(t, west)
	ex := &agentaws.Route53UpsertAlias{Client: func(string) (agentaws.Route53API, error) { return c.Route53, nil },
		LoadBalancers: func(string) (elbv2.DescribeLoadBalancersAPIClient, error) { return c.ELBv2, nil }, Opts: e.opts}
	with := map[string]any{"hostedZone": strings.TrimSuffix(awssim.KaigoZoneName, "."), "recordName": "api.kaigo-subsys.example.com",
		"targetLoadBalancer": awssim.KaigoDRALBName}
	out, err := ex.Execute(testCtx(t), step("aws.route53.upsertAlias", west, with), nil)
	if err != nil {
		t.Fatal(err)
	}
	if out["hostedZoneId"] != awssim.KaigoHostedZoneID || out["targetDnsName"] != awssim.KaigoALBDNS(west) || out["targetHostedZoneId"] != awssim.KaigoALBZoneID(west) {
		t.Fatalf("outputs: %v", out)
	}
	changes := func() int {
		n := 0
		for _, j := range e.sim.Journal() {
			if j.Operation == "ChangeResourceRecordSets" {
				n++
			}
		}
		return n
	}
	if n := changes(); n != 1 {
		t.Fatalf("journal holds %d ChangeResourceRecordSets, want 1", n)
	}
	for _, tc := range []struct {
		with map[string]any
		err  error
		says string
	}{
		{map[string]any{"hostedZone": "kaigo-subsys.example.com", "recordName": "api.kaigo-subsys.example.com", "targetLoadBalancer": "no-such-alb"},
			action.ErrCheckFailed, "no load balancer named no-such-alb in " + west},
		{map[string]any{"hostedZone": "nope.example.com", "recordName": "api.nope.example.com", "targetLoadBalancer": awssim.KaigoDRALBName},
			action.ErrCheckFailed, "no public hosted zone named nope.example.com."},
		{map[string]any{"hostedZone": "kaigo-subsys.example.com", "hostedZoneId": awssim.KaigoHostedZoneID, "recordName": "x", "targetLoadBalancer": "a"},
			action.ErrInvalidInput, "hostedZoneId or as hostedZone"},
		{map[string]any{"hostedZone": "kaigo-subsys.example.com", "recordName": "x", "targetLoadBalancer": "a", "targetDnsName": "b"},
			action.ErrInvalidInput, "not both"},
		{map[string]any{"hostedZone": "kaigo-subsys.example.com", "recordName": "x", "targetDnsName": "b"},
			action.ErrInvalidInput, "targetDnsName with targetHostedZoneId"},
	} {
		_, err := ex.Execute(testCtx(t), step("aws.route53.upsertAlias", west, tc.with), nil)
		wantErr(t, err, tc.err, tc.says)
	}
	if n := changes(); n != 1 {
		t.Fatalf("a refused step changed DNS: %d changes", n)
	}
}
