package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// Scenario is one of the seed's activation scenarios (DR発動基準).
type Scenario struct {
	Name string
	// MinOutage is the expected outage at or above which DR may be declared; 0 means the
	// scenario qualifies by its nature (a declared disaster).
	MinOutage time.Duration
	// Strict means the outage must exceed MinOutage, not just reach it.
	Strict    bool
	Criterion string
	// Deciders are the roles that decide to declare (判断者): each must approve, each a
	// different person, before the run's region.activate takes effect.
	Deciders []string
}

// ActivationApprover is the role whose approval every DR activation needs on top of the
// scenario's deciders: the runbook's 経営層の承認を取得.
const ActivationApprover = "executive"

// CutbackDeciders approve moving back to the primary: the runbook's cutback deletes and
// restores the production database, which the deciders of an outage sign off.
var CutbackDeciders = []string{"sysadmin", "manager"}

// Scenarios are the seed's activation criteria and deciders.
var Scenarios = map[string]Scenario{
	"region-outage": {Name: "region-outage", MinOutage: 4 * time.Hour, Criterion: "AWS announces 4 h or more to recover the region", Deciders: []string{"sysadmin", "manager"}},
	"multi-az":      {Name: "multi-az", MinOutage: 2 * time.Hour, Criterion: "2 or more AZs down, 2 h or more to recover", Deciders: []string{"sysadmin"}},
	"dc-fire":       {Name: "dc-fire", Criterion: "AWS announces a disaster-level outage", Deciders: []string{"sysadmin", "manager"}},
	"ransomware":    {Name: "ransomware", MinOutage: 8 * time.Hour, Strict: true, Criterion: "data encrypted, more than 8 h to recover", Deciders: []string{"security", "manager"}},
}

// scenarioNames lists the scenarios, sorted, for messages.
func scenarioNames() string {
	names := make([]string, 0, len(Scenarios))
	for n := range Scenarios {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// CheckCriteria applies the seed's activation criteria to a declaration.
func CheckCriteria(scenario string, expectedOutage time.Duration) error {
	sc, ok := Scenarios[scenario]
	if !ok {
		return fmt.Errorf("%w: scenario %q is not known (want %s)", ErrInvalidArgument, scenario, scenarioNames())
	}
	if sc.MinOutage == 0 {
		return nil
	}
	if expectedOutage < sc.MinOutage || (sc.Strict && expectedOutage == sc.MinOutage) {
		more := "or more"
		if sc.Strict {
			more = "or more (strictly)"
		}
		return fmt.Errorf("%w: %w: %s needs an expected outage of %s %s (criterion: %s), got %s; give --override-criteria with the reason to declare anyway (audited)",
			ErrFailedPrecondition, ErrCriteriaNotMet, scenario, sc.MinOutage, more, sc.Criterion, expectedOutage)
	}
	return nil
}

func newRunID(kind kirikaev1.RunKind, now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%s-%s", enum.Name(kind), now.UTC().Format("20060102-1504"), hex.EncodeToString(b[:]))
}

// runService is the operators' API for runs.
type runService struct {
	kirikaev1.UnimplementedRunServiceServer
	s *Server
}

func (rs *runService) compile(ctx context.Context, source []byte, params map[string]string) (*kirikaev1.Run, error) {
	if rs.s.planner == nil {
		return nil, fmt.Errorf("%w: this server was started without a planner", ErrFailedPrecondition)
	}
	if _, err := rs.s.linearizableIndex(ctx); err != nil {
		return nil, err
	}
	region, init, _ := rs.s.node.FSM().Region()
	if !init {
		return nil, ErrNotInitialized
	}
	run, err := rs.s.planner.Compile(source, params, region, rs.s.node.FSM().System())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err) // it names the plan and the line
	}
	run.PlanSource = source
	return run, nil
}

func (rs *runService) Declare(ctx context.Context, req *kirikaev1.DeclareRequest) (*kirikaev1.DeclareResponse, error) {
	run, err := rs.s.Declare(ctx, req)
	if err != nil {
		return nil, toStatus(err)
	}
	return &kirikaev1.DeclareResponse{Run: run}, nil
}

