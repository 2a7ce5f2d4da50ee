package awssim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/kirikae/kirikae/system"
)

// The peacetime world of a system file. buildSystem reads nothing but the file: every name
// in the world is one the file gives, or one made from them by the rules below, so any
// system in any pair of regions gets a world its plans and readiness checks find their way
// around. The bundled kaigo system (deploy/systems/kaigo.yaml) builds the world of the
// seed runbooks, whose names the Kaigo* constants give.

// The ids a world has once, whatever its system: one public and one private hosted zone.
const (
	publicZoneID  = "Z1234567890ABC"
	privateZoneID = "Z0987654321DEF"
)

// zoneNameServers are the public zone's delegation set, which its NS record lists: Route 53
// "automatically creates a name server (NS) record that has the same name as your hosted
// zone. It lists the four name servers that are the authoritative name servers for your
// hosted zone" (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/SOA-NSrecords.html),
// one each under .com, .net, .org and .co.uk, named ns-NNN.awsdns-NN (the GetHostedZone
// example in botocore's route53/2013-04-01/examples-1.json). The SOA record names the first.
var zoneNameServers = []string{"ns-372.awsdns-46.com.", "ns-1019.awsdns-63.net.", "ns-1408.awsdns-48.org.", "ns-1917.awsdns-47.co.uk."}

// systemPair is a system's regions, the primary first.
func systemPair(sys *system.System) []string {
	return []string{sys.Role(system.Primary).Name, sys.Role(system.Secondary).Name}
}

// systemAccount is the account of a system's world: the file's, else the account of a
// KMS key ARN it gives, else AccountID.
func systemAccount(sys *system.System) string {
	if sys.Account != "" {
		return sys.Account
	}
	for _, r := range sys.Regions {
		if parts := strings.Split(r.Database.KMSKey, ":"); len(parts) == 6 && parts[0] == "arn" {
			return parts[4]
		}
	}
	return AccountID
}

// albDNS is the DNS name of the ALB named name in region.
func albDNS(name, region string) string {
	return name + "-1234567890." + region + ".elb.amazonaws.com"
}

// albARN is the ARN of the ALB named name in region.
func albARN(account, region, name string) string {
	return "arn:aws:elasticloadbalancing:" + region + ":" + account + ":loadbalancer/app/" + name + "/50dc6c495c0c9188"
}

// targetGroupARN is the ARN of the target group named name in region; its id is made from
// the region and the name, so it is the same in every world.
func targetGroupARN(account, region, name string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(region + "/" + name))
	return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/%016x", region, account, name, h.Sum64())
}

// dbEndpoint is the address of instance in region.
func dbEndpoint(in *dbInstance, region string) string {
	return fmt.Sprintf("%s.c%06d.%s.rds.amazonaws.com", in.ID, in.Seq, region)
}

// cacheHost is the host of a cluster-mode-disabled replication group's node group, which
// its primary endpoint (master.HOST) and reader endpoint (replica.HOST) are under.
func cacheHost(id, region string) string {
	return fmt.Sprintf("%s.sim001.ng.0001.%s.cache.amazonaws.com", id, shortRegion(region))
}

// ec2ID is the id of the n-th EC2 resource of its kind in region: the region's octet is in
// it (vpc-00a00000000000001 in the primary, vpc-01400000000000001 in the secondary).
func (w *world) ec2ID(prefix string, region string, n int) string {
	return fmt.Sprintf("%s-0%02x%014x", prefix, w.octet(region), n)
}

// engineDefaults are what RDS gives an instance of an engine that a system file does not
// say: the engine version (PostgreSQL 15.4 is the seed's) and the port.
var engineDefaults = map[string]struct {
	version string
	port    int
}{
	"postgres":       {"15.4", 5432},
	"mysql":          {"8.0.35", 3306},
	"mariadb":        {"10.11.6", 3306},
	"oracle-ee":      {"19.0.0.0.ru-2024-01.rur-2024-01.r1", 1521},
	"oracle-ee-cdb":  {"19.0.0.0.ru-2024-01.rur-2024-01.r1", 1521},
	"oracle-se2":     {"19.0.0.0.ru-2024-01.rur-2024-01.r1", 1521},
	"oracle-se2-cdb": {"19.0.0.0.ru-2024-01.rur-2024-01.r1", 1521},
	"sqlserver-ee":   {"15.00.4345.5.v1", 1433},
	"sqlserver-se":   {"15.00.4345.5.v1", 1433},
	"sqlserver-ex":   {"15.00.4345.5.v1", 1433},
	"sqlserver-web":  {"15.00.4345.5.v1", 1433},
	"db2-ae":         {"11.5.9.0.sb00000000.r1", 50000},
	"db2-se":         {"11.5.9.0.sb00000000.r1", 50000},
}

