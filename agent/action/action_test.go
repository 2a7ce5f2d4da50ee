package action_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
)

func st(name string, with map[string]any) action.Step {
	return action.Step{RunID: "run-1", StepID: "verify", Attempt: 1, Action: name, Region: "us-west-2", With: with}
}

func wantInvalid(t *testing.T, err error, says string) {
	t.Helper()
	if !errors.Is(err, action.ErrInvalidInput) || !strings.Contains(err.Error(), says) {
		t.Fatalf("want ErrInvalidInput mentioning %q, got %v", says, err)
	}
}

func TestInputHelpers(t *testing.T) {
	if f, err := action.Number("threshold", " 90.5"); err != nil || f != 90.5 {
		t.Fatalf("Number = %v, %v", f, err)
	}
	for _, bad := range []string{"high", "NaN", "Inf", ""} {
		_, err := action.Number("threshold", bad)
		wantInvalid(t, err, "with.threshold: want a number")
	}
	p, err := action.CheckARN("arn", "arn:aws:rds:us-west-2:123456789012:snapshot:rds:kaigo-subsys-prod-2025-01-15-03-00", "rds", "snapshot:")
	if err != nil || p.Region != "us-west-2" || p.Resource != "snapshot:rds:kaigo-subsys-prod-2025-01-15-03-00" {
		t.Fatalf("CheckARN = %+v, %v", p, err)
	}
	for _, bad := range []string{"arn:aws:rds:us-west-2:snapshot", "rds:us-west-2:123456789012:snapshot:x",
		"arn:aws:rds:us-west-2:12345:snapshot:x", "arn:aws:rds:us-west-2:123456789012:db:x", "arn:aws:ec2:us-west-2:123456789012:snapshot:x",
		"arn:aws:rds::123456789012:snapshot:x"} {
		_, err := action.CheckARN("sourceSnapshotArn", bad, "rds", "snapshot:")
		wantInvalid(t, err, "with.sourceSnapshotArn: malformed ARN")
	}
}

// TestDecodeTrims: a blank is no value, as the agent always read inputs.
func TestDecodeTrims(t *testing.T) {
	in, err := action.Decode(st("aws.rds.restoreSnapshot", map[string]any{"instanceId": " db ", "securityGroups": " sg-1 , sg-2"}), catalog.RestoreSnapshot)
	if err != nil || in.InstanceID != "db" || !reflect.DeepEqual(in.SecurityGroups, []string{"sg-1", "sg-2"}) {
		t.Fatalf("trimmed %+v, %v", in, err)
	}
	for _, tc := range []struct {
		with map[string]any
		says string
	}{
		{map[string]any{"instanceId": "  "}, "with.instanceId is required"},
		{map[string]any{"instanceId": "db", "securityGroups": []any{"sg-1", " "}}, "with.securityGroups: item 1 is empty"},
	} {
		_, err := action.Decode(st("aws.rds.restoreSnapshot", tc.with), catalog.RestoreSnapshot)
		wantInvalid(t, err, tc.says)
	}
	td, err := action.Decode(st("aws.ecs.registerTaskDefinition", map[string]any{"family": "f", "image": "i", "environment": map[string]any{"MODE": " dr "}}),
		catalog.RegisterTaskDefinition)
	if err != nil || td.Environment["MODE"] != "dr" {
		t.Fatalf("trimmed %+v, %v", td, err)
	}
}

// TestOutputs: outputs hold the types the package doc promises, whatever the encoding.
func TestOutputs(t *testing.T) {
	out, err := action.Outputs(catalog.HTTPCheck, catalog.HTTPCheckOut{Requests: 20, Errors: 1, P99Ms: 2000,
		Body: map[string]any{"n": 1.0, "x": 1.5, "l": []any{2.0}}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"requests": int64(20), "errors": int64(1), "errorRate": 0.0, "p50Ms": 0.0, "p99Ms": 2000.0,
		"body": map[string]any{"n": int64(1), "x": 1.5, "l": []any{int64(2)}}}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("outputs %#v, want %#v", out, want)
	}
	out, err = action.Outputs(catalog.VerifyNetwork, catalog.VerifyNetworkOut{VPCID: "vpc-1", SubnetIDs: []string{"subnet-1"}})
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]any{"vpcId": "vpc-1", "subnetIds": []any{"subnet-1"}, "securityGroupIds": []any{}, "routeTableIds": []any{}}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("outputs %#v, want %#v (an empty list is [], not null)", out, want)
	}
}

func TestToken(t *testing.T) {
	a := st("x", nil)
	b := a
	b.Attempt = 7
	if action.Token(a, true) != action.Token(b, true) {
		t.Fatal("the token must not depend on the attempt")
	}
	c := a
	c.StepID = "other"
	if action.Token(a, false) == action.Token(c, false) || len(action.Token(a, true)) != 36 {
		t.Fatal("tokens must differ per step and be UUID-shaped")
	}
}

