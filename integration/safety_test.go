package integration_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/kirikae/kirikae/integration"
)

// The tests here try, with real processes, what hurt when kirikae was first tried as a
// new user would: a drill's teardown deleting what a real failover used, the second
// disaster stalling on the first one's database, an abort leaving what it created.

// runDetail is a run as `run show -o json` prints it, with what the safety tests read.
type runDetail struct {
	ID            string   `json:"id"`
	Status        string   `json:"status"`
	Error         string   `json:"error"`
	ParentRunID   string   `json:"parent_run_id"`
	PreemptedBy   string   `json:"preempted_by"`
	InheritedFrom []string `json:"inherited_from"`
	TeardownRunID string   `json:"teardown_run_id"`
	UndoRequested bool     `json:"undo_requested"`
	Drill         string   `json:"drill"`
	Steps         []struct {
		ID        string          `json:"id"`
		Status    string          `json:"status"`
		AgentID   string          `json:"agent_id"`
		Attempt   int             `json:"attempt"`
		Started   string          `json:"started"` // RFC 3339, null (empty) when unset
		Finished  string          `json:"finished"`
		Outputs   json.RawMessage `json:"outputs"`
		SkippedBy string          `json:"skipped_by"`
		Undo      []json0         `json:"undo"`
		Spec      struct {
			Action string   `json:"action"`
			Roles  []string `json:"roles"`
			Needs  []string `json:"needs"`
		} `json:"spec"`
	} `json:"steps"`
}

func (w *drWorld) detail(id string) runDetail {
	w.t.Helper()
	var r runDetail
	if err := w.c.CLIJSON("operator-vic", &r, "run", "show", id); err != nil {
		w.t.Fatal(err)
	}
	return r
}

// act plays the operators once on a run's waiting steps, as drive does until the run ends.
func (w *drWorld) act(id string, acted map[string]bool) runDetail {
	w.t.Helper()
	r := w.detail(id)
	for _, st := range r.Steps {
		w.operate(id, st.ID, st.Status, st.Spec.Action, st.Spec.Roles, acted)
	}
	return r
}

// undone reports whether step id of r has recorded how to undo what it did.
func (r runDetail) undone(id string) bool {
	for _, st := range r.Steps {
		if st.ID == id {
			return len(st.Undo) > 0
		}
	}
	return false
}

func (r runDetail) outputs(step string) map[string]any {
	for _, st := range r.Steps {
		if st.ID == step && len(st.Outputs) > 0 {
			var m map[string]any
			_ = json.Unmarshal(st.Outputs, &m)
			return m
		}
	}
	return nil
}

