package controlplane

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/protobuf/encoding/protojson"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// HTTPHandler serves the plain HTTP twin of GetActiveRegion, /healthz and /metrics, and
// with --ui=open the web view under /ui/.
//
// GET /v1/active-region            linearizable (the default)
// GET /v1/active-region?stale=true  from this node's replica, with staleness_ms
func (s *Server) HTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/active-region", func(w http.ResponseWriter, r *http.Request) {
		c := kirikaev1.Consistency_CONSISTENCY_LINEARIZABLE
		switch r.URL.Query().Get("consistency") + r.URL.Query().Get("stale") {
		case "", "linearizable", "false":
		case "stale", "true":
			c = kirikaev1.Consistency_CONSISTENCY_STALE
		default:
			writeJSONError(w, http.StatusBadRequest, "query: consistency must be linearizable or stale (or stale=true)")
			return
		}
		resp, err := s.GetActiveRegion(r.Context(), c)
		if err != nil {
			code := http.StatusServiceUnavailable
			if errors.Is(err, ErrInvalidArgument) {
				code = http.StatusBadRequest
			}
			writeJSONError(w, code, err.Error())
			return
		}
		b, err := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(resp)
		if err != nil {
			writeJSONError(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		// Node.Health decides, as it does for the gRPC health service.
		h := s.node.Health()
		body := map[string]any{"node_id": h.NodeID, "state": h.State, "leader_id": h.LeaderID,
			"applied_index": h.AppliedIndex, "status": "ok"}
		code := http.StatusOK
		if !h.Serving() {
			body["status"] = h.Cause
			code = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(body)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.telemetry.registry, promhttp.HandlerOpts{}))
	if s.uiOpen {
		// --ui=open: the web view, to anyone who can reach this port (see UIMode).
		mux.Handle("/ui/", s.uiHandler(UIOpen))
		mux.Handle("GET /ui", http.RedirectHandler("/ui/", http.StatusFound))
	}
	return mux
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
