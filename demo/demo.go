// Package demo runs kirikae's main job end to end in one process: a 3-node control plane
// with mTLS on loopback, an agent for each region, and awssim with the seed system's
// peacetime fixture. It declares a region outage with us-east-1 down, runs the bundled
// failover to the end, brings us-east-1 back and cuts back, then prints a summary.
//
// Demo operators give the approvals, each with a certificate of their own; they are
// labelled as such in the output and the audit log. Nothing here pretends: every AWS step
// goes through the SDK to awssim, every approval through the API.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/kirikae/kirikae/agent"
	"github.com/kirikae/kirikae/agent/readiness"
	"github.com/kirikae/kirikae/awssim"
	"github.com/kirikae/kirikae/controlplane"
	"github.com/kirikae/kirikae/deploy"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/runs"
	"github.com/kirikae/kirikae/security"
)

// Options tune a demo run.
type Options struct {
	// TimeScale multiplies every simulated AWS duration; 0.002 turns the 45-minute RDS
	// restore into 5.4 s.
	TimeScale float64
	// Out receives the progress and the summary.
	Out io.Writer
	// Logger receives component logs; nil discards them.
	Logger *slog.Logger
	// Dir holds certificates and data; empty means a temporary directory, removed after.
	Dir string
}

// Summary is what the demo measured.
type Summary struct {
	Failover, Cutback RunSummary
	// Journal counts awssim's mutating calls by operation.
	Journal map[string]int
	// Mutations are awssim's mutating calls in order, with simulated times.
	Mutations []awssim.JournalEntry
}

// RunSummary describes one finished run.
type RunSummary struct {
	RunID  string
	Status string
	// Makespan is the run's duration in simulated AWS time (wall time / TimeScale).
	Makespan time.Duration
	// PlanCriticalPath is the plan's critical path from the runbook's expected durations.
	PlanCriticalPath time.Duration
	// PlanSequential is the sum of every step's expected duration (the runbook run by hand, in order).
	PlanSequential time.Duration
	// ActualCriticalPath is the longest chain of measured step durations through the needs DAG.
	ActualCriticalPath time.Duration
	// Overhead is Makespan / ActualCriticalPath - 1: time lost between steps.
	Overhead float64
	// DataLoss is the age of the restored snapshot (the window of data lost), if any.
	DataLoss      string
	Active        string
	Epoch         uint64
	EpochBefore   uint64
	StepsRetried  int
	StepsSkipped  int
	StepsExecuted int
}

// people are the demo operators and the roles they hold.
var people = []struct {
	name  string
	roles []string
}{
	{"admin", []string{"admin"}},
	{"demo-sysadmin", []string{"sysadmin", "operator"}},
	{"demo-manager", []string{"manager"}},
	{"demo-executive", []string{"executive"}},
	{"demo-security", []string{"security"}},
}

type world struct {
	opts   Options
	outMu  sync.Mutex // the watcher and the demo operators print concurrently
	out    io.Writer
	dir    string
	sim    *awssim.Sim
	nodes  []*controlplane.Instance
	agents map[string]*agent.Agent
	conns  map[string]*grpc.ClientConn // by person
	log    *slog.Logger
}

