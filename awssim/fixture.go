package awssim

import (
	"encoding/json"
	"fmt"
	"time"
)

// Names and ids of the kaigo fixture, taken from the seed runbooks. Plans and tests refer to
// them, so they are exported.
const (
	KaigoHostedZoneID   = "Z1234567890ABC"
	KaigoZoneName       = "kaigo-subsys.example.com."
	KaigoPrivateZoneID  = "Z0987654321DEF"
	KaigoPrivateZone    = "kaigo-subsys.internal."
	KaigoAPIName        = "api.kaigo-subsys.example.com."
	KaigoProdInstance   = "kaigo-subsys-prod"
	KaigoDRInstance     = "kaigo-subsys-dr"
	KaigoDRSubnetGroup  = "kaigo-subsys-dr-db-subnet-group"
	KaigoDRCacheSubnets = "kaigo-subsys-dr-cache-subnet-group"
	KaigoDRCluster      = "kaigo-subsys-dr"
	KaigoDRService      = "kaigo-subsys-dr-service"
	KaigoDRTaskFamily   = "kaigo-subsys-dr"
	KaigoDRVault        = "kaigo-subsys-dr-backup-vault"
	KaigoDRVPCName      = "kaigo-subsys-dr-vpc"
	KaigoDRALBName      = "kaigo-subsys-dr-alb"
	KaigoDRTargetGroup  = "kaigo-subsys-dr"
	KaigoDRDBSecret     = "kaigo-subsys/dr/db-endpoint"
	KaigoDRRedisSecret  = "kaigo-subsys/dr/redis-endpoint"
	KaigoDRAlertsTopic  = "arn:aws:sns:us-west-2:" + AccountID + ":kaigo-subsys-dr-critical-alerts"
	KaigoProdBucket     = "kaigo-subsys-prod-backups"
	KaigoProdALBName    = "kaigo-subsys-prod-alb"
	KaigoProdCluster    = "kaigo-subsys-prod"
	KaigoProdService    = "kaigo-subsys-prod-service"
)

// KaigoTargetGroupARN is the target group ARN of the kaigo ALB in region.
func KaigoTargetGroupARN(region string) string {
	name, id := "kaigo-subsys-prod", "0e5a1f0c4b2d7a31"
	if region == "us-west-2" {
		name, id = KaigoDRTargetGroup, "0d3b7c9e1f2a4b65"
	}
	return arn("elasticloadbalancing", region, "targetgroup/"+name+"/"+id)
}

// KaigoALBDNS is the DNS name of the kaigo ALB in region.
func KaigoALBDNS(region string) string {
	if region == "us-west-2" {
		return "kaigo-subsys-dr-alb-1234567890.us-west-2.elb.amazonaws.com"
	}
	return "kaigo-subsys-prod-alb-1234567890.us-east-1.elb.amazonaws.com"
}

// KaigoALBZoneID is the canonical hosted zone id of ALBs in region (the real AWS values).
func KaigoALBZoneID(region string) string {
	if region == "us-west-2" {
		return "Z1H1FL5HABSF5"
	}
	return "Z35SXDOTRQ7X7K"
}

func ec2ID(prefix string, region string, n int) string {
	return fmt.Sprintf("%s-0%02x%014x", prefix, regionOctet(region), n)
}

