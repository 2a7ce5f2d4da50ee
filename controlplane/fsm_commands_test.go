package controlplane

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/hashicorp/raft"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// TestEveryCommandHasOneEntry: each payload of Command is dispatched from the one table,
// under a method name of its own.
func TestEveryCommandHasOneEntry(t *testing.T) {
	fields := payloadOneof.Fields()
	methods := map[string]bool{}
	for i := range fields.Len() {
		name := fields.Get(i).Name()
		c, ok := commands[name]
		if !ok {
			t.Errorf("payload %s has no entry in commands", name)
			continue
		}
		if c.apply == nil || c.method == "" || methods[c.method] {
			t.Errorf("payload %s: method %q (seen before: %v), apply set: %v", name, c.method, methods[c.method], c.apply != nil)
		}
		methods[c.method] = true
	}
	if len(commands) != fields.Len() {
		t.Errorf("commands has %d entries for %d payload fields", len(commands), fields.Len())
	}
}

// TestMixedVersions: a node fed a command a newer version wrote (a payload type it does not
// know, or a known one with a field it does not know) stops before it changes anything, so
// it never holds a state or an audit chain that differs from its peers' at the same index;
// restarted on the same log, it stops at the same entry.
func TestMixedVersions(t *testing.T) {
	set, err := proto.Marshal(setCmd("s1", "us-west-2", true, "drill"))
	if err != nil {
		t.Fatal(err)
	}
	newType, err := proto.Marshal(&kirikaev1.Command{RequestId: "n1", Actor: "spiffe://kirikae/operator/admin", TimeUnixNano: 300})
	if err != nil {
		t.Fatal(err)
	}
	// Field 99 of Command: a payload type added after this build.
	newType = protowire.AppendTag(newType, 99, protowire.BytesType)
	newType = protowire.AppendBytes(newType, []byte("\x0a\x03new"))
	// A known payload (set_region, field 11) whose request gained field 50.
	req, err := proto.Marshal(&kirikaev1.SetRegionRequest{Region: "us-east-1", Force: true, Reason: "back"})
	if err != nil {
		t.Fatal(err)
	}
	req = protowire.AppendTag(req, 50, protowire.VarintType)
	req = protowire.AppendVarint(req, 1)
	newField, err := proto.Marshal(&kirikaev1.Command{RequestId: "n2", Actor: "spiffe://kirikae/operator/admin", TimeUnixNano: 300})
	if err != nil {
		t.Fatal(err)
	}
	newField = protowire.AppendTag(newField, 11, protowire.BytesType)
	newField = protowire.AppendBytes(newField, req)

	for name, entry := range map[string][]byte{"a command type it does not know": newType, "a field it does not know": newField} {
		t.Run(name, func(t *testing.T) {
			var nodes []*FSM
			for range 3 {
				f := NewFSM()
				applyCmd(t, f, 1, initCmd("i1"))
				f.Apply(&raft.Log{Index: 2, Type: raft.LogCommand, Data: set})
				nodes = append(nodes, f)
			}
			stopped := func(f *FSM) (err error) {
				defer func() {
					if r := recover(); r != nil {
						err, _ = r.(error)
						if err == nil {
							t.Fatalf("panic with %v, want an error", r)
						}
					}
				}()
				f.Apply(&raft.Log{Index: 3, Type: raft.LogCommand, Data: entry})
				return nil
			}
			want, _, _ := nodes[0].StateBytes()
			for i, f := range nodes {
				if err := stopped(f); !errors.Is(err, ErrUnknownCommand) {
					t.Fatalf("node %d applied the newer command: %v", i, err)
				}
				got, idx, _ := f.StateBytes()
				if idx != 2 || !bytes.Equal(got, want) {
					t.Fatalf("node %d changed its state (index %d) before it stopped", i, idx)
				}
				if head, first := auditHead(f), auditHead(nodes[0]); head != first {
					t.Fatalf("node %d audit head %s, node 0 %s", i, head, first)
				}
			}
			// Restarted from its snapshot, on the same log, the node stops at the same entry.
			snap, err := nodes[0].Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			sink := &memSink{}
			if err := snap.Persist(sink); err != nil {
				t.Fatal(err)
			}
			again := NewFSM()
			if err := again.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
				t.Fatal(err)
			}
			if err := stopped(again); !errors.Is(err, ErrUnknownCommand) {
				t.Fatalf("the restarted node applied the newer command: %v", err)
			}
			if again.AppliedIndex() != 2 {
				t.Fatalf("the restarted node is at %d, want 2", again.AppliedIndex())
			}
		})
	}
}

func auditHead(f *FSM) string {
	a := f.Audit()
	if len(a) == 0 {
		return ""
	}
	return a[len(a)-1].GetHash()
}
