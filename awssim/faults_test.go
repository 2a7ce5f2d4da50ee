package awssim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/kirikae/kirikae/awssim"
)

func TestRegionDownRefuseFailsFastOtherRegionWorks(t *testing.T) {
	e := newEnv(t, time.Second)
	if err := e.sim.SetRegionDown(east, awssim.DownRefuse); err != nil {
		t.Fatal(err)
	}
	// The deadline is far away: failing must come from the refused connection, not from it.
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := rds.NewFromConfig(e.cfg(east)).DescribeDBInstances(c, &rds.DescribeDBInstancesInput{})
	if err == nil {
		t.Fatal("call to a region that is down succeeded")
	}
	if errors.Is(err, context.DeadlineExceeded) || c.Err() != nil {
		t.Fatalf("refuse mode must fail before the deadline, got %v", err)
	}
	must[*rds.DescribeDBInstancesOutput](t)(rds.NewFromConfig(e.cfg(west)).DescribeDBInstances(c, &rds.DescribeDBInstancesInput{}))
	// Route 53 signs for us-east-1 but is global: the DNS switch must work during the outage.
	must[*route53.ListResourceRecordSetsOutput](t)(route53.NewFromConfig(e.cfg(east)).ListResourceRecordSets(c,
		&route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID)}))
	if code, _ := appGet(t, e.endpoint+"/_app/us-west-2/health"); code != http.StatusServiceUnavailable {
		t.Fatalf("DR app (no tasks yet) answered %d, want 503", code)
	}
	if _, err := http.Get(e.endpoint + "/_app/us-east-1/health"); err == nil {
		t.Fatal("the application in a refused region answered")
	}

	if err := e.sim.SetRegionDown(east, ""); err != nil {
		t.Fatal(err)
	}
	must[*rds.DescribeDBInstancesOutput](t)(rds.NewFromConfig(e.cfg(east)).DescribeDBInstances(c, &rds.DescribeDBInstancesInput{}))
}

func TestRegionDownHangHitsClientDeadline(t *testing.T) {
	e := newEnv(t, time.Second)
	if err := e.sim.SetRegionDown(west, awssim.DownHang); err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := ecs.NewFromConfig(e.cfg(west)).DescribeClusters(c, &ecs.DescribeClustersInput{Clusters: []string{awssim.KaigoDRCluster}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hang mode: want the client deadline, got %v", err)
	}
	// The application behind the DR ALB hangs too; prod still answers.
	req, _ := http.NewRequestWithContext(c, http.MethodGet, e.endpoint+"/_app/us-west-2/health", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("app in a hung region answered %d", resp.StatusCode)
	}
	must[*ecs.DescribeClustersOutput](t)(ecs.NewFromConfig(e.cfg(east)).DescribeClusters(ctx(t), &ecs.DescribeClustersInput{Clusters: []string{awssim.KaigoProdCluster}}))
}

func TestInjectedThrottlingIsRetriedBySDK(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := ctx(t)
	for _, svc := range []string{"rds", "ecs", "monitoring", "route53"} {
		e.sim.AddFault(awssim.Fault{Service: svc, Rate: 1, Throttle: true, Count: 2})
	}
	out := must[*rds.DescribeDBInstancesOutput](t)(rds.NewFromConfig(e.cfg(east)).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{}))
	if r, _ := retry.GetAttemptResults(out.ResultMetadata); len(r.Results) != 3 {
		t.Fatalf("rds: %d attempts, want 3 (two throttled, then success)", len(r.Results))
	}
	eo := must[*ecs.DescribeClustersOutput](t)(ecs.NewFromConfig(e.cfg(east)).DescribeClusters(ctx, &ecs.DescribeClustersInput{}))
	if r, _ := retry.GetAttemptResults(eo.ResultMetadata); len(r.Results) != 3 {
		t.Fatalf("ecs: %d attempts, want 3", len(r.Results))
	}
	co := must[*cloudwatch.DescribeAlarmsOutput](t)(cloudwatch.NewFromConfig(e.cfg(east)).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{}))
	if r, _ := retry.GetAttemptResults(co.ResultMetadata); len(r.Results) != 3 {
		t.Fatalf("cloudwatch: %d attempts, want 3", len(r.Results))
	}
	ro := must[*route53.ListResourceRecordSetsOutput](t)(route53.NewFromConfig(e.cfg(east)).ListResourceRecordSets(ctx,
		&route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID)}))
	if r, _ := retry.GetAttemptResults(ro.ResultMetadata); len(r.Results) != 3 {
		t.Fatalf("route53: %d attempts, want 3", len(r.Results))
	}

	// A permanent error rate exhausts the retryer and surfaces the injected code.
	e.sim.AddFault(awssim.Fault{Service: "rds", Operation: "DescribeDBSnapshots", Rate: 1, Code: "InternalFailure", Status: 500})
	_, err := rds.NewFromConfig(e.cfg(west)).DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{})
	wantCode(t, err, "InternalFailure")
	e.sim.ClearFaults()
	must[*rds.DescribeDBSnapshotsOutput](t)(rds.NewFromConfig(e.cfg(west)).DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{}))
}

