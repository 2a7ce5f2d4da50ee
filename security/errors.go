package security

import "errors"

// Errors returned by this package. They are always wrapped with detail that names the
// identity, file, line or address at fault; test for them with errors.Is. The controlplane
// maps ErrUnauthenticated and ErrPermissionDenied to gRPC status codes at its edge.
var (
	// ErrUnauthenticated means the caller did not prove who it is: no verified client
	// certificate on a non-dev server, or a certificate without a kirikae identity.
	ErrUnauthenticated = errors.New("unauthenticated")

	// ErrPermissionDenied means the caller is known but lacks the role, kind or region the
	// call needs.
	ErrPermissionDenied = errors.New("permission denied")

	// ErrInvalidIdentity means a URI or certificate does not carry exactly one valid
	// spiffe://kirikae/<kind>/<name> identity.
	ErrInvalidIdentity = errors.New("invalid identity")

	// ErrInvalidName means an operator name, server id, region or host fails validation.
	// Names end up in URIs, file names and the audit log, so they are kept plain.
	ErrInvalidName = errors.New("invalid name")

	// ErrInvalidRoles means the roles file could not be used: bad YAML, an unknown key or
	// an unknown role. The message names the file and line.
	ErrInvalidRoles = errors.New("invalid roles file")

	// ErrCAExists means GenerateCerts found a CA it was not told to replace or reuse.
	ErrCAExists = errors.New("certificate authority already exists")

	// ErrReloadRefused means a CertReloader found new certificate files it will not use
	// (bad PEM, a key that is not the certificate's, another identity, a certificate the
	// new CA bundle does not verify). It keeps the certificates it had.
	ErrReloadRefused = errors.New("certificate reload refused")

	// ErrNotLoopback means a --dev address would expose plaintext beyond this machine.
	ErrNotLoopback = errors.New("not a loopback address")
)
