package awssim_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"github.com/kirikae/kirikae/awssim"
)

// Route 53 as AWS answers it: alias targets checked against their zone, InvalidChangeBatch
// in the standard error form, server-side paging of record sets and hosted zones. Each row
// is tested through the Go SDK and through the AWS CLI v2.

// r53CLI runs the AWS CLI v2 against e for Route 53 (a global service, signed for us-east-1)
// and returns its stdout, its stderr and how it exited.
func r53CLI(t *testing.T, e *env, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	dir := t.TempDir()
	full := append([]string{"--endpoint-url", e.endpoint, "--region", east, "--output", "json", "--no-cli-pager", "route53"}, args...)
	cmd := exec.Command(awsCLI, full...)
	cmd.Env = []string{
		"PATH=/usr/bin:/bin", "HOME=" + dir,
		"AWS_ACCESS_KEY_ID=AKIASIMTEST", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		// Two attempts, not one: with one, botocore adds "(reached max retries: 0)" to every
		// error, which AWS's answers do not get under the CLI's defaults.
		"AWS_EC2_METADATA_DISABLED=true", "AWS_RETRY_MODE=standard", "AWS_MAX_ATTEMPTS=2",
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// r53CLIJSON runs the AWS CLI, which must succeed, and decodes its JSON output into v.
func r53CLIJSON(t *testing.T, e *env, v any, args ...string) {
	t.Helper()
	out, errOut, err := r53CLI(t, e, args...)
	if err != nil {
		t.Fatalf("aws route53 %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("aws route53 %s: %v\nstdout: %s", strings.Join(args, " "), err, out)
	}
}

// r53Signed sends a Route 53 request the SDK would refuse to send, signed as the SDK signs,
// and returns the answer's status and body.
func r53Signed(t *testing.T, e *env, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.endpoint+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: "AKIASIMTEST", SecretAccessKey: "secret"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "route53", east, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// aliasBatch is a change batch file for the AWS CLI with one alias change.
func aliasBatch(t *testing.T, action, name, dns, zone string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Changes": []any{map[string]any{"Action": action, "ResourceRecordSet": map[string]any{
		"Name": name, "Type": "A", "AliasTarget": map[string]any{"HostedZoneId": zone, "DNSName": dns, "EvaluateTargetHealth": true}}}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "batch.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return "file://" + path
}

func aliasChange(action r53types.ChangeAction, name string, typ r53types.RRType, dns, zone string) *route53.ChangeResourceRecordSetsInput {
	return &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID),
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: action, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String(name), Type: typ,
			AliasTarget: &r53types.AliasTarget{HostedZoneId: aws.String(zone), DNSName: aws.String(dns), EvaluateTargetHealth: true}}}}}}
}

// wantChangeBatchError fails unless err is InvalidChangeBatch with exactly message.
func wantChangeBatchError(t *testing.T, err error, message string) {
	t.Helper()
	wantCode(t, err, "InvalidChangeBatch")
	var icb *r53types.InvalidChangeBatch
	if !errors.As(err, &icb) {
		t.Fatalf("want *types.InvalidChangeBatch, got %T %v", err, err)
	}
	if got := icb.ErrorMessage(); got != message {
		t.Fatalf("InvalidChangeBatch message\n got %q\nwant %q", got, message)
	}
}

func notWithin(dns, typ, zone string) string {
	return "Tried to create an alias that targets " + dns + ", type " + typ + " in zone " + zone + ", but the alias target name does not lie within the target zone"
}

func targetNotFound(dns, typ, zone string) string {
	return "Tried to create an alias that targets " + dns + ", type " + typ + " in zone " + zone + ", but that target was not found"
}

type recordKey struct{ name, typ string }

func recordKeys(rrs []r53types.ResourceRecordSet) []recordKey {
	out := make([]recordKey, len(rrs))
	for i, r := range rrs {
		out[i] = recordKey{aws.ToString(r.Name), string(r.Type)}
	}
	return out
}

// sameRecords reports whether got holds the record sets of want, in any order.
func sameRecords(got, want []recordKey) bool {
	order := func(a, b recordKey) int { return strings.Compare(a.name+" "+a.typ, b.name+" "+b.typ) }
	return slices.Equal(slices.SortedFunc(slices.Values(got), order), slices.SortedFunc(slices.Values(want), order))
}

// kaigoRecords are the fixture's record sets in Route 53's order: by name with the labels
// reversed (com.example.kaigo-subsys. before com.example.kaigo-subsys.api.), then type.
var kaigoRecords = []recordKey{{awssim.KaigoZoneName, "NS"}, {awssim.KaigoZoneName, "SOA"},
	{awssim.KaigoAPIName, "A"}, {"status.kaigo-subsys.example.com.", "CNAME"}}

