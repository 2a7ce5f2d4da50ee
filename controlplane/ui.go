package controlplane

import (
	"bytes"
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/kirikae/kirikae/report"
	"github.com/kirikae/kirikae/security"
)

// UIMode says whether and how a node serves the read-only web view (`--ui`).
type UIMode string

// The web view's modes. Off is the default: the view shows every run's state, so serving it
// is a decision the operator makes.
const (
	// UIOff serves no web view.
	UIOff UIMode = "off"
	// UIMTLS serves the view on its own HTTPS listener (--ui-addr) with the cluster's TLS:
	// the browser must present an operator certificate from the cluster's CA whose holder
	// has a role (any role: every role reads). No certificate, an agent's or a server's, is
	// refused.
	UIMTLS UIMode = "mtls"
	// UIOpen serves the view under /ui/ on the plain HTTP port (--http-addr) to anyone who
	// can reach it, for a trusted network; every page says so in a banner.
	UIOpen UIMode = "open"
)

// openBanner is shown on every page in UIOpen mode.
const openBanner = "read-only view, no authentication (--ui=open)"

func (m UIMode) validate(dev bool, uiAddr string) error {
	switch m {
	case "", UIOff:
		if uiAddr != "" {
			return fmt.Errorf("%w: --ui-addr is the listener of --ui=mtls; drop it or give --ui=mtls", ErrInvalidArgument)
		}
	case UIOpen:
		if uiAddr != "" {
			return fmt.Errorf("%w: --ui=open serves on --http-addr under /ui/; --ui-addr is only for --ui=mtls", ErrInvalidArgument)
		}
	case UIMTLS:
		if dev {
			return fmt.Errorf("%w: --ui=mtls needs the cluster's certificates, which --dev has none of; use --ui=open on a dev server", ErrInvalidArgument)
		}
		if uiAddr == "" {
			return fmt.Errorf("%w: --ui=mtls needs --ui-addr, HOST:PORT of its HTTPS listener (e.g. 10.0.0.1:7443)", ErrInvalidArgument)
		}
	default:
		return fmt.Errorf("%w: --ui %q: want off, mtls or open", ErrInvalidArgument, string(m))
	}
	return nil
}

//go:embed ui
var uiFiles embed.FS

var uiTemplates = template.Must(template.New("ui").Funcs(template.FuncMap{
	"clock": uiClock,
	"who":   uiWho,
}).ParseFS(uiFiles, "ui/*.html"))

// uiPage is what every page template gets: the shell's data and the view it frames.
type uiPage struct {
	Title string
	// Banner is shown on every page, in UIOpen mode.
	Banner string
	// Src is the URL the page polls for its fresh fragment.
	Src  string
	View any
	// Fragment names the template that renders View.
	Fragment string
}

// viewerKey holds the web view's reader in a request's context.
type viewerKey struct{}

// uiHandler serves the web view: /ui/ (the region, the agents and the runs) and
// /ui/runs/{id} (one run), each a page whose fragment is fetched again every second from
// the same URL with ?fragment=1, and /ui/static/ (the embedded CSS and JS). Everything is
// read from this node's replica, so any node serves it, leader or not, and says how fresh
// its data is. It changes nothing: only GET is served.
func (s *Server) uiHandler(mode UIMode) http.Handler {
	banner := ""
	if mode == UIOpen {
		banner = openBanner
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ui/{$}", func(w http.ResponseWriter, r *http.Request) {
		s.uiRender(w, r, uiPage{Title: "kirikae", Banner: banner, Src: "/ui/?fragment=1", Fragment: "overview",
			View: s.overviewView(r.Context())})
	})
	mux.HandleFunc("GET /ui/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		v, ok := s.runView(r.Context(), id)
		if !ok {
			http.Error(w, "no run "+id+" on node "+s.node.ID(), http.StatusNotFound)
			return
		}
		s.uiRender(w, r, uiPage{Title: "run " + id, Banner: banner, Src: "/ui/runs/" + template.URLQueryEscaper(id) + "?fragment=1",
			Fragment: "run", View: v})
	})
	mux.HandleFunc("GET /ui/static/ui.css", func(w http.ResponseWriter, r *http.Request) {
		css, _ := uiFiles.ReadFile("ui/ui.css")
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Write(css)
		w.Write([]byte("\n" + report.ChartCSS + "\n"))
	})
	mux.HandleFunc("GET /ui/static/ui.js", func(w http.ResponseWriter, r *http.Request) {
		js, _ := uiFiles.ReadFile("ui/ui.js")
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(js)
	})
	return uiHeaders(mux)
}

// uiHeaders forbid what the view never needs: anything from another origin (the CSP is
// what makes "no external assets" hold), framing, caching and sniffing.
func uiHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// uiRender writes the page, or only its fragment when the page's script asks for it.
func (s *Server) uiRender(w http.ResponseWriter, r *http.Request, p uiPage) {
	var b bytes.Buffer
	var err error
	if r.URL.Query().Get("fragment") == "1" {
		err = uiTemplates.ExecuteTemplate(&b, p.Fragment, p.View)
	} else {
		err = uiTemplates.ExecuteTemplate(&b, "page", p)
	}
	if err != nil {
		s.log.Error("web view", "path", r.URL.Path, "err", err)
		http.Error(w, "web view: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

// uiRequireViewer admits a request on the mTLS listener only from an operator who holds a
// role: the TLS handshake has already verified the certificate against the cluster's CA
// (security.ServerTLS), and this reads its identity as the gRPC guard does and asks the
// roles file, as for any viewer call. An agent's or a server's certificate is refused.
func (s *Server) uiRequireViewer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := uiIdentity(r)
		if err == nil && id.Kind != security.KindOperator {
			err = fmt.Errorf("%w: %s is not an operator; the web view is for people", security.ErrPermissionDenied, id)
		}
		if err == nil {
			err = s.roles.Authorize(id, security.RoleViewer)
		}
		if err != nil {
			s.log.Info("web view refused", "remote", r.RemoteAddr, "err", err)
			code := http.StatusForbidden
			if errors.Is(err, security.ErrUnauthenticated) {
				code = http.StatusUnauthorized
			}
			http.Error(w, err.Error(), code)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, id.String())))
	})
}

func uiIdentity(r *http.Request) (security.Identity, error) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return security.Identity{}, fmt.Errorf("%w: no verified client certificate", security.ErrUnauthenticated)
	}
	id, err := security.IdentityFromCert(r.TLS.VerifiedChains[0][0])
	if err != nil {
		return security.Identity{}, fmt.Errorf("%w: %w", security.ErrUnauthenticated, err)
	}
	return id, nil
}

// uiServer is the --ui=mtls listener's server: the cluster's server TLS, read afresh at each
// handshake so that rotated certificates apply, requiring a client certificate from the
// cluster's CA.
func (s *Server) uiServer(certs *security.CertReloader, logger *slog.Logger) (*http.Server, *tls.Config) {
	mux := http.NewServeMux()
	mux.Handle("/ui/", s.uiHandler(UIMTLS))
	mux.Handle("GET /{$}", http.RedirectHandler("/ui/", http.StatusFound))
	conf := &tls.Config{MinVersion: tls.VersionTLS13, GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return certs.ServerConfig(), nil
	}}
	return &http.Server{Handler: s.uiRequireViewer(mux), ReadHeaderTimeout: 10 * time.Second,
		// A browser without the certificate fails at the handshake; that is not an error of
		// this server's.
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}, conf
}
