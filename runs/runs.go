// Package runs turns plans into runs and resolves step inputs at dispatch. It implements
// controlplane.Planner on top of package plan, so the control plane never parses YAML
// itself. It holds no state but a small cache of parsed plans (the last maxCachedPlans
// runs it resolved steps of), which it can always rebuild from the run's immutable plan
// source.
package runs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kirikae/kirikae/catalog"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/security"
	"github.com/kirikae/kirikae/system"
)

// Planner implements controlplane.Planner. The zero value is ready to use, and it is safe
// for concurrent use.
type Planner struct {
	cache planCache
}

// maxCachedPlans is how many runs' parsed plans a Planner keeps. Steps are resolved for
// the runs in progress, which are one or two at a time (a run, its teardown, a drill that
// a disaster preempts); a run that ended falls out as others are resolved, and a plan that
// fell out is parsed again from the run if it is needed again.
const maxCachedPlans = 8

// planCache holds the parsed plans of the runs whose steps were resolved most recently.
type planCache struct {
	mu      sync.Mutex
	entries []cachedPlan // least recently used first
}

type cachedPlan struct {
	run  string
	plan *plan.Plan // with the run's params applied
	sys  *system.System
}

func (c *planCache) get(run string) (cachedPlan, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.entries) - 1; i >= 0; i-- {
		if e := c.entries[i]; e.run == run {
			c.entries = append(append(c.entries[:i], c.entries[i+1:]...), e)
			return e, true
		}
	}
	return cachedPlan{}, false
}

func (c *planCache) put(e cachedPlan) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = slices.DeleteFunc(c.entries, func(x cachedPlan) bool { return x.run == e.run })
	c.entries = append(c.entries, e)
	if over := len(c.entries) - maxCachedPlans; over > 0 {
		c.entries = slices.Delete(c.entries, 0, over)
	}
}

// Compile parses and validates a plan, applies params, and builds a run whose steps carry
// their specs with regions resolved against the pair. sys is the stored system file (nil
// when none is): every ${system.…} the plan reads must resolve in it, and the run keeps
// the copy it was compiled against.
func (p *Planner) Compile(source []byte, params map[string]string, region *kirikaev1.RegionState, sys *kirikaev1.SystemRecord) (*kirikaev1.Run, error) {
	pl, err := plan.Parse("plan", source)
	if err != nil {
		return nil, err
	}
	parsed, err := parseSystem(sys)
	if err != nil {
		return nil, err
	}
	var values plan.SystemValues
	if parsed != nil {
		values = parsed
	}
	if err := pl.CheckSystem(values); err != nil {
		return nil, err
	}
	if err := plan.ApplyParams(pl, params); err != nil {
		return nil, err
	}
	if missing := pl.MissingParams(); len(missing) > 0 {
		return nil, fmt.Errorf("params without a value: %v (give them with --set NAME=VALUE)", missing)
	}
	run := &kirikaev1.Run{
		PlanName:     pl.Name,
		Params:       pl.ParamValues(),
		SecretParams: pl.SecretParams(),
		Primary:      region.GetPrimary(),
		Secondary:    region.GetSecondary(),
		System:       sys,
	}
	run.Kind, run.FromRegion, run.ToRegion = kindOf(pl.RunKind, region)
	ctx := context(run, nil, parsed)
	for _, ph := range pl.Phases {
		run.Phases = append(run.Phases, &kirikaev1.Phase{Id: ph.ID, Name: ph.Name, ExpectMs: ph.Expect.Milliseconds()})
	}
	for _, id := range pl.TopoOrder() {
		s := pl.Step(id)
		spec, err := specOf(s, ctx)
		if err != nil {
			return nil, err
		}
		run.Steps = append(run.Steps, &kirikaev1.StepState{Id: s.ID, Spec: spec})
	}
	return run, nil
}

// kindOf is the run kind of a plan's runKind, and the regions such a run moves from and to.
func kindOf(k plan.RunKind, region *kirikaev1.RegionState) (kind kirikaev1.RunKind, from, to string) {
	switch k {
	case plan.RunFailover:
		return kirikaev1.RunKind_RUN_KIND_FAILOVER, region.GetPrimary(), region.GetSecondary()
	case plan.RunCutback:
		return kirikaev1.RunKind_RUN_KIND_CUTBACK, region.GetSecondary(), region.GetPrimary()
	case plan.RunTeardown:
		return kirikaev1.RunKind_RUN_KIND_TEARDOWN, region.GetActive(), region.GetActive()
	default:
		return kirikaev1.RunKind_RUN_KIND_RECOVERY, region.GetActive(), region.GetActive()
	}
}

func specOf(s *plan.Step, ctx plan.Context) (*kirikaev1.StepSpec, error) {
	region := plan.RegionControlPlane
	if s.Where() == plan.OnAgent {
		r, err := s.ResolveRegion(ctx)
		if err != nil {
			return nil, err
		}
		region = r
	}
	with, err := json.Marshal(s.With)
	if err != nil {
		return nil, fmt.Errorf("step %s: with: %w", s.ID, err)
	}
	spec := &kirikaev1.StepSpec{
		Name: s.Name, Phase: s.Phase, Region: region, Needs: s.Needs, Action: s.Action, WithJson: string(with),
		TimeoutMs: s.Timeout.Milliseconds(), Retries: uint32(max(s.Retries, 0)), ExpectMs: s.Expect.Milliseconds(),
		Owner: s.Owner, OnFailure: string(s.OnFailure), DrillSkip: s.SkipInDrill(), Priority: int32(s.Priority),
	}
	// Approvals and checklists are judged by the state machine. Their terms are resolved
	// here when they can be, for display; the orchestrator resolves them again when the
	// step starts, since they may read earlier outputs.
	if in, err := plan.InterpolateWith(s, ctx); err == nil {
		if b, err := json.Marshal(in); err == nil {
			if roles, count, items, err := catalog.Terms(s.Action, b); err == nil {
				spec.Roles, spec.ApprovalsRequired, spec.Items = roles, count, items
			}
		}
	}
	if s.Action == catalog.Checklist.Name && len(spec.Roles) == 0 {
		spec.Roles = []string{checklistRole(s.Owner)}
	}
	return spec, nil
}

