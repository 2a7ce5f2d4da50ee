package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/report"
)

// TestJSONIssueItems: each thing issue 15 quotes, as -o json prints it now.
func TestJSONIssueItems(t *testing.T) {
	printed := func(t *testing.T, m proto.Message) string {
		t.Helper()
		var b bytes.Buffer
		if err := printJSON(&b, m); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		out       func(t *testing.T) string
		want, not []string
	}{
		{"mode as the table shows it", func(t *testing.T) string {
			return printed(t, &kirikaev1.RegionState{Mode: kirikaev1.Mode_MODE_NORMAL})
		}, []string{`"mode": "normal"`}, []string{"MODE_NORMAL"}},
		{"readiness status as the table shows it", func(t *testing.T) string {
			return printed(t, &kirikaev1.ReadinessCheck{Status: kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL})
		}, []string{`"status": "fail"`}, []string{"READINESS_STATUS_FAIL"}},
		{"epoch a number", func(t *testing.T) string {
			return printed(t, &kirikaev1.RegionState{Epoch: 1})
		}, []string{`"epoch": 1`}, []string{`"epoch": "1"`}},
		{"changed_unix_nano a time", func(t *testing.T) string {
			return printed(t, &kirikaev1.RegionState{ChangedUnixNano: at.UnixNano()})
		}, []string{`"changed": "2026-01-02T03:04:05Z"`}, []string{"changed_unix_nano"}},
		{"outputs_json an object", func(t *testing.T) string {
			return printed(t, &kirikaev1.StepState{OutputsJson: `{"id":"db-1"}`})
		}, []string{"\"outputs\": {\n    \"id\": \"db-1\"\n  }"}, []string{"outputs_json", `\"id\"`}},
		{"the audit request an object", func(t *testing.T) string {
			return printed(t, &kirikaev1.AuditEntry{Request: `{"region":"us-west-2","force":true}`})
		}, []string{"\"request\": {\n    \"force\": true,"}, []string{`\"region\"`}},
		{"drill schedule in snake_case with RFC 3339 times", func(t *testing.T) string {
			var b bytes.Buffer
			if err := writeJSON(&b, drillScheduleJSON([]report.NextDrill{{Kind: report.Tabletop, Last: at, Next: at.AddDate(0, 3, 0)},
				{Kind: report.Full, Next: at, Overdue: true}})); err != nil {
				t.Fatal(err)
			}
			return b.String()
		}, []string{`"kind": "tabletop"`, `"last": "2026-01-02T03:04:05Z"`, `"last": null`, `"overdue": false`}, []string{`"Kind"`, `"Last"`}},
		{"plan show says run_kind", func(t *testing.T) string {
			var b bytes.Buffer
			if err := runPlanShow(&b, "json", "../deploy/plans/kaigo-rds-pitr.yaml", []string{"RESTORE_TIME=2025-01-15T12:00:00Z"}); err != nil {
				t.Fatal(err)
			}
			return b.String()
		}, []string{`"run_kind": "recovery"`, `"critical_path": [`, `"overridden": false`}, []string{"runKind", "criticalPath"}},
		{"a disconnected agent says connected false", func(t *testing.T) string {
			return printed(t, &kirikaev1.ListAgentsResponse{Agents: []*kirikaev1.AgentStatus{{Info: &kirikaev1.AgentInfo{Id: "us-east-1/a"}}}})
		}, []string{`"connected": false`, `"last_heartbeat": null`, `"health": null`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.out(t)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("lacks %s:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("still has %s:\n%s", n, out)
				}
			}
			var v any
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			for _, problem := range checkConvention(v, "") {
				t.Error(problem)
			}
		})
	}
}

// TestKirikaeFormat: KIRIKAE_FORMAT is the default of -o/--output; the flag wins; a bad
// value is refused by name.
func TestKirikaeFormat(t *testing.T) {
	const plan = "../deploy/plans/kaigo-rds-pitr.yaml"
	t.Setenv(formatEnv, "json")
	out, err := runCLI(t, "plan", "show", plan)
	if err != nil || !json.Valid([]byte(out)) {
		t.Fatalf("KIRIKAE_FORMAT=json: %v\n%s", err, out)
	}
	out, err = runCLI(t, "plan", "show", plan, "-o", "table")
	if err != nil || json.Valid([]byte(out)) {
		t.Fatalf("-o table over KIRIKAE_FORMAT=json: %v\n%s", err, out)
	}
	out, err = runCLI(t, "version")
	if err != nil || !json.Valid([]byte(out)) {
		t.Fatalf("version with KIRIKAE_FORMAT=json: %v\n%s", err, out)
	}
	t.Setenv(formatEnv, "table")
	out, err = runCLI(t, "version")
	if err != nil || !strings.HasPrefix(out, "kirikae ") {
		t.Fatalf("version with KIRIKAE_FORMAT=table: %v\n%s", err, out)
	}
	t.Setenv(formatEnv, "yaml")
	for _, args := range [][]string{{"plan", "show", plan}, {"runs", "--addr", "127.0.0.1:1"}, {"version"}} {
		_, err := runCLI(t, args...)
		if err == nil || !strings.Contains(err.Error(), `KIRIKAE_FORMAT="yaml"`) || !strings.Contains(err.Error(), "table or json") {
			t.Errorf("%s with KIRIKAE_FORMAT=yaml: %v", strings.Join(args, " "), err)
		}
	}
	if _, err := runCLI(t, "plan", "show", plan, "-o", "json"); err != nil {
		t.Errorf("-o json over a bad KIRIKAE_FORMAT: %v", err)
	}
	t.Setenv(formatEnv, "")
	if _, err := runCLI(t, "plan", "show", plan, "-o", "xml"); err == nil || !strings.Contains(err.Error(), `--output "xml"`) {
		t.Errorf("-o xml: %v", err)
	}
}
