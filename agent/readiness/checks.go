package readiness

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	awsx "github.com/kirikae/kirikae/agent/aws"
	"github.com/kirikae/kirikae/human"
	"github.com/kirikae/kirikae/system"
)

// maxPages bounds every paginated listing, so a huge account cannot stall a check.
const maxPages = 20

// pass is one Run's view of the system: the agent's region in it and that region's
// clients. Every check of the run reads the same system, even if a new one arrives during
// the run.
type pass struct {
	*Checker
	sys    *system.System
	r      *system.Region // the agent's region
	region string
}

// plan lists the checks of the agent's region in sys, in report order.
func (c *Checker) plan(sys *system.System) []check {
	if sys == nil {
		return []check{{CheckSystemStored, func(context.Context) result { return fail("none", "%s", NoSystemDetail) }}}
	}
	r := sys.RegionOf(c.cfg.Region)
	if r == nil {
		p, s := sys.Role(system.Primary), sys.Role(system.Secondary)
		return []check{{CheckSystemRegion, func(context.Context) result {
			return fail(c.cfg.Region, "this agent's region %s is not in system %s, whose pair is %s (primary) → %s (secondary): run the agent in one of them, or apply the system file of this region's pair",
				c.cfg.Region, sys.Name, p.Name, s.Name)
		}}}
	}
	p := &pass{Checker: c, sys: sys, r: r, region: r.Name}
	primary := r.Role == system.Primary
	var checks []check
	add := func(name string, run func(context.Context) result) { checks = append(checks, check{name, run}) }
	if primary {
		add(CheckPrimaryNetwork, p.network)
	} else {
		add(CheckNetwork, p.network)
	}
	if len(r.Network.SecurityGroups) > 0 {
		add(CheckSecurityGroups, p.securityGroups)
	}
	add(CheckLoadBalancer, p.loadBalancer)
	if len(p.targetGroups()) > 0 {
		add(CheckTargetGroup, p.targetGroup)
	}
	add(CheckECSCluster, p.ecsCluster)
	add(CheckDBParameterGroup, p.dbParameterGroup)
	if r.Database.OptionGroup != "" {
		add(CheckDBOptionGroup, p.dbOptionGroup)
	}
	add(CheckDBSubnetGroup, p.dbSubnetGroup)
	if r.Database.KMSKey != "" {
		add(CheckKMSKey, p.kmsKey)
	}
	if primary {
		add(CheckBackupRetention, p.backupRetention)
		add(CheckPITR, p.pitr)
	} else {
		add(CheckSnapshotCopyAge, p.snapshotCopyAge)
		add(CheckBackupRetention, p.notHere)
		add(CheckPITR, p.notHere)
	}
	if r.Cache != nil {
		if primary {
			add(CheckCacheReplicationGroup, p.cacheReplicationGroup)
		}
		add(CheckCacheSubnetGroup, p.cacheSubnetGroup)
	}
	if r.Backup != nil {
		if primary {
			add(CheckBackupVault, p.backupVault)
		} else {
			add(CheckEFSCopyAge, p.efsCopyAge)
		}
	}
	if src, dst := sys.Role(system.Primary).Bucket, sys.Role(system.Secondary).Bucket; src != "" && dst != "" {
		add(CheckS3Replication, p.s3Replication)
	}
	if len(r.Secrets) > 0 {
		add(CheckSecrets, p.secrets)
	}
	if len(r.Topics) > 0 {
		add(CheckSNSTopics, p.snsTopics)
	}
	add(CheckDNSRecord, p.dnsRecord)
	return checks
}

// clients are the clients of the agent's region; a failure to build them fails the check.
func (p *pass) clients(ctx context.Context) (*Clients, result, bool) {
	cl, err := p.clientsFor(ctx, p.region)
	if err != nil {
		return nil, fail("", "%v", err), false
	}
	return cl, result{}, true
}

func noClient(service string) result {
	return fail("", "no %s client configured", service)
}

// primaryDB is the database the secondary's snapshot copies are copies of.
func (p *pass) primaryDB() string { return p.sys.Role(system.Primary).Database.Instance }

// rpo is the system's recovery point objective.
func (p *pass) rpo() time.Duration { return p.sys.Objectives.RPO }

// notHere is backup retention and PITR in the secondary: the source instance lives in the
// primary region, whose agent checks it. The secondary's agent does not call across regions
// for it, so that an outage of the primary region does not also make the secondary look
// unready for a setting of the instance that is gone.
func (p *pass) notHere(context.Context) result {
	pr := p.sys.Role(system.Primary)
	return ok(skipped, "checked by the %s agent: source instance %s is in the primary region %s, not in this secondary region %s",
		pr.Name, pr.Database.Instance, pr.Name, p.region)
}

