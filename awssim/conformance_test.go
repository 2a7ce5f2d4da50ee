package awssim_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/health"
	healthtypes "github.com/aws/aws-sdk-go-v2/service/health/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kirikae/kirikae/awssim"
)

const (
	east = "us-east-1"
	west = "us-west-2"
)

// fast makes a waiter poll without real delays; AWS time moves with every request instead.
func fastDelay(minD, maxD *time.Duration) {
	*minD, *maxD = time.Millisecond, 2*time.Millisecond
}

func TestRDSFailoverAndCutback(t *testing.T) {
	e := newEnv(t, time.Minute)
	ctx := ctx(t)
	w := rds.NewFromConfig(e.cfg(west))

	// Step 4.1: the newest available copy in us-west-2, and its age against the 1 h RPO.
	snaps := must[*rds.DescribeDBSnapshotsOutput](t)(w.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{
		DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)}))
	if len(snaps.DBSnapshots) < 2 {
		t.Fatalf("want daily snapshot copies in us-west-2, got %d", len(snaps.DBSnapshots))
	}
	// A copy's data is as old as the original (OriginalSnapshotCreateTime); its
	// SnapshotCreateTime is when it was copied.
	var newest rdstypes.DBSnapshot
	for _, s := range snaps.DBSnapshots {
		if aws.ToString(s.Status) == "available" && (newest.OriginalSnapshotCreateTime == nil || aws.ToTime(s.OriginalSnapshotCreateTime).After(*newest.OriginalSnapshotCreateTime)) {
			newest = s
		}
	}
	if newest.OriginalSnapshotCreateTime == nil {
		t.Fatal("no available copy in us-west-2 has an OriginalSnapshotCreateTime")
	}
	if age := e.clock.Now().Sub(*newest.OriginalSnapshotCreateTime); age <= time.Hour {
		t.Fatalf("newest snapshot copy holds data %v old; the fixture must show the seed's RPO gap (> 1 h)", age)
	}

	// Step 4.2–4.4: restore, wait, read the endpoint; the waiter must see the way there.
	restore := &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String(awssim.KaigoDRInstance), DBSnapshotIdentifier: newest.DBSnapshotIdentifier,
		DBInstanceClass: aws.String("db.r6g.large"), DBSubnetGroupName: aws.String(awssim.KaigoDRSubnetGroup),
		VpcSecurityGroupIds: []string{"sg-dr-rds"}, PubliclyAccessible: aws.Bool(false), MultiAZ: aws.Bool(true),
	}
	out := must[*rds.RestoreDBInstanceFromDBSnapshotOutput](t)(w.RestoreDBInstanceFromDBSnapshot(ctx, restore))
	if got := aws.ToString(out.DBInstance.DBInstanceStatus); got != "creating" {
		t.Fatalf("restore returned status %q, want creating", got)
	}
	var seen []string
	waiter := rds.NewDBInstanceAvailableWaiter(w, func(o *rds.DBInstanceAvailableWaiterOptions) {
		fastDelay(&o.MinDelay, &o.MaxDelay)
		o.ClientOptions = append(o.ClientOptions, func(o *rds.Options) {
			o.APIOptions = append(o.APIOptions, recorder(&seen, func(o *rds.DescribeDBInstancesOutput) string {
				return aws.ToString(o.DBInstances[0].DBInstanceStatus)
			}))
		})
	})
	if err := waiter.Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(awssim.KaigoDRInstance)}, time.Minute); err != nil {
		t.Fatalf("DBInstanceAvailable: %v (saw %v)", err, seen)
	}
	if !contains(seen, "creating") || !contains(seen, "backing-up") || seen[len(seen)-1] != "available" {
		t.Fatalf("waiter saw %v, want creating → backing-up → available", seen)
	}
	inst := must[*rds.DescribeDBInstancesOutput](t)(w.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(awssim.KaigoDRInstance)}))
	db := inst.DBInstances[0]
	if db.Endpoint == nil || !strings.Contains(aws.ToString(db.Endpoint.Address), "us-west-2.rds.amazonaws.com") || !aws.ToBool(db.MultiAZ) {
		t.Fatalf("restored instance: endpoint %+v multiAZ %v", db.Endpoint, aws.ToBool(db.MultiAZ))
	}

	// Idempotency: the second restore is the real AlreadyExists, and the journal holds one.
	_, err := w.RestoreDBInstanceFromDBSnapshot(ctx, restore)
	var exists *rdstypes.DBInstanceAlreadyExistsFault
	if !errors.As(err, &exists) {
		t.Fatalf("second restore: want DBInstanceAlreadyExistsFault, got %v", err)
	}
	if n := countOps(e.sim.Journal(), "RestoreDBInstanceFromDBSnapshot", awssim.KaigoDRInstance); n != 1 {
		t.Fatalf("journal holds %d restores of %s, want 1", n, awssim.KaigoDRInstance)
	}

	// Cutback: snapshot DR, copy to us-east-1 with the prod key, delete prod with a final
	// snapshot, restore prod from the copy.
	cut := "kaigo-subsys-dr-before-cutback-20251201-130000"
	must[*rds.CreateDBSnapshotOutput](t)(w.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{
		DBInstanceIdentifier: aws.String(awssim.KaigoDRInstance), DBSnapshotIdentifier: aws.String(cut)}))
	seen = nil
	snapWaiter := func(c *rds.Client) *rds.DBSnapshotAvailableWaiter {
		return rds.NewDBSnapshotAvailableWaiter(c, func(o *rds.DBSnapshotAvailableWaiterOptions) {
			fastDelay(&o.MinDelay, &o.MaxDelay)
			o.ClientOptions = append(o.ClientOptions, func(o *rds.Options) {
				o.APIOptions = append(o.APIOptions, recorder(&seen, func(o *rds.DescribeDBSnapshotsOutput) string {
					return aws.ToString(o.DBSnapshots[0].Status)
				}))
			})
		})
	}
	if err := snapWaiter(w).Wait(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(cut)}, time.Minute); err != nil {
		t.Fatalf("DBSnapshotAvailable: %v", err)
	}
	if seen[0] != "creating" || seen[len(seen)-1] != "available" {
		t.Fatalf("snapshot waiter saw %v", seen)
	}
	e1 := rds.NewFromConfig(e.cfg(east))
	srcARN := "arn:aws:rds:us-west-2:" + awssim.AccountID + ":snapshot:" + cut
	_, err = e1.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String(srcARN),
		TargetDBSnapshotIdentifier: aws.String("kaigo-subsys-prod-cutback")})
	wantCode(t, err, "InvalidParameterValue") // cross-region copy of an encrypted snapshot needs a key
	must[*rds.CopyDBSnapshotOutput](t)(e1.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String(srcARN),
		TargetDBSnapshotIdentifier: aws.String("kaigo-subsys-prod-cutback"), KmsKeyId: aws.String("arn:aws:kms:us-east-1:123456789012:key/prod-key-id")}))
	seen = nil
	if err := snapWaiter(e1).Wait(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("kaigo-subsys-prod-cutback")}, time.Minute); err != nil {
		t.Fatalf("copy DBSnapshotAvailable: %v", err)
	}
	if seen[0] != "pending" {
		t.Fatalf("copy waiter saw %v, want pending first", seen)
	}

	_, err = e1.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)})
	wantCode(t, err, "InvalidParameterCombination") // no final snapshot, no delete
	must[*rds.DeleteDBInstanceOutput](t)(e1.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{
		DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), FinalDBSnapshotIdentifier: aws.String("kaigo-subsys-prod-final-before-cutback")}))
	del := rds.NewDBInstanceDeletedWaiter(e1, func(o *rds.DBInstanceDeletedWaiterOptions) { fastDelay(&o.MinDelay, &o.MaxDelay) })
	if err := del.Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)}, time.Minute); err != nil {
		t.Fatalf("DBInstanceDeleted: %v", err)
	}
	final := must[*rds.DescribeDBSnapshotsOutput](t)(e1.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("kaigo-subsys-prod-final-before-cutback")}))
	if len(final.DBSnapshots) != 1 {
		t.Fatalf("final snapshot missing")
	}
	must[*rds.RestoreDBInstanceFromDBSnapshotOutput](t)(e1.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), DBSnapshotIdentifier: aws.String("kaigo-subsys-prod-cutback"),
		DBSubnetGroupName: aws.String("kaigo-subsys-prod-db-subnet-group"), MultiAZ: aws.Bool(true)}))

	// Stop the DR database, and start it again.
	must[*rds.StopDBInstanceOutput](t)(w.StopDBInstance(ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String(awssim.KaigoDRInstance)}))
	_, err = w.StopDBInstance(ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String(awssim.KaigoDRInstance)})
	wantCode(t, err, "InvalidDBInstanceState")
	e.clock.Advance(10 * time.Minute)
	must[*rds.StartDBInstanceOutput](t)(w.StartDBInstance(ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: aws.String(awssim.KaigoDRInstance)}))

	// Errors callers rely on.
	_, err = w.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String("x"), DBSnapshotIdentifier: aws.String("no-such-snapshot")})
	var snf *rdstypes.DBSnapshotNotFoundFault
	if !errors.As(err, &snf) {
		t.Fatalf("unknown snapshot: want DBSnapshotNotFoundFault, got %v", err)
	}
	byARN := must[*rds.DescribeDBInstancesOutput](t)(w.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: db.DBInstanceArn}))
	if aws.ToString(byARN.DBInstances[0].DBInstanceIdentifier) != awssim.KaigoDRInstance {
		t.Fatalf("describe by ARN: %+v", byARN.DBInstances)
	}
	_, err = w.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("nope")})
	var inf *rdstypes.DBInstanceNotFoundFault
	if !errors.As(err, &inf) {
		t.Fatalf("unknown instance: want DBInstanceNotFoundFault, got %v", err)
	}
}

