package awssim_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	efstypes "github.com/aws/aws-sdk-go-v2/service/efs/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/kirikae/kirikae/awssim"
)

// The tests here hold awssim to what AWS answers where a differential run (the real AWS
// CLI v2 against awssim and AWS's documentation) found it answering otherwise: endpoints
// by ElastiCache cluster mode, tags kept on every create, Describe filters that filter,
// unknown filter names refused, ECS revisions that are not numbers, and paging. Each
// finding has a test through the Go SDK and one through the AWS CLI.

// cliJSON runs a CLI command that must succeed and decodes its output into v.
func cliJSON(c *cliRunner, region string, v any, args ...string) {
	c.t.Helper()
	out := c.ok(region, args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// cliFails runs a CLI command the service must refuse (the CLI exits 254 on an error the
// service answered) and returns its stderr, which must hold every one of want.
func cliFails(c *cliRunner, region string, want []string, args ...string) string {
	c.t.Helper()
	res := c.run(region, args...)
	if res.Code != 254 {
		c.t.Fatalf("aws %s: exit %d, want 254 (a service error)\nstdout: %s\nstderr: %s", strings.Join(args, " "), res.Code, res.Stdout, res.Stderr)
	}
	for _, w := range want {
		if !strings.Contains(res.Stderr, w) {
			c.t.Fatalf("aws %s: stderr lacks %q:\n%s", strings.Join(args, " "), w, res.Stderr)
		}
	}
	return res.Stderr
}

// wantAPIError fails unless err is the API error code whose message holds msg.
func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	wantCode(t, err, code)
	var ae smithy.APIError
	if errors.As(err, &ae) && !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("%s: message %q, want it to hold %q", code, ae.ErrorMessage(), msg)
	}
}

// unchanged fails if the journal grew since before: a refused call changes nothing.
func unchanged(t *testing.T, e *env, before int, what string) {
	t.Helper()
	if j := e.sim.Journal(); len(j) != before {
		t.Fatalf("%s changed the world: journal %d → %d entries: %+v", what, before, len(j), j[before:])
	}
}

// Row 3 -------------------------------------------------------------------------------------

// TestReplicationGroupEndpointsFollowClusterMode: a cluster-mode-disabled group (the seed's
// --num-cache-clusters 2, and the fixture's production group) has NodeGroups[0]'s
// PrimaryEndpoint and ReaderEndpoint and no ConfigurationEndpoint; a cluster-mode-enabled
// one (a ".cluster.on" parameter group, or ClusterMode enabled) has a ConfigurationEndpoint
// and shards without primary endpoints, as on AWS.
func TestReplicationGroupEndpointsFollowClusterMode(t *testing.T) {
	e := newEnv(t, 0)
	c := ctx(t)
	ec := elasticache.NewFromConfig(e.cfg(west))
	created := must[*elasticache.CreateReplicationGroupOutput](t)(ec.CreateReplicationGroup(c, &elasticache.CreateReplicationGroupInput{
		ReplicationGroupId: aws.String("kaigo-subsys-dr"), ReplicationGroupDescription: aws.String("DR ElastiCache for kaigo subsystem"),
		Engine: aws.String("redis"), CacheNodeType: aws.String("cache.r6g.large"), NumCacheClusters: aws.Int32(2),
		AutomaticFailoverEnabled: aws.Bool(true), CacheSubnetGroupName: aws.String(awssim.KaigoDRCacheSubnets), EngineVersion: aws.String("7.0")}))
	if g := created.ReplicationGroup; g.ConfigurationEndpoint != nil || aws.ToBool(g.ClusterEnabled) {
		t.Fatalf("create answered ConfigurationEndpoint %+v, ClusterEnabled %v for a cluster-mode-disabled group", g.ConfigurationEndpoint, aws.ToBool(g.ClusterEnabled))
	}
	must[*elasticache.CreateReplicationGroupOutput](t)(ec.CreateReplicationGroup(c, &elasticache.CreateReplicationGroupInput{
		ReplicationGroupId: aws.String("kaigo-sharded"), ReplicationGroupDescription: aws.String("sharded"),
		CacheParameterGroupName: aws.String("default.redis7.cluster.on"), NumNodeGroups: aws.Int32(3), ReplicasPerNodeGroup: aws.Int32(1),
		AutomaticFailoverEnabled: aws.Bool(true)}))
	must[*elasticache.CreateReplicationGroupOutput](t)(ec.CreateReplicationGroup(c, &elasticache.CreateReplicationGroupInput{
		ReplicationGroupId: aws.String("kaigo-mode-on"), ReplicationGroupDescription: aws.String("cluster mode by ClusterMode"),
		ClusterMode: ectypes.ClusterModeEnabled, AutomaticFailoverEnabled: aws.Bool(true)}))
	before := len(e.sim.Journal())
	for _, bad := range []struct {
		name, code string
		in         elasticache.CreateReplicationGroupInput
	}{
		{"shards without cluster mode", "InvalidParameterCombination", elasticache.CreateReplicationGroupInput{NumNodeGroups: aws.Int32(2), AutomaticFailoverEnabled: aws.Bool(true)}},
		{"cluster mode without failover", "InvalidParameterCombination", elasticache.CreateReplicationGroupInput{CacheParameterGroupName: aws.String("default.redis7.cluster.on")}},
		{"disabled yet a cluster.on group", "InvalidParameterCombination", elasticache.CreateReplicationGroupInput{ClusterMode: ectypes.ClusterModeDisabled,
			CacheParameterGroupName: aws.String("default.redis7.cluster.on"), AutomaticFailoverEnabled: aws.Bool(true)}},
		{"six replicas", "InvalidParameterValue", elasticache.CreateReplicationGroupInput{ClusterMode: ectypes.ClusterModeEnabled,
			ReplicasPerNodeGroup: aws.Int32(6), AutomaticFailoverEnabled: aws.Bool(true)}},
	} {
		in := bad.in
		in.ReplicationGroupId, in.ReplicationGroupDescription = aws.String("refused"), aws.String(bad.name)
		_, err := ec.CreateReplicationGroup(c, &in)
		wantCode(t, err, bad.code)
	}
	unchanged(t, e, before, "a refused CreateReplicationGroup")

	e.clock.Advance(16 * time.Minute)
	groups := map[string]ectypes.ReplicationGroup{}
	for _, g := range must[*elasticache.DescribeReplicationGroupsOutput](t)(ec.DescribeReplicationGroups(c, &elasticache.DescribeReplicationGroupsInput{})).ReplicationGroups {
		groups[aws.ToString(g.ReplicationGroupId)] = g
	}
	if _, ok := groups["refused"]; ok || len(groups) != 3 {
		t.Fatalf("groups %v, want the three created", groups)
	}
	prod := must[*elasticache.DescribeReplicationGroupsOutput](t)(elasticache.NewFromConfig(e.cfg(east)).DescribeReplicationGroups(c,
		&elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("kaigo-subsys-prod")})).ReplicationGroups[0]
	for name, g := range map[string]ectypes.ReplicationGroup{"kaigo-subsys-dr": groups["kaigo-subsys-dr"], "fixture kaigo-subsys-prod": prod} {
		if aws.ToString(g.Status) != "available" {
			t.Fatalf("%s: %s", name, aws.ToString(g.Status))
		}
		if g.ConfigurationEndpoint != nil || aws.ToBool(g.ClusterEnabled) || len(g.NodeGroups) != 1 {
			t.Errorf("%s (cluster mode disabled): ConfigurationEndpoint %+v, ClusterEnabled %v, %d node groups; want none, false, 1",
				name, g.ConfigurationEndpoint, aws.ToBool(g.ClusterEnabled), len(g.NodeGroups))
			continue
		}
		ng := g.NodeGroups[0]
		if ng.PrimaryEndpoint == nil || ng.ReaderEndpoint == nil || !strings.HasPrefix(aws.ToString(ng.PrimaryEndpoint.Address), "master.") {
			t.Errorf("%s: node group 0001 endpoints %+v / %+v", name, ng.PrimaryEndpoint, ng.ReaderEndpoint)
		}
		for _, m := range ng.NodeGroupMembers {
			if m.ReadEndpoint == nil || aws.ToString(m.CurrentRole) == "" {
				t.Errorf("%s: member %s lacks ReadEndpoint or CurrentRole", name, aws.ToString(m.CacheClusterId))
			}
		}
	}
	for name, shards := range map[string]int{"kaigo-sharded": 3, "kaigo-mode-on": 1} {
		g := groups[name]
		if g.ConfigurationEndpoint == nil || !strings.HasPrefix(aws.ToString(g.ConfigurationEndpoint.Address), "clustercfg.") || !aws.ToBool(g.ClusterEnabled) {
			t.Errorf("%s (cluster mode enabled): ConfigurationEndpoint %+v, ClusterEnabled %v", name, g.ConfigurationEndpoint, aws.ToBool(g.ClusterEnabled))
		}
		if len(g.NodeGroups) != shards {
			t.Errorf("%s: %d node groups, want %d", name, len(g.NodeGroups), shards)
		}
		for _, ng := range g.NodeGroups {
			if ng.PrimaryEndpoint != nil || ng.ReaderEndpoint != nil || aws.ToString(ng.Slots) == "" {
				t.Errorf("%s: shard %s has primary %+v, reader %+v, slots %q", name, aws.ToString(ng.NodeGroupId), ng.PrimaryEndpoint, ng.ReaderEndpoint, aws.ToString(ng.Slots))
			}
			for _, m := range ng.NodeGroupMembers {
				if m.ReadEndpoint != nil || m.CurrentRole != nil {
					t.Errorf("%s: member %s has ReadEndpoint or CurrentRole, which cluster mode enabled has not", name, aws.ToString(m.CacheClusterId))
				}
			}
		}
	}
	if n := len(groups["kaigo-sharded"].MemberClusters); n != 6 {
		t.Errorf("kaigo-sharded: %d member clusters, want 3 shards × (1 primary + 1 replica)", n)
	}
}

