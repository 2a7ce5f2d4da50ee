package awssim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	efstypes "github.com/aws/aws-sdk-go-v2/service/efs/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/kirikae/kirikae/awssim"
)

const motoServer = "/root/.pyenv/shims/moto_server"

// startMoto runs moto_server on a free loopback port until the test ends.
func startMoto(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("moto_server")
	if err != nil {
		path = motoServer
	}
	requireTool(t, path, "pip install 'moto[server]'")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the shim execs python; kill the whole group
	cmd.Env = append(os.Environ(), "MOTO_ALLOW_NONEXISTENT_REGION=true")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer on %s within 30 s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond) // polling for readiness with a deadline
	}
}

// outcome reduces a call's result to what both emulators must agree on: "ok" or the code.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "error: " + err.Error()
}

// The givens below build in moto, through the SDK, the parts of the kaigo fixture (see
// fixture.go) that the differential steps read: the same names, settings, tags and counts,
// so that what differs is the emulator, not the world. moto makes its own ids.

func kaigoEnv(region string) (env, cidr16 string) {
	if region == west {
		return "dr", "10.20"
	}
	return "prod", "10.10"
}

// givenNetwork builds region's VPC as kaigoNetwork does: three private subnets and five
// security groups. givenRoutes adds its route tables.
func givenNetwork(region string) given {
	return func(d *diffRun) {
		env, cidr := kaigoEnv(region)
		c := ec2.NewFromConfig(d.cfg(region))
		vpc := aws.ToString(need[*ec2.CreateVpcOutput](d, "vpc")(c.CreateVpc(d.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr + ".0.0/16"),
			TagSpecifications: kaigoSpec(ec2types.ResourceTypeVpc, env, "kaigo-subsys-"+env+"-vpc")})).Vpc.VpcId)
		var subnets []string
		for i, az := range []string{"a", "c", "d"} {
			s := need[*ec2.CreateSubnetOutput](d, "subnet")(c.CreateSubnet(d.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc),
				CidrBlock: aws.String(fmt.Sprintf("%s.%d.0/24", cidr, 10+i)), AvailabilityZone: aws.String(region + az),
				TagSpecifications: kaigoSpec(ec2types.ResourceTypeSubnet, env, fmt.Sprintf("kaigo-subsys-%s-private-%s", env, az))}))
			subnets = append(subnets, aws.ToString(s.Subnet.SubnetId))
		}
		for _, role := range []string{"alb", "ecs", "rds", "elasticache", "efs"} {
			name := fmt.Sprintf("kaigo-subsys-%s-%s-sg", env, role)
			sg := need[*ec2.CreateSecurityGroupOutput](d, "security group")(c.CreateSecurityGroup(d.ctx, &ec2.CreateSecurityGroupInput{
				VpcId: aws.String(vpc), GroupName: aws.String(name), Description: aws.String(name),
				TagSpecifications: kaigoSpec(ec2types.ResourceTypeSecurityGroup, env, name)}))
			d.set("sg:"+region+":"+role, aws.ToString(sg.GroupId))
		}
		d.set("vpc:"+region, vpc)
		d.set("subnets:"+region, strings.Join(subnets, ","))
	}
}