// Row 1: an alias target is looked up in the zone AliasTarget.HostedZoneId names.
func TestRoute53AliasTargetMustLieInItsZone(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := ctx(t)
	c := route53.NewFromConfig(e.cfg(east))
	dr := awssim.KaigoALBDNS(west) + "."
	const www = "www.kaigo-subsys.example.com"
	for _, tc := range []struct {
		name           string
		action         r53types.ChangeAction
		record         string
		typ            r53types.RRType
		dns, zone, msg string
	}{
		{"DR ALB with an S3 website zone", r53types.ChangeActionUpsert, awssim.KaigoAPIName, r53types.RRTypeA, dr, "Z1BKCTXD74EZPE",
			"[" + notWithin(dr, "A", "Z1BKCTXD74EZPE") + "]"},
		{"DR ALB with the us-east-1 ALB zone", r53types.ChangeActionCreate, "dr.kaigo-subsys.example.com", r53types.RRTypeA, dr, "Z35SXDOTRQ7X7K",
			"[" + notWithin(dr, "A", "Z35SXDOTRQ7X7K") + "]"},
		{"dualstack name with the us-east-1 ALB zone", r53types.ChangeActionUpsert, awssim.KaigoAPIName, r53types.RRTypeA, "dualstack." + dr, "Z35SXDOTRQ7X7K",
			"[" + notWithin("dualstack."+dr, "A", "Z35SXDOTRQ7X7K") + "]"},
		{"no such ALB in the right zone", r53types.ChangeActionUpsert, awssim.KaigoAPIName, r53types.RRTypeA, "nope-1.us-west-2.elb.amazonaws.com.", "Z1H1FL5HABSF5",
			"[" + targetNotFound("nope-1.us-west-2.elb.amazonaws.com.", "A", "Z1H1FL5HABSF5") + "]"},
		{"a record with an ALB zone", r53types.ChangeActionCreate, www, r53types.RRTypeA, awssim.KaigoAPIName, awssim.KaigoALBZoneID(east),
			"[" + notWithin(awssim.KaigoAPIName, "A", awssim.KaigoALBZoneID(east)) + "]"},
		{"a record with another hosted zone", r53types.ChangeActionCreate, www, r53types.RRTypeA, awssim.KaigoAPIName, awssim.KaigoPrivateZoneID,
			"[" + notWithin(awssim.KaigoAPIName, "A", awssim.KaigoPrivateZoneID) + ", " + targetNotFound(awssim.KaigoAPIName, "A", awssim.KaigoPrivateZoneID) + "]"},
		{"a missing record", r53types.ChangeActionCreate, www, r53types.RRTypeA, "nothing.kaigo-subsys.example.com.", awssim.KaigoHostedZoneID,
			"[" + targetNotFound("nothing.kaigo-subsys.example.com.", "A", awssim.KaigoHostedZoneID) + "]"},
		{"a record of another type", r53types.ChangeActionCreate, www, r53types.RRTypeAaaa, awssim.KaigoAPIName, awssim.KaigoHostedZoneID,
			"[" + targetNotFound(awssim.KaigoAPIName, "AAAA", awssim.KaigoHostedZoneID) + "]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ChangeResourceRecordSets(ctx, aliasChange(tc.action, tc.record, tc.typ, tc.dns, tc.zone))
			wantChangeBatchError(t, err, tc.msg)
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
				t.Fatalf("want HTTP 400, got %v", err)
			}
		})
	}
	// An alias without a zone is not checked but refused as bad input.
	status, body := r53Signed(t, e, http.MethodPost, "/2013-04-01/hostedzone/"+awssim.KaigoHostedZoneID+"/rrset",
		`<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes><Change><Action>UPSERT</Action>`+
			`<ResourceRecordSet><Name>api.kaigo-subsys.example.com</Name><Type>A</Type><AliasTarget><DNSName>`+dr+`</DNSName>`+
			`<EvaluateTargetHealth>true</EvaluateTargetHealth></AliasTarget></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`)
	if status != http.StatusBadRequest || !strings.Contains(body, "<Code>InvalidInput</Code>") || !strings.Contains(body, "AliasTarget requires HostedZoneId") {
		t.Fatalf("alias without HostedZoneId: %d %s", status, body)
	}

	// The refusals changed nothing.
	list := must[*route53.ListResourceRecordSetsOutput](t)(c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID)}))
	if got := recordKeys(list.ResourceRecordSets); !sameRecords(got, kaigoRecords) {
		t.Fatalf("records after refused changes: %v", got)
	}
	for _, r := range list.ResourceRecordSets {
		if a := r.AliasTarget; aws.ToString(r.Name) == awssim.KaigoAPIName && (a == nil || aws.ToString(a.DNSName) != awssim.KaigoALBDNS(east)+".") {
			t.Fatalf("api record after refused changes: %+v", r)
		}
	}
	if n := countOps(e.sim.Journal(), "ChangeResourceRecordSets", awssim.KaigoHostedZoneID+"/"+awssim.KaigoAPIName); n != 0 {
		t.Fatalf("refused changes journaled %d times", n)
	}

	// The right targets are taken: the DR ALB in its own zone (dualstack too), and a record of
	// this zone in this zone, which then answers as the record it aliases does.
	must[*route53.ChangeResourceRecordSetsOutput](t)(c.ChangeResourceRecordSets(ctx, aliasChange(r53types.ChangeActionUpsert, awssim.KaigoAPIName, r53types.RRTypeA, "dualstack."+dr, awssim.KaigoALBZoneID(west))))
	must[*route53.ChangeResourceRecordSetsOutput](t)(c.ChangeResourceRecordSets(ctx, aliasChange(r53types.ChangeActionUpsert, awssim.KaigoAPIName, r53types.RRTypeA, dr, awssim.KaigoALBZoneID(west))))
	must[*route53.ChangeResourceRecordSetsOutput](t)(c.ChangeResourceRecordSets(ctx, aliasChange(r53types.ChangeActionCreate, www, r53types.RRTypeA, awssim.KaigoAPIName, awssim.KaigoHostedZoneID)))
	ans := must[*route53.TestDNSAnswerOutput](t)(c.TestDNSAnswer(ctx, &route53.TestDNSAnswerInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID),
		RecordName: aws.String(www), RecordType: r53types.RRTypeA}))
	if aws.ToString(ans.ResponseCode) != "NOERROR" || !slices.Equal(ans.RecordData, []string{"198.51.100.20"}) {
		t.Fatalf("TestDNSAnswer for an alias to the switched record: %s %v", aws.ToString(ans.ResponseCode), ans.RecordData)
	}
}