// liveRuns lists the runs that are running or paused.
func (w *drWorld) runsWhere(keep func(drillRunJSON) bool) []drillRunJSON {
	var list struct{ Runs []drillRunJSON }
	if err := w.c.CLIJSON("operator-vic", &list, "runs"); err != nil {
		w.t.Logf("runs: %v", err)
		return nil
	}
	var out []drillRunJSON
	for _, r := range list.Runs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

func opCount(entries []integration.JournalEntry, region, op string) int {
	n := 0
	for _, e := range entries {
		if e.Operation == op && (region == "" || e.Region == region) {
			n++
		}
	}
	return n
}

func (w *drWorld) partialDrillArgs() []string {
	return []string{"drill", "start", "--kind", "partial", "--reason", "half-yearly drill", "--participants", "sam,mia",
		"--plan", filepath.Join(w.planDir, "kaigo-failover.yaml"), "--set", "APP_URL=" + w.sim.URL + "/_app/us-west-2",
		"--set", "ALLOW_DATA_LOSS=true"}
}

func (w *drWorld) declareArgs(extra ...string) []string {
	return append(append([]string{"declare", "--plan", filepath.Join(w.planDir, "kaigo-failover.yaml"), "--scenario", "region-outage",
		"--expected-outage", "6h", "--reason", "us-east-1 outage"}, w.params...), extra...)
}

// TestRealDeclarationPreemptsALiveDrill (issue item 1): while a partial drill is building
// in the DR region, a real declaration is refused with the drill's id and the flag to
// preempt it; with the flag the drill is aborted and what it created passes to the
// failover, which uses it; no teardown deletes it, then or later.
func TestRealDeclarationPreemptsALiveDrill(t *testing.T) {
	w := newDRWorld(t, 0.002)
	w.waitAgent("us-east-1")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	drill := integration.StartProcForTest(t, w.c.Bin, "drill", w.c.Env("operator-sam"), w.partialDrillArgs()...)

	var drillID string
	acted := map[string]bool{}
	integration.WaitFor(t, 2*time.Minute, "the drill to create its ElastiCache group", func() bool {
		if drillID == "" {
			live := w.runsWhere(func(r drillRunJSON) bool { return r.Drill == "partial" && r.Status == "running" })
			if len(live) == 0 {
				return false
			}
			drillID = live[0].ID
		}
		return w.act(drillID, acted).undone("create-cache")
	})

	_, errOut, err := w.c.CLI(ctx, "operator-sam", w.c.Addrs(), w.declareArgs()...)
	if err == nil || !strings.Contains(errOut, "run "+drillID) || !strings.Contains(errOut, "--preempt "+drillID) {
		t.Fatalf("a declaration while the drill is live: err=%v\n%s", err, errOut)
	}
	_, errOut, err = w.c.CLI(ctx, "operator-sam", w.c.Addrs(), w.declareArgs("--preempt", "failover-20990101-0000-000000")...)
	if err == nil || !strings.Contains(errOut, `"failover-20990101-0000-000000" is not the live run`) || !strings.Contains(errOut, drillID) {
		t.Fatalf("preempting a run that is not live: err=%v\n%s", err, errOut)
	}
	if n := len(w.runsWhere(func(r drillRunJSON) bool { return r.Drill == "" })); n != 0 {
		t.Fatalf("a refused declaration left %d runs", n)
	}

	var real runJSON
	if err := w.c.CLIJSON("operator-sam", &real, w.declareArgs("--preempt", drillID)...); err != nil {
		t.Fatal(err)
	}
	if got := w.drive(real.ID, 3*time.Minute, nil); got.Status != "succeeded" {
		t.Fatalf("the failover that preempted the drill: %s %s", got.Status, got.Error)
	}
	d, f := w.detail(drillID), w.detail(real.ID)
	if d.Status != "aborted" || d.PreemptedBy != real.ID || !slices.Equal(f.InheritedFrom, []string{drillID}) {
		t.Fatalf("drill %s preempted by %q; failover inherits from %v", d.Status, d.PreemptedBy, f.InheritedFrom)
	}
	if _, ok := drill.Exited(2 * time.Minute); !ok || !strings.Contains(drill.Logs(), "preempted by run "+real.ID) {
		t.Fatalf("the drill command after the preemption:\n%s", drill.Logs())
	}
	if tds := w.runsWhere(func(r drillRunJSON) bool { return r.ParentRunID == drillID }); len(tds) != 0 {
		t.Fatalf("the preempted drill got a teardown: %+v", tds)
	}
	// The journal: one ElastiCache group and one DR database, made by the drill and used by
	// the failover; nothing deleted.
	journal := w.sim.Journal(t)
	for op, want := range map[string]int{"CreateReplicationGroup": 1, "DeleteReplicationGroup": 0, "RestoreDBInstanceFromDBSnapshot": 1, "DeleteDBInstance": 0} {
		if got := opCount(journal, "us-west-2", op); got != want {
			t.Errorf("journal: %s x%d in us-west-2, want x%d", op, got, want)
		}
	}
	cfg := w.awsConfig("us-west-2")
	rg, err := elasticache.NewFromConfig(cfg).DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("kaigo-subsys-dr")})
	if err != nil || len(rg.ReplicationGroups) != 1 {
		t.Fatalf("the DR cache after the failover: %v %v", err, rg)
	}
	sec, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("kaigo-subsys/dr/redis-endpoint")})
	if err != nil || !strings.Contains(aws.ToString(sec.SecretString), aws.ToString(rg.ReplicationGroups[0].NodeGroups[0].PrimaryEndpoint.Address)) {
		t.Fatalf("the redis secret %v does not hold the group's endpoint: %v", sec, err)
	}
	audit := w.c.MustCLI("operator-admin", w.c.Addrs(), "audit", "-o", "json")
	if !strings.Contains(audit, "run.preempt") || !strings.Contains(audit, drillID) {
		t.Fatal("the preemption is not in the audit log")
	}
}

