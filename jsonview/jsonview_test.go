package jsonview_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/jsonview"
)

// render writes m as the CLI does and reads it back as generic JSON, numbers exact.
func render(t *testing.T, m proto.Message) map[string]any {
	t.Helper()
	b, err := json.Marshal(jsonview.Of(m))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return v
}

func compact(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEnumsAreTheTablesWords: "MODE_NORMAL" and "READINESS_STATUS_FAIL" were printed as
// protojson names; the convention prints the tables' words, "" for unspecified.
func TestEnumsAreTheTablesWords(t *testing.T) {
	st := render(t, &kirikaev1.RegionState{Mode: kirikaev1.Mode_MODE_FAILING_OVER})
	if st["mode"] != "failing-over" {
		t.Errorf("mode = %#v, want failing-over", st["mode"])
	}
	c := render(t, &kirikaev1.ReadinessCheck{Status: kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL})
	if c["status"] != "fail" {
		t.Errorf("status = %#v, want fail", c["status"])
	}
	r := render(t, &kirikaev1.Run{Kind: kirikaev1.RunKind_RUN_KIND_FAILOVER})
	if r["drill"] != "" || r["kind"] != "failover" {
		t.Errorf("drill = %#v, kind = %#v; want \"\" and failover", r["drill"], r["kind"])
	}
	u := render(t, &kirikaev1.RegionState{Mode: kirikaev1.Mode(42)})
	if u["mode"] != json.Number("42") {
		t.Errorf("unknown mode = %#v, want the number 42", u["mode"])
	}
}

// TestIntegersAreNumbers: "epoch": "1" was a string; 64-bit values beyond 2^53 stay exact.
func TestIntegersAreNumbers(t *testing.T) {
	st := render(t, &kirikaev1.RegionState{Epoch: 1})
	if st["epoch"] != json.Number("1") {
		t.Errorf("epoch = %#v, want the number 1", st["epoch"])
	}
	big := render(t, &kirikaev1.ListMembersResponse{Term: math.MaxUint64, CommitIndex: 1<<53 + 1})
	if big["term"] != json.Number("18446744073709551615") || big["commit_index"] != json.Number("9007199254740993") {
		t.Errorf("term %#v, commit_index %#v: not exact", big["term"], big["commit_index"])
	}
	h := render(t, &kirikaev1.AgentHealth{OpenHealthEvents: 3})
	if h["open_health_events"] != json.Number("3") || h["running_steps"] != json.Number("0") {
		t.Errorf("int32s: %v", h)
	}
	g := render(t, &kirikaev1.GetActiveRegionResponse{StalenessMs: 250})
	if g["staleness_ms"] != json.Number("250") {
		t.Errorf("a duration keeps its unit and stays a number: %v", g)
	}
}

// TestTimesAreRFC3339: changed_unix_nano was a string of nanoseconds; it is "changed", RFC
// 3339 in UTC, and null when unset.
func TestTimesAreRFC3339(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("JST", 9*3600))
	st := render(t, &kirikaev1.RegionState{ChangedUnixNano: at.UnixNano()})
	if _, old := st["changed_unix_nano"]; old {
		t.Error("changed_unix_nano is still there")
	}
	if st["changed"] != "2026-01-01T18:04:05.0000006Z" {
		t.Errorf("changed = %#v", st["changed"])
	}
	r := render(t, &kirikaev1.Run{})
	if v, ok := r["finished"]; !ok || v != nil {
		t.Errorf("an unset time: %#v, %v; want null, present", v, ok)
	}
	if jsonview.Time(time.Time{}) != nil || jsonview.Time(at) != "2026-01-01T18:04:05.0000006Z" {
		t.Errorf("Time: %v, %v", jsonview.Time(time.Time{}), jsonview.Time(at))
	}
}

