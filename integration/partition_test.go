package integration_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/integration"
	"github.com/kirikae/kirikae/security"
)

// TestPartitionedLeader cuts the leader's network cable (network namespaces, not a kill):
// the majority elects a new leader and moves the active region; the old leader, still
// running, must not answer a linearizable read with what it last knew, must not accept a
// write, and its stale reads must admit that they are stale. Once healed it catches up.
func TestPartitionedLeader(t *testing.T) {
	nw := integration.NewNet(t, 3)
	c := integration.NewCluster(t, 3, integration.Options{Net: nw})
	c.MustCLI("operator-admin", c.Addrs(), "region", "init", "--primary", "us-east-1", "--secondary", "us-west-2")
	old := c.WaitLeader(0, 60*time.Second)
	var rest []int
	for i := range c.Nodes {
		if i != old {
			rest = append(rest, i)
		}
	}

	// A client inside the old leader's own namespace: it reaches the old leader however
	// the partition goes, as a service running next to it would.
	conf, err := security.ClientTLS(c.CA(), filepath.Join(c.CertDir, "operator-admin.pem"), filepath.Join(c.CertDir, "operator-admin-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := grpc.NewClient(c.Nodes[old].GRPCAddr, grpc.WithTransportCredentials(credentials.NewTLS(conf)), grpc.WithContextDialer(nw.DialNode(old)))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	local := kirikaev1.NewActiveRegionServiceClient(cc)
	read := func(cons kirikaev1.Consistency, timeout time.Duration) (*kirikaev1.GetActiveRegionResponse, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return local.GetActiveRegion(ctx, &kirikaev1.GetActiveRegionRequest{Consistency: cons})
	}
	if r, err := read(kirikaev1.Consistency_CONSISTENCY_LINEARIZABLE, 10*time.Second); err != nil || r.GetState().GetActive() != "us-east-1" {
		t.Fatalf("before the partition: %v %v", r, err)
	}

	nw.Partition(old)
	newLeader := c.WaitLeader(rest[0], 30*time.Second, c.Nodes[old].ID)
	t.Logf("partitioned %s; %s leads the majority", c.Nodes[old].ID, c.Nodes[newLeader].ID)
	c.MustCLI("operator-admin", c.Addrs(rest...), "region", "set", "us-west-2", "--force", "--reason", "partition test")
	if got := decodeRegion(t, c.MustCLI("operator-admin", c.Addrs(rest...), "region", "get", "-o", "json")); got.State.Active != "us-west-2" || got.State.Epoch != 2 {
		t.Fatalf("the majority after the write: %+v", got.State)
	}

	// The old leader, cut off: no linearizable answer (it cannot confirm it still leads),
	// no write, and a stale read that says how stale it is.
	if r, err := read(kirikaev1.Consistency_CONSISTENCY_LINEARIZABLE, 5*time.Second); err == nil {
		t.Fatalf("the partitioned old leader answered a linearizable read: %v (the majority has moved to us-west-2)", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_, werr := kirikaev1.NewRegionAdminServiceClient(cc).SetRegion(ctx, &kirikaev1.SetRegionRequest{Region: "us-east-1", Force: true,
		Reason: "write on the minority side", RequestId: "partition-minority-write"})
	cancel()
	if werr == nil {
		t.Fatal("the partitioned old leader accepted a write")
	}
	stale, err := read(kirikaev1.Consistency_CONSISTENCY_STALE, 5*time.Second)
	if err != nil {
		t.Fatalf("stale read on the partitioned node: %v", err)
	}
	if stale.GetState().GetActive() != "us-east-1" || (stale.GetStalenessMs() < 500 && stale.GetLeaderId() != "") {
		t.Fatalf("stale read on the partitioned node: %v; want its old answer with the staleness admitted (staleness ≥ 500 ms, or no known leader)", stale)
	}

	// Healed, it follows the new leader and answers with the majority's state.
	nw.Heal(old)
	integration.WaitFor(t, 60*time.Second, "the healed node to catch up", func() bool {
		r, err := read(kirikaev1.Consistency_CONSISTENCY_LINEARIZABLE, 3*time.Second)
		return err == nil && r.GetState().GetActive() == "us-west-2" && r.GetState().GetEpoch() == 2
	})
	if r, err := read(kirikaev1.Consistency_CONSISTENCY_STALE, 3*time.Second); err != nil || r.GetState().GetEpoch() != 2 {
		t.Fatalf("the healed node's own replica: %v %v", r, err)
	}
}
