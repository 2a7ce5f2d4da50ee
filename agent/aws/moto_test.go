package aws_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/kirikae/kirikae/agent/action"
	agentaws "github.com/kirikae/kirikae/agent/aws"
)

// newMotoEnv points the executors at a fresh moto_server. moto starts empty and its state
// changes are instant; MOTO_ECS_SERVICE_RUNNING makes its ECS services report 2 running
// tasks, which is what services-stable waits for.
func newMotoEnv(t *testing.T) *env {
	t.Helper()
	url := startMoto(t, "MOTO_ECS_SERVICE_RUNNING=2")
	e := &env{endpoint: url}
	e.opts = agentaws.Options{MinDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond,
		Memo: &action.MemoryMemo{}, ConfigOptions: clientOptions()}
	e.restart(t)
	return e
}

// twice runs a step as a first attempt and again as a re-dispatch to a restarted agent, and
// checks the outputs agree.
func (e *env) twice(t *testing.T, s action.Step, ignore ...string) (map[string]any, map[string]any) {
	t.Helper()
	ctx := testCtx(t)
	out1, lines, err := e.exec(ctx, s)
	if err != nil {
		t.Fatalf("%s first run: %v", s.Action, err)
	}
	if len(lines) > 0 {
		t.Logf("%s: %s", s.Action, lines[len(lines)-1])
	}
	e.restart(t)
	s.Attempt++
	out2, _, err := e.exec(ctx, s)
	if err != nil {
		t.Fatalf("%s second run: %v", s.Action, err)
	}
	sameOutputs(t, out1, out2, ignore...)
	return out1, out2
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("moto setup: %v", err)
		}
		return v
	}
}

