package integration

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/anishathalye/porcupine"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
)

// FaultKind is a fault the chaos harness injects into one control-plane node.
type FaultKind string

// The faults: a crash and restart, a process frozen and thawed (a long GC pause, a VM
// migration), and a cut network cable (only in a cluster on a Net).
const (
	FaultKill      FaultKind = "kill"
	FaultStop      FaultKind = "stop"
	FaultPartition FaultKind = "partition"
)

// ChaosConfig says how hard RunChaos pushes.
type ChaosConfig struct {
	// Faults is how many faults to inject in all; rounds run until it is reached.
	Faults int
	// Kinds are the faults to inject, taken in turn.
	Kinds []FaultKind
	// Round is the length of one history; each round's history is checked on its own.
	Round time.Duration
	// QuietRounds run first, with no fault: a stale read needs no fault to show. The
	// first runs without the delay, the others with it.
	QuietRounds int
	// ClientsPerNode each hold their own connection to one node.
	ClientsPerNode int
	// Delay is the one-way delay on every raft link in every round but the first. It
	// needs a cluster made with RaftProxy.
	Delay time.Duration
	// OutDir receives a porcupine visualization of every illegal history.
	OutDir string
	// Logf reports progress.
	Logf func(format string, args ...any)
}

// ChaosReport is what RunChaos saw.
type ChaosReport struct {
	Faults     map[FaultKind]int
	Operations int
	Unknown    int // writes whose outcome the client never learned
	Histories  int
	Illegal    int
	// Undecided counts histories the checker could not decide within its time limit.
	Undecided      int
	Visualizations []string
}

// TotalFaults is the number of faults injected.
func (r ChaosReport) TotalFaults() int {
	n := 0
	for _, v := range r.Faults {
		n += v
	}
	return n
}

func (r ChaosReport) String() string {
	var kinds []string
	for _, k := range []FaultKind{FaultKill, FaultStop, FaultPartition} {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, r.Faults[k]))
	}
	return fmt.Sprintf("faults %d (%s), operations %d (%d writes of unknown outcome), histories %d: %d illegal, %d undecided",
		r.TotalFaults(), strings.Join(kinds, ", "), r.Operations, r.Unknown, r.Histories, r.Illegal, r.Undecided)
}

// regionOp is a client's call: a forced region change or a linearizable read. A change
// carries its request id, which it also writes as the change's reason.
type regionOp struct {
	Set    bool
	Region string
	ID     string
}

// regionResult is what the call returned. Unknown marks a write that failed in a way that
// leaves its outcome open. The harness settles those from the region's history, where each
// change names its request: one found there gets the state it made (Resolved), one not
// found had no effect and leaves the history.
type regionResult struct {
	Active   string
	Epoch    uint64
	Node     string
	Unknown  bool
	Resolved bool
}

type regionState struct {
	Active string
	Epoch  uint64
}

// RegionModel is the sequential specification of the active region: a forced change moves
// it and raises the epoch by one; a read returns it.
func RegionModel(init regionState) porcupine.Model {
	return porcupine.Model{
		Init: func() any { return init },
		Step: func(s, in, out any) (bool, any) {
			st, op, res := s.(regionState), in.(regionOp), out.(regionResult)
			if op.Set {
				next := regionState{Active: op.Region, Epoch: st.Epoch + 1}
				return res.Unknown || (res.Active == next.Active && res.Epoch == next.Epoch), next
			}
			return res.Active == st.Active && res.Epoch == st.Epoch, st
		},
		DescribeOperation: func(in, out any) string {
			op, res := in.(regionOp), out.(regionResult)
			got := fmt.Sprintf("%s/%d", res.Active, res.Epoch)
			switch {
			case res.Unknown:
				got = "unknown"
			case res.Resolved:
				got += " (timed out; found in the history)"
			}
			if op.Set {
				return fmt.Sprintf("set %s -> %s (node %s)", op.Region, got, res.Node)
			}
			return fmt.Sprintf("get -> %s (node %s)", got, res.Node)
		},
		DescribeState: func(s any) string {
			st := s.(regionState)
			return fmt.Sprintf("%s/%d", st.Active, st.Epoch)
		},
	}
}

// chaos is one RunChaos: its clients, its clock and what it has seen.
type chaos struct {
	c       *Cluster
	cfg     ChaosConfig
	base    time.Time
	pair    [2]string
	conns   []*grpc.ClientConn // per node
	report  ChaosReport
	mu      sync.Mutex
	history []porcupine.Operation
	notes   []porcupine.Annotation
	cut     map[int]bool // nodes whose cable is cut
}

