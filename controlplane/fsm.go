package controlplane

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/hashicorp/raft"
	"google.golang.org/protobuf/proto"

	"github.com/kirikae/kirikae/awsregion"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/redact"
)

// maxAppliedRequests bounds the request-id deduplication window. It is a count, not a time,
// so every node forgets the same ids at the same index.
const maxAppliedRequests = 50000

// FSM is the replicated state machine.
//
// Determinism: Apply depends only on the log entry bytes and the state before it. It never
// reads a clock or a random source; the leader stamps Command.time_unix_nano before it
// proposes. Snapshot output is deterministic protobuf, so two nodes at the same index
// produce the same bytes.
//
// Concurrency: raft calls Apply, Snapshot and Restore from one goroutine. Readers (gRPC and
// HTTP handlers, watchers) may call the read methods concurrently; they take mu for reading.
// Watchers wait on the channel returned by Changed, which is closed and replaced whenever
// the region state changes.
type FSM struct {
	mu      sync.RWMutex
	state   *kirikaev1.State
	applied map[string]*kirikaev1.AppliedRequest
	index   uint64 // last applied raft index
	// applying is the index of the entry being applied, for changes it records.
	applying uint64
	changed  chan struct{}
	// appliedCh is closed and replaced on every applied index, for ReadIndex waiters.
	appliedCh chan struct{}
	// metrics counts what is applied (fsm_metrics.go); it never changes the state.
	metrics *fsmMetrics
}

// NewFSM returns an empty state machine.
func NewFSM() *FSM {
	return &FSM{
		state:     &kirikaev1.State{},
		applied:   map[string]*kirikaev1.AppliedRequest{},
		changed:   make(chan struct{}),
		appliedCh: make(chan struct{}),
		metrics:   newFSMMetrics(),
	}
}