func TestRDSPointInTimeAndGroups(t *testing.T) {
	e := newEnv(t, time.Minute)
	ctx := ctx(t)
	c := rds.NewFromConfig(e.cfg(east))
	restoreAt := e.clock.Now().Add(-time.Hour)
	out := must[*rds.RestoreDBInstanceToPointInTimeOutput](t)(c.RestoreDBInstanceToPointInTime(ctx, &rds.RestoreDBInstanceToPointInTimeInput{
		SourceDBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), TargetDBInstanceIdentifier: aws.String("kaigo-subsys-prod-pitr"),
		RestoreTime: aws.Time(restoreAt), DBInstanceClass: aws.String("db.r6g.large"), DBSubnetGroupName: aws.String("kaigo-subsys-prod-db-subnet-group")}))
	if aws.ToString(out.DBInstance.DBInstanceStatus) != "creating" {
		t.Fatalf("PITR status %q", aws.ToString(out.DBInstance.DBInstanceStatus))
	}
	_, err := c.RestoreDBInstanceToPointInTime(ctx, &rds.RestoreDBInstanceToPointInTimeInput{
		SourceDBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), TargetDBInstanceIdentifier: aws.String("y"),
		RestoreTime: aws.Time(restoreAt.Add(-30 * 24 * time.Hour))})
	wantCode(t, err, "InvalidRestoreFault")
	_, err = c.RestoreDBInstanceToPointInTime(ctx, &rds.RestoreDBInstanceToPointInTimeInput{
		SourceDBInstanceIdentifier: aws.String("missing"), TargetDBInstanceIdentifier: aws.String("y"), UseLatestRestorableTime: aws.Bool(true)})
	wantCode(t, err, "DBInstanceNotFound")

	pgs := must[*rds.DescribeDBParameterGroupsOutput](t)(c.DescribeDBParameterGroups(ctx, &rds.DescribeDBParameterGroupsInput{}))
	if len(pgs.DBParameterGroups) != 1 || aws.ToString(pgs.DBParameterGroups[0].DBParameterGroupName) != "kaigo-subsys-postgres15" {
		t.Fatalf("parameter groups: %+v", pgs.DBParameterGroups)
	}
	sgs := must[*rds.DescribeDBSubnetGroupsOutput](t)(rds.NewFromConfig(e.cfg(west)).DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{
		DBSubnetGroupName: aws.String(awssim.KaigoDRSubnetGroup)}))
	if len(sgs.DBSubnetGroups) != 1 || len(sgs.DBSubnetGroups[0].Subnets) != 3 {
		t.Fatalf("DR subnet group: %+v", sgs.DBSubnetGroups)
	}
	_, err = c.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String("nope")})
	wantCode(t, err, "DBSubnetGroupNotFoundFault")
}

