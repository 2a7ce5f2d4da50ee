package controlplane_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kirikae/kirikae/deploy"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// TestSystemApplyNeedsAdmin: only an admin stores the system; a viewer, an operator and an
// agent certificate are refused and change nothing; a viewer reads it on any node; a bad
// file is refused at the edge with its line.
func TestSystemApplyNeedsAdmin(t *testing.T) {
	c := newTestClusterWith(t, 3, "operators:\n  admin: [admin]\n  vic: [viewer]\n  alice: [sysadmin, operator]\n")
	ctx := ctxT(t)
	src, err := deploy.System("kaigo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	req := &kirikaev1.ApplySystemRequest{FileName: "kaigo.yaml", Yaml: src, RequestId: "apply-1"}
	for _, as := range []string{"operator-vic", "operator-alice", "agent-us-west-2"} {
		_, err := kirikaev1.NewSystemServiceClient(c.conn(0, as)).ApplySystem(ctx, req)
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s applying a system: %v, want PermissionDenied", as, err)
		}
	}
	if got, err := kirikaev1.NewSystemServiceClient(c.conn(1, "operator-vic")).GetSystem(ctx, &kirikaev1.GetSystemRequest{}); err != nil || got.GetSystem() != nil {
		t.Fatalf("after refused applies: %v, %v", got, err)
	}
	bad := strings.Replace(string(src), "objectives:", "objectivs:", 1)
	_, err = kirikaev1.NewSystemServiceClient(c.conn(1, "operator-admin")).ApplySystem(ctx,
		&kirikaev1.ApplySystemRequest{FileName: "kaigo.yaml", Yaml: []byte(bad), RequestId: "apply-bad"})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "kaigo.yaml:") || !strings.Contains(err.Error(), "objectivs") {
		t.Fatalf("bad file: %v", err)
	}
	applied, err := kirikaev1.NewSystemServiceClient(c.conn(c.follower(), "operator-admin")).ApplySystem(ctx, req)
	if err != nil || !applied.GetChanged() || applied.GetSystem().GetName() != "kaigo-subsys" {
		t.Fatalf("admin apply through a follower: %v, %v", applied, err)
	}
	for i := range c.nodes {
		got, err := kirikaev1.NewSystemServiceClient(c.conn(i, "operator-vic")).GetSystem(ctx, &kirikaev1.GetSystemRequest{})
		if err != nil || got.GetSystem().GetDigest() != applied.GetSystem().GetDigest() {
			t.Fatalf("node %d: %v, %v", i, got, err)
		}
	}
}
