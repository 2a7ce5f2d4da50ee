// Package readiness holds the agent's readiness checks (SPEC R5): is the secondary region
// ready to take over, and does the primary keep what a failover needs?
//
// What to check comes from the user's system file as the control plane stores it (package
// system), never from names in this package: [Checker.Run] takes the system the agent was
// last sent, finds the agent's region in it (System.RegionOf) and checks the resources the
// file names there, in the role the file gives the region. The same code therefore checks
// any system in any region pair. [New] (or [Checks]) builds a checker of one region from a
// [Config] that holds only the region and how to reach AWS; [Checker.Run] is the
// agent.ReadinessFunc the agent runtime calls every ReadinessInterval, on demand, and when
// a new system arrives. Every check runs concurrently under its own timeout
// (Config.CheckTimeout, default 10 s) and the report comes back in a stable order. A check
// whose AWS call fails, times out or panics is FAIL with the call and the cause as its
// detail ("ec2 DescribeVpcs in REGION: REGION API unreachable: ... EOF"); nothing is
// retried beyond the SDK's three attempts, since the next run is the retry.
//
// # Without a usable system
//
//	system.stored           FAIL, the only check, while no system file is stored:
//	                        "no system file stored: run kirikae system apply FILE"
//	system.region           FAIL, the only check, when the agent's region is not one of the
//	                        system's two; the detail names the system's pair
//
// # Checks of both roles, from the region's part of the system file
//
//	ec2.dr-network          (secondary; ec2.network in the primary) the VPC tagged
//	                        Name=network.vpc; FAIL without >= MinSubnets (2) subnets over >= 2
//	                        AZs, a non-default security group and a route table (the main
//	                        table AWS creates with every VPC counts only with routes of its own)
//	ec2.security-groups     every group of network.securityGroups, by group name, in that VPC
//	elbv2.load-balancer     loadBalancer.name exists; active OK, provisioning/active_impaired WARN
//	elbv2.target-group      the targetGroup of every ECS service exists and is attached to the
//	                        load balancer (targets not graded: a secondary runs 0 tasks until
//	                        failover); absent when no service names one
//	ecs.cluster             ecs.cluster ACTIVE and every service of ecs.services in it ACTIVE;
//	                        a missing service is named
//	rds.parameter-group     database.parameterGroup exists
//	rds.option-group        database.optionGroup exists, only when the file names one
//	rds.subnet-group        database.subnetGroup exists and spans >= 2 AZs
//	kms.key                 database.kmsKey exists in the region and is Enabled, only when the
//	                        file names one
//	elasticache.subnet-group  cache.subnetGroup exists, only when the region has a cache
//	s3.replication          GetBucketReplication on the primary's bucket, called in the primary
//	                        region: an Enabled rule to the secondary's bucket. S3 answers bucket
//	                        configuration calls only in the bucket's region, so while the
//	                        primary is down this check fails in the secondary too, naming that
//	                        region as unreachable. Only when both regions name a bucket
//	secretsmanager.secrets  DescribeSecret of every secret the region names; FAIL when missing
//	                        or scheduled for deletion (values are never read)
//	sns.topics              every topic the region names is among the region's topics
//	route53.record          the public hosted zone dns.zone, found by name with
//	                        ListHostedZonesByName (no zone id is configured anywhere), holds
//	                        dns.record of dns.type
//
// # Checks of the secondary role only
//
//	rds.snapshot-copy-age   newest available cross-region copy of the primary's
//	                        database.instance, aged from when its data was taken
//	                        (SnapshotDatabaseTime, OriginalSnapshotCreateTime, else
//	                        SnapshotCreateTime): FAIL when older than objectives.rpo or when none
//	rds.backup-retention    OK, observed "skipped": the source instance lives in the primary
//	rds.pitr                region, whose agent checks it; the secondary's agent does not call
//	                        across regions for it
//	backup.efs-copy-age     newest COMPLETED EFS recovery point in backup.vault: FAIL when older
//	                        than EFSMaxAge (26 h: a daily plan + 2 h margin) or when none;
//	                        otherwise OK, the detail noting an age over the RPO (EFS is copied
//	                        daily by design; the RPO gap the SPEC asks to surface is the RDS
//	                        one). Only when the region has a backup section
//
// # Checks of the primary role only
//
//	rds.backup-retention    BackupRetentionPeriod of database.instance >= Retention (30 days)
//	rds.pitr                automated backups on and LatestRestorableTime lagging less than
//	                        objectives.rpo
//	elasticache.replication-group  cache.replicationGroup is available (a secondary has none
//	                        before a failover creates it), only when the region has a cache
//	backup.vault            backup.vault exists; its recovery points are aged in the
//	                        secondary's vault, which a failover restores from
//
// [Summarize] rolls a report up as the control plane does: any FAIL is "not ready" with
// "name: detail" reasons; a WARN is listed as "warning: name: detail" and stays ready.
package readiness
