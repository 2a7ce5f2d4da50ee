package aws_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/awssim"
	"github.com/kirikae/kirikae/plan"
)

// world is what an undo case compares before the step and after its teardown.
type world func(t *testing.T, e *env) any

func rdsExists(id, region string) world {
	return func(t *testing.T, e *env) any {
		_, err := e.clients(t, region).RDS.DescribeDBInstances(testCtx(t), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
		if err != nil && !strings.Contains(err.Error(), "DBInstanceNotFound") {
			t.Fatal(err)
		}
		return err == nil
	}
}

// undoCase is a step that creates or changes something, the undo it must report and the
// state its teardown must bring back.
type undoCase struct {
	name, action string
	region       string
	with         map[string]any
	setup        func(t *testing.T, e *env)
	// want is the undo the first run must report; it may read the world after the run.
	want func(t *testing.T, e *env, out map[string]any) []action.Undo
	// state is compared before the step and after the teardown.
	state world
	// sameStepRerun: a rerun of the same step reports the same undo (the resource is the
	// step's own); otherwise a run of another step on the now existing resource reports none.
	sameStepRerun bool
}

func undoCases() []undoCase {
	// restored is the undo of a restore; fromSnapshot says the step's snapshotId output is
	// the verified copy the delete checks (a point-in-time restore has none).
	restored := func(id, region string, fromSnapshot bool) func(t *testing.T, e *env, _ map[string]any) []action.Undo {
		return func(t *testing.T, e *env, stepOut map[string]any) []action.Undo {
			out, err := e.clients(t, region).RDS.DescribeDBInstances(testCtx(t), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
			if err != nil || len(out.DBInstances) != 1 || out.DBInstances[0].InstanceCreateTime == nil {
				t.Fatalf("describe %s: %v %v", id, out, err)
			}
			with := map[string]any{"instanceId": id, "createTime": out.DBInstances[0].InstanceCreateTime.UTC().Format(time.RFC3339Nano)}
			if fromSnapshot {
				with["sourceSnapshotId"] = stepOut["snapshotId"]
			}
			return []action.Undo{{Action: "aws.rds.deleteRestored", Note: "delete DB instance " + id + " (restored by this run)", With: with}}
		}
	}
	return []undoCase{
		{name: "restoreSnapshot", action: "aws.rds.restoreSnapshot", region: west,
			with: map[string]any{"instanceId": awssim.KaigoDRInstance, "sourceInstance": awssim.KaigoProdInstance,
				"subnetGroup": awssim.KaigoDRSubnetGroup, "allowDataLoss": true},
			want: restored(awssim.KaigoDRInstance, west, true), state: rdsExists(awssim.KaigoDRInstance, west)},
		{name: "restorePointInTime", action: "aws.rds.restorePointInTime", region: east,
			// A named restore time: another step adopts the instance only when it holds the data
			// of the time it asks for, and "latest" is never a time an earlier restore holds.
			with: map[string]any{"sourceInstance": awssim.KaigoProdInstance, "instanceId": "kaigo-subsys-prod-pitr",
				"subnetGroup": "kaigo-subsys-prod-db-subnet-group", "restoreTime": "2025-12-01T08:00:00Z"},
			want: restored("kaigo-subsys-prod-pitr", east, false), state: rdsExists("kaigo-subsys-prod-pitr", east)},
		{name: "createReplicationGroup", action: "aws.elasticache.createReplicationGroup", region: west,
			with: map[string]any{"replicationGroupId": "kaigo-subsys-dr", "subnetGroup": awssim.KaigoDRCacheSubnets},
			want: func(*testing.T, *env, map[string]any) []action.Undo {
				return []action.Undo{{Action: "aws.elasticache.deleteReplicationGroup", With: map[string]any{"replicationGroupId": "kaigo-subsys-dr"},
					Note: "delete replication group kaigo-subsys-dr (created by this run)"}}
			},
			state: func(t *testing.T, e *env) any {
				_, err := e.clients(t, west).ElastiCache.DescribeReplicationGroups(testCtx(t), &elasticache.DescribeReplicationGroupsInput{
					ReplicationGroupId: aws.String("kaigo-subsys-dr")})
				if err != nil && !strings.Contains(err.Error(), "ReplicationGroupNotFound") {
					t.Fatal(err)
				}
				return err == nil
			}},
		{name: "backupRestore", action: "aws.backup.restoreLatest", region: west, sameStepRerun: true,
			with: map[string]any{"vault": awssim.KaigoDRVault, "iamRoleArn": "arn:aws:iam::123456789012:role/AWSBackupDefaultServiceRole"},
			want: func(t *testing.T, _ *env, out map[string]any) []action.Undo {
				job := out["restoreJobId"].(string)
				return []action.Undo{{Action: "aws.backup.deleteRestored", With: map[string]any{"restoreJobId": job},
					Note: "delete what restore job " + job + " creates (started by this run from " + awssim.KaigoDRVault + ")"}}
			},
			state: func(t *testing.T, e *env) any { return fileSystems(t, e) }},
		{name: "secretPut", action: "aws.secretsmanager.put", region: west,
			with: map[string]any{"secretId": awssim.KaigoDRDBSecret, "json": map[string]any{"endpoint": "drill.example"}},
			want: func(t *testing.T, e *env, out map[string]any) []action.Undo {
				// The version before is the one that is AWSPREVIOUS now.
				prev, err := e.clients(t, west).SecretsManager.GetSecretValue(testCtx(t), &secretsmanager.GetSecretValueInput{
					SecretId: aws.String(awssim.KaigoDRDBSecret), VersionStage: aws.String("AWSPREVIOUS")})
				if err != nil {
					t.Fatal(err)
				}
				v := aws.ToString(prev.VersionId)
				if v == "" || v == out["versionId"] {
					t.Fatalf("previous version %q, new %v", v, out["versionId"])
				}
				return []action.Undo{{Action: "aws.secretsmanager.restoreVersion", With: map[string]any{"secretId": awssim.KaigoDRDBSecret, "versionId": v},
					Note: "make version " + v + " of secret " + awssim.KaigoDRDBSecret + " current again (replaced by this run)"}}
			},
			state: func(t *testing.T, e *env) any {
				cur, err := e.clients(t, west).SecretsManager.GetSecretValue(testCtx(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String(awssim.KaigoDRDBSecret)})
				if err != nil {
					t.Fatal(err)
				}
				return aws.ToString(cur.VersionId) + " " + aws.ToString(cur.SecretString)
			}},
		{name: "registerTaskDefinition", action: "aws.ecs.registerTaskDefinition", region: west,
			with: map[string]any{"family": awssim.KaigoDRTaskFamily, "image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/kaigo-subsys:drill"},
			want: func(t *testing.T, _ *env, out map[string]any) []action.Undo {
				return []action.Undo{{Action: "aws.ecs.deregisterTaskDefinition", With: map[string]any{"taskDefinition": out["taskDefinitionArn"]},
					Note: "deregister task definition kaigo-subsys-dr:2 (registered by this run)"}}
			},
			// The family's newest ACTIVE revision.
			state: func(t *testing.T, e *env) any {
				td, err := e.clients(t, west).ECS.DescribeTaskDefinition(testCtx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(awssim.KaigoDRTaskFamily)})
				if err != nil {
					t.Fatal(err)
				}
				return aws.ToString(td.TaskDefinition.TaskDefinitionArn) + " " + string(td.TaskDefinition.Status)
			}},
		{name: "updateService", action: "aws.ecs.updateService", region: west,
			with: map[string]any{"cluster": awssim.KaigoDRCluster, "service": awssim.KaigoDRService, "desiredCount": 2,
				"taskDefinition": awssim.KaigoDRTaskFamily},
			// A new revision first, so the update changes the task definition and the count.
			setup: func(t *testing.T, e *env) {
				s := step("aws.ecs.registerTaskDefinition", west, map[string]any{"family": awssim.KaigoDRTaskFamily,
					"image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/kaigo-subsys:drill"})
				if _, _, err := e.exec(testCtx(t), s); err != nil {
					t.Fatal(err)
				}
			},
			want: func(t *testing.T, e *env, out map[string]any) []action.Undo {
				if !strings.HasSuffix(out["taskDefinition"].(string), ":2") {
					t.Fatalf("the update did not change the task definition: %v", out)
				}
				prev := "arn:aws:ecs:us-west-2:" + awssim.AccountID + ":task-definition/kaigo-subsys-dr:1"
				return []action.Undo{{Action: "aws.ecs.updateService",
					With: map[string]any{"cluster": awssim.KaigoDRCluster, "service": awssim.KaigoDRService, "desiredCount": int64(0),
						"taskDefinition": prev, "wait": true},
					Note: "set service kaigo-subsys-dr/kaigo-subsys-dr-service back to 0 tasks of " + prev + " (changed by this run)"}}
			},
			state: func(t *testing.T, e *env) any {
				out, err := e.clients(t, west).ECS.DescribeServices(testCtx(t), &ecs.DescribeServicesInput{
					Cluster: aws.String(awssim.KaigoDRCluster), Services: []string{awssim.KaigoDRService}})
				if err != nil || len(out.Services) != 1 {
					t.Fatal(out, err)
				}
				s := out.Services[0]
				return []any{s.DesiredCount, s.RunningCount, aws.ToString(s.TaskDefinition)}
			}},
		{name: "putAlarm", action: "aws.cloudwatch.putAlarm", region: west,
			with: map[string]any{"alarmName": "kaigo-subsys-dr-drill", "metricName": "CPUUtilization", "namespace": "AWS/ECS", "threshold": 90},
			want: func(*testing.T, *env, map[string]any) []action.Undo {
				return []action.Undo{{Action: "aws.cloudwatch.deleteAlarm", With: map[string]any{"alarmName": "kaigo-subsys-dr-drill"},
					Note: "delete alarm kaigo-subsys-dr-drill (created by this run)"}}
			},
			state: func(t *testing.T, e *env) any {
				out, err := e.clients(t, west).CloudWatch.DescribeAlarms(testCtx(t), &cloudwatch.DescribeAlarmsInput{})
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, a := range out.MetricAlarms {
					names = append(names, aws.ToString(a.AlarmName))
				}
				return names
			}},
	}
}

// TestUndoTearsDown runs each creating step, checks the undo it reports, runs another step
// on what now exists (no undo: it is adopted), then the teardown: the undo steps, newest
// first, as ordinary catalog steps (twice: they are idempotent). The world is back to what
// it was before.
func TestUndoTearsDown(t *testing.T) {
	for _, c := range undoCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newSimEnv(t)
			ctx := testCtx(t)
			if c.setup != nil {
				c.setup(t, e)
			}
			before := c.state(t, e)
			s := step(c.action, c.region, c.with)
			out, undo, err := e.execUndo(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			want := c.want(t, e, out)
			if !reflect.DeepEqual(undo, want) {
				t.Fatalf("undo\n%#v\nwant\n%#v", undo, want)
			}
			for _, u := range undo {
				if a, ok := plan.ActionOf(u.Action); !ok || a.Where != plan.OnAgent {
					t.Fatalf("undo action %s is not an agent action of the catalog", u.Action)
				}
				if def := actionOf(t, c.action).Undo; u.Action != def {
					t.Fatalf("%s recorded the undo %s; its definition says %q", c.action, u.Action, def)
				}
			}
			if reflect.DeepEqual(c.state(t, e), before) {
				t.Fatalf("the step changed nothing the test can see: %v", before)
			}

			again := s
			again.Attempt = 2
			if !c.sameStepRerun {
				again.StepID += "-again"
			}
			_, undo2, err := e.execUndo(ctx, again)
			if err != nil {
				t.Fatalf("rerun: %v", err)
			}
			if c.sameStepRerun && !reflect.DeepEqual(undo2, want) {
				t.Fatalf("a rerun of the step reported %#v, want the same undo %#v", undo2, want)
			}
			if !c.sameStepRerun && len(undo2) != 0 {
				t.Fatalf("a step that found the resource there reported undo %#v", undo2)
			}

			for round := range 2 {
				for i := len(undo) - 1; i >= 0; i-- {
					u := undo[i]
					us := step(u.Action, c.region, u.With)
					us.RunID, us.StepID = "teardown-1", "undo-"+c.name
					// The teardown's own undo (an updateService reports how to go back
					// again) is of no use and not checked.
					if _, _, err := e.execUndo(ctx, us); err != nil {
						t.Fatalf("teardown round %d: %s: %v", round, u.Action, err)
					}
				}
			}
			if after := c.state(t, e); !reflect.DeepEqual(after, before) {
				t.Fatalf("after the teardown:\n%#v\nbefore the step:\n%#v", after, before)
			}
		})
	}
}

