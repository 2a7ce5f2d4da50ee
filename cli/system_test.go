package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kirikae/kirikae/system"
)

const (
	kaigoSystem = "../deploy/systems/kaigo.yaml"
	euSystem    = "../deploy/systems/example-eu.yaml"
)

// runSystemCLI runs the whole command line, as a user would.
func runSystemCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRootCommand(&out, &errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestSystemValidateSummarizes(t *testing.T) {
	out, err := runSystemCLI(t, "system", "validate", kaigoSystem, euSystem)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	kaigo, err := system.ParseFile(kaigoSystem)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		kaigoSystem + ": ok\n",
		"System:      kaigo-subsys (account 123456789012)\n",
		"Regions:     primary us-east-1 -> secondary us-west-2\n",
		"Objectives:  RPO 1h, RTO 4h\n",
		"DNS:         api.kaigo-subsys.example.com A in zone kaigo-subsys.example.com\n",
		"Digest:      " + kaigo.Digest() + "\n",
		euSystem + ": ok\n",
		"Regions:     primary eu-west-1 -> secondary eu-central-1\n",
		"Objectives:  RPO 15m, RTO 2h\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary lacks %q:\n%s", want, out)
		}
	}
	kaigoPart, euPart, _ := strings.Cut(out, euSystem)
	for _, c := range []struct {
		part, row string
	}{
		{kaigoPart, `securityGroup\s+5\s+5`},
		{kaigoPart, `cacheReplicationGroup\s+1\s+1`},
		{kaigoPart, `efsFileSystem\s+1\s+0`},
		{kaigoPart, `total\s+24\s+24`},
		{euPart, `ecsService\s+2\s+2`},
		{euPart, `targetGroup\s+2\s+2`},
	} {
		if !regexp.MustCompile(`(?m)^` + c.row + `$`).MatchString(c.part) {
			t.Errorf("no row %s in:\n%s", c.row, c.part)
		}
	}
	if strings.Contains(euPart, "cacheReplicationGroup") {
		t.Errorf("the summary of a system without a cache counts caches:\n%s", euPart)
	}
}

func TestSystemValidateJSON(t *testing.T) {
	var b bytes.Buffer
	if err := runSystemValidate(&b, "json", []string{kaigoSystem, euSystem}); err != nil {
		t.Fatal(err)
	}
	var results []systemFileResult
	if err := json.Unmarshal(b.Bytes(), &results); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if len(results) != 2 || !results[0].Valid || !results[1].Valid {
		t.Fatalf("results %+v", results)
	}
	k := results[0]
	if k.Name != "kaigo-subsys" || k.Objectives.RPO != "1h" || k.DNS.Record != "api.kaigo-subsys.example.com" || len(k.Regions) != 2 {
		t.Errorf("kaigo: %+v", k)
	}
	if sec := k.Regions[1]; sec.Role != system.Secondary || sec.Region != "us-west-2" || sec.Resources[system.KindCacheReplicationGroup] != 1 ||
		sec.Resources[system.KindSecret] != 2 {
		t.Errorf("kaigo's secondary: %+v", sec)
	}
	if !strings.Contains(b.String(), `"errors": []`) {
		t.Error("a valid file's errors are not an empty list")
	}
}

// brokenSystem is the help's example with three mistakes, on lines 6, 11 and 17.
func brokenSystem(t *testing.T) string {
	t.Helper()
	src := strings.NewReplacer(
		"rpo: 1h,", "rpo: soon,",
		"securityGroups: {db: shop-east-db}", "securityGroups: {db: sg-0123456789abcdef0}",
		"region: us-west-2", "region: us-west",
	).Replace(systemExample)
	path := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSystemValidateReportsEveryProblem(t *testing.T) {
	path := brokenSystem(t)
	out, err := runSystemCLI(t, "system", "validate", path)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("error %v, want exit code 1", err)
	}
	want := []string{
		path + `:6: spec.objectives.rpo: bad duration "soon": want e.g. 90s, 45m, 1h30m`,
		path + `:11: spec.regions.primary.network.securityGroups.db: "sg-0123456789abcdef0" is an id: want the security group name`,
		path + `:17: spec.regions.secondary.region: unknown region "us-west"`,
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d:\n  %s\nwant\n  %s…", i+1, lines[i], w)
		}
	}
	if !strings.Contains(err.Error(), "1 of 1 system files invalid, 3 errors") {
		t.Errorf("error %q", err)
	}

	var b bytes.Buffer
	err = runSystemValidate(&b, "json", []string{path, filepath.Join(t.TempDir(), "missing.yaml")})
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("json: error %v, want exit code 1", err)
	}
	var results []systemFileResult
	if err := json.Unmarshal(b.Bytes(), &results); err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].Valid || len(results[0].Errors) != 3 || results[0].Errors[1].Line != 11 ||
		results[0].Errors[1].Field != "spec.regions.primary.network.securityGroups.db" {
		t.Fatalf("json results %+v", results)
	}
	if m := results[1]; m.Valid || len(m.Errors) != 1 || m.Errors[0].Field != "file" || !strings.Contains(m.Errors[0].Msg, "no such file") {
		t.Errorf("a missing file: %+v", m)
	}
}

// The help teaches the format with an example that is itself a valid system file, and
// says where the complete examples and the reference are.
func TestSystemHelp(t *testing.T) {
	s, err := system.Parse("help-example.yaml", []byte(systemExample))
	if err != nil {
		t.Fatalf("the help's example is not a valid system file: %v", err)
	}
	if s.Role(system.Secondary).Name != "us-west-2" {
		t.Errorf("the example fails over to %s", s.Role(system.Secondary).Name)
	}
	out, err := runSystemCLI(t, "system", "validate", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: System", "${system.secondary.loadBalancer.name}", "deploy/systems/kaigo.yaml",
		"go doc github.com/kirikae/kirikae/system", "FILE:LINE: FIELD: MESSAGE", "-o, --output"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help does not say %q", want)
		}
	}
	if _, err := runSystemCLI(t, "system", "validate", "-o", "yaml", kaigoSystem); err == nil || !strings.Contains(err.Error(), "want table or json") {
		t.Errorf("-o yaml: %v", err)
	}
}
