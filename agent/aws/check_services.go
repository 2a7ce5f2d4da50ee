package aws

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	backuptypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/human"
)

// checkSecurityGroupIDs records one finding for the security group ids of input that are
// not in region. vpc, when known (the subnet group's), is where the fix looks for the
// groups to offer; a value that is a group's name rather than its id is offered its id.
func checkSecurityGroupIDs(ctx context.Context, f *findings, api ec2CheckAPI, region, input string, ids []string, vpc string) {
	found := map[string]bool{}
	p := ec2.NewDescribeSecurityGroupsPaginator(api, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("group-id", ids...)}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			f.failed(input, "ec2:DescribeSecurityGroups", region, err)
			return
		}
		for _, g := range page.SecurityGroups {
			found[aws.ToString(g.GroupId)] = true
		}
	}
	var missing []string
	for _, id := range ids {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return
	}
	// The groups there are, by name, for the fix: those of the VPC, else the region's.
	byVPC := []types.Filter{}
	if vpc != "" {
		byVPC = append(byVPC, filter("vpc-id", vpc))
	}
	byName := map[string]string{}
	p = ec2.NewDescribeSecurityGroupsPaginator(api, &ec2.DescribeSecurityGroupsInput{Filters: byVPC})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			f.failed(input, "ec2:DescribeSecurityGroups", region, err)
			break
		}
		for _, g := range page.SecurityGroups {
			if name := aws.ToString(g.GroupName); name != "default" {
				byName[name] = aws.ToString(g.GroupId)
			}
		}
	}
	fixed, all := make([]string, 0, len(ids)), true
	for _, id := range ids {
		switch {
		case found[id]:
			fixed = append(fixed, id)
		case byName[id] != "":
			fixed = append(fixed, byName[id])
		default:
			all = false
		}
	}
	where := region
	if vpc != "" {
		where = "VPC " + vpc + " (" + region + ")"
	}
	problem := fmt.Sprintf("security group %s does not exist in %s", strings.Join(missing, ", "), region)
	if len(missing) > 1 {
		problem = fmt.Sprintf("security groups %s do not exist in %s", strings.Join(missing, ", "), region)
	}
	var fix string
	switch {
	case all:
		fix = fmt.Sprintf("%s: [%s] (ids, not names)", input, strings.Join(fixed, ", "))
	case len(byName) == 0:
		fix = fmt.Sprintf("create the security groups in %s before the run, or correct %s", where, input)
	default:
		var offer []string
		for _, name := range slices.Sorted(maps.Keys(byName)) {
			offer = append(offer, name+" ("+byName[name]+")")
		}
		fix = fmt.Sprintf("%s: the ids of existing groups of %s: %s", input, where, oneOf(offer))
	}
	f.missing(input, problem, fix)
}

// networkCheck checks aws.ec2.verifyNetwork's names before the run: exactly one VPC has the
// Name tag vpcName, and it has a security group of each name in securityGroups.
type networkCheck struct {
	ec2 func(region string) (ec2CheckAPI, error)
}

