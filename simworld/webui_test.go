package simworld

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/controlplane"
	"github.com/kirikae/kirikae/deploy"
	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/internal/chromiumtest"
)

// TestWebViewOfAFailover drives the bundled failover in a simulated world whose nodes
// serve the web view (--ui=open), and looks at it in headless Chromium from a follower, at
// three moments: before the failover (normal mode, the primary's agent unhealthy), in the
// middle (the first approval given, the executive's approval waiting), and after it (the
// DR region active, the epoch moved on). Each time it takes screenshots and checks the DOM
// Chromium built: the region and epoch, every step's state, what waits for whom.
//
// KIRIKAE_UI_SCREENSHOTS names a directory to keep the screenshots in; otherwise they go
// to a temporary one.
func TestWebViewOfAFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole failover in a simulated world, seen in Chromium")
	}
	bin := chromiumtest.Find(t)
	shots := os.Getenv("KIRIKAE_UI_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel) // after the world is closed
	w, primary, dr := startOutage(ctx, t, Options{TimeScale: 0.002, People: "webui", UI: controlplane.UIOpen})
	// Any node serves the view from its replica: look at a follower's.
	_, node := w.leaderAndFollower(t)
	base := "http://" + node.HTTPAddr + "/ui/"
	look := func(name, path string) string {
		t.Helper()
		png := filepath.Join(shots, name+".png")
		size := "--window-size=1400,1000"
		if path != "" {
			size = "--window-size=1400,1900" // a run's page: the chart and the steps
		}
		// The virtual time lets the page's script poll the node once or twice first.
		chromiumtest.Run(t, bin, "--screenshot="+png, size, "--virtual-time-budget=2500", base+path)
		b, err := os.ReadFile(png)
		if err != nil {
			t.Fatalf("no screenshot %s: %v", name, err)
		}
		if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 20_000 {
			t.Errorf("screenshot %s is %d bytes (want a PNG of at least 20 kB: a rendered page, not a blank one)", name, len(b))
		}
		t.Logf("screenshot %s", png)
		return string(chromiumtest.Run(t, bin, "--dump-dom", "--virtual-time-budget=2500", base+path))
	}
	before := w.Region()

	// 1. Before: normal mode in the primary, both agents with their health.
	dom := look("1-before-overview", "")
	wantDOM(t, "before", dom,
		`<div class="banner" id="open-banner">read-only view, no authentication (--ui=open)</div>`,
		`id="fresh" data-node="`+node.Node.ID()+`" data-raft-state="Follower"`,
		`data-active="`+primary+`" data-epoch="`+strconv.FormatUint(before.GetEpoch(), 10)+`" data-mode="normal"`,
		`data-region="`+primary+`" data-health="unhealthy"`,
		`data-region="`+dr+`" data-health="healthy"`,
		`<span id="refresh" class="refresh" data-state="ok">`,
	)
	for _, rr := range controlplane.RollUpReadiness(before, node.Node.FSM().Readiness(), "") {
		wantDOM(t, "before", dom, `data-readiness="`+rr.GetRegion()+`" data-ready="`+strconv.FormatBool(rr.GetReady())+`"`)
	}

	// 2. The run, held at the executive's approval while Chromium looks.
	src, err := deploy.Plan("kaigo-failover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	appURL := "http://" + w.Sim().Addr() + "/_app/dns/" + w.System().DNS.Record
	decl, err := kirikaev1.NewRunServiceClient(w.Conn(w.Operator("sysadmin"))).Declare(ctx, &kirikaev1.DeclareRequest{
		PlanSource: src, Scenario: "region-outage", ExpectedOutageMs: (6 * time.Hour).Milliseconds(), Reason: "web view test",
		Params:    map[string]string{"APP_URL": appURL, "ALLOW_DATA_LOSS": "true"},
		RequestId: "webui-declare"})
	if err != nil {
		t.Fatal(err)
	}
	id := decl.GetRun().GetId()
	const held = "approve-activation"
	waiting, release := make(chan struct{}), make(chan struct{})
	type result struct {
		run *kirikaev1.Run
		err error
	}
	done := make(chan result, 1)
	go func() {
		run, err := w.Follow(ctx, id, FollowOptions{HurryRetries: true, ActDelay: func(st *kirikaev1.StepState) time.Duration {
			if st.GetId() == held {
				// Hold the simulated executive (and the follower loop) until Chromium has looked.
				close(waiting)
				select {
				case <-release:
				case <-ctx.Done():
				}
			}
			return 0
		}})
		done <- result{run, err}
	}()
	select {
	case <-waiting:
	case r := <-done:
		t.Fatalf("the run ended before %s waited: %v %v", held, r.run.GetStatus(), r.err)
	case <-ctx.Done():
		t.Fatalf("%s never waited: %v", held, ctx.Err())
	}
	waitReplica(t, node, func() bool {
		r := node.Node.FSM().Run(id)
		return r != nil && stepOf(r, held).GetStatus() == kirikaev1.StepStatus_STEP_STATUS_WAITING
	})
	mid := node.Node.FSM().Run(id)
	dom = look("2-mid-run", "runs/"+id)
	close(release)
	wantDOM(t, "mid-run", dom,
		`id="run" data-run="`+id+`" data-state="running"`,
		`data-waiting="`+held+`"`,
		`data-missing="executive"`,
		`<rect class="bar" data-step="`+held+`" data-run="`+id+`" data-status="waiting"`,
		`<line class="now"`,
	)
	for _, ap := range stepOf(mid, "approve-region-outage").GetApprovals() {
		who := strings.TrimPrefix(ap.GetActor(), "spiffe://kirikae/operator/")
		wantDOM(t, "mid-run", dom, `<div data-approval="`+ap.GetRole()+`">`+ap.GetRole()+`: `+who+`</div>`)
	}
	if cs := stepOf(mid, "checklist").GetConfirmations(); len(cs) == 0 {
		t.Error("the checklist was confirmed by no one")
	} else {
		who := strings.TrimPrefix(cs[0].GetActor(), "spiffe://kirikae/operator/")
		wantDOM(t, "mid-run", dom, "✓ "+who+" ("+strconv.Itoa(len(cs))+")")
	}
	if n := len(stepOf(mid, "approve-region-outage").GetApprovals()); n < 2 {
		t.Errorf("approve-region-outage has %d approvals in the replica, want its two roles", n)
	}
	// The script may have swapped in a newer fragment: a step may show the state it had
	// when Chromium started or the one it has now.
	checkSteps(t, "mid-run", dom, mid, node.Node.FSM().Run(id))
	if strings.Contains(dom, appURL) || strings.Contains(dom, "ALLOW_DATA_LOSS") {
		t.Error("the run page shows the run's params")
	}
	for _, st := range []string{"health-events", "checklist", "approve-region-outage"} {
		wantDOM(t, "mid-run", dom, `data-step="`+st+`" data-state="succeeded"`)
	}
	wantDOM(t, "mid-run", dom, `data-step="restore-rds" data-state="pending"`)

	// 3. After: the DR region active, the epoch moved on, every step done.
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		t.Fatalf("the failover did not finish: %v", ctx.Err())
	}
	if res.err != nil || res.run.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
		t.Fatalf("failover %s ended %v: %v %s", id, res.run.GetStatus(), res.err, res.run.GetError())
	}
	waitReplica(t, node, func() bool {
		r := node.Node.FSM().Run(id)
		st, _, _ := node.Node.FSM().Region()
		return r.GetFinishedUnixNano() != 0 && st.GetActive() == dr
	})
	after, _, _ := node.Node.FSM().Region()
	if after.GetEpoch() <= before.GetEpoch() {
		t.Errorf("epoch %d after the failover, %d before", after.GetEpoch(), before.GetEpoch())
	}
	final := node.Node.FSM().Run(id)
	dom = look("3-after-run", "runs/"+id)
	wantDOM(t, "after", dom, `id="run" data-run="`+id+`" data-state="succeeded"`, "Nothing waits for people.")
	if strings.Contains(dom, `<line class="now"`) {
		t.Error("the finished run's chart still has a now line")
	}
	checkSteps(t, "after", dom, final)
	dom = look("3-after-overview", "")
	wantDOM(t, "after", dom,
		`data-active="`+dr+`" data-epoch="`+strconv.FormatUint(after.GetEpoch(), 10)+`" data-mode="failed-over"`,
		`<b id="active-region">`+dr+`</b>`,
		`<tr data-run="`+id+`" data-state="succeeded">`,
	)
}

