package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

func TestDrillStartRefusesABadTimelineBeforeStarting(t *testing.T) {
	t.Setenv("KIRIKAE_ADDR", "127.0.0.1:1") // nothing listens: a drill that got this far would fail differently
	dir := t.TempDir()
	head := "apiVersion: kirikae/v1\nkind: Timeline\nname: t\ndate: 2025-12-01\nrows:\n"
	for name, tc := range map[string]struct{ body, want string }{
		"bad time": {`  - {time: "09:00", action: a, match: {plan: kaigo-failover, phase: prepare}}
  - {time: "24:61", action: b}
`, `t.yaml:7: rows[1].time: "24:61" is not a time`},
		"unknown step": {`  - {time: "09:00", action: a, match: {plan: kaigo-failover, phase: prepare}}
  - {time: "09:10", action: b, match: {plan: kaigo-failover, step: restore-rdss}}
  - {time: "13:00", action: c, match: {plan: kaigo-cutback, step: not-checked-in-a-tabletop}}
`, `t.yaml:7: rows[1].match.step: unknown step "restore-rdss"`},
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, "t.yaml")
			if err := os.WriteFile(file, []byte(head+tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := newDrillStartCommand()
			cmd.SetArgs([]string{"--kind", "tabletop", "--plan", filepath.Join("..", "deploy", "plans", "kaigo-failover.yaml"), "--timeline", file})
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.ExecuteContext(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "not-checked-in-a-tabletop") {
				t.Errorf("a row of a plan this drill does not run was checked: %v", err)
			}
		})
	}
}

func TestRenderRunShowsDrillLinksAndUndo(t *testing.T) {
	r := &kirikaev1.Run{Id: "failover-1", Kind: kirikaev1.RunKind_RUN_KIND_FAILOVER, Drill: kirikaev1.DrillKind_DRILL_KIND_PARTIAL,
		TeardownRunId: "teardown-failover-1", Status: kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED,
		Steps: []*kirikaev1.StepState{{Id: "restore-rds", Status: kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED, Spec: &kirikaev1.StepSpec{Phase: "build"},
			Undo: []*kirikaev1.UndoStep{{Action: "aws.rds.deleteRestored"}}}}}
	var b strings.Builder
	renderRun(&b, r, time.Now())
	for _, want := range []string{"teardown: teardown-failover-1", "restore-rds", "[1 to undo]"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("run view lacks %q:\n%s", want, b.String())
		}
	}
}

func TestDrillStartRefusesFlagsOfAnotherKind(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--kind", "partial", "--cutback-plan", "x.yaml"}, `--cutback-plan is only for --kind full, not "partial"`},
		{[]string{"--kind", "full", "--report", "r.md"}, `--report is only for --kind tabletop, not "full"`},
		{[]string{"--kind", "partial", "--time-scale", "0.01"}, `--time-scale is only for --kind tabletop, not "partial"`},
	} {
		cmd := newDrillStartCommand()
		cmd.SetArgs(append(tc.args, "--plan", filepath.Join("..", "deploy", "plans", "kaigo-failover.yaml")))
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		if err := cmd.ExecuteContext(context.Background()); err == nil || err.Error() != tc.want {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}