func (c *networkCheck) Check(ctx context.Context, s action.CheckStep) []catalog.Finding {
	f := newFindings(s)
	in, err := action.DecodeCheck(s, catalog.VerifyNetwork)
	if err != nil {
		return f.invalid(err)
	}
	if in.VPCName == "" {
		return f.list
	}
	api, err := c.ec2(s.Region)
	if err != nil {
		return f.noClients(s.Region, err)
	}
	vpcs, err := api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("tag:Name", in.VPCName)}})
	if err != nil {
		f.failed("vpcName", "ec2:DescribeVpcs", s.Region, err)
		return f.list
	}
	switch len(vpcs.Vpcs) {
	case 0:
		var names []string
		p := ec2.NewDescribeVpcsPaginator(api, &ec2.DescribeVpcsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				f.failed("vpcName", "ec2:DescribeVpcs", s.Region, err)
				break
			}
			for _, v := range page.Vpcs {
				if n := nameTag(v.Tags); n != "" {
					names = append(names, n)
				}
			}
		}
		fix := fmt.Sprintf("build the VPC %s in %s before the run (it is built in advance), or correct vpcName", in.VPCName, s.Region)
		if len(names) > 0 {
			fix = "vpcName: " + oneOf(names) + " (the VPCs' Name tags in " + s.Region + ")"
		}
		f.missing("vpcName", fmt.Sprintf("no VPC in %s has the Name tag %s", s.Region, in.VPCName), fix)
		return f.list
	case 1:
	default:
		var ids []string
		for _, v := range vpcs.Vpcs {
			ids = append(ids, aws.ToString(v.VpcId))
		}
		f.add("vpcName", catalog.FindingAmbiguousResource, fmt.Sprintf("%d VPCs in %s have the Name tag %s: %s", len(ids), s.Region, in.VPCName, strings.Join(ids, ", ")),
			"give every VPC but the DR one another Name tag, so vpcName names one")
		return f.list
	}
	if len(in.SecurityGroups) == 0 {
		return f.list
	}
	vpc := aws.ToString(vpcs.Vpcs[0].VpcId)
	have := map[string]bool{}
	p := ec2.NewDescribeSecurityGroupsPaginator(api, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("vpc-id", vpc)}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			f.failed("securityGroups", "ec2:DescribeSecurityGroups", s.Region, err)
			return f.list
		}
		for _, g := range page.SecurityGroups {
			have[aws.ToString(g.GroupName)] = true
		}
	}
	var missing, names []string
	for _, n := range in.SecurityGroups {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	for n := range have {
		if n != "default" {
			names = append(names, n)
		}
	}
	if len(missing) > 0 {
		fix := fmt.Sprintf("create %s in VPC %s before the run, or correct securityGroups", strings.Join(missing, ", "), in.VPCName)
		if len(names) > 0 {
			fix = fmt.Sprintf("securityGroups: names of groups of VPC %s: %s; or create %s before the run", in.VPCName, oneOf(names), strings.Join(missing, ", "))
		}
		f.missing("securityGroups", fmt.Sprintf("VPC %s (%s) in %s has no security group named %s", in.VPCName, vpc, s.Region, strings.Join(missing, ", ")), fix)
	}
	return f.list
}

func nameTag(tags []types.Tag) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == "Name" {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// replicationGroupCheck checks aws.elasticache.createReplicationGroup: the cache subnet
// group and every security group id exist in the step's region.
type replicationGroupCheck struct {
	elasticache func(region string) (elastiCacheCheckAPI, error)
	ec2         func(region string) (ec2CheckAPI, error)
}

func (c *replicationGroupCheck) Check(ctx context.Context, s action.CheckStep) []catalog.Finding {
	f := newFindings(s)
	in, err := action.DecodeCheck(s, catalog.CreateReplicationGroup)
	if err != nil {
		return f.invalid(err)
	}
	vpc := ""
	if in.SubnetGroup != "" {
		api, err := c.elasticache(s.Region)
		if err != nil {
			return f.noClients(s.Region, err)
		}
		out, err := api.DescribeCacheSubnetGroups(ctx, &elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String(in.SubnetGroup)})
		switch {
		case isCode(err, "CacheSubnetGroupNotFoundFault"):
			var names []string
			p := elasticache.NewDescribeCacheSubnetGroupsPaginator(api, &elasticache.DescribeCacheSubnetGroupsInput{})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					f.failed("subnetGroup", "elasticache:DescribeCacheSubnetGroups", s.Region, err)
					break
				}
				for _, g := range page.CacheSubnetGroups {
					names = append(names, aws.ToString(g.CacheSubnetGroupName))
				}
			}
			fix := fmt.Sprintf("create cache subnet group %s in %s before the run (it is built in advance), or correct subnetGroup", in.SubnetGroup, s.Region)
			if len(names) > 0 {
				fix = "subnetGroup: " + oneOf(names) + ", or create " + in.SubnetGroup + " in " + s.Region + " before the run"
			}
			f.missing("subnetGroup", fmt.Sprintf("there is no cache subnet group %s in %s", in.SubnetGroup, s.Region), fix)
		case err != nil && unsupported(err):
			// An emulator without the call: the subnet group is not checked here.
		case err != nil:
			f.failed("subnetGroup", "elasticache:DescribeCacheSubnetGroups", s.Region, err)
		case len(out.CacheSubnetGroups) > 0:
			vpc = aws.ToString(out.CacheSubnetGroups[0].VpcId)
		}
	}
	if len(in.SecurityGroups) > 0 {
		api, err := c.ec2(s.Region)
		if err != nil {
			return f.noClients(s.Region, err)
		}
		checkSecurityGroupIDs(ctx, f, api, s.Region, "securityGroups", in.SecurityGroups, vpc)
	}
	return f.list
}

// secretCheck checks aws.secretsmanager.put: the secret exists (the executor writes a new
// version of an existing secret, never creates one) and is not scheduled for deletion.
type secretCheck struct {
	secrets func(region string) (secretsCheckAPI, error)
}

