package agent

import (
	"context"
	"fmt"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/system"
)

// CheckSystemUnreadable is the one readiness check reported while the agent holds a system
// it cannot parse: the control plane stored it, so the agent is likely older than the
// file's format.
const CheckSystemUnreadable = "agent.system"

// readinessLoop runs the readiness checks at start, then every
// ReadinessInterval. Without a Readiness hook there is nothing to run.
func (a *Agent) readinessLoop(ctx context.Context) {
	if a.cfg.Readiness == nil {
		return
	}
	t := time.NewTicker(a.cfg.ReadinessInterval)
	defer t.Stop()
	for {
		a.runReadiness(ctx, "")
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runReadiness runs the checks and sends the report; requestID echoes a ReadinessRequest.
// Runs never overlap. A periodic report made while disconnected is sent after the next
// registration.
func (a *Agent) runReadiness(ctx context.Context, requestID string) {
	a.readyMu.Lock()
	defer a.readyMu.Unlock()
	var checks []*kirikaev1.ReadinessCheck
	if a.cfg.Readiness != nil {
		rctx, cancel := context.WithTimeout(ctx, a.cfg.ReadinessTimeout)
		checks = a.checkReadiness(rctx)
		cancel()
	}
	if ctx.Err() != nil {
		return
	}
	rep := &kirikaev1.ReadinessReport{
		AgentId: a.cfg.ID, Region: a.cfg.Region, Checks: checks,
		ReportedUnixNano: timeNow().UnixNano(), RequestId: requestID,
	}
	if a.cfg.Readiness != nil {
		periodic := &kirikaev1.ReadinessReport{
			AgentId: rep.AgentId, Region: rep.Region, Checks: checks, ReportedUnixNano: rep.ReportedUnixNano,
		}
		a.lastReport.Store(periodic)
	}
	sent := a.emit(&kirikaev1.ConnectRequest{Msg: &kirikaev1.ConnectRequest_Readiness{Readiness: rep}}, true)
	a.log.Debug("readiness report", "checks", len(checks), "request_id", requestID, "sent", sent)
}

// checkReadiness runs the checks against the held system. A system the agent could not read
// is not checked against anything: the report says so, and the region is not ready.
func (a *Agent) checkReadiness(ctx context.Context) []*kirikaev1.ReadinessCheck {
	h := a.system.Load()
	if h != nil && h.err != nil {
		return []*kirikaev1.ReadinessCheck{{
			Name: CheckSystemUnreadable, Status: kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL,
			Detail: fmt.Sprintf("this agent (version %s) cannot read the stored system %s version %d (digest %.12s): %v",
				a.cfg.Version, h.rec.GetName(), h.rec.GetVersion(), h.rec.GetDigest(), h.err),
			CheckedUnixNano: timeNow().UnixNano(),
		}}
	}
	var sys *system.System
	if h != nil {
		sys = h.sys
	}
	return a.safeReadiness(ctx, sys)
}

func (a *Agent) safeReadiness(ctx context.Context, sys *system.System) (checks []*kirikaev1.ReadinessCheck) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("readiness checks panicked", "panic", r)
			checks = []*kirikaev1.ReadinessCheck{{
				Name: "agent.readiness", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL,
				Detail: "the readiness checks panicked; see the agent's log", CheckedUnixNano: timeNow().UnixNano(),
			}}
		}
	}()
	return a.cfg.Readiness(ctx, sys)
}
