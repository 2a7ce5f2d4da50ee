package runs_test

import (
	"testing"
	"time"

	"github.com/kirikae/kirikae/catalog"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/runs"
)

func TestDataLossOf(t *testing.T) {
	restore := func(id string, status kirikaev1.StepStatus, outputs, failure string) *kirikaev1.StepState {
		return &kirikaev1.StepState{Id: id, Status: status, OutputsJson: outputs, FailureOutputsJson: failure,
			Spec: &kirikaev1.StepSpec{Action: catalog.RestoreSnapshot.Name}}
	}
	run := &kirikaev1.Run{Steps: []*kirikaev1.StepState{
		{Id: "other", Status: kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED, OutputsJson: `{"snapshotAgeSeconds":999999}`, Spec: &kirikaev1.StepSpec{Action: "aws.ecs.updateService"}},
		restore("east", kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED, `{"snapshotId":"a","snapshotAgeSeconds":3600}`, ""),
		restore("west", kirikaev1.StepStatus_STEP_STATUS_FAILED, "", `{"snapshotId":"b","snapshotAgeSeconds":75600}`),
	}}
	if dl, ok := runs.DataLossOf(run, false); !ok || dl.Window != time.Hour || dl.Step != "east" || dl.Snapshot != "a" || dl.Refused {
		t.Fatalf("what was restored: %+v %v", dl, ok)
	}
	if dl, ok := runs.DataLossOf(run, true); !ok || dl.Window != 21*time.Hour || dl.Step != "west" || dl.Snapshot != "b" || !dl.Refused {
		t.Fatalf("with the refusal: %+v %v", dl, ok)
	}
	if _, ok := runs.DataLossOf(&kirikaev1.Run{Steps: run.Steps[2:]}, false); ok {
		t.Fatal("a refused restore counted as restored")
	}
}
