package awssim

import (
	"fmt"
	"net/http"
	"time"
)

// Region-down modes.
const (
	// DownRefuse drops every connection to the region at once, like a dead endpoint: callers
	// fail fast.
	DownRefuse = "refuse"
	// DownHang accepts the request and never answers, like a black-holed network: callers
	// wait until their own deadline.
	DownHang = "hang"
)

// Fault injects errors into a service's operation. Empty Service or Operation match all.
type Fault struct {
	Service   string  `json:"service"`
	Operation string  `json:"operation"`
	Rate      float64 `json:"rate"`     // 0..1, chance per request
	Throttle  bool    `json:"throttle"` // send the service's throttling error
	Code      string  `json:"code"`     // error code when not throttling; default ServiceUnavailable
	Status    int     `json:"status"`   // HTTP status when not throttling; default 503
	Count     int     `json:"count"`    // stop after this many injections; 0 = no limit
}

// Slow delays a service's operation: Latency is added to every response (wall time), Factor
// multiplies the durations of the transitions it starts.
type Slow struct {
	Service   string        `json:"service"`
	Operation string        `json:"operation"`
	Latency   time.Duration `json:"latency"`
	Factor    float64       `json:"factor"`
}

type faultRule struct {
	Fault
	used int
}

type faultSet struct {
	down   map[string]string
	faults []*faultRule
	slows  []Slow
}

func match(ruleSvc, ruleOp, svc, op string) bool {
	return (ruleSvc == "" || ruleSvc == svc) && (ruleOp == "" || ruleOp == op)
}

func (f *faultSet) slowFactor(svc, op string) float64 {
	x := 1.0
	for _, s := range f.slows {
		if match(s.Service, s.Operation, svc, op) && s.Factor > 0 {
			x *= s.Factor
		}
	}
	return x
}

// SetRegionDown takes a region down in the given mode (DownRefuse or DownHang), or brings it
// back with mode "".
func (s *Sim) SetRegionDown(region, mode string) error {
	switch mode {
	case "", DownRefuse, DownHang:
	default:
		return fmt.Errorf("%w %q: want %q or %q", ErrBadMode, mode, DownRefuse, DownHang)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.down == nil {
		s.faults.down = map[string]string{}
	}
	if mode == "" {
		delete(s.faults.down, region)
	} else {
		s.faults.down[region] = mode
	}
	return nil
}

// AddFault adds an error or throttling rate.
func (s *Sim) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.faults = append(s.faults.faults, &faultRule{Fault: f})
}

// AddSlow slows an operation down.
func (s *Sim) AddSlow(sl Slow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.slows = append(s.faults.slows, sl)
}

// ClearFaults removes every fault, slow-down and region outage, keeping the world as it is.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = faultSet{}
}

// regionDown handles a request to a region that is down; it reports whether it did.
func (s *Sim) regionDown(w http.ResponseWriter, r *http.Request, region string) bool {
	s.mu.Lock()
	mode := s.faults.down[region]
	s.mu.Unlock()
	switch mode {
	case DownRefuse:
		// Closing the raw connection without a response is the closest an HTTP handler gets
		// to a refused connection: the client sees EOF/reset immediately.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	case DownHang:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	}
	return false
}

func (s *Sim) latency(svc, op string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d time.Duration
	for _, sl := range s.faults.slows {
		if match(sl.Service, sl.Operation, svc, op) {
			d += sl.Latency
		}
	}
	return d
}

// throttleCodes are the codes each service really sends when it throttles; the SDK's
// retryer recognises all of them.
var throttleCodes = map[string]string{
	"ec2":               "RequestLimitExceeded",
	"ecs":               "ThrottlingException",
	"secretsmanager":    "ThrottlingException",
	"health":            "ThrottlingException",
	"backup":            "ThrottlingException",
	"elasticfilesystem": "ThrottlingException",
	"s3":                "SlowDown",
}

func (s *Sim) injected(svc, op string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults.faults {
		if !match(f.Service, f.Operation, svc, op) || f.Count > 0 && f.used >= f.Count || s.rng.Float64() >= f.Rate {
			continue
		}
		f.used++
		if f.Throttle {
			code := throttleCodes[svc]
			if code == "" {
				code = "Throttling"
			}
			status := http.StatusBadRequest
			if svc == "s3" {
				status = http.StatusServiceUnavailable
			}
			return errf(status, code, "Rate exceeded")
		}
		code, status := f.Code, f.Status
		if code == "" {
			code = "ServiceUnavailable"
		}
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		return errf(status, code, "Injected fault")
	}
	return nil
}
