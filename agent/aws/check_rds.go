package aws

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/human"
)

// restoreSnapshotCheck checks aws.rds.restoreSnapshot: the subnet group and every security
// group id exist in the step's region, and the snapshot the restore would choose now (the
// named one, or the available snapshot of sourceInstance with the newest data, by
// RDSRestoreSnapshot's own rule) exists and, unless allowDataLoss, holds data within
// maxAge (Options.Now is the clock, as for the executor). The action takes no KMS key: a
// restore keeps the snapshot's.
type restoreSnapshotCheck struct {
	rds  func(region string) (rdsCheckAPI, error)
	ec2  func(region string) (ec2CheckAPI, error)
	opts Options
}

func (c *restoreSnapshotCheck) Check(ctx context.Context, s action.CheckStep) []catalog.Finding {
	f := newFindings(s)
	in, err := action.DecodeCheck(s, catalog.RestoreSnapshot)
	if err != nil {
		return f.invalid(err)
	}
	api, err := c.rds(s.Region)
	if err != nil {
		return f.noClients(s.Region, err)
	}
	vpc := ""
	if in.SubnetGroup != "" {
		vpc = checkDBSubnetGroup(ctx, f, api, s.Region, in.SubnetGroup)
	}
	if len(in.SecurityGroups) > 0 {
		if e, err := c.ec2(s.Region); err != nil {
			f.noClients(s.Region, err)
		} else {
			checkSecurityGroupIDs(ctx, f, e, s.Region, "securityGroups", in.SecurityGroups, vpc)
		}
	}
	// The executor restores snapshotId when given, else the newest of sourceInstance.
	switch {
	case isUnresolved(s, "snapshotId"):
	case in.SnapshotID != "":
		c.snapshot(ctx, f, s, api, in, "snapshotId")
	case isUnresolved(s, "sourceInstance"):
	case in.SourceInstance != "":
		c.snapshot(ctx, f, s, api, in, "sourceInstance")
	default:
		f.add("sourceInstance", catalog.FindingInvalidInput, "the step names no snapshot: neither sourceInstance nor snapshotId is given",
			"sourceInstance: the instance whose newest snapshot to restore, or snapshotId: the snapshot")
	}
	return f.list
}

func isUnresolved(s action.CheckStep, name string) bool { return slices.Contains(s.Unresolved, name) }

// snapshot checks the snapshot the restore would choose; input is the input that names it.
func (c *restoreSnapshotCheck) snapshot(ctx context.Context, f *findings, s action.CheckStep, api rdsCheckAPI, in catalog.RestoreSnapshotIn, input string) {
	snap, err := (&RDSRestoreSnapshot{}).choose(ctx, api, s.Region, in.SourceInstance, in.SnapshotID)
	switch {
	case errors.Is(err, action.ErrCheckFailed):
		fix := fmt.Sprintf("copy a snapshot of %s into %s before the run (aws.rds.copySnapshot), or correct sourceInstance", in.SourceInstance, s.Region)
		if input == "snapshotId" {
			fix = fmt.Sprintf("snapshotId: an available snapshot in %s, or sourceInstance: the instance whose newest snapshot to restore", s.Region)
		}
		f.missing(input, strings.TrimPrefix(err.Error(), action.ErrCheckFailed.Error()+": "), fix)
		return
	case err != nil:
		f.failed(input, "rds:DescribeDBSnapshots", s.Region, err)
		return
	}
	maxAge := time.Duration(in.MaxAge)
	if maxAge <= 0 || in.AllowDataLoss || isUnresolved(s, "allowDataLoss") || isUnresolved(s, "maxAge") {
		return
	}
	data := SnapshotDataTime(snap)
	age := c.opts.now().Sub(data)
	if age <= maxAge {
		return
	}
	sid := aws.ToString(snap.DBSnapshotIdentifier)
	what := fmt.Sprintf("the newest available snapshot of %s in %s, %s,", in.SourceInstance, s.Region, sid)
	if input == "snapshotId" {
		what = "snapshot " + sid
	}
	f.add("maxAge", catalog.FindingSnapshotTooOld,
		fmt.Sprintf("%s holds data from %s: %s old, more than maxAge %s (the RPO); the restore would refuse it",
			what, stamp(data), human.Duration(age), human.Duration(maxAge)),
		fmt.Sprintf("take a fresh snapshot of %s and copy it into %s before the run (aws.rds.snapshot, aws.rds.copySnapshot), so its data is within %s; or set allowDataLoss: true to restore %s-old data knowingly",
			cmp.Or(in.SourceInstance, "the source instance"), s.Region, human.Duration(maxAge), human.Duration(age)))
}