// Apply applies one log entry. Non-command entries only advance the index. A command this
// build cannot read in full stops the node (mustUnderstand).
//
// Request ids: a command with a request id is applied once per (scope, method, id), where
// the scope is the caller (every control-plane server is one scope, "server"). A second
// command with the same key and the same fingerprint returns the first one's result; with
// another fingerprint it is refused, so an id cannot be replayed for a different request,
// and one caller's id never answers, or blocks, another's. Progress lines carry no id
// worth keeping: they are status, applied every time and never remembered.
func (f *FSM) Apply(l *raft.Log) any {
	var cmd kirikaev1.Command
	decodeErr := error(nil)
	if l.Type == raft.LogCommand {
		decodeErr = proto.Unmarshal(l.Data, &cmd)
		if decodeErr == nil {
			mustUnderstand(l.Index, &cmd) // before anything changes, even the applied index
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.advance(l.Index)
	if l.Type != raft.LogCommand {
		return nil
	}
	f.applying = l.Index
	if decodeErr != nil {
		// A corrupt entry cannot be applied by any node, so every node skips it alike.
		return &kirikaev1.CommandResult{Error: fmt.Sprintf("decode command at index %d: %v", l.Index, decodeErr),
			Code: kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT}
	}
	method := methodOf(&cmd)
	progress := method == "run.step.progress"
	key := ""
	if cmd.GetRequestId() != "" && !progress {
		key = dedupKey(ScopeOf(cmd.GetActor()), method, cmd.GetRequestId())
		if prev, ok := f.applied[key]; ok {
			// The server's own retries may differ in a detail (a new epoch on a re-dispatch);
			// they are the same decision, so they get the first answer. No caller can write
			// into the server's scope.
			if prev.GetScope() != "server" && !bytes.Equal(prev.GetFingerprint(), cmd.GetFingerprint()) {
				res := refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT,
					"request id %q was already used by %s for a different %s request (raft index %d); send a new request id",
					cmd.GetRequestId(), ScopeOf(cmd.GetActor()), method, prev.GetRaftIndex())
				f.audit(l.Index, &cmd, method, res)
				return res
			}
			return f.replay(prev.GetResult())
		}
	}
	res := f.dispatch(l.Index, &cmd)
	// Progress lines are status, not requests: auditing one per second per step would bury
	// the log. A refused one is audited: it came from someone who may not send it. A batch
	// of refusals wrote its own lines.
	c, _ := commandOf(&cmd)
	if (!progress && !c.selfAudited) || res.GetError() != "" {
		f.audit(l.Index, &cmd, method, res)
	}
	if key != "" {
		f.remember(key, &kirikaev1.AppliedRequest{RequestId: cmd.GetRequestId(), RaftIndex: l.Index, Result: trimResult(res),
			Scope: ScopeOf(cmd.GetActor()), Method: method, Fingerprint: cmd.GetFingerprint()})
	}
	return res
}

// ScopeOf is the scope request ids live in for an actor: every control-plane server is one
// scope, so a new leader proposing what the old one did is deduplicated, and no caller can
// write into it (callers are authenticated operators or agents, never "server").
func ScopeOf(actor string) string {
	if strings.HasPrefix(actor, "spiffe://kirikae/server/") || actor == "spiffe://kirikae/server" {
		return "server"
	}
	return actor
}

func dedupKey(scope, method, id string) string { return scope + "\x00" + method + "\x00" + id }

// trimResult keeps what a replay needs and no more: the outcome and which run or region it
// was about. A full run in every remembered result would make snapshots grow with the
// number of commands instead of with the state.
func trimResult(res *kirikaev1.CommandResult) *kirikaev1.CommandResult {
	if res == nil {
		return nil
	}
	out := &kirikaev1.CommandResult{Error: res.GetError(), Code: res.GetCode(), Region: res.GetRegion(), RunId: res.GetRunId()}
	if res.GetRun() != nil {
		out.RunId = res.GetRun().GetId()
	}
	return out
}

// replay answers a repeated request: the remembered outcome, with the run it was about as
// it stands now.
func (f *FSM) replay(prev *kirikaev1.CommandResult) *kirikaev1.CommandResult {
	out := proto.Clone(prev).(*kirikaev1.CommandResult)
	if r := f.findRun(prev.GetRunId()); r != nil && prev.GetError() == "" {
		out.Run = proto.Clone(r).(*kirikaev1.Run)
	}
	return out
}

func (f *FSM) advance(index uint64) {
	if index > f.index {
		f.index = index
	}
	f.state.AppliedIndex = f.index
	close(f.appliedCh)
	f.appliedCh = make(chan struct{})
}

func (f *FSM) dispatch(index uint64, cmd *kirikaev1.Command) *kirikaev1.CommandResult {
	c, ok := commandOf(cmd)
	if !ok {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "command has no payload")
	}
	return c.apply(f, index, cmd)
}

func refuse(code kirikaev1.ErrorCode, format string, args ...any) *kirikaev1.CommandResult {
	return &kirikaev1.CommandResult{Error: fmt.Sprintf(format, args...), Code: code}
}

// ValidateRegion checks an AWS region name's shape.
func ValidateRegion(field, region string) error {
	if p := regionProblem(field, region); p != "" {
		return fmt.Errorf("%w: %s", ErrInvalidArgument, p)
	}
	return nil
}

// regionProblem says what is wrong with a region name, or "" when it has the shape of one.
func regionProblem(field, region string) string {
	if awsregion.Valid(region) {
		return ""
	}
	return fmt.Sprintf("%s %q is not an AWS region name (want e.g. us-east-1)", field, region)
}