func TestRoute53AliasTargetMustLieInItsZoneCLI(t *testing.T) {
	t.Parallel()
	requireTool(t, awsCLI, "apt-get install -y awscli")
	e := newEnv(t, time.Second)
	dr := awssim.KaigoALBDNS(west)
	for _, tc := range []struct{ dns, zone, msg string }{
		{dr, "Z1BKCTXD74EZPE", notWithin(dr+".", "A", "Z1BKCTXD74EZPE")},
		{dr, "Z35SXDOTRQ7X7K", notWithin(dr+".", "A", "Z35SXDOTRQ7X7K")},
		{"nope-1.us-west-2.elb.amazonaws.com", "Z1H1FL5HABSF5", targetNotFound("nope-1.us-west-2.elb.amazonaws.com.", "A", "Z1H1FL5HABSF5")},
	} {
		_, errOut, err := r53CLI(t, e, "change-resource-record-sets", "--hosted-zone-id", awssim.KaigoHostedZoneID,
			"--change-batch", aliasBatch(t, "UPSERT", "api.kaigo-subsys.example.com", tc.dns, tc.zone))
		want := "An error occurred (InvalidChangeBatch) when calling the ChangeResourceRecordSets operation: [" + tc.msg + "]"
		if err == nil || !strings.Contains(errOut, want) {
			t.Fatalf("alias to %s in zone %s: err=%v\nstderr: %s\nwant: %s", tc.dns, tc.zone, err, errOut, want)
		}
	}
	var ok struct{ ChangeInfo struct{ Status string } }
	r53CLIJSON(t, e, &ok, "change-resource-record-sets", "--hosted-zone-id", awssim.KaigoHostedZoneID,
		"--change-batch", aliasBatch(t, "UPSERT", "api.kaigo-subsys.example.com", dr, awssim.KaigoALBZoneID(west)))
	if ok.ChangeInfo.Status != "PENDING" {
		t.Fatalf("alias to the DR ALB in its zone: %+v", ok)
	}
}

// rawBodies is an HTTP client that keeps the body of the last response it received.
type rawBodies struct{ last []byte }

