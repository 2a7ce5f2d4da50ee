package simworld

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/controlplane"
	"github.com/kirikae/kirikae/deploy"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// TestMetricsOfAFailover drives the bundled failover in a simulated world with its primary
// down, then reads /metrics of the control-plane leader and of the DR agent (served on
// the agent's --http-addr) and holds every counter to what the run itself recorded: steps
// by action and status, attempts timed, approvals by role, the run, the epoch, the agents
// and their health. A follower's state-machine counters equal the leader's.
func TestMetricsOfAFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole failover in a simulated world")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel) // after the world is closed
	w, primary, dr := startOutage(ctx, t, Options{TimeScale: 0.002, People: "metrics"})
	src, err := deploy.Plan("kaigo-failover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	decl, err := kirikaev1.NewRunServiceClient(w.Conn(w.Operator("sysadmin"))).Declare(ctx, &kirikaev1.DeclareRequest{
		PlanSource: src, Scenario: "region-outage", ExpectedOutageMs: (6 * time.Hour).Milliseconds(), Reason: "metrics test",
		Params:    map[string]string{"APP_URL": "http://" + w.Sim().Addr() + "/_app/dns/" + w.System().DNS.Record, "ALLOW_DATA_LOSS": "true"},
		RequestId: "metrics-declare"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := w.Follow(ctx, decl.GetRun().GetId(), FollowOptions{HurryRetries: true})
	if err != nil {
		t.Fatal(err)
	}
	if run.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED || run.GetEpochAfter() != 2 {
		t.Fatalf("failover %s ended %v at epoch %d: %s", run.GetId(), run.GetStatus(), run.GetEpochAfter(), run.GetError())
	}

	// What the run recorded, to hold the counters to.
	succeeded := map[string]float64{}                  // by action
	failedAttempts := map[string]float64{}             // by action: attempts that failed before the one that succeeded
	timed := map[string]float64{}                      // by action: attempts that ended
	drSucceeded, drFailed := map[string]float64{}, 0.0 // agent steps of the DR region
	approvals := map[string]float64{}                  // by role
	agentSteps := 0
	for _, st := range run.GetSteps() {
		a := st.GetSpec().GetAction()
		if st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED {
			t.Fatalf("step %s is %v", st.GetId(), st.GetStatus())
		}
		succeeded[a]++
		failedAttempts[a] += float64(st.GetAttempt() - 1)
		timed[a] += float64(st.GetAttempt())
		if st.GetSpec().GetRegion() == dr {
			drSucceeded[a]++
			drFailed += float64(st.GetAttempt() - 1)
			agentSteps++
		}
		for _, ap := range st.GetApprovals() {
			approvals[ap.GetRole()]++
		}
	}
	if agentSteps < 10 || len(approvals) < 2 {
		t.Fatalf("the failover ran %d agent steps and approvals by %v; the bundled plan has more", agentSteps, approvals)
	}

	leader, follower := w.leaderAndFollower(t)
	cp := scrape(t, "http://"+leader.HTTPAddr+"/metrics")
	dra := w.agents[dr]
	if dra.HTTPAddr() == "" {
		t.Fatal("the DR agent serves no /metrics")
	}
	ag := scrape(t, "http://"+dra.HTTPAddr()+"/metrics")

	// The control-plane leader.
	for a, n := range succeeded {
		cp.want(t, n, "kirikae_steps_total", "action", a, "status", "succeeded")
		cp.want(t, failedAttempts[a], "kirikae_steps_total", "action", a, "status", "retry-wait")
		cp.want(t, timed[a], "kirikae_step_duration_seconds_count", "action", a)
	}
	cp.wantSum(t, float64(len(run.GetSteps())), "kirikae_steps_total", "status", "succeeded")
	cp.wantSum(t, 0, "kirikae_steps_total", "status", "failed")
	for role, n := range approvals {
		cp.want(t, n, "kirikae_approvals_total", "role", role)
	}
	cp.want(t, 1, "kirikae_runs_finished_total", "kind", "failover", "drill", "none", "status", "succeeded")
	cp.want(t, 0, "kirikae_runs", "kind", "failover", "drill", "none", "status", "running")
	cp.want(t, 0, "kirikae_approvals_waiting", "action", "approval")
	cp.want(t, 0, "kirikae_approval_oldest_waiting_seconds")
	cp.wantSum(t, 0, "kirikae_steps_in_flight")
	cp.want(t, 2, "kirikae_epoch")
	cp.want(t, 1, "kirikae_region_active", "region", dr)
	cp.want(t, 0, "kirikae_region_active", "region", primary)
	cp.want(t, 1, "kirikae_region_mode", "mode", "failed-over")
	cp.want(t, 1, "kirikae_agents_connected", "region", dr)
	cp.want(t, 1, "kirikae_agents_healthy", "region", dr)
	cp.want(t, 1, "kirikae_agents_connected", "region", primary)
	cp.want(t, 0, "kirikae_agents_healthy", "region", primary)
	cp.want(t, 0, "kirikae_fencing_refusals_total") // no series: nothing was refused
	cp.want(t, 1, "kirikae_node_healthy")
	cp.want(t, 3, "kirikae_raft_voters")
	cp.want(t, 2, "kirikae_raft_quorum")
	cp.want(t, 1, "kirikae_audit_chain_ok")
	cp.want(t, time.Hour.Seconds(), "kirikae_system_rpo_seconds")

	// The DR agent: the same steps, counted where they ran.
	for a, n := range drSucceeded {
		ag.want(t, n, "kirikae_agent_steps_total", "region", dr, "action", a, "status", "succeeded")
	}
	ag.wantSum(t, float64(agentSteps), "kirikae_agent_steps_total", "status", "succeeded")
	ag.wantSum(t, drFailed, "kirikae_agent_steps_total", "status", "failed")
	ag.wantSum(t, float64(agentSteps)+drFailed, "kirikae_agent_step_duration_seconds_count")
	ag.want(t, 2, "kirikae_agent_epoch", "region", dr)
	ag.want(t, 1, "kirikae_agent_connected", "region", dr)
	ag.want(t, 1, "kirikae_agent_healthy", "region", dr)
	ag.want(t, 0, "kirikae_agent_fencing_refusals_total", "region", dr)
	ag.want(t, 0, "kirikae_agent_steps_running", "region", dr)

	// The primary's agent: connected, its region down, and its failed AWS calls counted.
	pa := scrape(t, "http://"+w.agents[primary].HTTPAddr()+"/metrics")
	pa.want(t, 0, "kirikae_agent_healthy", "region", primary)
	if n := pa.sum("kirikae_agent_aws_errors_total"); n == 0 {
		t.Errorf("the %s agent counted no failed AWS call while its region refused every one", primary)
	}

	// /healthz: the leader and the DR agent serve; the primary's agent says why it does not.
	for _, c := range []struct {
		url, status string
		code        int
	}{
		{"http://" + leader.HTTPAddr + "/healthz", "ok", http.StatusOK},
		{"http://" + dra.HTTPAddr() + "/healthz", "ok", http.StatusOK},
		{"http://" + w.agents[primary].HTTPAddr() + "/healthz", "region " + primary + " unhealthy: ", http.StatusServiceUnavailable},
	} {
		code, body := get(t, c.url)
		var h struct{ Status string }
		if err := json.Unmarshal(body, &h); err != nil || code != c.code || !strings.HasPrefix(h.Status, c.status) {
			t.Errorf("GET %s: %d %s, want %d and status %q…", c.url, code, body, c.code, c.status)
		}
	}

	// Every node counts what it applies: a follower's counters are the leader's.
	deadline := time.Now().Add(20 * time.Second)
	for {
		fm := scrape(t, "http://"+follower.HTTPAddr+"/metrics")
		diff := ""
		for _, name := range []string{"kirikae_steps_total", "kirikae_approvals_total", "kirikae_runs_finished_total", "kirikae_step_duration_seconds_count"} {
			if !maps.Equal(fm.family(name), cp.family(name)) {
				diff = fmt.Sprintf("%s: follower %v, leader %v", name, fm.family(name), cp.family(name))
			}
		}
		if diff == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(diff)
		}
		time.Sleep(100 * time.Millisecond) // polling interval
	}
}

