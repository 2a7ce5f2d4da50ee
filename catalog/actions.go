package catalog

import (
	"fmt"
	"strconv"
	"time"
)

// The catalog. Each action is one Define, with its inputs and outputs as struct types; the
// names of the actions the rest of the code refers to are the definitions' Name.

// HealthEventsIn are the inputs of aws.health.events.
type HealthEventsIn struct {
	Region              string   `json:"region" kirikae:"required" doc:"the region whose events to list, e.g. the failed region"`
	EventTypeCategories []string `json:"eventTypeCategories,omitempty" doc:"e.g. [issue]; default [issue]"`
	Services            []string `json:"services,omitempty" doc:"AWS service names to keep, e.g. [EC2, RDS]; default all"`
	FailIfOpen          bool     `json:"failIfOpen,omitempty" doc:"fail the step while any matching event is open (cutback: confirm the region has recovered); default false"`
}

// HealthEventsOut are its outputs.
type HealthEventsOut struct {
	OpenEvents int64    `json:"openEvents" doc:"how many open events match"`
	EventArns  []string `json:"eventArns" doc:"the ARNs of the open events that match"`
	Summary    string   `json:"summary" doc:"one line naming each open event (service, event type, start), or saying there are none"`
}

// HealthEvents lists open AWS Health events.
var HealthEvents = Define(Def[HealthEventsIn, HealthEventsOut]{Name: "aws.health.events", Idempotency: "it only reads", Where: OnAgent,
	IAM: []string{"health:DescribeEvents"},
	Doc: "Open AWS Health events for a region (Health is global: run it on the surviving region's agent)."})

// VerifyNetworkIn are the inputs of aws.ec2.verifyNetwork.
type VerifyNetworkIn struct {
	VPCName        string   `json:"vpcName" kirikae:"required" doc:"the VPC's Name tag, e.g. kaigo-subsys-dr-vpc"`
	MinSubnets     *int     `json:"minSubnets,omitempty" doc:"subnets required in the VPC; default 2"`
	SecurityGroups []string `json:"securityGroups,omitempty" doc:"security group names (group-name) that must exist in the VPC"`
	MinRouteTables *int     `json:"minRouteTables,omitempty" doc:"route tables required; default 1"`
}

// VerifyNetworkOut are its outputs.
type VerifyNetworkOut struct {
	VPCID            string   `json:"vpcId" doc:"the id of the VPC named vpcName"`
	SubnetIDs        []string `json:"subnetIds" doc:"the ids of every subnet in the VPC"`
	SecurityGroupIDs []string `json:"securityGroupIds" doc:"the ids of the groups named in securityGroups, in that order (not every group in the VPC)"`
	RouteTableIDs    []string `json:"routeTableIds" doc:"the ids of every route table in the VPC"`
}

// VerifyNetwork checks the DR network.
var VerifyNetwork = Define(Def[VerifyNetworkIn, VerifyNetworkOut]{Name: "aws.ec2.verifyNetwork", Idempotency: "it only reads", Where: OnAgent,
	IAM: []string{"ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeRouteTables"},
	Doc: "Check that the VPC (by Name tag), its subnets, security groups and route tables exist."})

// RestoreSnapshotIn are the inputs of aws.rds.restoreSnapshot.
type RestoreSnapshotIn struct {
	InstanceID         string   `json:"instanceId" kirikae:"required" doc:"the instance to create, e.g. kaigo-subsys-dr"`
	SourceInstance     string   `json:"sourceInstance,omitempty" doc:"use the available snapshot of this instance (automated, manual or copied) with the newest data"`
	SnapshotID         string   `json:"snapshotId,omitempty" doc:"restore this snapshot instead of the newest"`
	InstanceClass      string   `json:"instanceClass,omitempty" doc:"e.g. db.r6g.large"`
	SubnetGroup        string   `json:"subnetGroup,omitempty" doc:"DB subnet group name"`
	SecurityGroups     []string `json:"securityGroups,omitempty" doc:"VPC security group ids"`
	MultiAZ            *bool    `json:"multiAz,omitempty" doc:"default true"`
	PubliclyAccessible bool     `json:"publiclyAccessible,omitempty" doc:"default false"`
	MaxAge             Duration `json:"maxAge,omitempty" doc:"refuse a snapshot older than this (the RPO) unless allowDataLoss"`
	AllowDataLoss      bool     `json:"allowDataLoss,omitempty" doc:"restore even when the snapshot is older than maxAge; default false"`
}

// RestoreSnapshotOut are its outputs. SnapshotID, SnapshotTime and SnapshotAgeSeconds say
// which data the restore holds; a refusal of a snapshot as older than maxAge carries them
// too, as the step's failure outputs.
type RestoreSnapshotOut struct {
	Endpoint           string `json:"endpoint" doc:"the DB instance's endpoint address: a host name, without the port"`
	Port               int64  `json:"port" doc:"the DB instance's port, e.g. 5432"`
	SnapshotID         string `json:"snapshotId" doc:"the snapshot the instance holds: the one restored, or the one an adopted instance was restored from"`
	SnapshotTime       string `json:"snapshotTime" doc:"when the snapshot's data was taken (SnapshotDatabaseTime, else the original snapshot's create time), RFC 3339 UTC"`
	SnapshotAgeSeconds int64  `json:"snapshotAgeSeconds" doc:"seconds of data the restore loses: from the snapshot's data time to the instance's creation (in a refusal, to now)"`
	DataLossWindow     string `json:"dataLossWindow" doc:"snapshotAgeSeconds for people, e.g. 2h5m"`
}

