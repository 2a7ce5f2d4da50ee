package aws_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/kirikae/kirikae/agent/action"
	agentaws "github.com/kirikae/kirikae/agent/aws"
	"github.com/kirikae/kirikae/awssim"
	"github.com/kirikae/kirikae/plan"
)

// lostResponse lets AWS act on the first mutating request and then loses the answer, as an
// agent that dies (or loses its network) right after AWS accepted a call does.
type lostResponse struct {
	base http.RoundTripper
	sim  *awssim.Sim
	mu   sync.Mutex
	lost bool
}

var errLost = errors.New("connection reset by peer (simulated agent crash)")

func (l *lostResponse) RoundTrip(req *http.Request) (*http.Response, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	before := len(l.sim.Journal())
	resp, err := l.base.RoundTrip(req)
	if err == nil && !l.lost && len(l.sim.Journal()) > before {
		_ = resp.Body.Close()
		l.lost = true
		return nil, errLost
	}
	return resp, err
}

// TestCrashAfterMutation: AWS performed the step's mutation but the agent never saw the
// answer. The rerun (a restarted agent) must find that work and not do it again. The
// at-least-once side effects are the exceptions the design accepts (see SNSPublish and
// ECSUpdateService): with the answer lost they happen again, so they are left out.
func TestCrashAfterMutation(t *testing.T) {
	for _, c := range simCases() {
		if c.op == "" || c.atLeastOnce {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newSimEnv(t)
			if c.setup != nil {
				c.setup(t, e, c.with)
			}
			lr := &lostResponse{base: http.DefaultTransport, sim: e.sim}
			crashing := e.opts
			crashing.HTTPClient = &http.Client{Transport: lr}
			crashing.ConfigOptions = append(slices.Clone(e.opts.ConfigOptions),
				config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }))
			reg := action.NewRegistry()
			agentaws.Register(reg, agentaws.ClientCache(context.Background(), e.endpoint, crashing), crashing)
			s := step(c.action, c.region, c.with)
			_, err := reg.Execute(testCtx(t), s, nil)
			if !errors.Is(err, errLost) {
				t.Fatalf("want the lost answer to fail the first run, got %v", err)
			}
			if n := e.mutations(c.op); n != 1 {
				t.Fatalf("AWS should have acted once before the crash, journal holds %d %s", n, c.op)
			}
			e.restart(t)
			s.Attempt = 2
			out, _, err := e.exec(testCtx(t), s)
			if err != nil {
				t.Fatalf("rerun after the crash: %v", err)
			}
			if n := e.mutations(c.op); n != 1 {
				t.Fatalf("the rerun repeated the mutation: journal holds %d %s: %v", n, c.op, e.sim.Journal())
			}
			if c.check != nil {
				c.check(t, out)
			}
		})
	}
}

// TestOutputsMatchCatalog: every agent action is registered, and each executor returns
// exactly the outputs plan/actions.go names, with types that survive protobuf and JSON.
func TestOutputsMatchCatalog(t *testing.T) {
	reg := action.NewRegistry()
	agentaws.Register(reg, func(string) (*agentaws.Clients, error) { return nil, errors.New("unused") }, agentaws.Options{})
	action.RegisterBuiltins(reg, action.BuiltinOptions{})
	for _, a := range plan.Actions() {
		name := a.Name
		_, ok := reg.Lookup(name)
		if ok != (a.Where == plan.OnAgent) {
			t.Errorf("%s (where %s): registered=%v", name, a.Where, ok)
		}
	}
	for _, c := range simCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newSimEnv(t)
			if c.setup != nil {
				c.setup(t, e, c.with)
			}
			out, _, err := e.exec(testCtx(t), step(c.action, c.region, c.with))
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k, v := range out {
				keys = append(keys, k)
				switch v.(type) {
				case string, int64, float64, bool, []any, map[string]any:
				default:
					t.Errorf("output %s is a %T", k, v)
				}
			}
			slices.Sort(keys)
			want := slices.Sorted(slices.Values(actionOf(t, c.action).Outputs))
			if !slices.Equal(keys, want) {
				t.Fatalf("outputs %v, catalog says %v", keys, want)
			}
		})
	}
}

// TestEveryCatalogInputIsRead catches a catalog input no executor reads (the catalog grows
// in plan/actions.go): every input name must be read somewhere as a quoted literal.
func TestEveryCatalogInputIsRead(t *testing.T) {
	var src strings.Builder
	for _, dir := range []string{".", "../action"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src.Write(b)
		}
	}
	for _, a := range plan.Actions() {
		name := a.Name
		if a.Where != plan.OnAgent {
			continue
		}
		for _, in := range a.Inputs {
			if !strings.Contains(src.String(), `"`+in.Name+`"`) {
				t.Errorf("%s: input %s is never read", name, in.Name)
			}
		}
	}
}