func (b *rawBodies) Do(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	b.last = body
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// Row 2: InvalidChangeBatch comes as the standard ErrorResponse, every problem of the batch
// in one bracketed Message.
func TestRoute53InvalidChangeBatchIsAnErrorResponse(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := ctx(t)
	raw := &rawBodies{}
	cfg := e.cfg(east)
	cfg.HTTPClient = raw
	c := route53.NewFromConfig(cfg)
	plain := func(action r53types.ChangeAction, name string) r53types.Change {
		return r53types.Change{Action: action, ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String(name), Type: r53types.RRTypeA,
			TTL: aws.Int64(60), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("192.0.2.44")}}}}
	}
	exists := "Tried to create resource record set [name='api.kaigo-subsys.example.com.', type='A'] but it already exists"
	missing := "Tried to delete resource record set [name='gone.kaigo-subsys.example.com.', type='A'] but it was not found"
	for _, tc := range []struct {
		name    string
		changes []r53types.Change
		msg     string
	}{
		{"create existing", []r53types.Change{plain(r53types.ChangeActionCreate, "api.kaigo-subsys.example.com")}, "[" + exists + "]"},
		{"delete missing", []r53types.Change{plain(r53types.ChangeActionDelete, "gone.kaigo-subsys.example.com")}, "[" + missing + "]"},
		{"both, and a good change", []r53types.Change{plain(r53types.ChangeActionUpsert, "new.kaigo-subsys.example.com"),
			plain(r53types.ChangeActionCreate, "api.kaigo-subsys.example.com"), plain(r53types.ChangeActionDelete, "gone.kaigo-subsys.example.com")},
			"[" + exists + ", " + missing + "]"},
		{"alias to a missing ALB", aliasChange(r53types.ChangeActionUpsert, awssim.KaigoAPIName, r53types.RRTypeA, "gone-1.us-east-1.elb.amazonaws.com", "Z35SXDOTRQ7X7K").ChangeBatch.Changes,
			"[" + targetNotFound("gone-1.us-east-1.elb.amazonaws.com.", "A", "Z35SXDOTRQ7X7K") + "]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID),
				ChangeBatch: &r53types.ChangeBatch{Changes: tc.changes}})
			wantChangeBatchError(t, err, tc.msg)
			var body struct {
				XMLName xml.Name
				Type    string `xml:"Error>Type"`
				Code    string `xml:"Error>Code"`
				Message string `xml:"Error>Message"`
				ReqID   string `xml:"RequestId"`
			}
			if err := xml.Unmarshal(raw.last, &body); err != nil {
				t.Fatalf("error body: %v\n%s", err, raw.last)
			}
			if body.XMLName.Local != "ErrorResponse" || body.XMLName.Space != "https://route53.amazonaws.com/doc/2013-04-01/" ||
				body.Type != "Sender" || body.Code != "InvalidChangeBatch" || body.Message != tc.msg || body.ReqID == "" {
				t.Fatalf("error body is not a Route 53 ErrorResponse: %s", raw.last)
			}
		})
	}
	list := must[*route53.ListResourceRecordSetsOutput](t)(c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID)}))
	if got := recordKeys(list.ResourceRecordSets); !sameRecords(got, kaigoRecords) {
		t.Fatalf("a refused batch changed the zone: %v", got)
	}
}

func TestRoute53InvalidChangeBatchIsAnErrorResponseCLI(t *testing.T) {
	t.Parallel()
	requireTool(t, awsCLI, "apt-get install -y awscli")
	e := newEnv(t, time.Second)
	plain := func(action, name string) string {
		b, err := json.Marshal(map[string]any{"Changes": []any{map[string]any{"Action": action, "ResourceRecordSet": map[string]any{
			"Name": name, "Type": "A", "TTL": 60, "ResourceRecords": []any{map[string]any{"Value": "192.0.2.44"}}}}}})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "batch.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return "file://" + path
	}
	for _, tc := range []struct{ batch, msg string }{
		{plain("CREATE", "api.kaigo-subsys.example.com"), "Tried to create resource record set [name='api.kaigo-subsys.example.com.', type='A'] but it already exists"},
		{plain("DELETE", "gone.kaigo-subsys.example.com"), "Tried to delete resource record set [name='gone.kaigo-subsys.example.com.', type='A'] but it was not found"},
		{aliasBatch(t, "UPSERT", "api.kaigo-subsys.example.com", "gone-1.us-east-1.elb.amazonaws.com", "Z35SXDOTRQ7X7K"),
			targetNotFound("gone-1.us-east-1.elb.amazonaws.com.", "A", "Z35SXDOTRQ7X7K")},
	} {
		_, errOut, err := r53CLI(t, e, "change-resource-record-sets", "--hosted-zone-id", awssim.KaigoHostedZoneID, "--change-batch", tc.batch)
		want := "An error occurred (InvalidChangeBatch) when calling the ChangeResourceRecordSets operation: [" + tc.msg + "]"
		if err == nil || !strings.Contains(errOut, want) {
			t.Fatalf("err=%v\nstderr: %s\nwant: %s", err, errOut, want)
		}
	}
}