// givenRoutes is the fixture's public route table (to an internet gateway) and private one
// (to a NAT gateway, on the three subnets) in region's VPC.
func givenRoutes(region string) given {
	return func(d *diffRun) {
		env, _ := kaigoEnv(region)
		c := ec2.NewFromConfig(d.cfg(region))
		vpc, subnets := d.get("vpc:"+region), strings.Split(d.get("subnets:"+region), ",")
		igw := need[*ec2.CreateInternetGatewayOutput](d, "internet gateway")(c.CreateInternetGateway(d.ctx, &ec2.CreateInternetGatewayInput{}))
		need[*ec2.AttachInternetGatewayOutput](d, "attach internet gateway")(c.AttachInternetGateway(d.ctx, &ec2.AttachInternetGatewayInput{
			InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: aws.String(vpc)}))
		eip := need[*ec2.AllocateAddressOutput](d, "address")(c.AllocateAddress(d.ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc}))
		nat := need[*ec2.CreateNatGatewayOutput](d, "NAT gateway")(c.CreateNatGateway(d.ctx, &ec2.CreateNatGatewayInput{
			SubnetId: aws.String(subnets[0]), AllocationId: eip.AllocationId}))
		for _, rt := range []struct {
			name string
			nat  bool
		}{{"public", false}, {"private", true}} {
			tbl := need[*ec2.CreateRouteTableOutput](d, "route table")(c.CreateRouteTable(d.ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpc),
				TagSpecifications: kaigoSpec(ec2types.ResourceTypeRouteTable, env, "kaigo-subsys-"+env+"-"+rt.name+"-rt")}))
			route := &ec2.CreateRouteInput{RouteTableId: tbl.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0")}
			if rt.nat {
				route.NatGatewayId = nat.NatGateway.NatGatewayId
			} else {
				route.GatewayId = igw.InternetGateway.InternetGatewayId
			}
			need[*ec2.CreateRouteOutput](d, "route")(c.CreateRoute(d.ctx, route))
			if rt.nat {
				for _, s := range subnets {
					need[*ec2.AssociateRouteTableOutput](d, "route table association")(c.AssociateRouteTable(d.ctx, &ec2.AssociateRouteTableInput{
						RouteTableId: tbl.RouteTable.RouteTableId, SubnetId: aws.String(s)}))
				}
			}
		}
	}
}

func kaigoSpec(rt ec2types.ResourceType, env, name string) []ec2types.TagSpecification {
	return []ec2types.TagSpecification{{ResourceType: rt, Tags: []ec2types.Tag{
		{Key: aws.String("Environment"), Value: aws.String(env)}, {Key: aws.String("Name"), Value: aws.String(name)}}}}
}

// givenDBGroups is the RDS side of the network: the parameter group in both regions and each
// region's DB subnet group.
func givenDBGroups(d *diffRun) {
	for _, region := range []string{east, west} {
		env, _ := kaigoEnv(region)
		c := rds.NewFromConfig(d.cfg(region))
		need[*rds.CreateDBParameterGroupOutput](d, "parameter group")(c.CreateDBParameterGroup(d.ctx, &rds.CreateDBParameterGroupInput{
			DBParameterGroupName: aws.String("kaigo-subsys-postgres15"), DBParameterGroupFamily: aws.String("postgres15"),
			Description: aws.String("kaigo-subsys PostgreSQL parameters")}))
		name := "kaigo-subsys-" + env + "-db-subnet-group"
		need[*rds.CreateDBSubnetGroupOutput](d, "DB subnet group")(c.CreateDBSubnetGroup(d.ctx, &rds.CreateDBSubnetGroupInput{
			DBSubnetGroupName: aws.String(name), DBSubnetGroupDescription: aws.String(name), SubnetIds: strings.Split(d.get("subnets:"+region), ",")}))
	}
}

// givenProdDB is kaigo-subsys-prod in us-east-1, as the fixture has it.
func givenProdDB(d *diffRun) {
	c := rds.NewFromConfig(d.cfg(east))
	need[*rds.CreateDBInstanceOutput](d, "DB instance")(c.CreateDBInstance(d.ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), DBInstanceClass: aws.String("db.r6g.large"),
		Engine: aws.String("postgres"), EngineVersion: aws.String("15.4"), MasterUsername: aws.String("kaigo"),
		MasterUserPassword: aws.String("password123"), AllocatedStorage: aws.Int32(100), MultiAZ: aws.Bool(true),
		DBSubnetGroupName: aws.String("kaigo-subsys-prod-db-subnet-group"), VpcSecurityGroupIds: []string{d.get("sg:" + east + ":rds")},
		DBParameterGroupName: aws.String("kaigo-subsys-postgres15"), BackupRetentionPeriod: aws.Int32(30),
		StorageEncrypted: aws.Bool(true), StorageType: aws.String("gp3"), PubliclyAccessible: aws.Bool(false)}))
}

