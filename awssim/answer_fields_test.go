package awssim_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/aws-sdk-go-v2/service/health"

	"github.com/kirikae/kirikae/awssim"
)

// The tests here hold awssim's answers to the fields and errors AWS documents where the
// differential suite against moto found them missing or wrong: a replication group's
// settings, EFS's size per storage class, an ECS service's controller, scheduler and
// network, Health's paging, and Backup's status for ResourceNotFoundException. Each cites
// its source in the code it tests.

// wantStatus fails unless err is an HTTP error answered with status.
func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want an HTTP %d error, got %T %v", status, err, err)
	}
	if re.HTTPStatusCode() != status {
		t.Fatalf("HTTP %d, want %d (%v)", re.HTTPStatusCode(), status, err)
	}
}

func TestReplicationGroupSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	c := elasticache.NewFromConfig(e.cfg(west))
	base := func(id string) *elasticache.CreateReplicationGroupInput {
		return &elasticache.CreateReplicationGroupInput{ReplicationGroupId: aws.String(id), ReplicationGroupDescription: aws.String("settings"),
			Engine: aws.String("redis"), CacheNodeType: aws.String("cache.r6g.large"), NumCacheClusters: aws.Int32(2),
			AutomaticFailoverEnabled: aws.Bool(true), CacheSubnetGroupName: aws.String(awssim.KaigoDRCacheSubnets)}
	}

	// Without the settings: AWS's defaults, and a snapshot window ElastiCache chose.
	at := e.clock.Now()
	out := must[*elasticache.CreateReplicationGroupOutput](t)(c.CreateReplicationGroup(ctx(t), base("defaults")))
	g := out.ReplicationGroup
	if aws.ToBool(g.AuthTokenEnabled) || g.DataTiering != ectypes.DataTieringStatusDisabled || g.NetworkType != ectypes.NetworkTypeIpv4 ||
		g.IpDiscovery != ectypes.IpDiscoveryIpv4 || aws.ToInt32(g.SnapshotRetentionLimit) != 0 || aws.ToString(g.SnapshotWindow) == "" {
		t.Fatalf("defaults: AuthTokenEnabled %v DataTiering %q NetworkType %q IpDiscovery %q SnapshotRetentionLimit %v SnapshotWindow %q",
			aws.ToBool(g.AuthTokenEnabled), g.DataTiering, g.NetworkType, g.IpDiscovery, aws.ToInt32(g.SnapshotRetentionLimit), aws.ToString(g.SnapshotWindow))
	}
	if g.ReplicationGroupCreateTime == nil || g.ReplicationGroupCreateTime.Before(at) || g.ReplicationGroupCreateTime.After(at.Add(time.Second)) {
		t.Fatalf("ReplicationGroupCreateTime %v, want the time of the create, %v", g.ReplicationGroupCreateTime, at)
	}

	// With them: what the create asked for, on every later answer too.
	in := base("settings")
	in.AuthToken, in.TransitEncryptionEnabled = aws.String("a-strong-token-0123456789"), aws.Bool(true)
	in.SnapshotRetentionLimit, in.SnapshotWindow = aws.Int32(7), aws.String("03:00-04:00")
	in.NetworkType, in.IpDiscovery = ectypes.NetworkTypeIpv4, ectypes.IpDiscoveryIpv4
	must[*elasticache.CreateReplicationGroupOutput](t)(c.CreateReplicationGroup(ctx(t), in))
	e.clock.Advance(time.Hour)
	d := must[*elasticache.DescribeReplicationGroupsOutput](t)(c.DescribeReplicationGroups(ctx(t),
		&elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("settings")}))
	g = &d.ReplicationGroups[0]
	if !aws.ToBool(g.AuthTokenEnabled) || aws.ToInt32(g.SnapshotRetentionLimit) != 7 || aws.ToString(g.SnapshotWindow) != "03:00-04:00" {
		t.Fatalf("settings: AuthTokenEnabled %v SnapshotRetentionLimit %v SnapshotWindow %q", aws.ToBool(g.AuthTokenEnabled),
			aws.ToInt32(g.SnapshotRetentionLimit), aws.ToString(g.SnapshotWindow))
	}

	// The fixture's production group has the defaults and the fixture's creation time.
	prod := must[*elasticache.DescribeReplicationGroupsOutput](t)(elasticache.NewFromConfig(e.cfg(east)).DescribeReplicationGroups(ctx(t),
		&elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("kaigo-subsys-prod")})).ReplicationGroups[0]
	if prod.ReplicationGroupCreateTime == nil || !prod.ReplicationGroupCreateTime.Before(at) || aws.ToString(prod.SnapshotWindow) == "" {
		t.Fatalf("production group: ReplicationGroupCreateTime %v SnapshotWindow %q", prod.ReplicationGroupCreateTime, aws.ToString(prod.SnapshotWindow))
	}

	// What ElastiCache refuses, each refused before anything is created.
	before := len(e.sim.Journal())
	for _, b := range []struct {
		name, code string
		edit       func(*elasticache.CreateReplicationGroupInput)
	}{
		{"a retention past 35 days", "InvalidParameterValue", func(in *elasticache.CreateReplicationGroupInput) { in.SnapshotRetentionLimit = aws.Int32(36) }},
		{"a window that is not hh24:mi-hh24:mi", "InvalidParameterValue", func(in *elasticache.CreateReplicationGroupInput) { in.SnapshotWindow = aws.String("5-9") }},
		{"a short AuthToken", "InvalidParameterValue", func(in *elasticache.CreateReplicationGroupInput) { in.AuthToken = aws.String("short") }},
		{"an AuthToken without transit encryption", "InvalidParameterCombination", func(in *elasticache.CreateReplicationGroupInput) {
			in.AuthToken, in.TransitEncryptionEnabled = aws.String("a-strong-token-0123456789"), aws.Bool(false)
		}},
		{"data tiering on r6g", "InvalidParameterCombination", func(in *elasticache.CreateReplicationGroupInput) { in.DataTieringEnabled = aws.Bool(true) }},
		{"r6gd without data tiering", "InvalidParameterCombination", func(in *elasticache.CreateReplicationGroupInput) {
			in.CacheNodeType = aws.String("cache.r6gd.xlarge")
		}},
		{"an IPv6 network on IPv4 subnets", "InvalidParameterCombination", func(in *elasticache.CreateReplicationGroupInput) { in.NetworkType = ectypes.NetworkTypeIpv6 }},
		{"an unknown network type", "InvalidParameterValue", func(in *elasticache.CreateReplicationGroupInput) { in.NetworkType = "ipv5" }},
	} {
		in := base("refused")
		b.edit(in)
		_, err := c.CreateReplicationGroup(ctx(t), in)
		if err == nil {
			t.Fatalf("%s: created", b.name)
		}
		wantCode(t, err, b.code)
	}
	unchanged(t, e, before, "a refused CreateReplicationGroup")

	// r6gd with data tiering is what AWS requires, and says so.
	in = base("tiered")
	in.CacheNodeType, in.DataTieringEnabled = aws.String("cache.r6gd.xlarge"), aws.Bool(true)
	if g := must[*elasticache.CreateReplicationGroupOutput](t)(c.CreateReplicationGroup(ctx(t), in)).ReplicationGroup; g.DataTiering != ectypes.DataTieringStatusEnabled {
		t.Fatalf("r6gd with DataTieringEnabled: DataTiering %q", g.DataTiering)
	}
}

