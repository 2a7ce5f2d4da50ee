package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/efs/types"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
)

// EFSDeleteAPI is what EFSDeleteFileSystem calls.
type EFSDeleteAPI interface {
	efs.DescribeFileSystemsAPIClient
	DeleteFileSystem(context.Context, *efs.DeleteFileSystemInput, ...func(*efs.Options)) (*efs.DeleteFileSystemOutput, error)
}

func describeFileSystem(ctx context.Context, api efs.DescribeFileSystemsAPIClient, id string) (*types.FileSystemDescription, error) {
	out, err := api.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(id)})
	if isCode(err, "FileSystemNotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe file system %s: %w", id, err)
	}
	for i := range out.FileSystems {
		if aws.ToString(out.FileSystems[i].FileSystemId) == id {
			return &out.FileSystems[i], nil
		}
	}
	return nil, nil
}

// EFSDeleteFileSystem is aws.efs.deleteFileSystem, the undo of an EFS restore: it deletes the
// file system and polls with backoff until it is gone (there is no SDK waiter for that).
// EFS refuses while the file system has mount targets (FileSystemInUse); the executor does
// not remove them, since nothing in the catalog creates them.
//
// Idempotency: a file system that is not there counts as deleted; one already "deleting"
// is only waited for.
type EFSDeleteFileSystem struct {
	Client func(region string) (EFSDeleteAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *EFSDeleteFileSystem) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.DeleteFileSystem)
	if err != nil {
		return nil, err
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	if err := deleteFileSystem(ctx, api, in.FileSystemID, action.NewTracker(progress, "EFS "+in.FileSystemID, nil), e.Opts); err != nil {
		return nil, err
	}
	return action.Outputs(catalog.DeleteFileSystem, catalog.DeletedOut{Deleted: true})
}

// deleteFileSystem deletes file system id and polls until it is gone; a file system that
// is not there counts as deleted, and one already deleting is only waited for.
func deleteFileSystem(ctx context.Context, api EFSDeleteAPI, id string, tr *action.Tracker, opts Options) error {
	fs, err := describeFileSystem(ctx, api, id)
	if err != nil {
		return err
	}
	if fs == nil || fs.LifeCycleState == types.LifeCycleStateDeleted {
		tr.Report("already gone")
		return nil
	}
	if fs.LifeCycleState != types.LifeCycleStateDeleting {
		tr.Report("deleting (" + string(fs.LifeCycleState) + ")")
		_, err := api.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: aws.String(id)})
		if isCode(err, "FileSystemNotFound") {
			return nil
		}
		if err != nil {
			return fmt.Errorf("delete file system %s: %w", id, err)
		}
	}
	err = action.Poll(ctx, opts.backoff(), func(ctx context.Context) (bool, error) {
		fs, err := describeFileSystem(ctx, api, id)
		if err != nil {
			return false, err
		}
		if fs == nil || fs.LifeCycleState == types.LifeCycleStateDeleted {
			return true, nil
		}
		tr.Report(string(fs.LifeCycleState))
		return false, nil
	})
	if err != nil {
		return waitErr("file system "+id+" to be deleted", err)
	}
	return nil
}
