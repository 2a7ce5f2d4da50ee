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
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	awsx "github.com/kirikae/kirikae/agent/aws"
	"github.com/kirikae/kirikae/human"
)

// maxPages bounds every paginated listing, so a huge account cannot stall a check.
const maxPages = 20

// plan lists the checks of the role, in report order.
func (c *Checker) plan() []check {
	n := c.cfg.Names
	if c.cfg.Role == RolePrimary {
		return []check{
			{CheckBackupRetention, c.backupRetention},
			{CheckPITR, c.pitr},
			{CheckS3Replication, c.s3Replication},
			{CheckSecrets, c.secrets},
			{CheckDNSRecord, c.dnsRecord},
		}
	}
	checks := []check{
		{CheckNetwork, c.network},
		{CheckLoadBalancer, c.loadBalancer},
		{CheckTargetGroup, c.targetGroup},
		{CheckECSCluster, c.ecsCluster},
		{CheckDBParameterGroup, c.dbParameterGroup},
	}
	if n.DBOptionGroup != "" {
		checks = append(checks, check{CheckDBOptionGroup, c.dbOptionGroup})
	}
	return append(checks,
		check{CheckDBSubnetGroup, c.dbSubnetGroup},
		check{CheckSnapshotCopyAge, c.snapshotCopyAge},
		check{CheckEFSCopyAge, c.efsCopyAge},
		check{CheckBackupRetention, c.notHere},
		check{CheckPITR, c.notHere},
		check{CheckS3Replication, c.s3Replication},
		check{CheckSecrets, c.secrets},
		check{CheckDNSRecord, c.dnsRecord},
	)
}

func noClient(service string) result {
	return fail("", "no %s client configured", service)
}

// notHere is backup retention and PITR in the DR role: the source instance lives in the
// primary region, whose agent checks it. The DR agent does not call across regions for
// it, so that an outage of the primary region does not also make the DR region look
// unready for a setting of the instance that is gone.
func (c *Checker) notHere(context.Context) result {
	return ok(skipped, "checked by the %s agent: source instance %s is in %s, not in this %s region",
		c.cfg.PrimaryRegion, c.cfg.Names.SourceDB, c.cfg.PrimaryRegion, RoleDR)
}

// network: the VPC tagged Name=VPCName, at least MinSubnets subnets over two AZs, a
// security group other than "default", and a route table other than the main one as AWS
// creates it. Every VPC has a default security group and a main route table from its
// creation (https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html,
// https://docs.aws.amazon.com/vpc/latest/userguide/RouteTables.html: "Main route table—The
// route table that automatically comes with your VPC"), so counting them would pass an
// empty VPC; neither is counted, unless the main table was given routes of its own.
func (c *Checker) network(ctx context.Context) result {
	api, region, name := c.cl.EC2, c.cfg.Region, c.cfg.Names.VPCName
	if api == nil {
		return noClient("EC2")
	}
	vpcs, err := api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{
		Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{name}}}})
	if err != nil {
		return c.callFailed(ctx, region, "ec2 DescribeVpcs", err)
	}
	if len(vpcs.Vpcs) == 0 {
		return fail("no VPC", "no VPC tagged Name=%s in %s", name, region)
	}
	vpc := aws.ToString(vpcs.Vpcs[0].VpcId)
	byVPC := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}

	azs := map[string]bool{}
	nSubnets := 0
	sp := ec2.NewDescribeSubnetsPaginator(api, &ec2.DescribeSubnetsInput{Filters: byVPC})
	for page := 0; sp.HasMorePages() && page < maxPages; page++ {
		out, err := sp.NextPage(ctx)
		if err != nil {
			return c.callFailed(ctx, region, "ec2 DescribeSubnets", err)
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
			return c.callFailed(ctx, region, "ec2 DescribeSecurityGroups", err)
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
			return c.callFailed(ctx, region, "ec2 DescribeRouteTables", err)
		}
		for _, rt := range out.RouteTables {
			if !bareMainTable(rt) {
				nRTs++
			}
		}
	}

	observed := fmt.Sprintf("%s: %d subnets in %d AZs, %d security groups, %d route tables", vpc, nSubnets, len(azs), nSGs, nRTs)
	minAZs := min(2, c.cfg.MinSubnets)
	var problems []string
	if nSubnets < c.cfg.MinSubnets {
		problems = append(problems, fmt.Sprintf("%d subnets < %d", nSubnets, c.cfg.MinSubnets))
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
		return fail(observed, "DR VPC %s (%s) in %s: %s", name, vpc, region, strings.Join(problems, "; "))
	}
	if len(vpcs.Vpcs) > 1 {
		return warn(observed, "%d VPCs are tagged Name=%s in %s; checked the first, %s", len(vpcs.Vpcs), name, region, vpc)
	}
	return ok(observed, "DR VPC %s (%s) in %s has %d subnets in %d AZs, %d security groups and %d route tables",
		name, vpc, region, nSubnets, len(azs), nSGs, nRTs)
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

