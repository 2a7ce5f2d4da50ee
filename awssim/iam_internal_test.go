package awssim

import (
	"maps"
	"slices"
	"testing"
)

// iamMapped is every operation awssim serves, by IAM action, and whether iamRequests
// authorizes it on the resources it names (true) or on "*" because AWS offers no
// resource-level permission for it (false), as the Service Authorization Reference lists.
var iamMapped = map[string]bool{
	"rds:DescribeDBInstances": true, "rds:DescribeDBSnapshots": true, "rds:CreateDBSnapshot": true, "rds:CopyDBSnapshot": true,
	"rds:RestoreDBInstanceFromDBSnapshot": true, "rds:RestoreDBInstanceToPointInTime": true, "rds:DeleteDBInstance": true,
	"rds:StopDBInstance": true, "rds:StartDBInstance": true, "rds:DescribeDBParameterGroups": true, "rds:DescribeDBSubnetGroups": true,
	"rds:DescribeOptionGroups": true, "rds:ListTagsForResource": true,
	"elasticache:CreateReplicationGroup": true, "elasticache:DescribeReplicationGroups": true, "elasticache:DescribeCacheSubnetGroups": true,
	"elasticache:DeleteReplicationGroup": true, "elasticache:ListTagsForResource": true,
	"elasticloadbalancing:DescribeLoadBalancers": false, "elasticloadbalancing:DescribeTargetGroups": false,
	"elasticloadbalancing:DescribeTargetHealth": false, "elasticloadbalancing:DescribeTags": false,
	"sts:GetCallerIdentity": false, "sns:ListTopics": false, "sns:Publish": true, "sns:GetTopicAttributes": true,
	"ec2:DescribeVpcs": false, "ec2:DescribeSubnets": false, "ec2:DescribeSecurityGroups": false, "ec2:DescribeRouteTables": false,
	"ecs:RegisterTaskDefinition": false, "ecs:DescribeTaskDefinition": false, "ecs:DeregisterTaskDefinition": false,
	"ecs:UpdateService": true, "ecs:DescribeServices": true, "ecs:DescribeClusters": true, "ecs:ListTagsForResource": true,
	"secretsmanager:GetSecretValue": true, "secretsmanager:PutSecretValue": true, "secretsmanager:UpdateSecret": true,
	"secretsmanager:DescribeSecret": true, "secretsmanager:UpdateSecretVersionStage": true,
	"health:DescribeEvents":                  false,
	"backup:ListRecoveryPointsByBackupVault": true, "backup:StartRestoreJob": true, "backup:DescribeRestoreJob": false, "backup:ListBackupVaults": false,
	"elasticfilesystem:DescribeFileSystems": true, "elasticfilesystem:DeleteFileSystem": true,
	"route53:ListHostedZones": false, "route53:ListHostedZonesByName": false, "route53:GetHostedZone": true,
	"route53:ListResourceRecordSets": true, "route53:ChangeResourceRecordSets": true, "route53:GetChange": true, "route53:TestDNSAnswer": false,
	"cloudwatch:PutMetricAlarm": true, "cloudwatch:DescribeAlarms": true, "cloudwatch:DeleteAlarms": true,
	"kms:DescribeKey":                true,
	"s3:GetReplicationConfiguration": true,
}

// TestIAMMapsEveryOperation: every operation awssim serves has its IAM action and resources
// decided in iamRequests (iam.go). An operation added to a table fails here until it is: add
// its resource ARNs to iamRequests (or confirm AWS authorizes it on "*") and list it above.
func TestIAMMapsEveryOperation(t *testing.T) {
	served := map[string][]string{}
	for svc, ops := range map[string][]string{
		"rds": slices.Collect(maps.Keys(rdsOps)), "elasticache": slices.Collect(maps.Keys(elasticacheOps)),
		"elasticloadbalancing": slices.Collect(maps.Keys(elbOps)), "sts": slices.Collect(maps.Keys(stsOps)),
		"sns": slices.Collect(maps.Keys(snsOps)), "ec2": slices.Collect(maps.Keys(ec2Ops)), "ecs": slices.Collect(maps.Keys(ecsOps)),
		"secretsmanager": slices.Collect(maps.Keys(secretsOps)), "health": slices.Collect(maps.Keys(healthOps)),
		"kms": slices.Collect(maps.Keys(kmsOps)), "s3": {"GetBucketReplication"},
		"monitoring": append(slices.Collect(maps.Keys(cloudwatchOps)), slices.Collect(maps.Keys(cloudwatchQueryOps))...),
	} {
		served[svc] = ops
	}
	for svc, routes := range map[string][]route{"backup": backupRoutes, "elasticfilesystem": efsRoutes, "route53": route53Routes} {
		for _, r := range routes {
			served[svc] = append(served[svc], r.op)
		}
	}
	for _, svc := range slices.Sorted(maps.Keys(served)) {
		for _, op := range served[svc] {
			if _, ok := iamMapped[IAMAction(svc, op)]; !ok {
				t.Errorf("awssim serves %s %s (IAM action %s), which iam.go does not map to its resources: map it in iamRequests and list it in iamMapped",
					svc, op, IAMAction(svc, op))
			}
		}
	}
}