// findVPC returns the id of the region's VPC by its Name tag, how many VPCs carry the tag,
// or the failed result.
func (p *pass) findVPC(ctx context.Context, api EC2API) (string, int, result, bool) {
	name := p.r.Network.VPC
	vpcs, err := api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{
		Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{name}}}})
	if err != nil {
		return "", 0, p.callFailed(ctx, p.region, "ec2 DescribeVpcs", err), false
	}
	if len(vpcs.Vpcs) == 0 {
		return "", 0, fail("no VPC", "no VPC tagged Name=%s in %s", name, p.region), false
	}
	return aws.ToString(vpcs.Vpcs[0].VpcId), len(vpcs.Vpcs), result{}, true
}

// network: the VPC tagged Name=network.vpc, at least MinSubnets subnets over two AZs, a
// security group other than "default", and a route table other than the main one as AWS
// creates it. Every VPC has a default security group and a main route table from its
// creation (https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html,
// https://docs.aws.amazon.com/vpc/latest/userguide/RouteTables.html: "Main route table—The
// route table that automatically comes with your VPC"), so counting them would pass an
// empty VPC; neither is counted, unless the main table was given routes of its own.
func (p *pass) network(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api, region, name := cl.EC2, p.region, p.r.Network.VPC
	if api == nil {
		return noClient("EC2")
	}
	vpc, nVPCs, r, found := p.findVPC(ctx, api)
	if !found {
		return r
	}
	byVPC := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}

	azs := map[string]bool{}
	nSubnets := 0
	sp := ec2.NewDescribeSubnetsPaginator(api, &ec2.DescribeSubnetsInput{Filters: byVPC})
	for page := 0; sp.HasMorePages() && page < maxPages; page++ {
		out, err := sp.NextPage(ctx)
		if err != nil {
			return p.callFailed(ctx, region, "ec2 DescribeSubnets", err)
		}
		for _, s := range out.Subnets {
			nSubnets++
			azs[aws.ToString(s.AvailabilityZone)] = true
		}
	}
	nSGs := 0
	gp := ec2.NewDescribeSecurityGroupsPaginator(api, &ec2.DescribeSecurityGroupsInput{Filters: byVPC})
	for page := 0; gp.HasMorePages() && page < maxPages; page++ {
		out, err := gp.NextPage(ctx)
		if err != nil {
			return p.callFailed(ctx, region, "ec2 DescribeSecurityGroups", err)
		}
		for _, g := range out.SecurityGroups {
			if aws.ToString(g.GroupName) != "default" {
				nSGs++
			}
		}
	}
	nRTs := 0
	rp := ec2.NewDescribeRouteTablesPaginator(api, &ec2.DescribeRouteTablesInput{Filters: byVPC})
	for page := 0; rp.HasMorePages() && page < maxPages; page++ {
		out, err := rp.NextPage(ctx)
		if err != nil {
			return p.callFailed(ctx, region, "ec2 DescribeRouteTables", err)
		}
		for _, rt := range out.RouteTables {
			if !bareMainTable(rt) {
				nRTs++
			}
		}
	}

	observed := fmt.Sprintf("%s: %d subnets in %d AZs, %d security groups, %d route tables", vpc, nSubnets, len(azs), nSGs, nRTs)
	minAZs := min(2, p.cfg.MinSubnets)
	var problems []string
	if nSubnets < p.cfg.MinSubnets {
		problems = append(problems, fmt.Sprintf("%d subnets < %d", nSubnets, p.cfg.MinSubnets))
	}
	if len(azs) < minAZs {
		problems = append(problems, fmt.Sprintf("subnets in %d AZs < %d", len(azs), minAZs))
	}
	if nSGs == 0 {
		problems = append(problems, "no security group besides default")
	}
	if nRTs == 0 {
		problems = append(problems, "no route table besides the main one with only its local routes")
	}
	if len(problems) > 0 {
		return fail(observed, "%s VPC %s (%s) in %s: %s", p.r.Role, name, vpc, region, strings.Join(problems, "; "))
	}
	if nVPCs > 1 {
		return warn(observed, "%d VPCs are tagged Name=%s in %s; checked the first, %s", nVPCs, name, region, vpc)
	}
	return ok(observed, "%s VPC %s (%s) in %s has %d subnets in %d AZs, %d security groups and %d route tables",
		p.r.Role, name, vpc, region, nSubnets, len(azs), nSGs, nRTs)
}

// bareMainTable is whether rt is a VPC's main route table with nothing but local routes
// (gateway "local", the VPC's own CIDRs), as AWS creates it with the VPC.
func bareMainTable(rt ec2types.RouteTable) bool {
	main := false
	for _, a := range rt.Associations {
		main = main || aws.ToBool(a.Main)
	}
	if !main {
		return false
	}
	for _, r := range rt.Routes {
		if aws.ToString(r.GatewayId) != "local" {
			return false
		}
	}
	return true
}