func (f *FSM) applyInit(index uint64, cmd *kirikaev1.Command, req *kirikaev1.InitRegionRequest) *kirikaev1.CommandResult {
	if f.state.GetInitialized() {
		r := f.state.GetRegion()
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_ALREADY_EXISTS,
			"region pair already initialized (primary %s, secondary %s, active %s, epoch %d); use `kirikae region set --force` to move the active region",
			r.GetPrimary(), r.GetSecondary(), r.GetActive(), r.GetEpoch())
	}
	for _, c := range []struct{ field, v string }{{"primary", req.GetPrimary()}, {"secondary", req.GetSecondary()}} {
		if p := regionProblem(c.field, c.v); p != "" {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "%s", p)
		}
	}
	if req.GetPrimary() == req.GetSecondary() {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "primary and secondary are both %q; they must differ", req.GetPrimary())
	}
	if p := f.systemPairProblem(req.GetPrimary(), req.GetSecondary()); p != "" {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "%s", p)
	}
	f.state.Initialized = true
	f.setRegion(index, &kirikaev1.RegionState{
		Primary:         req.GetPrimary(),
		Secondary:       req.GetSecondary(),
		Active:          req.GetPrimary(),
		Epoch:           1,
		Mode:            kirikaev1.Mode_MODE_NORMAL,
		ChangedUnixNano: cmd.GetTimeUnixNano(),
		ChangedBy:       cmd.GetActor(),
		Reason:          "region init",
	})
	return &kirikaev1.CommandResult{Region: proto.Clone(f.state.GetRegion()).(*kirikaev1.RegionState)}
}

func (f *FSM) applySet(index uint64, cmd *kirikaev1.Command, req *kirikaev1.SetRegionRequest) *kirikaev1.CommandResult {
	if !f.state.GetInitialized() {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION, "%v", ErrNotInitialized)
	}
	cur := f.state.GetRegion()
	if !req.GetForce() {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
			"region set is the break-glass and needs force (--force); use a failover plan otherwise")
	}
	if req.GetRegion() != cur.GetPrimary() && req.GetRegion() != cur.GetSecondary() {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT,
			"region %q is not in the pair (%s, %s)", req.GetRegion(), cur.GetPrimary(), cur.GetSecondary())
	}
	if req.GetReason() == "" {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "reason is required for a forced region change")
	}
	next := proto.Clone(cur).(*kirikaev1.RegionState)
	next.Active = req.GetRegion()
	next.Epoch = cur.GetEpoch() + 1
	if next.Active == next.Primary {
		next.Mode = kirikaev1.Mode_MODE_NORMAL
	} else {
		next.Mode = kirikaev1.Mode_MODE_FAILED_OVER
	}
	next.ChangedUnixNano = cmd.GetTimeUnixNano()
	next.ChangedBy = cmd.GetActor()
	next.Reason = req.GetReason()
	f.setRegion(index, next)
	return &kirikaev1.CommandResult{Region: proto.Clone(next).(*kirikaev1.RegionState)}
}

// setRegion records a new region state and wakes watchers. Callers hold mu. One entry may
// change the state twice (a region move that also ends a run); history keeps one change per
// index, the last, so a watcher resuming from an index misses nothing.
func (f *FSM) setRegion(index uint64, st *kirikaev1.RegionState) {
	f.state.Region = st
	change := &kirikaev1.RegionChange{Index: index, State: proto.Clone(st).(*kirikaev1.RegionState)}
	if n := len(f.state.History); n > 0 && f.state.History[n-1].GetIndex() == index {
		f.state.History[n-1] = change
	} else {
		f.state.History = append(f.state.History, change)
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

// applyRestore replaces the replicated state with a saved one. The audit log is append-only,
// so it is kept, not rewound: the restore itself is audited on top of it.
func (f *FSM) applyRestore(index uint64, req *kirikaev1.RestoreState) *kirikaev1.CommandResult {
	in := req.GetState()
	if in == nil {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "snapshot holds no state")
	}
	if in.GetInitialized() {
		r := in.GetRegion()
		if p := regionProblem("snapshot primary", r.GetPrimary()); p != "" {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "%s", p)
		}
		if r.GetActive() != r.GetPrimary() && r.GetActive() != r.GetSecondary() {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "snapshot active region %q is not in its pair", r.GetActive())
		}
	}
	// The epoch is a fencing token and never goes back: restoring an older state over a
	// live one is itself a change, so it lands above the current epoch. Restoring into an
	// empty cluster keeps the saved epoch exactly.
	region := proto.Clone(in.GetRegion()).(*kirikaev1.RegionState)
	if f.state.GetInitialized() && region != nil {
		region.Epoch = max(region.GetEpoch(), f.state.GetRegion().GetEpoch()+1)
	}
	f.state.Initialized = in.GetInitialized()
	f.state.Region = region
	f.state.History = in.GetHistory()
	f.state.Members = in.GetMembers()
	// Watchers resume by index; a restore is a change at this index.
	if f.state.GetInitialized() {
		f.state.History = append(f.state.History, &kirikaev1.RegionChange{Index: index, State: proto.Clone(f.state.GetRegion()).(*kirikaev1.RegionState)})
	}
	close(f.changed)
	f.changed = make(chan struct{})
	return &kirikaev1.CommandResult{Region: proto.Clone(f.state.GetRegion()).(*kirikaev1.RegionState)}
}

