package integration_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/kirikae/kirikae/integration"
)

// drSnapshot is what a partial drill may touch in the DR region, read through the SDK.
type drSnapshot struct {
	DBInstances, ReplicationGroups, FileSystems, Alarms []string
	ServiceDesired                                      int32
	ServiceTaskDef                                      string
	Secrets                                             map[string]string // id -> current version id
}

func (w *drWorld) drSnapshot(ctx context.Context) drSnapshot {
	w.t.Helper()
	cfg := w.awsConfig("us-west-2")
	s := drSnapshot{Secrets: map[string]string{}}
	dbs, err := rds.NewFromConfig(cfg).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, d := range dbs.DBInstances {
		s.DBInstances = append(s.DBInstances, aws.ToString(d.DBInstanceIdentifier))
	}
	rgs, err := elasticache.NewFromConfig(cfg).DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, g := range rgs.ReplicationGroups {
		s.ReplicationGroups = append(s.ReplicationGroups, aws.ToString(g.ReplicationGroupId))
	}
	fss, err := efs.NewFromConfig(cfg).DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, f := range fss.FileSystems {
		s.FileSystems = append(s.FileSystems, aws.ToString(f.FileSystemId))
	}
	alarms, err := cloudwatch.NewFromConfig(cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, a := range alarms.MetricAlarms {
		s.Alarms = append(s.Alarms, aws.ToString(a.AlarmName))
	}
	svc, err := ecs.NewFromConfig(cfg).DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("kaigo-subsys-dr"), Services: []string{"kaigo-subsys-dr-service"}})
	if err != nil || len(svc.Services) != 1 {
		w.t.Fatalf("DR service: %v %v", err, svc)
	}
	s.ServiceDesired, s.ServiceTaskDef = svc.Services[0].DesiredCount, aws.ToString(svc.Services[0].TaskDefinition)
	sm := secretsmanager.NewFromConfig(cfg)
	for _, id := range []string{"kaigo-subsys/dr/db-endpoint", "kaigo-subsys/dr/redis-endpoint"} {
		v, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		var api smithy.APIError
		switch {
		case errors.As(err, &api) && api.ErrorCode() == "ResourceNotFoundException":
			s.Secrets[id] = "(none)"
		case err != nil:
			w.t.Fatal(err)
		default:
			s.Secrets[id] = aws.ToString(v.VersionId)
		}
	}
	for _, l := range [][]string{s.DBInstances, s.ReplicationGroups, s.FileSystems, s.Alarms} {
		sort.Strings(l)
	}
	return s
}

