package aws_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/smithy-go"

	"github.com/kirikae/kirikae/awssim"
)

// TestSeedMistakesThroughExecutors: the seed runbook's three mistakes, written into a plan's
// inputs literally, fail through kirikae's own executors as they would on AWS, with AWS's
// code and words, and change nothing.
func TestSeedMistakesThroughExecutors(t *testing.T) {
	e := newSimEnv(t)
	ctx := testCtx(t)
	apiCode := func(err error) (string, string) {
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			return "", ""
		}
		return ae.ErrorCode(), ae.ErrorMessage()
	}

	// Row 1: the alias to the us-west-2 ALB with the seed's zone Z1BKCTXD74EZPE.
	_, _, err := e.exec(ctx, step("aws.route53.upsertAlias", west, map[string]any{"hostedZoneId": awssim.KaigoHostedZoneID,
		"recordName": "api.kaigo-subsys.example.com", "targetDnsName": awssim.KaigoALBDNS(west), "targetHostedZoneId": "Z1BKCTXD74EZPE"}))
	if code, msg := apiCode(err); code != "InvalidChangeBatch" || !strings.Contains(msg, "does not lie within the target zone") {
		t.Errorf("alias with the seed's zone: %v", err)
	}

	// Row 9: --task-definition kaigo-subsys-dr:latest.
	_, _, err = e.exec(ctx, step("aws.ecs.updateService", west, map[string]any{"cluster": awssim.KaigoDRCluster,
		"service": awssim.KaigoDRService, "desiredCount": 2, "taskDefinition": awssim.KaigoDRTaskFamily + ":latest"}))
	if code, msg := apiCode(err); code != "InvalidParameterException" || !strings.Contains(msg, "Invalid revision number. Number: latest") {
		t.Errorf("task definition family:latest: %v", err)
	}
	for _, j := range e.sim.Journal() {
		if j.Operation == "ChangeResourceRecordSets" || j.Operation == "UpdateService" {
			t.Fatalf("a refused step changed AWS: %+v", j)
		}
	}

	// Row 3: the seed reads ConfigurationEndpoint.Address of a cluster-mode-disabled group,
	// which has none on AWS; kirikae's executor gives the primary endpoint, which it has.
	out, _, err := e.exec(ctx, step("aws.elasticache.createReplicationGroup", west, map[string]any{"replicationGroupId": "kaigo-subsys-dr",
		"numCacheClusters": 2, "automaticFailover": true, "subnetGroup": awssim.KaigoDRCacheSubnets}))
	if err != nil {
		t.Fatal(err)
	}
	g, err := e.clients(t, west).ElastiCache.DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("kaigo-subsys-dr")})
	if err != nil {
		t.Fatal(err)
	}
	if g.ReplicationGroups[0].ConfigurationEndpoint != nil {
		t.Errorf("a cluster-mode-disabled group has a ConfigurationEndpoint: %v", aws.ToString(g.ReplicationGroups[0].ConfigurationEndpoint.Address))
	}
	if ep, _ := out["primaryEndpoint"].(string); ep == "" || strings.HasPrefix(ep, "clustercfg.") ||
		ep != aws.ToString(g.ReplicationGroups[0].NodeGroups[0].PrimaryEndpoint.Address) {
		t.Errorf("the executor's endpoint %q is not the group's primary endpoint", ep)
	}
}
