package readiness_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/kirikae/kirikae/agent/readiness"
	"github.com/kirikae/kirikae/awssim"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

const (
	east = "us-east-1"
	west = "us-west-2"

	statusOK   = kirikaev1.ReadinessStatus_READINESS_STATUS_OK
	statusWarn = kirikaev1.ReadinessStatus_READINESS_STATUS_WARN
	statusFail = kirikaev1.ReadinessStatus_READINESS_STATUS_FAIL
)

// awsOptions: static credentials, no shared files, short retry backoffs.
func awsOptions() []func(*config.LoadOptions) error {
	return []func(*config.LoadOptions) error{
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIAKIRIKAETEST", "secret", "")),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 2 * time.Millisecond, nil })
			})
		}),
	}
}

type simEnv struct {
	sim      *awssim.Sim
	endpoint string
}

// manualClock is AWS time that moves only when the test says so.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newSim(t *testing.T) *simEnv { return newSimWith(t, awssim.Options{TimeScale: 0.0001}) }

func newSimWith(t *testing.T, opts awssim.Options) *simEnv {
	t.Helper()
	opts.Fixture = "kaigo"
	opts.Credentials = []awssim.Credential{{AccessKeyID: "AKIAKIRIKAETEST", SecretAccessKey: "secret"}}
	sim, err := awssim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		_ = sim.Close() // releases hung requests before the server waits for them
		srv.Close()
	})
	return &simEnv{sim: sim, endpoint: srv.URL}
}

func (e *simEnv) checker(t *testing.T, cfg readiness.Config) *readiness.Checker {
	t.Helper()
	cfg.Endpoint = e.endpoint
	cfg.ConfigOptions = awsOptions()
	cfg.Clock = e.sim.Now
	c, err := readiness.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func byName(checks []*kirikaev1.ReadinessCheck) map[string]*kirikaev1.ReadinessCheck {
	m := map[string]*kirikaev1.ReadinessCheck{}
	for _, c := range checks {
		m[c.GetName()] = c
	}
	return m
}

func dump(checks []*kirikaev1.ReadinessCheck) string {
	var b strings.Builder
	for _, c := range checks {
		fmt.Fprintf(&b, "\n  %-24s %-4s observed=%q detail=%q", c.GetName(),
			strings.TrimPrefix(c.GetStatus().String(), "READINESS_STATUS_"), c.GetObserved(), c.GetDetail())
	}
	return b.String()
}

// dueDR are the checks of the DR role, in report order.
var dueDR = []string{
	readiness.CheckNetwork, readiness.CheckLoadBalancer, readiness.CheckTargetGroup, readiness.CheckECSCluster,
	readiness.CheckDBParameterGroup, readiness.CheckDBSubnetGroup, readiness.CheckSnapshotCopyAge,
	readiness.CheckEFSCopyAge, readiness.CheckBackupRetention, readiness.CheckPITR, readiness.CheckS3Replication,
	readiness.CheckSecrets, readiness.CheckDNSRecord,
}

func names(checks []*kirikaev1.ReadinessCheck) []string {
	var out []string
	for _, c := range checks {
		out = append(out, c.GetName())
	}
	return out
}

// TestKaigoDRReportsOnlyTheRPOGap: on the kaigo fixture the DR region is ready but for
// the snapshot copy age, which the daily copy keeps over the 1 h RPO.
func TestKaigoDRReportsOnlyTheRPOGap(t *testing.T) {
	e := newSim(t)
	c := e.checker(t, readiness.Config{Region: west, Role: readiness.RoleDR})
	checks := c.Run(t.Context())
	t.Log(dump(checks))
	if got := names(checks); !slices.Equal(got, dueDR) {
		t.Fatalf("check order = %v, want %v", got, dueDR)
	}
	for _, ch := range checks {
		if ch.GetCheckedUnixNano() == 0 {
			t.Errorf("%s: no checked time", ch.GetName())
		}
		if ch.GetName() == readiness.CheckSnapshotCopyAge {
			continue
		}
		if ch.GetStatus() != statusOK {
			t.Errorf("%s = %s, want OK%s", ch.GetName(), ch.GetStatus(), dump(checks))
		}
	}
	rpo := byName(checks)[readiness.CheckSnapshotCopyAge]
	if rpo.GetStatus() != statusFail || !strings.Contains(rpo.GetDetail(), "RPO 1h") ||
		!strings.Contains(rpo.GetDetail(), "kaigo-subsys-prod") || !strings.Contains(rpo.GetDetail(), west) {
		t.Fatalf("snapshot copy age = %s %q, want FAIL naming the RPO%s", rpo.GetStatus(), rpo.GetDetail(), dump(checks))
	}
	if d, err := time.ParseDuration(rpo.GetObserved()); err != nil || d <= time.Hour {
		t.Fatalf("observed %q: want an age over 1h (%v)", rpo.GetObserved(), err)
	}
	ready, reasons := readiness.Summarize(checks)
	if ready || len(reasons) != 1 || !strings.HasPrefix(reasons[0], readiness.CheckSnapshotCopyAge+": ") {
		t.Fatalf("Summarize = %v %q, want not ready because of the snapshot copy age", ready, reasons)
	}
	// Run again: same names, same grades (the runtime calls it periodically).
	again := c.Run(t.Context())
	for i := range again {
		if again[i].GetName() != checks[i].GetName() || again[i].GetStatus() != checks[i].GetStatus() {
			t.Fatalf("second run differs at %d:%s%s", i, dump(checks), dump(again))
		}
	}
}

// waitSnapshot waits with the SDK waiter until the snapshot is available.
func waitSnapshot(ctx context.Context, t *testing.T, api *rds.Client, id string) {
	t.Helper()
	w := rds.NewDBSnapshotAvailableWaiter(api, func(o *rds.DBSnapshotAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 5*time.Millisecond, 20*time.Millisecond
	})
	if err := w.Wait(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)}, 30*time.Second); err != nil {
		t.Fatalf("waiting for snapshot %s: %v", id, err)
	}
}

