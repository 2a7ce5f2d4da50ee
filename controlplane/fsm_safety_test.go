package controlplane

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// The tests here attack the rules the state machine enforces whatever an operator, an
// agent or a plan sends (fsm_safety.go): each tries to break one and checks that it holds,
// and that a refusal leaves the runs, the region and the resources exactly as they were.

// fingerprint of what a refusal must not change: the region, the runs and who owns what.
func (r *runFSM) state() []byte {
	r.t.Helper()
	r.f.mu.RLock()
	defer r.f.mu.RUnlock()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&kirikaev1.State{Region: r.f.state.GetRegion(), Runs: r.f.state.GetRuns(), Resources: r.f.state.GetResources()})
	if err != nil {
		r.t.Fatal(err)
	}
	return b
}

// refused applies cmd, wants it refused with code and an error containing every want, and
// the state unchanged.
func (r *runFSM) refused(actor string, cmd *kirikaev1.Command, code kirikaev1.ErrorCode, want ...string) {
	r.t.Helper()
	before := r.state()
	res := r.apply(actor, cmd)
	if res.GetCode() != code {
		r.t.Fatalf("got code %v (%q), want %v", res.GetCode(), res.GetError(), code)
	}
	for _, w := range want {
		if !strings.Contains(res.GetError(), w) {
			r.t.Fatalf("error %q does not say %q", res.GetError(), w)
		}
	}
	if !slices.Equal(before, r.state()) {
		r.t.Fatalf("a refusal changed the state: %q", res.GetError())
	}
}

func (r *runFSM) lastAudit() *kirikaev1.AuditEntry {
	a := r.f.Audit()
	return a[len(a)-1]
}

func progress(run, step string, attempt uint32, agent string, undo ...*kirikaev1.UndoStep) *kirikaev1.Command {
	return &kirikaev1.Command{Payload: &kirikaev1.Command_StepProgress{StepProgress: &kirikaev1.StepProgress{
		RunId: run, StepId: step, Attempt: attempt, AgentId: agent, Status: "working", Undo: undo}}}
}

func agentResult(run, step string, attempt uint32, agent string, ok bool, undo ...*kirikaev1.UndoStep) *kirikaev1.Command {
	c := result(run, step, attempt, ok)
	c.GetStepResult().AgentId = agent
	c.GetStepResult().Undo = undo
	return c
}

func undoOf(action, with, resource string) *kirikaev1.UndoStep {
	return &kirikaev1.UndoStep{Action: action, WithJson: with, Resource: resource}
}

const cacheKey = "us-west-2/elasticache-replication-group/dr"

func partialDrill(id string, steps ...*kirikaev1.StepState) *kirikaev1.Command {
	c := failoverRun(id, steps...)
	c.GetCreateRun().Drill = kirikaev1.DrillKind_DRILL_KIND_PARTIAL
	return c
}

func declare(id, preempt string, steps ...*kirikaev1.StepState) *kirikaev1.Command {
	c := failoverRun(id, steps...)
	c.GetCreateRun().PreemptRunId = preempt
	return c
}

func control(run string, a kirikaev1.ControlAction, step, reason string, undo bool) *kirikaev1.Command {
	return &kirikaev1.Command{Payload: &kirikaev1.Command_Control{Control: &kirikaev1.ControlRequest{RunId: run, Action: a, StepId: step, Reason: reason, Undo: undo}}}
}