// Run runs the demo and returns its summary.
func Run(ctx context.Context, opts Options) (_ *Summary, err error) {
	if opts.TimeScale <= 0 {
		opts.TimeScale = 0.002
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	w := &world{opts: opts, out: opts.Out, agents: map[string]*agent.Agent{}, conns: map[string]*grpc.ClientConn{}, log: logger}
	defer func() {
		if cerr := w.close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	if err := w.start(ctx); err != nil {
		return nil, err
	}
	return w.scenario(ctx)
}

func (w *world) say(format string, args ...any) {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	fmt.Fprintf(w.out, format+"\n", args...)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (w *world) start(ctx context.Context) error {
	// awssim does not check signatures, but the SDK needs some credentials to sign with.
	// Real ones are never needed and never sent anywhere but the simulator.
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDDEMO", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_EC2_METADATA_DISABLED": "true"} {
		if os.Getenv(k) == "" {
			os.Setenv(k, v)
		}
	}
	w.dir = w.opts.Dir
	if w.dir == "" {
		d, err := os.MkdirTemp("", "kirikae-demo-")
		if err != nil {
			return fmt.Errorf("demo dir: %w", err)
		}
		w.dir = d
	}
	certs := filepath.Join(w.dir, "certs")
	var names []string
	roles := "operators:\n"
	for _, p := range people {
		names = append(names, p.name)
		roles += fmt.Sprintf("  %s: [%s]\n", p.name, strings.Join(p.roles, ", "))
	}
	if _, err := security.GenerateCerts(certs, security.CertOptions{Operators: names, Force: true}); err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	rolesFile := filepath.Join(w.dir, "roles.yaml")
	if err := os.WriteFile(rolesFile, []byte(roles), 0o600); err != nil {
		return fmt.Errorf("roles file: %w", err)
	}

	sim, err := awssim.New(awssim.Options{TimeScale: w.opts.TimeScale, Fixture: "kaigo", Logger: w.log.With("component", "awssim")})
	if err != nil {
		return fmt.Errorf("awssim: %w", err)
	}
	if err := sim.Start(ctx, "127.0.0.1:0"); err != nil {
		return fmt.Errorf("awssim: %w", err)
	}
	w.sim = sim
	w.say("awssim      http://%s  (kaigo fixture, time scale %g: 45 min of AWS time = %s)", sim.Addr(), w.opts.TimeScale,
		time.Duration(float64(45*time.Minute)*w.opts.TimeScale).Round(10*time.Millisecond))

	var grpcAddrs []string
	for i := range 3 {
		raft, err := freeAddr()
		if err != nil {
			return err
		}
		cfg := controlplane.Config{
			ID: fmt.Sprintf("cp%d", i+1), DataDir: filepath.Join(w.dir, fmt.Sprintf("cp%d", i+1)),
			RaftAddr: raft, GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			TLSCA: filepath.Join(certs, "ca.pem"), TLSCert: filepath.Join(certs, "server.pem"), TLSKey: filepath.Join(certs, "server-key.pem"),
			RolesFile: rolesFile, Planner: &runs.Planner{}, Logger: w.log.With("component", "controlplane"),
			// Generous timeouts: the demo shares two cores with everything it runs, and a
			// leader change is not what it shows.
			Timeouts: controlplane.RaftTimeouts{Heartbeat: time.Second, Election: time.Second,
				LeaderLease: 500 * time.Millisecond, Commit: 5 * time.Millisecond},
		}
		if i == 0 {
			cfg.Bootstrap = true
		} else {
			cfg.Join = grpcAddrs[0]
		}
		inst, err := controlplane.Start(ctx, cfg)
		if err != nil {
			return fmt.Errorf("control plane %s: %w", cfg.ID, err)
		}
		w.nodes = append(w.nodes, inst)
		grpcAddrs = append(grpcAddrs, inst.GRPCAddr)
	}
	w.say("control     3 raft nodes with mTLS: %s", strings.Join(grpcAddrs, ", "))
	for _, p := range people {
		conf, err := security.ClientTLS(filepath.Join(certs, "ca.pem"), filepath.Join(certs, "operator-"+p.name+".pem"), filepath.Join(certs, "operator-"+p.name+"-key.pem"))
		if err != nil {
			return err
		}
		// Operators reach the cluster through any node; the client rotates on failure.
		cc, err := grpc.NewClient(grpcAddrs[len(w.conns)%len(grpcAddrs)], grpc.WithTransportCredentials(credentials.NewTLS(conf)))
		if err != nil {
			return err
		}
		w.conns[p.name] = cc
	}
	if err := w.waitMembers(ctx, 3); err != nil {
		return err
	}
	admin := kirikaev1.NewRegionAdminServiceClient(w.conns["admin"])
	if _, err := admin.InitRegion(ctx, &kirikaev1.InitRegionRequest{Primary: "us-east-1", Secondary: "us-west-2", RequestId: "demo-init"}); err != nil {
		return fmt.Errorf("region init: %w", err)
	}
	// Waiters poll fast enough for the time scale; the executors still go through the SDK.
	delay := max(time.Duration(float64(15*time.Second)*w.opts.TimeScale), 10*time.Millisecond)
	for _, region := range []string{"us-east-1", "us-west-2"} {
		chk, err := readiness.New(ctx, readiness.Config{Region: region, Endpoint: "http://" + sim.Addr(), Logger: w.log.With("component", "readiness")})
		if err != nil {
			return fmt.Errorf("readiness %s: %w", region, err)
		}
		a, err := agent.Start(ctx, agent.Config{
			Readiness: chk.Run,
			ID:        region + "/demo", Region: region, ControlPlane: grpcAddrs, DataDir: filepath.Join(w.dir, "agent-"+region),
			AWSEndpoint: "http://" + sim.Addr(), WaiterDelay: delay,
			TLSCA: filepath.Join(certs, "ca.pem"), TLSCert: filepath.Join(certs, "agent-"+region+".pem"), TLSKey: filepath.Join(certs, "agent-"+region+"-key.pem"),
			HeartbeatInterval: 500 * time.Millisecond,
			Logger:            w.log.With("component", "agent", "region", region),
		})
		if err != nil {
			return fmt.Errorf("agent %s: %w", region, err)
		}
		w.agents[region] = a
	}
	w.say("agents      us-east-1 and us-west-2, AWS SDK pointed at awssim")
	if err := w.waitAgents(ctx, map[string]bool{"us-east-1": true, "us-west-2": true}); err != nil {
		return err
	}
	rd, err := kirikaev1.NewAgentAdminServiceClient(w.conns["admin"]).GetReadiness(ctx, &kirikaev1.GetReadinessRequest{Region: "us-west-2", Refresh: true})
	if err != nil {
		return fmt.Errorf("readiness: %w", err)
	}
	for _, r := range rd.GetRegions() {
		state := "ready"
		if !r.GetReady() {
			state = "not ready, because: " + strings.Join(r.GetReasons(), "; ")
		}
		w.say("readiness   %s %s", r.GetRegion(), state)
	}
	return nil
}

func (w *world) waitMembers(ctx context.Context, n int) error {
	c := kirikaev1.NewClusterServiceClient(w.conns["admin"])
	return poll(ctx, 30*time.Second, "the control plane to form", func() (bool, error) {
		resp, err := c.ListMembers(ctx, &kirikaev1.ListMembersRequest{})
		if err != nil {
			return false, nil
		}
		withAddr := 0
		for _, m := range resp.GetMembers() {
			if m.GetGrpcAddress() != "" {
				withAddr++
			}
		}
		return withAddr == n && resp.GetLeaderId() != "", nil
	})
}

// waitAgents waits until each named region has a connected agent whose health is as wanted.
func (w *world) waitAgents(ctx context.Context, healthy map[string]bool) error {
	c := kirikaev1.NewAgentAdminServiceClient(w.conns["admin"])
	return poll(ctx, 60*time.Second, "agents to report", func() (bool, error) {
		resp, err := c.ListAgents(ctx, &kirikaev1.ListAgentsRequest{})
		if err != nil {
			return false, nil
		}
		ok := 0
		for _, a := range resp.GetAgents() {
			want, named := healthy[a.GetInfo().GetRegion()]
			if named && a.GetConnected() && a.GetHealth().GetHealthy() == want {
				ok++
			}
		}
		return ok == len(healthy), nil
	})
}

func poll(ctx context.Context, timeout time.Duration, what string, f func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		ok, err := f()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (w *world) scenario(ctx context.Context) (*Summary, error) {
	sum := &Summary{}
	w.say("\n== 1. Disaster: us-east-1 goes down")
	if err := w.sim.SetRegionDown("us-east-1", awssim.DownRefuse); err != nil {
		return nil, err
	}
	w.sim.OpenHealthEvent(awssim.HealthEvent{Region: "us-east-1"})
	if err := w.waitAgents(ctx, map[string]bool{"us-east-1": false, "us-west-2": true}); err != nil {
		return nil, err
	}
	w.say("   the us-east-1 agent reports unhealthy; AWS Health has an open EC2 operational issue")

	failoverSrc, err := deploy.Plan("kaigo-failover.yaml")
	if err != nil {
		return nil, err
	}
	app := "http://" + w.sim.Addr() + "/_app/dns/api.kaigo-subsys.example.com"
	params := map[string]string{
		"APP_URL":        app,
		"DR_ALB_DNS":     awssim.KaigoALBDNS("us-west-2"),
		"DR_ALB_ZONE_ID": awssim.KaigoALBZoneID("us-west-2"),
		// The newest cross-region snapshot copy is a day old (the seed copies daily, yet
		// promises a 1 h RPO). The demo operators accept the loss knowingly; the summary
		// reports the window.
		"ALLOW_DATA_LOSS": "true",
	}
	w.say("\n== 2. Declare: region outage, 6 h expected (criterion: 4 h or more)")
	runs := kirikaev1.NewRunServiceClient(w.conns["demo-sysadmin"])
	decl, err := runs.Declare(ctx, &kirikaev1.DeclareRequest{PlanSource: failoverSrc, Params: params, Scenario: "region-outage",
		ExpectedOutageMs: (6 * time.Hour).Milliseconds(), Reason: "demo: us-east-1 region outage", RequestId: "demo-declare"})
	if err != nil {
		return nil, fmt.Errorf("declare: %w", err)
	}
	w.say("   run %s: plan %s, %d steps, all pending", decl.GetRun().GetId(), decl.GetRun().GetPlanName(), len(decl.GetRun().GetSteps()))
	fo, err := w.follow(ctx, decl.GetRun().GetId())
	if err != nil {
		return nil, err
	}
	sum.Failover = w.summarize(fo, failoverSrc)
	w.printRun("failover", sum.Failover)
	if fo.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
		return sum, fmt.Errorf("failover run %s ended %s: %s", fo.GetId(), fo.GetStatus(), fo.GetError())
	}

	w.say("\n== 3. us-east-1 recovers")
	if err := w.sim.SetRegionDown("us-east-1", ""); err != nil {
		return nil, err
	}
	w.sim.CloseHealthEvent("us-east-1", "")
	if err := w.waitAgents(ctx, map[string]bool{"us-east-1": true, "us-west-2": true}); err != nil {
		return nil, err
	}
	w.say("   the us-east-1 agent is healthy again; the AWS Health event is closed")
	cutSrc, err := deploy.Plan("kaigo-cutback.yaml")
	if err != nil {
		return nil, err
	}
	cutParams := map[string]string{
		"APP_URL":          app,
		"PROD_ALB_DNS":     awssim.KaigoALBDNS("us-east-1"),
		"PROD_ALB_ZONE_ID": awssim.KaigoALBZoneID("us-east-1"),
	}
	w.say("\n== 4. Cut back to us-east-1")
	cut, err := runs.Cutback(ctx, &kirikaev1.CutbackRequest{PlanSource: cutSrc, Params: cutParams, Reason: "demo: us-east-1 recovered", RequestId: "demo-cutback"})
	if err != nil {
		return nil, fmt.Errorf("cutback: %w", err)
	}
	w.say("   run %s: plan %s, %d steps, all pending", cut.GetRun().GetId(), cut.GetRun().GetPlanName(), len(cut.GetRun().GetSteps()))
	cb, err := w.follow(ctx, cut.GetRun().GetId())
	if err != nil {
		return nil, err
	}
	sum.Cutback = w.summarize(cb, cutSrc)
	w.printRun("cutback", sum.Cutback)
	sum.Journal = map[string]int{}
	sum.Mutations = w.sim.Journal()
	for _, e := range sum.Mutations {
		sum.Journal[e.Operation]++
	}
	w.printSummary(sum)
	if cb.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED {
		return sum, fmt.Errorf("cutback run %s ended %s: %s", cb.GetId(), cb.GetStatus(), cb.GetError())
	}
	return sum, nil
}

// follow watches a run, prints each step change, and plays the demo operators: it confirms
// checklists and gives each approval with a person who holds the role.
func (w *world) follow(ctx context.Context, id string) (*kirikaev1.Run, error) {
	viewer := kirikaev1.NewRunServiceClient(w.conns["admin"])
	stream, err := viewer.WatchRun(ctx, &kirikaev1.WatchRunRequest{RunId: id})
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", id, err)
	}
	start := time.Now()
	seen := map[string]string{}
	acted := map[string]bool{}
	var last *kirikaev1.Run
	// The demo operators act in their own goroutines; the run is over only when they are.
	var operators sync.WaitGroup
	defer operators.Wait()
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return last, nil
		}
		if err != nil {
			return last, fmt.Errorf("watch %s: %w", id, err)
		}
		r := msg.GetRun()
		last = r
		for _, st := range r.GetSteps() {
			status := strings.ToLower(strings.TrimPrefix(st.GetStatus().String(), "STEP_STATUS_"))
			if seen[st.GetId()] != status {
				first := seen[st.GetId()] == ""
				seen[st.GetId()] = status
				if first && status == "pending" {
					continue // every step starts pending; say so once, below
				}
				aws := time.Duration(float64(time.Since(start)) / w.opts.TimeScale).Round(time.Second)
				line := fmt.Sprintf("   [%8s AWS time] %-34s %s", aws, st.GetId(), status)
				if st.GetError() != "" && status != "succeeded" {
					line += ": " + st.GetError()
				}
				w.say("%s", line)
			}
			if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_WAITING && !acted[st.GetId()] {
				acted[st.GetId()] = true
				operators.Add(1)
				go func() {
					defer operators.Done()
					w.act(ctx, r.GetId(), st)
				}()
			}
		}
		if r.GetStatus() == kirikaev1.RunStatus_RUN_STATUS_PAUSED {
			return r, fmt.Errorf("run %s paused: %s", r.GetId(), r.GetError())
		}
	}
}