func (c *Checker) loadBalancer(ctx context.Context) result {
	api, region, name := c.cl.ELB, c.cfg.Region, c.cfg.Names.LoadBalancer
	if api == nil {
		return noClient("ELBv2")
	}
	out, err := api.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{name}})
	if isNotFound(err, "LoadBalancerNotFound") || err == nil && len(out.LoadBalancers) == 0 {
		return fail("absent", "load balancer %s does not exist in %s", name, region)
	}
	if err != nil {
		return c.callFailed(ctx, region, "elbv2 DescribeLoadBalancers", err)
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

// targetGroup: the target group exists and is attached to the load balancer. Targets are
// not graded: the DR service runs 0 tasks until failover.
func (c *Checker) targetGroup(ctx context.Context) result {
	api, region, name, lbName := c.cl.ELB, c.cfg.Region, c.cfg.Names.TargetGroup, c.cfg.Names.LoadBalancer
	if api == nil {
		return noClient("ELBv2")
	}
	out, err := api.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{name}})
	if isNotFound(err, "TargetGroupNotFound") || err == nil && len(out.TargetGroups) == 0 {
		return fail("absent", "target group %s does not exist in %s", name, region)
	}
	if err != nil {
		return c.callFailed(ctx, region, "elbv2 DescribeTargetGroups", err)
	}
	tg := out.TargetGroups[0]
	for _, a := range tg.LoadBalancerArns {
		if strings.Contains(a, "/"+lbName+"/") {
			return ok(aws.ToString(tg.TargetGroupArn), "target group %s exists in %s and is attached to %s", name, region, lbName)
		}
	}
	return fail(aws.ToString(tg.TargetGroupArn), "target group %s in %s is not attached to load balancer %s", name, region, lbName)
}

// ecsCluster: the cluster is ACTIVE and its service exists and is ACTIVE (desired count
// 0 is expected before failover).
func (c *Checker) ecsCluster(ctx context.Context) result {
	api, region, name, svcName := c.cl.ECS, c.cfg.Region, c.cfg.Names.Cluster, c.cfg.Names.Service
	if api == nil {
		return noClient("ECS")
	}
	out, err := api.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{name}})
	if err != nil {
		return c.callFailed(ctx, region, "ecs DescribeClusters", err)
	}
	if len(out.Clusters) == 0 {
		return fail("absent", "ECS cluster %s does not exist in %s", name, region)
	}
	if st := aws.ToString(out.Clusters[0].Status); st != "ACTIVE" {
		return fail(st, "ECS cluster %s in %s is %s, not ACTIVE", name, region, st)
	}
	if svcName == "" {
		return ok("ACTIVE", "ECS cluster %s is ACTIVE in %s", name, region)
	}
	svcs, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(name), Services: []string{svcName}})
	if err != nil {
		return c.callFailed(ctx, region, "ecs DescribeServices", err)
	}
	if len(svcs.Services) == 0 {
		return fail("ACTIVE, service absent", "ECS cluster %s in %s has no service %s", name, region, svcName)
	}
	s := svcs.Services[0]
	observed := fmt.Sprintf("ACTIVE, service %s %s, desired %d, running %d", svcName, aws.ToString(s.Status), s.DesiredCount, s.RunningCount)
	if st := aws.ToString(s.Status); st != "ACTIVE" {
		return fail(observed, "ECS service %s in cluster %s (%s) is %s, not ACTIVE", svcName, name, region, st)
	}
	return ok(observed, "ECS cluster %s is ACTIVE in %s with service %s (desired %d)", name, region, svcName, s.DesiredCount)
}

