package awssim_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/kirikae/kirikae/awssim"
)

// The teardown of a drill removes what the failover built: the restored EFS, the DR task
// definition revision, the DR alarms, the restored database, and puts the secrets back.

// rawCall sends a hand-built, validly signed request to the simulator and returns status and body,
// for protocols the current SDK no longer speaks (CloudWatch awsQuery) and for input the SDK
// refuses to send (missing required members).
func rawCall(t *testing.T, e *env, r rawReq) (int, string) {
	t.Helper()
	req := r.build()
	u, err := url.Parse(e.endpoint + req.URL.RequestURI())
	if err != nil {
		t.Fatal(err)
	}
	req.URL, req.Host, req.RequestURI = u, u.Host, ""
	r.sign(t, req) // after the Host is final: it is signed
	resp, err := http.DefaultClient.Do(req.WithContext(ctx(t)))
	if err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: read body: %v", r.name, err)
	}
	return resp.StatusCode, string(b)
}

func wantMention(t *testing.T, err error, field string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), field) {
		t.Fatalf("error should name %s, got %v", field, err)
	}
}

func TestDeleteRestoredFileSystem(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := ctx(t)
	b := backup.NewFromConfig(e.cfg(west))
	fsc := efs.NewFromConfig(e.cfg(west))
	pts := must[*backup.ListRecoveryPointsByBackupVaultOutput](t)(b.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{
		BackupVaultName: aws.String(awssim.KaigoDRVault), ByResourceType: aws.String("EFS")}))
	if len(pts.RecoveryPoints) == 0 {
		t.Fatal("no EFS recovery points in the DR vault")
	}
	restore := func(token string) string {
		job := must[*backup.StartRestoreJobOutput](t)(b.StartRestoreJob(ctx, &backup.StartRestoreJobInput{
			RecoveryPointArn: pts.RecoveryPoints[0].RecoveryPointArn, IdempotencyToken: aws.String(token),
			Metadata: map[string]string{"newFileSystem": "true", "Encrypted": "true"}}))
		// The restore creates the file system at once (creating); its token is the job id.
		fs := must[*efs.DescribeFileSystemsOutput](t)(fsc.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{CreationToken: job.RestoreJobId}))
		if len(fs.FileSystems) != 1 {
			t.Fatalf("restore job %s: %d file systems", aws.ToString(job.RestoreJobId), len(fs.FileSystems))
		}
		return aws.ToString(fs.FileSystems[0].FileSystemId)
	}
	listed := func() []string {
		all := must[*efs.DescribeFileSystemsOutput](t)(fsc.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{}))
		var ids []string
		for _, f := range all.FileSystems {
			ids = append(ids, aws.ToString(f.FileSystemId))
		}
		return ids
	}

	done := restore("tok-done")
	e.clock.Advance(2 * time.Hour) // the restore job completes; the file system is available
	fs := must[*efs.DescribeFileSystemsOutput](t)(fsc.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(done)}))
	if fs.FileSystems[0].LifeCycleState != "available" {
		t.Fatalf("restored file system is %s, want available", fs.FileSystems[0].LifeCycleState)
	}
	busy := restore("tok-busy") // still creating when deleted, as a teardown after an aborted drill sees it
	if got := listed(); !contains(got, done) || !contains(got, busy) {
		t.Fatalf("before delete DescribeFileSystems lists %v, want %s and %s", got, done, busy)
	}

	must[*efs.DeleteFileSystemOutput](t)(fsc.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: aws.String(done)}))
	must[*efs.DeleteFileSystemOutput](t)(fsc.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: aws.String(busy)}))
	e.clock.Advance(2 * time.Hour) // the busy job's completion must not bring its file system back
	if got := listed(); contains(got, done) || contains(got, busy) {
		t.Fatalf("after delete DescribeFileSystems still lists %v", got)
	}
	_, err := fsc.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(done)})
	wantCode(t, err, "FileSystemNotFound")

	_, err = fsc.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: aws.String(done)})
	wantCode(t, err, "FileSystemNotFound") // a second delete finds nothing
	_, err = fsc.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: aws.String("fs-0000000000000nope")})
	wantCode(t, err, "FileSystemNotFound")
	// The production file system lives in us-east-1; us-west-2 does not know it.
	_, err = fsc.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: aws.String("fs-0a10000000000e001")})
	wantCode(t, err, "FileSystemNotFound")

	j := e.sim.Journal()
	if countOps(j, "DeleteFileSystem", done) != 1 || countOps(j, "DeleteFileSystem", busy) != 1 {
		t.Fatalf("journal should hold one DeleteFileSystem per file system: %+v", j)
	}
	if n := countOps(j, "DeleteFileSystem", "fs-0000000000000nope"); n != 0 {
		t.Fatalf("a failed delete was journaled %d times", n)
	}
}

