package readiness_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	backuptypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"

	"github.com/kirikae/kirikae/agent/readiness"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/system"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return t0 }

// fakeBackup lists its points, or fails with err.
type fakeBackup struct {
	points []backuptypes.RecoveryPointByBackupVault
	err    error
}

func (f *fakeBackup) ListRecoveryPointsByBackupVault(context.Context, *backup.ListRecoveryPointsByBackupVaultInput, ...func(*backup.Options)) (*backup.ListRecoveryPointsByBackupVaultOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &backup.ListRecoveryPointsByBackupVaultOutput{RecoveryPoints: f.points}, nil
}

func point(age time.Duration, status backuptypes.RecoveryPointStatus) backuptypes.RecoveryPointByBackupVault {
	return backuptypes.RecoveryPointByBackupVault{CreationDate: aws.Time(t0.Add(-age)), Status: status,
		RecoveryPointArn: aws.String("arn:aws:backup:us-west-2:123456789012:recovery-point:x"), ResourceType: aws.String("EFS")}
}

func runOne(t *testing.T, cfg readiness.Config, sys *system.System, name string) *kirikaev1.ReadinessCheck {
	t.Helper()
	if cfg.Region == "" {
		cfg.Region = west
	}
	cfg.Clock = fixedClock
	c, err := readiness.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ch := byName(c.Run(t.Context(), sys))[name]
	if ch == nil {
		t.Fatalf("no check %s in %v", name, c.Names(sys))
	}
	if ch.GetCheckedUnixNano() != t0.UnixNano() {
		t.Errorf("%s checked at %d, want the clock's %d", name, ch.GetCheckedUnixNano(), t0.UnixNano())
	}
	return ch
}

func TestEFSCopyAgeGrades(t *testing.T) {
	notFound := &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "Backup vault x does not exist."}
	for _, tc := range []struct {
		name   string
		b      *fakeBackup
		status kirikaev1.ReadinessStatus
		detail string
	}{
		{"fresh", &fakeBackup{points: []backuptypes.RecoveryPointByBackupVault{point(30*time.Minute, "COMPLETED")}}, statusOK, "30m old <= 26h"},
		{"daily", &fakeBackup{points: []backuptypes.RecoveryPointByBackupVault{
			point(49*time.Hour, "COMPLETED"), point(25*time.Hour, "COMPLETED"), point(time.Minute, "PARTIAL")}}, statusOK, "over RPO 1h"},
		{"missed", &fakeBackup{points: []backuptypes.RecoveryPointByBackupVault{point(27*time.Hour, "COMPLETED")}}, statusFail, "27h old > 26h"},
		{"none", &fakeBackup{}, statusFail, "no completed EFS recovery point"},
		{"no vault", &fakeBackup{err: notFound}, statusFail, "does not exist"},
		{"api error", &fakeBackup{err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "nope"}}, statusFail, "AccessDeniedException: nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := runOne(t, readiness.Config{Clients: &readiness.Clients{Backup: tc.b}}, kaigoSystem(t), readiness.CheckEFSCopyAge)
			if ch.GetStatus() != tc.status || !strings.Contains(ch.GetDetail(), tc.detail) {
				t.Fatalf("= %s %q, want %s containing %q", ch.GetStatus(), ch.GetDetail(), tc.status, tc.detail)
			}
		})
	}
}

// fakeRDS answers DescribeDBSnapshots and DescribeDBInstances; anything else panics.
type fakeRDS struct {
	readiness.RDSAPI
	snaps []rdstypes.DBSnapshot
	inst  rdstypes.DBInstance
}

func (f *fakeRDS) DescribeDBSnapshots(context.Context, *rds.DescribeDBSnapshotsInput, ...func(*rds.Options)) (*rds.DescribeDBSnapshotsOutput, error) {
	return &rds.DescribeDBSnapshotsOutput{DBSnapshots: f.snaps}, nil
}

func (f *fakeRDS) DescribeDBInstances(context.Context, *rds.DescribeDBInstancesInput, ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error) {
	return &rds.DescribeDBInstancesOutput{DBInstances: []rdstypes.DBInstance{f.inst}}, nil
}

