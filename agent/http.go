package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Status is what the agent's /healthz reports: whether it can take work now.
type Status struct {
	AgentID string `json:"agent_id"`
	Region  string `json:"region"`
	// Connected: the agent holds a registered stream to the control-plane leader (only the
	// leader registers agents). ControlPlane is that leader's address.
	Connected    bool   `json:"connected"`
	ControlPlane string `json:"control_plane,omitempty"`
	// RegionHealthy: the latest health probe found the region's AWS APIs reachable with
	// valid credentials.
	RegionHealthy bool   `json:"region_healthy"`
	HighestEpoch  uint64 `json:"highest_epoch"`
	RunningSteps  int    `json:"running_steps"`
	// Status is "ok" when the agent is connected and its region healthy, else the cause.
	Status string `json:"status"`
}

// OK reports whether the agent is connected to the leader and its region is healthy.
func (s Status) OK() bool { return s.Status == "ok" }

// Status reports whether the agent can take work now, and why not.
func (a *Agent) Status() Status {
	a.mu.Lock()
	sess, running := a.sess, a.running
	a.mu.Unlock()
	st := Status{AgentID: a.cfg.ID, Region: a.cfg.Region, Connected: sess != nil, RunningSteps: running, Status: "ok"}
	if sess != nil {
		st.ControlPlane = sess.addr
	}
	if a.epoch != nil {
		st.HighestEpoch = a.epoch.get()
	}
	h := Health{Cause: "health not probed yet"}
	if p := a.health.Load(); p != nil {
		h = *p
	}
	st.RegionHealthy = h.Healthy()
	switch {
	case !st.Connected:
		st.Status = "not connected to the control-plane leader"
		if e := a.streamErr.Load(); e != nil {
			st.Status += ": " + *e
		}
	case !st.RegionHealthy:
		st.Status = "region " + a.cfg.Region + " unhealthy: " + h.Cause
	}
	return st
}

// noteStreamEnd keeps why the last stream to the control plane ended, for /healthz.
func (a *Agent) noteStreamEnd(addr string, err error) {
	msg := "stream to " + addr + " ended"
	if err != nil {
		msg = fmt.Sprintf("%s: %v", msg, err)
	}
	a.streamErr.Store(&msg)
}

// HTTPHandler serves the agent's /healthz (200 when connected to the leader and its region
// is healthy, 503 with the cause otherwise, as JSON) and /metrics (Prometheus).
func (a *Agent) HTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		st := a.Status()
		code := http.StatusOK
		if !st.OK() {
			code = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(st)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics.registry, promhttp.HandlerOpts{}))
	return mux
}

// HTTPAddr is the address /healthz and /metrics are served on (Config.HTTPAddr with its
// port resolved), or "" when they are not served.
func (a *Agent) HTTPAddr() string {
	if a.httpLn == nil {
		return ""
	}
	return a.httpLn.Addr().String()
}

// listenHTTP opens Config.HTTPAddr, when set; serveHTTP serves on it until Close.
func (a *Agent) listenHTTP() error {
	if a.cfg.HTTPAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("%w: http addr %s: %w", ErrConfig, a.cfg.HTTPAddr, err)
	}
	a.httpLn = ln
	a.httpSrv = &http.Server{Handler: a.HTTPHandler(), ReadHeaderTimeout: 10 * time.Second}
	return nil
}

func (a *Agent) serveHTTP() {
	if a.httpSrv == nil {
		return
	}
	a.log.Info("serving /healthz and /metrics", "http", a.HTTPAddr())
	go func() {
		if err := a.httpSrv.Serve(a.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http server stopped", "err", err)
		}
	}()
}

func (a *Agent) closeHTTP() error {
	if a.httpSrv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := a.httpSrv.Shutdown(ctx); err != nil {
		return fmt.Errorf("close http server: %w", err)
	}
	return nil
}
