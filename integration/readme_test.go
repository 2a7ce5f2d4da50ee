package integration_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeSection is the README section whose sh blocks TestReadmeRunningItForReal runs.
const readmeSection = "Running it for real"

// readmeTimeout bounds the whole walkthrough, the build included: at the README's time
// scale it takes about two minutes.
const readmeTimeout = 6 * time.Minute

// readmeBlocks returns the fenced sh blocks of the README section titled title, in order,
// as they are written.
func readmeBlocks(t *testing.T, readme, title string) []string {
	t.Helper()
	src, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var block *strings.Builder
	in, found := false, false
	for l := range strings.Lines(string(src)) {
		line := strings.TrimRight(l, "\n")
		switch {
		case block != nil && line == "```":
			blocks = append(blocks, block.String())
			block = nil
		case block != nil:
			block.WriteString(l)
		case strings.HasPrefix(line, "```"):
			if in && line == "```sh" {
				block = &strings.Builder{}
			}
		case strings.HasPrefix(line, "# ") || strings.HasPrefix(line, "## "):
			in = strings.TrimLeft(line, "# ") == title
			found = found || in
		}
	}
	if !found || len(blocks) == 0 {
		t.Fatalf("%s has no section %q with a ```sh block; this test runs that section's blocks", readme, title)
	}
	return blocks
}

// freshCopy copies the repository's files, tracked or not but never ignored (bin/, data/,
// certs/ ...), into dir: what a reader who has just cloned it has.
func freshCopy(t *testing.T, root, dir string) {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		t.Fatalf("listing the repository's files (git ls-files in %s): %v", root, err)
	}
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, f)
		st, err := os.Lstat(src)
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the working tree, or not a file
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

// netnsCommand returns the command that runs argv in a fresh network namespace with its
// own loopback up, so the README's fixed ports (7201, 4566 ...) clash with nothing. It
// fails the test, saying why, when this machine cannot make one.
func netnsCommand(t *testing.T, argv ...string) []string {
	t.Helper()
	for _, tool := range []string{"unshare", "ip", "bash", "curl", "jq", "go", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README walkthrough needs %s: %v", tool, err)
		}
	}
	unshare := []string{"unshare", "--net"}
	if os.Geteuid() != 0 {
		// Not root: a user namespace maps us to root inside, where we may make a network one.
		unshare = []string{"unshare", "--user", "--map-root-user", "--net"}
	}
	if out, err := exec.Command(unshare[0], append(unshare[1:], "ip", "link", "set", "lo", "up")...).CombinedOutput(); err != nil {
		t.Fatalf("cannot run the README in a network namespace of its own (%s): %v: %s; "+
			"run as root, or allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)", strings.Join(unshare, " "), err, out)
	}
	return append(unshare, append([]string{"bash", "-c", `ip link set lo up && exec "$@"`, "netns"}, argv...)...)
}

// TestReadmeRunningItForReal runs the README's "Running it for real" blocks with bash, word
// for word and in order, in a fresh copy of the repository and a network namespace of their
// own. Only `set -euo pipefail -x` comes before them: every command must exit 0, unless the
// README itself says it may fail (`|| [ $? = 4 ]`), and the trace says which one did not.
// The failover and the cutback must succeed, and the README's `region get` tables must show
// the active region move to us-west-2 and back to us-east-1, the epoch one higher each time.
func TestReadmeRunningItForReal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds kirikae and runs the README's walkthrough: a few minutes")
	}
	root := repoRoot(t)
	script := "set -euo pipefail -x\n" + strings.Join(readmeBlocks(t, filepath.Join(root, "README.md"), readmeSection), "")
	dir := t.TempDir()
	freshCopy(t, root, dir)
	scriptFile := filepath.Join(t.TempDir(), "readme.sh")
	if err := os.WriteFile(scriptFile, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	// A file, not a pipe: the README's background processes hold it open after the script
	// has ended, and Wait must not wait for them.
	logFile := filepath.Join(t.TempDir(), "readme.log")
	logW, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer logW.Close()

	ctx, cancel := context.WithTimeout(context.Background(), readmeTimeout)
	defer cancel()
	argv := netnsCommand(t, "bash", scriptFile)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = readmeEnv()
	cmd.Stdout, cmd.Stderr = logW, logW
	// Its own process group, which the servers, agents and simulator the README starts with
	// & join: killing the group stops everything, whatever the script did.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	runErr := cmd.Wait()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	t.Logf("the README's walkthrough took %s", time.Since(start).Round(time.Second))

	outB, _ := os.ReadFile(logFile)
	out := string(outB)
	defer func() {
		if t.Failed() {
			t.Logf("---- the script, from README.md ----\n%s", script)
			t.Logf("---- what it printed ----\n%s", out)
			logs, _ := filepath.Glob(filepath.Join(dir, "logs", "*.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				t.Logf("---- %s (last 40 lines) ----\n%s", filepath.Base(l), lastLines(string(b), 40))
			}
		}
	}()
	switch {
	case ctx.Err() != nil:
		t.Fatalf("the README's walkthrough did not end within %s; last command: %s", readmeTimeout, lastCommand(out))
	case runErr != nil:
		t.Fatalf("the README's walkthrough failed (%v) at: %s", runErr, lastCommand(out))
	}

	runs := regexp.MustCompile(`(?m)^\+ RUN=(\S+)$`).FindAllStringSubmatch(out, -1)
	if len(runs) != 2 || !strings.HasPrefix(runs[0][1], "failover-") || !strings.HasPrefix(runs[1][1], "cutback-") {
		t.Fatalf("want a failover run then a cutback run (RUN=...), got %v", runs)
	}
	for _, r := range runs {
		if !regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d run ` + regexp.QuoteMeta(r[1]) + ` succeeded$`).MatchString(out) {
			t.Errorf("run %s: `run watch` printed no success", r[1])
		}
	}
	type active struct {
		region string
		epoch  int
	}
	var got []active
	// `region get` prints a table: ACTIVE EPOCH MODE PRIMARY SECONDARY INDEX NODE READ.
	for _, m := range regexp.MustCompile(`(?m)^ACTIVE\s+EPOCH\s+MODE\s.*\sREAD\n(\S+)\s+(\d+)\s`).FindAllStringSubmatch(out, -1) {
		var e int
		fmt.Sscan(m[2], &e)
		got = append(got, active{m[1], e})
	}
	if want := []active{{"us-east-1", 1}, {"us-west-2", 2}, {"us-east-1", 3}}; !slices.Equal(got, want) {
		t.Errorf("`region get` showed %v, want %v: before, after the failover, after the cutback", got, want)
	}
}

// readmeEnv is the test's environment without what would point the README's commands
// elsewhere: a control plane, certificates, AWS credentials or endpoints of the caller's.
func readmeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KIRIKAE_") && !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

// lastCommand is the last command bash -x traced.
func lastCommand(out string) string {
	last := "(none)"
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "+ ") {
			last = strings.TrimPrefix(l, "+ ")
		}
	}
	return last
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