// TestAbortUndoRemovesWhatTheRunCreated (issue item 6): a failover aborted with --undo is
// torn down, newest change first, and the DR region is as it was; undo refuses a live run,
// a missing one and a teardown, naming them.
func TestAbortUndoRemovesWhatTheRunCreated(t *testing.T) {
	w := newDRWorld(t, 0.002)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	before := w.drSnapshot(ctx)
	id := w.declare()
	acted := map[string]bool{}
	integration.WaitFor(t, 2*time.Minute, "the failover to restore the database and create the cache", func() bool {
		r := w.act(id, acted)
		return r.undone("restore-rds") && r.undone("create-cache")
	})
	_, errOut, err := w.c.CLI(ctx, "operator-sam", w.c.Addrs(), "run", "undo", id)
	if err == nil || !strings.Contains(errOut, "run "+id+" is still running") || !strings.Contains(errOut, "--undo") {
		t.Fatalf("undo of a live run: err=%v %s", err, errOut)
	}
	out := w.c.MustCLI("operator-sam", w.c.Addrs(), "run", "abort", id, "--undo", "--reason", "declared the wrong plan")
	if !strings.Contains(out, "teardown due") {
		t.Fatalf("abort --undo said: %s", out)
	}
	var td runDetail
	integration.WaitFor(t, 3*time.Minute, "the teardown to end", func() bool {
		r := w.detail(id)
		if r.TeardownRunID == "" {
			return false
		}
		td = w.detail(r.TeardownRunID)
		return td.Status != "running"
	})
	if td.Status != "succeeded" || td.ParentRunID != id {
		t.Fatalf("teardown %s of %s: %s %s", td.ID, td.ParentRunID, td.Status, td.Error)
	}
	for _, bad := range []struct{ run, want string }{{"failover-20990101-0000-000000", `run "failover-20990101-0000-000000"`}, {td.ID, "is a teardown"}} {
		if _, errOut, err := w.c.CLI(ctx, "operator-sam", w.c.Addrs(), "run", "undo", bad.run); err == nil || !strings.Contains(errOut, bad.want) {
			t.Errorf("undo %s: err=%v %s", bad.run, err, errOut)
		}
	}
	journal := w.sim.Journal(t)
	for create, remove := range map[string]string{"RestoreDBInstanceFromDBSnapshot": "DeleteDBInstance", "CreateReplicationGroup": "DeleteReplicationGroup"} {
		if c, r := opCount(journal, "us-west-2", create), opCount(journal, "us-west-2", remove); c != 1 || r != 1 {
			t.Errorf("journal: %s x%d, %s x%d; want one each", create, c, remove, r)
		}
	}
	var after string
	deadline := time.Now().Add(60 * time.Second)
	for after = stringOf(w.drSnapshot(ctx)); after != stringOf(before) && time.Now().Before(deadline); after = stringOf(w.drSnapshot(ctx)) {
		time.Sleep(200 * time.Millisecond) // polling interval
	}
	if after != stringOf(before) {
		t.Fatalf("the DR region after the undo is not as it was:\nbefore: %s\nafter:  %s", stringOf(before), after)
	}
	if got := w.regionState(); got.State.Active != "us-east-1" || got.State.Epoch != 1 {
		t.Fatalf("region after an aborted failover: %+v", got.State)
	}
}

func stringOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestSecondDisasterRestoresTheNewestSnapshot (issue item 2, and the cycle): failover,
// cutback, failover, cutback, with no hand step but approvals. Each failover restores the
// DR database from the newest snapshot copy there is, never from what the last DR period
// left, and both end on us-east-1, four epochs on. Readiness --refresh is fresh for every
// agent, and names the one that did not answer (issue item 9).
func TestSecondDisasterRestoresTheNewestSnapshot(t *testing.T) {
	w := newDRWorld(t, 0.002)
	w.waitAgent("us-east-1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	t.Run("readiness --refresh asks every agent", func(t *testing.T) {
		checked := func() map[string]int64 {
			var resp struct {
				Regions []struct {
					Reports []struct {
						Region string `json:"region"`
						Checks []struct {
							Checked time.Time `json:"checked"`
						} `json:"checks"`
					} `json:"reports"`
				} `json:"regions"`
			}
			out, _, _ := w.c.CLI(ctx, "operator-vic", w.c.Addrs(), "readiness", "--refresh", "-o", "json")
			if err := json.Unmarshal([]byte(out), &resp); err != nil {
				t.Fatalf("readiness: %v\n%s", err, out)
			}
			oldest := map[string]int64{}
			for _, rr := range resp.Regions {
				for _, rep := range rr.Reports {
					for _, c := range rep.Checks {
						n := c.Checked.UnixNano()
						if o, ok := oldest[rep.Region]; !ok || n < o {
							oldest[rep.Region] = n
						}
					}
				}
			}
			return oldest
		}
		first := checked()
		second := checked()
		for _, region := range []string{"us-east-1", "us-west-2"} {
			if second[region] <= first[region] {
				t.Errorf("%s: the second refresh's oldest check is from %d, not after the first refresh's %d", region, second[region], first[region])
			}
		}
		w.east.Stop()
		out, _, _ := w.c.CLI(ctx, "operator-vic", w.c.Addrs(), "readiness", "--refresh")
		if !strings.Contains(out, "no fresh answer from agent us-east-1/test (us-east-1): not connected") {
			t.Errorf("refresh with the us-east-1 agent stopped:\n%s", out)
		}
		w.east.Start()
		w.waitAgent("us-east-1")
	})

	west := rds.NewFromConfig(w.awsConfig("us-west-2"))
	east := rds.NewFromConfig(w.awsConfig("us-east-1"))
	newestCopy := func() string {
		out, err := west.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String("kaigo-subsys-prod")})
		if err != nil {
			t.Fatal(err)
		}
		best, at := "", time.Time{}
		for _, s := range out.DBSnapshots {
			data := aws.ToTime(s.OriginalSnapshotCreateTime)
			if data.IsZero() {
				data = aws.ToTime(s.SnapshotCreateTime)
			}
			if aws.ToString(s.Status) == "available" && data.After(at) {
				best, at = aws.ToString(s.DBSnapshotIdentifier), data
			}
		}
		return best
	}
	cutbackArgs := []string{"cutback", "--plan", filepath.Join(w.planDir, "kaigo-cutback.yaml"), "--reason", "us-east-1 recovered",
		"--set", "APP_URL=" + w.sim.URL + "/_app/dns/api.kaigo-subsys.example.com"}
	var restored []string
	for cycle := 1; cycle <= 2; cycle++ {
		if cycle == 2 {
			// The daily copy runs between the two disasters: production (restored from
			// the first DR period's data) is snapshotted and copied to us-west-2.
			snap := "kaigo-subsys-prod-daily-2"
			made, err := east.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("kaigo-subsys-prod"), DBSnapshotIdentifier: aws.String(snap)})
			if err != nil {
				t.Fatal(err)
			}
			if err := rds.NewDBSnapshotAvailableWaiter(east).Wait(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(snap)}, 2*time.Minute); err != nil {
				t.Fatal(err)
			}
			if _, err := west.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: made.DBSnapshot.DBSnapshotArn,
				TargetDBSnapshotIdentifier: aws.String(snap + "-copy"), SourceRegion: aws.String("us-east-1"),
				KmsKeyId: aws.String("arn:aws:kms:us-west-2:123456789012:key/dr-key-id")}); err != nil { // the fixture's DR key
				t.Fatal(err)
			}
			if err := rds.NewDBSnapshotAvailableWaiter(west).Wait(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(snap + "-copy")}, 2*time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		want := newestCopy()
		id := w.declare()
		fo := w.drive(id, 4*time.Minute, nil)
		if fo.Status != "succeeded" {
			t.Fatalf("failover %d: %s %s", cycle, fo.Status, fo.Error)
		}
		got, _ := w.detail(id).outputs("restore-rds")["snapshotId"].(string)
		if got != want {
			t.Fatalf("failover %d restored %q, want the newest copy %q", cycle, got, want)
		}
		restored = append(restored, got)
		var cut runJSON
		if err := w.c.CLIJSON("operator-sam", &cut, cutbackArgs...); err != nil {
			t.Fatal(err)
		}
		if cb := w.drive(cut.ID, 4*time.Minute, nil); cb.Status != "succeeded" {
			t.Fatalf("cutback %d: %s %s", cycle, cb.Status, cb.Error)
		}
	}
	if restored[0] == restored[1] {
		t.Fatalf("both failovers restored %s", restored[0])
	}
	journal := w.sim.Journal(t)
	for op, want := range map[string]int{"RestoreDBInstanceFromDBSnapshot": 2, "DeleteDBInstance": 2, "StopDBInstance": 0, "CreateReplicationGroup": 2, "DeleteReplicationGroup": 2} {
		if got := opCount(journal, "us-west-2", op); got != want {
			t.Errorf("journal: %s x%d in us-west-2 over two cycles, want x%d", op, got, want)
		}
	}
	if got := w.regionState(); got.State.Active != "us-east-1" || got.State.Epoch != 5 || got.State.Mode != "normal" {
		t.Fatalf("after two cycles: %+v, want us-east-1 at epoch 5 (1 + 4)", got.State)
	}
}