func rdsClient(t *testing.T, e *simEnv, region string) *rds.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(t.Context(), append(awsOptions(), config.WithRegion(region))...)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(e.endpoint)
	return rds.NewFromConfig(cfg)
}

// TestFreshCopyMakesTheDRRegionReady: a snapshot of the production instance taken now and
// copied to us-west-2, as an hourly copy job would, closes the RPO gap until it is itself
// older than the RPO. AWS time moves by hand, so the copy's progress does not depend on the
// machine's speed.
func TestFreshCopyMakesTheDRRegionReady(t *testing.T) {
	clock := &manualClock{t: time.Now().UTC()}
	e := newSimWith(t, awssim.Options{Now: clock.Now})
	ctx := t.Context()
	eastRDS, westRDS := rdsClient(t, e, east), rdsClient(t, e, west)
	c := e.checker(t, readiness.Config{Region: west})
	if c.Config().Role != readiness.RoleDR {
		t.Fatalf("role for %s = %q, want dr", west, c.Config().Role)
	}

	const snap = "kaigo-subsys-prod-hourly"
	if _, err := eastRDS.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{
		DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), DBSnapshotIdentifier: aws.String(snap)}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(awssim.DefaultDurations()[awssim.OpCreateDBSnapshot])
	waitSnapshot(ctx, t, eastRDS, snap)
	out, err := eastRDS.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(snap)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := westRDS.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{
		SourceDBSnapshotIdentifier: out.DBSnapshots[0].DBSnapshotArn, TargetDBSnapshotIdentifier: aws.String(snap),
		KmsKeyId: aws.String("arn:aws:kms:us-west-2:" + awssim.AccountID + ":key/dr-key-id"), SourceRegion: aws.String(east),
	}); err != nil {
		t.Fatal(err)
	}

	// While the copy is in progress the gap is still there, and the detail says so.
	rpo := byName(c.Run(ctx))[readiness.CheckSnapshotCopyAge]
	if rpo.GetStatus() != statusFail || !strings.Contains(rpo.GetDetail(), "in progress") {
		t.Fatalf("snapshot copy age while copying = %s %q, want FAIL with a copy in progress", rpo.GetStatus(), rpo.GetDetail())
	}

	clock.Advance(awssim.DefaultDurations()[awssim.OpCopyDBSnapshot])
	waitSnapshot(ctx, t, westRDS, snap)
	checks := c.Run(ctx)
	t.Log(dump(checks))
	for _, ch := range checks {
		if ch.GetStatus() != statusOK {
			t.Errorf("%s = %s, want OK%s", ch.GetName(), ch.GetStatus(), dump(checks))
		}
	}
	rpo = byName(checks)[readiness.CheckSnapshotCopyAge]
	if !strings.Contains(rpo.GetDetail(), snap) || rpo.GetObserved() != "30m0s" {
		t.Errorf("snapshot copy age = %q %q, want the fresh copy, 30m0s old (from when the source snapshot was taken)",
			rpo.GetObserved(), rpo.GetDetail())
	}
	if ready, reasons := readiness.Summarize(checks); !ready || len(reasons) != 0 {
		t.Fatalf("Summarize = %v %q, want ready", ready, reasons)
	}

	// Without the next hourly copy, the gap comes back once this one is over the RPO.
	clock.Advance(31 * time.Minute)
	rpo = byName(c.Run(ctx))[readiness.CheckSnapshotCopyAge]
	if rpo.GetStatus() != statusFail || rpo.GetObserved() != "1h1m0s" {
		t.Fatalf("snapshot copy age 61 min later = %s %q %q, want FAIL at 1h1m0s", rpo.GetStatus(), rpo.GetObserved(), rpo.GetDetail())
	}
}

