// Package awssim is a simulated AWS for kirikae's demo, tabletop drills, integration tests
// and benchmarks. It owns nothing but its own in-memory state; it must never reach real AWS.
//
// # One listener, both regions
//
// A single http.Handler ([Sim.Handler]) serves every region and service. The region and the
// service come from the SigV4 credential scope in the Authorization header
// (Credential=AKID/DATE/REGION/SERVICE/aws4_request). Point an SDK at it with BaseEndpoint,
// or the AWS CLI with --endpoint-url / AWS_ENDPOINT_URL. The regions are the two of the
// world's system ([Sim.Regions]); a request for any other region is refused with
// InvalidClientTokenId, as AWS refuses a region the account cannot use, except for Route 53
// and S3, which are global, and Health through its global endpoint (us-east-1).
//
// # Signed requests
//
// Every AWS request must carry a valid SigV4 signature (Authorization header, or a presigned
// query string) made with a key pair the simulator issued: [Options.Credentials], or one
// random AKIA pair drawn at New and kept in the state file ([Sim.Credentials] returns them).
// The canonical request is rebuilt from what the client sent, as AWS does (paths encoded
// twice except for S3, X-Amz-Content-Sha256 checked against the body, X-Amz-Date within
// 15 minutes of the wall clock). A refusal uses the protocol's own error, so the SDKs and the
// CLI show it: InvalidClientTokenId / SignatureDoesNotMatch / MissingAuthenticationToken /
// IncompleteSignature (awsQuery, restXml, CloudWatch), AuthFailure (EC2),
// UnrecognizedClientException / InvalidSignatureException (JSON services), and
// InvalidAccessKeyId / SignatureDoesNotMatch / AccessDenied (S3). Two simulators on one machine
// therefore never serve each other's callers. The /_sim/ control API and the /_app/
// application are not AWS APIs and are not signed.
//
// Each service speaks its real wire protocol, so the real aws-sdk-go-v2 clients and the AWS
// CLI v2 parse the answers: awsQuery (RDS, ElastiCache, ELBv2, STS, SNS), ec2Query (EC2),
// restXml (Route 53, S3), restJson1 (EFS, Backup), awsJson1_1 (ECS, Secrets Manager, Health,
// KMS) and rpcv2Cbor (CloudWatch). Errors carry the real codes and shapes callers test for
// idempotency (DBInstanceAlreadyExists, ReplicationGroupAlreadyExists, InvalidChangeBatch, ...).
// Bad input gets a 4xx AWS error, never a 500. A signed request for a service awssim does
// not simulate gets UnknownService in its caller's form: an XML ErrorResponse for an
// awsQuery or ec2Query form (Action=...) and for a restXml service (CloudFront), JSON for
// awsJson (X-Amz-Target) and restJson, so the SDKs and the AWS CLI show the code and message.
//
// # Time
//
// Resources move through their real statuses (creating → backing-up → available, PENDING →
// INSYNC, ...). Every transition is stored as a timeline of (status, time) when the mutating
// call arrives and is evaluated lazily on each read, so there are no background goroutines
// and a read is a pure function of the state and the clock. Durations default to the seed
// runbook's 所要時間 (see [DefaultDurations]), are multiplied by Options.TimeScale, and can be
// overridden per operation through Options.Durations.
//
// # The simulated application
//
// Behind each ALB the system's application answers under /_app/<region>/: GET health returns
// {"status":"ok"}, POST login returns a token, and /items supports create, read, update and
// delete. It answers only while that region's ALB has at least one healthy target; otherwise
// it returns 503, as an ALB with no healthy targets does. Every answer names the region
// that served it in the [AppRegionHeader] header. /_app/dns/<record-name>/ follows the Route 53
// record (alias → ALB → region), so a plan can use the public name's path. An unsigned
// request whose Host is an ALB's DNS name or a name aliased to one reaches the same
// application, so `curl -H 'Host: api.kaigo-subsys.example.com' http://ADDR/health` works as
// the runbook's step 10 does.
//
// # Starting worlds
//
// [Options.System] builds a system file's peacetime world (build.go says what is in it):
// everything the file names, in its two regions, by its names, in its account. The
// primary runs the database (with seven daily automated snapshots), the cache, the EFS file
// system and its ECS services; the secondary holds only what is built in advance (network,
// subnet and parameter groups, ALB and target groups, the ECS cluster with its services at
// 0 tasks, secrets, topics, the bucket the primary's replicates to) plus the daily
// cross-region snapshot copies, encrypted with the secondary's key, and EFS recovery points
// in its vault. The newest RDS copy's data is always more than an hour old: the seed copies
// daily yet promises a 1 h RPO, and readiness checks must be able to see that gap. As on
// RDS, each copy's SnapshotCreateTime is when it was copied (40 minutes after the
// snapshot); OriginalSnapshotCreateTime and SnapshotDatabaseTime give its data's time.
// Each region also has its default VPC (a default subnet per availability zone, six in
// us-east-1 and four in us-west-2, its default security group and main route table), as
// every account has; no system uses it. Hosted zone Z1234567890ABC (four name servers, as
// Route 53 gives every zone) holds the file's dns.record as an alias to the primary's ALB;
// the private zone Z0987654321DEF (SYSTEM.internal., on the primary's VPC) only its NS and
// SOA. Fixture "outage" adds an open AWS_EC2_OPERATIONAL_ISSUE Health event for the primary.
//
// "kaigo" and "kaigo-outage" are the same for the bundled seed system
// (deploy/systems/kaigo.yaml): production in us-east-1, DR in us-west-2, named as the Kaigo*
// constants say. Without a system or a fixture the world is empty, in kaigo's two regions.
//
// # Snapshot times and tags
//
// CopyDBSnapshot gives the copy its own SnapshotCreateTime and keeps the source's
// OriginalSnapshotCreateTime and SnapshotDatabaseTime, as RDS does, so a fresh copy of old
// data looks fresh to anyone who reads the wrong field. Tags given on create are kept as
// AWS keeps them, and returned only where AWS returns them: RDS instances
// (RestoreDBInstanceFromDBSnapshot, ...ToPointInTime) and snapshots (CreateDBSnapshot,
// CopyDBSnapshot with Tags or CopyTags) in TagList and from ListTagsForResource by ARN;
// ElastiCache replication groups from ListTagsForResource only, since
// DescribeReplicationGroups has no tags on AWS either; ECS task definitions
// (RegisterTaskDefinition) in its answer, from DescribeTaskDefinition with include TAGS and
// from ListTagsForResource. A Backup StartRestoreJob with CopySourceTagsToRestoredResource
// gives the restored EFS file system the backup's tags (and so its Name); without it the
// file system has none. The fixture's load balancers, target groups, ECS clusters and
// services, secrets and production file system carry Name and Environment tags, returned by
// ELBv2 DescribeTags, ECS include TAGS and ListTagsForResource, DescribeSecret and
// DescribeFileSystems.
//
// # Filters and pages
//
// Every filter AWS documents for the Describe calls awssim implements filters, with the
// service's own matching: RDS DescribeDBInstances (db-cluster-id, db-instance-id,
// dbi-resource-id, domain, engine) and DescribeDBSnapshots (db-instance-id, db-snapshot-id,
// dbi-resource-id, snapshot-type, engine) by exact value, identifiers or ARNs; EC2
// DescribeVpcs, DescribeSubnets, DescribeSecurityGroups and DescribeRouteTables by every
// filter of their API reference, tag:<key> and tag-key included, with * and ? wildcards.
// A filter on an attribute awssim does not model (IPv6, Outposts, peering, inbound rules)
// matches nothing. An unknown filter name is refused before anything is read, in the
// service's words: RDS InvalidParameterValue "Unrecognized filter name: bogus" (also for
// the operations whose Filters RDS does not support), EC2 InvalidParameterValue "The filter
// 'bogus' is invalid". Listings page as on AWS, within AWS's ranges: RDS and ElastiCache
// MaxRecords (20-100) and Marker, EC2 MaxResults (5-1000, 5-100 for route tables) and
// NextToken, ELBv2 PageSize (1-400) and Marker/NextMarker, Backup ListBackupVaults and
// ListRecoveryPointsByBackupVault maxResults (1-1000) and nextToken, EFS DescribeFileSystems
// MaxItems and Marker/NextMarker, Health DescribeEvents maxResults (1-100) and nextToken,
// newest event first (InvalidPaginationToken for a token it did not issue). A size out of range or a marker awssim did not issue is a
// 400 naming the parameter. Markers hold the key of the last item returned, so a walk over
// every page sees each item once even when items come and go in between.
//
// # Control API
//
// Under /_sim/, JSON in and out; each has a Go twin on [Sim]:
//
//	GET  /_sim/journal             every successful mutating call (time, region, service, operation, resource)
//	GET  /_sim/state               the whole simulated world
//	POST /_sim/reset               back to the fixture; clears faults and the journal
//	POST /_sim/region-down         {"region":"us-east-1","mode":"refuse"|"hang"}
//	POST /_sim/region-up           {"region":"us-east-1"}
//	POST /_sim/fault               {"service":"rds","operation":"DescribeDBInstances","rate":0.5,"throttle":true,"count":3}
//	POST /_sim/slow                {"service":"rds","operation":"RestoreDBInstanceFromDBSnapshot","latency":"2s","factor":3}
//	POST /_sim/clear-faults
//	POST /_sim/health-event        {"region":"us-east-1","service":"EC2"} → {"arn":...}
//	POST /_sim/health-event/close  {"region":"us-east-1"} or {"arn":...}
//
// Refuse mode closes the connection without an answer, so clients fail at once; hang mode
// holds the request until the client gives up (or the simulator closes). Route 53 and Health
// are global and stay up when us-east-1, the region they sign for, is down.
//
// # Where awssim knowingly differs from AWS
//
// What awssim does not model, and why no kirikae behaviour rests on it: kirikae's own logic
// (ownership and idempotency checks, waits, verification, fencing) runs against the parts
// that are modelled, and the differential suite (TestMotoDifferential) and the AWS CLI error
// test (TestAWSCLIErrorForms) hold those to AWS's answers.
//
//	Area         Not modelled                                       Why kirikae does not depend on it
//	ElastiCache  custom parameter groups, snapshots, IPv6           plans create cluster-mode-disabled IPv4 groups
//	EC2          inbound rules (but the default group's), IPv6      readiness checks that the network exists, not its rules
//	ECS          List* calls, CreateService, more than 500 tasks    executors describe and update existing services
//	Route 53     routing policies, DELETE's value check, targets    kirikae UPSERTs simple aliases to ALBs and zone records
//	             of services not simulated (CloudFront, S3)
//	S3           everything but GetBucketReplication                readiness reads the replication rule only
//	EFS          lifecycle, mount targets, the deleting state       EFS comes back through Backup restores
//	Tags         adding or removing after create                    kirikae tags what it creates, when it creates it
//	KMS          all but DescribeKey, key states and material       kirikae passes key ids to RDS, which awssim checks,
//	                                                                and readiness asks whether a key exists
//	RDS          option group contents, replica lag, copy ids       restores and copies name groups and snapshots only
//	Journal      calls that change nothing                          a test aid, not an AWS behaviour
//
// In detail:
//
//   - ElastiCache cluster mode is enabled by ClusterMode enabled or a parameter group name
//     ending ".cluster.on" (AWS's default cluster-enabled groups); custom parameter groups
//     are not modelled, and ClusterMode compatible is refused. As on AWS, a
//     cluster-mode-disabled group has NodeGroups[0].PrimaryEndpoint and ReaderEndpoint and no
//     ConfigurationEndpoint (the seed runbook's read of ConfigurationEndpoint gets None there
//     too); a cluster-mode-enabled one has only the ConfigurationEndpoint. Replication
//     groups are IPv4 only (NetworkType and IpDiscovery ipv6 are refused, as awssim's
//     subnets have no IPv6 CIDR blocks); one created without SnapshotWindow gets 06:00-07:00,
//     where ElastiCache picks a window of its own; no snapshot is ever taken.
//   - Security groups have no inbound rules but the default group's (from the group itself),
//     and DescribeSecurityGroups' GroupName matches groups in any VPC, not only the default
//     VPC's. Subnets are IPv4 only. EC2's wording for a MaxResults above the maximum is awssim's.
//   - ECS ListServices, ListTasks, ListTaskDefinitions and Secrets Manager ListSecrets are not
//     implemented, so they do not page either.
//   - Route 53 checks an alias target against its HostedZoneId as AWS does when the target is
//     a simulated ALB (whose zone is its CanonicalHostedZoneId) or a record of a simulated
//     hosted zone; a target of a service awssim does not simulate (CloudFront, S3 websites,
//     ...) is taken on trust. Routing policies (SetIdentifier, weights, failover) are not
//     modelled, a DELETE need not repeat the record's values, and ListHostedZones lists by
//     zone id, an order AWS does not document. TestDNSAnswer returns a fixed documentation
//     address per region's ALB.
//   - CloudWatch speaks rpcv2Cbor (the current SDK), awsJson1_0 (newer AWS CLIs) and awsQuery
//     (older SDKs, Debian's AWS CLI 2.9). S3 implements GetBucketReplication only.
//   - ECS services are capped at 500 tasks, to keep per-task modelling cheap. There is no
//     CreateService: the starting world's services use the ECS deployment controller, the REPLICA
//     scheduler and no tag propagation, and run (Fargate, platform family Linux) in every
//     subnet of their target group's VPC with the security groups the world gives them (or else
//     the VPC's default group), without public IPs; UpdateService changes none of that.
//   - Every EFS file system meters 1 GiB, all of it in the Standard storage class
//     (ValueInIA 0): no lifecycle policy is modelled.
//   - DeleteFileSystem removes the file system at once (AWS shows it "deleting" for a few
//     seconds), and there are no mount targets, so FileSystemInUse never happens.
//   - Tags can only be set on create: AddTagsToResource, RemoveTagsFromResource and the
//     other services' TagResource calls are not implemented. RDS ListTagsForResource answers
//     for DB instances and DB snapshots, ElastiCache's for replication groups (other ARNs get
//     InvalidParameterValue), ECS's for clusters, services and task definitions; EFS has no
//     ListTagsForResource. A DB instance restored with CopyTagsToSnapshot gives its tags to
//     its snapshots that get none of their own (DeleteDBInstance's final snapshot,
//     StopDBInstance's, a CreateDBSnapshot without Tags).
//   - awssim's KMS API is DescribeKey alone. Each region has a fixed set of KMS keys: the AWS
//     managed alias/aws/rds, the AWS managed alias/aws/backup where the region has a vault
//     (its vaults' EncryptionKeyArn), and the key the system file names for the region's
//     database (in the kaigo world prod-key-id, alias/kaigo-subsys-prod, in us-east-1 and
//     dr-key-id, alias/kaigo-subsys-dr, in us-west-2). CopyDBSnapshot resolves
//     KmsKeyId (key id, key ARN, alias name or alias ARN) among the destination region's
//     keys and refuses any other, a key of another region or account included, with
//     KMSKeyNotAccessibleFault; every key is enabled and usable, and DescribeKey finds one
//     the same four ways (else NotFoundException) and answers it Enabled, symmetric, created
//     2024-01-01, with no description but the AWS managed keys'. The restore calls have no
//     KmsKeyId (the instance takes its snapshot's or source's key), and CreateDBInstance is
//     not implemented.
//   - Backup vaults are standard ones (VaultType BACKUP_VAULT) without Vault Lock or access
//     policy, created 2024-01-01; there are no shared or logically air-gapped vaults.
//   - SNS topics are standard topics with no attributes set and no subscriptions:
//     GetTopicAttributes answers the default Policy and EffectiveDeliveryPolicy, an empty
//     DisplayName and subscription counts of 0. GetTopicAttributes and Publish refuse a topic
//     ARN of another region (or a value that is no topic ARN) with InvalidParameter and one of
//     another account with AuthorizationError, as SNS does.
//   - RDS option groups are the default ones of each engine version (default:postgres-15,
//     ...) and the one the system file names, all with no options; DescribeOptionGroups lists
//     them, and a restore may name one of its engine version's. Creating option groups, and
//     custom parameter groups' contents, are not modelled. Every instance's and snapshot's
//     MasterUsername is admin. An instance's default backup and maintenance windows are picked
//     from its sequence number within the region's 8-hour block, not at random.
//   - SnapshotDatabaseTime always equals OriginalSnapshotCreateTime: no transaction lag
//     (a read replica's) is modelled.
//   - The daily copies in the secondary keep the automated snapshots' "rds:" ids and type;
//     on RDS a copy is a manual snapshot with an id of its own.
//   - A call that changes nothing is not journaled: DeleteAlarms journals each alarm it
//     actually deleted; a repeated DeregisterTaskDefinition or a staging-label move onto the
//     version already holding the label leaves no entry.
package awssim
