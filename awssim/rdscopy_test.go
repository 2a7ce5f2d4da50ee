package awssim_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/kirikae/kirikae/awssim"
)

func snapshot(t *testing.T, c *rds.Client, id string) rdstypes.DBSnapshot {
	t.Helper()
	out := must[*rds.DescribeDBSnapshotsOutput](t)(c.DescribeDBSnapshots(ctx(t), &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)}))
	if len(out.DBSnapshots) != 1 {
		t.Fatalf("describe %s: %d snapshots", id, len(out.DBSnapshots))
	}
	return out.DBSnapshots[0]
}

// TestSnapshotCopyTimes: as on RDS, a copy has its own SnapshotCreateTime while
// OriginalSnapshotCreateTime and SnapshotDatabaseTime stay those of the data.
func TestSnapshotCopyTimes(t *testing.T) {
	e := newEnv(t, 0)
	c := ctx(t)
	east1, west2 := rds.NewFromConfig(e.cfg(east)), rds.NewFromConfig(e.cfg(west))
	taken := e.clock.Now()
	must[*rds.CreateDBSnapshotOutput](t)(east1.CreateDBSnapshot(c, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance),
		DBSnapshotIdentifier: aws.String("taken")}))
	e.clock.Advance(time.Hour)
	src := snapshot(t, east1, "taken")
	if !src.SnapshotCreateTime.Equal(taken) || !src.OriginalSnapshotCreateTime.Equal(taken) || !src.SnapshotDatabaseTime.Equal(taken) {
		t.Fatalf("a snapshot's three times should be when it was taken (%v): %v %v %v", taken,
			src.SnapshotCreateTime, src.OriginalSnapshotCreateTime, src.SnapshotDatabaseTime)
	}

	e.clock.Advance(6 * 24 * time.Hour)
	copied := e.clock.Now()
	must[*rds.CopyDBSnapshotOutput](t)(west2.CopyDBSnapshot(c, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: src.DBSnapshotArn,
		TargetDBSnapshotIdentifier: aws.String("copied"), KmsKeyId: aws.String("arn:aws:kms:us-west-2:123456789012:key/dr-key-id"), SourceRegion: aws.String(east)}))
	cp := snapshot(t, west2, "copied")
	if !cp.SnapshotCreateTime.Equal(copied) {
		t.Errorf("SnapshotCreateTime %v, want the copy's own, %v", cp.SnapshotCreateTime, copied)
	}
	if !cp.OriginalSnapshotCreateTime.Equal(taken) || !cp.SnapshotDatabaseTime.Equal(taken) {
		t.Errorf("OriginalSnapshotCreateTime %v, SnapshotDatabaseTime %v, want the data's %v", cp.OriginalSnapshotCreateTime, cp.SnapshotDatabaseTime, taken)
	}
	// A copy of a copy keeps the data's times too.
	e.clock.Advance(time.Hour)
	must[*rds.CopyDBSnapshotOutput](t)(west2.CopyDBSnapshot(c, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: cp.DBSnapshotIdentifier,
		TargetDBSnapshotIdentifier: aws.String("copy-of-copy")}))
	if cc := snapshot(t, west2, "copy-of-copy"); !cc.OriginalSnapshotCreateTime.Equal(taken) || !cc.SnapshotCreateTime.After(copied) {
		t.Fatalf("copy of a copy: original %v, created %v", cc.OriginalSnapshotCreateTime, cc.SnapshotCreateTime)
	}
}

// TestFixtureCopiesAreCopies: the fixture's daily copies in us-west-2 were copied about
// 40 minutes after the snapshot, and say so; their data is the original's.
func TestFixtureCopiesAreCopies(t *testing.T) {
	e := newEnv(t, 0)
	c := ctx(t)
	originals := map[string]rdstypes.DBSnapshot{}
	out := must[*rds.DescribeDBSnapshotsOutput](t)(rds.NewFromConfig(e.cfg(east)).DescribeDBSnapshots(c, &rds.DescribeDBSnapshotsInput{
		DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)}))
	for _, s := range out.DBSnapshots {
		originals[aws.ToString(s.DBSnapshotIdentifier)] = s
	}
	out = must[*rds.DescribeDBSnapshotsOutput](t)(rds.NewFromConfig(e.cfg(west)).DescribeDBSnapshots(c, &rds.DescribeDBSnapshotsInput{
		DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)}))
	if len(out.DBSnapshots) != 7 {
		t.Fatalf("%d copies in us-west-2, want 7", len(out.DBSnapshots))
	}
	for _, cp := range out.DBSnapshots {
		id := aws.ToString(cp.DBSnapshotIdentifier)
		o, ok := originals[id]
		if !ok {
			t.Fatalf("copy %s has no original in us-east-1", id)
		}
		if !cp.OriginalSnapshotCreateTime.Equal(*o.SnapshotCreateTime) || !cp.SnapshotDatabaseTime.Equal(*o.SnapshotCreateTime) {
			t.Errorf("%s: data times %v / %v, want the original's %v", id, cp.OriginalSnapshotCreateTime, cp.SnapshotDatabaseTime, o.SnapshotCreateTime)
		}
		if d := cp.SnapshotCreateTime.Sub(*o.SnapshotCreateTime); d != 40*time.Minute {
			t.Errorf("%s: copied %v after the snapshot, want 40m", id, d)
		}
	}
}

// TestSetSnapshotCopyAgeAgesTheData: the tabletop setter sets the age readiness observed,
// the data's, and keeps each copy's SnapshotCreateTime its own.
func TestSetSnapshotCopyAgeAgesTheData(t *testing.T) {
	e := newEnv(t, 0)
	id, err := e.sim.SetSnapshotCopyAge(west, awssim.KaigoProdInstance, 30*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := e.sim.Now()
	cp := snapshot(t, rds.NewFromConfig(e.cfg(west)), id)
	if age := now.Sub(*cp.OriginalSnapshotCreateTime); age != 30*time.Hour || !cp.SnapshotDatabaseTime.Equal(*cp.OriginalSnapshotCreateTime) {
		t.Fatalf("newest copy %s holds data %v old (database time %v), want 30h", id, age, cp.SnapshotDatabaseTime)
	}
	if d := cp.SnapshotCreateTime.Sub(*cp.OriginalSnapshotCreateTime); d != 40*time.Minute {
		t.Fatalf("copy %s was copied %v after its data, want the fixture's 40m", id, d)
	}
	// A copy made a moment ago of data just taken: nothing moves past now.
	id, err = e.sim.SetSnapshotCopyAge(west, awssim.KaigoProdInstance, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	cp = snapshot(t, rds.NewFromConfig(e.cfg(west)), id)
	if age := now.Sub(*cp.OriginalSnapshotCreateTime); age != 10*time.Minute || cp.SnapshotCreateTime.After(now) || aws.ToString(cp.Status) != "available" {
		t.Fatalf("newest copy: data %v old, created %v (now %v), %s", age, cp.SnapshotCreateTime, now, aws.ToString(cp.Status))
	}
}