func TestElastiCacheCreateAndDelete(t *testing.T) {
	e := newEnv(t, time.Minute)
	ctx := ctx(t)
	c := elasticache.NewFromConfig(e.cfg(west))
	in := &elasticache.CreateReplicationGroupInput{
		ReplicationGroupId: aws.String("kaigo-subsys-dr"), ReplicationGroupDescription: aws.String("DR ElastiCache for kaigo subsystem"),
		Engine: aws.String("redis"), CacheNodeType: aws.String("cache.r6g.large"), NumCacheClusters: aws.Int32(2),
		AutomaticFailoverEnabled: aws.Bool(true), CacheSubnetGroupName: aws.String(awssim.KaigoDRCacheSubnets),
		SecurityGroupIds: []string{"sg-dr-elasticache"}, EngineVersion: aws.String("7.0"),
	}
	must[*elasticache.CreateReplicationGroupOutput](t)(c.CreateReplicationGroup(ctx, in))
	_, err := c.CreateReplicationGroup(ctx, in)
	var exists *ectypes.ReplicationGroupAlreadyExistsFault
	if !errors.As(err, &exists) {
		t.Fatalf("second create: want ReplicationGroupAlreadyExistsFault, got %v", err)
	}
	if n := countOps(e.sim.Journal(), "CreateReplicationGroup", "kaigo-subsys-dr"); n != 1 {
		t.Fatalf("journal holds %d creates, want 1", n)
	}
	var seen []string
	wt := elasticache.NewReplicationGroupAvailableWaiter(c, func(o *elasticache.ReplicationGroupAvailableWaiterOptions) {
		fastDelay(&o.MinDelay, &o.MaxDelay)
		o.ClientOptions = append(o.ClientOptions, func(o *elasticache.Options) {
			o.APIOptions = append(o.APIOptions, recorder(&seen, func(o *elasticache.DescribeReplicationGroupsOutput) string {
				return aws.ToString(o.ReplicationGroups[0].Status)
			}))
		})
	})
	if err := wt.Wait(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("kaigo-subsys-dr")}, time.Minute); err != nil {
		t.Fatalf("ReplicationGroupAvailable: %v", err)
	}
	if seen[0] != "creating" || seen[len(seen)-1] != "available" {
		t.Fatalf("waiter saw %v", seen)
	}
	got := must[*elasticache.DescribeReplicationGroupsOutput](t)(c.DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("kaigo-subsys-dr")}))
	g := got.ReplicationGroups[0]
	// Cluster mode disabled (NumCacheClusters): the node group's primary endpoint, and no
	// ConfigurationEndpoint, as on AWS.
	if g.NodeGroups[0].PrimaryEndpoint == nil || g.ConfigurationEndpoint != nil || len(g.MemberClusters) != 2 || g.AutomaticFailover != ectypes.AutomaticFailoverStatusEnabled {
		t.Fatalf("replication group: %+v", g)
	}
	_, err = c.CreateReplicationGroup(ctx, &elasticache.CreateReplicationGroupInput{ReplicationGroupId: aws.String("one"),
		ReplicationGroupDescription: aws.String("d"), NumCacheClusters: aws.Int32(1), AutomaticFailoverEnabled: aws.Bool(true)})
	wantCode(t, err, "InvalidParameterCombination")

	must[*elasticache.DeleteReplicationGroupOutput](t)(c.DeleteReplicationGroup(ctx, &elasticache.DeleteReplicationGroupInput{ReplicationGroupId: aws.String("kaigo-subsys-dr")}))
	dw := elasticache.NewReplicationGroupDeletedWaiter(c, func(o *elasticache.ReplicationGroupDeletedWaiterOptions) { fastDelay(&o.MinDelay, &o.MaxDelay) })
	if err := dw.Wait(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("kaigo-subsys-dr")}, time.Minute); err != nil {
		t.Fatalf("ReplicationGroupDeleted: %v", err)
	}
	_, err = c.DeleteReplicationGroup(ctx, &elasticache.DeleteReplicationGroupInput{ReplicationGroupId: aws.String("kaigo-subsys-dr")})
	wantCode(t, err, "ReplicationGroupNotFoundFault")
}

func appGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestECSAndALBComeUp(t *testing.T) {
	e := newEnv(t, 30*time.Second)
	ctx := ctx(t)
	c := ecs.NewFromConfig(e.cfg(west))
	lb := elbv2.NewFromConfig(e.cfg(west))

	if code, _ := appGet(t, e.endpoint+"/_app/us-west-2/health"); code != http.StatusServiceUnavailable {
		t.Fatalf("DR app before failover: status %d, want 503 (no healthy targets)", code)
	}
	if code, body := appGet(t, e.endpoint+"/_app/us-east-1/health"); code != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Fatalf("prod app: %d %s", code, body)
	}

	td := must[*ecs.RegisterTaskDefinitionOutput](t)(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(awssim.KaigoDRTaskFamily), ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("kaigo:dr")}},
		Cpu: aws.String("1024"), Memory: aws.String("2048")}))
	if td.TaskDefinition.Revision != 2 {
		t.Fatalf("revision %d, want 2 (the fixture has 1)", td.TaskDefinition.Revision)
	}
	desc := must[*ecs.DescribeTaskDefinitionOutput](t)(c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("kaigo-subsys-dr:2")}))
	if aws.ToString(desc.TaskDefinition.ContainerDefinitions[0].Image) != "kaigo:dr" {
		t.Fatalf("task definition: %+v", desc.TaskDefinition)
	}
	_, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("kaigo-subsys-dr:9")})
	wantCode(t, err, "ClientException")

	must[*ecs.UpdateServiceOutput](t)(c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(awssim.KaigoDRCluster),
		Service: aws.String(awssim.KaigoDRService), DesiredCount: aws.Int32(2), TaskDefinition: td.TaskDefinition.TaskDefinitionArn}))
	var running []string
	sw := ecs.NewServicesStableWaiter(c, func(o *ecs.ServicesStableWaiterOptions) {
		fastDelay(&o.MinDelay, &o.MaxDelay)
		o.ClientOptions = append(o.ClientOptions, func(o *ecs.Options) {
			o.APIOptions = append(o.APIOptions, recorder(&running, func(o *ecs.DescribeServicesOutput) string {
				s := o.Services[0]
				return string(rune('0'+s.RunningCount)) + "/" + string(rune('0'+len(s.Deployments)))
			}))
		})
	})
	if err := sw.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(awssim.KaigoDRCluster), Services: []string{awssim.KaigoDRService}}, time.Minute); err != nil {
		t.Fatalf("ServicesStable: %v", err)
	}
	if running[0] != "0/2" || running[len(running)-1] != "2/1" || !contains(running, "1/2") {
		t.Fatalf("ServicesStable saw running/deployments %v, want 0/2 … 1/2 … 2/1", running)
	}

	var states []string
	tw := elbv2.NewTargetInServiceWaiter(lb, func(o *elbv2.TargetInServiceWaiterOptions) {
		fastDelay(&o.MinDelay, &o.MaxDelay)
		o.ClientOptions = append(o.ClientOptions, func(o *elbv2.Options) {
			o.APIOptions = append(o.APIOptions, recorder(&states, func(o *elbv2.DescribeTargetHealthOutput) string {
				var s []string
				for _, d := range o.TargetHealthDescriptions {
					s = append(s, string(d.TargetHealth.State))
				}
				return strings.Join(s, ",")
			}))
		})
	})
	if err := tw.Wait(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(awssim.KaigoTargetGroupARN(west))}, time.Minute); err != nil {
		t.Fatalf("TargetInService: %v", err)
	}
	if !strings.Contains(strings.Join(states, " "), "initial") || states[len(states)-1] != "healthy,healthy" {
		t.Fatalf("TargetInService saw %v", states)
	}
	if code, body := appGet(t, e.endpoint+"/_app/us-west-2/health"); code != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Fatalf("DR app after failover: %d %s", code, body)
	}

	_, err = c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(awssim.KaigoDRCluster), Service: aws.String("nope"), DesiredCount: aws.Int32(1)})
	wantCode(t, err, "ServiceNotFoundException")
	_, err = c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("nope"), Service: aws.String("x")})
	wantCode(t, err, "ClusterNotFoundException")
	ds := must[*ecs.DescribeServicesOutput](t)(c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(awssim.KaigoDRCluster), Services: []string{"nope"}}))
	if len(ds.Failures) != 1 || aws.ToString(ds.Failures[0].Reason) != "MISSING" {
		t.Fatalf("missing service: %+v", ds.Failures)
	}
	cl := must[*ecs.DescribeClustersOutput](t)(c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{awssim.KaigoDRCluster}}))
	if len(cl.Clusters) != 1 || cl.Clusters[0].RunningTasksCount != 2 {
		t.Fatalf("cluster: %+v", cl.Clusters)
	}

	lbs := must[*elbv2.DescribeLoadBalancersOutput](t)(lb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{awssim.KaigoDRALBName}}))
	if aws.ToString(lbs.LoadBalancers[0].DNSName) != awssim.KaigoALBDNS(west) {
		t.Fatalf("ALB: %+v", lbs.LoadBalancers)
	}
	// The ALB is in the DR VPC's three subnets, one per zone.
	var zones []string
	for _, z := range lbs.LoadBalancers[0].AvailabilityZones {
		if !strings.HasPrefix(aws.ToString(z.SubnetId), "subnet-") {
			t.Fatalf("ALB zone without its subnet: %+v", z)
		}
		zones = append(zones, aws.ToString(z.ZoneName))
	}
	if strings.Join(zones, " ") != "us-west-2a us-west-2c us-west-2d" {
		t.Fatalf("ALB zones: %v", zones)
	}
	tgs := must[*elbv2.DescribeTargetGroupsOutput](t)(lb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: lbs.LoadBalancers[0].LoadBalancerArn}))
	if len(tgs.TargetGroups) != 1 || aws.ToString(tgs.TargetGroups[0].TargetGroupArn) != awssim.KaigoTargetGroupARN(west) ||
		aws.ToString(tgs.TargetGroups[0].ProtocolVersion) != "HTTP1" {
		t.Fatalf("target groups: %+v", tgs.TargetGroups)
	}
	_, err = lb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String("arn:aws:elasticloadbalancing:us-west-2:1:targetgroup/x/y")})
	wantCode(t, err, "TargetGroupNotFound")
	_, err = lb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"nope"}})
	wantCode(t, err, "LoadBalancerNotFound")

	// Scale back to zero (cutback phase 4): the app goes dark once the tasks have stopped.
	must[*ecs.UpdateServiceOutput](t)(c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(awssim.KaigoDRCluster),
		Service: aws.String(awssim.KaigoDRService), DesiredCount: aws.Int32(0)}))
	if err := sw.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(awssim.KaigoDRCluster), Services: []string{awssim.KaigoDRService}}, time.Minute); err != nil {
		t.Fatalf("ServicesStable at 0: %v", err)
	}
	if code, _ := appGet(t, e.endpoint+"/_app/us-west-2/health"); code != http.StatusServiceUnavailable {
		t.Fatalf("DR app after scale-in: %d, want 503", code)
	}

	// A forced deployment on prod keeps the old deployment ACTIVE while it drains, so
	// ServicesStable waits even though the running count never drops below desired.
	pc := ecs.NewFromConfig(e.cfg(east))
	must[*ecs.UpdateServiceOutput](t)(pc.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(awssim.KaigoProdCluster),
		Service: aws.String(awssim.KaigoProdService), ForceNewDeployment: true}))
	running = nil
	psw := ecs.NewServicesStableWaiter(pc, func(o *ecs.ServicesStableWaiterOptions) {
		fastDelay(&o.MinDelay, &o.MaxDelay)
		o.ClientOptions = append(o.ClientOptions, func(o *ecs.Options) {
			o.APIOptions = append(o.APIOptions, recorder(&running, func(o *ecs.DescribeServicesOutput) string {
				s := o.Services[0]
				return string(rune('0'+s.RunningCount)) + "/" + string(rune('0'+len(s.Deployments)))
			}))
		})
	})
	if err := psw.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(awssim.KaigoProdCluster), Services: []string{awssim.KaigoProdService}}, time.Minute); err != nil {
		t.Fatalf("ServicesStable after a forced deployment: %v", err)
	}
	if running[0] != "2/2" || running[len(running)-1] != "2/1" {
		t.Fatalf("forced deployment: waiter saw %v, want 2/2 … 2/1", running)
	}
	if code, _ := appGet(t, e.endpoint+"/_app/us-east-1/health"); code != 200 {
		t.Fatalf("prod app during and after a rolling deployment: %d", code)
	}
}

