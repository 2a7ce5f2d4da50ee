package bench_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/kirikae/kirikae/demo"
)

// BenchmarkFailoverMakespan runs the bundled failover (and cutback) on awssim and reports
// the failover's makespan against the critical path of its measured step durations: the
// difference is what orchestration costs. Times are in simulated AWS time.
func BenchmarkFailoverMakespan(b *testing.B) {
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		sum, err := demo.Run(ctx, demo.Options{TimeScale: 0.002, Out: io.Discard})
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		fo := sum.Failover
		b.ReportMetric(fo.Makespan.Minutes(), "makespan-min")
		b.ReportMetric(fo.ActualCriticalPath.Minutes(), "critical-path-min")
		b.ReportMetric(fo.PlanCriticalPath.Minutes(), "plan-critical-path-min")
		b.ReportMetric(fo.Overhead*100, "overhead-%")
		b.Logf("failover makespan %s, measured critical path %s (plan: %s, runbook in order: %s), overhead %.2f%%",
			fo.Makespan.Round(time.Second), fo.ActualCriticalPath.Round(time.Second), fo.PlanCriticalPath, fo.PlanSequential, fo.Overhead*100)
	}
}