// TestJSONStringsAreNested: outputs_json and the audit entry's request were JSON inside
// strings; they are objects, under outputs and request.
func TestJSONStringsAreNested(t *testing.T) {
	st := render(t, &kirikaev1.StepState{OutputsJson: `{"snapshot":"s-1","size":12345678901234567890}`, FailureOutputsJson: "not json"})
	if got := compact(t, st["outputs"]); got != `{"size":12345678901234567890,"snapshot":"s-1"}` {
		t.Errorf("outputs = %s", got)
	}
	if st["failure_outputs"] != "not json" {
		t.Errorf("unparseable content should stay a string: %#v", st["failure_outputs"])
	}
	if v, ok := st["with"]; ok {
		t.Errorf("StepState has no with: %v", v)
	}
	spec := render(t, &kirikaev1.StepSpec{})
	if v, ok := spec["with"]; !ok || v != nil {
		t.Errorf("empty with_json: %#v, %v; want null, present", v, ok)
	}
	// The audit line is the server's protojson: quoted 64-bit integers, enum names, times.
	e := render(t, &kirikaev1.AuditEntry{Request: `{"id":"r1","kind":"RUN_KIND_FAILOVER","expected_outage_ms":"3600000",` +
		`"params":{"epoch":"1"},"system":{"version":"3","applied_unix_nano":"1767236645000000000"},"readiness_start":[{"checks":[{"status":"READINESS_STATUS_WARN"}]}]}`})
	want := `{"expected_outage_ms":3600000,"id":"r1","kind":"failover","params":{"epoch":"1"},` +
		`"readiness_start":[{"checks":[{"status":"warn"}]}],"system":{"applied":"2026-01-01T03:04:05Z","version":3}}`
	if got := compact(t, e["request"]); got != want {
		t.Errorf("request =\n %s\nwant\n %s", got, want)
	}
}

// TestFalseAndZeroArePresent: a disconnected agent says "connected": false.
func TestFalseAndZeroArePresent(t *testing.T) {
	a := render(t, &kirikaev1.AgentStatus{Info: &kirikaev1.AgentInfo{Id: "us-west-2/a"}})
	for _, k := range []string{"connected", "connected_to", "last_heartbeat", "health"} {
		if _, ok := a[k]; !ok {
			t.Errorf("%s is missing: %v", k, a)
		}
	}
	if a["connected"] != false || a["health"] != nil {
		t.Errorf("connected %#v, health %#v; want false and null", a["connected"], a["health"])
	}
	info := a["info"].(map[string]any)
	if compact(t, info["actions"]) != "[]" {
		t.Errorf("an empty list: %v", info["actions"])
	}
	r := render(t, &kirikaev1.Run{PlanSource: []byte("name: x\n")})
	if r["plan_source"] != "bmFtZTogeAo=" || compact(t, r["params"]) != "{}" {
		t.Errorf("bytes %#v, map %#v", r["plan_source"], r["params"])
	}
	// Of a oneof, only the member that is set.
	c := render(t, &kirikaev1.ConnectRequest{Msg: &kirikaev1.ConnectRequest_Heartbeat{Heartbeat: &kirikaev1.AgentHealth{}}})
	if _, ok := c["register"]; ok || c["heartbeat"] == nil {
		t.Errorf("oneof: %v", c)
	}
	if jsonview.Of(nil) != nil || jsonview.Of((*kirikaev1.Run)(nil)) != nil {
		t.Error("a nil message is not null")
	}
}

// TestNoKeyCollides: the renamed keys (changed_unix_nano is changed, outputs_json is
// outputs) never collide with another field of the same message.
func TestNoKeyCollides(t *testing.T) {
	var walk func(ms protoreflect.MessageDescriptors)
	walk = func(ms protoreflect.MessageDescriptors) {
		for i := range ms.Len() {
			md := ms.Get(i)
			if md.IsMapEntry() {
				continue
			}
			m := render(t, newMessage(t, md))
			if len(m) > md.Fields().Len() {
				t.Errorf("%s: %d keys for %d fields", md.FullName(), len(m), md.Fields().Len())
			}
			fields := md.Fields()
			oneofs := 0
			for j := range md.Oneofs().Len() {
				if !md.Oneofs().Get(j).IsSynthetic() {
					oneofs += md.Oneofs().Get(j).Fields().Len()
				}
			}
			if len(m) != fields.Len()-oneofs {
				t.Errorf("%s: %d keys for %d fields outside oneofs: two collide", md.FullName(), len(m), fields.Len()-oneofs)
			}
			walk(md.Messages())
		}
	}
	n := 0
	protoregistry.GlobalFiles.RangeFilesByPackage("kirikae.v1", func(fd protoreflect.FileDescriptor) bool {
		n++
		walk(fd.Messages())
		return true
	})
	if n == 0 {
		t.Fatal("no kirikae.v1 files registered")
	}
}

func newMessage(t *testing.T, md protoreflect.MessageDescriptor) proto.Message {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
	if err != nil {
		t.Fatal(err)
	}
	return mt.New().Interface()
}
