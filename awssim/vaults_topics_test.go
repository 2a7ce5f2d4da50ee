package awssim_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	backuptypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/kirikae/kirikae/awssim"
)

// TestListBackupVaults: each region lists its vaults as AWS lists a standard vault created
// without a key: a BACKUP_VAULT, unlocked, encrypted with the AWS managed alias/aws/backup
// (which DescribeKey finds), with its count of recovery points; vaultType and shared filter,
// a bad filter is refused, and nothing is changed.
func TestListBackupVaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	c := ctx(t)
	before := len(e.sim.Journal())
	for _, tc := range []struct {
		region, vault string
		points        int64
	}{{east, "kaigo-subsys-prod-backup-vault", 0}, {west, awssim.KaigoDRVault, 7}} {
		out := must[*backup.ListBackupVaultsOutput](t)(backup.NewFromConfig(e.cfg(tc.region)).ListBackupVaults(c, &backup.ListBackupVaultsInput{}))
		if len(out.BackupVaultList) != 1 || out.NextToken != nil {
			t.Fatalf("%s: %d vaults, NextToken %v; want the system's one on one page", tc.region, len(out.BackupVaultList), out.NextToken)
		}
		v := out.BackupVaultList[0]
		wantARN := "arn:aws:backup:" + tc.region + ":" + awssim.AccountID + ":backup-vault:" + tc.vault
		if aws.ToString(v.BackupVaultName) != tc.vault || aws.ToString(v.BackupVaultArn) != wantARN || v.VaultType != backuptypes.VaultTypeBackupVault ||
			v.NumberOfRecoveryPoints != tc.points || v.Locked == nil || *v.Locked || v.CreationDate == nil || aws.ToString(v.CreatorRequestId) == "" ||
			v.VaultState != "" || v.LockDate != nil || v.MinRetentionDays != nil {
			t.Errorf("%s: vault %+v; want %s (%s), a BACKUP_VAULT with %d recovery points, unlocked", tc.region, v, tc.vault, wantARN, tc.points)
		}
		key := must[*kms.DescribeKeyOutput](t)(kms.NewFromConfig(e.cfg(tc.region)).DescribeKey(c, &kms.DescribeKeyInput{KeyId: v.EncryptionKeyArn}))
		byAlias := must[*kms.DescribeKeyOutput](t)(kms.NewFromConfig(e.cfg(tc.region)).DescribeKey(c, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/backup")}))
		if m := key.KeyMetadata; m.KeyManager != kmstypes.KeyManagerTypeAws || aws.ToString(m.Arn) != aws.ToString(byAlias.KeyMetadata.Arn) ||
			aws.ToString(m.Description) != "Default key that protects my Backup data when no other key is defined" {
			t.Errorf("%s: the vault's key %s is %s %q, alias/aws/backup is %s; want the AWS managed alias/aws/backup",
				tc.region, aws.ToString(v.EncryptionKeyArn), m.KeyManager, aws.ToString(m.Description), aws.ToString(byAlias.KeyMetadata.Arn))
		}
	}

	b := backup.NewFromConfig(e.cfg(west))
	for _, tc := range []struct {
		in   backup.ListBackupVaultsInput
		want int
	}{
		{backup.ListBackupVaultsInput{ByVaultType: backuptypes.VaultTypeBackupVault}, 1},
		{backup.ListBackupVaultsInput{ByVaultType: backuptypes.VaultTypeLogicallyAirGappedBackupVault}, 0},
		{backup.ListBackupVaultsInput{ByVaultType: backuptypes.VaultTypeRestoreAccessBackupVault}, 0},
		{backup.ListBackupVaultsInput{ByShared: true}, 0},
		{backup.ListBackupVaultsInput{}, 1},
	} {
		if out := must[*backup.ListBackupVaultsOutput](t)(b.ListBackupVaults(c, &tc.in)); len(out.BackupVaultList) != tc.want {
			t.Errorf("vaultType %q shared %v: %d vaults, want %d", tc.in.ByVaultType, tc.in.ByShared, len(out.BackupVaultList), tc.want)
		}
	}
	_, err := b.ListBackupVaults(c, &backup.ListBackupVaultsInput{ByVaultType: "SOME_VAULT"})
	wantAPIError(t, err, "InvalidParameterValueException", "vaultType")
	if s := httpStatus(err); s != 400 {
		t.Errorf("an unknown vaultType: HTTP %d, want 400", s)
	}
	for _, n := range []int32{0, 1001} {
		_, err = b.ListBackupVaults(c, &backup.ListBackupVaultsInput{MaxResults: aws.Int32(n)})
		wantAPIError(t, err, "InvalidParameterValueException", "maxResults")
	}
	_, err = b.ListBackupVaults(c, &backup.ListBackupVaultsInput{NextToken: aws.String("not-a-token")})
	wantAPIError(t, err, "InvalidParameterValueException", "nextToken")
	unchanged(t, e, before, "ListBackupVaults")
}

// TestListBackupVaultsPages: the SDK's paginator (the plan checker's) walks a region of 31
// vaults 7 a page and sees each once; without maxResults all come on one page. The system
// has one vault a region, so the test adds 30 to a saved world.
func TestListBackupVaultsPages(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "world.json")
	clk := newTickClock(0)
	first, err := awssim.New(awssim.Options{Credentials: testCreds, Fixture: "kaigo", Now: clk.Now, StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var w map[string]any
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	vaults := w["regions"].(map[string]any)[west].(map[string]any)["vaults"].(map[string]any)
	want := []string{awssim.KaigoDRVault}
	for i := 0; i < 30; i++ {
		name := fmt.Sprintf("extra-vault-%02d", i)
		vaults[name] = nil
		want = append(want, name)
	}
	if raw, err = json.Marshal(w); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	sim, err := awssim.New(awssim.Options{Credentials: testCreds, Now: clk.Now, StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	c := ctx(t)
	b := backup.NewFromConfig(awsConfig(newServer(t, sim), west))
	seen := newSeen(t, "ListBackupVaults")
	var order []string
	for p := backup.NewListBackupVaultsPaginator(b, &backup.ListBackupVaultsInput{MaxResults: aws.Int32(7)}); p.HasMorePages(); {
		var names []string
		for _, v := range must[*backup.ListBackupVaultsOutput](t)(p.NextPage(c)).BackupVaultList {
			names = append(names, aws.ToString(v.BackupVaultName))
		}
		seen.page(7, names...)
		order = append(order, names...)
	}
	seen.check(want, 5)
	if !slices.IsSorted(order) {
		t.Errorf("the walk is not in name order: %v", order)
	}
	all := must[*backup.ListBackupVaultsOutput](t)(b.ListBackupVaults(c, &backup.ListBackupVaultsInput{}))
	if len(all.BackupVaultList) != 31 || all.NextToken != nil {
		t.Fatalf("without maxResults: %d vaults, NextToken %v; want all 31 on one page", len(all.BackupVaultList), all.NextToken)
	}
}

// TestGetTopicAttributes: a topic answers the attributes AWS gives a standard topic created
// without any; an unknown topic is NotFound (404), another region's topic or a value that is
// no ARN InvalidParameter (400), another account's topic AuthorizationError (403), in
// GetTopicAttributes and Publish alike.
func TestGetTopicAttributes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	c := ctx(t)
	s := sns.NewFromConfig(e.cfg(west))
	out := must[*sns.GetTopicAttributesOutput](t)(s.GetTopicAttributes(c, &sns.GetTopicAttributesInput{TopicArn: aws.String(awssim.KaigoDRAlertsTopic)}))
	a := out.Attributes
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"DisplayName", "EffectiveDeliveryPolicy", "Owner", "Policy", "SubscriptionsConfirmed", "SubscriptionsDeleted",
		"SubscriptionsPending", "TopicArn"}; !slices.Equal(keys, want) {
		t.Errorf("attributes %v, want %v", keys, want)
	}
	if a["TopicArn"] != awssim.KaigoDRAlertsTopic || a["Owner"] != awssim.AccountID || a["DisplayName"] != "" ||
		a["SubscriptionsConfirmed"] != "0" || a["SubscriptionsPending"] != "0" || a["SubscriptionsDeleted"] != "0" {
		t.Errorf("attributes %v", a)
	}
	if got, want := topicPolicy(a["Policy"]), "Allow * SNS:AddPermission,SNS:DeleteTopic,SNS:GetTopicAttributes,SNS:ListSubscriptionsByTopic,"+
		"SNS:Publish,SNS:RemovePermission,SNS:SetTopicAttributes,SNS:Subscribe on "+awssim.KaigoDRAlertsTopic+" if owner "+awssim.AccountID; got != want {
		t.Errorf("policy %s\nreads %q, want %q", a["Policy"], got, want)
	}
	if got := httpRetries(a["EffectiveDeliveryPolicy"]); got != "3 retries" {
		t.Errorf("EffectiveDeliveryPolicy %s: %s, want SNS's default 3 HTTP retries", a["EffectiveDeliveryPolicy"], got)
	}

	for _, tc := range []struct {
		what, arn, code, msg string
		status               int
	}{
		{"a topic that does not exist", "arn:aws:sns:us-west-2:" + awssim.AccountID + ":no-such-topic", "NotFound", "Topic does not exist", 404},
		{"another region's topic", "arn:aws:sns:us-east-1:" + awssim.AccountID + ":kaigo-subsys-prod-critical-alerts", "InvalidParameter", "Invalid parameter: TopicArn", 400},
		{"no ARN", "kaigo-subsys-dr-critical-alerts", "InvalidParameter", "Invalid parameter: TopicArn", 400},
		{"an S3 ARN", "arn:aws:s3:::kaigo-subsys-dr-backups", "InvalidParameter", "Invalid parameter: TopicArn", 400},
		{"another account's topic", "arn:aws:sns:us-west-2:210987654321:kaigo-subsys-dr-critical-alerts", "AuthorizationError",
			"User: arn:aws:iam::" + awssim.AccountID + ":user/kirikae-sim is not authorized to perform: SNS:GetTopicAttributes on resource: arn:aws:sns:us-west-2:210987654321:", 403},
	} {
		_, err := s.GetTopicAttributes(c, &sns.GetTopicAttributesInput{TopicArn: aws.String(tc.arn)})
		wantAPIError(t, err, tc.code, tc.msg)
		if got := httpStatus(err); got != tc.status {
			t.Errorf("GetTopicAttributes, %s: HTTP %d, want %d", tc.what, got, tc.status)
		}
		_, err = s.Publish(c, &sns.PublishInput{TopicArn: aws.String(tc.arn), Message: aws.String("m")})
		wantAPIError(t, err, tc.code, strings.ReplaceAll(tc.msg, "SNS:GetTopicAttributes", "SNS:Publish"))
		if got := httpStatus(err); got != tc.status {
			t.Errorf("Publish, %s: HTTP %d, want %d", tc.what, got, tc.status)
		}
	}
	if len(e.sim.Published()) != 0 {
		t.Errorf("refused publishes were kept: %+v", e.sim.Published())
	}
}
