// Package promnames lists the metric families a collector describes, so that tests can
// check that dashboards and alert rules ask only for metrics that exist.
package promnames

import (
	"regexp"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// fqName takes the metric name out of a descriptor's String form, the only place the
// client library shows it.
var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// Described returns the sorted names of the metric families c describes (a histogram by
// its base name), whether or not they have a series yet.
func Described(c prometheus.Collector) []string {
	ch := make(chan *prometheus.Desc)
	go func() {
		c.Describe(ch)
		close(ch)
	}()
	var out []string
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil && !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}