// TestRegionDownFailsNamingTheCause: with us-west-2 refusing connections, every check of
// that region fails with the cause; S3 (asked in us-east-1) and Route 53 (global) still
// answer.
func TestRegionDownFailsNamingTheCause(t *testing.T) {
	e := newSim(t)
	if err := e.sim.SetRegionDown(west, awssim.DownRefuse); err != nil {
		t.Fatal(err)
	}
	c := e.checker(t, readiness.Config{Region: west})
	checks := c.Run(t.Context())
	t.Log(dump(checks))
	stillOK := map[string]bool{readiness.CheckBackupRetention: true, readiness.CheckPITR: true,
		readiness.CheckS3Replication: true, readiness.CheckDNSRecord: true}
	for _, ch := range checks {
		if stillOK[ch.GetName()] {
			if ch.GetStatus() != statusOK {
				t.Errorf("%s = %s, want OK (not in %s)%s", ch.GetName(), ch.GetStatus(), west, dump(checks))
			}
			continue
		}
		if ch.GetStatus() != statusFail || !strings.Contains(ch.GetDetail(), west+" API unreachable") {
			t.Errorf("%s = %s %q, want FAIL naming %s unreachable%s", ch.GetName(), ch.GetStatus(), ch.GetDetail(), west, dump(checks))
		}
	}
	if ready, _ := readiness.Summarize(checks); ready {
		t.Fatal("ready with the region down")
	}
}

// TestRegionHangTimesOut: a region that never answers fails each check at its timeout.
func TestRegionHangTimesOut(t *testing.T) {
	e := newSim(t)
	if err := e.sim.SetRegionDown(west, awssim.DownHang); err != nil {
		t.Fatal(err)
	}
	c := e.checker(t, readiness.Config{Region: west, CheckTimeout: 200 * time.Millisecond})
	ch := byName(c.Run(t.Context()))[readiness.CheckNetwork]
	if ch.GetStatus() != statusFail || !strings.Contains(ch.GetDetail(), "no answer within 200ms") {
		t.Fatalf("network = %s %q, want FAIL with the timeout", ch.GetStatus(), ch.GetDetail())
	}
}

// TestKaigoPrimary: the production region keeps 30 days of backups with PITR.
func TestKaigoPrimary(t *testing.T) {
	e := newSim(t)
	c := e.checker(t, readiness.Config{Region: east})
	if c.Config().Role != readiness.RolePrimary {
		t.Fatalf("role for %s = %q, want primary", east, c.Config().Role)
	}
	checks := c.Run(t.Context())
	want := []string{readiness.CheckBackupRetention, readiness.CheckPITR, readiness.CheckS3Replication,
		readiness.CheckSecrets, readiness.CheckDNSRecord}
	if got := names(checks); !slices.Equal(got, want) {
		t.Fatalf("checks = %v, want %v", got, want)
	}
	for _, ch := range checks {
		if ch.GetStatus() != statusOK || ch.GetObserved() == "skipped" {
			t.Errorf("%s = %s observed %q, want OK and checked%s", ch.GetName(), ch.GetStatus(), ch.GetObserved(), dump(checks))
		}
	}
	if got := byName(checks)[readiness.CheckBackupRetention].GetObserved(); got != "30 days" {
		t.Errorf("retention observed %q, want 30 days", got)
	}

	// Demanding more than the instance keeps fails, naming both numbers.
	strict := e.checker(t, readiness.Config{Region: east, Retention: 35 * 24 * time.Hour})
	ret := byName(strict.Run(t.Context()))[readiness.CheckBackupRetention]
	if ret.GetStatus() != statusFail || !strings.Contains(ret.GetDetail(), "30 days < 35") {
		t.Fatalf("retention = %s %q, want FAIL 30 < 35", ret.GetStatus(), ret.GetDetail())
	}
}