func (c *Checker) dbParameterGroup(ctx context.Context) result {
	api, region, name := c.cl.RDS, c.cfg.Region, c.cfg.Names.DBParameterGroup
	if api == nil {
		return noClient("RDS")
	}
	out, err := api.DescribeDBParameterGroups(ctx, &rds.DescribeDBParameterGroupsInput{DBParameterGroupName: aws.String(name)})
	if isNotFound(err, "DBParameterGroupNotFound") || err == nil && len(out.DBParameterGroups) == 0 {
		return fail("absent", "DB parameter group %s does not exist in %s", name, region)
	}
	if err != nil {
		return c.callFailed(ctx, region, "rds DescribeDBParameterGroups", err)
	}
	family := aws.ToString(out.DBParameterGroups[0].DBParameterGroupFamily)
	return ok(family, "DB parameter group %s (%s) exists in %s", name, family, region)
}

func (c *Checker) dbOptionGroup(ctx context.Context) result {
	api, region, name := c.cl.RDS, c.cfg.Region, c.cfg.Names.DBOptionGroup
	if api == nil {
		return noClient("RDS")
	}
	out, err := api.DescribeOptionGroups(ctx, &rds.DescribeOptionGroupsInput{OptionGroupName: aws.String(name)})
	if isNotFound(err, "OptionGroupNotFoundFault", "OptionGroupNotFound") || err == nil && len(out.OptionGroupsList) == 0 {
		return fail("absent", "DB option group %s does not exist in %s", name, region)
	}
	if err != nil {
		return c.callFailed(ctx, region, "rds DescribeOptionGroups", err)
	}
	engine := aws.ToString(out.OptionGroupsList[0].EngineName)
	return ok(engine, "DB option group %s (%s) exists in %s", name, engine, region)
}

