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
const scale = 0.002

func TestDemoFailoverAndCutback(t *testing.T) {
	if testing.Short() {
		t.Skip("the full demo takes a minute")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	sum, err := demo.Run(ctx, demo.Options{TimeScale: scale, Out: &out})
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
	if !fo.HasDataLoss || fo.DataLoss <= 0 {
		t.Error("no data-loss window reported for the RDS restore")
	}
	if fo.RTO != 4*time.Hour || fo.RPO != time.Hour {
		t.Errorf("objectives read from the plan: RTO %s, RPO %s; the bundled failover plan declares 4h and 1h", fo.RTO, fo.RPO)
	}
	for op, want := range map[string]int{
		"RestoreDBInstanceFromDBSnapshot": 2, // DR in us-west-2, then production in us-east-1
		"CreateReplicationGroup":          1,
		"DeleteReplicationGroup":          1,
		"DeleteDBInstance":                2, // production before its restore, then the DR database once cut back
		"CopyDBSnapshot":                  1,
		"StartRestoreJob":                 1,
		"UpdateService":                   2, // DR service to 2 tasks, then back to 0
		"StopDBInstance":                  0, // deleted instead: a stopped one would hold stale data
	} {
		if got := sum.Journal[op]; got != want {
			t.Errorf("awssim journal: %s x%d, want x%d", op, got, want)
		}
	}
	// Cutback safety: production is deleted only after the DR snapshot was copied to
	// us-east-1 and the copy had time to become available, and it is restored after.
	at := map[string]int{}
	var copyAt, deleteAt time.Time
	for i, e := range sum.Mutations {
		key := e.Region + " " + e.Operation
		if _, seen := at[key]; !seen {
			at[key] = i
		}
		switch {
		case e.Operation == "CopyDBSnapshot" && e.Region == "us-east-1":
			copyAt = e.Time
		case e.Operation == "DeleteDBInstance" && e.Region == "us-east-1":
			deleteAt = e.Time
		}
	}
	order := []string{"us-west-2 CreateDBSnapshot", "us-east-1 CopyDBSnapshot", "us-east-1 DeleteDBInstance", "us-east-1 RestoreDBInstanceFromDBSnapshot"}
	for i := 1; i < len(order); i++ {
		a, okA := at[order[i-1]]
		b, okB := at[order[i]]
		if !okA || !okB || a >= b {
			t.Errorf("cutback order: %s (at %d, %v) must come before %s (at %d, %v)", order[i-1], a, okA, order[i], b, okB)
		}
	}
	// The copy takes 20 minutes of AWS time (scaled); the delete waited for it to be available.
	if gap := deleteAt.Sub(copyAt); gap < time.Duration(float64(20*time.Minute)*scale) {
		t.Errorf("delete %s after the copy started, before a 20-minute copy could finish", gap)
	}
	for _, s := range []string{"simulated RTO", "plan critical path", "overhead", "data-loss window", "after cutback        active us-east-1, epoch 3", "demo operator demo-manager approves"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q", s)
		}
	}
}