// checkDBSubnetGroup records a finding when the DB subnet group name is not in region, and
// returns its VPC when it is.
func checkDBSubnetGroup(ctx context.Context, f *findings, api rdsCheckAPI, region, name string) (vpc string) {
	out, err := api.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String(name)})
	switch {
	case isCode(err, "DBSubnetGroupNotFoundFault", "DBSubnetGroupNotFound"):
		var names []string
		p := rds.NewDescribeDBSubnetGroupsPaginator(api, &rds.DescribeDBSubnetGroupsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				f.failed("subnetGroup", "rds:DescribeDBSubnetGroups", region, err)
				break
			}
			for _, g := range page.DBSubnetGroups {
				names = append(names, aws.ToString(g.DBSubnetGroupName))
			}
		}
		fix := "create DB subnet group " + name + " in " + region + " before the run (it is built in advance), or correct subnetGroup"
		if len(names) > 0 {
			fix = "subnetGroup: " + oneOf(names) + ", or create " + name + " in " + region + " before the run"
		}
		f.missing("subnetGroup", fmt.Sprintf("there is no DB subnet group %s in %s", name, region), fix)
	case err != nil:
		f.failed("subnetGroup", "rds:DescribeDBSubnetGroups", region, err)
	case len(out.DBSubnetGroups) > 0:
		return aws.ToString(out.DBSubnetGroups[0].VpcId)
	}
	return ""
}

// copySnapshotCheck checks aws.rds.copySnapshot: the source snapshot exists in the region
// its ARN names, the KMS key is one of the step's region (a key ARN of another region is
// refused by RDS) and, with Options.KMSKeyExists, exists; and a cross-region copy of an
// encrypted snapshot has a key at all.
type copySnapshotCheck struct {
	rds  func(region string) (rdsCheckAPI, error)
	opts Options
}

func (c *copySnapshotCheck) Check(ctx context.Context, s action.CheckStep) []catalog.Finding {
	f := newFindings(s)
	in, err := action.DecodeCheck(s, catalog.CopySnapshot)
	if err != nil {
		return f.invalid(err)
	}
	var src *types.DBSnapshot
	if in.SourceSnapshotARN != "" {
		src = c.source(ctx, f, s, in)
	}
	switch {
	case in.KMSKeyID != "":
		c.key(ctx, f, s, in.KMSKeyID)
	case src != nil && aws.ToBool(src.Encrypted) && !isUnresolved(s, "kmsKeyId") && in.SourceRegion != "" && in.SourceRegion != s.Region:
		f.add("kmsKeyId", catalog.FindingKMSKeyRegion,
			fmt.Sprintf("snapshot %s is encrypted (key %s) and is copied from %s into %s without kmsKeyId; KMS keys are regional, and RDS refuses the copy",
				in.SourceSnapshotARN, aws.ToString(src.KmsKeyId), in.SourceRegion, s.Region),
			fmt.Sprintf("kmsKeyId: a KMS key of %s (its key ARN, arn:aws:kms:%s:ACCOUNT:key/KEY-ID, or alias/NAME)", s.Region, s.Region))
	}
	return f.list
}

// source checks the source snapshot and returns it when it exists.
func (c *copySnapshotCheck) source(ctx context.Context, f *findings, s action.CheckStep, in catalog.CopySnapshotIn) *types.DBSnapshot {
	parts, err := action.CheckARN("sourceSnapshotArn", in.SourceSnapshotARN, "rds", "snapshot:")
	if err != nil {
		f.list = append(f.list, action.InvalidInputFinding(s, err))
		return nil
	}
	if in.SourceRegion != "" && in.SourceRegion != parts.Region {
		f.add("sourceRegion", catalog.FindingInvalidInput,
			fmt.Sprintf("sourceRegion %s is not the region of sourceSnapshotArn (%s); the copy is refused", in.SourceRegion, parts.Region),
			"sourceRegion: "+parts.Region)
	}
	api, err := c.rds(parts.Region)
	if err != nil {
		f.noClients(parts.Region, err)
		return nil
	}
	id := strings.TrimPrefix(parts.Resource, "snapshot:")
	snap, err := describeSnapshot(ctx, api, id)
	switch {
	case err != nil:
		f.failed("sourceSnapshotArn", "rds:DescribeDBSnapshots", parts.Region, err)
	case snap == nil:
		f.missing("sourceSnapshotArn", fmt.Sprintf("there is no snapshot %s in %s", id, parts.Region),
			fmt.Sprintf("sourceSnapshotArn: the ARN of an available snapshot in %s, or the snapshotArn output of the step that takes it", parts.Region))
	}
	return snap
}