func (f *FSM) applyRegisterMember(req *kirikaev1.JoinClusterRequest) *kirikaev1.CommandResult {
	if req.GetId() == "" {
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "member id is empty")
	}
	m := &kirikaev1.MemberAddress{Id: req.GetId(), GrpcAddress: req.GetGrpcAddress(), HttpAddress: req.GetHttpAddress()}
	for i, old := range f.state.Members {
		if old.GetId() == m.GetId() {
			f.state.Members[i] = m
			return &kirikaev1.CommandResult{}
		}
	}
	f.state.Members = append(f.state.Members, m)
	return &kirikaev1.CommandResult{}
}

func (f *FSM) applyRemoveMember(req *kirikaev1.RemoveMemberRequest) *kirikaev1.CommandResult {
	for i, old := range f.state.Members {
		if old.GetId() == req.GetId() {
			f.state.Members = append(f.state.Members[:i:i], f.state.Members[i+1:]...)
			return &kirikaev1.CommandResult{}
		}
	}
	return &kirikaev1.CommandResult{}
}

func (f *FSM) remember(key string, a *kirikaev1.AppliedRequest) {
	f.state.Applied = append(f.state.Applied, a)
	f.applied[key] = a
	if n := len(f.state.Applied) - maxAppliedRequests; n > 0 {
		for _, old := range f.state.Applied[:n] {
			delete(f.applied, appliedKey(old))
		}
		f.state.Applied = append([]*kirikaev1.AppliedRequest(nil), f.state.Applied[n:]...)
	}
}

func appliedKey(a *kirikaev1.AppliedRequest) string {
	return dedupKey(a.GetScope(), a.GetMethod(), a.GetRequestId())
}

// audit appends an entry chained to the one before it.
func (f *FSM) audit(index uint64, cmd *kirikaev1.Command, method string, res *kirikaev1.CommandResult) {
	result := "ok"
	if err := errorFromResult(res); err != nil {
		result = "error: " + err.Error()
	}
	// A secret param's value never reaches the log, wherever in the request it appears.
	secrets := f.secretsOf(cmd)
	f.auditNote(index, cmd, method, redact.String(renderRequest(cmd), secrets), redact.String(result, secrets))
}

