package aws

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/human"
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
// Undo: aws.backup.deleteRestored of the restore job, recorded the moment StartRestoreJob
// answers, before anything is waited for. AWS Backup cannot cancel a restore, and a job
// names what it creates only once it is done, so an undo keyed on the file system could not
// be recorded for a step aborted while its job ran: the file system would appear later,
// owned by nobody. The job is this step's own (the idempotency token), so a rerun that gets
// it back reports the same undo again; the control plane keeps one.
type BackupRestoreLatest struct {
	Client func(region string) (BackupAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *BackupRestoreLatest) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.RestoreLatest)
	if err != nil {
		return nil, err
	}
	if _, err := action.CheckARN("iamRoleArn", in.IAMRoleARN, "iam", "role/"); err != nil {
		return nil, err
	}
	vault, rtype, maxAge := in.Vault, cmp.Or(in.ResourceType, "EFS"), time.Duration(in.MaxAge)
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
		tr.Report(fmt.Sprintf("newest recovery point is %s old > maxAge %s (reported, not refused)", human.Duration(age), human.Duration(maxAge)))
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
	maps.Copy(md, in.Metadata)
	token := action.Token(step, false, "backup.restore")
	start, err := api.StartRestoreJob(ctx, &backup.StartRestoreJobInput{
		RecoveryPointArn: best.RecoveryPointArn,
		IamRoleArn:       aws.String(in.IAMRoleARN),
		Metadata:         md,
		IdempotencyToken: aws.String(token),
		ResourceType:     aws.String(rtype),
	})
	if err != nil {
		return nil, fmt.Errorf("start restore of %s: %w", aws.ToString(best.RecoveryPointArn), err)
	}
	jobID := aws.ToString(start.RestoreJobId)
	step.Undo.Add(action.Undo{
		Action: catalog.DeleteRestoredJob.Name,
		With:   map[string]any{"restoreJobId": jobID},
		Note:   "delete what restore job " + jobID + " creates (started by this run from " + vault + ")",
	})
	tr.Report("restore job " + jobID)
	var job *backup.DescribeRestoreJobOutput
	err = action.Poll(ctx, e.Opts.backoff(), func(ctx context.Context) (bool, error) {
		j, err := api.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String(jobID)})
		if err != nil {
			return false, fmt.Errorf("describe restore job %s: %w", jobID, err)
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
	return action.Outputs(catalog.RestoreLatest, catalog.RestoreLatestOut{
		RestoreJobID:            jobID,
		RecoveryPointARN:        rpARN,
		FileSystemID:            fsID,
		RecoveryPointAgeSeconds: int64(at.Sub(rpTime).Truncate(time.Second) / time.Second),
	})
}

// efsID is the file system id at the end of an EFS ARN ("" for "").
func efsID(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// BackupJobAPI is what BackupDeleteRestored reads of AWS Backup.
type BackupJobAPI interface {
	DescribeRestoreJob(context.Context, *backup.DescribeRestoreJobInput, ...func(*backup.Options)) (*backup.DescribeRestoreJobOutput, error)
}

// BackupDeleteRestored is aws.backup.deleteRestored, the undo of aws.backup.restoreLatest:
// it waits until the restore job has ended (AWS Backup cannot stop a restore), then deletes
// the EFS file system the job created, as aws.efs.deleteFileSystem does. A job that ended
// without creating anything leaves nothing to delete.
//
// Idempotency: the job's record names the same resource every time, and a file system
// that is gone counts as deleted. A job that created something other than an EFS file
// system is refused, naming it, for a person to remove: this undo deletes nothing it cannot
// identify.
type BackupDeleteRestored struct {
	Backup func(region string) (BackupJobAPI, error)
	EFS    func(region string) (EFSDeleteAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *BackupDeleteRestored) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.DeleteRestoredJob)
	if err != nil {
		return nil, err
	}
	jobID := in.RestoreJobID
	api, err := e.Backup(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "restore job "+jobID, nil)
	var job *backup.DescribeRestoreJobOutput
	err = action.Poll(ctx, e.Opts.backoff(), func(ctx context.Context) (bool, error) {
		j, err := api.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String(jobID)})
		if isCode(err, "ResourceNotFoundException") {
			return false, guard("restore job %s is not known to AWS Backup in %s: find what it restored and delete it by hand", jobID, step.Region)
		}
		if err != nil {
			return false, fmt.Errorf("describe restore job %s: %w", jobID, err)
		}
		switch j.Status {
		case types.RestoreJobStatusCompleted, types.RestoreJobStatusFailed, types.RestoreJobStatusAborted:
			job = j
			return true, nil
		}
		tr.Report(fmt.Sprintf("waiting for the job to end before deleting what it creates: %s %s", j.Status, aws.ToString(j.PercentDone)))
		return false, nil
	})
	if err != nil {
		return nil, waitErr("restore job "+jobID+" to end", err)
	}
	created := aws.ToString(job.CreatedResourceArn)
	if created == "" {
		tr.Report(fmt.Sprintf("ended %s without creating anything", job.Status))
		return action.Outputs(catalog.DeleteRestoredJob, catalog.DeleteRestoredJobOut{Deleted: false, FileSystemID: ""})
	}
	if !strings.Contains(created, ":elasticfilesystem:") || !strings.Contains(created, ":file-system/") {
		return nil, guard("restore job %s created %s, which is not an EFS file system; this undo deletes only those: delete it by hand", jobID, created)
	}
	fs := efsID(created)
	efsAPI, err := e.EFS(step.Region)
	if err != nil {
		return nil, err
	}
	if err := deleteFileSystem(ctx, efsAPI, fs, action.NewTracker(progress, "EFS "+fs, nil), e.Opts); err != nil {
		return nil, err
	}
	return action.Outputs(catalog.DeleteRestoredJob, catalog.DeleteRestoredJobOut{Deleted: true, FileSystemID: fs})
}
