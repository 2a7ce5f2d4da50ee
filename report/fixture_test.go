package report_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/kirikae/kirikae/deploy"
	"github.com/kirikae/kirikae/deploy/drills"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/report"
)

// drillStart is the seed's full-scale drill: 2025-12-01 09:00 JST.
var drillStart = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)

func loadPlan(t testing.TB, name string) *plan.Plan {
	t.Helper()
	src, err := deploy.Plan(name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Parse(name, src)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loadTimeline(t testing.TB) *report.Timeline {
	t.Helper()
	src, err := drills.Timeline("full-scale.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tl, err := report.ParseTimeline("deploy/drills/full-scale.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// tweak changes how one step of a simulated run went.
type tweak struct {
	took     time.Duration // instead of the expect
	failures []string      // attempts that failed before the one that succeeded
	outputs  map[string]any
	status   kirikaev1.StepStatus
	errText  string
}

// simulate builds a finished run of p the way the control plane records one: each step
// starts a minute after the last of its needs finished and takes its expect (1 m without
// one), unless tweaked. Times are divided by scale, as on a drill against awssim, except
// where only approvals and checklists are waiting: people take real time at any scale.
func simulate(t testing.TB, p *plan.Plan, id string, kind kirikaev1.RunKind, start time.Time, scale float64, tweaks map[string]tweak) *kirikaev1.Run {
	t.Helper()
	// The schedule, in plan time.
	type span struct{ from, to time.Duration }
	sched := map[string]span{}
	var end time.Duration
	for _, sid := range p.TopoOrder() {
		s := p.Step(sid)
		begin := time.Minute
		for _, n := range s.Needs {
			begin = max(begin, sched[n].to+time.Minute)
		}
		took := s.Expect
		if took == 0 {
			took = time.Minute
		}
		if tw := tweaks[sid]; tw.took != 0 {
			took = tw.took
		}
		sched[sid] = span{begin, begin + took}
		end = max(end, begin+took)
	}
	// People's time: while a human step waits and no other step runs.
	busy := func(d time.Duration, human bool) bool {
		for sid, sp := range sched {
			a := p.Step(sid).Action
			if (a == "approval" || a == "checklist") == human && sp.from <= d && d < sp.to {
				return true
			}
		}
		return false
	}
	// Plan time to wall time, a second at a time (every span is whole seconds).
	wall := map[time.Duration]time.Duration{}
	var w time.Duration
	for d := time.Duration(0); d <= end+time.Minute; d += time.Second {
		wall[d] = w
		if busy(d, true) && !busy(d, false) {
			w += time.Second
		} else {
			w += time.Duration(float64(time.Second) * scale)
		}
	}
	at := func(d time.Duration) int64 {
		if d%time.Second != 0 {
			t.Fatalf("simulate: %s is not whole seconds", d)
		}
		return start.Add(wall[d]).UnixNano()
	}
	run := &kirikaev1.Run{Id: id, Kind: kind, PlanName: p.Name, PlanSource: p.Source, Status: kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED,
		CreatedUnixNano: at(0), Primary: "us-east-1", Secondary: "us-west-2", Params: map[string]string{}}
	for _, ph := range p.Phases {
		run.Phases = append(run.Phases, &kirikaev1.Phase{Id: ph.ID, Name: ph.Name, ExpectMs: ph.Expect.Milliseconds()})
	}
	for _, s := range p.Steps {
		tw := tweaks[s.ID]
		st := &kirikaev1.StepState{Id: s.ID, Status: kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED, Attempt: uint32(len(tw.failures) + 1),
			StartedUnixNano: at(sched[s.ID].from), FinishedUnixNano: at(sched[s.ID].to),
			Spec: &kirikaev1.StepSpec{Name: s.Name, Phase: s.Phase, Region: s.Region, Needs: s.Needs, Action: s.Action,
				ExpectMs: s.Expect.Milliseconds(), Owner: s.Owner, Retries: uint32(s.Retries), OnFailure: string(s.OnFailure)}}
		for i, f := range tw.failures {
			st.History = append(st.History, fmt.Sprintf("attempt %d failed: %s", i+1, f))
		}
		if tw.status != kirikaev1.StepStatus_STEP_STATUS_UNSPECIFIED {
			st.Status, st.Error = tw.status, tw.errText
			st.History = append(st.History, fmt.Sprintf("attempt %d failed: %s", st.Attempt, tw.errText))
		} else {
			st.History = append(st.History, fmt.Sprintf("attempt %d succeeded", st.Attempt))
		}
		if tw.outputs != nil {
			b, _ := json.Marshal(tw.outputs)
			st.OutputsJson = string(b)
		}
		run.Steps = append(run.Steps, st)
	}
	run.FinishedUnixNano = at(end + time.Minute)
	return run
}

// fixture is a full-scale drill: a failover with a retried and slow RDS restore, a long
// wait for the executive approval and a 21 h old snapshot (the RPO gap), then a cutback.
func fixture(t testing.TB, scale float64, drill kirikaev1.DrillKind) report.Input {
	t.Helper()
	fo := simulate(t, loadPlan(t, "kaigo-failover.yaml"), "run-fo", kirikaev1.RunKind_RUN_KIND_FAILOVER, drillStart, scale, map[string]tweak{
		"restore-rds": {took: 80 * time.Minute, failures: []string{"rds RestoreDBInstanceFromDBSnapshot: InsufficientDBInstanceCapacity"},
			outputs: map[string]any{"snapshotId": "rds:kaigo-subsys-prod-2025-11-30-03-00", "snapshotAgeSeconds": 75600, "dataLossWindow": "21h"}},
		"approve-activation": {took: 40 * time.Minute},
	})
	fo.Drill, fo.Scenario, fo.Reason = drill, "region-outage", "full-scale drill: us-east-1 region outage"
	fo.FromRegion, fo.ToRegion, fo.EpochBefore, fo.EpochAfter = "us-east-1", "us-west-2", 1, 2
	fo.DeclaredBy = "spiffe://kirikae/operator/alice"
	fo.Steps[2].Approvals = []*kirikaev1.Approval{{Actor: "spiffe://kirikae/operator/alice", Role: "sysadmin"}, {Actor: "spiffe://kirikae/operator/bob", Role: "manager"}}
	in := report.Input{Runs: []*kirikaev1.Run{fo}, Drill: "", Now: func() time.Time { return time.Date(2025, 12, 2, 9, 0, 0, 0, time.UTC) }, TimeScale: scale,
		LastDrills: map[report.DrillKind]time.Time{report.Tabletop: time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC), report.Partial: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}}
	in.Audit = []*kirikaev1.AuditEntry{
		{Seq: 1, Actor: "spiffe://kirikae/operator/alice", Method: "run.create", Request: `{"id":"run-fo","kind":"RUN_KIND_FAILOVER"}`, Result: "ok"},
		{Seq: 2, Actor: "spiffe://kirikae/server/cp-1", Method: "run.step.dispatch", Request: `{"run_id":"run-fo","step_id":"health-events"}`, Result: "ok"},
		{Seq: 3, Actor: "spiffe://kirikae/operator/alice", Method: "run.confirm", Request: `{"run_id":"run-fo","step_id":"checklist"}`, Result: "ok"},
		{Seq: 4, Actor: "spiffe://kirikae/operator/bob", Method: "run.approve", Request: `{"run_id":"run-fo","step_id":"approve-region-outage","role":"manager"}`, Result: "ok"},
		{Seq: 5, Actor: "spiffe://kirikae/operator/carol", Method: "run.approve", Request: `{"run_id":"run-fo","step_id":"approve-activation","role":"executive"}`, Result: "ok"},
		{Seq: 6, Actor: "spiffe://kirikae/operator/mallory", Method: "run.approve", Request: `{"run_id":"run-fo","step_id":"approve-activation","role":"executive"}`, Result: "error: permission denied"},
		{Seq: 7, Actor: "spiffe://kirikae/operator/dave", Method: "run.approve", Request: `{"run_id":"other","step_id":"x","role":"manager"}`, Result: "ok"},
	}
	in.ReadinessStart = []*kirikaev1.ReadinessReport{
		{AgentId: "agent-us-west-2", Region: "us-west-2", ReportedUnixNano: drillStart.UnixNano(), Checks: []*kirikaev1.ReadinessCheck{
			{Name: "ec2.dr-network", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_OK},
			{Name: "rds.snapshot-copy-age", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL, Detail: "newest snapshot copy 21h old > RPO 1h", Observed: "21h0m0s"},
			{Name: "backup.efs-copy-age", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_OK},
		}},
		{AgentId: "agent-us-east-1", Region: "us-east-1", ReportedUnixNano: drillStart.UnixNano(), Checks: []*kirikaev1.ReadinessCheck{
			{Name: "rds.backup-retention", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_OK},
			{Name: "rds.pitr", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_WARN, Detail: "latest restorable time lags 20m"},
		}},
	}
	if drill != kirikaev1.DrillKind_DRILL_KIND_FULL {
		return in
	}
	cutStart := time.Unix(0, fo.GetFinishedUnixNano()).Add(time.Duration(float64(20*time.Minute) * scale))
	cb := simulate(t, loadPlan(t, "kaigo-cutback.yaml"), "run-cb", kirikaev1.RunKind_RUN_KIND_CUTBACK, cutStart, scale, nil)
	cb.Drill, cb.ParentRunId = drill, fo.GetId()
	cb.FromRegion, cb.ToRegion, cb.EpochBefore, cb.EpochAfter = "us-west-2", "us-east-1", 2, 3
	cb.DeclaredBy = "spiffe://kirikae/operator/alice"
	in.Runs = append(in.Runs, cb)
	in.Audit = append(in.Audit, &kirikaev1.AuditEntry{Seq: 8, Actor: "spiffe://kirikae/operator/erin", Method: "run.approve",
		Request: `{"run_id":"run-cb","step_id":"approve-delete","role":"manager"}`, Result: "ok"})
	end := time.Unix(0, cb.GetFinishedUnixNano())
	in.ReadinessEnd = []*kirikaev1.ReadinessReport{
		{AgentId: "agent-us-west-2", Region: "us-west-2", ReportedUnixNano: end.UnixNano(), Checks: []*kirikaev1.ReadinessCheck{
			{Name: "rds.snapshot-copy-age", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL, Detail: "newest snapshot copy 22h old > RPO 1h"},
		}},
	}
	in.Timeline = loadTimeline(t)
	return in
}
