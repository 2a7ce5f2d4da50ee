package controlplane

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/human"
	"github.com/kirikae/kirikae/redact"
	"github.com/kirikae/kirikae/report"
	"github.com/kirikae/kirikae/security"
)

// The web view's models. They hold what the templates show and nothing more: no run
// params, step inputs or outputs are copied into them, so no secret a plan is given can
// reach a page.

// uiFreshness says whose data a page shows and how old it may be: the node's stale read of
// the region (GetActiveRegion with CONSISTENCY_STALE) with its raft state.
type uiFreshness struct {
	Node, RaftState, Leader string
	// Serving is empty while the node serves, else why not (Node.Health).
	NotServing string
	Applied    uint64
	// Staleness is how long ago the node heard from its leader: "0 s (this node leads)",
	// "120 ms", or "never" (StalenessMs -1).
	Staleness   string
	StalenessMs int64
	At          time.Time
}

func (s *Server) freshness(ctx context.Context) uiFreshness {
	f := uiFreshness{At: time.Now()}
	h := s.node.Health()
	f.Node, f.RaftState, f.Leader, f.NotServing = h.NodeID, h.State, h.LeaderID, h.Cause
	f.Applied = h.AppliedIndex
	resp, err := s.GetActiveRegion(ctx, kirikaev1.Consistency_CONSISTENCY_STALE)
	if err != nil {
		f.Staleness = "unknown: " + err.Error()
		return f
	}
	f.StalenessMs = resp.GetStalenessMs()
	switch {
	case s.node.IsLeader():
		f.Staleness = "none: this node leads"
	case f.StalenessMs < 0:
		f.Staleness = "never heard from a leader"
	default:
		f.Staleness = (time.Duration(f.StalenessMs) * time.Millisecond).String() + " since it last heard from the leader"
	}
	if f.Leader == "" {
		f.Leader = "none known"
	}
	return f
}

type uiRegion struct {
	Initialized                bool
	Active, Primary, Secondary string
	Epoch                      uint64
	Mode                       string
	Changed                    time.Time
	ChangedBy, Reason          string
}

type uiAgent struct {
	ID, Region, Version string
	Connected           string // yes, no, or unknown (why)
	Healthy             string // healthy, unhealthy, or unknown
	Cause               string
	LastHeartbeat       string
	HighestEpoch        uint64
}

type uiReadiness struct {
	Region  string
	Ready   bool
	Reasons []string
}

type uiRunRow struct {
	ID, Kind, Drill, Plan, Status, From, To string
	Created, Finished                       time.Time
	Done, Total, Waiting                    int
	EpochBefore, EpochAfter                 uint64
}

type uiOverview struct {
	Fresh     uiFreshness
	Region    uiRegion
	Agents    []uiAgent
	AgentsSrc string
	Readiness []uiReadiness
	Runs      []uiRunRow
}