// givenSnapshots takes seven snapshots of the production database and copies them to
// us-west-2, as the fixture's daily snapshots and their copies. moto cannot make automated
// snapshots, so these are manual ones with ids of their own.
func givenSnapshots(d *diffRun) {
	e, w := rds.NewFromConfig(d.cfg(east)), rds.NewFromConfig(d.cfg(west))
	for i := 0; i < 7; i++ {
		id := fmt.Sprintf("%s-daily-%d", awssim.KaigoProdInstance, i)
		s := need[*rds.CreateDBSnapshotOutput](d, "snapshot")(e.CreateDBSnapshot(d.ctx, &rds.CreateDBSnapshotInput{
			DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), DBSnapshotIdentifier: aws.String(id)}))
		need[*rds.CopyDBSnapshotOutput](d, "snapshot copy")(w.CopyDBSnapshot(d.ctx, &rds.CopyDBSnapshotInput{
			SourceDBSnapshotIdentifier: s.DBSnapshot.DBSnapshotArn, TargetDBSnapshotIdentifier: aws.String(id),
			KmsKeyId: aws.String(d.get("kms:" + west)), SourceRegion: aws.String(east)}))
	}
}

// givenKMSKey is a KMS key in region (the fixture's DR key): moto checks that the key a
// cross-region snapshot copy names exists, as RDS does. The call is made by hand in
// awsJson1_1. The key has no description, as awssim keeps none.
func givenKMSKey(region string) given {
	return func(d *diffRun) {
		body := []byte(`{}`)
		req, _ := http.NewRequestWithContext(d.ctx, http.MethodPost, d.endpoint+"/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "TrentService.CreateKey")
		resp := d.signed("kms", region, req, body)
		defer resp.Body.Close()
		var out struct{ KeyMetadata struct{ Arn string } }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.KeyMetadata.Arn == "" {
			d.t.Fatalf("moto setup: KMS key: HTTP %d, %v", resp.StatusCode, err)
		}
		d.set("kms:"+region, out.KeyMetadata.Arn)
	}
}

// givenProdCache is the production replication group in us-east-1 and both regions' cache
// subnet groups.
func givenProdCache(d *diffRun) {
	for _, region := range []string{east, west} {
		env, _ := kaigoEnv(region)
		c := elasticache.NewFromConfig(d.cfg(region))
		name := "kaigo-subsys-" + env + "-cache-subnet-group"
		need[*elasticache.CreateCacheSubnetGroupOutput](d, "cache subnet group")(c.CreateCacheSubnetGroup(d.ctx, &elasticache.CreateCacheSubnetGroupInput{
			CacheSubnetGroupName: aws.String(name), CacheSubnetGroupDescription: aws.String(name), SubnetIds: strings.Split(d.get("subnets:"+region), ",")}))
	}
	c := elasticache.NewFromConfig(d.cfg(east))
	need[*elasticache.CreateReplicationGroupOutput](d, "replication group")(c.CreateReplicationGroup(d.ctx, &elasticache.CreateReplicationGroupInput{
		ReplicationGroupId: aws.String("kaigo-subsys-prod"), ReplicationGroupDescription: aws.String("Production ElastiCache for kaigo subsystem"),
		CacheNodeType: aws.String("cache.r6g.large"), Engine: aws.String("redis"), EngineVersion: aws.String("7.0"), NumCacheClusters: aws.Int32(2),
		AutomaticFailoverEnabled: aws.Bool(true), CacheSubnetGroupName: aws.String("kaigo-subsys-prod-cache-subnet-group"),
		AtRestEncryptionEnabled: aws.Bool(true), TransitEncryptionEnabled: aws.Bool(true)}))
}

// givenProdFS is the production EFS file system.
func givenProdFS(d *diffRun) {
	c := efs.NewFromConfig(d.cfg(east))
	fs := need[*efs.CreateFileSystemOutput](d, "file system")(c.CreateFileSystem(d.ctx, &efs.CreateFileSystemInput{
		CreationToken: aws.String("kaigo-subsys-prod-efs"), PerformanceMode: efstypes.PerformanceModeGeneralPurpose,
		ThroughputMode: efstypes.ThroughputModeBursting, Encrypted: aws.Bool(true),
		Tags: []efstypes.Tag{{Key: aws.String("Name"), Value: aws.String("kaigo-subsys-prod-efs")}, {Key: aws.String("Environment"), Value: aws.String("prod")}}}))
	d.set("fs:prod", aws.ToString(fs.FileSystemId))
}

// givenALB is region's ALB and target group (ip targets on 8080, /health), with a listener.
func givenALB(region string) given {
	return func(d *diffRun) {
		env, _ := kaigoEnv(region)
		c := elbv2.NewFromConfig(d.cfg(region))
		lb := need[*elbv2.CreateLoadBalancerOutput](d, "load balancer")(c.CreateLoadBalancer(d.ctx, &elbv2.CreateLoadBalancerInput{
			Name: aws.String("kaigo-subsys-" + env + "-alb"), Subnets: strings.Split(d.get("subnets:"+region), ","),
			SecurityGroups: []string{d.get("sg:" + region + ":alb")}, Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing,
			Type: elbtypes.LoadBalancerTypeEnumApplication, IpAddressType: elbtypes.IpAddressTypeIpv4,
			Tags: []elbtypes.Tag{{Key: aws.String("Name"), Value: aws.String("kaigo-subsys-" + env + "-alb")}, {Key: aws.String("Environment"), Value: aws.String(env)}}}))
		lbARN := lb.LoadBalancers[0].LoadBalancerArn
		tgName := "kaigo-subsys-" + env
		tg := need[*elbv2.CreateTargetGroupOutput](d, "target group")(c.CreateTargetGroup(d.ctx, &elbv2.CreateTargetGroupInput{
			Name: aws.String(tgName), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: aws.String(d.get("vpc:" + region)),
			HealthCheckProtocol: elbtypes.ProtocolEnumHttp, HealthCheckPort: aws.String("traffic-port"), HealthCheckEnabled: aws.Bool(true),
			HealthCheckPath: aws.String("/health"), HealthCheckIntervalSeconds: aws.Int32(30), HealthCheckTimeoutSeconds: aws.Int32(5),
			HealthyThresholdCount: aws.Int32(5), UnhealthyThresholdCount: aws.Int32(2), Matcher: &elbtypes.Matcher{HttpCode: aws.String("200")},
			TargetType: elbtypes.TargetTypeEnumIp, IpAddressType: elbtypes.TargetGroupIpAddressTypeEnumIpv4,
			Tags: []elbtypes.Tag{{Key: aws.String("Name"), Value: aws.String(tgName)}, {Key: aws.String("Environment"), Value: aws.String(env)}}}))
		need[*elbv2.CreateListenerOutput](d, "listener")(c.CreateListener(d.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lbARN,
			Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward,
				TargetGroupArn: tg.TargetGroups[0].TargetGroupArn}}}))
		d.set("tg:"+region, aws.ToString(tg.TargetGroups[0].TargetGroupArn))
		d.set("albdns:"+region, aws.ToString(lb.LoadBalancers[0].DNSName))
		d.set("albzone:"+region, aws.ToString(lb.LoadBalancers[0].CanonicalHostedZoneId))
	}
}

