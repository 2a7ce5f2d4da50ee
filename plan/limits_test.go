package plan_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kirikae/kirikae/plan"
)

const header = `apiVersion: kirikae/v1
kind: Plan
name: limits
runKind: recovery
steps:
`

// refused parses src and returns the problems, failing unless it is refused with a
// *ValidationError.
func refused(t *testing.T, src string) []plan.FieldError {
	t.Helper()
	_, err := plan.Parse("limits.yaml", []byte(src))
	if err == nil {
		t.Fatal("plan validated, want it refused")
	}
	var ve *plan.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, plan.ErrInvalid) {
		t.Fatalf("error is %T, want a *plan.ValidationError wrapping ErrInvalid: %v", err, err)
	}
	return ve.Errors
}

// wantOne checks that errs is exactly one problem at line, in field, whose message holds
// every one of parts.
func wantOne(t *testing.T, errs []plan.FieldError, line int, field string, parts ...string) {
	t.Helper()
	if len(errs) != 1 {
		t.Fatalf("got %d problems, want 1: %v", len(errs), errs)
	}
	e := errs[0]
	if e.Line != line || e.Field != field {
		t.Errorf("problem at line %d in %s, want line %d in %s: %s", e.Line, e.Field, line, field, e)
	}
	for _, p := range parts {
		if !strings.Contains(e.Msg, p) {
			t.Errorf("message %q does not say %q", e.Msg, p)
		}
	}
}

func TestNeedsMustBeAList(t *testing.T) {
	// Only the needs is reported: b still needs a, so it may read a's outputs.
	src := header + `  - {id: a, action: approval, with: {roles: [sysadmin]}}
  - id: b
    action: approval
    with: {roles: ["${steps.a.outputs.approvers}"]}
    needs: a
`
	wantOne(t, refused(t, src), 10, "steps[b].needs", `want a list of step ids, got a string "a": write needs: [a]`)
}

func TestSizeLimits(t *testing.T) {
	step := func(i int) string { return fmt.Sprintf("  - {id: s%d, action: wait, with: {duration: 1s}}\n", i) }
	t.Run("bytes", func(t *testing.T) {
		src := header + step(0) + "# " + strings.Repeat("x", plan.MaxBytes) + "\n"
		wantOne(t, refused(t, src), 1, "plan", fmt.Sprintf("the file is %d bytes", len(src)),
			fmt.Sprintf("at most %d bytes (4 MiB)", plan.MaxBytes))
	})
	t.Run("steps", func(t *testing.T) {
		var sb strings.Builder
		sb.WriteString(header)
		for i := range plan.MaxSteps + 1 {
			sb.WriteString(step(i))
		}
		wantOne(t, refused(t, sb.String()), 6, "steps",
			fmt.Sprintf("%d steps: a plan may have at most %d", plan.MaxSteps+1, plan.MaxSteps))
	})
	t.Run("depth", func(t *testing.T) {
		// A 5,000-deep list in an input, on line 6.
		src := header + "  - {id: a, action: approval, with: {roles: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "}}\n"
		wantOne(t, refused(t, src), 6, "yaml", "nest 5004 levels deep", fmt.Sprintf("at most %d", plan.MaxDepth))
	})
	t.Run("depth through an alias", func(t *testing.T) {
		// Each list nests 30 deep, within the limit, but the alias puts one inside the other.
		deep := strings.Repeat("[", 30) + strings.Repeat("]", 30)
		src := header + "  - {id: a, action: approval, with: {roles: &deep " + deep + "}}\n" +
			"  - {id: b, action: approval, with: {roles: " + strings.Repeat("[", 30) + "*deep" + strings.Repeat("]", 30) + "}}\n"
		wantOne(t, refused(t, src), 7, "yaml", "nest 64 levels deep", fmt.Sprintf("at most %d", plan.MaxDepth))
	})
	t.Run("alias inside its anchor", func(t *testing.T) {
		src := header + "  - {id: a, action: approval, with: {roles: &x [*x]}}\n"
		wantOne(t, refused(t, src), 6, "yaml", "alias *x is inside the node it names (line 6)")
	})
	t.Run("aliases that expand", func(t *testing.T) {
		// Nine levels of ten aliases each stand for 10^9 strings in a file of a few hundred bytes.
		var sb strings.Builder
		sb.WriteString("apiVersion: kirikae/v1\nkind: Plan\nname: laughs\nrunKind: recovery\nparams:\n  L0: &l0 {default: lol}\n")
		for i := 1; i <= 9; i++ {
			fmt.Fprintf(&sb, "  L%d: &l%d {default: [", i, i)
			for j := range 10 {
				if j > 0 {
					sb.WriteString(", ")
				}
				fmt.Fprintf(&sb, "*l%d", i-1)
			}
			sb.WriteString("]}\n")
		}
		sb.WriteString("steps:\n  - {id: a, action: wait, with: {duration: 1s}}\n")
		errs := refused(t, sb.String())
		wantOne(t, errs, errs[0].Line, "yaml", fmt.Sprintf("expand to at most %d", plan.MaxExpanded))
	})
}

func TestLimitsLeaveRoomForRealPlans(t *testing.T) {
	t.Run("steps", func(t *testing.T) {
		var sb strings.Builder
		sb.WriteString(header)
		for i := range plan.MaxSteps {
			fmt.Fprintf(&sb, "  - {id: s%d, action: wait, with: {duration: 1s}, needs: [s%d]}\n", i, max(i-1, 0))
		}
		src := strings.Replace(sb.String(), ", needs: [s0]}", "}", 1)
		if _, err := plan.Parse("limits.yaml", []byte(src)); err != nil {
			t.Fatalf("a plan of %d steps is refused: %.500v", plan.MaxSteps, err)
		}
	})
	t.Run("depth", func(t *testing.T) {
		// An input at depth 5 holding lists down to MaxDepth.
		n := plan.MaxDepth - 4
		src := header + "  - {id: a, action: approval, with: {roles: " + strings.Repeat("[", n) + "sysadmin" + strings.Repeat("]", n) + "}}\n"
		if _, err := plan.Parse("limits.yaml", []byte(src)); err != nil {
			t.Fatalf("a plan nesting %d levels deep is refused: %v", plan.MaxDepth, err)
		}
	})
}

func TestTooManyProblems(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(header)
	for i := range 5000 {
		fmt.Fprintf(&sb, "  - {id: s%d, action: wait, with: {duration: 1s}, needs: [nope%d]}\n", i, i)
	}
	errs := refused(t, sb.String())
	if len(errs) > 1001 {
		t.Fatalf("%d problems reported", len(errs))
	}
	if last := errs[len(errs)-1]; last.Field != "plan" || !strings.Contains(last.Msg, "too many problems: stopped after 1000") {
		t.Errorf("last problem %s, want it to say the list stopped", last)
	}
}

func TestCycleAmongManySteps(t *testing.T) {
	// A cycle of three steps in the middle of a long chain is reported once, by the
	// cycle's first step; the steps after it are in no cycle and report none.
	var sb strings.Builder
	sb.WriteString(header)
	for i := range 2000 {
		needs := ""
		switch {
		case i == 1000:
			needs = "s999, s1002"
		case i > 0:
			needs = fmt.Sprintf("s%d", i-1)
		}
		fmt.Fprintf(&sb, "  - {id: s%d, action: wait, with: {duration: 1s}, needs: [%s]}\n", i, needs)
	}
	wantOne(t, refused(t, sb.String()), 1006, "steps[s1000].needs", "cycle: s1000 -> s1001 -> s1002 -> s1000")
}