// Row 3: ListResourceRecordSets pages server-side in Route 53's order.
func TestRoute53ListResourceRecordSetsPages(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := ctx(t)
	c := route53.NewFromConfig(e.cfg(east))
	// x.api sorts after api and before status (com.example.kaigo-subsys.api.x.), though a
	// plain name order would put it last.
	must[*route53.ChangeResourceRecordSetsOutput](t)(c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID),
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String("x.api.kaigo-subsys.example.com"), Type: r53types.RRTypeTxt, TTL: aws.Int64(60),
			ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(`"hello"`)}}}}}}}))
	all := slices.Insert(slices.Clone(kaigoRecords), 3, recordKey{"x.api.kaigo-subsys.example.com.", "TXT"})
	list := func(in route53.ListResourceRecordSetsInput) *route53.ListResourceRecordSetsOutput {
		t.Helper()
		in.HostedZoneId = aws.String(awssim.KaigoHostedZoneID)
		return must[*route53.ListResourceRecordSetsOutput](t)(c.ListResourceRecordSets(ctx, &in))
	}

	out := list(route53.ListResourceRecordSetsInput{})
	if got := recordKeys(out.ResourceRecordSets); !slices.Equal(got, all) || out.IsTruncated || aws.ToInt32(out.MaxItems) != 300 {
		t.Fatalf("one page: %v truncated=%v MaxItems=%d", got, out.IsTruncated, aws.ToInt32(out.MaxItems))
	}

	// A walk one record at a time, as the docs describe: Next* of a page start the next.
	var walked []recordKey
	in := route53.ListResourceRecordSetsInput{MaxItems: aws.Int32(1)}
	for page := 0; ; page++ {
		if page > len(all) {
			t.Fatalf("no end after %d pages: %v", page, walked)
		}
		out := list(in)
		if len(out.ResourceRecordSets) != 1 || aws.ToInt32(out.MaxItems) != 1 {
			t.Fatalf("page %d: %d records, MaxItems %d", page, len(out.ResourceRecordSets), aws.ToInt32(out.MaxItems))
		}
		walked = append(walked, recordKeys(out.ResourceRecordSets)...)
		if !out.IsTruncated {
			if out.NextRecordName != nil || out.NextRecordType != "" {
				t.Fatalf("last page names a next record: %s %s", aws.ToString(out.NextRecordName), out.NextRecordType)
			}
			break
		}
		if next := (recordKey{aws.ToString(out.NextRecordName), string(out.NextRecordType)}); next != all[page+1] {
			t.Fatalf("page %d: next %v, want %v", page, next, all[page+1])
		}
		in.StartRecordName, in.StartRecordType = out.NextRecordName, out.NextRecordType
	}
	if !slices.Equal(walked, all) {
		t.Fatalf("walk: %v\nwant %v", walked, all)
	}

	for _, tc := range []struct {
		name  string
		in    route53.ListResourceRecordSetsInput
		want  []recordKey
		trunc bool
		max   int32
	}{
		{"name and type", route53.ListResourceRecordSetsInput{StartRecordName: aws.String("api.kaigo-subsys.example.com"), StartRecordType: r53types.RRTypeA, MaxItems: aws.Int32(2)},
			all[2:4], true, 2},
		{"apex SOA", route53.ListResourceRecordSetsInput{StartRecordName: aws.String(awssim.KaigoZoneName), StartRecordType: r53types.RRTypeSoa}, all[1:], false, 300},
		{"a name between records", route53.ListResourceRecordSetsInput{StartRecordName: aws.String("b.kaigo-subsys.example.com")}, all[4:], false, 300},
		{"past the end", route53.ListResourceRecordSetsInput{StartRecordName: aws.String("zzz.kaigo-subsys.example.com")}, []recordKey{}, false, 300},
		{"more than Route 53 pages", route53.ListResourceRecordSetsInput{MaxItems: aws.Int32(5000)}, all, false, 300},
	} {
		out := list(tc.in)
		if got := recordKeys(out.ResourceRecordSets); !slices.Equal(got, tc.want) || out.IsTruncated != tc.trunc || aws.ToInt32(out.MaxItems) != tc.max {
			t.Errorf("%s: %v truncated=%v MaxItems=%d; want %v %v %d", tc.name, got, out.IsTruncated, aws.ToInt32(out.MaxItems), tc.want, tc.trunc, tc.max)
		}
	}

	for _, in := range []route53.ListResourceRecordSetsInput{
		{MaxItems: aws.Int32(0)},
		{StartRecordName: aws.String(awssim.KaigoAPIName), StartRecordType: "BOGUS"},
		{StartRecordType: r53types.RRTypeA},
	} {
		in.HostedZoneId = aws.String(awssim.KaigoHostedZoneID)
		_, err := c.ListResourceRecordSets(ctx, &in)
		wantCode(t, err, "InvalidInput")
	}
}