// givenECS is region's cluster, its task definition (revision 1) and its service behind the
// target group: 2 tasks in production, 0 in DR. In production moto's tasks are registered
// as the ALB's targets, as ECS registers them.
func givenECS(region string) given {
	return func(d *diffRun) {
		env, _ := kaigoEnv(region)
		c := ecs.NewFromConfig(d.cfg(region))
		cluster := "kaigo-subsys-" + env
		envTag := []ecstypes.Tag{{Key: aws.String("Environment"), Value: aws.String(env)}}
		need[*ecs.CreateClusterOutput](d, "cluster")(c.CreateCluster(d.ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster), Tags: envTag}))
		td := need[*ecs.RegisterTaskDefinitionOutput](d, "task definition")(c.RegisterTaskDefinition(d.ctx, kaigoTaskDef(region, cluster)))
		tasks := int32(0)
		if env == "prod" {
			tasks = 2
		}
		need[*ecs.CreateServiceOutput](d, "service")(c.CreateService(d.ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster),
			ServiceName: aws.String(cluster + "-service"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(tasks),
			LaunchType: ecstypes.LaunchTypeFargate, LoadBalancers: []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(d.get("tg:" + region)),
				ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
			NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
				Subnets: strings.Split(d.get("subnets:"+region), ","), SecurityGroups: []string{d.get("sg:" + region + ":ecs")}}}}))
		if tasks > 0 {
			lb := elbv2.NewFromConfig(d.cfg(region))
			need[*elbv2.RegisterTargetsOutput](d, "targets")(lb.RegisterTargets(d.ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(d.get("tg:" + region)),
				Targets: []elbtypes.TargetDescription{{Id: aws.String("10.10.10.100"), Port: aws.Int32(8080)}, {Id: aws.String("10.10.10.101"), Port: aws.Int32(8080)}}}))
		}
	}
}

