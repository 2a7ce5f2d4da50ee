package integration_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/integration"
	"github.com/kirikae/kirikae/security"
)

// The tests here attack the control plane's authority with real processes and real
// certificates: an agent certificate that tries to act for the other region, operators who
// try to move the region without the runbook's approvals, and a viewer who tries to poison
// a run with a request id the server uses.

// dial connects to node i with the certificate named as (e.g. agent-us-east-1).
func dial(t *testing.T, c *integration.Cluster, i int, as string) *grpc.ClientConn {
	t.Helper()
	conf, err := security.ClientTLS(c.CA(), filepath.Join(c.CertDir, as+".pem"), filepath.Join(c.CertDir, as+"-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := grpc.NewClient(c.Nodes[i].GRPCAddr, grpc.WithTransportCredentials(credentials.NewTLS(conf)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

// impostor is an agent stream opened with one region's certificate, registered under an id
// the other region's agent uses.
type impostor struct {
	stream  kirikaev1.AgentService_ConnectClient
	mu      sync.Mutex
	assigns []*kirikaev1.Assignment
	closed  error
}

func connectImpostor(t *testing.T, c *integration.Cluster, cert string, info *kirikaev1.AgentInfo) *impostor {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	leader := c.WaitLeader(0, 30*time.Second)
	stream, err := kirikaev1.NewAgentServiceClient(dial(t, c, leader, cert)).Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&kirikaev1.ConnectRequest{Msg: &kirikaev1.ConnectRequest_Register{Register: info}}); err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil || first.GetRegistered() == nil {
		t.Fatalf("the impostor's registration as %s/%s: %v %v", info.GetRegion(), info.GetId(), first, err)
	}
	im := &impostor{stream: stream}
	go func() {
		for {
			m, err := stream.Recv()
			im.mu.Lock()
			if err != nil {
				im.closed = err
				im.mu.Unlock()
				return
			}
			if a := m.GetAssign(); a != nil {
				im.assigns = append(im.assigns, a)
			}
			im.mu.Unlock()
		}
	}()
	return im
}

// TestAnAgentCannotActForTheOtherRegion (issue 11, item 2): the us-east-1 agent's
// certificate registers under the id of the us-west-2 agent and sends a result for the
// us-west-2 restore-rds step with an attacker's endpoint. The real agent is not knocked
// off, the impostor gets no assignment, the forged result is refused and audited, and the
// endpoint never reaches the DR database secret.
func TestAnAgentCannotActForTheOtherRegion(t *testing.T) {
	w := newDRWorld(t, 0.01)
	w.waitAgent("us-east-1")
	im := connectImpostor(t, w.c, "agent-us-east-1", &kirikaev1.AgentInfo{Id: "us-west-2/test", Region: "us-east-1", Version: "evil"})

	id := w.declare()
	acted := map[string]bool{}
	var attempt uint32
	integration.WaitFor(t, 2*time.Minute, "restore-rds to run on the us-west-2 agent", func() bool {
		for _, st := range w.act(id, acted).Steps {
			if st.ID == "restore-rds" && (st.Status == "running" || st.Status == "dispatched") {
				attempt = uint32(st.Attempt)
				return true
			}
		}
		return false
	})
	if err := im.stream.Send(&kirikaev1.ConnectRequest{Msg: &kirikaev1.ConnectRequest_Result{Result: &kirikaev1.StepResult{
		RunId: id, StepId: "restore-rds", Attempt: attempt, Ok: true, AgentId: "us-west-2/test",
		OutputsJson: `{"endpoint":"db.attacker.example","port":5432}`}}}); err != nil {
		t.Fatal(err)
	}
	integration.WaitFor(t, 30*time.Second, "the forged result to be refused in the audit log", func() bool {
		var a struct {
			Entries []struct {
				Actor, Method, Result string
				Request               json.RawMessage
			} `json:"entries"`
		}
		if err := w.c.CLIJSON("operator-admin", &a, "audit"); err != nil {
			return false
		}
		for _, e := range a.Entries {
			if e.Actor == "spiffe://kirikae/agent/us-east-1" && e.Method == "run.step.result" && strings.Contains(e.Result, "permission denied") &&
				strings.Contains(string(e.Request), "attacker") {
				return true
			}
		}
		return false
	})
	if fo := w.drive(id, 4*time.Minute, nil); fo.Status != "succeeded" {
		t.Fatalf("the failover: %s %s", fo.Status, fo.Error)
	}
	if out := w.detail(id).outputs("restore-rds"); out["endpoint"] == "db.attacker.example" {
		t.Fatalf("restore-rds took the forged endpoint: %v", out)
	}
	sec, err := secretsmanager.NewFromConfig(w.awsConfig("us-west-2")).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("kaigo-subsys/dr/db-endpoint")})
	if err != nil || strings.Contains(aws.ToString(sec.SecretString), "attacker") || !strings.Contains(aws.ToString(sec.SecretString), "kaigo-subsys-dr") {
		t.Fatalf("the DR database secret: %v %v", sec.SecretString, err)
	}
	im.mu.Lock()
	got, closed := len(im.assigns), im.closed
	im.mu.Unlock()
	if got != 0 {
		t.Fatalf("the impostor received %d assignments", got)
	}
	// Both agents that share the id are listed, each in its own region; the real one was
	// never replaced (its stream lives on) and ran every us-west-2 step.
	regions := map[string]bool{}
	for _, a := range w.agents().Agents {
		if a.Info.ID == "us-west-2/test" && a.Connected {
			regions[a.Info.Region] = true
		}
	}
	if !regions["us-west-2"] || !regions["us-east-1"] || closed != nil {
		t.Fatalf("agents with the id us-west-2/test connected in %v (impostor stream closed: %v)", regions, closed)
	}
	if strings.Contains(w.west.Logs(), "replaced by a newer connection") {
		t.Fatal("the impostor knocked the real us-west-2 agent off")
	}
	for _, st := range w.detail(id).Steps {
		if st.AgentID != "" && st.AgentID != "us-west-2/test" {
			t.Errorf("step %s ran on %q", st.ID, st.AgentID)
		}
	}
}