// securityGroups: every security group network.securityGroups names exists, by its group
// name, in the region's VPC.
func (p *pass) securityGroups(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api, region := cl.EC2, p.region
	if api == nil {
		return noClient("EC2")
	}
	vpc, _, r, found := p.findVPC(ctx, api)
	if !found {
		r.detail += ": its security groups cannot be there"
		return r
	}
	want := p.r.Network.SecurityGroups
	logical := sortedKeys(want)
	names := make([]string, 0, len(logical))
	for _, l := range logical {
		names = append(names, want[l])
	}
	have := map[string]string{} // name → id
	gp := ec2.NewDescribeSecurityGroupsPaginator(api, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("group-name"), Values: names}}})
	for page := 0; gp.HasMorePages() && page < maxPages; page++ {
		out, err := gp.NextPage(ctx)
		if err != nil {
			return p.callFailed(ctx, region, "ec2 DescribeSecurityGroups", err)
		}
		for _, g := range out.SecurityGroups {
			have[aws.ToString(g.GroupName)] = aws.ToString(g.GroupId)
		}
	}
	var missing, present []string
	for _, l := range logical {
		if id := have[want[l]]; id != "" {
			present = append(present, fmt.Sprintf("%s (%s) %s", want[l], l, id))
		} else {
			missing = append(missing, fmt.Sprintf("%s (%s)", want[l], l))
		}
	}
	observed := fmt.Sprintf("%d/%d present", len(present), len(logical))
	if len(missing) > 0 {
		return fail(observed, "security groups missing from VPC %s (%s) in %s: %s", p.r.Network.VPC, vpc, region, strings.Join(missing, ", "))
	}
	return ok(observed, "security groups %s exist in VPC %s in %s", strings.Join(present, ", "), p.r.Network.VPC, region)
}

func (p *pass) loadBalancer(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api, region, name := cl.ELB, p.region, p.r.LoadBalancer.Name
	if api == nil {
		return noClient("ELBv2")
	}
	out, err := api.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{name}})
	if isNotFound(err, "LoadBalancerNotFound") || err == nil && len(out.LoadBalancers) == 0 {
		return fail("absent", "load balancer %s does not exist in %s", name, region)
	}
	if err != nil {
		return p.callFailed(ctx, region, "elbv2 DescribeLoadBalancers", err)
	}
	lb := out.LoadBalancers[0]
	state := elbtypes.LoadBalancerStateEnum("")
	if lb.State != nil {
		state = lb.State.Code
	}
	observed := string(state)
	switch state {
	case elbtypes.LoadBalancerStateEnumActive:
		return ok(observed, "load balancer %s is active in %s (%s)", name, region, aws.ToString(lb.DNSName))
	case elbtypes.LoadBalancerStateEnumProvisioning, elbtypes.LoadBalancerStateEnumActiveImpaired:
		return warn(observed, "load balancer %s in %s is %s", name, region, state)
	default:
		return fail(observed, "load balancer %s in %s is %q, not active", name, region, state)
	}
}

// tgRef is the target group of one ECS service.
type tgRef struct{ service, name string }

// targetGroups lists the target groups of the region's ECS services, by logical service
// name.
func (p *pass) targetGroups() []tgRef {
	var out []tgRef
	for _, l := range p.r.ServiceNames() {
		if tg := p.r.ECS.Services[l].TargetGroup; tg != "" {
			out = append(out, tgRef{l, tg})
		}
	}
	return out
}

// targetGroup: the target group of every ECS service exists and is attached to the load
// balancer. Targets are not graded: a secondary's services run 0 tasks until failover.
func (p *pass) targetGroup(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api, region, lbName := cl.ELB, p.region, p.r.LoadBalancer.Name
	if api == nil {
		return noClient("ELBv2")
	}
	var problems, good []string
	for _, ref := range p.targetGroups() {
		out, err := api.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{ref.name}})
		if isNotFound(err, "TargetGroupNotFound") || err == nil && len(out.TargetGroups) == 0 {
			problems = append(problems, fmt.Sprintf("target group %s of service %s does not exist", ref.name, ref.service))
			continue
		}
		if err != nil {
			return p.callFailed(ctx, region, "elbv2 DescribeTargetGroups "+ref.name, err)
		}
		attached := false
		for _, a := range out.TargetGroups[0].LoadBalancerArns {
			attached = attached || strings.Contains(a, "/"+lbName+"/")
		}
		if !attached {
			problems = append(problems, fmt.Sprintf("target group %s of service %s is not attached to load balancer %s", ref.name, ref.service, lbName))
			continue
		}
		good = append(good, fmt.Sprintf("%s (%s)", ref.name, ref.service))
	}
	n := len(p.targetGroups())
	observed := fmt.Sprintf("%d/%d attached", len(good), n)
	if len(problems) > 0 {
		return fail(observed, "in %s: %s", region, strings.Join(problems, "; "))
	}
	return ok(observed, "target groups %s exist in %s and are attached to load balancer %s", strings.Join(good, ", "), region, lbName)
}