// givenServiceTags tags region's ECS service as the fixture does. It is a given of its own,
// used only where tags are read: whether UpdateService's answer carries a service's tags is
// not documented, and moto's does.
func givenServiceTags(region string) given {
	return func(d *diffRun) {
		env, _ := kaigoEnv(region)
		c := ecs.NewFromConfig(d.cfg(region))
		sv := need[*ecs.DescribeServicesOutput](d, "service")(c.DescribeServices(d.ctx, &ecs.DescribeServicesInput{
			Cluster: aws.String("kaigo-subsys-" + env), Services: []string{"kaigo-subsys-" + env + "-service"}}))
		if len(sv.Services) != 1 {
			d.t.Fatalf("moto setup: no service to tag")
		}
		need[*ecs.TagResourceOutput](d, "service tags")(c.TagResource(d.ctx, &ecs.TagResourceInput{ResourceArn: sv.Services[0].ServiceArn,
			Tags: []ecstypes.Tag{{Key: aws.String("Environment"), Value: aws.String(env)}}}))
	}
}

// kaigoTaskDef is the fixture's task definition (kaigoTaskDefBody) as an SDK input.
func kaigoTaskDef(region, family string) *ecs.RegisterTaskDefinitionInput {
	env, _ := kaigoEnv(region)
	return &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), Cpu: aws.String("1024"), Memory: aws.String("2048"),
		NetworkMode: ecstypes.NetworkModeAwsvpc, RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"),
			Image: aws.String(awssim.AccountID + ".dkr.ecr." + region + ".amazonaws.com/kaigo-subsys:latest"), Essential: aws.Bool(true),
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080), Protocol: ecstypes.TransportProtocolTcp}},
			Secrets: []ecstypes.Secret{{Name: aws.String("DB_ENDPOINT"), ValueFrom: aws.String("kaigo-subsys/" + env + "/db-endpoint")},
				{Name: aws.String("REDIS_ENDPOINT"), ValueFrom: aws.String("kaigo-subsys/" + env + "/redis-endpoint")}}}}}
}

// givenSecrets are the two endpoint secrets of region, one version each.
func givenSecrets(region string) given {
	return func(d *diffRun) {
		env, _ := kaigoEnv(region)
		c := secretsmanager.NewFromConfig(d.cfg(region))
		for _, name := range []string{"db-endpoint", "redis-endpoint"} {
			need[*secretsmanager.CreateSecretOutput](d, "secret")(c.CreateSecret(d.ctx, &secretsmanager.CreateSecretInput{
				Name: aws.String("kaigo-subsys/" + env + "/" + name), SecretString: aws.String(`{"endpoint":""}`),
				Tags: []smtypes.Tag{{Key: aws.String("Environment"), Value: aws.String(env)}}}))
		}
	}
}

// givenZone is the public hosted zone: the API name aliased to the production ALB, and a
// CNAME. moto makes the zone's NS and SOA records itself, as Route 53 does.
func givenZone(d *diffRun) {
	c := route53.NewFromConfig(d.cfg(east))
	hz := need[*route53.CreateHostedZoneOutput](d, "hosted zone")(c.CreateHostedZone(d.ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("kaigo-subsys.example.com"), CallerReference: aws.String("kaigo-subsys-public-zone")}))
	d.set("zone", aws.ToString(hz.HostedZone.Id))
	need[*route53.CreateHostedZoneOutput](d, "private hosted zone")(c.CreateHostedZone(d.ctx, &route53.CreateHostedZoneInput{
		Name: aws.String(awssim.KaigoPrivateZone), CallerReference: aws.String("kaigo-subsys-private-zone"),
		HostedZoneConfig: &r53types.HostedZoneConfig{Comment: aws.String("kaigo-subsys internal names"), PrivateZone: true},
		VPC:              &r53types.VPC{VPCId: aws.String(d.get("vpc:" + east)), VPCRegion: r53types.VPCRegionUsEast1}}))
	need[*route53.ChangeResourceRecordSetsOutput](d, "records")(c.ChangeResourceRecordSets(d.ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: hz.HostedZone.Id, ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{
			{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String(awssim.KaigoAPIName), Type: r53types.RRTypeA,
				AliasTarget: &r53types.AliasTarget{HostedZoneId: aws.String(d.get("albzone:" + east)), DNSName: aws.String(d.get("albdns:" + east)), EvaluateTargetHealth: true}}},
			{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("status.kaigo-subsys.example.com."), Type: r53types.RRTypeCname,
				TTL: aws.Int64(60), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("status.example.net")}}}},
		}}}))
}

