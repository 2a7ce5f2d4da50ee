package controlplane

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// fsmMetrics counts what the state machine applies: runs that end, step attempts that end,
// approvals given, and results an agent refused for a stale epoch.
//
// Counting never changes the state and reads only the command and the state, so Apply stays
// deterministic. Every node counts the entries it applies, so every node's counters agree
// (aggregate them across nodes with max, not sum). Entries that were already in this node's
// log when it started are not counted again as raft replays them: they were counted by the
// process that appended them, and a restart must not look like a burst of events.
type fsmMetrics struct {
	// quietThrough is the last log index at start; set before raft starts, then only read
	// by the apply goroutine.
	quietThrough uint64

	runs      *prometheus.CounterVec
	steps     *prometheus.CounterVec
	stepTime  *prometheus.HistogramVec
	approvals *prometheus.CounterVec
	refusals  *prometheus.CounterVec
}

// stepBuckets span an approval given in seconds to a restore that takes hours.
var stepBuckets = []float64{0.01, 0.05, 0.25, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400}

func newFSMMetrics() *fsmMetrics {
	return &fsmMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kirikae_runs_finished_total",
			Help: "Runs that ended, by kind, drill (none, partial, full, tabletop) and status (succeeded, failed, aborted), as this node applied them.",
		}, []string{"kind", "drill", "status"}),
		steps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kirikae_steps_total",
			Help: "Step attempts that ended, by action and the step's status after it: succeeded, failed, retry-wait (failed, to be retried), skipped; as this node applied them.",
		}, []string{"action", "status"}),
		stepTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kirikae_step_duration_seconds",
			Help:    "Duration of step attempts that ended (succeeded or failed), by action, from the attempt's dispatch to its recorded end.",
			Buckets: stepBuckets,
		}, []string{"action"}),
		approvals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kirikae_approvals_total",
			Help: "Approvals given on approval steps, by role, as this node applied them.",
		}, []string{"role"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kirikae_fencing_refusals_total",
			Help: "Step results the state machine recorded as refused by an agent for a stale epoch (fencing), by the step's region.",
		}, []string{"region"}),
	}
}

func (m *fsmMetrics) register(reg *prometheus.Registry) {
	reg.MustRegister(m.runs, m.steps, m.stepTime, m.approvals, m.refusals)
}

// live reports whether an event at this index is to be counted.
func (m *fsmMetrics) live(index uint64) bool { return m != nil && index > m.quietThrough }

// stepEnded counts the end of a step's attempt (or its skip) with the status it left the
// step in. Callers have just set that status.
func (m *fsmMetrics) stepEnded(index uint64, st *kirikaev1.StepState, now int64) {
	if !m.live(index) {
		return
	}
	action := st.GetSpec().GetAction()
	m.steps.WithLabelValues(action, enum.Name(st.GetStatus())).Inc()
	if st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_SKIPPED && st.GetAttemptStartedUnixNano() > 0 && now >= st.GetAttemptStartedUnixNano() {
		m.stepTime.WithLabelValues(action).Observe(time.Duration(now - st.GetAttemptStartedUnixNano()).Seconds())
	}
}

func (m *fsmMetrics) runEnded(index uint64, r *kirikaev1.Run) {
	if m.live(index) {
		m.runs.WithLabelValues(enum.Name(r.GetKind()), drillName(r.GetDrill()), enum.Name(r.GetStatus())).Inc()
	}
}

func (m *fsmMetrics) approved(index uint64, role string) {
	if m.live(index) {
		m.approvals.WithLabelValues(role).Inc()
	}
}

func (m *fsmMetrics) refused(index uint64, region string) {
	if m.live(index) {
		m.refusals.WithLabelValues(region).Inc()
	}
}

// read calls fn with the state under the read lock. fn must not change or retain it.
func (f *FSM) read(fn func(*kirikaev1.State)) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fn(f.state)
}