func TestEFSSizePerStorageClass(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	out := must[*efs.DescribeFileSystemsOutput](t)(efs.NewFromConfig(e.cfg(east)).DescribeFileSystems(ctx(t), &efs.DescribeFileSystemsInput{}))
	if len(out.FileSystems) == 0 {
		t.Fatal("no file system in us-east-1")
	}
	for _, fs := range out.FileSystems {
		sz := fs.SizeInBytes
		if sz == nil || sz.ValueInIA == nil || sz.ValueInStandard == nil || *sz.ValueInIA+*sz.ValueInStandard != sz.Value {
			t.Fatalf("%s: SizeInBytes %+v, want ValueInIA and ValueInStandard adding up to Value", aws.ToString(fs.FileSystemId), sz)
		}
	}
}

func TestECSServiceShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	c := ecs.NewFromConfig(e.cfg(west))
	out := must[*ecs.UpdateServiceOutput](t)(c.UpdateService(ctx(t), &ecs.UpdateServiceInput{Cluster: aws.String(awssim.KaigoDRCluster),
		Service: aws.String(awssim.KaigoDRService), DesiredCount: aws.Int32(2), ForceNewDeployment: true}))
	s := out.Service
	if s.DeploymentController == nil || s.DeploymentController.Type != "ECS" || s.SchedulingStrategy != "REPLICA" || s.PropagateTags != "NONE" {
		t.Fatalf("deploymentController %+v schedulingStrategy %q propagateTags %q", s.DeploymentController, s.SchedulingStrategy, s.PropagateTags)
	}
	// The DR service runs in the DR VPC's subnets with its ECS security group.
	sgs := must[*ec2.DescribeSecurityGroupsOutput](t)(ec2.NewFromConfig(e.cfg(west)).DescribeSecurityGroups(ctx(t), &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{awssim.KaigoDRCluster + "-ecs-sg"}}}}))
	if len(sgs.SecurityGroups) != 1 {
		t.Fatalf("%d security groups named %s-ecs-sg", len(sgs.SecurityGroups), awssim.KaigoDRCluster)
	}
	subnets := must[*ec2.DescribeSubnetsOutput](t)(ec2.NewFromConfig(e.cfg(west)).DescribeSubnets(ctx(t), &ec2.DescribeSubnetsInput{
		Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{aws.ToString(sgs.SecurityGroups[0].VpcId)}}}}))
	checkNet := func(what string, n *ecstypes.NetworkConfiguration) {
		t.Helper()
		if n == nil || n.AwsvpcConfiguration == nil {
			t.Fatalf("%s: no awsvpcConfiguration", what)
		}
		v := n.AwsvpcConfiguration
		if len(v.SecurityGroups) != 1 || v.SecurityGroups[0] != aws.ToString(sgs.SecurityGroups[0].GroupId) ||
			len(v.Subnets) != len(subnets.Subnets) || len(v.Subnets) == 0 || v.AssignPublicIp != "DISABLED" {
			t.Fatalf("%s: awsvpcConfiguration %+v, want the %d subnets of the DR VPC and security group %s, no public IP", what, v,
				len(subnets.Subnets), aws.ToString(sgs.SecurityGroups[0].GroupId))
		}
	}
	checkNet("service", s.NetworkConfiguration)
	if len(s.Deployments) != 2 {
		t.Fatalf("%d deployments during a forced deployment, want PRIMARY and ACTIVE", len(s.Deployments))
	}
	for _, d := range s.Deployments {
		checkNet("deployment "+aws.ToString(d.Status), d.NetworkConfiguration)
		reason := aws.ToString(d.RolloutStateReason)
		if aws.ToString(d.PlatformFamily) == "" || !strings.HasPrefix(reason, "ECS deployment "+aws.ToString(d.Id)+" ") {
			t.Fatalf("deployment %s: platformFamily %q rolloutStateReason %q", aws.ToString(d.Id), aws.ToString(d.PlatformFamily), reason)
		}
	}
	if r := aws.ToString(s.Deployments[0].RolloutStateReason); !strings.HasSuffix(r, " in progress.") {
		t.Fatalf("the new PRIMARY deployment: rolloutStateReason %q, want it in progress", r)
	}
	e.clock.Advance(2 * time.Hour)
	d := must[*ecs.DescribeServicesOutput](t)(c.DescribeServices(ctx(t), &ecs.DescribeServicesInput{Cluster: aws.String(awssim.KaigoDRCluster),
		Services: []string{awssim.KaigoDRService}}))
	if r := aws.ToString(d.Services[0].Deployments[0].RolloutStateReason); !strings.HasSuffix(r, " completed.") {
		t.Fatalf("the deployment two hours later: rolloutStateReason %q, want it completed", r)
	}
}

func TestHealthPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	var arns []string
	for i := 0; i < 3; i++ {
		arns = append(arns, e.sim.OpenHealthEvent(awssim.HealthEvent{Region: east}))
		e.clock.Advance(time.Minute)
	}
	h := health.NewFromConfig(e.cfg(east))
	var seen []string
	in := &health.DescribeEventsInput{MaxResults: aws.Int32(1)}
	for page := 0; ; page++ {
		if page > 3 {
			t.Fatalf("more than 3 pages of 1 for 3 events: %v", seen)
		}
		out := must[*health.DescribeEventsOutput](t)(h.DescribeEvents(ctx(t), in))
		for _, ev := range out.Events {
			seen = append(seen, aws.ToString(ev.Arn))
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	// Newest first, each once.
	if len(seen) != 3 || seen[0] != arns[2] || seen[1] != arns[1] || seen[2] != arns[0] {
		t.Fatalf("pages gave %v, want %v newest first", seen, arns)
	}
	_, err := h.DescribeEvents(ctx(t), &health.DescribeEventsInput{NextToken: aws.String("not-a-token-health-issued")})
	wantCode(t, err, "InvalidPaginationToken")
	wantStatus(t, err, http.StatusBadRequest)
	_, err = h.DescribeEvents(ctx(t), &health.DescribeEventsInput{MaxResults: aws.Int32(101)})
	wantCode(t, err, "ValidationException")
}

func TestBackupNotFoundIs400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	b := backup.NewFromConfig(e.cfg(west))
	_, err := b.ListRecoveryPointsByBackupVault(ctx(t), &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("no-such-vault")})
	wantCode(t, err, "ResourceNotFoundException")
	wantStatus(t, err, http.StatusBadRequest)
	_, err = b.DescribeRestoreJob(ctx(t), &backup.DescribeRestoreJobInput{RestoreJobId: aws.String("no-such-job")})
	wantCode(t, err, "ResourceNotFoundException")
	wantStatus(t, err, http.StatusBadRequest)
}
