package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
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

	tls *tls.Config // built by dialOption; probes dial with it too
}

func (f *clientFlags) Bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.addr, "addr", os.Getenv("KIRIKAE_ADDR"), "control-plane gRPC addresses, comma-separated, tried in turn (env KIRIKAE_ADDR)")
	fs.StringVar(&f.ca, "ca", os.Getenv("KIRIKAE_CA"), "CA certificate `file` that signed the servers, ca.pem from kirikae certs init (env KIRIKAE_CA)")
	fs.StringVar(&f.cert, "cert", os.Getenv("KIRIKAE_CERT"), "your operator certificate `file`, operator-NAME.pem (env KIRIKAE_CERT)")
	fs.StringVar(&f.key, "key", os.Getenv("KIRIKAE_KEY"), "its key `file`, operator-NAME-key.pem (env KIRIKAE_KEY)")
	bindOutput(fs, &f.output)
	fs.DurationVar(&f.timeout, "timeout", 15*time.Second, "give up after this long")
}

// connError means the control plane cannot be reached or will not take us: no address,
// missing TLS settings, an address that does not answer, a certificate refused either way.
// It exits 6.
type connError struct{ err error }

func (e *connError) Error() string { return e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

// tlsHowTo says where the three TLS settings come from.
const tlsHowTo = "`kirikae certs init --dir DIR` makes them and prints the export line (ca.pem, operator-NAME.pem, operator-NAME-key.pem); " +
	"`kirikae server --dev` prints the export lines for its own throwaway certificates"

func (f *clientFlags) validate() error {
	if err := checkOutput(f.output); err != nil {
		return err
	}
	if len(f.addrs()) == 0 {
		return &connError{errors.New("no control plane address: pass --addr HOST:PORT[,HOST:PORT...] or set KIRIKAE_ADDR")}
	}
	return f.checkTLS()
}

// checkTLS fails at once, before any dial, when a TLS setting is missing: every control
// plane takes mutual TLS only, so a call without them could only time out.
func (f *clientFlags) checkTLS() error {
	var missing, flags, set []string
	for _, s := range []struct{ env, flag, v string }{{"KIRIKAE_CA", "--ca", f.ca}, {"KIRIKAE_CERT", "--cert", f.cert}, {"KIRIKAE_KEY", "--key", f.key}} {
		if s.v == "" {
			missing, flags = append(missing, s.env), append(flags, s.flag)
		} else {
			set = append(set, s.env)
		}
	}
	switch {
	case len(missing) == 3:
		return &connError{fmt.Errorf("no TLS settings: the control plane takes mutual TLS only; set KIRIKAE_CA, KIRIKAE_CERT and KIRIKAE_KEY (or --ca, --cert, --key) to the cluster's CA and your operator certificate and key: %s", tlsHowTo)}
	case len(missing) > 0:
		return &connError{fmt.Errorf("TLS settings incomplete: %s (%s) not set, only %s; set all three of KIRIKAE_CA, KIRIKAE_CERT and KIRIKAE_KEY: %s",
			strings.Join(missing, " and "), strings.Join(flags, ", "), strings.Join(set, " and "), tlsHowTo)}
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
	if err := f.checkTLS(); err != nil {
		return nil, err
	}
	conf, err := security.ClientTLS(f.ca, f.cert, f.key)
	if err != nil {
		return nil, &connError{fmt.Errorf("client TLS (--ca, --cert, --key or KIRIKAE_CA, KIRIKAE_CERT, KIRIKAE_KEY): %w", err)}
	}
	f.tls = conf
	return grpc.WithTransportCredentials(credentials.NewTLS(conf)), nil
}

// refused probes addr after err, an error from a call or stream to it, and returns a
// connError when the address refuses our certificate or we refuse its: retrying cannot
// help then, so callers stop at once. It returns nil for anything else, including an
// address that does not answer (a node may be restarting).
func (f *clientFlags) refused(ctx context.Context, addr string, err error) error {
	if status.Code(err) != codes.Unavailable || f.tls == nil {
		return nil
	}
	if fatal, perr := probe(ctx, addr, f.tls); fatal {
		return perr
	}
	return nil
}

// call runs fn against each address in turn until one answers with anything other than
// Unavailable. Writes carry a request id chosen once by the caller, so trying the next
// address is safe. An address that fails is probed once: one that refuses our certificate
// (or whose we do not trust) is not tried again, and when every address does, the call ends
// at once with that reason; one that does not answer is named in the error given when no
// address answered within the timeout.
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
	probed := map[string]error{}
	// refusing holds the addresses whose TLS fails in a way retrying cannot mend. They are
	// not tried again, but the others are: one misconfigured node must not hide the rest.
	refusing := map[string]error{}
	addrs := slices.Compact(slices.Sorted(slices.Values(f.addrs())))
	for attempt := 0; ; attempt++ {
		for _, a := range f.addrs() {
			if _, bad := refusing[a]; bad {
				continue
			}
			conn, err := grpc.NewClient(a, opt)
			if err != nil {
				return fmt.Errorf("address %q: %w", a, err)
			}
			err = fn(ctx, conn)
			conn.Close()
			if err == nil {
				return nil
			}
			// Our own --timeout may end an attempt still connecting: that is no answer too.
			timedOut := status.Code(err) == codes.DeadlineExceeded && ctx.Err() != nil
			if status.Code(err) != codes.Unavailable && !timedOut {
				return describe(a, err)
			}
			last = describe(a, err)
			perr, done := probed[a]
			if !done {
				var fatal bool
				// Bounded by probeTimeout, and run even when the call's time is up, to say why.
				fatal, perr = probe(context.WithoutCancel(ctx), a, f.tls)
				if fatal {
					refusing[a], last = perr, perr
					if len(refusing) == len(addrs) {
						return perr // every address refuses: nothing left to try
					}
					continue
				}
				probed[a] = perr
			}
			if perr != nil {
				last = perr
			}
		}
		select {
		case <-ctx.Done():
			return &connError{fmt.Errorf("no control-plane node answered within %s: %w", f.timeout, last)}
		case <-timeAfterBackoff(attempt):
		}
	}
}

// probeTimeout bounds each step of a probe: the TCP connect and the TLS handshake.
const probeTimeout = 3 * time.Second

// probe dials addr with the client's TLS settings, as gRPC would, to say what is wrong
// with it. It returns (false, nil) when the connection and the handshake work (the trouble
// is elsewhere), (false, err) when the address does not answer, and (true, err) when TLS
// fails in a way retrying cannot mend: the address refuses our certificate, we do not
// trust its, or it does not speak TLS. Every error is a connError naming the address.
func probe(ctx context.Context, addr string, conf *tls.Config) (fatal bool, _ error) {
	d := net.Dialer{Timeout: probeTimeout}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false, &connError{fmt.Errorf("cannot reach %s: %w", addr, err)}
	}
	defer raw.Close()
	conf = conf.Clone()
	conf.NextProtos = []string{"h2"} // a gRPC server refuses TLS without it
	if conf.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			conf.ServerName = host
		}
	}
	_ = raw.SetDeadline(time.Now().Add(probeTimeout))
	tc := tls.Client(raw, conf)
	err = tc.HandshakeContext(ctx)
	if err == nil {
		// With TLS 1.3 the server judges our certificate after our side of the handshake
		// is done: its verdict is the first thing read. A gRPC server otherwise sends its
		// settings at once.
		_, err = tc.Read(make([]byte, 1))
		var ne net.Error
		if err == nil || errors.As(err, &ne) && ne.Timeout() {
			return false, nil
		}
	}
	return classifyTLS(addr, err)
}