// TestWrongNamesFail: resources that do not exist are FAIL, not errors.
func TestWrongNamesFail(t *testing.T) {
	e := newSim(t)
	c := e.checker(t, readiness.Config{Region: west, Names: readiness.Names{
		VPCName: "nope-vpc", LoadBalancer: "nope-alb", TargetGroup: "nope-tg", Cluster: "nope",
		DBParameterGroup: "nope-pg", DBSubnetGroup: "nope-sg", SourceDB: "nope-db", BackupVault: "nope-vault",
		SourceBucket: "nope-bucket", Secrets: []string{"nope/secret", awssim.KaigoDRDBSecret},
		HostedZoneID: "ZNOPE", RecordName: "nope.example.com",
	}})
	checks := c.Run(t.Context())
	for _, ch := range checks {
		if ch.GetName() == readiness.CheckBackupRetention || ch.GetName() == readiness.CheckPITR {
			continue
		}
		if ch.GetStatus() != statusFail {
			t.Errorf("%s = %s, want FAIL%s", ch.GetName(), ch.GetStatus(), dump(checks))
		}
		if strings.Contains(ch.GetDetail(), "unreachable") {
			t.Errorf("%s: %q blames the network for a missing resource", ch.GetName(), ch.GetDetail())
		}
	}
	if d := byName(checks)[readiness.CheckSecrets].GetDetail(); !strings.Contains(d, "missing: nope/secret") {
		t.Errorf("secrets detail %q does not name the missing one", d)
	}
	if o := byName(checks)[readiness.CheckSecrets].GetObserved(); o != "1/2 present" {
		t.Errorf("secrets observed %q, want 1/2 present", o)
	}
}

// TestBadConfig: a bad config is refused by New with an error naming the field, and
// Checks turns it into a failed readiness.config check.
func TestBadConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg   readiness.Config
		field string
	}{
		{readiness.Config{}, "Region"},
		{readiness.Config{Region: "mars-1"}, "Region"},
		{readiness.Config{Region: west, Role: "standby"}, "Role"},
		{readiness.Config{Region: west, RPO: -time.Hour}, "RPO"},
		{readiness.Config{Region: west, PrimaryRegion: "x"}, "PrimaryRegion"},
		{readiness.Config{Region: west, Names: readiness.Names{Secrets: []string{""}}}, "Names.Secrets[0]"},
	} {
		_, err := readiness.New(t.Context(), tc.cfg)
		if !errors.Is(err, readiness.ErrConfig) || !strings.Contains(err.Error(), "field "+tc.field) {
			t.Errorf("New(%+v) = %v, want ErrConfig naming field %s", tc.cfg, err, tc.field)
		}
	}
	checks := readiness.Checks(readiness.Config{})(t.Context())
	if len(checks) != 1 || checks[0].GetName() != readiness.CheckConfig || checks[0].GetStatus() != statusFail ||
		!strings.Contains(checks[0].GetDetail(), "field Region") {
		t.Fatalf("Checks(bad config) = %s", dump(checks))
	}
}

// TestPrimaryDownFromDR: with us-east-1 down, the DR region's own checks still answer;
// only S3 replication, asked in the bucket's region, fails, naming that region.
func TestPrimaryDownFromDR(t *testing.T) {
	e := newSim(t)
	if err := e.sim.SetRegionDown(east, awssim.DownRefuse); err != nil {
		t.Fatal(err)
	}
	checks := e.checker(t, readiness.Config{Region: west}).Run(t.Context())
	for _, ch := range checks {
		switch ch.GetName() {
		case readiness.CheckS3Replication:
			if ch.GetStatus() != statusFail || !strings.Contains(ch.GetDetail(), east+" API unreachable: s3 GetBucketReplication") {
				t.Errorf("s3 = %s %q, want FAIL naming %s unreachable", ch.GetStatus(), ch.GetDetail(), east)
			}
		case readiness.CheckSnapshotCopyAge:
			if ch.GetStatus() != statusFail || !strings.Contains(ch.GetDetail(), "RPO") {
				t.Errorf("snapshot copy age = %s %q, want the RPO finding", ch.GetStatus(), ch.GetDetail())
			}
		default:
			if ch.GetStatus() != statusOK {
				t.Errorf("%s = %s %q, want OK", ch.GetName(), ch.GetStatus(), ch.GetDetail())
			}
		}
	}
}
