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
	"github.com/kirikae/kirikae/deploy"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/system"
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

// kaigoSystem is the kaigo system file, after edits to its text, as the control plane
// would store it.
func kaigoSystem(t *testing.T, edits ...func(string) string) *system.System {
	t.Helper()
	src, err := deploy.System("kaigo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for _, e := range edits {
		text = e(text)
	}
	sys, err := system.Parse("kaigo.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return sys
}

// replace is an edit of the system file's text that must apply.
func replace(t *testing.T, old, new string) func(string) string {
	return func(s string) string {
		t.Helper()
		if !strings.Contains(s, old) {
			t.Fatalf("the system file has no %q", old)
		}
		return strings.ReplaceAll(s, old, new)
	}
}

// withoutCache drops the cache of both regions (a cache in one region only is refused).
func withoutCache(t *testing.T) func(string) string {
	return func(s string) string {
		t.Helper()
		var out []string
		skip := false
		for _, line := range strings.Split(s, "\n") {
			trimmed := strings.TrimSpace(line)
			if strings.HasPrefix(trimmed, "cache:") && !strings.Contains(trimmed, "kaigo") {
				skip = true
				continue
			}
			if skip && strings.HasPrefix(line, "        ") {
				continue
			}
			skip = false
			out = append(out, line)
		}
		if len(out) == len(strings.Split(s, "\n")) {
			t.Fatal("no cache section found")
		}
		return strings.Join(out, "\n")
	}
}

// dueSecondary are the checks of the kaigo system's secondary region, in report order.
var dueSecondary = []string{
	readiness.CheckNetwork, readiness.CheckSecurityGroups, readiness.CheckLoadBalancer, readiness.CheckTargetGroup,
	readiness.CheckECSCluster, readiness.CheckDBParameterGroup, readiness.CheckDBSubnetGroup, readiness.CheckKMSKey,
	readiness.CheckSnapshotCopyAge, readiness.CheckBackupRetention, readiness.CheckPITR, readiness.CheckCacheSubnetGroup,
	readiness.CheckEFSCopyAge, readiness.CheckS3Replication, readiness.CheckSecrets, readiness.CheckSNSTopics,
	readiness.CheckDNSRecord,
}

// duePrimary are the checks of the kaigo system's primary region, in report order.
var duePrimary = []string{
	readiness.CheckPrimaryNetwork, readiness.CheckSecurityGroups, readiness.CheckLoadBalancer, readiness.CheckTargetGroup,
	readiness.CheckECSCluster, readiness.CheckDBParameterGroup, readiness.CheckDBSubnetGroup, readiness.CheckKMSKey,
	readiness.CheckBackupRetention, readiness.CheckPITR, readiness.CheckCacheReplicationGroup, readiness.CheckCacheSubnetGroup,
	readiness.CheckBackupVault, readiness.CheckS3Replication, readiness.CheckSecrets, readiness.CheckSNSTopics,
	readiness.CheckDNSRecord,
}

func names(checks []*kirikaev1.ReadinessCheck) []string {
	var out []string
	for _, c := range checks {
		out = append(out, c.GetName())
	}
	return out
}

// allOK fails the test for every check that is not OK, but those in except.
func allOK(t *testing.T, checks []*kirikaev1.ReadinessCheck, except ...string) {
	t.Helper()
	for _, ch := range checks {
		if ch.GetCheckedUnixNano() == 0 {
			t.Errorf("%s: no checked time", ch.GetName())
		}
		if !slices.Contains(except, ch.GetName()) && ch.GetStatus() != statusOK {
			t.Errorf("%s = %s, want OK%s", ch.GetName(), ch.GetStatus(), dump(checks))
		}
	}
}

// detailHas fails the test unless the named check has the status and every word in its
// detail.
func detailHas(t *testing.T, checks []*kirikaev1.ReadinessCheck, name string, status kirikaev1.ReadinessStatus, words ...string) {
	t.Helper()
	ch := byName(checks)[name]
	if ch == nil {
		t.Fatalf("no check %s%s", name, dump(checks))
	}
	if ch.GetStatus() != status {
		t.Errorf("%s = %s %q, want %s", name, ch.GetStatus(), ch.GetDetail(), status)
	}
	for _, w := range words {
		if !strings.Contains(ch.GetDetail(), w) {
			t.Errorf("%s detail %q does not name %q", name, ch.GetDetail(), w)
		}
	}
}

// TestKaigoSecondaryReportsOnlyTheRPOGap: from the kaigo system file, the secondary region
// of the kaigo fixture is ready but for the snapshot copy age, which the daily copy keeps
// over the file's 1 h RPO; every check names the file's resource.
func TestKaigoSecondaryReportsOnlyTheRPOGap(t *testing.T) {
	e := newSim(t)
	sys := kaigoSystem(t)
	c := e.checker(t, readiness.Config{Region: west})
	checks := c.Run(t.Context(), sys)
	t.Log(dump(checks))
	if got := names(checks); !slices.Equal(got, dueSecondary) {
		t.Fatalf("check order = %v, want %v", got, dueSecondary)
	}
	if got := c.Names(sys); !slices.Equal(got, dueSecondary) {
		t.Fatalf("Names = %v, want %v", got, dueSecondary)
	}
	allOK(t, checks, readiness.CheckSnapshotCopyAge)
	detailHas(t, checks, readiness.CheckSnapshotCopyAge, statusFail, "RPO 1h", "kaigo-subsys-prod", west)
	if d, err := time.ParseDuration(byName(checks)[readiness.CheckSnapshotCopyAge].GetObserved()); err != nil || d <= time.Hour {
		t.Fatalf("observed %v: want an age over 1h", err)
	}
	detailHas(t, checks, readiness.CheckNetwork, statusOK, "kaigo-subsys-dr-vpc")
	detailHas(t, checks, readiness.CheckSecurityGroups, statusOK, "kaigo-subsys-dr-alb-sg (alb)", "kaigo-subsys-dr-efs-sg (efs)")
	detailHas(t, checks, readiness.CheckLoadBalancer, statusOK, "kaigo-subsys-dr-alb")
	detailHas(t, checks, readiness.CheckTargetGroup, statusOK, "kaigo-subsys-dr (api)", "kaigo-subsys-dr-alb")
	detailHas(t, checks, readiness.CheckECSCluster, statusOK, "kaigo-subsys-dr", "kaigo-subsys-dr-service")
	detailHas(t, checks, readiness.CheckKMSKey, statusOK, "key/dr-key-id")
	detailHas(t, checks, readiness.CheckCacheSubnetGroup, statusOK, "kaigo-subsys-dr-cache-subnet-group")
	detailHas(t, checks, readiness.CheckEFSCopyAge, statusOK, "kaigo-subsys-dr-backup-vault")
	detailHas(t, checks, readiness.CheckS3Replication, statusOK, "kaigo-subsys-prod-backups", "kaigo-subsys-dr-backups")
	detailHas(t, checks, readiness.CheckSecrets, statusOK, "kaigo-subsys/dr/db-endpoint", "kaigo-subsys/dr/redis-endpoint")
	detailHas(t, checks, readiness.CheckSNSTopics, statusOK, "kaigo-subsys-dr-critical-alerts", "kaigo-subsys-dr-notifications")
	// The zone is found by its name: the file names no zone id, the report names the one found.
	detailHas(t, checks, readiness.CheckDNSRecord, statusOK, "api.kaigo-subsys.example.com.", "kaigo-subsys.example.com. ("+awssim.KaigoHostedZoneID+")")
	ready, reasons := readiness.Summarize(checks)
	if ready || len(reasons) != 1 || !strings.HasPrefix(reasons[0], readiness.CheckSnapshotCopyAge+": ") {
		t.Fatalf("Summarize = %v %q, want not ready because of the snapshot copy age", ready, reasons)
	}
	// Run again: same names, same grades (the runtime calls it periodically).
	again := c.Run(t.Context(), sys)
	for i := range again {
		if again[i].GetName() != checks[i].GetName() || again[i].GetStatus() != checks[i].GetStatus() {
			t.Fatalf("second run differs at %d:%s%s", i, dump(checks), dump(again))
		}
	}
}

// TestNoSystemAndForeignRegion: without a system the report is one FAIL check that says to
// apply one; a region outside the system's pair is one FAIL check naming the pair. Neither
// calls AWS.
func TestNoSystemAndForeignRegion(t *testing.T) {
	c, err := readiness.New(t.Context(), readiness.Config{Region: west, Clients: &readiness.Clients{}})
	if err != nil {
		t.Fatal(err)
	}
	checks := c.Run(t.Context(), nil)
	if len(checks) != 1 || checks[0].GetName() != readiness.CheckSystemStored || checks[0].GetStatus() != statusFail ||
		checks[0].GetDetail() != "no system file stored: run kirikae system apply FILE" {
		t.Fatalf("without a system:%s", dump(checks))
	}
	if ready, reasons := readiness.Summarize(checks); ready || reasons[0] != "system.stored: no system file stored: run kirikae system apply FILE" {
		t.Fatalf("Summarize = %v %q", ready, reasons)
	}
	other, err := readiness.New(t.Context(), readiness.Config{Region: "eu-west-1", Clients: &readiness.Clients{}})
	if err != nil {
		t.Fatal(err)
	}
	checks = other.Run(t.Context(), kaigoSystem(t))
	if len(checks) != 1 || checks[0].GetName() != readiness.CheckSystemRegion || checks[0].GetStatus() != statusFail {
		t.Fatalf("a region outside the pair:%s", dump(checks))
	}
	for _, w := range []string{"eu-west-1", "kaigo-subsys", east, west} {
		if !strings.Contains(checks[0].GetDetail(), w) {
			t.Errorf("system.region detail %q does not name %s", checks[0].GetDetail(), w)
		}
	}
}

// TestRenamedServiceFails: a system whose ECS service is named as no service in the
// cluster fails the ECS check, naming that service; the rest of the region stays OK.
func TestRenamedServiceFails(t *testing.T) {
	e := newSim(t)
	sys := kaigoSystem(t, replace(t, "name: kaigo-subsys-dr-service", "name: kaigo-subsys-dr-nosuch"))
	checks := e.checker(t, readiness.Config{Region: west}).Run(t.Context(), sys)
	t.Log(dump(checks))
	detailHas(t, checks, readiness.CheckECSCluster, statusFail, "kaigo-subsys-dr-nosuch (api)")
	allOK(t, checks, readiness.CheckECSCluster, readiness.CheckSnapshotCopyAge)
}

// TestSecondServiceIsChecked: every service of the file is checked, not only the first: a
// second service (with its own target group) that does not exist fails both checks by
// name, while the first is still reported.
func TestSecondServiceIsChecked(t *testing.T) {
	e := newSim(t)
	// Both regions must name the same logical services: admin goes into each.
	admin := func(region, env string) func(string) string {
		image := "            image: 123456789012.dkr.ecr." + region + ".amazonaws.com/kaigo-subsys:latest\n"
		return replace(t, image, image+"          admin:\n            name: kaigo-subsys-"+env+"-admin\n"+
			"            taskFamily: kaigo-subsys-"+env+"-admin\n            targetGroup: kaigo-subsys-"+env+"-admin\n"+
			"            desiredCount: 1\n")
	}
	sys := kaigoSystem(t, admin(east, "prod"), admin(west, "dr"))
	checks := e.checker(t, readiness.Config{Region: west}).Run(t.Context(), sys)
	t.Log(dump(checks))
	detailHas(t, checks, readiness.CheckECSCluster, statusFail, "no service kaigo-subsys-dr-admin (admin)")
	if o := byName(checks)[readiness.CheckECSCluster].GetObserved(); !strings.Contains(o, "kaigo-subsys-dr-service ACTIVE") {
		t.Errorf("ecs.cluster observed %q does not report the service that exists", o)
	}
	detailHas(t, checks, readiness.CheckTargetGroup, statusFail, "target group kaigo-subsys-dr-admin of service admin does not exist")
	if o := byName(checks)[readiness.CheckTargetGroup].GetObserved(); o != "1/2 attached" {
		t.Errorf("target groups observed %q, want 1/2 attached", o)
	}
}

// TestNoCacheNoCacheCheck: a system without a cache has no cache check in either region.
func TestNoCacheNoCacheCheck(t *testing.T) {
	e := newSim(t)
	sys := kaigoSystem(t, withoutCache(t))
	for _, region := range []string{east, west} {
		checks := e.checker(t, readiness.Config{Region: region}).Run(t.Context(), sys)
		for _, ch := range checks {
			if strings.HasPrefix(ch.GetName(), "elasticache.") {
				t.Errorf("%s: cache check %s in a system without a cache", region, ch.GetName())
			}
		}
		if len(checks) == 0 {
			t.Fatalf("%s: no checks", region)
		}
	}
	if n := len(kaigoSystem(t).RegionOf(west).Network.SecurityGroups); n != len(sys.RegionOf(west).Network.SecurityGroups) {
		t.Fatalf("the edit dropped more than the cache")
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

// TestFreshCopyMakesTheDRRegionReady: from the kaigo system file, a snapshot of the production instance taken now and
// copied to us-west-2, as an hourly copy job would, closes the RPO gap until it is itself
// older than the RPO. AWS time moves by hand, so the copy's progress does not depend on the
// machine's speed.
func TestFreshCopyMakesTheDRRegionReady(t *testing.T) {
	clock := &manualClock{t: time.Now().UTC()}
	e := newSimWith(t, awssim.Options{Now: clock.Now})
	ctx := t.Context()
	eastRDS, westRDS := rdsClient(t, e, east), rdsClient(t, e, west)
	c := e.checker(t, readiness.Config{Region: west})
	sys := kaigoSystem(t)

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
	rpo := byName(c.Run(ctx, sys))[readiness.CheckSnapshotCopyAge]
	if rpo.GetStatus() != statusFail || !strings.Contains(rpo.GetDetail(), "in progress") {
		t.Fatalf("snapshot copy age while copying = %s %q, want FAIL with a copy in progress", rpo.GetStatus(), rpo.GetDetail())
	}

	clock.Advance(awssim.DefaultDurations()[awssim.OpCopyDBSnapshot])
	waitSnapshot(ctx, t, westRDS, snap)
	checks := c.Run(ctx, sys)
	t.Log(dump(checks))
	allOK(t, checks)
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
	rpo = byName(c.Run(ctx, sys))[readiness.CheckSnapshotCopyAge]
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
	checks := c.Run(t.Context(), kaigoSystem(t))
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
	ch := byName(c.Run(t.Context(), kaigoSystem(t)))[readiness.CheckNetwork]
	if ch.GetStatus() != statusFail || !strings.Contains(ch.GetDetail(), "no answer within 200ms") {
		t.Fatalf("network = %s %q, want FAIL with the timeout", ch.GetStatus(), ch.GetDetail())
	}
}

// TestKaigoPrimary: from the kaigo system file the primary region is ready: its resources
// exist, it keeps 30 days of backups with PITR within the file's RPO, and the hosted zone
// is found by its name.
func TestKaigoPrimary(t *testing.T) {
	e := newSim(t)
	sys := kaigoSystem(t)
	c := e.checker(t, readiness.Config{Region: east})
	checks := c.Run(t.Context(), sys)
	t.Log(dump(checks))
	if got := names(checks); !slices.Equal(got, duePrimary) {
		t.Fatalf("checks = %v, want %v", got, duePrimary)
	}
	allOK(t, checks)
	for _, ch := range checks {
		if ch.GetObserved() == "skipped" {
			t.Errorf("%s skipped in the primary", ch.GetName())
		}
	}
	if got := byName(checks)[readiness.CheckBackupRetention].GetObserved(); got != "30 days" {
		t.Errorf("retention observed %q, want 30 days", got)
	}
	detailHas(t, checks, readiness.CheckPrimaryNetwork, statusOK, "kaigo-subsys-prod-vpc")
	detailHas(t, checks, readiness.CheckECSCluster, statusOK, "kaigo-subsys-prod-service ACTIVE desired 2 running 2")
	detailHas(t, checks, readiness.CheckCacheReplicationGroup, statusOK, "kaigo-subsys-prod")
	detailHas(t, checks, readiness.CheckKMSKey, statusOK, "key/prod-key-id")
	detailHas(t, checks, readiness.CheckSNSTopics, statusOK, "kaigo-subsys-prod-critical-alerts")
	detailHas(t, checks, readiness.CheckDNSRecord, statusOK, "kaigo-subsys.example.com. ("+awssim.KaigoHostedZoneID+")")

	// Demanding more than the instance keeps fails, naming both numbers.
	strict := e.checker(t, readiness.Config{Region: east, Retention: 35 * 24 * time.Hour})
	detailHas(t, strict.Run(t.Context(), sys), readiness.CheckBackupRetention, statusFail, "30 days < 35")
}

// TestWrongNamesFail: a system whose resources do not exist fails every check, naming
// the resource, and blames no network for it.
func TestWrongNamesFail(t *testing.T) {
	e := newSim(t)
	sys := kaigoSystem(t,
		replace(t, "kaigo-subsys-dr", "nope-dr"),
		replace(t, "kaigo-subsys/dr/redis-endpoint", "nope/dr/redis"),
		replace(t, "parameterGroup: kaigo-subsys-postgres15", "parameterGroup: nope-postgres15"),
		replace(t, "key/dr-key-id", "key/nope-key-id"),
		replace(t, "kaigo-subsys.example.com", "nope.example.com"))
	checks := e.checker(t, readiness.Config{Region: west}).Run(t.Context(), sys)
	t.Log(dump(checks))
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
	detailHas(t, checks, readiness.CheckNetwork, statusFail, "Name=nope-dr-vpc")
	detailHas(t, checks, readiness.CheckLoadBalancer, statusFail, "nope-dr-alb")
	detailHas(t, checks, readiness.CheckECSCluster, statusFail, "nope-dr")
	detailHas(t, checks, readiness.CheckKMSKey, statusFail, "key/nope-key-id")
	detailHas(t, checks, readiness.CheckCacheSubnetGroup, statusFail, "nope-dr-cache-subnet-group")
	detailHas(t, checks, readiness.CheckEFSCopyAge, statusFail, "nope-dr-backup-vault")
	detailHas(t, checks, readiness.CheckS3Replication, statusFail, "nope-dr-backups")
	detailHas(t, checks, readiness.CheckSecrets, statusFail, "missing: nope/dr/redis (cache)")
	detailHas(t, checks, readiness.CheckSNSTopics, statusFail, "nope-dr-critical-alerts (alerts)", "nope-dr-notifications (notifications)")
	detailHas(t, checks, readiness.CheckDNSRecord, statusFail, "no public hosted zone named nope.example.com.")
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
		{readiness.Config{Region: west, Retention: -time.Hour}, "Retention"},
		{readiness.Config{Region: west, MinSubnets: -1}, "MinSubnets"},
	} {
		_, err := readiness.New(t.Context(), tc.cfg)
		if !errors.Is(err, readiness.ErrConfig) || !strings.Contains(err.Error(), "field "+tc.field) {
			t.Errorf("New(%+v) = %v, want ErrConfig naming field %s", tc.cfg, err, tc.field)
		}
	}
	checks := readiness.Checks(readiness.Config{})(t.Context(), kaigoSystem(t))
	if len(checks) != 1 || checks[0].GetName() != readiness.CheckConfig || checks[0].GetStatus() != statusFail ||
		!strings.Contains(checks[0].GetDetail(), "field Region") {
		t.Fatalf("Checks(bad config) = %s", dump(checks))
	}
}

// TestPrimaryDownFromDR: with us-east-1 down, the secondary region's own checks still answer;
// only S3 replication, asked in the bucket's region, fails, naming that region.
func TestPrimaryDownFromDR(t *testing.T) {
	e := newSim(t)
	if err := e.sim.SetRegionDown(east, awssim.DownRefuse); err != nil {
		t.Fatal(err)
	}
	checks := e.checker(t, readiness.Config{Region: west}).Run(t.Context(), kaigoSystem(t))
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

// TestAnySystemAnyPair: readiness follows whatever system it is given. A world built from
// the bundled example (a ledger in eu-west-1 and eu-central-1, another account, two ECS
// services each behind its own target group, no cache) is checked by the same code, in
// both regions, with no cache check and both services named.
func TestAnySystemAnyPair(t *testing.T) {
	src, err := deploy.System("example-eu.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sys, err := system.Parse("example-eu.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := awssim.New(awssim.Options{System: sys, TimeScale: 0.0001,
		Credentials: []awssim.Credential{{AccessKeyID: "AKIAKIRIKAETEST", SecretAccessKey: "secret"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		_ = sim.Close()
		srv.Close()
	})
	e := &simEnv{sim: sim, endpoint: srv.URL}
	for _, region := range []string{"eu-west-1", "eu-central-1"} {
		t.Run(region, func(t *testing.T) {
			checks := e.checker(t, readiness.Config{Region: region}).Run(t.Context(), sys)
			t.Log(dump(checks))
			for _, ch := range checks {
				if strings.HasPrefix(ch.GetName(), "elasticache.") {
					t.Errorf("cache check %s in a system without a cache", ch.GetName())
				}
			}
			allOK(t, checks, readiness.CheckSnapshotCopyAge)
			detailHas(t, checks, readiness.CheckECSCluster, statusOK, "ledger-api ACTIVE", "ledger-admin ACTIVE")
			detailHas(t, checks, readiness.CheckTargetGroup, statusOK, "(api)", "(admin)")
			detailHas(t, checks, readiness.CheckDNSRecord, statusOK, "ledger.example.org.")
		})
	}
}
