package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/human"
)

// isTerminal reports whether w is a character device, where live redrawing makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func drillKind(k kirikaev1.DrillKind) string {
	if k == kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED {
		return ""
	}
	return enum.Name(k)
}

func dur(ms int64) string {
	if ms <= 0 {
		return "-"
	}
	return human.Duration(time.Duration(ms) * time.Millisecond)
}

// stepElapsed is how long a step has run: to its end, or to now.
func stepElapsed(st *kirikaev1.StepState, now time.Time) time.Duration {
	if st.GetStartedUnixNano() == 0 {
		return 0
	}
	end := now.UnixNano()
	if st.GetFinishedUnixNano() != 0 {
		end = st.GetFinishedUnixNano()
	}
	return time.Duration(end - st.GetStartedUnixNano()).Round(time.Second)
}

// renderRun draws a run phase by phase: each step with its status, elapsed time against
// the expected, and what it waits for.
func renderRun(w io.Writer, r *kirikaev1.Run, now time.Time) {
	kind := enum.Name(r.GetKind())
	if d := drillKind(r.GetDrill()); d != "" {
		kind += " (" + d + " drill)"
	}
	fmt.Fprintf(w, "run %s  %s  plan %s  %s -> %s  status %s\n", r.GetId(), kind, r.GetPlanName(), r.GetFromRegion(), r.GetToRegion(), enum.Name(r.GetStatus()))
	if r.GetError() != "" {
		fmt.Fprintf(w, "  ! %s\n", r.GetError())
	}
	// The runs of one drill are linked both ways.
	parent := "part of drill"
	if r.GetKind() == kirikaev1.RunKind_RUN_KIND_TEARDOWN {
		parent = "tears down"
	}
	for _, l := range []struct{ what, id string }{{parent, r.GetParentRunId()}, {"cutback", r.GetCutbackRunId()}, {"teardown", r.GetTeardownRunId()},
		{"preempted by", r.GetPreemptedBy()}, {"took over what these created", strings.Join(r.GetInheritedFrom(), ", ")}} {
		if l.id != "" {
			fmt.Fprintf(w, "  %s: %s\n", l.what, l.id)
		}
	}
	if r.GetUndoRequested() {
		fmt.Fprintf(w, "  teardown due: the control plane starts it once no agent holds a step of this run\n")
	}
	phases := r.GetPhases()
	seen := map[string]bool{}
	for _, ph := range phases {
		seen[ph.GetId()] = true
	}
	// Steps whose phase the plan does not list still show, under their phase id.
	for _, st := range r.GetSteps() {
		if p := st.GetSpec().GetPhase(); !seen[p] {
			seen[p] = true
			phases = append(phases, &kirikaev1.Phase{Id: p, Name: p})
		}
	}
	for _, ph := range phases {
		title := ph.GetName()
		if title == "" {
			title = ph.GetId()
		}
		fmt.Fprintf(w, "\n%s (expect %s)\n", title, dur(ph.GetExpectMs()))
		for _, st := range r.GetSteps() {
			if st.GetSpec().GetPhase() != ph.GetId() {
				continue
			}
			sp := st.GetSpec()
			line := fmt.Sprintf("  %-11s %-34s %-12s %8s / %-6s", enum.Name(st.GetStatus()), st.GetId(), sp.GetRegion(),
				stepElapsed(st, now), dur(sp.GetExpectMs()))
			switch {
			case st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_WAITING && sp.GetAction() == catalog.Approval.Name:
				var got []string
				for _, a := range st.GetApprovals() {
					got = append(got, a.GetRole()+"="+a.GetActor())
				}
				line += fmt.Sprintf("  needs approval: %s (have: %s)", strings.Join(sp.GetRoles(), ", "), strings.Join(got, ", "))
			case st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_WAITING && sp.GetAction() == catalog.Checklist.Name:
				line += fmt.Sprintf("  checklist: %d of %d confirmed (by %s)", confirmedCount(st), len(sp.GetItems()), strings.Join(sp.GetRoles(), " or "))
			case st.GetSkipRequested():
				line += "  to be skipped once its needs complete (by " + st.GetSkippedBy() + ")"
			case st.GetWaiver() != nil:
				line += fmt.Sprintf("  waived by %s: %s", st.GetWaiver().GetActor(), st.GetWaiver().GetReason())
			case st.GetProgress() != "":
				line += "  " + st.GetProgress()
			case st.GetError() != "":
				line += "  error: " + st.GetError()
			case st.GetSkippedBy() != "":
				line += "  skipped by " + st.GetSkippedBy()
			}
			if st.GetAttempt() > 1 {
				line += fmt.Sprintf("  (attempt %d)", st.GetAttempt())
			}
			if n := len(st.GetUndo()); n > 0 {
				line += fmt.Sprintf("  [%d to undo]", n)
			}
			fmt.Fprintln(w, strings.TrimRight(line, " "))
			if sp.GetAction() == catalog.Checklist.Name {
				renderChecklist(w, st)
			}
		}
	}
}

// confirmedCount counts the distinct items of a checklist step confirmed so far.
func confirmedCount(st *kirikaev1.StepState) int {
	n := 0
	for _, item := range st.GetSpec().GetItems() {
		if confirmer(st, item) != nil {
			n++
		}
	}
	return n
}

func confirmer(st *kirikaev1.StepState, item string) *kirikaev1.Confirmation {
	for _, c := range st.GetConfirmations() {
		if c.GetItem() == item {
			return c
		}
	}
	return nil
}

// renderChecklist lists a checklist step's items, numbered as ` + "`kirikae run confirm`" + ` takes
// them, each with who confirmed it and when.
func renderChecklist(w io.Writer, st *kirikaev1.StepState) {
	for i, item := range st.GetSpec().GetItems() {
		mark, by := "[ ]", ""
		if c := confirmer(st, item); c != nil {
			mark, by = "[x]", fmt.Sprintf("  (%s, %s)", c.GetActor(), time.Unix(0, c.GetTimeUnixNano()).UTC().Format("15:04:05"))
		}
		fmt.Fprintf(w, "      %d. %s %s%s\n", i+1, mark, item, by)
	}
}

// stepLines returns one line per step state, for the plain (non-terminal) watch output,
// which prints only lines that changed.
func stepLines(r *kirikaev1.Run) map[string]string {
	out := map[string]string{"": fmt.Sprintf("run %s %s", r.GetId(), enum.Name(r.GetStatus()))}
	for _, st := range r.GetSteps() {
		l := fmt.Sprintf("step %s %s", st.GetId(), enum.Name(st.GetStatus()))
		if st.GetAttempt() > 1 {
			l += fmt.Sprintf(" attempt=%d", st.GetAttempt())
		}
		if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_FAILED || st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT {
			l += " error=" + fmt.Sprintf("%q", st.GetError())
		}
		if st.GetProgress() != "" {
			l += " progress=" + fmt.Sprintf("%q", st.GetProgress())
		}
		out[st.GetId()] = l
	}
	return out
}