// Declare checks the criteria, compiles the plan and creates the run. A drill skips the
// activation criteria (there is no disaster to judge) but needs its agents.
func (s *Server) Declare(ctx context.Context, req *kirikaev1.DeclareRequest) (*kirikaev1.Run, error) {
	rs := &runService{s: s}
	if req.GetReason() == "" {
		return nil, fmt.Errorf("%w: reason is required (--reason)", ErrInvalidArgument)
	}
	switch req.GetDrill() {
	case kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED, kirikaev1.DrillKind_DRILL_KIND_PARTIAL, kirikaev1.DrillKind_DRILL_KIND_FULL:
	case kirikaev1.DrillKind_DRILL_KIND_TABLETOP:
		if !s.isolated {
			return nil, fmt.Errorf("%w: drill: a tabletop runs in an isolated simulated world (`kirikae drill start --kind tabletop`) and is recorded when it ends; this control plane drives real agents, so it declares none", ErrInvalidArgument)
		}
	default:
		return nil, fmt.Errorf("%w: drill: %d is not a kind of drill (want partial or full, or none for a real declaration)", ErrInvalidArgument, req.GetDrill())
	}
	if ms := req.GetExpectedOutageMs(); ms < 0 || ms > maxExpectedOutage.Milliseconds() {
		return nil, fmt.Errorf("%w: expected_outage_ms: %d is out of range (0 to %d, i.e. up to %s)", ErrInvalidArgument, ms, maxExpectedOutage.Milliseconds(), maxExpectedOutage)
	}
	run, err := rs.compile(ctx, req.GetPlanSource(), req.GetParams())
	if err != nil {
		return nil, err
	}
	switch run.GetKind() {
	case kirikaev1.RunKind_RUN_KIND_CUTBACK:
		return nil, fmt.Errorf("%w: plan %s is a cutback plan; use `kirikae cutback`", ErrInvalidArgument, run.GetPlanName())
	case kirikaev1.RunKind_RUN_KIND_TEARDOWN:
		return nil, fmt.Errorf("%w: plan %s is a teardown plan; the control plane writes and runs those when a partial drill ends", ErrInvalidArgument, run.GetPlanName())
	case kirikaev1.RunKind_RUN_KIND_FAILOVER:
		// The activation criteria decide whether to leave the region; a recovery within a
		// region (BCP scenarios 1 and 2) has none, and neither has a drill.
		if req.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED {
			break
		}
		outage := time.Duration(req.GetExpectedOutageMs()) * time.Millisecond
		if err := CheckCriteria(req.GetScenario(), outage); err != nil {
			if req.GetOverrideCriteria() == "" || !errors.Is(err, ErrCriteriaNotMet) {
				return nil, err
			}
		}
	}
	if run.GetKind() == kirikaev1.RunKind_RUN_KIND_FAILOVER {
		// Even a drill's failover moves traffic under the scenario's approval policy.
		if _, ok := Scenarios[req.GetScenario()]; !ok {
			return nil, fmt.Errorf("%w: scenario %q is not known (want %s)", ErrInvalidArgument, req.GetScenario(), scenarioNames())
		}
	}
	if len(req.GetCutbackPlanSource()) > 0 {
		if err := s.attachDrillCutback(ctx, run, req); err != nil {
			return nil, err
		}
	}
	run.Id = newRunID(run.GetKind(), time.Now())
	run.Scenario = req.GetScenario()
	run.ExpectedOutageMs = req.GetExpectedOutageMs()
	run.Reason = req.GetReason()
	run.OverrideCriteria = req.GetOverrideCriteria()
	run.PreemptRunId = req.GetPreemptRunId()
	if err := s.prepareDrill(ctx, run, req.GetDrill(), req.GetParentRunId(), req.GetParticipants(), req.GetAllowMissingAgent()); err != nil {
		return nil, err
	}
	if err := s.gateOnEvaluation(ctx, run, req.GetPlanSource(), req.GetParams(), req.GetOverrideFindings()); err != nil {
		return nil, err
	}
	return s.createRun(ctx, req.GetRequestId(), RequestFingerprint(req), run)
}