func TestSlowOperations(t *testing.T) {
	e := newEnv(t, 0) // frozen clock: the test moves AWS time by hand
	ctx := ctx(t)
	e.sim.AddSlow(awssim.Slow{Service: "rds", Operation: awssim.OpRestoreFromSnapshot, Factor: 2})
	c := rds.NewFromConfig(e.cfg(west))
	snaps := must[*rds.DescribeDBSnapshotsOutput](t)(c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)}))
	must[*rds.RestoreDBInstanceFromDBSnapshotOutput](t)(c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String("slow"), DBSnapshotIdentifier: snaps.DBSnapshots[0].DBSnapshotIdentifier}))
	status := func() string {
		o := must[*rds.DescribeDBInstancesOutput](t)(c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("slow")}))
		return aws.ToString(o.DBInstances[0].DBInstanceStatus)
	}
	e.clock.Advance(46 * time.Minute)
	if st := status(); st != "creating" {
		t.Fatalf("at 46 min a doubled 45 min restore is %q, want creating", st)
	}
	e.clock.Advance(45 * time.Minute)
	if st := status(); st != "available" {
		t.Fatalf("at 91 min: %q, want available", st)
	}

	// Added latency holds the answer back; a short client deadline gives up on it.
	e.sim.AddSlow(awssim.Slow{Service: "rds", Operation: "DescribeDBInstances", Latency: time.Minute})
	c2, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.DescribeDBInstances(c2, &rds.DescribeDBInstancesInput{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow call: want client deadline, got %v", err)
	}
}

func TestDurationOverridesAndTimeScale(t *testing.T) {
	clk := newTickClock(0)
	sim, err := awssim.New(awssim.Options{Credentials: testCreds, Fixture: "kaigo", Now: clk.Now, TimeScale: 0.001,
		Durations: map[string]time.Duration{awssim.OpCreateReplicationGroup: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, sim)
	c := rds.NewFromConfig(awsConfig(srv, west))
	ctx := ctx(t)
	snaps := must[*rds.DescribeDBSnapshotsOutput](t)(c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)}))
	must[*rds.RestoreDBInstanceFromDBSnapshotOutput](t)(c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String("scaled"), DBSnapshotIdentifier: snaps.DBSnapshots[0].DBSnapshotIdentifier}))
	// 45 min × 0.001 = 2.7 s of simulator time.
	for _, step := range []struct {
		d    time.Duration
		want string
	}{{2 * time.Second, "creating"}, {300 * time.Millisecond, "backing-up"}, {500 * time.Millisecond, "available"}} {
		clk.Advance(step.d)
		o := must[*rds.DescribeDBInstancesOutput](t)(c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("scaled")}))
		if got := aws.ToString(o.DBInstances[0].DBInstanceStatus); got != step.want {
			t.Fatalf("after +%v: %q, want %q", step.d, got, step.want)
		}
	}
	// The override makes ElastiCache take 1 h (3.6 s scaled) instead of 15 min (0.9 s).
	ec := elasticache.NewFromConfig(awsConfig(srv, west))
	must[*elasticache.CreateReplicationGroupOutput](t)(ec.CreateReplicationGroup(ctx, &elasticache.CreateReplicationGroupInput{
		ReplicationGroupId: aws.String("long"), ReplicationGroupDescription: aws.String("d")}))
	for _, step := range []struct {
		d    time.Duration
		want string
	}{{3 * time.Second, "creating"}, {time.Second, "available"}} {
		clk.Advance(step.d)
		o := must[*elasticache.DescribeReplicationGroupsOutput](t)(ec.DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("long")}))
		if got := aws.ToString(o.ReplicationGroups[0].Status); got != step.want {
			t.Fatalf("replication group after +%v: %q, want %q", step.d, got, step.want)
		}
	}
}

