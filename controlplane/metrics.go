package controlplane

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/internal/promnames"
	"github.com/kirikae/kirikae/system"
)

// Metrics. Each server has its own registry (telemetry), served on its /metrics, so that
// several nodes in one process (a simulated world, a test) each export their own. Names
// follow the Prometheus conventions: counters end in _total, times are in seconds.
//
// Three kinds of series:
//   - read at scrape time from this node's replica of the state (runs, steps in flight,
//     approvals waiting, readiness, the epoch) or from this node (raft, health): every
//     node exports the same replicated values;
//   - counted as this node's state machine applies entries (fsm_metrics.go): every node
//     counts the same entries, so aggregate them across nodes with max, not sum;
//   - the leader's own soft state (agents connected, scheduled plan evaluations): only
//     the leader exports them.
//
// No label holds a run id, a step id or anything else without bound: labels are actions
// (the catalog), kinds and statuses (enums), regions, readiness check names, plan files
// the server was configured with, and roles.

// The process-wide series: in a process with several nodes they add up all of them.
var (
	metricApplySeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kirikae_raft_apply_seconds",
		Help:    "Time from proposing a command on the leader until it is applied.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	})
	metricReadSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kirikae_read_seconds",
		Help:    "Active-region read latency by consistency.",
		Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
	}, []string{"consistency"})
	metricWatchers = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kirikae_watchers",
		Help: "Open WatchActiveRegion streams on this node.",
	})
)

func init() {
	// Create both series up front so a node that has served no read still exports them.
	metricReadSeconds.WithLabelValues("linearizable")
	metricReadSeconds.WithLabelValues("stale")
}

// auditVerifyEvery is how often each node verifies the audit chain of its replica.
const auditVerifyEvery = time.Minute

// telemetry is one server's metrics: its registry, and what the background verification of
// the audit chain last found.
type telemetry struct {
	registry *prometheus.Registry

	mu    sync.Mutex
	audit auditVerdict
	rpo   systemObjectives // the stored system's objectives, parsed once per digest
}

// auditVerdict is the outcome of one verification of the audit chain.
type auditVerdict struct {
	at      time.Time // zero before the first verification
	ok      bool
	entries int
	broken  uint64 // the first broken entry's seq
	err     string
}

type systemObjectives struct {
	digest   string
	rpo, rto time.Duration
}

func newTelemetry(s *Server) *telemetry {
	t := &telemetry{registry: prometheus.NewRegistry()}
	t.registry.MustRegister(metricApplySeconds, metricReadSeconds, metricWatchers,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newRaftCollector(s.node), newStateCollector(s, t))
	s.node.fsm.metrics.register(t.registry)
	return t
}

// verifyAudit verifies the audit chain of this node's replica now and then every
// auditVerifyEvery, until ctx ends.
func (t *telemetry) verifyAudit(ctx context.Context, f *FSM) {
	for {
		t.verifyAuditOnce(f)
		select {
		case <-ctx.Done():
			return
		case <-time.After(auditVerifyEvery):
		}
	}
}

func (t *telemetry) verifyAuditOnce(f *FSM) {
	entries := f.Audit()
	seq, err := VerifyAuditChain(entries)
	v := auditVerdict{at: time.Now(), ok: err == nil, entries: len(entries), broken: seq}
	if err != nil {
		v.err = err.Error()
	}
	t.mu.Lock()
	t.audit = v
	t.mu.Unlock()
}

// objectives returns the stored system's RPO and RTO, parsing its YAML only when its digest
// changed. ok is false when no system is stored or it does not parse.
func (t *telemetry) objectives(rec *kirikaev1.SystemRecord) (rpo, rto time.Duration, ok bool) {
	if rec == nil {
		return 0, 0, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rpo.digest != rec.GetDigest() {
		t.rpo = systemObjectives{digest: rec.GetDigest()}
		if sys, err := system.Parse(cmpOr(rec.GetSourceFile(), "system.yaml"), rec.GetYaml()); err == nil {
			t.rpo.rpo, t.rpo.rto = sys.Objectives.RPO, sys.Objectives.RTO
		}
	}
	return t.rpo.rpo, t.rpo.rto, t.rpo.rpo > 0 || t.rpo.rto > 0
}

// raftCollector exports the node's raft state at scrape time.
type raftCollector struct {
	n                                                    *Node
	state, term, commit, applied, ld, voters, quorum, ok *prometheus.Desc
}

func newRaftCollector(n *Node) *raftCollector {
	return &raftCollector{
		n:       n,
		state:   prometheus.NewDesc("kirikae_raft_state", "Raft state of this node: 0 follower, 1 candidate, 2 leader, 3 shutdown.", nil, nil),
		term:    prometheus.NewDesc("kirikae_raft_term", "Current raft term.", nil, nil),
		commit:  prometheus.NewDesc("kirikae_raft_commit_index", "Raft commit index.", nil, nil),
		applied: prometheus.NewDesc("kirikae_raft_applied_index", "Index applied to the state machine.", nil, nil),
		ld:      prometheus.NewDesc("kirikae_raft_last_contact_seconds", "Time since the leader was last heard from; 0 on the leader.", nil, nil),
		voters:  prometheus.NewDesc("kirikae_raft_voters", "Voting members in this node's raft configuration.", nil, nil),
		quorum:  prometheus.NewDesc("kirikae_raft_quorum", "Voters needed for a quorum: half the voters plus one.", nil, nil),
		ok: prometheus.NewDesc("kirikae_node_healthy",
			"1 while this node knows a leader that a quorum follows (gRPC health SERVING, /healthz 200), else 0.", nil, nil),
	}
}

func (c *raftCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.state, c.term, c.commit, c.applied, c.ld, c.voters, c.quorum, c.ok} {
		ch <- d
	}
}