// maxExpectedOutage bounds a declared outage: a year is more than any runbook plans for,
// and far from where milliseconds overflow a duration.
const maxExpectedOutage = 366 * 24 * time.Hour

// prepareDrill marks a run as a drill: it refuses to start without an agent in every region
// the plan works in (unless allowed), and records fresh readiness from every agent.
func (s *Server) prepareDrill(ctx context.Context, run *kirikaev1.Run, drill kirikaev1.DrillKind, parent string, participants []string, allowMissing bool) error {
	run.Drill, run.ParentRunId = drill, parent
	if drill == kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED {
		return nil
	}
	for _, p := range participants {
		run.Participants = appendUnique(run.Participants, p)
	}
	conn, _, err := s.leaderConn()
	if err != nil {
		return err
	}
	// Connections and heartbeats are the leader's soft state: ask it, with the caller's name.
	agents, err := kirikaev1.NewAgentAdminServiceClient(conn).ListAgents(forwardActor(ctx), &kirikaev1.ListAgentsRequest{})
	if err != nil {
		return fmt.Errorf("list agents: %w", err)
	}
	connected := map[string]bool{}
	for _, a := range agents.GetAgents() {
		if a.GetConnected() {
			connected[a.GetInfo().GetRegion()] = true
		}
	}
	var missing []string
	for _, st := range run.GetSteps() {
		if r := st.GetSpec().GetRegion(); r != "control-plane" && !connected[r] && !slices.Contains(missing, r) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 && !allowMissing {
		return fmt.Errorf("%w: the drill needs an agent in %s and none is connected; start it, or pass --allow-missing-agent",
			ErrFailedPrecondition, strings.Join(missing, " and "))
	}
	rd, err := kirikaev1.NewAgentAdminServiceClient(conn).GetReadiness(forwardActor(ctx), &kirikaev1.GetReadinessRequest{Refresh: true})
	if err != nil {
		return fmt.Errorf("readiness at drill start: %w", err)
	}
	for _, r := range rd.GetRegions() {
		run.ReadinessStart = append(run.ReadinessStart, r.GetReports()...)
	}
	return nil
}

func (s *Server) createRun(ctx context.Context, requestID string, fingerprint []byte, run *kirikaev1.Run) (*kirikaev1.Run, error) {
	res, _, err := s.Propose(ctx, &kirikaev1.Command{RequestId: requestID, Actor: actorOf(ctx), Fingerprint: fingerprint,
		Payload: &kirikaev1.Command_CreateRun{CreateRun: run}})
	if err != nil {
		return nil, err
	}
	s.hub.poke()
	return res.GetRun(), nil
}

func (rs *runService) Cutback(ctx context.Context, req *kirikaev1.CutbackRequest) (*kirikaev1.CutbackResponse, error) {
	run, err := rs.s.Cutback(ctx, req)
	if err != nil {
		return nil, toStatus(err)
	}
	return &kirikaev1.CutbackResponse{Run: run}, nil
}

// Cutback compiles a cutback plan and creates the run.
func (s *Server) Cutback(ctx context.Context, req *kirikaev1.CutbackRequest) (*kirikaev1.Run, error) {
	if req.GetReason() == "" {
		return nil, fmt.Errorf("%w: reason is required (--reason)", ErrInvalidArgument)
	}
	rs := &runService{s: s}
	run, err := rs.compile(ctx, req.GetPlanSource(), req.GetParams())
	if err != nil {
		return nil, err
	}
	if run.GetKind() != kirikaev1.RunKind_RUN_KIND_CUTBACK {
		return nil, fmt.Errorf("%w: plan %s is a %s plan, not a cutback plan", ErrInvalidArgument, run.GetPlanName(), enum.Name(run.GetKind()))
	}
	switch req.GetDrill() {
	case kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED, kirikaev1.DrillKind_DRILL_KIND_FULL:
	default:
		return nil, fmt.Errorf("%w: drill: a cutback is part of a full-scale drill or of none, not %v", ErrInvalidArgument, req.GetDrill())
	}
	run.Id = newRunID(run.GetKind(), time.Now())
	run.Reason = req.GetReason()
	if err := s.prepareDrill(ctx, run, req.GetDrill(), req.GetParentRunId(), req.GetParticipants(), req.GetAllowMissingAgent()); err != nil {
		return nil, err
	}
	if err := s.gateOnEvaluation(ctx, run, req.GetPlanSource(), req.GetParams(), req.GetOverrideFindings()); err != nil {
		return nil, err
	}
	return s.createRun(ctx, req.GetRequestId(), RequestFingerprint(req), run)
}

func (rs *runService) GetRun(ctx context.Context, req *kirikaev1.GetRunRequest) (*kirikaev1.GetRunResponse, error) {
	if _, err := rs.s.linearizableIndex(ctx); err != nil {
		return nil, toStatus(err)
	}
	r := rs.s.node.FSM().Run(req.GetRunId())
	if r == nil {
		return nil, toStatus(fmt.Errorf("%w: run %q", ErrNotFound, req.GetRunId()))
	}
	resp := &kirikaev1.GetRunResponse{Run: r}
	for _, res := range rs.s.node.FSM().Resources() {
		if res.GetOwnerRunId() == r.GetId() {
			resp.Resources = append(resp.Resources, res)
		}
	}
	return resp, nil
}

func (rs *runService) ListRuns(ctx context.Context, _ *kirikaev1.ListRunsRequest) (*kirikaev1.ListRunsResponse, error) {
	if _, err := rs.s.linearizableIndex(ctx); err != nil {
		return nil, toStatus(err)
	}
	runs := rs.s.node.FSM().Runs()
	for _, r := range runs {
		r.PlanSource, r.CutbackPlanSource = nil, nil
	}
	return &kirikaev1.ListRunsResponse{Runs: runs}, nil
}

func (rs *runService) WatchRun(req *kirikaev1.WatchRunRequest, stream kirikaev1.RunService_WatchRunServer) error {
	ctx := stream.Context()
	// A watch on a follower starts from what the leader has committed, so a run declared a
	// moment ago (on another node) is found, not reported missing.
	if _, err := rs.s.linearizableIndex(ctx); err != nil {
		return toStatus(err)
	}
	var last *kirikaev1.Run
	for {
		ch, idx := rs.s.node.FSM().waitApplied()
		r := rs.s.node.FSM().Run(req.GetRunId())
		if r == nil {
			return toStatus(fmt.Errorf("%w: run %q", ErrNotFound, req.GetRunId()))
		}
		r.PlanSource, r.CutbackPlanSource = nil, nil
		if last == nil || !proto.Equal(last, r) {
			if err := stream.Send(&kirikaev1.WatchRunResponse{Run: r, RaftIndex: idx}); err != nil {
				return err
			}
			last = r
		}
		if !runActive(r) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil
		}
	}
}

