package redact_test

import (
	"testing"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/redact"
)

func TestRunMasksValuesWhereverTheyAppear(t *testing.T) {
	r := &kirikaev1.Run{SecretParams: []string{"PW", "SHORT", "EMPTY"},
		Params:        map[string]string{"PW": "hunter2", "SHORT": "ab", "EMPTY": "", "USER": "ops"},
		CutbackParams: map[string]string{"PW": "other-secret"},
		Steps: []*kirikaev1.StepState{{Id: "login", OutputsJson: `{"body":"password=hunter2"}`, Error: "ab",
			History: []string{"attempt 1: sent other-secret", "tab"}}}}
	redact.Run(r)
	want := map[string]string{"PW": "(secret)", "SHORT": "(secret)", "EMPTY": "(secret)", "USER": "ops"}
	for k, v := range want {
		if r.GetParams()[k] != v {
			t.Errorf("params[%s] = %q, want %q", k, r.GetParams()[k], v)
		}
	}
	st := r.GetSteps()[0]
	if r.GetCutbackParams()["PW"] != "(secret)" || st.GetOutputsJson() != `{"body":"password=(secret)"}` ||
		st.GetError() != "(secret)" || st.GetHistory()[0] != "attempt 1: sent (secret)" || st.GetHistory()[1] != "tab" {
		t.Errorf("masked run: %v", r)
	}
}