// ecsCluster: the cluster is ACTIVE and every service of the system exists in it and is
// ACTIVE (a secondary's desired count is 0 until failover, as expected).
func (p *pass) ecsCluster(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api, region, name := cl.ECS, p.region, p.r.ECS.Cluster
	if api == nil {
		return noClient("ECS")
	}
	out, err := api.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{name}})
	if err != nil {
		return p.callFailed(ctx, region, "ecs DescribeClusters", err)
	}
	if len(out.Clusters) == 0 {
		return fail("absent", "ECS cluster %s does not exist in %s", name, region)
	}
	if st := aws.ToString(out.Clusters[0].Status); st != "ACTIVE" {
		return fail(st, "ECS cluster %s in %s is %s, not ACTIVE", name, region, st)
	}
	logical := p.r.ServiceNames()
	byName := map[string]ecstypes.Service{}
	for chunk := range slices.Chunk(logical, 10) { // DescribeServices takes at most 10
		names := make([]string, len(chunk))
		for i, l := range chunk {
			names[i] = p.r.ECS.Services[l].Name
		}
		svcs, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(name), Services: names})
		if err != nil {
			return p.callFailed(ctx, region, "ecs DescribeServices", err)
		}
		for _, s := range svcs.Services {
			byName[aws.ToString(s.ServiceName)] = s
		}
	}
	var problems, seen []string
	for _, l := range logical {
		svcName := p.r.ECS.Services[l].Name
		s, found := byName[svcName]
		if !found {
			problems = append(problems, fmt.Sprintf("no service %s (%s)", svcName, l))
			continue
		}
		st := aws.ToString(s.Status)
		seen = append(seen, fmt.Sprintf("%s %s desired %d running %d", svcName, st, s.DesiredCount, s.RunningCount))
		if st != "ACTIVE" {
			problems = append(problems, fmt.Sprintf("service %s (%s) is %s, not ACTIVE", svcName, l, st))
		}
	}
	observed := "ACTIVE"
	if len(seen) > 0 {
		observed += ", " + strings.Join(seen, ", ")
	}
	if len(problems) > 0 {
		return fail(observed, "ECS cluster %s in %s: %s", name, region, strings.Join(problems, "; "))
	}
	return ok(observed, "ECS cluster %s is ACTIVE in %s with services %s", name, region, strings.Join(seen, ", "))
}

func (p *pass) dbParameterGroup(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api, region, name := cl.RDS, p.region, p.r.Database.ParameterGroup
	if api == nil {
		return noClient("RDS")
	}
	out, err := api.DescribeDBParameterGroups(ctx, &rds.DescribeDBParameterGroupsInput{DBParameterGroupName: aws.String(name)})
	if isNotFound(err, "DBParameterGroupNotFound") || err == nil && len(out.DBParameterGroups) == 0 {
		return fail("absent", "DB parameter group %s does not exist in %s", name, region)
	}
	if err != nil {
		return p.callFailed(ctx, region, "rds DescribeDBParameterGroups", err)
	}
	family := aws.ToString(out.DBParameterGroups[0].DBParameterGroupFamily)
	return ok(family, "DB parameter group %s (%s) exists in %s", name, family, region)
}

func (p *pass) dbOptionGroup(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api, region, name := cl.RDS, p.region, p.r.Database.OptionGroup
	if api == nil {
		return noClient("RDS")
	}
	out, err := api.DescribeOptionGroups(ctx, &rds.DescribeOptionGroupsInput{OptionGroupName: aws.String(name)})
	if isNotFound(err, "OptionGroupNotFoundFault", "OptionGroupNotFound") || err == nil && len(out.OptionGroupsList) == 0 {
		return fail("absent", "DB option group %s does not exist in %s", name, region)
	}
	if err != nil {
		return p.callFailed(ctx, region, "rds DescribeOptionGroups", err)
	}
	engine := aws.ToString(out.OptionGroupsList[0].EngineName)
	return ok(engine, "DB option group %s (%s) exists in %s", name, engine, region)
}

func (p *pass) dbSubnetGroup(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api, region, name := cl.RDS, p.region, p.r.Database.SubnetGroup
	if api == nil {
		return noClient("RDS")
	}
	out, err := api.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String(name)})
	if isNotFound(err, "DBSubnetGroupNotFoundFault", "DBSubnetGroupNotFound") || err == nil && len(out.DBSubnetGroups) == 0 {
		return fail("absent", "DB subnet group %s does not exist in %s", name, region)
	}
	if err != nil {
		return p.callFailed(ctx, region, "rds DescribeDBSubnetGroups", err)
	}
	g := out.DBSubnetGroups[0]
	azs := map[string]bool{}
	for _, s := range g.Subnets {
		if s.SubnetAvailabilityZone != nil {
			azs[aws.ToString(s.SubnetAvailabilityZone.Name)] = true
		}
	}
	observed := fmt.Sprintf("%s: %d subnets in %d AZs, %s", aws.ToString(g.VpcId), len(g.Subnets), len(azs), aws.ToString(g.SubnetGroupStatus))
	if len(azs) < 2 {
		return fail(observed, "DB subnet group %s in %s spans %d AZs; RDS needs at least 2", name, region, len(azs))
	}
	return ok(observed, "DB subnet group %s exists in %s with %d subnets in %d AZs", name, region, len(g.Subnets), len(azs))
}

