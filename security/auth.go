package security

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// Authenticator turns a gRPC call's peer into an Identity. It is a value with no state, so
// interceptors can hold it by value.
type Authenticator struct {
	// Dev is set by a --dev server, which serves plaintext on loopback only. It lets a
	// caller without TLS through as DevIdentity. Without it, no TLS means no identity.
	Dev bool
}

// Identify returns the identity of the caller of the gRPC call in ctx: the one in the
// client certificate that the TLS handshake verified against the CA. It never trusts
// anything the caller sends in metadata.
//
// A plaintext caller is DevIdentity on a Dev authenticator, and ErrUnauthenticated
// otherwise. Even in dev, a plaintext caller from a non-loopback TCP address is refused:
// the listener should make that impossible, and if it ever does not, failing closed is
// the safe answer.
func (a Authenticator) Identify(ctx context.Context) (Identity, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		if a.Dev {
			return DevIdentity, nil
		}
		return Identity{}, fmt.Errorf("%w: no peer in the call context", ErrUnauthenticated)
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		if !a.Dev {
			return Identity{}, fmt.Errorf("%w: %s called without TLS; this server requires mTLS (--ca/--cert/--key or KIRIKAE_CA/KIRIKAE_CERT/KIRIKAE_KEY)", ErrUnauthenticated, addrString(p.Addr))
		}
		if tcp, isTCP := p.Addr.(*net.TCPAddr); isTCP && !tcp.IP.IsLoopback() {
			return Identity{}, fmt.Errorf("%w: plaintext caller %s is not on loopback", ErrUnauthenticated, tcp)
		}
		return DevIdentity, nil
	}
	if len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return Identity{}, fmt.Errorf("%w: %s presented no verified client certificate", ErrUnauthenticated, addrString(p.Addr))
	}
	id, err := IdentityFromCert(info.State.VerifiedChains[0][0])
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %s: %w", ErrUnauthenticated, addrString(p.Addr), err)
	}
	return id, nil
}

func addrString(a net.Addr) string {
	if a == nil {
		return "caller"
	}
	return a.String()
}