func (c *raftCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.n.raft
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	gauge(c.state, float64(r.State()))
	gauge(c.term, float64(r.CurrentTerm()))
	gauge(c.commit, float64(r.CommitIndex()))
	gauge(c.applied, float64(c.n.fsm.AppliedIndex()))
	gauge(c.ld, c.n.LastContact().Seconds())
	if servers, err := c.n.Servers(); err == nil {
		voters := 0
		for _, s := range servers {
			if s.Suffrage == raft.Voter {
				voters++
			}
		}
		gauge(c.voters, float64(voters))
		gauge(c.quorum, float64(voters/2+1))
	}
	gauge(c.ok, b2f(c.n.Health().Serving()))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// stateCollector exports, at scrape time, what this node's replica holds about runs,
// steps, approvals, readiness and the region pair, and what the leader alone knows: the
// agents connected to it and its scheduled plan evaluations.
type stateCollector struct {
	s *Server
	t *telemetry

	runs, inFlight, overdue, waiting, oldestWait        *prometheus.Desc
	epoch, active, mode                                 *prometheus.Desc
	ready, check, age, reported, rpo, rto               *prometheus.Desc
	agents, agentsHealthy                               *prometheus.Desc
	findings, unchecked, evaluated                      *prometheus.Desc
	auditOK, auditAt, auditEntries, auditBrokenSequence *prometheus.Desc
}

func newStateCollector(s *Server, t *telemetry) *stateCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &stateCollector{s: s, t: t,
		runs:     d("kirikae_runs", "Active runs (running or paused) by kind, drill (none, partial, full) and status.", "kind", "drill", "status"),
		inFlight: d("kirikae_steps_in_flight", "Steps of active runs that an agent or the control plane holds now (dispatched, running, or waiting for people), by action.", "action"),
		overdue: d("kirikae_steps_overdue",
			"Steps held past their timeout_ms, by action. The leader fails a step once it times out, so one that stays overdue means the orchestrator is not running (no leader) or cannot record it.", "action"),
		waiting:    d("kirikae_approvals_waiting", "Approval and checklist steps waiting for people, by action.", "action"),
		oldestWait: d("kirikae_approval_oldest_waiting_seconds", "How long the approval or checklist step waiting longest has waited; 0 when none waits."),
		epoch:      d("kirikae_epoch", "The fencing epoch: it goes up by one each time the active region moves."),
		active:     d("kirikae_region_active", "1 for the region that is active, 0 for the other of the pair.", "region"),
		mode:       d("kirikae_region_mode", "1 for the pair's current mode (normal, failing-over, failed-over, cutting-back).", "mode"),
		ready: d("kirikae_region_ready",
			"1 when the agents' latest readiness checks of the region all pass (warnings allowed), else 0; plan-evaluation findings are kirikae_plan_evaluation_findings.", "region"),
		check: d("kirikae_readiness_check_status",
			"Latest readiness result by region and check: 1 ok, 2 warn, 3 fail (the worst of the region's agents).", "region", "check"),
		age: d("kirikae_readiness_observed_age_seconds",
			"Age measured by an age check (the newest snapshot or backup copy), by region and check: the data a failover would lose.", "region", "check"),
		reported: d("kirikae_readiness_reported_timestamp_seconds", "When the region's newest readiness report was recorded (Unix time).", "region"),
		rpo:      d("kirikae_system_rpo_seconds", "The stored system's recovery point objective (objectives.rpo)."),
		rto:      d("kirikae_system_rto_seconds", "The stored system's recovery time objective (objectives.rto)."),
		agents: d("kirikae_agents_connected",
			"Agents connected to this node by region. Exported by the leader only: agents connect to the leader.", "region"),
		agentsHealthy: d("kirikae_agents_healthy",
			"Connected agents whose latest heartbeat says healthy, by region. Exported by the leader only.", "region"),
		findings: d("kirikae_plan_evaluation_findings",
			"Findings of the latest scheduled evaluation of each plan (--evaluate-plan). Exported by the leader only.", "plan"),
		unchecked: d("kirikae_plan_evaluation_unchecked_steps",
			"Steps the latest scheduled evaluation of each plan could not check. Exported by the leader only.", "plan"),
		evaluated: d("kirikae_plan_evaluation_timestamp_seconds",
			"When each plan was last evaluated on schedule (Unix time). Exported by the leader only.", "plan"),
		auditOK: d("kirikae_audit_chain_ok",
			"1 when the last verification of this node's audit chain found every entry's sequence and hash chain intact, else 0."),
		auditAt:             d("kirikae_audit_chain_verified_timestamp_seconds", "When this node last verified its audit chain (Unix time)."),
		auditEntries:        d("kirikae_audit_entries", "Audit entries the last verification covered."),
		auditBrokenSequence: d("kirikae_audit_chain_broken_sequence", "The seq of the first broken audit entry the last verification found; 0 when intact."),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.runs, c.inFlight, c.overdue, c.waiting, c.oldestWait, c.epoch, c.active, c.mode,
		c.ready, c.check, c.age, c.reported, c.rpo, c.rto, c.agents, c.agentsHealthy, c.findings, c.unchecked, c.evaluated,
		c.auditOK, c.auditAt, c.auditEntries, c.auditBrokenSequence} {
		ch <- d
	}
}