func TestRoute53Switch(t *testing.T) {
	e := newEnv(t, 10*time.Second)
	ctx := ctx(t)
	c := route53.NewFromConfig(e.cfg(east))
	list := must[*route53.ListResourceRecordSetsOutput](t)(c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID)}))
	var api *r53types.ResourceRecordSet
	for i, r := range list.ResourceRecordSets {
		if aws.ToString(r.Name) == awssim.KaigoAPIName {
			api = &list.ResourceRecordSets[i]
		}
	}
	if api == nil || api.AliasTarget == nil || !strings.Contains(aws.ToString(api.AliasTarget.DNSName), "prod-alb") {
		t.Fatalf("api record: %+v", api)
	}
	upsert := func(action r53types.ChangeAction, dns, zone string) (*route53.ChangeResourceRecordSetsOutput, error) {
		return c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID),
			ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: action, ResourceRecordSet: &r53types.ResourceRecordSet{
				Name: aws.String("api.kaigo-subsys.example.com"), Type: r53types.RRTypeA,
				AliasTarget: &r53types.AliasTarget{HostedZoneId: aws.String(zone), DNSName: aws.String(dns), EvaluateTargetHealth: true}}}}}})
	}
	out := must[*route53.ChangeResourceRecordSetsOutput](t)(upsert(r53types.ChangeActionUpsert, awssim.KaigoALBDNS(west), awssim.KaigoALBZoneID(west)))
	if out.ChangeInfo.Status != r53types.ChangeStatusPending {
		t.Fatalf("change status %s, want PENDING", out.ChangeInfo.Status)
	}
	var seen []string
	wt := route53.NewResourceRecordSetsChangedWaiter(c, func(o *route53.ResourceRecordSetsChangedWaiterOptions) {
		fastDelay(&o.MinDelay, &o.MaxDelay)
		o.ClientOptions = append(o.ClientOptions, func(o *route53.Options) {
			o.APIOptions = append(o.APIOptions, recorder(&seen, func(o *route53.GetChangeOutput) string { return string(o.ChangeInfo.Status) }))
		})
	})
	if err := wt.Wait(ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id}, time.Minute); err != nil {
		t.Fatalf("ResourceRecordSetsChanged: %v", err)
	}
	if seen[0] != "PENDING" || seen[len(seen)-1] != "INSYNC" {
		t.Fatalf("waiter saw %v", seen)
	}
	ans := must[*route53.TestDNSAnswerOutput](t)(c.TestDNSAnswer(ctx, &route53.TestDNSAnswerInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID),
		RecordName: aws.String(awssim.KaigoAPIName), RecordType: r53types.RRTypeA}))
	if len(ans.RecordData) != 1 || ans.RecordData[0] != "198.51.100.20" || aws.ToString(ans.ResponseCode) != "NOERROR" {
		t.Fatalf("TestDNSAnswer after switch: %+v", ans)
	}

	_, err := upsert(r53types.ChangeActionCreate, awssim.KaigoALBDNS(west), awssim.KaigoALBZoneID(west))
	var icb *r53types.InvalidChangeBatch
	if !errors.As(err, &icb) || !strings.Contains(icb.ErrorMessage(), "already exists") {
		t.Fatalf("CREATE of an existing record: want InvalidChangeBatch, got %v", err)
	}
	_, err = upsert(r53types.ChangeActionUpsert, "nope.us-west-2.elb.amazonaws.com", "Z1H1FL5HABSF5")
	if !errors.As(err, &icb) {
		t.Fatalf("alias to a missing ALB: want InvalidChangeBatch, got %v", err)
	}
	_, err = c.GetChange(ctx, &route53.GetChangeInput{Id: aws.String("C0000")})
	wantCode(t, err, "NoSuchChange")
	_, err = c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("ZNOPE")})
	wantCode(t, err, "NoSuchHostedZone")
	if n := countOps(e.sim.Journal(), "ChangeResourceRecordSets", awssim.KaigoHostedZoneID+"/api.kaigo-subsys.example.com"); n != 1 {
		t.Fatalf("journal holds %d DNS changes, want 1 (failed ones are not journaled)", n)
	}
}

