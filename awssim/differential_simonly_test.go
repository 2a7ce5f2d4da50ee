package awssim_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/health"
	healthtypes "github.com/aws/aws-sdk-go-v2/service/health/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/kirikae/kirikae/awssim"
)

// simCheck holds awssim to AWS's documented behaviour where moto cannot be asked. A failed
// expectation is a line like a difference ("<label>: <what>"), so awssimPending can name it.
type simCheck struct {
	t      *testing.T
	e      *env
	ctx    context.Context
	checks int
	lines  []string
}

func (c *simCheck) expect(label string, ok bool, format string, args ...any) {
	c.checks++
	if !ok {
		c.lines = append(c.lines, label+": "+fmt.Sprintf(format, args...))
	}
}

// code expects err to be the AWS error code with the HTTP status the API model gives it.
func (c *simCheck) code(label string, err error, want string, status int) {
	got := outcome(err)
	c.expect(label, got == want, "outcome: awssim %s, AWS %s", got, want)
	c.expect(label, httpStatus(err) == status, "status: awssim %d, AWS %d", httpStatus(err), status)
}

// fields expects each named field of the shape to be present: the ones the AWS API reference
// lists in the response and AWS always sets for this resource.
func (c *simCheck) fields(label string, out any, paths ...string) {
	shape := shapeOf(out)
	for _, p := range paths {
		c.expect(label, shape[p] != "", "field %s: awssim absent, AWS documents it", p)
	}
}

func httpStatus(err error) int {
	if err == nil {
		return 200
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// simTestDNSAnswer: https://docs.aws.amazon.com/Route53/latest/APIReference/API_TestDNSAnswer.html
// (every response element is required; NoSuchHostedZone is 404).
func simTestDNSAnswer(c *simCheck) {
	r := route53.NewFromConfig(c.e.cfg(east))
	out, err := r.TestDNSAnswer(c.ctx, &route53.TestDNSAnswerInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID),
		RecordName: aws.String(awssim.KaigoAPIName), RecordType: r53types.RRTypeA})
	c.code("the API name", err, "ok", 200)
	if err == nil {
		c.fields("the API name", out, "Nameserver", "Protocol", "RecordData", "RecordName", "RecordType", "ResponseCode")
		c.expect("the API name", aws.ToString(out.ResponseCode) == "NOERROR", "ResponseCode %q, want NOERROR", aws.ToString(out.ResponseCode))
	}
	out, err = r.TestDNSAnswer(c.ctx, &route53.TestDNSAnswerInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID),
		RecordName: aws.String("nothing.kaigo-subsys.example.com"), RecordType: r53types.RRTypeA})
	c.code("a name with no records", err, "ok", 200)
	if err == nil {
		c.expect("a name with no records", aws.ToString(out.ResponseCode) == "NXDOMAIN", "ResponseCode %q, want NXDOMAIN", aws.ToString(out.ResponseCode))
	}
	_, err = r.TestDNSAnswer(c.ctx, &route53.TestDNSAnswerInput{HostedZoneId: aws.String("ZNOSUCHZONE"),
		RecordName: aws.String(awssim.KaigoAPIName), RecordType: r53types.RRTypeA})
	c.code("unknown zone", err, "NoSuchHostedZone", 404)
}