func TestSnapshotCopyAgeUsesTheDataTime(t *testing.T) {
	// Real RDS gives a copy its own SnapshotCreateTime; the data is as old as the original.
	copyOf := func(id string, taken, copied time.Duration, status string) rdstypes.DBSnapshot {
		return rdstypes.DBSnapshot{DBSnapshotIdentifier: aws.String(id), Status: aws.String(status),
			SnapshotCreateTime: aws.Time(t0.Add(-copied)), OriginalSnapshotCreateTime: aws.Time(t0.Add(-taken)),
			SourceRegion: aws.String(east)}
	}
	f := &fakeRDS{snaps: []rdstypes.DBSnapshot{
		copyOf("old", 26*time.Hour, 25*time.Hour, "available"),
		copyOf("recopied", 3*time.Hour, 10*time.Minute, "available"),
		copyOf("copying", 20*time.Minute, time.Minute, "pending"),
		// A local snapshot is no cross-region copy, however fresh.
		{DBSnapshotIdentifier: aws.String("local"), Status: aws.String("available"), SnapshotCreateTime: aws.Time(t0), SourceRegion: aws.String(west)},
	}}
	ch := runOne(t, readiness.Config{Clients: &readiness.Clients{RDS: f}}, kaigoSystem(t), readiness.CheckSnapshotCopyAge)
	if ch.GetStatus() != statusFail || ch.GetObserved() != "3h0m0s" || !strings.Contains(ch.GetDetail(), "(recopied)") ||
		!strings.Contains(ch.GetDetail(), "in progress") {
		t.Fatalf("= %s %q %q", ch.GetStatus(), ch.GetObserved(), ch.GetDetail())
	}
	// The system file's RPO draws the line.
	ch = runOne(t, readiness.Config{Clients: &readiness.Clients{RDS: f}}, kaigoSystem(t, replace(t, "rpo: 1h", "rpo: 4h")), readiness.CheckSnapshotCopyAge)
	if ch.GetStatus() != statusOK || !strings.Contains(ch.GetDetail(), "3h old <= RPO 4h") {
		t.Fatalf("RPO 4h: = %s %q", ch.GetStatus(), ch.GetDetail())
	}
}

func TestPITRGrades(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inst   rdstypes.DBInstance
		status kirikaev1.ReadinessStatus
		detail string
	}{
		{"on", rdstypes.DBInstance{BackupRetentionPeriod: aws.Int32(30), LatestRestorableTime: aws.Time(t0.Add(-5 * time.Minute))}, statusOK, "lags 5m"},
		{"off", rdstypes.DBInstance{BackupRetentionPeriod: aws.Int32(0)}, statusFail, "PITR is disabled"},
		{"lagging", rdstypes.DBInstance{BackupRetentionPeriod: aws.Int32(30), LatestRestorableTime: aws.Time(t0.Add(-2 * time.Hour))}, statusFail, "lags 2h > RPO 1h"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := runOne(t, readiness.Config{Region: east, Clients: &readiness.Clients{RDS: &fakeRDS{inst: tc.inst}}}, kaigoSystem(t), readiness.CheckPITR)
			if ch.GetStatus() != tc.status || !strings.Contains(ch.GetDetail(), tc.detail) {
				t.Fatalf("= %s %q, want %s containing %q", ch.GetStatus(), ch.GetDetail(), tc.status, tc.detail)
			}
		})
	}
}

// panicEC2 panics on every call, as a nil embedded interface does.
type panicEC2 struct{ readiness.EC2API }

// stuckELB ignores its context until the test ends.
type stuckELB struct {
	readiness.ELBAPI
	release chan struct{}
}

func (s *stuckELB) DescribeLoadBalancers(context.Context, *elbv2.DescribeLoadBalancersInput, ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error) {
	<-s.release
	return nil, context.Canceled
}

func (s *stuckELB) DescribeTargetGroups(context.Context, *elbv2.DescribeTargetGroupsInput, ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error) {
	return &elbv2.DescribeTargetGroupsOutput{TargetGroups: []elbtypes.TargetGroup{{
		TargetGroupArn:   aws.String("arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/kaigo-subsys-dr/1"),
		LoadBalancerArns: []string{"arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/other-alb/1"},
	}}}, nil
}