func (c *Checker) dbSubnetGroup(ctx context.Context) result {
	api, region, name := c.cl.RDS, c.cfg.Region, c.cfg.Names.DBSubnetGroup
	if api == nil {
		return noClient("RDS")
	}
	out, err := api.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String(name)})
	if isNotFound(err, "DBSubnetGroupNotFoundFault", "DBSubnetGroupNotFound") || err == nil && len(out.DBSubnetGroups) == 0 {
		return fail("absent", "DB subnet group %s does not exist in %s", name, region)
	}
	if err != nil {
		return c.callFailed(ctx, region, "rds DescribeDBSubnetGroups", err)
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

// snapshotCopyAge: the newest available cross-region copy of SourceDB in this region,
// aged from when its data was captured (awsx.SnapshotDataTime, as the restore executor
// ages it), must be younger than RPO.
func (c *Checker) snapshotCopyAge(ctx context.Context) result {
	api, region, src := c.cl.RDS, c.cfg.Region, c.cfg.Names.SourceDB
	if api == nil {
		return noClient("RDS")
	}
	var newest, newestPending time.Time
	var newestID string
	p := rds.NewDescribeDBSnapshotsPaginator(api, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String(src)})
	for page := 0; p.HasMorePages() && page < maxPages; page++ {
		out, err := p.NextPage(ctx)
		if err != nil {
			return c.callFailed(ctx, region, "rds DescribeDBSnapshots", err)
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
		return fail("none", "no available snapshot copy of %s in %s: RPO %s cannot be met%s", src, region, human.Duration(c.cfg.RPO), pending)
	}
	a := max(c.cfg.Clock().Sub(newest), 0)
	if a > c.cfg.RPO {
		return fail(age(a), "newest snapshot copy of %s in %s is %s old > RPO %s (%s)%s",
			src, region, human.Duration(a), human.Duration(c.cfg.RPO), newestID, pending)
	}
	return ok(age(a), "newest snapshot copy of %s in %s is %s old <= RPO %s (%s)", src, region, human.Duration(a), human.Duration(c.cfg.RPO), newestID)
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

// efsCopyAge: the newest completed EFS recovery point in the DR vault. EFS is backed up
// and copied daily (seed 001), so the limit is EFSMaxAge (24 h + 2 h margin): older is
// FAIL, a missed daily copy. Within it the check is OK, and the detail says when the age
// is over the RPO, which the daily plan cannot meet for EFS by design.
func (c *Checker) efsCopyAge(ctx context.Context) result {
	api, region, vault := c.cl.Backup, c.cfg.Region, c.cfg.Names.BackupVault
	if api == nil {
		return noClient("Backup")
	}
	var newest time.Time
	var newestARN string
	p := backup.NewListRecoveryPointsByBackupVaultPaginator(api, &backup.ListRecoveryPointsByBackupVaultInput{
		BackupVaultName: aws.String(vault), ByResourceType: aws.String("EFS")})
	for page := 0; p.HasMorePages() && page < maxPages; page++ {
		out, err := p.NextPage(ctx)
		if isNotFound(err, "ResourceNotFoundException") {
			return fail("absent", "backup vault %s does not exist in %s", vault, region)
		}
		if err != nil {
			return c.callFailed(ctx, region, "backup ListRecoveryPointsByBackupVault", err)
		}
		for _, rp := range out.RecoveryPoints {
			if rp.Status != "COMPLETED" || rp.CreationDate == nil {
				continue
			}
			if rp.CreationDate.After(newest) {
				newest, newestARN = *rp.CreationDate, aws.ToString(rp.RecoveryPointArn)
			}
		}
	}
	if newestARN == "" {
		return fail("none", "no completed EFS recovery point in %s in %s", vault, region)
	}
	a := max(c.cfg.Clock().Sub(newest), 0)
	if a > c.cfg.EFSMaxAge {
		return fail(age(a), "newest EFS recovery point copy in %s (%s) is %s old > %s (daily copy missed)",
			vault, region, human.Duration(a), human.Duration(c.cfg.EFSMaxAge))
	}
	note := ""
	if a > c.cfg.RPO {
		note = fmt.Sprintf("; over RPO %s, as a daily copy is by design", human.Duration(c.cfg.RPO))
	}
	return ok(age(a), "newest EFS recovery point copy in %s (%s) is %s old <= %s%s", vault, region, human.Duration(a), human.Duration(c.cfg.EFSMaxAge), note)
}

// backupRetention (primary role): the source instance keeps automated backups at least
// Retention days.
func (c *Checker) backupRetention(ctx context.Context) result {
	region, src := c.cfg.Region, c.cfg.Names.SourceDB
	in, r, found := c.sourceInstance(ctx)
	if !found {
		return r
	}
	days := int(aws.ToInt32(in.BackupRetentionPeriod))
	want := int((c.cfg.Retention + 24*time.Hour - 1) / (24 * time.Hour))
	observed := fmt.Sprintf("%d days", days)
	if days < want {
		return fail(observed, "backup retention of %s in %s is %d days < %d", src, region, days, want)
	}
	return ok(observed, "backup retention of %s in %s is %d days >= %d", src, region, days, want)
}

// pitr (primary role): automated backups are on (retention > 0) and the latest
// restorable time lags less than the RPO.
func (c *Checker) pitr(ctx context.Context) result {
	region, src := c.cfg.Region, c.cfg.Names.SourceDB
	in, r, found := c.sourceInstance(ctx)
	if !found {
		return r
	}
	if aws.ToInt32(in.BackupRetentionPeriod) == 0 {
		return fail("disabled", "PITR is disabled on %s in %s: backup retention is 0", src, region)
	}
	if in.LatestRestorableTime == nil {
		return fail("no restorable time", "PITR of %s in %s has no latest restorable time yet", src, region)
	}
	lag := max(c.cfg.Clock().Sub(*in.LatestRestorableTime), 0)
	if lag > c.cfg.RPO {
		return fail(age(lag), "latest restorable time of %s in %s lags %s > RPO %s", src, region, human.Duration(lag), human.Duration(c.cfg.RPO))
	}
	return ok(age(lag), "PITR is enabled on %s in %s; latest restorable time lags %s", src, region, human.Duration(lag))
}

// sourceInstance describes SourceDB; found is false when r holds the failed result.
func (c *Checker) sourceInstance(ctx context.Context) (in rdstypes.DBInstance, r result, found bool) {
	api, region, src := c.cl.RDS, c.cfg.Region, c.cfg.Names.SourceDB
	if api == nil {
		return in, noClient("RDS"), false
	}
	out, err := api.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(src)})
	if isNotFound(err, "DBInstanceNotFound", "DBInstanceNotFoundFault") || err == nil && len(out.DBInstances) == 0 {
		return in, fail("absent", "source instance %s does not exist in %s", src, region), false
	}
	if err != nil {
		return in, c.callFailed(ctx, region, "rds DescribeDBInstances", err), false
	}
	return out.DBInstances[0], r, true
}

