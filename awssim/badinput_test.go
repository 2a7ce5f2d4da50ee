package awssim_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/awssim"
)

type rawReq struct {
	name    string
	region  string
	service string
	method  string
	path    string
	headers map[string]string
	body    string
}

// build is the request r describes, unsigned: sign it with sign once it is addressed to
// where it goes (the Host is part of the signature).
func (r rawReq) build() *http.Request {
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	path := r.path
	if path == "" {
		path = "/"
	}
	req := httptest.NewRequest(method, path, strings.NewReader(r.body))
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	if r.headers["Content-Type"] == "" && strings.Contains(r.body, "Action=") {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}

// sign signs req, built from r, for r's region (us-west-2 when empty) and service with the
// test key pair. A request without a service stays unsigned.
func (r rawReq) sign(t testing.TB, req *http.Request) {
	t.Helper()
	if r.service == "" {
		return
	}
	region := r.region
	if region == "" {
		region = "us-west-2"
	}
	signRequest(t, req, []byte(r.body), region, r.service)
}

// signed is the request r describes, signed as an SDK client would sign it.
func (r rawReq) signed(t testing.TB) *http.Request {
	t.Helper()
	req := r.build()
	r.sign(t, req)
	return req
}

var (
	ecsTarget  = map[string]string{"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.UpdateService", "Content-Type": "application/x-amz-json-1.1"}
	smTarget   = map[string]string{"X-Amz-Target": "secretsmanager.GetSecretValue", "Content-Type": "application/x-amz-json-1.1"}
	cborHeader = map[string]string{"Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}
)

// TestBadInputGetsAWSErrors sends malformed requests, the kind the SDK's client-side
// validation would catch but a hand-written client or curl would not, and checks each gets
// the 4xx AWS error AWS would send.
func TestBadInputGetsAWSErrors(t *testing.T) {
	e := newEnv(t, time.Second)
	h := e.sim.Handler()
	for _, c := range []struct {
		req      rawReq
		status   int
		contains []string
	}{
		{rawReq{name: "restore without snapshot", service: "rds", body: "Action=RestoreDBInstanceFromDBSnapshot&Version=2014-10-31&DBInstanceIdentifier=x"},
			400, []string{"<ErrorResponse", "<Type>Sender</Type>", "<Code>MissingParameter</Code>", "DBSnapshotIdentifier"}},
		{rawReq{name: "unknown snapshot", service: "rds", body: "Action=DescribeDBSnapshots&DBSnapshotIdentifier=nope"},
			404, []string{"<Code>DBSnapshotNotFound</Code>"}},
		{rawReq{name: "unknown action", service: "rds", body: "Action=LaunchRockets"}, 400, []string{"<Code>InvalidAction</Code>"}},
		{rawReq{name: "no action", service: "elasticache", body: "Version=2015-02-02"}, 400, []string{"<Code>MissingAction</Code>"}},
		{rawReq{name: "create group without description", service: "elasticache", body: "Action=CreateReplicationGroup&ReplicationGroupId=x"},
			400, []string{"<Code>MissingParameter</Code>"}},
		{rawReq{name: "bad EC2 filter", service: "ec2", body: "Action=DescribeVpcs&Filter.1.Name=colour&Filter.1.Value.1=red"},
			400, []string{"<Response><Errors><Error><Code>InvalidParameterValue</Code>"}},
		{rawReq{name: "malformed change batch", service: "route53", region: "us-east-1", path: "/2013-04-01/hostedzone/" + awssim.KaigoHostedZoneID + "/rrset",
			body: "<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change>"}, 400, []string{"<Code>InvalidInput</Code>"}},
		{rawReq{name: "change batch with bad action", service: "route53", region: "us-east-1", path: "/2013-04-01/hostedzone/" + awssim.KaigoHostedZoneID + "/rrset",
			body: `<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>MERGE</Action><ResourceRecordSet><Name>a.kaigo-subsys.example.com</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`},
			400, []string{"<Code>InvalidInput</Code>"}},
		{rawReq{name: "record outside the zone", service: "route53", region: "us-east-1", path: "/2013-04-01/hostedzone/" + awssim.KaigoHostedZoneID + "/rrset",
			body: `<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>evil.example.org</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`},
			400, []string{"<Code>InvalidChangeBatch</Code>", "RRSet with DNS name evil.example.org. is not permitted"}},
		{rawReq{name: "ecs bad JSON", service: "ecs", headers: ecsTarget, body: `{"service":`}, 400, []string{`"__type":"SerializationException"`}},
		{rawReq{name: "ecs missing service", service: "ecs", headers: ecsTarget, body: `{"cluster":"kaigo-subsys-dr"}`}, 400, []string{"InvalidParameterException"}},
		{rawReq{name: "secret without id", service: "secretsmanager", headers: smTarget, body: `{}`}, 400, []string{"InvalidParameterException"}},
		{rawReq{name: "unknown json op", service: "ecs", headers: map[string]string{"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.Nope"}, body: `{}`}, 400, []string{"UnknownOperationException"}},
		{rawReq{name: "restore job without point", service: "backup", method: "PUT", path: "/restore-jobs", body: `{}`}, 400, []string{"MissingParameterValueException"}},
		{rawReq{name: "cbor garbage", service: "monitoring", path: "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm", headers: cborHeader, body: "\xff\x00\x01"}, 400, nil},
		{rawReq{name: "cbor not a map", service: "monitoring", path: "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm", headers: cborHeader, body: "\x01"}, 400, nil},
		{rawReq{name: "alarm without name", service: "monitoring", path: "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm", headers: cborHeader, body: "\xa0"}, 400, nil},
		{rawReq{name: "cloudwatch json: put then describe", service: "monitoring", headers: map[string]string{"X-Amz-Target": "GraniteServiceVersion20100801.PutMetricAlarm", "Content-Type": "application/x-amz-json-1.0"},
			body: `{"AlarmName":"a","ComparisonOperator":"GreaterThanThreshold","EvaluationPeriods":2,"Period":300,"Threshold":90.5}`}, 200, nil},
		{rawReq{name: "cloudwatch json: describe", service: "monitoring", headers: map[string]string{"X-Amz-Target": "GraniteServiceVersion20100801.DescribeAlarms", "Content-Type": "application/x-amz-json-1.0"},
			body: `{"AlarmNames":["a"]}`}, 200, []string{`"Threshold":90.5`, `"Period":300`, `"StateUpdatedTimestamp":`}},
		{rawReq{name: "cloudwatch json: bad operator", service: "monitoring", headers: map[string]string{"X-Amz-Target": "GraniteServiceVersion20100801.PutMetricAlarm"},
			body: `{"AlarmName":"a","ComparisonOperator":"Sideways","EvaluationPeriods":-1}`}, 400, []string{`"__type":"ValidationError"`}},
		// A threshold that is no number was stored, and then no JSON encoder could write the
		// world or the alarm back out (GET /_sim/state, the state file and awsJson
		// DescribeAlarms all failed).
		{rawReq{name: "cloudwatch query: NaN threshold", service: "monitoring",
			body: "Action=PutMetricAlarm&AlarmName=n&ComparisonOperator=GreaterThanThreshold&EvaluationPeriods=1&Threshold=NaN"},
			400, []string{"<Code>ValidationError</Code>", "Threshold"}},
		{rawReq{name: "cloudwatch json: infinite threshold", service: "monitoring", headers: map[string]string{"X-Amz-Target": "GraniteServiceVersion20100801.PutMetricAlarm", "Content-Type": "application/x-amz-json-1.0"},
			body: `{"AlarmName":"n","ComparisonOperator":"GreaterThanThreshold","EvaluationPeriods":1,"Threshold":1e400}`}, 400, []string{`"__type":"ValidationError"`}},
		{rawReq{name: "cloudwatch cbor: NaN threshold", service: "monitoring", path: "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm", headers: cborHeader,
			body: "\xa4iAlarmNameanrComparisonOperatortGreaterThanThresholdqEvaluationPeriods\x01iThreshold\xf9\x7e\x00"}, 400, []string{"ValidationError", "Threshold"}},
		// awsJson1_0 by its Content-Type: without X-Amz-Target (or a blank one, which Go's
		// server reads as empty) the error is JSON's, not awsQuery's MissingAction in XML.
		{rawReq{name: "cloudwatch json: no target", service: "monitoring", headers: map[string]string{"Content-Type": "application/x-amz-json-1.0"},
			body: `{}`}, 400, []string{`"__type":"UnknownOperationException"`}},
		{rawReq{name: "unsigned, no hints", body: "Action=DescribeDBInstances"}, 403, []string{"<Code>MissingAuthenticationToken</Code>"}},
		{rawReq{name: "region not simulated", service: "rds", region: "eu-west-9", body: "Action=DescribeDBInstances"}, 400, []string{"InvalidClientTokenId"}},
		{rawReq{name: "s3 unsupported", service: "s3", method: "GET", path: "/kaigo-subsys-prod-backups?acl"}, 400, []string{"<Error><Code>NotImplemented</Code>"}},
		{rawReq{name: "no such bucket", service: "s3", method: "GET", path: "/nope?replication"}, 404, []string{"<Code>NoSuchBucket</Code>"}},
	} {
		t.Run(c.req.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, c.req.signed(t))
			body, _ := io.ReadAll(rec.Result().Body)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, body)
			}
			for _, s := range c.contains {
				if !strings.Contains(string(body), s) {
					t.Fatalf("body lacks %q: %s", s, body)
				}
			}
		})
	}
	if j := e.sim.Journal(); len(j) != 1 || j[0].Operation != "PutMetricAlarm" {
		t.Fatalf("only the one good call may be journaled, got %+v", j)
	}
}