func TestDeregisterTaskDefinition(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := ctx(t)
	c := ecs.NewFromConfig(e.cfg(west))
	td := must[*ecs.RegisterTaskDefinitionOutput](t)(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(awssim.KaigoDRTaskFamily), ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("kaigo:dr")}}}))
	rev2 := awssim.KaigoDRTaskFamily + ":2"
	if td.TaskDefinition.Revision != 2 {
		t.Fatalf("registered revision %d, want 2", td.TaskDefinition.Revision)
	}

	out := must[*ecs.DeregisterTaskDefinitionOutput](t)(c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(rev2)}))
	if out.TaskDefinition == nil || out.TaskDefinition.Status != ecstypes.TaskDefinitionStatusInactive ||
		out.TaskDefinition.Revision != 2 || out.TaskDefinition.DeregisteredAt == nil {
		t.Fatalf("deregister returned %+v", out.TaskDefinition)
	}
	d := must[*ecs.DescribeTaskDefinitionOutput](t)(c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(rev2)}))
	if d.TaskDefinition.Status != ecstypes.TaskDefinitionStatusInactive {
		t.Fatalf("DescribeTaskDefinition %s: status %s, want INACTIVE", rev2, d.TaskDefinition.Status)
	}
	// A bare family now means the latest ACTIVE revision, 1.
	d = must[*ecs.DescribeTaskDefinitionOutput](t)(c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(awssim.KaigoDRTaskFamily)}))
	if d.TaskDefinition.Revision != 1 || d.TaskDefinition.Status != ecstypes.TaskDefinitionStatusActive {
		t.Fatalf("family resolves to revision %d (%s), want 1 ACTIVE", d.TaskDefinition.Revision, d.TaskDefinition.Status)
	}
	// Deregistering again (by ARN) answers with the INACTIVE revision and changes nothing.
	again := must[*ecs.DeregisterTaskDefinitionOutput](t)(c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: td.TaskDefinition.TaskDefinitionArn}))
	if again.TaskDefinition.Status != ecstypes.TaskDefinitionStatusInactive || !again.TaskDefinition.DeregisteredAt.Equal(*out.TaskDefinition.DeregisteredAt) {
		t.Fatalf("second deregister returned %+v", again.TaskDefinition)
	}
	// A service cannot move to an INACTIVE revision.
	_, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(awssim.KaigoDRCluster), Service: aws.String(awssim.KaigoDRService),
		TaskDefinition: aws.String(rev2)})
	wantCode(t, err, "ClientException")

	for _, bad := range []string{awssim.KaigoDRTaskFamily + ":9", "no-such-family:1", awssim.KaigoDRTaskFamily} {
		_, err := c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(bad)})
		wantCode(t, err, "ClientException")
	}
	// A revision that is not a number is ECS's InvalidParameterException.
	_, err = c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(awssim.KaigoDRTaskFamily + ":latest")})
	wantCode(t, err, "InvalidParameterException")
	j := e.sim.Journal()
	if n := countOps(j, "DeregisterTaskDefinition", rev2); n != 1 {
		t.Fatalf("journal holds %d deregistrations of %s, want 1: %+v", n, rev2, j)
	}
	if n := countOps(j, "DeregisterTaskDefinition", awssim.KaigoDRTaskFamily+":9"); n != 0 {
		t.Fatalf("a failed deregistration was journaled")
	}
	// Revision 1 is untouched.
	d = must[*ecs.DescribeTaskDefinitionOutput](t)(c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(awssim.KaigoDRTaskFamily + ":1")}))
	if d.TaskDefinition.Status != ecstypes.TaskDefinitionStatusActive {
		t.Fatalf("revision 1 is %s, want ACTIVE", d.TaskDefinition.Status)
	}
}

