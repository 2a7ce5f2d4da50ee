package awssim_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kirikae/kirikae/awssim"
)

// diffOps is the suite's table of operations: every one the seed runbook and kirikae's
// executors and readiness checks call (TestDifferentialCoverage checks that), and the other
// operations awssim implements.
var diffOps = []diffOp{
	// EC2 (ec2Query): the runbook's step 3 and the network readiness check.
	{Service: "ec2", Op: "DescribeVpcs", Given: []given{givenNetwork(west)}, Steps: func(d *diffRun) {
		c := ec2.NewFromConfig(d.cfg(west))
		out := record[*ec2.DescribeVpcsOutput](d, "by Name tag (runbook step 3)")(c.DescribeVpcs(d.ctx, &ec2.DescribeVpcsInput{
			Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{awssim.KaigoDRVPCName}}}}))
		if out != nil && len(out.Vpcs) == 1 {
			vpc := aws.ToString(out.Vpcs[0].VpcId)
			record[*ec2.DescribeVpcsOutput](d, "by id")(c.DescribeVpcs(d.ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpc}}))
		}
		record[*ec2.DescribeVpcsOutput](d, "unknown id")(c.DescribeVpcs(d.ctx, &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-0123456789abcdef0"}}))
		record[*ec2.DescribeVpcsOutput](d, "unknown filter name")(c.DescribeVpcs(d.ctx, &ec2.DescribeVpcsInput{
			Filters: []ec2types.Filter{{Name: aws.String("no-such-filter"), Values: []string{"x"}}}}))
		record[*ec2.DescribeVpcsOutput](d, "tag matching nothing")(c.DescribeVpcs(d.ctx, &ec2.DescribeVpcsInput{
			Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{"no-such-vpc"}}}}))
	}},
	{Service: "ec2", Op: "DescribeSubnets", Given: []given{givenNetwork(west)}, Steps: func(d *diffRun) {
		c := ec2.NewFromConfig(d.cfg(west))
		vpc := drVPC(d)
		out := record[*ec2.DescribeSubnetsOutput](d, "by vpc-id (runbook step 3)")(c.DescribeSubnets(d.ctx, &ec2.DescribeSubnetsInput{
			Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}}))
		if out != nil && len(out.Subnets) > 0 {
			record[*ec2.DescribeSubnetsOutput](d, "by id")(c.DescribeSubnets(d.ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{aws.ToString(out.Subnets[0].SubnetId)}}))
		}
		record[*ec2.DescribeSubnetsOutput](d, "paged by 5 (readiness)")(c.DescribeSubnets(d.ctx, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(5),
			Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}}))
		record[*ec2.DescribeSubnetsOutput](d, "unknown id")(c.DescribeSubnets(d.ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0123456789abcdef0"}}))
	}},
	{Service: "ec2", Op: "DescribeSecurityGroups", Given: []given{givenNetwork(west)}, Steps: func(d *diffRun) {
		c := ec2.NewFromConfig(d.cfg(west))
		vpc := drVPC(d)
		record[*ec2.DescribeSecurityGroupsOutput](d, "by vpc-id")(c.DescribeSecurityGroups(d.ctx, &ec2.DescribeSecurityGroupsInput{
			Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}}))
		record[*ec2.DescribeSecurityGroupsOutput](d, "by group-name in the VPC")(c.DescribeSecurityGroups(d.ctx, &ec2.DescribeSecurityGroupsInput{
			Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("group-name"), Values: []string{"kaigo-subsys-dr-rds-sg"}}}}))
		record[*ec2.DescribeSecurityGroupsOutput](d, "unknown id")(c.DescribeSecurityGroups(d.ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-0123456789abcdef0"}}))
	}},
	{Service: "ec2", Op: "DescribeRouteTables", Given: []given{givenNetwork(west), givenRoutes(west)}, Steps: func(d *diffRun) {
		c := ec2.NewFromConfig(d.cfg(west))
		vpc := drVPC(d)
		record[*ec2.DescribeRouteTablesOutput](d, "by vpc-id")(c.DescribeRouteTables(d.ctx, &ec2.DescribeRouteTablesInput{
			Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}}))
		record[*ec2.DescribeRouteTablesOutput](d, "by Name tag")(c.DescribeRouteTables(d.ctx, &ec2.DescribeRouteTablesInput{
			Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{"kaigo-subsys-dr-private-rt"}}}}))
		record[*ec2.DescribeRouteTablesOutput](d, "unknown id")(c.DescribeRouteTables(d.ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{"rtb-0123456789abcdef0"}}))
	}},

	// RDS (awsQuery).
	{Service: "rds", Op: "DescribeDBInstances", Given: rdsGivens, Steps: func(d *diffRun) {
		c := rds.NewFromConfig(d.cfg(east))
		record[*rds.DescribeDBInstancesOutput](d, "by id")(c.DescribeDBInstances(d.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)}))
		record[*rds.DescribeDBInstancesOutput](d, "all")(c.DescribeDBInstances(d.ctx, &rds.DescribeDBInstancesInput{}))
		record[*rds.DescribeDBInstancesOutput](d, "db-instance-id filter")(c.DescribeDBInstances(d.ctx, &rds.DescribeDBInstancesInput{
			Filters: []rdstypes.Filter{{Name: aws.String("db-instance-id"), Values: []string{awssim.KaigoProdInstance}}}}))
		record[*rds.DescribeDBInstancesOutput](d, "unknown id")(c.DescribeDBInstances(d.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("no-such-db")}))
		record[*rds.DescribeDBInstancesOutput](d, "none in us-west-2")(rds.NewFromConfig(d.cfg(west)).DescribeDBInstances(d.ctx, &rds.DescribeDBInstancesInput{}))
	}},
	{Service: "rds", Op: "DescribeDBSnapshots", Given: slices.Concat(rdsGivens, []given{givenKMSKey(west), givenSnapshots}), Steps: func(d *diffRun) {
		c := rds.NewFromConfig(d.cfg(west))
		out := record[*rds.DescribeDBSnapshotsOutput](d, "copies by instance (runbook step 4)")(c.DescribeDBSnapshots(d.ctx, &rds.DescribeDBSnapshotsInput{
			DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)}))
		if out != nil && len(out.DBSnapshots) > 0 {
			record[*rds.DescribeDBSnapshotsOutput](d, "by id")(c.DescribeDBSnapshots(d.ctx, &rds.DescribeDBSnapshotsInput{
				DBSnapshotIdentifier: out.DBSnapshots[0].DBSnapshotIdentifier}))
		}
		record[*rds.DescribeDBSnapshotsOutput](d, "unknown id")(c.DescribeDBSnapshots(d.ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("no-such-snap")}))
		record[*rds.DescribeDBSnapshotsOutput](d, "unknown instance")(c.DescribeDBSnapshots(d.ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String("no-such-db")}))
		record[*rds.DescribeDBSnapshotsOutput](d, "paged by 20")(c.DescribeDBSnapshots(d.ctx, &rds.DescribeDBSnapshotsInput{
			DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), MaxRecords: aws.Int32(20)}))
	}},
	{Service: "rds", Op: "CreateDBSnapshot", Given: rdsGivens, Steps: func(d *diffRun) {
		c := rds.NewFromConfig(d.cfg(east))
		in := &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), DBSnapshotIdentifier: aws.String("diff-snap"),
			Tags: []rdstypes.Tag{{Key: aws.String("kirikae:run"), Value: aws.String("diff-1")}}}
		out := record[*rds.CreateDBSnapshotOutput](d, "create with tags")(c.CreateDBSnapshot(d.ctx, in))
		if out != nil {
			d.note("TagList of the new snapshot", rdsTagPairs(out.DBSnapshot.TagList))
		}
		record[*rds.CreateDBSnapshotOutput](d, "same id again")(c.CreateDBSnapshot(d.ctx, in))
		record[*rds.CreateDBSnapshotOutput](d, "unknown instance")(c.CreateDBSnapshot(d.ctx, &rds.CreateDBSnapshotInput{
			DBInstanceIdentifier: aws.String("no-such-db"), DBSnapshotIdentifier: aws.String("diff-snap-2")}))
		d.advance(time.Hour)
		record[*rds.DescribeDBSnapshotsOutput](d, "the snapshot once taken")(c.DescribeDBSnapshots(d.ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("diff-snap")}))
	}},
	{Service: "rds", Op: "CopyDBSnapshot", Given: slices.Concat(rdsGivens, []given{givenKMSKey(west)}), Steps: func(d *diffRun) {
		e, w := rds.NewFromConfig(d.cfg(east)), rds.NewFromConfig(d.cfg(west))
		src := record[*rds.CreateDBSnapshotOutput](d, "source snapshot")(e.CreateDBSnapshot(d.ctx, &rds.CreateDBSnapshotInput{
			DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), DBSnapshotIdentifier: aws.String("diff-src"),
			Tags: []rdstypes.Tag{{Key: aws.String("kirikae:run"), Value: aws.String("diff-1")}}}))
		if src == nil {
			return
		}
		d.advance(time.Hour)
		in := &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("diff-src"), TargetDBSnapshotIdentifier: aws.String("diff-copy"), CopyTags: aws.Bool(true)}
		out := record[*rds.CopyDBSnapshotOutput](d, "same-region copy with CopyTags")(e.CopyDBSnapshot(d.ctx, in))
		if out != nil {
			d.note("TagList of the copy", rdsTagPairs(out.DBSnapshot.TagList))
		}
		record[*rds.CopyDBSnapshotOutput](d, "same target again")(e.CopyDBSnapshot(d.ctx, in))
		record[*rds.CopyDBSnapshotOutput](d, "unknown source")(e.CopyDBSnapshot(d.ctx, &rds.CopyDBSnapshotInput{
			SourceDBSnapshotIdentifier: aws.String("no-such-snap"), TargetDBSnapshotIdentifier: aws.String("diff-copy-2")}))
		cross := record[*rds.CopyDBSnapshotOutput](d, "to us-west-2 with a KMS key (runbook cutback step 2)")(w.CopyDBSnapshot(d.ctx, &rds.CopyDBSnapshotInput{
			SourceDBSnapshotIdentifier: src.DBSnapshot.DBSnapshotArn, TargetDBSnapshotIdentifier: aws.String("diff-cross"),
			KmsKeyId: aws.String(d.get("kms:" + west)), SourceRegion: aws.String(east), CopyTags: aws.Bool(true)}))
		if cross != nil {
			d.note("TagList of the cross-region copy", rdsTagPairs(cross.DBSnapshot.TagList))
		}
		record[*rds.CopyDBSnapshotOutput](d, "to us-west-2 with a KMS key that does not exist")(w.CopyDBSnapshot(d.ctx, &rds.CopyDBSnapshotInput{
			SourceDBSnapshotIdentifier: src.DBSnapshot.DBSnapshotArn, TargetDBSnapshotIdentifier: aws.String("diff-cross-2"),
			KmsKeyId: aws.String("arn:aws:kms:us-west-2:" + awssim.AccountID + ":key/no-such-key"), SourceRegion: aws.String(east)}))
	}},
	{Service: "rds", Op: "RestoreDBInstanceFromDBSnapshot", Given: rdsGivens, Steps: func(d *diffRun) {
		c := rds.NewFromConfig(d.cfg(east))
		record[*rds.CreateDBSnapshotOutput](d, "source snapshot")(c.CreateDBSnapshot(d.ctx, &rds.CreateDBSnapshotInput{
			DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), DBSnapshotIdentifier: aws.String("diff-src")}))
		d.advance(time.Hour)
		in := &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("diff-restored"), DBSnapshotIdentifier: aws.String("diff-src"),
			DBInstanceClass: aws.String("db.r6g.large"), DBSubnetGroupName: aws.String("kaigo-subsys-prod-db-subnet-group"),
			VpcSecurityGroupIds: []string{prodRDSSG(d)}, MultiAZ: aws.Bool(true), PubliclyAccessible: aws.Bool(false),
			Tags: []rdstypes.Tag{{Key: aws.String("kirikae:run"), Value: aws.String("diff-1")}, {Key: aws.String("kirikae:step"), Value: aws.String("restore")}}}
		out := record[*rds.RestoreDBInstanceFromDBSnapshotOutput](d, "restore (runbook step 4)")(c.RestoreDBInstanceFromDBSnapshot(d.ctx, in))
		if out != nil {
			d.note("TagList of the restored instance", rdsTagPairs(out.DBInstance.TagList))
			d.note("status of the restored instance", aws.ToString(out.DBInstance.DBInstanceStatus))
		}
		record[*rds.RestoreDBInstanceFromDBSnapshotOutput](d, "same instance again")(c.RestoreDBInstanceFromDBSnapshot(d.ctx, in))
		record[*rds.RestoreDBInstanceFromDBSnapshotOutput](d, "unknown snapshot")(c.RestoreDBInstanceFromDBSnapshot(d.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
			DBInstanceIdentifier: aws.String("diff-2"), DBSnapshotIdentifier: aws.String("no-such-snap")}))
		record[*rds.RestoreDBInstanceFromDBSnapshotOutput](d, "unknown subnet group")(c.RestoreDBInstanceFromDBSnapshot(d.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
			DBInstanceIdentifier: aws.String("diff-3"), DBSnapshotIdentifier: aws.String("diff-src"), DBSubnetGroupName: aws.String("no-such-group")}))
		d.advance(time.Hour)
		di := record[*rds.DescribeDBInstancesOutput](d, "the restored instance once available")(c.DescribeDBInstances(d.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("diff-restored")}))
		if di != nil && len(di.DBInstances) == 1 {
			lt := record[*rds.ListTagsForResourceOutput](d, "its tags by ARN")(c.ListTagsForResource(d.ctx, &rds.ListTagsForResourceInput{ResourceName: di.DBInstances[0].DBInstanceArn}))
			if lt != nil {
				d.note("ListTagsForResource of the restored instance", rdsTagPairs(lt.TagList))
			}
		}
	}},
	{Service: "rds", Op: "RestoreDBInstanceToPointInTime", Given: rdsGivens, Steps: func(d *diffRun) {
		c := rds.NewFromConfig(d.cfg(east))
		in := &rds.RestoreDBInstanceToPointInTimeInput{SourceDBInstanceIdentifier: aws.String(awssim.KaigoProdInstance),
			TargetDBInstanceIdentifier: aws.String("diff-pitr"), UseLatestRestorableTime: aws.Bool(true), DBInstanceClass: aws.String("db.r6g.large"),
			DBSubnetGroupName: aws.String("kaigo-subsys-prod-db-subnet-group"), VpcSecurityGroupIds: []string{prodRDSSG(d)},
			Tags: []rdstypes.Tag{{Key: aws.String("kirikae:run"), Value: aws.String("diff-1")}}}
		out := record[*rds.RestoreDBInstanceToPointInTimeOutput](d, "latest restorable time")(c.RestoreDBInstanceToPointInTime(d.ctx, in))
		if out != nil {
			d.note("TagList of the restored instance", rdsTagPairs(out.DBInstance.TagList))
		}
		record[*rds.RestoreDBInstanceToPointInTimeOutput](d, "same target again")(c.RestoreDBInstanceToPointInTime(d.ctx, in))
		record[*rds.RestoreDBInstanceToPointInTimeOutput](d, "unknown source")(c.RestoreDBInstanceToPointInTime(d.ctx, &rds.RestoreDBInstanceToPointInTimeInput{
			SourceDBInstanceIdentifier: aws.String("no-such-db"), TargetDBInstanceIdentifier: aws.String("diff-pitr-2"), UseLatestRestorableTime: aws.Bool(true)}))
		record[*rds.RestoreDBInstanceToPointInTimeOutput](d, "RestoreTime and UseLatestRestorableTime")(c.RestoreDBInstanceToPointInTime(d.ctx, &rds.RestoreDBInstanceToPointInTimeInput{
			SourceDBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), TargetDBInstanceIdentifier: aws.String("diff-pitr-3"),
			UseLatestRestorableTime: aws.Bool(true), RestoreTime: aws.Time(d.now().Add(-time.Hour))}))
		record[*rds.RestoreDBInstanceToPointInTimeOutput](d, "a RestoreTime a year ago")(c.RestoreDBInstanceToPointInTime(d.ctx, &rds.RestoreDBInstanceToPointInTimeInput{
			SourceDBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), TargetDBInstanceIdentifier: aws.String("diff-pitr-4"),
			RestoreTime: aws.Time(d.now().AddDate(-1, 0, 0))}))
	}},
	{Service: "rds", Op: "DeleteDBInstance", Given: rdsGivens, Steps: func(d *diffRun) {
		c := rds.NewFromConfig(d.cfg(east))
		id := aws.String(awssim.KaigoProdInstance)
		subnets := aws.String("kaigo-subsys-prod-db-subnet-group")
		record[*rds.DeleteDBInstanceOutput](d, "unknown instance")(c.DeleteDBInstance(d.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("no-such-db"), SkipFinalSnapshot: aws.Bool(true)}))
		record[*rds.CreateDBSnapshotOutput](d, "a snapshot named like the final one")(c.CreateDBSnapshot(d.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: id, DBSnapshotIdentifier: aws.String("diff-taken")}))
		d.advance(time.Hour)
		record[*rds.DeleteDBInstanceOutput](d, "final snapshot name taken")(c.DeleteDBInstance(d.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: id, FinalDBSnapshotIdentifier: aws.String("diff-taken")}))
		for _, other := range []string{"diff-second", "diff-third", "diff-fourth"} {
			record[*rds.RestoreDBInstanceFromDBSnapshotOutput](d, "restore "+other)(c.RestoreDBInstanceFromDBSnapshot(d.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
				DBInstanceIdentifier: aws.String(other), DBSnapshotIdentifier: aws.String("diff-taken"), DBSubnetGroupName: subnets}))
		}
		record[*rds.DeleteDBInstanceOutput](d, "diff-second mid-restore, skipping the final snapshot (teardown)")(c.DeleteDBInstance(d.ctx, &rds.DeleteDBInstanceInput{
			DBInstanceIdentifier: aws.String("diff-second"), SkipFinalSnapshot: aws.Bool(true)}))
		out := record[*rds.DeleteDBInstanceOutput](d, "with a final snapshot (runbook cutback step 3)")(c.DeleteDBInstance(d.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: id,
			FinalDBSnapshotIdentifier: aws.String("diff-final")}))
		if out != nil {
			d.note("status in the answer", aws.ToString(out.DBInstance.DBInstanceStatus))
		}
		record[*rds.DescribeDBInstancesOutput](d, "the instance right after")(c.DescribeDBInstances(d.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: id}))
		record[*rds.DeleteDBInstanceOutput](d, "again while deleting")(c.DeleteDBInstance(d.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: id, SkipFinalSnapshot: aws.Bool(true)}))
		d.advance(time.Hour)
		record[*rds.DescribeDBInstancesOutput](d, "the instance an hour later")(c.DescribeDBInstances(d.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: id}))
		record[*rds.DescribeDBSnapshotsOutput](d, "the final snapshot")(c.DescribeDBSnapshots(d.ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("diff-final")}))
		// moto deletes on these two (see motoDeviations), so each has an instance of its own.
		record[*rds.DeleteDBInstanceOutput](d, "diff-third with both a final snapshot and SkipFinalSnapshot")(c.DeleteDBInstance(d.ctx, &rds.DeleteDBInstanceInput{
			DBInstanceIdentifier: aws.String("diff-third"), FinalDBSnapshotIdentifier: aws.String("diff-final-3"), SkipFinalSnapshot: aws.Bool(true)}))
		record[*rds.DeleteDBInstanceOutput](d, "diff-fourth with neither a final snapshot nor SkipFinalSnapshot")(c.DeleteDBInstance(d.ctx, &rds.DeleteDBInstanceInput{
			DBInstanceIdentifier: aws.String("diff-fourth")}))
	}},
	{Service: "rds", Op: "StopDBInstance", Given: rdsGivens, Steps: func(d *diffRun) {
		c := rds.NewFromConfig(d.cfg(east))
		id := aws.String(awssim.KaigoProdInstance)
		out := record[*rds.StopDBInstanceOutput](d, "stop (runbook cutback phase 4)")(c.StopDBInstance(d.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: id}))
		if out != nil {
			d.note("status in the answer", aws.ToString(out.DBInstance.DBInstanceStatus))
		}
		d.advance(time.Hour)
		record[*rds.StopDBInstanceOutput](d, "stop a stopped instance")(c.StopDBInstance(d.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: id}))
		record[*rds.StopDBInstanceOutput](d, "unknown instance")(c.StopDBInstance(d.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("no-such-db")}))
	}},
	{Service: "rds", Op: "StartDBInstance", Given: rdsGivens, Steps: func(d *diffRun) {
		c := rds.NewFromConfig(d.cfg(east))
		id := aws.String(awssim.KaigoProdInstance)
		record[*rds.StartDBInstanceOutput](d, "start an available instance")(c.StartDBInstance(d.ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: id}))
		record[*rds.StopDBInstanceOutput](d, "stop it")(c.StopDBInstance(d.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: id}))
		d.advance(time.Hour)
		out := record[*rds.StartDBInstanceOutput](d, "start the stopped instance")(c.StartDBInstance(d.ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: id}))
		if out != nil {
			d.note("status in the answer", aws.ToString(out.DBInstance.DBInstanceStatus))
		}
		record[*rds.StartDBInstanceOutput](d, "unknown instance")(c.StartDBInstance(d.ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: aws.String("no-such-db")}))
	}},
	{Service: "rds", Op: "DescribeDBParameterGroups", Given: rdsGivens, Steps: func(d *diffRun) {
		c := rds.NewFromConfig(d.cfg(west))
		record[*rds.DescribeDBParameterGroupsOutput](d, "by name (readiness)")(c.DescribeDBParameterGroups(d.ctx, &rds.DescribeDBParameterGroupsInput{DBParameterGroupName: aws.String("kaigo-subsys-postgres15")}))
		record[*rds.DescribeDBParameterGroupsOutput](d, "unknown name")(c.DescribeDBParameterGroups(d.ctx, &rds.DescribeDBParameterGroupsInput{DBParameterGroupName: aws.String("no-such-group")}))
	}},
	{Service: "rds", Op: "DescribeDBSubnetGroups", Given: rdsGivens, Steps: func(d *diffRun) {
		c := rds.NewFromConfig(d.cfg(west))
		record[*rds.DescribeDBSubnetGroupsOutput](d, "by name (readiness)")(c.DescribeDBSubnetGroups(d.ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String(awssim.KaigoDRSubnetGroup)}))
		record[*rds.DescribeDBSubnetGroupsOutput](d, "unknown name")(c.DescribeDBSubnetGroups(d.ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String("no-such-group")}))
	}},
	{Service: "rds", Op: "DescribeOptionGroups", Given: rdsGivens, Steps: func(d *diffRun) {
		c := rds.NewFromConfig(d.cfg(west))
		record[*rds.DescribeOptionGroupsOutput](d, "unknown name (readiness)")(c.DescribeOptionGroups(d.ctx, &rds.DescribeOptionGroupsInput{OptionGroupName: aws.String("no-such-options")}))
	}},
	{Service: "rds", Op: "ListTagsForResource", Given: rdsGivens, Steps: func(d *diffRun) {
		c := rds.NewFromConfig(d.cfg(east))
		di := record[*rds.DescribeDBInstancesOutput](d, "the production instance")(c.DescribeDBInstances(d.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)}))
		if di == nil || len(di.DBInstances) != 1 {
			return
		}
		arn := aws.ToString(di.DBInstances[0].DBInstanceArn)
		record[*rds.ListTagsForResourceOutput](d, "an untagged instance")(c.ListTagsForResource(d.ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String(arn)}))
		sn := record[*rds.CreateDBSnapshotOutput](d, "a tagged snapshot")(c.CreateDBSnapshot(d.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance),
			DBSnapshotIdentifier: aws.String("diff-tagged"), Tags: []rdstypes.Tag{{Key: aws.String("b"), Value: aws.String("2")}, {Key: aws.String("a"), Value: aws.String("1")}}}))
		if sn != nil {
			lt := record[*rds.ListTagsForResourceOutput](d, "the snapshot's tags")(c.ListTagsForResource(d.ctx, &rds.ListTagsForResourceInput{ResourceName: sn.DBSnapshot.DBSnapshotArn}))
			if lt != nil {
				d.note("the snapshot's tag pairs", rdsTagPairs(lt.TagList))
			}
		}
		record[*rds.ListTagsForResourceOutput](d, "an instance that does not exist")(c.ListTagsForResource(d.ctx, &rds.ListTagsForResourceInput{
			ResourceName: aws.String(strings.Replace(arn, awssim.KaigoProdInstance, "no-such-db", 1))}))
		record[*rds.ListTagsForResourceOutput](d, "not an ARN")(c.ListTagsForResource(d.ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String("kaigo-subsys-prod")}))
	}},

	// ElastiCache (awsQuery).
	{Service: "elasticache", Op: "CreateReplicationGroup", Given: cacheGivens, Steps: func(d *diffRun) {
		c := elasticache.NewFromConfig(d.cfg(west))
		in := drReplicationGroup(d)
		out := record[*elasticache.CreateReplicationGroupOutput](d, "create (runbook step 5)")(c.CreateReplicationGroup(d.ctx, in))
		if out != nil {
			d.note("status in the answer", aws.ToString(out.ReplicationGroup.Status))
		}
		record[*elasticache.CreateReplicationGroupOutput](d, "same id again")(c.CreateReplicationGroup(d.ctx, in))
		bad := drReplicationGroup(d)
		bad.ReplicationGroupId, bad.CacheSubnetGroupName = aws.String("diff-redis-2"), aws.String("no-such-group")
		record[*elasticache.CreateReplicationGroupOutput](d, "unknown cache subnet group")(c.CreateReplicationGroup(d.ctx, bad))
		one := drReplicationGroup(d)
		one.ReplicationGroupId, one.NumCacheClusters = aws.String("diff-redis-3"), aws.Int32(1)
		record[*elasticache.CreateReplicationGroupOutput](d, "automatic failover with one node")(c.CreateReplicationGroup(d.ctx, one))
	}},
	{Service: "elasticache", Op: "DescribeReplicationGroups", Given: cacheGivens, Steps: func(d *diffRun) {
		c := elasticache.NewFromConfig(d.cfg(east))
		record[*elasticache.DescribeReplicationGroupsOutput](d, "by id")(c.DescribeReplicationGroups(d.ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("kaigo-subsys-prod")}))
		record[*elasticache.DescribeReplicationGroupsOutput](d, "all")(c.DescribeReplicationGroups(d.ctx, &elasticache.DescribeReplicationGroupsInput{}))
		record[*elasticache.DescribeReplicationGroupsOutput](d, "unknown id")(c.DescribeReplicationGroups(d.ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("no-such-group")}))
		w := elasticache.NewFromConfig(d.cfg(west))
		record[*elasticache.CreateReplicationGroupOutput](d, "the DR group")(w.CreateReplicationGroup(d.ctx, drReplicationGroup(d)))
		d.advance(time.Hour)
		record[*elasticache.DescribeReplicationGroupsOutput](d, "the DR group once available (runbook step 5)")(w.DescribeReplicationGroups(d.ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(awssim.KaigoDRInstance)}))
	}},
	{Service: "elasticache", Op: "DeleteReplicationGroup", Given: cacheGivens, Steps: func(d *diffRun) {
		c := elasticache.NewFromConfig(d.cfg(east))
		id := aws.String("kaigo-subsys-prod")
		out := record[*elasticache.DeleteReplicationGroupOutput](d, "delete (runbook cutback phase 4)")(c.DeleteReplicationGroup(d.ctx, &elasticache.DeleteReplicationGroupInput{ReplicationGroupId: id}))
		if out != nil {
			d.note("status in the answer", aws.ToString(out.ReplicationGroup.Status))
		}
		record[*elasticache.DeleteReplicationGroupOutput](d, "again while deleting")(c.DeleteReplicationGroup(d.ctx, &elasticache.DeleteReplicationGroupInput{ReplicationGroupId: id}))
		record[*elasticache.DeleteReplicationGroupOutput](d, "unknown id")(c.DeleteReplicationGroup(d.ctx, &elasticache.DeleteReplicationGroupInput{ReplicationGroupId: aws.String("no-such-group")}))
		d.advance(time.Hour)
		record[*elasticache.DescribeReplicationGroupsOutput](d, "the group an hour later")(c.DescribeReplicationGroups(d.ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: id}))
	}},
	{Service: "elasticache", Op: "DescribeCacheSubnetGroups", Given: cacheGivens, Steps: func(d *diffRun) {
		c := elasticache.NewFromConfig(d.cfg(west))
		out := record[*elasticache.DescribeCacheSubnetGroupsOutput](d, "the DR group by name (readiness)")(c.DescribeCacheSubnetGroups(d.ctx,
			&elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String(awssim.KaigoDRCacheSubnets)}))
		if out != nil && len(out.CacheSubnetGroups) == 1 {
			azs := map[string]bool{}
			for _, s := range out.CacheSubnetGroups[0].Subnets {
				if s.SubnetAvailabilityZone != nil {
					azs[aws.ToString(s.SubnetAvailabilityZone.Name)] = true
				}
			}
			d.note("its subnets and zones", fmt.Sprintf("%d subnets in %d AZs", len(out.CacheSubnetGroups[0].Subnets), len(azs)))
		}
		record[*elasticache.DescribeCacheSubnetGroupsOutput](d, "a group that does not exist")(c.DescribeCacheSubnetGroups(d.ctx,
			&elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String("no-such-cache-subnet-group")}))
		record[*elasticache.DescribeCacheSubnetGroupsOutput](d, "the production group, asked in us-east-1")(elasticache.NewFromConfig(d.cfg(east)).DescribeCacheSubnetGroups(d.ctx,
			&elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String("kaigo-subsys-prod-cache-subnet-group")}))
	}},
	{Service: "elasticache", Op: "ListTagsForResource", Given: cacheGivens, Steps: func(d *diffRun) {
		c := elasticache.NewFromConfig(d.cfg(west))
		out := record[*elasticache.CreateReplicationGroupOutput](d, "a tagged group")(c.CreateReplicationGroup(d.ctx, drReplicationGroup(d)))
		if out == nil {
			return
		}
		lt := record[*elasticache.ListTagsForResourceOutput](d, "its tags by ARN")(c.ListTagsForResource(d.ctx, &elasticache.ListTagsForResourceInput{ResourceName: out.ReplicationGroup.ARN}))
		if lt != nil {
			pairs := make([]string, 0, len(lt.TagList))
			for _, t := range lt.TagList {
				pairs = append(pairs, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
			}
			sort.Strings(pairs)
			d.note("its tag pairs", strings.Join(pairs, ";"))
		}
		record[*elasticache.ListTagsForResourceOutput](d, "a group that does not exist")(c.ListTagsForResource(d.ctx, &elasticache.ListTagsForResourceInput{
			ResourceName: aws.String(strings.Replace(aws.ToString(out.ReplicationGroup.ARN), awssim.KaigoDRInstance, "no-such-group", 1))}))
		record[*elasticache.ListTagsForResourceOutput](d, "not an ARN")(c.ListTagsForResource(d.ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String("kaigo-subsys-dr")}))
	}},

	// EFS (restJson1).
	{Service: "efs", Op: "DescribeFileSystems", Given: []given{givenProdFS}, Steps: func(d *diffRun) {
		c := efs.NewFromConfig(d.cfg(east))
		all := record[*efs.DescribeFileSystemsOutput](d, "all")(c.DescribeFileSystems(d.ctx, &efs.DescribeFileSystemsInput{}))
		if all != nil && len(all.FileSystems) == 1 {
			record[*efs.DescribeFileSystemsOutput](d, "by id")(c.DescribeFileSystems(d.ctx, &efs.DescribeFileSystemsInput{FileSystemId: all.FileSystems[0].FileSystemId}))
		}
		record[*efs.DescribeFileSystemsOutput](d, "by creation token")(c.DescribeFileSystems(d.ctx, &efs.DescribeFileSystemsInput{CreationToken: aws.String("kaigo-subsys-prod-efs")}))
		record[*efs.DescribeFileSystemsOutput](d, "unknown id")(c.DescribeFileSystems(d.ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String("fs-0123456789abcdef0")}))
		record[*efs.DescribeFileSystemsOutput](d, "none in us-west-2")(efs.NewFromConfig(d.cfg(west)).DescribeFileSystems(d.ctx, &efs.DescribeFileSystemsInput{}))
	}},
	{Service: "efs", Op: "DeleteFileSystem", Given: []given{givenProdFS}, Steps: func(d *diffRun) {
		c := efs.NewFromConfig(d.cfg(east))
		all := record[*efs.DescribeFileSystemsOutput](d, "the file system")(c.DescribeFileSystems(d.ctx, &efs.DescribeFileSystemsInput{}))
		if all == nil || len(all.FileSystems) != 1 {
			return
		}
		id := all.FileSystems[0].FileSystemId
		record[*efs.DeleteFileSystemOutput](d, "delete")(c.DeleteFileSystem(d.ctx, &efs.DeleteFileSystemInput{FileSystemId: id}))
		record[*efs.DeleteFileSystemOutput](d, "delete again")(c.DeleteFileSystem(d.ctx, &efs.DeleteFileSystemInput{FileSystemId: id}))
		record[*efs.DescribeFileSystemsOutput](d, "it, after the delete")(c.DescribeFileSystems(d.ctx, &efs.DescribeFileSystemsInput{FileSystemId: id}))
	}},

	// Secrets Manager (awsJson1_1).
	{Service: "secretsmanager", Op: "GetSecretValue", Given: []given{givenSecrets(west)}, Steps: func(d *diffRun) {
		c := secretsmanager.NewFromConfig(d.cfg(west))
		out := record[*secretsmanager.GetSecretValueOutput](d, "by name")(c.GetSecretValue(d.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(awssim.KaigoDRDBSecret)}))
		if out != nil {
			d.note("its value", aws.ToString(out.SecretString))
			record[*secretsmanager.GetSecretValueOutput](d, "by ARN")(c.GetSecretValue(d.ctx, &secretsmanager.GetSecretValueInput{SecretId: out.ARN}))
		}
		record[*secretsmanager.GetSecretValueOutput](d, "unknown name")(c.GetSecretValue(d.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("kaigo-subsys/dr/nope")}))
		record[*secretsmanager.GetSecretValueOutput](d, "a stage no version has")(c.GetSecretValue(d.ctx, &secretsmanager.GetSecretValueInput{
			SecretId: aws.String(awssim.KaigoDRDBSecret), VersionStage: aws.String("AWSPREVIOUS")}))
	}},
	{Service: "secretsmanager", Op: "PutSecretValue", Given: []given{givenSecrets(west)}, Steps: func(d *diffRun) {
		c := secretsmanager.NewFromConfig(d.cfg(west))
		in := &secretsmanager.PutSecretValueInput{SecretId: aws.String(awssim.KaigoDRDBSecret), SecretString: aws.String(`{"endpoint":"db"}`),
			ClientRequestToken: aws.String("00000000-0000-4000-8000-000000000001")}
		record[*secretsmanager.PutSecretValueOutput](d, "put")(c.PutSecretValue(d.ctx, in))
		record[*secretsmanager.PutSecretValueOutput](d, "same token, same value")(c.PutSecretValue(d.ctx, in))
		record[*secretsmanager.PutSecretValueOutput](d, "same token, another value")(c.PutSecretValue(d.ctx, &secretsmanager.PutSecretValueInput{
			SecretId: in.SecretId, SecretString: aws.String(`{"endpoint":"other"}`), ClientRequestToken: in.ClientRequestToken}))
		record[*secretsmanager.PutSecretValueOutput](d, "unknown secret")(c.PutSecretValue(d.ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String("kaigo-subsys/dr/nope"), SecretString: aws.String("x")}))
		v := record[*secretsmanager.GetSecretValueOutput](d, "read back")(c.GetSecretValue(d.ctx, &secretsmanager.GetSecretValueInput{SecretId: in.SecretId}))
		if v != nil {
			d.note("value read back", aws.ToString(v.SecretString))
		}
		p := record[*secretsmanager.GetSecretValueOutput](d, "the previous version")(c.GetSecretValue(d.ctx, &secretsmanager.GetSecretValueInput{
			SecretId: in.SecretId, VersionStage: aws.String("AWSPREVIOUS")}))
		if p != nil {
			d.note("previous value", aws.ToString(p.SecretString))
		}
	}},
	{Service: "secretsmanager", Op: "UpdateSecret", Given: []given{givenSecrets(west)}, Steps: func(d *diffRun) {
		c := secretsmanager.NewFromConfig(d.cfg(west))
		record[*secretsmanager.UpdateSecretOutput](d, "new value (runbook step 7)")(c.UpdateSecret(d.ctx, &secretsmanager.UpdateSecretInput{
			SecretId: aws.String(awssim.KaigoDRRedisSecret), SecretString: aws.String(`{"endpoint":"redis"}`)}))
		record[*secretsmanager.UpdateSecretOutput](d, "description only")(c.UpdateSecret(d.ctx, &secretsmanager.UpdateSecretInput{
			SecretId: aws.String(awssim.KaigoDRRedisSecret), Description: aws.String("DR Redis endpoint")}))
		record[*secretsmanager.UpdateSecretOutput](d, "unknown secret")(c.UpdateSecret(d.ctx, &secretsmanager.UpdateSecretInput{
			SecretId: aws.String("kaigo-subsys/dr/nope"), SecretString: aws.String("x")}))
		v := record[*secretsmanager.GetSecretValueOutput](d, "read back")(c.GetSecretValue(d.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(awssim.KaigoDRRedisSecret)}))
		if v != nil {
			d.note("value read back", aws.ToString(v.SecretString))
		}
	}},
	{Service: "secretsmanager", Op: "DescribeSecret", Given: []given{givenSecrets(west)}, Steps: func(d *diffRun) {
		c := secretsmanager.NewFromConfig(d.cfg(west))
		record[*secretsmanager.DescribeSecretOutput](d, "by name (readiness)")(c.DescribeSecret(d.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(awssim.KaigoDRDBSecret)}))
		record[*secretsmanager.DescribeSecretOutput](d, "unknown name")(c.DescribeSecret(d.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("kaigo-subsys/dr/nope")}))
		record[*secretsmanager.PutSecretValueOutput](d, "a second version")(c.PutSecretValue(d.ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(awssim.KaigoDRDBSecret), SecretString: aws.String(`{"endpoint":"db"}`)}))
		out := record[*secretsmanager.DescribeSecretOutput](d, "after the second version")(c.DescribeSecret(d.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(awssim.KaigoDRDBSecret)}))
		if out != nil {
			d.note("versions with stages", fmt.Sprint(stageCounts(out.VersionIdsToStages)))
		}
	}},
	{Service: "secretsmanager", Op: "UpdateSecretVersionStage", Given: []given{givenSecrets(west)}, Steps: func(d *diffRun) {
		c := secretsmanager.NewFromConfig(d.cfg(west))
		id := aws.String(awssim.KaigoDRDBSecret)
		first := record[*secretsmanager.GetSecretValueOutput](d, "the first version")(c.GetSecretValue(d.ctx, &secretsmanager.GetSecretValueInput{SecretId: id}))
		second := record[*secretsmanager.PutSecretValueOutput](d, "a second version")(c.PutSecretValue(d.ctx, &secretsmanager.PutSecretValueInput{
			SecretId: id, SecretString: aws.String(`{"endpoint":"db"}`)}))
		if first == nil || second == nil {
			return
		}
		record[*secretsmanager.UpdateSecretVersionStageOutput](d, "move AWSCURRENT without RemoveFromVersionId")(c.UpdateSecretVersionStage(d.ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: id, VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: first.VersionId}))
		record[*secretsmanager.UpdateSecretVersionStageOutput](d, "move AWSCURRENT back (undo)")(c.UpdateSecretVersionStage(d.ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: id, VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: first.VersionId, RemoveFromVersionId: second.VersionId}))
		v := record[*secretsmanager.GetSecretValueOutput](d, "read back")(c.GetSecretValue(d.ctx, &secretsmanager.GetSecretValueInput{SecretId: id}))
		if v != nil {
			d.note("current value", aws.ToString(v.SecretString))
		}
		ds := record[*secretsmanager.DescribeSecretOutput](d, "stages after the move")(c.DescribeSecret(d.ctx, &secretsmanager.DescribeSecretInput{SecretId: id}))
		if ds != nil {
			d.note("stages of the second version", strings.Join(ds.VersionIdsToStages[aws.ToString(second.VersionId)], ","))
		}
		record[*secretsmanager.UpdateSecretVersionStageOutput](d, "unknown secret")(c.UpdateSecretVersionStage(d.ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String("kaigo-subsys/dr/nope"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: first.VersionId}))
	}},

	// ECS (awsJson1_1).
	{Service: "ecs", Op: "RegisterTaskDefinition", Given: ecsGivens, Steps: func(d *diffRun) {
		c := ecs.NewFromConfig(d.cfg(west))
		out := record[*ecs.RegisterTaskDefinitionOutput](d, "a new revision (runbook step 7)")(c.RegisterTaskDefinition(d.ctx, kaigoTaskDef(west, awssim.KaigoDRTaskFamily)))
		if out != nil {
			d.note("revision", fmt.Sprint(out.TaskDefinition.Revision))
		}
		record[*ecs.RegisterTaskDefinitionOutput](d, "no containers")(c.RegisterTaskDefinition(d.ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(awssim.KaigoDRTaskFamily), ContainerDefinitions: []ecstypes.ContainerDefinition{}}))
	}},
	{Service: "ecs", Op: "DescribeTaskDefinition", Given: ecsGivens, Steps: func(d *diffRun) {
		c := ecs.NewFromConfig(d.cfg(west))
		record[*ecs.DescribeTaskDefinitionOutput](d, "by family")(c.DescribeTaskDefinition(d.ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(awssim.KaigoDRTaskFamily)}))
		record[*ecs.DescribeTaskDefinitionOutput](d, "by family:revision")(c.DescribeTaskDefinition(d.ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(awssim.KaigoDRTaskFamily + ":1")}))
		record[*ecs.DescribeTaskDefinitionOutput](d, "unknown family")(c.DescribeTaskDefinition(d.ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("no-such-family")}))
		record[*ecs.DescribeTaskDefinitionOutput](d, "unknown revision")(c.DescribeTaskDefinition(d.ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(awssim.KaigoDRTaskFamily + ":9")}))
	}},
	{Service: "ecs", Op: "DeregisterTaskDefinition", Given: ecsGivens, Steps: func(d *diffRun) {
		c := ecs.NewFromConfig(d.cfg(west))
		rev := aws.String(awssim.KaigoDRTaskFamily + ":1")
		out := record[*ecs.DeregisterTaskDefinitionOutput](d, "family:revision")(c.DeregisterTaskDefinition(d.ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: rev}))
		if out != nil {
			d.note("status", string(out.TaskDefinition.Status))
		}
		record[*ecs.DeregisterTaskDefinitionOutput](d, "again")(c.DeregisterTaskDefinition(d.ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: rev}))
		record[*ecs.DeregisterTaskDefinitionOutput](d, "a family without a revision")(c.DeregisterTaskDefinition(d.ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(awssim.KaigoDRTaskFamily)}))
		record[*ecs.DeregisterTaskDefinitionOutput](d, "unknown revision")(c.DeregisterTaskDefinition(d.ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(awssim.KaigoDRTaskFamily + ":9")}))
		record[*ecs.DescribeTaskDefinitionOutput](d, "the INACTIVE revision")(c.DescribeTaskDefinition(d.ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: rev}))
	}},
	{Service: "ecs", Op: "UpdateService", Given: ecsGivens, Steps: func(d *diffRun) {
		c := ecs.NewFromConfig(d.cfg(west))
		cl, svc := aws.String(awssim.KaigoDRCluster), aws.String(awssim.KaigoDRService)
		record[*ecs.UpdateServiceOutput](d, "the runbook's :latest task definition (step 7)")(c.UpdateService(d.ctx, &ecs.UpdateServiceInput{Cluster: cl, Service: svc,
			DesiredCount: aws.Int32(2), TaskDefinition: aws.String(awssim.KaigoDRTaskFamily + ":latest")}))
		out := record[*ecs.UpdateServiceOutput](d, "desired count 2 with the family")(c.UpdateService(d.ctx, &ecs.UpdateServiceInput{Cluster: cl, Service: svc,
			DesiredCount: aws.Int32(2), TaskDefinition: aws.String(awssim.KaigoDRTaskFamily)}))
		if out != nil {
			d.note("desired count in the answer", fmt.Sprint(out.Service.DesiredCount))
		}
		record[*ecs.UpdateServiceOutput](d, "unknown service")(c.UpdateService(d.ctx, &ecs.UpdateServiceInput{Cluster: cl, Service: aws.String("no-such-service"), DesiredCount: aws.Int32(1)}))
		record[*ecs.UpdateServiceOutput](d, "unknown cluster")(c.UpdateService(d.ctx, &ecs.UpdateServiceInput{Cluster: aws.String("no-such-cluster"), Service: svc, DesiredCount: aws.Int32(1)}))
		record[*ecs.UpdateServiceOutput](d, "unknown task definition")(c.UpdateService(d.ctx, &ecs.UpdateServiceInput{Cluster: cl, Service: svc, TaskDefinition: aws.String("no-such-family")}))
		record[*ecs.UpdateServiceOutput](d, "back to 0 (runbook cutback phase 4)")(c.UpdateService(d.ctx, &ecs.UpdateServiceInput{Cluster: cl, Service: svc, DesiredCount: aws.Int32(0)}))
	}},
	{Service: "ecs", Op: "DescribeServices", Given: ecsGivens, Steps: func(d *diffRun) {
		c := ecs.NewFromConfig(d.cfg(west))
		cl := aws.String(awssim.KaigoDRCluster)
		record[*ecs.DescribeServicesOutput](d, "the DR service (runbook step 7 wait)")(c.DescribeServices(d.ctx, &ecs.DescribeServicesInput{Cluster: cl, Services: []string{awssim.KaigoDRService}}))
		out := record[*ecs.DescribeServicesOutput](d, "a service that does not exist")(c.DescribeServices(d.ctx, &ecs.DescribeServicesInput{Cluster: cl, Services: []string{"no-such-service"}}))
		if out != nil && len(out.Failures) == 1 {
			d.note("failure reason", aws.ToString(out.Failures[0].Reason))
		}
		record[*ecs.DescribeServicesOutput](d, "unknown cluster")(c.DescribeServices(d.ctx, &ecs.DescribeServicesInput{Cluster: aws.String("no-such-cluster"), Services: []string{awssim.KaigoDRService}}))
	}},
	{Service: "ecs", Op: "DescribeClusters", Given: ecsGivens, Steps: func(d *diffRun) {
		c := ecs.NewFromConfig(d.cfg(west))
		record[*ecs.DescribeClustersOutput](d, "the DR cluster (readiness)")(c.DescribeClusters(d.ctx, &ecs.DescribeClustersInput{Clusters: []string{awssim.KaigoDRCluster}}))
		out := record[*ecs.DescribeClustersOutput](d, "a cluster that does not exist")(c.DescribeClusters(d.ctx, &ecs.DescribeClustersInput{Clusters: []string{"no-such-cluster"}}))
		if out != nil && len(out.Failures) == 1 {
			d.note("failure reason", aws.ToString(out.Failures[0].Reason))
		}
	}},

	{Service: "ecs", Op: "ListTagsForResource", Given: slices.Concat(ecsGivens, []given{givenServiceTags(west)}), Steps: func(d *diffRun) {
		c := ecs.NewFromConfig(d.cfg(west))
		cl := record[*ecs.DescribeClustersOutput](d, "the DR cluster")(c.DescribeClusters(d.ctx, &ecs.DescribeClustersInput{Clusters: []string{awssim.KaigoDRCluster}}))
		sv := record[*ecs.DescribeServicesOutput](d, "the DR service")(c.DescribeServices(d.ctx, &ecs.DescribeServicesInput{
			Cluster: aws.String(awssim.KaigoDRCluster), Services: []string{awssim.KaigoDRService}}))
		if cl == nil || sv == nil || len(cl.Clusters) != 1 || len(sv.Services) != 1 {
			return
		}
		for _, r := range []struct{ label, arn string }{{"the cluster's tags", aws.ToString(cl.Clusters[0].ClusterArn)},
			{"the service's tags", aws.ToString(sv.Services[0].ServiceArn)}} {
			out := record[*ecs.ListTagsForResourceOutput](d, r.label)(c.ListTagsForResource(d.ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(r.arn)}))
			if out != nil {
				pairs := make([]string, 0, len(out.Tags))
				for _, t := range out.Tags {
					pairs = append(pairs, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
				}
				sort.Strings(pairs)
				d.note(r.label+" as pairs", strings.Join(pairs, ";"))
			}
		}
		record[*ecs.ListTagsForResourceOutput](d, "a cluster that does not exist")(c.ListTagsForResource(d.ctx, &ecs.ListTagsForResourceInput{
			ResourceArn: aws.String(strings.Replace(aws.ToString(cl.Clusters[0].ClusterArn), awssim.KaigoDRCluster, "no-such-cluster", 1))}))
	}},

	// ELBv2 (awsQuery).
	{Service: "elasticloadbalancingv2", Op: "DescribeLoadBalancers", Given: ecsGivens, Steps: func(d *diffRun) {
		c := elbv2.NewFromConfig(d.cfg(west))
		record[*elbv2.DescribeLoadBalancersOutput](d, "by name (readiness)")(c.DescribeLoadBalancers(d.ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{awssim.KaigoDRALBName}}))
		record[*elbv2.DescribeLoadBalancersOutput](d, "all")(c.DescribeLoadBalancers(d.ctx, &elbv2.DescribeLoadBalancersInput{}))
		record[*elbv2.DescribeLoadBalancersOutput](d, "unknown name")(c.DescribeLoadBalancers(d.ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"no-such-lb"}}))
	}},
	{Service: "elasticloadbalancingv2", Op: "DescribeTargetGroups", Given: ecsGivens, Steps: func(d *diffRun) {
		c := elbv2.NewFromConfig(d.cfg(west))
		record[*elbv2.DescribeTargetGroupsOutput](d, "by name (readiness)")(c.DescribeTargetGroups(d.ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{awssim.KaigoDRTargetGroup}}))
		lb := record[*elbv2.DescribeLoadBalancersOutput](d, "the ALB")(c.DescribeLoadBalancers(d.ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{awssim.KaigoDRALBName}}))
		if lb != nil && len(lb.LoadBalancers) == 1 {
			record[*elbv2.DescribeTargetGroupsOutput](d, "by load balancer")(c.DescribeTargetGroups(d.ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn}))
		}
		record[*elbv2.DescribeTargetGroupsOutput](d, "unknown name")(c.DescribeTargetGroups(d.ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"no-such-tg"}}))
	}},
	{Service: "elasticloadbalancingv2", Op: "DescribeTargetHealth", Given: slices.Concat(ecsGivens, []given{givenNetwork(east), givenALB(east), givenECS(east)}), Steps: func(d *diffRun) {
		for _, region := range []string{east, west} {
			c := elbv2.NewFromConfig(d.cfg(region))
			tg := record[*elbv2.DescribeTargetGroupsOutput](d, region+" target group")(c.DescribeTargetGroups(d.ctx, &elbv2.DescribeTargetGroupsInput{}))
			if tg == nil || len(tg.TargetGroups) != 1 {
				continue
			}
			out := record[*elbv2.DescribeTargetHealthOutput](d, region+" targets (runbook step 8)")(c.DescribeTargetHealth(d.ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroups[0].TargetGroupArn}))
			if out != nil {
				d.note(region+" target states", targetStates(out))
			}
		}
		c := elbv2.NewFromConfig(d.cfg(west))
		record[*elbv2.DescribeTargetHealthOutput](d, "unknown target group")(c.DescribeTargetHealth(d.ctx, &elbv2.DescribeTargetHealthInput{
			TargetGroupArn: aws.String("arn:aws:elasticloadbalancing:us-west-2:" + awssim.AccountID + ":targetgroup/no-such-tg/0123456789abcdef")}))
	}},

	{Service: "elasticloadbalancingv2", Op: "DescribeTags", Given: ecsGivens, Steps: func(d *diffRun) {
		c := elbv2.NewFromConfig(d.cfg(west))
		lb := record[*elbv2.DescribeLoadBalancersOutput](d, "the ALB")(c.DescribeLoadBalancers(d.ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{awssim.KaigoDRALBName}}))
		tg := record[*elbv2.DescribeTargetGroupsOutput](d, "the target group")(c.DescribeTargetGroups(d.ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{awssim.KaigoDRTargetGroup}}))
		if lb == nil || tg == nil || len(lb.LoadBalancers) != 1 || len(tg.TargetGroups) != 1 {
			return
		}
		lbARN, tgARN := aws.ToString(lb.LoadBalancers[0].LoadBalancerArn), aws.ToString(tg.TargetGroups[0].TargetGroupArn)
		out := record[*elbv2.DescribeTagsOutput](d, "both")(c.DescribeTags(d.ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{lbARN, tgARN}}))
		if out != nil {
			var pairs []string
			for _, td := range out.TagDescriptions {
				for _, t := range td.Tags {
					pairs = append(pairs, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
				}
			}
			sort.Strings(pairs)
			d.note("their tag pairs", strings.Join(pairs, ";"))
		}
		record[*elbv2.DescribeTagsOutput](d, "a load balancer that does not exist")(c.DescribeTags(d.ctx, &elbv2.DescribeTagsInput{
			ResourceArns: []string{strings.Replace(lbARN, awssim.KaigoDRALBName, "no-such-alb", 1)}}))
		record[*elbv2.DescribeTagsOutput](d, "a target group that does not exist")(c.DescribeTags(d.ctx, &elbv2.DescribeTagsInput{
			ResourceArns: []string{strings.Replace(tgARN, awssim.KaigoDRTargetGroup, "no-such-tg", 1)}}))
	}},

	// Route 53 (restXml).
	{Service: "route53", Op: "ListHostedZones", Given: r53Givens, Steps: func(d *diffRun) {
		c := route53.NewFromConfig(d.cfg(east))
		record[*route53.ListHostedZonesOutput](d, "all")(c.ListHostedZones(d.ctx, &route53.ListHostedZonesInput{}))
		// Route 53 does not document the order of this listing, so the pages are compared by
		// what they hold together, not one by one.
		var zones []string
		var marker *string
		for page := 0; page < 3; page++ {
			out, err := c.ListHostedZones(d.ctx, &route53.ListHostedZonesInput{MaxItems: aws.Int32(1), Marker: marker})
			if err != nil {
				d.note("pages of 1", "error: "+outcome(err))
				return
			}
			for _, z := range out.HostedZones {
				zones = append(zones, aws.ToString(z.Name))
			}
			if !out.IsTruncated {
				break
			}
			marker = out.NextMarker
		}
		sort.Strings(zones)
		d.note("the zones over pages of 1", strings.Join(zones, " "))
		record[*route53.ListHostedZonesOutput](d, "private zones")(c.ListHostedZones(d.ctx, &route53.ListHostedZonesInput{HostedZoneType: r53types.HostedZoneTypePrivateHostedZone}))
	}},
	{Service: "route53", Op: "ListHostedZonesByName", Given: r53Givens, Steps: func(d *diffRun) {
		c := route53.NewFromConfig(d.cfg(east))
		record[*route53.ListHostedZonesByNameOutput](d, "all")(c.ListHostedZonesByName(d.ctx, &route53.ListHostedZonesByNameInput{}))
		record[*route53.ListHostedZonesByNameOutput](d, "from the public zone's name")(c.ListHostedZonesByName(d.ctx, &route53.ListHostedZonesByNameInput{
			DNSName: aws.String(awssim.KaigoZoneName), MaxItems: aws.Int32(1)}))
		record[*route53.ListHostedZonesByNameOutput](d, "from a name after every zone")(c.ListHostedZonesByName(d.ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String("zzz.example.")}))
	}},
	{Service: "route53", Op: "GetHostedZone", Given: r53Givens, Steps: func(d *diffRun) {
		c := route53.NewFromConfig(d.cfg(east))
		record[*route53.GetHostedZoneOutput](d, "the public zone")(c.GetHostedZone(d.ctx, &route53.GetHostedZoneInput{Id: aws.String(d.get("zone"))}))
		z := record[*route53.ListHostedZonesOutput](d, "the zones")(c.ListHostedZones(d.ctx, &route53.ListHostedZonesInput{}))
		for _, hz := range zValues(z) {
			if hz.Config != nil && hz.Config.PrivateZone {
				record[*route53.GetHostedZoneOutput](d, "the private zone")(c.GetHostedZone(d.ctx, &route53.GetHostedZoneInput{Id: hz.Id}))
			}
		}
		record[*route53.GetHostedZoneOutput](d, "unknown zone")(c.GetHostedZone(d.ctx, &route53.GetHostedZoneInput{Id: aws.String("ZNOSUCHZONE")}))
	}},
	{Service: "route53", Op: "ListResourceRecordSets", Given: r53Givens, Steps: func(d *diffRun) {
		c := route53.NewFromConfig(d.cfg(east))
		zone := aws.String(d.get("zone"))
		record[*route53.ListResourceRecordSetsOutput](d, "the zone (runbook step 9)")(c.ListResourceRecordSets(d.ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: zone}))
		record[*route53.ListResourceRecordSetsOutput](d, "from the API name's A record")(c.ListResourceRecordSets(d.ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: zone,
			StartRecordName: aws.String(awssim.KaigoAPIName), StartRecordType: r53types.RRTypeA, MaxItems: aws.Int32(1)}))
		record[*route53.ListResourceRecordSetsOutput](d, "a page of 2")(c.ListResourceRecordSets(d.ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: zone, MaxItems: aws.Int32(2)}))
		record[*route53.ListResourceRecordSetsOutput](d, "unknown zone")(c.ListResourceRecordSets(d.ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("ZNOSUCHZONE")}))
	}},
	{Service: "route53", Op: "ChangeResourceRecordSets", Given: r53Givens, Steps: func(d *diffRun) {
		c := route53.NewFromConfig(d.cfg(east))
		zone := aws.String(d.get("zone"))
		albs := elbv2.NewFromConfig(d.cfg(west))
		lb := record[*elbv2.DescribeLoadBalancersOutput](d, "the DR ALB")(albs.DescribeLoadBalancers(d.ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{awssim.KaigoDRALBName}}))
		if lb == nil || len(lb.LoadBalancers) != 1 {
			return
		}
		alias := func(action r53types.ChangeAction, dns string) *route53.ChangeResourceRecordSetsInput {
			return &route53.ChangeResourceRecordSetsInput{HostedZoneId: zone, ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: action,
				ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String(awssim.KaigoAPIName), Type: r53types.RRTypeA, AliasTarget: &r53types.AliasTarget{
					HostedZoneId: lb.LoadBalancers[0].CanonicalHostedZoneId, DNSName: aws.String(dns), EvaluateTargetHealth: true}}}}}}
		}
		out := record[*route53.ChangeResourceRecordSetsOutput](d, "alias to the DR ALB (runbook step 9)")(c.ChangeResourceRecordSets(d.ctx, alias(r53types.ChangeActionUpsert, aws.ToString(lb.LoadBalancers[0].DNSName))))
		if out != nil {
			d.note("change status", string(out.ChangeInfo.Status))
		}
		plain := func(action r53types.ChangeAction, name string) *route53.ChangeResourceRecordSetsInput {
			return &route53.ChangeResourceRecordSetsInput{HostedZoneId: zone, ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: action,
				ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String(name), Type: r53types.RRTypeA, TTL: aws.Int64(60),
					ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("192.0.2.44")}}}}}}}
		}
		record[*route53.ChangeResourceRecordSetsOutput](d, "create a record")(c.ChangeResourceRecordSets(d.ctx, plain(r53types.ChangeActionCreate, "diff.kaigo-subsys.example.com")))
		record[*route53.ChangeResourceRecordSetsOutput](d, "create it again")(c.ChangeResourceRecordSets(d.ctx, plain(r53types.ChangeActionCreate, "diff.kaigo-subsys.example.com")))
		record[*route53.ChangeResourceRecordSetsOutput](d, "upsert it")(c.ChangeResourceRecordSets(d.ctx, plain(r53types.ChangeActionUpsert, "diff.kaigo-subsys.example.com")))
		record[*route53.ChangeResourceRecordSetsOutput](d, "delete a record that does not exist")(c.ChangeResourceRecordSets(d.ctx, plain(r53types.ChangeActionDelete, "gone.kaigo-subsys.example.com")))
		record[*route53.ChangeResourceRecordSetsOutput](d, "a name outside the zone")(c.ChangeResourceRecordSets(d.ctx, plain(r53types.ChangeActionUpsert, "diff.example.org")))
		record[*route53.ChangeResourceRecordSetsOutput](d, "unknown zone")(c.ChangeResourceRecordSets(d.ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String("ZNOSUCHZONE"),
			ChangeBatch: plain(r53types.ChangeActionUpsert, "diff.kaigo-subsys.example.com").ChangeBatch}))
		record[*route53.ChangeResourceRecordSetsOutput](d, "alias to an ALB that does not exist")(c.ChangeResourceRecordSets(d.ctx, alias(r53types.ChangeActionUpsert, "no-such-alb-1.us-west-2.elb.amazonaws.com")))
	}},
	{Service: "route53", Op: "GetChange", Given: r53Givens, Steps: func(d *diffRun) {
		c := route53.NewFromConfig(d.cfg(east))
		out := record[*route53.ChangeResourceRecordSetsOutput](d, "a change")(c.ChangeResourceRecordSets(d.ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(d.get("zone")),
			ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
				Name: aws.String("diff.kaigo-subsys.example.com"), Type: r53types.RRTypeA, TTL: aws.Int64(60), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("192.0.2.44")}}}}}}}))
		if out == nil {
			return
		}
		record[*route53.GetChangeOutput](d, "the change (runbook step 9 wait)")(c.GetChange(d.ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id}))
		d.advance(time.Hour)
		g := record[*route53.GetChangeOutput](d, "the change an hour later")(c.GetChange(d.ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id}))
		if g != nil {
			d.note("status an hour later", string(g.ChangeInfo.Status))
		}
		record[*route53.GetChangeOutput](d, "unknown change")(c.GetChange(d.ctx, &route53.GetChangeInput{Id: aws.String("C0000000000000NOSUCH")}))
	}},
	{Service: "route53", Op: "TestDNSAnswer", MotoLacks: "moto 5.2 has no TestDNSAnswer (moto/route53/responses.py has no test_dns_answer)", Sim: simTestDNSAnswer},

	// CloudWatch: awsQuery and awsJson1_0 to both; the SDK's rpcv2Cbor to awssim alone.
	{Service: "cloudwatch", Op: "PutMetricAlarm", Steps: func(d *diffRun) {
		d.cw(west, "the runbook's alarm (step 11)", "PutMetricAlarm", runbookAlarm())
		d.cw(west, "read back", "DescribeAlarms", cwParams{"AlarmNames": []string{"kaigo-subsys-dr-ecs-cpu-critical"}})
		bad := runbookAlarm()
		bad["ComparisonOperator"] = "Bigger"
		d.cw(west, "an unknown comparison operator", "PutMetricAlarm", bad)
		noEval := runbookAlarm()
		delete(noEval, "EvaluationPeriods")
		d.cw(west, "no EvaluationPeriods", "PutMetricAlarm", noEval)
	}},
	{Service: "cloudwatch", Op: "DescribeAlarms", Steps: func(d *diffRun) {
		d.cw(west, "the alarm", "PutMetricAlarm", runbookAlarm())
		d.cw(west, "by name", "DescribeAlarms", cwParams{"AlarmNames": []string{"kaigo-subsys-dr-ecs-cpu-critical"}})
		d.cw(west, "by prefix", "DescribeAlarms", cwParams{"AlarmNamePrefix": "kaigo-subsys-dr-"})
		d.cw(west, "in ALARM state", "DescribeAlarms", cwParams{"StateValue": "ALARM"})
		d.cw(west, "an unknown name", "DescribeAlarms", cwParams{"AlarmNames": []string{"no-such-alarm"}})
		d.cw(east, "none in us-east-1", "DescribeAlarms", cwParams{})
	}},
	{Service: "cloudwatch", Op: "DeleteAlarms", Steps: func(d *diffRun) {
		d.cw(west, "the alarm", "PutMetricAlarm", runbookAlarm())
		d.cw(west, "delete it (teardown)", "DeleteAlarms", cwParams{"AlarmNames": []string{"kaigo-subsys-dr-ecs-cpu-critical"}})
		d.cw(west, "gone", "DescribeAlarms", cwParams{"AlarmNames": []string{"kaigo-subsys-dr-ecs-cpu-critical"}})
		d.cw(west, "delete one that does not exist", "DeleteAlarms", cwParams{"AlarmNames": []string{"no-such-alarm"}})
	}},

	// SNS, STS (awsQuery) and S3 (restXml).
	{Service: "sns", Op: "Publish", Given: []given{givenTopics}, Steps: func(d *diffRun) {
		c := sns.NewFromConfig(d.cfg(west))
		record[*sns.PublishOutput](d, "to the DR alerts topic")(c.Publish(d.ctx, &sns.PublishInput{TopicArn: aws.String(awssim.KaigoDRAlertsTopic),
			Subject: aws.String("kirikae"), Message: aws.String("DR started")}))
		record[*sns.PublishOutput](d, "to a topic that does not exist")(c.Publish(d.ctx, &sns.PublishInput{
			TopicArn: aws.String("arn:aws:sns:us-west-2:" + awssim.AccountID + ":no-such-topic"), Message: aws.String("m")}))
		record[*sns.PublishOutput](d, "to another region's topic")(c.Publish(d.ctx, &sns.PublishInput{
			TopicArn: aws.String("arn:aws:sns:us-east-1:" + awssim.AccountID + ":kaigo-subsys-prod-critical-alerts"), Message: aws.String("m")}))
	}},
	{Service: "sns", Op: "ListTopics", Given: []given{givenTopics}, Steps: func(d *diffRun) {
		for _, region := range []string{east, west} {
			out := record[*sns.ListTopicsOutput](d, "the topics of "+region+" (readiness)")(sns.NewFromConfig(d.cfg(region)).ListTopics(d.ctx, &sns.ListTopicsInput{}))
			if out != nil {
				var arns []string
				for _, t := range out.Topics {
					arns = append(arns, aws.ToString(t.TopicArn))
				}
				slices.Sort(arns)
				d.note("the topic ARNs of "+region, strings.Join(arns, " "))
			}
		}
	}},
	{Service: "sns", Op: "GetTopicAttributes", Given: []given{givenTopics}, Steps: func(d *diffRun) {
		c := sns.NewFromConfig(d.cfg(west))
		out := record[*sns.GetTopicAttributesOutput](d, "the DR alerts topic (plan check)")(c.GetTopicAttributes(d.ctx, &sns.GetTopicAttributesInput{
			TopicArn: aws.String(awssim.KaigoDRAlertsTopic)}))
		if out != nil {
			a := out.Attributes
			d.note("its TopicArn and Owner", fmt.Sprint(a["TopicArn"] == awssim.KaigoDRAlertsTopic, a["Owner"] == awssim.AccountID))
			d.note("its display name and subscription counts", fmt.Sprintf("%q %s/%s/%s", a["DisplayName"], a["SubscriptionsConfirmed"],
				a["SubscriptionsPending"], a["SubscriptionsDeleted"]))
			d.note("its policy", topicPolicy(a["Policy"]))
			d.note("its effective HTTP retry policy", httpRetries(a["EffectiveDeliveryPolicy"]))
		}
		record[*sns.GetTopicAttributesOutput](d, "a topic that does not exist")(c.GetTopicAttributes(d.ctx, &sns.GetTopicAttributesInput{
			TopicArn: aws.String("arn:aws:sns:us-west-2:" + awssim.AccountID + ":no-such-topic")}))
		record[*sns.GetTopicAttributesOutput](d, "another region's topic")(c.GetTopicAttributes(d.ctx, &sns.GetTopicAttributesInput{
			TopicArn: aws.String("arn:aws:sns:us-east-1:" + awssim.AccountID + ":kaigo-subsys-prod-critical-alerts")}))
		record[*sns.GetTopicAttributesOutput](d, "another account's topic")(c.GetTopicAttributes(d.ctx, &sns.GetTopicAttributesInput{
			TopicArn: aws.String("arn:aws:sns:us-west-2:210987654321:kaigo-subsys-dr-critical-alerts")}))
		record[*sns.GetTopicAttributesOutput](d, "a TopicArn that is no ARN")(c.GetTopicAttributes(d.ctx, &sns.GetTopicAttributesInput{
			TopicArn: aws.String("kaigo-subsys-dr-critical-alerts")}))
	}},
	{Service: "kms", Op: "DescribeKey", Given: []given{givenKMSKey(west)}, Steps: func(d *diffRun) {
		c := kms.NewFromConfig(d.cfg(west))
		out := record[*kms.DescribeKeyOutput](d, "the DR key by ARN (readiness)")(c.DescribeKey(d.ctx, &kms.DescribeKeyInput{KeyId: aws.String(d.get("kms:" + west))}))
		if out != nil && out.KeyMetadata != nil {
			d.note("its state", string(out.KeyMetadata.KeyState))
			d.note("its ARN", fmt.Sprint(aws.ToString(out.KeyMetadata.Arn) == d.get("kms:"+west)))
		}
		record[*kms.DescribeKeyOutput](d, "a key id that does not exist")(c.DescribeKey(d.ctx, &kms.DescribeKeyInput{
			KeyId: aws.String("arn:aws:kms:us-west-2:" + awssim.AccountID + ":key/0b6b7b6e-0000-4000-8000-000000000000")}))
		record[*kms.DescribeKeyOutput](d, "an alias that does not exist")(c.DescribeKey(d.ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/no-such-alias")}))
	}},
	{Service: "sts", Op: "GetCallerIdentity", Steps: func(d *diffRun) {
		out := record[*sts.GetCallerIdentityOutput](d, "identity")(sts.NewFromConfig(d.cfg(east)).GetCallerIdentity(d.ctx, &sts.GetCallerIdentityInput{}))
		if out != nil {
			d.note("account", aws.ToString(out.Account))
		}
	}},
	{Service: "s3", Op: "GetBucketReplication", Given: []given{givenBuckets}, Steps: func(d *diffRun) {
		for _, b := range []struct{ region, bucket, label string }{
			{east, awssim.KaigoProdBucket, "the replicated bucket (readiness)"},
			{west, "kaigo-subsys-dr-backups", "a bucket without replication"},
			{west, "no-such-bucket-kaigo", "a bucket that does not exist"},
		} {
			c := s3.NewFromConfig(d.cfg(b.region), func(o *s3.Options) { o.UsePathStyle = true })
			record[*s3.GetBucketReplicationOutput](d, b.label)(c.GetBucketReplication(d.ctx, &s3.GetBucketReplicationInput{Bucket: aws.String(b.bucket)}))
		}
	}},

	// AWS Backup's vaults, which moto has; AWS Health and Backup's recovery points and
	// restores, which it has not.
	{Service: "backup", Op: "ListBackupVaults", Given: []given{givenVaults}, Steps: func(d *diffRun) {
		for _, region := range []string{east, west} {
			out := record[*backup.ListBackupVaultsOutput](d, "the vaults of "+region+" (plan check)")(backup.NewFromConfig(d.cfg(region)).ListBackupVaults(d.ctx, &backup.ListBackupVaultsInput{}))
			if out != nil {
				var names []string
				for _, v := range out.BackupVaultList {
					names = append(names, aws.ToString(v.BackupVaultName)+" "+fmt.Sprint(aws.ToString(v.BackupVaultArn) == "arn:aws:backup:"+region+":"+awssim.AccountID+":backup-vault:"+aws.ToString(v.BackupVaultName)))
				}
				slices.Sort(names)
				d.note("the vault names and ARNs of "+region, strings.Join(names, ", "))
			}
		}
		c := backup.NewFromConfig(d.cfg(west))
		out := record[*backup.ListBackupVaultsOutput](d, "a page of 1")(c.ListBackupVaults(d.ctx, &backup.ListBackupVaultsInput{MaxResults: aws.Int32(1)}))
		if out != nil {
			d.note("a page of 1: its size and whether more follow", fmt.Sprint(len(out.BackupVaultList), out.NextToken != nil))
		}
		record[*backup.ListBackupVaultsOutput](d, "maxResults 1001")(c.ListBackupVaults(d.ctx, &backup.ListBackupVaultsInput{MaxResults: aws.Int32(1001)}))
		record[*backup.ListBackupVaultsOutput](d, "a nextToken Backup never issued")(c.ListBackupVaults(d.ctx, &backup.ListBackupVaultsInput{NextToken: aws.String("not-a-token-backup-issued")}))
	}},
	// AWS Health and AWS Backup's restores: moto has neither.
	{Service: "health", Op: "DescribeEvents", MotoLacks: "moto 5.2 has no AWS Health service (no moto/health)", Sim: simHealthDescribeEvents},
	{Service: "backup", Op: "ListRecoveryPointsByBackupVault", MotoLacks: "moto 5.2's Backup has plans, vaults and tags only (moto/backup/urls.py has no recovery-points route)", Sim: simBackupRecoveryPoints},
	{Service: "backup", Op: "StartRestoreJob", MotoLacks: "moto 5.2's Backup has no restore jobs (moto/backup/urls.py has no restore-jobs route)", Sim: simBackupRestore},
	{Service: "backup", Op: "DescribeRestoreJob", MotoLacks: "moto 5.2's Backup has no restore jobs (moto/backup/urls.py has no restore-jobs route)", Sim: simBackupRestore},
	// IAM's simulation answers from the policies awssim enforces per access key; the suite's
	// moto enforces none, so there is nothing to compare.
	{Service: "iam", Op: "SimulatePrincipalPolicy", MotoLacks: "not compared: the suite's moto enforces no IAM policies per access key, which is what the simulation evaluates", Sim: simIAMSimulate},
}

// The givens of each service's operations in moto.
var (
	rdsGivens   = []given{givenNetwork(east), givenNetwork(west), givenDBGroups, givenProdDB}
	cacheGivens = []given{givenNetwork(east), givenNetwork(west), givenProdCache}
	ecsGivens   = []given{givenNetwork(west), givenALB(west), givenECS(west)}
	r53Givens   = []given{givenNetwork(east), givenNetwork(west), givenALB(east), givenALB(west), givenZone}
)

// drReplicationGroup is the runbook's step 5, with a tag as kirikae adds one.
func drReplicationGroup(d *diffRun) *elasticache.CreateReplicationGroupInput {
	return &elasticache.CreateReplicationGroupInput{ReplicationGroupId: aws.String(awssim.KaigoDRInstance),
		ReplicationGroupDescription: aws.String("DR ElastiCache for kaigo subsystem"), Engine: aws.String("redis"),
		CacheNodeType: aws.String("cache.r6g.large"), NumCacheClusters: aws.Int32(2), AutomaticFailoverEnabled: aws.Bool(true),
		CacheSubnetGroupName: aws.String(awssim.KaigoDRCacheSubnets), EngineVersion: aws.String("7.0"),
		Tags: []ectypes.Tag{{Key: aws.String("kirikae:run"), Value: aws.String("diff-1")}}}
}

// runbookAlarm is the runbook's step 11 as CloudWatch parameters.
func runbookAlarm() cwParams {
	return cwParams{"AlarmName": "kaigo-subsys-dr-ecs-cpu-critical", "AlarmDescription": "DR環境のECS CPU使用率が90%を超過",
		"MetricName": "CPUUtilization", "Namespace": "AWS/ECS", "Statistic": "Average", "Period": 300, "EvaluationPeriods": 2,
		"Threshold": 90.0, "ComparisonOperator": "GreaterThanThreshold",
		"Dimensions":   []map[string]string{{"Name": "ClusterName", "Value": "kaigo-subsys-dr"}, {"Name": "ServiceName", "Value": "kaigo-subsys-dr-service"}},
		"AlarmActions": []string{awssim.KaigoDRAlertsTopic}}
}

func zValues(out *route53.ListHostedZonesOutput) []r53types.HostedZone {
	if out == nil {
		return nil
	}
	return out.HostedZones
}

func stageCounts(m map[string][]string) map[string]int {
	out := map[string]int{}
	for _, stages := range m {
		for _, s := range stages {
			out[s]++
		}
	}
	return out
}

func targetStates(out *elbv2.DescribeTargetHealthOutput) string {
	var states []string
	for _, th := range out.TargetHealthDescriptions {
		if th.TargetHealth != nil {
			states = append(states, string(th.TargetHealth.State))
		}
	}
	sort.Strings(states)
	return strings.Join(states, ",")
}

// topicPolicy reduces a topic's access policy to what both must agree on: whom its
// statements allow, which actions, on which resource, under which owner condition.
func topicPolicy(doc string) string {
	var p struct {
		Statement []struct {
			Effect    string
			Principal map[string]any
			Action    []string
			Resource  string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return "unparsable: " + err.Error()
	}
	var out []string
	for _, st := range p.Statement {
		actions := slices.Clone(st.Action)
		slices.Sort(actions)
		out = append(out, fmt.Sprintf("%s %v %s on %s if owner %s", st.Effect, st.Principal["AWS"], strings.Join(actions, ","),
			st.Resource, st.Condition["StringEquals"]["AWS:SourceOwner"]))
	}
	return strings.Join(out, "; ")
}

// httpRetries reads the HTTP/S retry count of a topic's EffectiveDeliveryPolicy.
func httpRetries(doc string) string {
	var p struct {
		HTTP *struct {
			DefaultHealthyRetryPolicy struct{ NumRetries int }
		}
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return "unparsable: " + err.Error()
	}
	if p.HTTP == nil {
		return "no http policy"
	}
	return fmt.Sprintf("%d retries", p.HTTP.DefaultHealthyRetryPolicy.NumRetries)
}

// drVPC finds the DR VPC by its Name tag, as the runbook does.
func drVPC(d *diffRun) string {
	d.t.Helper()
	out, err := ec2.NewFromConfig(d.cfg(west)).DescribeVpcs(d.ctx, &ec2.DescribeVpcsInput{
		Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{awssim.KaigoDRVPCName}}}})
	if err != nil || len(out.Vpcs) != 1 {
		d.t.Fatalf("%s: the DR VPC: %v", d.backend, err)
	}
	return aws.ToString(out.Vpcs[0].VpcId)
}

func rdsTagPairs(tags []rdstypes.Tag) string {
	pairs := make([]string, 0, len(tags))
	for _, t := range tags {
		pairs = append(pairs, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ";")
}

// prodRDSSG finds the production database's security group by name.
func prodRDSSG(d *diffRun) string {
	d.t.Helper()
	out, err := ec2.NewFromConfig(d.cfg(east)).DescribeSecurityGroups(d.ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{"kaigo-subsys-prod-rds-sg"}}}})
	if err != nil || len(out.SecurityGroups) != 1 {
		d.t.Fatalf("%s: the production RDS security group: %v", d.backend, err)
	}
	return aws.ToString(out.SecurityGroups[0].GroupId)
}