func TestControlAPI(t *testing.T) {
	e := newEnv(t, time.Second)
	post := func(path, body string) int {
		resp, err := http.Post(e.endpoint+path, "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ctx := ctx(t)
	must[*ecs.UpdateServiceOutput](t)(ecs.NewFromConfig(e.cfg(west)).UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String(awssim.KaigoDRCluster), Service: aws.String(awssim.KaigoDRService), DesiredCount: aws.Int32(2)}))
	resp, err := http.Get(e.endpoint + "/_sim/journal")
	if err != nil {
		t.Fatal(err)
	}
	var j []awssim.JournalEntry
	if err := json.NewDecoder(resp.Body).Decode(&j); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(j) != 1 || j[0].Operation != "UpdateService" || j[0].Region != west || j[0].Service != "ecs" || j[0].Resource != awssim.KaigoDRCluster+"/"+awssim.KaigoDRService {
		t.Fatalf("journal: %+v", j)
	}
	resp, err = http.Get(e.endpoint + "/_sim/journal?since=1")
	if err != nil {
		t.Fatal(err)
	}
	j = nil
	if err := json.NewDecoder(resp.Body).Decode(&j); err != nil || len(j) != 0 {
		t.Fatalf("journal?since=1: %v %+v", err, j)
	}
	resp.Body.Close()
	for _, c := range []struct {
		path, body string
		want       int
	}{
		{"/_sim/region-down", `{"region":"us-east-1","mode":"refuse"}`, 200},
		{"/_sim/region-down", `{"region":"us-east-1","mode":"explode"}`, 400},
		{"/_sim/region-down", `not json`, 400},
		{"/_sim/fault", `{"service":"rds","rate":2}`, 400},
		{"/_sim/fault", `{"service":"rds","operation":"DescribeDBInstances","rate":1,"throttle":true,"count":1}`, 200},
		{"/_sim/slow", `{"service":"rds","latency":"bogus"}`, 400},
		{"/_sim/slow", `{"service":"rds","operation":"CopyDBSnapshot","factor":3}`, 200},
		{"/_sim/health-event", `{"region":"us-east-1","service":"EC2"}`, 200},
		{"/_sim/health-event/close", `{"region":"us-east-1"}`, 200},
		{"/_sim/nope", `{}`, 404},
	} {
		if got := post(c.path, c.body); got != c.want {
			t.Errorf("POST %s %s: %d, want %d", c.path, c.body, got, c.want)
		}
	}
	if _, err := rds.NewFromConfig(e.cfg(east)).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{}); err == nil {
		t.Fatal("region-down through the control API had no effect")
	}
	if got := post("/_sim/reset", ""); got != 200 {
		t.Fatalf("reset: %d", got)
	}
	must[*rds.DescribeDBInstancesOutput](t)(rds.NewFromConfig(e.cfg(east)).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{}))
	if n := len(e.sim.Journal()); n != 0 {
		t.Fatalf("journal after reset: %d entries", n)
	}
}
