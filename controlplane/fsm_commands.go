package controlplane

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/redact"
)

// command is one kind of raft command: its name in the audit log and in request-id scopes,
// how the state machine applies it, and what of it an audit line records.
type command struct {
	method string
	apply  func(f *FSM, index uint64, cmd *kirikaev1.Command) *kirikaev1.CommandResult
	// audited picks what the audit line records of the request; nil records all of it.
	audited func(cmd *kirikaev1.Command) proto.Message
	// selfAudited commands write their own audit lines when they succeed, instead of one
	// line for the command.
	selfAudited bool
}

// commands holds every command kind, by the name of its field in Command's payload oneof.
// A payload field without an entry here fails TestEveryCommandHasOneEntry.
var commands = map[protoreflect.Name]command{
	"init_region": {method: "region.init", apply: func(f *FSM, i uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyInit(i, c, c.GetInitRegion())
	}},
	"set_region": {method: "region.set", apply: func(f *FSM, i uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applySet(i, c, c.GetSetRegion())
	}},
	"restore_state": {method: "cluster.snapshot.restore", apply: func(f *FSM, i uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyRestore(i, c.GetRestoreState())
	}, audited: func(c *kirikaev1.Command) proto.Message {
		return c.GetRestoreState().GetState().GetRegion() // the whole state is too large for an audit line
	}},
	"apply_system": {method: "system.apply", apply: func(f *FSM, _ uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applySystem(c, c.GetApplySystem())
	}, audited: func(c *kirikaev1.Command) proto.Message {
		a := c.GetApplySystem() // the file itself is in the state; the audit line names it and its digest
		sum := sha256.Sum256(a.GetYaml())
		return &kirikaev1.SystemRecord{SourceFile: a.GetFileName(), Digest: hex.EncodeToString(sum[:])}
	}},
	"register_member": {method: "cluster.join", apply: func(f *FSM, _ uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyRegisterMember(c.GetRegisterMember())
	}},
	"remove_member": {method: "cluster.remove", apply: func(f *FSM, _ uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyRemoveMember(c.GetRemoveMember())
	}},
	"register_agent": {method: "agent.register", apply: func(f *FSM, _ uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyRegisterAgent(c, c.GetRegisterAgent())
	}},
	"record_readiness": {method: "agent.readiness", apply: func(f *FSM, _ uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyRecordReadiness(c, c.GetRecordReadiness())
	}},
	"create_run": {method: "run.create", apply: func(f *FSM, _ uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyCreateRun(c, c.GetCreateRun())
	}, audited: func(c *kirikaev1.Command) proto.Message {
		r := c.GetCreateRun() // the plan and its steps are in the run
		return &kirikaev1.Run{Id: r.GetId(), Kind: r.GetKind(), Drill: r.GetDrill(), PlanName: r.GetPlanName(), Params: maskedParams(r),
			Scenario: r.GetScenario(), ExpectedOutageMs: r.GetExpectedOutageMs(), Reason: r.GetReason(),
			OverrideCriteria: r.GetOverrideCriteria(), FromRegion: r.GetFromRegion(), ToRegion: r.GetToRegion(), ParentRunId: r.GetParentRunId(),
			// What a findings override overrode: the findings, not the whole evaluation.
			FindingsOverride: r.GetFindingsOverride(), Evaluation: overriddenFindings(r)}
	}},
	"step_dispatched": {method: "run.step.dispatch", apply: func(f *FSM, _ uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyStepDispatched(c, c.GetStepDispatched())
	}},
	"step_progress": {method: "run.step.progress", apply: func(f *FSM, _ uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyStepProgress(c, c.GetStepProgress())
	}, audited: func(*kirikaev1.Command) proto.Message {
		return nil // only refused progress lines are audited, and they say why
	}},
	"step_result": {method: "run.step.result", apply: func(f *FSM, _ uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyStepResult(c, c.GetStepResult())
	}},
	"control_plane_step": {method: "run.step.control-plane", apply: func(f *FSM, _ uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyControlPlaneStep(c, c.GetControlPlaneStep())
	}},
	"approve": {method: "run.approve", apply: func(f *FSM, _ uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyApprove(c, c.GetApprove())
	}},
	"confirm": {method: "run.confirm", apply: func(f *FSM, _ uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyConfirm(c, c.GetConfirm())
	}},
	"control": {method: "run.control", apply: func(f *FSM, _ uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyControl(c, c.GetControl())
	}},
	"run_readiness": {method: "run.readiness", apply: func(f *FSM, _ uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyRunReadiness(c.GetRunReadiness())
	}, audited: func(c *kirikaev1.Command) proto.Message {
		return &kirikaev1.RunReadiness{RunId: c.GetRunReadiness().GetRunId()} // the reports are in the run
	}},
	"record_tabletop": {method: "drill.tabletop.record", apply: func(f *FSM, _ uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyRecordTabletop(c, c.GetRecordTabletop())
	}, audited: func(c *kirikaev1.Command) proto.Message {
		r := c.GetRecordTabletop() // the steps are in the run
		return &kirikaev1.Run{Id: r.GetId(), Drill: r.GetDrill(), PlanName: r.GetPlanName(), Status: r.GetStatus(), Scenario: r.GetScenario(), Reason: r.GetReason()}
	}},
	"record_refusals": {method: "audit.refusals", apply: func(f *FSM, i uint64, c *kirikaev1.Command) *kirikaev1.CommandResult {
		return f.applyRefusals(i, c, c.GetRecordRefusals())
	}, selfAudited: true, audited: func(c *kirikaev1.Command) proto.Message {
		return &kirikaev1.Refusals{NodeId: c.GetRecordRefusals().GetNodeId()} // a refused batch: the refusals are not entries
	}},
}

