package cli

import (
	"testing"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/report"
)

func TestLastDrillsTakesTheNewestSuccessPerKind(t *testing.T) {
	at := func(s string) int64 {
		tm, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixNano()
	}
	ok, failed := kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED, kirikaev1.RunStatus_RUN_STATUS_FAILED
	runs := []*kirikaev1.Run{
		{Drill: kirikaev1.DrillKind_DRILL_KIND_TABLETOP, Status: ok, FinishedUnixNano: at("2026-03-01")},
		{Drill: kirikaev1.DrillKind_DRILL_KIND_TABLETOP, Status: ok, FinishedUnixNano: at("2026-06-01")},
		{Drill: kirikaev1.DrillKind_DRILL_KIND_TABLETOP, Status: failed, FinishedUnixNano: at("2026-09-01")},
		{Drill: kirikaev1.DrillKind_DRILL_KIND_FULL, Status: ok, FinishedUnixNano: at("2025-12-01")},
		{Status: ok, FinishedUnixNano: at("2026-10-01")}, // a real failover is not a drill
	}
	got := lastDrills(runs)
	if len(got) != 2 {
		t.Fatalf("kinds found: %v", got)
	}
	if d := got[report.Tabletop].Format("2006-01-02"); d != "2026-06-01" {
		t.Errorf("last tabletop %s, want the newest successful one, 2026-06-01", d)
	}
	if d := got[report.Full].Format("2006-01-02"); d != "2025-12-01" {
		t.Errorf("last full drill %s", d)
	}
}