// simHealthDescribeEvents: https://docs.aws.amazon.com/health/latest/APIReference/API_DescribeEvents.html
// and API_Event.html; the runbook's step 1 filter.
func simHealthDescribeEvents(c *simCheck) {
	arn := c.e.sim.OpenHealthEvent(awssim.HealthEvent{Region: east})
	h := health.NewFromConfig(c.e.cfg(east))
	out, err := h.DescribeEvents(c.ctx, &health.DescribeEventsInput{Filter: &healthtypes.EventFilter{
		EventTypeCategories: []healthtypes.EventTypeCategory{healthtypes.EventTypeCategoryIssue}}})
	c.code("issues (runbook step 1)", err, "ok", 200)
	if err == nil {
		c.expect("issues (runbook step 1)", len(out.Events) == 1 && aws.ToString(out.Events[0].Arn) == arn, "want the open event, got %d events", len(out.Events))
		c.fields("issues (runbook step 1)", out, "Events[].Arn", "Events[].Service", "Events[].EventTypeCode", "Events[].EventTypeCategory",
			"Events[].Region", "Events[].StartTime", "Events[].LastUpdatedTime", "Events[].StatusCode", "Events[].EventScopeCode")
	}
	out, err = h.DescribeEvents(c.ctx, &health.DescribeEventsInput{Filter: &healthtypes.EventFilter{Regions: []string{west}}})
	c.code("another region", err, "ok", 200)
	if err == nil {
		c.expect("another region", len(out.Events) == 0, "want no event in us-west-2, got %d", len(out.Events))
	}
	c.e.sim.CloseHealthEvent(east, arn)
	out, err = h.DescribeEvents(c.ctx, &health.DescribeEventsInput{Filter: &healthtypes.EventFilter{
		EventStatusCodes: []healthtypes.EventStatusCode{healthtypes.EventStatusCodeClosed}}})
	c.code("closed", err, "ok", 200)
	if err == nil {
		c.fields("closed", out, "Events[].EndTime")
	}
	// The paginator the executors use stops when nextToken is absent; a token that Health
	// never issued is InvalidPaginationToken (400).
	_, err = h.DescribeEvents(c.ctx, &health.DescribeEventsInput{NextToken: aws.String("not-a-token-health-issued")})
	c.code("a nextToken Health never issued", err, "InvalidPaginationToken", 400)
}

// simBackupRecoveryPoints: https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListRecoveryPointsByBackupVault.html
// (ResourceNotFoundException is "HTTP Status Code: 400" there; the API model gives it no
// other status, and Smithy's default for a client error is 400).
func simBackupRecoveryPoints(c *simCheck) {
	b := backup.NewFromConfig(c.e.cfg(west))
	out, err := b.ListRecoveryPointsByBackupVault(c.ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String(awssim.KaigoDRVault)})
	c.code("the DR vault (runbook step 6)", err, "ok", 200)
	if err == nil {
		c.expect("the DR vault (runbook step 6)", len(out.RecoveryPoints) == 7, "want the fixture's 7 recovery points, got %d", len(out.RecoveryPoints))
		c.fields("the DR vault (runbook step 6)", out, "RecoveryPoints[].RecoveryPointArn", "RecoveryPoints[].BackupVaultName",
			"RecoveryPoints[].BackupVaultArn", "RecoveryPoints[].ResourceArn", "RecoveryPoints[].ResourceType", "RecoveryPoints[].CreationDate",
			"RecoveryPoints[].Status", "RecoveryPoints[].IamRoleArn")
	}
	out, err = b.ListRecoveryPointsByBackupVault(c.ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String(awssim.KaigoDRVault),
		ByResourceType: aws.String("RDS")})
	c.code("by a resource type it has none of", err, "ok", 200)
	if err == nil {
		c.expect("by a resource type it has none of", len(out.RecoveryPoints) == 0, "want none, got %d", len(out.RecoveryPoints))
	}
	_, err = b.ListRecoveryPointsByBackupVault(c.ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("no-such-vault")})
	c.code("unknown vault", err, "ResourceNotFoundException", 400)
}