func TestRoute53ListResourceRecordSetsPagesCLI(t *testing.T) {
	t.Parallel()
	requireTool(t, awsCLI, "apt-get install -y awscli")
	e := newEnv(t, time.Second)
	type page struct {
		ResourceRecordSets []struct{ Name, Type string }
		IsTruncated        bool
		NextRecordName     string
		NextRecordType     string
		MaxItems           string
		NextToken          string
	}
	keys := func(p page) []recordKey {
		out := []recordKey{}
		for _, r := range p.ResourceRecordSets {
			out = append(out, recordKey{r.Name, r.Type})
		}
		return out
	}

	// Without the CLI's paging, --max-items is the API's maxitems.
	var p page
	r53CLIJSON(t, e, &p, "list-resource-record-sets", "--hosted-zone-id", awssim.KaigoHostedZoneID, "--no-paginate", "--max-items", "1")
	if got := keys(p); !slices.Equal(got, kaigoRecords[:1]) || !p.IsTruncated || p.MaxItems != "1" ||
		p.NextRecordName != awssim.KaigoZoneName || p.NextRecordType != "SOA" {
		t.Fatalf("--no-paginate --max-items 1: %+v", p)
	}

	// With it, --max-items 1 shows the first record in Route 53's order and a token.
	p = page{}
	r53CLIJSON(t, e, &p, "list-resource-record-sets", "--hosted-zone-id", awssim.KaigoHostedZoneID, "--max-items", "1")
	if got := keys(p); !slices.Equal(got, kaigoRecords[:1]) || p.NextToken == "" {
		t.Fatalf("--max-items 1: %+v", p)
	}

	// The CLI's own walk, one record per request, sees every record once, in order.
	var walked []recordKey
	args := []string{"list-resource-record-sets", "--hosted-zone-id", awssim.KaigoHostedZoneID, "--page-size", "1", "--max-items", "1"}
	for range len(kaigoRecords) + 1 {
		p = page{}
		r53CLIJSON(t, e, &p, args...)
		walked = append(walked, keys(p)...)
		if p.NextToken == "" {
			break
		}
		args = []string{"list-resource-record-sets", "--hosted-zone-id", awssim.KaigoHostedZoneID, "--page-size", "1", "--max-items", "1", "--starting-token", p.NextToken}
	}
	if !slices.Equal(walked, kaigoRecords) {
		t.Fatalf("CLI walk: %v\nwant %v", walked, kaigoRecords)
	}
}