// wantDOM checks that the DOM holds each piece.
func wantDOM(t *testing.T, moment, dom string, pieces ...string) {
	t.Helper()
	for _, p := range pieces {
		if !strings.Contains(dom, p) {
			t.Errorf("%s: the DOM lacks %s", moment, p)
		}
	}
}

var stepRow = regexp.MustCompile(`<tr data-step="([^"]+)" data-state="([a-z-]+)">`)

// checkSteps holds the steps table and the chart's bars to the run: one row and one bar
// per step, each in the step's state in run or in one of the later looks at it.
func checkSteps(t *testing.T, moment, dom string, run *kirikaev1.Run, later ...*kirikaev1.Run) {
	t.Helper()
	rows := map[string]string{}
	for _, m := range stepRow.FindAllStringSubmatch(dom, -1) {
		rows[m[1]] = m[2]
	}
	if len(rows) != len(run.GetSteps()) {
		t.Errorf("%s: the steps table has %d rows, the run %d steps", moment, len(rows), len(run.GetSteps()))
	}
	for _, st := range run.GetSteps() {
		var wants []string
		for _, r := range append([]*kirikaev1.Run{run}, later...) {
			wants = append(wants, enum.Name(stepOf(r, st.GetId()).GetStatus()))
		}
		if !slices.Contains(wants, rows[st.GetId()]) {
			t.Errorf("%s: step %s shows %q, the replica says %s", moment, st.GetId(), rows[st.GetId()], strings.Join(wants, " then "))
		}
		bar := `<rect class="bar" data-step="` + st.GetId() + `" data-run="` + run.GetId() + `" data-status="` + rows[st.GetId()] + `"`
		if !strings.Contains(dom, bar) {
			t.Errorf("%s: the chart has no %s bar for %s", moment, rows[st.GetId()], st.GetId())
		}
	}
}

func stepOf(r *kirikaev1.Run, id string) *kirikaev1.StepState {
	for _, st := range r.GetSteps() {
		if st.GetId() == id {
			return st
		}
	}
	return nil
}

// waitReplica polls the node's replica until ok.
func waitReplica(t *testing.T, node *controlplane.Instance, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("node %s's replica did not catch up", node.Node.ID())
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
}
