package awssim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/health"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kirikae/kirikae/awssim"
)

// cliErrorCase provokes one error through the real AWS CLI. The same request through the Go
// SDK (or, for a service the SDK here has no client for, by hand) says which code and
// message awssim sent; the CLI must show both, in its own words:
// "An error occurred (Code) when calling the Op operation: message".
type cliErrorCase struct {
	form   string // the protocol and the error form
	region string
	args   []string
	env    []string // for the CLI: a wrong key, a model
	op     string   // as the CLI names it
	code   string
	// same makes the request the Go SDK way, with cfg (the wrong key when the CLI has one).
	same func(ctx context.Context, cfg aws.Config) error
	// debug, when set, must appear in the CLI's --debug log: the proof of the protocol used.
	debug string
}

// wrongKey is testCreds[0]'s access key with another secret: every signature is wrong.
var wrongKey = []string{"AWS_SECRET_ACCESS_KEY=not-the-secret"}

func cliErrorCases(t *testing.T) []cliErrorCase {
	cwModel := jsonCloudWatchModel(t)
	badAlarm := []string{"cloudwatch", "put-metric-alarm", "--alarm-name", "kaigo-subsys-dr-ecs-cpu-critical", "--metric-name", "CPUUtilization",
		"--namespace", "AWS/ECS", "--statistic", "Average", "--period", "300", "--evaluation-periods", "2", "--threshold", "90.0",
		"--comparison-operator", "Bigger"}
	putBadAlarm := func(ctx context.Context, cfg aws.Config) error {
		_, err := cloudwatch.NewFromConfig(cfg).PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("kaigo-subsys-dr-ecs-cpu-critical"),
			MetricName: aws.String("CPUUtilization"), Namespace: aws.String("AWS/ECS"), Statistic: cwtypes.StatisticAverage, Period: aws.Int32(300),
			EvaluationPeriods: aws.Int32(2), Threshold: aws.Float64(90), ComparisonOperator: "Bigger"})
		return err
	}
	return []cliErrorCase{
		{form: "awsQuery (RDS)", region: west, op: "DescribeDBInstances", code: "DBInstanceNotFound",
			args: []string{"rds", "describe-db-instances", "--db-instance-identifier", "no-such-db"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := rds.NewFromConfig(cfg).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("no-such-db")})
				return err
			}},
		{form: "awsQuery (ElastiCache)", region: west, op: "DescribeReplicationGroups", code: "ReplicationGroupNotFoundFault",
			args: []string{"elasticache", "describe-replication-groups", "--replication-group-id", "no-such-group"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := elasticache.NewFromConfig(cfg).DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("no-such-group")})
				return err
			}},
		{form: "awsQuery (ELBv2)", region: west, op: "DescribeTargetGroups", code: "TargetGroupNotFound",
			args: []string{"elbv2", "describe-target-groups", "--names", "no-such-tg"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := elbv2.NewFromConfig(cfg).DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"no-such-tg"}})
				return err
			}},
		{form: "awsQuery (SNS)", region: west, op: "Publish", code: "NotFound",
			args: []string{"sns", "publish", "--topic-arn", "arn:aws:sns:us-west-2:" + awssim.AccountID + ":no-such-topic", "--message", "m"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := sns.NewFromConfig(cfg).Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-west-2:" + awssim.AccountID + ":no-such-topic"), Message: aws.String("m")})
				return err
			}},
		{form: "awsQuery (SNS), another account's topic", region: west, op: "GetTopicAttributes", code: "AuthorizationError",
			args: []string{"sns", "get-topic-attributes", "--topic-arn", "arn:aws:sns:us-west-2:210987654321:kaigo-subsys-dr-critical-alerts"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := sns.NewFromConfig(cfg).GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String("arn:aws:sns:us-west-2:210987654321:kaigo-subsys-dr-critical-alerts")})
				return err
			}},
		{form: "awsQuery (STS), a wrong secret", region: east, op: "GetCallerIdentity", code: "SignatureDoesNotMatch", env: wrongKey,
			args: []string{"sts", "get-caller-identity"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				return err
			}},
		{form: "awsQuery (CloudWatch, the Debian CLI's own protocol)", region: west, op: "PutMetricAlarm", code: "ValidationError",
			args: append([]string{"--debug"}, badAlarm...), debug: "'Action': 'PutMetricAlarm'", same: putBadAlarm},
		{form: "awsJson1_0 (CloudWatch, as newer CLIs send it)", region: west, op: "PutMetricAlarm", code: "ValidationError",
			args: append([]string{"--debug"}, badAlarm...), env: []string{"AWS_DATA_PATH=" + cwModel},
			debug: "GraniteServiceVersion20100801.PutMetricAlarm", same: putBadAlarm},
		{form: "ec2Query (EC2)", region: west, op: "DescribeVpcs", code: "InvalidVpcID.NotFound",
			args: []string{"ec2", "describe-vpcs", "--vpc-ids", "vpc-0123456789abcdef0"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-0123456789abcdef0"}})
				return err
			}},
		{form: "ec2Query (EC2), a wrong secret", region: west, op: "DescribeVpcs", code: "AuthFailure", env: wrongKey,
			args: []string{"ec2", "describe-vpcs"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
				return err
			}},
		{form: "restXml (Route 53 ErrorResponse)", region: east, op: "ListResourceRecordSets", code: "NoSuchHostedZone",
			args: []string{"route53", "list-resource-record-sets", "--hosted-zone-id", "ZNOSUCHZONE"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := route53.NewFromConfig(cfg).ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("ZNOSUCHZONE")})
				return err
			}},
		{form: "restXml (Route 53 InvalidChangeBatch)", region: east, op: "ChangeResourceRecordSets", code: "InvalidChangeBatch",
			args: []string{"route53", "change-resource-record-sets", "--hosted-zone-id", awssim.KaigoHostedZoneID, "--change-batch",
				`{"Changes":[{"Action":"CREATE","ResourceRecordSet":{"Name":"status.kaigo-subsys.example.com","Type":"CNAME","TTL":60,"ResourceRecords":[{"Value":"status.example.net"}]}}]}`},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := route53.NewFromConfig(cfg).ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID),
					ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
						Name: aws.String("status.kaigo-subsys.example.com"), Type: r53types.RRTypeCname, TTL: aws.Int64(60),
						ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("status.example.net")}}}}}}})
				return err
			}},
		{form: "restXml (Route 53), a wrong secret", region: east, op: "ListResourceRecordSets", code: "SignatureDoesNotMatch", env: wrongKey,
			args: []string{"route53", "list-resource-record-sets", "--hosted-zone-id", awssim.KaigoHostedZoneID},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := route53.NewFromConfig(cfg).ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID)})
				return err
			}},
		{form: "restXml (S3 Error)", region: west, op: "GetBucketReplication", code: "ReplicationConfigurationNotFoundError",
			args: []string{"s3api", "get-bucket-replication", "--bucket", "kaigo-subsys-dr-backups"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String("kaigo-subsys-dr-backups")})
				return err
			}},
		{form: "restXml (S3), a wrong secret", region: west, op: "GetBucketReplication", code: "SignatureDoesNotMatch", env: wrongKey,
			args: []string{"s3api", "get-bucket-replication", "--bucket", awssim.KaigoProdBucket},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String(awssim.KaigoProdBucket)})
				return err
			}},
		{form: "restJson1 (EFS)", region: east, op: "DescribeFileSystems", code: "FileSystemNotFound",
			args: []string{"efs", "describe-file-systems", "--file-system-id", "fs-0123456789abcdef0"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := efs.NewFromConfig(cfg).DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String("fs-0123456789abcdef0")})
				return err
			}},
		{form: "restJson1 (Backup)", region: west, op: "DescribeRestoreJob", code: "ResourceNotFoundException",
			args: []string{"backup", "describe-restore-job", "--restore-job-id", "no-such-job"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := backup.NewFromConfig(cfg).DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String("no-such-job")})
				return err
			}},
		{form: "restJson1 (Backup), a page size out of range", region: west, op: "ListBackupVaults", code: "InvalidParameterValueException",
			args: []string{"backup", "list-backup-vaults", "--max-results", "1001"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := backup.NewFromConfig(cfg).ListBackupVaults(ctx, &backup.ListBackupVaultsInput{MaxResults: aws.Int32(1001)})
				return err
			}},
		{form: "restJson1 (EFS), a wrong secret", region: east, op: "DescribeFileSystems", code: "InvalidSignatureException", env: wrongKey,
			args: []string{"efs", "describe-file-systems"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := efs.NewFromConfig(cfg).DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{})
				return err
			}},
		{form: "awsJson1_1 (ECS)", region: west, op: "UpdateService", code: "ServiceNotFoundException",
			args: []string{"ecs", "update-service", "--cluster", awssim.KaigoDRCluster, "--service", "no-such-service", "--desired-count", "1"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := ecs.NewFromConfig(cfg).UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(awssim.KaigoDRCluster), Service: aws.String("no-such-service"), DesiredCount: aws.Int32(1)})
				return err
			}},
		{form: "awsJson1_1 (Secrets Manager)", region: west, op: "GetSecretValue", code: "ResourceNotFoundException",
			args: []string{"secretsmanager", "get-secret-value", "--secret-id", "kaigo-subsys/dr/nope"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("kaigo-subsys/dr/nope")})
				return err
			}},
		{form: "awsJson1_1 (Health), a wrong secret", region: east, op: "DescribeEvents", code: "InvalidSignatureException", env: wrongKey,
			args: []string{"health", "describe-events"},
			same: func(ctx context.Context, cfg aws.Config) error {
				_, err := health.NewFromConfig(cfg).DescribeEvents(ctx, &health.DescribeEventsInput{})
				return err
			}},
	}
}

