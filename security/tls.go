package security

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ServerTLS is the TLS configuration of a control-plane listener. It requires a client
// certificate signed by the CA in caFile and carrying a kirikae identity, so a caller
// without one fails at the handshake and never reaches a handler. Which kind of identity
// may call what is decided later, per method, by Authenticator and Roles.
//
// Files are read once; a CertReloader rereads them without a restart.
func ServerTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	pool, err := loadCAPool(caFile)
	if err != nil {
		return nil, err
	}
	cert, err := loadKeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return serverConfig(pool, &cert), nil
}

// serverConfig serves cert, which a listener needs; nil leaves Certificates empty.
func serverConfig(pool *x509.CertPool, cert *tls.Certificate) *tls.Config {
	conf := &tls.Config{
		MinVersion:       tls.VersionTLS13,
		ClientCAs:        pool,
		ClientAuth:       tls.RequireAndVerifyClientCert,
		VerifyConnection: requirePeer(nil),
	}
	if cert != nil {
		conf.Certificates = []tls.Certificate{*cert}
	}
	return conf
}

// ClientTLS is the TLS configuration for calling a control plane: operators, agents, and
// nodes calling each other. It trusts only the CA in caFile and checks that the peer holds
// a server identity, so an agent or operator certificate cannot pose as a control plane
// even on a host its name resolves to.
//
// certFile and keyFile may both be empty: the client then presents no certificate, and a
// kirikae server refuses it with a clear TLS error rather than the client failing early.
func ClientTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	pool, err := loadCAPool(caFile)
	if err != nil {
		return nil, err
	}
	switch {
	case certFile == "" && keyFile == "":
		return clientConfig(pool, nil), nil
	case certFile == "" || keyFile == "":
		return nil, errors.New("client certificate and key go together: give both or neither")
	}
	cert, err := loadKeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return clientConfig(pool, &cert), nil
}

// clientConfig presents cert, when not nil.
func clientConfig(pool *x509.CertPool, cert *tls.Certificate) *tls.Config {
	conf := &tls.Config{
		MinVersion:       tls.VersionTLS13,
		RootCAs:          pool,
		VerifyConnection: requirePeer([]Kind{KindServer}),
	}
	if cert != nil {
		conf.Certificates = []tls.Certificate{*cert}
	}
	return conf
}

// requirePeer returns a VerifyConnection hook that demands a kirikae identity of one of
// the given kinds from the peer (any kind when kinds is nil). It runs after the standard
// chain verification, so the certificate it reads is one the CA signed.
func requirePeer(kinds []Kind) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("%w: peer presented no certificate", ErrUnauthenticated)
		}
		id, err := IdentityFromCert(cs.PeerCertificates[0])
		if err != nil {
			return fmt.Errorf("%w: %w", ErrUnauthenticated, err)
		}
		if kinds == nil {
			return nil
		}
		for _, k := range kinds {
			if id.Kind == k {
				return nil
			}
		}
		return fmt.Errorf("%w: peer is %s, want a %s identity", ErrPermissionDenied, id, kinds[0])
	}
}

func loadCAPool(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, errors.New("no CA file given")
	}
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("CA %s: no PEM certificates found", caFile)
	}
	return pool, nil
}

func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load certificate %s with key %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}