// classifyTLS turns a failed handshake with addr into an error that says what to check.
func classifyTLS(addr string, err error) (fatal bool, _ error) {
	var (
		opErr    *net.OpError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		ne       net.Error
	)
	switch {
	case errors.As(err, &opErr) && opErr.Op == "remote error":
		return true, &connError{fmt.Errorf("%s refused our certificate (%v): check that KIRIKAE_CERT and KIRIKAE_KEY (--cert, --key) are an operator certificate and key made by this cluster's CA, the one in KIRIKAE_CA", addr, opErr.Err)}
	case errors.As(err, &unknown):
		return true, &connError{fmt.Errorf("%s presents a certificate that KIRIKAE_CA (--ca) did not sign (%v): check that KIRIKAE_CA is the ca.pem of this cluster", addr, err)}
	case errors.As(err, &hostname):
		return true, &connError{fmt.Errorf("%s presents a certificate for other names (%v): dial a name or address the server certificate holds (`kirikae certs init --host`)", addr, err)}
	case errors.As(err, &invalid):
		return true, &connError{fmt.Errorf("%s presents a certificate that is not valid (%v)", addr, err)}
	case errors.Is(err, security.ErrUnauthenticated), errors.Is(err, security.ErrPermissionDenied):
		return true, &connError{fmt.Errorf("%s is not a kirikae control-plane server: %w", addr, err)}
	case errors.As(err, &record):
		return true, &connError{fmt.Errorf("%s does not speak TLS (%v): is it a control plane's --grpc-addr?", addr, err)}
	case errors.As(err, &ne) && ne.Timeout():
		return false, &connError{fmt.Errorf("cannot reach %s: no TLS handshake within %s", addr, probeTimeout)}
	}
	return false, &connError{fmt.Errorf("%s: TLS handshake: %w", addr, err)}
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
		return &statusError{fmt.Sprintf("%s unavailable: %s", addr, st.Message()), err}
	case codes.PermissionDenied, codes.Unauthenticated:
		// The server's message already says which, and why.
		return &statusError{st.Message(), err}
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
		return &statusError{st.Message(), err}
	}
	return &statusError{fmt.Sprintf("%s: %s", string(words), st.Message()), err}
}

// statusError is a gRPC error in words; the status stays in the chain for exitCode.
type statusError struct {
	msg string
	err error
}

func (e *statusError) Error() string { return e.msg }
func (e *statusError) Unwrap() error { return e.err }