// RunChaos runs clients on every node of c, doing forced region changes and linearizable
// reads, while it injects faults one at a time; it checks every round's history with
// porcupine. The region pair must be initialized. It returns what it saw; an error means
// the harness itself could not go on (a node that would not come back), not an illegal
// history, which the report counts.
func RunChaos(ctx context.Context, c *Cluster, cfg ChaosConfig) (ChaosReport, error) {
	if cfg.Round <= 0 {
		cfg.Round = 8 * time.Second
	}
	if cfg.ClientsPerNode <= 0 {
		cfg.ClientsPerNode = 2
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.OutDir == "" {
		cfg.OutDir = os.TempDir()
	}
	for _, k := range cfg.Kinds {
		if k == FaultPartition && c.net == nil {
			return ChaosReport{}, errors.New("chaos: partitions need a cluster on a Net")
		}
	}
	h := &chaos{c: c, cfg: cfg, base: time.Now(), report: ChaosReport{Faults: map[FaultKind]int{}}, cut: map[int]bool{}}
	conf, err := security.ClientTLS(c.CA(), filepath.Join(c.CertDir, "operator-admin.pem"), filepath.Join(c.CertDir, "operator-admin-key.pem"))
	if err != nil {
		return h.report, err
	}
	for i, nd := range c.Nodes {
		opts := []grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(conf))}
		if c.net != nil {
			// From inside the node's own namespace: a client next to its node keeps
			// reaching it through a partition, which is where stale answers would come from.
			opts = append(opts, grpc.WithContextDialer(c.net.DialNode(i)))
		}
		cc, err := grpc.NewClient(nd.GRPCAddr, opts...)
		if err != nil {
			return h.report, err
		}
		defer cc.Close()
		h.conns = append(h.conns, cc)
	}
	if err := h.readPair(ctx); err != nil {
		return h.report, err
	}
	start, err := h.settle(ctx, 0)
	if err != nil {
		return h.report, err
	}
	for round := 0; ctx.Err() == nil; round++ {
		quiet := round < cfg.QuietRounds
		if !quiet && h.report.TotalFaults() >= cfg.Faults {
			break
		}
		if start, err = h.round(ctx, round, quiet, start); err != nil {
			return h.report, err
		}
	}
	return h.report, ctx.Err()
}

func (h *chaos) now() int64 { return time.Since(h.base).Nanoseconds() }

// settled is the state a round starts from: what the settling write returned, and its
// raft index.
type settled struct {
	state regionState
	index uint64
}

// round runs one history from start, settles the cluster, and checks the history. It
// returns where the next round starts.
func (h *chaos) round(ctx context.Context, round int, quiet bool, start settled) (settled, error) {
	if round > 0 {
		h.c.SetRaftDelay(h.cfg.Delay)
	}
	h.mu.Lock()
	h.history, h.notes = nil, nil
	h.mu.Unlock()

	rctx, cancel := context.WithTimeout(ctx, h.cfg.Round)
	defer cancel()
	var wg sync.WaitGroup
	for i := range h.c.Nodes {
		for k := range h.cfg.ClientsPerNode {
			id := i*h.cfg.ClientsPerNode + k
			wg.Add(1)
			go func() { defer wg.Done(); h.client(rctx, round, id, i) }()
		}
	}
	faultsErr := make(chan error, 1)
	go func() {
		if quiet {
			faultsErr <- nil
			return
		}
		faultsErr <- h.inject(rctx)
	}()
	wg.Wait()
	if err := <-faultsErr; err != nil {
		return settled{}, err
	}
	end := h.now()
	next, err := h.settle(ctx, round+1)
	if err != nil {
		return settled{}, err
	}
	applied, err := h.changes(ctx, start.index, next.index)
	if err != nil {
		return settled{}, err
	}

	h.mu.Lock()
	all := h.history
	notes := h.notes
	h.mu.Unlock()
	var ops []porcupine.Operation
	unknown := 0
	for _, op := range all {
		res := op.Output.(regionResult)
		if res.Unknown {
			unknown++
			st, ok := applied[op.Input.(regionOp).ID]
			if !ok {
				continue // never applied: no effect on anything
			}
			// Applied, but the client never heard: it took effect at some time after its
			// call, which is all the history can say.
			op.Output = regionResult{Active: st.Active, Epoch: st.Epoch, Node: res.Node, Resolved: true}
			op.Return = end
		}
		ops = append(ops, op)
	}
	init := start.state
	model := RegionModel(init)
	res, info := porcupine.CheckOperationsVerbose(model, ops, time.Minute)
	h.report.Histories++
	h.report.Operations += len(ops)
	h.report.Unknown += unknown
	verdict := string(res)
	switch res {
	case porcupine.Illegal:
		h.report.Illegal++
		info.AddAnnotations(notes)
		path := filepath.Join(h.cfg.OutDir, fmt.Sprintf("kirikae-illegal-%d-round-%d.html", os.Getpid(), round))
		if err := porcupine.VisualizePath(model, info, path); err != nil {
			verdict += fmt.Sprintf(" (visualization failed: %v)", err)
		} else {
			h.report.Visualizations = append(h.report.Visualizations, path)
			verdict += ", visualization: " + path
		}
	case porcupine.Unknown:
		h.report.Undecided++
	}
	h.cfg.Logf("round %d (%s): %d operations (%d writes of unknown outcome, %d of them applied), %d faults so far: %s",
		round, map[bool]string{true: "quiet", false: "faults"}[quiet], len(ops), unknown, unknown-(len(all)-len(ops)), h.report.TotalFaults(), verdict)
	return next, nil
}