func (rs *runService) Approve(ctx context.Context, req *kirikaev1.ApproveRequest) (*kirikaev1.ApproveResponse, error) {
	// The state machine judges the approval (the role, distinct people, a waiting step)
	// from the roles the caller holds, which Propose stamps on the command.
	res, _, err := rs.s.Propose(ctx, &kirikaev1.Command{RequestId: req.GetRequestId(), Actor: actorOf(ctx),
		Payload: &kirikaev1.Command_Approve{Approve: req}})
	if err != nil {
		return nil, toStatus(fmt.Errorf("approve as %s: %w", req.GetRole(), err))
	}
	rs.s.hub.poke()
	return &kirikaev1.ApproveResponse{Run: res.GetRun()}, nil
}

func (rs *runService) Confirm(ctx context.Context, req *kirikaev1.ConfirmRequest) (*kirikaev1.ConfirmResponse, error) {
	res, _, err := rs.s.Propose(ctx, &kirikaev1.Command{RequestId: req.GetRequestId(), Actor: actorOf(ctx),
		Payload: &kirikaev1.Command_Confirm{Confirm: req}})
	if err != nil {
		return nil, toStatus(err)
	}
	rs.s.hub.poke()
	return &kirikaev1.ConfirmResponse{Run: res.GetRun()}, nil
}

