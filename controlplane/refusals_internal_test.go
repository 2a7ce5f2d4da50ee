package controlplane

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// TestRefusalFloodIsBounded floods the edge's refusal log as a viewer would, ten thousand
// refusals over two minutes, and checks what reaches raft: at most a batch a second, at
// most refusalsPerCaller itemized lines a caller a window, and every refusal accounted
// for, itemized or counted.
func TestRefusalFloodIsBounded(t *testing.T) {
	l := newRefusalLog()
	start := time.Unix(1_700_000_000, 0)
	const n = 10000
	var batches []*kirikaev1.Refusals
	for i := range n {
		now := start.Add(time.Duration(i) * 120 * time.Second / n)
		actor := "spiffe://kirikae/operator/vic"
		if i%100 == 0 {
			actor = fmt.Sprintf("spiffe://kirikae/operator/u%d", i) // many callers, for the caller bound
		}
		l.note(now, actor, "RegionAdminService.SetRegion", "permission denied: lacks role admin")
		if i%(n/120) == 0 { // the flusher's ticker, once a simulated second
			if b := l.take(now); b != nil {
				batches = append(batches, b)
			}
		}
	}
	if b := l.take(start.Add(10 * time.Minute)); b != nil {
		batches = append(batches, b)
	}
	if len(batches) > 121 {
		t.Errorf("%d batches for 120 s, want at most one a second", len(batches))
	}
	var total uint64
	itemized := 0
	for _, b := range batches {
		if len(b.GetRefusals()) > refusalsPerBatch {
			t.Errorf("batch of %d refusals, want at most %d", len(b.GetRefusals()), refusalsPerBatch)
		}
		if len(b.GetDropped()) > refusalCallersCounted {
			t.Errorf("batch counts %d callers, want at most %d", len(b.GetDropped()), refusalCallersCounted)
		}
		total += uint64(len(b.GetRefusals()))
		for _, r := range b.GetRefusals() {
			if strings.HasSuffix(r.GetActor(), "/vic") {
				itemized++
			}
		}
		for _, c := range b.GetDropped() {
			total += c.GetCount()
		}
	}
	if total != n {
		t.Errorf("batches account for %d refusals, want %d", total, n)
	}
	// Two one-minute windows: at most refusalsPerCaller itemized in each.
	if itemized > 3*refusalsPerCaller {
		t.Errorf("%d of vic's refusals itemized, want at most %d", itemized, 3*refusalsPerCaller)
	}
}

// TestRefusalsAreAuditLines applies a batch and checks the lines it writes: one per
// refusal under the caller's name, one per caller's count, a chain that verifies, and a
// batch from a non-server refused.
func TestRefusalsAreAuditLines(t *testing.T) {
	f := NewFSM()
	batch := &kirikaev1.Refusals{NodeId: "n2",
		Refusals: []*kirikaev1.Refusal{{Actor: "spiffe://kirikae/operator/vic", Method: "RegionAdminService.SetRegion",
			Reason: "permission denied: lacks role admin", TimeUnixNano: 5}},
		Dropped: []*kirikaev1.RefusalCount{{Actor: "spiffe://kirikae/operator/vic", Count: 41}}}
	apply := func(i uint64, actor string) *kirikaev1.CommandResult {
		b, err := proto.Marshal(&kirikaev1.Command{Actor: actor, TimeUnixNano: 7, Payload: &kirikaev1.Command_RecordRefusals{RecordRefusals: batch}})
		if err != nil {
			t.Fatal(err)
		}
		return f.Apply(&raft.Log{Index: i, Type: raft.LogCommand, Data: b}).(*kirikaev1.CommandResult)
	}
	if res := apply(1, "spiffe://kirikae/server/n2"); res.GetError() != "" {
		t.Fatal(res.GetError())
	}
	if res := apply(2, "spiffe://kirikae/operator/vic"); res.GetCode() != kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED {
		t.Fatalf("batch from an operator: %v, want permission denied", res)
	}
	a := f.Audit()
	if len(a) != 3 {
		t.Fatalf("%d audit lines, want 3: %v", len(a), a)
	}
	if e := a[0]; e.GetActor() != "spiffe://kirikae/operator/vic" || e.GetMethod() != "RegionAdminService.SetRegion" ||
		e.GetResult() != "refused: permission denied: lacks role admin" || e.GetTimeUnixNano() != 5 || e.GetRequest() != `{"refused_by":"n2"}` {
		t.Errorf("refusal line: %v", e)
	}
	if e := a[1]; e.GetActor() != "spiffe://kirikae/operator/vic" || !strings.HasPrefix(e.GetResult(), "refused: 41 more calls") {
		t.Errorf("count line: %v", e)
	}
	if e := a[2]; e.GetMethod() != "audit.refusals" || !strings.Contains(e.GetResult(), "only servers record refusals") {
		t.Errorf("refused batch line: %v", e)
	}
	if seq, err := VerifyAuditChain(a); err != nil {
		t.Fatalf("chain broken at %d: %v", seq, err)
	}
}
