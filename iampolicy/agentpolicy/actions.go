package agentpolicy

import (
	"regexp"
	"slices"
	"strings"

	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/system"
)

// grant is one IAM action on resources (ARN patterns, or "*").
type grant struct {
	action    string
	resources []string
	// optional marks a call made only on some paths: adopting what an earlier attempt
	// made, or listing the alternatives to a resource that is missing.
	optional bool
	// condition narrows the grant further, by the request's condition keys: operator ->
	// key -> values, as a policy's Condition.
	condition map[string]map[string][]string
}

// sometimes is g for a call made only on some paths.
func sometimes(action string, resources ...string) grant {
	gr := g(action, resources...)
	gr.optional = true
	return gr
}

func g(action string, resources ...string) grant {
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	return grant{action: action, resources: resources}
}

// env is where a call is made: its region and account, and the system.
type env struct {
	region, account string
	sys             *system.System
}

func (e env) in(region string) env { e.region = region; return e }

func (e env) arn(service, rest string) string {
	return "arn:aws:" + service + ":" + e.region + ":" + e.account + ":" + rest
}

// named is the ARN of a resource of kind named name (kept when it is an ARN already), or of
// every resource of that kind when the name is not known.
func (e env) named(service, sep, kind, name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return e.arn(service, kind+sep+orUnknown(name))
}

func (e env) db(name string) string       { return e.named("rds", ":", "db", name) }
func (e env) snapshot(name string) string { return e.named("rds", ":", "snapshot", name) }
func (e env) subgrp(name string) string   { return e.named("rds", ":", "subgrp", name) }

func (e env) replicationGroup(id string) string {
	return e.named("elasticache", ":", "replicationgroup", id)
}

// secretSuffix is the hyphen and six characters Secrets Manager appends to a secret's name
// in its ARN.
var secretSuffix = regexp.MustCompile(`-[A-Za-z0-9]{6}$`)

// secret is the ARN pattern of a secret given by name or ARN: Secrets Manager authorizes on
// the full ARN, whose last seven characters are a random suffix ("-" and six), so a policy
// names it NAME-?????? (AWS's advice for a policy that must survive the secret's
// recreation).
func (e env) secret(ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		if secretSuffix.MatchString(ref) {
			return ref
		}
		return ref + "-??????"
	}
	if ref == "" || ref == unknown {
		return e.arn("secretsmanager", "secret:*")
	}
	return e.arn("secretsmanager", "secret:"+ref+"-??????")
}

// ecsName is the name an ECS ARN or name ends with.
func ecsName(ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		if i := strings.LastIndexByte(ref, '/'); i >= 0 {
			return ref[i+1:]
		}
	}
	return ref
}

func (e env) service(cluster, service string) string {
	if strings.HasPrefix(service, "arn:") && strings.Count(service, "/") == 2 {
		return service
	}
	return e.arn("ecs", "service/"+orUnknown(ecsName(cluster))+"/"+orUnknown(ecsName(service)))
}

func (e env) cluster(name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return e.arn("ecs", "cluster/"+orUnknown(name))
}

func (e env) alarm(name string) string { return e.arn("cloudwatch", "alarm:"+orUnknown(name)) }

func (e env) vault(name string) string { return e.arn("backup", "backup-vault:"+orUnknown(name)) }

func hostedZone(id string) string {
	id = strings.TrimPrefix(strings.TrimPrefix(id, "/hostedzone/"), "hostedzone/")
	return "arn:aws:route53:::hostedzone/" + orUnknown(id)
}

// kmsKey is the key ARN pattern of a KMS key reference as RDS and the system file take it
// (a key id, a key ARN, alias/NAME or an alias ARN): KMS authorizes on the key, so an alias
// becomes every key of the region. managed is true for the AWS managed key (none named, or
// alias/aws/rds), which needs no IAM permission: its key policy lets the account use it
// through RDS.
func (e env) kmsKey(ref string) (arn string, managed bool) {
	switch {
	case ref == "" || ref == "alias/aws/rds" || strings.HasSuffix(ref, ":alias/aws/rds"):
		return "", true
	case ref == unknown:
		return e.arn("kms", "key/*"), false
	case strings.HasPrefix(ref, "arn:"):
		parts := strings.SplitN(ref, ":", 6)
		if len(parts) == 6 && strings.HasPrefix(parts[5], "key/") {
			return ref, false
		}
		if len(parts) == 6 {
			return "arn:aws:kms:" + parts[3] + ":" + parts[4] + ":key/*", false
		}
		return e.arn("kms", "key/*"), false
	case strings.HasPrefix(ref, "alias/"):
		return e.arn("kms", "key/*"), false
	}
	return e.arn("kms", "key/"+ref), false
}

