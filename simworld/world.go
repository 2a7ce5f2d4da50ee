// Package simworld builds a whole kirikae installation inside one process, against
// simulated AWS: awssim loaded with a system's peacetime world, a control plane with mTLS on loopback, an
// agent per region of the pair, and simulated people, each with a certificate of their own.
// `kirikae demo` runs in one, and so does a tabletop drill. It reaches nothing outside the
// process but loopback sockets, and it changes nothing of the process it runs in (no
// environment variables, no working directory).
package simworld

import (
	"context"
	"errors"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/config"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/kirikae/kirikae/agent"
	"github.com/kirikae/kirikae/agent/action"
	agentaws "github.com/kirikae/kirikae/agent/aws"
	"github.com/kirikae/kirikae/agent/readiness"
	"github.com/kirikae/kirikae/awssim"
	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/controlplane"
	"github.com/kirikae/kirikae/deploy"
	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/runs"
	"github.com/kirikae/kirikae/security"
	"github.com/kirikae/kirikae/system"
)

// Options tune a World.
type Options struct {
	// TimeScale multiplies every simulated AWS duration; 0 means 0.002.
	TimeScale float64
	// Nodes is the number of control-plane nodes; 0 means 3. One is enough for a tabletop.
	Nodes int
	// Out receives progress lines; nil discards them.
	Out io.Writer
	// Logger receives component logs; nil discards them.
	Logger *slog.Logger
	// Dir holds certificates and data; empty means a temporary directory, removed by Close.
	Dir string
	// System is the user's system file, as its YAML: awssim starts with its peacetime
	// world (every resource it names, in its region pair and account), and the world
	// stores it (`kirikae system apply`) for its plans and readiness to read. Empty means
	// the bundled deploy/systems/kaigo.yaml. SystemFile names it in messages.
	System     []byte
	SystemFile string
	// Primary and Secondary are the region pair; empty means the system's. A pair that
	// differs from the system's is refused: the world holds that system where it runs.
	Primary, Secondary string
	// Setup, when set, adjusts the simulated AWS after it starts and before the agents
	// first look at it.
	Setup func(*awssim.Sim) error
	// People prefixes the names of the simulated operators ("demo" gives demo-sysadmin,
	// demo-manager ...); empty means "demo". It also names the agents (us-west-2/demo).
	People string
	// LoopbackOnly makes the agents' HTTP clients (http.check, notify webhooks, the AWS
	// SDK) refuse any address that is not loopback, so nothing outside the process's
	// machine can be reached whatever a plan's params say.
	LoopbackOnly bool
	// UI serves the read-only web view on every control-plane node (controlplane.Config.UI):
	// controlplane.UIOpen under /ui/ on each node's HTTP port, controlplane.UIMTLS on a
	// loopback port of its own. Empty serves none.
	UI controlplane.UIMode
}

// World is an in-process kirikae installation: awssim, a control plane with mTLS on
// loopback, an agent per region of the system, and simulated operators, each with a
// certificate of their own. It is what `kirikae demo` runs in, and what a tabletop drill
// runs in: nothing in it reaches anything outside the process but loopback sockets.
type World struct {
	opts   Options
	outMu  sync.Mutex // the watcher and the simulated operators print concurrently
	out    io.Writer
	dir    string
	sim    *awssim.Sim
	nodes  []*controlplane.Instance
	agents map[string]*agent.Agent
	conns  map[string]*grpc.ClientConn // by person
	people []person
	log    *slog.Logger
	system *system.System // what opts.System describes
}

// person is a simulated operator and the roles they hold.
type person struct {
	name  string
	roles []string
}

// Admin is the name of the world's administrator, who initializes the region pair.
const Admin = "admin"

func peopleOf(prefix string) []person {
	return []person{
		{Admin, []string{"admin"}},
		{prefix + "-sysadmin", []string{"sysadmin", "operator"}},
		{prefix + "-manager", []string{"manager"}},
		{prefix + "-executive", []string{"executive"}},
		{prefix + "-security", []string{"security"}},
	}
}