// changes reads the region changes after from up to through, by the request id each
// change carries as its reason.
func (h *chaos) changes(ctx context.Context, from, through uint64) (map[string]regionState, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out := map[string]regionState{}
	var last error
	for n := 0; ctx.Err() == nil; n++ {
		stream, err := kirikaev1.NewActiveRegionServiceClient(h.conns[n%len(h.conns)]).WatchActiveRegion(ctx,
			&kirikaev1.WatchActiveRegionRequest{FromIndex: from})
		if err != nil {
			last = err
			continue
		}
		for {
			ev, err := stream.Recv()
			if err != nil {
				last = err
				break
			}
			st := ev.GetState()
			out[st.GetReason()] = regionState{Active: st.GetActive(), Epoch: st.GetEpoch()}
			if ev.GetIndex() >= through {
				return out, nil
			}
		}
		time.Sleep(100 * time.Millisecond) // the node went away; try the next one
	}
	return nil, fmt.Errorf("chaos: read the region changes %d..%d: %w (last error: %v)", from, through, ctx.Err(), last)
}

// settle undoes every fault, waits out the clients' last calls and makes one write, whose
// answer is where the next history starts: any write of the last round that could still
// land has landed before it or never will.
func (h *chaos) settle(ctx context.Context, round int) (settled, error) {
	h.c.SetRaftDelay(0)
	for i := range h.c.Nodes {
		h.heal(i)
	}
	time.Sleep(opTimeout) // server-side retries of the last round's calls end with their deadlines
	deadline := time.Now().Add(90 * time.Second)
	for n := 0; time.Now().Before(deadline); n++ {
		admin := kirikaev1.NewRegionAdminServiceClient(h.conns[n%len(h.conns)])
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := admin.SetRegion(cctx, &kirikaev1.SetRegionRequest{Region: h.region(round), Force: true,
			Reason: "chaos: start of a round", RequestId: fmt.Sprintf("chaos-%d-settle-%d", h.base.UnixNano(), round)})
		cancel()
		if err == nil {
			st := resp.GetState()
			return settled{state: regionState{Active: st.GetActive(), Epoch: st.GetEpoch()}, index: resp.GetRaftIndex()}, nil
		}
		if ctx.Err() != nil {
			return settled{}, ctx.Err()
		}
		time.Sleep(100 * time.Millisecond) // the cluster is electing; poll again
	}
	return settled{}, fmt.Errorf("chaos: no write succeeded within 90s of healing every node (round %d)", round)
}

func (h *chaos) region(n int) string { return h.pair[n%2] }

// readPair learns the region pair the writes move between.
func (h *chaos) readPair(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for n := 0; time.Now().Before(deadline); n++ {
		cctx, cancel := context.WithTimeout(ctx, opTimeout)
		resp, err := kirikaev1.NewActiveRegionServiceClient(h.conns[n%len(h.conns)]).GetActiveRegion(cctx,
			&kirikaev1.GetActiveRegionRequest{Consistency: kirikaev1.Consistency_CONSISTENCY_LINEARIZABLE})
		cancel()
		if err == nil {
			if !resp.GetInitialized() {
				return errors.New("chaos: the region pair is not initialized")
			}
			h.pair = [2]string{resp.GetState().GetPrimary(), resp.GetState().GetSecondary()}
			return nil
		}
		time.Sleep(100 * time.Millisecond) // no leader yet; poll again
	}
	return errors.New("chaos: no linearizable read succeeded within 60s")
}

