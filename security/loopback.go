package security

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// RequireLoopback returns nil if addr ("host:port", or a bare host) names this machine
// only: an IP in 127.0.0.0/8, ::1, or localhost. --dev serves plaintext without
// authentication, so anything reachable from elsewhere must be refused. An empty host
// (":8080") listens on every interface and is refused too; so are host names other than
// localhost, whose addresses could change under us.
func RequireLoopback(addr string) error {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	} else if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		host = addr[1 : len(addr)-1]
	}
	if host == "" {
		return fmt.Errorf("%w: %q has no host, so it listens on every interface; give 127.0.0.1:PORT", ErrNotLoopback, addr)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %q: host %q is not 127.0.0.0/8, ::1 or localhost", ErrNotLoopback, addr, host)
	}
	if ip.Zone() != "" || !ip.Unmap().IsLoopback() {
		return fmt.Errorf("%w: %q: %s is not 127.0.0.0/8, ::1 or localhost", ErrNotLoopback, addr, host)
	}
	return nil
}