// DataLoss is the window of data the restore loses: how old its data was.
func (o RestoreSnapshotOut) DataLoss() time.Duration {
	return time.Duration(o.SnapshotAgeSeconds) * time.Second
}

// RestoreSnapshot restores RDS from a snapshot.
var RestoreSnapshot = Define(Def[RestoreSnapshotIn, RestoreSnapshotOut]{Name: "aws.rds.restoreSnapshot", Undo: "aws.rds.deleteRestored", Idempotency: "the instance id: an instance of that id that this run (or a run it took over) restored, and that holds data within maxAge, is adopted; any other is refused", Where: OnAgent,
	IAM: []string{"rds:DescribeDBInstances", "rds:DescribeDBSnapshots", "rds:RestoreDBInstanceFromDBSnapshot", "rds:AddTagsToResource", "kms:CreateGrant", "kms:DescribeKey"},
	Doc: "Restore a DB instance from the newest available snapshot of sourceInstance (or a named one), reporting its age against maxAge; adopts an instance that already exists."})

// RestorePointInTimeIn are the inputs of aws.rds.restorePointInTime.
type RestorePointInTimeIn struct {
	SourceInstance string     `json:"sourceInstance" kirikae:"required" doc:"the instance to restore from"`
	InstanceID     string     `json:"instanceId" kirikae:"required" doc:"the instance to create"`
	RestoreTime    *time.Time `json:"restoreTime,omitempty" doc:"RFC 3339; default the latest restorable time"`
	InstanceClass  string     `json:"instanceClass,omitempty" doc:"DB instance class, e.g. db.r6g.large; default the source instance's"`
	SubnetGroup    string     `json:"subnetGroup,omitempty" doc:"DB subnet group name"`
	SecurityGroups []string   `json:"securityGroups,omitempty" doc:"VPC security group ids; default the VPC's default group"`
	MultiAZ        *bool      `json:"multiAz,omitempty" doc:"default true"`
}

// RestorePointInTimeOut are its outputs.
type RestorePointInTimeOut struct {
	Endpoint    string `json:"endpoint" doc:"the DB instance's endpoint address: a host name, without the port"`
	Port        int64  `json:"port" doc:"the DB instance's port, e.g. 5432"`
	RestoreTime string `json:"restoreTime" doc:"the time restored to, RFC 3339 UTC: restoreTime, or the source's latest restorable time as read before the restore; the word latest when RDS gave none"`
}

// RestorePointInTime restores RDS to a point in time.
var RestorePointInTime = Define(Def[RestorePointInTimeIn, RestorePointInTimeOut]{Name: "aws.rds.restorePointInTime", Undo: "aws.rds.deleteRestored", Idempotency: "the instance id: an instance of that id that this run restored to the same time is adopted; any other is refused", Where: OnAgent,
	IAM: []string{"rds:DescribeDBInstances", "rds:RestoreDBInstanceToPointInTime", "rds:AddTagsToResource", "kms:CreateGrant", "kms:DescribeKey"},
	Doc: "Restore sourceInstance to a point in time (or the latest restorable time) as a new instance."})

// SnapshotIn are the inputs of aws.rds.snapshot.
type SnapshotIn struct {
	InstanceID string `json:"instanceId" kirikae:"required" doc:"the DB instance to snapshot"`
	SnapshotID string `json:"snapshotId" kirikae:"required" doc:"e.g. kaigo-subsys-dr-before-cutback-${run.startedCompact}"`
}

// SnapshotOut are the outputs of aws.rds.snapshot and aws.rds.copySnapshot.
type SnapshotOut struct {
	SnapshotID  string `json:"snapshotId" doc:"the snapshot's id: snapshotId, or targetSnapshotId of a copy"`
	SnapshotARN string `json:"snapshotArn" doc:"the snapshot's ARN, in the step's region; it is available"`
}

// Snapshot takes a manual RDS snapshot.
var Snapshot = Define(Def[SnapshotIn, SnapshotOut]{Name: "aws.rds.snapshot", Idempotency: "the snapshot id: an existing snapshot of that id and instance is adopted and waited for", Where: OnAgent,
	IAM: []string{"rds:DescribeDBSnapshots", "rds:CreateDBSnapshot"},
	Doc: "Take a manual snapshot and wait until it is available; adopts an existing one of that id."})

// CopySnapshotIn are the inputs of aws.rds.copySnapshot.
type CopySnapshotIn struct {
	SourceSnapshotARN string `json:"sourceSnapshotArn" kirikae:"required" doc:"ARN of the snapshot in the source region"`
	SourceRegion      string `json:"sourceRegion" kirikae:"required" doc:"the region of sourceSnapshotArn; it must match the ARN"`
	TargetSnapshotID  string `json:"targetSnapshotId" kirikae:"required" doc:"the copy's snapshot id in the step's region"`
	KMSKeyID          string `json:"kmsKeyId,omitempty" doc:"KMS key in the target region"`
}

// CopySnapshot copies an RDS snapshot across regions.
var CopySnapshot = Define(Def[CopySnapshotIn, SnapshotOut]{Name: "aws.rds.copySnapshot", Idempotency: "the target snapshot id: an existing copy of that id is adopted and waited for", Where: OnAgent,
	IAM: []string{"rds:DescribeDBSnapshots", "rds:CopyDBSnapshot", "kms:CreateGrant", "kms:DescribeKey"},
	Doc: "Copy a snapshot into the step's region (cross-region), encrypted with kmsKeyId, and wait until it is available."})

