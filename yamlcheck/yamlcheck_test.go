package yamlcheck_test

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/kirikae/kirikae/yamlcheck"
)

func TestSuggest(t *testing.T) {
	options := []string{"vpc", "securityGroups", "desiredCount", "loadBalancer", "taskFamily"}
	for _, tt := range []struct{ name, want string }{
		{"vcp", "vpc"},                            // two neighbouring letters swapped
		{"securityGroup", "securityGroups"},       // one letter short
		{"desiredcount", "desiredCount"},          // case only
		{"loadBalancers", "loadBalancer"},         // one letter more
		{"family", "taskFamily"},                  // contained
		{"cluster", ""},                           // nothing close
		{"ab", ""},                                // too short to be contained
		{strings.Repeat("x", 500) + "vpc", "vpc"}, // long: containment only
	} {
		if got := yamlcheck.Suggest(tt.name, options); got != tt.want {
			t.Errorf("Suggest(%.20q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func newProblems() *yamlcheck.Problems { return &yamlcheck.Problems{File: "f.yaml", Top: "thing"} }

var lim = yamlcheck.Limits{Bytes: 1 << 10, Depth: 5, Expanded: 1 << 11}

func TestLoadRefuses(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		line      int
		field     string
		msg       string
		returned  bool // the first document is still returned
	}{
		{"empty", "", 1, "thing", "empty file", false},
		{"comment only", "# nothing\n", 1, "thing", "empty file", false},
		{"two documents", "a: 1\n---\nb: 2\n", 2, "yaml", "more than one YAML document: a file holds one thing", true},
		{"syntax", "a: 1\nb: c: d\n", 2, "yaml", "mapping values are not allowed in this context", false},
		{"too large", "a: " + strings.Repeat("x", 2000) + "\n", 1, "thing", "the file is 2004 bytes: a thing may be at most 1024 bytes (1 KiB)", false},
		{"too deep", "a:\n  b:\n    c:\n      d:\n        e: [1]\n", 5, "yaml", "nest 6 levels deep: a thing may nest at most 5", false},
		{"alias in its anchor", "a: &x [*x]\n", 1, "yaml", "alias *x is inside the node it names (line 1)", false},
		{"aliases expand", "a: &a [" + strings.Repeat("x,", 100) + "x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n", 2, "yaml", "a thing may expand to at most 2048", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newProblems()
			root := p.Load([]byte(tt.src), lim, "thing")
			if (root != nil) != tt.returned {
				t.Errorf("returned a root: %v, want %v", root != nil, tt.returned)
			}
			errs := p.List()
			if len(errs) != 1 {
				t.Fatalf("%d problems, want 1: %v", len(errs), errs)
			}
			if e := errs[0]; e.Line != tt.line || e.Field != tt.field || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("got %s, want line %d, field %s, message with %q", e, tt.line, tt.field, tt.msg)
			}
		})
	}
}

// Fields reports duplicate, non-string and unknown keys, each at its line, suggesting
// the key a typo meant, and calls fn only for the others.
func TestFields(t *testing.T) {
	p := newProblems()
	root := p.Load([]byte("vpc: a\nvcp: b\nvpc: c\n[x]: d\nzzz: e\n"), lim, "thing")
	var got []string
	p.Fields(root, "thing", []string{"vpc", "securityGroups"}, func(key string, _, val *yaml.Node) {
		got = append(got, key+"="+val.Value)
	})
	if strings.Join(got, ",") != "vpc=a" {
		t.Errorf("fn saw %v, want only vpc=a", got)
	}
	want := []string{
		`f.yaml:2: vcp: unknown field "vcp": did you mean "vpc"? (want one of: vpc, securityGroups)`,
		`f.yaml:3: vpc: duplicate key "vpc" (first at line 1)`,
		`f.yaml:4: thing: keys must be strings`,
		`f.yaml:5: zzz: unknown field "zzz" (want one of: vpc, securityGroups)`,
	}
	errs := p.List()
	if len(errs) != len(want) {
		t.Fatalf("got %v, want %v", errs, want)
	}
	for i, e := range errs {
		if e.String() != want[i] {
			t.Errorf("problem %d: %s, want %s", i, e, want[i])
		}
	}
	if p.Fields(root.Content[1], "thing.vpc", nil, nil) {
		t.Error("Fields took a scalar for a mapping")
	}
}

// List sorts by line, drops exact duplicates and says where it stopped.
func TestListTruncates(t *testing.T) {
	p := &yamlcheck.Problems{File: "f.yaml", Top: "thing", Max: 3}
	p.Add(9, "b", "late")
	p.Add(2, "a", "early")
	p.Add(2, "a", "early")
	p.Add(5, "c", "dropped")
	errs := p.List()
	var lines []string
	for _, e := range errs {
		lines = append(lines, e.String())
	}
	want := "f.yaml:2: a: early\nf.yaml:9: b: late\nf.yaml:9: thing: too many problems: stopped after 3"
	if got := strings.Join(lines, "\n"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestReaders(t *testing.T) {
	p := newProblems()
	root := p.Load([]byte("n: two\nb: yes\nd: -1s\nl: [a, [b]]\ns: ~\nok: 3\n"), lim, "thing")
	vals := map[string]*yaml.Node{}
	p.Fields(root, "thing", nil, func(key string, _, val *yaml.Node) { vals[key] = val })
	if _, ok := p.Int(vals["n"], "n"); ok {
		t.Error("Int took a string")
	}
	if _, ok := p.Bool(vals["b"], "b"); ok {
		t.Error("Bool took yes, which YAML 1.2 reads as a string")
	}
	if _, ok := p.Duration(vals["d"], "d"); ok {
		t.Error("Duration took a negative duration")
	}
	if l, ok := p.StrList(vals["l"], "l"); !ok || len(l) != 1 {
		t.Errorf("StrList = %v, %v, want [a] and a problem for the nested list", l, ok)
	}
	if _, ok := p.Str(vals["s"], "s"); ok {
		t.Error("Str took null")
	}
	if n, ok := p.Int(vals["ok"], "ok"); !ok || n != 3 {
		t.Errorf("Int = %d, %v, want 3", n, ok)
	}
	want := []string{
		`f.yaml:1: n: want an integer, got a string "two"`,
		`f.yaml:2: b: want true or false, got a string "yes"`,
		`f.yaml:3: d: bad duration "-1s": want e.g. 90s, 45m, 1h30m`,
		`f.yaml:4: l[1]: want a string, got a list`,
		`f.yaml:5: s: want a string, got null`,
	}
	errs := p.List()
	if len(errs) != len(want) {
		t.Fatalf("got %v, want %v", errs, want)
	}
	for i, e := range errs {
		if e.String() != want[i] {
			t.Errorf("problem %d: %s, want %s", i, e, want[i])
		}
	}
}
