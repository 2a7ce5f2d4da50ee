package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// hangups turns SIGHUP into a receive on the returned channel until ctx ends, which is how
// `kirikae server` and `kirikae agent` are told to reload their certificates. It replaces
// SIGHUP's default, which would end the process.
func hangups(ctx context.Context) <-chan struct{} {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP)
	out := make(chan struct{})
	go func() {
		defer signal.Stop(sigs)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sigs:
			}
			select {
			case <-ctx.Done():
				return
			case out <- struct{}{}:
			}
		}
	}()
	return out
}
