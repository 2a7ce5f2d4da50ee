// Package integration runs kirikae as real processes on loopback: real binaries, real
// sockets, mTLS with certificates from `kirikae certs init`, and faults injected by
// killing processes. NewCluster is the entry point, after etcd's integration.NewCluster.
package integration
