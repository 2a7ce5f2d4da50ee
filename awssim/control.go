package awssim

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serveControl is the /_sim/ API. It is JSON in and out, and is for tests, drills and the
// demo: it changes the simulator, never a simulated AWS resource directly.
func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.URL.Path, "/_sim/")
	decode := func(v any) bool {
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v); err != nil && err != io.EOF {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad JSON body: " + err.Error()})
			return false
		}
		return true
	}
	post := r.Method == http.MethodPost
	switch {
	case op == "journal" && r.Method == http.MethodGet:
		// ?since=N skips the first N entries, so a poller fetches only what is new.
		j := s.Journal()
		if v := r.URL.Query().Get("since"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "since must be a non-negative integer"})
				return
			}
			j = j[min(n, len(j)):]
		}
		writeJSON(w, http.StatusOK, j)
	case op == "state" && r.Method == http.MethodGet:
		s.mu.Lock()
		b, err := json.Marshal(s.st)
		s.mu.Unlock()
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	case op == "reset" && post:
		if err := s.Reset(); err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "reset"})
	case (op == "region-down" || op == "region-up") && post:
		var in struct{ Region, Mode string }
		if !decode(&in) {
			return
		}
		if op == "region-up" {
			in.Mode = ""
		} else if in.Mode == "" {
			in.Mode = DownRefuse
		}
		if in.Region == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "region is required"})
			return
		}
		if err := s.SetRegionDown(in.Region, in.Mode); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"region": in.Region, "mode": in.Mode})
	case op == "fault" && post:
		var f Fault
		if !decode(&f) {
			return
		}
		if f.Rate <= 0 || f.Rate > 1 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "rate must be in (0, 1]"})
			return
		}
		s.AddFault(f)
		writeJSON(w, http.StatusOK, f)
	case op == "slow" && post:
		var in struct {
			Service, Operation string
			Latency            string
			Factor             float64
		}
		if !decode(&in) {
			return
		}
		sl := Slow{Service: in.Service, Operation: in.Operation, Factor: in.Factor}
		if in.Latency != "" {
			d, err := time.ParseDuration(in.Latency)
			if err != nil || d < 0 {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "latency must be a Go duration like 500ms"})
				return
			}
			sl.Latency = d
		}
		s.AddSlow(sl)
		writeJSON(w, http.StatusOK, map[string]any{"service": sl.Service, "operation": sl.Operation, "latency": sl.Latency.String(), "factor": sl.Factor})
	case op == "clear-faults" && post:
		s.ClearFaults()
		writeJSON(w, http.StatusOK, map[string]string{"status": "cleared"})
	case op == "health-event" && post:
		var ev HealthEvent
		if !decode(&ev) {
			return
		}
		if ev.Region == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "region is required"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"arn": s.OpenHealthEvent(ev)})
	case op == "health-event/close" && post:
		var in struct{ Region, ARN string }
		if !decode(&in) {
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"closed": s.CloseHealthEvent(in.Region, in.ARN)})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown control operation " + r.Method + " /_sim/" + op})
	}
}