// kaigoNetwork builds a VPC with three private subnets, security groups and route tables:
// the system's five groups and public and private tables, and what AWS gives every VPC it
// creates, its default security group and its main route table ("When you create a VPC, it
// automatically has a default security group",
// https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html; "Main route
// table—The route table that automatically comes with your VPC",
// https://docs.aws.amazon.com/vpc/latest/userguide/RouteTables.html).
// The main table has only the local route; the subnets are associated with the private one.
func kaigoNetwork(rs *regionState, region, env, cidr16 string) (vpc string, subnets []string, sgs map[string]string) {
	vpc = ec2ID("vpc", region, 1)
	rs.EC2 = append(rs.EC2, &ec2Resource{Kind: "vpc", ID: vpc, Cidr: cidr16 + ".0.0/16",
		Tags: map[string]string{"Name": "kaigo-subsys-" + env + "-vpc", "Environment": env}})
	for i, az := range []string{"a", "c", "d"} {
		id := ec2ID("subnet", region, 10+i)
		subnets = append(subnets, id)
		rs.EC2 = append(rs.EC2, &ec2Resource{Kind: "subnet", ID: id, VpcID: vpc, AZ: region + az,
			Cidr: fmt.Sprintf("%s.%d.0/24", cidr16, 10+i),
			Tags: map[string]string{"Name": fmt.Sprintf("kaigo-subsys-%s-private-%s", env, az), "Environment": env}})
	}
	sgs = map[string]string{}
	for i, role := range []string{"alb", "ecs", "rds", "elasticache", "efs"} {
		id := ec2ID("sg", region, 20+i)
		sgs[role] = id
		name := fmt.Sprintf("kaigo-subsys-%s-%s-sg", env, role)
		rs.EC2 = append(rs.EC2, &ec2Resource{Kind: "sg", ID: id, VpcID: vpc, Name: name,
			Tags: map[string]string{"Name": name, "Environment": env}})
	}
	rs.EC2 = append(rs.EC2,
		&ec2Resource{Kind: "sg", ID: ec2ID("sg", region, 25), VpcID: vpc, Name: defaultSGName, Tags: map[string]string{}},
		&ec2Resource{Kind: "rtb", ID: ec2ID("rtb", region, 32), VpcID: vpc, Default: true, Tags: map[string]string{},
			Routes: [][2]string{{cidr16 + ".0.0/16", "local"}}})
	rs.EC2 = append(rs.EC2,
		&ec2Resource{Kind: "rtb", ID: ec2ID("rtb", region, 30), VpcID: vpc,
			Routes: [][2]string{{cidr16 + ".0.0/16", "local"}, {"0.0.0.0/0", ec2ID("igw", region, 40)}},
			Tags:   map[string]string{"Name": "kaigo-subsys-" + env + "-public-rt", "Environment": env}},
		&ec2Resource{Kind: "rtb", ID: ec2ID("rtb", region, 31), VpcID: vpc, Assoc: subnets,
			Routes: [][2]string{{cidr16 + ".0.0/16", "local"}, {"0.0.0.0/0", ec2ID("nat", region, 41)}},
			Tags:   map[string]string{"Name": "kaigo-subsys-" + env + "-private-rt", "Environment": env}},
	)
	return vpc, subnets, sgs
}

// defaultNetwork builds the region's default VPC, as every AWS account has one: a subnet
// per availability zone (six in us-east-1, four in us-west-2), its default security group
// and its main route table. The seed does not use it; it is there so that unfiltered
// Describe calls see what an account holds, and page.
func defaultNetwork(rs *regionState, region string) {
	vpc := ec2ID("vpc", region, 50)
	rs.EC2 = append(rs.EC2, &ec2Resource{Kind: "vpc", ID: vpc, Cidr: "172.31.0.0/16", Default: true, Tags: map[string]string{}})
	azs := "abcdef"
	if region == "us-west-2" {
		azs = "abcd"
	}
	for i, az := range azs {
		rs.EC2 = append(rs.EC2, &ec2Resource{Kind: "subnet", ID: ec2ID("subnet", region, 51+i), VpcID: vpc, AZ: region + string(az),
			Cidr: fmt.Sprintf("172.31.%d.0/20", 16*i), Default: true, Tags: map[string]string{}})
	}
	rs.EC2 = append(rs.EC2,
		&ec2Resource{Kind: "sg", ID: ec2ID("sg", region, 60), VpcID: vpc, Name: defaultSGName, Tags: map[string]string{}},
		&ec2Resource{Kind: "rtb", ID: ec2ID("rtb", region, 61), VpcID: vpc, Default: true, Tags: map[string]string{},
			Routes: [][2]string{{"172.31.0.0/16", "local"}, {"0.0.0.0/0", ec2ID("igw", region, 62)}}},
	)
}

