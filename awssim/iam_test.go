package awssim_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/health"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kirikae/kirikae/awssim"
	"github.com/kirikae/kirikae/iampolicy"
)

const (
	acct    = awssim.AccountID
	iamUser = "arn:aws:iam::" + awssim.AccountID + ":user/" + awssim.IAMUser
)

func policy(t *testing.T, statements string) *iampolicy.Policy {
	t.Helper()
	p, err := iampolicy.Parse([]byte(`{"Version": "2012-10-17", "Statement": [` + statements + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wantDenied fails unless err is the service's refusal (code, HTTP status) of action on a
// resource starting with resource, in AWS's words.
func wantDenied(t *testing.T, err error, code string, status int, action, resource string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Errorf("HTTP status of %v: want %d", err, status)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want code %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	prefix := "User: " + iamUser + " is not authorized to perform: " + action + " on resource: " + resource
	if !strings.Contains(ae.ErrorMessage(), prefix) {
		t.Errorf("message %q does not contain %q", ae.ErrorMessage(), prefix)
	}
}

// TestIAMRefusalInEveryProtocol: under a policy that allows none of them, one call of each
// simulated service is refused with that service's code and HTTP status, naming the IAM
// action and the narrowest resource the call touches; sts:GetCallerIdentity needs no
// permission.
func TestIAMRefusalInEveryProtocol(t *testing.T) {
	e := newEnv(t, time.Second)
	e.sim.SetIAM(iampolicy.ForAll(policy(t, `{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}`)))
	east, west := e.cfg("us-east-1"), e.cfg("us-west-2")
	c := ctx(t)
	for _, tc := range []struct {
		name, code     string
		status         int
		action, prefix string
		call           func() error
	}{
		{"rds", "AccessDenied", 403, "rds:DescribeDBInstances", "arn:aws:rds:us-east-1:" + acct + ":db:kaigo-subsys-prod", func() error {
			_, err := rds.NewFromConfig(east).DescribeDBInstances(c, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)})
			return err
		}},
		{"rds list", "AccessDenied", 403, "rds:DescribeDBSnapshots", "arn:aws:rds:us-west-2:" + acct + ":snapshot:*", func() error {
			_, err := rds.NewFromConfig(west).DescribeDBSnapshots(c, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)})
			return err
		}},
		{"elasticache", "AccessDenied", 403, "elasticache:DescribeReplicationGroups", "arn:aws:elasticache:us-east-1:" + acct + ":replicationgroup:kaigo-subsys-prod", func() error {
			_, err := elasticache.NewFromConfig(east).DescribeReplicationGroups(c, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("kaigo-subsys-prod")})
			return err
		}},
		{"elbv2", "AccessDenied", 403, "elasticloadbalancing:DescribeLoadBalancers", "*", func() error {
			_, err := elbv2.NewFromConfig(west).DescribeLoadBalancers(c, &elbv2.DescribeLoadBalancersInput{})
			return err
		}},
		{"ec2", "UnauthorizedOperation", 403, "ec2:DescribeVpcs", "*", func() error {
			_, err := ec2.NewFromConfig(west).DescribeVpcs(c, &ec2.DescribeVpcsInput{})
			return err
		}},
		{"ecs", "AccessDeniedException", 400, "ecs:DescribeServices", "arn:aws:ecs:us-west-2:" + acct + ":service/kaigo-subsys-dr/kaigo-subsys-dr-service", func() error {
			_, err := ecs.NewFromConfig(west).DescribeServices(c, &ecs.DescribeServicesInput{Cluster: aws.String(awssim.KaigoDRCluster), Services: []string{awssim.KaigoDRService}})
			return err
		}},
		{"secretsmanager", "AccessDeniedException", 400, "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-west-2:" + acct + ":secret:kaigo-subsys/dr/db-endpoint-", func() error {
			_, err := secretsmanager.NewFromConfig(west).GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(awssim.KaigoDRDBSecret)})
			return err
		}},
		{"health", "AccessDeniedException", 400, "health:DescribeEvents", "*", func() error {
			_, err := health.NewFromConfig(east).DescribeEvents(c, &health.DescribeEventsInput{})
			return err
		}},
		{"backup", "AccessDeniedException", 403, "backup:ListRecoveryPointsByBackupVault", "arn:aws:backup:us-west-2:" + acct + ":backup-vault:kaigo-subsys-dr-backup-vault", func() error {
			_, err := backup.NewFromConfig(west).ListRecoveryPointsByBackupVault(c, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String(awssim.KaigoDRVault)})
			return err
		}},
		{"efs", "AccessDeniedException", 403, "elasticfilesystem:DescribeFileSystems", "arn:aws:elasticfilesystem:us-west-2:" + acct + ":file-system/*", func() error {
			_, err := efs.NewFromConfig(west).DescribeFileSystems(c, &efs.DescribeFileSystemsInput{})
			return err
		}},
		{"route53", "AccessDenied", 403, "route53:ListResourceRecordSets", "arn:aws:route53:::hostedzone/" + awssim.KaigoHostedZoneID, func() error {
			_, err := route53.NewFromConfig(east).ListResourceRecordSets(c, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID)})
			return err
		}},
		{"cloudwatch", "AccessDenied", 403, "cloudwatch:DescribeAlarms", "arn:aws:cloudwatch:us-west-2:" + acct + ":alarm:kaigo-cpu", func() error {
			_, err := cloudwatch.NewFromConfig(west).DescribeAlarms(c, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"kaigo-cpu"}})
			return err
		}},
		{"sns", "AuthorizationError", 403, "SNS:Publish", awssim.KaigoDRAlertsTopic, func() error {
			_, err := sns.NewFromConfig(west).Publish(c, &sns.PublishInput{TopicArn: aws.String(awssim.KaigoDRAlertsTopic), Message: aws.String("hello")})
			return err
		}},
		{"kms", "AccessDeniedException", 400, "kms:DescribeKey", "arn:aws:kms:us-west-2:" + acct + ":key/dr-key-id", func() error {
			_, err := kms.NewFromConfig(west).DescribeKey(c, &kms.DescribeKeyInput{KeyId: aws.String("arn:aws:kms:us-west-2:" + acct + ":key/dr-key-id")})
			return err
		}},
		{"s3", "AccessDenied", 403, "s3:GetReplicationConfiguration", "arn:aws:s3:::" + awssim.KaigoProdBucket, func() error {
			_, err := s3.NewFromConfig(east, func(o *s3.Options) { o.UsePathStyle = true }).GetBucketReplication(c, &s3.GetBucketReplicationInput{Bucket: aws.String(awssim.KaigoProdBucket)})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDenied(t, tc.call(), tc.code, tc.status, tc.action, tc.prefix)
		})
	}
	if _, err := sts.NewFromConfig(east).GetCallerIdentity(c, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("GetCallerIdentity needs no permission: %v", err)
	}
	if n := len(e.sim.IAMDenials()); n != 15 {
		t.Errorf("%d denials recorded, want 15: %+v", n, e.sim.IAMDenials())
	}
	if len(e.sim.Journal()) != 0 {
		t.Errorf("a refused call changed the world: %+v", e.sim.Journal())
	}
}

