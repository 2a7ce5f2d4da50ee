package controlplane

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
)

// failoverScript applies a failover whose agent step fails once, is refused once for a
// stale epoch, and then succeeds; the run ends with the region activated.
func failoverScript(r *runFSM) {
	build := &kirikaev1.StepState{Id: "build", Spec: spec("aws.rds.restoreSnapshot", "us-west-2")}
	build.Spec.Retries = 2
	r.ok("op", failoverRun("r1", outageApproval(), build,
		&kirikaev1.StepState{Id: "activate", Spec: spec("region.activate", "control-plane", "build", "approve")}))
	r.approveAll("r1", "approve")
	r.ok("srv", dispatched("r1", "build", 1))
	r.ok("srv", result("r1", "build", 1, false))
	r.ok("srv", dispatched("r1", "build", 2))
	refused := result("r1", "build", 2, false)
	refused.GetStepResult().Refused, refused.GetStepResult().Error = true, "stale epoch 1 < 2"
	r.ok("srv", refused)
	r.ok("srv", dispatched("r1", "build", 3))
	r.ok("srv", result("r1", "build", 3, true))
	r.ok("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{RunId: "r1", StepId: "activate", Start: true}}})
	r.ok("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{RunId: "r1", StepId: "activate", Attempt: 1, Ok: true, ActivateRegion: "us-west-2"}}})
}

// TestFSMCountsWhatItApplies: the state machine counts each step attempt by the status it
// left the step in, times them, counts approvals by role, the run that ended and the
// refused result; a node that replays entries already in its log at start counts only
// those after them.
func TestFSMCountsWhatItApplies(t *testing.T) {
	r := newRunFSM(t)
	failoverScript(r)
	m := r.f.metrics
	for _, c := range []struct {
		got  float64
		want float64
		what string
	}{
		{value(t, m.steps.WithLabelValues("aws.rds.restoreSnapshot", "retry-wait")), 2, "build retried"},
		{value(t, m.steps.WithLabelValues("aws.rds.restoreSnapshot", "succeeded")), 1, "build succeeded"},
		{value(t, m.steps.WithLabelValues("approval", "succeeded")), 1, "approval succeeded"},
		{value(t, m.steps.WithLabelValues("region.activate", "succeeded")), 1, "activate succeeded"},
		{float64(count(t, m.steps)), 4, "step series"},
		{value(t, m.approvals.WithLabelValues("sysadmin")), 1, "sysadmin approvals"},
		{value(t, m.approvals.WithLabelValues("executive")), 1, "executive approvals"},
		{value(t, m.runs.WithLabelValues("failover", "none", "succeeded")), 1, "runs finished"},
		{value(t, m.refusals.WithLabelValues("us-west-2")), 1, "fencing refusals"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %g, want %g", c.what, c.got, c.want)
		}
	}
	// Three attempts of build, each from its dispatch to its result: 1 s apart in this FSM.
	h := histogram(t, m.stepTime.WithLabelValues("aws.rds.restoreSnapshot").(interface{ Write(*dto.Metric) error }))
	if h.GetSampleCount() != 3 || h.GetSampleSum() != 3 {
		t.Errorf("build durations: %d attempts, %g s; want 3 attempts of 1 s", h.GetSampleCount(), h.GetSampleSum())
	}

	// A restarted node whose log held everything but the activation's two entries.
	replay := &runFSM{t: t, f: NewFSM()}
	replay.f.metrics.quietThrough = r.idx - 2
	replay.apply("admin", &kirikaev1.Command{Payload: &kirikaev1.Command_InitRegion{InitRegion: &kirikaev1.InitRegionRequest{Primary: "us-east-1", Secondary: "us-west-2"}}})
	failoverScript(replay)
	if replay.idx != r.idx {
		t.Fatalf("replayed %d entries, want %d", replay.idx, r.idx)
	}
	rm := replay.f.metrics
	if got := count(t, rm.steps); got != 1 || value(t, rm.steps.WithLabelValues("region.activate", "succeeded")) != 1 {
		t.Errorf("after a replay: %d step series, want only the activation's", got)
	}
	if value(t, rm.runs.WithLabelValues("failover", "none", "succeeded")) != 1 || count(t, rm.approvals) != 0 || count(t, rm.refusals) != 0 {
		t.Error("after a replay: the run's end counts, the replayed approvals and refusal do not")
	}
}

// value is a counter's value.
func value(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// count is the number of series a collector has.
func count(t *testing.T, c prometheus.Collector) int {
	t.Helper()
	ch := make(chan prometheus.Metric)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	n := 0
	for range ch {
		n++
	}
	return n
}

func histogram(t *testing.T, m interface{ Write(*dto.Metric) error }) *dto.Histogram {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.GetHistogram()
}

// testLeader is a one-node raft cluster that leads, without the orchestrator: what the
// test applies stays as it applied it.
func testLeader(t *testing.T) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	layer, err := security.NewPlainStreamLayer(ln, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNode(NodeConfig{ID: "n1", DataDir: t.TempDir(), Layer: layer, Bootstrap: true,
		Timeouts: RaftTimeouts{Heartbeat: 50 * time.Millisecond, Election: 50 * time.Millisecond, LeaderLease: 50 * time.Millisecond, Commit: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for !n.IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("no leader")
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	return NewServer(n, nil, nil)
}

// gauge is the value of the one series of name with labels kv, and whether there is one.
func gauge(t *testing.T, s *Server, name string, kv ...string) (float64, bool) {
	t.Helper()
	fams, err := s.telemetry.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(kv); i += 2 {
				if have[kv[i]] != kv[i+1] {
					continue series
				}
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue(), true
			}
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// TestMetricsReadFromTheReplica: readiness per check and region with the observed age,
// a region that fails a check not ready and one that warns ready, a step held past its
// timeout overdue, an approval waiting and how long, the active run, the epoch and the
// active region, the agents of the pair on the leader, node health; the audit chain
// verifies, and a tampered entry is reported with its seq. The names pass promlint.
func TestMetricsReadFromTheReplica(t *testing.T) {
	s := testLeader(t)
	ctx := context.Background()
	apply := func(actor string, cmd *kirikaev1.Command) {
		t.Helper()
		cmd.Actor, cmd.TimeUnixNano = actor, time.Now().UnixNano()
		cmd.CallerRoles = []string{"admin", "operator", "viewer"}
		res, _, err := s.node.ApplyLocal(ctx, cmd)
		if err != nil || res.GetError() != "" {
			t.Fatalf("%T: %v %s", cmd.GetPayload(), err, res.GetError())
		}
	}
	apply("spiffe://kirikae/operator/admin", &kirikaev1.Command{Payload: &kirikaev1.Command_InitRegion{InitRegion: &kirikaev1.InitRegionRequest{Primary: "us-east-1", Secondary: "us-west-2"}}})
	for _, rep := range []*kirikaev1.ReadinessReport{
		{AgentId: "w1", Region: "us-west-2", ReportedUnixNano: 2e9, Checks: []*kirikaev1.ReadinessCheck{
			{Name: "rds.snapshot-copy-age", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL, Observed: "25h0m0s"},
			{Name: "ecs.cluster", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_OK, Observed: "ACTIVE"}}},
		{AgentId: "w2", Region: "us-west-2", ReportedUnixNano: 3e9, Checks: []*kirikaev1.ReadinessCheck{
			{Name: "rds.snapshot-copy-age", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_OK, Observed: "30m0s"},
			{Name: "ecs.cluster", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_WARN, Observed: "ACTIVE"}}},
		{AgentId: "e1", Region: "us-east-1", ReportedUnixNano: 1e9, Checks: []*kirikaev1.ReadinessCheck{
			{Name: "ecs.cluster", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_WARN, Observed: "ACTIVE"}}},
	} {
		apply("spiffe://kirikae/agent/"+rep.GetRegion(), &kirikaev1.Command{Payload: &kirikaev1.Command_RecordReadiness{RecordReadiness: rep}})
	}
	build := &kirikaev1.StepState{Id: "build", Spec: spec("aws.rds.restoreSnapshot", "us-west-2")}
	build.Spec.TimeoutMs = 1
	apply("spiffe://kirikae/operator/op", failoverRun("r1", outageApproval(), build))
	apply("spiffe://kirikae/server/n1", &kirikaev1.Command{Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{RunId: "r1", StepId: "approve", Start: true}}})
	apply("spiffe://kirikae/server/n1", dispatched("r1", "build", 1))
	time.Sleep(20 * time.Millisecond) // past build's 1 ms timeout, and some wait for the approval

	for _, c := range []struct {
		want float64
		name string
		kv   []string
	}{
		{3, "kirikae_readiness_check_status", []string{"region", "us-west-2", "check", "rds.snapshot-copy-age"}},
		{2, "kirikae_readiness_check_status", []string{"region", "us-west-2", "check", "ecs.cluster"}},
		{25 * 3600, "kirikae_readiness_observed_age_seconds", []string{"region", "us-west-2", "check", "rds.snapshot-copy-age"}},
		{3, "kirikae_readiness_reported_timestamp_seconds", []string{"region", "us-west-2"}},
		{0, "kirikae_region_ready", []string{"region", "us-west-2"}},
		{1, "kirikae_region_ready", []string{"region", "us-east-1"}},
		{1, "kirikae_steps_overdue", []string{"action", "aws.rds.restoreSnapshot"}},
		{1, "kirikae_steps_in_flight", []string{"action", "aws.rds.restoreSnapshot"}},
		{1, "kirikae_steps_in_flight", []string{"action", "approval"}},
		{1, "kirikae_approvals_waiting", []string{"action", "approval"}},
		{0, "kirikae_approvals_waiting", []string{"action", "checklist"}},
		{1, "kirikae_runs", []string{"kind", "failover", "drill", "none", "status", "running"}},
		{0, "kirikae_runs", []string{"kind", "cutback", "drill", "none", "status", "paused"}},
		{1, "kirikae_epoch", nil},
		{1, "kirikae_region_active", []string{"region", "us-east-1"}},
		{0, "kirikae_region_active", []string{"region", "us-west-2"}},
		{1, "kirikae_region_mode", []string{"mode", "failing-over"}},
		{0, "kirikae_agents_connected", []string{"region", "us-west-2"}},
		{1, "kirikae_node_healthy", nil},
		{1, "kirikae_raft_voters", nil},
		{1, "kirikae_raft_quorum", nil},
	} {
		if got, ok := gauge(t, s, c.name, c.kv...); !ok || got != c.want {
			t.Errorf("%s%v = %g (present %v), want %g", c.name, c.kv, got, ok, c.want)
		}
	}
	if got, _ := gauge(t, s, "kirikae_approval_oldest_waiting_seconds"); got < 0.02 || got > 60 {
		t.Errorf("oldest approval wait %g s", got)
	}
	if _, ok := gauge(t, s, "kirikae_audit_chain_ok"); ok {
		t.Error("an audit verdict before any verification")
	}

	s.telemetry.verifyAuditOnce(s.node.fsm)
	if ok, _ := gauge(t, s, "kirikae_audit_chain_ok"); ok != 1 {
		t.Fatal("the audit chain of an untouched replica does not verify")
	}
	entries, _ := gauge(t, s, "kirikae_audit_entries")
	s.node.fsm.mu.Lock()
	s.node.fsm.state.Audit[2].Actor = "spiffe://kirikae/operator/mallory"
	s.node.fsm.mu.Unlock()
	s.telemetry.verifyAuditOnce(s.node.fsm)
	ok, _ := gauge(t, s, "kirikae_audit_chain_ok")
	seq, _ := gauge(t, s, "kirikae_audit_chain_broken_sequence")
	if ok != 0 || seq != 3 || entries < 5 {
		t.Errorf("after tampering with entry 3 of %g: ok %g, broken at %g", entries, ok, seq)
	}

	fams, err := s.telemetry.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(fams).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "kirikae_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
}
