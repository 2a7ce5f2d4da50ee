package awssim_test

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestDifferentialCoverage holds the differential suite to every AWS operation kirikae
// depends on: each one kirikae's executors (agent/aws) and readiness checks (agent/readiness)
// call, and each one the seed runbook's `aws <service> <command>` lines run. It finds them
// itself, in the Go source and in the seed files, so a new call is caught the day it is
// written; the operation names are checked against the aws-sdk-go-v2 service packages.
func TestDifferentialCoverage(t *testing.T) {
	t.Parallel()
	sdk := loadSDKOps(t)
	covered := map[string]diffOp{}
	for _, op := range diffOps {
		if _, dup := covered[op.name()]; dup {
			t.Errorf("diffOps lists %s twice", op.name())
		}
		if !sdk.has(op.Service, op.Op) {
			t.Errorf("diffOps lists %s, which the SDK's %s package does not have", op.name(), op.Service)
		}
		if (op.MotoLacks == "") == (op.Steps == nil) || (op.MotoLacks != "") != (op.Sim != nil) {
			t.Errorf("%s: an operation has Steps against moto, or MotoLacks with its reason and Sim checks, not both", op.name())
		}
		covered[op.name()] = op
	}

	need := map[string][]string{} // service.Op → where it is called
	for _, dir := range []string{"../agent/aws", "../agent/readiness"} {
		for op, where := range executorOps(t, dir, sdk) {
			need[op] = append(need[op], where...)
		}
	}
	seeds := seedDir(t)
	runbook := runbookOps(t, seeds, sdk)
	if len(runbook) < 20 {
		t.Fatalf("found only %d AWS CLI operations in the seed runbook %s; the parser is broken", len(runbook), seeds)
	}
	for op, where := range runbook {
		need[op] = append(need[op], where...)
	}
	if len(need) < 40 {
		t.Fatalf("found only %d operations to cover; the extraction is broken", len(need))
	}

	// Every operation awssim implements is compared too, not only the ones kirikae calls today.
	for op, where := range awssimOps(t, sdk) {
		need[op] = append(need[op], "awssim's "+where)
	}

	var lines []string
	for _, op := range keysOf(need) {
		c, ok := covered[op]
		switch {
		case !ok:
			t.Errorf("%s is used by %s but the differential suite does not cover it: add it to diffOps", op, strings.Join(dedupe(need[op]), ", "))
		case c.MotoLacks != "":
			lines = append(lines, fmt.Sprintf("%-50s awssim only (%s)", op, c.MotoLacks))
		default:
			lines = append(lines, fmt.Sprintf("%-50s against moto", op))
		}
	}
	t.Logf("%d operations the runbook, executors and readiness checks use or awssim implements, all covered:\n%s", len(need), strings.Join(lines, "\n"))
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// sdkOps knows each aws-sdk-go-v2 service package's operations (its api_op_<Op>.go files)
// and waiters (func New<Name>Waiter, in the file of the operation it polls).
type sdkOps struct {
	ops     map[string]map[string]bool   // service → operation
	waiters map[string]map[string]string // service → lower-case waiter name → operation
}

func (s sdkOps) has(service, op string) bool { return s.ops[service][op] }

// lookup finds an operation by a name in another spelling (the CLI's describe-db-instances).
func (s sdkOps) lookup(service, name string) string {
	want := strings.ReplaceAll(strings.ToLower(name), "-", "")
	for op := range s.ops[service] {
		if strings.ToLower(op) == want {
			return op
		}
	}
	return ""
}

var waiterFunc = regexp.MustCompile(`(?m)^func New(\w+)Waiter\(`)

func loadSDKOps(t *testing.T) sdkOps {
	t.Helper()
	services := []string{"backup", "cloudwatch", "ec2", "ecs", "efs", "elasticache", "elasticloadbalancingv2", "health",
		"iam", "kms", "rds", "route53", "s3", "secretsmanager", "sns", "sts"}
	args := []string{"list", "-m", "-f", "{{.Path}} {{.Dir}}"}
	for _, s := range services {
		args = append(args, "github.com/aws/aws-sdk-go-v2/service/"+s)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list the SDK's service modules: %v", err)
	}
	sdk := sdkOps{ops: map[string]map[string]bool{}, waiters: map[string]map[string]string{}}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, dir, ok := strings.Cut(line, " ")
		if !ok || dir == "" {
			t.Fatalf("go list: no module directory in %q (run go mod download)", line)
		}
		svc := filepath.Base(path)
		sdk.ops[svc], sdk.waiters[svc] = map[string]bool{}, map[string]string{}
		files, _ := filepath.Glob(filepath.Join(dir, "api_op_*.go"))
		for _, f := range files {
			op := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "api_op_"), ".go")
			sdk.ops[svc][op] = true
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range waiterFunc.FindAllSubmatch(src, -1) {
				sdk.waiters[svc][strings.ToLower(string(m[1]))] = op
			}
		}
		if len(sdk.ops[svc]) == 0 {
			t.Fatalf("no api_op_*.go files in %s", dir)
		}
	}
	return sdk
}