// dbKey is the key the database's snapshots are encrypted with in the env's region: the
// system file's database.kmsKey there.
func (e env) dbKey() (string, bool) {
	if e.sys == nil {
		return e.kmsKey(unresolvedMark) // StepGrants without a system: not known
	}
	if r := e.sys.RegionOf(e.region); r != nil {
		return e.kmsKey(r.Database.KMSKey)
	}
	return e.kmsKey(unknown)
}

// kmsGrants are what RDS asks KMS on the caller's behalf to restore or copy under key.
func kmsGrants(key string, managed bool) []grant {
	if managed {
		return nil
	}
	return []grant{g("kms:CreateGrant", key), g("kms:DescribeKey", key)}
}

// executors says, per action, what its executor calls, and on what, given the step's
// inputs: each of the catalog's IAM actions of the action (catalog.Spec.IAM), with the
// resources the executor's calls touch. Tests hold it to the catalog and to awssim.
var executors = map[string]func(e env, in inputs) []grant{
	catalog.HealthEvents.Name: func(env, inputs) []grant { return []grant{g("health:DescribeEvents")} },
	catalog.VerifyNetwork.Name: func(env, inputs) []grant {
		return []grant{g("ec2:DescribeVpcs"), g("ec2:DescribeSubnets"), g("ec2:DescribeSecurityGroups"), g("ec2:DescribeRouteTables")}
	},
	catalog.RestoreSnapshot.Name: func(e env, in inputs) []grant {
		db := e.db(in.str("instanceId"))
		// The newest snapshot of sourceInstance is found by listing them all: DescribeDBSnapshots
		// with DBInstanceIdentifier names no snapshot, so it is authorized on every one.
		snap := e.snapshot(in.str("snapshotId"))
		restore := []string{db, snap}
		if sg := in.str("subnetGroup"); sg != "" {
			restore = append(restore, e.subgrp(sg))
		}
		return append([]grant{
			g("rds:DescribeDBInstances", db),
			g("rds:DescribeDBSnapshots", snap),
			g("rds:RestoreDBInstanceFromDBSnapshot", restore...),
			g("rds:AddTagsToResource", db),
		}, kmsGrants(e.dbKey())...)
	},
	catalog.RestorePointInTime.Name: func(e env, in inputs) []grant {
		db, src := e.db(in.str("instanceId")), e.db(in.str("sourceInstance"))
		restore := []string{db, src}
		if sg := in.str("subnetGroup"); sg != "" {
			restore = append(restore, e.subgrp(sg))
		}
		return append([]grant{
			g("rds:DescribeDBInstances", db, src),
			g("rds:RestoreDBInstanceToPointInTime", restore...),
			g("rds:AddTagsToResource", db),
		}, kmsGrants(e.dbKey())...)
	},
	catalog.Snapshot.Name: func(e env, in inputs) []grant {
		snap := e.snapshot(in.str("snapshotId"))
		return []grant{
			g("rds:DescribeDBSnapshots", snap),
			g("rds:CreateDBSnapshot", e.db(in.str("instanceId")), snap),
			g("rds:AddTagsToResource", snap), // its kirikae:run and kirikae:step tags
		}
	},
	catalog.CopySnapshot.Name: func(e env, in inputs) []grant {
		target := e.snapshot(in.str("targetSnapshotId"))
		source := in.str("sourceSnapshotArn")
		if !strings.HasPrefix(source, "arn:") {
			source = e.in(orUnknown(in.str("sourceRegion"))).snapshot(source)
		}
		key, managed := e.dbKey()
		if k := in.str("kmsKeyId"); k != "" {
			key, managed = e.kmsKey(k)
		}
		return append([]grant{
			g("rds:DescribeDBSnapshots", target),
			g("rds:CopyDBSnapshot", source, target),
		}, kmsGrants(key, managed)...)
	},
	catalog.Delete.Name: func(e env, in inputs) []grant {
		db, final := e.db(in.str("instanceId")), e.snapshot(in.str("finalSnapshotId"))
		return []grant{
			g("rds:DescribeDBInstances", db),
			g("rds:DescribeDBSnapshots", e.snapshot(in.str("verifiedCopy")), final),
			g("rds:DeleteDBInstance", db),
			g("rds:CreateDBSnapshot", db, final), // the final snapshot
		}
	},
	catalog.DeleteRestored.Name: func(e env, in inputs) []grant {
		db := e.db(in.str("instanceId"))
		final := e.snapshot(orUnknown(in.str("instanceId")) + "-*")
		snaps := []string{final}
		if src := in.str("sourceSnapshotId"); src != "" {
			snaps = append(snaps, e.snapshot(src))
		}
		return []grant{
			g("rds:DescribeDBInstances", db),
			g("rds:DescribeDBSnapshots", snaps...),
			g("rds:DeleteDBInstance", db),
			g("rds:CreateDBSnapshot", db, final),
		}
	},
	catalog.Stop.Name: func(e env, in inputs) []grant {
		db := e.db(in.str("instanceId"))
		return []grant{g("rds:DescribeDBInstances", db), g("rds:StopDBInstance", db)}
	},
	catalog.CreateReplicationGroup.Name: func(e env, in inputs) []grant {
		rg := e.replicationGroup(in.str("replicationGroupId"))
		create := []string{rg}
		if sg := in.str("subnetGroup"); sg != "" {
			create = append(create, e.named("elasticache", ":", "subnetgroup", sg))
		}
		return []grant{
			g("elasticache:DescribeReplicationGroups", rg),
			sometimes("elasticache:ListTagsForResource", rg), // adopting a group that exists
			g("elasticache:CreateReplicationGroup", create...),
			g("elasticache:AddTagsToResource", rg),
		}
	},
	catalog.DeleteReplicationGroup.Name: func(e env, in inputs) []grant {
		rg := e.replicationGroup(in.str("replicationGroupId"))
		return []grant{g("elasticache:DescribeReplicationGroups", rg), g("elasticache:DeleteReplicationGroup", rg)}
	},
	catalog.RestoreLatest.Name: func(e env, in inputs) []grant {
		return []grant{
			g("backup:ListRecoveryPointsByBackupVault", e.vault(in.str("vault"))),
			g("backup:StartRestoreJob", e.arn("backup", "recovery-point:*")),
			g("backup:DescribeRestoreJob"),
			g("iam:PassRole", orUnknownRole(e, in.str("iamRoleArn"))),
		}
	},
	catalog.DeleteRestoredJob.Name: func(e env, _ inputs) []grant {
		fs := e.arn("elasticfilesystem", "file-system/*")
		return []grant{g("backup:DescribeRestoreJob"), g("elasticfilesystem:DescribeFileSystems", fs), g("elasticfilesystem:DeleteFileSystem", fs)}
	},
	catalog.DeleteFileSystem.Name: func(e env, in inputs) []grant {
		fs := e.named("elasticfilesystem", "/", "file-system", in.str("fileSystemId"))
		return []grant{g("elasticfilesystem:DescribeFileSystems", fs), g("elasticfilesystem:DeleteFileSystem", fs)}
	},
	catalog.SecretPut.Name: func(e env, in inputs) []grant {
		s := e.secret(in.str("secretId"))
		return []grant{g("secretsmanager:GetSecretValue", s), g("secretsmanager:PutSecretValue", s)}
	},
	catalog.SecretRestoreVersion.Name: func(e env, in inputs) []grant {
		s := e.secret(in.str("secretId"))
		return []grant{g("secretsmanager:GetSecretValue", s), g("secretsmanager:UpdateSecretVersionStage", s)}
	},
	catalog.RegisterTaskDefinition.Name: func(e env, in inputs) []grant {
		out := []grant{g("ecs:DescribeTaskDefinition"), g("ecs:RegisterTaskDefinition")}
		if role := in.str("executionRoleArn"); role != "" {
			out = append(out, g("iam:PassRole", orUnknownRole(e, role)))
		}
		return out
	},
	catalog.DeregisterTaskDefinition.Name: func(env, inputs) []grant {
		return []grant{g("ecs:DescribeTaskDefinition"), g("ecs:DeregisterTaskDefinition")}
	},
	catalog.UpdateService.Name: func(e env, in inputs) []grant {
		svc := e.service(in.str("cluster"), in.str("service"))
		out := []grant{g("ecs:DescribeServices", svc), g("ecs:UpdateService", svc)}
		if in.str("taskDefinition") != "" { // resolved to its ARN first
			out = append(out, g("ecs:DescribeTaskDefinition"))
		}
		return out
	},
	catalog.WaitHealthy.Name: func(env, inputs) []grant {
		return []grant{g("elasticloadbalancing:DescribeLoadBalancers"), g("elasticloadbalancing:DescribeTargetGroups"),
			g("elasticloadbalancing:DescribeTargetHealth")}
	},
	catalog.UpsertAlias.Name: func(_ env, in inputs) []grant {
		// The zone is found by name: its id, and so its ARN, is known only at run time. The
		// change is narrowed instead to the one record, its type and UPSERT, by the
		// condition keys Route 53 gives IAM.
		zone := hostedZone(in.str("hostedZoneId"))
		change := g("route53:ChangeResourceRecordSets", zone)
		if name := in.str("recordName"); name != "" && !strings.Contains(name, unknown) {
			typ := strings.ToUpper(in.str("recordType"))
			if typ == "" {
				typ = "A"
			}
			names := "route53:ChangeResourceRecordSetsNormalizedRecordNames"
			change.condition = map[string]map[string][]string{
				"ForAllValues:StringEquals": {
					names: {strings.TrimSuffix(strings.ToLower(name), ".")},
					"route53:ChangeResourceRecordSetsRecordTypes": {typ},
					"route53:ChangeResourceRecordSetsActions":     {"UPSERT"},
				},
				// ForAllValues holds for a request without the key: insist on it.
				"Null": {names: {"false"}},
			}
		}
		return []grant{
			g("route53:ListHostedZonesByName"),
			g("elasticloadbalancing:DescribeLoadBalancers"),
			g("route53:ListResourceRecordSets", zone),
			change,
			g("route53:GetChange", "arn:aws:route53:::change/*"),
			g("route53:TestDNSAnswer"),
		}
	},
	catalog.PutAlarm.Name: func(e env, in inputs) []grant {
		a := e.alarm(in.str("alarmName"))
		return []grant{g("cloudwatch:DescribeAlarms", a), g("cloudwatch:PutMetricAlarm", a)}
	},
	catalog.DeleteAlarm.Name: func(e env, in inputs) []grant {
		a := e.alarm(in.str("alarmName"))
		return []grant{g("cloudwatch:DescribeAlarms", a), g("cloudwatch:DeleteAlarms", a)}
	},
	catalog.Publish.Name: func(e env, in inputs) []grant {
		return []grant{g("sns:Publish", topic(e, in.str("topicArn")))}
	},
	catalog.Notify.Name: func(e env, in inputs) []grant {
		if t := in.str("topicArn"); t != "" {
			return []grant{g("sns:Publish", topic(e, t))}
		}
		return nil // a webhook only
	},
}

