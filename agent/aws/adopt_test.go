package aws_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/awssim"
)

// restoreDR is the failover's restore step of run/stepID.
func restoreDR(run, stepID string, extra map[string]any) action.Step {
	with := map[string]any{"instanceId": awssim.KaigoDRInstance, "sourceInstance": awssim.KaigoProdInstance,
		"subnetGroup": awssim.KaigoDRSubnetGroup, "allowDataLoss": true}
	for k, v := range extra {
		with[k] = v
	}
	s := step("aws.rds.restoreSnapshot", west, with)
	s.RunID, s.StepID = run, stepID
	return s
}

func mustExec(t *testing.T, e *env, s action.Step) map[string]any {
	t.Helper()
	out, _, err := e.exec(testCtx(t), s)
	if err != nil {
		t.Fatalf("%s of %s: %v", s.Action, s.RunID, err)
	}
	return out
}

// refused runs s, which must be refused by a guard rail at once: nothing is mutated,
// nothing adopted, nothing waited for. AWS time stands still meanwhile, so an executor that
// waited would wait until the step's deadline.
func refused(t *testing.T, e *env, s action.Step, says ...string) {
	t.Helper()
	before := e.mutations("")
	e.clock.Freeze(true)
	defer e.clock.Freeze(false)
	ctx, cancel := context.WithTimeout(testCtx(t), 20*time.Second)
	defer cancel()
	s.Undo = &action.UndoLog{}
	_, lines, err := e.exec(ctx, s)
	t.Logf("%s of %s: %v", s.Action, s.RunID, err)
	wantErr(t, err, action.ErrGuardRail, says...)
	for _, l := range lines {
		if strings.Contains(l, "adopting") {
			t.Fatalf("a refused step reported %q", l)
		}
	}
	if n := e.mutations("") - before; n != 0 {
		t.Fatalf("a refused step made %d mutations: %v", n, e.sim.Journal())
	}
	if u := s.Undo.Steps(); len(u) != 0 {
		t.Fatalf("a refused step recorded undo %v", u)
	}
}

// TestSecondFailoverRefusesTheStoppedDRDatabase is the failover after a cutback: the DR
// database the first failover restored was stopped by the cutback, and holds that period's
// data. The second failover must not adopt it (and wait on it until its timeout).
func TestSecondFailoverRefusesTheStoppedDRDatabase(t *testing.T) {
	e := newSimEnv(t)
	first := mustExec(t, e, restoreDR("failover-1", "restore-rds", nil))
	stop := step("aws.rds.stop", west, map[string]any{"instanceId": awssim.KaigoDRInstance})
	stop.RunID = "cutback-1"
	mustExec(t, e, stop)
	// Production took snapshots after the cutback; the newest reached the DR region.
	fresh := mustExec(t, e, step("aws.rds.snapshot", east, map[string]any{"instanceId": awssim.KaigoProdInstance, "snapshotId": "kaigo-subsys-prod-after-cutback"}))
	cp := step("aws.rds.copySnapshot", west, map[string]any{"sourceSnapshotArn": fresh["snapshotArn"], "sourceRegion": east,
		"targetSnapshotId": "kaigo-subsys-prod-after-cutback", "kmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/dr-key-id"})
	mustExec(t, e, cp)

	refused(t, e, restoreDR("failover-2", "restore-rds", nil),
		"DB instance kaigo-subsys-dr already exists (stopped) and is not adopted",
		"it was created by run failover-1 (step restore-rds), not by this run (failover-2)",
		"it is stopped",
		"it holds snapshot "+first["snapshotId"].(string)+" (data from "+first["snapshotTime"].(string)+")",
		"not the newest snapshot kaigo-subsys-prod-after-cutback (data from",
		"Delete it", "or set another instanceId")
	// Even a run the first failover's resources were passed to refuses a stopped database.
	handed := restoreDR("failover-2", "restore-rds", nil)
	handed.OwnerRuns = []string{"failover-1"}
	refused(t, e, handed, "already exists (stopped)", "it is stopped")

	// With another instanceId the second failover restores the newest data.
	out := mustExec(t, e, restoreDR("failover-2", "restore-rds", map[string]any{"instanceId": "kaigo-subsys-dr-2"}))
	if out["snapshotId"] != "kaigo-subsys-prod-after-cutback" {
		t.Fatalf("second failover restored %v, want the newest snapshot", out["snapshotId"])
	}
}