// TestApprovalsAreTheServersPolicy (issue 11, item 3): an operator who is not an admin
// cannot move the region with a one-step plan, by skipping the approvals, or with an
// approval nobody must give; enum and duration fields are checked. Each is refused and
// audited, and the region stays where it was.
func TestApprovalsAreTheServersPolicy(t *testing.T) {
	w := newDRWorld(t, 0.002)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unchanged := func(what string) {
		t.Helper()
		if got := w.regionState(); got.State.Active != "us-east-1" || got.State.Epoch != 1 {
			t.Fatalf("%s moved the region: %+v", what, got.State)
		}
	}

	t.Run("a plan of one region.activate", func(t *testing.T) {
		plan := write("activate.yaml", "apiVersion: kirikae/v1\nkind: Plan\nname: just-activate\nrunKind: failover\nsteps:\n"+
			"  - {id: activate, action: region.activate, with: {region: secondary}}\n")
		var r runJSON
		if err := w.c.CLIJSON("operator-sam", &r, "declare", "--plan", plan, "--scenario", "region-outage", "--expected-outage", "6h", "--reason", "attack"); err != nil {
			t.Fatal(err)
		}
		integration.WaitFor(t, 60*time.Second, "the activation to be refused", func() bool {
			for _, st := range w.detail(r.ID).Steps {
				if st.ID == "activate" && st.Status == "failed" {
					return true
				}
			}
			return false
		})
		if d := w.detail(r.ID); !strings.Contains(d.Error, "region.activate refused") || !strings.Contains(d.Error, "missing sysadmin, manager, executive") {
			t.Fatalf("the run says: %s", d.Error)
		}
		unchanged("a one-step plan")
		if audit := w.c.MustCLI("operator-admin", w.c.Addrs(), "audit", "-o", "json"); !strings.Contains(audit, "region.activate refused") {
			t.Fatal("the refused activation is not in the audit log")
		}
		w.c.MustCLI("operator-sam", w.c.Addrs(), "run", "abort", r.ID, "--reason", "attack over")
	})

	t.Run("skipping the approvals", func(t *testing.T) {
		id := w.declare()
		for _, step := range []string{"approve-region-outage", "approve-activation"} {
			_, errOut, err := w.c.CLI(ctx, "operator-sam", w.c.Addrs(), "run", "skip", id, step, "--reason", "in a hurry")
			if err == nil || !strings.Contains(errOut, "only an admin may skip it") {
				t.Fatalf("sam skipping %s: err=%v %s", step, err, errOut)
			}
		}
		for _, st := range w.detail(id).Steps {
			if strings.HasPrefix(st.ID, "approve-") && st.Status == "skipped" {
				t.Fatalf("%s was skipped", st.ID)
			}
		}
		w.c.MustCLI("operator-sam", w.c.Addrs(), "run", "abort", id, "--reason", "attack over")
		unchanged("skips")
	})

	t.Run("an approval with no roles", func(t *testing.T) {
		plan := write("noroles.yaml", "apiVersion: kirikae/v1\nkind: Plan\nname: no-roles\nrunKind: failover\nsteps:\n"+
			"  - {id: ok, action: approval, with: {roles: []}}\n"+
			"  - {id: activate, needs: [ok], action: region.activate, with: {region: secondary}}\n")
		out, errOut, err := w.c.CLI(ctx, "operator-sam", w.c.Addrs(), "declare", "--plan", plan, "--scenario", "region-outage", "--expected-outage", "6h", "--reason", "attack", "-o", "json")
		if err == nil {
			// Refused at run time if not at declare: the approval fails, nothing activates.
			var r runJSON
			if jerr := json.Unmarshal([]byte(out), &r); jerr != nil {
				t.Fatal(jerr)
			}
			integration.WaitFor(t, 60*time.Second, "the empty approval to fail", func() bool {
				for _, st := range w.detail(r.ID).Steps {
					if st.ID == "ok" && st.Status == "failed" {
						return true
					}
				}
				return false
			})
			w.c.MustCLI("operator-sam", w.c.Addrs(), "run", "abort", r.ID, "--reason", "attack over")
		} else if !strings.Contains(errOut, "roles") {
			t.Fatalf("declare of an approval with no roles: %s", errOut)
		}
		unchanged("an approval with no roles")
	})

	t.Run("enums and durations", func(t *testing.T) {
		src, err := os.ReadFile(filepath.Join(w.planDir, "kaigo-failover.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		runs := kirikaev1.NewRunServiceClient(dial(t, w.c, 0, "operator-sam"))
		for name, req := range map[string]*kirikaev1.DeclareRequest{
			"drill 77":          {PlanSource: src, Scenario: "region-outage", ExpectedOutageMs: 6 * 3600e3, Reason: "attack", Drill: 77, RequestId: "enum-1"},
			"negative outage":   {PlanSource: src, Scenario: "region-outage", ExpectedOutageMs: -18446722473709, Reason: "attack", OverrideCriteria: "x", RequestId: "dur-1"},
			"a tabletop, real":  {PlanSource: src, Scenario: "region-outage", ExpectedOutageMs: 6 * 3600e3, Reason: "attack", Drill: kirikaev1.DrillKind_DRILL_KIND_TABLETOP, RequestId: "tt-1"},
			"unknown scenario":  {PlanSource: src, Scenario: "meteor", ExpectedOutageMs: 6 * 3600e3, Reason: "attack", OverrideCriteria: "x", RequestId: "sc-1"},
			"outage of 10^15ms": {PlanSource: src, Scenario: "region-outage", ExpectedOutageMs: 1e15, Reason: "attack", RequestId: "dur-2"},
		} {
			_, err := runs.Declare(ctx, req)
			if status.Code(err) != codes.InvalidArgument {
				t.Errorf("%s: %v, want InvalidArgument", name, err)
			}
		}
		if live := w.runsWhere(func(r drillRunJSON) bool { return r.Status == "running" }); len(live) != 0 {
			t.Fatalf("refused declarations left runs: %+v", live)
		}
		unchanged("bad enums and durations")
	})
}

// TestAViewerCannotWedgeARun (issue 11, item 4): a viewer's request under the id the server
// uses to start a step is refused and remembered in the viewer's scope only; the step
// starts, the run goes on, and the leader does not spin on it.
func TestAViewerCannotWedgeARun(t *testing.T) {
	w := newDRWorld(t, 0.002)
	id := w.declare()
	runs := kirikaev1.NewRunServiceClient(dial(t, w.c, 0, "operator-vic"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, step := range []string{"checklist", "approve-region-outage", "approve-activation"} {
		if _, err := runs.Approve(ctx, &kirikaev1.ApproveRequest{RunId: id, StepId: step, Role: "executive", RequestId: "cpstart/" + id + "/" + step + "/1"}); err == nil {
			t.Fatalf("the viewer's approval of %s was accepted", step)
		}
	}
	// Each refusal is in the audit log, under the viewer's name.
	var a struct {
		Entries []struct {
			Actor, Method, Result string
			Request               json.RawMessage
		} `json:"entries"`
	}
	if err := w.c.CLIJSON("operator-admin", &a, "audit"); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, e := range a.Entries {
		if strings.HasSuffix(e.Actor, "/operator/vic") && e.Method == "run.approve" && strings.HasPrefix(e.Result, "error: ") && strings.Contains(string(e.Request), "cpstart/") {
			refused++
		}
	}
	if refused != 3 {
		t.Fatalf("%d of the viewer's 3 refused approvals are in the audit log", refused)
	}
	raftIndex := func() int64 {
		r := w.regionState()
		return int64(r.RaftIndex)
	}
	// The run waits on the checklist: nothing happens, so the log must not grow (it grew
	// by thousands of entries in ten seconds when a poisoned id made the leader retry).
	integration.WaitFor(t, 60*time.Second, "the checklist to wait for people", func() bool {
		for _, st := range w.detail(id).Steps {
			if st.ID == "checklist" {
				return st.Status == "waiting"
			}
		}
		return false
	})
	before := raftIndex()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond) // observing an idle interval, not waiting for a condition
	}
	if grew := raftIndex() - before; grew > 50 {
		t.Fatalf("the raft log grew by %d entries in 3 s while the run only waited for people", grew)
	}
	if fo := w.drive(id, 4*time.Minute, nil); fo.Status != "succeeded" {
		t.Fatalf("the run after the viewer's poisoned ids: %s %s", fo.Status, fo.Error)
	}
}

// TestAHungAgentsStepsMove (issue 11, item 6): with two agents in us-west-2, the one holding
// steps is stopped (SIGSTOP): after the grace period its steps finish on the other, and no
// AWS mutation happens twice, also once the stopped agent runs again.
func TestAHungAgentsStepsMove(t *testing.T) {
	w := newDRWorld(t, 0.01)
	second := w.c.StartAgentAs("us-west-2", "us-west-2/second", w.sim)
	integration.WaitFor(t, 60*time.Second, "two agents in us-west-2", func() bool {
		n := 0
		for _, a := range w.agents().Agents {
			if a.Info.Region == "us-west-2" && a.Connected {
				n++
			}
		}
		return n == 2
	})
	id := w.declare()
	acted := map[string]bool{}
	var holder string
	integration.WaitFor(t, 2*time.Minute, "restore-rds to run", func() bool {
		for _, st := range w.act(id, acted).Steps {
			if st.ID == "restore-rds" && st.Status == "running" {
				holder = st.AgentID
				return true
			}
		}
		return false
	})
	hung := w.west
	if holder == "us-west-2/second" {
		hung = second
	}
	hung.Signal(syscall.SIGSTOP)
	t.Cleanup(func() { hung.Signal(syscall.SIGCONT) })
	t.Logf("stopped %s, which held restore-rds", holder)
	fo := w.drive(id, 5*time.Minute, nil)
	if fo.Status != "succeeded" {
		t.Fatalf("the failover with a hung agent: %s %s", fo.Status, fo.Error)
	}
	for _, st := range fo.Steps {
		if st.ID == "restore-rds" && st.AgentID == holder {
			t.Fatalf("restore-rds finished on the hung agent %s", holder)
		}
	}
	hung.Signal(syscall.SIGCONT)
	// Let the woken agent report what it still held: its late results change nothing.
	integration.WaitFor(t, 60*time.Second, "the woken agent to report again", func() bool {
		for _, a := range w.agents().Agents {
			if a.Info.ID == holder && a.Connected {
				return true
			}
		}
		return false
	})
	if d := duplicates(w.sim.Journal(t)); len(d) > 0 {
		t.Fatalf("AWS mutations made twice: %v", d)
	}
	if fo2 := w.run(id); fo2.Status != "succeeded" {
		t.Fatalf("the run after the hung agent woke: %s", fo2.Status)
	}
}