// DeleteIn are the inputs of aws.rds.delete.
type DeleteIn struct {
	InstanceID      string `json:"instanceId" kirikae:"required" doc:"the DB instance to delete"`
	FinalSnapshotID string `json:"finalSnapshotId" kirikae:"required" doc:"a final snapshot is always taken"`
	VerifiedCopy    string `json:"verifiedCopy" kirikae:"required" doc:"a snapshot id (in this region) that must be available before the delete"`
}

// DeleteOut are its outputs.
type DeleteOut struct {
	FinalSnapshotID string `json:"finalSnapshotId" doc:"the final snapshot taken of the instance (finalSnapshotId); it is available"`
}

// Delete deletes a DB instance, guarded.
var Delete = Define(Def[DeleteIn, DeleteOut]{Name: "aws.rds.delete", Idempotency: "an instance already gone (or being deleted) counts as deleted", Where: OnAgent,
	IAM: []string{"rds:DescribeDBInstances", "rds:DescribeDBSnapshots", "rds:CreateDBSnapshot", "rds:DeleteDBInstance"},
	Doc: "Delete a DB instance, guarded: needs a final snapshot id, and refuses unless verifiedCopy is an available snapshot."})

// InstanceIn names one DB instance.
type InstanceIn struct {
	InstanceID string `json:"instanceId" kirikae:"required" doc:"the DB instance identifier"`
}

// StopOut are the outputs of aws.rds.stop.
type StopOut struct {
	Status string `json:"status" doc:"always stopped: the step succeeds only once the instance is stopped"`
}

// Stop stops a DB instance.
var Stop = Define(Def[InstanceIn, StopOut]{Name: "aws.rds.stop", Idempotency: "a stopped instance counts as stopped; a stopping one is waited for", Where: OnAgent,
	IAM: []string{"rds:DescribeDBInstances", "rds:StopDBInstance"},
	Doc: "Stop a DB instance and wait until it is stopped."})

// DeleteRestoredIn are the inputs of aws.rds.deleteRestored.
type DeleteRestoredIn struct {
	InstanceID       string    `json:"instanceId" kirikae:"required" doc:"the restored instance, e.g. kaigo-subsys-dr"`
	CreateTime       time.Time `json:"createTime" kirikae:"required" doc:"RFC 3339: the InstanceCreateTime the restore reported"`
	SourceSnapshotID string    `json:"sourceSnapshotId,omitempty" doc:"the snapshot the instance was restored from; it must be available, and then no final snapshot is taken"`
}

// DeletedOut are the outputs of an undo that deletes.
type DeletedOut struct {
	Deleted bool `json:"deleted" doc:"always true: it is gone, or already was"`
}

// DeleteRestored is the undo of a restore.
var DeleteRestored = Define(Def[DeleteRestoredIn, DeletedOut]{Name: "aws.rds.deleteRestored", Idempotency: "an instance already gone counts as deleted", Where: OnAgent,
	IAM:      []string{"rds:DescribeDBInstances", "rds:DescribeDBSnapshots", "rds:CreateDBSnapshot", "rds:DeleteDBInstance"},
	Resource: &ResourceRef{Kind: "rds-db-instance", Inputs: []string{"instanceId"}},
	Doc:      "Undo of a drill's restore: delete the DB instance the drill restored and wait until it is gone; succeeds if it is already gone. Guard rails: refuses unless the instance's creation time is createTime, so it never deletes an instance that was there before or was recreated since; and deletes only with a verified snapshot of the data: the available sourceSnapshotId it was restored from, or else a final snapshot."})

// CreateReplicationGroupIn are the inputs of aws.elasticache.createReplicationGroup.
type CreateReplicationGroupIn struct {
	ReplicationGroupID string   `json:"replicationGroupId" kirikae:"required" doc:"the replication group to create, e.g. kaigo-subsys-dr"`
	Description        string   `json:"description,omitempty" doc:"the group's description; default \"kirikae: \" followed by replicationGroupId"`
	NodeType           string   `json:"nodeType,omitempty" doc:"e.g. cache.r6g.large"`
	NumCacheClusters   *int     `json:"numCacheClusters,omitempty" doc:"default 2"`
	EngineVersion      string   `json:"engineVersion,omitempty" doc:"e.g. 7.0"`
	AutomaticFailover  *bool    `json:"automaticFailover,omitempty" doc:"default true"`
	SubnetGroup        string   `json:"subnetGroup,omitempty" doc:"cache subnet group name"`
	SecurityGroups     []string `json:"securityGroups,omitempty" doc:"VPC security group ids"`
}

// CreateReplicationGroupOut are its outputs.
type CreateReplicationGroupOut struct {
	PrimaryEndpoint string `json:"primaryEndpoint" doc:"the group's primary endpoint address (its configuration endpoint in cluster mode): a host name, without the port"`
	Port            int64  `json:"port" doc:"the endpoint's port, e.g. 6379"`
	// ConfigurationEndpoint mirrors AWS's field of that name, which a group has only in
	// cluster mode; nil otherwise, and then a plan that reads it is told so before it runs.
	ConfigurationEndpoint map[string]any `json:"configurationEndpoint,omitempty" doc:"the configuration endpoint, {address, port}, which ElastiCache gives only in cluster mode: absent for the cluster-mode-disabled groups this action creates; read primaryEndpoint"`
}

