package awssim_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	backuptypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kirikae/kirikae/awssim"
	"github.com/kirikae/kirikae/deploy"
	"github.com/kirikae/kirikae/system"
)

// bundledSystem parses a system file of deploy/systems, edited by the replacements
// (old, new, old, new ...) first.
func bundledSystem(t *testing.T, name string, replace ...string) *system.System {
	t.Helper()
	b, err := deploy.System(name)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer(replace...).Replace(string(b))
	sys, err := system.Parse(name, []byte(s))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return sys
}

// newSystemSim serves sys's world for the test's lifetime and returns its URL.
func newSystemSim(t *testing.T, sys *system.System) (*awssim.Sim, string) {
	t.Helper()
	clk := newTickClock(0)
	sim, err := awssim.New(awssim.Options{Credentials: testCreds, System: sys, Now: clk.Now, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("awssim.New: %v", err)
	}
	return sim, newServer(t, sim)
}

// TestLedgerWorld: the world of example-eu.yaml, a system in eu-west-1 and eu-central-1 of
// another account, with no cache and two services behind one ALB, has every resource the
// file names, found by name through the SDK in its region; the public name leads to the
// eu-west-1 ALB and its application; and no other region is served.
func TestLedgerWorld(t *testing.T) {
	t.Parallel()
	sys := bundledSystem(t, "example-eu.yaml")
	sim, url := newSystemSim(t, sys)
	if got := sim.Regions(); !slices.Equal(got, []string{"eu-west-1", "eu-central-1"}) {
		t.Fatalf("Regions() = %v", got)
	}
	if sim.Account() != "210987654321" || sim.SystemName() != "ledger" {
		t.Fatalf("account %s, system %s", sim.Account(), sim.SystemName())
	}
	checkSystemWorld(t, sim, url, sys)

	c := ctx(t)
	id := must[*sts.GetCallerIdentityOutput](t)(sts.NewFromConfig(awsConfig(url, "eu-west-1")).GetCallerIdentity(c, &sts.GetCallerIdentityInput{}))
	if aws.ToString(id.Account) != "210987654321" {
		t.Errorf("GetCallerIdentity account %s", aws.ToString(id.Account))
	}
	_, err := rds.NewFromConfig(awsConfig(url, "us-east-1")).DescribeDBInstances(c, &rds.DescribeDBInstancesInput{})
	wantCode(t, err, "InvalidClientTokenId")
}

// TestThirdRegionPair: the kaigo system moved to ap-northeast-1 and ap-southeast-1 builds
// there, with the same names, and is served there and nowhere else.
func TestThirdRegionPair(t *testing.T) {
	t.Parallel()
	sys := bundledSystem(t, "kaigo.yaml", "us-east-1", "ap-northeast-1", "us-west-2", "ap-southeast-1")
	sim, url := newSystemSim(t, sys)
	if got := sim.Regions(); !slices.Equal(got, []string{"ap-northeast-1", "ap-southeast-1"}) {
		t.Fatalf("Regions() = %v", got)
	}
	checkSystemWorld(t, sim, url, sys)

	c := ctx(t)
	subnets := must[*ec2.DescribeSubnetsOutput](t)(ec2.NewFromConfig(awsConfig(url, "ap-northeast-1")).DescribeSubnets(c, &ec2.DescribeSubnetsInput{
		Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{"kaigo-subsys-prod-private-*"}}}}))
	var zones []string
	for _, s := range subnets.Subnets {
		zones = append(zones, aws.ToString(s.AvailabilityZone))
	}
	sort.Strings(zones)
	if !slices.Equal(zones, []string{"ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"}) {
		t.Errorf("system subnets in %v", zones)
	}
	for _, region := range []string{"us-east-1", "us-west-2"} {
		_, err := ecs.NewFromConfig(awsConfig(url, region)).DescribeClusters(c, &ecs.DescribeClustersInput{Clusters: []string{awssim.KaigoDRCluster}})
		wantCode(t, err, "InvalidClientTokenId")
	}
}

