package integration_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kirikae/kirikae/integration"
)

const controlPlan = `apiVersion: kirikae/v1
kind: Plan
name: control-test
runKind: recovery
steps:
  - id: scale
    region: secondary
    action: aws.ecs.updateService
    with: {cluster: kaigo-subsys-dr, service: kaigo-subsys-dr-service, desiredCount: 1, wait: false}
  - id: hold
    needs: [scale]
    action: wait
    with: {duration: 12s}
  - id: alarm
    region: secondary
    needs: [hold]
    action: aws.cloudwatch.putAlarm
    with: {alarmName: control-test, metricName: CPUUtilization, namespace: AWS/ECS, threshold: "90"}
  - id: long
    needs: [alarm]
    action: wait
    with: {duration: 1h}
`

// TestRunControlVerbs drives retry, pause, resume, skip and abort through the CLI against
// real processes, with failures injected into awssim.
func TestRunControlVerbs(t *testing.T) {
	w := newDRWorld(t, 0.01)
	plan := filepath.Join(t.TempDir(), "control.yaml")
	if err := os.WriteFile(plan, []byte(controlPlan), 0o600); err != nil {
		t.Fatal(err)
	}
	// retry: ECS fails every call, the step fails and the run pauses; once ECS is back,
	// `run retry` runs it again.
	if err := w.sim.Control("fault", map[string]any{"service": "ecs", "operation": "UpdateService", "rate": 1}); err != nil {
		t.Fatal(err)
	}
	var r runJSON
	if err := w.c.CLIJSON("operator-sam", &r, "declare", "--plan", plan, "--reason", "control verbs"); err != nil {
		t.Fatal(err)
	}
	step := func(id string) (status, errText string) {
		for _, st := range w.run(r.ID).Steps {
			if st.ID == id {
				return st.Status, st.Error
			}
		}
		return "", ""
	}
	status := func() string { return w.run(r.ID).Status }

	integration.WaitFor(t, 60*time.Second, "the scale step to fail and pause the run", func() bool {
		s, _ := step("scale")
		return s == "failed" && status() == "paused"
	})
	if err := w.sim.Control("clear-faults", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	w.c.MustCLI("operator-sam", w.c.Addrs(), "run", "retry", r.ID, "scale")
	integration.WaitFor(t, 60*time.Second, "the retried step to succeed", func() bool {
		s, _ := step("scale")
		return s == "succeeded"
	})

	// pause and resume: nothing moves while paused.
	integration.WaitFor(t, 30*time.Second, "the hold step to start", func() bool {
		s, _ := step("hold")
		return s == "running"
	})
	w.c.MustCLI("operator-sam", w.c.Addrs(), "run", "pause", r.ID)
	if status() != "paused" {
		t.Fatalf("run is %s after pause", status())
	}
	// The running hold step may finish, but nothing new starts.
	integration.WaitFor(t, 30*time.Second, "the running hold step to finish while paused", func() bool {
		s, _ := step("hold")
		return s == "succeeded"
	})
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if s, _ := step("alarm"); s != "pending" {
			t.Fatalf("the alarm step went %s while the run was paused", s)
		}
		time.Sleep(200 * time.Millisecond) // polling interval while asserting that nothing moves
	}
	// skip: CloudWatch fails, the alarm step fails, and the operator skips it.
	if err := w.sim.Control("fault", map[string]any{"service": "monitoring", "operation": "PutMetricAlarm", "rate": 1}); err != nil {
		t.Fatal(err)
	}
	w.c.MustCLI("operator-sam", w.c.Addrs(), "run", "resume", r.ID)
	integration.WaitFor(t, 60*time.Second, "the alarm step to fail", func() bool {
		s, _ := step("alarm")
		return s == "failed"
	})
	w.c.MustCLI("operator-sam", w.c.Addrs(), "run", "skip", r.ID, "alarm", "--reason", "CloudWatch is down; alarm set by hand")
	integration.WaitFor(t, 30*time.Second, "the run to go on past the skipped step", func() bool {
		s, _ := step("long")
		a, _ := step("alarm")
		return s == "running" && a == "skipped"
	})

	// abort: the hour-long wait is cut short.
	w.c.MustCLI("operator-sam", w.c.Addrs(), "run", "abort", r.ID, "--reason", "test done")
	if got := w.run(r.ID); got.Status != "aborted" {
		t.Fatalf("after abort: %s", got.Status)
	}
	if got := w.regionState(); got.State.Active != "us-east-1" || got.State.Mode != "normal" {
		t.Fatalf("a recovery run changed the region: %+v", got.State)
	}
}
