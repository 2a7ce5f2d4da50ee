package aws

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/kirikae/kirikae/agent/action"
)

// BackupAPI is what BackupRestoreLatest calls.
type BackupAPI interface {
	backup.ListRecoveryPointsByBackupVaultAPIClient
	StartRestoreJob(context.Context, *backup.StartRestoreJobInput, ...func(*backup.Options)) (*backup.StartRestoreJobOutput, error)
	DescribeRestoreJob(context.Context, *backup.DescribeRestoreJobInput, ...func(*backup.Options)) (*backup.DescribeRestoreJobOutput, error)
}

// BackupRestoreLatest is aws.backup.restoreLatest: it restores the newest completed
// recovery point of resourceType (EFS by default) in the vault and polls the restore job
// with backoff (there is no SDK waiter for it).
//
// Idempotency: StartRestoreJob carries an IdempotencyToken derived from the run and step
// ids, so a rerun, a re-dispatch or a restart gets the job the first attempt started back
// instead of a second one. The outputs come from that job, so they name the recovery point
// it restores even if a newer one appeared since.
//
// Undo: for EFS, aws.efs.deleteFileSystem of the file system the restore job created,
// recorded as soon as the job names it. A restore always creates a new file system, and the
// job is this step's own (the idempotency token), so a rerun that gets the job back reports
// the same undo again; the control plane keeps one.
type BackupRestoreLatest struct {
	Client func(region string) (BackupAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *BackupRestoreLatest) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	vault, err := action.Str(step, "vault")
	if err != nil {
		return nil, err
	}
	rtype, err := action.OptStr(step, "resourceType", "EFS")
	if err != nil {
		return nil, err
	}
	_, role, err := action.ARN(step, "iamRoleArn", "iam", "role/")
	if err != nil {
		return nil, err
	}
	meta, err := action.Map(step, "metadata")
	if err != nil {
		return nil, err
	}
	maxAge, err := action.Dur(step, "maxAge", 0)
	if err != nil {
		return nil, err
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "Backup restore from "+vault, nil)

	points := map[string]types.RecoveryPointByBackupVault{}
	var best *types.RecoveryPointByBackupVault
	p := backup.NewListRecoveryPointsByBackupVaultPaginator(api, &backup.ListRecoveryPointsByBackupVaultInput{
		BackupVaultName: aws.String(vault), ByResourceType: aws.String(rtype),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list recovery points in %s: %w", vault, err)
		}
		for i := range page.RecoveryPoints {
			rp := page.RecoveryPoints[i]
			points[aws.ToString(rp.RecoveryPointArn)] = rp
			if rp.Status != types.RecoveryPointStatusCompleted || rp.CreationDate == nil ||
				(rp.ResourceType != nil && aws.ToString(rp.ResourceType) != rtype) {
				continue
			}
			if best == nil || rp.CreationDate.After(*best.CreationDate) {
				best = &rp
			}
		}
	}
	if best == nil {
		return nil, checkFailed("no completed %s recovery point in vault %s (%s)", rtype, vault, step.Region)
	}
	age := e.Opts.now().Sub(aws.ToTime(best.CreationDate))
	if maxAge > 0 && age > maxAge {
		tr.Report(fmt.Sprintf("newest recovery point is %s old > maxAge %s (reported, not refused)", action.Human(age), action.Human(maxAge)))
	}
	md := map[string]string{}
	if strings.EqualFold(rtype, "EFS") {
		fs := aws.ToString(best.ResourceArn)
		if i := strings.LastIndexByte(fs, '/'); i >= 0 {
			fs = fs[i+1:]
		}
		md = map[string]string{
			"file-system-id":  fs,
			"newFileSystem":   "true",
			"Encrypted":       "true",
			"PerformanceMode": "generalPurpose",
			"CreationToken":   action.Token(step, false, "efs"),
		}
	}
	for k, v := range meta {
		md[k] = v
	}
	token := action.Token(step, false, "backup.restore")
	start, err := api.StartRestoreJob(ctx, &backup.StartRestoreJobInput{
		RecoveryPointArn: best.RecoveryPointArn,
		IamRoleArn:       aws.String(role),
		Metadata:         md,
		IdempotencyToken: aws.String(token),
		ResourceType:     aws.String(rtype),
	})
	if err != nil {
		return nil, fmt.Errorf("start restore of %s: %w", aws.ToString(best.RecoveryPointArn), err)
	}
	jobID := aws.ToString(start.RestoreJobId)
	tr.Report("restore job " + jobID)
	var job *backup.DescribeRestoreJobOutput
	err = action.Poll(ctx, e.Opts.backoff(), func(ctx context.Context) (bool, error) {
		j, err := api.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String(jobID)})
		if err != nil {
			return false, fmt.Errorf("describe restore job %s: %w", jobID, err)
		}
		// The file system exists as soon as the job names it, even if the job then fails.
		if fs := efsID(aws.ToString(j.CreatedResourceArn)); fs != "" && strings.EqualFold(rtype, "EFS") {
			step.Undo.Add(action.Undo{
				Action: "aws.efs.deleteFileSystem",
				With:   map[string]any{"fileSystemId": fs},
				Note:   "delete file system " + fs + " (restored by this run from " + vault + ")",
			})
		}
		switch j.Status {
		case types.RestoreJobStatusCompleted:
			job = j
			return true, nil
		case types.RestoreJobStatusFailed, types.RestoreJobStatusAborted:
			return false, fmt.Errorf("restore job %s %s: %s", jobID, j.Status, aws.ToString(j.StatusMessage))
		}
		tr.Report(fmt.Sprintf("restore job %s %s %s", jobID, j.Status, aws.ToString(j.PercentDone)))
		return false, nil
	})
	if err != nil {
		return nil, waitErr("restore job "+jobID, err)
	}
	rpARN := aws.ToString(job.RecoveryPointArn)
	if rpARN == "" {
		rpARN = aws.ToString(best.RecoveryPointArn)
	}
	rpTime := aws.ToTime(best.CreationDate)
	if rp, ok := points[rpARN]; ok && rp.CreationDate != nil {
		rpTime = *rp.CreationDate
	}
	at := aws.ToTime(job.CreationDate)
	if at.IsZero() {
		at = e.Opts.now()
	}
	fsID := efsID(aws.ToString(job.CreatedResourceArn))
	return map[string]any{
		"restoreJobId":            jobID,
		"recoveryPointArn":        rpARN,
		"fileSystemId":            fsID,
		"recoveryPointAgeSeconds": int64(at.Sub(rpTime).Truncate(time.Second) / time.Second),
	}, nil
}

// efsID is the file system id at the end of an EFS ARN ("" for "").
func efsID(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
