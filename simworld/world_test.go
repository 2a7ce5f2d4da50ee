package simworld_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/simworld"
)

// TestWorldKeepsToItsPairAndItsProcess: a world starts in its system's region pair and
// refuses another one by name; starting it sets no environment variable of the process
// (the SDK's credentials are the world's own).
func TestWorldKeepsToItsPairAndItsProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w, err := simworld.Start(ctx, simworld.Options{Primary: "eu-west-1", Secondary: "eu-central-1"})
	if err == nil || !strings.Contains(err.Error(), "us-east-1 and us-west-2, not in eu-west-1 and eu-central-1") {
		t.Fatalf("a pair the system does not run in: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	keys := []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_EC2_METADATA_DISABLED", "AWS_PROFILE", "AWS_REGION"}
	before := map[string]string{}
	for _, k := range keys {
		v, ok := os.LookupEnv(k)
		before[k] = map[bool]string{true: "set:" + v, false: "unset"}[ok]
	}
	w, err = simworld.Start(ctx, simworld.Options{Nodes: 1, TimeScale: 0.002, People: "test"})
	defer func() {
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	}()
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Regions(); got[0] != "us-east-1" || got[1] != "us-west-2" {
		t.Fatalf("regions %v, want the system's", got)
	}
	if st := w.Region(); st.GetPrimary() != "us-east-1" || st.GetSecondary() != "us-west-2" {
		t.Fatalf("region state %v", st)
	}
	for _, k := range keys {
		v, ok := os.LookupEnv(k)
		if now := map[bool]string{true: "set:" + v, false: "unset"}[ok]; now != before[k] {
			t.Errorf("%s was %s before the world started, %s after", k, before[k], now)
		}
	}
}
