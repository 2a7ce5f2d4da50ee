package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCertsInitRegions: agent certificates are made for the regions the user names, with
// --region or from a system file's pair; with neither, certs init refuses and says how,
// rather than guess regions the user does not run in.
func TestCertsInitRegions(t *testing.T) {
	run := func(args ...string) (string, error) {
		cmd := newCertsInitCommand()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(args)
		err := cmd.Execute()
		return out.String(), err
	}
	dir := filepath.Join(t.TempDir(), "none")
	if _, err := run("--dir", dir); err == nil || !strings.Contains(err.Error(), "--region REGION") || !strings.Contains(err.Error(), "--system FILE") {
		t.Fatalf("no regions: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ca.pem")); !os.IsNotExist(err) {
		t.Errorf("a refused certs init wrote a CA: %v", err)
	}
	if _, err := run("--dir", dir, "--region", "eu-west"); err == nil || !strings.Contains(err.Error(), `--region "eu-west"`) {
		t.Errorf("bad region: %v", err)
	}

	dir = filepath.Join(t.TempDir(), "eu")
	if _, err := run("--dir", dir, "--system", filepath.Join("..", "deploy", "systems", "example-eu.yaml")); err != nil {
		t.Fatal(err)
	}
	agents, _ := filepath.Glob(filepath.Join(dir, "agent-*-key.pem"))
	var got []string
	for _, a := range agents {
		got = append(got, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(a), "agent-"), "-key.pem"))
	}
	if strings.Join(got, ",") != "eu-central-1,eu-west-1" {
		t.Errorf("agent certificates for %v, want the system's eu-central-1 and eu-west-1", got)
	}
	// Adding an operator later needs no region.
	if _, err := run("--dir", dir, "--reuse-ca", "--operator", "carol"); err != nil {
		t.Errorf("--reuse-ca --operator: %v", err)
	}
}
