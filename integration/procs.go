package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Proc is a long-running kirikae process other than a server: `kirikae sim` or an agent.
type Proc struct {
	t    testing.TB
	name string
	args []string
	env  []string
	bin  string
	cmd  *exec.Cmd
	logs *bytes.Buffer
	done chan struct{}
}

func startProc(t testing.TB, bin, name string, env []string, args ...string) *Proc {
	t.Helper()
	p := &Proc{t: t, name: name, args: args, env: env, bin: bin}
	p.Start()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("---- logs of %s ----\n%s", name, tail(p.logs.String(), 80))
		}
	})
	return p
}

// Start starts the process (again).
func (p *Proc) Start() {
	p.t.Helper()
	p.logs = &bytes.Buffer{}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout = &lockedWriter{w: p.logs}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	p.cmd = cmd
	p.done = make(chan struct{})
	go func() { cmd.Wait(); close(p.done) }()
}

// Kill sends SIGKILL and waits for the process to die.
func (p *Proc) Kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}

// Stop sends SIGTERM, then SIGKILL after 5 s.
func (p *Proc) Stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
	p.cmd = nil
}

// Sim is a `kirikae sim` process.
type Sim struct {
	*Proc
	URL string
}

// simEnv are the credentials the agents sign with: the key pair StartSim has the simulator
// issue (awssim serves only requests signed with a pair it issued).
var simEnv = []string{"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true"}

// simCredentialsFile is simEnv's pair in the ~/.aws/credentials format `kirikae sim
// --credentials` reads.
const simCredentialsFile = "[integration]\naws_access_key_id = AKIDTEST\naws_secret_access_key = test\n"

// StartSim runs `kirikae sim --system deploy/systems/kaigo.yaml` (the seed system's world
// in peacetime, built from its system file as a user's is) at the given time scale and
// waits until it answers.
func StartSim(t testing.TB, scale float64) *Sim {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	system := filepath.Join(filepath.Dir(filepath.Dir(file)), "deploy", "systems", "kaigo.yaml")
	addr := FreeAddr(t)
	creds := filepath.Join(t.TempDir(), "sim.credentials")
	if err := os.WriteFile(creds, []byte(simCredentialsFile), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Sim{Proc: startProc(t, Binary(t), "sim", simEnv, "sim", "--listen", addr, "--system", system, "--credentials", creds,
		"--time-scale", fmt.Sprint(scale), "--log-level", "warn"), URL: "http://" + addr}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.URL + "/_sim/journal"); err == nil {
			resp.Body.Close()
			return s
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	t.Fatal("kirikae sim did not answer within 30s")
	return nil
}

// Control posts to awssim's control API.
func (s *Sim) Control(path string, body any) error {
	b, _ := json.Marshal(body)
	resp, err := http.Post(s.URL+"/_sim/"+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("/_sim/%s: %s", path, resp.Status)
	}
	return nil
}

// JournalEntry is one mutating call awssim recorded.
type JournalEntry struct {
	Region    string `json:"region"`
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Resource  string `json:"resource"`
}

// Journal reads awssim's journal of mutations.
func (s *Sim) Journal(t testing.TB) []JournalEntry {
	t.Helper()
	resp, err := http.Get(s.URL + "/_sim/journal")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []JournalEntry
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("journal: %v", err)
	}
	return list
}

// StartAgent runs `kirikae agent` for a region against the cluster and the simulator.
func (c *Cluster) StartAgent(region string, sim *Sim) *Proc {
	c.t.Helper()
	dir := filepath.Join(c.CertDir, "agent-data-"+region)
	return startProc(c.t, c.Bin, "agent-"+region, simEnv, "agent", "--region", region, "--id", region+"/test",
		"--control-plane", c.Addrs(), "--data-dir", dir, "--aws-endpoint", sim.URL,
		"--tls-ca", c.CA(), "--tls-cert", filepath.Join(c.CertDir, "agent-"+region+".pem"), "--tls-key", filepath.Join(c.CertDir, "agent-"+region+"-key.pem"),
		"--heartbeat", "300ms", "--waiter-delay", "20ms", "--log-level", "debug")
}

// WaitFor polls f until it returns true or the deadline passes.
func WaitFor(t testing.TB, timeout time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if f() {
			return
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// CLIJSON runs a CLI command with -o json and decodes its output into v.
func (c *Cluster) CLIJSON(as string, v any, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, errOut, err := c.CLI(ctx, as, c.Addrs(), append(args, "-o", "json")...)
	if err != nil {
		return fmt.Errorf("kirikae %s: %w: %s", strings.Join(args, " "), err, errOut)
	}
	return json.Unmarshal([]byte(out), v)
}

// StartProcForTest runs any kirikae command as a background process for the test.
func StartProcForTest(t testing.TB, bin, name string, env []string, args ...string) *Proc {
	t.Helper()
	return startProc(t, bin, name, env, args...)
}

// Logs returns what the process has printed so far.
func (p *Proc) Logs() string {
	lw, ok := p.cmd.Stdout.(*lockedWriter)
	if !ok {
		return p.logs.String()
	}
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return p.logs.String()
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) {
	if p.cmd != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// Exited waits up to timeout for the process to end by itself and returns its exit code;
// ok is false when it is still running.
func (p *Proc) Exited(timeout time.Duration) (code int, ok bool) {
	if p.cmd == nil {
		return 0, false
	}
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), true
	case <-time.After(timeout):
		return 0, false
	}
}

// StartAgentAs runs `kirikae agent` for a region with the given id, so a region can have
// more than one agent.
func (c *Cluster) StartAgentAs(region, id string, sim *Sim) *Proc {
	c.t.Helper()
	dir := filepath.Join(c.CertDir, "agent-data-"+strings.ReplaceAll(id, "/", "-"))
	return startProc(c.t, c.Bin, "agent-"+id, simEnv, "agent", "--region", region, "--id", id,
		"--control-plane", c.Addrs(), "--data-dir", dir, "--aws-endpoint", sim.URL,
		"--tls-ca", c.CA(), "--tls-cert", filepath.Join(c.CertDir, "agent-"+region+".pem"), "--tls-key", filepath.Join(c.CertDir, "agent-"+region+"-key.pem"),
		"--heartbeat", "300ms", "--waiter-delay", "20ms", "--log-level", "debug")
}