// TestAWSCLIErrorForms provokes an error of every form awssim sends, in every protocol it
// speaks, through the real AWS CLI v2, and checks the CLI reports the error code and message
// awssim sent. rpcv2Cbor is the exception: no AWS CLI release this machine has speaks it
// (Debian's 2.9 sends awsQuery to CloudWatch, newer ones awsJson1_0), so the CBOR error is
// read through the Go SDK, whose default protocol for CloudWatch it is, and must carry the
// code and message the CLI showed for the same request in the other two.
func TestAWSCLIErrorForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	newCLI(t, e.endpoint) // skips or fails before any case runs when the CLI is missing
	cases := cliErrorCases(t)
	var cwMessage string
	for _, c := range cases {
		if c.op == "PutMetricAlarm" {
			cwMessage = sdkError(t, c, e).message
		}
	}
	for _, c := range cases {
		t.Run(c.form, func(t *testing.T) {
			t.Parallel()
			want := sdkError(t, c, e)
			if want.code != c.code {
				t.Fatalf("the Go SDK reads code %q, want %q (message %q)", want.code, c.code, want.message)
			}
			if want.message == "" {
				t.Fatalf("awssim sent %s without a message", c.code)
			}
			cli := newCLI(t, e.endpoint)
			cli.Env = c.env
			res := cli.run(c.region, c.args...)
			if res.Code != 254 {
				t.Errorf("exit code %d, want 254 (the service answered with an error)", res.Code)
			}
			line := cliErrorLine(t, res.Stderr, c.code, c.op, want.message)
			if c.debug != "" && !strings.Contains(res.Stderr, c.debug) {
				t.Errorf("the --debug log lacks %q: the CLI did not use the protocol this case is for\n%s", c.debug, grepLines(res.Stderr, c.op))
			}
			t.Logf("%s: %s", c.form, line)
		})
	}
	t.Run("rpcv2Cbor (CloudWatch, the Go SDK's protocol)", func(t *testing.T) {
		t.Parallel()
		var cbor cliErrorCase
		for _, c := range cases {
			if c.op == "PutMetricAlarm" {
				cbor = c
			}
		}
		got := sdkError(t, cbor, e)
		if got.code != "ValidationError" || got.message != cwMessage || got.status != http.StatusBadRequest {
			t.Fatalf("rpcv2Cbor: %s %q (HTTP %d), want ValidationError %q (HTTP 400) as the CLI showed", got.code, got.message, got.status, cwMessage)
		}
		if !cborErrorOnWire(t, e) {
			t.Fatal("the CloudWatch error was not sent as rpcv2Cbor")
		}
	})
	// UnknownService comes in the caller's protocol: awsQuery (CloudFormation) and restXml
	// (CloudFront) callers read XML, awsJson (DynamoDB) and restJson (Lambda) ones JSON.
	t.Run("UnknownService (a service awssim does not simulate)", func(t *testing.T) {
		t.Parallel()
		code, message := rawError(t, e, "cloudformation", east, "Action=ListStacks&Version=2010-05-15")
		if code != "UnknownService" || message != `awssim does not simulate service "cloudformation"` {
			t.Fatalf("awssim answered %q %q for CloudFormation", code, message)
		}
		for _, c := range []struct{ form, service, command, op string }{
			{"awsQuery (CloudFormation)", "cloudformation", "list-stacks", "ListStacks"},
			{"restXml (CloudFront)", "cloudfront", "list-distributions", "ListDistributions"},
			{"awsJson1_0 (DynamoDB)", "dynamodb", "list-tables", "ListTables"},
			{"restJson1 (Lambda)", "lambda", "list-functions", "ListFunctions"},
		} {
			t.Run(c.form, func(t *testing.T) {
				t.Parallel()
				res := newCLI(t, e.endpoint).run(east, c.service, c.command)
				if res.Code != 254 {
					t.Errorf("exit code %d, want 254", res.Code)
				}
				cliErrorLine(t, res.Stderr, "UnknownService", c.op, fmt.Sprintf("awssim does not simulate service %q", c.service))
			})
		}
	})
	t.Run("MissingAuthenticationToken (an unsigned request)", func(t *testing.T) {
		t.Parallel()
		code, message := rawUnsignedError(t, e)
		if code != "MissingAuthenticationToken" || message == "" {
			t.Fatalf("awssim answered %q %q to an unsigned request", code, message)
		}
		res := newCLI(t, e.endpoint).run(east, "--no-sign-request", "sts", "get-caller-identity")
		if res.Code != 254 {
			t.Errorf("exit code %d, want 254", res.Code)
		}
		cliErrorLine(t, res.Stderr, code, "GetCallerIdentity", message)
	})
}

