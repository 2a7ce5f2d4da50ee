// Package security owns who may talk to kirikae and what they may do.
//
// It holds:
//   - identities, read from the spiffe://kirikae/... URI SAN of a verified client
//     certificate (server, agent and operator), plus the dev identity that only a --dev
//     server hands out to plaintext loopback callers;
//   - the certificate authority and leaf certificates that `kirikae certs init` writes;
//   - the mutual-TLS configurations for gRPC, and a TLS StreamLayer so that raft traffic
//     is authenticated too (only server certificates may join the raft mesh);
//   - CertReloader, which swaps a process's certificates and CA bundle for new ones when
//     their files change, so they rotate without a restart;
//   - the roles file and the authorization rules built on it;
//   - the loopback check that keeps --dev plaintext off the network.
//
// It must not know about regions, plans, raft state or gRPC services: callers (the
// controlplane interceptors, the agent API) decide which check a method needs and call
// Authorize, RequireServer or RequireAgent. Errors are the sentinels in errors.go, wrapped
// with the detail a human needs, so that the edge can map them to status codes with
// errors.Is. Only the standard library does cryptography here: no key material leaves
// crypto/x509, crypto/ecdsa and crypto/tls.
package security
