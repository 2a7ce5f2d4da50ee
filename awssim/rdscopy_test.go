package awssim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/kirikae/kirikae/awssim"
)

func rdsTags(tags ...string) []rdstypes.Tag {
	var out []rdstypes.Tag
	for i := 0; i+1 < len(tags); i += 2 {
		out = append(out, rdstypes.Tag{Key: aws.String(tags[i]), Value: aws.String(tags[i+1])})
	}
	return out
}

func tagString[T any](tags []T, kv func(T) (*string, *string)) string {
	s := ""
	for _, t := range tags {
		k, v := kv(t)
		s += fmt.Sprintf("%s=%s;", aws.ToString(k), aws.ToString(v))
	}
	return s
}

func rdsTagString(tags []rdstypes.Tag) string {
	return tagString(tags, func(t rdstypes.Tag) (*string, *string) { return t.Key, t.Value })
}

func snapshot(t *testing.T, c *rds.Client, id string) rdstypes.DBSnapshot {
	t.Helper()
	out := must[*rds.DescribeDBSnapshotsOutput](t)(c.DescribeDBSnapshots(ctx(t), &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)}))
	if len(out.DBSnapshots) != 1 {
		t.Fatalf("describe %s: %d snapshots", id, len(out.DBSnapshots))
	}
	return out.DBSnapshots[0]
}

