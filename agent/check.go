package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// checkTimeout bounds one plan-check request; the control plane waits a little longer.
const checkTimeout = 45 * time.Second

// runCheck answers a plan-check request: every step is checked by its action's read-only
// checker (action.Registry.Check) in this agent's region, concurrently, and the findings go
// back in one report. Besides, the IAM check (iamcheck.go) asks IAM once for the request
// whether the agent's credentials may call what the steps call. A step of another region is refused, not checked: the control plane
// sends each agent only the steps of its own region.
func (a *Agent) runCheck(ctx context.Context, req *kirikaev1.CheckRequest) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	rep := &kirikaev1.CheckReport{RequestId: req.GetRequestId()}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var steps []action.CheckStep
	add := func(fs []catalog.Finding) {
		mu.Lock()
		defer mu.Unlock()
		for _, f := range fs {
			rep.Findings = append(rep.Findings, &kirikaev1.PlanFinding{StepId: f.Step, Input: f.Input, Code: f.Code, Problem: f.Problem, Fix: f.Fix,
				Region: a.cfg.Region})
		}
	}
	for _, cs := range req.GetSteps() {
		var with map[string]any
		if err := json.Unmarshal([]byte(cs.GetWithJson()), &with); err != nil {
			rep.Findings = append(rep.Findings, &kirikaev1.PlanFinding{StepId: cs.GetStepId(), Code: catalog.FindingInvalidInput,
				Problem: fmt.Sprintf("the control plane sent inputs that are not a JSON object: %v", err), Fix: "report this as a kirikae bug"})
			continue
		}
		step := action.CheckStep{StepID: cs.GetStepId(), Action: cs.GetAction(), Region: a.cfg.Region, With: with, Unresolved: cs.GetUnresolved()}
		steps = append(steps, step)
		wg.Go(func() { add(a.reg.Check(ctx, step)) })
	}
	if a.iamCheck != nil {
		wg.Go(func() { add(a.iamCheck.check(ctx, steps)) })
	}
	wg.Wait()
	if ctx.Err() != nil && len(req.GetSteps()) > 0 {
		rep.Error = fmt.Sprintf("the checks did not finish within %s", checkTimeout)
	}
	sent := a.emit(&kirikaev1.ConnectRequest{Msg: &kirikaev1.ConnectRequest_CheckReport{CheckReport: rep}}, true)
	a.log.Info("plan check", "request_id", req.GetRequestId(), "steps", len(req.GetSteps()), "findings", len(rep.GetFindings()), "sent", sent)
}
