package report_test

import (
	"bytes"
	"strings"
	"testing"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// TestReportMasksSecretParams builds the report of a run whose secret param's value shows
// up in its params, a step's outputs and error, and the audit; neither the Markdown nor
// the HTML holds it.
func TestReportMasksSecretParams(t *testing.T) {
	const secret = "hunter2-in-a-report"
	in := fixture(t, 1, kirikaev1.DrillKind_DRILL_KIND_FULL)
	fo := in.Runs[0]
	fo.SecretParams = []string{"SMOKE_PASSWORD"}
	fo.Params = map[string]string{"SMOKE_PASSWORD": secret, "APP_URL": "https://example.com"}
	for _, st := range fo.GetSteps() {
		if st.GetId() == "restore-rds" {
			st.History = append(st.History, "attempt 9: login with "+secret+" refused")
			st.FailureOutputsJson = `{"body":"` + secret + `"}`
		}
	}
	in.Audit = append(in.Audit, &kirikaev1.AuditEntry{Seq: 9, Actor: "spiffe://kirikae/operator/mallory", Method: "run.approve",
		Request: `{"run_id":"run-fo","step_id":"approve-activation","comment":"` + secret + `"}`, Result: "error: permission denied"})
	r := build(t, in)
	var md, html bytes.Buffer
	if err := r.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := r.HTML(&html); err != nil {
		t.Fatal(err)
	}
	for what, out := range map[string]string{"markdown": md.String(), "html": html.String()} {
		if strings.Contains(out, secret) {
			t.Errorf("the %s report holds the secret", what)
		}
	}
	if fo.GetParams()["SMOKE_PASSWORD"] != secret {
		t.Error("Build changed its input run")
	}
}