// TestOneLiveRunAndPreemption: a drill that is building in the DR region holds the pair; a
// real declaration is refused with the drill's id and the flag to preempt it; a wrong id
// is refused naming the live run; with the drill's id the drill is aborted, audited, and
// what it created passes to the new run, so no teardown of the drill can ever delete it.
func TestOneLiveRunAndPreemption(t *testing.T) {
	r := newRunFSM(t)
	r.ok("op", partialDrill("d1", &kirikaev1.StepState{Id: "create-cache", Spec: spec("aws.elasticache.createReplicationGroup", "us-west-2")}))
	r.ok("srv", dispatched("d1", "create-cache", 1))
	r.ok("agent-us-west-2", progress("d1", "create-cache", 1, "a1",
		undoOf("aws.elasticache.deleteReplicationGroup", `{"replicationGroupId":"dr"}`, cacheKey)))
	if res := r.f.Resources(); len(res) != 1 || res[0].GetOwnerRunId() != "d1" {
		t.Fatalf("resources after the drill's create: %v", res)
	}

	real := func(preempt string) *kirikaev1.Command {
		return declare("f1", preempt, &kirikaev1.StepState{Id: "create-cache", Spec: spec("aws.elasticache.createReplicationGroup", "us-west-2")})
	}
	r.refused("op", real(""), kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "run d1 (partial drill failover) is running", "--preempt d1")
	r.refused("op", real("d9"), kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, `run "d9" is not the live run`, "run d1")
	another := partialDrill("d2", &kirikaev1.StepState{Id: "a", Spec: spec("aws.rds.stop", "us-west-2")})
	another.GetCreateRun().PreemptRunId = "d1"
	r.refused("op", another, kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "a drill preempts nothing")

	run := r.ok("op", real("d1"))
	if !slices.Equal(run.GetInheritedFrom(), []string{"d1"}) {
		t.Fatalf("new run inherits from %v", run.GetInheritedFrom())
	}
	d1 := r.f.Run("d1")
	if d1.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_ABORTED || d1.GetPreemptedBy() != "f1" || d1.GetUndoRequested() {
		t.Fatalf("preempted drill: status %s, preempted by %q, undo due %v", d1.GetStatus(), d1.GetPreemptedBy(), d1.GetUndoRequested())
	}
	if res := r.f.Resources(); len(res) != 1 || res[0].GetOwnerRunId() != "f1" {
		t.Fatalf("the drill's cache after the preemption: %v", res)
	}
	found := false
	for _, e := range r.f.Audit() {
		found = found || (e.GetMethod() == "run.preempt" && strings.Contains(e.GetRequest(), `"run_id":"d1"`) && strings.Contains(e.GetResult(), cacheKey))
	}
	if !found {
		t.Fatal("the preemption is not in the audit log")
	}
	// The drill's agent reports late, something more it created: it is the new run's.
	const secretKey = "us-west-2/secretsmanager-secret/s"
	r.ok("agent-us-west-2", agentResult("d1", "create-cache", 1, "a1", true,
		undoOf("aws.secretsmanager.restoreVersion", `{"secretId":"s","versionId":"v0"}`, secretKey)))
	for _, res := range r.f.Resources() {
		if res.GetOwnerRunId() != "f1" {
			t.Fatalf("%s belongs to %s after a late report of the preempted drill", res.GetKey(), res.GetOwnerRunId())
		}
	}
	// No teardown of the drill: it owns nothing, and the state machine refuses one.
	if r.f.TeardownWork("d1") != nil {
		t.Fatal("the preempted drill still has teardown work")
	}
	r.refused("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_CreateRun{CreateRun: &kirikaev1.Run{Id: "teardown-d1", Kind: kirikaev1.RunKind_RUN_KIND_TEARDOWN,
		Drill: kirikaev1.DrillKind_DRILL_KIND_PARTIAL, ParentRunId: "d1", PlanName: "t",
		Steps: []*kirikaev1.StepState{{Id: "undo-create-cache", Spec: &kirikaev1.StepSpec{Action: "aws.elasticache.deleteReplicationGroup", Region: "us-west-2", Resource: cacheKey}}}}}},
		kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "no teardown due")
	// The real run is live now: a drill cannot start, and the real run cannot be preempted.
	r.refused("op", partialDrill("d3", &kirikaev1.StepState{Id: "a", Spec: spec("aws.rds.stop", "us-west-2")}), kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "run f1 (failover) is running")
	r.refused("op", declare("f2", "f1", &kirikaev1.StepState{Id: "a", Spec: spec("aws.rds.stop", "us-west-2")}), kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "only a drill can be preempted")
}

// TestEndedDrillHoldsThePairUntilTornDown: a partial drill that has ended still owes its
// teardown, so it holds the pair; its teardown may start; a declaration may preempt the
// teardown through the drill's id, and the drill's leftovers pass to the new run.
func TestEndedDrillHoldsThePairUntilTornDown(t *testing.T) {
	r := newRunFSM(t)
	r.ok("op", partialDrill("d1", &kirikaev1.StepState{Id: "create-cache", Spec: spec("aws.elasticache.createReplicationGroup", "us-west-2")}))
	r.ok("srv", dispatched("d1", "create-cache", 1))
	r.ok("agent-us-west-2", agentResult("d1", "create-cache", 1, "a1", true,
		undoOf("aws.elasticache.deleteReplicationGroup", `{"replicationGroupId":"dr"}`, cacheKey)))
	if d1 := r.f.Run("d1"); d1.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED || !d1.GetUndoRequested() {
		t.Fatalf("ended drill: %s, teardown due %v", d1.GetStatus(), d1.GetUndoRequested())
	}
	work := r.f.TeardownWork("d1")
	if work == nil || len(work.GetSteps()) != 1 || work.GetSteps()[0].GetUndo()[0].GetResource() != cacheKey {
		t.Fatalf("teardown work: %v", work)
	}
	r.refused("op", declare("f1", "", &kirikaev1.StepState{Id: "a", Spec: spec("aws.rds.stop", "us-west-2")}), kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
		"run d1 (partial drill failover) has ended and its teardown is due", "--preempt d1")
	r.ok("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_CreateRun{CreateRun: &kirikaev1.Run{Id: "teardown-d1", Kind: kirikaev1.RunKind_RUN_KIND_TEARDOWN,
		Drill: kirikaev1.DrillKind_DRILL_KIND_PARTIAL, ParentRunId: "d1", PlanName: "t",
		Steps: []*kirikaev1.StepState{{Id: "undo-create-cache", Spec: &kirikaev1.StepSpec{Action: "aws.elasticache.deleteReplicationGroup", Region: "us-west-2", Resource: cacheKey}}}}}})
	r.refused("op", declare("f1", "teardown-d1x", &kirikaev1.StepState{Id: "a", Spec: spec("aws.rds.stop", "us-west-2")}), kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "teardown-d1x", "--preempt d1")
	r.ok("op", declare("f1", "d1", &kirikaev1.StepState{Id: "a", Spec: spec("aws.rds.stop", "us-west-2")}))
	if td := r.f.Run("teardown-d1"); td.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_ABORTED || td.GetPreemptedBy() != "f1" {
		t.Fatalf("preempted teardown: %s by %q", td.GetStatus(), td.GetPreemptedBy())
	}
	if res := r.f.Resources(); len(res) != 1 || res[0].GetOwnerRunId() != "f1" {
		t.Fatalf("after preempting the teardown: %v", res)
	}
	// The aborted teardown's step can no longer be dispatched.
	if res := r.apply("srv", dispatched("teardown-d1", "undo-create-cache", 1)); res.GetError() == "" {
		t.Fatal("a step of the preempted teardown was dispatched")
	}
}

