package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/plan"
)

type widgetIn struct {
	Size int `json:"size" kirikae:"required" doc:"how big"`
}

type widgetOut struct {
	WidgetID string `json:"widgetId" doc:"the new widget's id"`
}

// TestPlanActions: the catalog as `plan actions` prints it comes from the definitions,
// an action added to them included, and an unknown name is refused by name.
func TestPlanActions(t *testing.T) {
	catalog.Define(catalog.Def[widgetIn, widgetOut]{Name: "test.widget", Where: catalog.OnAgent, Doc: "Make a widget.",
		IAM: []string{"widgets:MakeWidget"}})
	defer catalog.Undefine("test.widget")

	var b bytes.Buffer
	if err := runPlanActions(&b, "table", ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "test.widget") || !strings.Contains(b.String(), "aws.rds.restoreSnapshot") {
		t.Fatalf("the list lacks an action:\n%s", b.String())
	}
	b.Reset()
	if err := runPlanActions(&b, "table", "test.widget"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Runs on:       agent", "IAM:           widgets:MakeWidget", "  size  int   yes       how big",
		"Outputs (later steps read ${steps.ID.outputs.NAME}):\n  NAME      TYPE    ABOUT\n  widgetId  string  the new widget's id\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("plan actions test.widget lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := runPlanActions(&b, "json", ""); err != nil {
		t.Fatal(err)
	}
	var list []actionJSON
	if err := json.Unmarshal(b.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != len(plan.Actions()) {
		t.Fatalf("json lists %d actions, the catalog holds %d", len(list), len(plan.Actions()))
	}
	found := false
	for _, a := range list {
		if a.Name != "test.widget" {
			continue
		}
		found = true
		if len(a.Outputs) != 1 || a.Outputs[0] != "widgetId" ||
			len(a.OutputFields) != 1 || a.OutputFields[0] != (outputJSON{Name: "widgetId", Type: "string", Doc: "the new widget's id"}) {
			t.Errorf("json of test.widget: outputs %v, output fields %+v", a.Outputs, a.OutputFields)
		}
	}
	if !found {
		t.Error("json lacks test.widget")
	}
	// An action without outputs says so, and its JSON has an empty list, not null.
	b.Reset()
	if err := runPlanActions(&b, "table", "wait"); err != nil || !strings.Contains(b.String(), "\nOutputs: none\n") {
		t.Errorf("plan actions wait: %v\n%s", err, b.String())
	}
	b.Reset()
	if err := runPlanActions(&b, "json", "wait"); err != nil || !strings.Contains(b.String(), `"output_fields": []`) {
		t.Errorf("plan actions wait -o json: %v\n%s", err, b.String())
	}
	if err := runPlanActions(&b, "table", "test.nope"); err == nil || !strings.Contains(err.Error(), `no action "test.nope"`) {
		t.Fatalf("unknown action: %v", err)
	}
	// A plan that uses the new action validates against its definition.
	src := "apiVersion: kirikae/v1\nkind: Plan\nname: w\nrunKind: recovery\nsteps:\n  - {id: a, region: us-west-2, action: test.widget, with: {size: 3}}\n  - {id: b, region: us-west-2, action: test.widget, with: {}}\n"
	_, err := plan.Parse("w.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "w.yaml:7") || !strings.Contains(err.Error(), "size") {
		t.Fatalf("a missing required input of the new action: %v", err)
	}
}
