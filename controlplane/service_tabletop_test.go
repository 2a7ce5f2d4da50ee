package controlplane_test

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// tabletopRun is a finished tabletop as an isolated world returns it: its own id, and the
// isolated world's epochs, which must not leak into the live record.
func tabletopRun(status kirikaev1.RunStatus, drill kirikaev1.DrillKind) *kirikaev1.Run {
	start := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	return &kirikaev1.Run{Id: "failover-isolated-1", Kind: kirikaev1.RunKind_RUN_KIND_FAILOVER, Drill: drill, PlanName: "kaigo-failover",
		Status: status, Scenario: "region-outage", Reason: "quarterly tabletop", FromRegion: "us-east-1", ToRegion: "us-west-2",
		CreatedUnixNano: start.UnixNano(), FinishedUnixNano: start.Add(100 * time.Minute).UnixNano(), EpochBefore: 1, EpochAfter: 2,
		Participants: []string{"alice", "bob"},
		Steps: []*kirikaev1.StepState{
			{Id: "restore-rds", Status: kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED, Attempt: 1,
				StartedUnixNano: start.UnixNano(), FinishedUnixNano: start.Add(45 * time.Minute).UnixNano(),
				Spec: &kirikaev1.StepSpec{Action: "aws.rds.restoreSnapshot", Region: "us-west-2", ExpectMs: (45 * time.Minute).Milliseconds()}},
			{Id: "activate-secondary", Status: kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED, Attempt: 1,
				StartedUnixNano: start.Add(45 * time.Minute).UnixNano(), FinishedUnixNano: start.Add(46 * time.Minute).UnixNano(),
				Spec: &kirikaev1.StepSpec{Action: "region.activate", Region: "control-plane", Needs: []string{"restore-rds"}}},
		}}
}

// TestRecordTabletop records a tabletop through the API: it lands in ListRuns as a
// tabletop drill under a new id, leaves the region state, epoch and mode as they were, is
// recorded once per request id, and is refused unless it is a finished tabletop.
func TestRecordTabletop(t *testing.T) {
	c := newTestClusterWith(t, 3, "operators:\n  admin: [admin]\n  vic: [viewer]\n  alice: [sysadmin, operator]\n  bob: [manager]\n")
	ctx := ctxT(t)
	if _, err := kirikaev1.NewRegionAdminServiceClient(c.conn(0, "operator-admin")).InitRegion(ctx,
		&kirikaev1.InitRegionRequest{Primary: "us-east-1", Secondary: "us-west-2"}); err != nil {
		t.Fatal(err)
	}
	region := func() *kirikaev1.RegionState {
		t.Helper()
		resp, err := kirikaev1.NewActiveRegionServiceClient(c.conn(0, "operator-vic")).GetActiveRegion(ctx, &kirikaev1.GetActiveRegionRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetState()
	}
	before := region()
	// Through a follower, so the write is forwarded to the leader as every write is.
	runs := kirikaev1.NewRunServiceClient(c.conn(c.follower(), "operator-alice"))
	in := tabletopRun(kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED, kirikaev1.DrillKind_DRILL_KIND_TABLETOP)
	resp, err := runs.RecordTabletop(ctx, &kirikaev1.RecordTabletopRequest{Run: in, RequestId: "tabletop-1"})
	if err != nil {
		t.Fatal(err)
	}
	got := resp.GetRun()
	if got.GetId() == "" || got.GetId() == in.GetId() {
		t.Fatalf("recorded under id %q: want a new id, not the isolated world's %q", got.GetId(), in.GetId())
	}
	again, err := runs.RecordTabletop(ctx, &kirikaev1.RecordTabletopRequest{Run: in, RequestId: "tabletop-1"})
	if err != nil {
		t.Fatal(err)
	}
	if again.GetRun().GetId() != got.GetId() {
		t.Errorf("the same request id recorded a second run: %s and %s", got.GetId(), again.GetRun().GetId())
	}

	list, err := kirikaev1.NewRunServiceClient(c.conn(0, "operator-vic")).ListRuns(ctx, &kirikaev1.ListRunsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetRuns()) != 1 {
		t.Fatalf("%d runs listed, want the one tabletop", len(list.GetRuns()))
	}
	r := list.GetRuns()[0]
	if r.GetId() != got.GetId() || r.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_TABLETOP || r.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
		t.Errorf("listed %s drill %s status %s", r.GetId(), r.GetDrill(), r.GetStatus())
	}
	if r.GetEpochBefore() != before.GetEpoch() || r.GetEpochAfter() != before.GetEpoch() {
		t.Errorf("recorded epochs %d -> %d, want the live epoch %d on both sides", r.GetEpochBefore(), r.GetEpochAfter(), before.GetEpoch())
	}
	if r.GetFinishedUnixNano() != in.GetFinishedUnixNano() || len(r.GetSteps()) != 2 {
		t.Errorf("the record lost the run's timeline: finished %d, %d steps", r.GetFinishedUnixNano(), len(r.GetSteps()))
	}
	after := region()
	if !proto.Equal(before, after) {
		t.Errorf("region state changed by a tabletop record:\nbefore %v\nafter  %v", before, after)
	}
	if after.GetActive() != "us-east-1" || after.GetMode() != kirikaev1.Mode_MODE_NORMAL {
		t.Errorf("active %s mode %s after a tabletop record", after.GetActive(), after.GetMode())
	}

	for _, tc := range []struct {
		name string
		run  *kirikaev1.Run
	}{
		{"not a tabletop", tabletopRun(kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED, kirikaev1.DrillKind_DRILL_KIND_FULL)},
		{"no drill", tabletopRun(kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED, kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED)},
		{"unfinished", tabletopRun(kirikaev1.RunStatus_RUN_STATUS_RUNNING, kirikaev1.DrillKind_DRILL_KIND_TABLETOP)},
		{"paused", tabletopRun(kirikaev1.RunStatus_RUN_STATUS_PAUSED, kirikaev1.DrillKind_DRILL_KIND_TABLETOP)},
		{"no run", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runs.RecordTabletop(ctx, &kirikaev1.RecordTabletopRequest{Run: tc.run})
			if status.Code(err) != codes.InvalidArgument {
				t.Errorf("err %v, want InvalidArgument", err)
			}
		})
	}
	// Recording is an operator's write: a viewer may not.
	_, err = kirikaev1.NewRunServiceClient(c.conn(0, "operator-vic")).RecordTabletop(ctx, &kirikaev1.RecordTabletopRequest{Run: in})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("viewer recording a tabletop: %v, want PermissionDenied", err)
	}
	list, err = kirikaev1.NewRunServiceClient(c.conn(0, "operator-vic")).ListRuns(ctx, &kirikaev1.ListRunsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetRuns()) != 1 {
		t.Errorf("%d runs after the refusals, want still 1", len(list.GetRuns()))
	}
	if !proto.Equal(before, region()) {
		t.Error("region state changed by the refused records")
	}
}
