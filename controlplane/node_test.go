package controlplane

import (
	"testing"

	"github.com/hashicorp/raft"
)

// TestCommandIn: a read waits for the FSM only while a command it has not applied lies at
// or below the read index; no-op, barrier and configuration entries never reach the FSM,
// and entries compacted into a snapshot are already in its state.
func TestCommandIn(t *testing.T) {
	store := raft.NewInmemStore()
	// 1-4 compacted away; 5 no-op, 6 command, 7 barrier, 8 configuration.
	logs := []*raft.Log{
		{Index: 5, Type: raft.LogNoop},
		{Index: 6, Type: raft.LogCommand},
		{Index: 7, Type: raft.LogBarrier},
		{Index: 8, Type: raft.LogConfiguration},
	}
	if err := store.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	n := &Node{logs: store}
	cases := []struct {
		from, to uint64
		want     bool
	}{
		{from: 6, to: 8, want: false}, // the FSM has the command; the rest never reach it
		{from: 5, to: 8, want: true},  // command 6 is still to apply
		{from: 5, to: 6, want: true},
		{from: 4, to: 5, want: false}, // a no-op only
		{from: 0, to: 5, want: false}, // 1-4 are in a snapshot
		{from: 0, to: 7, want: true},
		{from: 8, to: 8, want: false},
	}
	for _, c := range cases {
		got, err := n.commandIn(c.from, c.to)
		if err != nil {
			t.Fatalf("commandIn(%d, %d): %v", c.from, c.to, err)
		}
		if got != c.want {
			t.Errorf("commandIn(%d, %d) = %v, want %v", c.from, c.to, got, c.want)
		}
	}
}
