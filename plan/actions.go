package plan

// Where says which part of kirikae executes an action.
type Where string

const (
	// OnAgent actions run on the agent of the step's region, through the AWS SDK or HTTP.
	OnAgent Where = "agent"
	// OnControlPlane actions run inside the orchestrator on the leader: they wait for
	// people (approval, checklist), for time (wait), or move the active region.
	OnControlPlane Where = "control-plane"
)

// ActionRestoreSnapshot restores RDS from a snapshot. Its outputs snapshotId,
// snapshotTime and snapshotAgeSeconds say which data the restore holds; a refusal of a
// snapshot as too old carries them too (runs.DataLossOf reads them).
const ActionRestoreSnapshot = "aws.rds.restoreSnapshot"

// Input describes one key of a step's `with`.
type Input struct {
	Name     string
	Type     string // string, int, bool, duration, time, list, map
	Required bool
	Doc      string
}

// Action is one entry of the catalog: what a step's `action` may name. The executors in
// agent/aws and the orchestrator implement exactly these; plan validation checks `with`
// against Inputs and `${steps.ID.outputs.NAME}` references against Outputs.
type Action struct {
	Name    string
	Where   Where
	Doc     string
	Inputs  []Input
	Outputs []string
	// IAM lists the IAM actions the action needs, as "service:Operation": every AWS API
	// operation its executor calls (a test holds it to that), and the permissions a call
	// needs beyond its own, such as iam:PassRole for a restore's role.
	IAM []string
	// Resource names what the action removes or reverts when it is run as an undo step (a
	// teardown runs undo steps): the control plane records which run owns that resource
	// and lets a teardown touch it only while the run it undoes still owns it.
	Resource *ResourceRef
}

// ResourceRef says how to name the resource an undo action touches: a kind, and the
// inputs whose values, joined with "/", are its id within the step's region.
type ResourceRef struct {
	Kind   string
	Inputs []string
}

func res(kind string, inputs ...string) *ResourceRef { return &ResourceRef{Kind: kind, Inputs: inputs} }

// Catalog lists every action kirikae knows, by name.
var Catalog = map[string]Action{}

func def(a Action) { Catalog[a.Name] = a }

func in(name, typ, doc string) Input  { return Input{Name: name, Type: typ, Doc: doc} }
func req(name, typ, doc string) Input { return Input{Name: name, Type: typ, Required: true, Doc: doc} }

