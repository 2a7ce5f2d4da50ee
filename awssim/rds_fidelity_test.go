package awssim_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/kirikae/kirikae/awssim"
)

const (
	prodKeyARN = "arn:aws:kms:us-east-1:" + awssim.AccountID + ":key/prod-key-id"
	drKeyARN   = "arn:aws:kms:us-west-2:" + awssim.AccountID + ":key/dr-key-id"
)

func rdsWantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("want HTTP %d, got %v", status, err)
	}
}

func instance(t *testing.T, c *rds.Client, id string) rdstypes.DBInstance {
	t.Helper()
	out := must[*rds.DescribeDBInstancesOutput](t)(c.DescribeDBInstances(ctx(t), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)}))
	if len(out.DBInstances) != 1 {
		t.Fatalf("describe %s: %d instances", id, len(out.DBInstances))
	}
	return out.DBInstances[0]
}

// TestRDSInstanceFields: a DB instance has every field RDS gives one (API_DBInstance.html),
// with the fixture's values for production and, for a restore, the request's or RDS's
// defaults.
func TestRDSInstanceFields(t *testing.T) {
	e := newEnv(t, 0)
	c := rds.NewFromConfig(e.cfg(east))
	in := instance(t, c, awssim.KaigoProdInstance)
	if !aws.ToBool(in.AutoMinorVersionUpgrade) || aws.ToString(in.CACertificateIdentifier) != "rds-ca-rsa2048-g1" || aws.ToBool(in.CopyTagsToSnapshot) ||
		aws.ToInt32(in.DbInstancePort) != 0 || aws.ToInt32(in.Endpoint.Port) != 5432 || aws.ToBool(in.IAMDatabaseAuthenticationEnabled) ||
		!aws.ToBool(in.StorageEncrypted) || aws.ToString(in.KmsKeyId) != prodKeyARN || aws.ToString(in.LicenseModel) != "postgresql-license" ||
		aws.ToString(in.PreferredBackupWindow) != "18:00-18:30" || aws.ToString(in.PreferredMaintenanceWindow) != "sun:19:00-sun:19:30" {
		t.Errorf("production instance: %+v", in)
	}
	if len(in.OptionGroupMemberships) != 1 || aws.ToString(in.OptionGroupMemberships[0].OptionGroupName) != "default:postgres-15" ||
		aws.ToString(in.OptionGroupMemberships[0].Status) != "in-sync" {
		t.Errorf("OptionGroupMemberships %+v", in.OptionGroupMemberships)
	}
	sg := in.DBSubnetGroup
	var azs []string
	for _, s := range sg.Subnets {
		azs = append(azs, aws.ToString(s.SubnetAvailabilityZone.Name))
	}
	if aws.ToString(sg.DBSubnetGroupArn) != "arn:aws:rds:us-east-1:"+awssim.AccountID+":subgrp:kaigo-subsys-prod-db-subnet-group" ||
		aws.ToString(sg.DBSubnetGroupDescription) == "" || strings.Join(azs, ",") != "us-east-1a,us-east-1c,us-east-1d" {
		t.Errorf("DBSubnetGroup %+v, subnets in %v (the fixture's are in a, c and d)", sg, azs)
	}

	// A restore takes Port, AutoMinorVersionUpgrade, CopyTagsToSnapshot and IAM
	// authentication from the request, the key from the snapshot, and without
	// VpcSecurityGroupIds the default security group of the subnet group's VPC.
	must[*rds.CreateDBSnapshotOutput](t)(c.CreateDBSnapshot(ctx(t), &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance),
		DBSnapshotIdentifier: aws.String("src")}))
	e.clock.Advance(time.Hour)
	out := must[*rds.RestoreDBInstanceFromDBSnapshotOutput](t)(c.RestoreDBInstanceFromDBSnapshot(ctx(t), &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String("restored"), DBSnapshotIdentifier: aws.String("src"), DBSubnetGroupName: aws.String("default"),
		Port: aws.Int32(6543), AutoMinorVersionUpgrade: aws.Bool(false), CopyTagsToSnapshot: aws.Bool(true),
		EnableIAMDatabaseAuthentication: aws.Bool(true), Tags: rdsTags("team", "dr", "kirikae:run", "r1")}))
	r := out.DBInstance
	if aws.ToBool(r.AutoMinorVersionUpgrade) || !aws.ToBool(r.CopyTagsToSnapshot) || !aws.ToBool(r.IAMDatabaseAuthenticationEnabled) ||
		aws.ToString(r.KmsKeyId) != prodKeyARN || !aws.ToBool(r.StorageEncrypted) {
		t.Errorf("restored instance: %+v", r)
	}
	sgs, err := ec2.NewFromConfig(e.cfg(east)).DescribeSecurityGroups(ctx(t), &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{aws.ToString(r.DBSubnetGroup.VpcId)}}, {Name: aws.String("group-name"), Values: []string{"default"}}}})
	if err != nil || len(sgs.SecurityGroups) != 1 {
		t.Fatalf("the default VPC's default security group: %v %v", sgs, err)
	}
	if len(r.VpcSecurityGroups) != 1 || aws.ToString(r.VpcSecurityGroups[0].VpcSecurityGroupId) != aws.ToString(sgs.SecurityGroups[0].GroupId) {
		t.Errorf("VpcSecurityGroups %+v, want the VPC's default group %s", r.VpcSecurityGroups, aws.ToString(sgs.SecurityGroups[0].GroupId))
	}
	if len(r.DBSubnetGroup.Subnets) == 0 || aws.ToString(r.DBSubnetGroup.VpcId) == "" {
		t.Errorf("the default DB subnet group is the default VPC's subnets: %+v", r.DBSubnetGroup)
	}
	backup, maint := aws.ToString(r.PreferredBackupWindow), aws.ToString(r.PreferredMaintenanceWindow)
	if len(backup) != len("03:00-03:30") || len(maint) != len("mon:03:00-mon:03:30") || strings.Contains(maint, backup[:5]) {
		t.Errorf("windows %q and %q", backup, maint)
	}
	e.clock.Advance(2 * time.Hour)
	if got := aws.ToInt32(instance(t, c, "restored").Endpoint.Port); got != 6543 {
		t.Errorf("Endpoint.Port %d, want the restore's 6543", got)
	}

	// CopyTagsToSnapshot: the final snapshot carries the instance's tags, key and settings;
	// a snapshot taken with tags of its own has only those.
	must[*rds.CreateDBSnapshotOutput](t)(c.CreateDBSnapshot(ctx(t), &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("restored"),
		DBSnapshotIdentifier: aws.String("own-tags"), Tags: rdsTags("x", "1")}))
	if got := rdsTagString(snapshot(t, c, "own-tags").TagList); got != "x=1;" {
		t.Errorf("a snapshot with tags of its own: %q", got)
	}
	must[*rds.DeleteDBInstanceOutput](t)(c.DeleteDBInstance(ctx(t), &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("restored"),
		FinalDBSnapshotIdentifier: aws.String("final")}))
	fin := snapshot(t, c, "final")
	if got := rdsTagString(fin.TagList); got != "team=dr;kirikae:run=r1;" {
		t.Errorf("final snapshot tags %q, want the instance's", got)
	}
	if !aws.ToBool(fin.Encrypted) || aws.ToString(fin.KmsKeyId) != prodKeyARN || !aws.ToBool(fin.IAMDatabaseAuthenticationEnabled) || aws.ToInt32(fin.Port) != 6543 {
		t.Errorf("final snapshot %+v", fin)
	}
	// Production does not copy its tags: its snapshots have only their own.
	if got := rdsTagString(snapshot(t, c, "src").TagList); got != "" {
		t.Errorf("snapshot of an instance without CopyTagsToSnapshot: tags %q", got)
	}
}

