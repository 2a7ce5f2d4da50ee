package catalog_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/catalog"
)

func TestDecode(t *testing.T) {
	in, err := catalog.RestoreSnapshot.Decode([]byte(`{"instanceId":"db","maxAge":"1h30m","multiAz":false,"securityGroups":["sg-1"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if in.InstanceID != "db" || time.Duration(in.MaxAge) != 90*time.Minute || in.MultiAZ == nil || *in.MultiAZ || len(in.SecurityGroups) != 1 {
		t.Fatalf("decoded %+v", in)
	}
	if in, err := catalog.Wait.Decode([]byte(`{"duration":"2d"}`)); err != nil || time.Duration(in.Duration) != 48*time.Hour {
		t.Fatalf("a duration in days: %+v %v", in, err)
	}
	// What a reference or a YAML scalar may hold is brought to the input's type.
	in, err = catalog.RestoreSnapshot.Decode([]byte(`{"instanceId":42,"multiAz":"yes","securityGroups":"sg-1, sg-2","maxAge":3600}`))
	if err != nil || in.InstanceID != "42" || in.MultiAZ == nil || !*in.MultiAZ || len(in.SecurityGroups) != 2 || time.Duration(in.MaxAge) != time.Hour {
		t.Fatalf("coerced: %+v %v", in, err)
	}
	if pa, err := catalog.PutAlarm.Decode([]byte(`{"alarmName":"a","metricName":"m","namespace":"n","threshold":90,"period":"300","dimensions":{"Port":8080}}`)); err != nil ||
		pa.Threshold != "90" || pa.Period == nil || *pa.Period != 300 || pa.Dimensions["Port"] != "8080" {
		t.Fatalf("coerced: %+v %v", pa, err)
	}
	// An input whose zero is not its default tells an explicit zero from none.
	if hc, err := catalog.HTTPCheck.Decode([]byte(`{"url":"u","requests":0}`)); err != nil || hc.Requests == nil || *hc.Requests != 0 || hc.ExpectStatus != nil {
		t.Fatalf("an explicit zero: %+v %v", hc, err)
	}
	if _, err := catalog.DeleteRestored.Decode([]byte(`{"instanceId":"db","createTime":"yesterday"}`)); !errors.Is(err, catalog.ErrInvalidInput) || !strings.Contains(err.Error(), "with.createTime: ") {
		t.Fatalf("a bad time does not name its input: %v", err)
	}
	for _, tc := range []struct{ with, want string }{
		{`{}`, "with.instanceId is required"},
		{`{"instanceId":null}`, "with.instanceId is required"},
		{`{"instanceId":"db","colour":"red"}`, `"colour" is not an input of aws.rds.restoreSnapshot`},
		{`{"instanceId":"db","multiAz":"maybe"}`, "with.multiAz: want bool, got a JSON string"},
		{`{"instanceId":{"a":1}}`, "with.instanceId: want string, got a JSON object"},
		{`{"instanceId":"db","maxAge":"soon"}`, `with.maxAge: want a duration like 1h or 90s, got "soon"`},
		{`{"instanceId":"db","maxAge":"-1h"}`, "with.maxAge: must not be negative"},
		{`[1]`, "with is not a JSON object"},
		{`null`, "with is null"},
	} {
		_, err := catalog.RestoreSnapshot.Decode([]byte(tc.with))
		if !errors.Is(err, catalog.ErrInvalidInput) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Decode(%s) = %v, want an invalid input saying %q", tc.with, err, tc.want)
		}
	}
}

func TestOutputsRoundTrip(t *testing.T) {
	m, err := catalog.RestoreSnapshot.Encode(catalog.RestoreSnapshotOut{Endpoint: "db.example", Port: 5432, SnapshotID: "s", SnapshotAgeSeconds: 3600})
	if err != nil || m["endpoint"] != "db.example" || m["snapshotAgeSeconds"] == nil {
		t.Fatalf("Encode: %v %v", m, err)
	}
	out, err := catalog.RestoreSnapshot.Outputs(`{"endpoint":"db.example","port":5432,"snapshotId":"s","snapshotAgeSeconds":3600}`)
	if err != nil || out.DataLoss() != time.Hour || out.Port != 5432 {
		t.Fatalf("Outputs: %+v %v", out, err)
	}
}

// TestSpecs: every definition names where it runs, documents itself and every one of its
// inputs and outputs, its inputs have the types the plan format knows, and its output
// fields are its outputs.
func TestSpecs(t *testing.T) {
	if len(catalog.All()) < 30 {
		t.Fatalf("the catalog holds %d actions", len(catalog.All()))
	}
	for _, s := range catalog.All() {
		if s.Doc == "" {
			t.Errorf("%s has no doc", s.Name)
		}
		for _, f := range s.Inputs {
			switch f.Type {
			case "string", "int", "bool", "duration", "time", "list", "map":
			default:
				t.Errorf("%s: input %s has type %q, which plans cannot write", s.Name, f.Name, f.Type)
			}
			if strings.TrimSpace(f.Doc) == "" {
				t.Errorf("%s: input %s has no doc", s.Name, f.Name)
			}
		}
		if len(s.OutputFields) != len(s.Outputs) {
			t.Errorf("%s: %d output fields for %d outputs", s.Name, len(s.OutputFields), len(s.Outputs))
		}
		for i, f := range s.OutputFields {
			if i < len(s.Outputs) && f.Name != s.Outputs[i] {
				t.Errorf("%s: output field %d is %s, output %d is %s", s.Name, i, f.Name, i, s.Outputs[i])
			}
			if f.Type == "" || f.Required {
				t.Errorf("%s: output %s has type %q and required %v", s.Name, f.Name, f.Type, f.Required)
			}
			if strings.TrimSpace(f.Doc) == "" {
				t.Errorf("%s: output %s has no doc", s.Name, f.Name)
			}
		}
		if s.Resource != nil {
			for _, in := range s.Resource.Inputs {
				found := false
				for _, f := range s.Inputs {
					found = found || (f.Name == in && f.Required)
				}
				if !found {
					t.Errorf("%s: its resource is named by %s, which is not a required input", s.Name, in)
				}
			}
		}
	}
}