// TestReplicationGroupEndpointsFollowClusterModeCLI: the seed's step 5 through the AWS CLI,
// then describe-replication-groups: no ConfigurationEndpoint (the seed's --query on it
// prints None, as it does against AWS); NodeGroups[0].PrimaryEndpoint instead.
func TestReplicationGroupEndpointsFollowClusterModeCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	cli := newCLI(t, e.endpoint)
	cli.ok(west, "elasticache", "create-replication-group", "--replication-group-id", "kaigo-subsys-dr",
		"--replication-group-description", "DR ElastiCache for kaigo subsystem", "--engine", "redis",
		"--cache-node-type", "cache.r6g.large", "--num-cache-clusters", "2", "--automatic-failover-enabled",
		"--cache-subnet-group-name", awssim.KaigoDRCacheSubnets, "--security-group-ids", "sg-dr-elasticache", "--engine-version", "7.0")
	cli.ok(west, "elasticache", "create-replication-group", "--replication-group-id", "kaigo-sharded",
		"--replication-group-description", "sharded", "--engine", "redis", "--num-node-groups", "2", "--replicas-per-node-group", "1",
		"--cache-parameter-group-name", "default.redis7.cluster.on", "--automatic-failover-enabled")
	e.clock.Advance(16 * time.Minute)
	type endpoint struct{ Address string }
	var out struct {
		ReplicationGroups []struct {
			ReplicationGroupID    string `json:"ReplicationGroupId"`
			ConfigurationEndpoint *endpoint
			ClusterEnabled        *bool
			NodeGroups            []struct {
				PrimaryEndpoint *endpoint
				ReaderEndpoint  *endpoint
			}
		}
	}
	cliJSON(cli, west, &out, "elasticache", "describe-replication-groups")
	if len(out.ReplicationGroups) != 2 {
		t.Fatalf("%d groups, want 2", len(out.ReplicationGroups))
	}
	for _, g := range out.ReplicationGroups {
		switch g.ReplicationGroupID {
		case "kaigo-subsys-dr":
			if g.ConfigurationEndpoint != nil || g.ClusterEnabled == nil || *g.ClusterEnabled || len(g.NodeGroups) != 1 ||
				g.NodeGroups[0].PrimaryEndpoint == nil || g.NodeGroups[0].ReaderEndpoint == nil {
				t.Errorf("cluster mode disabled: %+v", g)
			}
		case "kaigo-sharded":
			if g.ConfigurationEndpoint == nil || g.ClusterEnabled == nil || !*g.ClusterEnabled || len(g.NodeGroups) != 2 ||
				g.NodeGroups[0].PrimaryEndpoint != nil {
				t.Errorf("cluster mode enabled: %+v", g)
			}
		}
	}
	if got := strings.TrimSpace(cli.ok(west, "elasticache", "describe-replication-groups", "--replication-group-id", "kaigo-subsys-dr",
		"--query", "ReplicationGroups[0].ConfigurationEndpoint.Address", "--output", "text")); got != "None" {
		t.Errorf("the seed's ConfigurationEndpoint query printed %q, want None as on AWS", got)
	}
	if got := strings.TrimSpace(cli.ok(east, "elasticache", "describe-replication-groups", "--replication-group-id", "kaigo-subsys-prod",
		"--query", "ReplicationGroups[0].NodeGroups[0].PrimaryEndpoint.Address", "--output", "text")); !strings.HasPrefix(got, "master.kaigo-subsys-prod.") {
		t.Errorf("production primary endpoint %q", got)
	}
}

// Row 4 -------------------------------------------------------------------------------------

func ecsTagString(tags []ecstypes.Tag) string {
	return tagString(tags, func(t ecstypes.Tag) (*string, *string) { return t.Key, t.Value })
}