// key checks kmsKeyId against the step's region.
func (c *copySnapshotCheck) key(ctx context.Context, f *findings, s action.CheckStep, key string) {
	if strings.HasPrefix(key, "arn:") {
		parts, err := action.CheckARN("kmsKeyId", key, "kms", "")
		if err != nil {
			f.list = append(f.list, action.InvalidInputFinding(s, err))
			return
		}
		if parts.Region != s.Region {
			f.add("kmsKeyId", catalog.FindingKMSKeyRegion,
				fmt.Sprintf("kmsKeyId %s is a key of %s, but the copy is made in %s: KMS keys are regional, and RDS refuses a key of another region (KMSKeyNotAccessibleFault)",
					key, parts.Region, s.Region),
				fmt.Sprintf("kmsKeyId: a KMS key of %s, e.g. arn:aws:kms:%s:%s:key/KEY-ID or alias/NAME (the key the %s copies are encrypted with)",
					s.Region, s.Region, parts.Account, s.Region))
			return
		}
	}
	if c.opts.KMSKeyExists == nil {
		return
	}
	ok, err := c.opts.KMSKeyExists(ctx, s.Region, key)
	switch {
	case err != nil:
		f.failed("kmsKeyId", "kms:DescribeKey", s.Region, err)
	case !ok:
		f.missing("kmsKeyId", fmt.Sprintf("there is no usable KMS key %s in %s", key, s.Region),
			fmt.Sprintf("kmsKeyId: the ARN or alias of an enabled KMS key in %s", s.Region))
	}
}

// deleteCheck checks aws.rds.delete: the instance exists (one that is gone, while its final
// snapshot exists, is a delete that already happened, not a finding), and verifiedCopy is
// a snapshot of the step's region, as the guard rail asks.
type deleteCheck struct {
	rds func(region string) (rdsCheckAPI, error)
}

func (c *deleteCheck) Check(ctx context.Context, s action.CheckStep) []catalog.Finding {
	f := newFindings(s)
	in, err := action.DecodeCheck(s, catalog.Delete)
	if err != nil {
		return f.invalid(err)
	}
	api, err := c.rds(s.Region)
	if err != nil {
		return f.noClients(s.Region, err)
	}
	if in.InstanceID != "" {
		inst, err := describeInstance(ctx, api, in.InstanceID)
		switch {
		case err != nil:
			f.failed("instanceId", "rds:DescribeDBInstances", s.Region, err)
		case inst == nil:
			gone := false
			if in.FinalSnapshotID != "" {
				final, err := describeSnapshot(ctx, api, in.FinalSnapshotID)
				gone = err == nil && final != nil
			}
			if !gone {
				var names []string
				p := rds.NewDescribeDBInstancesPaginator(api, &rds.DescribeDBInstancesInput{})
				for p.HasMorePages() {
					page, err := p.NextPage(ctx)
					if err != nil {
						f.failed("instanceId", "rds:DescribeDBInstances", s.Region, err)
						break
					}
					for _, i := range page.DBInstances {
						names = append(names, aws.ToString(i.DBInstanceIdentifier))
					}
				}
				fix := "instanceId: the instance to delete; " + s.Region + " has none"
				if len(names) > 0 {
					fix = "instanceId: " + oneOf(names)
				}
				f.missing("instanceId", fmt.Sprintf("there is no DB instance %s in %s (and no final snapshot %s of an earlier delete)", in.InstanceID, s.Region, in.FinalSnapshotID), fix)
			}
		}
	}
	if in.VerifiedCopy != "" {
		snap, err := describeSnapshot(ctx, api, in.VerifiedCopy)
		switch {
		case err != nil:
			f.failed("verifiedCopy", "rds:DescribeDBSnapshots", s.Region, err)
		case snap == nil:
			f.missing("verifiedCopy", fmt.Sprintf("there is no snapshot %s in %s; the delete refuses to run without it", in.VerifiedCopy, s.Region),
				fmt.Sprintf("verifiedCopy: an available snapshot in %s of the data being deleted, or the snapshotId output of the step that copies it", s.Region))
		}
	}
	return f.list
}