// TestRestoreAdoption covers who may adopt an existing instance: the legitimate cases are
// adopted without a second restore, the rest refused.
func TestRestoreAdoption(t *testing.T) {
	t.Run("a retry of the step adopts its own restore, and records its undo", func(t *testing.T) {
		e := newSimEnv(t)
		s := restoreDR("failover-1", "restore-rds", nil)
		first, _, err := e.execUndo(testCtx(t), s)
		if err != nil {
			t.Fatal(err)
		}
		// A newer snapshot arrives while the step is retried (a crash, a leader change):
		// the restore under way is still the step's own.
		fresh := mustExec(t, e, step("aws.rds.snapshot", east, map[string]any{"instanceId": awssim.KaigoProdInstance, "snapshotId": "kaigo-subsys-prod-newer"}))
		mustExec(t, e, step("aws.rds.copySnapshot", west, map[string]any{"sourceSnapshotArn": fresh["snapshotArn"], "sourceRegion": east,
			"targetSnapshotId": "kaigo-subsys-prod-newer", "kmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/dr-key-id"}))
		e.restart(t)
		s.Attempt = 2
		s.Undo = &action.UndoLog{}
		out, lines, err := e.exec(testCtx(t), s)
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		sameOutputs(t, first, out)
		if n := e.mutations("RestoreDBInstanceFromDBSnapshot"); n != 1 {
			t.Fatalf("%d restores, want 1", n)
		}
		if u := s.Undo.Steps(); len(u) != 1 || u[0].Action != "aws.rds.deleteRestored" {
			t.Fatalf("the retry recorded undo %v, want the restore's", u)
		}
		if !strings.Contains(strings.Join(lines, "\n"), "a newer snapshot, kaigo-subsys-prod-newer") {
			t.Fatalf("the retry did not report the newer snapshot: %q", lines)
		}
	})

	t.Run("a run the drill was passed to adopts the drill's restore of the newest snapshot", func(t *testing.T) {
		e := newSimEnv(t)
		drill := mustExec(t, e, restoreDR("drill-1", "restore-rds", nil))
		real := restoreDR("failover-1", "restore-rds", nil)
		real.OwnerRuns = []string{"drill-1"}
		out, undo, err := e.execUndo(testCtx(t), real)
		if err != nil {
			t.Fatal(err)
		}
		sameOutputs(t, drill, out)
		if n := e.mutations("RestoreDBInstanceFromDBSnapshot"); n != 1 {
			t.Fatalf("%d restores, want 1", n)
		}
		if len(undo) != 0 {
			t.Fatalf("adopting the drill's instance recorded undo %v; the drill's undo is the drill's", undo)
		}
		// Without the hand-over it is another run's.
		refused(t, e, restoreDR("failover-2", "restore-rds", nil),
			"already exists (available)", "it was created by run drill-1 (step restore-rds), not by this run (failover-2)",
			"it holds the newest snapshot "+drill["snapshotId"].(string))
	})

	t.Run("a restore of an older snapshot is refused, even for an owner run", func(t *testing.T) {
		e := newSimEnv(t)
		drill := mustExec(t, e, restoreDR("drill-1", "restore-rds", nil))
		fresh := mustExec(t, e, step("aws.rds.snapshot", east, map[string]any{"instanceId": awssim.KaigoProdInstance, "snapshotId": "kaigo-subsys-prod-newer"}))
		mustExec(t, e, step("aws.rds.copySnapshot", west, map[string]any{"sourceSnapshotArn": fresh["snapshotArn"], "sourceRegion": east,
			"targetSnapshotId": "kaigo-subsys-prod-newer", "kmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/dr-key-id"}))
		real := restoreDR("failover-1", "restore-rds", nil)
		real.OwnerRuns = []string{"drill-1"}
		refused(t, e, real, "already exists (available) and is not adopted",
			"it holds snapshot "+drill["snapshotId"].(string), "not the newest snapshot kaigo-subsys-prod-newer")
		// The same for a named snapshot.
		named := restoreDR("failover-1", "restore-rds", map[string]any{"sourceInstance": nil, "snapshotId": "kaigo-subsys-prod-newer"})
		named.OwnerRuns = []string{"drill-1"}
		refused(t, e, named, "it holds snapshot "+drill["snapshotId"].(string), "not the snapshot kaigo-subsys-prod-newer named by snapshotId")
	})

	t.Run("an owner run's restore must pass this run's maxAge", func(t *testing.T) {
		e := newSimEnv(t)
		mustExec(t, e, restoreDR("drill-1", "restore-rds", nil))
		real := restoreDR("failover-1", "restore-rds", map[string]any{"maxAge": "1h", "allowDataLoss": false})
		real.OwnerRuns = []string{"drill-1"}
		refused(t, e, real, "held by DB instance kaigo-subsys-dr is", "old > maxAge 1h; set allowDataLoss to adopt it anyway")
	})

	t.Run("an untagged instance is refused", func(t *testing.T) {
		e := newSimEnv(t)
		newest, _, _ := newestSnapshot(t, e, west)
		// Made by hand, from the very snapshot the step would choose: without kirikae's
		// tags nothing says what it holds now.
		if _, err := e.clients(t, west).RDS.RestoreDBInstanceFromDBSnapshot(testCtx(t), &rds.RestoreDBInstanceFromDBSnapshotInput{
			DBInstanceIdentifier: aws.String(awssim.KaigoDRInstance), DBSnapshotIdentifier: aws.String(newest),
			DBSubnetGroupName: aws.String(awssim.KaigoDRSubnetGroup)}); err != nil {
			t.Fatal(err)
		}
		s := restoreDR("failover-1", "restore-rds", nil)
		s.OwnerRuns = []string{"drill-1"}
		refused(t, e, s, "DB instance kaigo-subsys-dr already exists (creating) and is not adopted",
			"it was not created by kirikae (it has no kirikae:run tag)", "no kirikae:snapshot tag says which snapshot it was restored from")
	})
}