// CreateReplicationGroup creates the Redis group.
var CreateReplicationGroup = Define(Def[CreateReplicationGroupIn, CreateReplicationGroupOut]{Name: "aws.elasticache.createReplicationGroup", Undo: "aws.elasticache.deleteReplicationGroup", Idempotency: "the replication group id: a group of that id that this run created (its tags) is adopted; any other is refused", Where: OnAgent,
	IAM: []string{"elasticache:DescribeReplicationGroups", "elasticache:ListTagsForResource", "elasticache:CreateReplicationGroup", "elasticache:AddTagsToResource"},
	Doc: "Create a Redis replication group (new and empty) and wait until it is available; adopts an existing one.",
	Absent: func(in CreateReplicationGroupIn) map[string]string {
		return map[string]string{"configurationEndpoint": fmt.Sprintf("ElastiCache gives a configuration endpoint only in cluster mode, and replication group %s is created with cluster mode disabled (%s cache clusters, no node groups): read ${steps.ID.outputs.primaryEndpoint} instead",
			in.ReplicationGroupID, numOr(in.NumCacheClusters, 2))}
	}})

func numOr(n *int, def int) string {
	if n == nil {
		return strconv.Itoa(def)
	}
	return strconv.Itoa(*n)
}

// ReplicationGroupIn names one replication group.
type ReplicationGroupIn struct {
	ReplicationGroupID string `json:"replicationGroupId" kirikae:"required" doc:"the replication group's id"`
}

// DeleteReplicationGroup deletes the Redis group.
var DeleteReplicationGroup = Define(Def[ReplicationGroupIn, DeletedOut]{Name: "aws.elasticache.deleteReplicationGroup", Idempotency: "a group already gone counts as deleted", Where: OnAgent,
	IAM:      []string{"elasticache:DescribeReplicationGroups", "elasticache:DeleteReplicationGroup"},
	Resource: &ResourceRef{Kind: "elasticache-replication-group", Inputs: []string{"replicationGroupId"}},
	Doc:      "Delete a replication group and wait until it is gone; succeeds if it is already gone."})

// RestoreLatestIn are the inputs of aws.backup.restoreLatest.
type RestoreLatestIn struct {
	Vault        string            `json:"vault" kirikae:"required" doc:"e.g. kaigo-subsys-dr-backup-vault"`
	ResourceType string            `json:"resourceType,omitempty" doc:"default EFS"`
	IAMRoleARN   string            `json:"iamRoleArn" kirikae:"required" doc:"ARN of the IAM role AWS Backup assumes to restore"`
	Metadata     map[string]string `json:"metadata,omitempty" doc:"restore metadata, e.g. PerformanceMode, Encrypted"`
	MaxAge       Duration          `json:"maxAge,omitempty" doc:"report (not refuse) a recovery point older than this"`
}

// RestoreLatestOut are its outputs.
type RestoreLatestOut struct {
	RestoreJobID            string `json:"restoreJobId" doc:"the AWS Backup restore job's id"`
	RecoveryPointARN        string `json:"recoveryPointArn" doc:"the ARN of the recovery point the job restored"`
	FileSystemID            string `json:"fileSystemId" doc:"the id at the end of the ARN of what the job created: for EFS the new file system, e.g. fs-0123456789abcdef0"`
	RecoveryPointAgeSeconds int64  `json:"recoveryPointAgeSeconds" doc:"seconds of data the restore loses: from the recovery point's creation to the restore job's"`
}

// RestoreLatest restores EFS from the newest recovery point.
var RestoreLatest = Define(Def[RestoreLatestIn, RestoreLatestOut]{Name: "aws.backup.restoreLatest", Undo: "aws.backup.deleteRestored", Idempotency: "the restore job's idempotency token, made from the run and step: a rerun gets the job the first attempt started back", Where: OnAgent,
	IAM: []string{"backup:ListRecoveryPointsByBackupVault", "backup:StartRestoreJob", "backup:DescribeRestoreJob", "iam:PassRole"},
	Doc: "Restore the newest completed recovery point of resourceType in a backup vault and wait for the restore job."})

// DeleteRestoredJobIn are the inputs of aws.backup.deleteRestored.
type DeleteRestoredJobIn struct {
	RestoreJobID string `json:"restoreJobId" kirikae:"required" doc:"the job aws.backup.restoreLatest started"`
}

// DeleteRestoredJobOut are its outputs.
type DeleteRestoredJobOut struct {
	Deleted      bool   `json:"deleted" doc:"true when the file system the job created is gone; false when the job created nothing"`
	FileSystemID string `json:"fileSystemId" doc:"the EFS file system the job created and the step deleted; empty when it created none"`
}

// DeleteRestoredJob is the undo of an EFS restore.
var DeleteRestoredJob = Define(Def[DeleteRestoredJobIn, DeleteRestoredJobOut]{Name: "aws.backup.deleteRestored", Idempotency: "the restore job names what it created; a file system already gone counts as deleted", Where: OnAgent,
	IAM:      []string{"backup:DescribeRestoreJob", "elasticfilesystem:DescribeFileSystems", "elasticfilesystem:DeleteFileSystem"},
	Resource: &ResourceRef{Kind: "backup-restore-job", Inputs: []string{"restoreJobId"}},
	Doc:      "Undo of aws.backup.restoreLatest: wait until the restore job has ended (AWS Backup cannot stop one), then delete the EFS file system it created; nothing if it created none."})

// FileSystemIn names one EFS file system.
type FileSystemIn struct {
	FileSystemID string `json:"fileSystemId" kirikae:"required" doc:"e.g. fs-0123456789abcdef0"`
}