// act plays the demo operators on a waiting step.
func (w *world) act(ctx context.Context, runID string, st *kirikaev1.StepState) {
	sp := st.GetSpec()
	switch sp.GetAction() {
	case "checklist":
		c := kirikaev1.NewRunServiceClient(w.conns["demo-sysadmin"])
		if _, err := c.Confirm(ctx, &kirikaev1.ConfirmRequest{RunId: runID, StepId: st.GetId(), Note: "demo operator", RequestId: "demo-confirm-" + runID + st.GetId()}); err != nil {
			w.say("   demo operator demo-sysadmin could not confirm %s: %v", st.GetId(), err)
			return
		}
		w.say("   (demo operator demo-sysadmin confirms the %d checklist items of %s)", len(sp.GetItems()), st.GetId())
	case "approval":
		for _, role := range sp.GetRoles() {
			who := ""
			for _, p := range people {
				if p.name != "admin" && slices.Contains(p.roles, role) {
					who = p.name
					break
				}
			}
			if who == "" {
				w.say("   no demo operator holds role %s for %s", role, st.GetId())
				return
			}
			c := kirikaev1.NewRunServiceClient(w.conns[who])
			if _, err := c.Approve(ctx, &kirikaev1.ApproveRequest{RunId: runID, StepId: st.GetId(), Role: role, Comment: "demo operator",
				RequestId: "demo-approve-" + runID + st.GetId() + role}); err != nil {
				w.say("   demo operator %s could not approve %s as %s: %v", who, st.GetId(), role, err)
				return
			}
			w.say("   (demo operator %s approves %s as %s)", who, st.GetId(), role)
		}
	}
}