// executorOps finds the SDK operations the non-test Go files of dir use: every <Op>Input
// they build, New<Op>Paginator and New<Waiter>Waiter they call, from an imported
// aws-sdk-go-v2 service package. As a check on that, every method call x.<Op>(ctx, ...) with
// the name of an operation of an imported service must be among them.
func executorOps(t *testing.T, dir string, sdk sdkOps) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	found := map[string][]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		services := map[string]string{} // import name → SDK service
		for _, imp := range file.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			svc, ok := strings.CutPrefix(path, "github.com/aws/aws-sdk-go-v2/service/")
			if !ok || strings.Contains(svc, "/") {
				continue
			}
			name := svc
			if imp.Name != nil {
				name = imp.Name.Name
			}
			services[name] = svc
		}
		where := func(n ast.Node) string {
			p := fset.Position(n.Pos())
			return filepath.Join(filepath.Base(dir), filepath.Base(p.Filename)) + ":" + strconv.Itoa(p.Line)
		}
		var calls []*ast.CallExpr
		ast.Inspect(file, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.SelectorExpr:
				pkg, ok := x.X.(*ast.Ident)
				if !ok || services[pkg.Name] == "" {
					return true
				}
				svc := services[pkg.Name]
				name := x.Sel.Name
				var op string
				if o, ok := strings.CutSuffix(name, "Input"); ok && sdk.has(svc, o) {
					op = o
				} else if o, ok := strings.CutPrefix(name, "New"); ok && strings.HasSuffix(o, "Paginator") && sdk.has(svc, strings.TrimSuffix(o, "Paginator")) {
					op = strings.TrimSuffix(o, "Paginator")
				} else if ok && strings.HasSuffix(o, "Waiter") {
					if op = sdk.waiters[svc][strings.ToLower(strings.TrimSuffix(o, "Waiter"))]; op == "" {
						t.Errorf("%s: %s.%s is no waiter the SDK's %s package has", where(x), pkg.Name, name, svc)
					}
				}
				if op != "" {
					found[svc+"."+op] = append(found[svc+"."+op], where(x))
				}
			case *ast.CallExpr:
				calls = append(calls, x)
			}
			return true
		})
		for _, c := range calls {
			sel, ok := c.Fun.(*ast.SelectorExpr)
			if !ok || len(c.Args) == 0 {
				continue
			}
			if arg, ok := c.Args[0].(*ast.Ident); !ok || arg.Name != "ctx" {
				continue
			}
			var candidates []string
			for _, svc := range services {
				if sdk.has(svc, sel.Sel.Name) {
					candidates = append(candidates, svc+"."+sel.Sel.Name)
				}
			}
			if len(candidates) == 0 {
				continue
			}
			seen := false
			for _, cand := range candidates {
				_, ok := found[cand]
				seen = seen || ok
			}
			if !seen {
				t.Errorf("%s: the call .%s(ctx, ...) is an SDK operation (%s) the extraction missed", where(c), sel.Sel.Name, strings.Join(candidates, " or "))
			}
		}
	}
	if len(found) == 0 {
		t.Fatalf("no SDK operation found in %s", dir)
	}
	return found
}

// awssimTables maps each of awssim's operation tables to its SDK service package. A table
// that is not here fails the test, so a new service is not left out of the suite.
var awssimTables = map[string]string{
	"rdsOps": "rds", "elasticacheOps": "elasticache", "elbOps": "elasticloadbalancingv2", "stsOps": "sts", "snsOps": "sns",
	"ec2Ops": "ec2", "ecsOps": "ecs", "secretsOps": "secretsmanager", "healthOps": "health", "backupRoutes": "backup",
	"efsRoutes": "efs", "route53Routes": "route53", "cloudwatchOps": "cloudwatch", "cloudwatchQueryOps": "cloudwatch",
	"kmsOps": "kms", "iamOps": "iam",
}