type runKey struct{ kind, drill, status string }

// drillName is a run's drill label: none for a real run.
func drillName(d kirikaev1.DrillKind) string {
	if d == kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED {
		return "none"
	}
	return enum.Name(d)
}

// stateSample is what one scrape reads from the replica, under its read lock.
type stateSample struct {
	runs              map[runKey]int
	inFlight, overdue map[string]int
	waiting           map[string]int
	oldestWait        time.Duration
	region            *kirikaev1.RegionState
	initialized       bool
	readiness         []*kirikaev1.RegionReadiness
	system            *kirikaev1.SystemRecord
	agentRegions      []string
}

func (c *stateCollector) sample(now time.Time) stateSample {
	sm := stateSample{runs: map[runKey]int{}, inFlight: map[string]int{}, overdue: map[string]int{},
		waiting: map[string]int{catalog.Approval.Name: 0, catalog.Checklist.Name: 0}}
	// Zero series for the runs an alert or a dashboard looks for, so they exist before any run.
	for _, k := range []kirikaev1.RunKind{kirikaev1.RunKind_RUN_KIND_FAILOVER, kirikaev1.RunKind_RUN_KIND_CUTBACK} {
		for _, st := range []kirikaev1.RunStatus{kirikaev1.RunStatus_RUN_STATUS_RUNNING, kirikaev1.RunStatus_RUN_STATUS_PAUSED} {
			sm.runs[runKey{enum.Name(k), "none", enum.Name(st)}] = 0
		}
	}
	c.s.node.fsm.read(func(st *kirikaev1.State) {
		sm.region, sm.initialized, sm.system = st.GetRegion(), st.GetInitialized(), st.GetSystem()
		for _, r := range st.GetRuns() {
			if !runActive(r) {
				continue
			}
			sm.runs[runKey{enum.Name(r.GetKind()), drillName(r.GetDrill()), enum.Name(r.GetStatus())}]++
			for _, step := range r.GetSteps() {
				action := step.GetSpec().GetAction()
				switch step.GetStatus() {
				case kirikaev1.StepStatus_STEP_STATUS_DISPATCHED, kirikaev1.StepStatus_STEP_STATUS_RUNNING, kirikaev1.StepStatus_STEP_STATUS_WAITING:
				default:
					continue
				}
				sm.inFlight[action]++
				held := now.Sub(time.Unix(0, step.GetAttemptStartedUnixNano()))
				if t := step.GetSpec().GetTimeoutMs(); t > 0 && step.GetAttemptStartedUnixNano() > 0 && held > time.Duration(t)*time.Millisecond {
					sm.overdue[action]++
				}
				if step.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_WAITING {
					sm.waiting[action]++
					if step.GetAttemptStartedUnixNano() > 0 {
						sm.oldestWait = max(sm.oldestWait, held)
					}
				}
			}
		}
		// RollUpReadiness only reads the reports; the state machine replaces a report
		// rather than changing it, so what it keeps stays valid after the lock.
		sm.readiness = RollUpReadiness(st.GetRegion(), st.GetReadiness(), "")
		for _, a := range st.GetAgents() {
			if !slices.Contains(sm.agentRegions, a.GetRegion()) {
				sm.agentRegions = append(sm.agentRegions, a.GetRegion())
			}
		}
	})
	return sm
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	sm := c.sample(now)
	for k, n := range sm.runs {
		gauge(c.runs, float64(n), k.kind, k.drill, k.status)
	}
	for a, n := range sm.inFlight {
		gauge(c.inFlight, float64(n), a)
	}
	for a, n := range sm.overdue {
		gauge(c.overdue, float64(n), a)
	}
	for a, n := range sm.waiting {
		gauge(c.waiting, float64(n), a)
	}
	gauge(c.oldestWait, sm.oldestWait.Seconds())

	var pair []string
	if sm.initialized && sm.region != nil {
		gauge(c.epoch, float64(sm.region.GetEpoch()))
		pair = []string{sm.region.GetPrimary(), sm.region.GetSecondary()}
		for _, r := range pair {
			gauge(c.active, b2f(r == sm.region.GetActive()), r)
		}
		gauge(c.mode, 1, enum.Name(sm.region.GetMode()))
	}
	for _, rr := range sm.readiness {
		region := rr.GetRegion()
		gauge(c.ready, b2f(rr.GetReady()), region)
		worst := map[string]kirikaev1.ReadinessStatus{}
		ages := map[string]time.Duration{}
		var newest int64
		for _, rep := range rr.GetReports() {
			newest = max(newest, rep.GetReportedUnixNano())
			for _, chk := range rep.GetChecks() {
				worst[chk.GetName()] = max(worst[chk.GetName()], chk.GetStatus())
				if strings.HasSuffix(chk.GetName(), "-age") {
					if d, err := time.ParseDuration(chk.GetObserved()); err == nil {
						ages[chk.GetName()] = max(ages[chk.GetName()], d)
					}
				}
			}
		}
		for name, st := range worst {
			gauge(c.check, float64(st), region, name)
		}
		for name, d := range ages {
			gauge(c.age, d.Seconds(), region, name)
		}
		if newest > 0 {
			gauge(c.reported, float64(newest)/1e9, region)
		}
	}
	if rpo, rto, ok := c.t.objectives(sm.system); ok {
		gauge(c.rpo, rpo.Seconds())
		gauge(c.rto, rto.Seconds())
	}

	if c.s.node.IsLeader() {
		regions := slices.Clone(pair)
		for _, r := range sm.agentRegions {
			if !slices.Contains(regions, r) {
				regions = append(regions, r)
			}
		}
		connected, healthy := map[string]int{}, map[string]int{}
		for _, conn := range c.s.hub.snapshot() {
			r := conn.info.GetRegion()
			if !slices.Contains(regions, r) {
				regions = append(regions, r)
			}
			connected[r]++
			if conn.healthy(now) {
				healthy[r]++
			}
		}
		for _, r := range regions {
			gauge(c.agents, float64(connected[r]), r)
			gauge(c.agentsHealthy, float64(healthy[r]), r)
		}
		for _, ev := range c.s.scheduled.list() {
			plan := cmpOr(ev.GetPlanFile(), ev.GetPlanName())
			unchecked := 0
			for _, u := range ev.GetUnchecked() {
				unchecked += max(len(u.GetSteps()), 1) // a region left out whole counts once
			}
			gauge(c.findings, float64(len(ev.GetFindings())), plan)
			gauge(c.unchecked, float64(unchecked), plan)
			gauge(c.evaluated, float64(ev.GetEvaluatedUnixNano())/1e9, plan)
		}
	}

	c.t.mu.Lock()
	v := c.t.audit
	c.t.mu.Unlock()
	if !v.at.IsZero() {
		gauge(c.auditOK, b2f(v.ok))
		gauge(c.auditAt, float64(v.at.UnixNano())/1e9)
		gauge(c.auditEntries, float64(v.entries))
		gauge(c.auditBrokenSequence, float64(v.broken))
	}
}

// MetricNames lists every metric family a server's /metrics can export (a histogram by its
// base name), whether or not it has a series yet, for checking what dashboards and alert
// rules ask for.
func MetricNames() []string {
	s := &Server{node: &Node{fsm: NewFSM()}, hub: newAgentHub(), scheduled: &schedule{}}
	return promnames.Described(newTelemetry(s).registry)
}