// DeleteFileSystem deletes an EFS file system.
var DeleteFileSystem = Define(Def[FileSystemIn, DeletedOut]{Name: "aws.efs.deleteFileSystem", Idempotency: "a file system already gone counts as deleted", Where: OnAgent,
	IAM:      []string{"elasticfilesystem:DescribeFileSystems", "elasticfilesystem:DeleteFileSystem"},
	Resource: &ResourceRef{Kind: "efs-file-system", Inputs: []string{"fileSystemId"}},
	Doc:      "Undo of an EFS restore: delete a file system and wait until it is gone; succeeds if it is already gone."})

// SecretPutIn are the inputs of aws.secretsmanager.put.
type SecretPutIn struct {
	SecretID string         `json:"secretId" kirikae:"required" doc:"the secret's name or ARN; it must exist"`
	Value    string         `json:"value,omitempty" doc:"the secret string"`
	JSON     map[string]any `json:"json,omitempty" doc:"or a map, written as a JSON object"`
}

// SecretVersionOut are the outputs of a secret write.
type SecretVersionOut struct {
	VersionID string `json:"versionId" doc:"the version that is AWSCURRENT when the step ends: the one written (or the equal one already current), or the one restored"`
}

// SecretPut writes a secret.
var SecretPut = Define(Def[SecretPutIn, SecretVersionOut]{Name: "aws.secretsmanager.put", Undo: "aws.secretsmanager.restoreVersion", Idempotency: "the secret's current value: an equal value is not written; a write carries a ClientRequestToken made from the run, the step and the value", Where: OnAgent,
	IAM: []string{"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"},
	Doc: "Write a secret value; skips the write when the current value is already equal."})

// SecretRestoreVersionIn are the inputs of aws.secretsmanager.restoreVersion.
type SecretRestoreVersionIn struct {
	SecretID  string `json:"secretId" kirikae:"required" doc:"the secret's name or ARN"`
	VersionID string `json:"versionId" kirikae:"required" doc:"the version that was AWSCURRENT before the write"`
}

// SecretRestoreVersion is the undo of a secret write.
var SecretRestoreVersion = Define(Def[SecretRestoreVersionIn, SecretVersionOut]{Name: "aws.secretsmanager.restoreVersion", Idempotency: "a version that is already AWSCURRENT is left as it is", Where: OnAgent,
	IAM:      []string{"secretsmanager:GetSecretValue", "secretsmanager:UpdateSecretVersionStage"},
	Resource: &ResourceRef{Kind: "secretsmanager-secret", Inputs: []string{"secretId"}},
	Doc:      "Undo of a secret write: make versionId AWSCURRENT again (UpdateSecretVersionStage); a no-op when it already is."})

// RegisterTaskDefinitionIn are the inputs of aws.ecs.registerTaskDefinition.
type RegisterTaskDefinitionIn struct {
	Family           string            `json:"family" kirikae:"required" doc:"the task definition family, e.g. kaigo-subsys-dr"`
	Image            string            `json:"image" kirikae:"required" doc:"container image of the task's one container (named app), e.g. an ECR image URI"`
	CPU              string            `json:"cpu,omitempty" doc:"default 512"`
	Memory           string            `json:"memory,omitempty" doc:"default 1024"`
	ContainerPort    *int              `json:"containerPort,omitempty" doc:"default 8080"`
	Environment      map[string]string `json:"environment,omitempty" doc:"container environment"`
	Secrets          map[string]string `json:"secrets,omitempty" doc:"name -> secret ARN or id"`
	ExecutionRoleARN string            `json:"executionRoleArn,omitempty" doc:"ARN of the task execution role, which pulls the image and reads the secrets; default none"`
}

// RegisterTaskDefinitionOut are its outputs.
type RegisterTaskDefinitionOut struct {
	TaskDefinitionARN string `json:"taskDefinitionArn" doc:"the ARN of the revision registered, or of the identical latest revision adopted"`
	Revision          int64  `json:"revision" doc:"that revision's number"`
}

// RegisterTaskDefinition registers the DR task definition.
var RegisterTaskDefinition = Define(Def[RegisterTaskDefinitionIn, RegisterTaskDefinitionOut]{Name: "aws.ecs.registerTaskDefinition", Undo: "aws.ecs.deregisterTaskDefinition", Idempotency: "the family's latest revision: an identical one is adopted", Where: OnAgent,
	IAM: []string{"ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition", "iam:PassRole"},
	Doc: "Register a task definition; adopts the latest revision of the family when it is identical."})

// TaskDefinitionIn names one task definition revision.
type TaskDefinitionIn struct {
	TaskDefinition string `json:"taskDefinition" kirikae:"required" doc:"the revision's ARN"`
}

// DeregisterTaskDefinitionOut are the outputs of aws.ecs.deregisterTaskDefinition.
type DeregisterTaskDefinitionOut struct {
	TaskDefinitionARN string `json:"taskDefinitionArn" doc:"the revision's ARN"`
	Status            string `json:"status" doc:"the revision's status after the step: INACTIVE, or DELETE_IN_PROGRESS when it already was"`
}

// DeregisterTaskDefinition is the undo of a registration.
var DeregisterTaskDefinition = Define(Def[TaskDefinitionIn, DeregisterTaskDefinitionOut]{Name: "aws.ecs.deregisterTaskDefinition", Idempotency: "a revision already INACTIVE is left as it is", Where: OnAgent,
	IAM:      []string{"ecs:DescribeTaskDefinition", "ecs:DeregisterTaskDefinition"},
	Resource: &ResourceRef{Kind: "ecs-task-definition", Inputs: []string{"taskDefinition"}},
	Doc:      "Undo of a registration: deregister a task definition revision; a no-op when it is already INACTIVE."})

