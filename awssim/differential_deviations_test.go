package awssim_test

import "strings"

// The two lists below explain every difference TestMotoDifferential sees. A difference line
// reads "<step>: <what>: awssim <x>, moto <y>" (or "..., AWS <y>" for the awssim-only checks);
// Match is a regular expression over it and Ops the operations it may appear in.
//
// What moto lacks altogether is not a difference but a gap, named in diffOps: AWS Health
// (DescribeEvents), AWS Backup's recovery points and restore jobs
// (ListRecoveryPointsByBackupVault, StartRestoreJob, DescribeRestoreJob) and Route 53's
// TestDNSAnswer are held to the AWS documentation by awssim-only checks (simCheck); and moto
// has no rpcv2Cbor, the Go SDK's CloudWatch protocol, so CloudWatch steps go to both in
// awsQuery and awsJson1_0, and awssim's rpcv2Cbor answers must equal its awsJson1_0 ones.
//
// "API model" below is the service's published Smithy/JSON model (botocore's
// service-2.json, from which every AWS SDK is generated): the error codes and HTTP statuses
// there are the ones the service sends.

const (
	rdsRef     = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/"
	cacheRef   = "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/"
	ecsRef     = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/"
	ec2Ref     = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/"
	elbRef     = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/"
	r53Ref     = "https://docs.aws.amazon.com/Route53/latest/APIReference/"
	cwRef      = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/"
	smRef      = "https://docs.aws.amazon.com/secretsmanager/latest/apireference/"
	efsRef     = "https://docs.aws.amazon.com/efs/latest/ug/"
	backupRef  = "https://docs.aws.amazon.com/aws-backup/latest/devguide/"
	healthRef  = "https://docs.aws.amazon.com/health/latest/APIReference/"
	s3Ref      = "https://docs.aws.amazon.com/AmazonS3/latest/API/"
	kmsRef     = "https://docs.aws.amazon.com/kms/latest/APIReference/"
	snsRef     = "https://docs.aws.amazon.com/sns/latest/api/"
	rdsAnswers = "rds.DescribeDBInstances rds.RestoreDBInstanceFromDBSnapshot rds.RestoreDBInstanceToPointInTime rds.DeleteDBInstance rds.StopDBInstance rds.StartDBInstance rds.ListTagsForResource"
)