// checklistRole is who confirms a checklist that names no roles: its owner when the owner
// is a role, and otherwise anyone who runs the day-to-day verbs.
func checklistRole(owner string) string {
	if slices.Contains(security.AllRoles, security.Role(owner)) {
		return owner
	}
	return string(security.RoleOperator)
}

// UndoResource names the resource an undo step touches, as region/kind/id, from the
// catalog's Resource of its action; "" when the action names none.
func (p *Planner) UndoResource(region string, u *kirikaev1.UndoStep) string {
	a, ok := plan.ActionOf(u.GetAction())
	if !ok || a.Resource == nil {
		return ""
	}
	var with map[string]any
	if err := json.Unmarshal([]byte(u.GetWithJson()), &with); err != nil {
		return ""
	}
	parts := make([]string, 0, len(a.Resource.Inputs))
	for _, in := range a.Resource.Inputs {
		v := plan.Stringify(with[in])
		if v == "" {
			return ""
		}
		parts = append(parts, v)
	}
	return region + "/" + a.Resource.Kind + "/" + strings.Join(parts, "/")
}

// parsedSystems keeps the systems parseSystem parsed, by file name and the SHA-256 of
// their canonical YAML: a stored system is parsed once, not on every step a run resolves. A System is not
// changed after Parse, so one may be shared.
var parsedSystems struct {
	sync.Mutex
	m map[string]*system.System
}

// maxParsedSystems bounds parsedSystems: a system changes rarely, and runs keep the copy
// they were compiled against, so a few digests are live at a time.
const maxParsedSystems = 8

// parseSystem reads a stored system record; nil for none.
func parseSystem(rec *kirikaev1.SystemRecord) (*system.System, error) {
	if rec == nil {
		return nil, nil
	}
	sum := sha256.Sum256(rec.GetYaml()) // the record's own digest is not trusted to key the cache
	key := rec.GetSourceFile() + "\x00" + hex.EncodeToString(sum[:])
	parsedSystems.Lock()
	s, ok := parsedSystems.m[key]
	parsedSystems.Unlock()
	if ok {
		return s, nil
	}
	s, err := system.Parse(rec.GetSourceFile(), rec.GetYaml())
	if err != nil {
		return nil, fmt.Errorf("stored system %s (digest %s): %w", rec.GetName(), rec.GetDigest(), err)
	}
	parsedSystems.Lock()
	defer parsedSystems.Unlock()
	if parsedSystems.m == nil || len(parsedSystems.m) >= maxParsedSystems {
		parsedSystems.m = map[string]*system.System{}
	}
	parsedSystems.m[key] = s
	return s, nil
}

// context builds the interpolation context of a run from its params, its pair, its system
// and the outputs of its finished steps.
func context(run *kirikaev1.Run, outputs map[string]map[string]any, sys *system.System) plan.Context {
	started := ""
	if run.GetCreatedUnixNano() != 0 {
		started = time.Unix(0, run.GetCreatedUnixNano()).UTC().Format("20060102-150405")
	}
	var values plan.SystemValues
	if sys != nil {
		values = sys
	}
	return plan.Context{
		System:  values,
		Params:  run.GetParams(),
		Outputs: outputs,
		Run: plan.RunVars{ID: run.GetId(), StartedCompact: started, Primary: run.GetPrimary(), Secondary: run.GetSecondary(),
			Failed: run.GetFromRegion(), Target: run.GetToRegion()},
	}
}

// Resolve returns a step's inputs with every reference resolved, as a JSON object.
func (p *Planner) Resolve(run *kirikaev1.Run, st *kirikaev1.StepState) (string, error) {
	c, err := p.planOf(run)
	if err != nil {
		return "", err
	}
	pl := c.plan
	s := pl.Step(st.GetId())
	if s == nil {
		return "", fmt.Errorf("step %s: %w", st.GetId(), plan.ErrUnknownStep)
	}
	outputs, err := outputsOf(run)
	if err != nil {
		return "", err
	}
	in, err := plan.InterpolateWith(s, context(run, outputs, c.sys))
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("step %s: encode inputs: %w", st.GetId(), err)
	}
	return string(b), nil
}

func (p *Planner) planOf(run *kirikaev1.Run) (cachedPlan, error) {
	if c, ok := p.cache.get(run.GetId()); ok {
		return c, nil
	}
	pl, err := plan.Parse(run.GetPlanName(), run.GetPlanSource())
	if err != nil {
		return cachedPlan{}, fmt.Errorf("run %s: re-parse plan: %w", run.GetId(), err)
	}
	if err := plan.ApplyParams(pl, run.GetParams()); err != nil {
		return cachedPlan{}, fmt.Errorf("run %s: %w", run.GetId(), err)
	}
	sys, err := parseSystem(run.GetSystem())
	if err != nil {
		return cachedPlan{}, fmt.Errorf("run %s: %w", run.GetId(), err)
	}
	c := cachedPlan{run: run.GetId(), plan: pl, sys: sys}
	p.cache.put(c)
	return c, nil
}