// TestSystemWorldStateRoundTrip: a system world saved to a state file comes back the same
// (the same bytes when written again), with its regions and account, without the system
// being given again.
func TestSystemWorldStateRoundTrip(t *testing.T) {
	t.Parallel()
	sys := bundledSystem(t, "example-eu.yaml")
	path := filepath.Join(t.TempDir(), "world.json")
	clk := newTickClock(0)
	first, err := awssim.New(awssim.Options{Credentials: testCreds, System: sys, Now: clk.Now, StateFile: path})
	if err != nil {
		t.Fatal(err)
	}
	c := ctx(t)
	must[*ecs.UpdateServiceOutput](t)(ecs.NewFromConfig(awsConfig(newServer(t, first), "eu-central-1")).UpdateService(c, &ecs.UpdateServiceInput{
		Cluster: aws.String("ledger-euc1"), Service: aws.String("ledger-api"), DesiredCount: aws.Int32(4)}))
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	again, err := awssim.New(awssim.Options{Now: clk.Now, StateFile: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	if resaved, err := os.ReadFile(path); err != nil || !bytes.Equal(saved, resaved) {
		t.Fatalf("the world written again differs from the one read (%v)", err)
	}

	second, err := awssim.New(awssim.Options{Now: clk.Now, StateFile: path})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(second.Regions(), []string{"eu-west-1", "eu-central-1"}) || second.Account() != "210987654321" || second.SystemName() != "ledger" {
		t.Fatalf("after a restart: regions %v, account %s, system %s", second.Regions(), second.Account(), second.SystemName())
	}
	url := newServer(t, second)
	clk.Advance(time.Hour)
	ds := must[*ecs.DescribeServicesOutput](t)(ecs.NewFromConfig(awsConfig(url, "eu-central-1")).DescribeServices(c, &ecs.DescribeServicesInput{
		Cluster: aws.String("ledger-euc1"), Services: []string{"ledger-api"}}))
	if len(ds.Services) != 1 || ds.Services[0].DesiredCount != 4 || ds.Services[0].RunningCount != 4 ||
		!strings.Contains(aws.ToString(ds.Services[0].ServiceArn), ":210987654321:") {
		t.Fatalf("after a restart: %+v", ds.Services)
	}
	_, err = ecs.NewFromConfig(awsConfig(url, "us-west-2")).DescribeClusters(c, &ecs.DescribeClustersInput{})
	wantCode(t, err, "InvalidClientTokenId")
}

// checkSystemWorld looks up, through the SDK in its region, every resource the system file
// names, by the name it gives, and checks what the file says of it. In the secondary, the
// database and the cache are what a failover makes: they must not be there yet, and
// restoring the database from the newest snapshot copy and creating the cache with the
// file's names (subnet groups, parameter and option groups, security group) must work.
// Then the public name must lead to the primary's ALB and its application.
func checkSystemWorld(t *testing.T, sim *awssim.Sim, url string, sys *system.System) {
	t.Helper()
	c := ctx(t)
	albs := map[string]string{} // region → DNS name of the system's ALB
	for _, r := range sys.Regions {
		cfg := awsConfig(url, r.Name)
		primary := r.Role == system.Primary
		where := string(r.Role) + " " + r.Name
		vpc := ""
		if out := must[*ec2.DescribeVpcsOutput](t)(ec2.NewFromConfig(cfg).DescribeVpcs(c, &ec2.DescribeVpcsInput{
			Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{r.Network.VPC}}}})); len(out.Vpcs) == 1 {
			vpc = aws.ToString(out.Vpcs[0].VpcId)
		}
		kinds := map[string]int{}
		for _, res := range r.Resources() {
			kinds[res.Kind]++
			t.Run(where+"/"+res.Kind+"/"+res.Name, func(t *testing.T) {
				if !lookup(t, c, cfg, sys, r, res, vpc, sim.Now()) {
					t.Errorf("%s %s (%s) not found in %s", res.Kind, res.Name, res.Path, r.Name)
				}
			})
		}
		if kinds[system.KindVPC] != 1 || kinds[system.KindECSService] != len(r.ECS.Services) {
			t.Errorf("%s: Resources() listed %v", where, kinds)
		}
		lb := must[*elbv2.DescribeLoadBalancersOutput](t)(elbv2.NewFromConfig(cfg).DescribeLoadBalancers(c, &elbv2.DescribeLoadBalancersInput{
			Names: []string{r.LoadBalancer.Name}}))
		albs[r.Name] = aws.ToString(lb.LoadBalancers[0].DNSName)
		if !primary {
			continue
		}
		zone := must[*route53.ListHostedZonesByNameOutput](t)(route53.NewFromConfig(cfg).ListHostedZonesByName(c, &route53.ListHostedZonesByNameInput{
			DNSName: aws.String(sys.DNS.Zone)}))
		if len(zone.HostedZones) == 0 || aws.ToString(zone.HostedZones[0].Name) != sys.DNS.Zone+"." {
			t.Fatalf("no public zone %s: %+v", sys.DNS.Zone, zone.HostedZones)
		}
		rrs := must[*route53.ListResourceRecordSetsOutput](t)(route53.NewFromConfig(cfg).ListResourceRecordSets(c, &route53.ListResourceRecordSetsInput{
			HostedZoneId: zone.HostedZones[0].Id, StartRecordName: aws.String(sys.DNS.Record), StartRecordType: "A"}))
		rec := rrs.ResourceRecordSets[0]
		if aws.ToString(rec.Name) != sys.DNS.Record+"." || rec.AliasTarget == nil ||
			aws.ToString(rec.AliasTarget.DNSName) != albs[r.Name]+"." ||
			aws.ToString(rec.AliasTarget.HostedZoneId) != aws.ToString(lb.LoadBalancers[0].CanonicalHostedZoneId) {
			t.Errorf("%s is not an alias to the %s ALB %s: %+v", sys.DNS.Record, r.Name, albs[r.Name], rec)
		}
		resp, err := http.Get(url + "/_app/dns/" + sys.DNS.Record + "/health")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get(awssim.AppRegionHeader) != r.Name {
			t.Errorf("the application by its public name: %d from %q, want 200 from %s", resp.StatusCode, resp.Header.Get(awssim.AppRegionHeader), r.Name)
		}
	}
}