// TestTagsKeptWhereAWSReturnsThem: the creates awssim implements keep the tags they are
// given (ECS RegisterTaskDefinition; Backup StartRestoreJob's copy of the backup's tags onto
// the restored EFS file system) and the fixture's resources carry theirs; each is returned
// where AWS returns it: ECS only with include TAGS and from ListTagsForResource, ELBv2
// DescribeTags, Secrets Manager DescribeSecret, EFS DescribeFileSystems.
func TestTagsKeptWhereAWSReturnsThem(t *testing.T) {
	e := newEnv(t, 0)
	c := ctx(t)
	cs := ecs.NewFromConfig(e.cfg(west))
	reg := must[*ecs.RegisterTaskDefinitionOutput](t)(cs.RegisterTaskDefinition(c, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(awssim.KaigoDRTaskFamily), ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("kaigo:dr")}},
		Tags: []ecstypes.Tag{{Key: aws.String("kirikae:run"), Value: aws.String("run-1")}, {Key: aws.String("kirikae:step"), Value: aws.String("register")}}}))
	const want = "kirikae:run=run-1;kirikae:step=register;"
	if got := ecsTagString(reg.Tags); got != want {
		t.Fatalf("RegisterTaskDefinition answered tags %q, want %q", got, want)
	}
	rev := aws.ToString(reg.TaskDefinition.TaskDefinitionArn)
	plain := must[*ecs.DescribeTaskDefinitionOutput](t)(cs.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(rev)}))
	if len(plain.Tags) != 0 {
		t.Fatalf("DescribeTaskDefinition without include TAGS answered tags %q", ecsTagString(plain.Tags))
	}
	withTags := must[*ecs.DescribeTaskDefinitionOutput](t)(cs.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(rev),
		Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}}))
	if got := ecsTagString(withTags.Tags); got != want {
		t.Fatalf("DescribeTaskDefinition include TAGS: %q, want %q", got, want)
	}
	if got := ecsTagString(must[*ecs.ListTagsForResourceOutput](t)(cs.ListTagsForResource(c, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(rev)})).Tags); got != want {
		t.Fatalf("ECS ListTagsForResource of %s: %q, want %q", rev, got, want)
	}
	svcs := must[*ecs.DescribeServicesOutput](t)(cs.DescribeServices(c, &ecs.DescribeServicesInput{Cluster: aws.String(awssim.KaigoDRCluster),
		Services: []string{awssim.KaigoDRService}, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}}))
	if got := ecsTagString(svcs.Services[0].Tags); got != "Environment=dr;" {
		t.Fatalf("DescribeServices include TAGS: %q", got)
	}
	if got := ecsTagString(must[*ecs.ListTagsForResourceOutput](t)(cs.ListTagsForResource(c, &ecs.ListTagsForResourceInput{
		ResourceArn: svcs.Services[0].ServiceArn})).Tags); got != "Environment=dr;" {
		t.Fatalf("ListTagsForResource of the DR service: %q", got)
	}
	before := len(e.sim.Journal())
	many := make([]ecstypes.Tag, 51)
	for i := range many {
		many[i] = ecstypes.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")}
	}
	_, err := cs.RegisterTaskDefinition(c, &ecs.RegisterTaskDefinitionInput{Family: aws.String(awssim.KaigoDRTaskFamily),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("kaigo:dr")}}, Tags: many})
	wantAPIError(t, err, "InvalidParameterException", "tags")
	unchanged(t, e, before, "a RegisterTaskDefinition with 51 tags")

	lb := elbv2.NewFromConfig(e.cfg(west))
	tags := must[*elbv2.DescribeTagsOutput](t)(lb.DescribeTags(c, &elbv2.DescribeTagsInput{ResourceArns: []string{awssim.KaigoTargetGroupARN(west)}}))
	if len(tags.TagDescriptions) != 1 || tagString(tags.TagDescriptions[0].Tags, func(t elbv2types.Tag) (*string, *string) { return t.Key, t.Value }) !=
		"Name="+awssim.KaigoDRTargetGroup+";Environment=dr;" {
		t.Fatalf("ELBv2 DescribeTags: %+v", tags.TagDescriptions)
	}
	tgARN := awssim.KaigoTargetGroupARN(west)
	_, err = lb.DescribeTags(c, &elbv2.DescribeTagsInput{ResourceArns: []string{tgARN[:len(tgARN)-16] + "ffffffffffffffff"}})
	wantCode(t, err, "TargetGroupNotFound")

	sec := must[*secretsmanager.DescribeSecretOutput](t)(secretsmanager.NewFromConfig(e.cfg(west)).DescribeSecret(c,
		&secretsmanager.DescribeSecretInput{SecretId: aws.String(awssim.KaigoDRDBSecret)}))
	if len(sec.Tags) != 1 || aws.ToString(sec.Tags[0].Key) != "Environment" || aws.ToString(sec.Tags[0].Value) != "dr" {
		t.Fatalf("DescribeSecret tags %+v", sec.Tags)
	}

	// A restore copies the backup's tags onto the new file system only when asked to.
	bk := backup.NewFromConfig(e.cfg(west))
	pts := must[*backup.ListRecoveryPointsByBackupVaultOutput](t)(bk.ListRecoveryPointsByBackupVault(c, &backup.ListRecoveryPointsByBackupVaultInput{
		BackupVaultName: aws.String(awssim.KaigoDRVault)}))
	for _, copyTags := range []bool{true, false} {
		must[*backup.StartRestoreJobOutput](t)(bk.StartRestoreJob(c, &backup.StartRestoreJobInput{RecoveryPointArn: pts.RecoveryPoints[0].RecoveryPointArn,
			IamRoleArn: aws.String("arn:aws:iam::" + awssim.AccountID + ":role/backup"), CopySourceTagsToRestoredResource: copyTags,
			Metadata: map[string]string{"newFileSystem": "true", "CreationToken": fmt.Sprintf("restore-%v", copyTags)}}))
	}
	fs := efs.NewFromConfig(e.cfg(west))
	for _, copyTags := range []bool{true, false} {
		out := must[*efs.DescribeFileSystemsOutput](t)(fs.DescribeFileSystems(c, &efs.DescribeFileSystemsInput{CreationToken: aws.String(fmt.Sprintf("restore-%v", copyTags))}))
		if len(out.FileSystems) != 1 {
			t.Fatalf("restored file system with token restore-%v: %d found", copyTags, len(out.FileSystems))
		}
		got := tagString(out.FileSystems[0].Tags, func(t efstypes.Tag) (*string, *string) { return t.Key, t.Value })
		wantTags, wantName := "", ""
		if copyTags {
			wantTags, wantName = "Name=kaigo-subsys-prod-efs;Environment=prod;", "kaigo-subsys-prod-efs"
		}
		if got != wantTags || aws.ToString(out.FileSystems[0].Name) != wantName {
			t.Errorf("CopySourceTagsToRestoredResource=%v: tags %q, Name %q; want %q, %q", copyTags, got, aws.ToString(out.FileSystems[0].Name), wantTags, wantName)
		}
	}
}

// TestTagsKeptWhereAWSReturnsThemCLI: the same through the AWS CLI, with a cross-region
// copy-db-snapshot --copy-tags: the copy has its own SnapshotCreateTime, the original's
// OriginalSnapshotCreateTime, and the tags.
func TestTagsKeptWhereAWSReturnsThemCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	cli := newCLI(t, e.endpoint)
	var reg struct {
		TaskDefinition struct{ TaskDefinitionArn string }
		Tags           []struct{ Key, Value string }
	}
	cliJSON(cli, west, &reg, "ecs", "register-task-definition", "--family", awssim.KaigoDRTaskFamily,
		"--container-definitions", `[{"name":"app","image":"kaigo:dr","memory":512}]`, "--tags", "key=kirikae:run,value=run-1")
	if len(reg.Tags) != 1 || reg.Tags[0].Key != "kirikae:run" || reg.Tags[0].Value != "run-1" {
		t.Fatalf("register-task-definition tags %+v", reg.Tags)
	}
	for _, args := range [][]string{
		{"ecs", "describe-task-definition", "--task-definition", reg.TaskDefinition.TaskDefinitionArn, "--include", "TAGS", "--query", "tags[0].value", "--output", "text"},
		{"ecs", "list-tags-for-resource", "--resource-arn", reg.TaskDefinition.TaskDefinitionArn, "--query", "tags[0].value", "--output", "text"},
	} {
		if got := strings.TrimSpace(cli.ok(west, args...)); got != "run-1" {
			t.Errorf("aws %s: %q, want run-1", strings.Join(args[:2], " "), got)
		}
	}
	if got := strings.TrimSpace(cli.ok(west, "elbv2", "describe-tags", "--resource-arns", awssim.KaigoTargetGroupARN(west),
		"--query", "TagDescriptions[0].Tags[?Key=='Environment'].Value | [0]", "--output", "text")); got != "dr" {
		t.Errorf("elbv2 describe-tags: %q", got)
	}
	if got := strings.TrimSpace(cli.ok(west, "secretsmanager", "describe-secret", "--secret-id", awssim.KaigoDRRedisSecret,
		"--query", "Tags[0].Value", "--output", "text")); got != "dr" {
		t.Errorf("secretsmanager describe-secret tags: %q", got)
	}

	type snap struct {
		DBSnapshotArn, SnapshotCreateTime, OriginalSnapshotCreateTime string
		TagList                                                       []struct{ Key, Value string }
	}
	var src struct{ DBSnapshot snap }
	cliJSON(cli, east, &src, "rds", "create-db-snapshot", "--db-instance-identifier", awssim.KaigoProdInstance,
		"--db-snapshot-identifier", "tagged", "--tags", "Key=kirikae:run,Value=run-1")
	e.clock.Advance(time.Hour)
	var cp struct{ DBSnapshot snap }
	cliJSON(cli, west, &cp, "rds", "copy-db-snapshot", "--source-db-snapshot-identifier", src.DBSnapshot.DBSnapshotArn,
		"--target-db-snapshot-identifier", "tagged-copy", "--source-region", east, "--copy-tags",
		"--kms-key-id", "arn:aws:kms:us-west-2:"+awssim.AccountID+":key/dr-key-id")
	if cp.DBSnapshot.SnapshotCreateTime == src.DBSnapshot.SnapshotCreateTime || cp.DBSnapshot.OriginalSnapshotCreateTime != src.DBSnapshot.SnapshotCreateTime {
		t.Errorf("cross-region copy: SnapshotCreateTime %s (source %s), OriginalSnapshotCreateTime %s; want a new one and the source's",
			cp.DBSnapshot.SnapshotCreateTime, src.DBSnapshot.SnapshotCreateTime, cp.DBSnapshot.OriginalSnapshotCreateTime)
	}
	if len(cp.DBSnapshot.TagList) != 1 || cp.DBSnapshot.TagList[0].Value != "run-1" {
		t.Errorf("copy TagList %+v", cp.DBSnapshot.TagList)
	}
}