func TestRegistry(t *testing.T) {
	reg := action.NewRegistry()
	reg.Register("b", action.ExecutorFunc(func(context.Context, action.Step, action.ProgressFunc) (map[string]any, error) {
		return map[string]any{"ok": true}, nil
	}))
	reg.Register("a", &action.HTTPCheck{})
	if got := reg.Names(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("Names = %v", got)
	}
	if _, ok := reg.Lookup("b"); !ok {
		t.Fatal("Lookup(b) failed")
	}
	_, err := reg.Execute(context.Background(), st("nope", nil), nil)
	if !errors.Is(err, action.ErrUnknownAction) {
		t.Fatalf("want ErrUnknownAction, got %v", err)
	}
}

// tickClock moves by step on every reading: latency without wall-clock time.
type tickClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *tickClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func TestHTTPCheck(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		if r.URL.Path == "/flaky" && i%4 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name   string
		with   map[string]any
		step   time.Duration
		fails  string
		errors int64
	}{
		{name: "healthy", with: map[string]any{"url": srv.URL + "/health", "expectBody": `"status":"ok"`}, step: time.Millisecond},
		{name: "error rate over the limit", with: map[string]any{"url": srv.URL + "/flaky", "requests": 20}, step: time.Millisecond,
			fails: "error rate 0.25 > maxErrorRate 0.01 (5 of 20 failed; first: status 503, want 200)", errors: 5},
		{name: "error rate within a looser limit", with: map[string]any{"url": srv.URL + "/flaky", "requests": "20", "maxErrorRate": "0.3"},
			step: time.Millisecond, errors: 5},
		{name: "body missing", with: map[string]any{"url": srv.URL + "/health", "requests": 5, "expectBody": "healthy"}, step: time.Millisecond,
			fails: `body does not contain "healthy"`, errors: 5},
		{name: "too slow", with: map[string]any{"url": srv.URL + "/health", "requests": 5}, step: 2 * time.Second,
			fails: "p99 latency 2s > maxLatency 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n.Store(0)
			h := &action.HTTPCheck{Now: (&tickClock{step: tc.step}).Now}
			if tc.name == "too slow" {
				tc.with["maxLatency"] = "1s"
			}
			var lines []string
			out, err := h.Execute(context.Background(), st("http.check", tc.with), func(l string) { lines = append(lines, l) })
			if tc.fails == "" && err != nil {
				t.Fatalf("unexpected failure: %v", err)
			}
			if tc.fails != "" && (!errors.Is(err, action.ErrCheckFailed) || !strings.Contains(err.Error(), tc.fails)) {
				t.Fatalf("want a check failure saying %q, got %v", tc.fails, err)
			}
			if out["errors"] != tc.errors || out["requests"].(int64) < 5 || len(lines) == 0 {
				t.Fatalf("outputs %v, progress %v", out, lines)
			}
			if tc.name == "too slow" && out["p99Ms"] != 2000.0 {
				t.Fatalf("p99Ms = %v, want 2000", out["p99Ms"])
			}
		})
	}
	h := &action.HTTPCheck{}
	_, err := h.Execute(context.Background(), st("http.check", map[string]any{}), nil)
	wantInvalid(t, err, "with.url is required")
	_, err = h.Execute(context.Background(), st("http.check", map[string]any{"url": srv.URL, "requests": 0}), nil)
	wantInvalid(t, err, "with.requests")
	_, err = h.Execute(context.Background(), st("http.check", map[string]any{"url": srv.URL, "maxErrorRate": "lots"}), nil)
	wantInvalid(t, err, "with.maxErrorRate")
}

type fakePublisher struct {
	mu   sync.Mutex
	sent []string
}

func (f *fakePublisher) Publish(_ context.Context, topic, _, msg string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, topic+" "+msg)
	return "msg-1", nil
}