// TestRDSRestoreRefusesBadInput: a restore parameter RDS would refuse is a 4xx naming it,
// and no instance is made.
func TestRDSRestoreRefusesBadInput(t *testing.T) {
	e := newEnv(t, 0)
	c := rds.NewFromConfig(e.cfg(east))
	must[*rds.CreateDBSnapshotOutput](t)(c.CreateDBSnapshot(ctx(t), &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance),
		DBSnapshotIdentifier: aws.String("src")}))
	e.clock.Advance(time.Hour)
	for _, tc := range []struct {
		name   string
		in     rds.RestoreDBInstanceFromDBSnapshotInput
		code   string
		status int
		field  string
	}{
		{"port below 1150", rds.RestoreDBInstanceFromDBSnapshotInput{Port: aws.Int32(80)}, "InvalidParameterValue", 400, "Port"},
		{"unknown option group", rds.RestoreDBInstanceFromDBSnapshotInput{OptionGroupName: aws.String("no-such-options")}, "OptionGroupNotFoundFault", 404, "OptionGroupName"},
		{"another engine's option group", rds.RestoreDBInstanceFromDBSnapshotInput{OptionGroupName: aws.String("default:mysql-8-0")}, "InvalidParameterCombination", 400, "OptionGroupName"},
		{"unknown CA", rds.RestoreDBInstanceFromDBSnapshotInput{CACertificateIdentifier: aws.String("rds-ca-bogus")}, "CertificateNotFound", 404, "CACertificateIdentifier"},
		{"backup window not hh24:mi-hh24:mi", rds.RestoreDBInstanceFromDBSnapshotInput{PreferredBackupWindow: aws.String("3am-4am")}, "InvalidParameterValue", 400, "PreferredBackupWindow"},
		{"backup window under 30 minutes", rds.RestoreDBInstanceFromDBSnapshotInput{PreferredBackupWindow: aws.String("03:00-03:10")}, "InvalidParameterValue", 400, "PreferredBackupWindow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.DBInstanceIdentifier, in.DBSnapshotIdentifier = aws.String("bad"), aws.String("src")
			in.DBSubnetGroupName = aws.String("kaigo-subsys-prod-db-subnet-group")
			_, err := c.RestoreDBInstanceFromDBSnapshot(ctx(t), &in)
			wantCode(t, err, tc.code)
			rdsWantStatus(t, err, tc.status)
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("the error does not name %s: %v", tc.field, err)
			}
			_, err = c.DescribeDBInstances(ctx(t), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("bad")})
			wantCode(t, err, "DBInstanceNotFound")
		})
	}
	// The engine's own default group is accepted.
	out := must[*rds.RestoreDBInstanceFromDBSnapshotOutput](t)(c.RestoreDBInstanceFromDBSnapshot(ctx(t), &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String("good"), DBSnapshotIdentifier: aws.String("src"), OptionGroupName: aws.String("default:postgres-15"),
		PreferredBackupWindow: aws.String("05:00-05:30"), CACertificateIdentifier: aws.String("rds-ca-ecc384-g1")}))
	if aws.ToString(out.DBInstance.PreferredBackupWindow) != "05:00-05:30" || aws.ToString(out.DBInstance.CACertificateIdentifier) != "rds-ca-ecc384-g1" ||
		strings.Contains(aws.ToString(out.DBInstance.PreferredMaintenanceWindow), ":05:00-") {
		t.Errorf("restored with a window and a CA: %+v", out.DBInstance)
	}
}