// Row 5 -------------------------------------------------------------------------------------

// TestDescribeFiltersNarrowTheAnswer: every filter AWS documents for the Describe calls
// kirikae and the seed use filters, with AWS's matching: RDS by exact value, identifiers
// or ARNs; EC2 with wildcards, every filter having to match.
func TestDescribeFiltersNarrowTheAnswer(t *testing.T) {
	e := newEnv(t, 0)
	c := ctx(t)
	r := rds.NewFromConfig(e.cfg(east))
	f := func(name string, vals ...string) []rdstypes.Filter {
		return []rdstypes.Filter{{Name: aws.String(name), Values: vals}}
	}
	prod := must[*rds.DescribeDBInstancesOutput](t)(r.DescribeDBInstances(c, &rds.DescribeDBInstancesInput{})).DBInstances
	if len(prod) != 1 {
		t.Fatalf("%d instances in us-east-1, want the fixture's 1", len(prod))
	}
	dbi := aws.ToString(prod[0].DbiResourceId)
	for _, tc := range []struct {
		name    string
		filters []rdstypes.Filter
		id      string
		want    int
	}{
		{"engine mysql", f("engine", "mysql"), "", 0},
		{"engine postgres or mysql", f("engine", "mysql", "postgres"), "", 1},
		{"db-instance-id by ARN", f("db-instance-id", aws.ToString(prod[0].DBInstanceArn)), "", 1},
		{"db-instance-id other", f("db-instance-id", "nope"), "", 0},
		{"dbi-resource-id", f("dbi-resource-id", dbi), "", 1},
		{"db-cluster-id", f("db-cluster-id", "any-cluster"), "", 0},
		{"domain", f("domain", "d-1234567890"), "", 0},
		{"every filter must match", append(f("engine", "postgres"), f("db-instance-id", "nope")...), "", 0},
		{"identifier and a filter", f("engine", "mysql"), awssim.KaigoProdInstance, 0},
	} {
		in := &rds.DescribeDBInstancesInput{Filters: tc.filters}
		if tc.id != "" {
			in.DBInstanceIdentifier = aws.String(tc.id)
		}
		if got := len(must[*rds.DescribeDBInstancesOutput](t)(r.DescribeDBInstances(c, in)).DBInstances); got != tc.want {
			t.Errorf("DescribeDBInstances %s: %d instances, want %d", tc.name, got, tc.want)
		}
	}
	w := rds.NewFromConfig(e.cfg(west))
	all := must[*rds.DescribeDBSnapshotsOutput](t)(w.DescribeDBSnapshots(c, &rds.DescribeDBSnapshotsInput{})).DBSnapshots
	if len(all) != 7 || aws.ToString(all[0].DbiResourceId) != dbi {
		t.Fatalf("%d DR copies, the first of DbiResourceId %q; want 7 of the source's %q", len(all), aws.ToString(all[0].DbiResourceId), dbi)
	}
	one := aws.ToString(all[3].DBSnapshotIdentifier)
	for _, tc := range []struct {
		name    string
		filters []rdstypes.Filter
		want    int
	}{
		{"snapshot-type manual", f("snapshot-type", "manual"), 0},
		{"snapshot-type automated", f("snapshot-type", "automated"), 7},
		{"db-snapshot-id", f("db-snapshot-id", one), 1},
		{"dbi-resource-id", f("dbi-resource-id", dbi), 7},
		{"dbi-resource-id other", f("dbi-resource-id", "db-OTHER"), 0},
		{"engine mysql", f("engine", "mysql"), 0},
		{"db-instance-id by ARN", f("db-instance-id", aws.ToString(prod[0].DBInstanceArn)), 7},
	} {
		if got := len(must[*rds.DescribeDBSnapshotsOutput](t)(w.DescribeDBSnapshots(c, &rds.DescribeDBSnapshotsInput{Filters: tc.filters})).DBSnapshots); got != tc.want {
			t.Errorf("DescribeDBSnapshots %s: %d snapshots, want %d", tc.name, got, tc.want)
		}
	}
	if got := len(must[*rds.DescribeDBSnapshotsOutput](t)(w.DescribeDBSnapshots(c, &rds.DescribeDBSnapshotsInput{DbiResourceId: aws.String(dbi)})).DBSnapshots); got != 7 {
		t.Errorf("DescribeDBSnapshots DbiResourceId: %d", got)
	}

	x := ec2.NewFromConfig(e.cfg(west))
	ef := func(name string, vals ...string) []ec2types.Filter {
		return []ec2types.Filter{{Name: aws.String(name), Values: vals}}
	}
	vpcs := func(fs []ec2types.Filter) int {
		return len(must[*ec2.DescribeVpcsOutput](t)(x.DescribeVpcs(c, &ec2.DescribeVpcsInput{Filters: fs})).Vpcs)
	}
	subnets := func(fs []ec2types.Filter) int {
		return len(must[*ec2.DescribeSubnetsOutput](t)(x.DescribeSubnets(c, &ec2.DescribeSubnetsInput{Filters: fs})).Subnets)
	}
	groups := func(fs []ec2types.Filter) int {
		return len(must[*ec2.DescribeSecurityGroupsOutput](t)(x.DescribeSecurityGroups(c, &ec2.DescribeSecurityGroupsInput{Filters: fs})).SecurityGroups)
	}
	tables := func(fs []ec2types.Filter) int {
		return len(must[*ec2.DescribeRouteTablesOutput](t)(x.DescribeRouteTables(c, &ec2.DescribeRouteTablesInput{Filters: fs})).RouteTables)
	}
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"vpcs, all (the DR VPC and the default VPC)", vpcs(nil), 2},
		{"vpcs tag-key Environment", vpcs(ef("tag-key", "Environment")), 1},
		{"vpcs tag:Name wildcard", vpcs(ef("tag:Name", "kaigo-*-vpc")), 1},
		{"vpcs is-default", vpcs(ef("is-default", "true")), 1},
		{"vpcs cidr", vpcs(ef("cidr", "10.20.0.0/16")), 1},
		{"vpcs cidr wildcard across the slash", vpcs(ef("cidr-block-association.cidr-block", "172.31.*")), 1},
		{"vpcs owner-id and state", vpcs(append(ef("owner-id", awssim.AccountID), ef("state", "available")...)), 2},
		{"subnets availability-zone", subnets(ef("availability-zone", "us-west-2a")), 2},
		{"subnets availabilityZone alias", subnets(ef("availabilityZone", "us-west-2d")), 2},
		{"subnets default-for-az", subnets(ef("default-for-az", "true")), 4},
		{"subnets ipv6-native", subnets(ef("ipv6-native", "true")), 0},
		{"subnets tag:Environment and az", subnets(append(ef("tag:Environment", "dr"), ef("availability-zone", "us-west-2c")...)), 1},
		{"groups group-name default (the DR VPC's and the default VPC's)", groups(ef("group-name", "default")), 2},
		{"groups egress protocol -1", groups(ef("egress.ip-permission.protocol", "-1")), 7},
		{"groups inbound from the group itself", groups(ef("ip-permission.protocol", "-1")), 2},
		{"groups description", groups(ef("description", "default VPC security group")), 2},
		{"groups inbound cidr (no rules)", groups(ef("ip-permission.cidr", "0.0.0.0/0")), 0},
		{"route tables association.main (the DR VPC's and the default VPC's)", tables(ef("association.main", "true")), 2},
		{"route tables route.nat-gateway-id", tables(ef("route.nat-gateway-id", "nat-*")), 1},
		{"route tables route.origin", tables(ef("route.origin", "CreateRouteTable")), 4},
	} {
		if tc.got != tc.want {
			t.Errorf("EC2 %s: %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

// TestDescribeFiltersNarrowTheAnswerCLI: the differential run's own commands.
func TestDescribeFiltersNarrowTheAnswerCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	cli := newCLI(t, e.endpoint)
	count := func(region, query string, args ...string) string {
		return strings.TrimSpace(cli.ok(region, append(args, "--query", query, "--output", "text")...))
	}
	for _, tc := range []struct {
		region, query, want string
		args                []string
	}{
		{east, "length(DBInstances)", "0", []string{"rds", "describe-db-instances", "--filters", "Name=engine,Values=mysql"}},
		{east, "length(DBInstances)", "1", []string{"rds", "describe-db-instances", "--filters", "Name=engine,Values=postgres"}},
		{west, "length(DBSnapshots)", "0", []string{"rds", "describe-db-snapshots", "--filters", "Name=snapshot-type,Values=manual"}},
		{west, "length(DBSnapshots)", "7", []string{"rds", "describe-db-snapshots", "--filters", "Name=db-instance-id,Values=" + awssim.KaigoProdInstance}},
		{west, "length(Subnets)", "4", []string{"ec2", "describe-subnets", "--filters", "Name=default-for-az,Values=true"}},
		{west, "length(Vpcs)", "1", []string{"ec2", "describe-vpcs", "--filters", "Name=tag:Name,Values=" + awssim.KaigoDRVPCName}},
	} {
		if got := count(tc.region, tc.query, tc.args...); got != tc.want {
			t.Errorf("aws %s: %s = %s, want %s", strings.Join(tc.args, " "), tc.query, got, tc.want)
		}
	}
}

// Row 6 -------------------------------------------------------------------------------------

// TestUnknownFilterNameRefused: a filter name the operation does not know is refused before
// anything is read, with each service's own code and words, instead of being ignored (which
// widens the answer to everything).
func TestUnknownFilterNameRefused(t *testing.T) {
	e := newEnv(t, 0)
	c := ctx(t)
	before := len(e.sim.Journal())
	r := rds.NewFromConfig(e.cfg(east))
	bogus := []rdstypes.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}
	_, err := r.DescribeDBInstances(c, &rds.DescribeDBInstancesInput{Filters: bogus})
	wantAPIError(t, err, "InvalidParameterValue", "Unrecognized filter name: bogus")
	_, err = r.DescribeDBInstances(c, &rds.DescribeDBInstancesInput{Filters: []rdstypes.Filter{{Name: aws.String("DBInstanceStatus"), Values: []string{"stopped"}}}})
	wantAPIError(t, err, "InvalidParameterValue", "Unrecognized filter name: DBInstanceStatus")
	_, err = r.DescribeDBSnapshots(c, &rds.DescribeDBSnapshotsInput{Filters: bogus})
	wantAPIError(t, err, "InvalidParameterValue", "Unrecognized filter name: bogus")
	// snapshot-type filters snapshots, not instances.
	_, err = r.DescribeDBInstances(c, &rds.DescribeDBInstancesInput{Filters: []rdstypes.Filter{{Name: aws.String("snapshot-type"), Values: []string{"manual"}}}})
	wantAPIError(t, err, "InvalidParameterValue", "Unrecognized filter name: snapshot-type")
	_, err = r.DescribeDBSubnetGroups(c, &rds.DescribeDBSubnetGroupsInput{Filters: []rdstypes.Filter{{Name: aws.String("vpc-id"), Values: []string{"x"}}}})
	wantAPIError(t, err, "InvalidParameterValue", "Unrecognized filter name: vpc-id")

	x := ec2.NewFromConfig(e.cfg(west))
	ef := []ec2types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}
	_, err = x.DescribeVpcs(c, &ec2.DescribeVpcsInput{Filters: ef})
	wantAPIError(t, err, "InvalidParameterValue", "The filter 'bogus' is invalid")
	_, err = x.DescribeSubnets(c, &ec2.DescribeSubnetsInput{Filters: ef})
	wantAPIError(t, err, "InvalidParameterValue", "The filter 'bogus' is invalid")
	_, err = x.DescribeRouteTables(c, &ec2.DescribeRouteTablesInput{Filters: ef})
	wantAPIError(t, err, "InvalidParameterValue", "The filter 'bogus' is invalid")
	// group-name is a security group filter, not a VPC one.
	_, err = x.DescribeVpcs(c, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{"default"}}}})
	wantAPIError(t, err, "InvalidParameterValue", "The filter 'group-name' is invalid")
	unchanged(t, e, before, "a refused Describe")
}