// kmsKey: the key database.kmsKey names (the key of the region's snapshot copies or of its
// instance) exists in the region and is enabled.
func (p *pass) kmsKey(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api, region, key := cl.KMS, p.region, p.r.Database.KMSKey
	if api == nil {
		return noClient("KMS")
	}
	out, err := api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(key)})
	if isNotFound(err, "NotFoundException") {
		return fail("absent", "KMS key %s does not exist in %s", key, region)
	}
	if err != nil {
		return p.callFailed(ctx, region, "kms DescribeKey", err)
	}
	md := out.KeyMetadata
	if md == nil {
		return fail("", "KMS key %s in %s: DescribeKey answered no key metadata", key, region)
	}
	state := md.KeyState
	if state != kmstypes.KeyStateEnabled {
		return fail(string(state), "KMS key %s (%s) in %s is %s, not Enabled", key, aws.ToString(md.KeyId), region, state)
	}
	return ok(string(state), "KMS key %s (%s) is enabled in %s", key, aws.ToString(md.KeyId), region)
}

// snapshotCopyAge: the newest available cross-region copy of the primary's database in
// this region, aged from when its data was captured (awsx.SnapshotDataTime, as the restore
// executor ages it), must be younger than the system's RPO.
func (p *pass) snapshotCopyAge(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api, region, src, rpo := cl.RDS, p.region, p.primaryDB(), p.rpo()
	if api == nil {
		return noClient("RDS")
	}
	var newest, newestPending time.Time
	var newestID string
	pg := rds.NewDescribeDBSnapshotsPaginator(api, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String(src)})
	for page := 0; pg.HasMorePages() && page < maxPages; page++ {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return p.callFailed(ctx, region, "rds DescribeDBSnapshots", err)
		}
		for i := range out.DBSnapshots {
			s := &out.DBSnapshots[i]
			if !isCrossRegionCopy(aws.ToString(s.SourceRegion), aws.ToString(s.SourceDBSnapshotIdentifier), region) {
				continue
			}
			t := awsx.SnapshotDataTime(s)
			if aws.ToString(s.Status) != "available" {
				if t.After(newestPending) {
					newestPending = t
				}
				continue
			}
			if t.After(newest) {
				newest, newestID = t, aws.ToString(s.DBSnapshotIdentifier)
			}
		}
	}
	pending := ""
	if newestPending.After(newest) {
		pending = "; a newer copy is still in progress"
	}
	if newestID == "" {
		return fail("none", "no available snapshot copy of %s in %s: RPO %s cannot be met%s", src, region, human.Duration(rpo), pending)
	}
	a := max(p.cfg.Clock().Sub(newest), 0)
	if a > rpo {
		return fail(age(a), "newest snapshot copy of %s in %s is %s old > RPO %s (%s)%s",
			src, region, human.Duration(a), human.Duration(rpo), newestID, pending)
	}
	return ok(age(a), "newest snapshot copy of %s in %s is %s old <= RPO %s (%s)", src, region, human.Duration(a), human.Duration(rpo), newestID)
}

// isCrossRegionCopy: the snapshot came from another region, by its SourceRegion or the
// region of its SourceDBSnapshotIdentifier ARN.
func isCrossRegionCopy(sourceRegion, sourceARN, region string) bool {
	if sourceRegion != "" && sourceRegion != region {
		return true
	}
	if rest, found := strings.CutPrefix(sourceARN, "arn:aws:rds:"); found {
		r, _, _ := strings.Cut(rest, ":")
		return r != "" && r != region
	}
	return false
}

// newestRecoveryPoint lists the completed EFS recovery points of the region's backup vault
// and returns the newest; absent is true when the vault does not exist.
func (p *pass) newestRecoveryPoint(ctx context.Context, api BackupAPI) (newest time.Time, arn string, absent bool, err error) {
	pg := backup.NewListRecoveryPointsByBackupVaultPaginator(api, &backup.ListRecoveryPointsByBackupVaultInput{
		BackupVaultName: aws.String(p.r.Backup.Vault), ByResourceType: aws.String("EFS")})
	for page := 0; pg.HasMorePages() && page < maxPages; page++ {
		out, err := pg.NextPage(ctx)
		if isNotFound(err, "ResourceNotFoundException") {
			return newest, "", true, nil
		}
		if err != nil {
			return newest, "", false, err
		}
		for _, rp := range out.RecoveryPoints {
			if rp.Status != "COMPLETED" || rp.CreationDate == nil {
				continue
			}
			if rp.CreationDate.After(newest) {
				newest, arn = *rp.CreationDate, aws.ToString(rp.RecoveryPointArn)
			}
		}
	}
	return newest, arn, false, nil
}

