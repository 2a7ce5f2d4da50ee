package awssim_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/kirikae/kirikae/awshttp"
	"github.com/kirikae/kirikae/awssim"
)

// tickClock advances by step on every reading, so each request sees AWS time move forward
// by a fixed amount: status sequences are then the same on any machine, however slow.
type tickClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func newTickClock(step time.Duration) *tickClock {
	return &tickClock{t: time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC), step: step}
}

func (c *tickClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func (c *tickClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testLogger sends the simulator's logs to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// env is a running simulator and the SDK configuration that reaches it.
type env struct {
	sim      *awssim.Sim
	clock    *tickClock
	endpoint string
}

// newEnv starts the kaigo fixture behind an httptest server. Each request moves AWS time by
// step (0 = a frozen clock the test advances by hand).
func newEnv(t testing.TB, step time.Duration) *env {
	t.Helper()
	clk := newTickClock(step)
	sim, err := awssim.New(awssim.Options{Credentials: testCreds, Fixture: "kaigo", Now: clk.Now, Logger: testLogger(t), Seed: 1})
	if err != nil {
		t.Fatalf("awssim.New: %v", err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		_ = sim.Close()
		srv.Close()
	})
	return &env{sim: sim, clock: clk, endpoint: srv.URL}
}

// newServer serves sim on a loopback port for the test's lifetime and returns its URL.
func newServer(t testing.TB, sim *awssim.Sim) string {
	t.Helper()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		_ = sim.Close()
		srv.Close()
	})
	return srv.URL
}

// cfg is an SDK config for region pointing at the simulator, with the SDK's own retryer but
// short backoffs so retried tests stay fast.
func (e *env) cfg(region string) aws.Config {
	return awsConfig(e.endpoint, region)
}

// testCreds is the key pair every test simulator issues, and awsConfig signs with.
var testCreds = []awssim.Credential{{AccessKeyID: "AKIASIMTEST", SecretAccessKey: "secret"}}

func awsConfig(endpoint, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIASIMTEST", "secret", ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   awshttp.KeepRequestBody(nil),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 5 * time.Millisecond, nil })
			})
		},
	}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// wantCode fails unless err is an AWS API error with the given code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %s, got success", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want API error %s, got %T %v", code, err, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want error code %s, got %s (%v)", code, ae.ErrorCode(), err)
	}
}

func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// recorder returns an API option that records a value from every successful output of type
// T, so a test can see the statuses a waiter observed on its way.
func recorder[T any](seen *[]string, get func(T) string) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("awssimRecorder",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if o, ok := out.Result.(T); ok && err == nil {
					*seen = append(*seen, get(o))
				}
				return out, md, err
			}), middleware.After)
	}
}

// countOps counts journal entries for an operation on a resource.
func countOps(j []awssim.JournalEntry, op, resource string) int {
	n := 0
	for _, e := range j {
		if e.Operation == op && e.Resource == resource {
			n++
		}
	}
	return n
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