func (c *secretCheck) Check(ctx context.Context, s action.CheckStep) []catalog.Finding {
	f := newFindings(s)
	in, err := action.DecodeCheck(s, catalog.SecretPut)
	if err != nil {
		return f.invalid(err)
	}
	if in.SecretID == "" {
		return f.list
	}
	api, err := c.secrets(s.Region)
	if err != nil {
		return f.noClients(s.Region, err)
	}
	checkSecret(ctx, f, api, "secretId", s.Region, in.SecretID,
		fmt.Sprintf("create secret %s in %s before the run (the step writes a new value of an existing secret), or secretId: the name or ARN of the secret to write",
			in.SecretID, s.Region))
	return f.list
}

// targetGroupCheck checks aws.elbv2.waitHealthy: the target group, by ARN or name, is one
// of the step's region.
type targetGroupCheck struct {
	elb func(region string) (elbCheckAPI, error)
}

func (c *targetGroupCheck) Check(ctx context.Context, s action.CheckStep) []catalog.Finding {
	f := newFindings(s)
	in, err := action.DecodeCheck(s, catalog.WaitHealthy)
	if err != nil {
		return f.invalid(err)
	}
	req, input, ref := &elbv2.DescribeTargetGroupsInput{}, "targetGroupName", in.TargetGroupName
	switch {
	case in.TargetGroupARN != "":
		if _, err := action.CheckARN("targetGroupArn", in.TargetGroupARN, "elasticloadbalancing", "targetgroup/"); err != nil {
			return f.invalid(err)
		}
		req.TargetGroupArns, input, ref = []string{in.TargetGroupARN}, "targetGroupArn", in.TargetGroupARN
	case in.TargetGroupName != "":
		req.Names = []string{in.TargetGroupName}
	default:
		return f.list
	}
	api, err := c.elb(s.Region)
	if err != nil {
		return f.noClients(s.Region, err)
	}
	_, err = api.DescribeTargetGroups(ctx, req)
	switch {
	case isCode(err, "TargetGroupNotFound"):
		var names []string
		p := elbv2.NewDescribeTargetGroupsPaginator(api, &elbv2.DescribeTargetGroupsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				f.failed(input, "elasticloadbalancing:DescribeTargetGroups", s.Region, err)
				break
			}
			for _, g := range page.TargetGroups {
				names = append(names, aws.ToString(g.TargetGroupName))
			}
		}
		fix := fmt.Sprintf("create the target group in %s before the run, or correct %s", s.Region, input)
		if len(names) > 0 {
			fix = "targetGroupName: " + oneOf(names) + " (the target groups of " + s.Region + ")"
		}
		f.missing(input, fmt.Sprintf("there is no target group %s in %s", ref, s.Region), fix)
	case err != nil:
		f.failed(input, "elasticloadbalancing:DescribeTargetGroups", s.Region, err)
	}
	return f.list
}

// recoveryPointCheck checks aws.backup.restoreLatest: the vault exists, and its newest
// completed recovery point of resourceType (the one the restore would use, by
// BackupRestoreLatest's rule) exists and is within maxAge. The restore itself only reports
// an old point; the check says so before the run.
type recoveryPointCheck struct {
	backup func(region string) (backupCheckAPI, error)
	opts   Options
}

