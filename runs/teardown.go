package runs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// ErrNothingToUndo means a drill's steps reported no change to undo: it needs no teardown.
var ErrNothingToUndo = errors.New("nothing to undo")

// Teardown timeouts: a DB instance takes the longest to delete (about ten minutes on AWS).
const (
	teardownTimeout = 60 * time.Minute
	teardownRetries = 2
)

// Teardown writes the plan that removes what a run created or changed: one step per undo
// step in drill's steps (the control plane passes only what the run still owns), newest
// change first, one after the other, so a service is scaled back before its task
// definition is deregistered and nothing is removed while something made later still uses
// it. The plan is ordinary plan YAML, validated and compiled like any other, and kept in the
// teardown run so people can read what it did. undoes maps each step id of the plan to the
// undo step it runs.
//
// Only what the steps reported is undone: a resource a step found already there has no
// undo, so the teardown never touches it.
func (p *Planner) Teardown(drill *kirikaev1.Run) (src []byte, undoes map[string]*kirikaev1.UndoStep, err error) {
	type change struct {
		step *kirikaev1.StepState
		undo *kirikaev1.UndoStep
		i    int
	}
	var changes []change
	for _, st := range drill.GetSteps() {
		for i, u := range st.GetUndo() {
			changes = append(changes, change{st, u, i})
		}
	}
	if len(changes) == 0 {
		return nil, nil, fmt.Errorf("run %s: %w", drill.GetId(), ErrNothingToUndo)
	}
	// Newest first: by when the step ended (a step that never ended, e.g. one that failed
	// mid-way in an aborted run, counts as the newest), then the step's own undo steps in
	// reverse.
	ended := func(st *kirikaev1.StepState) int64 {
		if st.GetFinishedUnixNano() == 0 {
			return 1<<63 - 1
		}
		return st.GetFinishedUnixNano()
	}
	slices.SortStableFunc(changes, func(a, b change) int {
		if ea, eb := ended(a.step), ended(b.step); ea != eb {
			if ea > eb {
				return -1
			}
			return 1
		}
		return b.i - a.i
	})

	var buf bytes.Buffer
	name := drill.GetPlanName() + "-teardown"
	fmt.Fprintf(&buf, "# Written by the control plane: removes what run %s created or changed and still owns,\n", drill.GetId())
	fmt.Fprintf(&buf, "# as its steps reported it, newest change first.\n")
	fmt.Fprintf(&buf, "apiVersion: kirikae/v1\nkind: Plan\nname: %s\nrunKind: teardown\n", name)
	fmt.Fprintf(&buf, "description: %s\n", quote("Teardown of run "+drill.GetId()+" (plan "+drill.GetPlanName()+")"))
	fmt.Fprintf(&buf, "phases:\n  - {id: teardown, name: %s}\nsteps:\n", quote("後片付け: 訓練で作成したリソースの削除"))
	used := map[string]int{}
	undoes = map[string]*kirikaev1.UndoStep{}
	prev := ""
	for _, c := range changes {
		id := "undo-" + c.step.GetId()
		if used[id]++; used[id] > 1 {
			id += "-" + strconv.Itoa(used[id])
		}
		with := c.undo.GetWithJson()
		if with == "" {
			with = "{}"
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(with), &m); err != nil {
			return nil, nil, fmt.Errorf("run %s: step %s: undo %s: with_json: %w", drill.GetId(), c.step.GetId(), c.undo.GetAction(), err)
		}
		undoes[id] = c.undo
		note := c.undo.GetNote()
		if note == "" {
			note = c.undo.GetAction() + " (undo " + c.step.GetId() + ")"
		}
		fmt.Fprintf(&buf, "  - id: %s\n    name: %s\n    phase: teardown\n    region: %s\n    action: %s\n    with: %s\n",
			id, quote(note), quote(c.step.GetSpec().GetRegion()), c.undo.GetAction(), with)
		if prev != "" {
			fmt.Fprintf(&buf, "    needs: [%s]\n", prev)
		}
		fmt.Fprintf(&buf, "    timeout: %s\n    retries: %d\n", teardownTimeout, teardownRetries)
		if owner := c.step.GetSpec().GetOwner(); owner != "" {
			fmt.Fprintf(&buf, "    owner: %s\n", quote(owner))
		}
		prev = id
	}
	return buf.Bytes(), undoes, nil
}

// quote writes s as a YAML double-quoted scalar; JSON's string escapes are YAML's too.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