// paramFamily is the DB parameter group family of an engine version: postgres15,
// mysql8.0, mariadb10.11, oracle-ee-19, sqlserver-ee-15.0, db2-ae-11.5.
func paramFamily(engine, version string) string {
	major := majorVersion(engine, version)
	switch {
	case engine == "postgres" || engine == "mysql" || engine == "mariadb":
		return engine + major
	case strings.HasPrefix(engine, "sqlserver"):
		return engine + "-" + strings.TrimSuffix(major, "0")
	}
	return engine + "-" + major
}

// paramFamily is the family of the region's parameter group g.
func (rs *regionState) paramFamily(g string) string {
	if f, ok := rs.ParamFamilies[g]; ok {
		return f
	}
	return "postgres15"
}

// built is one region of the system as buildSystem makes it.
type built struct {
	*system.Region
	rs      *regionState
	env     string            // the Environment tag: prod in the primary, dr in the secondary
	vpc     string            // the system VPC's id
	subnets []string          // its subnets' ids
	sgs     map[string]string // its security groups' ids, by name
	dflt    string            // its default security group's id
	key     string            // the ARN of the database's KMS key
}

// sgID is the id of the group the first of logical names, or the VPC's default group.
func (r *built) sgID(logical ...string) string {
	if name := r.sgName(logical...); name != "" {
		return r.sgs[name]
	}
	return r.dflt
}

// sgName is the name of the group the first of logical names, or "".
func (r *built) sgName(logical ...string) string {
	for _, l := range logical {
		if name := r.SecurityGroupName(l); name != "" {
			return name
		}
	}
	return ""
}

// The logical names of the groups a system file does not assign: the load balancer's and
// the ECS tasks'. The file names the database's and the cache's; these two are found by
// the names the bundled files use, and without one the VPC's default group is used.
var (
	lbGroups  = []string{"alb", "lb", "loadBalancer"}
	ecsGroups = []string{"app", "ecs"}
)