// awssimOps reads awssim's own source for the operations it serves: the keys of its
// map[string]<handler> tables, the operation names of its []route tables, and the names
// S3's protocol returns (it has no table).
func awssimOps(t *testing.T, sdk sdkOps) map[string]string {
	t.Helper()
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	found := map[string]string{}
	add := func(svc, op string, n ast.Node) {
		if !sdk.has(svc, op) {
			t.Errorf("%s: awssim serves %s.%s, which the SDK does not have", fset.Position(n.Pos()), svc, op)
		}
		found[svc+"."+op] = filepath.Base(fset.Position(n.Pos()).Filename)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		for _, decl := range file.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.VAR {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i >= len(vs.Values) || !strings.HasSuffix(name.Name, "Ops") && !strings.HasSuffix(name.Name, "Routes") {
						continue
					}
					lit, ok := vs.Values[i].(*ast.CompositeLit)
					if !ok {
						continue
					}
					svc, known := awssimTables[name.Name]
					if !known {
						t.Errorf("%s: awssim's operation table %s is not in awssimTables", fset.Position(name.Pos()), name.Name)
						continue
					}
					for _, elt := range lit.Elts {
						var key ast.Expr
						switch e := elt.(type) {
						case *ast.KeyValueExpr: // map: "Op": handler
							key = e.Key
						case *ast.CompositeLit: // route: {method, pattern, "Op", handler}
							if len(e.Elts) >= 3 {
								key = e.Elts[2]
							}
						}
						if bl, ok := key.(*ast.BasicLit); ok && bl.Kind == token.STRING {
							op, _ := strconv.Unquote(bl.Value)
							add(svc, op, bl)
						}
					}
				}
			}
		}
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Name.Name != "s3Protocol" {
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				if ret, ok := n.(*ast.ReturnStmt); ok && len(ret.Results) == 1 {
					if bl, ok := ret.Results[0].(*ast.BasicLit); ok && bl.Kind == token.STRING {
						if op, _ := strconv.Unquote(bl.Value); op != "" && op[0] >= 'A' && op[0] <= 'Z' {
							add("s3", op, bl)
						}
					}
				}
				return true
			})
		}
	}
	if len(found) < 40 {
		t.Fatalf("found only %d operations in awssim's source; the extraction is broken", len(found))
	}
	return found
}

// seedDir is the seed files' directory: ../shared/seeds beside the repository, as CI has it.
// Locally it may be missing; in CI that is a broken checkout.
func seedDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "seeds")
	if env := os.Getenv("KIRIKAE_SEEDS"); env != "" {
		dir = env
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the seed runbook is missing (%v): CI runs with ../shared beside the repository", err)
		}
		t.Skipf("the seed runbook is not at %s (set KIRIKAE_SEEDS)", dir)
	}
	return dir
}

// cliService maps an AWS CLI service name to the SDK's service package.
var cliService = map[string]string{"elbv2": "elasticloadbalancingv2", "s3api": "s3"}

var awsCommand = regexp.MustCompile(`(?:^|[\s$(])aws\s+([a-z0-9-]+)\s+([a-z0-9-]+)(?:\s+([a-z0-9-]+))?`)

// runbookOps finds every `aws <service> <command>` in the seed files (a backslash continues
// a line) and names its operation; `aws <service> wait <waiter>` is the operation the waiter
// polls.
func runbookOps(t *testing.T, dir string, sdk sdkOps) map[string][]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	found := map[string][]string{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		n, start, line := 0, 0, ""
		for sc.Scan() {
			n++
			if line == "" {
				start = n
			}
			text := strings.TrimRight(sc.Text(), " \t")
			if cont, ok := strings.CutSuffix(text, "\\"); ok {
				line += cont + " "
				continue
			}
			line += text
			for _, m := range awsCommand.FindAllStringSubmatch(line, -1) {
				svc := m[1]
				if s, ok := cliService[svc]; ok {
					svc = s
				}
				where := filepath.Base(f) + ":" + strconv.Itoa(start)
				if _, ok := sdk.ops[svc]; !ok {
					t.Errorf("%s: aws %s %s: no SDK service package %q (add it to loadSDKOps or cliService)", where, m[1], m[2], svc)
					continue
				}
				var op string
				if m[2] == "wait" {
					op = sdk.waiters[svc][strings.ReplaceAll(m[3], "-", "")]
				} else {
					op = sdk.lookup(svc, m[2])
				}
				if op == "" {
					t.Errorf("%s: aws %s %s %s: no such operation or waiter in the SDK's %s package", where, m[1], m[2], m[3], svc)
					continue
				}
				found[svc+"."+op] = append(found[svc+"."+op], where)
			}
			line = ""
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return found
}
