package aws_test

import (
	"context"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/kirikae/kirikae/agent/action"
	agentaws "github.com/kirikae/kirikae/agent/aws"
	"github.com/kirikae/kirikae/awssim"
	"github.com/kirikae/kirikae/catalog"
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
// exactly the outputs its catalog definition names, with types that survive protobuf and JSON.
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
			// The catalog's outputs, less those it says a step with these inputs will not
			// have (Absent): an output it calls absent must be absent, and every other there.
			spec, _ := catalog.Lookup(c.action)
			var absent map[string]string
			if spec.Absent != nil {
				b, err := json.Marshal(c.with)
				if err != nil {
					t.Fatal(err)
				}
				absent = spec.Absent(b)
			}
			want := slices.Sorted(slices.Values(slices.DeleteFunc(slices.Clone(actionOf(t, c.action).Outputs), func(o string) bool { _, gone := absent[o]; return gone })))
			if !slices.Equal(keys, want) {
				t.Fatalf("outputs %v, catalog says %v (less absent %v)", keys, want, absent)
			}
		})
	}
}

// TestEveryCatalogInputIsRead catches a catalog input no executor reads: every field of
// an agent action's In (catalog/actions.go) must be read, as in.Field, in a function that
// decodes that action's inputs (in, err := action.Decode(step, catalog.X)).
func TestEveryCatalogInputIsRead(t *testing.T) {
	fset := token.NewFileSet()
	cat, err := parser.ParseFile(fset, "../../catalog/actions.go", nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	goName := map[string]map[string]string{} // In type -> input name -> field
	defOf := map[string]string{}             // action name -> definition variable
	inOf := map[string]string{}              // definition variable -> In type
	for _, d := range cat.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range g.Specs {
			switch x := spec.(type) {
			case *ast.TypeSpec:
				st, ok := x.Type.(*ast.StructType)
				if !ok {
					continue
				}
				m := map[string]string{}
				for _, f := range st.Fields.List {
					if f.Tag == nil || len(f.Names) != 1 {
						continue
					}
					tag, _ := strconv.Unquote(f.Tag.Value)
					name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
					m[name] = f.Names[0].Name
				}
				goName[x.Name.Name] = m
			case *ast.ValueSpec:
				// var X = Define(Def[In, Out]{Name: "...", ...})
				if len(x.Names) != 1 || len(x.Values) != 1 {
					continue
				}
				call, ok := x.Values[0].(*ast.CallExpr)
				if !ok || len(call.Args) != 1 {
					continue
				}
				lit, ok := call.Args[0].(*ast.CompositeLit)
				if !ok {
					continue
				}
				def, ok := lit.Type.(*ast.IndexListExpr)
				if !ok {
					continue
				}
				if in, ok := def.Indices[0].(*ast.Ident); ok {
					inOf[x.Names[0].Name] = in.Name
				}
				for _, el := range lit.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Name" {
							if v, ok := kv.Value.(*ast.BasicLit); ok {
								name, _ := strconv.Unquote(v.Value)
								defOf[name] = x.Names[0].Name
							}
						}
					}
				}
			}
		}
	}
	read := map[string]map[string]bool{} // definition variable -> fields read
	for _, dir := range []string{".", "../action"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range file.Decls {
				if fn, ok := d.(*ast.FuncDecl); ok && fn.Body != nil {
					readInputs(fn.Body, read)
				}
			}
		}
	}
	for _, a := range plan.Actions() {
		if a.Where != plan.OnAgent {
			continue
		}
		def := defOf[a.Name]
		for _, in := range a.Inputs {
			field := goName[inOf[def]][in.Name]
			if !read[def][field] {
				t.Errorf("%s: input %s (%s.%s) is never read", a.Name, in.Name, inOf[def], field)
			}
		}
	}
}

// readInputs records, for every `v, err := [action.]Decode(step, catalog.X)` in body, the
// fields read of v, as read[X][field].
func readInputs(body *ast.BlockStmt, read map[string]map[string]bool) {
	decoded := map[string]string{} // variable -> definition
	ast.Inspect(body, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok || len(as.Rhs) != 1 || len(as.Lhs) == 0 {
			return true
		}
		call, ok := as.Rhs[0].(*ast.CallExpr)
		if !ok || len(call.Args) != 2 {
			return true
		}
		switch f := call.Fun.(type) {
		case *ast.SelectorExpr:
			if f.Sel.Name != "Decode" {
				return true
			}
		case *ast.Ident:
			if f.Name != "Decode" {
				return true
			}
		default:
			return true
		}
		v, ok1 := as.Lhs[0].(*ast.Ident)
		def, ok2 := call.Args[1].(*ast.SelectorExpr)
		if ok1 && ok2 {
			decoded[v.Name] = def.Sel.Name
		}
		return true
	})
	ast.Inspect(body, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok && decoded[x.Name] != "" {
				def := decoded[x.Name]
				if read[def] == nil {
					read[def] = map[string]bool{}
				}
				read[def][sel.Sel.Name] = true
			}
		}
		return true
	})
}
