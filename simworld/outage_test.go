package simworld

import (
	"context"
	"testing"

	"github.com/kirikae/kirikae/awssim"
)

// startOutage starts a world with opts and takes its primary region down, as a regional
// outage does: its AWS endpoints refuse, AWS Health has an open event, and its agent is
// gone while the DR region's is connected. The world is closed when the test ends, before
// the cleanups the caller registered earlier (its context's cancel among them).
func startOutage(ctx context.Context, t *testing.T, opts Options) (w *World, primary, dr string) {
	t.Helper()
	w, err := Start(ctx, opts)
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	primary, dr = w.Regions()[0], w.Regions()[1]
	if err := w.Sim().SetRegionDown(primary, awssim.DownRefuse); err != nil {
		t.Fatal(err)
	}
	w.Sim().OpenHealthEvent(awssim.HealthEvent{Region: primary})
	if err := w.WaitAgents(ctx, map[string]bool{primary: false, dr: true}); err != nil {
		t.Fatal(err)
	}
	return w, primary, dr
}
