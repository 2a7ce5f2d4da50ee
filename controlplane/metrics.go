package controlplane

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics live in one registry per process; /metrics serves it.
var (
	registry = prometheus.NewRegistry()

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
	registry.MustRegister(metricApplySeconds, metricReadSeconds, metricWatchers,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// raftCollector exports the node's raft state at scrape time.
type raftCollector struct {
	n                                *Node
	state, term, commit, applied, ld *prometheus.Desc
}

func newRaftCollector(n *Node) *raftCollector {
	return &raftCollector{
		n:       n,
		state:   prometheus.NewDesc("kirikae_raft_state", "Raft state of this node: 0 follower, 1 candidate, 2 leader, 3 shutdown.", nil, nil),
		term:    prometheus.NewDesc("kirikae_raft_term", "Current raft term.", nil, nil),
		commit:  prometheus.NewDesc("kirikae_raft_commit_index", "Raft commit index.", nil, nil),
		applied: prometheus.NewDesc("kirikae_raft_applied_index", "Index applied to the state machine.", nil, nil),
		ld:      prometheus.NewDesc("kirikae_raft_last_contact_seconds", "Time since the leader was last heard from; 0 on the leader.", nil, nil),
	}
}

func (c *raftCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.state
	ch <- c.term
	ch <- c.commit
	ch <- c.applied
	ch <- c.ld
}

func (c *raftCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.n.raft
	ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, float64(r.State()))
	ch <- prometheus.MustNewConstMetric(c.term, prometheus.GaugeValue, float64(c.n.raft.CurrentTerm()))
	ch <- prometheus.MustNewConstMetric(c.commit, prometheus.GaugeValue, float64(r.CommitIndex()))
	ch <- prometheus.MustNewConstMetric(c.applied, prometheus.GaugeValue, float64(c.n.fsm.AppliedIndex()))
	ch <- prometheus.MustNewConstMetric(c.ld, prometheus.GaugeValue, c.n.LastContact().Seconds())
}
