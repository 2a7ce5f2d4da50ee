package integration_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/kirikae/kirikae/integration"
)

// TestLinearizableReads checks, with porcupine, that the active region is linearizable:
// clients on every node make forced region changes and linearizable reads while the
// harness kills and restarts nodes, freezes them with SIGSTOP and cuts their network
// cables, with 40 ms each way on every raft link. Every round's history must be legal.
//
// CI runs a bounded sample. `make chaos` sets KIRIKAE_CHAOS_FAULTS=1000 (or more) and
// prints the figures; any illegal history leaves a porcupine visualization whose path is
// logged (KIRIKAE_CHAOS_DIR chooses where).
func TestLinearizableReads(t *testing.T) {
	faults := 9
	if v := os.Getenv("KIRIKAE_CHAOS_FAULTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("KIRIKAE_CHAOS_FAULTS=%q: want a positive number of faults", v)
		}
		faults = n
	}
	nw := integration.NewNet(t, 3)
	c := integration.NewCluster(t, 3, integration.Options{Net: nw, RaftProxy: true})
	c.MustCLI("operator-admin", c.Addrs(), "region", "init", "--primary", "us-east-1", "--secondary", "us-west-2")

	ctx, cancel := context.WithCancel(context.Background())
	if dl, ok := t.Deadline(); ok {
		ctx, cancel = context.WithDeadline(context.Background(), dl.Add(-time.Minute))
	}
	defer cancel()
	report, err := integration.RunChaos(ctx, c, integration.ChaosConfig{
		Faults:         faults,
		Kinds:          []integration.FaultKind{integration.FaultKill, integration.FaultStop, integration.FaultPartition},
		Round:          6 * time.Second,
		QuietRounds:    2,
		ClientsPerNode: 3,
		Delay:          40 * time.Millisecond,
		OutDir:         os.Getenv("KIRIKAE_CHAOS_DIR"),
		Logf:           t.Logf,
	})
	t.Logf("chaos: %s", report)
	if err != nil {
		t.Fatalf("chaos harness: %v", err)
	}
	if report.Illegal > 0 {
		t.Errorf("%d of %d histories are not linearizable; visualizations: %v", report.Illegal, report.Histories, report.Visualizations)
	}
	for _, k := range []integration.FaultKind{integration.FaultKill, integration.FaultStop, integration.FaultPartition} {
		if report.Faults[k] == 0 {
			t.Errorf("no %s fault was injected: %s", k, report)
		}
	}
	if report.Operations < 100 {
		t.Errorf("only %d operations were checked; the history says too little", report.Operations)
	}
}
