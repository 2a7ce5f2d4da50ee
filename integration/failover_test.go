package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/kirikae/kirikae/integration"
)

const drRoles = `operators:
  admin: [admin]
  sam: [sysadmin, operator]
  mia: [manager]
  eve: [executive]
  vic: [viewer]
`

// runJSON is the part of a run the tests read.
type runJSON struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Error  string `json:"error"`
	Steps  []struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		Attempt int    `json:"attempt"`
		Error   string `json:"error"`
		AgentID string `json:"agent_id"`
		Spec    struct {
			Action string   `json:"action"`
			Roles  []string `json:"roles"`
		} `json:"spec"`
	} `json:"steps"`
}

type drWorld struct {
	t       *testing.T
	c       *integration.Cluster
	sim     *integration.Sim
	east    *integration.Proc
	west    *integration.Proc
	params  []string
	planDir string
}

func newDRWorld(t *testing.T, scale float64) *drWorld {
	sim := integration.StartSim(t, scale)
	c := integration.NewCluster(t, 3, integration.Options{Operators: []string{"sam", "mia", "eve", "vic"}, Roles: drRoles})
	c.MustCLI("operator-admin", c.Addrs(), "region", "init", "--primary", "us-east-1", "--secondary", "us-west-2")
	c.MustCLI("operator-admin", c.Addrs(), "system", "apply", filepath.Join(repoRoot(t), "deploy", "systems", "kaigo.yaml"))
	w := &drWorld{t: t, c: c, sim: sim, planDir: filepath.Join(repoRoot(t), "deploy", "plans")}
	w.west = c.StartAgent("us-west-2", sim)
	w.east = c.StartAgent("us-east-1", sim)
	app := sim.URL + "/_app/dns/api.kaigo-subsys.example.com"
	// Only the app's URL on the sim and the data-loss decision: the plan finds everything
	// else by the names in the stored system file.
	w.params = []string{"--set", "APP_URL=" + app, "--set", "ALLOW_DATA_LOSS=true"}
	w.waitAgent("us-west-2")
	return w
}

func (w *drWorld) waitAgent(region string) {
	integration.WaitFor(w.t, 60*time.Second, "a connected, healthy agent in "+region, func() bool {
		var resp struct {
			Agents []struct {
				Info      struct{ Region string } `json:"info"`
				Connected bool                    `json:"connected"`
				Health    struct{ Healthy bool }  `json:"health"`
			} `json:"agents"`
		}
		if err := w.c.CLIJSON("operator-vic", &resp, "agents"); err != nil {
			return false
		}
		for _, a := range resp.Agents {
			if a.Info.Region == region && a.Connected && a.Health.Healthy {
				return true
			}
		}
		return false
	})
}

func (w *drWorld) run(id string) runJSON {
	var r runJSON
	if err := w.c.CLIJSON("operator-vic", &r, "run", "show", id); err != nil {
		w.t.Fatal(err)
	}
	return r
}

// drive plays the operators until the run ends: sam confirms checklists, and each approval
// role is given by the person holding it.
func (w *drWorld) drive(id string, timeout time.Duration, each func(r runJSON)) runJSON {
	acted := map[string]bool{}
	var r runJSON
	integration.WaitFor(w.t, timeout, "run "+id+" to end", func() bool {
		r = w.run(id)
		if each != nil {
			each(r)
		}
		for _, st := range r.Steps {
			w.operate(id, st.ID, st.Status, st.Spec.Action, st.Spec.Roles, acted)
		}
		return r.Status != "running"
	})
	return r
}

// operate does, once, what a waiting checklist or approval step asks of people: sam
// confirms a checklist, and each approval role is given by the person who holds it.
func (w *drWorld) operate(id, step, status, action string, roles []string, acted map[string]bool) {
	w.t.Helper()
	if status != "waiting" || acted[step] {
		return
	}
	acted[step] = true
	people := map[string]string{"sysadmin": "sam", "manager": "mia", "executive": "eve"}
	switch action {
	case "checklist":
		w.c.MustCLI("operator-sam", w.c.Addrs(), "run", "confirm", id, step)
	case "approval":
		for _, role := range roles {
			w.c.MustCLI("operator-"+people[role], w.c.Addrs(), "run", "approve", id, step, "--role", role)
		}
	}
}

func (w *drWorld) declare() string {
	args := append([]string{"declare", "--plan", filepath.Join(w.planDir, "kaigo-failover.yaml"), "--scenario", "region-outage",
		"--expected-outage", "6h", "--reason", "integration test"}, w.params...)
	var r runJSON
	if err := w.c.CLIJSON("operator-sam", &r, args...); err != nil {
		w.t.Fatal(err)
	}
	return r.ID
}