func (rs *runService) Control(ctx context.Context, req *kirikaev1.ControlRequest) (*kirikaev1.ControlResponse, error) {
	if (req.GetAction() == kirikaev1.ControlAction_CONTROL_ACTION_RETRY || req.GetAction() == kirikaev1.ControlAction_CONTROL_ACTION_SKIP) && req.GetStepId() == "" {
		return nil, toStatus(fmt.Errorf("%w: retry and skip need a step id", ErrInvalidArgument))
	}
	res, _, err := rs.s.Propose(ctx, &kirikaev1.Command{RequestId: req.GetRequestId(), Actor: actorOf(ctx),
		Payload: &kirikaev1.Command_Control{Control: req}})
	if err != nil {
		return nil, toStatus(err)
	}
	rs.s.hub.poke()
	return &kirikaev1.ControlResponse{Run: res.GetRun()}, nil
}

// agentAdminService shows agents and readiness.
type agentAdminService struct {
	kirikaev1.UnimplementedAgentAdminServiceServer
	s *Server
}

func (a *agentAdminService) ListAgents(ctx context.Context, req *kirikaev1.ListAgentsRequest) (*kirikaev1.ListAgentsResponse, error) {
	if !a.s.node.IsLeader() {
		// Connections and heartbeats are the leader's soft state.
		conn, _, err := a.s.leaderConn()
		if err != nil {
			return nil, toStatus(err)
		}
		return kirikaev1.NewAgentAdminServiceClient(conn).ListAgents(forwardActor(ctx), req)
	}
	conns := map[agentKey]*agentConn{}
	for _, c := range a.s.hub.snapshot() {
		conns[keyOf(c.info)] = c
	}
	out := &kirikaev1.ListAgentsResponse{}
	for _, info := range a.s.node.FSM().Agents() {
		st := &kirikaev1.AgentStatus{Info: info}
		if c, ok := conns[keyOf(info)]; ok {
			c.mu.Lock()
			st.Connected = true
			st.LastHeartbeatUnixNano = c.lastHB.UnixNano()
			st.Health = proto.Clone(c.health).(*kirikaev1.AgentHealth)
			c.mu.Unlock()
			st.ConnectedTo = a.s.node.ID()
		}
		out.Agents = append(out.Agents, st)
	}
	return out, nil
}

