package bench_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/kirikae/kirikae/demo"
)

// BenchmarkFailoverMakespan runs the bundled failover (and cutback) on awssim and reports
// the failover's makespan against the critical path of its measured step durations: the
// difference is what orchestration costs. Times are in simulated AWS time.
func BenchmarkFailoverMakespan(b *testing.B) {
	// Orchestration costs a few milliseconds of wall time per step boundary; the time
	// scale magnifies it into simulated minutes, so the overhead is shown at two scales.
	for _, scale := range []float64{0.002, 0.01} {
		b.Run(fmt.Sprintf("scale=%g", scale), func(b *testing.B) {
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				sum, err := demo.Run(ctx, demo.Options{TimeScale: scale, Out: io.Discard})
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
		})
	}
}
