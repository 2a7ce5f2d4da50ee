package plan

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkValidate parses and validates generated plans of 1,000 to 100,000 steps, to
// show that validation grows about linearly with the plan. It reports, besides time and
// allocations, ns/step and the peak of the live heap during one validation (peak-heap-MB,
// sampled every millisecond, above the heap before it started).
//
//	go test -run '^$' -bench Validate -benchtime 1x ./plan/
//
// Plans past the limits in limits.go are refused before any expensive work, so the
// benchmark validates with the limits raised: it measures the validation the limits
// protect, not the refusal.
func BenchmarkValidate(b *testing.B) {
	for _, shape := range []struct {
		name string
		gen  func(n int) []byte
	}{
		{"chain", chainPlan},
		{"fanout", fanoutPlan},
	} {
		for _, n := range []int{1_000, 10_000, 100_000} {
			src := shape.gen(n)
			b.Run(fmt.Sprintf("%s/steps=%d", shape.name, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(src)))
				var peak uint64
				for b.Loop() {
					stop := sampleHeap()
					p, err := benchParse(src)
					peak = max(peak, stop())
					if err != nil {
						b.Fatal(err)
					}
					if len(p.Steps) != n {
						b.Fatalf("%d steps, want %d", len(p.Steps), n)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/step")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			})
		}
	}
}

// benchParse validates src with the size limits raised far enough for the benchmark's plans.
func benchParse(src []byte) (*Plan, error) {
	lim := defaultLimits
	lim.Bytes, lim.steps, lim.Expanded = 64<<20, 1_000_000, 128<<20
	return parse("bench.yaml", src, lim)
}

// sampleHeap samples the live heap until the returned func is called, which returns the
// highest sample above the heap at the start.
func sampleHeap() func() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	base := read()
	var (
		mu   sync.Mutex
		peak = base
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				v := read()
				mu.Lock()
				peak = max(peak, v)
				mu.Unlock()
			}
		}
	}()
	return func() uint64 {
		v := read()
		close(done)
		wg.Wait()
		peak = max(peak, v)
		return peak - base
	}
}

const benchHeader = `apiVersion: kirikae/v1
kind: Plan
name: bench
runKind: recovery
params:
  MSG: {default: hello}
phases:
  - {id: work, name: work, expect: 1h}
steps:
`

// chainPlan is n steps, each needing the one before it and reading the outputs of the one
// before it and of the one ten before it (an ancestor it does not need directly).
func chainPlan(n int) []byte {
	var sb strings.Builder
	sb.WriteString(benchHeader)
	for i := range n {
		fmt.Fprintf(&sb, "  - id: s%d\n    phase: work\n    region: secondary\n    action: notify\n    owner: operations\n    expect: 1m\n", i)
		switch {
		case i == 0:
			sb.WriteString("    with: {message: \"${params.MSG}\"}\n")
		case i < 10:
			fmt.Fprintf(&sb, "    needs: [s%d]\n    with: {message: \"${steps.s%d.outputs.delivered}\"}\n", i-1, i-1)
		default:
			fmt.Fprintf(&sb, "    needs: [s%d]\n    with: {message: \"${steps.s%d.outputs.delivered} ${steps.s%d.outputs.delivered}\"}\n", i-1, i-1, i-10)
		}
	}
	return []byte(sb.String())
}

// fanoutPlan is one root step, n-2 steps that need it and read its outputs, and a last
// step that needs all of them and reads the root's outputs.
func fanoutPlan(n int) []byte {
	var sb strings.Builder
	sb.WriteString(benchHeader)
	sb.WriteString("  - id: s0\n    phase: work\n    region: secondary\n    action: notify\n    owner: operations\n    with: {message: \"${params.MSG}\"}\n")
	for i := 1; i < n-1; i++ {
		fmt.Fprintf(&sb, "  - id: s%d\n    phase: work\n    region: secondary\n    action: notify\n    owner: operations\n    expect: 1m\n    needs: [s0]\n    with: {message: \"${steps.s0.outputs.delivered}\"}\n", i)
	}
	fmt.Fprintf(&sb, "  - id: s%d\n    phase: work\n    region: secondary\n    action: notify\n    owner: operations\n    needs: [", n-1)
	for i := 1; i < n-1; i++ {
		if i > 1 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "s%d", i)
	}
	sb.WriteString("]\n    with: {message: \"${steps.s0.outputs.delivered}\"}\n")
	return []byte(sb.String())
}
