package agent_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/agent"
	"github.com/kirikae/kirikae/awssim"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// simTestCreds is the key pair the tests' simulators issue; the environment signs with it.
var simTestCreds = []awssim.Credential{{AccessKeyID: "AKIASIMTEST", SecretAccessKey: "secret"}}

// TestRegionDownInAWSSim runs the default AWS health probe against awssim: taking one region
// down makes its agent unhealthy within three heartbeats, with the cause named, while the
// agent of the other region stays healthy.
func TestRegionDownInAWSSim(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIASIMTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	for _, mode := range []string{awssim.DownRefuse, awssim.DownHang} {
		t.Run(mode, func(t *testing.T) {
			sim, err := awssim.New(awssim.Options{Fixture: "kaigo", Credentials: simTestCreds})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(sim.Handler())
			t.Cleanup(func() {
				_ = sim.Close()
				srv.Close()
			})

			cps := map[string]*fakeCP{}
			for _, r := range awssim.Regions() {
				cp := newFakeCP(t, 1, heartbeatMs(0)) // the agent's own interval
				cps[r] = cp
				cfg := testConfig(t, t.TempDir(), newExecutors().registry(), cp)
				cfg.Region, cfg.ID = r, r+"/test"
				cfg.HealthProbe = nil // the real one, over the SDK
				cfg.AWSEndpoint = srv.URL
				cfg.HeartbeatInterval = time.Second // the default, which the acceptance is about
				start(t, cfg)
			}
			east, west := cps["us-east-1"], cps["us-west-2"]
			for r, cp := range cps {
				waitFor(t, r+" healthy", func() bool { return cp.lastHeartbeat().GetHealthy() })
			}

			if err := sim.SetRegionDown("us-east-1", mode); err != nil {
				t.Fatal(err)
			}
			before, westBefore := east.heartbeatCount(), west.heartbeatCount()
			var sick *kirikaev1.AgentHealth
			waitFor(t, "us-east-1 unhealthy", func() bool {
				east.mu.Lock()
				defer east.mu.Unlock()
				for i, hb := range east.heartbeats[before:] {
					if !hb.GetHealthy() {
						sick = hb
						if i >= 3 {
							t.Errorf("unhealthy only in heartbeat %d after the region went down", i+1)
						}
						return true
					}
				}
				return false
			})
			if sick.GetCredentialsOk() || sick.GetApiReachable() || !strings.Contains(sick.GetCause(), "sts GetCallerIdentity: ") ||
				!strings.Contains(sick.GetCause(), "us-east-1 API unreachable: ec2 DescribeVpcs: ") {
				t.Fatalf("unhealthy heartbeat %v", sick)
			}
			t.Logf("cause: %s", sick.GetCause())
			west.mu.Lock()
			defer west.mu.Unlock()
			for _, hb := range west.heartbeats[westBefore:] {
				if !hb.GetHealthy() {
					t.Fatalf("us-west-2 turned unhealthy: %v", hb)
				}
			}
		})
	}
}

// The probe counts open AWS Health events without turning unhealthy.
func TestAWSProbeCountsHealthEvents(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIASIMTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	sim, err := awssim.New(awssim.Options{Fixture: "kaigo-outage", Credentials: simTestCreds})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		_ = sim.Close()
		srv.Close()
	})
	probe, err := agent.NewAWSHealthProbe(context.Background(), "us-east-1", srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := probe(ctx)
	if !h.Healthy() || h.OpenHealthEvents != 1 || h.Cause != "" {
		t.Fatalf("probe %+v", h)
	}
}

// With no Registry, the agent offers every AWS action of the catalog and the built-in ones,
// and runs them against the endpoint it was given.
func TestDefaultRegistry(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIASIMTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	sim, err := awssim.New(awssim.Options{Fixture: "kaigo-outage", Credentials: simTestCreds})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		_ = sim.Close()
		srv.Close()
	})
	cp := newFakeCP(t, 1)
	cfg := testConfig(t, t.TempDir(), nil, cp)
	cfg.Region, cfg.ID = "us-east-1", "us-east-1/test"
	cfg.AWSEndpoint = srv.URL
	cfg.WaiterDelay = time.Millisecond
	start(t, cfg)
	waitFor(t, "registration", func() bool { return len(cp.registrations()) > 0 })
	actions := cp.registrations()[0].GetActions()
	for _, want := range []string{"aws.health.events", "aws.rds.restoreSnapshot", "aws.route53.upsertAlias", "http.check", "notify"} {
		if !slices.Contains(actions, want) {
			t.Errorf("actions %v lack %s", actions, want)
		}
	}
	cp.assign(t, assignment("run", "events", 1, 1, "aws.health.events", `{"region":"us-east-1"}`))
	r := cp.waitResult(t, "run", "events", 1)
	t.Logf("aws.health.events: ok=%v error=%q outputs=%s", r.GetOk(), r.GetError(), r.GetOutputsJson())
	if !r.GetOk() || !strings.Contains(r.GetOutputsJson(), "AWS_EC2_OPERATIONAL_ISSUE") {
		t.Fatalf("result %v", r)
	}
}