type apiErr struct {
	code, message string
	status        int
}

// sdkError makes c's request through the Go SDK and returns the error it read.
func sdkError(t *testing.T, c cliErrorCase, e *env) apiErr {
	t.Helper()
	cfg := e.cfg(c.region)
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	for _, kv := range c.env {
		if secret, ok := strings.CutPrefix(kv, "AWS_SECRET_ACCESS_KEY="); ok {
			cfg.Credentials = credentials.NewStaticCredentialsProvider(testCreds[0].AccessKeyID, secret, "")
		}
	}
	c2, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := c.same(c2, cfg)
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("%s through the Go SDK: want an API error, got %v", c.form, err)
	}
	return apiErr{code: ae.ErrorCode(), message: ae.ErrorMessage(), status: httpStatus(err)}
}

// jsonCloudWatchModel writes the CLI's own CloudWatch model switched to awsJson1_0, as
// botocore's newer models offer it ("protocols": [..., "json", "query"], target prefix
// GraniteServiceVersion20100801), into a directory for AWS_DATA_PATH.
func jsonCloudWatchModel(t *testing.T) string {
	t.Helper()
	const src = "/usr/lib/python3/dist-packages/awscli/botocore/data/cloudwatch/2010-08-01/service-2.json"
	raw, err := os.ReadFile(src)
	if err != nil {
		requireTool(t, src, "apt-get install -y awscli")
		t.Fatal(err)
	}
	var model map[string]any
	if err := json.Unmarshal(raw, &model); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	meta, _ := model["metadata"].(map[string]any)
	if meta == nil {
		t.Fatalf("%s has no metadata", src)
	}
	meta["protocol"], meta["jsonVersion"], meta["targetPrefix"] = "json", "1.0", "GraniteServiceVersion20100801"
	meta["awsQueryCompatible"] = map[string]any{}
	out, err := json.Marshal(model)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "cloudwatch", "2010-08-01")
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "service-2.json"), out, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// cborErrorOnWire sends the bad alarm the way the SDK does and checks the answer's framing.
func cborErrorOnWire(t *testing.T, e *env) bool {
	t.Helper()
	cfg := e.cfg(west)
	var ctype, smithyProto string
	cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil {
			ctype, smithyProto = resp.Header.Get("Content-Type"), resp.Header.Get("Smithy-Protocol")
		}
		return resp, err
	})}
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	_, err := cloudwatch.NewFromConfig(cfg).PutMetricAlarm(context.Background(), &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"),
		EvaluationPeriods: aws.Int32(1), ComparisonOperator: "Bigger"})
	return err != nil && ctype == "application/cbor" && smithyProto == "rpc-v2-cbor"
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// rawError sends a signed awsQuery request for a service the SDK here has no client for and
// returns the error code and message awssim answered with, whatever the form.
func rawError(t *testing.T, e *env, service, region, form string) (code, message string) {
	t.Helper()
	body := []byte(form)
	req, _ := http.NewRequest(http.MethodPost, e.endpoint+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	d := &diffRun{t: t, ctx: context.Background(), backend: "awssim", endpoint: e.endpoint}
	resp := d.signed(service, region, req, body)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var j struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &j) == nil && j.Type != "" {
		return j.Type, j.Message
	}
	if tree, err := parseXMLTree(raw); err == nil {
		if m := tree.child("Message"); m != nil {
			message = m.text
		}
		return xmlErrorCode(tree), message
	}
	t.Fatalf("%s: neither a JSON nor an XML error: %q", service, raw)
	return "", ""
}