// Row 4: hosted zones are listed, paged, found by name and described.
func TestRoute53HostedZones(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := ctx(t)
	c := route53.NewFromConfig(e.cfg(east))
	ids := func(zs []r53types.HostedZone) []string {
		out := []string{}
		for _, z := range zs {
			out = append(out, aws.ToString(z.Id))
		}
		return out
	}
	pub, priv := "/hostedzone/"+awssim.KaigoHostedZoneID, "/hostedzone/"+awssim.KaigoPrivateZoneID

	all := must[*route53.ListHostedZonesOutput](t)(c.ListHostedZones(ctx, &route53.ListHostedZonesInput{}))
	if got := ids(all.HostedZones); !slices.Equal(got, []string{priv, pub}) || all.IsTruncated || aws.ToInt32(all.MaxItems) != 100 {
		t.Fatalf("ListHostedZones: %v truncated=%v MaxItems=%d", got, all.IsTruncated, aws.ToInt32(all.MaxItems))
	}
	z := all.HostedZones[1]
	if aws.ToString(z.Name) != awssim.KaigoZoneName || z.Config == nil || z.Config.PrivateZone || aws.ToInt64(z.ResourceRecordSetCount) != 4 || aws.ToString(z.CallerReference) == "" {
		t.Fatalf("public zone: %+v %+v", z, z.Config)
	}
	if z := all.HostedZones[0]; aws.ToString(z.Name) != awssim.KaigoPrivateZone || z.Config == nil || !z.Config.PrivateZone {
		t.Fatalf("private zone: %+v", z)
	}

	first := must[*route53.ListHostedZonesOutput](t)(c.ListHostedZones(ctx, &route53.ListHostedZonesInput{MaxItems: aws.Int32(1)}))
	if got := ids(first.HostedZones); !slices.Equal(got, []string{priv}) || !first.IsTruncated ||
		aws.ToString(first.NextMarker) != awssim.KaigoHostedZoneID || aws.ToInt32(first.MaxItems) != 1 {
		t.Fatalf("first page: %v truncated=%v next=%s MaxItems=%d", got, first.IsTruncated, aws.ToString(first.NextMarker), aws.ToInt32(first.MaxItems))
	}
	second := must[*route53.ListHostedZonesOutput](t)(c.ListHostedZones(ctx, &route53.ListHostedZonesInput{MaxItems: aws.Int32(1), Marker: first.NextMarker}))
	if got := ids(second.HostedZones); !slices.Equal(got, []string{pub}) || second.IsTruncated || second.NextMarker != nil ||
		aws.ToString(second.Marker) != awssim.KaigoHostedZoneID {
		t.Fatalf("second page: %v truncated=%v marker=%s", got, second.IsTruncated, aws.ToString(second.Marker))
	}
	var paged []string
	for pg := route53.NewListHostedZonesPaginator(c, &route53.ListHostedZonesInput{}, func(o *route53.ListHostedZonesPaginatorOptions) { o.Limit = 1 }); pg.HasMorePages(); {
		paged = append(paged, ids(must[*route53.ListHostedZonesOutput](t)(pg.NextPage(ctx)).HostedZones)...)
	}
	if !slices.Equal(paged, []string{priv, pub}) {
		t.Fatalf("SDK paginator: %v", paged)
	}
	private := must[*route53.ListHostedZonesOutput](t)(c.ListHostedZones(ctx, &route53.ListHostedZonesInput{HostedZoneType: r53types.HostedZoneTypePrivateHostedZone}))
	if got := ids(private.HostedZones); !slices.Equal(got, []string{priv}) {
		t.Fatalf("private zones: %v", got)
	}

	byName := func(in route53.ListHostedZonesByNameInput) *route53.ListHostedZonesByNameOutput {
		t.Helper()
		return must[*route53.ListHostedZonesByNameOutput](t)(c.ListHostedZonesByName(ctx, &in))
	}
	// By name, labels reversed: com.example.kaigo-subsys. before internal.kaigo-subsys.
	if got := ids(byName(route53.ListHostedZonesByNameInput{}).HostedZones); !slices.Equal(got, []string{pub, priv}) {
		t.Fatalf("ListHostedZonesByName: %v", got)
	}
	out := byName(route53.ListHostedZonesByNameInput{DNSName: aws.String("kaigo-subsys.example.com"), MaxItems: aws.Int32(1)})
	if got := ids(out.HostedZones); !slices.Equal(got, []string{pub}) || !out.IsTruncated || aws.ToString(out.DNSName) != awssim.KaigoZoneName ||
		aws.ToString(out.NextDNSName) != awssim.KaigoPrivateZone || aws.ToString(out.NextHostedZoneId) != awssim.KaigoPrivateZoneID || aws.ToInt32(out.MaxItems) != 1 {
		t.Fatalf("by name, first page: %v %+v", got, out)
	}
	out = byName(route53.ListHostedZonesByNameInput{DNSName: out.NextDNSName, HostedZoneId: out.NextHostedZoneId, MaxItems: aws.Int32(1)})
	if got := ids(out.HostedZones); !slices.Equal(got, []string{priv}) || out.IsTruncated || out.NextDNSName != nil ||
		aws.ToString(out.HostedZoneId) != awssim.KaigoPrivateZoneID {
		t.Fatalf("by name, second page: %v %+v", got, out)
	}
	if got := ids(byName(route53.ListHostedZonesByNameInput{DNSName: aws.String("zzz.internal")}).HostedZones); len(got) != 0 {
		t.Fatalf("by name after the last: %v", got)
	}

	got := must[*route53.GetHostedZoneOutput](t)(c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(awssim.KaigoHostedZoneID)}))
	if aws.ToString(got.HostedZone.Id) != pub || got.DelegationSet == nil ||
		!slices.Equal(got.DelegationSet.NameServers, []string{"ns-372.awsdns-46.com", "ns-1019.awsdns-63.net", "ns-1408.awsdns-48.org", "ns-1917.awsdns-47.co.uk"}) || len(got.VPCs) != 0 {
		t.Fatalf("GetHostedZone public: %+v %+v %+v", got.HostedZone, got.DelegationSet, got.VPCs)
	}
	got = must[*route53.GetHostedZoneOutput](t)(c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(priv)}))
	if aws.ToString(got.HostedZone.Name) != awssim.KaigoPrivateZone || got.DelegationSet != nil || len(got.VPCs) != 1 ||
		got.VPCs[0].VPCRegion != r53types.VPCRegionUsEast1 || !strings.HasPrefix(aws.ToString(got.VPCs[0].VPCId), "vpc-") ||
		got.HostedZone.Config == nil || aws.ToString(got.HostedZone.Config.Comment) == "" {
		t.Fatalf("GetHostedZone private: %+v %+v", got.HostedZone, got.VPCs)
	}

	_, err := c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String("ZNOSUCHZONE")})
	wantCode(t, err, "NoSuchHostedZone")
	_, err = c.ListHostedZones(ctx, &route53.ListHostedZonesInput{Marker: aws.String("ZNOSUCHZONE")})
	wantCode(t, err, "InvalidInput")
	_, err = c.ListHostedZones(ctx, &route53.ListHostedZonesInput{MaxItems: aws.Int32(-1)})
	wantCode(t, err, "InvalidInput")
	_, err = c.ListHostedZones(ctx, &route53.ListHostedZonesInput{DelegationSetId: aws.String("N0NOSUCHSET")})
	wantCode(t, err, "NoSuchDelegationSet")
	_, err = c.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID)})
	wantCode(t, err, "InvalidInput")
	_, err = c.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String("kaigo..example.com")})
	wantCode(t, err, "InvalidDomainName")
	var ae smithy.APIError
	if errors.As(err, &ae) && !strings.Contains(ae.ErrorMessage(), "kaigo..example.com") {
		t.Fatalf("InvalidDomainName does not name the name: %v", err)
	}
}