// buildSystem fills w, an empty world in sys's regions, with sys's peacetime world at time
// now:
//
//   - in each region: the VPC (with subnets in up to three zones, the system's security
//     groups, the default group and main route table every VPC has, public and private route
//     tables), the region's default VPC, the DB subnet group, the cache subnet group (when
//     the region has a cache), the parameter group and option group, the database's KMS key
//     (alias/aws/rds and RDS's default option groups besides), the ALB with a target group
//     per ECS service, the ECS cluster with its services and a task definition per family,
//     the secrets, the SNS topics, the bucket and the backup vault;
//   - in the primary: the database instance, running for a year, with seven daily
//     automated snapshots, the cache, and the EFS file system;
//   - in the secondary: the copies of the snapshots (encrypted with the secondary's key)
//     and of the file system's backups (in its vault), 40 minutes and an hour after each
//     daily snapshot; the newest copy's data is from the last 03:00 JST window that ended
//     at least two hours ago, so it is always older than an hour, the gap the seed's
//     daily copies leave against its 1 h RPO;
//   - the public hosted zone, whose record is an alias to the primary's ALB, and a private
//     zone on the primary's VPC.
//
// The secondary's database, cache and file system are what a failover restores or creates,
// so they are not there. The primary runs each service's desiredCount; the secondary's
// services run none.
func buildSystem(w *world, sys *system.System, now time.Time) {
	now = now.UTC()
	w.System = sys.Name
	created := now.Add(-365 * 24 * time.Hour).Truncate(time.Hour)
	p := &built{Region: sys.Role(system.Primary), env: "prod"}
	s := &built{Region: sys.Role(system.Secondary), env: "dr"}
	for _, r := range []*built{p, s} {
		r.rs = w.Regions[r.Name]
		w.network(r)
	}
	for _, r := range []*built{p, s} {
		w.defaultNetwork(r.rs, r.Name)
		w.rdsBasics(sys, r)
	}

	// The primary database and its daily automated snapshots at 03:00 JST (18:00 UTC),
	// copied to the secondary about 40 min later. Seven days of each are enough for every
	// plan and readiness check. As on RDS, a copy's SnapshotCreateTime is when it was
	// copied; its data is the original's.
	db := p.Database
	eng := engineDefaults[db.Engine]
	if eng.version == "" {
		eng.version, eng.port = engineDefaults["postgres"].version, 5432
	}
	prodDB := &dbInstance{ID: db.Instance, Class: db.InstanceClass, Engine: db.Engine, EngineVersion: eng.version,
		MultiAZ: db.MultiAZ, SubnetGroup: db.SubnetGroup, SecurityGroups: []string{p.sgID(db.SecurityGroup)},
		ParamGroup: db.ParameterGroup, OptionGroup: db.OptionGroup, Created: created, Retention: 30,
		Status: fixed("available", created), Seq: w.next(), Port: eng.port, KmsKeyID: p.key, AutoMinorUpgrade: true,
		// Backed up in the 03:00 JST window of the snapshots, maintained on Mondays at 04:00 JST.
		BackupWindow: "18:00-18:30", MaintenanceWindow: "sun:19:00-sun:19:30"}
	p.rs.DBInstances[prodDB.ID] = prodDB
	last := now.Add(-2 * time.Hour).Truncate(24 * time.Hour).Add(18 * time.Hour)
	if last.After(now.Add(-2 * time.Hour)) {
		last = last.Add(-24 * time.Hour)
	}
	for d := 0; d < 7; d++ {
		at := last.Add(-time.Duration(d) * 24 * time.Hour)
		id := "rds:" + prodDB.ID + at.Add(9*time.Hour).Format("-2006-01-02-15-04")
		snap := dbSnapshot{ID: id, InstanceID: prodDB.ID, Type: "automated", Created: at, Original: at, DataTime: at,
			Engine: prodDB.Engine, Version: prodDB.EngineVersion, VpcID: p.vpc, Status: fixed("available", at),
			KmsKeyID: p.key, DbiResourceID: dbiResourceID(prodDB.Seq), Port: prodDB.Port}
		p.rs.DBSnapshots[id] = &snap
		copied := at.Add(40 * time.Minute)
		cp := snap
		cp.Created, cp.Status, cp.KmsKeyID = copied, fixed("available", copied), s.key
		cp.SourceRegion, cp.SourceARN = p.Name, w.arn("rds", p.Name, "snapshot:"+id)
		s.rs.DBSnapshots[id] = &cp
	}

	// EFS in the primary, and its daily AWS Backup copies (04:00 JST) in the secondary's
	// vault, copied by the secondary's backup role.
	var fsID string
	var fsTags []tag
	if b := p.Backup; b != nil {
		if b.Vault != "" {
			p.rs.Vaults[b.Vault] = nil
			backupAccountDefaults(p.rs, w.octet(p.Name))
		}
		if b.FileSystem != "" {
			fsID = fmt.Sprintf("fs-0%02x1%014x", w.octet(p.Name), 0xe001)
			fsTags = []tag{{Key: "Name", Value: b.FileSystem}, {Key: "Environment", Value: p.env}}
			p.rs.FileSystems[fsID] = &fileSystem{ID: fsID, Name: b.FileSystem, Token: b.FileSystem, Created: created,
				Status: fixed("available", created), Tags: fsTags}
		}
	}
	if b := s.Backup; b != nil && b.Vault != "" {
		s.rs.Vaults[b.Vault] = nil
		backupAccountDefaults(s.rs, w.octet(s.Name))
		source := ""
		if p.Backup != nil && p.Backup.Vault != "" {
			source = w.vaultARN(p.Name, p.Backup.Vault)
		}
		for d := 0; fsID != "" && d < 7; d++ {
			at := last.Add(time.Hour).Add(-time.Duration(d) * 24 * time.Hour)
			n := w.next()
			s.rs.Vaults[b.Vault] = append(s.rs.Vaults[b.Vault], &recoveryPt{
				ARN: w.arn("backup", s.Name, fmt.Sprintf("recovery-point:%08x-0000-4000-8000-%012x", n, n)), Vault: b.Vault,
				Resource: w.arn("elasticfilesystem", p.Name, "file-system/"+fsID), Type: "EFS", Created: at,
				SourceARN: source, SizeBytes: 5 << 30, FileSystem: fsID, Tags: fsTags, Role: b.RestoreRole})
		}
	}

	// Load balancers, target groups and ECS: the primary runs its services, the
	// secondary's wait at 0 tasks.
	w.services(sys, p, created, true)
	w.services(sys, s, created, false)

	// The primary's cache, cluster mode disabled.
	cacheEndpoint := ""
	if c := p.Cache; c != nil {
		g := &replGroup{ID: c.ReplicationGroup, Description: "Production ElastiCache for " + sys.Name, NodeType: c.NodeType,
			Engine: c.Engine, Version: cmp.Or(c.EngineVersion, map[string]string{"valkey": "8.0"}[c.Engine], "7.1"),
			Nodes: c.Nodes, AutoFail: c.Nodes > 1, SubnetGroup: c.SubnetGroup, Status: fixed("available", created)}
		p.rs.ReplGroups[g.ID] = g
		cacheEndpoint = "master." + cacheHost(g.ID, p.Name)
	}

	// Secrets: the primary's endpoints, and the secondary's empty ones, which a failover
	// fills in. A secret whose logical name is db (or database) holds the database's
	// endpoint, cache (or redis) the cache's.
	for _, r := range []*built{p, s} {
		for _, l := range sortedKeys(r.Secrets) {
			endpoint := ""
			switch {
			case r != p:
			case l == "db" || l == "database":
				endpoint = dbEndpoint(prodDB, p.Name)
			case l == "cache" || l == "redis":
				endpoint = cacheEndpoint
			}
			value, _ := json.Marshal(map[string]string{"endpoint": endpoint})
			name, n := r.Secrets[l], w.next()
			r.rs.Secrets[name] = &secret{Name: name, ARN: w.arn("secretsmanager", r.Name, fmt.Sprintf("secret:%s-%06X", name, 0xA1B2C0+n)),
				Tags: []tag{{Key: "Environment", Value: r.env}}, Created: created, Changed: created,
				Versions: []*secretVersion{{ID: fmt.Sprintf("00000000-0000-4000-a000-%012d", n), Value: string(value), Created: created,
					Stages: []string{"AWSCURRENT"}}}}
		}
	}

	// SNS topics, and the buckets: the primary's replicates to the secondary's.
	for _, r := range []*built{p, s} {
		for _, t := range r.Topics {
			r.rs.Topics[w.arn("sns", r.Name, t)] = true
		}
	}
	if p.Bucket != "" {
		b := &bucket{Region: p.Name}
		if s.Bucket != "" {
			b.Destination, b.KmsKey, b.RuleID = "arn:aws:s3:::"+s.Bucket, s.key, sys.Name+"-replication"
			b.Role = "arn:aws:iam::" + w.Account + ":role/" + sys.Name + "-s3-replication"
		}
		w.Buckets[p.Bucket] = b
	}
	if s.Bucket != "" {
		w.Buckets[s.Bucket] = &bucket{Region: s.Name}
	}

	// Route 53: the public name is an alias to the primary's ALB, beside a plain record
	// (TTL 60 s) the system does not move; and a private zone for internal names,
	// associated with the primary's VPC, that holds only what Route 53 puts in a new zone.
	zone, record := fqdn(sys.DNS.Zone), fqdn(sys.DNS.Record)
	records := []*recordSet{
		{Name: record, Type: cmp.Or(sys.DNS.Type, "A"), AliasZone: lbZoneID(p.Name), AliasDNS: albDNS(p.LoadBalancer.Name, p.Name) + ".", AliasHealth: true},
		{Name: zone, Type: "NS", TTL: 172800, Values: zoneNameServers},
		{Name: zone, Type: "SOA", TTL: 900, Values: []string{zoneNameServers[0] + " awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}},
	}
	if status := "status." + zone; status != record {
		records = append(records, &recordSet{Name: status, Type: "CNAME", TTL: 60, Values: []string{"status.example.net"}})
	}
	w.Zones[publicZoneID] = &hostedZone{ID: publicZoneID, Name: zone, CallerRef: sys.Name + "-public-zone", Records: records}
	private := sys.Name + ".internal."
	w.Zones[privateZoneID] = &hostedZone{ID: privateZoneID, Name: private, CallerRef: sys.Name + "-private-zone",
		Comment: sys.Name + " internal names", Private: true, VPCs: []zoneVPC{{Region: p.Name, ID: p.vpc}}, Records: []*recordSet{
			{Name: private, Type: "NS", TTL: 172800, Values: []string{"ns-0.awsdns-00.com.", "ns-512.awsdns-00.net.", "ns-1024.awsdns-00.org.", "ns-1536.awsdns-00.co.uk."}},
			{Name: private, Type: "SOA", TTL: 900, Values: []string{"ns-0.awsdns-00.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}},
		}}
}

// network builds r's VPC with a private subnet per zone (systemZones), the system's
// security groups, public and private route tables, and what AWS gives every VPC it
// creates, its default security group and its main route table ("When you create a VPC,
// it automatically has a default security group",
// https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html; "Main route
// table—The route table that automatically comes with your VPC",
// https://docs.aws.amazon.com/vpc/latest/userguide/RouteTables.html). The main table has
// only the local route; the subnets are associated with the private one. Subnets and route
// tables are named after the VPC's Name tag without its -vpc suffix.
func (w *world) network(r *built) {
	region, rs := r.Name, r.rs
	cidr := fmt.Sprintf("10.%d", w.octet(region))
	tags := func(name string) map[string]string { return map[string]string{"Name": name, "Environment": r.env} }
	add := func(res *ec2Resource) { res.Owner = w.Account; rs.EC2 = append(rs.EC2, res) }
	r.vpc = w.ec2ID("vpc", region, 1)
	add(&ec2Resource{Kind: "vpc", ID: r.vpc, Cidr: cidr + ".0.0/16", Tags: tags(r.Network.VPC)})
	prefix := strings.TrimSuffix(r.Network.VPC, "-vpc")
	for i, az := range systemZones(region) {
		id := w.ec2ID("subnet", region, 10+i)
		r.subnets = append(r.subnets, id)
		add(&ec2Resource{Kind: "subnet", ID: id, VpcID: r.vpc, AZ: fmt.Sprintf("%s%c", region, az),
			Cidr: fmt.Sprintf("%s.%d.0/24", cidr, 10+i), Tags: tags(fmt.Sprintf("%s-private-%c", prefix, az))})
	}
	r.sgs = map[string]string{}
	for _, l := range sortedKeys(r.Network.SecurityGroups) {
		name := r.Network.SecurityGroups[l]
		if _, ok := r.sgs[name]; ok {
			continue
		}
		id := w.ec2ID("sg", region, 20+len(r.sgs))
		r.sgs[name] = id
		add(&ec2Resource{Kind: "sg", ID: id, VpcID: r.vpc, Name: name, Tags: tags(name)})
	}
	r.dflt = w.ec2ID("sg", region, 20+len(r.sgs))
	local := [2]string{cidr + ".0.0/16", "local"}
	add(&ec2Resource{Kind: "sg", ID: r.dflt, VpcID: r.vpc, Name: defaultSGName, Tags: map[string]string{}})
	add(&ec2Resource{Kind: "rtb", ID: w.ec2ID("rtb", region, 32), VpcID: r.vpc, Default: true, Tags: map[string]string{},
		Routes: [][2]string{local}})
	add(&ec2Resource{Kind: "rtb", ID: w.ec2ID("rtb", region, 30), VpcID: r.vpc,
		Routes: [][2]string{local, {"0.0.0.0/0", w.ec2ID("igw", region, 40)}}, Tags: tags(prefix + "-public-rt")})
	add(&ec2Resource{Kind: "rtb", ID: w.ec2ID("rtb", region, 31), VpcID: r.vpc, Assoc: r.subnets,
		Routes: [][2]string{local, {"0.0.0.0/0", w.ec2ID("nat", region, 41)}}, Tags: tags(prefix + "-private-rt")})
}

// defaultNetwork builds the region's default VPC, as every AWS account has one: a subnet
// per availability zone (six in us-east-1, four in us-west-2), its default security group
// and its main route table. No system uses it; it is there so that unfiltered Describe
// calls see what an account holds, and page.
func (w *world) defaultNetwork(rs *regionState, region string) {
	add := func(res *ec2Resource) { res.Owner = w.Account; rs.EC2 = append(rs.EC2, res) }
	vpc := w.ec2ID("vpc", region, 50)
	add(&ec2Resource{Kind: "vpc", ID: vpc, Cidr: "172.31.0.0/16", Default: true, Tags: map[string]string{}})
	for i, az := range zonesOf(region) {
		add(&ec2Resource{Kind: "subnet", ID: w.ec2ID("subnet", region, 51+i), VpcID: vpc, AZ: fmt.Sprintf("%s%c", region, az),
			Cidr: fmt.Sprintf("172.31.%d.0/20", 16*i), Default: true, Tags: map[string]string{}})
	}
	add(&ec2Resource{Kind: "sg", ID: w.ec2ID("sg", region, 60), VpcID: vpc, Name: defaultSGName, Tags: map[string]string{}})
	add(&ec2Resource{Kind: "rtb", ID: w.ec2ID("rtb", region, 61), VpcID: vpc, Default: true, Tags: map[string]string{},
		Routes: [][2]string{{"172.31.0.0/16", "local"}, {"0.0.0.0/0", w.ec2ID("igw", region, 62)}}})
}

// rdsBasics gives r its subnet groups, parameter and option groups and KMS keys: the
// system's, and what RDS and KMS keep in every account (the AWS managed alias/aws/rds and
// RDS's default option groups).
func (w *world) rdsBasics(sys *system.System, r *built) {
	db := r.Database
	version := engineDefaults[db.Engine].version
	r.rs.SubnetGroups[db.SubnetGroup] = append([]string{r.vpc}, r.subnets...)
	if r.Cache != nil {
		r.rs.SubnetGroups["cache:"+r.Cache.SubnetGroup] = append([]string{r.vpc}, r.subnets...)
	}
	r.rs.ParamGroups = []string{db.ParameterGroup}
	r.rs.ParamFamilies = map[string]string{db.ParameterGroup: paramFamily(db.Engine, version)}

	// The database's key, as the file names it: a key id, a key ARN, alias/NAME or an
	// alias ARN. A key named by its id gets the alias alias/SYSTEM-prod (or -dr); one named
	// by an alias gets a made-up id. No key means the AWS managed key.
	id, alias := "", ""
	ref := db.KMSKey
	if parts := strings.SplitN(ref, ":", 6); len(parts) == 6 && parts[0] == "arn" {
		ref = parts[5]
	}
	switch {
	case strings.HasPrefix(ref, "key/"):
		id = strings.TrimPrefix(ref, "key/")
	case strings.HasPrefix(ref, "alias/"):
		alias = ref
	default:
		id = ref
	}
	octet := w.octet(r.Name)
	if id != "" || alias != "" && alias != "alias/aws/rds" {
		if id == "" {
			id = fmt.Sprintf("%08x-%04x-4000-8000-%012x", hash32(r.Name+"/"+alias), octet, octet)
		}
		r.rs.KMSKeys = append(r.rs.KMSKeys, &kmsKey{ID: id, Aliases: []string{cmp.Or(alias, "alias/"+sys.Name+"-"+r.env)}})
	}
	rdsAccountDefaults(r.rs, octet)
	for _, k := range r.rs.KMSKeys {
		if id == "" && k.Managed && slices.Contains(k.Aliases, "alias/aws/rds") {
			id = k.ID
		}
	}
	r.key = w.arn("kms", r.Name, "key/"+id)

	if og := db.OptionGroup; og != "" {
		major := majorVersion(db.Engine, version)
		r.rs.OptionGroups[og] = &optionGroup{Name: og, Description: fmt.Sprintf("Options of %s for %s %s", sys.Name, db.Engine, major),
			Engine: db.Engine, Major: major}
	}
}

// services builds r's ALB, a target group per ECS service that names one, and the ECS
// cluster with its services and their task definitions. An active region runs each
// service's desiredCount tasks, healthy since created; the other runs none.
func (w *world) services(sys *system.System, r *built, created time.Time, active bool) {
	region, octet := r.Name, w.octet(r.Name)
	envTag := tag{Key: "Environment", Value: r.env}
	lb := &loadBalancer{Name: r.LoadBalancer.Name, ARN: albARN(w.Account, region, r.LoadBalancer.Name), DNS: albDNS(r.LoadBalancer.Name, region),
		ZoneID: lbZoneID(region), VpcID: r.vpc, SGs: []string{r.sgID(lbGroups...)}, Subnets: r.subnets, Created: created,
		Tags: []tag{{Key: "Name", Value: r.LoadBalancer.Name}, envTag}}
	r.rs.LoadBalancers[lb.Name] = lb
	var taskSGs []string
	if name := r.sgName(ecsGroups...); name != "" {
		taskSGs = []string{name}
	}
	cl := &ecsCluster{Name: r.ECS.Cluster, Services: map[string]*ecsService{}, Tags: []tag{envTag}}
	tasks := 0
	for _, l := range r.ServiceNames() {
		svc := r.ECS.Services[l]
		if _, ok := r.rs.TaskDefs[svc.TaskFamily]; !ok {
			r.rs.TaskDefs[svc.TaskFamily] = []*taskDef{{Family: svc.TaskFamily, Revision: 1, At: created, Body: w.taskDefBody(r, svc)}}
		}
		tdARN := w.arn("ecs", region, fmt.Sprintf("task-definition/%s:1", svc.TaskFamily))
		tg := ""
		if svc.TargetGroup != "" {
			tg = targetGroupARN(w.Account, region, svc.TargetGroup)
			r.rs.TargetGroups[svc.TargetGroup] = &targetGroup{Name: svc.TargetGroup, ARN: tg, LB: lb.ARN, VpcID: r.vpc,
				Cluster: cl.Name, Service: svc.Name, Tags: []tag{{Key: "Name", Value: svc.TargetGroup}, envTag}}
		}
		desired := 0
		if active {
			desired = svc.DesiredCount
		}
		es := &ecsService{Name: svc.Name, TaskDef: tdARN, Desired: desired, TargetGroup: tg, SecurityGroups: taskSGs,
			Created: created, DeployAt: created, StableAt: created, Tags: []tag{envTag}}
		for range desired {
			n := w.next()
			es.Tasks = append(es.Tasks, &task{ID: fmt.Sprintf("%032x", n), TaskDef: tdARN,
				IP: fmt.Sprintf("10.%d.%d.%d", octet, 10+tasks/150, 100+tasks%150), Start: created, Healthy: created})
			tasks++
		}
		cl.Services[svc.Name] = es
	}
	r.rs.Clusters[cl.Name] = cl
}

// taskDefBody is the first revision of svc's task definition in r: one Fargate container
// running the file's image (or the family's in the account's ECR), listening on 8080, with
// each of the region's secrets as an environment variable (db as DB_SECRET, ...).
func (w *world) taskDefBody(r *built, svc *system.Service) map[string]json.RawMessage {
	type secretRef struct {
		Name      string `json:"name"`
		ValueFrom string `json:"valueFrom"`
	}
	secrets := []secretRef{}
	for _, l := range sortedKeys(r.Secrets) {
		secrets = append(secrets, secretRef{strings.ToUpper(strings.ReplaceAll(l, "-", "_")) + "_SECRET", r.Secrets[l]})
	}
	image := cmp.Or(svc.Image, fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s:latest", w.Account, r.Name, svc.TaskFamily))
	containers, _ := json.Marshal([]map[string]any{{"name": "app", "image": image, "essential": true,
		"portMappings": []map[string]any{{"containerPort": 8080, "protocol": "tcp"}}, "secrets": secrets}})
	return map[string]json.RawMessage{
		"containerDefinitions":    containers,
		"cpu":                     []byte(`"1024"`),
		"memory":                  []byte(`"2048"`),
		"networkMode":             []byte(`"awsvpc"`),
		"requiresCompatibilities": []byte(`["FARGATE"]`),
	}
}