// cliErrorLine finds the CLI's error line, "An error occurred (Code) when calling the Op
// operation: message" (botocore puts "(reached max retries: N)" after the operation when it
// counts attempts), and fails the test without it.
func cliErrorLine(t *testing.T, stderr, code, op, message string) string {
	t.Helper()
	line := cliErrorRE(code, op, message).FindString(stderr)
	if line == "" {
		t.Errorf("the CLI's stderr lacks the error line with code %s and message %q\nstderr (last lines):\n%s", code, message, lastLines(stderr, 6))
	}
	return strings.TrimSpace(line)
}

func cliErrorRE(code, op, message string) *regexp.Regexp {
	return regexp.MustCompile(`An error occurred \(` + regexp.QuoteMeta(code) + `\) when calling the ` + regexp.QuoteMeta(op) +
		` operation( \(reached max retries: \d+\))?: ` + regexp.QuoteMeta(message) + `\n`)
}

// rawUnsignedError sends an unsigned awsQuery request and returns awssim's error.
func rawUnsignedError(t *testing.T, e *env) (code, message string) {
	t.Helper()
	resp, err := http.Post(e.endpoint+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	tree, err := parseXMLTree(raw)
	if err != nil {
		t.Fatalf("unsigned request: not XML: %q", raw)
	}
	if m := tree.child("Message"); m != nil {
		message = m.text
	}
	return xmlErrorCode(tree), message
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return lastLines(strings.Join(out, "\n"), 8)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
