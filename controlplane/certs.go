package controlplane

import (
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kirikae/kirikae/security"
)

// DefaultTLSReloadEvery is how often a node checks its certificate files for changes.
const DefaultTLSReloadEvery = 10 * time.Second

// loadCerts reads the node's CA bundle and server certificate, which serve its gRPC and raft
// listeners and which it presents when it calls other nodes, so that one reload rotates
// all three. It returns nil in dev mode, which has no certificates.
func loadCerts(cfg Config, logger *slog.Logger) (*security.CertReloader, error) {
	if cfg.Dev {
		return nil, nil
	}
	certs, err := security.NewCertReloader(cfg.TLSCA, cfg.TLSCert, cfg.TLSKey, logger.With("component", "tls"))
	if err != nil {
		return nil, fmt.Errorf("TLS: %w", err)
	}
	if id := certs.Identity(); id.Kind != security.KindServer {
		return nil, fmt.Errorf("%w: --tls-cert %s holds %s: a control-plane node needs a server certificate (server.pem from `kirikae certs init`)",
			ErrInvalidArgument, cfg.TLSCert, id)
	}
	return certs, nil
}

// peerCredentials are what a node calls other nodes with: its reloading certificates, or
// plaintext in dev mode.
func peerCredentials(certs *security.CertReloader) credentials.TransportCredentials {
	if certs == nil {
		return insecure.NewCredentials()
	}
	return certs.Credentials()
}