// TestUnknownFilterNameRefusedCLI: the differential run's --filters Name=bogus,Values=x.
func TestUnknownFilterNameRefusedCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	cli := newCLI(t, e.endpoint)
	cliFails(cli, east, []string{"(InvalidParameterValue) when calling the DescribeDBInstances operation", "Unrecognized filter name: bogus"},
		"rds", "describe-db-instances", "--filters", "Name=bogus,Values=x")
	cliFails(cli, west, []string{"(InvalidParameterValue) when calling the DescribeDBSnapshots operation", "Unrecognized filter name: bogus"},
		"rds", "describe-db-snapshots", "--filters", "Name=bogus,Values=x")
	cliFails(cli, west, []string{"(InvalidParameterValue) when calling the DescribeSecurityGroups operation", "The filter 'bogus' is invalid"},
		"ec2", "describe-security-groups", "--filters", "Name=bogus,Values=x")
}

// Row 9 -------------------------------------------------------------------------------------

// TestTaskDefinitionRevisionMustBeANumber: the seed's "kaigo-subsys-dr:latest" is refused
// as ECS refuses it, InvalidParameterException "Invalid revision number. Number: latest",
// by UpdateService, DescribeTaskDefinition and DeregisterTaskDefinition alike, and the
// service is left as it was.
func TestTaskDefinitionRevisionMustBeANumber(t *testing.T) {
	e := newEnv(t, 0)
	c := ctx(t)
	cs := ecs.NewFromConfig(e.cfg(west))
	before := len(e.sim.Journal())
	_, err := cs.UpdateService(c, &ecs.UpdateServiceInput{Cluster: aws.String(awssim.KaigoDRCluster), Service: aws.String(awssim.KaigoDRService),
		DesiredCount: aws.Int32(2), TaskDefinition: aws.String(awssim.KaigoDRTaskFamily + ":latest")})
	wantAPIError(t, err, "InvalidParameterException", "Invalid revision number. Number: latest")
	_, err = cs.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(awssim.KaigoDRTaskFamily + ":latest")})
	wantAPIError(t, err, "InvalidParameterException", "Invalid revision number. Number: latest")
	_, err = cs.DeregisterTaskDefinition(c, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(awssim.KaigoDRTaskFamily + ":latest")})
	wantAPIError(t, err, "InvalidParameterException", "Invalid revision number. Number: latest")
	_, err = cs.UpdateService(c, &ecs.UpdateServiceInput{Cluster: aws.String(awssim.KaigoDRCluster), Service: aws.String(awssim.KaigoDRService),
		TaskDefinition: aws.String(awssim.KaigoDRTaskFamily + ":")})
	wantAPIError(t, err, "InvalidParameterException", "Invalid revision number. Number: ")
	unchanged(t, e, before, "an UpdateService with revision latest")
	svc := must[*ecs.DescribeServicesOutput](t)(cs.DescribeServices(c, &ecs.DescribeServicesInput{Cluster: aws.String(awssim.KaigoDRCluster),
		Services: []string{awssim.KaigoDRService}})).Services[0]
	if svc.DesiredCount != 0 || !strings.HasSuffix(aws.ToString(svc.TaskDefinition), ":1") {
		t.Fatalf("service after refused updates: desired %d, %s", svc.DesiredCount, aws.ToString(svc.TaskDefinition))
	}
	// A number that names no revision is another error, and a bare family is the latest.
	_, err = cs.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(awssim.KaigoDRTaskFamily + ":9")})
	wantCode(t, err, "ClientException")
	must[*ecs.UpdateServiceOutput](t)(cs.UpdateService(c, &ecs.UpdateServiceInput{Cluster: aws.String(awssim.KaigoDRCluster),
		Service: aws.String(awssim.KaigoDRService), TaskDefinition: aws.String(awssim.KaigoDRTaskFamily)}))
}

