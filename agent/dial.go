package agent

import (
	"context"
	"net"
	"time"
)

// userTimeout is how long sent data may stay unacknowledged before the kernel drops the
// connection. Heartbeats go out every second, so a control-plane node that vanished
// without a reset (power loss, a partition) is noticed within this time, with no help from
// the server: gRPC keepalive pings would need the server's enforcement policy to allow
// them.
const userTimeout = 20 * time.Second

// dial opens the TCP connection under a gRPC client connection, with TCP keepalive and,
// where the platform has it, TCP_USER_TIMEOUT.
func dial(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 5 * time.Second, Count: 3},
		Control:         controlUserTimeout(userTimeout),
	}
	return d.DialContext(ctx, "tcp", addr)
}