func TestDeleteAlarms(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := ctx(t)
	put := func(cw *cloudwatch.Client, name string) {
		must[*cloudwatch.PutMetricAlarmOutput](t)(cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(name), MetricName: aws.String("CPUUtilization"), Namespace: aws.String("AWS/ECS"),
			Statistic: cwtypes.StatisticAverage, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(2), Threshold: aws.Float64(90),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}))
	}
	names := func(cw *cloudwatch.Client) []string {
		out := must[*cloudwatch.DescribeAlarmsOutput](t)(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{}))
		var n []string
		for _, a := range out.MetricAlarms {
			n = append(n, aws.ToString(a.AlarmName))
		}
		return n
	}
	w, ea := cloudwatch.NewFromConfig(e.cfg(west)), cloudwatch.NewFromConfig(e.cfg(east))
	put(w, "dr-cpu")
	put(w, "dr-mem")
	put(w, "dr-5xx")
	put(ea, "dr-cpu") // same name in the other region

	// rpcv2Cbor (the SDK): a missing name among real ones is not an error.
	must[*cloudwatch.DeleteAlarmsOutput](t)(w.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"dr-cpu", "never-existed"}}))
	if got := names(w); contains(got, "dr-cpu") || !contains(got, "dr-mem") || !contains(got, "dr-5xx") {
		t.Fatalf("us-west-2 alarms after delete: %v", got)
	}
	if got := names(ea); !contains(got, "dr-cpu") {
		t.Fatalf("deleting in us-west-2 removed us-east-1's alarm: %v", got)
	}
	must[*cloudwatch.DeleteAlarmsOutput](t)(w.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"dr-cpu"}})) // already gone

	// awsQuery, as the AWS CLI 2.9 and older SDKs send it.
	code, body := rawCall(t, e, rawReq{name: "query DeleteAlarms", service: "monitoring", region: west,
		body: "Action=DeleteAlarms&Version=2010-08-01&AlarmNames.member.1=dr-mem&AlarmNames.member.2=gone-too"})
	if code != http.StatusOK || !strings.Contains(body, "<DeleteAlarmsResponse") {
		t.Fatalf("query DeleteAlarms: %d %s", code, body)
	}
	code, body = rawCall(t, e, rawReq{name: "query DeleteAlarms without names", service: "monitoring", region: west,
		body: "Action=DeleteAlarms&Version=2010-08-01"})
	if code != http.StatusBadRequest || !strings.Contains(body, "<Code>MissingParameter</Code>") || !strings.Contains(body, "AlarmNames") {
		t.Fatalf("query DeleteAlarms without names: %d %s", code, body)
	}
	// awsJson1_0, as newer AWS CLIs send it.
	code, body = rawCall(t, e, rawReq{name: "json DeleteAlarms", service: "monitoring", region: west,
		headers: map[string]string{"X-Amz-Target": "GraniteServiceVersion20100801.DeleteAlarms", "Content-Type": "application/x-amz-json-1.0"},
		body:    `{"AlarmNames":["dr-5xx"]}`})
	if code != http.StatusOK {
		t.Fatalf("json DeleteAlarms: %d %s", code, body)
	}
	if got := names(w); len(got) != 0 {
		t.Fatalf("us-west-2 alarms left: %v", got)
	}

	j := e.sim.Journal()
	for _, n := range []string{"dr-cpu", "dr-mem", "dr-5xx"} {
		if c := countOps(j, "DeleteAlarms", n); c != 1 {
			t.Fatalf("journal holds %d DeleteAlarms of %s, want 1: %+v", c, n, j)
		}
	}
	for _, n := range []string{"never-existed", "gone-too"} {
		if c := countOps(j, "DeleteAlarms", n); c != 0 {
			t.Fatalf("deleting the missing alarm %s was journaled", n)
		}
	}
	for _, x := range j {
		if x.Operation == "DeleteAlarms" && x.Region != west {
			t.Fatalf("DeleteAlarms journaled in %s: %+v", x.Region, x)
		}
	}
}