// TestUndoOfFailedRestore: a restore that created the instance and then failed while
// waiting (here cancelled, as a timeout would) still reports its undo.
func TestUndoOfFailedRestore(t *testing.T) {
	e := newSimEnv(t)
	e.clock.Freeze(true)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	s := step("aws.rds.restoreSnapshot", west, map[string]any{"instanceId": awssim.KaigoDRInstance,
		"sourceInstance": awssim.KaigoProdInstance, "subnetGroup": awssim.KaigoDRSubnetGroup, "allowDataLoss": true})
	s.Undo = &action.UndoLog{}
	_, err := e.reg.Execute(ctx, s, func(string) {
		if e.mutations("RestoreDBInstanceFromDBSnapshot") > 0 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want the wait cancelled, got %v", err)
	}
	undo := s.Undo.Steps()
	if len(undo) != 1 || undo[0].Action != "aws.rds.deleteRestored" || undo[0].With["instanceId"] != awssim.KaigoDRInstance {
		t.Fatalf("undo of the failed attempt: %#v", undo)
	}
	e.clock.Freeze(false)
	us := step(undo[0].Action, west, undo[0].With)
	if _, _, err := e.exec(testCtx(t), us); err != nil {
		t.Fatal(err)
	}
	if rdsExists(awssim.KaigoDRInstance, west)(t, e) == true {
		t.Fatal("the instance is still there after its undo")
	}
}

// TestDeleteRestoredGuardRail: only the very instance the restore created is deleted.
func TestDeleteRestoredGuardRail(t *testing.T) {
	e := newSimEnv(t)
	ctx := testCtx(t)
	s := step("aws.rds.restoreSnapshot", west, map[string]any{"instanceId": awssim.KaigoDRInstance,
		"sourceInstance": awssim.KaigoProdInstance, "subnetGroup": awssim.KaigoDRSubnetGroup, "allowDataLoss": true})
	_, undo, err := e.execUndo(ctx, s)
	if err != nil || len(undo) != 1 {
		t.Fatalf("restore: undo %v, err %v", undo, err)
	}
	created, err := time.Parse(time.RFC3339Nano, undo[0].With["createTime"].(string))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		with     map[string]any
		sentinel error
		says     string
	}{
		{"recreated since", map[string]any{"instanceId": awssim.KaigoDRInstance, "createTime": created.Add(time.Second).Format(time.RFC3339)},
			action.ErrGuardRail, "refusing to delete DB instance kaigo-subsys-dr: it was created at " + created.UTC().Format(time.RFC3339Nano)},
		{"there before the drill", map[string]any{"instanceId": awssim.KaigoProdInstance, "createTime": created.Format(time.RFC3339), "region": east},
			action.ErrGuardRail, "it is not the instance the drill restored"},
		{"source snapshot gone", map[string]any{"instanceId": awssim.KaigoDRInstance, "createTime": created.Format(time.RFC3339Nano), "sourceSnapshotId": "rds:gone"},
			action.ErrGuardRail, "the snapshot it was restored from, rds:gone, is not available"},
		{"no create time", map[string]any{"instanceId": awssim.KaigoDRInstance}, action.ErrInvalidInput, "with.createTime is required"},
		{"bad create time", map[string]any{"instanceId": awssim.KaigoDRInstance, "createTime": "yesterday"}, action.ErrInvalidInput, "with.createTime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			region := west
			if r, ok := tc.with["region"].(string); ok {
				region = r
				delete(tc.with, "region")
			}
			_, _, err := e.exec(ctx, step("aws.rds.deleteRestored", region, tc.with))
			wantErr(t, err, tc.sentinel, tc.says)
		})
	}
	if n := e.mutations("DeleteDBInstance"); n != 0 {
		t.Fatalf("the guard rail let %d deletes through", n)
	}
	if _, _, err := e.exec(ctx, step("aws.rds.deleteRestored", west, undo[0].With)); err != nil {
		t.Fatalf("the right creation time: %v", err)
	}
	if n := e.mutations("DeleteDBInstance"); n != 1 {
		t.Fatalf("%d deletes, want 1", n)
	}
}

