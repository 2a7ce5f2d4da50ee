package awssim_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/awssim"
)

// TestAWSCLIRunbook runs the seed runbook's own AWS CLI commands against the kaigo fixture.
// The clock is frozen and moved by hand, because the CLI's waiters sleep 30 s between polls.
func TestAWSCLIRunbook(t *testing.T) {
	// External processes dominate this test; overlap it with the other slow one.
	t.Parallel()
	e := newEnv(t, 0)
	cli := newCLI(t, e.endpoint)
	run := cli.ok
	dir := t.TempDir()

	// Step 4: newest snapshot copy, restore, wait, endpoint.
	snap := strings.Trim(strings.TrimSpace(run(west, "rds", "describe-db-snapshots", "--db-instance-identifier", awssim.KaigoProdInstance,
		"--query", "DBSnapshots[?Status=='available'] | sort_by(@, &SnapshotCreateTime)[-1].DBSnapshotIdentifier")), `"`)
	if !strings.HasPrefix(snap, "rds:kaigo-subsys-prod-") {
		t.Fatalf("newest snapshot %q", snap)
	}
	out := run(west, "rds", "restore-db-instance-from-db-snapshot", "--db-instance-identifier", awssim.KaigoDRInstance,
		"--db-snapshot-identifier", snap, "--db-instance-class", "db.r6g.large", "--db-subnet-group-name", awssim.KaigoDRSubnetGroup,
		"--vpc-security-group-ids", "sg-dr-rds", "--no-publicly-accessible", "--multi-az")
	if !strings.Contains(out, `"DBInstanceStatus": "creating"`) {
		t.Fatalf("restore output: %s", out)
	}
	e.clock.Advance(46 * time.Minute)
	run(west, "rds", "wait", "db-instance-available", "--db-instance-identifier", awssim.KaigoDRInstance)
	addr := run(west, "rds", "describe-db-instances", "--db-instance-identifier", awssim.KaigoDRInstance, "--query", "DBInstances[0].Endpoint.Address")
	if !strings.Contains(addr, "kaigo-subsys-dr.") {
		t.Fatalf("endpoint %s", addr)
	}

	// Step 5: ElastiCache.
	out = run(west, "elasticache", "create-replication-group", "--replication-group-id", "kaigo-subsys-dr",
		"--replication-group-description", "DR ElastiCache for kaigo subsystem", "--engine", "redis",
		"--cache-node-type", "cache.r6g.large", "--num-cache-clusters", "2", "--automatic-failover-enabled",
		"--cache-subnet-group-name", awssim.KaigoDRCacheSubnets, "--security-group-ids", "sg-dr-elasticache", "--engine-version", "7.0")
	if !strings.Contains(out, `"Status": "creating"`) {
		t.Fatalf("create-replication-group: %s", out)
	}

	// Step 7–8: ECS to 2 tasks, then the ALB targets.
	out = run(west, "ecs", "update-service", "--cluster", awssim.KaigoDRCluster, "--service", awssim.KaigoDRService,
		"--desired-count", "2", "--task-definition", awssim.KaigoDRTaskFamily)
	if !strings.Contains(out, `"desiredCount": 2`) {
		t.Fatalf("update-service: %s", out)
	}
	e.clock.Advance(15 * time.Minute)
	var th struct {
		TargetHealthDescriptions []struct{ TargetHealth struct{ State string } }
	}
	if err := json.Unmarshal([]byte(run(west, "elbv2", "describe-target-health", "--target-group-arn", awssim.KaigoTargetGroupARN(west))), &th); err != nil {
		t.Fatal(err)
	}
	if len(th.TargetHealthDescriptions) != 2 || th.TargetHealthDescriptions[1].TargetHealth.State != "healthy" {
		t.Fatalf("target health: %+v", th)
	}

	// Step 6: the newest EFS recovery point.
	rp := run(west, "backup", "list-recovery-points-by-backup-vault", "--backup-vault-name", awssim.KaigoDRVault,
		"--query", "RecoveryPoints[?ResourceType=='EFS'] | sort_by(@, &CreationDate)[-1].RecoveryPointArn")
	if !strings.Contains(rp, "arn:aws:backup:us-west-2:") {
		t.Fatalf("recovery point: %s", rp)
	}

	// Step 9: DNS switch, with the runbook's change batch file.
	batch := filepath.Join(dir, "change-batch.json")
	if err := os.WriteFile(batch, []byte(`{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"api.kaigo-subsys.example.com","Type":"A",
		"AliasTarget":{"HostedZoneId":"`+awssim.KaigoALBZoneID(west)+`","DNSName":"`+awssim.KaigoALBDNS(west)+`","EvaluateTargetHealth":true}}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out = run(east, "route53", "change-resource-record-sets", "--hosted-zone-id", awssim.KaigoHostedZoneID, "--change-batch", "file://"+batch)
	if !strings.Contains(out, `"Status": "PENDING"`) {
		t.Fatalf("change-resource-record-sets: %s", out)
	}
	// Step 11: the DR alarm, exactly as the runbook writes it.
	run(west, "cloudwatch", "put-metric-alarm", "--alarm-name", "kaigo-subsys-dr-ecs-cpu-critical",
		"--alarm-description", "DR環境のECS CPU使用率が90%を超過", "--metric-name", "CPUUtilization", "--namespace", "AWS/ECS",
		"--statistic", "Average", "--period", "300", "--evaluation-periods", "2", "--threshold", "90.0",
		"--comparison-operator", "GreaterThanThreshold",
		"--dimensions", "Name=ClusterName,Value=kaigo-subsys-dr", "Name=ServiceName,Value=kaigo-subsys-dr-service",
		"--alarm-actions", awssim.KaigoDRAlertsTopic)
	al := run(west, "cloudwatch", "describe-alarms", "--alarm-names", "kaigo-subsys-dr-ecs-cpu-critical",
		"--query", "MetricAlarms[0].[Threshold,Period,length(Dimensions)]", "--output", "text")
	if strings.Join(strings.Fields(al), " ") != "90.0 300 2" {
		t.Fatalf("describe-alarms: %q", al)
	}

	for _, op := range []string{"RestoreDBInstanceFromDBSnapshot", "CreateReplicationGroup", "UpdateService", "ChangeResourceRecordSets", "PutMetricAlarm"} {
		found := false
		for _, j := range e.sim.Journal() {
			found = found || j.Operation == op
		}
		if !found {
			t.Errorf("journal lacks %s", op)
		}
	}
}
