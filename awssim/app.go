package awssim

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// appRegion finds which region's ALB serves a /_app/ request: /_app/<region>/... directly, or
// /_app/dns/<name>/... through the Route 53 record for name. It returns the region and the
// path below the prefix.
func (s *Sim) appRegion(p string) (region, rest string, err error) {
	p = strings.TrimPrefix(p, "/_app/")
	first, rest, _ := strings.Cut(p, "/")
	if first == "dns" {
		name, r, _ := strings.Cut(rest, "/")
		s.mu.Lock()
		lb := s.aliasedALB(name)
		s.mu.Unlock()
		if lb == nil {
			return "", "", fmt.Errorf("name %s does not resolve to a simulated ALB", name)
		}
		return lb.region, r, nil
	}
	if !s.holds(first) {
		return "", "", fmt.Errorf("unknown region %q", first)
	}
	return first, rest, nil
}

// hostRegion maps an unsigned request's Host to the region whose ALB serves it: an ALB's DNS
// name, or a Route 53 name aliased to one. It returns "" for anything else.
func (s *Sim) hostRegion(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "" || net.ParseIP(host) != nil || host == "localhost" {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if lb := s.albByDNS(host); lb != nil {
		return lb.region
	}
	if lb := s.aliasedALB(host); lb != nil {
		return lb.region
	}
	return ""
}

// aliasedALB is the ALB a Route 53 name leads to through its alias record, A (IPv4) or
// AAAA (IPv6, a system file's dns.type), or nil.
func (s *Sim) aliasedALB(name string) *regionLB {
	for _, typ := range []string{"A", "AAAA"} {
		if _, alias, ok := s.resolve(name, typ); ok && alias != "" {
			if lb := s.albByDNS(alias); lb != nil {
				return lb
			}
		}
	}
	return nil
}

// healthyTargets counts the healthy targets behind the region's ALBs right now.
func (s *Sim) healthyTargets(region string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &call{s: s, region: region, now: s.now()}
	n := 0
	for _, tg := range c.rs().TargetGroups {
		_, states := c.targetStates(tg)
		for _, st := range states {
			if st == "healthy" {
				n++
			}
		}
	}
	return n
}

// AppRegionHeader names the region whose ALB served an answer of the simulated
// application, so a caller sees which region the public name leads to.
const AppRegionHeader = "X-Kirikae-Region"

// serveApp is the system's application behind an ALB. It answers only while the ALB has a
// healthy target, with a 503 otherwise, as a real ALB does.
func (s *Sim) serveApp(w http.ResponseWriter, r *http.Request) {
	region, rest, err := s.appRegion(r.URL.Path)
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		return
	}
	s.serveAppIn(w, r, region, rest)
}

// serveAppIn serves path rest of the application behind region's ALB.
func (s *Sim) serveAppIn(w http.ResponseWriter, r *http.Request, region, rest string) {
	if s.regionDown(w, r, region) {
		return
	}
	if s.healthyTargets(region) == 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "no healthy targets behind the " + region + " ALB"})
		return
	}
	w.Header().Set(AppRegionHeader, region)
	seg := strings.Split(strings.Trim(rest, "/"), "/")
	switch {
	case seg[0] == "health" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	case seg[0] == "login" && r.Method == http.MethodPost:
		var in struct{ Username, Password string }
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil || in.Username == "" || in.Password == "" {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid credentials"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"token": "sim-" + in.Username})
	case seg[0] == "items":
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer sim-") {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "login required"})
			return
		}
		s.serveItems(w, r, seg[1:])
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
	}
}

func (s *Sim) serveItems(w http.ResponseWriter, r *http.Request, seg []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method != http.MethodGet {
		defer func() {
			if err := s.saveLocked(); err != nil {
				s.log.Warn("awssim: save state", "err", err)
			}
		}()
	}
	if s.st.Items == nil {
		s.st.Items = map[string]json.RawMessage{}
	}
	readBody := func() (json.RawMessage, bool) {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil || !json.Valid(b) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be JSON"})
			return nil, false
		}
		return b, true
	}
	if len(seg) == 0 || seg[0] == "" {
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{"items": s.st.Items})
		case http.MethodPost:
			b, ok := readBody()
			if !ok {
				return
			}
			id := fmt.Sprintf("item-%d", s.st.next())
			s.st.Items[id] = b
			writeJSON(w, http.StatusCreated, map[string]any{"id": id, "item": b})
		default:
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
		}
		return
	}
	id := seg[0]
	cur, exists := s.st.Items[id]
	if !exists {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no item " + id})
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "item": cur})
	case http.MethodPut:
		b, ok := readBody()
		if !ok {
			return
		}
		s.st.Items[id] = b
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "item": b})
	case http.MethodDelete:
		delete(s.st.Items, id)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
	}
}