// overviewView is the main page: region, agents with health and readiness, and the runs.
func (s *Server) overviewView(ctx context.Context) uiOverview {
	v := uiOverview{Fresh: s.freshness(ctx)}
	st, init, _ := s.node.FSM().Region()
	v.Region = uiRegion{Initialized: init, Active: st.GetActive(), Primary: st.GetPrimary(), Secondary: st.GetSecondary(),
		Epoch: st.GetEpoch(), Mode: enum.Name(st.GetMode()), ChangedBy: uiWho(st.GetChangedBy()), Reason: st.GetReason()}
	if n := st.GetChangedUnixNano(); n != 0 {
		v.Region.Changed = time.Unix(0, n)
	}
	v.Agents, v.AgentsSrc = s.uiAgents(ctx)
	for _, rr := range RollUpReadiness(st, s.node.FSM().Readiness(), "") {
		v.Readiness = append(v.Readiness, uiReadiness{Region: rr.GetRegion(), Ready: rr.GetReady(), Reasons: rr.GetReasons()})
	}
	runs := s.node.FSM().Runs()
	for i := len(runs) - 1; i >= 0; i-- { // newest first
		r := redact.Run(runs[i]) // a copy: secret values masked wherever they appear
		row := uiRunRow{ID: r.GetId(), Kind: enum.Name(r.GetKind()), Plan: r.GetPlanName(), Status: enum.Name(r.GetStatus()),
			From: r.GetFromRegion(), To: r.GetToRegion(), Total: len(r.GetSteps()), EpochBefore: r.GetEpochBefore(), EpochAfter: r.GetEpochAfter()}
		if r.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED {
			row.Drill = enum.Name(r.GetDrill())
		}
		row.Created = time.Unix(0, r.GetCreatedUnixNano())
		if n := r.GetFinishedUnixNano(); n != 0 {
			row.Finished = time.Unix(0, n)
		}
		for _, st := range r.GetSteps() {
			switch st.GetStatus() {
			case kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED, kirikaev1.StepStatus_STEP_STATUS_SKIPPED:
				row.Done++
			case kirikaev1.StepStatus_STEP_STATUS_WAITING:
				row.Waiting++
			}
		}
		v.Runs = append(v.Runs, row)
	}
	return v
}

// uiAgentsTimeout bounds asking the leader for agent health, so a page never waits long on
// a leader that cannot be reached.
const uiAgentsTimeout = time.Second

// uiAgents lists the registered agents from the replica, with health and connection where
// known. Connections and heartbeats are the leader's soft state: the leader answers from
// its own, a follower asks the leader (briefly, as the page's viewer), and without a
// leader the health is unknown and the page says so.
func (s *Server) uiAgents(ctx context.Context) ([]uiAgent, string) {
	infos := s.node.FSM().Agents()
	var out []uiAgent
	for _, info := range infos {
		out = append(out, uiAgent{ID: info.GetId(), Region: info.GetRegion(), Version: info.GetVersion(), Connected: "unknown", Healthy: "unknown"})
	}
	actor, _ := ctx.Value(viewerKey{}).(string)
	if actor == "" {
		actor = "spiffe://kirikae/server/" + s.node.ID() // open mode: the node asks for itself
	}
	actx, cancel := context.WithTimeout(context.WithValue(ctx, actorKey{}, actor), uiAgentsTimeout)
	defer cancel()
	resp, err := (&agentAdminService{s: s}).ListAgents(actx, &kirikaev1.ListAgentsRequest{})
	if err != nil {
		return out, "health unknown: connections and heartbeats are the leader's, and the leader did not answer (" + err.Error() + ")"
	}
	byID := map[agentKey]*kirikaev1.AgentStatus{}
	for _, a := range resp.GetAgents() {
		byID[keyOf(a.GetInfo())] = a
	}
	for i := range out {
		a, ok := byID[agentKey{out[i].Region, out[i].ID}]
		if !ok {
			continue
		}
		out[i].Connected, out[i].Healthy = "no", "unknown"
		if a.GetConnected() {
			out[i].Connected, out[i].Healthy = "yes", "unhealthy"
			if a.GetHealth().GetHealthy() {
				out[i].Healthy = "healthy"
			}
			out[i].Cause = a.GetHealth().GetCause()
			out[i].HighestEpoch = a.GetHealth().GetHighestEpoch()
			if n := a.GetLastHeartbeatUnixNano(); n != 0 {
				out[i].LastHeartbeat = human.Duration(time.Since(time.Unix(0, n)).Round(100*time.Millisecond)) + " ago"
			}
		}
	}
	src := "health from this node, the leader"
	if !s.node.IsLeader() {
		_, lid := s.node.Leader()
		src = "health from the leader, " + string(lid)
	}
	return out, src
}

type uiApproval struct {
	Who, Role, Comment string
	At                 time.Time
}

type uiItem struct {
	N          int
	Item       string
	Done       bool
	Who, Note  string
	At         time.Time
	WaitingFor string
}

