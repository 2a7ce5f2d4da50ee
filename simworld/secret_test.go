package simworld

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/kirikae/kirikae/deploy"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// TestSecretParamsAreMasked declares the bundled failover with SMOKE_PASSWORD set, as an
// operator, and runs it on the sim. The agent logs in with the real password (a proxy in
// front of the simulated application sees it), while no answer to an operator or to
// someone without the operator role, GetRun, ListRuns, WatchRun or ListAudit, holds it.
func TestSecretParamsAreMasked(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole failover in a simulated world")
	}
	const secret = "hunter2-not-a-default"
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel) // after the world is closed
	w, _, _ := startOutage(ctx, t, Options{TimeScale: 0.002, People: "secret"})
	// The application, behind a proxy that keeps the login bodies.
	app, err := url.Parse("http://" + w.Sim().Addr() + "/_app/dns/" + w.System().DNS.Record)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logins []string
	rp := httputil.NewSingleHostReverseProxy(app)
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/login") {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			logins = append(logins, string(b))
			mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		rp.ServeHTTP(rw, r)
	}))
	defer proxy.Close()

	src, err := deploy.Plan("kaigo-failover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	operator := w.Conn(w.Operator("sysadmin"))
	decl, err := kirikaev1.NewRunServiceClient(operator).Declare(ctx, &kirikaev1.DeclareRequest{
		PlanSource: src, Scenario: "region-outage", ExpectedOutageMs: (6 * time.Hour).Milliseconds(), Reason: "secret test",
		Params:    map[string]string{"APP_URL": proxy.URL, "ALLOW_DATA_LOSS": "true", "SMOKE_PASSWORD": secret},
		RequestId: "secret-declare"})
	if err != nil {
		t.Fatal(err)
	}
	id := decl.GetRun().GetId()
	run, err := w.Follow(ctx, id, FollowOptions{HurryRetries: true})
	if err != nil {
		t.Fatal(err)
	}
	if run.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
		t.Fatalf("failover %s ended %v: %s", id, run.GetStatus(), run.GetError())
	}
	mu.Lock()
	got := strings.Join(logins, "\n")
	mu.Unlock()
	if !strings.Contains(got, `"password":"`+secret+`"`) {
		t.Fatalf("the agent's login bodies %q do not hold the real password", got)
	}

	answers := map[string]proto.Message{"Declare": decl, "WatchRun (Follow)": run}
	for _, who := range []string{w.Operator("sysadmin"), w.Operator("manager")} {
		conn := w.Conn(who)
		runs := kirikaev1.NewRunServiceClient(conn)
		gr, err := runs.GetRun(ctx, &kirikaev1.GetRunRequest{RunId: id})
		if err != nil {
			t.Fatal(err)
		}
		if gr.GetRun().GetParams()["SMOKE_PASSWORD"] != "(secret)" {
			t.Errorf("%s: GetRun params %v, want SMOKE_PASSWORD masked", who, gr.GetRun().GetParams())
		}
		lr, err := runs.ListRuns(ctx, &kirikaev1.ListRunsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		stream, err := runs.WatchRun(ctx, &kirikaev1.WatchRunRequest{RunId: id})
		if err != nil {
			t.Fatal(err)
		}
		wr, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		au, err := kirikaev1.NewAuditServiceClient(conn).ListAudit(ctx, &kirikaev1.ListAuditRequest{})
		if err != nil {
			t.Fatal(err)
		}
		answers[who+" GetRun"], answers[who+" ListRuns"], answers[who+" WatchRun"], answers[who+" ListAudit"] = gr, lr, wr, au
	}
	for what, m := range answers {
		b, err := protojson.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the secret: %s", what, b)
		}
	}
}
