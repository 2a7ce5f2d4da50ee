package human_test

import (
	"testing"
	"time"

	"github.com/kirikae/kirikae/human"
)

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                     "0s",
		29*time.Second + 600*time.Millisecond: "30s",
		45 * time.Minute:                      "45m",
		time.Hour:                             "1h",
		21*time.Hour + 4*time.Minute + 20*time.Second: "21h4m",
		26 * time.Hour:    "26h",
		-90 * time.Minute: "-1h30m",
	} {
		if got := human.Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}