func TestBackupRestoreEFS(t *testing.T) {
	e := newEnv(t, time.Minute)
	ctx := ctx(t)
	b := backup.NewFromConfig(e.cfg(west))
	pts := must[*backup.ListRecoveryPointsByBackupVaultOutput](t)(b.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{
		BackupVaultName: aws.String(awssim.KaigoDRVault), ByResourceType: aws.String("EFS")}))
	if len(pts.RecoveryPoints) == 0 {
		t.Fatal("no EFS recovery points in the DR vault")
	}
	newest := pts.RecoveryPoints[0]
	for _, p := range pts.RecoveryPoints {
		if p.CreationDate.After(*newest.CreationDate) {
			newest = p
		}
	}
	start := &backup.StartRestoreJobInput{RecoveryPointArn: newest.RecoveryPointArn, IdempotencyToken: aws.String("tok-1"),
		Metadata:   map[string]string{"file-system-id": "fs-dr", "PerformanceMode": "generalPurpose", "Encrypted": "true", "newFileSystem": "true"},
		IamRoleArn: aws.String("arn:aws:iam::123456789012:role/AWSBackupDefaultServiceRole")}
	job := must[*backup.StartRestoreJobOutput](t)(b.StartRestoreJob(ctx, start))
	again := must[*backup.StartRestoreJobOutput](t)(b.StartRestoreJob(ctx, start))
	if aws.ToString(again.RestoreJobId) != aws.ToString(job.RestoreJobId) {
		t.Fatalf("same idempotency token gave a second job")
	}
	var seen []string
	var d *backup.DescribeRestoreJobOutput
	for i := 0; i < 100; i++ {
		d = must[*backup.DescribeRestoreJobOutput](t)(b.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: job.RestoreJobId}))
		seen = append(seen, string(d.Status))
		if d.Status == "COMPLETED" {
			break
		}
	}
	if seen[0] != "PENDING" || !contains(seen, "RUNNING") || d.Status != "COMPLETED" || d.CreatedResourceArn == nil {
		t.Fatalf("restore job saw %v, resource %v", seen, d.CreatedResourceArn)
	}
	fsID := (*d.CreatedResourceArn)[strings.LastIndexByte(*d.CreatedResourceArn, '/')+1:]
	fs := must[*efs.DescribeFileSystemsOutput](t)(efs.NewFromConfig(e.cfg(west)).DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(fsID)}))
	if len(fs.FileSystems) != 1 || fs.FileSystems[0].LifeCycleState != "available" {
		t.Fatalf("restored file system: %+v", fs.FileSystems)
	}
	_, err := efs.NewFromConfig(e.cfg(west)).DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String("fs-nope")})
	wantCode(t, err, "FileSystemNotFound")
	_, err = b.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: aws.String("arn:aws:backup:us-west-2:1:recovery-point:nope"), Metadata: map[string]string{}})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = b.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
	if n := countOps(e.sim.Journal(), "StartRestoreJob", aws.ToString(job.RestoreJobId)); n != 1 {
		t.Fatalf("journal holds %d restore jobs, want 1", n)
	}
}