// TestTaskDefinitionRevisionMustBeANumberCLI: the seed's step 7 as written.
func TestTaskDefinitionRevisionMustBeANumberCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	cli := newCLI(t, e.endpoint)
	cliFails(cli, west, []string{"An error occurred (InvalidParameterException) when calling the UpdateService operation", "Invalid revision number. Number: latest"},
		"ecs", "update-service", "--cluster", awssim.KaigoDRCluster, "--service", awssim.KaigoDRService,
		"--desired-count", "2", "--task-definition", awssim.KaigoDRTaskFamily+":latest")
	if n := countOps(e.sim.Journal(), "UpdateService", awssim.KaigoDRCluster+"/"+awssim.KaigoDRService); n != 0 {
		t.Fatalf("a refused update-service was journaled %d times", n)
	}
}

// Pagination --------------------------------------------------------------------------------

// seenOnce records the ids a paginator's pages hold and fails on one seen twice or a page
// larger than its limit.
type seenOnce struct {
	t     *testing.T
	what  string
	ids   map[string]bool
	pages int
}

func newSeen(t *testing.T, what string) *seenOnce {
	return &seenOnce{t: t, what: what, ids: map[string]bool{}}
}

func (s *seenOnce) page(limit int, ids ...string) {
	s.t.Helper()
	s.pages++
	if len(ids) > limit {
		s.t.Fatalf("%s page %d holds %d items, more than its limit %d", s.what, s.pages, len(ids), limit)
	}
	for _, id := range ids {
		if s.ids[id] {
			s.t.Fatalf("%s: %s seen twice", s.what, id)
		}
		s.ids[id] = true
	}
}

// check fails unless every id of want was seen, nothing else, over at least minPages.
func (s *seenOnce) check(want []string, minPages int) {
	s.t.Helper()
	if s.pages < minPages {
		s.t.Errorf("%s: %d pages, want at least %d", s.what, s.pages, minPages)
	}
	if len(s.ids) != len(want) {
		s.t.Errorf("%s: saw %d items over %d pages, want %d", s.what, len(s.ids), s.pages, len(want))
	}
	for _, id := range want {
		if !s.ids[id] {
			s.t.Errorf("%s: never saw %s", s.what, id)
		}
	}
}