// givenTopics are the four SNS topics.
func givenTopics(d *diffRun) {
	for region, names := range map[string][]string{east: {"kaigo-subsys-prod-critical-alerts", "kaigo-subsys-dr-notifications"},
		west: {"kaigo-subsys-dr-critical-alerts", "kaigo-subsys-dr-notifications"}} {
		c := sns.NewFromConfig(d.cfg(region))
		for _, n := range names {
			need[*sns.CreateTopicOutput](d, "topic")(c.CreateTopic(d.ctx, &sns.CreateTopicInput{Name: aws.String(n)}))
		}
	}
}

// givenVaults are the two Backup vaults, created as a system file's are, with no key of
// their own. moto cannot hold the DR vault's recovery points (it has no recovery points).
func givenVaults(d *diffRun) {
	for _, v := range []struct{ region, name string }{{east, "kaigo-subsys-prod-backup-vault"}, {west, awssim.KaigoDRVault}} {
		need[*backup.CreateBackupVaultOutput](d, "backup vault")(backup.NewFromConfig(d.cfg(v.region)).CreateBackupVault(d.ctx,
			&backup.CreateBackupVaultInput{BackupVaultName: aws.String(v.name)}))
	}
}

// givenBuckets are the backup bucket, replicating to the DR bucket, and the DR bucket.
func givenBuckets(d *diffRun) {
	for _, b := range []struct{ region, name string }{{east, awssim.KaigoProdBucket}, {west, "kaigo-subsys-dr-backups"}} {
		c := s3.NewFromConfig(d.cfg(b.region), func(o *s3.Options) { o.UsePathStyle = true })
		in := &s3.CreateBucketInput{Bucket: aws.String(b.name)}
		if b.region != east {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(b.region)}
		}
		need[*s3.CreateBucketOutput](d, "bucket")(c.CreateBucket(d.ctx, in))
		need[*s3.PutBucketVersioningOutput](d, "versioning")(c.PutBucketVersioning(d.ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b.name),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}))
	}
	c := s3.NewFromConfig(d.cfg(east), func(o *s3.Options) { o.UsePathStyle = true })
	need[*s3.PutBucketReplicationOutput](d, "replication")(c.PutBucketReplication(d.ctx, &s3.PutBucketReplicationInput{Bucket: aws.String(awssim.KaigoProdBucket),
		ReplicationConfiguration: &s3types.ReplicationConfiguration{Role: aws.String("arn:aws:iam::" + awssim.AccountID + ":role/kaigo-subsys-s3-replication"),
			Rules: []s3types.ReplicationRule{{ID: aws.String("kaigo-subsys-dr-replication"), Priority: aws.Int32(1), Status: s3types.ReplicationRuleStatusEnabled,
				Filter:                  &s3types.ReplicationRuleFilter{Prefix: aws.String("")},
				SourceSelectionCriteria: &s3types.SourceSelectionCriteria{SseKmsEncryptedObjects: &s3types.SseKmsEncryptedObjects{Status: s3types.SseKmsEncryptedObjectsStatusEnabled}},
				Destination: &s3types.Destination{Bucket: aws.String("arn:aws:s3:::kaigo-subsys-dr-backups"),
					EncryptionConfiguration: &s3types.EncryptionConfiguration{ReplicaKmsKeyID: aws.String("arn:aws:kms:us-west-2:" + awssim.AccountID + ":key/dr-key-id")}},
				DeleteMarkerReplication: &s3types.DeleteMarkerReplication{Status: s3types.DeleteMarkerReplicationStatusDisabled}}}}}))
}