// TestRDSSnapshotCopyKMSKeys: CopyDBSnapshot takes a key of the destination region as key
// ARN, key id, alias ARN or alias name, and refuses any other — one of the source region
// above all — with KMSKeyNotAccessibleFault (400), copying nothing.
func TestRDSSnapshotCopyKMSKeys(t *testing.T) {
	e := newEnv(t, 0)
	east1, west2 := rds.NewFromConfig(e.cfg(east)), rds.NewFromConfig(e.cfg(west))
	src := must[*rds.CreateDBSnapshotOutput](t)(east1.CreateDBSnapshot(ctx(t), &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance),
		DBSnapshotIdentifier: aws.String("src")})).DBSnapshot
	if aws.ToString(src.KmsKeyId) != prodKeyARN || !aws.ToBool(src.Encrypted) || src.IAMDatabaseAuthenticationEnabled == nil {
		t.Fatalf("a snapshot of production: KmsKeyId %q, Encrypted %v, IAMDatabaseAuthenticationEnabled %v",
			aws.ToString(src.KmsKeyId), aws.ToBool(src.Encrypted), src.IAMDatabaseAuthenticationEnabled)
	}
	e.clock.Advance(time.Hour)
	copyTo := func(target, key string) (*rds.CopyDBSnapshotOutput, error) {
		in := &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: src.DBSnapshotArn, TargetDBSnapshotIdentifier: aws.String(target), SourceRegion: aws.String(east)}
		if key != "" {
			in.KmsKeyId = aws.String(key)
		}
		return west2.CopyDBSnapshot(ctx(t), in)
	}
	for _, bad := range []string{
		prodKeyARN, // the source region's key: the mistake plans make
		"arn:aws:kms:us-west-2:" + awssim.AccountID + ":key/no-such-key",
		"arn:aws:kms:us-west-2:210987654321:key/dr-key-id", // another account
		"no-such-key", "alias/no-such-alias", "prod-key-id", "alias/kaigo-subsys-prod",
	} {
		_, err := copyTo("bad", bad)
		wantCode(t, err, "KMSKeyNotAccessibleFault")
		rdsWantStatus(t, err, http.StatusBadRequest)
		if !strings.Contains(err.Error(), bad) {
			t.Errorf("the error does not name the key %s: %v", bad, err)
		}
		if _, err := west2.DescribeDBSnapshots(ctx(t), &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("bad")}); err == nil {
			t.Fatalf("a refused copy with %s made a snapshot", bad)
		}
	}
	for i, good := range []string{drKeyARN, "dr-key-id", "alias/kaigo-subsys-dr", "arn:aws:kms:us-west-2:" + awssim.AccountID + ":alias/kaigo-subsys-dr"} {
		out := must[*rds.CopyDBSnapshotOutput](t)(copyTo("good-"+string(rune('a'+i)), good))
		if aws.ToString(out.DBSnapshot.KmsKeyId) != drKeyARN || !aws.ToBool(out.DBSnapshot.Encrypted) {
			t.Errorf("copy with %s: KmsKeyId %q, want %s", good, aws.ToString(out.DBSnapshot.KmsKeyId), drKeyARN)
		}
	}
	managed := must[*rds.CopyDBSnapshotOutput](t)(copyTo("managed", "alias/aws/rds")).DBSnapshot
	if k := aws.ToString(managed.KmsKeyId); !strings.HasPrefix(k, "arn:aws:kms:us-west-2:"+awssim.AccountID+":key/") || k == drKeyARN {
		t.Errorf("copy with alias/aws/rds: KmsKeyId %q, want the region's AWS managed key", k)
	}
	_, err := copyTo("no-key", "")
	wantCode(t, err, "InvalidParameterValue") // an encrypted snapshot across regions needs a key

	// A same-region copy without a key keeps the source's.
	same := must[*rds.CopyDBSnapshotOutput](t)(east1.CopyDBSnapshot(ctx(t), &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("src"),
		TargetDBSnapshotIdentifier: aws.String("same")})).DBSnapshot
	if aws.ToString(same.KmsKeyId) != prodKeyARN {
		t.Errorf("same-region copy: KmsKeyId %q, want the source's %s", aws.ToString(same.KmsKeyId), prodKeyARN)
	}
}

