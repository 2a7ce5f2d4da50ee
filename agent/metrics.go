package agent

import (
	"context"
	"errors"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kirikae/kirikae/internal/promnames"
)

// agentMetrics is one agent's metrics registry, served on its /metrics (http.go). Every
// series carries the agent's region as a constant label. Names follow the Prometheus
// conventions: counters end in _total, times are in seconds. No label holds a run or step
// id: labels are actions (the catalog), outcomes, AWS services, operations and error codes.
type agentMetrics struct {
	registry  *prometheus.Registry
	steps     *prometheus.CounterVec
	stepTime  *prometheus.HistogramVec
	refusals  prometheus.Counter
	awsErrors *prometheus.CounterVec
}

// Step outcomes, the status label of kirikae_agent_steps_total.
const (
	outcomeSucceeded = "succeeded"
	outcomeFailed    = "failed"
	outcomeCancelled = "cancelled"
	outcomeTimedOut  = "timed-out"
)

// stepBuckets span a quick check to a restore that takes hours.
var stepBuckets = []float64{0.01, 0.05, 0.25, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400}

func newAgentMetrics(a *Agent) *agentMetrics {
	region := prometheus.Labels{"region": a.cfg.Region}
	m := &agentMetrics{
		registry: prometheus.NewRegistry(),
		steps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kirikae_agent_steps_total", ConstLabels: region,
			Help: "Step attempts this agent executed, by action and outcome: succeeded, failed, cancelled, timed-out.",
		}, []string{"action", "status"}),
		stepTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kirikae_agent_step_duration_seconds", ConstLabels: region, Buckets: stepBuckets,
			Help: "How long the step attempts this agent executed took, by action.",
		}, []string{"action"}),
		refusals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kirikae_agent_fencing_refusals_total", ConstLabels: region,
			Help: "Assignments this agent refused because their epoch was below the highest it had seen (a deposed leader's).",
		}),
		awsErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kirikae_agent_aws_errors_total", ConstLabels: region,
			Help: "AWS API calls that failed after the SDK's retries, by service, operation and code: the AWS error code, timeout, or transport when none came back (connection refused, DNS, TLS, an answer that could not be read).",
		}, []string{"service", "operation", "code"}),
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: region}, f)
	}
	m.registry.MustRegister(m.steps, m.stepTime, m.refusals, m.awsErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		gauge("kirikae_agent_connected", "1 while this agent holds a registered stream to the control-plane leader, else 0.",
			func() float64 { return b2f(a.Status().Connected) }),
		gauge("kirikae_agent_healthy", "1 while this agent's health probe finds its region's AWS APIs reachable with valid credentials, else 0.",
			func() float64 { return b2f(a.Status().RegionHealthy) }),
		gauge("kirikae_agent_epoch", "The highest fencing epoch this agent has seen; it refuses assignments below it.",
			func() float64 { return float64(a.HighestEpoch()) }),
		gauge("kirikae_agent_steps_running", "Step attempts running on this agent now.", func() float64 {
			a.mu.Lock()
			defer a.mu.Unlock()
			return float64(a.running)
		}),
		gauge("kirikae_agent_steps_queued", "Step attempts waiting for a free slot (max steps) on this agent.", func() float64 {
			a.mu.Lock()
			defer a.mu.Unlock()
			return float64(len(a.queue))
		}),
	)
	return m
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// stepEnded counts an attempt this agent executed; took is zero for one that never ran.
func (m *agentMetrics) stepEnded(action, outcome string, took time.Duration) {
	m.steps.WithLabelValues(action, outcome).Inc()
	if took > 0 {
		m.stepTime.WithLabelValues(action).Observe(took.Seconds())
	}
}

// countAWSErrors is an SDK API option: it counts each call that fails once the SDK has
// given up retrying. A call cancelled by the agent (a cancelled or shut-down step) is not
// an AWS error and is not counted.
func (m *agentMetrics) countAWSErrors(stack *middleware.Stack) error {
	// Added after the service's own initialize middlewares, so the service and operation
	// are in ctx; everything else (retries included) runs inside it.
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("kirikaeCountErrors",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			if err != nil && !errors.Is(err, context.Canceled) {
				m.awsErrors.WithLabelValues(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), awsErrorCode(err)).Inc()
			}
			return out, md, err
		}), middleware.After)
}

// awsErrorCode is the error code AWS answered with, "timeout" when the call ran out of
// time, or "transport" when no error code came back (connection refused, DNS, TLS, an
// answer that could not be read).
func awsErrorCode(err error) string {
	var ae smithy.APIError
	switch {
	case errors.As(err, &ae) && ae.ErrorCode() != "":
		return ae.ErrorCode()
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "transport"
}

// MetricNames lists every metric family an agent's /metrics can export (a histogram by its
// base name), whether or not it has a series yet, for checking what dashboards and alert
// rules ask for.
func MetricNames() []string {
	// The region only labels series; describing needs none of them.
	return promnames.Described(newAgentMetrics(&Agent{cfg: Config{Region: "any"}}).registry)
}
