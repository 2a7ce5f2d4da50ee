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
	"github.com/kirikae/kirikae/iampolicy"
	"github.com/kirikae/kirikae/system"
)

func init() { register(newSimCommand) }

type simFlags struct {
	listen    string
	timeScale float64
	system    string
	fixture   string
	state     string
	logLevel  string
	durations map[string]string
	creds     string
	iam       string
}

func (f *simFlags) Bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.listen, "listen", "127.0.0.1:4566", "loopback address to serve on (host:port; port 0 picks a free one)")
	fs.Float64Var(&f.timeScale, "time-scale", 1, "multiply every simulated AWS duration (0.001 turns a 45 min restore into 2.7 s)")
	fs.StringVar(&f.system, "system", "", "system file whose peacetime world to simulate, in its two regions (default: the bundled kaigo system, with --fixture)")
	fs.StringVar(&f.fixture, "fixture", "", `starting state: "" (the --system file's peacetime world, or without one an empty world), "outage" (the same, plus an open AWS Health event in the primary region), "kaigo" (the bundled seed system in peacetime) or "kaigo-outage" (plus an open us-east-1 Health event)`)
	fs.StringVar(&f.state, "state", "", "file to keep the simulated world in across restarts (optional)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.creds, "credentials", "", "file of key pairs to accept, in the ~/.aws/credentials format (default: issue one random pair, or keep the one in --state)")
	fs.StringVar(&f.iam, "iam", "", "file of IAM policies to enforce per access key, e.g. deploy/iam/'s (default: every signed request is allowed)")
	fs.StringToStringVar(&f.durations, "duration", nil, "override an operation's AWS-time duration before scaling, e.g. RestoreDBInstanceFromDBSnapshot=30m (repeatable)")
}

