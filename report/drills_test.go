package report_test

import (
	"testing"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/report"
)

func TestLastDrillsCountsOnlyDrillsThatSucceeded(t *testing.T) {
	at := func(s string) int64 {
		tm, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixNano()
	}
	ok, failed, aborted := kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED, kirikaev1.RunStatus_RUN_STATUS_FAILED, kirikaev1.RunStatus_RUN_STATUS_ABORTED
	tabletop, partial, full := kirikaev1.DrillKind_DRILL_KIND_TABLETOP, kirikaev1.DrillKind_DRILL_KIND_PARTIAL, kirikaev1.DrillKind_DRILL_KIND_FULL
	fo, cb, td := kirikaev1.RunKind_RUN_KIND_FAILOVER, kirikaev1.RunKind_RUN_KIND_CUTBACK, kirikaev1.RunKind_RUN_KIND_TEARDOWN
	runs := []*kirikaev1.Run{
		{Id: "t1", Drill: tabletop, Kind: fo, Status: ok, CreatedUnixNano: at("2026-03-01"), FinishedUnixNano: at("2026-03-01")},
		{Id: "t2", Drill: tabletop, Kind: fo, Status: ok, CreatedUnixNano: at("2026-06-01"), FinishedUnixNano: at("2026-06-01")},
		{Id: "t3", Drill: tabletop, Kind: fo, Status: failed, CreatedUnixNano: at("2026-09-01"), FinishedUnixNano: at("2026-09-01")},
		// A partial drill that succeeded, then one that was aborted, whose teardown succeeded.
		{Id: "p1", Drill: partial, Kind: fo, Status: ok, CreatedUnixNano: at("2026-02-01"), FinishedUnixNano: at("2026-02-01")},
		{Id: "p2", Drill: partial, Kind: fo, Status: aborted, CreatedUnixNano: at("2026-08-01"), FinishedUnixNano: at("2026-08-01"), TeardownRunId: "teardown-p2"},
		{Id: "teardown-p2", Drill: partial, Kind: td, ParentRunId: "p2", Status: ok, CreatedUnixNano: at("2026-08-01"), FinishedUnixNano: at("2026-08-02")},
		// A full drill done on 2025-12-01, and one whose cutback failed.
		{Id: "f1", Drill: full, Kind: fo, Status: ok, CutbackRunId: "c1", CreatedUnixNano: at("2025-12-01"), FinishedUnixNano: at("2025-12-01")},
		{Id: "c1", Drill: full, Kind: cb, ParentRunId: "f1", Status: ok, CreatedUnixNano: at("2025-12-01"), FinishedUnixNano: at("2025-12-02")},
		{Id: "f2", Drill: full, Kind: fo, Status: ok, CutbackRunId: "c2", CreatedUnixNano: at("2026-07-01"), FinishedUnixNano: at("2026-07-01")},
		{Id: "c2", Drill: full, Kind: cb, ParentRunId: "f2", Status: failed, CreatedUnixNano: at("2026-07-01"), FinishedUnixNano: at("2026-07-02")},
		{Id: "real", Kind: fo, Status: ok, FinishedUnixNano: at("2026-10-01")}, // a real failover is not a drill
	}
	got := report.LastDrills(runs, 0)
	want := map[report.DrillKind]string{report.Tabletop: "2026-06-01", report.Partial: "2026-02-01", report.Full: "2025-12-02"}
	if len(got) != len(want) {
		t.Fatalf("kinds found: %v", got)
	}
	for k, d := range want {
		if g := got[k].Format("2006-01-02"); g != d {
			t.Errorf("last %s drill %s, want %s", k, g, d)
		}
	}
	// Only drills that started before a given time: the report's "before this drill".
	if got := report.LastDrills(runs, at("2026-04-01")); got[report.Tabletop].Format("2006-01-02") != "2026-03-01" {
		t.Errorf("last tabletop before 2026-04-01: %v", got[report.Tabletop])
	}
}