var payloadOneof = (&kirikaev1.Command{}).ProtoReflect().Descriptor().Oneofs().ByName("payload")

// commandOf returns the kind of cmd; ok is false when cmd carries no payload this node
// knows.
func commandOf(cmd *kirikaev1.Command) (command, bool) {
	fd := cmd.ProtoReflect().WhichOneof(payloadOneof)
	if fd == nil {
		return command{}, false
	}
	c, ok := commands[fd.Name()]
	return c, ok
}

// methodOf names a command's kind, for the audit log and request-id scopes.
func methodOf(cmd *kirikaev1.Command) string {
	if c, ok := commandOf(cmd); ok {
		return c.method
	}
	return "unknown"
}

// renderRequest renders what the audit line records of a request as compact JSON.
// protojson randomizes whitespace on purpose, so the output is compacted to keep it
// identical on every node and build.
func renderRequest(cmd *kirikaev1.Command) string {
	c, ok := commandOf(cmd)
	if !ok {
		return "{}"
	}
	var m proto.Message
	if c.audited != nil {
		m = c.audited(cmd)
	} else {
		m = cmd.ProtoReflect().Get(cmd.ProtoReflect().WhichOneof(payloadOneof)).Message().Interface()
	}
	if m == nil {
		return "{}"
	}
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return "{}"
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}

// unread reports the first field of m, at any depth, that this build does not know: a
// field a newer version of kirikae wrote. It returns "" when m holds none.
func unread(m protoreflect.Message) string {
	if u := m.GetUnknown(); len(u) > 0 {
		return string(m.Descriptor().FullName())
	}
	found := ""
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len() && found == ""; i++ {
				found = unread(l.Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				found = unread(mv.Message())
				return found == ""
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			found = unread(v.Message())
		}
		return found == ""
	})
	return found
}

// mustUnderstand stops this node when a command holds something its build cannot read: a
// command type, or a field, that a newer version wrote. Nodes that can read it apply it; if
// this one refused or half-applied it instead, the states and audit chains of the cluster
// would part for good. So it halts before it applies anything, as Consul and Nomad servers
// do on an unknown message type, and a restart stops at the same entry until the node runs
// a version that reads it. Its peers go on without it.
func mustUnderstand(index uint64, cmd *kirikaev1.Command) {
	if where := unread(cmd.ProtoReflect()); where != "" {
		panic(fmt.Errorf("%w: raft index %d holds a command with a field this build does not know (in %s), written by a newer kirikae; this node stops before it applies anything, so it cannot part from its peers: upgrade it and start it again",
			ErrUnknownCommand, index, where))
	}
}

// overriddenFindings is the part of a run's evaluation its audit line keeps: the findings
// an override let the run start despite; nil when there were none.
func overriddenFindings(r *kirikaev1.Run) *kirikaev1.PlanEvaluation {
	if len(r.GetEvaluation().GetFindings()) == 0 {
		return nil
	}
	return &kirikaev1.PlanEvaluation{PlanName: r.GetEvaluation().GetPlanName(), Findings: r.GetEvaluation().GetFindings()}
}

// maskedParams is a run's params with each secret one's value masked, for its audit line.
func maskedParams(r *kirikaev1.Run) map[string]string {
	if len(r.GetSecretParams()) == 0 {
		return r.GetParams()
	}
	out := make(map[string]string, len(r.GetParams()))
	for k, v := range r.GetParams() {
		out[k] = v
	}
	for _, name := range r.GetSecretParams() {
		if _, ok := out[name]; ok {
			out[name] = redact.Mask
		}
	}
	return out
}

// secretsOf returns the secret values of the run a command is about: the run it creates,
// or the one its payload names by run_id. Callers hold mu.
func (f *FSM) secretsOf(cmd *kirikaev1.Command) []string {
	fd := cmd.ProtoReflect().WhichOneof(payloadOneof)
	if fd == nil {
		return nil
	}
	payload := cmd.ProtoReflect().Get(fd).Message()
	if r, ok := payload.Interface().(*kirikaev1.Run); ok {
		return redact.Values(r)
	}
	if id := payload.Descriptor().Fields().ByName("run_id"); id != nil && id.Kind() == protoreflect.StringKind {
		if r := f.findRun(payload.Get(id).String()); r != nil {
			return redact.Values(r)
		}
	}
	return nil
}
