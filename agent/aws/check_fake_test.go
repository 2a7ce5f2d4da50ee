package aws

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
)

// The checks whose calls awssim does not implement (SNS GetTopicAttributes, ElastiCache
// DescribeCacheSubnetGroups, KMS), against fakes that answer as AWS does.

type fakeSNS struct{ err error }

func (f fakeSNS) GetTopicAttributes(context.Context, *sns.GetTopicAttributesInput, ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error) {
	return &sns.GetTopicAttributesOutput{}, f.err
}

type fakeCacheSubnets struct{ groups []string }

func (f fakeCacheSubnets) DescribeCacheSubnetGroups(_ context.Context, in *elasticache.DescribeCacheSubnetGroupsInput, _ ...func(*elasticache.Options)) (*elasticache.DescribeCacheSubnetGroupsOutput, error) {
	out := &elasticache.DescribeCacheSubnetGroupsOutput{}
	for _, g := range f.groups {
		if in.CacheSubnetGroupName == nil || *in.CacheSubnetGroupName == g {
			out.CacheSubnetGroups = append(out.CacheSubnetGroups, ectypes.CacheSubnetGroup{CacheSubnetGroupName: aws.String(g), VpcId: aws.String("vpc-1")})
		}
	}
	if in.CacheSubnetGroupName != nil && len(out.CacheSubnetGroups) == 0 {
		return nil, &smithy.GenericAPIError{Code: "CacheSubnetGroupNotFoundFault", Message: "CacheSubnetGroup " + *in.CacheSubnetGroupName + " not found."}
	}
	return out, nil
}

func one(t *testing.T, got []catalog.Finding, code, input string, says ...string) {
	t.Helper()
	if len(got) != 1 || got[0].Code != code || got[0].Input != input {
		t.Fatalf("want one %s finding on %s, got %+v", code, input, got)
	}
	for _, s := range says {
		if !strings.Contains(got[0].Problem+" "+got[0].Fix, s) {
			t.Errorf("finding %+v does not say %q", got[0], s)
		}
	}
}

func TestTopicCheck(t *testing.T) {
	topic := "arn:aws:sns:us-west-2:123456789012:kaigo-subsys-dr-alerts"
	var asked string
	c := func(err error) *topicCheck {
		return &topicCheck{sns: func(region string) (snsCheckAPI, error) { asked = region; return fakeSNS{err}, nil }}
	}
	s := action.CheckStep{StepID: "tell", Action: catalog.Notify.Name, Region: "us-east-1", With: map[string]any{"topicArn": topic, "message": "m"}}
	notFound := &smithy.GenericAPIError{Code: "NotFound", Message: "Topic does not exist"}
	one(t, c(notFound).notify(context.Background(), s), catalog.FindingMissingResource, "topicArn", "kaigo-subsys-dr-alerts", "us-west-2")
	if asked != "us-west-2" {
		t.Errorf("asked %s, not the topic's region", asked)
	}
	one(t, c(&smithy.GenericAPIError{Code: "AuthorizationError"}).notify(context.Background(), s), catalog.FindingCheckError, "topicArn",
		"sns:GetTopicAttributes", "allow sns:GetTopicAttributes")
	if got := c(nil).notify(context.Background(), s); len(got) != 0 {
		t.Errorf("an existing topic: %+v", got)
	}
	s.Action, s.With = catalog.PutAlarm.Name, map[string]any{"alarmName": "a", "metricName": "m", "namespace": "n", "threshold": "1",
		"alarmActions": []any{topic, "arn:aws:automate:us-west-2:ec2:stop"}}
	one(t, c(notFound).alarm(context.Background(), s), catalog.FindingMissingResource, "alarmActions")
	s.Action, s.With = catalog.Publish.Name, map[string]any{"topicArn": "kaigo-subsys-dr-alerts", "message": "m"}
	one(t, c(nil).publish(context.Background(), s), catalog.FindingInvalidInput, "topicArn", "malformed ARN")
}

