package report_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/kirikae/kirikae/cli"
	"github.com/kirikae/kirikae/controlplane"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
)

// fakeCP serves just what `kirikae report` reads: runs, the audit log and readiness.
type fakeCP struct {
	kirikaev1.UnimplementedRunServiceServer
	kirikaev1.UnimplementedAuditServiceServer
	kirikaev1.UnimplementedAgentAdminServiceServer
	runs      []*kirikaev1.Run
	audit     []*kirikaev1.AuditEntry
	readiness []*kirikaev1.ReadinessReport
}

func (f *fakeCP) GetRun(_ context.Context, req *kirikaev1.GetRunRequest) (*kirikaev1.GetRunResponse, error) {
	for _, r := range f.runs {
		if r.GetId() == req.GetRunId() {
			return &kirikaev1.GetRunResponse{Run: r}, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "not found: run %q", req.GetRunId())
}

func (f *fakeCP) ListRuns(context.Context, *kirikaev1.ListRunsRequest) (*kirikaev1.ListRunsResponse, error) {
	out := &kirikaev1.ListRunsResponse{}
	for _, r := range f.runs {
		c := proto.Clone(r).(*kirikaev1.Run)
		c.PlanSource = nil
		out.Runs = append(out.Runs, c)
	}
	return out, nil
}

func (f *fakeCP) ListAudit(context.Context, *kirikaev1.ListAuditRequest) (*kirikaev1.ListAuditResponse, error) {
	return &kirikaev1.ListAuditResponse{Entries: f.audit, Total: uint64(len(f.audit))}, nil
}

func (f *fakeCP) GetReadiness(context.Context, *kirikaev1.GetReadinessRequest) (*kirikaev1.GetReadinessResponse, error) {
	return &kirikaev1.GetReadinessResponse{Regions: []*kirikaev1.RegionReadiness{{Region: "us-west-2", Reports: f.readiness}}}, nil
}

func TestReportCommand(t *testing.T) {
	in := fixture(t, 1, kirikaev1.DrillKind_DRILL_KIND_FULL)
	// Chain the audit entries as the control plane does, so the command's check passes.
	for i, e := range in.Audit {
		e.Seq = uint64(i + 1)
		if i > 0 {
			e.PrevHash = in.Audit[i-1].GetHash()
		}
		e.Hash = controlplane.AuditHash(e)
	}
	cp := &fakeCP{runs: in.Runs, audit: in.Audit, readiness: in.ReadinessEnd}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The CLI speaks mutual TLS only: the fake serves with a server certificate of a CA made
	// here, and the command presents the admin's.
	certs := t.TempDir()
	if _, err := security.GenerateCerts(certs, security.CertOptions{Regions: []string{"us-east-1", "us-west-2"}}); err != nil {
		t.Fatal(err)
	}
	stls, err := security.ServerTLS(filepath.Join(certs, security.CAFile), filepath.Join(certs, security.ServerFile), filepath.Join(certs, security.ServerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(stls)))
	kirikaev1.RegisterRunServiceServer(srv, cp)
	kirikaev1.RegisterAuditServiceServer(srv, cp)
	kirikaev1.RegisterAgentAdminServiceServer(srv, cp)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	timeline, err := filepath.Abs("../deploy/drills/full-scale.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		root := cli.NewRootCommand(&out, &errOut)
		cert, key := security.OperatorFiles("admin")
		root.SetArgs(append([]string{"report", "--addr", lis.Addr().String(), "--ca", filepath.Join(certs, security.CAFile),
			"--cert", filepath.Join(certs, cert), "--key", filepath.Join(certs, key)}, args...))
		err := root.ExecuteContext(context.Background())
		return out.String(), errOut.String(), err
	}

	// The cutback names its parent: the report covers both runs of the drill.
	md, _, err := run("run-cb", "--timeline", timeline)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# DR訓練レポート (フルスケール訓練)", "| run-fo | failover", "| run-cb | cutback", "**bob** (approver)",
		"| 11:30 | 11:47 | +17m | DR環境構築完了", "rds.snapshot-copy-age", "at least hourly"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}

	page := filepath.Join(t.TempDir(), "r.html")
	if _, errOut, err := run("run-fo", "--format", "html", "-o", page); err != nil || !strings.Contains(errOut, "2 run(s) written to") {
		t.Fatalf("html: %v (%s)", err, errOut)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := bars(t, b); n != stepCount(in) {
		t.Errorf("%d bars in the written page, want %d", n, stepCount(in))
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: kirikae/v1\nkind: Timeline\nname: b\ndate: 2025-12-01\nrows:\n  - {time: \"09:00\", action: a, match: {step: nope}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run("run-fo", "--timeline", bad); err == nil || !strings.Contains(err.Error(), "bad.yaml:6: rows[0].match.step: unknown step") {
		t.Errorf("bad timeline: %v", err)
	}
	if out, _, err := run("run-fo", "--tz", "Asia/Tokyo"); err != nil || !strings.Contains(out, "2025-12-01 09:00 – 2025-12-01 16:43 (Asia/Tokyo)") {
		t.Errorf("--tz Asia/Tokyo: %v\n%s", err, out)
	}
	if _, _, err := run("run-fo", "--tz", "Mars/Olympus"); err == nil || !strings.Contains(err.Error(), "--tz") {
		t.Errorf("--tz Mars/Olympus: %v", err)
	}
	if _, _, err := run("run-fo", "--format", "pdf"); err == nil || !strings.Contains(err.Error(), "--format") {
		t.Errorf("--format pdf: %v", err)
	}
	if _, _, err := run("nope"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown run: %v", err)
	}
}
