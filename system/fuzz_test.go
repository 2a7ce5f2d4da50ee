package system_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kirikae/kirikae/system"
)

// FuzzParse: no input panics; a refusal is a non-empty *ValidationError whose every
// problem has a line and a field; a system that parses answers every path it lists, and
// its canonical form parses back into the same canonical form.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 60s -fuzzminimizetime 5s ./system/
//
// The seeds are whole system files of a few KiB, and minimizing an input that finds new
// coverage takes the default 60 s with them: keep -fuzzminimizetime short, or a minute of
// fuzzing is a minute of minimizing.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(systemsDir, "*.yaml"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(base))
	for _, r := range [][2]string{
		{"desiredCount: 2", "desiredCount: two"},
		{"securityGroup: db", "securityGroup: nope"},
		{"region: us-west-2", "region: us-east-1"},
		{"kind: System\n", "kind: System\n---\n"},
		{"  name: shop\n", "  name: &a shop\n  description: *a\n"},
		{"{db: shop/west/db, cache: shop/west/cache}", "{db: shop/west/db, cache: shop/west/db}"},
	} {
		f.Add([]byte(strings.Replace(base, r[0], r[1], 1)))
	}
	f.Add([]byte("a: &x [*x]"))
	f.Add([]byte("spec: {regions: {primary: ~}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := system.Parse("fuzz.yaml", data)
		if err != nil {
			var ve *system.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, system.ErrInvalid) || len(ve.Errors) == 0 {
				t.Fatalf("error is not a non-empty *ValidationError: %T %v", err, err)
			}
			for _, e := range ve.Errors {
				if e.Line < 1 || e.Field == "" || e.Msg == "" || e.File != "fuzz.yaml" {
					t.Fatalf("problem without a line, field or message: %#v", e)
				}
			}
			return
		}
		for _, p := range s.Paths() {
			if _, err := s.Lookup(p); err != nil {
				t.Fatalf("Paths lists %s, which Lookup refuses: %v", p, err)
			}
		}
		canon := s.Marshal()
		again, err := system.Parse("canonical.yaml", canon)
		if err != nil {
			t.Fatalf("the canonical form does not parse: %v\n%s", err, canon)
		}
		if string(again.Marshal()) != string(canon) {
			t.Fatalf("the canonical form changes when read back:\n%s\nthen\n%s", canon, again.Marshal())
		}
	})
}