// opTimeout bounds every client call.
const opTimeout = 2 * time.Second

// client runs calls against node until ctx ends, recording each in the history.
func (h *chaos) client(ctx context.Context, round, id, node int) {
	rng := rand.New(rand.NewPCG(uint64(h.base.UnixNano()), uint64(round*1000+id)))
	reads := kirikaev1.NewActiveRegionServiceClient(h.conns[node])
	admin := kirikaev1.NewRegionAdminServiceClient(h.conns[node])
	for n := 0; ctx.Err() == nil; n++ {
		op := regionOp{Set: rng.IntN(4) == 0}
		call := h.now()
		// Calls may outlive the round by opTimeout, so that none is cut short; settle waits.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
		var res regionResult
		var err error
		if op.Set {
			op.Region = h.region(rng.IntN(2))
			op.ID = fmt.Sprintf("chaos-%d-%d-%d-%d", h.base.UnixNano(), round, id, n)
			var resp *kirikaev1.SetRegionResponse
			resp, err = admin.SetRegion(cctx, &kirikaev1.SetRegionRequest{Region: op.Region, Force: true, Reason: op.ID, RequestId: op.ID})
			if err == nil {
				res = regionResult{Active: resp.GetState().GetActive(), Epoch: resp.GetState().GetEpoch(), Node: h.c.Nodes[node].ID}
			} else {
				res = regionResult{Unknown: true, Node: h.c.Nodes[node].ID}
			}
		} else {
			var resp *kirikaev1.GetActiveRegionResponse
			resp, err = reads.GetActiveRegion(cctx, &kirikaev1.GetActiveRegionRequest{Consistency: kirikaev1.Consistency_CONSISTENCY_LINEARIZABLE})
			if err == nil {
				res = regionResult{Active: resp.GetState().GetActive(), Epoch: resp.GetState().GetEpoch(), Node: resp.GetNodeId()}
			}
		}
		cancel()
		ret := h.now()
		if err != nil && !op.Set {
			// A failed read observed nothing.
			time.Sleep(50 * time.Millisecond) // back off from a node that is down
			continue
		}
		h.mu.Lock()
		h.history = append(h.history, porcupine.Operation{ClientId: id, Input: op, Call: call, Output: res, Return: ret})
		h.mu.Unlock()
		if err != nil {
			time.Sleep(50 * time.Millisecond) // back off from a node that is down
		}
	}
}

// inject injects faults one after another until ctx ends.
func (h *chaos) inject(ctx context.Context) error {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	pause := func(lo, hi time.Duration) bool {
		t := time.NewTimer(lo + time.Duration(rng.Int64N(int64(hi-lo))))
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	for pause(500*time.Millisecond, 1500*time.Millisecond) { // time to recover, so calls meet every phase of a fault
		h.mu.Lock()
		kind := h.cfg.Kinds[h.report.TotalFaults()%len(h.cfg.Kinds)] // in turn, so every kind gets its share
		h.mu.Unlock()
		target := rng.IntN(len(h.c.Nodes))
		if rng.IntN(2) == 0 {
			if l, ok := h.c.LeaderIndex(); ok {
				target = l
			}
		}
		start := h.now()
		switch kind {
		case FaultKill:
			h.c.Kill(target)
		case FaultStop:
			h.c.Signal(target, syscall.SIGSTOP)
		case FaultPartition:
			h.c.net.Partition(target)
			h.partitioned(target, true)
		}
		h.mu.Lock()
		h.report.Faults[kind]++
		h.mu.Unlock()
		held := pause(300*time.Millisecond, 2*time.Second)
		h.heal(target)
		h.mu.Lock()
		h.notes = append(h.notes, porcupine.Annotation{Tag: "faults", Start: start, End: h.now(),
			Description: fmt.Sprintf("%s %s", kind, h.c.Nodes[target].ID), BackgroundColor: "#ffd6d6"})
		h.mu.Unlock()
		if !held {
			return nil
		}
	}
	return nil
}

// heal undoes whatever fault node i is under: it restarts a killed node, thaws a stopped
// one and reconnects a partitioned one. Each step is harmless on a healthy node.
func (h *chaos) heal(i int) {
	if !h.c.Running(i) {
		h.c.Start(i)
	}
	h.c.Signal(i, syscall.SIGCONT)
	if h.c.net != nil && h.partitioned(i, false) {
		h.c.net.Heal(i)
	}
}

// partitioned records whether node i's cable is cut and returns whether it was.
func (h *chaos) partitioned(i int, cut bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	was := h.cut[i]
	h.cut[i] = cut
	return was
}