// TestRestoreAbortedMidJobIsUndone: a restore step cancelled while its job still runs (an
// abort) has already recorded its undo, and that undo waits for the job AWS Backup cannot
// stop, then deletes the file system the job created. Nothing is left behind.
func TestRestoreAbortedMidJobIsUndone(t *testing.T) {
	e := newSimEnv(t)
	before := fileSystems(t, e)
	e.clock.Freeze(true) // AWS time stands still: the job stays unfinished
	ctx, cancel := context.WithCancel(testCtx(t))
	s := step("aws.backup.restoreLatest", west, restoreEFS)
	s.Undo = &action.UndoLog{}
	_, err := e.reg.Execute(ctx, s, func(string) {
		if e.mutations("StartRestoreJob") > 0 {
			cancel() // the run is aborted while the job runs
		}
	})
	cancel()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("the restore was not cut short: %v", err)
	}
	undo := s.Undo.Steps()
	if len(undo) != 1 || undo[0].Action != "aws.backup.deleteRestored" || undo[0].With["restoreJobId"] == "" {
		t.Fatalf("undo recorded by the aborted restore: %+v, want aws.backup.deleteRestored of its job", undo)
	}

	u := step(undo[0].Action, west, undo[0].With)
	waiting := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	var out map[string]any
	go func() {
		var err error
		out, err = e.reg.Execute(testCtx(t), u, func(line string) {
			if strings.Contains(line, "waiting for the job to end") {
				once.Do(func() { close(waiting) })
			}
		})
		done <- err
	}()
	select {
	case <-waiting:
	case err := <-done:
		t.Fatalf("the undo ended before the job did: %v %v", out, err)
	}
	if n := e.mutations("DeleteFileSystem"); n != 0 {
		t.Fatalf("the undo deleted before the job ended (%d deletes)", n)
	}
	e.clock.Freeze(false)
	if err := <-done; err != nil {
		t.Fatalf("undo: %v", err)
	}
	if out["deleted"] != true || out["fileSystemId"] == "" {
		t.Fatalf("undo outputs: %v", out)
	}
	if n := e.mutations("DeleteFileSystem"); n != 1 {
		t.Fatalf("journal holds %d DeleteFileSystem, want 1", n)
	}
	if after := fileSystems(t, e); !reflect.DeepEqual(after, before) {
		t.Fatalf("file systems before %v, after the undo %v", before, after)
	}
}

// fileSystems lists the EFS file systems of the DR region.
func fileSystems(t *testing.T, e *env) []string {
	t.Helper()
	out, err := e.clients(t, west).EFS.DescribeFileSystems(testCtx(t), &efs.DescribeFileSystemsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, fs := range out.FileSystems {
		ids = append(ids, aws.ToString(fs.FileSystemId))
	}
	return ids
}

// TestEveryUndoIsTried: each action whose definition names an undo has a case above that
// shows the executor records exactly that undo.
func TestEveryUndoIsTried(t *testing.T) {
	tried := map[string]bool{}
	for _, c := range undoCases() {
		tried[c.action] = true
	}
	for _, a := range plan.Actions() {
		if a.Undo != "" && !tried[a.Name] {
			t.Errorf("%s records %s as its undo, and no undo case tries it", a.Name, a.Undo)
		}
	}
}