// loadKaigo builds the seed system in peacetime at time now: production running in
// us-east-1, and in us-west-2 only what seed 001 says is built in advance, plus the daily
// snapshot and backup copies. The newest RDS copy is from the last 03:00 JST backup window
// that finished at least two hours ago, so it is always older than the 1 h RPO, which is the
// gap the seed's design really has.
func loadKaigo(w *world, now time.Time) {
	now = now.UTC()
	east, west := w.Regions["us-east-1"], w.Regions["us-west-2"]

	// Networks.
	eVPC, eSubnets, eSGs := kaigoNetwork(east, "us-east-1", "prod", "10.10")
	wVPC, wSubnets, wSGs := kaigoNetwork(west, "us-west-2", "dr", "10.20")
	defaultNetwork(east, "us-east-1")
	defaultNetwork(west, "us-west-2")
	east.SubnetGroups["kaigo-subsys-prod-db-subnet-group"] = append([]string{eVPC}, eSubnets...)
	west.SubnetGroups[KaigoDRSubnetGroup] = append([]string{wVPC}, wSubnets...)
	east.SubnetGroups["cache:kaigo-subsys-prod-cache-subnet-group"] = append([]string{eVPC}, eSubnets...)
	west.SubnetGroups["cache:"+KaigoDRCacheSubnets] = append([]string{wVPC}, wSubnets...)
	east.ParamGroups = []string{"kaigo-subsys-postgres15"}
	west.ParamGroups = []string{"kaigo-subsys-postgres15"}

	// KMS keys: the customer managed keys production and the DR copies are encrypted with
	// (the ones the plans and the system file name), and in every region what AWS keeps in
	// each account: the AWS managed alias/aws/rds and RDS's default option groups.
	east.KMSKeys = append(east.KMSKeys, &kmsKey{ID: "prod-key-id", Aliases: []string{"alias/kaigo-subsys-prod"}})
	west.KMSKeys = append(west.KMSKeys, &kmsKey{ID: "dr-key-id", Aliases: []string{"alias/kaigo-subsys-dr"}})
	for _, r := range regions {
		rdsAccountDefaults(w.Regions[r], r)
	}

	// Production database, running for a year.
	created := now.Add(-365 * 24 * time.Hour).Truncate(time.Hour)
	prodDB := &dbInstance{ID: KaigoProdInstance, Class: "db.r6g.large", Engine: "postgres",
		EngineVersion: "15.4", MultiAZ: true, SubnetGroup: "kaigo-subsys-prod-db-subnet-group",
		SecurityGroups: []string{eSGs["rds"]}, ParamGroup: "kaigo-subsys-postgres15", Created: created,
		Retention: 30, Status: fixed("available", created), Seq: w.next(),
		// Encrypted with the production key; backed up in the 03:00 JST window of the daily
		// snapshots below, maintained on Mondays at 04:00 JST.
		Port: 5432, KmsKeyID: arn("kms", "us-east-1", "key/prod-key-id"), AutoMinorUpgrade: true,
		BackupWindow: "18:00-18:30", MaintenanceWindow: "sun:19:00-sun:19:30"}
	east.DBInstances[KaigoProdInstance] = prodDB

	// Daily automated snapshots at 03:00 JST (18:00 UTC), copied to us-west-2 about 40 min
	// later. Seven days of each are enough for every plan and readiness check. As on RDS, a
	// copy's SnapshotCreateTime is when it was copied; its data is the original's.
	last := now.Add(-2 * time.Hour).Truncate(24 * time.Hour).Add(18 * time.Hour)
	if last.After(now.Add(-2 * time.Hour)) {
		last = last.Add(-24 * time.Hour)
	}
	for d := 0; d < 7; d++ {
		at := last.Add(-time.Duration(d) * 24 * time.Hour)
		id := "rds:" + KaigoProdInstance + at.Add(9*time.Hour).Format("-2006-01-02-15-04")
		east.DBSnapshots[id] = &dbSnapshot{ID: id, InstanceID: KaigoProdInstance, Type: "automated", Created: at,
			Original: at, DataTime: at, Engine: "postgres", Version: "15.4", VpcID: eVPC, Status: fixed("available", at),
			KmsKeyID: arn("kms", "us-east-1", "key/prod-key-id"), DbiResourceID: dbiResourceID(prodDB.Seq)}
		copied := at.Add(40 * time.Minute)
		west.DBSnapshots[id] = &dbSnapshot{ID: id, InstanceID: KaigoProdInstance, Type: "automated", Created: copied,
			Original: at, DataTime: at, Engine: "postgres", Version: "15.4", VpcID: eVPC, Status: fixed("available", copied),
			SourceRegion: "us-east-1", SourceARN: arn("rds", "us-east-1", "snapshot:"+id),
			KmsKeyID: arn("kms", "us-west-2", "key/dr-key-id"), DbiResourceID: dbiResourceID(prodDB.Seq)}
	}

	// EFS in production, and its daily AWS Backup copies (04:00 JST) in the DR vault.
	prodFS := "fs-0a10000000000e001"
	prodFSTags := []tag{{Key: "Name", Value: "kaigo-subsys-prod-efs"}, {Key: "Environment", Value: "prod"}}
	east.FileSystems[prodFS] = &fileSystem{ID: prodFS, Name: "kaigo-subsys-prod-efs", Token: "kaigo-subsys-prod-efs",
		Created: created, Status: fixed("available", created), Tags: prodFSTags}
	east.Vaults["kaigo-subsys-prod-backup-vault"] = nil
	west.Vaults[KaigoDRVault] = nil
	for d := 0; d < 7; d++ {
		at := last.Add(time.Hour).Add(-time.Duration(d) * 24 * time.Hour)
		n := w.next()
		west.Vaults[KaigoDRVault] = append(west.Vaults[KaigoDRVault], &recoveryPt{
			ARN: arn("backup", "us-west-2", fmt.Sprintf("recovery-point:%08x-0000-4000-8000-%012x", n, n)), Vault: KaigoDRVault,
			Resource: arn("elasticfilesystem", "us-east-1", "file-system/"+prodFS), Type: "EFS", Created: at,
			SourceARN: vaultARN("us-east-1", "kaigo-subsys-prod-backup-vault"), SizeBytes: 5 << 30, FileSystem: prodFS,
			Tags: prodFSTags})
	}

	// Load balancers, target groups and ECS. Production runs 2 tasks; DR has 0.
	for _, r := range []struct {
		rs      *regionState
		region  string
		name    string
		cluster string
		service string
		vpc     string
		subnets []string
		sg      string
		tasks   int
	}{
		{east, "us-east-1", KaigoProdALBName, KaigoProdCluster, KaigoProdService, eVPC, eSubnets, eSGs["alb"], 2},
		{west, "us-west-2", KaigoDRALBName, KaigoDRCluster, KaigoDRService, wVPC, wSubnets, wSGs["alb"], 0},
	} {
		lbARN := arn("elasticloadbalancing", r.region, "loadbalancer/app/"+r.name+"/50dc6c495c0c9188")
		envTag := tag{Key: "Environment", Value: "prod"}
		tgName := "kaigo-subsys-prod"
		if r.region == "us-west-2" {
			tgName, envTag.Value = KaigoDRTargetGroup, "dr"
		}
		r.rs.LoadBalancers[r.name] = &loadBalancer{Name: r.name, ARN: lbARN, DNS: KaigoALBDNS(r.region),
			ZoneID: KaigoALBZoneID(r.region), VpcID: r.vpc, SGs: []string{r.sg}, Subnets: r.subnets, Created: created,
			Tags: []tag{{Key: "Name", Value: r.name}, envTag}}
		r.rs.TargetGroups[tgName] = &targetGroup{Name: tgName, ARN: KaigoTargetGroupARN(r.region), LB: lbARN,
			VpcID: r.vpc, Cluster: r.cluster, Service: r.service, Tags: []tag{{Key: "Name", Value: tgName}, envTag}}
		family := r.cluster
		td := &taskDef{Family: family, Revision: 1, At: created, Body: kaigoTaskDefBody(r.region)}
		r.rs.TaskDefs[family] = []*taskDef{td}
		tdARN := arn("ecs", r.region, fmt.Sprintf("task-definition/%s:1", family))
		svc := &ecsService{Name: r.service, TaskDef: tdARN, Desired: r.tasks, TargetGroup: KaigoTargetGroupARN(r.region),
			SecurityGroups: []string{r.cluster + "-ecs-sg"}, Created: created, DeployAt: created, StableAt: created, Tags: []tag{envTag}}
		for i := 0; i < r.tasks; i++ {
			n := w.next()
			svc.Tasks = append(svc.Tasks, &task{ID: fmt.Sprintf("%032x", n), TaskDef: tdARN,
				IP: fmt.Sprintf("10.%d.10.%d", regionOctet(r.region), 100+i), Start: created, Healthy: created})
		}
		r.rs.Clusters[r.cluster] = &ecsCluster{Name: r.cluster, Services: map[string]*ecsService{r.service: svc}, Tags: []tag{envTag}}
	}

	// Secrets: production endpoints, and the DR ones the runbook fills in at step 7.
	for _, s := range []struct {
		rs     *regionState
		region string
		name   string
		value  string
	}{
		{east, "us-east-1", "kaigo-subsys/prod/db-endpoint", `{"endpoint":"kaigo-subsys-prod.c000001.us-east-1.rds.amazonaws.com"}`},
		{east, "us-east-1", "kaigo-subsys/prod/redis-endpoint", `{"endpoint":"master.kaigo-subsys-prod.sim001.ng.0001.use1.cache.amazonaws.com"}`},
		{west, "us-west-2", KaigoDRDBSecret, `{"endpoint":""}`},
		{west, "us-west-2", KaigoDRRedisSecret, `{"endpoint":""}`},
	} {
		n := w.next()
		env := "prod"
		if s.region == "us-west-2" {
			env = "dr"
		}
		s.rs.Secrets[s.name] = &secret{Name: s.name, ARN: arn("secretsmanager", s.region, fmt.Sprintf("secret:%s-%06X", s.name, 0xA1B2C0+n)),
			Tags:    []tag{{Key: "Environment", Value: env}},
			Created: created, Changed: created, Versions: []*secretVersion{{
				ID: fmt.Sprintf("00000000-0000-4000-a000-%012d", n), Value: s.value, Created: created, Stages: []string{"AWSCURRENT"}}}}
	}

	// Production ElastiCache.
	pc := &replGroup{ID: "kaigo-subsys-prod", Description: "Production ElastiCache for kaigo subsystem", NodeType: "cache.r6g.large",
		Engine: "redis", Version: "7.0", Nodes: 2, AutoFail: true, SubnetGroup: "kaigo-subsys-prod-cache-subnet-group",
		Status: fixed("available", created)}
	east.ReplGroups[pc.ID] = pc

	// SNS topics for alerts and notifications.
	east.Topics["arn:aws:sns:us-east-1:"+AccountID+":kaigo-subsys-prod-critical-alerts"] = true
	east.Topics["arn:aws:sns:us-east-1:"+AccountID+":kaigo-subsys-dr-notifications"] = true
	west.Topics[KaigoDRAlertsTopic] = true
	west.Topics["arn:aws:sns:us-west-2:"+AccountID+":kaigo-subsys-dr-notifications"] = true

	// S3 cross-region replication of the backup bucket.
	w.Buckets[KaigoProdBucket] = &bucket{Region: "us-east-1", Destination: "arn:aws:s3:::kaigo-subsys-dr-backups",
		Role: "arn:aws:iam::" + AccountID + ":role/kaigo-subsys-s3-replication", KmsKey: arn("kms", "us-west-2", "key/dr-key-id")}
	w.Buckets["kaigo-subsys-dr-backups"] = &bucket{Region: "us-west-2"}

	// Route 53: the public name is an alias to the production ALB, TTL 60 s on plain records;
	// and a private zone for internal names, associated with the production VPC, that holds
	// only what Route 53 puts in a new zone.
	w.Zones[KaigoHostedZoneID] = &hostedZone{ID: KaigoHostedZoneID, Name: KaigoZoneName, CallerRef: "kaigo-subsys-public-zone", Records: []*recordSet{
		{Name: KaigoAPIName, Type: "A", AliasZone: KaigoALBZoneID("us-east-1"), AliasDNS: KaigoALBDNS("us-east-1") + ".", AliasHealth: true},
		{Name: KaigoZoneName, Type: "NS", TTL: 172800, Values: kaigoNameServers},
		{Name: KaigoZoneName, Type: "SOA", TTL: 900, Values: []string{kaigoNameServers[0] + " awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}},
		{Name: "status.kaigo-subsys.example.com.", Type: "CNAME", TTL: 60, Values: []string{"status.example.net"}},
	}}
	w.Zones[KaigoPrivateZoneID] = &hostedZone{ID: KaigoPrivateZoneID, Name: KaigoPrivateZone, CallerRef: "kaigo-subsys-private-zone",
		Comment: "kaigo-subsys internal names", Private: true, VPCs: []zoneVPC{{Region: "us-east-1", ID: eVPC}}, Records: []*recordSet{
			{Name: KaigoPrivateZone, Type: "NS", TTL: 172800, Values: []string{"ns-0.awsdns-00.com.", "ns-512.awsdns-00.net.", "ns-1024.awsdns-00.org.", "ns-1536.awsdns-00.co.uk."}},
			{Name: KaigoPrivateZone, Type: "SOA", TTL: 900, Values: []string{"ns-0.awsdns-00.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}},
		}}
}

// kaigoNameServers are the public zone's delegation set, which its NS record lists: Route 53
// "automatically creates a name server (NS) record that has the same name as your hosted
// zone. It lists the four name servers that are the authoritative name servers for your
// hosted zone" (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/SOA-NSrecords.html),
// one each under .com, .net, .org and .co.uk, named ns-NNN.awsdns-NN (the GetHostedZone
// example in botocore's route53/2013-04-01/examples-1.json). The SOA record names the first.
var kaigoNameServers = []string{"ns-372.awsdns-46.com.", "ns-1019.awsdns-63.net.", "ns-1408.awsdns-48.org.", "ns-1917.awsdns-47.co.uk."}

func kaigoTaskDefBody(region string) map[string]json.RawMessage {
	env := "prod"
	if region == "us-west-2" {
		env = "dr"
	}
	return map[string]json.RawMessage{
		"containerDefinitions":    []byte(fmt.Sprintf(`[{"name":"app","image":"%s.dkr.ecr.%s.amazonaws.com/kaigo-subsys:latest","essential":true,"portMappings":[{"containerPort":8080,"protocol":"tcp"}],"secrets":[{"name":"DB_ENDPOINT","valueFrom":"kaigo-subsys/%s/db-endpoint"},{"name":"REDIS_ENDPOINT","valueFrom":"kaigo-subsys/%s/redis-endpoint"}]}]`, AccountID, region, env, env)),
		"cpu":                     []byte(`"1024"`),
		"memory":                  []byte(`"2048"`),
		"networkMode":             []byte(`"awsvpc"`),
		"requiresCompatibilities": []byte(`["FARGATE"]`),
	}
}
