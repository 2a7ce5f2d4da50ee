package agentpolicy_test

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/kirikae/kirikae/agent"
	"github.com/kirikae/kirikae/agent/action"
	agentaws "github.com/kirikae/kirikae/agent/aws"
	"github.com/kirikae/kirikae/agent/readiness"
	"github.com/kirikae/kirikae/awssim"
	"github.com/kirikae/kirikae/catalog"
	deployiam "github.com/kirikae/kirikae/deploy/iam"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/iampolicy"
	"github.com/kirikae/kirikae/iampolicy/agentpolicy"
	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/system"
)

// simClock is AWS time for awssim and the executors: it moves by one second on every
// reading, so a resource's progress depends on how many calls were made, never on the
// machine's speed (as agent/aws's tests run executors).
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

var start = time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)

// harness runs the plans' agent steps against awssim, each region's agent signing with its
// own access key, under policies it chooses.
type harness struct {
	sys     *system.System
	keys    map[string]awssim.Credential // by region
	regions []string
	dir     string
}

// world is one simulator, started from a saved state, with the agents' executors, checks
// and readiness built on first use.
type world struct {
	sim   *awssim.Sim
	clock *simClock
	state string
	url   string
	keys  map[string]awssim.Credential
	regs  map[string]*action.Registry
	ready map[string]*readiness.Checker
}

// open starts a simulator from state (nil: the system's peacetime world) at time at,
// enforcing assign.
func (h *harness) open(t *testing.T, state []byte, at time.Time, assign *iampolicy.Assignment) *world {
	t.Helper()
	f, err := os.CreateTemp(h.dir, "state-*.json")
	if err != nil {
		t.Fatal(err)
	}
	path := f.Name()
	_ = f.Close()
	if state == nil {
		_ = os.Remove(path)
	} else if err := os.WriteFile(path, state, 0o600); err != nil {
		t.Fatal(err)
	}
	clk := &simClock{t: at}
	var creds []awssim.Credential
	for _, r := range h.regions {
		creds = append(creds, h.keys[r])
	}
	sim, err := awssim.New(awssim.Options{System: h.sys, Now: clk.Now, TimeScale: 0.001, Seed: 1, Credentials: creds, StateFile: path})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		srv.Close()
		_ = sim.Close()
	})
	sim.SetIAM(assign)
	return &world{sim: sim, clock: clk, state: path, url: srv.URL, keys: h.keys,
		regs: map[string]*action.Registry{}, ready: map[string]*readiness.Checker{}}
}

// creds are what region's agent signs with.
func (w *world) creds(region string) []func(*config.LoadOptions) error {
	key := w.keys[region]
	return []func(*config.LoadOptions) error{
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.SecretAccessKey, "")),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
			})
		}),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}),
	}
}

// reg is region's agent's registry: its executors and plan checks, as the agent registers them.
func (w *world) reg(region string) *action.Registry {
	if r := w.regs[region]; r != nil {
		return r
	}
	opts := agentaws.Options{MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, Now: w.clock.Now, Memo: &action.MemoryMemo{},
		ConfigOptions: w.creds(region)}
	reg := action.NewRegistry()
	clients := agentaws.ClientCache(context.Background(), w.url, opts)
	agentaws.Register(reg, clients, opts)
	action.RegisterBuiltins(reg, action.BuiltinOptions{Publisher: agentaws.Publisher(clients), Memo: opts.Memo})
	w.regs[region] = reg
	return reg
}