func (c *recoveryPointCheck) Check(ctx context.Context, s action.CheckStep) []catalog.Finding {
	f := newFindings(s)
	in, err := action.DecodeCheck(s, catalog.RestoreLatest)
	if err != nil {
		return f.invalid(err)
	}
	if in.Vault == "" || isUnresolved(s, "resourceType") {
		return f.list
	}
	api, err := c.backup(s.Region)
	if err != nil {
		return f.noClients(s.Region, err)
	}
	rtype := cmp.Or(in.ResourceType, "EFS")
	var best *backuptypes.RecoveryPointByBackupVault
	p := backup.NewListRecoveryPointsByBackupVaultPaginator(api, &backup.ListRecoveryPointsByBackupVaultInput{
		BackupVaultName: aws.String(in.Vault), ByResourceType: aws.String(rtype),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isCode(err, "ResourceNotFoundException") {
			f.missing("vault", fmt.Sprintf("there is no backup vault %s in %s", in.Vault, s.Region), c.vaultFix(ctx, api, s.Region, in.Vault))
			return f.list
		}
		if err != nil {
			f.failed("vault", "backup:ListRecoveryPointsByBackupVault", s.Region, err)
			return f.list
		}
		for i := range page.RecoveryPoints {
			rp := page.RecoveryPoints[i]
			if rp.Status != backuptypes.RecoveryPointStatusCompleted || rp.CreationDate == nil ||
				(rp.ResourceType != nil && aws.ToString(rp.ResourceType) != rtype) {
				continue
			}
			if best == nil || rp.CreationDate.After(*best.CreationDate) {
				best = &rp
			}
		}
	}
	if best == nil {
		f.missing("vault", fmt.Sprintf("vault %s in %s holds no completed %s recovery point", in.Vault, s.Region, rtype),
			fmt.Sprintf("back up the %s resource into %s (or copy a recovery point into it) before the run", rtype, in.Vault))
		return f.list
	}
	maxAge := time.Duration(in.MaxAge)
	if age := c.opts.now().Sub(aws.ToTime(best.CreationDate)); maxAge > 0 && !isUnresolved(s, "maxAge") && age > maxAge {
		f.add("maxAge", catalog.FindingRecoveryPointTooOld,
			fmt.Sprintf("the newest completed %s recovery point in %s, %s, was made at %s: %s old, more than maxAge %s; the restore would lose %s of data",
				rtype, in.Vault, aws.ToString(best.RecoveryPointArn), stamp(aws.ToTime(best.CreationDate)), human.Duration(age), human.Duration(maxAge), human.Duration(age)),
			fmt.Sprintf("run an on-demand backup of the %s resource into %s before the run (or copy a newer recovery point into it), so the newest is within %s",
				rtype, in.Vault, human.Duration(maxAge)))
	}
	return f.list
}

// vaultFix offers the region's vaults; an endpoint that cannot list them gets a general fix.
func (c *recoveryPointCheck) vaultFix(ctx context.Context, api backupCheckAPI, region, vault string) string {
	var names []string
	p := backup.NewListBackupVaultsPaginator(api, &backup.ListBackupVaultsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			names = nil
			break
		}
		for _, v := range page.BackupVaultList {
			names = append(names, aws.ToString(v.BackupVaultName))
		}
	}
	if len(names) == 0 {
		return fmt.Sprintf("create backup vault %s in %s and copy recovery points into it before the run, or correct vault", vault, region)
	}
	return "vault: " + oneOf(names) + " (the backup vaults of " + region + ")"
}

// topicCheck checks that the SNS topics a step publishes to exist (GetTopicAttributes, in
// the topic's region): notify's and aws.sns.publish's topicArn, and the topics among
// aws.cloudwatch.putAlarm's alarmActions.
type topicCheck struct {
	sns func(region string) (snsCheckAPI, error)
}

func (c *topicCheck) alarm(ctx context.Context, s action.CheckStep) []catalog.Finding {
	f := newFindings(s)
	in, err := action.DecodeCheck(s, catalog.PutAlarm)
	if err != nil {
		return f.invalid(err)
	}
	for _, a := range in.AlarmActions {
		if strings.HasPrefix(a, "arn:aws:sns:") || strings.HasPrefix(a, "arn:aws-cn:sns:") || strings.HasPrefix(a, "arn:aws-us-gov:sns:") {
			c.topic(ctx, f, s, "alarmActions", a)
		}
	}
	return f.list
}

func (c *topicCheck) notify(ctx context.Context, s action.CheckStep) []catalog.Finding {
	f := newFindings(s)
	in, err := action.DecodeCheck(s, catalog.Notify)
	if err != nil {
		return f.invalid(err)
	}
	if in.TopicARN != "" {
		c.topic(ctx, f, s, "topicArn", in.TopicARN)
	}
	return f.list
}

func (c *topicCheck) publish(ctx context.Context, s action.CheckStep) []catalog.Finding {
	f := newFindings(s)
	in, err := action.DecodeCheck(s, catalog.Publish)
	if err != nil {
		return f.invalid(err)
	}
	if in.TopicARN != "" {
		c.topic(ctx, f, s, "topicArn", in.TopicARN)
	}
	return f.list
}

func (c *topicCheck) topic(ctx context.Context, f *findings, s action.CheckStep, input, topic string) {
	parts, err := action.CheckARN(input, topic, "sns", "")
	if err != nil {
		f.list = append(f.list, action.InvalidInputFinding(s, err))
		return
	}
	region := cmp.Or(parts.Region, s.Region)
	api, err := c.sns(region)
	if err != nil {
		f.noClients(region, err)
		return
	}
	_, err = api.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(topic)})
	switch {
	case isCode(err, "NotFound", "NotFoundException"):
		f.missing(input, fmt.Sprintf("there is no SNS topic %s in %s", topic, region),
			fmt.Sprintf("create topic %s in %s (and subscribe the people it tells) before the run, or correct %s", parts.Resource, region, input))
	case err != nil && unsupported(err):
		// An emulator without the call: the topic is not checked here.
	case err != nil:
		f.failed(input, "sns:GetTopicAttributes", region, err)
	}
}