func TestReplicationGroupSubnetCheck(t *testing.T) {
	c := &replicationGroupCheck{elasticache: func(string) (elastiCacheCheckAPI, error) {
		return fakeCacheSubnets{groups: []string{"kaigo-subsys-dr-cache-subnet-group"}}, nil
	}}
	s := action.CheckStep{StepID: "cache", Action: catalog.CreateReplicationGroup.Name, Region: "us-west-2",
		With: map[string]any{"replicationGroupId": "kaigo-subsys-dr", "subnetGroup": "kaigo-subsys-dr-subnet-group"}}
	one(t, c.Check(context.Background(), s), catalog.FindingMissingResource, "subnetGroup",
		"there is no cache subnet group kaigo-subsys-dr-subnet-group in us-west-2", "subnetGroup: kaigo-subsys-dr-cache-subnet-group")
	s.With["subnetGroup"] = "kaigo-subsys-dr-cache-subnet-group"
	if got := c.Check(context.Background(), s); len(got) != 0 {
		t.Errorf("an existing subnet group: %+v", got)
	}
}

func TestCopySnapshotKeyExists(t *testing.T) {
	var asked [2]string
	c := &copySnapshotCheck{opts: Options{KMSKeyExists: func(_ context.Context, region, key string) (bool, error) {
		asked = [2]string{region, key}
		return key == "alias/kaigo-subsys-dr", nil
	}}}
	s := action.CheckStep{StepID: "copy", Action: catalog.CopySnapshot.Name, Region: "us-west-2", Unresolved: []string{"sourceSnapshotArn"},
		With: map[string]any{"sourceSnapshotArn": "${steps.snap.outputs.snapshotArn}", "sourceRegion": "us-east-1",
			"targetSnapshotId": "copy", "kmsKeyId": "alias/kaigo-subsys-drr"}}
	one(t, c.Check(context.Background(), s), catalog.FindingMissingResource, "kmsKeyId", "alias/kaigo-subsys-drr", "us-west-2")
	if asked != [2]string{"us-west-2", "alias/kaigo-subsys-drr"} {
		t.Errorf("asked %v", asked)
	}
	s.With["kmsKeyId"] = "alias/kaigo-subsys-dr"
	if got := c.Check(context.Background(), s); len(got) != 0 {
		t.Errorf("an existing key: %+v", got)
	}
	// A key of another region is refused without asking KMS.
	asked = [2]string{}
	s.With["kmsKeyId"] = "arn:aws:kms:us-east-1:123456789012:key/prod-key-id"
	one(t, c.Check(context.Background(), s), catalog.FindingKMSKeyRegion, "kmsKeyId")
	if asked != [2]string{} {
		t.Errorf("asked KMS about a key of another region: %v", asked)
	}
	c.opts.KMSKeyExists = func(context.Context, string, string) (bool, error) { return false, errors.New("boom") }
	s.With["kmsKeyId"] = "alias/kaigo-subsys-dr"
	one(t, c.Check(context.Background(), s), catalog.FindingCheckError, "kmsKeyId", "kms:DescribeKey")
}

func TestELBRegion(t *testing.T) {
	for dns, want := range map[string]string{
		"kaigo-subsys-dr-alb-1234567890.us-west-2.elb.amazonaws.com":            "us-west-2",
		"dualstack.kaigo-subsys-dr-alb-1234567890.us-west-2.elb.amazonaws.com.": "us-west-2",
		"internal-kaigo-1.us-east-1.elb.amazonaws.com":                          "us-east-1",
		"kaigo-nlb-0123456789abcdef.elb.eu-west-1.amazonaws.com":                "eu-west-1",
		"d111111abcdef8.cloudfront.net":                                         "",
		"elb.amazonaws.com":                                                     "",
	} {
		if got := elbRegion(dns); got != want {
			t.Errorf("elbRegion(%s) = %q, want %q", dns, got, want)
		}
	}
}