func TestNotify(t *testing.T) {
	var mu sync.Mutex
	var bodies []map[string]any
	fail := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		bodies = append(bodies, m)
	}))
	t.Cleanup(srv.Close)
	pub := &fakePublisher{}
	n := &action.Notify{Publisher: func(string) (action.Publisher, error) { return pub, nil }, Memo: action.FileMemo{Dir: t.TempDir()}}
	topic := "arn:aws:sns:us-west-2:123456789012:kaigo-subsys-dr-notifications"
	s := st("notify", map[string]any{"webhook": srv.URL, "topicArn": topic, "message": "DR発動: us-west-2 へ切り替えます",
		"audience": []any{"development", "operations", "executives"}})
	out, err := n.Execute(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out["delivered"], []any{"webhook", "sns"}) {
		t.Fatalf("delivered = %v", out["delivered"])
	}
	if len(bodies) != 1 || bodies[0]["text"] != "DR発動: us-west-2 へ切り替えます" || len(pub.sent) != 1 {
		t.Fatalf("webhook got %v, SNS got %v", bodies, pub.sent)
	}
	// A re-dispatch of the same step (a new attempt, a restarted agent) does not tell anyone twice.
	s.Attempt = 2
	n2 := &action.Notify{Publisher: n.Publisher, Memo: n.Memo}
	if _, err := n2.Execute(context.Background(), s, nil); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 1 || len(pub.sent) != 1 {
		t.Fatalf("notified twice: webhook %d, SNS %d", len(bodies), len(pub.sent))
	}
	mu.Lock()
	fail = true
	mu.Unlock()
	_, err = (&action.Notify{}).Execute(context.Background(), st("notify", map[string]any{"webhook": srv.URL, "message": "m"}), nil)
	if err == nil || !strings.Contains(err.Error(), "webhook answered 500") {
		t.Fatalf("want the webhook's 500 reported, got %v", err)
	}
	_, err = (&action.Notify{}).Execute(context.Background(), st("notify", map[string]any{"message": "m"}), nil)
	wantInvalid(t, err, "with.webhook or with.topicArn is required")
	_, err = (&action.Notify{}).Execute(context.Background(), st("notify", map[string]any{"topicArn": "alerts", "message": "m"}), nil)
	wantInvalid(t, err, "with.topicArn: malformed ARN")
}

func TestPollStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := action.Poll(ctx, action.Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}, func(context.Context) (bool, error) {
		calls++
		if calls == 3 {
			cancel()
		}
		return false, nil
	})
	if !errors.Is(err, context.Canceled) || calls != 3 {
		t.Fatalf("Poll: calls=%d err=%v", calls, err)
	}
}

// TestHTTPCheckHeadersAndBody chains a login into a request that needs its token, the way
// the failover plan's CRUD checks do.
func TestHTTPCheckHeadersAndBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"token":"t-123"}`)
		case "/items":
			if r.Header.Get("Authorization") != "Bearer t-123" {
				http.Error(w, "no token", http.StatusUnauthorized)
				return
			}
			fmt.Fprint(w, "plain text")
		}
	}))
	defer srv.Close()
	h := &action.HTTPCheck{}
	out, err := h.Execute(context.Background(), action.Step{Action: "http.check", With: map[string]any{"url": srv.URL + "/login", "requests": 2}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, ok := out["body"].(map[string]any)
	if !ok || body["token"] != "t-123" {
		t.Fatalf("login body output: %#v", out["body"])
	}
	out, err = h.Execute(context.Background(), action.Step{Action: "http.check", With: map[string]any{"url": srv.URL + "/items", "requests": 2,
		"headers": map[string]any{"Authorization": "Bearer " + body["token"].(string)}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out["body"] != "plain text" {
		t.Fatalf("non-JSON body output: %#v", out["body"])
	}
	// Without the header every request fails, and there is no body to pass on.
	out, err = h.Execute(context.Background(), action.Step{Action: "http.check", With: map[string]any{"url": srv.URL + "/items", "requests": 2, "expectStatus": 200}}, nil)
	if err == nil || out["body"] != nil {
		t.Fatalf("unauthorized check: err=%v body=%#v", err, out["body"])
	}
	// A number is a header's text, as for any string input; a list is no header value.
	if _, err := h.Execute(context.Background(), action.Step{Action: "http.check", With: map[string]any{"url": srv.URL, "headers": map[string]any{"X": []any{1}}}}, nil); err == nil || !strings.Contains(err.Error(), "with.headers") {
		t.Fatalf("bad header value: %v", err)
	}
}

func TestUndoLog(t *testing.T) {
	var none *action.UndoLog
	none.Add(action.Undo{Action: "x"}) // a step run outside the runtime: dropped, no panic
	if none.Steps() != nil {
		t.Fatal("a nil log holds steps")
	}
	var saved [][]action.Undo
	earlier := action.Undo{Action: "aws.efs.deleteFileSystem", With: map[string]any{"fileSystemId": "fs-1"}}
	l := action.NewUndoLog([]action.Undo{earlier}, func(all []action.Undo) { saved = append(saved, all) })
	l.Add(action.Undo{Action: "aws.cloudwatch.deleteAlarm", With: map[string]any{"alarmName": "a"}, Note: "delete alarm a"})
	l.Add(action.Undo{Action: "aws.cloudwatch.deleteAlarm", With: map[string]any{"alarmName": "a"}, Note: "again"})
	l.Add(earlier)
	got := l.Steps()
	if len(got) != 2 || got[0].Action != "aws.efs.deleteFileSystem" || got[1].Note != "delete alarm a" {
		t.Fatalf("steps %+v", got)
	}
	if len(saved) != 1 || len(saved[0]) != 2 {
		t.Fatalf("onAdd calls %+v, want one with both steps", saved)
	}
}