func (w *drWorld) awsConfig(region string) aws.Config {
	return aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "test", ""),
		BaseEndpoint: aws.String(w.sim.URL)}
}

func (w *drWorld) regionState() regionJSON {
	return decodeRegion(w.t, w.c.MustCLI("operator-vic", w.c.Addrs(), "region", "get", "-o", "json"))
}

// duplicates lists creates that happened more than once for the same resource.
func duplicates(entries []integration.JournalEntry) []string {
	creates := map[string]int{}
	for _, e := range entries {
		switch e.Operation {
		case "RestoreDBInstanceFromDBSnapshot", "CreateReplicationGroup", "StartRestoreJob", "CreateDBSnapshot", "CopyDBSnapshot", "DeleteDBInstance":
			creates[e.Region+"/"+e.Operation+"/"+e.Resource]++
		}
	}
	var out []string
	for k, n := range creates {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s x%d", k, n))
		}
	}
	return out
}

func TestFailoverWithPrimaryRegionGone(t *testing.T) {
	w := newDRWorld(t, 0.002)
	// us-east-1 is gone: the simulator refuses it, and its agent is killed.
	if err := w.sim.Control("region-down", map[string]string{"region": "us-east-1", "mode": "refuse"}); err != nil {
		t.Fatal(err)
	}
	w.east.Kill()

	id := w.declare()
	r := w.drive(id, 4*time.Minute, nil)
	if r.Status != "succeeded" {
		t.Fatalf("run %s ended %s: %s", id, r.Status, r.Error)
	}
	for _, st := range r.Steps {
		if st.AgentID != "" && !strings.HasPrefix(st.AgentID, "us-west-2") {
			t.Errorf("step %s ran on %s", st.ID, st.AgentID)
		}
	}
	got := w.regionState()
	if got.State.Active != "us-west-2" || got.State.Epoch != 2 || got.State.Mode != "failed-over" {
		t.Fatalf("after failover: %+v", got.State)
	}

	ctx := context.Background()
	r53 := route53.NewFromConfig(w.awsConfig("us-west-2"))
	rrs, err := r53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("Z1234567890ABC")})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rr := range rrs.ResourceRecordSets {
		if aws.ToString(rr.Name) == "api.kaigo-subsys.example.com." && rr.AliasTarget != nil {
			found = true
			if !strings.Contains(aws.ToString(rr.AliasTarget.DNSName), "kaigo-subsys-dr-alb") {
				t.Errorf("alias points at %s, want the DR ALB", aws.ToString(rr.AliasTarget.DNSName))
			}
		}
	}
	if !found {
		t.Error("no alias record for api.kaigo-subsys.example.com")
	}
	svc, err := ecs.NewFromConfig(w.awsConfig("us-west-2")).DescribeServices(ctx, &ecs.DescribeServicesInput{
		Cluster: aws.String("kaigo-subsys-dr"), Services: []string{"kaigo-subsys-dr-service"}})
	if err != nil || len(svc.Services) != 1 {
		t.Fatalf("describe service: %v", err)
	}
	if svc.Services[0].RunningCount != 2 {
		t.Errorf("DR service runs %d tasks, want 2", svc.Services[0].RunningCount)
	}
	sm := secretsmanager.NewFromConfig(w.awsConfig("us-west-2"))
	for _, id := range []string{"kaigo-subsys/dr/db-endpoint", "kaigo-subsys/dr/redis-endpoint"} {
		v, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(aws.ToString(v.SecretString)), &m); err != nil || m["endpoint"] == nil || m["endpoint"] == "" {
			t.Errorf("secret %s holds %q, want the new endpoint", id, aws.ToString(v.SecretString))
		}
	}
	if d := duplicates(w.sim.Journal(t)); len(d) > 0 {
		t.Errorf("duplicate mutations: %v", d)
	}
}