// saved is the world's state as its state file holds it now (nil before any change).
func (w *world) saved(t *testing.T) []byte {
	b, err := os.ReadFile(w.state)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stepRun is one agent step as the run met it: its resolved inputs, and the world just
// before it ran.
type stepRun struct {
	plan   string
	id     string
	action string
	region string
	with   map[string]any
	state  []byte
	at     time.Time
}

func (s stepRun) String() string { return s.plan + "/" + s.id }

func (w *world) exec(ctx context.Context, s stepRun) error {
	_, err := w.reg(s.region).Execute(ctx, action.Step{RunID: "run-" + s.plan, StepID: s.id, Attempt: 1, Epoch: 1,
		Action: s.action, Region: s.region, With: s.with}, func(string) {})
	return err
}

// checkErrors are the check-error findings of the step's plan check, as the cutback's
// preflight would run it just before the step.
func (w *world) checkErrors(ctx context.Context, s stepRun) []string {
	var out []string
	for _, f := range w.reg(s.region).Check(ctx, action.CheckStep{StepID: s.id, Action: s.action, Region: s.region, With: s.with}) {
		if f.Code == catalog.FindingCheckError {
			out = append(out, f.Problem)
		}
	}
	return out
}

func (w *world) readiness(ctx context.Context, t *testing.T, region string, sys *system.System) map[string]*kirikaev1.ReadinessCheck {
	chk, err := readiness.New(ctx, readiness.Config{Region: region, Endpoint: w.url, ConfigOptions: w.creds(region), Clock: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*kirikaev1.ReadinessCheck{}
	for _, c := range chk.Run(ctx, sys) {
		out[c.GetName()] = c
	}
	return out
}

// probe runs the agent's health probe of region once, with an AWS Health event open there
// (so that the probe has one to count), and returns what it saw and the calls IAM refused.
func (w *world) probe(ctx context.Context, t *testing.T, region string) (agent.Health, []awssim.IAMDenial) {
	w.sim.OpenHealthEvent(awssim.HealthEvent{Region: region})
	before := len(w.sim.IAMDenials())
	p, err := agent.NewAWSHealthProbe(ctx, region, w.url, nil, w.creds(region)...)
	if err != nil {
		t.Fatal(err)
	}
	h := p(ctx)
	return h, w.sim.IAMDenials()[before:]
}

// replay runs the agent steps of pl in w, in plan order, each with its inputs resolved as
// the control plane resolves them (the outputs of the steps before it included), and
// returns each with the world saved just before it. Every step and its plan check must
// succeed.
func (h *harness) replay(ctx context.Context, t *testing.T, w *world, pl *plan.Plan, params map[string]string, failed, target string) []stepRun {
	t.Helper()
	primary, secondary := h.regions[0], h.regions[1]
	ctxRun := plan.Context{System: h.sys, Params: pl.ParamValues(), Outputs: map[string]map[string]any{},
		Run: plan.RunVars{ID: "run-" + pl.Name, StartedCompact: "20251201-090000", Primary: primary, Secondary: secondary,
			Failed: failed, Target: target}}
	for k, v := range params {
		ctxRun.Params[k] = v
	}
	var runs []stepRun
	for _, id := range pl.TopoOrder() {
		s := pl.Step(id)
		if s.Where() != plan.OnAgent || s.Action == catalog.HTTPCheck.Name {
			continue
		}
		region, err := s.ResolveRegion(ctxRun)
		if err != nil {
			t.Fatal(err)
		}
		with, err := plan.InterpolateWith(s, ctxRun)
		if err != nil {
			t.Fatalf("%s/%s: %v", pl.Name, id, err)
		}
		sr := stepRun{plan: pl.Name, id: id, action: s.Action, region: region, with: with, state: w.saved(t), at: w.clock.Now()}
		if errs := w.checkErrors(ctx, sr); len(errs) > 0 {
			t.Errorf("%s in %s: plan check under the full policy: %v", sr, region, errs)
		}
		out, err := w.reg(region).Execute(ctx, action.Step{RunID: "run-" + pl.Name, StepID: id, Attempt: 1, Epoch: 1,
			Action: s.Action, Region: region, With: with}, func(string) {})
		if err != nil {
			t.Fatalf("%s in %s under the full policy: %v", sr, region, err)
		}
		ctxRun.Outputs[id] = out
		runs = append(runs, sr)
	}
	return runs
}

func parse(t *testing.T, path string) *plan.Plan {
	t.Helper()
	p, err := plan.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEachStatementIsNeededByWhatItSays removes each statement of each agent's generated
// policy in turn and shows that exactly the steps, plan checks and readiness checks the
// generator says need it fail, with AccessDenied naming one of its actions, and that
// nothing else that could call its actions does.
//
// Running the whole failover and cutback once per statement (about fifty of them) would
// take an hour of CI, so each step is run alone instead, and that is an equivalent
// experiment, not a sample of one:
//
//   - The run is replayed once, step by step, with the full policies enforced: each agent
//     step's executor runs, in plan order, with its inputs resolved exactly as the control
//     plane resolves them (plan.InterpolateWith, with the outputs of the steps before it),
//     signing with its region's own key. Every step must succeed. Before each step the
//     simulator's whole state is saved (its state file) with its clock.
//   - Without statement S, a step is run again from the state saved before it, with the same
//     inputs: the world it meets is byte for byte the one the full run gave it, and awssim
//     decides each request from the request and that state alone, so the only difference is
//     the policy. A step that needs S must fail naming one of S's actions; a step that does
//     not must still succeed.
//   - Only steps whose action may call one of S's actions are run again (catalog IAM, the
//     implied permissions the generator adds, and CheckIAM for plan checks): a step that
//     cannot call any of them cannot be refused for S's absence. agent/aws's
//     TestIAMCoversEveryCall and TestCheckIAMCoversEveryCall prove an executor and a check
//     call nothing else.
//   - A step's plan check is run from the same saved state with the same inputs, as the
//     cutback's preflight runs it; readiness runs in the peacetime world.
//
// http.check steps are not run: they call no AWS API. Control-plane steps call none either.
func TestEachStatementIsNeededByWhatItSays(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the failover and cutback against awssim once per policy statement")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sys, err := system.ParseFile("../../" + deployiam.System)
	if err != nil {
		t.Fatal(err)
	}
	primary, secondary := sys.Role(system.Primary).Name, sys.Role(system.Secondary).Name
	h := &harness{sys: sys, regions: []string{primary, secondary}, dir: t.TempDir(),
		keys: map[string]awssim.Credential{primary: awssim.NewCredential(), secondary: awssim.NewCredential()}}
	var plans []*plan.Plan // the failover and the cutback first
	for _, f := range deployiam.Plans {
		plans = append(plans, parse(t, "../../"+f))
	}
	results := map[string]*agentpolicy.Result{}
	for _, r := range h.regions {
		res, err := agentpolicy.Generate(plans, sys, r, agentpolicy.Options{})
		if err != nil {
			t.Fatal(err)
		}
		results[r] = res
	}
	assign := func(region string, without string) *iampolicy.Assignment {
		by := map[string][]*iampolicy.Policy{}
		for _, r := range h.regions {
			p := results[r].Policy
			if r == region {
				p = withoutStatement(p, without)
			}
			by[h.keys[r].AccessKeyID] = []*iampolicy.Policy{p}
		}
		return iampolicy.NewAssignment(by)
	}

	// 1. The run, with the full policies.
	full := assign("", "")
	baseReady := map[string]map[string]*kirikaev1.ReadinessCheck{}
	baseProbe := map[string]agent.Health{}
	for _, r := range h.regions {
		pw := h.open(t, nil, start, full)
		baseReady[r] = pw.readiness(ctx, t, r, sys)
		baseProbe[r], _ = pw.probe(ctx, t, r)
		if !baseProbe[r].APIReachable || !baseProbe[r].CredentialsOK || baseProbe[r].OpenHealthEvents != 1 {
			t.Fatalf("the %s agent's health probe under the full policy: %+v", r, baseProbe[r])
		}
	}
	// The failover from peacetime, the cutback after it; each recovery plan in the primary
	// from peacetime, and in the secondary after the failover (where its database is then).
	w := h.open(t, nil, start, full)
	var runs []stepRun
	runs = append(runs, h.replay(ctx, t, w, plans[0], map[string]string{"ALLOW_DATA_LOSS": "true"}, primary, secondary)...)
	afterFailover, atFailover := w.saved(t), w.clock.Now()
	runs = append(runs, h.replay(ctx, t, w, plans[1], nil, secondary, primary)...)
	worlds := []*world{w}
	for _, pl := range plans[2:] {
		for _, r := range h.regions {
			rw := h.open(t, nil, start, full)
			if r == secondary {
				// A day of DR service later: its database has a snapshot of its own, taken
				// outside the agents' policies as AWS's automated backups are.
				rw = h.open(t, afterFailover, atFailover, full)
				rw.sim.SetIAM(nil)
				if _, err := rw.reg(r).Execute(ctx, action.Step{RunID: "daily-backup", StepID: "snapshot", Attempt: 1, Epoch: 1,
					Action: catalog.Snapshot.Name, Region: r, With: map[string]any{"instanceId": sys.RegionOf(r).Database.Instance,
						"snapshotId": sys.RegionOf(r).Database.Instance + "-daily"}}, func(string) {}); err != nil {
					t.Fatal(err)
				}
				rw.sim.SetIAM(full)
			}
			params := map[string]string{"REGION": string(sys.RegionOf(r).Role), "ALLOW_DATA_LOSS": "true"}
			if pl.Param("RESTORE_TIME") != nil {
				params["RESTORE_TIME"] = rw.clock.Now().Add(-30 * time.Minute).UTC().Format(time.RFC3339)
			}
			runs = append(runs, h.replay(ctx, t, rw, pl, params, r, r)...)
			worlds = append(worlds, rw)
		}
	}
	for _, w := range worlds {
		if d := w.sim.IAMDenials(); len(d) > 0 {
			t.Fatalf("the full policies refused %d calls, the first %+v", len(d), d[0])
		}
	}
	t.Logf("replayed %d agent steps under the full policies", len(runs))

	// 2. Each statement removed in turn, the statements in parallel.
	t.Run("without", func(t *testing.T) {
		for _, region := range h.regions {
			res := results[region]
			for _, st := range res.Policy.Statement {
				t.Run(region+"/"+st.Sid, func(t *testing.T) {
					t.Parallel()
					needs := res.Needs(st.Sid)
					// needX[caller] is true when it needs the statement, false when it may (Optional).
					needStep, needCheck, needReady := map[string]bool{}, map[string]bool{}, map[string]bool{}
					needProbe, probeListed := false, false
					for _, n := range needs {
						switch n.Kind {
						case agentpolicy.NeedAgent:
							needProbe, probeListed = !n.Optional, true
						case agentpolicy.NeedStep:
							needStep[n.Plan+"/"+n.Step] = !n.Optional
						case agentpolicy.NeedCheck:
							needCheck[n.Plan+"/"+n.Step] = !n.Optional
						case agentpolicy.NeedReadiness:
							needReady[n.Name] = !n.Optional
						}
					}
					reduced := assign(region, st.Sid)
					var rerun, refused []string
					defer func() { t.Logf("without %s %v: reran %v; refused %v", st.Sid, st.Action, rerun, refused) }()
					for _, sr := range runs {
						if sr.region != region {
							continue
						}
						must, listed := needStep[sr.String()]
						if listed || mayCall(agentpolicy.ExecutorIAM(sr.action), st.Action) {
							w := h.open(t, sr.state, sr.at, reduced)
							err := w.exec(ctx, sr)
							rerun = append(rerun, "step "+sr.String())
							if err != nil {
								refused = append(refused, "step "+sr.String())
							}
							switch {
							case must && err == nil:
								t.Errorf("step %s succeeded without %s %v, which the generator says it needs", sr, st.Sid, st.Action)
							case err != nil && !listed:
								t.Errorf("step %s failed without %s, which the generator says it does not need: %v", sr, st.Sid, err)
							case err != nil && !names(err.Error(), st.Action):
								t.Errorf("step %s failed without %s, but not for one of %v: %v", sr, st.Sid, st.Action, err)
							}
						}
						must, listed = needCheck[sr.String()]
						if listed || mayCall(agentaws.CheckIAM(sr.action), st.Action) {
							w := h.open(t, sr.state, sr.at, reduced)
							errs := w.checkErrors(ctx, sr)
							rerun = append(rerun, "check "+sr.String())
							if len(errs) > 0 {
								refused = append(refused, "check "+sr.String())
							}
							switch {
							case must && len(errs) == 0:
								t.Errorf("the plan check of %s found nothing wrong without %s %v, which the generator says it needs", sr, st.Sid, st.Action)
							case len(errs) > 0 && !listed:
								t.Errorf("the plan check of %s failed without %s, which the generator says it does not need: %v", sr, st.Sid, errs)
							case len(errs) > 0 && !names(strings.Join(errs, "\n"), st.Action):
								t.Errorf("the plan check of %s failed without %s, but not for one of %v: %v", sr, st.Sid, st.Action, errs)
							}
						}
					}
					// The readiness checks and the health probe are cheap: always run, so what the
					// generator forgot shows up too. Readiness first: the probe opens a Health event.
					pw := h.open(t, nil, start, reduced)
					ready := pw.readiness(ctx, t, region, sys)
					{
						got, denials := pw.probe(ctx, t, region)
						changed := got.APIReachable != baseProbe[region].APIReachable || got.OpenHealthEvents != baseProbe[region].OpenHealthEvents
						var refusedActions []string
						for _, d := range denials {
							refusedActions = append(refusedActions, d.Action)
						}
						if changed {
							refused = append(refused, "agent "+agentpolicy.HealthProbe)
						}
						switch {
						case needProbe && (!changed || !mayCall(refusedActions, st.Action)):
							t.Errorf("the health probe without %s: %+v, refused %v; want it to miss what one of %v gives", st.Sid, got, refusedActions, st.Action)
						case !probeListed && (changed || len(denials) > 0):
							t.Errorf("the health probe without %s: %+v, refused %v: the generator says it does not need it", st.Sid, got, refusedActions)
						}
					}
					{
						for name, c := range ready {
							base := baseReady[region][name]
							must, listed := needReady[name]
							failed := c.GetStatus() == kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL && names(c.GetDetail(), st.Action)
							if failed {
								refused = append(refused, "readiness "+name)
							}
							switch {
							case must && !failed:
								t.Errorf("readiness %s without %s: %s %s; want a failure naming one of %v", name, st.Sid, c.GetStatus(), c.GetDetail(), st.Action)
							case !listed && c.GetStatus() != base.GetStatus():
								t.Errorf("readiness %s without %s: %s %s, was %s: the generator says it does not need it", name, st.Sid, c.GetStatus(), c.GetDetail(), base.GetStatus())
							}
						}
					}
				})
			}
		}
	})
}

// withoutStatement is p less the statement sid.
func withoutStatement(p *iampolicy.Policy, sid string) *iampolicy.Policy {
	out := &iampolicy.Policy{Version: p.Version}
	for _, s := range p.Statement {
		if s.Sid != sid {
			out.Statement = append(out.Statement, s)
		}
	}
	if len(out.Statement) == 0 { // a policy needs a statement: one that allows nothing the agent calls
		out.Statement = []iampolicy.Statement{{Effect: iampolicy.Allow, Action: iampolicy.Strings{"iam:GetUser"}, Resource: iampolicy.Strings{"*"}}}
	}
	return out
}

// mayCall reports whether any of the actions may be one of the statement's.
func mayCall(actions []string, statement []string) bool {
	for _, a := range actions {
		for _, s := range statement {
			if iampolicy.MatchAction(s, a) {
				return true
			}
		}
	}
	return false
}

// names reports whether msg is a refusal of one of the actions: AWS's "is not authorized to
// perform: ACTION" (SNS writes SNS:Publish), or RDS's refusal of a KMS key it could not use
// on the caller's behalf.
func names(msg string, actions []string) bool {
	low := strings.ToLower(msg)
	for _, a := range actions {
		if strings.Contains(low, "not authorized to perform: "+strings.ToLower(a)) {
			return true
		}
		if strings.HasPrefix(a, "kms:") && strings.Contains(msg, "KMSKeyNotAccessibleFault") {
			return true
		}
	}
	return false
}