// TestPaginatorsSeeEveryItemOnce: the SDK's paginators walk every page of every paging
// Describe/List awssim implements, and see each item exactly once, pages never larger than
// asked.
func TestPaginatorsSeeEveryItemOnce(t *testing.T) {
	e := newEnv(t, 0)
	c := ctx(t)

	// RDS: 7 automated + 25 manual snapshots; 1 + 21 instances.
	r := rds.NewFromConfig(e.cfg(east))
	for i := 0; i < 25; i++ {
		must[*rds.CreateDBSnapshotOutput](t)(r.CreateDBSnapshot(c, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance),
			DBSnapshotIdentifier: aws.String(fmt.Sprintf("manual-%02d", i))}))
	}
	for i := 0; i < 21; i++ {
		must[*rds.RestoreDBInstanceToPointInTimeOutput](t)(r.RestoreDBInstanceToPointInTime(c, &rds.RestoreDBInstanceToPointInTimeInput{
			SourceDBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), TargetDBInstanceIdentifier: aws.String(fmt.Sprintf("pitr-%02d", i)),
			UseLatestRestorableTime: aws.Bool(true)}))
	}
	var snapIDs, instIDs []string
	for _, s := range must[*rds.DescribeDBSnapshotsOutput](t)(r.DescribeDBSnapshots(c, &rds.DescribeDBSnapshotsInput{})).DBSnapshots {
		snapIDs = append(snapIDs, aws.ToString(s.DBSnapshotIdentifier))
	}
	for _, in := range must[*rds.DescribeDBInstancesOutput](t)(r.DescribeDBInstances(c, &rds.DescribeDBInstancesInput{})).DBInstances {
		instIDs = append(instIDs, aws.ToString(in.DBInstanceIdentifier))
	}
	if len(snapIDs) != 32 || len(instIDs) != 22 {
		t.Fatalf("one default page of 100: %d snapshots, %d instances; want 32, 22", len(snapIDs), len(instIDs))
	}
	seen := newSeen(t, "DescribeDBSnapshots")
	for p := rds.NewDescribeDBSnapshotsPaginator(r, &rds.DescribeDBSnapshotsInput{MaxRecords: aws.Int32(20)}); p.HasMorePages(); {
		var ids []string
		for _, s := range must[*rds.DescribeDBSnapshotsOutput](t)(p.NextPage(c)).DBSnapshots {
			ids = append(ids, aws.ToString(s.DBSnapshotIdentifier))
		}
		seen.page(20, ids...)
	}
	seen.check(snapIDs, 2)
	seen = newSeen(t, "DescribeDBInstances")
	for p := rds.NewDescribeDBInstancesPaginator(r, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(20)}); p.HasMorePages(); {
		var ids []string
		for _, in := range must[*rds.DescribeDBInstancesOutput](t)(p.NextPage(c)).DBInstances {
			ids = append(ids, aws.ToString(in.DBInstanceIdentifier))
		}
		seen.page(20, ids...)
	}
	seen.check(instIDs, 2)
	// A filtered walk pages the filtered rows.
	seen = newSeen(t, "DescribeDBSnapshots snapshot-type manual")
	var manual []string
	for i := 0; i < 25; i++ {
		manual = append(manual, fmt.Sprintf("manual-%02d", i))
	}
	for p := rds.NewDescribeDBSnapshotsPaginator(r, &rds.DescribeDBSnapshotsInput{MaxRecords: aws.Int32(20),
		Filters: []rdstypes.Filter{{Name: aws.String("snapshot-type"), Values: []string{"manual"}}}}); p.HasMorePages(); {
		var ids []string
		for _, s := range must[*rds.DescribeDBSnapshotsOutput](t)(p.NextPage(c)).DBSnapshots {
			ids = append(ids, aws.ToString(s.DBSnapshotIdentifier))
		}
		seen.page(20, ids...)
	}
	seen.check(manual, 2)

	// ElastiCache: 21 groups.
	ec := elasticache.NewFromConfig(e.cfg(west))
	var groupIDs []string
	for i := 0; i < 21; i++ {
		id := fmt.Sprintf("cache-%02d", i)
		groupIDs = append(groupIDs, id)
		must[*elasticache.CreateReplicationGroupOutput](t)(ec.CreateReplicationGroup(c, &elasticache.CreateReplicationGroupInput{
			ReplicationGroupId: aws.String(id), ReplicationGroupDescription: aws.String("d")}))
	}
	seen = newSeen(t, "DescribeReplicationGroups")
	for p := elasticache.NewDescribeReplicationGroupsPaginator(ec, &elasticache.DescribeReplicationGroupsInput{MaxRecords: aws.Int32(20)}); p.HasMorePages(); {
		var ids []string
		for _, g := range must[*elasticache.DescribeReplicationGroupsOutput](t)(p.NextPage(c)).ReplicationGroups {
			ids = append(ids, aws.ToString(g.ReplicationGroupId))
		}
		seen.page(20, ids...)
	}
	seen.check(groupIDs, 2)

	// EC2 in us-east-1: 9 subnets (3 of the prod VPC, 6 default) and 7 security groups (the
	// prod VPC's 5 and its default group, and the default VPC's).
	x := ec2.NewFromConfig(e.cfg(east))
	var subnetIDs, groupIDs2 []string
	for _, s := range must[*ec2.DescribeSubnetsOutput](t)(x.DescribeSubnets(c, &ec2.DescribeSubnetsInput{})).Subnets {
		subnetIDs = append(subnetIDs, aws.ToString(s.SubnetId))
	}
	for _, g := range must[*ec2.DescribeSecurityGroupsOutput](t)(x.DescribeSecurityGroups(c, &ec2.DescribeSecurityGroupsInput{})).SecurityGroups {
		groupIDs2 = append(groupIDs2, aws.ToString(g.GroupId))
	}
	if len(subnetIDs) != 9 || len(groupIDs2) != 7 {
		t.Fatalf("us-east-1: %d subnets, %d groups; want 9, 7", len(subnetIDs), len(groupIDs2))
	}
	seen = newSeen(t, "DescribeSubnets")
	for p := ec2.NewDescribeSubnetsPaginator(x, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(5)}); p.HasMorePages(); {
		var ids []string
		for _, s := range must[*ec2.DescribeSubnetsOutput](t)(p.NextPage(c)).Subnets {
			ids = append(ids, aws.ToString(s.SubnetId))
		}
		seen.page(5, ids...)
	}
	seen.check(subnetIDs, 2)
	seen = newSeen(t, "DescribeSecurityGroups")
	for p := ec2.NewDescribeSecurityGroupsPaginator(x, &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(5)}); p.HasMorePages(); {
		var ids []string
		for _, g := range must[*ec2.DescribeSecurityGroupsOutput](t)(p.NextPage(c)).SecurityGroups {
			ids = append(ids, aws.ToString(g.GroupId))
		}
		seen.page(5, ids...)
	}
	seen.check(groupIDs2, 2)

	// Backup: the DR vault's 7 recovery points, 3 a page.
	bk := backup.NewFromConfig(e.cfg(west))
	var pointARNs []string
	for _, rp := range must[*backup.ListRecoveryPointsByBackupVaultOutput](t)(bk.ListRecoveryPointsByBackupVault(c,
		&backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String(awssim.KaigoDRVault)})).RecoveryPoints {
		pointARNs = append(pointARNs, aws.ToString(rp.RecoveryPointArn))
	}
	seen = newSeen(t, "ListRecoveryPointsByBackupVault")
	for p := backup.NewListRecoveryPointsByBackupVaultPaginator(bk, &backup.ListRecoveryPointsByBackupVaultInput{
		BackupVaultName: aws.String(awssim.KaigoDRVault), MaxResults: aws.Int32(3)}); p.HasMorePages(); {
		var ids []string
		for _, rp := range must[*backup.ListRecoveryPointsByBackupVaultOutput](t)(p.NextPage(c)).RecoveryPoints {
			ids = append(ids, aws.ToString(rp.RecoveryPointArn))
		}
		seen.page(3, ids...)
	}
	seen.check(pointARNs, 3)

	// EFS: three restored file systems in us-west-2, one a page.
	var fsIDs []string
	for i := 0; i < 3; i++ {
		must[*backup.StartRestoreJobOutput](t)(bk.StartRestoreJob(c, &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(pointARNs[i]),
			IamRoleArn: aws.String("arn:aws:iam::" + awssim.AccountID + ":role/backup"), Metadata: map[string]string{"newFileSystem": "true"}}))
	}
	fs := efs.NewFromConfig(e.cfg(west))
	for _, f := range must[*efs.DescribeFileSystemsOutput](t)(fs.DescribeFileSystems(c, &efs.DescribeFileSystemsInput{})).FileSystems {
		fsIDs = append(fsIDs, aws.ToString(f.FileSystemId))
	}
	if len(fsIDs) != 3 {
		t.Fatalf("%d file systems in us-west-2, want the 3 restored", len(fsIDs))
	}
	seen = newSeen(t, "DescribeFileSystems")
	for p := efs.NewDescribeFileSystemsPaginator(fs, &efs.DescribeFileSystemsInput{MaxItems: aws.Int32(1)}); p.HasMorePages(); {
		var ids []string
		for _, f := range must[*efs.DescribeFileSystemsOutput](t)(p.NextPage(c)).FileSystems {
			ids = append(ids, aws.ToString(f.FileSystemId))
		}
		seen.page(1, ids...)
	}
	seen.check(fsIDs, 3)
}

