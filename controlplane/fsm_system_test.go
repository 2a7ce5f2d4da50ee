package controlplane

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/kirikae/kirikae/deploy"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/system"
)

// canonicalSystem is a bundled system file in the form the edge proposes.
func canonicalSystem(t *testing.T, name string) []byte {
	t.Helper()
	src, err := deploy.System(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := system.Parse(name, src)
	if err != nil {
		t.Fatal(err)
	}
	return s.Marshal()
}

func applySystemCmd(id string, yaml []byte, expect string) *kirikaev1.Command {
	return &kirikaev1.Command{RequestId: id, Actor: "spiffe://kirikae/operator/admin", TimeUnixNano: 300,
		Payload: &kirikaev1.Command_ApplySystem{ApplySystem: &kirikaev1.ApplySystem{FileName: "sys.yaml", Yaml: yaml, ExpectedDigest: expect}}}
}

// TestFSMApplySystem: a system is stored once per digest, versioned, bound to the region
// pair both ways, and conditional on the digest the caller read.
func TestFSMApplySystem(t *testing.T) {
	kaigo, eu := canonicalSystem(t, "kaigo.yaml"), canonicalSystem(t, "example-eu.yaml")
	f := NewFSM()
	res := applyCmd(t, f, 1, applySystemCmd("s1", kaigo, "none"))
	if res.GetError() != "" || !res.GetChanged() || res.GetSystem().GetVersion() != 1 || res.GetSystem().GetPrimary() != "us-east-1" ||
		res.GetSystem().GetAppliedBy() != "spiffe://kirikae/operator/admin" || !bytes.Equal(res.GetSystem().GetYaml(), kaigo) {
		t.Fatalf("first apply: %v", res)
	}
	digest := res.GetSystem().GetDigest()
	if res := applyCmd(t, f, 2, applySystemCmd("s2", kaigo, "")); res.GetError() != "" || res.GetChanged() || res.GetSystem().GetVersion() != 1 {
		t.Fatalf("the same system again must change nothing: %v", res)
	}
	// A region pair other than the system's is refused at init, and the other way round.
	bad := &kirikaev1.Command{RequestId: "i1", Actor: "a", Payload: &kirikaev1.Command_InitRegion{InitRegion: &kirikaev1.InitRegionRequest{Primary: "eu-west-1", Secondary: "eu-central-1"}}}
	if res := applyCmd(t, f, 3, bad); res.GetCode() != kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION || !strings.Contains(res.GetError(), "us-east-1 → us-west-2") {
		t.Fatalf("init of another pair: %v", res)
	}
	if res := applyCmd(t, f, 4, initCmd("i2")); res.GetError() != "" {
		t.Fatalf("init of the system's pair: %v", res)
	}
	before := proto.Clone(f.System())
	for _, c := range []struct {
		name string
		cmd  *kirikaev1.Command
		code kirikaev1.ErrorCode
		want string
	}{
		{"another pair", applySystemCmd("s3", eu, ""), kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "the control plane's region pair is us-east-1 → us-west-2"},
		{"stale digest", applySystemCmd("s4", kaigo, "0123"), kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "digest is " + digest},
		{"expect none over one", applySystemCmd("s5", kaigo, "none"), kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "not the expected none"},
		{"not a system", applySystemCmd("s6", []byte("kind: Plan\n"), ""), kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "sys.yaml:1"},
	} {
		res := applyCmd(t, f, 10, c.cmd)
		if res.GetCode() != c.code || !strings.Contains(res.GetError(), c.want) {
			t.Errorf("%s: got %v %q, want %v containing %q", c.name, res.GetCode(), res.GetError(), c.code, c.want)
		}
		if !proto.Equal(before, f.System()) {
			t.Fatalf("%s: a refused apply changed the stored system", c.name)
		}
	}
	// A changed system gets the next version, applied over the digest it was read at.
	changed := bytes.Replace(kaigo, []byte("rto: \"4h\""), []byte("rto: \"3h\""), 1)
	if bytes.Equal(changed, kaigo) {
		t.Fatal("test data: the kaigo system has no rto: 4h to change")
	}
	res = applyCmd(t, f, 11, applySystemCmd("s7", changed, digest))
	if res.GetError() != "" || !res.GetChanged() || res.GetSystem().GetVersion() != 2 || res.GetSystem().GetDigest() == digest {
		t.Fatalf("changed system: %v", res)
	}
	// The stored system is in the snapshot.
	g := NewFSM()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(f.System(), g.System()) {
		t.Fatalf("restored system differs: %v vs %v", g.System(), f.System())
	}
}