func (a *agentAdminService) GetReadiness(ctx context.Context, req *kirikaev1.GetReadinessRequest) (*kirikaev1.GetReadinessResponse, error) {
	var unanswered []*kirikaev1.UnansweredAgent
	if req.GetRefresh() {
		if !a.s.node.IsLeader() {
			conn, _, err := a.s.leaderConn()
			if err != nil {
				return nil, toStatus(err)
			}
			return kirikaev1.NewAgentAdminServiceClient(conn).GetReadiness(forwardActor(ctx), req)
		}
		rctx, cancel := context.WithTimeoutCause(ctx, 30*time.Second, errors.New("30s"))
		fresh, none := a.s.requestReadiness(rctx, req.GetRegion())
		cancel()
		unanswered = append(unanswered, none...)
		// Every registered agent that is not connected is named too: it was not asked.
		connected := map[agentKey]bool{}
		for _, c := range a.s.hub.snapshot() {
			connected[keyOf(c.info)] = true
		}
		for _, info := range a.s.node.FSM().Agents() {
			if (req.GetRegion() == "" || info.GetRegion() == req.GetRegion()) && !connected[keyOf(info)] {
				unanswered = append(unanswered, &kirikaev1.UnansweredAgent{AgentId: info.GetId(), Region: info.GetRegion(), Reason: "not connected to the leader"})
			}
		}
		// Record every fresh report, changed or not, so the answer below (read from the
		// replicated state) carries the times of this refresh.
		for _, rep := range fresh {
			if _, _, err := a.s.Propose(ctx, &kirikaev1.Command{Actor: actorOf(ctx), // the operator who asked for the refresh
				Payload: &kirikaev1.Command_RecordReadiness{RecordReadiness: rep}}); err != nil {
				return nil, toStatus(err)
			}
		}
	}
	if _, err := a.s.linearizableIndex(ctx); err != nil {
		return nil, toStatus(err)
	}
	region, _, _ := a.s.node.FSM().Region()
	evs := a.s.planEvaluations(ctx)
	regions := RollUpReadiness(region, a.s.node.FSM().Readiness(), req.GetRegion())
	for _, rr := range regions {
		for _, ev := range evs {
			for _, f := range ev.GetFindings() {
				if f.GetRegion() == rr.GetRegion() {
					rr.Ready = false
					rr.Reasons = append(rr.Reasons, "plan "+cmpOr(ev.GetPlanFile(), ev.GetPlanName())+": step "+f.GetStepId()+": ["+f.GetCode()+"] "+f.GetProblem())
				}
			}
		}
	}
	return &kirikaev1.GetReadinessResponse{Regions: regions, Unanswered: unanswered, PlanEvaluations: evs}, nil
}

// planEvaluations are the leader's latest scheduled plan evaluations; a follower asks the
// leader, and answers without them when it cannot reach it.
func (s *Server) planEvaluations(ctx context.Context) []*kirikaev1.PlanEvaluation {
	if s.node.IsLeader() {
		return s.scheduled.list()
	}
	conn, _, err := s.leaderConn()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := kirikaev1.NewPlanCheckServiceClient(conn).ListPlanEvaluations(forwardActor(ctx), &kirikaev1.ListPlanEvaluationsRequest{})
	if err != nil {
		s.log.Debug("plan evaluations from the leader", "err", err)
		return nil
	}
	return resp.GetEvaluations()
}

// RollUpReadiness turns reports into "ready" or "not ready, because ..." per region.
func RollUpReadiness(pair *kirikaev1.RegionState, reports []*kirikaev1.ReadinessReport, only string) []*kirikaev1.RegionReadiness {
	regions := []string{}
	for _, r := range []string{pair.GetPrimary(), pair.GetSecondary()} {
		if r != "" {
			regions = append(regions, r)
		}
	}
	for _, rep := range reports {
		if !slices.Contains(regions, rep.GetRegion()) {
			regions = append(regions, rep.GetRegion())
		}
	}
	var out []*kirikaev1.RegionReadiness
	for _, region := range regions {
		if only != "" && region != only {
			continue
		}
		rr := &kirikaev1.RegionReadiness{Region: region, Ready: true}
		for _, rep := range reports {
			if rep.GetRegion() != region {
				continue
			}
			rr.Reports = append(rr.Reports, rep)
			for _, c := range rep.GetChecks() {
				switch c.GetStatus() {
				case kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL:
					rr.Ready = false
					rr.Reasons = append(rr.Reasons, fmt.Sprintf("%s: %s", c.GetName(), c.GetDetail()))
				case kirikaev1.ReadinessStatus_READINESS_STATUS_WARN:
					rr.Reasons = append(rr.Reasons, fmt.Sprintf("warning: %s: %s", c.GetName(), c.GetDetail()))
				}
			}
		}
		checks := 0
		for _, rep := range rr.Reports {
			checks += len(rep.GetChecks())
		}
		switch {
		case len(rr.Reports) == 0:
			rr.Ready = false
			rr.Reasons = append(rr.Reasons, "no readiness report from any agent in "+region)
		case checks == 0:
			rr.Ready = false
			rr.Reasons = append(rr.Reasons, "the agents in "+region+" ran no readiness checks")
		}
		out = append(out, rr)
	}
	return out
}
