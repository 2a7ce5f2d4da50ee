package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

func TestEpochStore(t *testing.T) {
	dir := t.TempDir()
	s, err := openEpoch(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.get() != 0 {
		t.Fatalf("fresh epoch %d", s.get())
	}
	if err := s.admit(3); err != nil {
		t.Fatal(err)
	}
	if err := s.observe(2); err != nil || s.get() != 3 {
		t.Fatalf("observe lower: %v, %d", err, s.get())
	}
	err = s.admit(2)
	if !errors.Is(err, ErrStaleEpoch) || err.Error() != "stale epoch 2 < 3" {
		t.Fatalf("admit 2: %v", err)
	}
	if err := s.admit(3); err != nil {
		t.Fatalf("the current epoch is not stale: %v", err)
	}
	again, err := openEpoch(dir)
	if err != nil || again.get() != 3 {
		t.Fatalf("reopened: %v, %d", err, again.get())
	}
	if err := os.WriteFile(filepath.Join(dir, epochFile), []byte("three"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := openEpoch(dir); err == nil || !strings.Contains(err.Error(), "not a number") {
		t.Fatalf("corrupt epoch file: %v", err)
	}
}

func result(i int) *kirikaev1.StepResult {
	return &kirikaev1.StepResult{RunId: "run", StepId: fmt.Sprintf("s%d", i), Attempt: 1, Ok: true,
		OutputsJson: `{}`, FinishedUnixNano: int64(i + 1)}
}

func TestResultStoreBoundedAndDurable(t *testing.T) {
	dir := t.TempDir()
	s, warnings, err := openResults(dir, 5)
	if err != nil || len(warnings) != 0 {
		t.Fatal(err, warnings)
	}
	for i := range 8 {
		r := result(i)
		if i == 7 {
			r.Undo = []*kirikaev1.UndoStep{{Action: "aws.efs.deleteFileSystem", WithJson: `{"fileSystemId":"fs-7"}`, Note: "delete file system fs-7"}}
		}
		if err := s.put(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := s.get(keyOf("run", "s2", 1)); ok {
		t.Fatal("the oldest results were kept")
	}
	if r, ok := s.get(keyOf("run", "s7", 1)); !ok || !r.GetOk() {
		t.Fatal("the newest result is missing")
	}
	files, _ := filepath.Glob(filepath.Join(dir, resultsDir, "*.json"))
	if len(files) != 5 {
		t.Fatalf("%d files, want 5", len(files))
	}
	now := time.Now()
	if err := s.markSent(mustGet(t, s, "s6"), now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.markSent(mustGet(t, s, "s7"), now); err != nil {
		t.Fatal(err)
	}

	// Debris: a torn temporary file and a corrupt result.
	if err := os.WriteFile(filepath.Join(dir, resultsDir, ".x.json.tmp-1"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, resultsDir, "bad.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	re, warnings, err := openResults(dir, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0].Error(), "bad.json") {
		t.Fatalf("warnings %v", warnings)
	}
	if _, err := os.Stat(filepath.Join(dir, resultsDir, ".x.json.tmp-1")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the temporary file was left")
	}
	if u := mustGet(t, re, "s7").GetUndo(); len(u) != 1 || u[0].GetAction() != "aws.efs.deleteFileSystem" ||
		u[0].GetWithJson() != `{"fileSystemId":"fs-7"}` || u[0].GetNote() != "delete file system fs-7" {
		t.Fatalf("undo after reopening: %v", u)
	}
	var pending []string
	for _, r := range re.unacked(now) {
		pending = append(pending, r.GetStepId())
	}
	// s6 was sent an hour ago and counts as delivered; s7 was sent just now.
	if strings.Join(pending, ",") != "s3,s4,s5,s7" {
		t.Fatalf("unacked after reopening: %v", pending)
	}
}

func mustGet(t *testing.T, s *resultStore, step string) *kirikaev1.StepResult {
	t.Helper()
	r, ok := s.get(keyOf("run", step, 1))
	if !ok {
		t.Fatalf("no result for %s", step)
	}
	return r
}

func TestDecodeWith(t *testing.T) {
	m, err := decodeWith(`{"i":3,"big":9007199254740993,"f":1.5,"e":1e3,"l":[1,2.5],"m":{"n":-4},"s":"7","b":true,"z":null}`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"i": "int64 3", "big": "int64 9007199254740993", "f": "float64 1.5", "e": "float64 1000",
		"s": "string 7", "b": "bool true", "z": "<nil> <nil>"}
	for k, w := range want {
		if got := fmt.Sprintf("%T %v", m[k], m[k]); got != w {
			t.Errorf("%s: %s, want %s", k, got, w)
		}
	}
	if l := m["l"].([]any); fmt.Sprintf("%T %T", l[0], l[1]) != "int64 float64" {
		t.Errorf("list %#v", l)
	}
	if n := m["m"].(map[string]any)["n"]; n != int64(-4) {
		t.Errorf("nested %#v", n)
	}
	for _, bad := range []string{`[1]`, `{"a":1} {}`, `{"a":`, `"x"`} {
		if _, err := decodeWith(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if m, err := decodeWith(" "); err != nil || len(m) != 0 {
		t.Errorf("empty: %v %v", m, err)
	}
	if m, err := decodeWith("null"); err != nil || m == nil {
		t.Errorf("null: %v %v", m, err)
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: 5 * time.Second}
	prevCap := time.Duration(0)
	for i := range 12 {
		d := b.next()
		upper := min(100*time.Millisecond<<i, 5*time.Second)
		if d < upper/2 || d > upper {
			t.Fatalf("attempt %d: %s not in [%s, %s]", i, d, upper/2, upper)
		}
		prevCap = upper
	}
	if prevCap != 5*time.Second {
		t.Fatalf("cap %s", prevCap)
	}
	b.reset()
	if d := b.next(); d > 100*time.Millisecond {
		t.Fatalf("after reset %s", d)
	}
}

func TestProgressLimiter(t *testing.T) {
	type line struct {
		s    string
		last bool
	}
	got := make(chan line, 100)
	p := newProgressLimiter(time.Hour, func(s string, last bool) { got <- line{s, last} })
	p.report("a")
	p.report("b")
	p.report("c")
	p.close()
	p.report("d")
	close(got)
	var lines []line
	for l := range got {
		lines = append(lines, l)
	}
	if fmt.Sprint(lines) != "[{a false} {c true}]" {
		t.Fatalf("lines %v", lines)
	}

	// A held line goes out when the interval is up, without close.
	fired := make(chan string, 10)
	q := newProgressLimiter(time.Millisecond, func(s string, _ bool) { fired <- s })
	q.report("x")
	q.report("y")
	if s := <-fired; s != "x" {
		t.Fatalf("first %q", s)
	}
	if s := <-fired; s != "y" {
		t.Fatalf("held %q", s)
	}
	q.close()
}
