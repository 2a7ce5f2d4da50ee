package activeregion_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/kirikae/kirikae/client/activeregion"
)

// errStandby is what the service answers instead of writing when it may not write.
var errStandby = errors.New("this region may not write now")

// orderStore is a service's write path, guarded by the active region.
type orderStore struct {
	regions *activeregion.Client
	// myRegion is the AWS region this process runs in.
	myRegion string
	// maxStaleness is how late the news of a failover may reach this process. Keep it
	// well under the time a failover takes to move traffic.
	maxStaleness time.Duration

	mu     sync.Mutex
	orders map[string]string // stands in for the service's database
	epochs map[string]uint64
}

// Put writes an order, but only in the active region and only on a fresh answer. It takes
// one snapshot, so that the region and its staleness are judged together.
func (s *orderStore) Put(_ context.Context, id, order string) error {
	snap, err := s.regions.Current()
	if err != nil {
		return fmt.Errorf("put order %s: %w: %w", id, errStandby, err)
	}
	if !snap.IsActive(s.myRegion) {
		return fmt.Errorf("put order %s: %w: active region is %s, this is %s", id, errStandby, snap.Active(), s.myRegion)
	}
	if snap.Staleness > s.maxStaleness {
		return fmt.Errorf("put order %s: %w: the control plane last confirmed %s ago (limit %s)",
			id, errStandby, snap.Staleness.Round(time.Millisecond), s.maxStaleness)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders[id] = order
	// The epoch is the fencing token: a store that keeps the highest epoch it has seen can
	// refuse a late write from a region that lost its turn after this check.
	s.epochs[id] = snap.State.GetEpoch()
	return nil
}

// clientTLS loads the CA and this service's certificate for mTLS to the control plane.
func clientTLS(caFile, certFile, keyFile string) (credentials.TransportCredentials, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no certificate in %s", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load client certificate: %w", err)
	}
	return credentials.NewTLS(&tls.Config{
		RootCAs:      pool,
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS13,
	}), nil
}

// A service that stops writing when it is not in the active region.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))

	creds, err := clientTLS("/etc/kirikae/ca.pem", "/etc/kirikae/orders.pem", "/etc/kirikae/orders-key.pem")
	if err != nil {
		logger.Error("control-plane TLS", "err", err)
		return
	}
	regions, err := activeregion.New(ctx, activeregion.Config{
		Addrs:       []string{"cp-1.internal:7443", "cp-2.internal:7443", "cp-3.internal:7443"},
		DialOptions: []grpc.DialOption{grpc.WithTransportCredentials(creds)},
		Logger:      logger,
	})
	if err != nil {
		logger.Error("active-region client", "err", err)
		return
	}
	defer regions.Close()

	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := regions.Wait(waitCtx); err != nil {
		logger.Error("no answer from the control plane", "err", err)
		return
	}

	// Say so in the logs whenever the active region moves.
	go func() {
		for ch := range regions.Subscribe(ctx) {
			logger.Info("active region", "region", ch.State.GetActive(), "epoch", ch.State.GetEpoch(), "index", ch.Index)
		}
	}()

	store := &orderStore{
		regions:      regions,
		myRegion:     os.Getenv("AWS_REGION"),
		maxStaleness: 5 * time.Second,
		orders:       make(map[string]string),
		epochs:       make(map[string]uint64),
	}
	switch err := store.Put(ctx, "o-1001", `{"item":"wheelchair","qty":1}`); {
	case errors.Is(err, errStandby):
		// Serve reads, answer writes with 503, and keep checking: a failover may make this
		// region the active one.
		logger.Warn("standing by", "err", err)
	case err != nil:
		logger.Error("put order", "err", err)
	}
}

// Follow every change of the active region, in order, for as long as ctx lasts.
func ExampleClient_Subscribe() {
	creds, err := clientTLS("/etc/kirikae/ca.pem", "/etc/kirikae/orders.pem", "/etc/kirikae/orders-key.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	regions, err := activeregion.New(context.Background(), activeregion.Config{
		Addrs:       []string{"cp-1.internal:7443", "cp-2.internal:7443"},
		DialOptions: []grpc.DialOption{grpc.WithTransportCredentials(creds)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer regions.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for ch := range regions.Subscribe(ctx) {
		fmt.Printf("index %d: active %s (epoch %d) from %s\n", ch.Index, ch.State.GetActive(), ch.State.GetEpoch(), ch.Addr)
	}
}