func TestSecretsManager(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := ctx(t)
	c := secretsmanager.NewFromConfig(e.cfg(west))
	must[*secretsmanager.UpdateSecretOutput](t)(c.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String(awssim.KaigoDRDBSecret),
		SecretString: aws.String(`{"endpoint":"kaigo-subsys-dr.x.us-west-2.rds.amazonaws.com"}`)}))
	must[*secretsmanager.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(awssim.KaigoDRRedisSecret),
		SecretString: aws.String(`{"endpoint":"redis"}`), ClientRequestToken: aws.String("00000000-0000-4000-8000-00000000abcd")}))
	// The same token and value again is a no-op, as in AWS.
	must[*secretsmanager.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(awssim.KaigoDRRedisSecret),
		SecretString: aws.String(`{"endpoint":"redis"}`), ClientRequestToken: aws.String("00000000-0000-4000-8000-00000000abcd")}))
	_, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(awssim.KaigoDRRedisSecret),
		SecretString: aws.String(`{"endpoint":"other"}`), ClientRequestToken: aws.String("00000000-0000-4000-8000-00000000abcd")})
	wantCode(t, err, "ResourceExistsException")
	got := must[*secretsmanager.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(awssim.KaigoDRDBSecret)}))
	if !strings.Contains(aws.ToString(got.SecretString), "kaigo-subsys-dr.x") {
		t.Fatalf("secret value %q", aws.ToString(got.SecretString))
	}
	d := must[*secretsmanager.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: got.ARN}))
	if len(d.VersionIdsToStages) != 2 {
		t.Fatalf("versions: %v", d.VersionIdsToStages)
	}
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("kaigo-subsys/dr/nope")})
	wantCode(t, err, "ResourceNotFoundException")
	if n := countOps(e.sim.Journal(), "PutSecretValue", awssim.KaigoDRRedisSecret); n != 1 {
		t.Fatalf("journal holds %d puts, want 1", n)
	}
}

func TestEC2Network(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := ctx(t)
	c := ec2.NewFromConfig(e.cfg(west))
	vpcs := must[*ec2.DescribeVpcsOutput](t)(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{awssim.KaigoDRVPCName}}}}))
	if len(vpcs.Vpcs) != 1 {
		t.Fatalf("DR VPC: %d found", len(vpcs.Vpcs))
	}
	vpc := vpcs.Vpcs[0].VpcId
	byVPC := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{*vpc}}}
	subs := must[*ec2.DescribeSubnetsOutput](t)(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: byVPC}))
	sgs := must[*ec2.DescribeSecurityGroupsOutput](t)(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: byVPC}))
	rts := must[*ec2.DescribeRouteTablesOutput](t)(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: byVPC}))
	// Five groups of the system's and the VPC's default group; public, private and main route tables.
	if len(subs.Subnets) != 3 || len(sgs.SecurityGroups) != 6 || len(rts.RouteTables) != 3 || len(rts.RouteTables[1].Associations) != 3 {
		t.Fatalf("DR network: %d subnets, %d groups, %d route tables", len(subs.Subnets), len(sgs.SecurityGroups), len(rts.RouteTables))
	}
	for _, s := range subs.Subnets {
		if s.AssignIpv6AddressOnCreation == nil || *s.AssignIpv6AddressOnCreation || s.Ipv6Native == nil || *s.Ipv6Native ||
			s.EnableDns64 == nil || s.MapCustomerOwnedIpOnLaunch == nil || s.PrivateDnsNameOptionsOnLaunch == nil ||
			s.PrivateDnsNameOptionsOnLaunch.HostnameType != ec2types.HostnameTypeIpName {
			t.Fatalf("subnet %s lacks the IPv6 and DNS fields EC2 returns: %+v", aws.ToString(s.SubnetId), s)
		}
	}
	var dflt []ec2types.SecurityGroup
	for _, g := range sgs.SecurityGroups {
		if aws.ToString(g.GroupName) == "default" {
			dflt = append(dflt, g)
		}
	}
	if len(dflt) != 1 || aws.ToString(dflt[0].Description) != "default VPC security group" || len(dflt[0].IpPermissions) != 1 ||
		len(dflt[0].IpPermissions[0].UserIdGroupPairs) != 1 || aws.ToString(dflt[0].IpPermissions[0].UserIdGroupPairs[0].GroupId) != aws.ToString(dflt[0].GroupId) ||
		aws.ToString(dflt[0].IpPermissions[0].IpProtocol) != "-1" || len(dflt[0].IpPermissionsEgress) != 1 ||
		aws.ToString(dflt[0].IpPermissionsEgress[0].IpRanges[0].CidrIp) != "0.0.0.0/0" {
		t.Fatalf("the DR VPC's default security group: %+v", dflt)
	}
	var mains []ec2types.RouteTable
	for _, r := range rts.RouteTables {
		for _, a := range r.Associations {
			if aws.ToBool(a.Main) {
				mains = append(mains, r)
			}
		}
	}
	if len(mains) != 1 || len(mains[0].Routes) != 1 || aws.ToString(mains[0].Routes[0].GatewayId) != "local" ||
		aws.ToString(mains[0].Routes[0].DestinationCidrBlock) != aws.ToString(vpcs.Vpcs[0].CidrBlock) || mains[0].Associations[0].SubnetId != nil {
		t.Fatalf("the DR VPC's main route table: %+v", mains)
	}
	one := must[*ec2.DescribeSubnetsOutput](t)(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{*subs.Subnets[1].SubnetId}}))
	if len(one.Subnets) != 1 {
		t.Fatalf("by id: %d", len(one.Subnets))
	}
	wild := must[*ec2.DescribeSecurityGroupsOutput](t)(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{"kaigo-subsys-dr-rds*"}}}}))
	if len(wild.SecurityGroups) != 1 {
		t.Fatalf("wildcard: %d", len(wild.SecurityGroups))
	}
	none := must[*ec2.DescribeVpcsOutput](t)(ec2.NewFromConfig(e.cfg(east)).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{awssim.KaigoDRVPCName}}}}))
	if len(none.Vpcs) != 0 {
		t.Fatal("the DR VPC must not appear in us-east-1")
	}
	_, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-nope"}})
	wantCode(t, err, "InvalidVpcID.NotFound")
	_, err = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue")
}