func TestUpdateSecretVersionStage(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := ctx(t)
	c := secretsmanager.NewFromConfig(e.cfg(west))
	id := aws.String(awssim.KaigoDRDBSecret)
	v1 := aws.ToString(must[*secretsmanager.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: id})).VersionId)
	const v2 = "00000000-0000-4000-8000-0000000000b2"
	must[*secretsmanager.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: id,
		SecretString: aws.String(`{"endpoint":"kaigo-subsys-dr.drill.us-west-2.rds.amazonaws.com"}`), ClientRequestToken: aws.String(v2)}))
	stages := func() map[string][]string {
		return must[*secretsmanager.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: id})).VersionIdsToStages
	}
	move := func(stage, to, from string) error {
		in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: id, VersionStage: aws.String(stage)}
		if to != "" {
			in.MoveToVersionId = aws.String(to)
		}
		if from != "" {
			in.RemoveFromVersionId = aws.String(from)
		}
		_, err := c.UpdateSecretVersionStage(ctx, in)
		return err
	}

	// Errors first: none of them may change anything.
	err := move("AWSCURRENT", v1, "")
	wantCode(t, err, "InvalidParameterException")
	wantMention(t, err, "RemoveFromVersionId")
	err = move("AWSCURRENT", v2, v1) // v1 holds AWSPREVIOUS, not AWSCURRENT
	wantCode(t, err, "InvalidParameterException")
	wantMention(t, err, "RemoveFromVersionId")
	err = move("AWSCURRENT", "00000000-0000-4000-8000-00000000dead", v2)
	wantCode(t, err, "ResourceNotFoundException")
	wantMention(t, err, "MoveToVersionId")
	err = move("AWSCURRENT", v1, "00000000-0000-4000-8000-00000000dead")
	wantCode(t, err, "ResourceNotFoundException")
	wantMention(t, err, "RemoveFromVersionId")
	err = move("AWSCURRENT", "", v2) // AWSCURRENT can only be moved
	wantCode(t, err, "InvalidParameterException")
	wantMention(t, err, "AWSCURRENT")
	err = move("AWSCURRENT", "", "")
	wantCode(t, err, "InvalidParameterException")
	wantMention(t, err, "MoveToVersionId")
	_, err = c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("kaigo-subsys/dr/nope"),
		VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(v1), RemoveFromVersionId: aws.String(v2)})
	wantCode(t, err, "ResourceNotFoundException")
	// The SDK refuses to send a request without VersionStage; the wire answer must still name it.
	code, body := rawCall(t, e, rawReq{name: "no VersionStage", service: "secretsmanager", region: west,
		headers: map[string]string{"X-Amz-Target": "secretsmanager.UpdateSecretVersionStage", "Content-Type": "application/x-amz-json-1.1"},
		body:    `{"SecretId":"` + awssim.KaigoDRDBSecret + `","MoveToVersionId":"` + v1 + `"}`})
	if code != http.StatusBadRequest || !strings.Contains(body, "InvalidParameterException") || !strings.Contains(body, "VersionStage") {
		t.Fatalf("missing VersionStage: %d %s", code, body)
	}
	if s := stages(); !equalStages(s[v2], "AWSCURRENT") || !equalStages(s[v1], "AWSPREVIOUS") {
		t.Fatalf("failed calls changed the stages: %v", s)
	}

	// Roll back to v1: AWSCURRENT moves, and AWSPREVIOUS follows to the version that lost it.
	if err := move("AWSCURRENT", v1, v2); err != nil {
		t.Fatalf("move AWSCURRENT back to v1: %v", err)
	}
	if s := stages(); !equalStages(s[v1], "AWSCURRENT") || !equalStages(s[v2], "AWSPREVIOUS") || len(s) != 2 {
		t.Fatalf("after rollback: %v", s)
	}
	got := must[*secretsmanager.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: id}))
	if aws.ToString(got.VersionId) != v1 || aws.ToString(got.SecretString) != `{"endpoint":""}` {
		t.Fatalf("GetSecretValue after rollback: version %s value %s", aws.ToString(got.VersionId), aws.ToString(got.SecretString))
	}
	prev := must[*secretsmanager.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: id, VersionStage: aws.String("AWSPREVIOUS")}))
	if aws.ToString(prev.VersionId) != v2 {
		t.Fatalf("AWSPREVIOUS is on %s, want %s", aws.ToString(prev.VersionId), v2)
	}
	// Moving a label onto the version that already holds it changes nothing.
	if err := move("AWSCURRENT", v1, v1); err != nil {
		t.Fatalf("no-op move: %v", err)
	}

	// A custom label: attach (nobody holds it, so no RemoveFromVersionId), then remove.
	if err := move("DRILL", v2, ""); err != nil {
		t.Fatalf("attach DRILL: %v", err)
	}
	if s := stages(); !equalStages(s[v2], "AWSPREVIOUS", "DRILL") {
		t.Fatalf("after attaching DRILL: %v", s)
	}
	err = move("DRILL", v1, "")
	wantCode(t, err, "InvalidParameterException")
	wantMention(t, err, "RemoveFromVersionId")
	if err := move("DRILL", "", v2); err != nil {
		t.Fatalf("remove DRILL: %v", err)
	}
	if s := stages(); !equalStages(s[v2], "AWSPREVIOUS") || !equalStages(s[v1], "AWSCURRENT") {
		t.Fatalf("after removing DRILL: %v", s)
	}

	if n := countOps(e.sim.Journal(), "UpdateSecretVersionStage", awssim.KaigoDRDBSecret); n != 3 {
		t.Fatalf("journal holds %d UpdateSecretVersionStage, want 3 (rollback, attach, remove)", n)
	}
}