// Start builds and starts a world. The caller must Close it, also after an error.
func Start(ctx context.Context, opts Options) (*World, error) {
	if opts.TimeScale <= 0 {
		opts.TimeScale = 0.002
	}
	if opts.Nodes <= 0 {
		opts.Nodes = 3
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.People == "" {
		opts.People = "demo"
	}
	if len(opts.System) == 0 {
		src, err := deploy.System("kaigo.yaml")
		if err != nil {
			return nil, err
		}
		opts.System, opts.SystemFile = src, "deploy/systems/kaigo.yaml"
	}
	if opts.SystemFile == "" {
		opts.SystemFile = "system.yaml"
	}
	sys, err := system.Parse(opts.SystemFile, opts.System)
	if err != nil {
		return nil, err
	}
	primary, secondary := sys.Role(system.Primary).Name, sys.Role(system.Secondary).Name
	if opts.Primary == "" && opts.Secondary == "" {
		opts.Primary, opts.Secondary = primary, secondary
	}
	if opts.Primary != primary || opts.Secondary != secondary {
		return nil, fmt.Errorf("simworld: system %s (%s) runs in %s and %s, not in %s and %s", sys.Name, opts.SystemFile,
			primary, secondary, opts.Primary, opts.Secondary)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	w := &World{opts: opts, out: opts.Out, agents: map[string]*agent.Agent{}, conns: map[string]*grpc.ClientConn{},
		people: peopleOf(opts.People), log: logger, system: sys}
	return w, w.start(ctx)
}

// Regions is the world's region pair: the primary, then the secondary.
func (w *World) Regions() []string { return []string{w.opts.Primary, w.opts.Secondary} }

// System is the system the world stored, which its plans and readiness read.
func (w *World) System() *system.System { return w.system }

// Sim is the world's simulated AWS.
func (w *World) Sim() *awssim.Sim { return w.sim }

// TimeScale is the simulated AWS time per wall second.
func (w *World) TimeScale() float64 { return w.opts.TimeScale }

// Conn is the connection of a simulated person (Admin, or a name from Operator).
func (w *World) Conn(name string) *grpc.ClientConn { return w.conns[name] }

// Operator names the simulated person who holds role, other than the admin; "" if none.
func (w *World) Operator(role string) string {
	for _, p := range w.people {
		if p.name != Admin && slices.Contains(p.roles, role) {
			return p.name
		}
	}
	return ""
}

// Region is the region state as the first node's replica holds it.
func (w *World) Region() *kirikaev1.RegionState {
	for _, n := range w.nodes {
		if st, _, _ := n.Node.FSM().Region(); st != nil {
			return st
		}
	}
	return nil
}

// Say prints one progress line.
func (w *World) Say(format string, args ...any) {
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

// errNotLoopback is returned by the loopback-only dialer.
var errNotLoopback = errors.New("isolated world: only loopback addresses may be reached")

// loopbackClient is an HTTP client that connects to loopback addresses only. The check
// runs on the resolved address, so a name that resolves elsewhere is refused too.
func loopbackClient() *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", errNotLoopback, address)
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("%w: %s", errNotLoopback, address)
		}
		return nil
	}}
	return &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DialContext: d.DialContext, Proxy: nil}}
}