// TestRunSurvivesLeaderKillAndAgentKill: the bundled failover on `kirikae sim --system
// deploy/systems/kaigo.yaml`, with us-east-1 down and its agent gone, given only the app's
// URL on the sim and the data-loss decision (newDRWorld's params): the raft leader is
// killed while the RDS restore runs, and the DR agent too, and the run still succeeds.
func TestRunSurvivesLeaderKillAndAgentKill(t *testing.T) {
	w := newDRWorld(t, 0.004)
	if err := w.sim.Control("region-down", map[string]string{"region": "us-east-1", "mode": "refuse"}); err != nil {
		t.Fatal(err)
	}
	w.east.Kill()
	id := w.declare()
	killedLeader, killedAgent := false, false
	r := w.drive(id, 5*time.Minute, func(r runJSON) {
		for _, st := range r.Steps {
			// Kill the raft leader while the RDS restore runs, and the agent while the
			// ElastiCache group is being created.
			if st.ID == "restore-rds" && st.Status == "running" && !killedLeader {
				killedLeader = true
				leader := w.c.WaitLeader(0, 20*time.Second)
				w.c.Kill(leader)
				w.c.Start(leader)
			}
			if st.ID == "restore-efs" && st.Status == "running" && !killedAgent {
				killedAgent = true
				w.west.Kill()
				w.west.Start()
			}
		}
	})
	if !killedLeader || !killedAgent {
		t.Fatalf("faults not injected (leader %v, agent %v)", killedLeader, killedAgent)
	}
	if r.Status != "succeeded" {
		t.Fatalf("run %s ended %s: %s", id, r.Status, r.Error)
	}
	if d := duplicates(w.sim.Journal(t)); len(d) > 0 {
		t.Errorf("duplicate mutations after faults: %v", d)
	}
	if got := w.regionState(); got.State.Active != "us-west-2" || got.State.Epoch != 2 {
		t.Fatalf("after failover: %+v", got.State)
	}
}

func TestDeclareRefusals(t *testing.T) {
	c := integration.NewCluster(t, 3, integration.Options{Operators: []string{"sam", "mia", "vic"}, Roles: drRoles})
	c.MustCLI("operator-admin", c.Addrs(), "region", "init", "--primary", "us-east-1", "--secondary", "us-west-2")
	plan := filepath.Join(repoRoot(t), "deploy", "plans", "kaigo-failover.yaml")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The plan reads the system file; before one is stored, declaring says so.
	_, errOut, err := c.CLI(ctx, "operator-sam", c.Addrs(), "declare", "--plan", plan, "--scenario", "region-outage", "--expected-outage", "6h",
		"--reason", "r", "--set", "APP_URL=https://app.invalid")
	if err == nil || !strings.Contains(errOut, "kirikae system apply") {
		t.Fatalf("declare with no system stored: err=%v stderr=%s", err, errOut)
	}
	c.MustCLI("operator-admin", c.Addrs(), "system", "apply", filepath.Join(repoRoot(t), "deploy", "systems", "kaigo.yaml"))
	_, errOut, err = c.CLI(ctx, "operator-sam", c.Addrs(), "declare", "--plan", plan, "--scenario", "region-outage", "--expected-outage", "2h", "--reason", "r",
		"--set", "APP_URL=https://app.invalid")
	if err == nil || !strings.Contains(errOut, "4h0m0s or more") {
		t.Fatalf("declare below the criterion: err=%v stderr=%s", err, errOut)
	}
	_, errOut, err = c.CLI(ctx, "operator-vic", c.Addrs(), "declare", "--plan", plan, "--scenario", "region-outage", "--expected-outage", "6h", "--reason", "r")
	if err == nil || !strings.Contains(errOut, "permission denied") {
		t.Fatalf("viewer declares: err=%v stderr=%s", err, errOut)
	}
	// The override is accepted and audited.
	c.MustCLI("operator-sam", c.Addrs(), "declare", "--plan", plan, "--scenario", "region-outage", "--expected-outage", "2h",
		"--reason", "r", "--override-criteria", "customer contract: no 4h outage acceptable", "--set", "APP_URL=https://app.invalid")
	_, errOut, err = c.CLI(ctx, "operator-sam", c.Addrs(), "declare", "--plan", plan, "--scenario", "region-outage", "--expected-outage", "6h", "--reason", "second",
		"--set", "APP_URL=https://app.invalid")
	if err == nil || !strings.Contains(errOut, "one run at a time") {
		t.Fatalf("second failover: err=%v stderr=%s", err, errOut)
	}
	audit := c.MustCLI("operator-admin", c.Addrs(), "audit")
	if !strings.Contains(audit, "customer contract") {
		t.Fatalf("override not in the audit log:\n%s", audit)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: kirikae/v1\nkind: Plan\nname: x\nrunKind: failover\nsteps:\n  - id: a\n    action: nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, err = c.CLI(ctx, "operator-sam", c.Addrs(), "declare", "--plan", bad, "--scenario", "dc-fire", "--reason", "r")
	if err == nil || !strings.Contains(errOut, "nope") {
		t.Fatalf("bad plan: err=%v stderr=%s", err, errOut)
	}
}