// efsCopyAge (secondary): the newest completed EFS recovery point in the backup vault,
// where the primary's backups are copied. EFS is backed up and copied daily, so the limit
// is EFSMaxAge (24 h + 2 h margin): older is FAIL, a missed daily copy. Within it the check
// is OK, and the detail says when the age is over the RPO, which a daily plan cannot meet
// for EFS by design.
func (p *pass) efsCopyAge(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api, region, vault, rpo := cl.Backup, p.region, p.r.Backup.Vault, p.rpo()
	if api == nil {
		return noClient("Backup")
	}
	newest, newestARN, absent, err := p.newestRecoveryPoint(ctx, api)
	switch {
	case absent:
		return fail("absent", "backup vault %s does not exist in %s", vault, region)
	case err != nil:
		return p.callFailed(ctx, region, "backup ListRecoveryPointsByBackupVault", err)
	case newestARN == "":
		return fail("none", "no completed EFS recovery point in %s in %s", vault, region)
	}
	a := max(p.cfg.Clock().Sub(newest), 0)
	if a > p.cfg.EFSMaxAge {
		return fail(age(a), "newest EFS recovery point copy in %s (%s) is %s old > %s (daily copy missed)",
			vault, region, human.Duration(a), human.Duration(p.cfg.EFSMaxAge))
	}
	note := ""
	if a > rpo {
		note = fmt.Sprintf("; over RPO %s, as a daily copy is by design", human.Duration(rpo))
	}
	return ok(age(a), "newest EFS recovery point copy in %s (%s) is %s old <= %s%s", vault, region, human.Duration(a), human.Duration(p.cfg.EFSMaxAge), note)
}

// backupVault (primary): the backup vault exists. Its recovery points are not graded here:
// a failover restores from the copies in the secondary's vault, which that region's agent
// ages.
func (p *pass) backupVault(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api, region, vault := cl.Backup, p.region, p.r.Backup.Vault
	if api == nil {
		return noClient("Backup")
	}
	newest, newestARN, absent, err := p.newestRecoveryPoint(ctx, api)
	switch {
	case absent:
		return fail("absent", "backup vault %s does not exist in %s", vault, region)
	case err != nil:
		return p.callFailed(ctx, region, "backup ListRecoveryPointsByBackupVault", err)
	case newestARN == "":
		return ok("no recovery point", "backup vault %s exists in %s and holds no completed EFS recovery point; a failover restores from the copies in %s",
			vault, region, p.sys.Role(system.Secondary).Name)
	}
	a := max(p.cfg.Clock().Sub(newest), 0)
	return ok(age(a), "backup vault %s exists in %s; its newest EFS recovery point is %s old", vault, region, human.Duration(a))
}

// backupRetention (primary): the database keeps automated backups at least Retention days.
func (p *pass) backupRetention(ctx context.Context) result {
	region, db := p.region, p.r.Database.Instance
	in, r, found := p.instance(ctx)
	if !found {
		return r
	}
	days := int(aws.ToInt32(in.BackupRetentionPeriod))
	want := int((p.cfg.Retention + 24*time.Hour - 1) / (24 * time.Hour))
	observed := fmt.Sprintf("%d days", days)
	if days < want {
		return fail(observed, "backup retention of %s in %s is %d days < %d", db, region, days, want)
	}
	return ok(observed, "backup retention of %s in %s is %d days >= %d", db, region, days, want)
}

// pitr (primary): automated backups are on (retention > 0) and the latest restorable time
// lags less than the system's RPO.
func (p *pass) pitr(ctx context.Context) result {
	region, db, rpo := p.region, p.r.Database.Instance, p.rpo()
	in, r, found := p.instance(ctx)
	if !found {
		return r
	}
	if aws.ToInt32(in.BackupRetentionPeriod) == 0 {
		return fail("disabled", "PITR is disabled on %s in %s: backup retention is 0", db, region)
	}
	if in.LatestRestorableTime == nil {
		return fail("no restorable time", "PITR of %s in %s has no latest restorable time yet", db, region)
	}
	lag := max(p.cfg.Clock().Sub(*in.LatestRestorableTime), 0)
	if lag > rpo {
		return fail(age(lag), "latest restorable time of %s in %s lags %s > RPO %s", db, region, human.Duration(lag), human.Duration(rpo))
	}
	return ok(age(lag), "PITR is enabled on %s in %s; latest restorable time lags %s", db, region, human.Duration(lag))
}

// instance describes the region's database; found is false when r holds the failed result.
func (p *pass) instance(ctx context.Context) (in rdstypes.DBInstance, r result, found bool) {
	cl, r, found := p.clients(ctx)
	if !found {
		return in, r, false
	}
	api, region, db := cl.RDS, p.region, p.r.Database.Instance
	if api == nil {
		return in, noClient("RDS"), false
	}
	out, err := api.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(db)})
	if isNotFound(err, "DBInstanceNotFound", "DBInstanceNotFoundFault") || err == nil && len(out.DBInstances) == 0 {
		return in, fail("absent", "DB instance %s does not exist in %s", db, region), false
	}
	if err != nil {
		return in, p.callFailed(ctx, region, "rds DescribeDBInstances", err), false
	}
	return out.DBInstances[0], r, true
}