// leaderAndFollower returns the world's leader and one follower.
func (w *World) leaderAndFollower(t *testing.T) (leader, follower *controlplane.Instance) {
	t.Helper()
	for _, n := range w.nodes {
		if n.Node.IsLeader() {
			leader = n
		} else if follower == nil {
			follower = n
		}
	}
	if leader == nil || follower == nil {
		t.Fatal("the world has no leader, or no follower")
	}
	return leader, follower
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// samples are the series of one scrape, by name and then by their labels rendered as
// name="value" pairs in order.
type samples map[string]map[string]float64

// scrape reads a Prometheus text exposition. It understands what client_golang writes:
// one sample a line, label values without commas or escaped quotes.
func scrape(t *testing.T, url string) samples {
	t.Helper()
	code, body := get(t, url)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d", url, code)
	}
	out := samples{}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", url, line, err)
		}
		name, labels, _ := strings.Cut(line[:i], "{")
		labels = strings.TrimSuffix(labels, "}")
		if out[name] == nil {
			out[name] = map[string]float64{}
		}
		out[name][labels] = v
	}
	return out
}

// family is every series of name.
func (s samples) family(name string) map[string]float64 { return s[name] }

// match reports whether a series' labels hold every pair of kv.
func match(labels string, kv []string) bool {
	have := strings.Split(labels, ",")
	for i := 0; i+1 < len(kv); i += 2 {
		if !slices.Contains(have, kv[i]+`="`+kv[i+1]+`"`) {
			return false
		}
	}
	return true
}

// sum adds up the series of name whose labels hold kv.
func (s samples) sum(name string, kv ...string) float64 {
	total := 0.0
	for labels, v := range s[name] {
		if match(labels, kv) {
			total += v
		}
	}
	return total
}

// want checks the one series of name with labels kv (0 when there is none).
func (s samples) want(t *testing.T, v float64, name string, kv ...string) {
	t.Helper()
	n := 0
	for labels := range s[name] {
		if match(labels, kv) {
			n++
		}
	}
	if n > 1 {
		t.Errorf("%s%v: %d series, want one", name, kv, n)
		return
	}
	if got := s.sum(name, kv...); got != v {
		t.Errorf("%s%v = %g, want %g", name, kv, got, v)
	}
}

// wantSum checks the sum of the series of name whose labels hold kv.
func (s samples) wantSum(t *testing.T, v float64, name string, kv ...string) {
	t.Helper()
	if got := s.sum(name, kv...); got != v {
		t.Errorf("sum(%s%v) = %g, want %g", name, kv, got, v)
	}
}
