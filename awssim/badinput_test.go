package awssim_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/awssim"
)

// sigv4 is an Authorization header with the given scope; awssim reads the scope only.
func sigv4(region, service string) string {
	return "AWS4-HMAC-SHA256 Credential=AKIASIMTEST/20251201/" + region + "/" + service +
		"/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"
}

type rawReq struct {
	name    string
	region  string
	service string
	method  string
	path    string
	headers map[string]string
	body    string
}

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
	if r.service != "" {
		region := r.region
		if region == "" {
			region = "us-west-2"
		}
		req.Header.Set("Authorization", sigv4(region, r.service))
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	if r.headers["Content-Type"] == "" && strings.Contains(r.body, "Action=") {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
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
			400, []string{"<InvalidChangeBatch", "<Messages><Message>RRSet with DNS name evil.example.org. is not permitted"}},
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
		{rawReq{name: "unsigned, no hints", body: "Action=DescribeDBInstances"}, 400, []string{"UnknownService"}},
		{rawReq{name: "region not simulated", service: "rds", region: "eu-west-9", body: "Action=DescribeDBInstances"}, 400, []string{"InvalidClientTokenId"}},
		{rawReq{name: "s3 unsupported", service: "s3", method: "GET", path: "/kaigo-subsys-prod-backups?acl"}, 400, []string{"<Error><Code>NotImplemented</Code>"}},
		{rawReq{name: "no such bucket", service: "s3", method: "GET", path: "/nope?replication"}, 404, []string{"<Code>NoSuchBucket</Code>"}},
	} {
		t.Run(c.req.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, c.req.build())
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

// FuzzDecoders throws arbitrary bodies and headers at every protocol's decoder. Whatever the
// input, the answer is an AWS error or a success, never a 5xx (the handler turns a panic into
// a 500, so this also catches panics).
func FuzzDecoders(f *testing.F) {
	seeds := []rawReq{
		{service: "rds", body: "Action=RestoreDBInstanceFromDBSnapshot&DBInstanceIdentifier=a&DBSnapshotIdentifier=arn:aws:rds:us-east-1:1:snapshot:x"},
		{service: "rds", body: "Action=CopyDBSnapshot&SourceDBSnapshotIdentifier=arn:aws:rds:&TargetDBSnapshotIdentifier=b"},
		{service: "rds", body: "Action=DeleteDBInstance&DBInstanceIdentifier=kaigo-subsys-prod&SkipFinalSnapshot=true"},
		{service: "rds", body: "Action=RestoreDBInstanceToPointInTime&SourceDBInstanceIdentifier=kaigo-subsys-prod&TargetDBInstanceIdentifier=p&RestoreTime=2025"},
		{service: "elasticache", body: "Action=CreateReplicationGroup&ReplicationGroupId=x&ReplicationGroupDescription=d&NumCacheClusters=-1"},
		{service: "ec2", body: "Action=DescribeSubnets&Filter.1.Name=tag:Name&Filter.1.Value.1=[&SubnetId.1=x"},
		{service: "elasticloadbalancing", body: "Action=DescribeTargetHealth&TargetGroupArn=%ff"},
		{service: "sns", body: "Action=Publish&Message=m"},
		{service: "ecs", headers: ecsTarget, body: `{"cluster":"kaigo-subsys-dr","service":"kaigo-subsys-dr-service","desiredCount":-5,"taskDefinition":"kaigo-subsys-dr:0"}`},
		{service: "ecs", headers: map[string]string{"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition"}, body: `{"family":"f","containerDefinitions":[{}]}`},
		{service: "secretsmanager", headers: map[string]string{"X-Amz-Target": "secretsmanager.PutSecretValue"}, body: `{"SecretId":"kaigo-subsys/dr/db-endpoint","SecretBinary":"AAE="}`},
		{service: "health", headers: map[string]string{"X-Amz-Target": "AWSHealth_20160804.DescribeEvents"}, body: `{"filter":{"regions":[1]}}`},
		{service: "backup", method: "PUT", path: "/restore-jobs", body: `{"RecoveryPointArn":"x","Metadata":{"a":1}}`},
		{service: "backup", method: "GET", path: "/backup-vaults/%25zz%2F/recovery-points"},
		{service: "elasticfilesystem", method: "GET", path: "/2015-02-01/file-systems?FileSystemId=fs-1"},
		{service: "route53", region: "us-east-1", path: "/2013-04-01/hostedzone/Z1234567890ABC/rrset", body: `<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>DELETE</Action><ResourceRecordSet><Name>.</Name><Type>A</Type><AliasTarget><DNSName></DNSName></AliasTarget></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`},
		{service: "route53", region: "us-east-1", method: "GET", path: "/2013-04-01/testdnsanswer?hostedzoneid=Z1234567890ABC&recordname=api.kaigo-subsys.example.com&recordtype=A"},
		{service: "monitoring", path: "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm", headers: cborHeader, body: "\xa2iAlarmNameaxqEvaluationPeriods\x3a\x7f\xff\xff\xff"},
		{service: "monitoring", path: "/service/GraniteServiceVersion20100801/operation/DescribeAlarms", headers: cborHeader, body: "\xbf\xff"},
		{service: "s3", method: "GET", path: "/kaigo-subsys-prod-backups?replication"},
	}
	for _, s := range seeds {
		f.Add(s.service, s.region, s.method, s.path, s.headers["X-Amz-Target"], s.body)
	}
	clk := newTickClock(time.Minute)
	sim, err := awssim.New(awssim.Options{Fixture: "kaigo", Now: clk.Now})
	if err != nil {
		f.Fatal(err)
	}
	h := sim.Handler()
	f.Fuzz(func(t *testing.T, service, region, method, path, target, body string) {
		switch method {
		case "GET", "PUT", "DELETE":
		default:
			method = "POST"
		}
		if _, err := url.ParseRequestURI(path); err != nil || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t#") {
			path = "/"
		}
		if strings.HasPrefix(path, "/_") {
			return // the control API and app are not request decoders
		}
		hdr := map[string]string{"Smithy-Protocol": "rpc-v2-cbor"}
		if target != "" && !strings.ContainsAny(target, "\r\n\x00") {
			hdr["X-Amz-Target"] = target
		}
		if strings.ContainsAny(service+region, "/, \r\n\x00") {
			return
		}
		req := rawReq{service: service, region: region, method: method, path: path, headers: hdr, body: body}.build()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %s: status %d: %s", service, method, path, rec.Code, rec.Body.String())
		}
	})
}