// TestTeardownStepOfAnotherRunsResourceIsSkipped: a teardown step whose resource has passed
// to a later run is skipped when its dispatch is recorded, and says why; nothing is sent.
func TestTeardownStepOfAnotherRunsResourceIsSkipped(t *testing.T) {
	r := newRunFSM(t)
	const secretKey = "us-west-2/secretsmanager-secret/db"
	const fsKey = "us-west-2/efs-file-system/fs-1"
	writeSecret := func(run, version string) {
		r.ok("srv", dispatched(run, "put", 1))
		r.ok("agent-us-west-2", agentResult(run, "put", 1, "a1", true, undoOf("aws.secretsmanager.restoreVersion", `{"secretId":"db","versionId":"`+version+`"}`, secretKey)))
	}
	r.ok("op", declare("f1", "", &kirikaev1.StepState{Id: "put", Spec: spec("aws.secretsmanager.put", "us-west-2")},
		&kirikaev1.StepState{Id: "efs", Spec: spec("aws.backup.restoreLatest", "us-west-2")}))
	writeSecret("f1", "v0")
	r.ok("srv", dispatched("f1", "efs", 1))
	r.ok("agent-us-west-2", agentResult("f1", "efs", 1, "a1", true, undoOf("aws.efs.deleteFileSystem", `{"fileSystemId":"fs-1"}`, fsKey)))
	r.ok("op", declare("f2", "", &kirikaev1.StepState{Id: "put", Spec: spec("aws.secretsmanager.put", "us-west-2")},
		&kirikaev1.StepState{Id: "verify", Spec: spec("http.check", "us-west-2", "put")}))
	writeSecret("f2", "v1")
	// f1's undo is asked for while f2 is live: refused until it ends.
	r.refused("op", control("f1", kirikaev1.ControlAction_CONTROL_ACTION_UNDO, "", "", false), kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "run f2 (failover)", "once it has ended")
	r.ok("op", control("f2", kirikaev1.ControlAction_CONTROL_ACTION_ABORT, "", "test", false))
	r.ok("op", control("f1", kirikaev1.ControlAction_CONTROL_ACTION_UNDO, "", "", false))
	// Only the file system is f1's to undo now; the secret is f2's.
	work := r.f.TeardownWork("f1")
	var keys []string
	for _, st := range work.GetSteps() {
		for _, u := range st.GetUndo() {
			keys = append(keys, u.GetResource())
		}
	}
	if !slices.Equal(keys, []string{fsKey}) {
		t.Fatalf("f1's teardown work undoes %v, want only %s", keys, fsKey)
	}
	// A teardown that still lists the secret (written before f2 took it) skips it when it
	// comes to dispatch, and removes the file system.
	r.ok("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_CreateRun{CreateRun: &kirikaev1.Run{Id: "teardown-f1", Kind: kirikaev1.RunKind_RUN_KIND_TEARDOWN,
		ParentRunId: "f1", PlanName: "t", Steps: []*kirikaev1.StepState{
			{Id: "undo-put", Spec: &kirikaev1.StepSpec{Action: "aws.secretsmanager.restoreVersion", Region: "us-west-2", Resource: secretKey}},
			{Id: "undo-efs", Spec: &kirikaev1.StepSpec{Action: "aws.efs.deleteFileSystem", Region: "us-west-2", Resource: fsKey, Needs: []string{"undo-put"}}}}}}})
	run := r.ok("srv", dispatched("teardown-f1", "undo-put", 1))
	st := findStep(run, "undo-put")
	if st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_SKIPPED || st.GetSkippedBy() != "ownership" || !strings.Contains(strings.Join(st.GetHistory(), " "), "belongs to run f2") {
		t.Fatalf("undo of f2's secret: %s by %q: %v", st.GetStatus(), st.GetSkippedBy(), st.GetHistory())
	}
	r.ok("srv", dispatched("teardown-f1", "undo-efs", 1))
	run = r.ok("agent-us-west-2", agentResult("teardown-f1", "undo-efs", 1, "a1", true))
	if run.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
		t.Fatalf("teardown %s", run.GetStatus())
	}
	res := r.f.Resources()
	if len(res) != 1 || res[0].GetKey() != secretKey || res[0].GetOwnerRunId() != "f2" {
		t.Fatalf("resources after the teardown: %v (the file system is released, the secret stays f2's)", res)
	}
	if f1 := r.f.Run("f1"); f1.GetUndoRequested() || f1.GetTeardownRunId() != "teardown-f1" {
		t.Fatalf("f1 after its teardown: due %v, teardown %q", f1.GetUndoRequested(), f1.GetTeardownRunId())
	}
}

