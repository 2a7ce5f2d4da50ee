package deploytest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The units start the binary from here; the verify test points them at a stand-in.
const installedBinary = "/usr/local/bin/kirikae"

// unitFile is a parsed systemd unit: each directive in order, continuation lines joined.
type unitFile struct {
	name       string
	directives []directive
}

type directive struct {
	section, key, value string
	line                int
}

func parseUnit(name, text string) unitFile {
	u := unitFile{name: name}
	section := ""
	var pending strings.Builder
	start := 0
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if pending.Len() == 0 {
			if line == "" || line[0] == '#' || line[0] == ';' {
				continue
			}
			if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
				section = line[1 : len(line)-1]
				continue
			}
			start = i + 1
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			pending.WriteString(cont + " ")
			continue
		}
		pending.WriteString(line)
		key, value, _ := strings.Cut(pending.String(), "=")
		u.directives = append(u.directives, directive{section, strings.TrimSpace(key), strings.TrimSpace(value), start})
		pending.Reset()
	}
	return u
}

// values returns every value given to key in section, in order.
func (u unitFile) values(section, key string) []string {
	var out []string
	for _, d := range u.directives {
		if d.section == section && d.key == key {
			out = append(out, d.value)
		}
	}
	return out
}

func (u unitFile) value(section, key string) (string, bool) {
	v := u.values(section, key)
	if len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

// unitNames lists the units in deploy/systemd, templates included.
func unitNames(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(deployDir, "systemd", "*.service"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 2 {
		t.Fatalf("deploy/systemd has %d units, want the server's and the agent template", len(names))
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

// verifyUnits writes the units into a fresh directory, with ExecStart pointing at an
// executable stand-in (verify checks that the program exists) and each template also
// instantiated, and runs systemd-analyze verify on them. systemd 252 exits 0 for an
// unknown key or a bad value and only prints the problem, so any diagnostic naming one
// of these units is a failure too.
func verifyUnits(t *testing.T, analyze string, units map[string]string) error {
	t.Helper()
	dir := t.TempDir()
	stand := filepath.Join(dir, "bin", "kirikae")
	if err := os.MkdirAll(filepath.Dir(stand), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stand, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var paths, names []string
	for name, text := range units {
		text = strings.ReplaceAll(text, installedBinary, stand)
		files := []string{name}
		if prefix, ok := strings.CutSuffix(name, "@.service"); ok {
			files = append(files, prefix+"@xx-test-1.service")
		}
		for _, f := range files {
			p := filepath.Join(dir, f)
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			paths, names = append(paths, p), append(names, f)
		}
	}
	slices.Sort(paths)
	cmd := exec.Command(analyze, append([]string{"verify", "--man=no"}, paths...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_COLOR=0", "SYSTEMD_COLORS=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	var ours []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line == "" {
			continue
		}
		if strings.Contains(line, dir) || slices.ContainsFunc(names, func(n string) bool { return strings.Contains(line, n) }) {
			ours = append(ours, line)
		} else {
			t.Logf("systemd-analyze, about another unit: %s", line)
		}
	}
	switch {
	case runErr != nil:
		return fmt.Errorf("systemd-analyze verify: %w\n%s", runErr, out.String())
	case len(ours) > 0:
		return errors.New("systemd-analyze verify:\n" + strings.Join(ours, "\n"))
	}
	return nil
}

func readUnits(t *testing.T) map[string]string {
	t.Helper()
	units := map[string]string{}
	for _, n := range unitNames(t) {
		units[n] = readDeployFile(t, filepath.Join("systemd", n))
	}
	return units
}

func TestSystemdUnitsVerify(t *testing.T) {
	analyze := tool(t, "systemd-analyze", "systemd")
	if err := verifyUnits(t, analyze, readUnits(t)); err != nil {
		t.Fatal(err)
	}
}

// TestSystemdVerifyRefusesBrokenUnits shows that the check above fails on the mistakes it
// is there to catch.
func TestSystemdVerifyRefusesBrokenUnits(t *testing.T) {
	analyze := tool(t, "systemd-analyze", "systemd")
	units := readUnits(t)
	const server = "kirikae-server.service"
	const agent = "kirikae-agent@.service"
	cases := []struct {
		name, unit, old, new, want string
	}{
		{"unknown key", server, "UMask=0077\n", "UMask=0077\nProtectEverything=yes\n", "Unknown key"},
		{"bad value", server, "LimitNOFILE=65536", "LimitNOFILE=lots", "lots"},
		{"bad ProtectSystem", agent, "ProtectSystem=strict", "ProtectSystem=very", "protect system"},
		{"unknown section", agent, "[Install]", "[Instal]", "Instal"},
		{"program missing", server, "ExecStart=" + installedBinary, "ExecStart=/nonexistent/kirikae", "not executable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			broken := map[string]string{tc.unit: mustReplace(t, units[tc.unit], tc.old, tc.new)}
			err := verifyUnits(t, analyze, broken)
			if err == nil {
				t.Fatalf("systemd-analyze verify passed a unit with %s", tc.name)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("the failure does not mention %q:\n%v", tc.want, err)
			}
		})
	}
}

// hardening is what every unit must say, as [Service] KEY=VALUE; an empty want means the
// key must be there with any value but an empty one.
var hardening = []struct{ key, want string }{
	{"User", ""},
	{"StateDirectory", ""},
	{"ProtectSystem", "strict"},
	{"ProtectHome", "yes"},
	{"PrivateTmp", "yes"},
	{"NoNewPrivileges", "yes"},
	{"RestrictAddressFamilies", ""},
	{"SystemCallFilter", "@system-service"},
	{"Restart", "on-failure"},
	{"RestartSec", ""},
	{"LimitNOFILE", ""},
	{"EnvironmentFile", ""},
}

// checkUnit returns what is wrong with one unit: missing hardening, flags the binary
// lacks, variables its environment file does not set, a data dir outside StateDirectory.
func checkUnit(has flagChecker, name, text, envExample string) []string {
	u := parseUnit(name, text)
	var problems []string
	for _, h := range hardening {
		vals := u.values("Service", h.key)
		switch {
		case len(vals) == 0 || vals[len(vals)-1] == "":
			problems = append(problems, fmt.Sprintf("[Service] %s is missing", h.key))
		case h.want != "" && !slices.Contains(vals, h.want):
			problems = append(problems, fmt.Sprintf("[Service] %s=%s, want %s", h.key, vals[len(vals)-1], h.want))
		}
	}
	if v, _ := u.value("Service", "User"); v == "root" || v == "0" {
		problems = append(problems, "[Service] User=root")
	}
	// An empty CapabilityBoundingSet= drops every capability; leaving it out keeps them all.
	if v, ok := u.value("Service", "CapabilityBoundingSet"); !ok || v != "" {
		problems = append(problems, "[Service] CapabilityBoundingSet must be present and empty")
	}
	for _, fam := range strings.Fields(strings.Join(u.values("Service", "RestrictAddressFamilies"), " ")) {
		if !slices.Contains([]string{"AF_INET", "AF_INET6", "AF_UNIX"}, fam) {
			problems = append(problems, "RestrictAddressFamilies allows "+fam)
		}
	}

	exec, ok := u.value("Service", "ExecStart")
	if !ok {
		return append(problems, "[Service] ExecStart is missing")
	}
	args := strings.Fields(exec)
	if len(args) < 2 || args[0] != installedBinary {
		return append(problems, "ExecStart does not run "+installedBinary+" SUBCOMMAND")
	}
	sub := args[1]
	env := parseEnvExample(envExample)
	flags := longFlags(exec)
	for _, v := range regexp.MustCompile(`\$\{?([A-Z_][A-Z0-9_]*)\}?`).FindAllStringSubmatch(exec, -1) {
		vals, ok := env[v[1]]
		if !ok {
			problems = append(problems, fmt.Sprintf("ExecStart uses $%s, which the environment file example does not set", v[1]))
		}
		for _, val := range vals {
			flags = append(flags, longFlags(val)...)
		}
	}
	if unknown := checkFlags(has, sub, flags); len(unknown) > 0 {
		problems = append(problems, fmt.Sprintf("kirikae %s has no %s", sub, strings.Join(unknown, ", ")))
	}
	state, _ := u.value("Service", "StateDirectory")
	if dd, ok := flagValue(exec, "data-dir"); !ok || dd != "%S/"+state {
		problems = append(problems, fmt.Sprintf("--data-dir is %q, want the StateDirectory, %%S/%s", dd, state))
	}
	return problems
}

// parseEnvExample reads KEY=VALUE lines, and commented-out alternatives (# KEY=VALUE),
// which must hold real flags too.
func parseEnvExample(text string) map[string][]string {
	env := map[string][]string{}
	re := regexp.MustCompile(`^#?\s*([A-Z_][A-Z0-9_]*)=(.*)$`)
	for _, line := range strings.Split(text, "\n") {
		if m := re.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			env[m[1]] = append(env[m[1]], m[2])
		}
	}
	return env
}

// envExampleFor names the example beside the units for an EnvironmentFile:
// /etc/kirikae/agent-%i.env is agent.env.example.
func envExampleFor(t *testing.T, text string) string {
	t.Helper()
	ef, ok := parseUnit("", text).value("Service", "EnvironmentFile")
	if !ok {
		return ""
	}
	base := strings.ReplaceAll(filepath.Base(strings.TrimPrefix(ef, "-")), "-%i", "")
	return readDeployFile(t, filepath.Join("systemd", base+".example"))
}

func TestSystemdUnitsHardenedAndRunRealFlags(t *testing.T) {
	has := kirikaeFlags(t)
	for name, text := range readUnits(t) {
		t.Run(name, func(t *testing.T) {
			for _, p := range checkUnit(has, name, text, envExampleFor(t, text)) {
				t.Error(p)
			}
		})
	}
}

func TestSystemdUnitChecksRefuseBrokenUnits(t *testing.T) {
	has := kirikaeFlags(t)
	units := readUnits(t)
	const server = "kirikae-server.service"
	cases := []struct{ name, old, new, want string }{
		{"no ProtectSystem", "ProtectSystem=strict\n", "", "ProtectSystem is missing"},
		{"capabilities kept", "CapabilityBoundingSet=\n", "CapabilityBoundingSet=CAP_NET_ADMIN\n", "CapabilityBoundingSet"},
		{"restart always off", "Restart=on-failure", "Restart=no", "Restart=no"},
		{"raw sockets", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "RestrictAddressFamilies=AF_INET AF_PACKET", "AF_PACKET"},
		{"misspelt flag", "--tls-ca /etc/kirikae/ca.pem", "--tls-cacert /etc/kirikae/ca.pem", "--tls-cacert"},
		{"data dir elsewhere", "--data-dir %S/kirikae/server", "--data-dir /var/tmp/kirikae", "--data-dir"},
		{"variable not in the example", "${KIRIKAE_GRPC_ADDR}", "${KIRIKAE_GRPC_ADDRESS}", "KIRIKAE_GRPC_ADDRESS"},
	}
	env := envExampleFor(t, units[server])
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			broken := mustReplace(t, units[server], tc.old, tc.new)
			problems := checkUnit(has, server, broken, env)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Fatalf("no problem mentions %q; got %q", tc.want, problems)
			}
		})
	}
	t.Run("flag in the example's extra args", func(t *testing.T) {
		broken := mustReplace(t, env, "--bootstrap", "--bootstrap-cluster")
		problems := checkUnit(has, server, units[server], broken)
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, "--bootstrap-cluster") }) {
			t.Fatalf("a misspelt flag in server.env.example passed; got %q", problems)
		}
	})
}