func (w *world) summarize(r *kirikaev1.Run, src []byte) RunSummary {
	s := RunSummary{RunID: r.GetId(), Status: strings.ToLower(strings.TrimPrefix(r.GetStatus().String(), "RUN_STATUS_")),
		EpochBefore: r.GetEpochBefore(), Epoch: r.GetEpochAfter()}
	scale := func(ns int64) time.Duration { return time.Duration(float64(ns) / w.opts.TimeScale) }
	s.Makespan = scale(r.GetFinishedUnixNano() - r.GetCreatedUnixNano())
	if pl, err := plan.Parse("plan", src); err == nil {
		_, s.PlanCriticalPath = pl.CriticalPath()
		s.PlanSequential = pl.SequentialSum()
	}
	// The longest chain of measured durations, each step from its first dispatch to its end.
	finish := map[string]int64{}
	var longest int64
	for _, st := range r.GetSteps() { // steps are stored in topological order
		var ready int64
		for _, n := range st.GetSpec().GetNeeds() {
			ready = max(ready, finish[n])
		}
		d := int64(0)
		if st.GetStartedUnixNano() != 0 && st.GetFinishedUnixNano() != 0 {
			d = st.GetFinishedUnixNano() - st.GetStartedUnixNano()
			s.StepsExecuted++
		}
		finish[st.GetId()] = ready + d
		longest = max(longest, ready+d)
		if st.GetAttempt() > 1 {
			s.StepsRetried++
		}
		if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_SKIPPED {
			s.StepsSkipped++
		}
		if st.GetSpec().GetAction() == "aws.rds.restoreSnapshot" && st.GetOutputsJson() != "" {
			s.DataLoss = outputField(st.GetOutputsJson(), "dataLossWindow")
		}
	}
	s.ActualCriticalPath = scale(longest)
	if longest > 0 {
		s.Overhead = float64(r.GetFinishedUnixNano()-r.GetCreatedUnixNano())/float64(longest) - 1
	}
	for _, n := range w.nodes {
		if st, _, _ := n.Node.FSM().Region(); st != nil {
			s.Active = st.GetActive()
			break
		}
	}
	return s
}

