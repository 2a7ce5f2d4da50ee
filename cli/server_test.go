package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "server.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func freeLoopback(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServerConfigFile: the file sets the flags by their names, a flag on the command line
// wins, and --print-config shows the result with each value's source, as a file that gives
// the same configuration again.
func TestServerConfigFile(t *testing.T) {
	file := writeConfig(t, `# a node
id: cp1
data-dir: /var/lib/kirikae/cp1
grpc-addr: 10.0.0.1:7002
bootstrap: true
raft-heartbeat-timeout: 1s
evaluate-plan: [/etc/kirikae/failover.yaml, "/etc/kirikae/cut back.yaml"]
evaluate-set: [APP_URL=https://app.example.com]
ui: mtls
ui-addr: 10.0.0.1:7443
`)
	out, err := runSystemCLI(t, "server", "--config", file, "--grpc-addr", "127.0.0.1:7002", "--log-level", "debug", "--print-config")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"id: cp1 # config file\n",
		"data-dir: /var/lib/kirikae/cp1 # config file\n",
		"grpc-addr: 127.0.0.1:7002 # flag\n",
		"log-level: debug # flag\n",
		"bootstrap: true # config file\n",
		"raft-heartbeat-timeout: 1s # config file\n",
		"raft-election-timeout: 400ms # default\n",
		"tls-reload-every: 10s # default\n",
		"evaluate-plan: [/etc/kirikae/failover.yaml, /etc/kirikae/cut back.yaml] # config file\n",
		"ui: mtls # config file\n",
		"ui-addr: 10.0.0.1:7443 # config file\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--print-config lacks %q:\n%s", want, out)
		}
	}
	for _, never := range []string{"config:", "print-config:", "help:"} {
		if strings.Contains(out, never) {
			t.Errorf("--print-config shows %s:\n%s", never, out)
		}
	}

	// What it prints is a config file that gives the same values.
	again, err := runSystemCLI(t, "server", "--config", writeConfig(t, out), "--print-config")
	if err != nil {
		t.Fatalf("the printed config is refused: %v\n%s", err, out)
	}
	sources := regexp.MustCompile(` # (flag|default|config file)\n`)
	if a, b := sources.ReplaceAllString(out, "\n"), sources.ReplaceAllString(again, "\n"); a != b {
		t.Errorf("the printed config gives other values:\n%s\nthen\n%s", a, b)
	}
	if strings.Count(again, "# config file\n") != strings.Count(again, "\n") {
		t.Errorf("every value of the printed file should come from it:\n%s", again)
	}

	// An empty list empties a repeatable flag; an empty file changes nothing.
	out, err = runSystemCLI(t, "server", "--config", writeConfig(t, "evaluate-set: []\n"), "--evaluate-set", "A=1", "--print-config")
	if err != nil || !strings.Contains(out, "evaluate-set: ['A=1'] # flag\n") && !strings.Contains(out, "evaluate-set: [A=1] # flag\n") {
		t.Errorf("a flag lost to the file's empty list: %v\n%s", err, out)
	}
	if _, err := runSystemCLI(t, "server", "--config", writeConfig(t, "# nothing yet\n"), "--print-config"); err != nil {
		t.Errorf("a file of comments is refused: %v", err)
	}
}