// UpdateServiceIn are the inputs of aws.ecs.updateService.
type UpdateServiceIn struct {
	Cluster            string `json:"cluster" kirikae:"required" doc:"the ECS cluster's name or ARN"`
	Service            string `json:"service" kirikae:"required" doc:"the ECS service's name or ARN"`
	DesiredCount       int    `json:"desiredCount" kirikae:"required" doc:"tasks the service is to run, 0 to 5000"`
	TaskDefinition     string `json:"taskDefinition,omitempty" doc:"ARN, family:revision, or family for its newest ACTIVE revision (family:latest is no revision: ECS refuses it)"`
	Wait               *bool  `json:"wait,omitempty" doc:"wait for services-stable; default true"`
	ForceNewDeployment bool   `json:"forceNewDeployment,omitempty" doc:"replace the running tasks even when nothing else changes, so they read new secrets; default false"`
}

// UpdateServiceOut are its outputs.
type UpdateServiceOut struct {
	RunningCount   int64  `json:"runningCount" doc:"tasks running once the service is stable; with wait false, as the service was before the update"`
	TaskDefinition string `json:"taskDefinition" doc:"the ARN of the service's task definition, read when runningCount is"`
}

// UpdateService scales a service.
var UpdateService = Define(Def[UpdateServiceIn, UpdateServiceOut]{Name: "aws.ecs.updateService", Undo: "aws.ecs.updateService", Idempotency: "the service's desired count and task definition: a service already as asked is only waited for; a forced deployment is kept in the agent's memo, so a rerun does not force another", Where: OnAgent,
	IAM:      []string{"ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:UpdateService"},
	Resource: &ResourceRef{Kind: "ecs-service", Inputs: []string{"cluster", "service"}},
	Doc:      "Set a service's desired count (and task definition) and wait until it is stable."})

// WaitHealthyIn are the inputs of aws.elbv2.waitHealthy.
type WaitHealthyIn struct {
	TargetGroupARN  string `json:"targetGroupArn,omitempty" doc:"the target group's ARN; this or targetGroupName is required"`
	TargetGroupName string `json:"targetGroupName,omitempty" doc:"looked up when no ARN is given"`
	Count           *int   `json:"count,omitempty" doc:"default 2"`
}

// WaitHealthyOut are its outputs.
type WaitHealthyOut struct {
	Healthy             int64  `json:"healthy" doc:"healthy targets in the group when the wait ended, at least count"`
	TargetGroupARN      string `json:"targetGroupArn" doc:"the target group's ARN, looked up when targetGroupName was given"`
	LoadBalancerDNSName string `json:"loadBalancerDnsName" doc:"the DNS name of the first load balancer that routes to the group, e.g. for targetDnsName of upsertAlias; empty when none"`
}

// WaitHealthy waits for healthy targets.
var WaitHealthy = Define(Def[WaitHealthyIn, WaitHealthyOut]{Name: "aws.elbv2.waitHealthy", Idempotency: "it only reads", Where: OnAgent,
	IAM: []string{"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"},
	Doc: "Wait until a target group has at least count healthy targets."})

// UpsertAliasIn are the inputs of aws.route53.upsertAlias. The zone is given by id or by
// name, and the target by load balancer name (its DNS name and canonical zone are read from
// DescribeLoadBalancers in the step's region) or by DNS name and zone: values a plan should
// not carry, since they change when the load balancer is rebuilt and a wrong zone id is
// refused by Route 53 only at the worst moment.
type UpsertAliasIn struct {
	HostedZoneID         string `json:"hostedZoneId,omitempty" doc:"the hosted zone that holds the record, e.g. Z0123456789ABC; or give hostedZone"`
	HostedZone           string `json:"hostedZone,omitempty" doc:"the public hosted zone's name, e.g. example.com, found with ListHostedZonesByName; or give hostedZoneId"`
	RecordName           string `json:"recordName" kirikae:"required" doc:"e.g. api.kaigo-subsys.example.com"`
	RecordType           string `json:"recordType,omitempty" doc:"default A"`
	TargetLoadBalancer   string `json:"targetLoadBalancer,omitempty" doc:"the target ALB's name, looked up in the step's region; or give targetDnsName and targetHostedZoneId"`
	TargetDNSName        string `json:"targetDnsName,omitempty" doc:"the target's DNS name (with targetHostedZoneId), when it is no load balancer of the step's region"`
	TargetHostedZoneID   string `json:"targetHostedZoneId,omitempty" doc:"the target's canonical hosted zone id (with targetDnsName)"`
	EvaluateTargetHealth *bool  `json:"evaluateTargetHealth,omitempty" doc:"default true"`
}

// UpsertAliasOut are its outputs.
type UpsertAliasOut struct {
	HostedZoneID       string `json:"hostedZoneId" doc:"the hosted zone changed, as given or found by name"`
	TargetDNSName      string `json:"targetDnsName" doc:"the alias target's DNS name, as given or read from the load balancer"`
	TargetHostedZoneID string `json:"targetHostedZoneId" doc:"the alias target's canonical hosted zone id, as given or read from the load balancer"`
	ChangeID           string `json:"changeId" doc:"the Route 53 change id of the UPSERT, without /change/; empty when the record already was the alias and no attempt of this step changed it"`
	Answer             string `json:"answer" doc:"what Route 53 answers for the record (TestDNSAnswer), comma-separated, e.g. the ALB's addresses; the target DNS name, lower-case with a final dot, where TestDNSAnswer is not available"`
}