func newSimCommand() *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run simulated AWS (a system's two regions) for demos, drills and tests",
		Long: `sim serves a simulated AWS for the two regions of a system on one loopback listener, over
the real wire protocols, so the AWS SDKs and the AWS CLI v2 work against it unchanged.
The region comes from each request's SigV4 scope; a request for another region is refused.

--system FILE starts with that system file's world in peacetime, in its regions and its
account: every resource the file names, by the names it gives (see kirikae system
validate --help for the format). The primary runs the database, with daily snapshots, the
cache, the file system and the ECS services; the secondary holds what is built in advance
(network, load balancer, ECS cluster at 0 tasks, secrets, ...) and the daily copies of the
snapshots and backups, the newest older than an hour. The public DNS name is an alias to the
primary's load balancer, and the system's application answers behind it. A file that is not
valid is refused, each problem reported as FILE:LINE: FIELD: MESSAGE. --fixture outage adds
an open AWS Health event in the primary region, the start of a failover demo or drill.

Without --system, --fixture kaigo (or kaigo-outage) is the bundled seed system
(deploy/systems/kaigo.yaml, us-east-1 and us-west-2), and no fixture an empty world in its
regions. The system's name and region pair are printed at start.

Every AWS request must be signed (SigV4) with a key pair the simulator issued: it prints
the pair as export lines at start, with the endpoint and the primary region. Everything it
prints on stdout is sh, the rest as comments, written at once when it serves, so a script
can run ` + "`kirikae sim > sim.env &`" + ` and source sim.env once the file names
AWS_DEFAULT_REGION. A request with another key, or a bad signature, gets the service's real
error (InvalidClientTokenId, SignatureDoesNotMatch, AuthFailure, UnrecognizedClientException,
...), so a client can never reach another process's simulator by accident. --credentials
FILE fixes the pairs instead (the ~/.aws/credentials format: one [profile] per pair); with
--state the issued pair is kept across restarts.

--iam FILE enforces IAM policies as AWS does: every signed request is authorized against
the policies of the access key it was signed with, as its IAM action on the resource ARNs it
touches (Allow and Deny statements, wildcards in actions and ARNs, string and Null
conditions on the keys a request gives, such as Route 53's record names, an explicit Deny
wins, nothing allowed by default), and a refused one gets the service's own error in its protocol
(AccessDenied, AccessDeniedException, UnauthorizedOperation, AuthorizationError) with AWS's
message, "User: ARN is not authorized to perform: ACTION on resource: ARN ...". FILE is one
policy document, enforced for every key, or a JSON object from access key id to a policy
document, a policy file's name (relative to FILE) or a list of those; the key "*" gives the
policies of every key not named, and a key without policies may do nothing but
sts:GetCallerIdentity. kirikae plan iam-policy writes each agent's policy:

  {"AKIAPRIMARYAGENT0001": "deploy/iam/kaigo-us-east-1.json",
   "AKIASECONDARYAGENT01": "deploy/iam/kaigo-us-west-2.json"}

Durations are AWS's own by default (a database restore takes 45 minutes): pass
--time-scale 0.001 for a demo or a drill in seconds.

The control API is under /_sim/ (journal, reset, region-down, fault, slow, health-event),
and the system's application answers under /_app/<region>/ and /_app/dns/<public name>/.`,
		Example: `  # your system's world in peacetime, fast, with keys issued at random
  kirikae sim --system my-system.yaml --time-scale 0.001 --listen 127.0.0.1:0

  # the bundled ledger example (eu-west-1 and eu-central-1), AWS Health reporting an outage in eu-west-1
  kirikae sim --system deploy/systems/example-eu.yaml --fixture outage

  # the seed system
  kirikae sim --fixture kaigo --time-scale 0.001

  # fixed keys, so agents started from a script can sign
  printf '[sim]\naws_access_key_id = AKIAEXAMPLESIM000001\naws_secret_access_key = example-secret\n' > sim.credentials
  kirikae sim --fixture kaigo --credentials sim.credentials

  # the same keys held to IAM policies, one per agent
  kirikae sim --fixture kaigo --credentials agents.credentials --iam agents-iam.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSim(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	f.Bind(cmd.Flags())
	return cmd
}

// shellQuote quotes v for sh when it holds anything but the characters keys and URLs are
// usually made of (a --credentials secret may hold any).
func shellQuote(v string) string {
	if v != "" && strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.,:/+=@%") == "" {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
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
	var iam *iampolicy.Assignment
	if f.iam != "" {
		if iam, err = iampolicy.LoadAssignment(f.iam); err != nil {
			return fmt.Errorf("sim: --iam: %w", err)
		}
	}
	var sys *system.System
	if f.system != "" {
		if sys, err = system.ParseFile(f.system); err != nil {
			// A ValidationError says FILE:LINE: FIELD: MESSAGE for each problem.
			return fmt.Errorf("sim: --system %s is not a valid system file:\n%w", f.system, err)
		}
	}
	sim, err := awssim.New(awssim.Options{TimeScale: f.timeScale, Durations: durs, System: sys, Fixture: f.fixture, StateFile: f.state,
		Logger: log, Credentials: creds})
	if err != nil {
		return err
	}
	sim.SetIAM(iam) // nil when --iam is not given: nothing enforced
	if err := sim.Start(ctx, f.listen); err != nil {
		return err
	}
	endpoint := "http://" + sim.Addr()
	pace := "real AWS time: a restore takes 45 minutes; --time-scale 0.001 makes that 2.7 s"
	if f.timeScale != 1 {
		pace = fmt.Sprintf("time scale %g: a 45-minute restore takes %s", f.timeScale, (time.Duration(float64(45*time.Minute) * f.timeScale)).Round(time.Millisecond))
	}
	regions := sim.Regions()
	world := "an empty world"
	if name := sim.SystemName(); name != "" {
		world = "system " + name
	}
	// Everything on stdout is sh, the words for people as comments, written at once: after
	// `kirikae sim > sim.env &`, `. ./sim.env` works as soon as the file names AWS_DEFAULT_REGION.
	var b strings.Builder
	fmt.Fprintf(&b, "# awssim serving %s: %s → %s (account %s) at %s", world, regions[0], regions[1], sim.Account(), endpoint)
	if f.fixture != "" {
		fmt.Fprintf(&b, " (fixture %q)", f.fixture)
	}
	fmt.Fprintf(&b, "\n# %s\n", pace)
	if iam != nil {
		fmt.Fprintf(&b, "# IAM enforced from %s for access keys %s\n", f.iam, strings.Join(iam.Keys(), ", "))
	}
	fmt.Fprintln(&b)
	key := sim.Credentials()[0]
	for _, kv := range [][2]string{{"AWS_ENDPOINT_URL", endpoint}, {"AWS_ACCESS_KEY_ID", key.AccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", key.SecretAccessKey}, {"AWS_REGION", regions[0]}, {"AWS_DEFAULT_REGION", regions[0]}} {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	fmt.Fprintln(&b, "# AWS CLI before 2.13 ignores AWS_ENDPOINT_URL: pass --endpoint-url "+endpoint)
	fmt.Fprintf(&b, "\n# control API: %s/_sim/journal   application: %s/_app/%s/health\n", endpoint, endpoint, regions[1])
	if _, err := io.WriteString(out, b.String()); err != nil {
		return errors.Join(err, sim.Close())
	}
	<-ctx.Done()
	return sim.Close()
}
