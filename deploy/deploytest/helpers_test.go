package deploytest

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kirikae/kirikae/cli"
)

// deployDir is deploy/, seen from this package's directory (go test runs tests there).
const deployDir = ".."

func readDeployFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// flagChecker reports whether `kirikae SUB` has --NAME, from the real command tree.
type flagChecker func(sub, name string) bool

func kirikaeFlags(t *testing.T) flagChecker {
	t.Helper()
	root := cli.NewRootCommand(io.Discard, io.Discard)
	return func(sub, name string) bool {
		cmd, _, err := root.Find([]string{sub})
		if err != nil || cmd == root {
			return false
		}
		return cmd.Flags().Lookup(name) != nil
	}
}

// flagRE finds long flags in a command line or a shell script.
var flagRE = regexp.MustCompile(`(?:^|[\s"'=])--([a-z][a-z0-9-]*)`)

// longFlags lists the long flags in s, without their values.
func longFlags(s string) []string {
	var out []string
	for _, m := range flagRE.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// flagValue returns the value of --name in a command line or script, written as
// --name VALUE, --name "VALUE" or --name=VALUE, and whether it was there.
func flagValue(s, name string) (string, bool) {
	re := regexp.MustCompile(`--` + regexp.QuoteMeta(name) + `(?:=|\s+)"?([^"\s]+)"?`)
	m := re.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// checkFlags reports the flags in flags that `kirikae sub` lacks.
func checkFlags(has flagChecker, sub string, flags []string) []string {
	var unknown []string
	for _, f := range flags {
		if !has(sub, f) {
			unknown = append(unknown, "--"+f)
		}
	}
	return unknown
}

// tool finds an external program. In CI (the CI variable is set, and .ci/run installs it)
// a missing one fails the test; elsewhere the test is skipped.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI but not found (%v): apt-get install %s", name, err, pkg)
	}
	t.Skipf("%s not found (%v): apt-get install %s", name, err, pkg)
	return ""
}

// mustReplace returns s with old replaced once by new, failing the test when old is not
// there: a mutation that changes nothing would prove nothing.
func mustReplace(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("mutation target not found: %q", old)
	}
	return strings.Replace(s, old, new, 1)
}