// TestMotoIdempotent runs the executors moto supports twice each against moto_server, with
// seed resources created through the SDK, and counts what exists afterwards: never a second
// resource.
func TestMotoIdempotent(t *testing.T) {
	e := newMotoEnv(t)
	ctx := testCtx(t)
	c := e.clients(t, west)

	// EC2: the DR network.
	vpc := must[*ec2.CreateVpcOutput](t)(c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.20.0.0/16"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVpc,
			Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("kaigo-subsys-dr-vpc")}}}}}))
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	var subnets []string
	for i, az := range []string{"us-west-2a", "us-west-2c"} {
		cidr := []string{"10.20.10.0/24", "10.20.11.0/24"}[i]
		s, err := c.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcID), CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(az)})
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "InvalidSubnet.Conflict" {
			// Under load the SDK can resend a create whose first answer was lost: the subnet
			// is there already, so adopt it, as the executors do.
			found := must[*ec2.DescribeSubnetsOutput](t)(c.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{
				{Name: aws.String("vpc-id"), Values: []string{vpcID}}, {Name: aws.String("cidr-block"), Values: []string{cidr}}}}))
			if len(found.Subnets) == 1 {
				s, err = &ec2.CreateSubnetOutput{Subnet: &found.Subnets[0]}, nil
			}
		}
		s = must[*ec2.CreateSubnetOutput](t)(s, err)
		subnets = append(subnets, aws.ToString(s.Subnet.SubnetId))
	}
	must[*ec2.CreateSecurityGroupOutput](t)(c.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(vpcID),
		GroupName: aws.String("kaigo-subsys-dr-rds-sg"), Description: aws.String("rds")}))

	t.Run("ec2.verifyNetwork", func(t *testing.T) {
		out, _ := e.twice(t, step("aws.ec2.verifyNetwork", west, map[string]any{"vpcName": "kaigo-subsys-dr-vpc",
			"securityGroups": []any{"kaigo-subsys-dr-rds-sg"}}))
		if out["vpcId"] != vpcID || len(out["subnetIds"].([]any)) != 2 || len(out["securityGroupIds"].([]any)) != 1 {
			t.Fatalf("bad outputs: %v", out)
		}
	})

	t.Run("rds", func(t *testing.T) {
		ctx := testCtx(t)
		must[*rds.CreateDBInstanceOutput](t)(c.RDS.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String("kaigo-subsys-prod"), DBInstanceClass: aws.String("db.r6g.large"),
			Engine: aws.String("postgres"), MasterUsername: aws.String("kaigo"), MasterUserPassword: aws.String("password123"),
			AllocatedStorage: aws.Int32(100)}))
		snap := must[*rds.CreateDBSnapshotOutput](t)(c.RDS.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{
			DBInstanceIdentifier: aws.String("kaigo-subsys-prod"), DBSnapshotIdentifier: aws.String("kaigo-subsys-prod-daily")}))
		count := func() (instances, snapshots int) {
			i := must[*rds.DescribeDBInstancesOutput](t)(c.RDS.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{}))
			s := must[*rds.DescribeDBSnapshotsOutput](t)(c.RDS.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{}))
			return len(i.DBInstances), len(s.DBSnapshots)
		}

		out, _ := e.twice(t, step("aws.rds.restoreSnapshot", west, map[string]any{"instanceId": "kaigo-subsys-dr",
			"sourceInstance": "kaigo-subsys-prod", "instanceClass": "db.r6g.large", "maxAge": "1h"}))
		if out["snapshotId"] != "kaigo-subsys-prod-daily" || out["endpoint"] == "" {
			t.Fatalf("restoreSnapshot outputs: %v", out)
		}
		if n, _ := count(); n != 2 {
			t.Fatalf("%d DB instances after restoring twice, want 2", n)
		}
		// An instance another run restored (say, last quarter's drill) is not adopted: its data
		// is not what this run chose.
		other := step("aws.rds.restoreSnapshot", west, map[string]any{"instanceId": "kaigo-subsys-dr", "sourceInstance": "kaigo-subsys-prod"})
		other.RunID = "run-2"
		_, _, err := e.exec(ctx, other)
		wantErr(t, err, action.ErrGuardRail, "DB instance kaigo-subsys-dr already exists (available) and is not adopted",
			"it was created by run run-1 (step aws-rds-restoreSnapshot), not by this run (run-2)", "it holds the newest snapshot kaigo-subsys-prod-daily")

		out, _ = e.twice(t, step("aws.rds.snapshot", west, map[string]any{"instanceId": "kaigo-subsys-dr",
			"snapshotId": "kaigo-subsys-dr-before-cutback-20251201"}))
		if out["snapshotArn"] == "" {
			t.Fatalf("snapshot outputs: %v", out)
		}
		_, before := count()
		e.twice(t, step("aws.rds.copySnapshot", west, map[string]any{"sourceSnapshotArn": aws.ToString(snap.DBSnapshot.DBSnapshotArn),
			"sourceRegion": west, "targetSnapshotId": "kaigo-subsys-prod-cutback"}))
		if _, n := count(); n != before+1 {
			t.Fatalf("%d snapshots after copying twice, want %d", n, before+1)
		}

		// moto keeps tags, so the rerun reads the restore time the first run chose back from
		// the instance's kirikae:restoreTime tag.
		out, _ = e.twice(t, step("aws.rds.restorePointInTime", west, map[string]any{"sourceInstance": "kaigo-subsys-prod",
			"instanceId": "kaigo-subsys-prod-pitr"}))
		if out["restoreTime"] == "" || out["restoreTime"] == "latest" || out["endpoint"] == "" {
			t.Fatalf("restorePointInTime outputs: %v", out)
		}
		if n, _ := count(); n != 3 {
			t.Fatalf("%d DB instances after restoring to a point in time twice, want 3", n)
		}

		out, _ = e.twice(t, step("aws.rds.stop", west, map[string]any{"instanceId": "kaigo-subsys-dr"}))
		if out["status"] != "stopped" {
			t.Fatalf("stop outputs: %v", out)
		}

		_, _, err = e.exec(ctx, step("aws.rds.delete", west, map[string]any{"instanceId": "kaigo-subsys-prod",
			"finalSnapshotId": "kaigo-subsys-prod-final", "verifiedCopy": "no-such-copy"}))
		wantErr(t, err, action.ErrGuardRail, "verifiedCopy no-such-copy not found")
		e.twice(t, step("aws.rds.delete", west, map[string]any{"instanceId": "kaigo-subsys-prod",
			"finalSnapshotId": "kaigo-subsys-prod-final", "verifiedCopy": "kaigo-subsys-prod-cutback"}))
		if n, _ := count(); n != 2 {
			t.Fatalf("%d DB instances after the delete, want 2", n)
		}
	})

	t.Run("elasticache", func(t *testing.T) {
		ctx := testCtx(t)
		out, _ := e.twice(t, step("aws.elasticache.createReplicationGroup", west, map[string]any{"replicationGroupId": "kaigo-subsys-dr",
			"description": "DR ElastiCache for kaigo subsystem", "nodeType": "cache.r6g.large", "numCacheClusters": 2, "engineVersion": "7.0"}))
		if out["primaryEndpoint"] == "" {
			t.Fatalf("outputs: %v", out)
		}
		groups := must[*elasticache.DescribeReplicationGroupsOutput](t)(c.ElastiCache.DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{}))
		if len(groups.ReplicationGroups) != 1 {
			t.Fatalf("%d replication groups after creating twice, want 1", len(groups.ReplicationGroups))
		}
		// moto never finishes a delete (the group stays "deleting"), so the wait cannot end
		// here; what can be checked is that a second run only waits and deletes nothing.
		api := &countingDeletes{ElastiCacheDeleteAPI: c.ElastiCache}
		ex := &agentaws.ElastiCacheDelete{Client: func(string) (agentaws.ElastiCacheDeleteAPI, error) { return api, nil }, Opts: e.opts}
		for i := 0; i < 2; i++ {
			short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			_, err := ex.Execute(short, step("aws.elasticache.deleteReplicationGroup", west, map[string]any{"replicationGroupId": "kaigo-subsys-dr"}), nil)
			cancel()
			// The waiter's budget is the context's deadline: whichever of the two notices first
			// ends the wait, so either error means the wait timed out.
			if !errors.Is(err, context.DeadlineExceeded) && (err == nil || !strings.Contains(err.Error(), "exceeded max wait time")) {
				t.Fatalf("run %d: want the wait for moto's endless delete to time out, got %v", i+1, err)
			}
		}
		if api.deletes != 1 {
			t.Fatalf("DeleteReplicationGroup called %d times over two runs, want 1", api.deletes)
		}
	})

	t.Run("secretsmanager", func(t *testing.T) {
		ctx := testCtx(t)
		must[*secretsmanager.CreateSecretOutput](t)(c.SecretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String("kaigo-subsys/dr/db-endpoint"), SecretString: aws.String(`{"endpoint":""}`)}))
		e.twice(t, step("aws.secretsmanager.put", west, map[string]any{"secretId": "kaigo-subsys/dr/db-endpoint",
			"json": map[string]any{"endpoint": "kaigo-subsys-dr.example.us-west-2.rds.amazonaws.com"}}))
		v := must[*secretsmanager.ListSecretVersionIdsOutput](t)(c.SecretsManager.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{
			SecretId: aws.String("kaigo-subsys/dr/db-endpoint")}))
		if len(v.Versions) != 2 {
			t.Fatalf("%d secret versions after writing twice, want 2 (the seed's and one)", len(v.Versions))
		}
	})

	t.Run("ecs", func(t *testing.T) {
		ctx := testCtx(t)
		must[*ecs.CreateClusterOutput](t)(c.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("kaigo-subsys-dr")}))
		must[*ecs.RegisterTaskDefinitionOutput](t)(c.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("kaigo-subsys-dr"), ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"),
				Image: aws.String("kaigo-subsys:old"), Memory: aws.Int32(512)}}}))
		must[*ecs.CreateServiceOutput](t)(c.ECS.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("kaigo-subsys-dr"),
			ServiceName: aws.String("kaigo-subsys-dr-service"), TaskDefinition: aws.String("kaigo-subsys-dr:1"), DesiredCount: aws.Int32(0)}))
		out, _ := e.twice(t, step("aws.ecs.registerTaskDefinition", west, map[string]any{"family": "kaigo-subsys-dr",
			"image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/kaigo-subsys:dr", "environment": map[string]any{"MODE": "dr"},
			"secrets": map[string]any{"DB_ENDPOINT": "kaigo-subsys/dr/db-endpoint"}}))
		if out["revision"] != int64(2) {
			t.Fatalf("outputs: %v", out)
		}
		tds := must[*ecs.ListTaskDefinitionsOutput](t)(c.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("kaigo-subsys-dr")}))
		if len(tds.TaskDefinitionArns) != 2 {
			t.Fatalf("%d task definitions after registering twice, want 2", len(tds.TaskDefinitionArns))
		}
		out, _ = e.twice(t, step("aws.ecs.updateService", west, map[string]any{"cluster": "kaigo-subsys-dr",
			"service": "kaigo-subsys-dr-service", "desiredCount": 2, "taskDefinition": "kaigo-subsys-dr"}))
		if out["runningCount"] != int64(2) || out["taskDefinition"] != tds.TaskDefinitionArns[1] {
			t.Fatalf("outputs: %v (task definitions %v)", out, tds.TaskDefinitionArns)
		}
	})

	t.Run("elbv2", func(t *testing.T) {
		ctx := testCtx(t)
		lb := must[*elbv2.CreateLoadBalancerOutput](t)(c.ELBv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
			Name: aws.String("kaigo-subsys-dr-alb"), Subnets: subnets}))
		tg := must[*elbv2.CreateTargetGroupOutput](t)(c.ELBv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
			Name: aws.String("kaigo-subsys-dr"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080),
			VpcId: aws.String(vpcID), TargetType: elbtypes.TargetTypeEnumIp}))
		tgARN := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
		must[*elbv2.CreateListenerOutput](t)(c.ELBv2.CreateListener(ctx, &elbv2.CreateListenerInput{
			LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
			DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}}}))
		must[*elbv2.RegisterTargetsOutput](t)(c.ELBv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tgARN),
			Targets: []elbtypes.TargetDescription{{Id: aws.String("10.20.10.5"), Port: aws.Int32(8080)}, {Id: aws.String("10.20.11.5"), Port: aws.Int32(8080)}}}))
		out, _ := e.twice(t, step("aws.elbv2.waitHealthy", west, map[string]any{"targetGroupName": "kaigo-subsys-dr", "count": 2}))
		if out["healthy"] != int64(2) || out["targetGroupArn"] != tgARN || out["loadBalancerDnsName"] != aws.ToString(lb.LoadBalancers[0].DNSName) {
			t.Fatalf("outputs: %v", out)
		}
	})

	t.Run("route53", func(t *testing.T) {
		ctx := testCtx(t)
		zone := must[*route53.CreateHostedZoneOutput](t)(c.Route53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
			Name: aws.String("kaigo-subsys.example.com"), CallerReference: aws.String("kirikae-test")}))
		zoneID := aws.ToString(zone.HostedZone.Id)
		target := "kaigo-subsys-dr-alb-1234567890.us-west-2.elb.amazonaws.com"
		out1, out2 := e.twice(t, step("aws.route53.upsertAlias", west, map[string]any{"hostedZoneId": zoneID,
			"recordName": "api.kaigo-subsys.example.com", "targetDnsName": target, "targetHostedZoneId": "Z1H1FL5HABSF5"}))
		if out1["changeId"] == "" || out2["changeId"] != out1["changeId"] {
			t.Fatalf("want the one change's id both times: %v then %v", out1, out2)
		}
		recs := must[*route53.ListResourceRecordSetsOutput](t)(c.Route53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)}))
		n := 0
		for _, r := range recs.ResourceRecordSets {
			if aws.ToString(r.Name) == "api.kaigo-subsys.example.com." {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d records for the API name, want 1", n)
		}
	})
}

type countingDeletes struct {
	agentaws.ElastiCacheDeleteAPI
	deletes int
}

func (c *countingDeletes) DeleteReplicationGroup(ctx context.Context, in *elasticache.DeleteReplicationGroupInput, o ...func(*elasticache.Options)) (*elasticache.DeleteReplicationGroupOutput, error) {
	c.deletes++
	return c.ElastiCacheDeleteAPI.DeleteReplicationGroup(ctx, in, o...)
}