type uiStep struct {
	ID, Name, Phase, Action, Region, Owner, State string
	Attempt                                       uint32
	Agent                                         string
	Started, Finished                             time.Time
	Took                                          string
	Error, Progress                               string
	Human                                         bool
	// For approvals: the roles asked for, those still missing, and who gave which.
	Roles, Missing []string
	Need           uint32
	Approvals      []uiApproval
	// For checklists: each item, confirmed or not.
	Items []uiItem
	// ConfirmedBy is who confirmed how many items, "alice (3)", in order of their first.
	ConfirmedBy []string
	Waiver      string
	SkippedBy   string
}

type uiRun struct {
	Fresh                                   uiFreshness
	ID, Kind, Drill, Plan, Status, From, To string
	Scenario, Reason, DeclaredBy, Error     string
	Created, Finished                       time.Time
	Took                                    string
	EpochBefore, EpochAfter                 uint64
	Live                                    bool
	Waiting                                 []uiStep
	Steps                                   []uiStep
	Gantt                                   template.HTML
	GanttErr                                string
	// TimeScale is set in a simulated world, whose chart is in plan time.
	TimeScale float64
}

// runView is a run's page: its steps, what waits for people, and the report's Gantt chart
// as it stands now.
func (s *Server) runView(ctx context.Context, id string) (uiRun, bool) {
	r := s.node.FSM().Run(id)
	if r == nil {
		return uiRun{}, false
	}
	redact.Run(r) // a copy: secret values masked in errors, outputs and history, as the API does
	v := uiRun{Fresh: s.freshness(ctx), ID: r.GetId(), Kind: enum.Name(r.GetKind()), Plan: r.GetPlanName(), Status: enum.Name(r.GetStatus()),
		From: r.GetFromRegion(), To: r.GetToRegion(), Scenario: r.GetScenario(), Reason: r.GetReason(), DeclaredBy: uiWho(r.GetDeclaredBy()),
		Error: r.GetError(), Created: time.Unix(0, r.GetCreatedUnixNano()), EpochBefore: r.GetEpochBefore(), EpochAfter: r.GetEpochAfter(),
		Live: r.GetFinishedUnixNano() == 0}
	if r.GetDrill() != kirikaev1.DrillKind_DRILL_KIND_UNSPECIFIED {
		v.Drill = enum.Name(r.GetDrill())
	}
	// The report's chart, built from the run alone; report.Build reads no params. Its clock
	// also gives the durations in a simulated world: AWS time in plan time, and people's
	// waits on approvals and checklists in the real time they took.
	rep, err := report.Build(report.Input{Runs: []*kirikaev1.Run{r}, TimeScale: s.timeScale, Now: func() time.Time { return v.Fresh.At }})
	if err == nil {
		var b bytes.Buffer
		if err = rep.GanttHTML(&b); err == nil {
			v.Gantt = template.HTML(b.String()) // report escapes every text it writes
		}
	}
	if err != nil {
		v.GanttErr = err.Error()
	}
	timings := map[string]report.StepTiming{}
	if rep != nil {
		for _, t := range rep.Steps {
			timings[t.ID] = t
		}
	}
	if n := r.GetFinishedUnixNano(); n != 0 {
		v.Finished = time.Unix(0, n)
		v.Took = "took " + planDuration(v.Finished.Sub(v.Created), s.timeScale)
		if rep != nil && len(rep.Runs) == 1 {
			v.Took = "took " + human.Duration(rep.Runs[0].Duration.Round(time.Second))
		}
	} else {
		v.Took = planDuration(v.Fresh.At.Sub(v.Created), s.timeScale) + " so far"
	}
	for _, st := range r.GetSteps() {
		u := uiStepOf(st, s.timeScale)
		if t, ok := timings[st.GetId()]; ok && t.Ended && t.Started {
			d := t.Actual
			if t.Human {
				d = t.Waited
			}
			u.Took = human.Duration(d.Round(time.Second))
		}
		v.Steps = append(v.Steps, u)
		if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_WAITING {
			v.Waiting = append(v.Waiting, u)
		}
	}
	if s.timeScale > 0 && s.timeScale != 1 {
		v.TimeScale = s.timeScale
	}
	return v, true
}