// UpsertAlias switches DNS.
var UpsertAlias = Define(Def[UpsertAliasIn, UpsertAliasOut]{Name: "aws.route53.upsertAlias", Idempotency: "the record: one already aliased to the target is only verified", Where: OnAgent,
	IAM: []string{"route53:ListHostedZonesByName", "elasticloadbalancing:DescribeLoadBalancers", "route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets", "route53:GetChange", "route53:TestDNSAnswer"},
	Doc: "Find the zone and the target load balancer by name when given so, UPSERT an alias record, wait until the change is INSYNC, then verify the answer with TestDNSAnswer."})

// PutAlarmIn are the inputs of aws.cloudwatch.putAlarm.
type PutAlarmIn struct {
	AlarmName         string            `json:"alarmName" kirikae:"required" doc:"the alarm's name; a put replaces the alarm of that name"`
	Description       string            `json:"description,omitempty" doc:"the alarm's description; default none"`
	MetricName        string            `json:"metricName" kirikae:"required" doc:"the metric's name, e.g. CPUUtilization"`
	Namespace         string            `json:"namespace" kirikae:"required" doc:"the metric's namespace, e.g. AWS/RDS"`
	Statistic         string            `json:"statistic,omitempty" doc:"default Average"`
	Period            *int              `json:"period,omitempty" doc:"seconds; default 300"`
	EvaluationPeriods *int              `json:"evaluationPeriods,omitempty" doc:"default 2"`
	Threshold         string            `json:"threshold" kirikae:"required" doc:"a number"`
	Comparison        string            `json:"comparison,omitempty" doc:"default GreaterThanThreshold"`
	Dimensions        map[string]string `json:"dimensions,omitempty" doc:"the metric's dimensions, name -> value, e.g. {DBInstanceIdentifier: kaigo-subsys-dr}"`
	AlarmActions      []string          `json:"alarmActions,omitempty" doc:"ARNs to notify when the alarm goes to ALARM, e.g. SNS topics; default none"`
}

// PutAlarmOut are its outputs.
type PutAlarmOut struct {
	AlarmARN string `json:"alarmArn" doc:"the alarm's ARN"`
}

// PutAlarm puts a metric alarm.
var PutAlarm = Define(Def[PutAlarmIn, PutAlarmOut]{Name: "aws.cloudwatch.putAlarm", Undo: "aws.cloudwatch.deleteAlarm", Idempotency: "the alarm name: PutMetricAlarm replaces an alarm of that name", Where: OnAgent,
	IAM: []string{"cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"},
	Doc: "Put a metric alarm (idempotent by name)."})

// AlarmIn names one alarm.
type AlarmIn struct {
	AlarmName string `json:"alarmName" kirikae:"required" doc:"the alarm's name"`
}

// DeleteAlarm is the undo of a new alarm.
var DeleteAlarm = Define(Def[AlarmIn, DeletedOut]{Name: "aws.cloudwatch.deleteAlarm", Idempotency: "an alarm already gone counts as deleted", Where: OnAgent,
	IAM:      []string{"cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"},
	Resource: &ResourceRef{Kind: "cloudwatch-alarm", Inputs: []string{"alarmName"}},
	Doc:      "Undo of a new alarm: delete a metric alarm; succeeds if it is already gone."})

// PublishIn are the inputs of aws.sns.publish.
type PublishIn struct {
	TopicARN string `json:"topicArn" kirikae:"required" doc:"the SNS topic's ARN; the message is published in the topic's region"`
	Subject  string `json:"subject,omitempty" doc:"subject line, e.g. for email subscribers; default none"`
	Message  string `json:"message" kirikae:"required" doc:"the message text"`
}

// PublishOut are its outputs.
type PublishOut struct {
	MessageID string `json:"messageId" doc:"the SNS message id (an earlier attempt's, when it had published)"`
}

// Publish publishes to SNS.
var Publish = Define(Def[PublishIn, PublishOut]{Name: "aws.sns.publish", Idempotency: "the agent's memo of the run, step and attempt: a publish that was answered is not sent again; one whose answer was lost may be (SNS cannot be asked)", Where: OnAgent,
	IAM: []string{"sns:Publish"},
	Doc: "Publish a message to an SNS topic."})

// HTTPCheckIn are the inputs of http.check.
type HTTPCheckIn struct {
	URL          string            `json:"url" kirikae:"required" doc:"the http:// or https:// URL to request"`
	Method       string            `json:"method,omitempty" doc:"default GET"`
	Body         string            `json:"body,omitempty" doc:"request body"`
	Headers      map[string]string `json:"headers,omitempty" doc:"request headers, e.g. {Authorization: \"Bearer ${steps.login.outputs.body.token}\"}"`
	ExpectStatus *int              `json:"expectStatus,omitempty" doc:"default 200"`
	ExpectBody   string            `json:"expectBody,omitempty" doc:"substring the body must contain"`
	Requests     *int              `json:"requests,omitempty" doc:"default 20"`
	MaxLatency   *Duration         `json:"maxLatency,omitempty" doc:"default 3s"`
	MaxErrorRate string            `json:"maxErrorRate,omitempty" doc:"a fraction; default 0.01"`
}

// HTTPCheckOut are its outputs. Body is the last good response's body: a JSON object as a
// map, anything else as a string.
type HTTPCheckOut struct {
	Requests  int64   `json:"requests" doc:"requests sent"`
	Errors    int64   `json:"errors" doc:"requests that failed, timed out, had another status or lacked expectBody"`
	ErrorRate float64 `json:"errorRate" doc:"errors / requests, a fraction from 0 to 1"`
	P50Ms     float64 `json:"p50Ms" doc:"median latency of all requests, failed ones included, in milliseconds"`
	P99Ms     float64 `json:"p99Ms" doc:"99th-percentile latency (nearest rank) of all requests, failed ones included, in milliseconds"`
	Body      any     `json:"body,omitempty" doc:"the last good response's body (its first MiB): a JSON object as a map, anything else as a string; absent when none was good"`
}