// TestUndoRequestsRefusedClearly: undoing a live run, a run that does not exist, or one
// that owns nothing is refused with an error naming it, and changes nothing.
func TestUndoRequestsRefusedClearly(t *testing.T) {
	r := newRunFSM(t)
	r.ok("op", declare("f1", "", &kirikaev1.StepState{Id: "efs", Spec: spec("aws.backup.restoreLatest", "us-west-2")}))
	r.ok("srv", dispatched("f1", "efs", 1))
	r.refused("op", control("f1", kirikaev1.ControlAction_CONTROL_ACTION_UNDO, "", "", false), kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
		"run f1 is still running", "kirikae run abort f1 --undo")
	r.refused("op", control("nope", kirikaev1.ControlAction_CONTROL_ACTION_UNDO, "", "", false), kirikaev1.ErrorCode_ERROR_CODE_NOT_FOUND, `run "nope"`)
	r.ok("agent-us-west-2", progress("f1", "efs", 1, "a1", undoOf("aws.efs.deleteFileSystem", `{"fileSystemId":"fs-9"}`, "us-west-2/efs-file-system/fs-9")))
	// Abort with undo: the teardown waits until the running step has reported.
	r.ok("op", control("f1", kirikaev1.ControlAction_CONTROL_ACTION_ABORT, "", "wrong plan", true))
	if f1 := r.f.Run("f1"); !f1.GetUndoRequested() || r.f.TeardownWork("f1") != nil {
		t.Fatalf("abort --undo with a step in flight: due %v, work %v", f1.GetUndoRequested(), r.f.TeardownWork("f1"))
	}
	r.ok("agent-us-west-2", agentResult("f1", "efs", 1, "a1", false))
	if w := r.f.TeardownWork("f1"); w == nil || len(w.GetSteps()) != 1 {
		t.Fatalf("teardown work once the step reported: %v", w)
	}
	r.refused("op", control("f1", kirikaev1.ControlAction_CONTROL_ACTION_UNDO, "", "", false), kirikaev1.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "already due")

	r2 := newRunFSM(t)
	r2.ok("op", declare("f2", "", &kirikaev1.StepState{Id: "check", Spec: spec("http.check", "us-west-2")}))
	r2.ok("op", control("f2", kirikaev1.ControlAction_CONTROL_ACTION_ABORT, "", "test", false))
	r2.refused("op", control("f2", kirikaev1.ControlAction_CONTROL_ACTION_UNDO, "", "", false), kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "run f2 owns nothing to undo")
}