// planDuration is a span of wall time as people read it, in plan time in a simulated
// world (timeScale, see Config.TimeScale).
func planDuration(d time.Duration, timeScale float64) string {
	if timeScale > 0 && timeScale != 1 {
		d = time.Duration(float64(d) / timeScale)
	}
	return human.Duration(d.Round(time.Second))
}

func uiStepOf(st *kirikaev1.StepState, timeScale float64) uiStep {
	sp := st.GetSpec()
	u := uiStep{ID: st.GetId(), Name: sp.GetName(), Phase: sp.GetPhase(), Action: sp.GetAction(), Region: sp.GetRegion(), Owner: sp.GetOwner(),
		State: enum.Name(st.GetStatus()), Attempt: st.GetAttempt(), Agent: st.GetAgentId(), Error: st.GetError(), Progress: st.GetProgress(),
		SkippedBy: uiWho(st.GetSkippedBy())}
	if n := st.GetStartedUnixNano(); n != 0 {
		u.Started = time.Unix(0, n)
	}
	if n := st.GetFinishedUnixNano(); n != 0 {
		u.Finished = time.Unix(0, n)
		if !u.Started.IsZero() {
			u.Took = planDuration(u.Finished.Sub(u.Started), timeScale)
		}
	}
	if w := st.GetWaiver(); w != nil {
		u.Waiver = uiWho(w.GetActor()) + " waived " + strings.Join(w.GetRoles(), ", ") + ": " + w.GetReason()
	}
	switch sp.GetAction() {
	case catalog.Approval.Name:
		u.Human, u.Roles, u.Need = true, sp.GetRoles(), sp.GetApprovalsRequired()
		if u.Need == 0 {
			u.Need = uint32(len(u.Roles))
		}
		covered := map[string]bool{}
		for _, a := range st.GetApprovals() {
			covered[a.GetRole()] = true
			u.Approvals = append(u.Approvals, uiApproval{Who: uiWho(a.GetActor()), Role: a.GetRole(), Comment: a.GetComment(), At: time.Unix(0, a.GetTimeUnixNano())})
		}
		for _, role := range u.Roles {
			if !covered[role] {
				u.Missing = append(u.Missing, role)
			}
		}
	case catalog.Checklist.Name:
		u.Human = true
		roles := sp.GetRoles()
		if len(roles) == 0 {
			roles = []string{string(security.RoleOperator)}
		}
		by := map[string]int{}
		var order []string
		for i, item := range sp.GetItems() {
			it := uiItem{N: i + 1, Item: item, WaitingFor: strings.Join(roles, " or ")}
			if j := slices.IndexFunc(st.GetConfirmations(), func(c *kirikaev1.Confirmation) bool { return c.GetItem() == item }); j >= 0 {
				c := st.GetConfirmations()[j]
				it.Done, it.Who, it.Note, it.At = true, uiWho(c.GetActor()), c.GetNote(), time.Unix(0, c.GetTimeUnixNano())
				if by[it.Who] == 0 {
					order = append(order, it.Who)
				}
				by[it.Who]++
			}
			u.Items = append(u.Items, it)
		}
		for _, who := range order {
			u.ConfirmedBy = append(u.ConfirmedBy, fmt.Sprintf("%s (%d)", who, by[who]))
		}
	}
	return u
}

// uiWho is an actor as people say it: the name of a kirikae identity, else as recorded.
func uiWho(actor string) string {
	if actor == "" {
		return ""
	}
	if actor == security.DevIdentity.String() {
		return "dev"
	}
	if id, err := security.ParseIdentity(actor); err == nil {
		if id.Kind == security.KindOperator {
			return id.Name
		}
		return string(id.Kind) + " " + id.Name
	}
	return actor
}

// uiClock prints a time in UTC, to the second; "-" for none.
func uiClock(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("15:04:05")
}
