package demo_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/demo"
)

// TestDemoFailoverAndCutback runs the whole demo and checks what it claims: the failover
// ends on us-west-2 one epoch up, the cutback back on us-east-1 one more, and each AWS
// resource was created once.
func TestDemoFailoverAndCutback(t *testing.T) {
	if testing.Short() {
		t.Skip("the full demo takes a minute")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	sum, err := demo.Run(ctx, demo.Options{TimeScale: 0.002, Out: &out})
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	fo, cb := sum.Failover, sum.Cutback
	if fo.Status != "succeeded" || fo.Active != "us-west-2" || fo.EpochBefore != 1 || fo.Epoch != 2 {
		t.Fatalf("failover: %+v", fo)
	}
	if cb.Status != "succeeded" || cb.Active != "us-east-1" || cb.Epoch != 3 {
		t.Fatalf("cutback: %+v", cb)
	}
	if fo.Makespan <= 0 || fo.Makespan > 4*time.Hour {
		t.Errorf("simulated RTO %s outside (0, 4h]", fo.Makespan)
	}
	if fo.PlanCriticalPath <= 0 || fo.PlanCriticalPath >= fo.PlanSequential {
		t.Errorf("critical path %s vs sequential %s", fo.PlanCriticalPath, fo.PlanSequential)
	}
	if fo.DataLoss == "" {
		t.Error("no data-loss window reported for the RDS restore")
	}
	for op, want := range map[string]int{
		"RestoreDBInstanceFromDBSnapshot": 2, // DR in us-west-2, then production in us-east-1
		"CreateReplicationGroup":          1,
		"DeleteReplicationGroup":          1,
		"DeleteDBInstance":                1,
		"CopyDBSnapshot":                  1,
		"StartRestoreJob":                 1,
	} {
		if got := sum.Journal[op]; got != want {
			t.Errorf("awssim journal: %s x%d, want x%d", op, got, want)
		}
	}
	for _, s := range []string{"simulated RTO", "plan critical path", "overhead", "data-loss window", "after cutback        active us-east-1, epoch 3", "demo operator demo-manager approves"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q", s)
		}
	}
}