func (w *World) start(ctx context.Context) error {
	w.dir = w.opts.Dir
	if w.dir == "" {
		d, err := os.MkdirTemp("", "kirikae-"+w.opts.People+"-")
		if err != nil {
			return fmt.Errorf("%s dir: %w", w.opts.People, err)
		}
		w.dir = d
	}
	certs := filepath.Join(w.dir, "certs")
	var names []string
	roles := "operators:\n"
	for _, p := range w.people {
		names = append(names, p.name)
		roles += fmt.Sprintf("  %s: [%s]\n", p.name, strings.Join(p.roles, ", "))
	}
	if _, err := security.GenerateCerts(certs, security.CertOptions{Operators: names, Regions: w.Regions(), Force: true}); err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	rolesFile := filepath.Join(w.dir, "roles.yaml")
	if err := os.WriteFile(rolesFile, []byte(roles), 0o600); err != nil {
		return fmt.Errorf("roles file: %w", err)
	}

	// One access key per region's agent, the primary's first (Sim.Credentials), so IAM
	// policies can be enforced per agent (Sim.SetIAM in Options.Setup).
	keys := []awssim.Credential{awssim.NewCredential(), awssim.NewCredential()}
	sim, err := awssim.New(awssim.Options{TimeScale: w.opts.TimeScale, System: w.system, Logger: w.log.With("component", "awssim"), Credentials: keys})
	if err != nil {
		return fmt.Errorf("awssim: %w", err)
	}
	if err := sim.Start(ctx, "127.0.0.1:0"); err != nil {
		return fmt.Errorf("awssim: %w", err)
	}
	w.sim = sim
	if w.opts.Setup != nil {
		if err := w.opts.Setup(sim); err != nil {
			return fmt.Errorf("awssim setup: %w", err)
		}
	}
	w.Say("awssim      http://%s  (system %s in %s and %s, time scale %g: 45 min of AWS time = %s)", sim.Addr(), w.system.Name,
		w.opts.Primary, w.opts.Secondary, w.opts.TimeScale,
		time.Duration(float64(45*time.Minute)*w.opts.TimeScale).Round(10*time.Millisecond))

	var grpcAddrs []string
	for i := range w.opts.Nodes {
		raft, err := freeAddr()
		if err != nil {
			return err
		}
		cfg := controlplane.Config{
			ID: fmt.Sprintf("cp%d", i+1), DataDir: filepath.Join(w.dir, fmt.Sprintf("cp%d", i+1)),
			RaftAddr: raft, GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			TLSCA: filepath.Join(certs, "ca.pem"), TLSCert: filepath.Join(certs, "server.pem"), TLSKey: filepath.Join(certs, "server-key.pem"),
			RolesFile: rolesFile, Planner: &runs.Planner{}, Logger: w.log.With("component", "controlplane"), IsolatedWorld: true,
			// Generous timeouts: the world shares two cores with everything it runs, and a
			// leader change is not what it shows.
			Timeouts: controlplane.RaftTimeouts{Heartbeat: time.Second, Election: time.Second,
				LeaderLease: 500 * time.Millisecond, Commit: 5 * time.Millisecond},
			UI: w.opts.UI, TimeScale: w.opts.TimeScale,
		}
		if w.opts.UI == controlplane.UIMTLS {
			cfg.UIAddr = "127.0.0.1:0"
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
	if len(grpcAddrs) == 1 {
		w.Say("control     1 raft node with mTLS: %s", grpcAddrs[0])
	} else {
		w.Say("control     %d raft nodes with mTLS: %s", len(grpcAddrs), strings.Join(grpcAddrs, ", "))
	}
	for _, p := range w.people {
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
	if err := w.waitMembers(ctx, len(grpcAddrs)); err != nil {
		return err
	}
	admin := kirikaev1.NewRegionAdminServiceClient(w.conns[Admin])
	if _, err := admin.InitRegion(ctx, &kirikaev1.InitRegionRequest{Primary: w.opts.Primary, Secondary: w.opts.Secondary, RequestId: w.opts.People + "-init"}); err != nil {
		return fmt.Errorf("region init: %w", err)
	}
	applied, err := kirikaev1.NewSystemServiceClient(w.conns[Admin]).ApplySystem(ctx, &kirikaev1.ApplySystemRequest{
		FileName: w.opts.SystemFile, Yaml: w.opts.System, RequestId: w.opts.People + "-system"})
	if err != nil {
		return fmt.Errorf("system apply %s: %w", w.opts.SystemFile, err)
	}
	w.Say("system      %s from %s, stored as version %d (digest %.12s)", applied.GetSystem().GetName(), w.opts.SystemFile,
		applied.GetSystem().GetVersion(), applied.GetSystem().GetDigest())
	// Waiters poll fast enough for the time scale; the executors still go through the SDK.
	delay := max(time.Duration(float64(15*time.Second)*w.opts.TimeScale), 10*time.Millisecond)
	for i, region := range w.Regions() {
		creds := simCredentials(sim, i)
		chk, err := readiness.New(ctx, readiness.Config{Region: region, Endpoint: "http://" + sim.Addr(), ConfigOptions: creds,
			Logger: w.log.With("component", "readiness")})
		if err != nil {
			return fmt.Errorf("readiness %s: %w", region, err)
		}
		cfg := agent.Config{
			Readiness: chk.Run,
			ID:        region + "/" + w.opts.People, Region: region, ControlPlane: grpcAddrs, DataDir: filepath.Join(w.dir, "agent-"+region),
			AWSEndpoint: "http://" + sim.Addr(), AWSConfigOptions: creds, WaiterDelay: delay,
			TLSCA: filepath.Join(certs, "ca.pem"), TLSCert: filepath.Join(certs, "agent-"+region+".pem"), TLSKey: filepath.Join(certs, "agent-"+region+"-key.pem"),
			HeartbeatInterval: 500 * time.Millisecond,
			HTTPAddr:          "127.0.0.1:0", // /healthz and /metrics, as `kirikae agent --http-addr`
			Logger:            w.log.With("component", "agent", "region", region),
		}
		if w.opts.LoopbackOnly {
			cfg.Registry = loopbackRegistry(ctx, "http://"+sim.Addr(), filepath.Join(cfg.DataDir, "memo"), delay, creds)
			cfg.CheckIAM = true
		}
		a, err := agent.Start(ctx, cfg)
		if err != nil {
			return fmt.Errorf("agent %s: %w", region, err)
		}
		w.agents[region] = a
	}
	w.Say("agents      %s, AWS SDK pointed at awssim", strings.Join(w.Regions(), " and "))
	healthy := map[string]bool{}
	for _, r := range w.Regions() {
		healthy[r] = true
	}
	if err := w.WaitAgents(ctx, healthy); err != nil {
		return err
	}
	rd, err := kirikaev1.NewAgentAdminServiceClient(w.conns[Admin]).GetReadiness(ctx, &kirikaev1.GetReadinessRequest{Region: w.opts.Secondary, Refresh: true})
	if err != nil {
		return fmt.Errorf("readiness: %w", err)
	}
	for _, r := range rd.GetRegions() {
		state := "ready"
		if !r.GetReady() {
			state = "not ready, because: " + strings.Join(r.GetReasons(), "; ")
		}
		w.Say("readiness   %s %s", r.GetRegion(), state)
	}
	return nil
}

// simCredentials are what the i-th region's agent signs with: the key pair this world's
// simulator issued for it, fixed here instead of read from the environment, so the world
// never needs, sees or sends real credentials, and never reaches another world's simulator.
func simCredentials(sim *awssim.Sim, i int) []func(*config.LoadOptions) error {
	keys := sim.Credentials()
	key := keys[i%len(keys)]
	return []func(*config.LoadOptions) error{
		config.WithCredentialsProvider(awscreds.NewStaticCredentialsProvider(key.AccessKeyID, key.SecretAccessKey, "")),
		config.WithEC2IMDSClientEnableState(imds.ClientDisabled),
	}
}

// loopbackRegistry builds the executors an agent offers, as the agent would by default,
// except that every HTTP client they use reaches loopback addresses only.
func loopbackRegistry(ctx context.Context, endpoint, memoDir string, delay time.Duration, creds []func(*config.LoadOptions) error) *action.Registry {
	client := loopbackClient()
	memo := action.FileMemo{Dir: memoDir}
	opts := agentaws.Options{Memo: memo, HTTPClient: client, MinDelay: delay, MaxDelay: delay, ConfigOptions: creds}
	clientsFor := agentaws.ClientCache(ctx, endpoint, opts)
	reg := action.NewRegistry()
	agentaws.Register(reg, clientsFor, opts)
	action.RegisterBuiltins(reg, action.BuiltinOptions{HTTPClient: client, Publisher: agentaws.Publisher(clientsFor), Memo: memo})
	return reg
}

func (w *World) waitMembers(ctx context.Context, n int) error {
	c := kirikaev1.NewClusterServiceClient(w.conns[Admin])
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

// WaitAgents waits until each named region has a connected agent whose health is as wanted.
func (w *World) WaitAgents(ctx context.Context, healthy map[string]bool) error {
	c := kirikaev1.NewAgentAdminServiceClient(w.conns[Admin])
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

// FollowOptions tune Follow.
type FollowOptions struct {
	// SkipFailed skips a step that failed and paused the run, so that every later step
	// is exercised too; OnSkip sees the failed step first. Without it, Follow returns an
	// error when the run pauses.
	SkipFailed bool
	OnSkip     func(st *kirikaev1.StepState)
	// HurryRetries retries a step waiting out its retry backoff at once. The backoff is
	// seconds of wall time, which a small time scale would turn into hours.
	HurryRetries bool
	// ActDelay is how long the simulated operators take before acting on a waiting
	// approval or checklist step (wall time); nil means they act at once.
	ActDelay func(st *kirikaev1.StepState) time.Duration
}

// Follow watches a run until it ends, prints each step change, and plays the simulated
// operators: it confirms checklists and gives each approval with a person who holds the
// role. It returns the run as it ended.
func (w *World) Follow(ctx context.Context, id string, fo FollowOptions) (*kirikaev1.Run, error) {
	viewer := kirikaev1.NewRunServiceClient(w.conns[Admin])
	stream, err := viewer.WatchRun(ctx, &kirikaev1.WatchRunRequest{RunId: id})
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", id, err)
	}
	start := time.Now()
	seen := map[string]string{}
	acted := map[string]bool{}
	skipped := map[string]bool{}
	hurried := map[string]bool{}
	var last *kirikaev1.Run
	// The simulated operators act in their own goroutines; the run is over only when they are.
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
			status := enum.Name(st.GetStatus())
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
				w.Say("%s", line)
			}
			if st.GetStatus() == kirikaev1.StepStatus_STEP_STATUS_WAITING && !acted[st.GetId()] {
				acted[st.GetId()] = true
				var delay time.Duration
				if fo.ActDelay != nil {
					delay = fo.ActDelay(st)
				}
				operators.Add(1)
				go func() {
					defer operators.Done()
					select {
					case <-ctx.Done():
						return
					case <-time.After(delay):
					}
					w.act(ctx, r.GetId(), st)
				}()
			}
		}
		if r.GetStatus() == kirikaev1.RunStatus_RUN_STATUS_RUNNING {
			if err := w.nudge(ctx, r, fo, hurried); err != nil {
				return r, err
			}
		}
		if r.GetStatus() != kirikaev1.RunStatus_RUN_STATUS_PAUSED {
			continue
		}
		if !fo.SkipFailed {
			return r, fmt.Errorf("run %s paused: %s", r.GetId(), r.GetError())
		}
		failed, stale := 0, false
		for _, st := range r.GetSteps() {
			if st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_FAILED || st.GetSpec().GetOnFailure() == "continue" {
				continue
			}
			if skipped[st.GetId()] {
				stale = true // the skip is on its way; a later message shows it
				continue
			}
			failed++
			skipped[st.GetId()] = true
			if fo.OnSkip != nil {
				fo.OnSkip(st)
			}
			if err := w.skip(ctx, r.GetId(), st.GetId()); err != nil {
				return r, err
			}
		}
		if failed == 0 && !stale {
			// Paused by someone, not by a failure: nothing here resumes it.
			return r, fmt.Errorf("run %s paused: %s", r.GetId(), r.GetError())
		}
	}
}

// nudge retries at once the steps waiting out a backoff, when fo asks.
func (w *World) nudge(ctx context.Context, r *kirikaev1.Run, fo FollowOptions, hurried map[string]bool) error {
	if !fo.HurryRetries {
		return nil
	}
	for _, st := range r.GetSteps() {
		if st.GetStatus() != kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT {
			continue
		}
		key := fmt.Sprintf("%s/%d", st.GetId(), st.GetAttempt())
		if hurried[key] {
			continue
		}
		hurried[key] = true
		who := w.Operator("operator")
		if _, err := kirikaev1.NewRunServiceClient(w.conns[who]).Control(ctx, &kirikaev1.ControlRequest{RunId: r.GetId(), StepId: st.GetId(),
			Action: kirikaev1.ControlAction_CONTROL_ACTION_RETRY, Reason: "retry now: the backoff is wall time",
			RequestId: w.opts.People + "-retry-" + r.GetId() + key}); err != nil && status.Code(err) != codes.FailedPrecondition {
			// FailedPrecondition: the step left its backoff before the retry arrived.
			return fmt.Errorf("retry %s: %w", st.GetId(), err)
		}
	}
	return nil
}

// skip skips a failed step as the simulated sysadmin, so the run goes on.
func (w *World) skip(ctx context.Context, runID, stepID string) error {
	who := w.Operator("operator")
	c := kirikaev1.NewRunServiceClient(w.conns[who])
	if _, err := c.Control(ctx, &kirikaev1.ControlRequest{RunId: runID, StepId: stepID, Action: kirikaev1.ControlAction_CONTROL_ACTION_SKIP,
		Reason: "skipped to exercise the rest of the plan", RequestId: w.opts.People + "-skip-" + runID + stepID}); err != nil {
		return fmt.Errorf("skip %s: %w", stepID, err)
	}
	w.Say("   (%s operator %s skips %s to go on)", w.opts.People, who, stepID)
	return nil
}

// act plays the simulated operators on a waiting step.
func (w *World) act(ctx context.Context, runID string, st *kirikaev1.StepState) {
	sp := st.GetSpec()
	label := w.opts.People + " operator"
	switch sp.GetAction() {
	case catalog.Checklist.Name:
		who := w.Operator("sysadmin")
		c := kirikaev1.NewRunServiceClient(w.conns[who])
		if _, err := c.Confirm(ctx, &kirikaev1.ConfirmRequest{RunId: runID, StepId: st.GetId(), Note: label, RequestId: w.opts.People + "-confirm-" + runID + st.GetId()}); err != nil {
			w.Say("   %s %s could not confirm %s: %v", label, who, st.GetId(), err)
			return
		}
		w.Say("   (%s %s confirms the %d checklist items of %s)", label, who, len(sp.GetItems()), st.GetId())
	case catalog.Approval.Name:
		for _, role := range sp.GetRoles() {
			who := w.Operator(role)
			if who == "" {
				w.Say("   no %s holds role %s for %s", label, role, st.GetId())
				return
			}
			c := kirikaev1.NewRunServiceClient(w.conns[who])
			if _, err := c.Approve(ctx, &kirikaev1.ApproveRequest{RunId: runID, StepId: st.GetId(), Role: role, Comment: label,
				RequestId: w.opts.People + "-approve-" + runID + st.GetId() + role}); err != nil {
				w.Say("   %s %s could not approve %s as %s: %v", label, who, st.GetId(), role, err)
				return
			}
			w.Say("   (%s %s approves %s as %s)", label, who, st.GetId(), role)
		}
	}
}

// Audit returns the world's audit log, oldest first.
func (w *World) Audit(ctx context.Context) ([]*kirikaev1.AuditEntry, error) {
	resp, err := kirikaev1.NewAuditServiceClient(w.conns[Admin]).ListAudit(ctx, &kirikaev1.ListAuditRequest{})
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return resp.GetEntries(), nil
}

// Close stops everything the world started and removes its temporary directory.
func (w *World) Close() error {
	if w == nil {
		return nil
	}
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