// TestBrokenClientsFailTheirCheckOnly: a panicking client, a client that ignores its
// context and a missing client each fail their own check; the report still comes back
// whole and in order.
func TestBrokenClientsFailTheirCheckOnly(t *testing.T) {
	elb := &stuckELB{release: make(chan struct{})}
	t.Cleanup(func() { close(elb.release) })
	c, err := readiness.New(t.Context(), readiness.Config{Region: west, Clock: fixedClock, CheckTimeout: 50 * time.Millisecond,
		Clients: &readiness.Clients{EC2: panicEC2{}, ELB: elb}})
	if err != nil {
		t.Fatal(err)
	}
	checks := c.Run(t.Context(), kaigoSystem(t))
	if got := names(checks); strings.Join(got, ",") != strings.Join(dueSecondary, ",") {
		t.Fatalf("order = %v", got)
	}
	m := byName(checks)
	for name, want := range map[string]string{
		readiness.CheckNetwork:      "panicked",
		readiness.CheckLoadBalancer: "no answer within 50ms",
		readiness.CheckTargetGroup:  "not attached to load balancer kaigo-subsys-dr-alb",
		readiness.CheckECSCluster:   "no ECS client",
		readiness.CheckSecrets:      "no Secrets Manager client",
		readiness.CheckKMSKey:       "no KMS client",
		readiness.CheckSNSTopics:    "no SNS client",
	} {
		if ch := m[name]; ch.GetStatus() != statusFail || !strings.Contains(ch.GetDetail(), want) {
			t.Errorf("%s = %s %q, want FAIL containing %q", name, ch.GetStatus(), ch.GetDetail(), want)
		}
	}
	// The checks that do not need a client still pass.
	if ch := m[readiness.CheckPITR]; ch.GetStatus() != statusOK {
		t.Errorf("pitr in the DR role = %s %q", ch.GetStatus(), ch.GetDetail())
	}
}

// TestRunHonoursCancel: a run whose context is cancelled comes back at once, every check
// failed.
func TestRunHonoursCancel(t *testing.T) {
	elb := &stuckELB{release: make(chan struct{})}
	t.Cleanup(func() { close(elb.release) })
	c, err := readiness.New(t.Context(), readiness.Config{Region: west, Clock: fixedClock, CheckTimeout: time.Hour,
		Clients: &readiness.Clients{ELB: elb}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ch := byName(c.Run(ctx, kaigoSystem(t)))[readiness.CheckLoadBalancer]
	if ch.GetStatus() != statusFail || !strings.Contains(ch.GetDetail(), "canceled") {
		t.Fatalf("= %s %q", ch.GetStatus(), ch.GetDetail())
	}
}

func TestSummarize(t *testing.T) {
	mk := func(name string, st kirikaev1.ReadinessStatus, detail string) *kirikaev1.ReadinessCheck {
		return &kirikaev1.ReadinessCheck{Name: name, Status: st, Detail: detail}
	}
	ready, reasons := readiness.Summarize([]*kirikaev1.ReadinessCheck{
		mk("a", statusOK, "fine"), mk("b", statusWarn, "meh"),
	})
	if !ready || len(reasons) != 1 || reasons[0] != "warning: b: meh" {
		t.Fatalf("warn: %v %q", ready, reasons)
	}
	ready, reasons = readiness.Summarize([]*kirikaev1.ReadinessCheck{
		mk("a", statusFail, "broken"), mk("b", statusWarn, "meh"), mk("c", statusOK, "fine"),
	})
	if ready || len(reasons) != 2 || reasons[0] != "a: broken" || reasons[1] != "warning: b: meh" {
		t.Fatalf("fail: %v %q", ready, reasons)
	}
	if ready, reasons = readiness.Summarize(nil); ready || len(reasons) != 1 {
		t.Fatalf("none: %v %q", ready, reasons)
	}
}

// Compile-time: the SDK clients satisfy the interfaces.
var (
	_ readiness.EC2API    = (*ec2.Client)(nil)
	_ readiness.ELBAPI    = (*elbv2.Client)(nil)
	_ readiness.RDSAPI    = (*rds.Client)(nil)
	_ readiness.BackupAPI = (*backup.Client)(nil)
)

// fakeNetwork is a DR VPC with two subnets in two zones, its default security group and a
// group of the system's, and the given route tables.
type fakeNetwork struct {
	readiness.EC2API
	tables []ec2types.RouteTable
}

func (f *fakeNetwork) DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	return &ec2.DescribeVpcsOutput{Vpcs: []ec2types.Vpc{{VpcId: aws.String("vpc-1"), CidrBlock: aws.String("10.20.0.0/16")}}}, nil
}

func (f *fakeNetwork) DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	return &ec2.DescribeSubnetsOutput{Subnets: []ec2types.Subnet{
		{SubnetId: aws.String("subnet-1"), AvailabilityZone: aws.String("us-west-2a")},
		{SubnetId: aws.String("subnet-2"), AvailabilityZone: aws.String("us-west-2c")}}}, nil
}

