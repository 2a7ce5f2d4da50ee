package aws_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/kirikae/kirikae/agent/action"
	agentaws "github.com/kirikae/kirikae/agent/aws"
	"github.com/kirikae/kirikae/awssim"
)

const (
	east = "us-east-1"
	west = "us-west-2"
)

// simClock is AWS time for awssim and the executors: it moves by step on every reading, so
// a resource's progress depends on how many calls were made, never on the machine's speed.
// Frozen, it stands still, and a wait never ends until the test lets time move again.
type simClock struct {
	mu     sync.Mutex
	t      time.Time
	step   time.Duration
	frozen bool
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.frozen {
		c.t = c.t.Add(c.step)
	}
	return c.t
}

func (c *simClock) Freeze(f bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frozen = f
}

// clientOptions make the SDK talk to an emulator with static credentials and short retry
// backoffs.
func clientOptions() []func(*config.LoadOptions) error {
	return []func(*config.LoadOptions) error{
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIAKIRIKAETEST", "secret", "")),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 2 * time.Millisecond, nil })
			})
		}),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	}
}

// env is an emulator and a registry of every executor pointed at it.
type env struct {
	sim      *awssim.Sim // nil for moto
	clock    *simClock
	endpoint string
	opts     agentaws.Options
	reg      *action.Registry
}

// newSimEnv starts awssim with the kaigo fixture at a time scale of 1/100: each request moves
// AWS time by 1 s, which the scale makes 100 s of simulated AWS work, so a 45 min restore
// takes 27 polls.
func newSimEnv(t *testing.T) *env {
	t.Helper()
	clk := &simClock{t: time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC), step: time.Second}
	sim, err := awssim.New(awssim.Options{Fixture: "kaigo", Now: clk.Now, TimeScale: 0.01, Seed: 1,
		Credentials: []awssim.Credential{{AccessKeyID: "AKIAKIRIKAETEST", SecretAccessKey: "secret"}}})
	if err != nil {
		t.Fatalf("awssim.New: %v", err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		_ = sim.Close()
		srv.Close()
	})
	e := &env{sim: sim, clock: clk, endpoint: srv.URL}
	e.opts = agentaws.Options{MinDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, Now: clk.Now,
		Memo: &action.MemoryMemo{}, ConfigOptions: clientOptions()}
	e.restart(t)
	return e
}

// restart builds a fresh registry and fresh clients, as a restarted agent would have; only
// the memo (the agent's data dir) survives.
func (e *env) restart(t *testing.T) {
	t.Helper()
	e.reg = action.NewRegistry()
	agentaws.Register(e.reg, agentaws.ClientCache(context.Background(), e.endpoint, e.opts), e.opts)
}

func (e *env) clients(t *testing.T, region string) *agentaws.Clients {
	t.Helper()
	c, err := agentaws.NewClients(testCtx(t), region, e.endpoint, e.opts)
	if err != nil {
		t.Fatalf("NewClients: %v", err)
	}
	return c
}

// mutations counts journal entries, all of them or those of one operation.
func (e *env) mutations(op string) int {
	n := 0
	for _, j := range e.sim.Journal() {
		if op == "" || j.Operation == op {
			n++
		}
	}
	return n
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func step(action_, region string, with map[string]any) action.Step {
	return action.Step{RunID: "run-1", StepID: strings.ReplaceAll(action_, ".", "-"), Attempt: 1, Epoch: 1,
		Action: action_, Region: region, With: with}
}

// exec runs a step, recording the last progress line.
func (e *env) exec(ctx context.Context, s action.Step) (map[string]any, []string, error) {
	var mu sync.Mutex
	var lines []string
	out, err := e.reg.Execute(ctx, s, func(l string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, l)
	})
	return out, lines, err
}

// execUndo runs a step with an undo log and returns what it recorded too.
func (e *env) execUndo(ctx context.Context, s action.Step) (map[string]any, []action.Undo, error) {
	s.Undo = &action.UndoLog{}
	out, _, err := e.exec(ctx, s)
	return out, s.Undo.Steps(), err
}

// sameOutputs fails unless a and b agree on every key but the ignored ones.
func sameOutputs(t *testing.T, a, b map[string]any, ignore ...string) {
	t.Helper()
	strip := func(m map[string]any) map[string]any {
		c := map[string]any{}
		for k, v := range m {
			c[k] = v
		}
		for _, k := range ignore {
			delete(c, k)
		}
		return c
	}
	if !reflect.DeepEqual(strip(a), strip(b)) {
		t.Fatalf("outputs differ between runs:\nfirst:  %#v\nsecond: %#v", a, b)
	}
}

func wantErr(t *testing.T, err, sentinel error, substrings ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error wrapping %v, got success", sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("want an error wrapping %v, got %v", sentinel, err)
	}
	for _, s := range substrings {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("error %q does not mention %q", err, s)
		}
	}
}

// startMoto runs moto_server on a free loopback port until the test ends. Without it the
// test is skipped, or fails when CI is set.
func startMoto(t *testing.T, envVars ...string) string {
	t.Helper()
	path, err := exec.LookPath("moto_server")
	if err != nil {
		path = "/root/.pyenv/shims/moto_server"
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("moto_server is required in CI but not found (%v); install it with pip install 'moto[server]'", err)
		}
		t.Skipf("moto_server not found (%v); install it with pip install 'moto[server]'", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the pyenv shim execs python: kill the group
	cmd.Env = append(append(os.Environ(), "MOTO_ALLOW_NONEXISTENT_REGION=true"), envVars...)
	if err := cmd.Start(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("start moto_server: %v", err)
		}
		t.Skipf("start moto_server: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			_ = resp.Body.Close()
			return url
		}
		select {
		case <-deadline:
			t.Fatalf("moto_server did not answer on %s within 30 s: %v", url, err)
		case <-tick.C:
		}
	}
}