// TestPointInTimeAdoption: the same rules with the restore time in place of the snapshot.
func TestPointInTimeAdoption(t *testing.T) {
	e := newSimEnv(t)
	pitr := func(run string, owners []string, restoreTime any) action.Step {
		s := step("aws.rds.restorePointInTime", east, map[string]any{"sourceInstance": awssim.KaigoProdInstance,
			"instanceId": "kaigo-subsys-prod-pitr", "subnetGroup": "kaigo-subsys-prod-db-subnet-group", "restoreTime": restoreTime})
		s.RunID, s.StepID, s.OwnerRuns = run, "restore-pitr", owners
		return s
	}
	first := mustExec(t, e, pitr("recovery-1", nil, "2025-12-01T08:00:00Z"))
	refused(t, e, pitr("recovery-2", nil, "2025-12-01T08:00:00Z"),
		"DB instance kaigo-subsys-prod-pitr already exists (available) and is not adopted",
		"it was created by run recovery-1 (step restore-pitr), not by this run (recovery-2)")
	refused(t, e, pitr("recovery-2", []string{"recovery-1"}, "2025-12-01T07:00:00Z"),
		"it was restored to 2025-12-01T08:00:00Z, not to 2025-12-01T07:00:00Z")
	refused(t, e, pitr("recovery-2", []string{"recovery-1"}, nil),
		"it holds the data of 2025-12-01T08:00:00Z, and this step asks for the latest restorable time")
	out, undo, err := e.execUndo(testCtx(t), pitr("recovery-2", []string{"recovery-1"}, "2025-12-01T08:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	sameOutputs(t, first, out)
	if len(undo) != 0 || e.mutations("RestoreDBInstanceToPointInTime") != 1 {
		t.Fatalf("adopting: undo %v, %d restores", undo, e.mutations("RestoreDBInstanceToPointInTime"))
	}
}

// TestElastiCacheAdoption: a replication group is adopted only when this run (or a run
// passed to it) created it; the tags come from ListTagsForResource.
func TestElastiCacheAdoption(t *testing.T) {
	e := newSimEnv(t)
	create := func(run, id string, owners ...string) action.Step {
		s := step("aws.elasticache.createReplicationGroup", west, map[string]any{"replicationGroupId": id,
			"nodeType": "cache.r6g.large", "subnetGroup": awssim.KaigoDRCacheSubnets})
		s.RunID, s.StepID, s.OwnerRuns = run, "create-cache", owners
		return s
	}
	first := mustExec(t, e, create("drill-1", "kaigo-subsys-dr"))

	// A retry of the step adopts the group and records the undo its first attempt may have lost.
	retry := create("drill-1", "kaigo-subsys-dr")
	retry.Attempt = 2
	out, undo, err := e.execUndo(testCtx(t), retry)
	if err != nil {
		t.Fatal(err)
	}
	sameOutputs(t, first, out)
	if len(undo) != 1 || undo[0].Action != "aws.elasticache.deleteReplicationGroup" {
		t.Fatalf("retry recorded undo %v", undo)
	}

	refused(t, e, create("failover-1", "kaigo-subsys-dr"),
		"replication group kaigo-subsys-dr already exists (available) and is not adopted",
		"it was created by run drill-1 (step create-cache), not by this run (failover-1)", "set another replicationGroupId")
	out, undo, err = e.execUndo(testCtx(t), create("failover-1", "kaigo-subsys-dr", "drill-1"))
	if err != nil {
		t.Fatal(err)
	}
	sameOutputs(t, first, out)
	if len(undo) != 0 || e.mutations("CreateReplicationGroup") != 1 {
		t.Fatalf("adopting the drill's group: undo %v, %d creates", undo, e.mutations("CreateReplicationGroup"))
	}

	// A group made by hand carries no kirikae tags.
	if _, err := e.clients(t, west).ElastiCache.CreateReplicationGroup(testCtx(t), &elasticache.CreateReplicationGroupInput{
		ReplicationGroupId: aws.String("kaigo-subsys-dr-hand"), ReplicationGroupDescription: aws.String("by hand"),
		CacheNodeType: aws.String("cache.r6g.large"), NumCacheClusters: aws.Int32(2),
		Tags: []ectypes.Tag{{Key: aws.String("owner"), Value: aws.String("ops")}}}); err != nil {
		t.Fatal(err)
	}
	refused(t, e, create("failover-1", "kaigo-subsys-dr-hand", "drill-1"),
		"replication group kaigo-subsys-dr-hand already exists (creating) and is not adopted",
		"it was not created by kirikae (it has no kirikae:run tag)")
}