// TestELBv2PaginatorsSeeEveryItemOnce: DescribeLoadBalancers and DescribeTargetGroups page
// with PageSize and Marker. The fixture has one ALB a region, so the test adds 30 of each
// to a saved world and starts a simulator from it.
func TestELBv2PaginatorsSeeEveryItemOnce(t *testing.T) {
	state := filepath.Join(t.TempDir(), "world.json")
	clk := newTickClock(0)
	first, err := awssim.New(awssim.Options{Credentials: testCreds, Fixture: "kaigo", Now: clk.Now, StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var w map[string]any
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	rs := w["regions"].(map[string]any)[west].(map[string]any)
	lbs, tgs := rs["loadBalancers"].(map[string]any), rs["targetGroups"].(map[string]any)
	wantLBs, wantTGs := []string{awssim.KaigoDRALBName}, []string{awssim.KaigoDRTargetGroup}
	for i := 0; i < 30; i++ {
		name := fmt.Sprintf("extra-%02d", i)
		lbARN := fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/app/%s/%016x", west, awssim.AccountID, name, i)
		lbs[name] = map[string]any{"name": name, "arn": lbARN, "dns": name + ".us-west-2.elb.amazonaws.com", "zoneID": awssim.KaigoALBZoneID(west)}
		tgs[name] = map[string]any{"name": name, "arn": fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/%016x", west, awssim.AccountID, name, i), "lb": lbARN}
		wantLBs, wantTGs = append(wantLBs, name), append(wantTGs, name)
	}
	if raw, err = json.Marshal(w); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	sim, err := awssim.New(awssim.Options{Credentials: testCreds, Now: clk.Now, StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	c := ctx(t)
	lb := elbv2.NewFromConfig(awsConfig(newServer(t, sim), west))
	seen := newSeen(t, "DescribeLoadBalancers")
	for p := elbv2.NewDescribeLoadBalancersPaginator(lb, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(7)}); p.HasMorePages(); {
		var ids []string
		for _, l := range must[*elbv2.DescribeLoadBalancersOutput](t)(p.NextPage(c)).LoadBalancers {
			ids = append(ids, aws.ToString(l.LoadBalancerName))
		}
		seen.page(7, ids...)
	}
	seen.check(wantLBs, 5)
	seen = newSeen(t, "DescribeTargetGroups")
	for p := elbv2.NewDescribeTargetGroupsPaginator(lb, &elbv2.DescribeTargetGroupsInput{PageSize: aws.Int32(7)}); p.HasMorePages(); {
		var ids []string
		for _, g := range must[*elbv2.DescribeTargetGroupsOutput](t)(p.NextPage(c)).TargetGroups {
			ids = append(ids, aws.ToString(g.TargetGroupName))
		}
		seen.page(7, ids...)
	}
	seen.check(wantTGs, 5)
	if all := must[*elbv2.DescribeLoadBalancersOutput](t)(lb.DescribeLoadBalancers(c, &elbv2.DescribeLoadBalancersInput{})); len(all.LoadBalancers) != 31 || all.NextMarker != nil {
		t.Fatalf("without PageSize: %d load balancers, NextMarker %v; want all 31 on one page", len(all.LoadBalancers), all.NextMarker)
	}
	// Names filters: the first name found does not stop the filtering of the rest.
	if one := must[*elbv2.DescribeLoadBalancersOutput](t)(lb.DescribeLoadBalancers(c, &elbv2.DescribeLoadBalancersInput{Names: []string{"extra-00"}})); len(one.LoadBalancers) != 1 {
		t.Errorf("DescribeLoadBalancers Names [extra-00]: %d load balancers", len(one.LoadBalancers))
	}
	if one := must[*elbv2.DescribeTargetGroupsOutput](t)(lb.DescribeTargetGroups(c, &elbv2.DescribeTargetGroupsInput{Names: []string{"extra-00"}})); len(one.TargetGroups) != 1 {
		t.Errorf("DescribeTargetGroups Names [extra-00]: %d target groups", len(one.TargetGroups))
	}
}

// TestPageSizeOutOfRangeRefused: a page size outside the range AWS documents, or a marker
// awssim did not issue, is a 400 in the service's own words that names the parameter.
func TestPageSizeOutOfRangeRefused(t *testing.T) {
	e := newEnv(t, 0)
	c := ctx(t)
	before := len(e.sim.Journal())
	r := rds.NewFromConfig(e.cfg(east))
	for _, n := range []int32{19, 101} {
		_, err := r.DescribeDBSnapshots(c, &rds.DescribeDBSnapshotsInput{MaxRecords: aws.Int32(n)})
		wantAPIError(t, err, "InvalidParameterValue", fmt.Sprintf("Invalid value %d for MaxRecords. Must be between 20 and 100", n))
	}
	_, err := r.DescribeDBInstances(c, &rds.DescribeDBInstancesInput{Marker: aws.String("not-a-marker")})
	wantAPIError(t, err, "InvalidParameterValue", "Marker")
	_, err = elasticache.NewFromConfig(e.cfg(east)).DescribeReplicationGroups(c, &elasticache.DescribeReplicationGroupsInput{MaxRecords: aws.Int32(10)})
	wantAPIError(t, err, "InvalidParameterValue", "Must be between 20 and 100")
	x := ec2.NewFromConfig(e.cfg(east))
	_, err = x.DescribeSubnets(c, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(4)})
	wantAPIError(t, err, "InvalidParameterValue", "maxResults")
	_, err = x.DescribeRouteTables(c, &ec2.DescribeRouteTablesInput{MaxResults: aws.Int32(101)})
	wantAPIError(t, err, "InvalidParameterValue", "maxResults")
	_, err = x.DescribeVpcs(c, &ec2.DescribeVpcsInput{NextToken: aws.String("forged")})
	wantCode(t, err, "InvalidPaginationToken")
	_, err = elbv2.NewFromConfig(e.cfg(east)).DescribeLoadBalancers(c, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(401)})
	wantAPIError(t, err, "ValidationError", "pageSize")
	_, err = backup.NewFromConfig(e.cfg(west)).ListRecoveryPointsByBackupVault(c, &backup.ListRecoveryPointsByBackupVaultInput{
		BackupVaultName: aws.String(awssim.KaigoDRVault), MaxResults: aws.Int32(1001)})
	wantAPIError(t, err, "InvalidParameterValueException", "maxResults")
	_, err = efs.NewFromConfig(e.cfg(east)).DescribeFileSystems(c, &efs.DescribeFileSystemsInput{MaxItems: aws.Int32(0)})
	wantAPIError(t, err, "BadRequest", "MaxItems")
	unchanged(t, e, before, "a refused page request")
}

// TestPaginationCLI: the CLI walks pages itself (--page-size), and with --no-paginate shows
// the one page asked for and the marker of the next.
func TestPaginationCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	cli := newCLI(t, e.endpoint)
	r := rds.NewFromConfig(e.cfg(east))
	for i := 0; i < 25; i++ {
		must[*rds.CreateDBSnapshotOutput](t)(r.CreateDBSnapshot(ctx(t), &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance),
			DBSnapshotIdentifier: aws.String(fmt.Sprintf("manual-%02d", i))}))
	}
	var all struct {
		DBSnapshots []struct{ DBSnapshotIdentifier string }
	}
	cliJSON(cli, east, &all, "rds", "describe-db-snapshots", "--page-size", "20")
	ids := map[string]bool{}
	for _, s := range all.DBSnapshots {
		ids[s.DBSnapshotIdentifier] = true
	}
	if len(all.DBSnapshots) != 32 || len(ids) != 32 {
		t.Fatalf("--page-size 20 walked %d snapshots (%d distinct), want 32", len(all.DBSnapshots), len(ids))
	}
	var one struct {
		Marker      string
		DBSnapshots []struct{ DBSnapshotIdentifier string }
	}
	cliJSON(cli, east, &one, "rds", "describe-db-snapshots", "--no-paginate", "--cli-input-json", `{"MaxRecords":20}`)
	if len(one.DBSnapshots) != 20 || one.Marker == "" {
		t.Fatalf("--no-paginate with MaxRecords 20: %d snapshots, Marker %q; want 20 and a marker", len(one.DBSnapshots), one.Marker)
	}
	var rest struct {
		Marker      string
		DBSnapshots []struct{ DBSnapshotIdentifier string }
	}
	cliJSON(cli, east, &rest, "rds", "describe-db-snapshots", "--no-paginate", "--cli-input-json", fmt.Sprintf(`{"MaxRecords":20,"Marker":%q}`, one.Marker))
	got := []string{}
	for _, s := range append(one.DBSnapshots, rest.DBSnapshots...) {
		got = append(got, s.DBSnapshotIdentifier)
	}
	sort.Strings(got)
	if len(rest.DBSnapshots) != 12 || rest.Marker != "" || len(got) != 32 {
		t.Fatalf("second page: %d snapshots, Marker %q", len(rest.DBSnapshots), rest.Marker)
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("%s on both pages", got[i])
		}
	}
	var subnets struct {
		Subnets []struct {
			SubnetID string `json:"SubnetId"`
		}
	}
	cliJSON(cli, east, &subnets, "ec2", "describe-subnets", "--page-size", "5")
	if len(subnets.Subnets) != 9 {
		t.Fatalf("ec2 describe-subnets --page-size 5 walked %d subnets, want 9", len(subnets.Subnets))
	}
	cliFails(cli, east, []string{"(InvalidParameterValue) when calling the DescribeDBSnapshots operation", "Invalid value 5 for MaxRecords. Must be between 20 and 100"},
		"rds", "describe-db-snapshots", "--page-size", "5")
}
