package awssim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/health"
	healthtypes "github.com/aws/aws-sdk-go-v2/service/health/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/kirikae/kirikae/awssim"
)

func TestStateFileSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.json")
	clk := newTickClock(time.Second)
	first, err := awssim.New(awssim.Options{Credentials: testCreds, Fixture: "kaigo", Now: clk.Now, StateFile: path})
	if err != nil {
		t.Fatal(err)
	}
	url := newServer(t, first)
	ctx := ctx(t)
	must[*ecs.UpdateServiceOutput](t)(ecs.NewFromConfig(awsConfig(url, west)).UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String(awssim.KaigoDRCluster), Service: aws.String(awssim.KaigoDRService), DesiredCount: aws.Int32(2)}))
	if err := first.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	// A restart with another fixture name still loads the file: the file wins.
	second, err := awssim.New(awssim.Options{Credentials: testCreds, Now: clk.Now, StateFile: path})
	if err != nil {
		t.Fatal(err)
	}
	url = newServer(t, second)
	clk.Advance(time.Hour)
	ds := must[*ecs.DescribeServicesOutput](t)(ecs.NewFromConfig(awsConfig(url, west)).DescribeServices(ctx, &ecs.DescribeServicesInput{
		Cluster: aws.String(awssim.KaigoDRCluster), Services: []string{awssim.KaigoDRService}}))
	if len(ds.Services) != 1 || ds.Services[0].DesiredCount != 2 || ds.Services[0].RunningCount != 2 {
		t.Fatalf("after restart: %+v", ds.Services)
	}
	if j := second.Journal(); len(j) != 1 || j[0].Operation != "UpdateService" {
		t.Fatalf("journal after restart: %+v", j)
	}
}

func TestGoAPIErrors(t *testing.T) {
	if _, err := awssim.New(awssim.Options{Credentials: testCreds, Fixture: "nope"}); !errors.Is(err, awssim.ErrUnknownFixture) {
		t.Fatalf("want ErrUnknownFixture, got %v", err)
	}
	sim, err := awssim.New(awssim.Options{Credentials: testCreds})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.SetRegionDown(east, "sideways"); !errors.Is(err, awssim.ErrBadMode) {
		t.Fatalf("want ErrBadMode, got %v", err)
	}
	bad := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := awssim.New(awssim.Options{Credentials: testCreds, StateFile: bad}); err == nil {
		t.Fatal("a corrupt state file was accepted")
	}
}

func TestOutageFixtureHasHealthEvent(t *testing.T) {
	clk := newTickClock(time.Second)
	sim, err := awssim.New(awssim.Options{Credentials: testCreds, Fixture: "kaigo-outage", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	url := newServer(t, sim)
	out := must[*health.DescribeEventsOutput](t)(health.NewFromConfig(awsConfig(url, east)).DescribeEvents(ctx(t), &health.DescribeEventsInput{
		Filter: &healthtypes.EventFilter{Regions: []string{east}, EventStatusCodes: []healthtypes.EventStatusCode{"open"}}}))
	if len(out.Events) != 1 || aws.ToString(out.Events[0].EventTypeCode) != "AWS_EC2_OPERATIONAL_ISSUE" {
		t.Fatalf("events: %+v", out.Events)
	}
}

// TestApplicationFollowsDNS drives the simulated kaigo application: login and CRUD against
// the production ALB, and the public name's path following the Route 53 alias.
func TestApplicationFollowsDNS(t *testing.T) {
	e := newEnv(t, time.Minute)
	do := func(method, path, token, body string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, e.endpoint+path, bytes.NewBufferString(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	const api = "/_app/dns/api.kaigo-subsys.example.com"
	if code, _, h := do("GET", api+"/health", "", ""); code != 200 || h.Get(awssim.AppRegionHeader) != east {
		t.Fatalf("public name before failover: %d from %q", code, h.Get(awssim.AppRegionHeader))
	}
	if code, _, _ := do("POST", api+"/login", "", `{"username":"","password":""}`); code != 401 {
		t.Fatalf("empty login: %d", code)
	}
	_, body, _ := do("POST", api+"/login", "", `{"username":"ope","password":"pw"}`)
	var login struct{ Token string }
	if err := json.Unmarshal([]byte(body), &login); err != nil || login.Token == "" {
		t.Fatalf("login: %s", body)
	}
	if code, _, _ := do("GET", api+"/items", "", ""); code != 401 {
		t.Fatalf("items without login: %d", code)
	}
	code, body, _ := do("POST", api+"/items", login.Token, `{"name":"care plan"}`)
	var created struct{ ID string }
	if err := json.Unmarshal([]byte(body), &created); code != 201 || err != nil {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body, _ := do("GET", api+"/items/"+created.ID, login.Token, ""); code != 200 || !bytes.Contains([]byte(body), []byte("care plan")) {
		t.Fatalf("read: %d %s", code, body)
	}
	if code, _, _ := do("PUT", api+"/items/"+created.ID, login.Token, `{"name":"updated"}`); code != 200 {
		t.Fatalf("update: %d", code)
	}
	if code, _, _ := do("DELETE", api+"/items/"+created.ID, login.Token, ""); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code, _, _ := do("GET", api+"/items/"+created.ID, login.Token, ""); code != 404 {
		t.Fatalf("read after delete: %d", code)
	}

	// Move the name to the DR ALB, which has no tasks yet: the public name goes dark (503).
	ctx := ctx(t)
	must[*route53.ChangeResourceRecordSetsOutput](t)(route53.NewFromConfig(e.cfg(east)).ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(awssim.KaigoHostedZoneID), ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{
			Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String(awssim.KaigoAPIName), Type: r53types.RRTypeA,
				AliasTarget: &r53types.AliasTarget{HostedZoneId: aws.String(awssim.KaigoALBZoneID(west)), DNSName: aws.String(awssim.KaigoALBDNS(west))}}}}}}))
	if code, _, _ := do("GET", api+"/health", "", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("public name on an empty DR ALB: %d, want 503", code)
	}
	// By Host header, as curl https://api.kaigo-subsys.example.com/health would arrive.
	req, _ := http.NewRequest("GET", e.endpoint+"/health", nil)
	req.Host = "api.kaigo-subsys.example.com"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("by Host after the switch: %d, want 503", resp.StatusCode)
	}
	req, _ = http.NewRequest("GET", e.endpoint+"/health", nil)
	req.Host = awssim.KaigoALBDNS(east)
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get(awssim.AppRegionHeader) != east {
		t.Fatalf("by the prod ALB's name: %d %q", resp.StatusCode, resp.Header.Get(awssim.AppRegionHeader))
	}
	if code, _, _ := do("GET", "/_app/eu-west-1/health", "", ""); code != 404 {
		t.Fatalf("unknown region: %d", code)
	}
}
