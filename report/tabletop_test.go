package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/report"
)

// TestTabletopReportSaysPredicted checks that a tabletop's report calls its RTO and its
// data-loss window predicted, flags the RPO gap, and lists the tabletop's assumptions;
// an incident report of the same run says none of that.
func TestTabletopReportSaysPredicted(t *testing.T) {
	start := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	run := func(drill kirikaev1.DrillKind) *kirikaev1.Run {
		return &kirikaev1.Run{Id: "failover-1", Kind: kirikaev1.RunKind_RUN_KIND_FAILOVER, Drill: drill, PlanName: "kaigo-failover",
			Status: kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED, CreatedUnixNano: start.UnixNano(), FinishedUnixNano: start.Add(106 * time.Minute).UnixNano(),
			Params: map[string]string{"RTO": "4h", "RPO": "1h"},
			Steps: []*kirikaev1.StepState{{Id: "restore-rds", Status: kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED, Attempt: 1,
				StartedUnixNano: start.Add(20 * time.Minute).UnixNano(), FinishedUnixNano: start.Add(65 * time.Minute).UnixNano(),
				OutputsJson: `{"snapshotId":"rds:kaigo-subsys-prod-2026-11-29-03-00","snapshotAgeSeconds":111600}`,
				Spec:        &kirikaev1.StepSpec{Action: "aws.rds.restoreSnapshot", Phase: "build", Region: "us-west-2"}}}}
	}
	now := func() time.Time { return start.Add(3 * time.Hour) }
	notes := []string{"rds.snapshot-copy-age in us-west-2 (live: 30h0m0s): the newest simulated copy is 31h0m0s old"}
	r, err := report.Build(report.Input{Runs: []*kirikaev1.Run{run(kirikaev1.DrillKind_DRILL_KIND_TABLETOP)}, Notes: notes, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Predicted() || !r.RTO.Known || r.RTO.Achieved != 106*time.Minute || !r.RPO.Known || r.RPO.Met {
		t.Fatalf("predicted %v, RTO %+v, RPO %+v", r.Predicted(), r.RTO, r.RPO)
	}
	var md, html bytes.Buffer
	if err := r.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := r.HTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| | Objective | Predicted | Result |", "| RTO | 4h | 1h46m | met |", "| RPO (data-loss window) | 1h | 31h | **missed** |",
		"predicted data-loss window 31h exceeds the RPO of 1h", "RTO: predicted by the tabletop", "前提 / Assumptions", notes[0]} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md.String())
		}
	}
	for _, want := range []string{"<th>Predicted</th>", "前提 / Assumptions", "predicted data-loss window 31h"} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}

	inc, err := report.Build(report.Input{Runs: []*kirikaev1.Run{run(kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED)}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	md.Reset()
	if err := inc.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(md.String()), "predicted") || strings.Contains(md.String(), "Assumptions") {
		t.Errorf("an incident report speaks of predictions:\n%s", md.String())
	}
}