// beyondCatalog are the IAM actions an executor needs that its catalog entry does not list
// (yet): aws.rds.snapshot creates its snapshot with tags, and RDS authorizes tags given on
// create as rds:AddTagsToResource. The catalog's list should carry it.
var beyondCatalog = map[string][]string{catalog.Snapshot.Name: {"rds:AddTagsToResource"}}

// ExecutorIAM lists the IAM actions the executor of action may need: its catalog entry's,
// and those beyondCatalog adds.
func ExecutorIAM(action string) []string {
	a, _ := catalog.Lookup(action)
	return append(slices.Clone(a.IAM), beyondCatalog[action]...)
}

func topic(e env, arn string) string {
	if arn == "" || arn == unknown {
		return e.arn("sns", "*")
	}
	return arn
}

func orUnknownRole(e env, arn string) string {
	if arn == "" || arn == unknown {
		return "arn:aws:iam::" + e.account + ":role/*"
	}
	return arn
}

// checks says, per action, what its plan check calls (agent/aws CheckIAM), and on what. A
// check reads only what the step's inputs name, and skips an input not resolved before the
// run, so every read is on a resource the step itself touches or lists.
var checks = map[string]func(e env, in inputs) []grant{
	catalog.UpsertAlias.Name: func(_ env, in inputs) []grant {
		out := []grant{g("route53:ListHostedZonesByName"), g("elasticloadbalancing:DescribeLoadBalancers")}
		if id := in.str("hostedZoneId"); id != "" {
			out = append(out, g("route53:GetHostedZone", hostedZone(id)))
		}
		return out
	},
	catalog.RegisterTaskDefinition.Name: func(e env, in inputs) []grant {
		var out []grant
		switch family := in.str("family"); {
		case strings.Contains(family, unknown):
			out = append(out, sometimes("ecs:DescribeTaskDefinition"))
		case strings.Contains(family, ":"): // a family with a revision: the check reads the newest
			out = append(out, g("ecs:DescribeTaskDefinition"))
		}
		var secrets []string
		for _, s := range in.values("secrets") {
			secrets = append(secrets, e.secret(s))
		}
		if len(secrets) > 0 {
			out = append(out, g("secretsmanager:DescribeSecret", secrets...))
		}
		return out
	},
	catalog.UpdateService.Name: func(e env, in inputs) []grant {
		out := []grant{g("ecs:DescribeClusters", e.cluster(in.str("cluster"))),
			g("ecs:DescribeServices", e.service(in.str("cluster"), in.str("service")))}
		if in.str("taskDefinition") != "" {
			out = append(out, g("ecs:DescribeTaskDefinition"))
		}
		return out
	},
	catalog.RestoreSnapshot.Name: func(e env, in inputs) []grant {
		out := []grant{g("rds:DescribeDBSnapshots", e.snapshot(in.str("snapshotId"))), g("ec2:DescribeSecurityGroups")}
		if sg := in.str("subnetGroup"); sg != "" {
			out = append(out, g("rds:DescribeDBSubnetGroups", e.subgrp(sg)))
		}
		return out
	},
	catalog.CopySnapshot.Name: func(e env, in inputs) []grant {
		source := in.str("sourceSnapshotArn")
		if !strings.HasPrefix(source, "arn:") {
			source = e.in(orUnknown(in.str("sourceRegion"))).snapshot(source)
		}
		out := []grant{g("rds:DescribeDBSnapshots", source)}
		if k, managed := e.kmsKey(in.str("kmsKeyId")); !managed {
			out = append(out, sometimes("kms:DescribeKey", k)) // only for an agent given Options.KMSKeyExists
		}
		return out
	},
	catalog.Delete.Name: func(e env, in inputs) []grant {
		return []grant{g("rds:DescribeDBInstances", e.db(in.str("instanceId"))),
			g("rds:DescribeDBSnapshots", e.snapshot(in.str("verifiedCopy")), e.snapshot(in.str("finalSnapshotId")))}
	},
	catalog.CreateReplicationGroup.Name: func(e env, in inputs) []grant {
		out := []grant{g("ec2:DescribeSecurityGroups")}
		if sg := in.str("subnetGroup"); sg != "" {
			out = append(out, g("elasticache:DescribeCacheSubnetGroups", e.named("elasticache", ":", "subnetgroup", sg)))
		}
		return out
	},
	catalog.SecretPut.Name: func(e env, in inputs) []grant {
		return []grant{g("secretsmanager:DescribeSecret", e.secret(in.str("secretId")))}
	},
	catalog.VerifyNetwork.Name: func(env, inputs) []grant {
		return []grant{g("ec2:DescribeVpcs"), g("ec2:DescribeSecurityGroups")}
	},
	catalog.WaitHealthy.Name: func(env, inputs) []grant {
		return []grant{g("elasticloadbalancing:DescribeTargetGroups")}
	},
	catalog.RestoreLatest.Name: func(e env, in inputs) []grant {
		return []grant{g("backup:ListRecoveryPointsByBackupVault", e.vault(in.str("vault"))), sometimes("backup:ListBackupVaults")} // to offer the region's vaults when the one named is missing
	},
	catalog.PutAlarm.Name: func(e env, in inputs) []grant {
		var topics []string
		for _, t := range in.strs("alarmActions") {
			if strings.HasPrefix(t, "arn:aws:sns:") {
				topics = append(topics, t)
			}
		}
		if len(topics) == 0 {
			return nil
		}
		return []grant{g("sns:GetTopicAttributes", topics...)}
	},
	catalog.Notify.Name: func(e env, in inputs) []grant {
		if t := in.str("topicArn"); t != "" {
			return []grant{g("sns:GetTopicAttributes", topic(e, t))}
		}
		return nil
	},
	catalog.Publish.Name: func(e env, in inputs) []grant {
		return []grant{g("sns:GetTopicAttributes", topic(e, in.str("topicArn")))}
	},
}
