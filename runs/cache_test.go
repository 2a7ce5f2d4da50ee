package runs

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// failoverRuns returns a func that makes a run of the bundled failover plan.
func failoverRuns(t *testing.T) func(id string) *kirikaev1.Run {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "deploy", "plans", "kaigo-failover.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return func(id string) *kirikaev1.Run {
		return &kirikaev1.Run{Id: id, PlanName: "kaigo-failover", PlanSource: src}
	}
}

func cached(p *Planner) []string {
	p.cache.mu.Lock()
	defer p.cache.mu.Unlock()
	var runs []string
	for _, e := range p.cache.entries {
		runs = append(runs, e.run)
	}
	return runs
}

// The cache of parsed plans keeps the runs resolved most recently, never more than
// maxCachedPlans, and a plan that fell out is parsed again from its run.
func TestPlanCacheIsBounded(t *testing.T) {
	p, failoverRun := &Planner{}, failoverRuns(t)
	first := failoverRun("run-0")
	firstPlan, err := p.planOf(first)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 3*maxCachedPlans; i++ {
		run := failoverRun(fmt.Sprintf("run-%d", i))
		if _, err := p.planOf(run); err != nil {
			t.Fatal(err)
		}
		if n := len(cached(p)); n > maxCachedPlans {
			t.Fatalf("after %d runs the cache holds %d plans, want at most %d", i+1, n, maxCachedPlans)
		}
		// run-1 is used again and again, so it stays.
		if _, err := p.planOf(failoverRun("run-1")); err != nil {
			t.Fatal(err)
		}
	}
	got := cached(p)
	if len(got) != maxCachedPlans || got[len(got)-1] != "run-1" {
		t.Errorf("cache holds %v, want %d runs ending with the most recently used, run-1", got, maxCachedPlans)
	}
	again, err := p.planOf(first)
	if err != nil {
		t.Fatal(err)
	}
	if again.plan == firstPlan.plan || again.plan.Name != firstPlan.plan.Name || len(again.plan.Steps) != len(firstPlan.plan.Steps) {
		t.Errorf("run-0 fell out of the cache: want it parsed again into an equal plan")
	}
}

func TestPlanCacheConcurrent(t *testing.T) {
	p, failoverRun := &Planner{}, failoverRuns(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3 * maxCachedPlans {
				if _, err := p.planOf(failoverRun(fmt.Sprintf("run-%d", (i+g)%(2*maxCachedPlans)))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := len(cached(p)); n > maxCachedPlans {
		t.Errorf("cache holds %d plans, want at most %d", n, maxCachedPlans)
	}
}
