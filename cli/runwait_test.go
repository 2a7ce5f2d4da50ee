package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// TestRunWaitEndsWhenTheStepNeedsPeopleOrHasEnded: `run wait` stops at a step waiting for
// people or ended, exits 5 when it failed or the run ended first, and names the steps of
// a run that has no such step.
func TestRunWaitEndsWhenTheStepNeedsPeopleOrHasEnded(t *testing.T) {
	const (
		running   = kirikaev1.RunStatus_RUN_STATUS_RUNNING
		paused    = kirikaev1.RunStatus_RUN_STATUS_PAUSED
		failedRun = kirikaev1.RunStatus_RUN_STATUS_FAILED
	)
	tests := []struct {
		name     string
		run      kirikaev1.RunStatus
		step     kirikaev1.StepStatus
		done     bool
		exitCode int // 0: no error
	}{
		{"pending", running, kirikaev1.StepStatus_STEP_STATUS_PENDING, false, 0},
		{"running", running, kirikaev1.StepStatus_STEP_STATUS_RUNNING, false, 0},
		{"retry wait", running, kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT, false, 0},
		{"pending in a paused run", paused, kirikaev1.StepStatus_STEP_STATUS_PENDING, false, 0},
		{"waiting for people", running, kirikaev1.StepStatus_STEP_STATUS_WAITING, true, 0},
		{"succeeded", running, kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED, true, 0},
		{"skipped", running, kirikaev1.StepStatus_STEP_STATUS_SKIPPED, true, 0},
		{"failed", running, kirikaev1.StepStatus_STEP_STATUS_FAILED, true, exitRunFailed},
		{"run ended before the step", failedRun, kirikaev1.StepStatus_STEP_STATUS_PENDING, true, exitRunFailed},
		{"waiting in an aborted run", kirikaev1.RunStatus_RUN_STATUS_ABORTED, kirikaev1.StepStatus_STEP_STATUS_WAITING, true, exitRunFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &kirikaev1.Run{Id: "r1", Status: tt.run, Steps: []*kirikaev1.StepState{{Id: "other"}, {Id: "approve", Status: tt.step}}}
			st, done, err := stepWaited(r, "approve")
			if done != tt.done || st.GetId() != "approve" {
				t.Fatalf("done = %v, step %q; want %v, approve", done, st.GetId(), tt.done)
			}
			var ee *exitError
			switch {
			case tt.exitCode == 0 && err != nil:
				t.Fatalf("error %v", err)
			case tt.exitCode != 0 && (!errors.As(err, &ee) || ee.code != tt.exitCode):
				t.Fatalf("error %v, want exit %d", err, tt.exitCode)
			}
		})
	}
	_, done, err := stepWaited(&kirikaev1.Run{Id: "r1", Steps: []*kirikaev1.StepState{{Id: "checklist"}, {Id: "approve"}}}, "aprove")
	if !done || err == nil || !strings.Contains(err.Error(), "checklist, approve") {
		t.Fatalf("unknown step: done %v, %v", done, err)
	}
}

// TestRunWaitSaysWhatTheStepWaitsFor: a checklist is listed by number, an approval with the
// roles it needs and has.
func TestRunWaitSaysWhatTheStepWaitsFor(t *testing.T) {
	waiting := kirikaev1.StepStatus_STEP_STATUS_WAITING
	tests := []struct {
		name string
		st   *kirikaev1.StepState
		want string
	}{
		{"checklist", &kirikaev1.StepState{Id: "checklist", Status: waiting, Spec: &kirikaev1.StepSpec{Action: "checklist",
			Roles: []string{"sysadmin"}, Items: []string{"AWS announcement", "scope"}}},
			"step checklist waits for its checklist: 0 of 2 confirmed (by sysadmin)\n      1. [ ] AWS announcement\n      2. [ ] scope\n"},
		{"checklist of no role", &kirikaev1.StepState{Id: "verify-data", Status: waiting, Spec: &kirikaev1.StepSpec{Action: "checklist",
			Items: []string{"data"}}}, "step verify-data waits for its checklist: 0 of 1 confirmed (by any operator)\n      1. [ ] data\n"},
		{"approval", &kirikaev1.StepState{Id: "approve", Status: waiting, Spec: &kirikaev1.StepSpec{Action: "approval",
			Roles: []string{"sysadmin", "manager"}}, Approvals: []*kirikaev1.Approval{{Role: "sysadmin", Actor: "spiffe://kirikae/operator/alice"}}},
			"step approve waits for approval: sysadmin, manager (have: sysadmin=spiffe://kirikae/operator/alice)\n"},
		{"ended", &kirikaev1.StepState{Id: "restore", Status: kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED}, "step restore: succeeded\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			printWaited(&b, tt.st)
			if b.String() != tt.want {
				t.Fatalf("got:\n%s\nwant:\n%s", b.String(), tt.want)
			}
		})
	}
}
