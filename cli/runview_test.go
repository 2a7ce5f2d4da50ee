package cli

import (
	"bytes"
	"strings"
	"testing"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// TestChecklistListsItemsByNumberWithWhoConfirmed: `run show` and `run confirm` print a
// checklist's items numbered as `run confirm` takes them, each with who confirmed it.
func TestChecklistListsItemsByNumberWithWhoConfirmed(t *testing.T) {
	st := &kirikaev1.StepState{Id: "checklist", Spec: &kirikaev1.StepSpec{Action: "checklist",
		Items: []string{"AWS announcement", "scope of impact", "recovery estimate"}},
		Confirmations: []*kirikaev1.Confirmation{
			{Item: "recovery estimate", Actor: "spiffe://kirikae/operator/sam", TimeUnixNano: 3_600_000_000_000},
			{Item: "AWS announcement", Actor: "spiffe://kirikae/operator/mia", TimeUnixNano: 7_200_000_000_000},
		}}
	var b bytes.Buffer
	renderChecklist(&b, st)
	want := []string{
		"      1. [x] AWS announcement  (spiffe://kirikae/operator/mia, 02:00:00)",
		"      2. [ ] scope of impact",
		"      3. [x] recovery estimate  (spiffe://kirikae/operator/sam, 01:00:00)",
	}
	if got := strings.Split(strings.TrimRight(b.String(), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("checklist:\n%s\nwant:\n%s", b.String(), strings.Join(want, "\n"))
	}
	if n := confirmedCount(st); n != 2 {
		t.Fatalf("confirmedCount = %d, want 2", n)
	}
}