func (f *fakeNetwork) DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	return &ec2.DescribeSecurityGroupsOutput{SecurityGroups: []ec2types.SecurityGroup{
		{GroupId: aws.String("sg-0"), GroupName: aws.String("default")},
		{GroupId: aws.String("sg-1"), GroupName: aws.String("kaigo-subsys-dr-alb-sg")}}}, nil
}

func (f *fakeNetwork) DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	return &ec2.DescribeRouteTablesOutput{RouteTables: f.tables}, nil
}

func routeTable(id string, main bool, subnets []string, targets ...string) ec2types.RouteTable {
	rt := ec2types.RouteTable{RouteTableId: aws.String(id), VpcId: aws.String("vpc-1"),
		Routes: []ec2types.Route{{DestinationCidrBlock: aws.String("10.20.0.0/16"), GatewayId: aws.String("local")}}}
	for _, t := range targets {
		rt.Routes = append(rt.Routes, ec2types.Route{DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(t)})
	}
	if main {
		rt.Associations = append(rt.Associations, ec2types.RouteTableAssociation{Main: aws.Bool(true), RouteTableId: aws.String(id)})
	}
	for _, s := range subnets {
		rt.Associations = append(rt.Associations, ec2types.RouteTableAssociation{Main: aws.Bool(false), RouteTableId: aws.String(id), SubnetId: aws.String(s)})
	}
	return rt
}

// TestNetworkIgnoresTheBareMainRouteTable: every VPC has a main route table with only the
// local route from its creation, as it has a default security group, so neither shows that
// the DR network was built; a table of the system's, or a main table given routes, does.
func TestNetworkIgnoresTheBareMainRouteTable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tables []ec2types.RouteTable
		status kirikaev1.ReadinessStatus
		detail string
	}{
		{"only the main table AWS made", []ec2types.RouteTable{routeTable("rtb-main", true, nil)}, statusFail,
			"no route table besides the main one"},
		{"the main table and the system's", []ec2types.RouteTable{routeTable("rtb-main", true, nil),
			routeTable("rtb-private", false, []string{"subnet-1", "subnet-2"}, "nat-1")}, statusOK, "1 security groups and 1 route tables"},
		{"a main table given a route", []ec2types.RouteTable{routeTable("rtb-main", true, nil, "igw-1")}, statusOK, "1 route tables"},
		{"a table of the system's with only the local route", []ec2types.RouteTable{routeTable("rtb-main", true, nil),
			routeTable("rtb-isolated", false, []string{"subnet-1"})}, statusOK, "1 route tables"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := runOne(t, readiness.Config{Clients: &readiness.Clients{EC2: &fakeNetwork{tables: tc.tables}}}, kaigoSystem(t), readiness.CheckNetwork)
			if ch.GetStatus() != tc.status || !strings.Contains(ch.GetDetail(), tc.detail) {
				t.Fatalf("= %s %q, want %s containing %q", ch.GetStatus(), ch.GetDetail(), tc.status, tc.detail)
			}
		})
	}
}
