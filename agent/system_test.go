package agent_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kirikae/kirikae/agent"
	"github.com/kirikae/kirikae/deploy"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/system"
)

// systemRecord is a system file as the control plane stores and sends it.
func systemRecord(t *testing.T, file string, edit func(string) string) *kirikaev1.SystemRecord {
	t.Helper()
	src, err := deploy.System(file)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		src = []byte(edit(string(src)))
	}
	sys, err := system.Parse(file, src)
	if err != nil {
		t.Fatal(err)
	}
	return &kirikaev1.SystemRecord{Name: sys.Name, Yaml: sys.Marshal(), Digest: sys.Digest(), SourceFile: file, Version: 1,
		Primary: sys.Role(system.Primary).Name, Secondary: sys.Role(system.Secondary).Name}
}

// seenSystems records what the readiness function was given, and reports the load
// balancer's name of the agent's region, as a real check names its resource.
type seenSystems struct {
	mu   sync.Mutex
	seen []*system.System
}

func (s *seenSystems) readiness(_ context.Context, sys *system.System) []*kirikaev1.ReadinessCheck {
	s.mu.Lock()
	s.seen = append(s.seen, sys)
	s.mu.Unlock()
	if sys == nil {
		return []*kirikaev1.ReadinessCheck{{Name: "system.stored", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL}}
	}
	return []*kirikaev1.ReadinessCheck{{Name: "elbv2.load-balancer", Status: kirikaev1.ReadinessStatus_READINESS_STATUS_OK,
		Detail: sys.RegionOf(region).LoadBalancer.Name + " " + sys.Digest()}}
}

func (s *seenSystems) last() (*system.System, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		return nil, 0
	}
	return s.seen[len(s.seen)-1], len(s.seen)
}

// reportWith waits for a readiness report whose only check's detail contains want.
func reportWith(t *testing.T, cp *fakeCP, want string) *kirikaev1.ReadinessReport {
	t.Helper()
	var rep *kirikaev1.ReadinessReport
	waitFor(t, "a readiness report with "+want, func() bool {
		for _, r := range cp.readinessReports() {
			if len(r.GetChecks()) == 1 && strings.Contains(r.GetChecks()[0].GetDetail(), want) {
				rep = r
				return true
			}
		}
		return false
	})
	return rep
}

// TestSystemDrivesReadiness: before any system the readiness function gets none; a system
// sent on the stream reaches it at once (no waiting for the next interval) and is written
// to the data dir; a second one replaces it; the same one again triggers nothing; a
// restarted agent checks against the kept one before it can reconnect.
func TestSystemDrivesReadiness(t *testing.T) {
	cp := newFakeCP(t, 1)
	dir := t.TempDir()
	seen := &seenSystems{}
	cfg := testConfig(t, dir, newExecutors().registry(), cp)
	cfg.ReadinessInterval = time.Hour // only a new system or a request runs the checks
	cfg.Readiness = seen.readiness
	a := start(t, cfg)
	waitFor(t, "the first report, without a system", func() bool {
		sys, n := seen.last()
		return n == 1 && sys == nil && len(cp.readinessReports()) == 1
	})
	if a.System() != nil {
		t.Fatalf("System() = %v before any was sent", a.System())
	}

	kaigo := systemRecord(t, "kaigo.yaml", nil)
	cp.send(t, &kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_System{System: kaigo}})
	reportWith(t, cp, "kaigo-subsys-dr-alb "+kaigo.GetDigest())
	if got := a.System().GetDigest(); got != kaigo.GetDigest() {
		t.Fatalf("System() digest %q, want %q", got, kaigo.GetDigest())
	}
	if _, err := os.Stat(filepath.Join(dir, "system.json")); err != nil {
		t.Fatalf("the system is not in the data dir: %v", err)
	}

	// The same digest again (as after every reconnect) runs nothing.
	_, runs := seen.last()
	cp.send(t, &kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_System{System: kaigo}})
	renamed := systemRecord(t, "kaigo.yaml", func(s string) string {
		return strings.Replace(s, "name: kaigo-subsys-dr-alb", "name: kaigo-subsys-dr-alb2", 1)
	})
	cp.send(t, &kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_System{System: renamed}})
	reportWith(t, cp, "kaigo-subsys-dr-alb2 "+renamed.GetDigest())
	if _, n := seen.last(); n != runs+1 {
		t.Fatalf("readiness ran %d times for a repeated and a new system, want once", n-runs)
	}

	// Restarted with the control plane gone, the agent still checks the last system.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	cp.stop()
	again := &seenSystems{}
	cfg.Readiness = again.readiness
	b := start(t, cfg)
	waitFor(t, "a readiness run after the restart", func() bool { _, n := again.last(); return n > 0 })
	if sys, _ := again.last(); sys == nil || sys.Digest() != renamed.GetDigest() {
		t.Fatalf("after a restart readiness got %v, want the kept system %s", sys, renamed.GetDigest())
	}
	if b.System().GetDigest() != renamed.GetDigest() {
		t.Fatalf("System() after a restart = %v", b.System())
	}
}

// TestCorruptStoredSystemIsIgnored: a system file in the data dir that cannot be read is
// logged and ignored, not fatal; readiness says no system until one is sent.
func TestCorruptStoredSystemIsIgnored(t *testing.T) {
	for _, tc := range []struct {
		name, content string
	}{
		{"not JSON", "{{{"},
		{"a record whose YAML does not parse", `{"name":"x","yaml":"bm90IGEgc3lzdGVt","digest":"00"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := newFakeCP(t, 1)
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "system.json"), []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			seen := &seenSystems{}
			var logs syncBuffer
			cfg := testConfig(t, dir, newExecutors().registry(), cp)
			cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			cfg.Readiness = seen.readiness
			start(t, cfg)
			waitFor(t, "a readiness run", func() bool { _, n := seen.last(); return n > 0 })
			if sys, _ := seen.last(); sys != nil {
				t.Fatalf("readiness got %v from a corrupt file", sys)
			}
			if !strings.Contains(logs.String(), "ignoring the stored system") {
				t.Fatalf("no log line about the corrupt file:\n%s", logs.String())
			}
			kaigo := systemRecord(t, "kaigo.yaml", nil)
			cp.send(t, &kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_System{System: kaigo}})
			reportWith(t, cp, kaigo.GetDigest())
		})
	}
}

// TestUnreadableSystemFailsReadiness: a system this agent cannot parse is not checked
// against anything: the report is one FAIL check that says so.
func TestUnreadableSystemFailsReadiness(t *testing.T) {
	cp := newFakeCP(t, 1)
	seen := &seenSystems{}
	cfg := testConfig(t, t.TempDir(), newExecutors().registry(), cp)
	cfg.Readiness = seen.readiness
	start(t, cfg)
	bad := &kirikaev1.SystemRecord{Name: "future", Yaml: []byte("apiVersion: kirikae/v9\n"), Digest: "abc", Version: 7}
	cp.send(t, &kirikaev1.ConnectResponse{Msg: &kirikaev1.ConnectResponse_System{System: bad}})
	rep := reportWith(t, cp, "cannot read the stored system future version 7")
	if ch := rep.GetChecks()[0]; ch.GetName() != agent.CheckSystemUnreadable || ch.GetStatus() != kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL {
		t.Fatalf("check %v", ch)
	}
}

// syncBuffer is a bytes.Buffer safe for the agent's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
