package controlplane_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kirikae/kirikae/controlplane"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// TestRefusalsAreAudited has a viewer try what only operators and admins may, through a
// follower, and an agent call an operator API; the audit log names each caller, method
// and reason as refused. Then the viewer floods the edge: every call is accounted for,
// itemized or counted, in a bounded number of raft entries, and the chain verifies.
func TestRefusalsAreAudited(t *testing.T) {
	c := newTestClusterWith(t, 3, "operators:\n  admin: [admin]\n  vic: [viewer]\n  alice: [sysadmin, operator]\n  bob: [manager]\n")
	ctx := ctxT(t)
	f := c.follower()
	vic := c.conn(f, "operator-vic")
	calls := []struct {
		method string
		call   func() error
	}{
		{"RunService.Declare", func() error {
			_, err := kirikaev1.NewRunServiceClient(vic).Declare(ctx, &kirikaev1.DeclareRequest{PlanSource: []byte(approvalPlan), Reason: "x"})
			return err
		}},
		{"RunService.Confirm", func() error {
			_, err := kirikaev1.NewRunServiceClient(vic).Confirm(ctx, &kirikaev1.ConfirmRequest{RunId: "r", StepId: "s"})
			return err
		}},
		{"RegionAdminService.SetRegion", func() error {
			_, err := kirikaev1.NewRegionAdminServiceClient(vic).SetRegion(ctx, &kirikaev1.SetRegionRequest{Region: "us-west-2", Force: true, Reason: "x"})
			return err
		}},
	}
	for _, tc := range calls {
		if err := tc.call(); status.Code(err) != codes.PermissionDenied {
			t.Fatalf("viewer %s: %v, want PermissionDenied", tc.method, err)
		}
	}
	_, err := kirikaev1.NewRegionAdminServiceClient(c.conn(f, "agent-us-east-1")).InitRegion(ctx, &kirikaev1.InitRegionRequest{Primary: "us-east-1", Secondary: "us-west-2"})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("agent InitRegion: %v, want PermissionDenied", err)
	}
	audit := func() []*kirikaev1.AuditEntry {
		t.Helper()
		resp, err := kirikaev1.NewAuditServiceClient(vic).ListAudit(ctx, &kirikaev1.ListAuditRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if seq, err := controlplane.VerifyAuditChain(resp.GetEntries()); err != nil {
			t.Fatalf("audit chain broken at %d: %v", seq, err)
		}
		return resp.GetEntries()
	}
	find := func(entries []*kirikaev1.AuditEntry, actor, method, reason string) bool {
		for _, e := range entries {
			if e.GetActor() == actor && e.GetMethod() == method && strings.HasPrefix(e.GetResult(), "refused: ") && strings.Contains(e.GetResult(), reason) {
				return true
			}
		}
		return false
	}
	const vicID, agentID = "spiffe://kirikae/operator/vic", "spiffe://kirikae/agent/us-east-1"
	deadline := time.Now().Add(15 * time.Second)
	for {
		entries := audit()
		missing := ""
		for _, tc := range calls {
			if !find(entries, vicID, tc.method, "lacks role") {
				missing = tc.method
			}
		}
		if !find(entries, agentID, "RegionAdminService.InitRegion", "agent API") {
			missing = "the agent's InitRegion"
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no refusal line for %s in %v", missing, entries)
		}
		time.Sleep(100 * time.Millisecond) // polling interval
	}

	// The flood.
	const flood = 300
	start := time.Now()
	admin := kirikaev1.NewRegionAdminServiceClient(vic)
	for range flood {
		if _, err := admin.SetRegion(ctx, &kirikaev1.SetRegionRequest{Region: "us-west-2", Force: true, Reason: "x"}); status.Code(err) != codes.PermissionDenied {
			t.Fatalf("flood: %v", err)
		}
	}
	want := uint64(flood + len(calls))
	deadline = time.Now().Add(20 * time.Second)
	for {
		entries := audit()
		var got uint64
		lines := 0
		indexes := map[uint64]bool{}
		for _, e := range entries {
			if e.GetActor() != vicID || !strings.HasPrefix(e.GetResult(), "refused: ") {
				continue
			}
			lines++
			indexes[e.GetRaftIndex()] = true
			var n uint64 = 1
			if e.GetMethod() == "(more refusals)" {
				if _, err := fmt.Sscanf(e.GetResult(), "refused: %d more calls", &n); err != nil {
					t.Fatalf("count line %q: %v", e.GetResult(), err)
				}
			}
			got += n
		}
		elapsed := time.Since(start)
		if got == want {
			if limit := int(elapsed/time.Second) + 3; len(indexes) > limit {
				t.Errorf("%d raft entries carried the viewer's refusals in %v, want at most %d", len(indexes), elapsed, limit)
			}
			if lines > 12 {
				t.Errorf("%d audit lines for %d refusals, want the flood counted, not itemized", lines, want)
			}
			break
		}
		if got > want || time.Now().After(deadline) {
			t.Fatalf("the audit accounts for %d of the viewer's %d refusals", got, want)
		}
		time.Sleep(200 * time.Millisecond) // polling interval
	}
}