func (w *world) printRun(name string, s RunSummary) {
	w.say("   %s %s: %s in %s of AWS time; active region %s, epoch %d -> %d",
		name, s.RunID, s.Status, s.Makespan.Round(time.Second), s.Active, s.EpochBefore, s.Epoch)
}

func (w *world) printSummary(sum *Summary) {
	fo := sum.Failover
	w.say("\n== Summary")
	w.say("   simulated RTO        %s  (objective 4h0m0s: %s)", fo.Makespan.Round(time.Second), verdict(fo.Makespan <= 4*time.Hour))
	w.say("   plan critical path   %s  (the runbook in order: %s)", fo.PlanCriticalPath, fo.PlanSequential)
	w.say("   makespan vs measured critical path  %s vs %s: overhead %.2f%%", fo.Makespan.Round(time.Second), fo.ActualCriticalPath.Round(time.Second), fo.Overhead*100)
	if fo.DataLoss != "" {
		w.say("   data-loss window     %s  (RPO 1h: %s — the seed copies snapshots daily)", fo.DataLoss, verdict(false))
	}
	w.say("   after failover       active %s, epoch %d", fo.Active, fo.Epoch)
	w.say("   after cutback        active %s, epoch %d", sum.Cutback.Active, sum.Cutback.Epoch)
	keys := make([]string, 0, len(sum.Journal))
	for k := range sum.Journal {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, sum.Journal[k]))
	}
	w.say("   AWS mutations        %s", strings.Join(parts, ", "))
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func outputField(js, name string) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil || m[name] == nil {
		return ""
	}
	return fmt.Sprint(m[name])
}

func (w *world) close() error {
	var errs []error
	for _, a := range w.agents {
		errs = append(errs, a.Close())
	}
	for _, c := range w.conns {
		c.Close()
	}
	for i := len(w.nodes) - 1; i >= 0; i-- {
		errs = append(errs, w.nodes[i].Close())
	}
	if w.sim != nil {
		errs = append(errs, w.sim.Close())
	}
	if w.opts.Dir == "" && w.dir != "" {
		errs = append(errs, os.RemoveAll(w.dir))
	}
	return errors.Join(errs...)
}