// TestIAMPerKeyAndWhatACallNeedsBesides: each access key gets its own policies; a restore
// needs its own action on the instance, the snapshot and the subnet group, plus
// rds:AddTagsToResource for its tags and, for a snapshot under a customer managed key,
// kms:CreateGrant and kms:DescribeKey (refused by RDS as KMSKeyNotAccessibleFault); an
// explicit Deny wins over the Allow.
func TestIAMPerKeyAndWhatACallNeedsBesides(t *testing.T) {
	clk := newTickClock(time.Second)
	keys := []awssim.Credential{{AccessKeyID: "AKIAPRIMARYAGENT", SecretAccessKey: "p"}, {AccessKeyID: "AKIASECONDARYAGENT", SecretAccessKey: "s"}}
	sim, err := awssim.New(awssim.Options{Credentials: keys, Fixture: "kaigo", Now: clk.Now, Logger: testLogger(t), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := newServer(t, sim)
	as := func(key awssim.Credential) aws.Config {
		cfg := awsConfig(endpoint, "us-west-2")
		cfg.Credentials = credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.SecretAccessKey, "")
		return cfg
	}
	c := ctx(t)
	snaps, err := rds.NewFromConfig(as(keys[0])).DescribeDBSnapshots(c, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)})
	if err != nil || len(snaps.DBSnapshots) == 0 {
		t.Fatalf("the fixture's copies in us-west-2: %v", err)
	}
	snap := aws.ToString(snaps.DBSnapshots[0].DBSnapshotIdentifier)
	key := aws.ToString(snaps.DBSnapshots[0].KmsKeyId)
	west := "arn:aws:rds:us-west-2:" + acct + ":"
	restore := `{"Sid": "Restore", "Effect": "Allow", "Action": "rds:RestoreDBInstanceFromDBSnapshot",
	  "Resource": ["` + west + `db:kaigo-subsys-dr", "` + west + `snapshot:*", "` + west + `subgrp:kaigo-subsys-dr-db-subnet-group"]}`
	tags := `{"Sid": "Tags", "Effect": "Allow", "Action": "rds:AddTagsToResource", "Resource": "` + west + `db:kaigo-subsys-dr"}`
	grant := `{"Sid": "Key", "Effect": "Allow", "Action": ["kms:CreateGrant", "kms:DescribeKey"], "Resource": "` + key + `"}`
	in := &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String(awssim.KaigoDRInstance), DBSnapshotIdentifier: aws.String(snap),
		DBSubnetGroupName: aws.String(awssim.KaigoDRSubnetGroup), Tags: []rdstypes.Tag{{Key: aws.String("kirikae:run"), Value: aws.String("r1")}}}
	restoreAs := func(k awssim.Credential) error {
		_, err := rds.NewFromConfig(as(k)).RestoreDBInstanceFromDBSnapshot(c, in)
		return err
	}
	set := func(secondary string) {
		sim.SetIAM(iampolicy.NewAssignment(map[string][]*iampolicy.Policy{
			keys[0].AccessKeyID: {policy(t, `{"Effect": "Allow", "Action": "rds:Describe*", "Resource": "*"}`)},
			keys[1].AccessKeyID: {policy(t, secondary)},
		}))
	}
	set(restore + "," + grant)
	wantDenied(t, restoreAs(keys[1]), "AccessDenied", 403, "rds:AddTagsToResource", west+"db:kaigo-subsys-dr")
	set(restore + "," + tags)
	err = restoreAs(keys[1])
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "KMSKeyNotAccessibleFault" || !strings.Contains(ae.ErrorMessage(), key) {
		t.Fatalf("a restore without the key's grant: %v, want KMSKeyNotAccessibleFault naming %s", err, key)
	}
	set(restore + "," + tags + "," + grant + `, {"Sid": "NoDR", "Effect": "Deny", "Action": "rds:*", "Resource": "` + west + `db:*-dr"}`)
	err = restoreAs(keys[1])
	if !errors.As(err, &ae) || !strings.Contains(ae.ErrorMessage(), "with an explicit deny in an identity-based policy") {
		t.Fatalf("an explicit deny: %v", err)
	}
	set(restore + "," + tags + "," + grant)
	wantDenied(t, restoreAs(keys[0]), "AccessDenied", 403, "rds:RestoreDBInstanceFromDBSnapshot", west+"db:kaigo-subsys-dr")
	if err := restoreAs(keys[1]); err != nil {
		t.Fatalf("the secondary's key, allowed: %v", err)
	}
	if got := sim.IAMDenials(); len(got) != 4 || got[3].AccessKey != keys[0].AccessKeyID || !got[2].Explicit {
		t.Errorf("denials %+v", got)
	}

	// A Backup restore passes its role: iam:PassRole on it.
	vault := "arn:aws:backup:us-west-2:" + acct + ":backup-vault:" + awssim.KaigoDRVault
	sim.SetIAM(iampolicy.ForAll(policy(t, `{"Effect": "Allow", "Action": ["backup:ListRecoveryPointsByBackupVault"], "Resource": "`+vault+`"},
	  {"Effect": "Allow", "Action": "backup:StartRestoreJob", "Resource": "arn:aws:backup:us-west-2:`+acct+`:recovery-point:*"}`)))
	bk := backup.NewFromConfig(as(keys[1]))
	points, err := bk.ListRecoveryPointsByBackupVault(c, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String(awssim.KaigoDRVault)})
	if err != nil || len(points.RecoveryPoints) == 0 {
		t.Fatalf("recovery points: %v", err)
	}
	role := "arn:aws:iam::" + acct + ":role/AWSBackupDefaultServiceRole"
	_, err = bk.StartRestoreJob(c, &backup.StartRestoreJobInput{RecoveryPointArn: points.RecoveryPoints[0].RecoveryPointArn, IamRoleArn: aws.String(role),
		Metadata: map[string]string{"newFileSystem": "true"}})
	wantDenied(t, err, "AccessDeniedException", 403, "iam:PassRole", role)
}