// TestSnapshotCopyTimesAndTags: as on RDS, a copy has its own SnapshotCreateTime while
// OriginalSnapshotCreateTime and SnapshotDatabaseTime stay those of the data; tags are
// copied with CopyTags, replaced by Tags, and read back by DescribeDBSnapshots and
// ListTagsForResource.
func TestSnapshotCopyTimesAndTags(t *testing.T) {
	e := newEnv(t, 0)
	c := ctx(t)
	east1, west2 := rds.NewFromConfig(e.cfg(east)), rds.NewFromConfig(e.cfg(west))
	taken := e.clock.Now()
	must[*rds.CreateDBSnapshotOutput](t)(east1.CreateDBSnapshot(c, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance),
		DBSnapshotIdentifier: aws.String("tagged"), Tags: rdsTags("kirikae:run", "run-1", "kirikae:step", "snap")}))
	e.clock.Advance(time.Hour)
	src := snapshot(t, east1, "tagged")
	if !aws.ToTime(src.SnapshotCreateTime).Equal(taken) || !aws.ToTime(src.OriginalSnapshotCreateTime).Equal(taken) || !aws.ToTime(src.SnapshotDatabaseTime).Equal(taken) {
		t.Fatalf("a snapshot's three times should be when it was taken (%v): %v %v %v", taken,
			src.SnapshotCreateTime, src.OriginalSnapshotCreateTime, src.SnapshotDatabaseTime)
	}
	if got := rdsTagString(src.TagList); got != "kirikae:run=run-1;kirikae:step=snap;" {
		t.Fatalf("snapshot TagList %q", got)
	}

	e.clock.Advance(6 * 24 * time.Hour)
	copied := e.clock.Now()
	kms := aws.String("arn:aws:kms:us-west-2:123456789012:key/dr-key-id")
	must[*rds.CopyDBSnapshotOutput](t)(west2.CopyDBSnapshot(c, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: src.DBSnapshotArn,
		TargetDBSnapshotIdentifier: aws.String("copied-tags"), KmsKeyId: kms, SourceRegion: aws.String(east), CopyTags: aws.Bool(true)}))
	must[*rds.CopyDBSnapshotOutput](t)(west2.CopyDBSnapshot(c, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: src.DBSnapshotArn,
		TargetDBSnapshotIdentifier: aws.String("new-tags"), KmsKeyId: kms, SourceRegion: aws.String(east), CopyTags: aws.Bool(true),
		Tags: rdsTags("kirikae:run", "run-2")}))
	must[*rds.CopyDBSnapshotOutput](t)(west2.CopyDBSnapshot(c, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: src.DBSnapshotArn,
		TargetDBSnapshotIdentifier: aws.String("no-tags"), KmsKeyId: kms, SourceRegion: aws.String(east)}))
	for id, tags := range map[string]string{"copied-tags": "kirikae:run=run-1;kirikae:step=snap;", "new-tags": "kirikae:run=run-2;", "no-tags": ""} {
		cp := snapshot(t, west2, id)
		if !aws.ToTime(cp.SnapshotCreateTime).Equal(copied) {
			t.Errorf("%s: SnapshotCreateTime %v, want the copy's own, %v", id, cp.SnapshotCreateTime, copied)
		}
		if !aws.ToTime(cp.OriginalSnapshotCreateTime).Equal(taken) || !aws.ToTime(cp.SnapshotDatabaseTime).Equal(taken) {
			t.Errorf("%s: OriginalSnapshotCreateTime %v, SnapshotDatabaseTime %v, want the data's %v", id, cp.OriginalSnapshotCreateTime, cp.SnapshotDatabaseTime, taken)
		}
		if got := rdsTagString(cp.TagList); got != tags {
			t.Errorf("%s: TagList %q, want %q", id, got, tags)
		}
		lt := must[*rds.ListTagsForResourceOutput](t)(west2.ListTagsForResource(c, &rds.ListTagsForResourceInput{ResourceName: cp.DBSnapshotArn}))
		if got := rdsTagString(lt.TagList); got != tags {
			t.Errorf("%s: ListTagsForResource %q, want %q", id, got, tags)
		}
	}
	// A copy of a copy keeps the data's times too.
	cp := snapshot(t, west2, "copied-tags")
	e.clock.Advance(time.Hour)
	must[*rds.CopyDBSnapshotOutput](t)(west2.CopyDBSnapshot(c, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: cp.DBSnapshotIdentifier,
		TargetDBSnapshotIdentifier: aws.String("copy-of-copy")}))
	if cc := snapshot(t, west2, "copy-of-copy"); !aws.ToTime(cc.OriginalSnapshotCreateTime).Equal(taken) || !aws.ToTime(cc.SnapshotCreateTime).After(copied) {
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
		if !aws.ToTime(cp.OriginalSnapshotCreateTime).Equal(aws.ToTime(o.SnapshotCreateTime)) || !aws.ToTime(cp.SnapshotDatabaseTime).Equal(aws.ToTime(o.SnapshotCreateTime)) {
			t.Errorf("%s: data times %v / %v, want the original's %v", id, cp.OriginalSnapshotCreateTime, cp.SnapshotDatabaseTime, o.SnapshotCreateTime)
		}
		if d := aws.ToTime(cp.SnapshotCreateTime).Sub(aws.ToTime(o.SnapshotCreateTime)); d != 40*time.Minute {
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
	if age := now.Sub(aws.ToTime(cp.OriginalSnapshotCreateTime)); age != 30*time.Hour || !aws.ToTime(cp.SnapshotDatabaseTime).Equal(aws.ToTime(cp.OriginalSnapshotCreateTime)) {
		t.Fatalf("newest copy %s holds data %v old (database time %v), want 30h", id, age, cp.SnapshotDatabaseTime)
	}
	if d := aws.ToTime(cp.SnapshotCreateTime).Sub(aws.ToTime(cp.OriginalSnapshotCreateTime)); d != 40*time.Minute {
		t.Fatalf("copy %s was copied %v after its data, want the fixture's 40m", id, d)
	}
	// A copy made a moment ago of data just taken: nothing moves past now.
	id, err = e.sim.SetSnapshotCopyAge(west, awssim.KaigoProdInstance, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	cp = snapshot(t, rds.NewFromConfig(e.cfg(west)), id)
	if age := now.Sub(aws.ToTime(cp.OriginalSnapshotCreateTime)); age != 10*time.Minute || aws.ToTime(cp.SnapshotCreateTime).After(now) || aws.ToString(cp.Status) != "available" {
		t.Fatalf("newest copy: data %v old, created %v (now %v), %s", age, cp.SnapshotCreateTime, now, aws.ToString(cp.Status))
	}
}

// TestTagsKeptAsAWSKeepsThem: instances restored and replication groups created with tags
// return them, where AWS returns them: DescribeDBInstances' TagList and
// ListTagsForResource (the only place for a replication group's).
func TestTagsKeptAsAWSKeepsThem(t *testing.T) {
	e := newEnv(t, time.Second)
	c := ctx(t)
	w := rds.NewFromConfig(e.cfg(west))
	snaps := must[*rds.DescribeDBSnapshotsOutput](t)(w.DescribeDBSnapshots(c, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)}))
	want := "kirikae:run=run-1;kirikae:step=restore-rds;kirikae:snapshot=" + aws.ToString(snaps.DBSnapshots[0].DBSnapshotIdentifier) + ";"
	out := must[*rds.RestoreDBInstanceFromDBSnapshotOutput](t)(w.RestoreDBInstanceFromDBSnapshot(c, &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String(awssim.KaigoDRInstance), DBSnapshotIdentifier: snaps.DBSnapshots[0].DBSnapshotIdentifier,
		DBSubnetGroupName: aws.String(awssim.KaigoDRSubnetGroup),
		Tags:              rdsTags("kirikae:run", "run-1", "kirikae:step", "restore-rds", "kirikae:snapshot", aws.ToString(snaps.DBSnapshots[0].DBSnapshotIdentifier))}))
	if got := rdsTagString(out.DBInstance.TagList); got != want {
		t.Fatalf("restore answered TagList %q, want %q", got, want)
	}
	inst := must[*rds.DescribeDBInstancesOutput](t)(w.DescribeDBInstances(c, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(awssim.KaigoDRInstance)}))
	if got := rdsTagString(inst.DBInstances[0].TagList); got != want {
		t.Fatalf("DescribeDBInstances TagList %q, want %q", got, want)
	}
	lt := must[*rds.ListTagsForResourceOutput](t)(w.ListTagsForResource(c, &rds.ListTagsForResourceInput{ResourceName: inst.DBInstances[0].DBInstanceArn}))
	if got := rdsTagString(lt.TagList); got != want {
		t.Fatalf("ListTagsForResource %q, want %q", got, want)
	}
	pitr := must[*rds.RestoreDBInstanceToPointInTimeOutput](t)(rds.NewFromConfig(e.cfg(east)).RestoreDBInstanceToPointInTime(c, &rds.RestoreDBInstanceToPointInTimeInput{
		SourceDBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), TargetDBInstanceIdentifier: aws.String("pitr"),
		UseLatestRestorableTime: aws.Bool(true), Tags: rdsTags("kirikae:run", "run-1")}))
	if got := rdsTagString(pitr.DBInstance.TagList); got != "kirikae:run=run-1;" {
		t.Fatalf("PITR TagList %q", got)
	}
	// The fixture's production instance was made by hand: no tags.
	prod := must[*rds.ListTagsForResourceOutput](t)(rds.NewFromConfig(e.cfg(east)).ListTagsForResource(c, &rds.ListTagsForResourceInput{
		ResourceName: aws.String("arn:aws:rds:us-east-1:" + awssim.AccountID + ":db:" + awssim.KaigoProdInstance)}))
	if len(prod.TagList) != 0 {
		t.Fatalf("production instance tags %v", prod.TagList)
	}
	_, err := w.ListTagsForResource(c, &rds.ListTagsForResourceInput{ResourceName: aws.String("arn:aws:rds:us-west-2:" + awssim.AccountID + ":db:nope")})
	wantCode(t, err, "DBInstanceNotFound")
	_, err = w.ListTagsForResource(c, &rds.ListTagsForResourceInput{ResourceName: aws.String("arn:aws:rds:us-west-2:" + awssim.AccountID + ":snapshot:nope")})
	wantCode(t, err, "DBSnapshotNotFound")
	_, err = w.ListTagsForResource(c, &rds.ListTagsForResourceInput{ResourceName: aws.String(awssim.KaigoDRInstance)})
	wantCode(t, err, "InvalidParameterValue")

	ec := elasticache.NewFromConfig(e.cfg(west))
	must[*elasticache.CreateReplicationGroupOutput](t)(ec.CreateReplicationGroup(c, &elasticache.CreateReplicationGroupInput{
		ReplicationGroupId: aws.String("kaigo-subsys-dr"), ReplicationGroupDescription: aws.String("d"), NumCacheClusters: aws.Int32(2),
		Tags: []ectypes.Tag{{Key: aws.String("kirikae:run"), Value: aws.String("run-1")}, {Key: aws.String("kirikae:step"), Value: aws.String("create-cache")}}}))
	g := must[*elasticache.DescribeReplicationGroupsOutput](t)(ec.DescribeReplicationGroups(c, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("kaigo-subsys-dr")}))
	et := must[*elasticache.ListTagsForResourceOutput](t)(ec.ListTagsForResource(c, &elasticache.ListTagsForResourceInput{ResourceName: g.ReplicationGroups[0].ARN}))
	if got := tagString(et.TagList, func(t ectypes.Tag) (*string, *string) { return t.Key, t.Value }); got != "kirikae:run=run-1;kirikae:step=create-cache;" {
		t.Fatalf("replication group tags %q", got)
	}
	_, err = ec.ListTagsForResource(c, &elasticache.ListTagsForResourceInput{ResourceName: aws.String("arn:aws:elasticache:us-west-2:" + awssim.AccountID + ":replicationgroup:nope")})
	wantCode(t, err, "ReplicationGroupNotFoundFault")
	_, err = ec.ListTagsForResource(c, &elasticache.ListTagsForResourceInput{ResourceName: aws.String("kaigo-subsys-dr")})
	wantCode(t, err, "InvalidARN")
}
