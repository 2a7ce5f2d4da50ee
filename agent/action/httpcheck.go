package action

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kirikae/kirikae/catalog"
)

// HTTPCheck is the http.check action: it sends N requests one after another and checks
// every answer's status and body, then the error rate and the latency against their
// limits. It only reads, so it is idempotent by nature.
//
// A request counts as an error when it fails, times out, has the wrong status or lacks
// expectBody. The step fails when the error rate is above maxErrorRate or when the p99
// latency is above maxLatency; the error names the limit. The outputs are returned with the
// error too, for the report.
type HTTPCheck struct {
	// Client sends the requests; nil means a client with a timeout of twice maxLatency.
	Client *http.Client
	// Now measures latency; nil means time.Now.
	Now func() time.Time
}

// Execute runs the check.
func (h *HTTPCheck) Execute(ctx context.Context, step Step, progress ProgressFunc) (map[string]any, error) {
	in, err := Decode(step, catalog.HTTPCheck)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(in.URL, "http://") && !strings.HasPrefix(in.URL, "https://") {
		return nil, fmt.Errorf("%w: with.url: want an http:// or https:// URL, got %q", ErrInvalidInput, in.URL)
	}
	method := strings.ToUpper(cmp.Or(in.Method, http.MethodGet))
	wantStatus := http.StatusOK
	if in.ExpectStatus != nil {
		wantStatus = *in.ExpectStatus
	}
	n := 20
	if in.Requests != nil {
		n = *in.Requests
	}
	if n < 1 || n > 100000 {
		return nil, fmt.Errorf("%w: with.requests: want 1..100000, got %d", ErrInvalidInput, n)
	}
	maxLatency := 3 * time.Second
	if in.MaxLatency != nil {
		maxLatency = time.Duration(*in.MaxLatency)
	}
	if maxLatency == 0 {
		return nil, fmt.Errorf("%w: with.maxLatency: must be positive", ErrInvalidInput)
	}
	maxErrRate, err := Number("maxErrorRate", cmp.Or(in.MaxErrorRate, "0.01"))
	if err != nil {
		return nil, err
	}
	if maxErrRate < 0 || maxErrRate > 1 {
		return nil, fmt.Errorf("%w: with.maxErrorRate: want a fraction in [0, 1], got %v", ErrInvalidInput, maxErrRate)
	}
	client := h.Client
	if client == nil {
		client = &http.Client{Timeout: 2 * maxLatency}
	}
	now := h.Now
	if now == nil {
		now = time.Now
	}

	var lat []time.Duration
	var errs int
	var firstErr string
	var lastGood []byte
	for i := range n {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("http.check %s: %w", in.URL, err)
		}
		var rb io.Reader
		if in.Body != "" {
			rb = strings.NewReader(in.Body)
		}
		req, err := http.NewRequestWithContext(ctx, method, in.URL, rb)
		if err != nil {
			return nil, fmt.Errorf("%w: with.url: %v", ErrInvalidInput, err)
		}
		if in.Body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range in.Headers {
			req.Header.Set(k, v)
		}
		start := now()
		problem := ""
		resp, err := client.Do(req)
		if err != nil {
			problem = err.Error()
		} else {
			b, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			_ = resp.Body.Close()
			switch {
			case rerr != nil:
				problem = "read body: " + rerr.Error()
			case resp.StatusCode != wantStatus:
				problem = fmt.Sprintf("status %d, want %d", resp.StatusCode, wantStatus)
			case in.ExpectBody != "" && !strings.Contains(string(b), in.ExpectBody):
				problem = fmt.Sprintf("body does not contain %q", in.ExpectBody)
			default:
				lastGood = b
			}
		}
		lat = append(lat, now().Sub(start))
		if problem != "" {
			errs++
			if firstErr == "" {
				firstErr = problem
			}
		}
		if (i+1)%10 == 0 || i+1 == n {
			progress.Report(fmt.Sprintf("http.check %s: %d/%d requests, %d errors", in.URL, i+1, n, errs))
		}
	}
	rate := float64(errs) / float64(n)
	p50, p99 := percentile(lat, 0.50), percentile(lat, 0.99)
	res := catalog.HTTPCheckOut{Requests: int64(n), Errors: int64(errs), ErrorRate: rate, P50Ms: ms(p50), P99Ms: ms(p99)}
	if lastGood != nil {
		// Later steps read fields of it, e.g. a login token.
		var obj map[string]any
		if json.Unmarshal(lastGood, &obj) == nil {
			res.Body = obj
		} else {
			res.Body = string(lastGood)
		}
	}
	out, err := Outputs(catalog.HTTPCheck, res)
	if err != nil {
		return nil, err
	}
	var fails []string
	if rate > maxErrRate {
		fails = append(fails, fmt.Sprintf("error rate %.3g > maxErrorRate %.3g (%d of %d failed; first: %s)", rate, maxErrRate, errs, n, firstErr))
	}
	if p99 > maxLatency {
		fails = append(fails, fmt.Sprintf("p99 latency %s > maxLatency %s", p99.Round(time.Millisecond), maxLatency))
	}
	if len(fails) > 0 {
		return out, fmt.Errorf("%w: http.check %s %s: %s", ErrCheckFailed, method, in.URL, strings.Join(fails, "; "))
	}
	return out, nil
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Millisecond)*10) / 10
}

// percentile is the nearest-rank percentile.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}