// TestServerConfigFileRefused: a bad config file, or a configuration that cannot work, is
// refused with the file's line for each problem, before the server binds an address or
// creates its data dir.
func TestServerConfigFileRefused(t *testing.T) {
	tests := []struct {
		name string
		// extra is appended to a file that names the data dir and addresses (lines 1-5).
		extra string
		want  []string // each a line of the error; FILE stands for the file
	}{
		{"unknown key", "raft-adr: 127.0.0.1:7001\n",
			[]string{`FILE:6: raft-adr: unknown field "raft-adr": did you mean "raft-addr"?`}},
		{"the file naming another", "config: other.yaml\n",
			[]string{`FILE:6: config: unknown field "config"`}},
		{"a string for a boolean", "bootstrap: \"yes\"\n",
			[]string{`FILE:6: bootstrap: want true or false, got a string "yes"`}},
		{"a number for a duration", "raft-heartbeat-timeout: 5\n",
			[]string{`FILE:6: raft-heartbeat-timeout: bad duration "5": want e.g. 90s, 45m, 1h30m`}},
		{"a negative duration", "tls-reload-every: -1s\n",
			[]string{`FILE:6: tls-reload-every: bad duration "-1s"`}},
		{"a list for a string", "tls-ca: [a.pem, b.pem]\n",
			[]string{`FILE:6: tls-ca: want a string, got a list`}},
		{"a string for a list", "evaluate-plan: failover.yaml\n",
			[]string{`FILE:6: evaluate-plan: want a list, got a string "failover.yaml"`}},
		{"a mapping in a list", "evaluate-set:\n  - {A: 1}\n",
			[]string{`FILE:7: evaluate-set[0]: want a string, got a mapping`}},
		{"a key twice", "id: cp2\n",
			[]string{`FILE:6: id: duplicate key "id" (first at line 1)`}},
		{"every problem at once", "dev: 1\nraft-adr: x\nroles: [r.yaml]\n", []string{
			`FILE:6: dev: want true or false, got an integer "1"`,
			`FILE:7: raft-adr: unknown field`,
			`FILE:8: roles: want a string, got a list`,
		}},
		{"YAML that does not parse", "tls-ca: [a.pem\n",
			[]string{`FILE:6: yaml: did not find expected ',' or ']'`}},
		{"raft timeouts raft would refuse", "raft-leader-lease-timeout: 2s\n",
			[]string{`--raft-leader-lease-timeout 2s must not exceed --raft-heartbeat-timeout 400ms`}},
		{"a plan that is not there", "evaluate-plan: [/nonexistent/failover.yaml]\n",
			[]string{`--evaluate-plan: open /nonexistent/failover.yaml`}},
		{"a log level that is not one", "log-level: loud\n",
			[]string{`--log-level "loud": want debug, info, warn or error`}},
		{"a web view mode that is not one", "ui: public\n",
			[]string{`--ui "public": want off, mtls or open`}},
		{"the mTLS web view with no address", "ui: mtls\n",
			[]string{`--ui=mtls needs --ui-addr`}},
		{"an open web view with an HTTPS address", "ui: open\nui-addr: 127.0.0.1:0\n",
			[]string{`--ui-addr is only for --ui=mtls`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			addrs := []string{freeLoopback(t), freeLoopback(t), freeLoopback(t)}
			file := writeConfig(t, fmt.Sprintf("id: cp1\ndata-dir: %s\nraft-addr: %s\ngrpc-addr: %s\nhttp-addr: %s\n", dataDir, addrs[0], addrs[1], addrs[2])+tt.extra)
			out, err := runSystemCLI(t, "server", "--config", file, "--dev")
			if err == nil {
				t.Fatalf("the server started:\n%s", out)
			}
			for _, w := range tt.want {
				w = strings.ReplaceAll(w, "FILE", file)
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error lacks %q:\n%v", w, err)
				}
			}
			if _, serr := os.Stat(dataDir); !errors.Is(serr, os.ErrNotExist) {
				t.Errorf("the data dir was created (%v) by a server refused with: %v", serr, err)
			}
			for _, a := range addrs {
				ln, lerr := net.Listen("tcp", a)
				if lerr != nil {
					t.Errorf("%s is bound: %v", a, lerr)
					continue
				}
				ln.Close()
			}
		})
	}
}

// TestServerDevNeedsNoOtherFlags (issue 15): `kirikae server --dev` used to fail with
// "--id is required" and want five flags. Now it starts with none, prints the export lines,
// and a CLI with exactly those settings talks to it over mTLS; on exit it removes the
// certificates and the data dir it made.
func TestServerDevNeedsNoOtherFlags(t *testing.T) {
	clearClientEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- execute(ctx, []string{"server", "--dev", "--log-level", "warn"}, &out, &errOut) }()
	var exports string
	deadline := time.Now().Add(30 * time.Second)
	for exports == "" {
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(line, "export ") {
				exports = strings.TrimPrefix(line, "export ")
			}
		}
		select {
		case code := <-done:
			t.Fatalf("server --dev exited %d:\n%s%s", code, out.String(), errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no export line:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	env := map[string]string{}
	for _, kv := range strings.Fields(exports) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
		t.Setenv(k, v)
	}
	for _, k := range []string{"KIRIKAE_ADDR", "KIRIKAE_CA", "KIRIKAE_CERT", "KIRIKAE_KEY"} {
		if env[k] == "" {
			t.Fatalf("the export line lacks %s: %s", k, exports)
		}
	}
	if !strings.HasPrefix(env["KIRIKAE_ADDR"], "127.0.0.1:") || strings.HasSuffix(env["KIRIKAE_ADDR"], ":0") {
		t.Errorf("KIRIKAE_ADDR=%s, want a loopback port of its own", env["KIRIKAE_ADDR"])
	}
	mustRun(t, "region", "init", "--primary", "us-east-1", "--secondary", "us-west-2")
	if got := mustRun(t, "region", "get"); !strings.Contains(got, "us-east-1") {
		t.Errorf("region get:\n%s", got)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("server --dev exited %d on interrupt:\n%s", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Dir(env["KIRIKAE_CA"])); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dev certificates are left behind: %v", err)
	}
}

// TestServerDevStaysOnLoopback: --dev binds loopback only, and runs one node with its own
// certificates.
func TestServerDevStaysOnLoopback(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want int
		says string
	}{
		{[]string{"--raft-addr", "0.0.0.0:0"}, exitFailure, "server --dev serves only on loopback: --raft-addr"},
		{[]string{"--grpc-addr", ":7002"}, exitFailure, "--grpc-addr"},
		{[]string{"--join", "127.0.0.1:7002"}, exitUsage, "--join: a dev server is one node"},
		{[]string{"--tls-ca", "ca.pem"}, exitUsage, "--tls-ca: a dev server is one node with its own throwaway certificates"},
	} {
		code, _, errOut := run(t, append([]string{"server", "--dev"}, tt.args...)...)
		if code != tt.want || !strings.Contains(errOut, tt.says) {
			t.Errorf("server --dev %s: exit %d, want %d with %q:\n%s", strings.Join(tt.args, " "), code, tt.want, tt.says, errOut)
		}
	}
}
