package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/kirikae/kirikae/security"
)

// clientFlags are the flags every operator verb shares: where the control plane is and
// which certificate to present.
type clientFlags struct {
	addr    string
	ca      string
	cert    string
	key     string
	output  string
	timeout time.Duration
}

func (f *clientFlags) Bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.addr, "addr", os.Getenv("KIRIKAE_ADDR"), "control-plane gRPC addresses, comma-separated, tried in turn (env KIRIKAE_ADDR)")
	fs.StringVar(&f.ca, "ca", os.Getenv("KIRIKAE_CA"), "CA certificate that signed the servers (env KIRIKAE_CA); without it the client speaks plaintext, for --dev servers")
	fs.StringVar(&f.cert, "cert", os.Getenv("KIRIKAE_CERT"), "your client certificate (env KIRIKAE_CERT)")
	fs.StringVar(&f.key, "key", os.Getenv("KIRIKAE_KEY"), "your client key (env KIRIKAE_KEY)")
	bindOutput(fs, &f.output)
	fs.DurationVar(&f.timeout, "timeout", 15*time.Second, "give up after this long")
}

func (f *clientFlags) validate() error {
	if err := checkOutput(f.output); err != nil {
		return err
	}
	if f.addr == "" {
		return errors.New("no control plane address: pass --addr HOST:PORT[,HOST:PORT...] or set KIRIKAE_ADDR")
	}
	if (f.cert == "") != (f.key == "") || (f.ca == "" && f.cert != "") {
		return errors.New("TLS needs --ca, --cert and --key together (or KIRIKAE_CA, KIRIKAE_CERT, KIRIKAE_KEY)")
	}
	return nil
}

func (f *clientFlags) addrs() []string {
	var out []string
	for _, a := range strings.Split(f.addr, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func (f *clientFlags) dialOption() (grpc.DialOption, error) {
	if f.ca == "" {
		return grpc.WithTransportCredentials(insecure.NewCredentials()), nil
	}
	conf, err := security.ClientTLS(f.ca, f.cert, f.key)
	if err != nil {
		return nil, fmt.Errorf("client TLS: %w", err)
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(conf)), nil
}

// call runs fn against each address in turn until one answers with anything other than
// Unavailable. Writes carry a request id chosen once by the caller, so trying the next
// address is safe.
func (f *clientFlags) call(ctx context.Context, fn func(ctx context.Context, conn *grpc.ClientConn) error) error {
	if err := f.validate(); err != nil {
		return err
	}
	opt, err := f.dialOption()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var last error
	for attempt := 0; ; attempt++ {
		for _, a := range f.addrs() {
			conn, err := grpc.NewClient(a, opt)
			if err != nil {
				return fmt.Errorf("address %q: %w", a, err)
			}
			err = fn(ctx, conn)
			conn.Close()
			if err == nil {
				return nil
			}
			if status.Code(err) != codes.Unavailable {
				return describe(a, err)
			}
			last = describe(a, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no control-plane node answered within %s: %w", f.timeout, last)
		case <-timeAfterBackoff(attempt):
		}
	}
}

// rpc calls fn through call (every address in turn) and returns its answer.
func rpc[T any](ctx context.Context, cf *clientFlags, fn func(context.Context, *grpc.ClientConn) (T, error)) (T, error) {
	var out T
	err := cf.call(ctx, func(ctx context.Context, conn *grpc.ClientConn) (err error) {
		out, err = fn(ctx, conn)
		return err
	})
	return out, err
}

// retryableWatch reports whether a broken watch stream should be reopened.
func retryableWatch(err error) bool {
	c := status.Code(err)
	return c == codes.Unavailable || c == codes.Unknown || c == codes.Internal
}

// describe turns a gRPC status into a message that says where and what.
func describe(addr string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", addr, err)
	}
	switch st.Code() {
	case codes.Unavailable:
		return fmt.Errorf("%s unavailable: %s", addr, st.Message())
	case codes.PermissionDenied, codes.Unauthenticated:
		// The server's message already says which, and why.
		return errors.New(st.Message())
	}
	// The code in words (FailedPrecondition: "failed precondition"), unless the message
	// already starts with it, as the control plane's refusals do.
	var words []rune
	for i, r := range st.Code().String() {
		if i > 0 && unicode.IsUpper(r) {
			words = append(words, ' ')
		}
		words = append(words, unicode.ToLower(r))
	}
	if strings.HasPrefix(st.Message(), string(words)) {
		return errors.New(st.Message())
	}
	return fmt.Errorf("%s: %s", string(words), st.Message())
}