// TestIAMRoute53RecordConditions: a policy may narrow ChangeResourceRecordSets on any zone to
// one record name, type and action, with the condition keys Route 53 gives IAM; a change
// batch that touches another record is refused as a whole.
func TestIAMRoute53RecordConditions(t *testing.T) {
	e := newEnv(t, time.Second)
	e.sim.SetIAM(iampolicy.ForAll(policy(t, `{"Effect": "Allow", "Action": "route53:ChangeResourceRecordSets", "Resource": "arn:aws:route53:::hostedzone/*",
	  "Condition": {"ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsNormalizedRecordNames": "test.kaigo-subsys.example.com",
	    "route53:ChangeResourceRecordSetsRecordTypes": "A", "route53:ChangeResourceRecordSetsActions": "UPSERT"}}}`)))
	r53 := route53.NewFromConfig(e.cfg("us-east-1"))
	change := func(names ...string) error {
		var changes []r53types.Change
		for _, n := range names {
			changes = append(changes, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
				Name: aws.String(n), Type: r53types.RRTypeA, TTL: aws.Int64(60), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("192.0.2.1")}}}})
		}
		_, err := r53.ChangeResourceRecordSets(ctx(t), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID),
			ChangeBatch: &r53types.ChangeBatch{Changes: changes}})
		return err
	}
	if err := change("Test.kaigo-subsys.example.com."); err != nil {
		t.Fatalf("the record the policy names: %v", err)
	}
	wantDenied(t, change("test.kaigo-subsys.example.com", "www.kaigo-subsys.example.com"), "AccessDenied", 403,
		"route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/"+awssim.KaigoHostedZoneID)
}