// TestPartialDrill runs `kirikae drill start --kind partial` against real agents and awssim:
// the build phases run in us-west-2, the DNS switch and region.activate are skipped, and the
// teardown the control plane starts afterwards removes exactly what the drill created.
func TestPartialDrill(t *testing.T) {
	w := newDRWorld(t, 0.002)
	w.waitAgent("us-east-1")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	before := w.drSnapshot(ctx)
	regionBefore := w.regionState()
	journalBefore := len(w.sim.Journal(t))

	// DNS is not switched, so the checks go straight to the DR load balancer.
	args := []string{"drill", "start", "--kind", "partial", "--reason", "half-yearly drill", "--participants", "sam,mia",
		"--plan", filepath.Join(w.planDir, "kaigo-failover.yaml"), "--set", "APP_URL=" + w.sim.URL + "/_app/us-west-2",
		"--set", "ALLOW_DATA_LOSS=true"}
	drill := integration.StartProcForTest(t, w.c.Bin, "drill", w.c.Env("operator-sam"), args...)

	var drillID, teardownID string
	integration.WaitFor(t, 4*time.Minute, "the partial drill and its teardown to complete", func() bool {
		var list struct{ Runs []drillRunJSON }
		if err := w.c.CLIJSON("operator-vic", &list, "runs"); err != nil {
			return false
		}
		for _, r := range list.Runs {
			if r.Drill != "partial" {
				continue
			}
			if r.ParentRunID == "" {
				drillID = r.ID
			} else {
				teardownID = r.ID
			}
			if r.Status == "running" {
				w.drive(r.ID, 3*time.Minute, nil)
			}
		}
		return strings.Contains(drill.Logs(), "drill complete")
	})
	if drillID == "" || teardownID == "" {
		t.Fatalf("drill %q teardown %q\n%s", drillID, teardownID, drill.Logs())
	}
	dr, td := w.run(drillID), w.run(teardownID)
	if dr.Status != "succeeded" || td.Status != "succeeded" {
		t.Fatalf("drill %s, teardown %s\n%s", dr.Status, td.Status, drill.Logs())
	}
	// The drill ran well, so the command says so with exit code 0 (it used to report the
	// drill missing and exit 1 while the drill still ran).
	if code, ok := drill.Exited(time.Minute); !ok || code != 0 {
		t.Fatalf("drill start exited %d (ended: %v) for a drill that ran well:\n%s", code, ok, drill.Logs())
	}
	// Skipped steps kept their gates: no step started before every step it needs had
	// ended, skipped ones included (check-health needs the skipped DNS steps, which need
	// the build; it used to start before any approval).
	detail := w.detail(drillID)
	ended := map[string]int64{}
	for _, st := range detail.Steps {
		ended[st.ID], _ = strconv.ParseInt(st.Finished, 10, 64)
	}
	for _, st := range detail.Steps {
		started, _ := strconv.ParseInt(st.Started, 10, 64)
		if started == 0 {
			continue
		}
		for _, n := range st.Spec.Needs {
			if ended[n] == 0 || started < ended[n] {
				t.Errorf("step %s started at %d, before %s ended (at %d)", st.ID, started, n, ended[n])
			}
		}
	}
	for _, st := range dr.Steps {
		if (st.ID == "switch-dns" || st.ID == "activate-secondary") && st.Status != "skipped" {
			t.Errorf("%s is %s in a partial drill", st.ID, st.Status)
		}
	}

	// Traffic never moved.
	if got := w.regionState(); got.State.Active != regionBefore.State.Active || got.State.Epoch != regionBefore.State.Epoch || got.State.Mode != "normal" {
		t.Fatalf("region after a partial drill: %+v, before %+v", got.State, regionBefore.State)
	}

	// The journal: the drill built in us-west-2 only, never touched DNS, and the teardown
	// removed what was built.
	journal := w.sim.Journal(t)[journalBefore:]
	ops := map[string]int{}
	for _, e := range journal {
		if e.Region != "us-west-2" && e.Service != "sns" {
			t.Errorf("the partial drill changed %s: %s %s %s", e.Region, e.Service, e.Operation, e.Resource)
		}
		if e.Operation == "ChangeResourceRecordSets" {
			t.Errorf("the partial drill changed DNS: %+v", e)
		}
		ops[e.Operation]++
	}
	for create, remove := range map[string]string{
		"RestoreDBInstanceFromDBSnapshot": "DeleteDBInstance",
		"CreateReplicationGroup":          "DeleteReplicationGroup",
		"StartRestoreJob":                 "DeleteFileSystem",
		"RegisterTaskDefinition":          "DeregisterTaskDefinition",
		"PutMetricAlarm":                  "DeleteAlarms",
	} {
		if ops[create] != 1 || ops[remove] != 1 {
			t.Errorf("journal: %s×%d, %s×%d; want one of each", create, ops[create], remove, ops[remove])
		}
	}
	if ops["PutSecretValue"] != 2 || ops["UpdateSecretVersionStage"] != 2 || ops["UpdateService"] != 2 {
		t.Errorf("journal: PutSecretValue×%d UpdateSecretVersionStage×%d UpdateService×%d; want 2, 2, 2",
			ops["PutSecretValue"], ops["UpdateSecretVersionStage"], ops["UpdateService"])
	}

	t.Logf("journal of the drill and its teardown: %v", ops)
	// And the DR region is as it was, as the SDK sees it.
	after := w.drSnapshot(ctx)
	if d := fmt.Sprintf("%+v", after); d != fmt.Sprintf("%+v", before) {
		t.Errorf("the DR region after the teardown differs:\nbefore %+v\nafter  %+v", before, after)
	}
	if !slices.Contains(strings.Fields(drill.Logs()), teardownID) {
		t.Errorf("the drill command did not name its teardown %s:\n%s", teardownID, drill.Logs())
	}
	rep, errOut, err := w.c.CLI(ctx, "operator-vic", w.c.Addrs(), "report", drillID, "--format", "md", "--time-scale", "0.002")
	if err != nil {
		t.Fatalf("report: %v\n%s", err, errOut)
	}
	for _, want := range []string{drillID, teardownID, "undo-restore-rds"} {
		if !strings.Contains(rep, want) {
			t.Errorf("the partial drill's report lacks %q", want)
		}
	}
}