func init() {
	def(Action{Name: "aws.health.events", Where: OnAgent,
		IAM: []string{"health:DescribeEvents"},
		Doc: "Open AWS Health events for a region (Health is global: run it on the surviving region's agent).",
		Inputs: []Input{
			req("region", "string", "the region whose events to list, e.g. the failed region"),
			in("eventTypeCategories", "list", "e.g. [issue]; default [issue]"),
			in("services", "list", "AWS service names to keep, e.g. [EC2, RDS]; default all"),
			in("failIfOpen", "bool", "fail the step while any matching event is open (cutback: confirm the region has recovered); default false"),
		},
		Outputs: []string{"openEvents", "eventArns", "summary"}})
	def(Action{Name: "aws.ec2.verifyNetwork", Where: OnAgent,
		IAM: []string{"ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeRouteTables"},
		Doc: "Check that the VPC (by Name tag), its subnets, security groups and route tables exist.",
		Inputs: []Input{
			req("vpcName", "string", "the VPC's Name tag, e.g. kaigo-subsys-dr-vpc"),
			in("minSubnets", "int", "subnets required in the VPC; default 2"),
			in("securityGroups", "list", "security group names (group-name) that must exist in the VPC"),
			in("minRouteTables", "int", "route tables required; default 1"),
		},
		Outputs: []string{"vpcId", "subnetIds", "securityGroupIds", "routeTableIds"}})
	def(Action{Name: ActionRestoreSnapshot, Where: OnAgent,
		IAM: []string{"rds:DescribeDBInstances", "rds:DescribeDBSnapshots", "rds:RestoreDBInstanceFromDBSnapshot", "rds:AddTagsToResource", "kms:CreateGrant", "kms:DescribeKey"},
		Doc: "Restore a DB instance from the newest available snapshot of sourceInstance (or a named one), reporting its age against maxAge; adopts an instance that already exists.",
		Inputs: []Input{
			req("instanceId", "string", "the instance to create, e.g. kaigo-subsys-dr"),
			in("sourceInstance", "string", "use the newest available snapshot of this instance (manual or copied)"),
			in("snapshotId", "string", "restore this snapshot instead of the newest"),
			in("instanceClass", "string", "e.g. db.r6g.large"),
			in("subnetGroup", "string", "DB subnet group name"),
			in("securityGroups", "list", "VPC security group ids"),
			in("multiAz", "bool", "default true"),
			in("publiclyAccessible", "bool", "default false"),
			in("maxAge", "duration", "refuse a snapshot older than this (the RPO) unless allowDataLoss"),
			in("allowDataLoss", "bool", "restore even when the snapshot is older than maxAge; default false"),
		},
		Outputs: []string{"endpoint", "port", "snapshotId", "snapshotTime", "snapshotAgeSeconds", "dataLossWindow"}})
	def(Action{Name: "aws.rds.restorePointInTime", Where: OnAgent,
		IAM: []string{"rds:DescribeDBInstances", "rds:RestoreDBInstanceToPointInTime", "rds:AddTagsToResource", "kms:CreateGrant", "kms:DescribeKey"},
		Doc: "Restore sourceInstance to a point in time (or the latest restorable time) as a new instance.",
		Inputs: []Input{
			req("sourceInstance", "string", "the instance to restore from"),
			req("instanceId", "string", "the instance to create"),
			in("restoreTime", "time", "RFC 3339; default the latest restorable time"),
			in("instanceClass", "string", ""),
			in("subnetGroup", "string", ""),
			in("securityGroups", "list", ""),
			in("multiAz", "bool", "default true"),
		},
		Outputs: []string{"endpoint", "port", "restoreTime"}})
	def(Action{Name: "aws.rds.snapshot", Where: OnAgent,
		IAM: []string{"rds:DescribeDBSnapshots", "rds:CreateDBSnapshot"},
		Doc: "Take a manual snapshot and wait until it is available; adopts an existing one of that id.",
		Inputs: []Input{
			req("instanceId", "string", ""),
			req("snapshotId", "string", "e.g. kaigo-subsys-dr-before-cutback-${run.startedCompact}"),
		},
		Outputs: []string{"snapshotId", "snapshotArn"}})
	def(Action{Name: "aws.rds.copySnapshot", Where: OnAgent,
		IAM: []string{"rds:DescribeDBSnapshots", "rds:CopyDBSnapshot", "kms:CreateGrant", "kms:DescribeKey"},
		Doc: "Copy a snapshot into the step's region (cross-region), encrypted with kmsKeyId, and wait until it is available.",
		Inputs: []Input{
			req("sourceSnapshotArn", "string", "ARN of the snapshot in the source region"),
			req("sourceRegion", "string", ""),
			req("targetSnapshotId", "string", ""),
			in("kmsKeyId", "string", "KMS key in the target region"),
		},
		Outputs: []string{"snapshotId", "snapshotArn"}})
	def(Action{Name: "aws.rds.delete", Where: OnAgent,
		IAM: []string{"rds:DescribeDBInstances", "rds:DescribeDBSnapshots", "rds:CreateDBSnapshot", "rds:DeleteDBInstance"},
		Doc: "Delete a DB instance, guarded: needs a final snapshot id, and refuses unless verifiedCopy is an available snapshot.",
		Inputs: []Input{
			req("instanceId", "string", ""),
			req("finalSnapshotId", "string", "a final snapshot is always taken"),
			req("verifiedCopy", "string", "a snapshot id (in this region) that must be available before the delete"),
		},
		Outputs: []string{"finalSnapshotId"}})
	def(Action{Name: "aws.rds.stop", Where: OnAgent,
		IAM:    []string{"rds:DescribeDBInstances", "rds:StopDBInstance"},
		Doc:    "Stop a DB instance and wait until it is stopped.",
		Inputs: []Input{req("instanceId", "string", "")}, Outputs: []string{"status"}})
	def(Action{Name: "aws.rds.deleteRestored", Where: OnAgent,
		IAM: []string{"rds:DescribeDBInstances", "rds:DescribeDBSnapshots", "rds:CreateDBSnapshot", "rds:DeleteDBInstance"},
		Doc: "Undo of a drill's restore: delete the DB instance the drill restored and wait until it is gone; succeeds if it is already gone. Guard rails: refuses unless the instance's creation time is createTime, so it never deletes an instance that was there before or was recreated since; and deletes only with a verified snapshot of the data: the available sourceSnapshotId it was restored from, or else a final snapshot.",
		Inputs: []Input{
			req("instanceId", "string", "the restored instance, e.g. kaigo-subsys-dr"),
			req("createTime", "time", "RFC 3339: the InstanceCreateTime the restore reported"),
			in("sourceSnapshotId", "string", "the snapshot the instance was restored from; it must be available, and then no final snapshot is taken"),
		},
		Outputs: []string{"deleted"}, Resource: res("rds-db-instance", "instanceId")})
	def(Action{Name: "aws.elasticache.createReplicationGroup", Where: OnAgent,
		IAM: []string{"elasticache:DescribeReplicationGroups", "elasticache:ListTagsForResource", "elasticache:CreateReplicationGroup", "elasticache:AddTagsToResource"},
		Doc: "Create a Redis replication group (new and empty) and wait until it is available; adopts an existing one.",
		Inputs: []Input{
			req("replicationGroupId", "string", ""),
			in("description", "string", ""),
			in("nodeType", "string", "e.g. cache.r6g.large"),
			in("numCacheClusters", "int", "default 2"),
			in("engineVersion", "string", "e.g. 7.0"),
			in("automaticFailover", "bool", "default true"),
			in("subnetGroup", "string", ""),
			in("securityGroups", "list", ""),
		},
		Outputs: []string{"primaryEndpoint", "port"}})
	def(Action{Name: "aws.elasticache.deleteReplicationGroup", Where: OnAgent,
		IAM:    []string{"elasticache:DescribeReplicationGroups", "elasticache:DeleteReplicationGroup"},
		Doc:    "Delete a replication group and wait until it is gone; succeeds if it is already gone.",
		Inputs: []Input{req("replicationGroupId", "string", "")}, Outputs: []string{"deleted"}, Resource: res("elasticache-replication-group", "replicationGroupId")})
	def(Action{Name: "aws.backup.restoreLatest", Where: OnAgent,
		IAM: []string{"backup:ListRecoveryPointsByBackupVault", "backup:StartRestoreJob", "backup:DescribeRestoreJob", "iam:PassRole"},
		Doc: "Restore the newest completed recovery point of resourceType in a backup vault and wait for the restore job.",
		Inputs: []Input{
			req("vault", "string", "e.g. kaigo-subsys-dr-backup-vault"),
			in("resourceType", "string", "default EFS"),
			req("iamRoleArn", "string", ""),
			in("metadata", "map", "restore metadata, e.g. PerformanceMode, Encrypted"),
			in("maxAge", "duration", "report (not refuse) a recovery point older than this"),
		},
		Outputs: []string{"restoreJobId", "recoveryPointArn", "fileSystemId", "recoveryPointAgeSeconds"}})
	def(Action{Name: "aws.backup.deleteRestored", Where: OnAgent,
		IAM:    []string{"backup:DescribeRestoreJob", "elasticfilesystem:DescribeFileSystems", "elasticfilesystem:DeleteFileSystem"},
		Doc:    "Undo of aws.backup.restoreLatest: wait until the restore job has ended (AWS Backup cannot stop one), then delete the EFS file system it created; nothing if it created none.",
		Inputs: []Input{req("restoreJobId", "string", "the job aws.backup.restoreLatest started")}, Outputs: []string{"deleted", "fileSystemId"},
		Resource: res("backup-restore-job", "restoreJobId")})
	def(Action{Name: "aws.efs.deleteFileSystem", Where: OnAgent,
		IAM:    []string{"elasticfilesystem:DescribeFileSystems", "elasticfilesystem:DeleteFileSystem"},
		Doc:    "Undo of an EFS restore: delete a file system and wait until it is gone; succeeds if it is already gone.",
		Inputs: []Input{req("fileSystemId", "string", "e.g. fs-0123456789abcdef0")}, Outputs: []string{"deleted"}, Resource: res("efs-file-system", "fileSystemId")})
	def(Action{Name: "aws.secretsmanager.put", Where: OnAgent,
		IAM: []string{"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"},
		Doc: "Write a secret value; skips the write when the current value is already equal.",
		Inputs: []Input{
			req("secretId", "string", ""),
			in("value", "string", "the secret string"),
			in("json", "map", "or a map, written as a JSON object"),
		},
		Outputs: []string{"versionId"}})
	def(Action{Name: "aws.secretsmanager.restoreVersion", Where: OnAgent,
		IAM: []string{"secretsmanager:GetSecretValue", "secretsmanager:UpdateSecretVersionStage"},
		Doc: "Undo of a secret write: make versionId AWSCURRENT again (UpdateSecretVersionStage); a no-op when it already is.",
		Inputs: []Input{
			req("secretId", "string", ""),
			req("versionId", "string", "the version that was AWSCURRENT before the write"),
		},
		Outputs: []string{"versionId"}, Resource: res("secretsmanager-secret", "secretId")})
	def(Action{Name: "aws.ecs.registerTaskDefinition", Where: OnAgent,
		IAM: []string{"ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition", "iam:PassRole"},
		Doc: "Register a task definition; adopts the latest revision of the family when it is identical.",
		Inputs: []Input{
			req("family", "string", ""),
			req("image", "string", ""),
			in("cpu", "string", "default 512"),
			in("memory", "string", "default 1024"),
			in("containerPort", "int", "default 8080"),
			in("environment", "map", "container environment"),
			in("secrets", "map", "name -> secret ARN or id"),
			in("executionRoleArn", "string", ""),
		},
		Outputs: []string{"taskDefinitionArn", "revision"}})
	def(Action{Name: "aws.ecs.deregisterTaskDefinition", Where: OnAgent,
		IAM:    []string{"ecs:DescribeTaskDefinition", "ecs:DeregisterTaskDefinition"},
		Doc:    "Undo of a registration: deregister a task definition revision; a no-op when it is already INACTIVE.",
		Inputs: []Input{req("taskDefinition", "string", "the revision's ARN")}, Outputs: []string{"taskDefinitionArn", "status"},
		Resource: res("ecs-task-definition", "taskDefinition")})
	def(Action{Name: "aws.ecs.updateService", Where: OnAgent,
		IAM: []string{"ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:UpdateService"},
		Doc: "Set a service's desired count (and task definition) and wait until it is stable.",
		Inputs: []Input{
			req("cluster", "string", ""),
			req("service", "string", ""),
			req("desiredCount", "int", ""),
			in("taskDefinition", "string", "ARN or family:revision"),
			in("wait", "bool", "wait for services-stable; default true"),
			in("forceNewDeployment", "bool", "replace the running tasks even when nothing else changes, so they read new secrets; default false"),
		},
		Outputs: []string{"runningCount", "taskDefinition"}, Resource: res("ecs-service", "cluster", "service")})
	def(Action{Name: "aws.elbv2.waitHealthy", Where: OnAgent,
		IAM: []string{"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"},
		Doc: "Wait until a target group has at least count healthy targets.",
		Inputs: []Input{
			in("targetGroupArn", "string", ""),
			in("targetGroupName", "string", "looked up when no ARN is given"),
			in("count", "int", "default 2"),
		},
		Outputs: []string{"healthy", "targetGroupArn", "loadBalancerDnsName"}})
	def(Action{Name: "aws.route53.upsertAlias", Where: OnAgent,
		IAM: []string{"route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets", "route53:GetChange", "route53:TestDNSAnswer"},
		Doc: "UPSERT an alias record, wait until the change is INSYNC, then verify the answer with TestDNSAnswer.",
		Inputs: []Input{
			req("hostedZoneId", "string", ""),
			req("recordName", "string", "e.g. api.kaigo-subsys.example.com"),
			in("recordType", "string", "default A"),
			req("targetDnsName", "string", "the ALB's DNS name"),
			req("targetHostedZoneId", "string", "the ALB's canonical hosted zone id"),
			in("evaluateTargetHealth", "bool", "default true"),
		},
		Outputs: []string{"changeId", "answer"}})
	def(Action{Name: "aws.cloudwatch.putAlarm", Where: OnAgent,
		IAM: []string{"cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"},
		Doc: "Put a metric alarm (idempotent by name).",
		Inputs: []Input{
			req("alarmName", "string", ""),
			in("description", "string", ""),
			req("metricName", "string", ""),
			req("namespace", "string", ""),
			in("statistic", "string", "default Average"),
			in("period", "int", "seconds; default 300"),
			in("evaluationPeriods", "int", "default 2"),
			req("threshold", "string", "a number"),
			in("comparison", "string", "default GreaterThanThreshold"),
			in("dimensions", "map", ""),
			in("alarmActions", "list", ""),
		},
		Outputs: []string{"alarmArn"}})
	def(Action{Name: "aws.cloudwatch.deleteAlarm", Where: OnAgent,
		IAM:    []string{"cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"},
		Doc:    "Undo of a new alarm: delete a metric alarm; succeeds if it is already gone.",
		Inputs: []Input{req("alarmName", "string", "")}, Outputs: []string{"deleted"}, Resource: res("cloudwatch-alarm", "alarmName")})
	def(Action{Name: "aws.sns.publish", Where: OnAgent,
		IAM:     []string{"sns:Publish"},
		Doc:     "Publish a message to an SNS topic.",
		Inputs:  []Input{req("topicArn", "string", ""), in("subject", "string", ""), req("message", "string", "")},
		Outputs: []string{"messageId"}})
	def(Action{Name: "http.check", Where: OnAgent,
		Doc: "Send N requests and check status, body, latency and error rate (the seed: < 3 s, < 1 % errors). " +
			"The output body is the last good response's body: a JSON object as a map (read a field with ${steps.ID.outputs.body.KEY}), anything else as a string.",
		Inputs: []Input{
			req("url", "string", ""),
			in("method", "string", "default GET"),
			in("body", "string", "request body"),
			in("headers", "map", "request headers, e.g. {Authorization: \"Bearer ${steps.login.outputs.body.token}\"}"),
			in("expectStatus", "int", "default 200"),
			in("expectBody", "string", "substring the body must contain"),
			in("requests", "int", "default 20"),
			in("maxLatency", "duration", "default 3s"),
			in("maxErrorRate", "string", "a fraction; default 0.01"),
		},
		Outputs: []string{"requests", "errors", "errorRate", "p50Ms", "p99Ms", "body"}})
	def(Action{Name: "notify", Where: OnAgent,
		IAM: []string{"sns:Publish"},
		Doc: "Post a JSON message to a webhook (Slack-compatible {\"text\": ...}) or publish to an SNS topic.",
		Inputs: []Input{
			in("webhook", "string", "URL; an empty value means none, so a plan can default it to empty and publish to topicArn"),
			in("topicArn", "string", "SNS topic"),
			req("message", "string", ""),
			in("audience", "list", "who is told, for the report, e.g. [development, operations, executives, users]"),
		},
		Outputs: []string{"delivered"}})
	def(Action{Name: "wait", Where: OnControlPlane,
		Doc: "Wait a fixed time.", Inputs: []Input{req("duration", "duration", "")}})
	def(Action{Name: "approval", Where: OnControlPlane,
		Doc: "Wait for approvals by distinct people holding the named roles.",
		Inputs: []Input{
			req("roles", "list", "each role must be approved by someone holding it, e.g. [sysadmin, manager]"),
			in("count", "int", "distinct approvers required in all; default len(roles)"),
		},
		Outputs: []string{"approvers"}})
	def(Action{Name: "checklist", Where: OnControlPlane,
		Doc: "Wait until operators holding one of the roles confirm every item.",
		Inputs: []Input{
			req("items", "list", ""),
			in("roles", "list", "roles that may confirm, any one of them; default the step's owner when it names a role, else operator"),
		},
		Outputs: []string{"confirmedBy"}})
	def(Action{Name: "region.activate", Where: OnControlPlane,
		Doc: "Move the active region and grow the epoch by one; the moment traffic moves.",
		Inputs: []Input{
			req("region", "string", "primary, secondary, or a region name in the pair"),
		},
		Outputs: []string{"epoch", "active"}})
}