// lookup finds one resource of region r by its name, and checks what the file says of it.
func lookup(t *testing.T, c context.Context, cfg aws.Config, sys *system.System, r *system.Region, res system.Resource, vpc string, now time.Time) bool {
	t.Helper()
	primary := r.Role == system.Primary
	account := sys.Account
	if account == "" {
		account = awssim.AccountID
	}
	db := r.Database
	switch res.Kind {
	case system.KindVPC:
		return vpc != ""
	case system.KindSecurityGroup:
		out := must[*ec2.DescribeSecurityGroupsOutput](t)(ec2.NewFromConfig(cfg).DescribeSecurityGroups(c, &ec2.DescribeSecurityGroupsInput{
			Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{res.Name}}, {Name: aws.String("vpc-id"), Values: []string{vpc}}}}))
		return len(out.SecurityGroups) == 1 && aws.ToString(out.SecurityGroups[0].OwnerId) == account
	case system.KindDBSubnetGroup:
		out := must[*rds.DescribeDBSubnetGroupsOutput](t)(rds.NewFromConfig(cfg).DescribeDBSubnetGroups(c, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String(res.Name)}))
		zones := map[string]bool{}
		for _, s := range out.DBSubnetGroups[0].Subnets {
			zones[aws.ToString(s.SubnetAvailabilityZone.Name)] = true
		}
		if len(zones) < 2 || aws.ToString(out.DBSubnetGroups[0].VpcId) != vpc {
			t.Errorf("DB subnet group %s: VPC %s, zones %v", res.Name, aws.ToString(out.DBSubnetGroups[0].VpcId), zones)
		}
		return true
	case system.KindDBParameterGroup:
		out := must[*rds.DescribeDBParameterGroupsOutput](t)(rds.NewFromConfig(cfg).DescribeDBParameterGroups(c, &rds.DescribeDBParameterGroupsInput{DBParameterGroupName: aws.String(res.Name)}))
		if f := aws.ToString(out.DBParameterGroups[0].DBParameterGroupFamily); !strings.HasPrefix(f, db.Engine) {
			t.Errorf("parameter group %s of family %s, not of %s", res.Name, f, db.Engine)
		}
		return true
	case system.KindDBOptionGroup:
		out := must[*rds.DescribeOptionGroupsOutput](t)(rds.NewFromConfig(cfg).DescribeOptionGroups(c, &rds.DescribeOptionGroupsInput{OptionGroupName: aws.String(res.Name)}))
		return len(out.OptionGroupsList) == 1 && aws.ToString(out.OptionGroupsList[0].EngineName) == db.Engine
	case system.KindKMSKey:
		// awssim has no KMS API: RDS resolves the key as the file names it, in its region,
		// when a snapshot is copied there with it. A copy into the secondary is
		// cross-region, from the primary's newest automated snapshot.
		src := sys.Role(system.Primary)
		snaps := must[*rds.DescribeDBSnapshotsOutput](t)(rds.NewFromConfig(awsConfigLike(cfg, src.Name)).DescribeDBSnapshots(c, &rds.DescribeDBSnapshotsInput{
			DBInstanceIdentifier: aws.String(src.Database.Instance), SnapshotType: aws.String("automated")}))
		if len(snaps.DBSnapshots) < 7 {
			t.Fatalf("%d snapshots of %s in %s, want the seven daily ones", len(snaps.DBSnapshots), src.Database.Instance, src.Name)
		}
		sort.Slice(snaps.DBSnapshots, func(i, j int) bool {
			return snaps.DBSnapshots[i].SnapshotCreateTime.After(*snaps.DBSnapshots[j].SnapshotCreateTime)
		})
		source := aws.ToString(snaps.DBSnapshots[0].DBSnapshotArn)
		cp := must[*rds.CopyDBSnapshotOutput](t)(rds.NewFromConfig(cfg).CopyDBSnapshot(c, &rds.CopyDBSnapshotInput{
			SourceDBSnapshotIdentifier: aws.String(source), TargetDBSnapshotIdentifier: aws.String("key-lookup"), KmsKeyId: aws.String(res.Name)}))
		key := aws.ToString(cp.DBSnapshot.KmsKeyId)
		if !strings.HasPrefix(key, "arn:aws:kms:"+r.Name+":"+account+":key/") {
			t.Errorf("the copy's key is %s", key)
		}
		// What is encrypted with the key in peacetime: the primary's database, the
		// secondary's daily copies.
		if primary {
			in := must[*rds.DescribeDBInstancesOutput](t)(rds.NewFromConfig(cfg).DescribeDBInstances(c, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(db.Instance)}))
			if got := aws.ToString(in.DBInstances[0].KmsKeyId); got != key {
				t.Errorf("%s is encrypted with %s, not the file's key %s", db.Instance, got, key)
			}
			return true
		}
		for _, s := range dailyCopies(t, c, cfg, src.Database.Instance) {
			if got := aws.ToString(s.KmsKeyId); got != key || aws.ToString(s.SourceRegion) != src.Name {
				t.Errorf("copy %s: key %s from %s, want %s from %s", aws.ToString(s.DBSnapshotIdentifier), got, aws.ToString(s.SourceRegion), key, src.Name)
			}
		}
		return true
	case system.KindDBInstance:
		cl := rds.NewFromConfig(cfg)
		if !primary {
			_, err := cl.DescribeDBInstances(c, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(res.Name)})
			wantCode(t, err, "DBInstanceNotFound")
			// The seed's daily copy: the newest is more than the 1 h RPO old, and less than
			// a day and two hours.
			copies := dailyCopies(t, c, cfg, sys.Role(system.Primary).Database.Instance)
			newest := copies[0]
			if age := now.Sub(*newest.SnapshotDatabaseTime); age < 2*time.Hour || age > 26*time.Hour {
				t.Errorf("the newest copy's data is %s old", age)
			}
			sg := must[*ec2.DescribeSecurityGroupsOutput](t)(ec2.NewFromConfig(cfg).DescribeSecurityGroups(c, &ec2.DescribeSecurityGroupsInput{
				Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{r.SecurityGroupName(db.SecurityGroup)}}}}))
			in := &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String(res.Name), DBSnapshotIdentifier: newest.DBSnapshotIdentifier,
				DBInstanceClass: aws.String(db.InstanceClass), MultiAZ: aws.Bool(db.MultiAZ), DBSubnetGroupName: aws.String(db.SubnetGroup),
				DBParameterGroupName: aws.String(db.ParameterGroup), VpcSecurityGroupIds: []string{aws.ToString(sg.SecurityGroups[0].GroupId)}}
			if db.OptionGroup != "" {
				in.OptionGroupName = aws.String(db.OptionGroup)
			}
			must[*rds.RestoreDBInstanceFromDBSnapshotOutput](t)(cl.RestoreDBInstanceFromDBSnapshot(c, in))
		}
		out := must[*rds.DescribeDBInstancesOutput](t)(cl.DescribeDBInstances(c, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(res.Name)}))
		in := out.DBInstances[0]
		if aws.ToString(in.Engine) != db.Engine || aws.ToString(in.DBInstanceClass) != db.InstanceClass || aws.ToBool(in.MultiAZ) != db.MultiAZ ||
			aws.ToString(in.DBSubnetGroup.VpcId) != vpc {
			t.Errorf("%s: engine %s, class %s, multi-AZ %v, VPC %s", res.Name, aws.ToString(in.Engine), aws.ToString(in.DBInstanceClass), aws.ToBool(in.MultiAZ),
				aws.ToString(in.DBSubnetGroup.VpcId))
		}
		return true
	case system.KindCacheReplicationGroup:
		cl := elasticache.NewFromConfig(cfg)
		if !primary {
			_, err := cl.DescribeReplicationGroups(c, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(res.Name)})
			wantCode(t, err, "ReplicationGroupNotFoundFault")
			must[*elasticache.CreateReplicationGroupOutput](t)(cl.CreateReplicationGroup(c, &elasticache.CreateReplicationGroupInput{
				ReplicationGroupId: aws.String(res.Name), ReplicationGroupDescription: aws.String("failover"),
				CacheNodeType: aws.String(r.Cache.NodeType), Engine: aws.String(r.Cache.Engine), NumCacheClusters: aws.Int32(int32(r.Cache.Nodes)),
				CacheSubnetGroupName: aws.String(r.Cache.SubnetGroup)}))
		}
		out := must[*elasticache.DescribeReplicationGroupsOutput](t)(cl.DescribeReplicationGroups(c, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(res.Name)}))
		return len(out.ReplicationGroups) == 1 && aws.ToString(out.ReplicationGroups[0].CacheNodeType) == r.Cache.NodeType
	case system.KindCacheSubnetGroup:
		// ElastiCache's subnet groups are found by a create that names one.
		_, err := elasticache.NewFromConfig(cfg).CreateReplicationGroup(c, &elasticache.CreateReplicationGroupInput{
			ReplicationGroupId: aws.String("subnet-group-lookup"), ReplicationGroupDescription: aws.String("lookup"),
			CacheNodeType: aws.String(r.Cache.NodeType), Engine: aws.String(r.Cache.Engine), CacheSubnetGroupName: aws.String(res.Name)})
		return err == nil
	case system.KindBackupVault:
		out := must[*backup.ListRecoveryPointsByBackupVaultOutput](t)(backup.NewFromConfig(cfg).ListRecoveryPointsByBackupVault(c, &backup.ListRecoveryPointsByBackupVaultInput{
			BackupVaultName: aws.String(res.Name)}))
		if pb := sys.Role(system.Primary).Backup; !primary && pb != nil && pb.FileSystem != "" && len(out.RecoveryPoints) != 7 {
			t.Errorf("%d recovery points in %s, want the seven daily copies", len(out.RecoveryPoints), res.Name)
		}
		vaults := must[*backup.ListBackupVaultsOutput](t)(backup.NewFromConfig(cfg).ListBackupVaults(c, &backup.ListBackupVaultsInput{}))
		return slices.ContainsFunc(vaults.BackupVaultList, func(v backuptypes.BackupVaultListMember) bool {
			return aws.ToString(v.BackupVaultName) == res.Name && v.NumberOfRecoveryPoints == int64(len(out.RecoveryPoints))
		})
	case system.KindIAMRole:
		// awssim has no IAM API: the role is the one the copies in the region's vault name.
		out := must[*backup.ListRecoveryPointsByBackupVaultOutput](t)(backup.NewFromConfig(cfg).ListRecoveryPointsByBackupVault(c, &backup.ListRecoveryPointsByBackupVaultInput{
			BackupVaultName: aws.String(r.Backup.Vault)}))
		return len(out.RecoveryPoints) > 0 && aws.ToString(out.RecoveryPoints[0].IamRoleArn) == "arn:aws:iam::"+account+":role/"+res.Name
	case system.KindFileSystem:
		out := must[*efs.DescribeFileSystemsOutput](t)(efs.NewFromConfig(cfg).DescribeFileSystems(c, &efs.DescribeFileSystemsInput{}))
		for _, fs := range out.FileSystems {
			if aws.ToString(fs.Name) == res.Name {
				return aws.ToString(fs.OwnerId) == account
			}
		}
		return false
	case system.KindSecret:
		out := must[*secretsmanager.DescribeSecretOutput](t)(secretsmanager.NewFromConfig(cfg).DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String(res.Name)}))
		return strings.HasPrefix(aws.ToString(out.ARN), "arn:aws:secretsmanager:"+r.Name+":"+account+":secret:"+res.Name+"-")
	case system.KindLoadBalancer:
		out := must[*elbv2.DescribeLoadBalancersOutput](t)(elbv2.NewFromConfig(cfg).DescribeLoadBalancers(c, &elbv2.DescribeLoadBalancersInput{Names: []string{res.Name}}))
		return len(out.LoadBalancers) == 1 && aws.ToString(out.LoadBalancers[0].VpcId) == vpc && len(out.LoadBalancers[0].AvailabilityZones) >= 2
	case system.KindECSCluster:
		out := must[*ecs.DescribeClustersOutput](t)(ecs.NewFromConfig(cfg).DescribeClusters(c, &ecs.DescribeClustersInput{Clusters: []string{res.Name}}))
		return len(out.Clusters) == 1 && len(out.Failures) == 0
	case system.KindECSService:
		var svc *system.Service
		for _, s := range r.ECS.Services {
			if s.Name == res.Name {
				svc = s
			}
		}
		out := must[*ecs.DescribeServicesOutput](t)(ecs.NewFromConfig(cfg).DescribeServices(c, &ecs.DescribeServicesInput{
			Cluster: aws.String(r.ECS.Cluster), Services: []string{res.Name}}))
		want := int32(0)
		if primary {
			want = int32(svc.DesiredCount)
		}
		if len(out.Services) != 1 {
			return false
		}
		if s := out.Services[0]; s.DesiredCount != want || s.RunningCount != want {
			t.Errorf("service %s: desired %d, running %d; want %d", res.Name, s.DesiredCount, s.RunningCount, want)
		}
		return true
	case system.KindTaskFamily:
		out := must[*ecs.DescribeTaskDefinitionOutput](t)(ecs.NewFromConfig(cfg).DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(res.Name)}))
		return aws.ToString(out.TaskDefinition.Family) == res.Name
	case system.KindTargetGroup:
		out := must[*elbv2.DescribeTargetGroupsOutput](t)(elbv2.NewFromConfig(cfg).DescribeTargetGroups(c, &elbv2.DescribeTargetGroupsInput{Names: []string{res.Name}}))
		lb := must[*elbv2.DescribeLoadBalancersOutput](t)(elbv2.NewFromConfig(cfg).DescribeLoadBalancers(c, &elbv2.DescribeLoadBalancersInput{Names: []string{r.LoadBalancer.Name}}))
		return len(out.TargetGroups) == 1 && slices.Equal(out.TargetGroups[0].LoadBalancerArns, []string{aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)})
	case system.KindSNSTopic:
		arn := "arn:aws:sns:" + r.Name + ":" + account + ":" + res.Name
		out, err := sns.NewFromConfig(cfg).GetTopicAttributes(c, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
		return err == nil && out.Attributes["TopicArn"] == arn && out.Attributes["Owner"] == account
	case system.KindS3Bucket:
		// awssim's S3 has GetBucketReplication only: the primary's bucket replicates to the
		// secondary's, which has no replication of its own but exists.
		out, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetBucketReplication(c, &s3.GetBucketReplicationInput{Bucket: aws.String(res.Name)})
		if !primary {
			var ae smithy.APIError
			return errors.As(err, &ae) && ae.ErrorCode() == "ReplicationConfigurationNotFoundError"
		}
		if err != nil {
			t.Fatal(err)
		}
		dest := "arn:aws:s3:::" + sys.Role(system.Secondary).Bucket
		return len(out.ReplicationConfiguration.Rules) == 1 && aws.ToString(out.ReplicationConfiguration.Rules[0].Destination.Bucket) == dest
	}
	t.Errorf("no lookup for a resource of kind %s", res.Kind)
	return false
}

// dailyCopies are the seven daily cross-region copies of instance's automated snapshots in
// cfg's region, the newest data first.
func dailyCopies(t *testing.T, c context.Context, cfg aws.Config, instance string) []rdstypes.DBSnapshot {
	t.Helper()
	out := must[*rds.DescribeDBSnapshotsOutput](t)(rds.NewFromConfig(cfg).DescribeDBSnapshots(c, &rds.DescribeDBSnapshotsInput{
		DBInstanceIdentifier: aws.String(instance), SnapshotType: aws.String("automated")}))
	if len(out.DBSnapshots) != 7 {
		t.Fatalf("%d daily copies of %s in %s, want 7", len(out.DBSnapshots), instance, cfg.Region)
	}
	sort.Slice(out.DBSnapshots, func(i, j int) bool {
		return out.DBSnapshots[i].SnapshotDatabaseTime.After(*out.DBSnapshots[j].SnapshotDatabaseTime)
	})
	return out.DBSnapshots
}

// awsConfigLike is cfg in another region.
func awsConfigLike(cfg aws.Config, region string) aws.Config {
	cfg.Region = region
	return cfg
}