// AuditHash is SHA-256 over the entry's fields, each length-prefixed, and prev_hash.
// `kirikae audit` recomputes it to verify the chain.
func AuditHash(e *kirikaev1.AuditEntry) string {
	h := sha256.New()
	var n [8]byte
	writeU := func(v uint64) { binary.BigEndian.PutUint64(n[:], v); h.Write(n[:]) }
	writeS := func(s string) { writeU(uint64(len(s))); io.WriteString(h, s) }
	writeU(e.GetSeq())
	writeU(e.GetRaftIndex())
	writeU(uint64(e.GetTimeUnixNano()))
	writeS(e.GetActor())
	writeS(e.GetMethod())
	writeS(e.GetRequest())
	writeS(e.GetRequestId())
	writeS(e.GetResult())
	writeS(e.GetPrevHash())
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyAuditChain checks seq numbering and the hash chain of a full log from its start.
// It returns the first broken entry's seq and an error, or 0 and nil.
func VerifyAuditChain(entries []*kirikaev1.AuditEntry) (uint64, error) {
	prev := ""
	for i, e := range entries {
		if e.GetSeq() != uint64(i)+1 {
			return e.GetSeq(), fmt.Errorf("audit entry %d: seq is %d, want %d", i+1, e.GetSeq(), i+1)
		}
		if e.GetPrevHash() != prev {
			return e.GetSeq(), fmt.Errorf("audit entry %d: prev_hash does not match the entry before", e.GetSeq())
		}
		if got := AuditHash(e); got != e.GetHash() {
			return e.GetSeq(), fmt.Errorf("audit entry %d: hash mismatch (entry altered)", e.GetSeq())
		}
		prev = e.GetHash()
	}
	return 0, nil
}

// Snapshot captures the state. raft may call Persist from another goroutine while Apply
// continues, so the state is marshalled here, under the read lock.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(f.state)
	if err != nil {
		return nil, fmt.Errorf("marshal state: %w", err)
	}
	return &fsmSnapshot{data: b}, nil
}

// Restore replaces the state from a snapshot written by Snapshot.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	st := &kirikaev1.State{}
	if err := proto.Unmarshal(b, st); err != nil {
		return fmt.Errorf("decode snapshot: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = st
	f.index = st.GetAppliedIndex()
	f.applied = make(map[string]*kirikaev1.AppliedRequest, len(st.GetApplied()))
	for _, a := range st.GetApplied() {
		f.applied[appliedKey(a)] = a
	}
	close(f.changed)
	f.changed = make(chan struct{})
	return nil
}

type fsmSnapshot struct{ data []byte }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s.data); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("write snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}

// Region returns a copy of the region state, whether it is initialized, and the applied index.
func (f *FSM) Region() (st *kirikaev1.RegionState, initialized bool, index uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.state.GetRegion() != nil {
		st = proto.Clone(f.state.GetRegion()).(*kirikaev1.RegionState)
	}
	return st, f.state.GetInitialized(), f.index
}

// AppliedIndex is the last applied raft index.
func (f *FSM) AppliedIndex() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.index
}

// waitApplied returns a channel closed at the next applied index, and the index now.
func (f *FSM) waitApplied() (<-chan struct{}, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.appliedCh, f.index
}

// ChangesSince returns the region changes with an index above from, and a channel that is
// closed at the next change. Watchers loop on it.
func (f *FSM) ChangesSince(from uint64) ([]*kirikaev1.RegionChange, <-chan struct{}) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	h := f.state.GetHistory()
	// History is ordered by index; find the first entry after from.
	lo, hi := 0, len(h)
	for lo < hi {
		mid := (lo + hi) / 2
		if h[mid].GetIndex() <= from {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return h[lo:len(h):len(h)], f.changed
}

// History returns every region change.
func (f *FSM) History() []*kirikaev1.RegionChange {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return append([]*kirikaev1.RegionChange(nil), f.state.GetHistory()...)
}

// Audit returns the audit log.
func (f *FSM) Audit() []*kirikaev1.AuditEntry {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return append([]*kirikaev1.AuditEntry(nil), f.state.GetAudit()...)
}

// Members returns the advertised addresses of control-plane nodes.
func (f *FSM) Members() []*kirikaev1.MemberAddress {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return append([]*kirikaev1.MemberAddress(nil), f.state.GetMembers()...)
}

// StateBytes returns a deterministic encoding of the whole state, for `snapshot save`.
func (f *FSM) StateBytes() ([]byte, uint64, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(f.state)
	if err != nil {
		return nil, 0, fmt.Errorf("marshal state: %w", err)
	}
	return b, f.index, nil
}
