package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kirikae/kirikae/awssim"
)

func init() { register(newSimCommand) }

type simFlags struct {
	listen    string
	timeScale float64
	fixture   string
	state     string
	logLevel  string
	durations map[string]string
	creds     string
}

func (f *simFlags) Bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.listen, "listen", "127.0.0.1:4566", "loopback address to serve on (host:port; port 0 picks a free one)")
	fs.Float64Var(&f.timeScale, "time-scale", 1, "multiply every simulated AWS duration (0.001 turns a 45 min restore into 2.7 s)")
	fs.StringVar(&f.fixture, "fixture", "", `starting state: "" (empty), "kaigo" (the seed system in peacetime) or "kaigo-outage" (plus an open us-east-1 Health event)`)
	fs.StringVar(&f.state, "state", "", "file to keep the simulated world in across restarts (optional)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.creds, "credentials", "", "file of key pairs to accept, in the ~/.aws/credentials format (default: issue one random pair, or keep the one in --state)")
	fs.StringToStringVar(&f.durations, "duration", nil, "override an operation's AWS-time duration before scaling, e.g. RestoreDBInstanceFromDBSnapshot=30m (repeatable)")
}

func newSimCommand() *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run simulated AWS (both regions) for demos, drills and tests",
		Long: `sim serves a simulated AWS for us-east-1 and us-west-2 on one loopback listener, over the
real wire protocols, so the AWS SDKs and the AWS CLI v2 work against it unchanged.
The region comes from each request's SigV4 scope.

Every AWS request must be signed (SigV4) with a key pair the simulator issued: it prints
the pair as export lines at start. A request with another key, or a bad signature, gets the
service's real error (InvalidClientTokenId, SignatureDoesNotMatch, AuthFailure,
UnrecognizedClientException, ...), so a client can never reach another process's simulator
by accident. --credentials FILE fixes the pairs instead (the ~/.aws/credentials format: one
[profile] per pair); with --state the issued pair is kept across restarts.

Durations are AWS's own by default (a database restore takes 45 minutes): pass
--time-scale 0.001 for a demo or a drill in seconds.

The control API is under /_sim/ (journal, reset, region-down, fault, slow, health-event),
and the simulated kaigo application answers under /_app/<region>/.`,
		Example: `  # a fast world in peacetime, with keys issued at random
  kirikae sim --fixture kaigo --time-scale 0.001 --listen 127.0.0.1:0

  # fixed keys, so agents started from a script can sign
  printf '[sim]\naws_access_key_id = AKIAEXAMPLESIM000001\naws_secret_access_key = example-secret\n' > sim.credentials
  kirikae sim --fixture kaigo --credentials sim.credentials`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSim(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	f.Bind(cmd.Flags())
	return cmd
}

// errNotLoopback keeps the simulator off real networks: it accepts any credentials.
var errNotLoopback = errors.New("sim: --listen must be a loopback address (127.0.0.1, ::1 or localhost), because the simulator's control API (/_sim/) is unauthenticated")

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("sim: --listen %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: got %q", errNotLoopback, host)
	}
	return nil
}

func runSim(ctx context.Context, out, errOut io.Writer, f simFlags) error {
	if err := checkLoopback(f.listen); err != nil {
		return err
	}
	if f.timeScale <= 0 {
		return fmt.Errorf("sim: --time-scale must be > 0, got %v", f.timeScale)
	}
	log, err := newLogger(errOut, f.logLevel)
	if err != nil {
		return err
	}
	durs := map[string]time.Duration{}
	known := awssim.DefaultDurations()
	for op, v := range f.durations {
		if _, ok := known[op]; !ok {
			return fmt.Errorf("sim: --duration %s: unknown operation (known: %s)", op, strings.Join(slices.Sorted(maps.Keys(known)), ", "))
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("sim: --duration %s=%s: want a duration like 30m", op, v)
		}
		durs[op] = d
	}
	var creds []awssim.Credential
	if f.creds != "" {
		file, err := os.Open(f.creds)
		if err != nil {
			return fmt.Errorf("sim: --credentials: %w", err)
		}
		creds, err = awssim.ParseCredentials(file)
		_ = file.Close()
		if err != nil {
			return fmt.Errorf("sim: --credentials %s: %w", f.creds, err)
		}
	}
	sim, err := awssim.New(awssim.Options{TimeScale: f.timeScale, Durations: durs, Fixture: f.fixture, StateFile: f.state, Logger: log, Credentials: creds})
	if err != nil {
		return err
	}
	if err := sim.Start(ctx, f.listen); err != nil {
		return err
	}
	endpoint := "http://" + sim.Addr()
	pace := "real AWS time: a restore takes 45 minutes; --time-scale 0.001 makes that 2.7 s"
	if f.timeScale != 1 {
		pace = fmt.Sprintf("time scale %g: a 45-minute restore takes %s", f.timeScale, (time.Duration(float64(45*time.Minute) * f.timeScale)).Round(time.Millisecond))
	}
	fmt.Fprintf(out, "awssim serving us-east-1 and us-west-2 at %s (fixture %q)\n%s\n\n", endpoint, f.fixture, pace)
	key := sim.Credentials()[0]
	fmt.Fprintf(out, "export AWS_ENDPOINT_URL=%s\n", endpoint)
	fmt.Fprintf(out, "export AWS_ACCESS_KEY_ID=%s\n", key.AccessKeyID)
	fmt.Fprintf(out, "export AWS_SECRET_ACCESS_KEY=%s\n", key.SecretAccessKey)
	fmt.Fprintln(out, "export AWS_REGION=us-east-1")
	fmt.Fprintln(out, "export AWS_DEFAULT_REGION=us-east-1")
	fmt.Fprintln(out, "# AWS CLI before 2.13 ignores AWS_ENDPOINT_URL: pass --endpoint-url "+endpoint)
	fmt.Fprintf(out, "\ncontrol API: %s/_sim/journal   application: %s/_app/us-west-2/health\n", endpoint, endpoint)
	<-ctx.Done()
	return sim.Close()
}