// HTTPCheck checks an HTTP endpoint.
var HTTPCheck = Define(Def[HTTPCheckIn, HTTPCheckOut]{Name: "http.check", Idempotency: "it only reads", Where: OnAgent,
	Doc: "Send N requests and check status, body, latency and error rate (the seed: < 3 s, < 1 % errors). " +
		"The output body is the last good response's body: a JSON object as a map (read a field with ${steps.ID.outputs.body.KEY}), anything else as a string."})

// NotifyIn are the inputs of notify.
type NotifyIn struct {
	Webhook  string   `json:"webhook,omitempty" doc:"URL; an empty value means none, so a plan can default it to empty and publish to topicArn"`
	TopicARN string   `json:"topicArn,omitempty" doc:"SNS topic"`
	Message  string   `json:"message" kirikae:"required" doc:"the text: the webhook's text field, and the SNS message (subject kirikae)"`
	Audience []string `json:"audience,omitempty" doc:"who is told, for the report, e.g. [development, operations, executives, users]"`
}

// NotifyOut are its outputs: where the message went ("webhook", "sns").
type NotifyOut struct {
	Delivered []string `json:"delivered" doc:"where the message went: webhook, sns, or both in that order"`
}

// Notify tells people.
var Notify = Define(Def[NotifyIn, NotifyOut]{Name: "notify", Idempotency: "the agent's memo, as for aws.sns.publish", Where: OnAgent,
	IAM: []string{"sns:Publish"},
	Doc: "Post a JSON message to a webhook (Slack-compatible {\"text\": ...}) or publish to an SNS topic."})

// WaitIn are the inputs of wait.
type WaitIn struct {
	Duration Duration `json:"duration" kirikae:"required" doc:"how long the step waits from the start of its attempt, e.g. 15m or 1d"`
}

// NoOutputs is the outputs of an action that has none.
type NoOutputs struct{}

// Wait waits a fixed time.
var Wait = Define(Def[WaitIn, NoOutputs]{Name: "wait", Idempotency: "the state machine records when the step started", Where: OnControlPlane, Doc: "Wait a fixed time."})

// PreflightOut are the outputs of plan.preflight.
type PreflightOut struct {
	StepsChecked int `json:"stepsChecked" doc:"how many of the steps still to run were checked"`
}

// Preflight evaluates the rest of the run before a destructive step.
var Preflight = Define(Def[NoOutputs, PreflightOut]{Name: "plan.preflight", Idempotency: "it only reads: each attempt evaluates again", Where: OnControlPlane,
	Doc: "Evaluate the steps of the run that have not started against live AWS, as kirikae plan check does (read-only checks by each region's agent, with the outputs of the steps already run), and fail if a later step would fail: put it before a destructive step (a cutback's deletion of the production database) so nothing is deleted that the rest of the plan cannot rebuild. A region whose agent does not answer fails it too; retry it, or skip it to go on without the evaluation (audited)."})

// ApprovalIn are the inputs of approval.
type ApprovalIn struct {
	Roles []string `json:"roles" kirikae:"required" doc:"each role must be approved by someone holding it, e.g. [sysadmin, manager]"`
	Count int      `json:"count,omitempty" doc:"distinct approvers required in all; default len(roles)"`
}

// ApprovalOut are its outputs.
type ApprovalOut struct {
	Approvers []string `json:"approvers" doc:"the people who approved, one per role, in the order they approved"`
}

// Approval waits for approvals.
var Approval = Define(Def[ApprovalIn, ApprovalOut]{Name: "approval", Idempotency: "the state machine keeps each approval once per person", Where: OnControlPlane,
	Doc: "Wait for approvals by distinct people holding the named roles."})

// ChecklistIn are the inputs of checklist.
type ChecklistIn struct {
	Items []string `json:"items" kirikae:"required" doc:"what people must confirm, one line each; each is confirmed once"`
	Roles []string `json:"roles,omitempty" doc:"roles that may confirm, any one of them; default the step's owner when it names a role, else operator"`
}

// ChecklistOut are its outputs.
type ChecklistOut struct {
	ConfirmedBy []string `json:"confirmedBy" doc:"the people who confirmed items, each once, in the order they first confirmed"`
}

// Checklist waits for confirmations.
var Checklist = Define(Def[ChecklistIn, ChecklistOut]{Name: "checklist", Idempotency: "the state machine keeps each confirmation once per item", Where: OnControlPlane,
	Doc: "Wait until operators holding one of the roles confirm every item."})

// ActivateIn are the inputs of region.activate.
type ActivateIn struct {
	Region string `json:"region" kirikae:"required" doc:"primary, secondary, or a region name in the pair"`
}

// ActivateOut are its outputs.
type ActivateOut struct {
	Epoch  uint64 `json:"epoch" doc:"the region epoch after the step: one more than before, or the same when the region already was active"`
	Active string `json:"active" doc:"the region now active, by name (primary and secondary resolved)"`
}

// Activate moves the active region.
var Activate = Define(Def[ActivateIn, ActivateOut]{Name: "region.activate", Idempotency: "the state machine moves the region once per attempt, with the step's success", Where: OnControlPlane,
	Doc: "Move the active region and grow the epoch by one; the moment traffic moves."})
