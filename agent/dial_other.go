//go:build !linux

package agent

import (
	"syscall"
	"time"
)

// controlUserTimeout is a no-op where TCP_USER_TIMEOUT does not exist; TCP keepalive still
// notices a vanished peer while the connection is idle.
func controlUserTimeout(time.Duration) func(network, address string, c syscall.RawConn) error {
	return nil
}
