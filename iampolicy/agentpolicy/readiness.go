package agentpolicy

import (
	"github.com/kirikae/kirikae/agent/readiness"
	"github.com/kirikae/kirikae/system"
)

// readinessGrants are what the agent of region R calls for its readiness checks
// (agent/readiness, checks.go), by check name, from R's part of the system file.
func readinessGrants(e env) map[string][]grant {
	sys := e.sys
	r := sys.RegionOf(e.region)
	if r == nil {
		return nil
	}
	primary := r.Role == system.Primary
	out := map[string][]grant{}
	add := func(check string, gs ...grant) { out[check] = append(out[check], gs...) }

	network := readiness.CheckNetwork
	if primary {
		network = readiness.CheckPrimaryNetwork
	}
	add(network, g("ec2:DescribeVpcs"), g("ec2:DescribeSubnets"), g("ec2:DescribeSecurityGroups"), g("ec2:DescribeRouteTables"))
	if len(r.Network.SecurityGroups) > 0 {
		add(readiness.CheckSecurityGroups, g("ec2:DescribeVpcs"), g("ec2:DescribeSecurityGroups"))
	}
	add(readiness.CheckLoadBalancer, g("elasticloadbalancing:DescribeLoadBalancers"))
	var services []string
	tg := false
	for _, name := range r.ServiceNames() {
		s := r.ECS.Services[name]
		services = append(services, e.service(r.ECS.Cluster, s.Name))
		tg = tg || s.TargetGroup != ""
	}
	if tg {
		add(readiness.CheckTargetGroup, g("elasticloadbalancing:DescribeTargetGroups"), g("elasticloadbalancing:DescribeLoadBalancers"))
	}
	add(readiness.CheckECSCluster, g("ecs:DescribeClusters", e.cluster(r.ECS.Cluster)))
	if len(services) > 0 {
		add(readiness.CheckECSCluster, g("ecs:DescribeServices", services...))
	}
	db := r.Database
	add(readiness.CheckDBParameterGroup, g("rds:DescribeDBParameterGroups", e.named("rds", ":", "pg", db.ParameterGroup)))
	if db.OptionGroup != "" {
		add(readiness.CheckDBOptionGroup, g("rds:DescribeOptionGroups", e.named("rds", ":", "og", db.OptionGroup)))
	}
	add(readiness.CheckDBSubnetGroup, g("rds:DescribeDBSubnetGroups", e.subgrp(db.SubnetGroup)))
	if db.KMSKey != "" {
		key, _ := e.kmsKey(db.KMSKey)
		if key == "" { // the AWS managed key, named: DescribeKey still needs the permission
			key = e.arn("kms", "key/*")
		}
		add(readiness.CheckKMSKey, g("kms:DescribeKey", key))
	}
	if primary {
		add(readiness.CheckBackupRetention, g("rds:DescribeDBInstances", e.db(db.Instance)))
		add(readiness.CheckPITR, g("rds:DescribeDBInstances", e.db(db.Instance)))
	} else {
		// The copies of the primary's instance in this region, listed by instance: every snapshot.
		add(readiness.CheckSnapshotCopyAge, g("rds:DescribeDBSnapshots", e.snapshot("")))
	}
	if c := r.Cache; c != nil {
		if primary {
			add(readiness.CheckCacheReplicationGroup, g("elasticache:DescribeReplicationGroups", e.replicationGroup(c.ReplicationGroup)))
		}
		add(readiness.CheckCacheSubnetGroup, g("elasticache:DescribeCacheSubnetGroups", e.named("elasticache", ":", "subnetgroup", c.SubnetGroup)))
	}
	if b := r.Backup; b != nil {
		check := readiness.CheckEFSCopyAge
		if primary {
			check = readiness.CheckBackupVault
		}
		add(check, g("backup:ListRecoveryPointsByBackupVault", e.vault(b.Vault)))
	}
	if src, dst := sys.Role(system.Primary).Bucket, sys.Role(system.Secondary).Bucket; src != "" && dst != "" {
		// Asked in the primary region whichever agent asks: S3 answers only there.
		add(readiness.CheckS3Replication, g("s3:GetReplicationConfiguration", "arn:aws:s3:::"+src))
	}
	if len(r.Secrets) > 0 {
		var secrets []string
		for _, name := range sortedValues(r.Secrets) {
			secrets = append(secrets, e.secret(name))
		}
		add(readiness.CheckSecrets, g("secretsmanager:DescribeSecret", secrets...))
	}
	if len(r.Topics) > 0 {
		add(readiness.CheckSNSTopics, g("sns:ListTopics"))
	}
	add(readiness.CheckDNSRecord, g("route53:ListHostedZonesByName"), g("route53:ListResourceRecordSets", hostedZone("")))
	return out
}