// equalStages reports whether got holds exactly want, in any order.
func equalStages(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !contains(got, w) {
			return false
		}
	}
	return true
}

func TestRDSTeardown(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := ctx(t)
	w, ea := rds.NewFromConfig(e.cfg(west)), rds.NewFromConfig(e.cfg(east))
	snaps := must[*rds.DescribeDBSnapshotsOutput](t)(w.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)}))
	var snap string
	for _, s := range snaps.DBSnapshots {
		if aws.ToString(s.Status) == "available" {
			snap = aws.ToString(s.DBSnapshotIdentifier)
		}
	}
	if snap == "" {
		t.Fatal("no available snapshot copy in us-west-2")
	}
	restoreAt := e.clock.Now()
	for _, id := range []string{awssim.KaigoDRInstance, "kaigo-subsys-dr-2"} {
		must[*rds.RestoreDBInstanceFromDBSnapshotOutput](t)(w.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
			DBInstanceIdentifier: aws.String(id), DBSnapshotIdentifier: aws.String(snap), DBSubnetGroupName: aws.String(awssim.KaigoDRSubnetGroup)}))
	}

	// Every instance reports InstanceCreateTime, the restored ones (still creating) included.
	for region, c := range map[string]*rds.Client{west: w, east: ea} {
		all := must[*rds.DescribeDBInstancesOutput](t)(c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{}))
		if len(all.DBInstances) == 0 {
			t.Fatalf("%s: no instances", region)
		}
		for _, db := range all.DBInstances {
			if db.InstanceCreateTime == nil || db.InstanceCreateTime.IsZero() {
				t.Fatalf("%s %s: no InstanceCreateTime", region, aws.ToString(db.DBInstanceIdentifier))
			}
			if region == west && db.InstanceCreateTime.Before(restoreAt) {
				t.Fatalf("restored %s reports InstanceCreateTime %v, before the restore at %v", aws.ToString(db.DBInstanceIdentifier), db.InstanceCreateTime, restoreAt)
			}
		}
	}

	// Mid-restore: a final snapshot cannot be taken, but SkipFinalSnapshot deletes.
	_, err := w.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(awssim.KaigoDRInstance), FinalDBSnapshotIdentifier: aws.String("dr-final")})
	wantCode(t, err, "InvalidDBInstanceState")
	out := must[*rds.DeleteDBInstanceOutput](t)(w.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(awssim.KaigoDRInstance), SkipFinalSnapshot: aws.Bool(true)}))
	if aws.ToString(out.DBInstance.DBInstanceStatus) != "deleting" {
		t.Fatalf("delete returned status %q, want deleting", aws.ToString(out.DBInstance.DBInstanceStatus))
	}
	_, err = w.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(awssim.KaigoDRInstance), SkipFinalSnapshot: aws.Bool(true)})
	wantCode(t, err, "InvalidDBInstanceState") // already deleting
	// Available: SkipFinalSnapshot deletes, and takes no snapshot.
	e.clock.Advance(2 * time.Hour)
	must[*rds.DeleteDBInstanceOutput](t)(w.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("kaigo-subsys-dr-2"), SkipFinalSnapshot: aws.Bool(true)}))
	for _, id := range []string{awssim.KaigoDRInstance, "kaigo-subsys-dr-2"} {
		del := rds.NewDBInstanceDeletedWaiter(w, func(o *rds.DBInstanceDeletedWaiterOptions) { fastDelay(&o.MinDelay, &o.MaxDelay) })
		e.clock.Advance(time.Hour)
		if err := del.Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)}, time.Minute); err != nil {
			t.Fatalf("DBInstanceDeleted %s: %v", id, err)
		}
	}
	after := must[*rds.DescribeDBSnapshotsOutput](t)(w.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{}))
	for _, s := range after.DBSnapshots {
		if id := aws.ToString(s.DBInstanceIdentifier); id == awssim.KaigoDRInstance || id == "kaigo-subsys-dr-2" {
			t.Fatalf("SkipFinalSnapshot took snapshot %s", aws.ToString(s.DBSnapshotIdentifier))
		}
	}
	j := e.sim.Journal()
	if countOps(j, "DeleteDBInstance", awssim.KaigoDRInstance) != 1 || countOps(j, "DeleteDBInstance", "kaigo-subsys-dr-2") != 1 {
		t.Fatalf("journal should hold one DeleteDBInstance per instance: %+v", j)
	}
}