// TestSkipKeepsOrder: a step a partial drill skips, and a step an operator skips while it
// waits for its needs, complete only once their own needs have: nothing after them starts
// before what they waited for.
func TestSkipKeepsOrder(t *testing.T) {
	r := newRunFSM(t)
	dns := spec("aws.route53.upsertAlias", "us-west-2", "build")
	dns.DrillSkip = true
	r.ok("op", partialDrill("d1",
		&kirikaev1.StepState{Id: "build", Spec: spec("aws.rds.restoreSnapshot", "us-west-2")},
		&kirikaev1.StepState{Id: "dns", Spec: dns},
		&kirikaev1.StepState{Id: "check", Spec: spec("http.check", "us-west-2", "dns")},
		&kirikaev1.StepState{Id: "later", Spec: spec("http.check", "us-west-2", "check")},
		&kirikaev1.StepState{Id: "last", Spec: spec("http.check", "us-west-2", "later")}))
	run := r.f.Run("d1")
	if needsDone(run, findStep(run, "check")) {
		t.Fatal("check may start before build has finished: the skipped dns step opened its gate")
	}
	r.refused("srv", dispatched("d1", "check", 1), kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION)
	// The operator skips "later" while check has not run: it waits too.
	r.ok("op", control("d1", kirikaev1.ControlAction_CONTROL_ACTION_SKIP, "later", "not needed", false))
	if st := r.step("d1", "later"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_PENDING || !st.GetSkipRequested() {
		t.Fatalf("later after a skip while check waits: %s", st.GetStatus())
	}
	r.ok("srv", dispatched("d1", "build", 1))
	run = r.ok("agent-us-west-2", agentResult("d1", "build", 1, "a1", true))
	if findStep(run, "dns").GetStatus() != kirikaev1.StepStatus_STEP_STATUS_SKIPPED || !needsDone(run, findStep(run, "check")) {
		t.Fatalf("after build: dns %s, check ready %v", findStep(run, "dns").GetStatus(), needsDone(run, findStep(run, "check")))
	}
	if needsDone(run, findStep(run, "last")) {
		t.Fatal("last may start before check has run")
	}
	r.ok("srv", dispatched("d1", "check", 1))
	run = r.ok("agent-us-west-2", agentResult("d1", "check", 1, "a1", true))
	if findStep(run, "later").GetStatus() != kirikaev1.StepStatus_STEP_STATUS_SKIPPED || !needsDone(run, findStep(run, "last")) {
		t.Fatalf("after check: later %s", findStep(run, "later").GetStatus())
	}
}

// TestActivationNeedsThePolicysApprovals attacks the approval policy: whatever the plan, a
// region.activate moves the region only with the runbook's approvals from distinct people,
// or an admin's waiver with a reason.
func TestActivationNeedsThePolicysApprovals(t *testing.T) {
	activate := func(run string) *kirikaev1.Command {
		return &kirikaev1.Command{Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{RunId: run, StepId: "activate", Attempt: 1, Ok: true, ActivateRegion: "us-west-2"}}}
	}
	start := func(run, step string) *kirikaev1.Command {
		return &kirikaev1.Command{Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{RunId: run, StepId: step, Start: true}}}
	}
	wantRefused := func(r *runFSM, run string, want ...string) {
		t.Helper()
		r.ok("srv", start(run, "activate"))
		res := r.apply("srv", activate(run))
		if res.GetCode() != kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED {
			t.Fatalf("activation: %v", res)
		}
		for _, w := range want {
			if !strings.Contains(res.GetError(), w) {
				t.Fatalf("refusal %q does not say %q", res.GetError(), w)
			}
		}
		if st, _, _ := r.f.Region(); st.GetActive() != "us-east-1" || st.GetEpoch() != 1 {
			t.Fatalf("the region moved: %v", st)
		}
		if st := r.step(run, "activate"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_FAILED {
			t.Fatalf("refused activation step is %s", st.GetStatus())
		}
		if a := r.lastAudit(); a.GetMethod() != "run.step.control-plane" || !strings.Contains(a.GetResult(), "region.activate refused") {
			t.Fatalf("the refusal is not audited: %v", a)
		}
	}
	act := &kirikaev1.StepState{Id: "activate", Spec: spec("region.activate", "control-plane")}

	t.Run("a plan of one region.activate", func(t *testing.T) {
		r := newRunFSM(t)
		r.ok("op", declare("f1", "", act))
		wantRefused(r, "f1", "sysadmin + manager (scenario region-outage) and executive", "missing sysadmin, manager, executive")
	})
	t.Run("one person in two roles", func(t *testing.T) {
		r := newRunFSM(t)
		r.ok("op", declare("f1", "",
			&kirikaev1.StepState{Id: "a1", Spec: &kirikaev1.StepSpec{Action: "approval", Region: "control-plane", Roles: []string{"sysadmin"}}},
			&kirikaev1.StepState{Id: "a2", Spec: &kirikaev1.StepSpec{Action: "approval", Region: "control-plane", Roles: []string{"manager"}}},
			&kirikaev1.StepState{Id: "a3", Spec: &kirikaev1.StepSpec{Action: "approval", Region: "control-plane", Roles: []string{"executive"}}}, act))
		for step, who := range map[string][2]string{"a1": {"frank", "sysadmin"}, "a2": {"frank", "manager"}, "a3": {"carol", "executive"}} {
			r.ok("srv", start("f1", step))
			r.ok(who[0], &kirikaev1.Command{Payload: &kirikaev1.Command_Approve{Approve: &kirikaev1.ApproveRequest{RunId: "f1", StepId: step, Role: who[1]}}})
		}
		wantRefused(r, "f1", "each by a different person", "manager by spiffe://kirikae/operator/frank", "sysadmin by spiffe://kirikae/operator/frank")
	})
	t.Run("an approval with no roles", func(t *testing.T) {
		r := newRunFSM(t)
		r.ok("op", declare("f1", "", &kirikaev1.StepState{Id: "ok", Spec: &kirikaev1.StepSpec{Action: "approval", Region: "control-plane"}}, act))
		run := r.ok("srv", start("f1", "ok"))
		if st := findStep(run, "ok"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_FAILED || !strings.Contains(st.GetError(), "names no roles") {
			t.Fatalf("approval with no roles: %s %q", st.GetStatus(), st.GetError())
		}
	})
	t.Run("skipping approvals", func(t *testing.T) {
		r := newRunFSM(t)
		r.ok("op", declare("f1", "", outageApproval(), &kirikaev1.StepState{Id: "activate", Spec: spec("region.activate", "control-plane", "approve")}))
		r.refused("op", control("f1", kirikaev1.ControlAction_CONTROL_ACTION_SKIP, "approve", "in a hurry", false), kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED, "only an admin may skip it")
		r.refused("admin", control("f1", kirikaev1.ControlAction_CONTROL_ACTION_SKIP, "approve", " ", false), kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "needs a reason")
		run := r.ok("admin", control("f1", kirikaev1.ControlAction_CONTROL_ACTION_SKIP, "approve", "executives unreachable; CEO approved by phone at 03:10", false))
		if w := findStep(run, "approve").GetWaiver(); w.GetActor() != "spiffe://kirikae/operator/admin" || !strings.Contains(w.GetReason(), "by phone") || len(w.GetRoles()) != 3 {
			t.Fatalf("waiver: %v", w)
		}
		if a := r.lastAudit(); a.GetMethod() != "run.control" || !strings.Contains(a.GetRequest(), "by phone") {
			t.Fatalf("the waiver is not audited: %v", a)
		}
		r.ok("srv", start("f1", "activate"))
		r.ok("srv", activate("f1"))
		if st, _, _ := r.f.Region(); st.GetActive() != "us-west-2" || st.GetEpoch() != 2 {
			t.Fatalf("after the waiver: %v", st)
		}
	})
	t.Run("a partial drill's activate", func(t *testing.T) {
		r := newRunFSM(t)
		r.ok("op", partialDrill("d1", outageApproval(), &kirikaev1.StepState{Id: "activate", Spec: spec("region.activate", "control-plane", "approve")}))
		r.approveAll("d1", "approve")
		wantRefused(r, "d1", "a partial drill never moves the active region")
	})
	t.Run("a recovery run's activate", func(t *testing.T) {
		r := newRunFSM(t)
		c := declare("b1", "", outageApproval(), &kirikaev1.StepState{Id: "activate", Spec: spec("region.activate", "control-plane", "approve")})
		c.GetCreateRun().Kind = kirikaev1.RunKind_RUN_KIND_RECOVERY
		r.ok("op", c)
		r.approveAll("b1", "approve")
		wantRefused(r, "b1", "only in failover and cutback runs")
	})
	t.Run("ransomware needs security", func(t *testing.T) {
		r := newRunFSM(t)
		c := declare("f1", "", outageApproval(), &kirikaev1.StepState{Id: "activate", Spec: spec("region.activate", "control-plane", "approve")})
		c.GetCreateRun().Scenario = "ransomware"
		r.ok("op", c)
		r.approveAll("f1", "approve")
		wantRefused(r, "f1", "security + manager (scenario ransomware)", "missing security")
	})
	t.Run("an unknown drill kind", func(t *testing.T) {
		r := newRunFSM(t)
		c := declare("f1", "", act)
		c.GetCreateRun().Drill = 77
		r.refused("op", c, kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "drill: 77 is not a kind of drill")
	})
}

// TestEarlyApprovalIsRefusedAndSaysWhen: an approval or confirmation for a step that is
// not waiting yet is not kept; the answer says what the step waits for and when to send it.
func TestEarlyApprovalIsRefusedAndSaysWhen(t *testing.T) {
	r := newRunFSM(t)
	r.ok("op", declare("f1", "",
		&kirikaev1.StepState{Id: "checklist", Spec: &kirikaev1.StepSpec{Action: "checklist", Region: "control-plane", Items: []string{"a"}, Roles: []string{"sysadmin"}}},
		&kirikaev1.StepState{Id: "approve-activation", Spec: &kirikaev1.StepSpec{Action: "approval", Region: "control-plane", Roles: []string{"executive"}, Needs: []string{"checklist"}}}))
	r.ok("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{RunId: "f1", StepId: "checklist", Start: true}}})
	r.refused("carol", &kirikaev1.Command{Payload: &kirikaev1.Command_Approve{Approve: &kirikaev1.ApproveRequest{RunId: "f1", StepId: "approve-activation", Role: "executive"}}},
		kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "step approve-activation is pending", "checklist (waiting)", "Nothing was recorded", "kirikae run show f1")
	r.ok("alice", &kirikaev1.Command{Payload: &kirikaev1.Command_Confirm{Confirm: &kirikaev1.ConfirmRequest{RunId: "f1", StepId: "checklist"}}})
	r.ok("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{RunId: "f1", StepId: "approve-activation", Start: true}}})
	run := r.ok("carol", &kirikaev1.Command{Payload: &kirikaev1.Command_Approve{Approve: &kirikaev1.ApproveRequest{RunId: "f1", StepId: "approve-activation", Role: "executive"}}})
	if st := findStep(run, "approve-activation"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED || len(st.GetApprovals()) != 1 {
		t.Fatalf("approval once the step waits: %s, %d approvals", st.GetStatus(), len(st.GetApprovals()))
	}
}

// TestChecklistByNumberAndRole: items are confirmed by number, each once, by someone with
// the step's role; an item that does not exist is refused naming it.
func TestChecklistByNumberAndRole(t *testing.T) {
	r := newRunFSM(t)
	items := []string{"AWS公式発表を確認", "影響範囲を確認", "復旧見込み時間を確認"}
	r.ok("op", declare("f1", "", &kirikaev1.StepState{Id: "checklist", Spec: &kirikaev1.StepSpec{Action: "checklist", Region: "control-plane", Items: items, Roles: []string{"sysadmin"}}}))
	confirm := func(nums ...uint32) *kirikaev1.Command {
		return &kirikaev1.Command{Payload: &kirikaev1.Command_Confirm{Confirm: &kirikaev1.ConfirmRequest{RunId: "f1", StepId: "checklist", ItemNumbers: nums}}}
	}
	r.refused("alice", confirm(1), kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "is pending") // not started yet
	r.ok("srv", &kirikaev1.Command{Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{RunId: "f1", StepId: "checklist", Start: true}}})
	r.refused("admin", confirm(1), kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED, "does not hold role sysadmin")
	r.refused("alice", confirm(1, 7), kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "no checklist item 7", "numbered 1 to 3")
	r.refused("alice", &kirikaev1.Command{Payload: &kirikaev1.Command_Confirm{Confirm: &kirikaev1.ConfirmRequest{RunId: "f1", StepId: "checklist", Items: []string{"1"}}}},
		kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, `no checklist item "1"`, "by their number")
	run := r.ok("alice", confirm(1, 3))
	st := findStep(run, "checklist")
	if st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_WAITING || len(st.GetConfirmations()) != 2 ||
		st.GetConfirmations()[0].GetItem() != items[0] || st.GetConfirmations()[1].GetItem() != items[2] {
		t.Fatalf("after confirming 1 and 3: %s %v", st.GetStatus(), st.GetConfirmations())
	}
	run = r.ok("alice", confirm(3, 2))
	if st := findStep(run, "checklist"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED || len(st.GetConfirmations()) != 3 {
		t.Fatalf("after confirming 2 (and 3 again): %s %d confirmations", st.GetStatus(), len(st.GetConfirmations()))
	}
}

// TestRequestIDsAreScopedAndChecked: a viewer's refused request under an id the server
// uses does not poison the server's command; a caller reusing an id for another request is
// refused; a true retry gets the first answer.
func TestRequestIDsAreScopedAndChecked(t *testing.T) {
	r := newRunFSM(t)
	r.ok("op", declare("f1", "", &kirikaev1.StepState{Id: "approve-activation", Spec: &kirikaev1.StepSpec{Action: "approval", Region: "control-plane", Roles: []string{"executive"}}}))
	poison := &kirikaev1.Command{RequestId: "cpstart/f1/approve-activation/1",
		Payload: &kirikaev1.Command_Approve{Approve: &kirikaev1.ApproveRequest{RunId: "f1", StepId: "approve-activation", Role: "executive"}}}
	if res := r.apply("eve", poison); res.GetError() == "" {
		t.Fatal("the viewer's approval was accepted")
	}
	run := r.ok("srv", &kirikaev1.Command{RequestId: "cpstart/f1/approve-activation/1",
		Payload: &kirikaev1.Command_ControlPlaneStep{ControlPlaneStep: &kirikaev1.ControlPlaneStep{RunId: "f1", StepId: "approve-activation", Start: true}}})
	if st := findStep(run, "approve-activation"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_WAITING {
		t.Fatalf("the server's start after a viewer used its id: %s", st.GetStatus())
	}
	approve := func(comment string) *kirikaev1.Command {
		return &kirikaev1.Command{RequestId: "carol-1", Payload: &kirikaev1.Command_Approve{Approve: &kirikaev1.ApproveRequest{RunId: "f1", StepId: "approve-activation", Role: "executive", Comment: comment}}}
	}
	first := r.ok("carol", approve("go"))
	again := r.apply("carol", approve("go"))
	if again.GetError() != "" || !proto.Equal(again.GetRun(), r.f.Run("f1")) || len(findStep(first, "approve-activation").GetApprovals()) != 1 {
		t.Fatalf("a retry: %v", again)
	}
	r.refused("carol", approve("something else"), kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, `request id "carol-1" was already used`, "different run.approve request")
	// Another caller's identical id is theirs, not carol's: it is judged on its own (and
	// refused, since the step is over), not answered with carol's result.
	if res := r.apply("alice", approve("go")); res.GetError() == "" || strings.Contains(res.GetError(), "already used") {
		t.Fatalf("alice reusing carol's id: %v", res)
	}
}

// TestAgentsReportOnlyForTheirOwnSteps: a result or a progress line for a step from an agent
// of another region, or from an agent of the right region that does not hold the attempt,
// is refused and audited, and the step is unchanged.
func TestAgentsReportOnlyForTheirOwnSteps(t *testing.T) {
	r := newRunFSM(t)
	r.ok("op", declare("f1", "", &kirikaev1.StepState{Id: "restore-rds", Spec: spec("aws.rds.restoreSnapshot", "us-west-2")}))
	r.ok("srv", dispatched("f1", "restore-rds", 1)) // to agent a1 of us-west-2
	forged := agentResult("f1", "restore-rds", 1, "a1", true)
	forged.GetStepResult().OutputsJson = `{"endpoint":"db.attacker.example"}`
	r.refused("agent-us-east-1", forged, kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED, "of us-east-1 reported for step restore-rds", "runs in us-west-2")
	if a := r.lastAudit(); a.GetMethod() != "run.step.result" || !strings.HasPrefix(a.GetResult(), "error: permission denied") || a.GetActor() != "spiffe://kirikae/agent/us-east-1" {
		t.Fatalf("the forged result is not audited: %v", a)
	}
	r.refused("agent-us-west-2", agentResult("f1", "restore-rds", 1, "a2", true), kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED, `which agent "a1" holds`)
	r.refused("agent-us-east-1", progress("f1", "restore-rds", 1, "a1", undoOf("aws.rds.deleteRestored", `{"instanceId":"x"}`, "us-west-2/rds-db-instance/x")),
		kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED, "of us-east-1")
	if a := r.lastAudit(); a.GetMethod() != "run.step.progress" {
		t.Fatalf("a refused progress line is not audited: %v", a)
	}
	r.refused("op", agentResult("f1", "restore-rds", 1, "a1", true), kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED, "is not an agent")
	run := r.ok("agent-us-west-2", agentResult("f1", "restore-rds", 1, "a1", true))
	if st := findStep(run, "restore-rds"); st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_SUCCEEDED || strings.Contains(st.GetOutputsJson(), "attacker") {
		t.Fatalf("the holder's result: %s %s", st.GetStatus(), st.GetOutputsJson())
	}
	// An agent of another region cannot register under the pair's other region either.
	r.refused("agent-us-east-1", &kirikaev1.Command{Payload: &kirikaev1.Command_RegisterAgent{RegisterAgent: &kirikaev1.AgentInfo{Id: "us-west-2/agent", Region: "us-west-2"}}},
		kirikaev1.ErrorCode_ERROR_CODE_PERMISSION_DENIED, "may not register an agent of us-west-2")
}

// TestSnapshotSizeFollowsTheState: progress lines change one field of one step; the
// snapshot after ten thousand of them is within twice its size after ten.
func TestSnapshotSizeFollowsTheState(t *testing.T) {
	size := func(lines int) int {
		r := newRunFSM(t)
		r.ok("op", declare("f1", "", &kirikaev1.StepState{Id: "restore-rds", Spec: spec("aws.rds.restoreSnapshot", "us-west-2")}))
		r.ok("srv", dispatched("f1", "restore-rds", 1))
		for i := range lines {
			r.ok("agent-us-west-2", &kirikaev1.Command{RequestId: fmt.Sprintf("p%d", i), Payload: &kirikaev1.Command_StepProgress{StepProgress: &kirikaev1.StepProgress{
				RunId: "f1", StepId: "restore-rds", Attempt: 1, AgentId: "a1", Status: fmt.Sprintf("creating (%ds elapsed)", i)}}})
		}
		b, _, err := r.f.StateBytes()
		if err != nil {
			t.Fatal(err)
		}
		return len(b)
	}
	small, big := size(10), size(10000)
	t.Logf("snapshot after 10 progress lines: %d bytes; after 10000: %d bytes", small, big)
	if big > 2*small {
		t.Fatalf("snapshot grew from %d to %d bytes over 10000 progress lines", small, big)
	}
}
