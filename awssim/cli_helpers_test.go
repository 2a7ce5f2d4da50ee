package awssim_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// awsCLI is the Debian awscli package (v2). The pyenv shim "aws" on PATH is v1, so the
// path is explicit.
const awsCLI = "/usr/bin/aws"

// requireTool skips when a tool is missing locally, and fails in CI, where its absence means
// the machine image is wrong and the test would silently prove nothing.
func requireTool(t *testing.T, path, install string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing (%v); install it: %s", path, err, install)
		}
		t.Skipf("%s is missing; install it with: %s", path, install)
	}
}

// cliRunner runs the real AWS CLI v2 against an endpoint, signed with testCreds[0], with a
// home, config and credentials files of its own so nothing of the machine's leaks in.
type cliRunner struct {
	t        *testing.T
	endpoint string
	home     string
	// Env is added to every command's environment (AWS_DATA_PATH=..., a wrong key ...);
	// a later entry for the same name wins.
	Env []string
}

// cliResult is one CLI run: its output and exit code (0, or 254 for an error the service
// answered, 255 for one of the CLI's own).
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// newCLI returns a runner for endpoint; the test skips locally, and fails in CI, when the
// AWS CLI v2 is not installed.
func newCLI(t *testing.T, endpoint string) *cliRunner {
	t.Helper()
	requireTool(t, awsCLI, "apt-get install -y awscli")
	return &cliRunner{t: t, endpoint: endpoint, home: t.TempDir()}
}

// run runs `aws --endpoint-url ... --region region --output json args...` and returns what
// happened, whatever the exit code.
func (c *cliRunner) run(region string, args ...string) cliResult {
	c.t.Helper()
	full := append([]string{"--endpoint-url", c.endpoint, "--region", region, "--output", "json", "--no-cli-pager"}, args...)
	cmd := exec.Command(awsCLI, full...)
	cmd.Env = append([]string{
		"PATH=/usr/bin:/bin", "HOME=" + c.home,
		"AWS_ACCESS_KEY_ID=" + testCreds[0].AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + testCreds[0].SecretAccessKey,
		"AWS_CONFIG_FILE=" + filepath.Join(c.home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(c.home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1",
	}, c.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	res := cliResult{}
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	case err != nil:
		c.t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	return res
}

// ok runs the CLI and fails the test unless the command succeeds; it returns stdout.
func (c *cliRunner) ok(region string, args ...string) string {
	c.t.Helper()
	res := c.run(region, args...)
	if res.Code != 0 {
		c.t.Fatalf("aws %s: exit %d\nstderr: %s", strings.Join(args, " "), res.Code, res.Stderr)
	}
	return res.Stdout
}
