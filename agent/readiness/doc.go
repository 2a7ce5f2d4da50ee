// Package readiness holds the agent's readiness checks (SPEC R5, seed 001): is the DR
// region ready to take over, and does the production region keep what a failover needs?
//
// [New] (or [Checks]) builds the checks of one region from a [Config]; [Checker.Run] is the
// agent.ReadinessFunc the agent runtime calls every ReadinessInterval and on demand. Every
// check runs concurrently under its own timeout (Config.CheckTimeout, default 10 s) and
// the report comes back in a stable order. A check whose AWS call fails, times out or
// panics is FAIL with the call and the cause as its detail ("ec2 DescribeVpcs in
// us-west-2: us-west-2 API unreachable: ... EOF"); nothing is retried beyond the SDK's
// three attempts, since the next run is the retry.
//
// # Checks of the DR role (the standby region, us-west-2)
//
//	ec2.dr-network          VPC tagged Name=kaigo-subsys-dr-vpc; FAIL without >= MinSubnets (2)
//	                        subnets over >= 2 AZs, a non-default security group and a route table
//	                        (the main table AWS creates with every VPC counts only with routes of its own)
//	elbv2.load-balancer     kaigo-subsys-dr-alb exists; active OK, provisioning/active_impaired WARN
//	elbv2.target-group      kaigo-subsys-dr exists and is attached to the ALB (targets not graded:
//	                        the DR service runs 0 tasks until failover)
//	ecs.cluster             cluster kaigo-subsys-dr ACTIVE, service kaigo-subsys-dr-service ACTIVE
//	rds.parameter-group     kaigo-subsys-postgres15 exists
//	rds.option-group        only when Names.DBOptionGroup is set (PostgreSQL needs none; the seed
//	                        names none)
//	rds.subnet-group        kaigo-subsys-dr-db-subnet-group exists and spans >= 2 AZs
//	rds.snapshot-copy-age   newest available cross-region copy of kaigo-subsys-prod, aged from when
//	                        its data was taken (SnapshotDatabaseTime, OriginalSnapshotCreateTime,
//	                        else SnapshotCreateTime): FAIL when older than RPO (1 h) or when none
//	backup.efs-copy-age     newest COMPLETED EFS recovery point in kaigo-subsys-dr-backup-vault:
//	                        FAIL when older than EFSMaxAge (26 h: the daily plan + 2 h margin) or
//	                        when none; otherwise OK, the detail noting an age over the RPO (EFS is
//	                        copied daily by design, and the RPO gap the SPEC asks to surface is
//	                        the RDS one)
//	rds.backup-retention    OK, observed "skipped": the source instance lives in the primary region,
//	rds.pitr                whose agent checks it; the DR agent does not call across regions for it
//	s3.replication          GetBucketReplication on kaigo-subsys-prod-backups, called in the bucket's
//	                        region (PrimaryRegion): an Enabled rule to kaigo-subsys-dr-backups.
//	                        S3 answers bucket configuration calls only in the bucket's region, so
//	                        while PrimaryRegion is down this check fails in the DR role too,
//	                        naming that region as unreachable
//	secretsmanager.secrets  DescribeSecret of kaigo-subsys/dr/db-endpoint and .../redis-endpoint;
//	                        FAIL when missing or scheduled for deletion (values are never read)
//	route53.record          zone Z1234567890ABC exists and holds api.kaigo-subsys.example.com A
//
// # Checks of the primary role (the production region, us-east-1)
//
//	rds.backup-retention    BackupRetentionPeriod of kaigo-subsys-prod >= Retention (30 days)
//	rds.pitr                automated backups on and LatestRestorableTime lagging less than RPO
//	s3.replication          as above
//	secretsmanager.secrets  kaigo-subsys/prod/db-endpoint and kaigo-subsys/prod/redis-endpoint
//	route53.record          as above
//
// The role defaults from the region: PrimaryRegion (us-east-1) is primary, any other is DR.
//
// [Summarize] rolls a report up as the control plane does: any FAIL is "not ready" with
// "name: detail" reasons; a WARN is listed as "warning: name: detail" and stays ready.
//
// On the kaigo fixture of awssim, the DR report in us-west-2 has exactly one FAIL,
// rds.snapshot-copy-age: the seed copies snapshots daily yet promises a 1 h RPO.
package readiness
