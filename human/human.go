// Package human formats values the way the runbook and its operators talk about them. It
// is the one place that does, so the agents, the reports and the CLI say the same thing.
package human

import (
	"fmt"
	"time"
)

// Duration formats d as the runbook writes durations: "21h", "21h4m", "45m", "30s". It
// rounds to the second below a minute and to the minute above.
func Duration(d time.Duration) string {
	if d < 0 {
		return "-" + Duration(-d)
	}
	if d < time.Minute {
		return fmt.Sprintf("%ds", int64(d.Round(time.Second)/time.Second))
	}
	d = d.Round(time.Minute)
	h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}