// motoDeviations are the differences where moto is not AWS. Each says what moto does and
// cites the AWS documentation or API model for what AWS does (which is what awssim does).
var motoDeviations = []deviation{
	{Name: "moto's cache subnet groups name no subnet's Availability Zone",
		Ops: []string{"elasticache.DescribeCacheSubnetGroups"},
		Match: `field CacheSubnetGroups\[\]\.Subnets\[\]\.SubnetAvailabilityZone\.Name: awssim string, moto absent` +
			`|^its subnets and zones: value: awssim "3 subnets in 3 AZs", moto "3 subnets in 1 AZs"`,
		Why: "Each subnet of a cache subnet group has SubnetAvailabilityZone, an AvailabilityZone whose Name is the zone " +
			"(" + cacheRef + "API_Subnet.html, " + cacheRef + "API_AvailabilityZone.html). moto 5.2 keeps the zone as a bare " +
			"string under subnet_availability_zone (moto/elasticache/models.py, CacheSubnetGroup), so its answer has the element " +
			"without a Name, and every subnet seems to be in one zone with no name."},
	{Name: "moto's KMS keys have no KeyUsage or MultiRegion unless CreateKey names them",
		Ops:   []string{"kms.DescribeKey"},
		Match: `field KeyMetadata\.(KeyUsage|MultiRegion): awssim (enum|bool), moto absent`,
		Why: "KeyUsage defaults to ENCRYPT_DECRYPT and MultiRegion to false when CreateKey leaves them out " +
			"(" + kmsRef + "API_CreateKey.html), and DescribeKey's KeyMetadata carries both (" + kmsRef + "API_KeyMetadata.html). " +
			"moto 5.2's create_key passes the two parameters through as given (moto/kms/responses.py), so a key created " +
			"without them answers null for each."},
	{Name: "moto has no lifecycle: every change is final at once",
		Ops: []string{"rds.RestoreDBInstanceFromDBSnapshot", "rds.RestoreDBInstanceToPointInTime", "rds.StopDBInstance", "rds.StartDBInstance",
			"rds.DeleteDBInstance", "elasticache.CreateReplicationGroup", "elasticache.DescribeReplicationGroups", "elasticache.ListTagsForResource",
			"route53.ChangeResourceRecordSets"},
		Match: `value: awssim "(creating|stopping|starting|PENDING)", moto "(available|stopped|INSYNC)"` +
			`|field DBInstance\.Endpoint: awssim absent, moto struct` +
			`|field ReplicationGroup\.NodeGroups\[\]\.(PrimaryEndpoint|NodeGroupMembers\[\]\.ReadEndpoint): awssim absent, moto struct` +
			`|^(the instance right after|again while deleting): (outcome|status): awssim (ok|InvalidDBInstanceState|200|400), moto (DBInstanceNotFound|404)`,
		Why: "AWS reports work in progress: a restore answers DBInstanceStatus creating, without an Endpoint (\"The endpoint might not be " +
			"shown for instances with a status of creating\", " + rdsRef + "API_DBInstance.html); StopDBInstance answers stopping and " +
			"StartDBInstance starting; a deleted instance stays deleting, and a second delete is InvalidDBInstanceState (400, API model); " +
			"CreateReplicationGroup answers creating with no endpoints yet (" + cacheRef + "API_CreateReplicationGroup.html); " +
			"ChangeResourceRecordSets answers PENDING until the change has reached every Route 53 server (" + r53Ref + "API_ChangeInfo.html). " +
			"moto makes each change final in the call that asks for it."},
	{Name: "moto deletes a DB instance when the final-snapshot parameters are wrong",
		Ops:   []string{"rds.DeleteDBInstance"},
		Match: `^diff-(third|fourth) with .*: (outcome|status): awssim (InvalidParameterCombination|400), moto (ok|200)`,
		Why: "DeleteDBInstance needs exactly one of FinalDBSnapshotIdentifier and SkipFinalSnapshot: \"If you don't enable this parameter, " +
			"you must specify the FinalDBSnapshotIdentifier parameter\" and \"Specifying this parameter and also skipping the creation of a final " +
			"DB snapshot with the SkipFinalSnapshot parameter results in an error\" (" + rdsRef + "API_DeleteDBInstance.html). moto deletes the " +
			"instance anyway, without a final snapshot."},
	{Name: "moto's RDS endpoints have no HostedZoneId",
		Ops:   fields(rdsAnswers),
		Match: `field DBInstances?(\[\])?\.Endpoint\.HostedZoneId: awssim string, moto absent`,
		Why:   "An RDS endpoint is Address, Port and HostedZoneId, \"the ID that Amazon Route 53 assigns when you create a hosted zone\" (" + rdsRef + "API_Endpoint.html); moto leaves HostedZoneId out.",
	},
	{Name: "moto calls a point-in-time restore a read replica",
		Ops:   []string{"rds.RestoreDBInstanceToPointInTime"},
		Match: `field DBInstance\.ReadReplicaSourceDBInstanceIdentifier: awssim absent, moto string`,
		Why: "ReadReplicaSourceDBInstanceIdentifier \"contains the identifier of the source DB instance if this DB instance is a read " +
			"replica\" (" + rdsRef + "API_DBInstance.html); an instance restored to a point in time is an independent instance, not a replica.",
	},
	{Name: "moto's DB snapshots lack fields RDS returns",
		Ops: []string{"rds.DescribeDBSnapshots", "rds.CreateDBSnapshot", "rds.CopyDBSnapshot", "rds.RestoreDBInstanceFromDBSnapshot",
			"rds.DeleteDBInstance", "rds.ListTagsForResource"},
		Match: `field DBSnapshots?(\[\])?\.(AvailabilityZone|PercentProgress|SnapshotDatabaseTime|StorageType|VpcId|SourceRegion|SourceDBSnapshotIdentifier): awssim \w+, moto absent`,
		Why: "A DB snapshot has AvailabilityZone, PercentProgress, SnapshotDatabaseTime, StorageType and VpcId, and a cross-Region copy " +
			"SourceRegion and SourceDBSnapshotIdentifier (\"The DB snapshot ARN that the DB snapshot was copied from. It only has a value in " +
			"the case of a cross-account or cross-Region copy\") (" + rdsRef + "API_DBSnapshot.html); moto omits them.",
	},
	{Name: "moto accepts any point-in-time restore time",
		Ops:   []string{"rds.RestoreDBInstanceToPointInTime"},
		Match: `^(RestoreTime and UseLatestRestorableTime|a RestoreTime a year ago): (outcome|status): awssim (InvalidParameterCombination|InvalidRestoreFault|400), moto (ok|200)`,
		Why: "RestoreTime \"Must be before the latest restorable time for the DB instance\" and \"Can't be specified if the " +
			"UseLatestRestorableTime parameter is enabled\" (" + rdsRef + "API_RestoreDBInstanceToPointInTime.html), and a time older than the " +
			"backup retention period is outside the restorable window (" + "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html" +
			"). moto restores whatever time it is given.",
	},
	{Name: "moto answers unknown RDS names with an empty list",
		Ops:   []string{"rds.DescribeDBParameterGroups", "rds.ListTagsForResource"},
		Match: `^(unknown name|an instance that does not exist): (outcome|status): awssim (DBParameterGroupNotFound|DBInstanceNotFound|404), moto (ok|200)`,
		Why: "DescribeDBParameterGroups with a DBParameterGroupName that does not exist is DBParameterGroupNotFound, and ListTagsForResource " +
			"on an instance ARN that does not exist is DBInstanceNotFound, both HTTP 404 (API model; " + rdsRef + "API_DescribeDBParameterGroups.html, " +
			rdsRef + "API_ListTagsForResource.html). moto returns an empty answer.",
	},
	{Name: "moto answers an unknown EC2 filter with an unreadable 500",
		Ops:   []string{"ec2.DescribeVpcs"},
		Match: `^unknown filter name: (outcome|status): awssim (InvalidParameterValue|400), moto (error: .*StatusCode: 500.*|500)$`,
		Why: "EC2 refuses a filter name it does not know with InvalidParameterValue, a client error (400) (" + ec2Ref + "errors-overview.html, " +
			"\"InvalidParameterValue: A value specified in a parameter is not valid\"); moto fails with HTTP 500 and a body that is not EC2's error XML.",
	},
	{Name: "moto's subnets lack MapCustomerOwnedIpOnLaunch and EnableDns64",
		Ops:   []string{"ec2.DescribeSubnets"},
		Match: `field Subnets\[\]\.(MapCustomerOwnedIpOnLaunch|EnableDns64): awssim bool, moto absent`,
		Why: "A subnet has mapCustomerOwnedIpOnLaunch and enableDns64 (" + ec2Ref + "API_Subnet.html), and EC2 returns both, false, for an " +
			"IPv4 subnet not on an Outpost, as in a DescribeSubnets answer recorded from AWS (cloud-custodian's " +
			"tests/data/placebo/test_sagemaker_cluster_subnet_filter/ec2.DescribeSubnets_1.json); moto leaves them out.",
	},
	{Name: "moto's default security group has no inbound rule",
		Ops:   []string{"ec2.DescribeSecurityGroups"},
		Match: `^by vpc-id: field SecurityGroups\[\]\.IpPermissions(\[\][\w.\[\]]*)?: awssim \w+(×1)?, moto absent`,
		Why: "A VPC's default security group has an inbound rule that \"Allows inbound traffic from network interfaces (and their associated " +
			"instances) that are assigned to the same security group\" (https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html; " +
			"\"A default security group includes a default rule that grants instances unrestricted network access to each other\", " +
			ec2Ref + "API_CreateSecurityGroup.html): protocol -1 from the group itself. moto creates the group with its outbound rule only.",
	},
	{Name: "moto's replication groups have one member whatever NumCacheClusters says",
		Ops: []string{"elasticache.CreateReplicationGroup", "elasticache.DescribeReplicationGroups", "elasticache.DeleteReplicationGroup",
			"elasticache.ListTagsForResource"},
		Match: `field ReplicationGroups?(\[\])?\.(MemberClusters\[\]|NodeGroups\[\]\.NodeGroupMembers\[\](\.\w+)*): awssim \w+×2, moto \w+×1`,
		Why: "NumCacheClusters is \"the number of clusters this replication group initially has\" (" + cacheRef + "API_CreateReplicationGroup.html), " +
			"and MemberClusters names \"all the cache clusters that are part of this replication group\" (" + cacheRef + "API_ReplicationGroup.html): " +
			"two for the runbook's --num-cache-clusters 2. moto makes one.",
	},
	{Name: "moto's node groups have no reader endpoint",
		Ops:   []string{"elasticache.DescribeReplicationGroups", "elasticache.DeleteReplicationGroup"},
		Match: `field ReplicationGroups?(\[\])?\.NodeGroups\[\]\.ReaderEndpoint: awssim struct, moto absent`,
		Why: "A node group of a group with cluster mode disabled has a ReaderEndpoint, \"the endpoint of the replica nodes in this node group\" (" +
			cacheRef + "API_NodeGroup.html); moto gives only the primary endpoint.",
	},
	{Name: "moto creates replication groups ElastiCache refuses",
		Ops:   []string{"elasticache.CreateReplicationGroup"},
		Match: `^(unknown cache subnet group|automatic failover with one node): (outcome|status): awssim (CacheSubnetGroupNotFoundFault|InvalidParameterCombination|400), moto (ok|200)`,
		Why: "A CacheSubnetGroupName that does not exist is CacheSubnetGroupNotFoundFault (400, API model), and \"If AutomaticFailoverEnabled is " +
			"true, the value of this parameter [NumCacheClusters] must be at least 2\" (" + cacheRef + "API_CreateReplicationGroup.html). moto creates the group.",
	},
	{Name: "moto never finishes deleting a replication group and deletes it again",
		Ops:   []string{"elasticache.DeleteReplicationGroup"},
		Match: `^(again while deleting|the group an hour later): (outcome|status): awssim (InvalidReplicationGroupState|ReplicationGroupNotFoundFault|400|404), moto (ok|200)`,
		Why: "A group being deleted is in state deleting, and DeleteReplicationGroup on it is InvalidReplicationGroupState (400, API model; " +
			cacheRef + "API_DeleteReplicationGroup.html); once deleted, DescribeReplicationGroups names it ReplicationGroupNotFoundFault (404). moto " +
			"accepts the second delete and keeps the group in deleting for ever.",
	},
	{Name: "moto lists tags of replication groups that do not exist",
		Ops:   []string{"elasticache.ListTagsForResource"},
		Match: `^a group that does not exist: (outcome|status): awssim (ReplicationGroupNotFoundFault|404), moto (ok|200)`,
		Why:   "ListTagsForResource on the ARN of a replication group that does not exist is ReplicationGroupNotFoundFault, HTTP 404 (API model; " + cacheRef + "API_ListTagsForResource.html); moto returns an empty list.",
	},
	{Name: "moto answers Secrets Manager's ResourceNotFoundException with 404",
		Ops: []string{"secretsmanager.GetSecretValue", "secretsmanager.PutSecretValue", "secretsmanager.UpdateSecret", "secretsmanager.DescribeSecret",
			"secretsmanager.UpdateSecretVersionStage"},
		Match: `: status: awssim 400, moto 404$`,
		Why: "Secrets Manager sends every client error, ResourceNotFoundException included, with HTTP 400 (" + smRef + "CommonErrors.html and each " +
			"operation's Errors section, e.g. " + smRef + "API_GetSecretValue.html); moto uses 404.",
	},
	{Name: "moto's GetSecretValue does not follow a moved AWSCURRENT",
		Ops:   []string{"secretsmanager.UpdateSecretVersionStage"},
		Match: `^current value: value: awssim .*, moto `,
		Why: "After UpdateSecretVersionStage moves AWSCURRENT to a version (MoveToVersionId, " + smRef + "API_UpdateSecretVersionStage.html), " +
			"GetSecretValue without VersionId or VersionStage returns that version (\"Secrets Manager defaults to AWSCURRENT\", " + smRef +
			"API_GetSecretValue.html). moto keeps returning the version that held AWSCURRENT before.",
	},
	{Name: "moto registers a task definition without containers",
		Ops:   []string{"ecs.RegisterTaskDefinition"},
		Match: `^no containers: (outcome|status): awssim (ClientException|400), moto (ok|200)`,
		Why: "containerDefinitions is required (" + ecsRef + "API_RegisterTaskDefinition.html), and ECS refuses an empty list with ClientException " +
			"(\"Container list cannot be empty\"); moto registers a revision with no containers.",
	},
	{Name: "moto's ECS answers lack their timestamps",
		Ops:   []string{"ecs.RegisterTaskDefinition", "ecs.DescribeTaskDefinition", "ecs.DeregisterTaskDefinition", "ecs.UpdateService", "ecs.DescribeServices", "ecs.ListTagsForResource"},
		Match: `field (TaskDefinition\.(RegisteredAt|DeregisteredAt)|Services?(\[\])?\.CreatedAt): awssim timestamp, moto absent`,
		Why: "A task definition has registeredAt, and deregisteredAt once INACTIVE (" + ecsRef + "API_TaskDefinition.html); a service has createdAt (" +
			ecsRef + "API_Service.html). moto leaves them out.",
	},
	{Name: "moto leaves out the default assignPublicIp of a service's network",
		Ops:   []string{"ecs.UpdateService", "ecs.DescribeServices", "ecs.ListTagsForResource"},
		Match: `field Services?(\[\])?\.(Deployments\[\]\.)?NetworkConfiguration\.AwsvpcConfiguration\.AssignPublicIp: awssim enum, moto absent`,
		Why: "assignPublicIp: \"When you use create-service or update-service, the default is DISABLED\", and it must be DISABLED with the ECS " +
			"deployment controller (" + ecsRef + "API_AwsVpcConfiguration.html; botocore model ecs/2014-11-13, AwsVpcConfiguration); the setup " +
			"creates the service without it, and moto keeps the network configuration exactly as sent.",
	},
	{Name: "moto fails the runbook's :latest task definition with a 500",
		Ops:   []string{"ecs.UpdateService"},
		Match: `^the runbook's :latest task definition \(step 7\): (outcome|status): awssim (InvalidParameterException|ClientException|400), moto (error: .*StatusCode: 500.*|500)$`,
		Why: "taskDefinition is \"family:revision\" or a full ARN (" + ecsRef + "API_UpdateService.html); \"latest\" is no revision, which ECS refuses " +
			"as a client error (4xx). moto fails with HTTP 500 and an HTML body.",
	},
	{Name: "moto returns cluster settings nobody asked for",
		Ops:   []string{"ecs.DescribeClusters", "ecs.ListTagsForResource"},
		Match: `field Clusters\[\]\.Settings: awssim absent, moto list`,
		Why: "DescribeClusters includes settings only when asked: \"If SETTINGS is specified, the settings for the cluster are included\"; " +
			"\"If this field is omitted, this information isn't included\" (" + ecsRef + "API_DescribeClusters.html). moto always includes them.",
	},
	{Name: "moto describes the tags of load balancers and target groups that do not exist",
		Ops:   []string{"elasticloadbalancingv2.DescribeTags"},
		Match: `^a (load balancer|target group) that does not exist: (outcome|status): awssim (LoadBalancerNotFound|TargetGroupNotFound|400), moto (ok|200)$`,
		Why: "DescribeTags on the ARN of a load balancer or target group that does not exist is LoadBalancerNotFound or TargetGroupNotFound, " +
			"HTTP 400 (API model; " + elbRef + "API_DescribeTags.html, Errors); moto answers with no tags.",
	},
	{Name: "moto's IP targets have no Availability Zone",
		Ops:   []string{"elasticloadbalancingv2.DescribeTargetHealth"},
		Match: `field TargetHealthDescriptions\[\]\.Target\.AvailabilityZone: awssim string, moto absent`,
		Why: "For a target of type ip in the target group's VPC, \"the Availability Zone is automatically detected\" and reported with the target (" +
			elbRef + "API_TargetDescription.html); moto leaves it out.",
	},
	{Name: "moto gives alias records a TTL",
		Ops:   []string{"route53.ListResourceRecordSets"},
		Match: `field ResourceRecordSets\[\]\.TTL: awssim (absent|int×\d+), moto int(×\d+)?$`,
		Why: "An alias record has no TTL of its own: \"If you're creating or updating an alias resource record set, omit TTL. Amazon Route 53 uses " +
			"the value of TTL for the alias target\" (" + r53Ref + "API_ResourceRecordSet.html). moto lists the API name's alias with a TTL.",
	},
	{Name: "moto's Route 53 accepts changes Route 53 refuses",
		Ops: []string{"route53.ChangeResourceRecordSets"},
		Match: `^(delete a record that does not exist: outcome: awssim InvalidChangeBatch, moto InvalidInput` +
			`|alias to an ALB that does not exist: (outcome|status): awssim (InvalidChangeBatch|400), moto (ok|200))`,
		Why: "Deleting a record set that does not exist, and an alias whose target does not exist, are InvalidChangeBatch (\"Tried to delete " +
			"resource record set ... but it was not found\"; \"Tried to create an alias that targets ..., but the alias target name does not lie " +
			"within the target zone\") (" + r53Ref + "API_ChangeResourceRecordSets.html, InvalidChangeBatch). moto answers InvalidInput for the " +
			"first and accepts the second.",
	},
	{Name: "moto's GetChange answers any change id",
		Ops:   []string{"route53.GetChange"},
		Match: `^unknown change: (outcome|status): awssim (NoSuchChange|404), moto (ok|200)`,
		Why:   "GetChange for an id Route 53 never issued is NoSuchChange, HTTP 404 (API model; " + r53Ref + "API_GetChange.html); moto invents an INSYNC change.",
	},
	{Name: "moto's ListHostedZones ignores HostedZoneType",
		Ops:   []string{"route53.ListHostedZones"},
		Match: `^private zones: field HostedZones\[\](\.\w+)?: awssim \w+×1, moto \w+×2$`,
		Why: "HostedZoneType=PrivateHostedZone lists private hosted zones only (" + r53Ref + "API_ListHostedZones.html: \"(Optional) Specifies if " +
			"the hosted zone is private\"); moto lists the public zone too.",
	},
	{Name: "moto's ListHostedZonesByName neither orders nor pages as Route 53 does",
		Ops: []string{"route53.ListHostedZonesByName"},
		Match: `^(all|from the public zone's name|from a name after every zone): field (MaxItems|NextDNSName|NextHostedZoneId): awssim \w+, moto absent$` +
			`|^from a name after every zone: field HostedZones: awssim list, moto absent$`,
		Why: "ListHostedZonesByName always answers MaxItems, gives NextDNSName and NextHostedZoneId when IsTruncated, and lists zones \"sorted by " +
			"name with the labels reversed. For example: com.example.www.\" from DNSName on (" + r53Ref + "API_ListHostedZonesByName.html): " +
			"after zzz.example. (example.zzz) comes kaigo-subsys.internal. (internal.kaigo-subsys). moto leaves MaxItems out, does not page, and " +
			"compares names as written.",
	},
	{Name: "moto gives a hosted zone's own delegation set a CallerReference",
		Ops:   []string{"route53.GetHostedZone"},
		Match: `field DelegationSet\.CallerReference: awssim absent, moto string$`,
		Why: "DelegationSet.CallerReference is \"the value that you specified for CallerReference when you created the reusable delegation set\" (" +
			r53Ref + "API_DelegationSet.html); a zone created without a reusable delegation set has none.",
	},
	{Name: "moto invents StateReasonData for a new alarm",
		Ops:   []string{"cloudwatch.PutMetricAlarm", "cloudwatch.DescribeAlarms"},
		Match: `field MetricAlarms\[\]\.StateReasonData: awssim absent, moto value`,
		Why: "StateReasonData is \"an explanation for the alarm state, in JSON format\" written when the alarm is evaluated (" + cwRef +
			"API_MetricAlarm.html); an alarm just created is \"Unchecked: Initial alarm creation\" with no reason data. moto fills in \"{}\".",
	},
	{Name: "moto's PutMetricAlarm skips validation",
		Ops:   []string{"cloudwatch.PutMetricAlarm"},
		Match: `^(an unknown comparison operator|no EvaluationPeriods) \((awsQuery|awsJson1_0)\): (outcome|status): awssim (ValidationError|MissingParameter|400), moto (ok|200)`,
		Why: "ComparisonOperator must be one of the documented values and EvaluationPeriods is required (" + cwRef + "API_PutMetricAlarm.html); " +
			"CloudWatch refuses the request with a 400 (ValidationError, MissingParameter: " + cwRef + "CommonErrors.html). moto stores the alarm.",
	},
	{Name: "moto finds another region's or account's topic, and fails on a TopicArn that is no ARN",
		Ops: []string{"sns.GetTopicAttributes", "sns.Publish"},
		Match: `^(to )?another region's topic: (outcome|status): awssim (InvalidParameter|400), moto (NotFound|404)$` +
			`|^another account's topic: (outcome|status): awssim (AuthorizationError|403), moto (NotFound|404)$` +
			`|^a TopicArn that is no ARN: (outcome|status): awssim (InvalidParameter|400), moto (error: .*StatusCode: 500.*|500)$`,
		Why: "SNS answers for the region of its endpoint only: another region's topic ARN is InvalidParameter \"Invalid parameter: TopicArn\" " +
			"(400, API model), as callers in the wrong region see it (mozilla/security#8, boto/boto3#1084), and so is a value that is no ARN. A topic " +
			"of another account is AuthorizationError (403, API model), since the default topic policy allows only the owner's account " +
			"(AWS:SourceOwner, " + snsRef + "API_GetTopicAttributes.html's Policy attribute). moto 5.2 looks the topic up in the caller's region " +
			"under the ARN's account with no access check (moto/sns/models.py, get_topic; getmoto/moto#6330: \"IAM enforcement is left out of " +
			"scope\"), so both are NotFound there, and splitting a value that is no ARN fails with HTTP 500.",
	},
	{Name: "moto's EffectiveDeliveryPolicy has no http level",
		Ops:   []string{"sns.GetTopicAttributes"},
		Match: `^its effective HTTP retry policy: value: awssim "3 retries", moto "no http policy"$`,
		Why: "A new topic's EffectiveDeliveryPolicy is the default HTTP/S delivery policy, {\"http\":{\"defaultHealthyRetryPolicy\":{...\"numRetries\":3...}, " +
			"\"disableSubscriptionOverrides\":false}} (the AWS CLI reference's sns get-topic-attributes example; " +
			"https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html). moto 5.2 answers the retry policy without the http key " +
			"(moto/sns/models.py, DEFAULT_EFFECTIVE_DELIVERY_POLICY).",
	},
	{Name: "moto's vaults have no VaultType and no key unless CreateBackupVault names one",
		Ops:   []string{"backup.ListBackupVaults"},
		Match: `field BackupVaultList\[\]\.(VaultType|EncryptionKeyArn): awssim (enum|string), moto absent$`,
		Why: "A vault CreateBackupVault makes is a BACKUP_VAULT (VaultType, " + backupRef + "API_BackupVaultListMember.html), and one created without " +
			"EncryptionKeyArn is encrypted all the same: \"If you do not specify a key, Backup creates a KMS key for you by default\" (ibid.), the AWS " +
			"managed alias/aws/backup. moto 5.2's Vault.to_list_dict has no VaultType and keeps the key it was given, none (moto/backup/models.py).",
	},
	{Name: "moto's ListBackupVaults neither pages nor checks its paging parameters",
		Ops:   []string{"backup.ListBackupVaults"},
		Match: `^(maxResults 1001|a nextToken Backup never issued): (outcome|status): awssim (InvalidParameterValueException|400), moto (ok|200)$`,
		Why: "MaxResults is 1 to 1000 (" + backupRef + "API_ListBackupVaults.html, \"Valid Range: Minimum value of 1. Maximum value of 1000\") " +
			"and NextToken is one Backup issued; ListBackupVaults' client errors are InvalidParameterValueException (400, API model). " +
			"moto 5.2 ignores both (moto/backup/models.py, list_backup_vaults: \"Pagination is not yet implemented\").",
	},
	{Name: "moto drops SourceSelectionCriteria from a replication rule",
		Ops:   []string{"s3.GetBucketReplication"},
		Match: `field ReplicationConfiguration\.Rules\[\]\.SourceSelectionCriteria: awssim struct, moto absent`,
		Why: "GetBucketReplication returns the rule as PutBucketReplication set it, SourceSelectionCriteria included (" + s3Ref +
			"API_ReplicationRule.html); moto forgets it, although the setup sent it.",
	},
}

// awssimPending are awssim bugs this suite found and that are not fixed yet: moto (or the
// AWS documentation, for the awssim-only checks) is right, as cited. Each one FAILS
// TestMotoDifferential, named, until awssim is fixed and the entry removed.
var awssimPending = []deviation{}

// fields splits a space-separated list of operations.
func fields(s string) []string { return strings.Fields(s) }
