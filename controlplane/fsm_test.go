package controlplane

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

func applyCmd(t *testing.T, f *FSM, index uint64, cmd *kirikaev1.Command) *kirikaev1.CommandResult {
	t.Helper()
	b, err := proto.Marshal(cmd)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := f.Apply(&raft.Log{Index: index, Type: raft.LogCommand, Data: b}).(*kirikaev1.CommandResult)
	return res
}

func initCmd(id string) *kirikaev1.Command {
	return &kirikaev1.Command{RequestId: id, Actor: "spiffe://kirikae/operator/admin", TimeUnixNano: 100,
		Payload: &kirikaev1.Command_InitRegion{InitRegion: &kirikaev1.InitRegionRequest{Primary: "us-east-1", Secondary: "us-west-2"}}}
}

func setCmd(id, region string, force bool, reason string) *kirikaev1.Command {
	return &kirikaev1.Command{RequestId: id, Actor: "spiffe://kirikae/operator/admin", TimeUnixNano: 200,
		Payload: &kirikaev1.Command_SetRegion{SetRegion: &kirikaev1.SetRegionRequest{Region: region, Force: force, Reason: reason}}}
}

func TestFSMInitAndSet(t *testing.T) {
	f := NewFSM()
	if res := applyCmd(t, f, 1, initCmd("a")); res.GetError() != "" {
		t.Fatalf("init: %s", res.GetError())
	}
	st, init, _ := f.Region()
	if !init || st.GetActive() != "us-east-1" || st.GetEpoch() != 1 || st.GetMode() != kirikaev1.Mode_MODE_NORMAL {
		t.Fatalf("after init: %v init=%v", st, init)
	}
	if res := applyCmd(t, f, 2, setCmd("b", "us-west-2", true, "drill")); res.GetError() != "" {
		t.Fatalf("set: %s", res.GetError())
	}
	st, _, _ = f.Region()
	if st.GetActive() != "us-west-2" || st.GetEpoch() != 2 || st.GetMode() != kirikaev1.Mode_MODE_FAILED_OVER {
		t.Fatalf("after set: %v", st)
	}
	if got := len(f.History()); got != 2 {
		t.Fatalf("history has %d changes, want 2", got)
	}
}

func TestFSMRefusalsLeaveStateUnchanged(t *testing.T) {
	cases := []struct {
		name string
		cmd  *kirikaev1.Command
		code kirikaev1.ErrorCode
		want string
	}{
		{"init twice", initCmd("again"), kirikaev1.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "already initialized"},
		{"unknown region", setCmd("x1", "eu-west-1", true, "r"), kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, `"eu-west-1" is not in the pair`},
		{"no force", setCmd("x2", "us-west-2", false, "r"), kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "force"},
		{"no reason", setCmd("x3", "us-west-2", true, ""), kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "reason"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFSM()
			applyCmd(t, f, 1, initCmd("a"))
			before, _, _ := f.Region()
			res := applyCmd(t, f, 2, tc.cmd)
			if res.GetCode() != tc.code || !strings.Contains(res.GetError(), tc.want) {
				t.Fatalf("got code %v error %q, want %v containing %q", res.GetCode(), res.GetError(), tc.code, tc.want)
			}
			after, _, _ := f.Region()
			if !proto.Equal(before, after) {
				t.Fatalf("state changed on refusal: %v -> %v", before, after)
			}
			// The refusal is audited.
			a := f.Audit()
			if last := a[len(a)-1]; !strings.HasPrefix(last.GetResult(), "error:") {
				t.Fatalf("refusal not audited as error: %v", last)
			}
		})
	}
}

func TestFSMSetBeforeInit(t *testing.T) {
	f := NewFSM()
	res := applyCmd(t, f, 1, setCmd("a", "us-west-2", true, "r"))
	if res.GetCode() != kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION {
		t.Fatalf("got %v %q", res.GetCode(), res.GetError())
	}
}

func TestFSMSameRequestIDAppliesOnce(t *testing.T) {
	f := NewFSM()
	applyCmd(t, f, 1, initCmd("init"))
	first := applyCmd(t, f, 2, setCmd("same", "us-west-2", true, "r"))
	second := applyCmd(t, f, 3, setCmd("same", "us-west-2", true, "r"))
	if !proto.Equal(first, second) {
		t.Fatalf("duplicate returned a different result: %v vs %v", first, second)
	}
	st, _, _ := f.Region()
	if st.GetEpoch() != 2 {
		t.Fatalf("epoch %d after a duplicated set, want 2", st.GetEpoch())
	}
	if n := len(f.Audit()); n != 2 {
		t.Fatalf("%d audit entries, want 2 (the duplicate is not a new request)", n)
	}
}