// simBackupRestore: StartRestoreJob and DescribeRestoreJob, as the runbook's step 6 runs them.
// https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartRestoreJob.html and
// API_DescribeRestoreJob.html (ResourceNotFoundException: HTTP 400).
func simBackupRestore(c *simCheck) {
	b := backup.NewFromConfig(c.e.cfg(west))
	pts, err := b.ListRecoveryPointsByBackupVault(c.ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String(awssim.KaigoDRVault)})
	if err != nil || len(pts.RecoveryPoints) == 0 {
		c.t.Fatalf("recovery points: %v", err)
	}
	in := &backup.StartRestoreJobInput{RecoveryPointArn: pts.RecoveryPoints[0].RecoveryPointArn,
		Metadata:   map[string]string{"file-system-id": "fs-dr", "PerformanceMode": "generalPurpose", "Encrypted": "true", "newFileSystem": "true"},
		IamRoleArn: aws.String("arn:aws:iam::" + awssim.AccountID + ":role/AWSBackupDefaultServiceRole"), IdempotencyToken: aws.String("diff-restore-1")}
	start, err := b.StartRestoreJob(c.ctx, in)
	c.code("restore (runbook step 6)", err, "ok", 200)
	if err != nil {
		return
	}
	c.fields("restore (runbook step 6)", start, "RestoreJobId")
	again, err := b.StartRestoreJob(c.ctx, in)
	c.code("the same idempotency token", err, "ok", 200)
	if err == nil {
		c.expect("the same idempotency token", aws.ToString(again.RestoreJobId) == aws.ToString(start.RestoreJobId), "a second job %s", aws.ToString(again.RestoreJobId))
	}
	job, err := b.DescribeRestoreJob(c.ctx, &backup.DescribeRestoreJobInput{RestoreJobId: start.RestoreJobId})
	c.code("the job at once", err, "ok", 200)
	if err == nil {
		c.fields("the job at once", job, "AccountId", "RestoreJobId", "RecoveryPointArn", "CreationDate", "Status", "IamRoleArn", "ResourceType", "PercentDone")
		c.expect("the job at once", job.Status == "PENDING" || job.Status == "RUNNING", "status %s, want PENDING or RUNNING", job.Status)
	}
	c.e.clock.Advance(2 * time.Hour)
	job, err = b.DescribeRestoreJob(c.ctx, &backup.DescribeRestoreJobInput{RestoreJobId: start.RestoreJobId})
	c.code("the job when done", err, "ok", 200)
	if err == nil {
		c.expect("the job when done", job.Status == "COMPLETED", "status %s, want COMPLETED", job.Status)
		c.fields("the job when done", job, "CompletionDate", "CreatedResourceArn")
	}
	_, err = b.DescribeRestoreJob(c.ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String("no-such-job")})
	c.code("unknown job", err, "ResourceNotFoundException", 400)
	bad := *in
	bad.RecoveryPointArn, bad.IdempotencyToken = aws.String("arn:aws:backup:us-west-2:"+awssim.AccountID+":recovery-point:no-such-point"), nil
	_, err = b.StartRestoreJob(c.ctx, &bad)
	c.code("unknown recovery point", err, "ResourceNotFoundException", 400)
}

// cloudWatchKinds folds the SDK's scalar kinds into the "value" of the JSON and XML shapes,
// so the SDK's rpcv2Cbor answers can be compared with the awsJson1_0 ones.
func cloudWatchKinds(shape map[string]string) map[string]string {
	out := make(map[string]string, len(shape))
	for p, k := range shape {
		kind, n, _ := strings.Cut(k, "×")
		switch kind {
		case "struct", "list", "map":
		default:
			kind = "value"
		}
		out[p] = kind + "×" + n
	}
	return out
}

// cwCBOR sends one CloudWatch request through the SDK (rpcv2Cbor) to awssim; the parameters
// go into the SDK's input by their names.
func (d *diffRun) cwCBOR(region, label, op string, p cwParams) observation {
	d.t.Helper()
	c := cloudwatch.NewFromConfig(d.cfg(region))
	var out any
	var err error
	d.status = 0
	switch op {
	case "PutMetricAlarm":
		in := &cloudwatch.PutMetricAlarmInput{}
		fill(d, p, in)
		out, err = c.PutMetricAlarm(d.ctx, in)
	case "DescribeAlarms":
		in := &cloudwatch.DescribeAlarmsInput{}
		fill(d, p, in)
		out, err = c.DescribeAlarms(d.ctx, in)
	case "DeleteAlarms":
		in := &cloudwatch.DeleteAlarmsInput{}
		fill(d, p, in)
		out, err = c.DeleteAlarms(d.ctx, in)
	default:
		d.t.Fatalf("cwCBOR: no SDK call for %s", op)
	}
	o := observation{label: label, outcome: outcome(err), status: d.status}
	if err == nil {
		o.shape = cloudWatchKinds(shapeOf(out))
	}
	return o
}

func simIAMSimulate(c *simCheck) {
	api := iam.NewFromConfig(c.e.cfg(east))
	user := "arn:aws:iam::" + awssim.AccountID + ":user/" + awssim.IAMUser
	out, err := api.SimulatePrincipalPolicy(c.ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(user),
		ActionNames: []string{"rds:DescribeDBInstances"}, ResourceArns: []string{"*"}})
	c.code("the caller itself", err, "ok", 200)
	if err == nil {
		c.expect("the caller itself", len(out.EvaluationResults) == 1 && out.EvaluationResults[0].EvalDecision == "allowed",
			"want one allowed result without enforcement, got %v", out.EvaluationResults)
	}
	_, err = api.SimulatePrincipalPolicy(c.ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::" + awssim.AccountID + ":user/nobody"),
		ActionNames: []string{"rds:DescribeDBInstances"}})
	c.code("another user", err, "NoSuchEntity", 404)
}