func TestRoute53HostedZonesCLI(t *testing.T) {
	t.Parallel()
	requireTool(t, awsCLI, "apt-get install -y awscli")
	e := newEnv(t, time.Second)
	type zones struct {
		HostedZones []struct {
			Id, Name string
			Config   struct{ PrivateZone bool }
		}
		IsTruncated bool
		NextMarker  string
		MaxItems    string
	}
	var all zones
	r53CLIJSON(t, e, &all, "list-hosted-zones")
	if len(all.HostedZones) != 2 || all.HostedZones[0].Name != awssim.KaigoPrivateZone || !all.HostedZones[0].Config.PrivateZone ||
		all.HostedZones[1].Id != "/hostedzone/"+awssim.KaigoHostedZoneID {
		t.Fatalf("list-hosted-zones: %+v", all)
	}
	var first zones
	r53CLIJSON(t, e, &first, "list-hosted-zones", "--no-paginate", "--max-items", "1")
	if len(first.HostedZones) != 1 || !first.IsTruncated || first.NextMarker != awssim.KaigoHostedZoneID || first.MaxItems != "1" {
		t.Fatalf("list-hosted-zones --no-paginate --max-items 1: %+v", first)
	}
	// How tools find a zone by name.
	out, errOut, err := r53CLI(t, e, "list-hosted-zones-by-name", "--dns-name", "kaigo-subsys.example.com", "--max-items", "1",
		"--query", "HostedZones[0].Id", "--output", "text")
	if err != nil || strings.TrimSpace(out) != "/hostedzone/"+awssim.KaigoHostedZoneID {
		t.Fatalf("list-hosted-zones-by-name: %q err=%v\nstderr: %s", out, err, errOut)
	}
	var got struct {
		HostedZone    struct{ Id, Name string }
		DelegationSet struct{ NameServers []string }
	}
	r53CLIJSON(t, e, &got, "get-hosted-zone", "--id", awssim.KaigoHostedZoneID)
	if got.HostedZone.Name != awssim.KaigoZoneName || len(got.DelegationSet.NameServers) != 4 {
		t.Fatalf("get-hosted-zone: %+v", got)
	}
	_, errOut, err = r53CLI(t, e, "get-hosted-zone", "--id", "ZNOSUCHZONE")
	if err == nil || !strings.Contains(errOut, "An error occurred (NoSuchHostedZone) when calling the GetHostedZone operation: No hosted zone found with ID: ZNOSUCHZONE") {
		t.Fatalf("get-hosted-zone of a missing zone: err=%v\nstderr: %s", err, errOut)
	}
}