func TestFSMSnapshotRestoreIsDeterministic(t *testing.T) {
	f := NewFSM()
	applyCmd(t, f, 1, initCmd("a"))
	applyCmd(t, f, 2, setCmd("b", "us-west-2", true, "r"))
	applyCmd(t, f, 3, setCmd("c", "us-east-1", true, "back"))
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	g := NewFSM()
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	a, _, _ := f.StateBytes()
	b, _, _ := g.StateBytes()
	if !bytes.Equal(a, b) {
		t.Fatal("restored state differs from the original")
	}
	// A restored node knows how far its state reaches before it applies anything new, so a
	// linearizable read waits for nothing it already has, and for everything it lacks.
	if g.AppliedIndex() != 3 {
		t.Fatalf("restored FSM says it applied through %d, want 3", g.AppliedIndex())
	}
	// Dedup survives a restore.
	applyCmd(t, g, 4, setCmd("c", "us-west-2", true, "dup"))
	if st, _, _ := g.Region(); st.GetActive() != "us-east-1" || st.GetEpoch() != 3 {
		t.Fatalf("duplicate applied after restore: %v", st)
	}
	if _, err := VerifyAuditChain(g.Audit()); err != nil {
		t.Fatal(err)
	}
}

func TestAuditChainDetectsTampering(t *testing.T) {
	f := NewFSM()
	applyCmd(t, f, 1, initCmd("a"))
	applyCmd(t, f, 2, setCmd("b", "us-west-2", true, "r"))
	applyCmd(t, f, 3, setCmd("c", "us-east-1", true, "r"))
	entries := f.Audit()
	if _, err := VerifyAuditChain(entries); err != nil {
		t.Fatalf("intact chain: %v", err)
	}
	tampered := make([]*kirikaev1.AuditEntry, len(entries))
	for i, e := range entries {
		tampered[i] = proto.Clone(e).(*kirikaev1.AuditEntry)
	}
	tampered[1].Actor = "spiffe://kirikae/operator/mallory"
	if seq, err := VerifyAuditChain(tampered); err == nil || seq != 2 {
		t.Fatalf("altered entry not detected: seq=%d err=%v", seq, err)
	}
	if seq, err := VerifyAuditChain(append(entries[:1:1], entries[2:]...)); err == nil || seq != 3 {
		t.Fatalf("removed entry not detected: seq=%d err=%v", seq, err)
	}
}

func TestChangesSince(t *testing.T) {
	f := NewFSM()
	applyCmd(t, f, 5, initCmd("a"))
	_, ch := f.ChangesSince(5)
	applyCmd(t, f, 9, setCmd("b", "us-west-2", true, "r"))
	select {
	case <-ch:
	default:
		t.Fatal("watch channel not closed by a change")
	}
	for _, tc := range []struct {
		from uint64
		want []uint64
	}{{0, []uint64{5, 9}}, {5, []uint64{9}}, {7, []uint64{9}}, {9, nil}} {
		got, _ := f.ChangesSince(tc.from)
		var idx []uint64
		for _, c := range got {
			idx = append(idx, c.GetIndex())
		}
		if len(idx) != len(tc.want) || (len(idx) > 0 && idx[0] != tc.want[0]) {
			t.Errorf("from %d: got %v want %v", tc.from, idx, tc.want)
		}
	}
}

type memSink struct{ bytes.Buffer }

func (m *memSink) ID() string    { return "mem" }
func (m *memSink) Cancel() error { return nil }
func (m *memSink) Close() error  { return nil }

// TestFSMTakesEveryRegionAPlanMayName: the state machine and plans share one rule for
// region names, so a pair in an isolated partition, which a plan may name, can be set up.
func TestFSMTakesEveryRegionAPlanMayName(t *testing.T) {
	f := NewFSM()
	cmd := &kirikaev1.Command{RequestId: "i", Actor: "spiffe://kirikae/operator/admin", TimeUnixNano: 100,
		Payload: &kirikaev1.Command_InitRegion{InitRegion: &kirikaev1.InitRegionRequest{Primary: "us-iso-east-1", Secondary: "us-isob-east-1"}}}
	if res := applyCmd(t, f, 1, cmd); res.GetError() != "" {
		t.Fatalf("init us-iso-east-1/us-isob-east-1: %s", res.GetError())
	}
}