func TestSmallServices(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := ctx(t)
	id := must[*sts.GetCallerIdentityOutput](t)(sts.NewFromConfig(e.cfg(east)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if aws.ToString(id.Account) != awssim.AccountID {
		t.Fatalf("account %q", aws.ToString(id.Account))
	}

	sn := sns.NewFromConfig(e.cfg(west))
	pub := must[*sns.PublishOutput](t)(sn.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(awssim.KaigoDRAlertsTopic), Message: aws.String("service resumed")}))
	if aws.ToString(pub.MessageId) == "" {
		t.Fatal("no message id")
	}
	if m := e.sim.Published(); len(m) != 1 || m[0].Message != "service resumed" || m[0].Topic != awssim.KaigoDRAlertsTopic {
		t.Fatalf("published: %+v", m)
	}
	_, err := sn.Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-west-2:123456789012:nope"), Message: aws.String("x")})
	wantCode(t, err, "NotFound")

	s3c := s3.NewFromConfig(e.cfg(east), func(o *s3.Options) { o.UsePathStyle = true })
	rep := must[*s3.GetBucketReplicationOutput](t)(s3c.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String(awssim.KaigoProdBucket)}))
	if rep.ReplicationConfiguration == nil || aws.ToString(rep.ReplicationConfiguration.Rules[0].Destination.Bucket) != "arn:aws:s3:::kaigo-subsys-dr-backups" {
		t.Fatalf("replication: %+v", rep.ReplicationConfiguration)
	}
	// The SDK's default addressing works too (it picks path style for an IP endpoint).
	must[*s3.GetBucketReplicationOutput](t)(s3.NewFromConfig(e.cfg(east)).GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String(awssim.KaigoProdBucket)}))
	_, err = s3c.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String("kaigo-subsys-dr-backups")})
	wantCode(t, err, "ReplicationConfigurationNotFoundError")

	cw := cloudwatch.NewFromConfig(e.cfg(west))
	must[*cloudwatch.PutMetricAlarmOutput](t)(cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("kaigo-subsys-dr-ecs-cpu-critical"), AlarmDescription: aws.String("DR環境のECS CPU使用率が90%を超過"),
		MetricName: aws.String("CPUUtilization"), Namespace: aws.String("AWS/ECS"), Statistic: cwtypes.StatisticAverage,
		Period: aws.Int32(300), EvaluationPeriods: aws.Int32(2), Threshold: aws.Float64(90),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		Dimensions:         []cwtypes.Dimension{{Name: aws.String("ClusterName"), Value: aws.String(awssim.KaigoDRCluster)}},
		AlarmActions:       []string{awssim.KaigoDRAlertsTopic}}))
	al := must[*cloudwatch.DescribeAlarmsOutput](t)(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"kaigo-subsys-dr-ecs-cpu-critical"}}))
	if len(al.MetricAlarms) != 1 || aws.ToFloat64(al.MetricAlarms[0].Threshold) != 90 || aws.ToInt32(al.MetricAlarms[0].Period) != 300 ||
		al.MetricAlarms[0].StateUpdatedTimestamp == nil || aws.ToString(al.MetricAlarms[0].AlarmDescription) != "DR環境のECS CPU使用率が90%を超過" {
		t.Fatalf("alarms: %+v", al.MetricAlarms)
	}
	_, err = cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("x"), EvaluationPeriods: aws.Int32(1),
		ComparisonOperator: "Sideways"})
	wantCode(t, err, "ValidationError")

	h := health.NewFromConfig(e.cfg(east))
	filter := &health.DescribeEventsInput{Filter: &healthtypes.EventFilter{Regions: []string{east},
		EventTypeCategories: []healthtypes.EventTypeCategory{"issue"}, EventStatusCodes: []healthtypes.EventStatusCode{"open"}}}
	evs := must[*health.DescribeEventsOutput](t)(h.DescribeEvents(ctx, filter))
	if len(evs.Events) != 0 {
		t.Fatalf("peacetime has no open events, got %d", len(evs.Events))
	}
	e.sim.OpenHealthEvent(awssim.HealthEvent{Region: east})
	evs = must[*health.DescribeEventsOutput](t)(h.DescribeEvents(ctx, filter))
	if len(evs.Events) != 1 || aws.ToString(evs.Events[0].EventTypeCode) != "AWS_EC2_OPERATIONAL_ISSUE" {
		t.Fatalf("open events: %+v", evs.Events)
	}
	if n := e.sim.CloseHealthEvent(east, ""); n != 1 {
		t.Fatalf("closed %d", n)
	}
	evs = must[*health.DescribeEventsOutput](t)(h.DescribeEvents(ctx, filter))
	if len(evs.Events) != 0 {
		t.Fatalf("closed event still open")
	}
}
