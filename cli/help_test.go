package cli

import (
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/security"
)

// walk calls f on every command of the tree.
func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		walk(sub, f)
	}
}

var placeholder = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// TestFlagValueNames holds every flag's usage to pflag's rule: the first back-quoted word
// is the value's name in --help (--tls-ca file). So a back-quoted span must be a single
// lower-case placeholder, and not a word kirikae knows as a literal, a command, a flag or
// a role, which would read as a value to type (--roles admin).
func TestFlagValueNames(t *testing.T) {
	root := NewRootCommand(io.Discard, io.Discard)
	literal := map[string]bool{}
	walk(root, func(c *cobra.Command) {
		literal[c.Name()] = true
		c.Flags().VisitAll(func(f *pflag.Flag) { literal[f.Name] = true })
	})
	for _, r := range security.AllRoles {
		literal[string(r)] = true
	}
	walk(root, func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if !strings.Contains(f.Usage, "`") {
				return
			}
			name, _ := pflag.UnquoteUsage(f)
			if !placeholder.MatchString(name) || literal[name] || strings.Count(f.Usage, "`") != 2 {
				t.Errorf("%s --%s: --help shows the value as %q; back-quote one placeholder word (e.g. `file`) and nothing else: %s",
					c.CommandPath(), f.Name, name, f.Usage)
			}
		})
	})
}

// shellWords splits a command line as sh would, enough for examples: quotes group words.
func shellWords(line string) []string {
	var out []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// TestExamplesParse runs every Example line of the tree that starts with kirikae through
// the tree: the command path must exist and every flag must parse.
func TestExamplesParse(t *testing.T) {
	root := NewRootCommand(io.Discard, io.Discard)
	checked := 0
	walk(root, func(c *cobra.Command) {
		text := strings.ReplaceAll(c.Example, "\\\n", " ")
		for _, line := range strings.Split(text, "\n") {
			line = strings.TrimSpace(line)
			if !strings.HasPrefix(line, "kirikae ") {
				continue
			}
			for _, cut := range []string{" | ", " # ", " && ", "; ", " > ", " 2>"} {
				if i := strings.Index(line, cut); i >= 0 {
					line = line[:i]
				}
			}
			args := shellWords(line)[1:]
			fresh := NewRootCommand(io.Discard, io.Discard) // flags parsed once per tree
			cmd, rest, err := fresh.Find(args)
			if err != nil || cmd == fresh && len(args) > 0 {
				t.Errorf("%s: example %q names no command: %v", c.CommandPath(), line, err)
				continue
			}
			if err := cmd.ParseFlags(rest); err != nil {
				t.Errorf("%s: example %q: %v", c.CommandPath(), line, err)
			}
			checked++
		}
	})
	if checked < 10 {
		t.Fatalf("only %d examples checked", checked)
	}
}

// TestRunApproveExampleMatchesThePlan holds the run approve example to the bundled plan:
// the step it approves asks for the role it approves under.
func TestRunApproveExampleMatchesThePlan(t *testing.T) {
	root := NewRootCommand(io.Discard, io.Discard)
	cmd, _, err := root.Find([]string{"run", "approve"})
	if err != nil {
		t.Fatal(err)
	}
	words := shellWords(strings.TrimSpace(cmd.Example))
	if len(words) < 7 || words[5] != "--role" {
		t.Fatalf("example %q: want kirikae run approve RUN STEP --role ROLE", cmd.Example)
	}
	step, role := words[4], words[6]
	p, err := plan.ParseFile("../deploy/plans/kaigo-failover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st := p.Step(step)
	if st == nil {
		t.Fatalf("the example approves step %s, which kaigo-failover does not have", step)
	}
	roles, _ := st.With["roles"].([]any)
	found := false
	for _, r := range roles {
		found = found || r == role
	}
	if !found {
		t.Errorf("the example approves %s as %s; the plan asks for %v", step, role, roles)
	}
}

// TestTimeScaleHelpDirection: every --time-scale is real time per simulated time (0.002
// runs a 45-minute restore in 5.4 s), not the other way round.
func TestTimeScaleHelpDirection(t *testing.T) {
	root := NewRootCommand(io.Discard, io.Discard)
	n := 0
	walk(root, func(c *cobra.Command) {
		f := c.LocalFlags().Lookup("time-scale")
		if f == nil {
			return
		}
		n++
		if strings.Contains(f.Usage, "per real second") || c.Name() == "start" && !strings.Contains(f.Usage, "real seconds per simulated second") {
			t.Errorf("%s --time-scale: %q, want real seconds per simulated second", c.CommandPath(), f.Usage)
		}
	})
	if n == 0 {
		t.Fatal("no --time-scale flag found")
	}
}