// cacheReplicationGroup (primary): the replication group runs. The secondary has none
// before a failover, which creates it new and empty.
func (p *pass) cacheReplicationGroup(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api, region, id := cl.ElastiCache, p.region, p.r.Cache.ReplicationGroup
	if api == nil {
		return noClient("ElastiCache")
	}
	out, err := api.DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(id)})
	if isNotFound(err, "ReplicationGroupNotFoundFault", "ReplicationGroupNotFound") || err == nil && len(out.ReplicationGroups) == 0 {
		return fail("absent", "ElastiCache replication group %s does not exist in %s", id, region)
	}
	if err != nil {
		return p.callFailed(ctx, region, "elasticache DescribeReplicationGroups", err)
	}
	st := aws.ToString(out.ReplicationGroups[0].Status)
	switch st {
	case "available":
		return ok(st, "ElastiCache replication group %s is available in %s with %d cache clusters", id, region, len(out.ReplicationGroups[0].MemberClusters))
	case "modifying", "snapshotting":
		return warn(st, "ElastiCache replication group %s in %s is %s", id, region, st)
	default:
		return fail(st, "ElastiCache replication group %s in %s is %s, not available", id, region, st)
	}
}

// cacheSubnetGroup: the cache subnet group exists, so that a failover can create the
// cache in it (in the primary, the running cache uses it).
func (p *pass) cacheSubnetGroup(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api, region, name := cl.ElastiCache, p.region, p.r.Cache.SubnetGroup
	if api == nil {
		return noClient("ElastiCache")
	}
	out, err := api.DescribeCacheSubnetGroups(ctx, &elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String(name)})
	if isNotFound(err, "CacheSubnetGroupNotFoundFault") || err == nil && len(out.CacheSubnetGroups) == 0 {
		return fail("absent", "cache subnet group %s does not exist in %s", name, region)
	}
	if err != nil {
		return p.callFailed(ctx, region, "elasticache DescribeCacheSubnetGroups", err)
	}
	g := out.CacheSubnetGroups[0]
	azs := map[string]bool{}
	for _, s := range g.Subnets {
		if s.SubnetAvailabilityZone != nil {
			azs[aws.ToString(s.SubnetAvailabilityZone.Name)] = true
		}
	}
	observed := fmt.Sprintf("%s: %d subnets in %d AZs", aws.ToString(g.VpcId), len(g.Subnets), len(azs))
	if len(g.Subnets) == 0 {
		return fail(observed, "cache subnet group %s in %s has no subnets", name, region)
	}
	return ok(observed, "cache subnet group %s exists in %s with %d subnets in %d AZs", name, region, len(g.Subnets), len(azs))
}

// s3Replication: the primary's bucket has an enabled replication rule to the secondary's.
// S3 answers bucket configuration calls in the bucket's own region, so the call goes to the
// primary region from either role.
func (p *pass) s3Replication(ctx context.Context) result {
	pr, sr := p.sys.Role(system.Primary), p.sys.Role(system.Secondary)
	region, src, dst := pr.Name, pr.Bucket, sr.Bucket
	cl, err := p.clientsFor(ctx, region)
	if err != nil {
		return fail("", "%v", err)
	}
	api := cl.S3
	if api == nil {
		return noClient("S3")
	}
	out, err := api.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String(src)})
	if isNotFound(err, "ReplicationConfigurationNotFoundError") {
		return fail("none", "bucket %s has no replication configuration", src)
	}
	if isNotFound(err, "NoSuchBucket") {
		return fail("absent", "bucket %s does not exist", src)
	}
	if err != nil {
		return p.callFailed(ctx, region, "s3 GetBucketReplication", err)
	}
	wantARN := "arn:aws:s3:::" + dst
	var seen []string
	if out.ReplicationConfiguration != nil {
		for _, rule := range out.ReplicationConfiguration.Rules {
			to := ""
			if rule.Destination != nil {
				to = aws.ToString(rule.Destination.Bucket)
			}
			seen = append(seen, fmt.Sprintf("%s→%s", rule.Status, strings.TrimPrefix(to, "arn:aws:s3:::")))
			if rule.Status == s3types.ReplicationRuleStatusEnabled && (to == wantARN || to == dst) {
				return ok(src+" → "+dst, "bucket %s replicates to %s (rule %s enabled)", src, dst, aws.ToString(rule.ID))
			}
		}
	}
	slices.Sort(seen)
	return fail(strings.Join(seen, ", "), "bucket %s has no enabled replication rule to %s", src, dst)
}