// TestRDSDescribeOptionGroups: the default groups of every engine version, by name, engine
// and major version, paged as every RDS Describe.
func TestRDSDescribeOptionGroups(t *testing.T) {
	e := newEnv(t, 0)
	c := rds.NewFromConfig(e.cfg(west))
	out := must[*rds.DescribeOptionGroupsOutput](t)(c.DescribeOptionGroups(ctx(t), &rds.DescribeOptionGroupsInput{OptionGroupName: aws.String("default:postgres-15")}))
	if len(out.OptionGroupsList) != 1 {
		t.Fatalf("default:postgres-15: %+v", out.OptionGroupsList)
	}
	g := out.OptionGroupsList[0]
	if aws.ToString(g.EngineName) != "postgres" || aws.ToString(g.MajorEngineVersion) != "15" || aws.ToString(g.OptionGroupDescription) != "Default option group for postgres 15" ||
		!aws.ToBool(g.AllowsVpcAndNonVpcInstanceMemberships) || aws.ToString(g.OptionGroupArn) != "arn:aws:rds:us-west-2:"+awssim.AccountID+":og:default:postgres-15" {
		t.Errorf("default:postgres-15: %+v", g)
	}
	_, err := c.DescribeOptionGroups(ctx(t), &rds.DescribeOptionGroupsInput{OptionGroupName: aws.String("no-such-options")})
	wantCode(t, err, "OptionGroupNotFoundFault")
	rdsWantStatus(t, err, http.StatusNotFound)
	_, err = c.DescribeOptionGroups(ctx(t), &rds.DescribeOptionGroupsInput{MajorEngineVersion: aws.String("15")})
	wantCode(t, err, "InvalidParameterCombination")
	_, err = c.DescribeOptionGroups(ctx(t), &rds.DescribeOptionGroupsInput{MaxRecords: aws.Int32(10)})
	wantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeOptionGroups(ctx(t), &rds.DescribeOptionGroupsInput{Filters: []rdstypes.Filter{{Name: aws.String("engine"), Values: []string{"postgres"}}}})
	wantCode(t, err, "InvalidParameterValue")

	pg := must[*rds.DescribeOptionGroupsOutput](t)(c.DescribeOptionGroups(ctx(t), &rds.DescribeOptionGroupsInput{EngineName: aws.String("postgres")}))
	mysql8 := must[*rds.DescribeOptionGroupsOutput](t)(c.DescribeOptionGroups(ctx(t), &rds.DescribeOptionGroupsInput{EngineName: aws.String("mysql"), MajorEngineVersion: aws.String("8.0")}))
	if len(pg.OptionGroupsList) < 5 || len(mysql8.OptionGroupsList) != 1 || aws.ToString(mysql8.OptionGroupsList[0].OptionGroupName) != "default:mysql-8-0" {
		t.Errorf("postgres: %d groups; mysql 8.0: %+v", len(pg.OptionGroupsList), mysql8.OptionGroupsList)
	}
	for _, g := range pg.OptionGroupsList {
		if aws.ToString(g.EngineName) != "postgres" {
			t.Errorf("EngineName postgres listed %s", aws.ToString(g.OptionGroupName))
		}
	}

	all := must[*rds.DescribeOptionGroupsOutput](t)(c.DescribeOptionGroups(ctx(t), &rds.DescribeOptionGroupsInput{}))
	if len(all.OptionGroupsList) <= 20 || all.Marker != nil {
		t.Fatalf("all option groups: %d, marker %v (want more than one page of 20)", len(all.OptionGroupsList), all.Marker)
	}
	seen := map[string]int{}
	pages := 0
	p := rds.NewDescribeOptionGroupsPaginator(c, &rds.DescribeOptionGroupsInput{MaxRecords: aws.Int32(20)})
	for p.HasMorePages() {
		page := must[*rds.DescribeOptionGroupsOutput](t)(p.NextPage(ctx(t)))
		if len(page.OptionGroupsList) > 20 {
			t.Errorf("a page of %d", len(page.OptionGroupsList))
		}
		pages++
		for _, g := range page.OptionGroupsList {
			seen[aws.ToString(g.OptionGroupName)]++
		}
	}
	if pages < 2 || len(seen) != len(all.OptionGroupsList) {
		t.Errorf("%d pages saw %d groups of %d", pages, len(seen), len(all.OptionGroupsList))
	}
	for n, k := range seen {
		if k != 1 {
			t.Errorf("%s seen %d times", n, k)
		}
	}
}
