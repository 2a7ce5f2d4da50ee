package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeOutputs finds what the README's commands write in the repository: directories
// given to --dir and --data-dir, and files given to --report, -o (not a format) or a
// shell redirection; a word without a dot or a slash is prose ("> RPO") or a format. $i and $r stand for a node number and a region.
var readmeOutputs = regexp.MustCompile(`(?:--dir|--data-dir|--report|-o|>)\s+([A-Za-z0-9_.$/-]+)`)

// TestPrivateFilesAreIgnored checks that what the README's walkthrough creates, the CA
// key and the operators' keys, the roles file, the raft and agent data, the logs, the
// sim's credentials and the reports, is ignored by git, so `git add .` cannot commit it.
func TestPrivateFilesAreIgnored(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".git")); err != nil {
		t.Skip("not in a git checkout")
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"certs/ca.key", "certs/ca-key.pem", "certs/operator-admin-key.pem", "roles.yaml"}
	for _, m := range readmeOutputs.FindAllStringSubmatch(string(readme), -1) {
		p := m[1]
		if !strings.ContainsAny(p, "./") || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "$") || strings.HasPrefix(p, "&") {
			continue
		}
		p = strings.NewReplacer("$i", "1", "$r", "us-west-2").Replace(p)
		if strings.HasPrefix(p, "data/") || strings.HasPrefix(p, "certs") {
			p += "/x" // a file inside the directory
		}
		paths = append(paths, p)
	}
	if len(paths) < 8 {
		t.Fatalf("found only %v in the README; has its walkthrough changed?", paths)
	}
	for _, p := range paths {
		cmd := exec.Command("git", "check-ignore", "-q", "--no-index", p)
		cmd.Dir = root
		if err := cmd.Run(); err != nil {
			t.Errorf("%s, which the README's commands create, is not in .gitignore (git check-ignore: %v)", p, err)
		}
	}
}