// s3Replication: the source bucket has an enabled replication rule to the destination
// bucket. S3 answers bucket configuration calls in the bucket's own region, so the call
// goes to PrimaryRegion from either role.
func (c *Checker) s3Replication(ctx context.Context) result {
	api, region := c.cl.S3, c.cfg.PrimaryRegion
	src, dst := c.cfg.Names.SourceBucket, c.cfg.Names.DestinationBucket
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
		return c.callFailed(ctx, region, "s3 GetBucketReplication", err)
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

// secrets: every secret in Names.Secrets exists in the region and is not scheduled for
// deletion. Values are never read.
func (c *Checker) secrets(ctx context.Context) result {
	api, region, names := c.cl.Secrets, c.cfg.Region, c.cfg.Names.Secrets
	if api == nil {
		return noClient("Secrets Manager")
	}
	var missing, deleting []string
	for _, name := range names {
		out, err := api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
		switch {
		case isNotFound(err, "ResourceNotFoundException"):
			missing = append(missing, name)
		case err != nil:
			return c.callFailed(ctx, region, "secretsmanager DescribeSecret "+name, err)
		case out.DeletedDate != nil:
			deleting = append(deleting, name)
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

// dnsRecord: the hosted zone exists and holds the record. Route 53 is global.
func (c *Checker) dnsRecord(ctx context.Context) result {
	api, zone := c.cl.Route53, c.cfg.Names.HostedZoneID
	name, typ := fqdn(c.cfg.Names.RecordName), r53types.RRType(strings.ToUpper(c.cfg.Names.RecordType))
	if api == nil {
		return noClient("Route 53")
	}
	out, err := api.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone),
		StartRecordName: aws.String(name), StartRecordType: typ, MaxItems: aws.Int32(10)})
	if isNotFound(err, "NoSuchHostedZone") {
		return fail("absent", "hosted zone %s does not exist", zone)
	}
	if err != nil {
		return c.callFailed(ctx, "global", "route53 ListResourceRecordSets", err)
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
		return ok(target, "record %s %s exists in hosted zone %s (%s)", name, typ, zone, target)
	}
	return fail("absent", "hosted zone %s has no %s record %s", zone, typ, name)
}

func fqdn(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}