// secrets: every secret the region names exists and is not scheduled for deletion. Values
// are never read.
func (p *pass) secrets(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api, region := cl.Secrets, p.region
	if api == nil {
		return noClient("Secrets Manager")
	}
	logical := sortedKeys(p.r.Secrets)
	var names, missing, deleting []string
	for _, l := range logical {
		name := p.r.Secrets[l]
		names = append(names, name)
		out, err := api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
		switch {
		case isNotFound(err, "ResourceNotFoundException"):
			missing = append(missing, fmt.Sprintf("%s (%s)", name, l))
		case err != nil:
			return p.callFailed(ctx, region, "secretsmanager DescribeSecret "+name, err)
		case out.DeletedDate != nil:
			deleting = append(deleting, fmt.Sprintf("%s (%s)", name, l))
		}
	}
	observed := fmt.Sprintf("%d/%d present", len(names)-len(missing)-len(deleting), len(names))
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "missing: "+strings.Join(missing, ", "))
	}
	if len(deleting) > 0 {
		problems = append(problems, "scheduled for deletion: "+strings.Join(deleting, ", "))
	}
	if len(problems) > 0 {
		return fail(observed, "secrets in %s: %s", region, strings.Join(problems, "; "))
	}
	return ok(observed, "secrets %s exist in %s", strings.Join(names, ", "), region)
}

// snsTopics: every topic the region names exists there, found by name among the region's
// topics (no account is needed to build its ARN).
func (p *pass) snsTopics(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api, region := cl.SNS, p.region
	if api == nil {
		return noClient("SNS")
	}
	have := map[string]string{} // name → ARN
	pg := sns.NewListTopicsPaginator(api, &sns.ListTopicsInput{})
	for page := 0; pg.HasMorePages() && page < maxPages; page++ {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return p.callFailed(ctx, region, "sns ListTopics", err)
		}
		for _, t := range out.Topics {
			a := aws.ToString(t.TopicArn)
			have[a[strings.LastIndexByte(a, ':')+1:]] = a
		}
	}
	logical := sortedKeys(p.r.Topics)
	var names, missing []string
	for _, l := range logical {
		name := p.r.Topics[l]
		names = append(names, name)
		if have[name] == "" {
			missing = append(missing, fmt.Sprintf("%s (%s)", name, l))
		}
	}
	observed := fmt.Sprintf("%d/%d present", len(names)-len(missing), len(names))
	if len(missing) > 0 {
		return fail(observed, "SNS topics missing in %s: %s", region, strings.Join(missing, ", "))
	}
	return ok(observed, "SNS topics %s exist in %s", strings.Join(names, ", "), region)
}

// dnsRecord: the public hosted zone dns.zone, found by name, holds the record dns.record of
// dns.type. Route 53 is global.
func (p *pass) dnsRecord(ctx context.Context) result {
	cl, r, found := p.clients(ctx)
	if !found {
		return r
	}
	api := cl.Route53
	if api == nil {
		return noClient("Route 53")
	}
	zoneName := fqdn(p.sys.DNS.Zone)
	name, typ := fqdn(p.sys.DNS.Record), r53types.RRType(strings.ToUpper(p.sys.DNS.Type))
	zones, err := api.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String(zoneName), MaxItems: aws.Int32(20)})
	if err != nil {
		return p.callFailed(ctx, "global", "route53 ListHostedZonesByName", err)
	}
	var zoneID string
	var public int
	for _, z := range zones.HostedZones {
		if fqdn(aws.ToString(z.Name)) != zoneName || z.Config != nil && z.Config.PrivateZone {
			continue
		}
		public++
		if zoneID == "" {
			zoneID = strings.TrimPrefix(aws.ToString(z.Id), "/hostedzone/")
		}
	}
	if zoneID == "" {
		return fail("absent", "no public hosted zone named %s", zoneName)
	}
	out, err := api.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID),
		StartRecordName: aws.String(name), StartRecordType: typ, MaxItems: aws.Int32(10)})
	if isNotFound(err, "NoSuchHostedZone") {
		return fail("absent", "hosted zone %s (%s) no longer exists", zoneName, zoneID)
	}
	if err != nil {
		return p.callFailed(ctx, "global", "route53 ListResourceRecordSets", err)
	}
	for _, rr := range out.ResourceRecordSets {
		if fqdn(aws.ToString(rr.Name)) != name || rr.Type != typ {
			continue
		}
		target := ""
		switch {
		case rr.AliasTarget != nil:
			target = "alias " + aws.ToString(rr.AliasTarget.DNSName)
		default:
			var vals []string
			for _, v := range rr.ResourceRecords {
				vals = append(vals, aws.ToString(v.Value))
			}
			target = strings.Join(vals, ", ")
		}
		if public > 1 {
			return warn(target, "%d public hosted zones are named %s; record %s %s exists in the first, %s (%s)", public, zoneName, name, typ, zoneID, target)
		}
		return ok(target, "record %s %s exists in hosted zone %s (%s): %s", name, typ, zoneName, zoneID, target)
	}
	return fail("absent", "hosted zone %s (%s) has no %s record %s", zoneName, zoneID, typ, name)
}

func fqdn(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// sortedKeys returns the keys of m, sorted: logical names, in a stable order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
