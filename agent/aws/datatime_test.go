package aws_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/kirikae/kirikae/agent/action"
	agentaws "github.com/kirikae/kirikae/agent/aws"
	"github.com/kirikae/kirikae/awssim"
	"github.com/kirikae/kirikae/human"
)

func TestSnapshotDataTime(t *testing.T) {
	created, original, data := time.Date(2025, 12, 1, 8, 50, 0, 0, time.UTC), time.Date(2025, 11, 24, 18, 0, 0, 0, time.UTC), time.Date(2025, 11, 24, 17, 59, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		s    *types.DBSnapshot
		want time.Time
	}{
		{"the last transaction, when RDS gives it", &types.DBSnapshot{SnapshotCreateTime: &created, OriginalSnapshotCreateTime: &original, SnapshotDatabaseTime: &data}, data},
		{"a copy: the original's time, not the copy's", &types.DBSnapshot{SnapshotCreateTime: &created, OriginalSnapshotCreateTime: &original}, original},
		{"an emulator that gives only the create time", &types.DBSnapshot{SnapshotCreateTime: &created}, created},
		{"no time at all", &types.DBSnapshot{}, time.Time{}},
		{"no snapshot", nil, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := agentaws.SnapshotDataTime(tc.s); !got.Equal(tc.want) {
				t.Fatalf("SnapshotDataTime = %v, want %v", got, tc.want)
			}
		})
	}
}

// oldestSnapshot is the oldest available snapshot of the production instance in region.
func oldestSnapshot(t *testing.T, e *env, region string) types.DBSnapshot {
	t.Helper()
	out, err := e.clients(t, region).RDS.DescribeDBSnapshots(testCtx(t), &rds.DescribeDBSnapshotsInput{
		DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)})
	if err != nil {
		t.Fatal(err)
	}
	var oldest types.DBSnapshot
	for _, s := range out.DBSnapshots {
		if aws.ToString(s.Status) == "available" && (oldest.SnapshotCreateTime == nil || s.SnapshotCreateTime.Before(*oldest.SnapshotCreateTime)) {
			oldest = s
		}
	}
	if oldest.SnapshotCreateTime == nil {
		t.Fatalf("no snapshot of %s in %s", awssim.KaigoProdInstance, region)
	}
	return oldest
}

func describeSnap(t *testing.T, e *env, region, id string) types.DBSnapshot {
	t.Helper()
	out, err := e.clients(t, region).RDS.DescribeDBSnapshots(testCtx(t), &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)})
	if err != nil || len(out.DBSnapshots) != 1 {
		t.Fatalf("describe snapshot %s: %v %v", id, out, err)
	}
	return out.DBSnapshots[0]
}

// recopy copies the oldest production snapshot of us-east-1 into us-west-2 now, as id: a
// fresh copy of week-old data.
func recopy(t *testing.T, e *env, id string) types.DBSnapshot {
	t.Helper()
	src := oldestSnapshot(t, e, east)
	s := step("aws.rds.copySnapshot", west, map[string]any{"sourceSnapshotArn": aws.ToString(src.DBSnapshotArn), "sourceRegion": east,
		"targetSnapshotId": id, "kmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/dr-key-id"})
	s.StepID = "recopy"
	if _, _, err := e.exec(testCtx(t), s); err != nil {
		t.Fatalf("copy: %v", err)
	}
	cp := describeSnap(t, e, west, id)
	// The premise, as on RDS: the copy's SnapshotCreateTime is the copy's, the data is the
	// original's.
	if age := e.clock.Now().Sub(aws.ToTime(cp.SnapshotCreateTime)); age > time.Hour {
		t.Fatalf("a copy made now has SnapshotCreateTime %v, %s ago; RDS gives a copy its own", cp.SnapshotCreateTime, age)
	}
	if !aws.ToTime(cp.OriginalSnapshotCreateTime).Equal(aws.ToTime(src.SnapshotCreateTime)) {
		t.Fatalf("copy's OriginalSnapshotCreateTime %v, want the original's %v", cp.OriginalSnapshotCreateTime, src.SnapshotCreateTime)
	}
	return cp
}

// TestRestoreAgesTheData: a copy made now of week-old data is week-old data. The maxAge
// guard refuses it, and "newest" is the snapshot with the newest data, not the newest copy.
func TestRestoreAgesTheData(t *testing.T) {
	e := newSimEnv(t)
	ctx := testCtx(t)
	newest, _, _ := newestSnapshot(t, e, west) // the fixture's newest copy
	recopy(t, e, "kaigo-subsys-prod-recopied")

	named := step("aws.rds.restoreSnapshot", west, map[string]any{"instanceId": awssim.KaigoDRInstance,
		"snapshotId": "kaigo-subsys-prod-recopied", "subnetGroup": awssim.KaigoDRSubnetGroup, "maxAge": "1h"})
	_, _, err := e.exec(ctx, named)
	wantErr(t, err, action.ErrGuardRail, "; set allowDataLoss to restore anyway", "the copy was made at")
	if re := regexp.MustCompile(`snapshot kaigo-subsys-prod-recopied is 1[45]\dh(\d+m)? old > maxAge 1h`); !re.MatchString(err.Error()) {
		t.Fatalf("error %q does not age the copy by its data (six to seven days)", err)
	}
	if n := e.mutations("RestoreDBInstanceFromDBSnapshot"); n != 0 {
		t.Fatalf("the guard let %d restores through", n)
	}

	latest := step("aws.rds.restoreSnapshot", west, map[string]any{"instanceId": awssim.KaigoDRInstance,
		"sourceInstance": awssim.KaigoProdInstance, "subnetGroup": awssim.KaigoDRSubnetGroup, "maxAge": "1h", "allowDataLoss": true})
	out, _, err := e.exec(ctx, latest)
	if err != nil {
		t.Fatal(err)
	}
	want := describeSnap(t, e, west, newest)
	data := aws.ToTime(want.OriginalSnapshotCreateTime)
	if out["snapshotId"] != newest || out["snapshotTime"] != data.UTC().Format(time.RFC3339) {
		t.Fatalf("restored %v (data %v), want the newest data: %s (data %v), not the newest copy", out["snapshotId"], out["snapshotTime"], newest, data)
	}
	inst, err := e.clients(t, west).RDS.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(awssim.KaigoDRInstance)})
	if err != nil {
		t.Fatal(err)
	}
	window := inst.DBInstances[0].InstanceCreateTime.Sub(data).Truncate(time.Second)
	if out["snapshotAgeSeconds"] != int64(window/time.Second) || out["dataLossWindow"] != human.Duration(window) {
		t.Fatalf("data-loss window %v / %v, want %s from the data's time to the restore", out["snapshotAgeSeconds"], out["dataLossWindow"], window)
	}
}
