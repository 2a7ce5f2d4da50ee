package aws

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/kirikae/kirikae/agent/action"
)

// Tags kirikae puts on what it creates, so a later attempt can tell its own work from a
// stranger's and recover facts the describe calls do not give back.
const (
	tagRun         = "kirikae:run"
	tagStep        = "kirikae:step"
	tagSnapshot    = "kirikae:snapshot"
	tagRestoreTime = "kirikae:restoreTime"
)

// RDS interfaces: each executor takes only the calls it makes. *rds.Client satisfies all.
type (
	// RDSRestoreAPI is what RDSRestoreSnapshot calls.
	RDSRestoreAPI interface {
		rds.DescribeDBInstancesAPIClient
		rds.DescribeDBSnapshotsAPIClient
		RestoreDBInstanceFromDBSnapshot(context.Context, *rds.RestoreDBInstanceFromDBSnapshotInput, ...func(*rds.Options)) (*rds.RestoreDBInstanceFromDBSnapshotOutput, error)
	}
	// RDSPointInTimeAPI is what RDSRestorePointInTime calls.
	RDSPointInTimeAPI interface {
		rds.DescribeDBInstancesAPIClient
		RestoreDBInstanceToPointInTime(context.Context, *rds.RestoreDBInstanceToPointInTimeInput, ...func(*rds.Options)) (*rds.RestoreDBInstanceToPointInTimeOutput, error)
	}
	// RDSSnapshotAPI is what RDSSnapshot calls.
	RDSSnapshotAPI interface {
		rds.DescribeDBSnapshotsAPIClient
		CreateDBSnapshot(context.Context, *rds.CreateDBSnapshotInput, ...func(*rds.Options)) (*rds.CreateDBSnapshotOutput, error)
	}
	// RDSCopyAPI is what RDSCopySnapshot calls.
	RDSCopyAPI interface {
		rds.DescribeDBSnapshotsAPIClient
		CopyDBSnapshot(context.Context, *rds.CopyDBSnapshotInput, ...func(*rds.Options)) (*rds.CopyDBSnapshotOutput, error)
	}
	// RDSDeleteAPI is what RDSDelete calls.
	RDSDeleteAPI interface {
		rds.DescribeDBInstancesAPIClient
		rds.DescribeDBSnapshotsAPIClient
		DeleteDBInstance(context.Context, *rds.DeleteDBInstanceInput, ...func(*rds.Options)) (*rds.DeleteDBInstanceOutput, error)
	}
	// RDSDeleteRestoredAPI is what RDSDeleteRestored calls.
	RDSDeleteRestoredAPI interface {
		rds.DescribeDBInstancesAPIClient
		rds.DescribeDBSnapshotsAPIClient
		DeleteDBInstance(context.Context, *rds.DeleteDBInstanceInput, ...func(*rds.Options)) (*rds.DeleteDBInstanceOutput, error)
	}
	// RDSStopAPI is what RDSStop calls.
	RDSStopAPI interface {
		rds.DescribeDBInstancesAPIClient
		StopDBInstance(context.Context, *rds.StopDBInstanceInput, ...func(*rds.Options)) (*rds.StopDBInstanceOutput, error)
	}
)

func describeInstance(ctx context.Context, api rds.DescribeDBInstancesAPIClient, id string) (*types.DBInstance, error) {
	out, err := api.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if isCode(err, "DBInstanceNotFound", "DBInstanceNotFoundFault") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe DB instance %s: %w", id, err)
	}
	for i := range out.DBInstances {
		if aws.ToString(out.DBInstances[i].DBInstanceIdentifier) == id {
			return &out.DBInstances[i], nil
		}
	}
	return nil, nil
}

func describeSnapshot(ctx context.Context, api rds.DescribeDBSnapshotsAPIClient, id string) (*types.DBSnapshot, error) {
	out, err := api.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)})
	if isCode(err, "DBSnapshotNotFound", "DBSnapshotNotFoundFault") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe DB snapshot %s: %w", id, err)
	}
	for i := range out.DBSnapshots {
		if aws.ToString(out.DBSnapshots[i].DBSnapshotIdentifier) == id {
			return &out.DBSnapshots[i], nil
		}
	}
	return nil, nil
}

func instanceTag(in *types.DBInstance, key string) string {
	for _, t := range in.TagList {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// SnapshotDataTime is when a DB snapshot's data was captured, the time its age (the
// data-loss window of restoring it) is measured from: SnapshotDatabaseTime (the last
// transaction in it) when RDS gives it, else OriginalSnapshotCreateTime (when the original
// snapshot was taken, kept on every copy), else SnapshotCreateTime. SnapshotCreateTime
// alone will not do: CopyDBSnapshot gives the copy its own, so a copy made today of a
// week-old snapshot would look fresh. It is zero when RDS gives none of them.
//
// This is the one definition: the restore executors choose the newest snapshot, apply
// maxAge and report the data-loss window by it, and readiness ages the DR copies by it.
func SnapshotDataTime(s *types.DBSnapshot) time.Time {
	if s == nil {
		return time.Time{}
	}
	for _, t := range []*time.Time{s.SnapshotDatabaseTime, s.OriginalSnapshotCreateTime, s.SnapshotCreateTime} {
		if t != nil && !t.IsZero() {
			return *t
		}
	}
	return time.Time{}
}

// checkOwner refuses to adopt an instance another kirikae run created: it may hold data
// from an old drill. Instances without kirikae tags (made by hand, or by an emulator that
// drops tags) are adopted.
func checkOwner(in *types.DBInstance, step action.Step) error {
	if run := instanceTag(in, tagRun); run != "" && run != step.RunID {
		return guard("DB instance %s already exists and was created by run %s, not this run (%s); delete it or choose another instanceId",
			aws.ToString(in.DBInstanceIdentifier), run, step.RunID)
	}
	switch st := aws.ToString(in.DBInstanceStatus); st {
	case "deleting", "deleted", "failed", "incompatible-restore", "incompatible-parameters":
		return guard("DB instance %s already exists in state %s; it cannot be adopted", aws.ToString(in.DBInstanceIdentifier), st)
	}
	return nil
}

func ownerTags(step action.Step, extra ...types.Tag) []types.Tag {
	return append([]types.Tag{
		{Key: aws.String(tagRun), Value: aws.String(step.RunID)},
		{Key: aws.String(tagStep), Value: aws.String(step.StepID)},
	}, extra...)
}

// waitInstanceAvailable waits for an instance; seen, when not nil, gets every description
// of it on the way, the last one included.
func (o Options) waitInstanceAvailable(ctx context.Context, api rds.DescribeDBInstancesAPIClient, id string, tr *action.Tracker, seen func(*types.DBInstance)) (*types.DBInstance, error) {
	lo, hi := o.delays()
	w := rds.NewDBInstanceAvailableWaiter(api, func(wo *rds.DBInstanceAvailableWaiterOptions) {
		wo.MinDelay, wo.MaxDelay = lo, hi
		wo.Retryable = track(wo.Retryable, func(out *rds.DescribeDBInstancesOutput) {
			if len(out.DBInstances) > 0 {
				if seen != nil {
					seen(&out.DBInstances[0])
				}
				tr.Report(aws.ToString(out.DBInstances[0].DBInstanceStatus))
			}
		})
	})
	out, err := w.WaitForOutput(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)}, o.maxWait(ctx))
	if err != nil {
		return nil, waitErr("DB instance "+id+" to be available", err)
	}
	if len(out.DBInstances) == 0 {
		return nil, fmt.Errorf("DB instance %s vanished while waiting", id)
	}
	if seen != nil {
		seen(&out.DBInstances[0])
	}
	return &out.DBInstances[0], nil
}

// restoredUndo returns a function that records, once the instance reports its creation
// time, the undo of a restore: aws.rds.deleteRestored of exactly that instance. RDS gives
// InstanceCreateTime only once the instance exists, so it is called with every description
// seen while waiting; an attempt that fails before then has nothing to record, and the
// next attempt adopts the instance as its own (ownedByStep) and records it.
//
// snapshot names the snapshot the instance was restored from, when there is one: the
// delete checks it is still available, the verified copy of the instance's data that SPEC
// R3 asks for before anything is deleted. Without one (a point-in-time restore) the delete
// takes a final snapshot instead.
func restoredUndo(step action.Step, id, snapshot string) func(*types.DBInstance) {
	return func(in *types.DBInstance) {
		if in == nil || in.InstanceCreateTime == nil || aws.ToString(in.DBInstanceIdentifier) != id {
			return
		}
		with := map[string]any{"instanceId": id, "createTime": in.InstanceCreateTime.UTC().Format(time.RFC3339Nano)}
		if snapshot != "" {
			with["sourceSnapshotId"] = snapshot
		}
		step.Undo.Add(action.Undo{
			Action: "aws.rds.deleteRestored",
			With:   with,
			Note:   "delete DB instance " + id + " (restored by this run)",
		})
	}
}

// ownedByStep reports whether an existing instance was created by an earlier attempt of
// this very step (its kirikae tags name this run and step), whose undo may have been lost
// with that attempt.
func ownedByStep(in *types.DBInstance, step action.Step) bool {
	return instanceTag(in, tagRun) == step.RunID && instanceTag(in, tagStep) == step.StepID
}

func (o Options) waitSnapshotAvailable(ctx context.Context, api rds.DescribeDBSnapshotsAPIClient, id string, tr *action.Tracker) (*types.DBSnapshot, error) {
	lo, hi := o.delays()
	w := rds.NewDBSnapshotAvailableWaiter(api, func(wo *rds.DBSnapshotAvailableWaiterOptions) {
		wo.MinDelay, wo.MaxDelay = lo, hi
		wo.Retryable = track(wo.Retryable, func(out *rds.DescribeDBSnapshotsOutput) {
			if len(out.DBSnapshots) > 0 {
				s := out.DBSnapshots[0]
				tr.Report(fmt.Sprintf("%s %d%%", aws.ToString(s.Status), aws.ToInt32(s.PercentProgress)))
			}
		})
	})
	out, err := w.WaitForOutput(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)}, o.maxWait(ctx))
	if err != nil {
		return nil, waitErr("DB snapshot "+id+" to be available", err)
	}
	if len(out.DBSnapshots) == 0 {
		return nil, fmt.Errorf("DB snapshot %s vanished while waiting", id)
	}
	return &out.DBSnapshots[0], nil
}

func endpointOutputs(in *types.DBInstance) (map[string]any, error) {
	if in.Endpoint == nil || aws.ToString(in.Endpoint.Address) == "" {
		return nil, fmt.Errorf("DB instance %s is available but has no endpoint", aws.ToString(in.DBInstanceIdentifier))
	}
	return map[string]any{
		"endpoint": aws.ToString(in.Endpoint.Address),
		"port":     int64(aws.ToInt32(in.Endpoint.Port)),
	}, nil
}

// RDSRestoreSnapshot is aws.rds.restoreSnapshot.
//
// Idempotency: it first describes instanceId. An existing instance is adopted (unless it is
// being deleted, or its kirikae:run tag names another run): the executor waits until it is
// available and returns its endpoint, without a second restore. Otherwise it picks the
// snapshot (the named one, or the available one of sourceInstance with the newest data:
// SnapshotDataTime, not the newest copy), applies the maxAge guard rail to the data's age
// and restores, tagging the instance with the run, step and snapshot; a
// DBInstanceAlreadyExists answer to a race is adopted the same way.
//
// The maxAge guard rail decides whether to restore; it is not applied again to an instance
// that is adopted, because the restore already happened, but the age is still reported.
// The age reported is the data's age when the instance was created (its
// InstanceCreateTime), so a rerun reports the same data-loss window. Without a
// kirikae:snapshot tag on an adopted instance (an emulator that drops tags) the snapshot is
// chosen again by the same rule.
//
// Undo: when it restored the instance, aws.rds.deleteRestored of it, with the
// InstanceCreateTime DescribeDBInstances reports once the instance exists (recorded while
// waiting, so an attempt that fails later still reports it). An adopted instance has no
// undo, except one whose kirikae tags name this run and step: an earlier attempt of this
// step created it and may have ended before it could report the undo.
type RDSRestoreSnapshot struct {
	Client func(region string) (RDSRestoreAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *RDSRestoreSnapshot) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	id, err := action.Str(step, "instanceId")
	if err != nil {
		return nil, err
	}
	src, err := action.OptStr(step, "sourceInstance", "")
	if err != nil {
		return nil, err
	}
	snapID, err := action.OptStr(step, "snapshotId", "")
	if err != nil {
		return nil, err
	}
	if src == "" && snapID == "" {
		return nil, fmt.Errorf("%w: with.sourceInstance or with.snapshotId is required", action.ErrInvalidInput)
	}
	class, err := action.OptStr(step, "instanceClass", "")
	if err != nil {
		return nil, err
	}
	subnets, err := action.OptStr(step, "subnetGroup", "")
	if err != nil {
		return nil, err
	}
	sgs, err := action.List(step, "securityGroups")
	if err != nil {
		return nil, err
	}
	multiAZ, err := action.Bool(step, "multiAz", true)
	if err != nil {
		return nil, err
	}
	public, err := action.Bool(step, "publiclyAccessible", false)
	if err != nil {
		return nil, err
	}
	maxAge, err := action.Dur(step, "maxAge", 0)
	if err != nil {
		return nil, err
	}
	allow, err := action.Bool(step, "allowDataLoss", false)
	if err != nil {
		return nil, err
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "RDS "+id, nil)

	inst, err := describeInstance(ctx, api, id)
	if err != nil {
		return nil, err
	}
	if inst != nil {
		if err := checkOwner(inst, step); err != nil {
			return nil, err
		}
		if t := instanceTag(inst, tagSnapshot); t != "" && snapID == "" {
			snapID = t
		}
		tr.Report("exists (" + aws.ToString(inst.DBInstanceStatus) + "), adopting")
	}
	var seen func(*types.DBInstance) // records the undo when this step created the instance
	if inst != nil && ownedByStep(inst, step) {
		seen = restoredUndo(step, id, snapID)
		seen(inst)
	}
	snap, err := e.choose(ctx, api, step.Region, src, snapID)
	if err != nil {
		return nil, err
	}
	sid := aws.ToString(snap.DBSnapshotIdentifier)
	created := SnapshotDataTime(snap)
	if inst == nil {
		age := e.Opts.now().Sub(created)
		detail := ""
		if c := aws.ToTime(snap.SnapshotCreateTime); !c.IsZero() && !c.Equal(created) {
			detail = fmt.Sprintf(" (its data is from %s; the copy was made at %s)", created.UTC().Format(time.RFC3339), c.UTC().Format(time.RFC3339))
		}
		if maxAge > 0 && age > maxAge && !allow {
			what := "newest snapshot"
			if src == "" {
				what = "snapshot"
			}
			return nil, guard("%s %s is %s old > maxAge %s; set allowDataLoss to restore anyway%s", what, sid, action.Human(age), action.Human(maxAge), detail)
		}
		if maxAge > 0 && age > maxAge {
			tr.Report(fmt.Sprintf("snapshot %s is %s old > maxAge %s; restoring anyway (allowDataLoss)%s", sid, action.Human(age), action.Human(maxAge), detail))
		} else {
			tr.Report(fmt.Sprintf("restoring from %s (%s old)", sid, action.Human(age)))
		}
		in := &rds.RestoreDBInstanceFromDBSnapshotInput{
			DBInstanceIdentifier: aws.String(id),
			DBSnapshotIdentifier: aws.String(sid),
			MultiAZ:              aws.Bool(multiAZ),
			PubliclyAccessible:   aws.Bool(public),
			VpcSecurityGroupIds:  sgs,
			Tags:                 ownerTags(step, types.Tag{Key: aws.String(tagSnapshot), Value: aws.String(sid)}),
		}
		if class != "" {
			in.DBInstanceClass = aws.String(class)
		}
		if subnets != "" {
			in.DBSubnetGroupName = aws.String(subnets)
		}
		res, err := api.RestoreDBInstanceFromDBSnapshot(ctx, in)
		switch {
		case err == nil:
			seen = restoredUndo(step, id, sid)
			seen(res.DBInstance)
		case !isCode(err, "DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"):
			return nil, fmt.Errorf("restore %s from %s: %w", id, sid, err)
		}
	}
	inst, err = e.Opts.waitInstanceAvailable(ctx, api, id, tr, seen)
	if err != nil {
		return nil, err
	}
	out, err := endpointOutputs(inst)
	if err != nil {
		return nil, err
	}
	at := aws.ToTime(inst.InstanceCreateTime)
	if at.IsZero() {
		at = e.Opts.now()
	}
	age := at.Sub(created).Truncate(time.Second)
	out["snapshotId"] = sid
	out["snapshotTime"] = created.UTC().Format(time.RFC3339)
	out["snapshotAgeSeconds"] = int64(age / time.Second)
	out["dataLossWindow"] = action.Human(age)
	return out, nil
}

// choose finds the named snapshot, or the available snapshot of src with the newest data
// (SnapshotDataTime).
func (e *RDSRestoreSnapshot) choose(ctx context.Context, api rds.DescribeDBSnapshotsAPIClient, region, src, snapID string) (*types.DBSnapshot, error) {
	if snapID != "" {
		s, err := describeSnapshot(ctx, api, snapID)
		if err != nil {
			return nil, err
		}
		if s == nil {
			return nil, checkFailed("snapshot %s not found in %s", snapID, region)
		}
		if st := aws.ToString(s.Status); st != "available" {
			return nil, checkFailed("snapshot %s is %s, not available", snapID, st)
		}
		return s, nil
	}
	var best *types.DBSnapshot
	var bestAt time.Time
	p := rds.NewDescribeDBSnapshotsPaginator(api, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String(src)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list snapshots of %s: %w", src, err)
		}
		for i := range page.DBSnapshots {
			s := &page.DBSnapshots[i]
			at := SnapshotDataTime(s)
			if aws.ToString(s.Status) != "available" || at.IsZero() {
				continue
			}
			if best == nil || at.After(bestAt) {
				best, bestAt = s, at
			}
		}
	}
	if best == nil {
		return nil, checkFailed("no available snapshot of %s in %s", src, region)
	}
	return best, nil
}

// RDSRestorePointInTime is aws.rds.restorePointInTime.
//
// Idempotency: an existing instanceId is adopted (same rules as RDSRestoreSnapshot) and
// waited for; the restore time it reports comes from its kirikae:restoreTime tag, else the
// input, else "latest".
//
// Undo: as RDSRestoreSnapshot, aws.rds.deleteRestored of the instance it restored.
type RDSRestorePointInTime struct {
	Client func(region string) (RDSPointInTimeAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *RDSRestorePointInTime) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	src, err := action.Str(step, "sourceInstance")
	if err != nil {
		return nil, err
	}
	id, err := action.Str(step, "instanceId")
	if err != nil {
		return nil, err
	}
	at, err := action.OptTime(step, "restoreTime")
	if err != nil {
		return nil, err
	}
	class, err := action.OptStr(step, "instanceClass", "")
	if err != nil {
		return nil, err
	}
	subnets, err := action.OptStr(step, "subnetGroup", "")
	if err != nil {
		return nil, err
	}
	sgs, err := action.List(step, "securityGroups")
	if err != nil {
		return nil, err
	}
	multiAZ, err := action.Bool(step, "multiAz", true)
	if err != nil {
		return nil, err
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "RDS "+id, nil)
	restoreTime := "latest"
	if !at.IsZero() {
		restoreTime = at.UTC().Format(time.RFC3339)
	}
	var seen func(*types.DBInstance) // records the undo when this step created the instance
	inst, err := describeInstance(ctx, api, id)
	if err != nil {
		return nil, err
	}
	if inst != nil {
		if err := checkOwner(inst, step); err != nil {
			return nil, err
		}
		if t := instanceTag(inst, tagRestoreTime); t != "" {
			restoreTime = t
		}
		tr.Report("exists (" + aws.ToString(inst.DBInstanceStatus) + "), adopting")
		if ownedByStep(inst, step) {
			seen = restoredUndo(step, id, "")
			seen(inst)
		}
	} else {
		srcInst, err := describeInstance(ctx, api, src)
		if err != nil {
			return nil, err
		}
		if srcInst == nil {
			return nil, checkFailed("source DB instance %s not found in %s", src, step.Region)
		}
		in := &rds.RestoreDBInstanceToPointInTimeInput{
			SourceDBInstanceIdentifier: aws.String(src),
			TargetDBInstanceIdentifier: aws.String(id),
			MultiAZ:                    aws.Bool(multiAZ),
			VpcSecurityGroupIds:        sgs,
		}
		if at.IsZero() {
			in.UseLatestRestorableTime = aws.Bool(true)
			if srcInst.LatestRestorableTime != nil {
				restoreTime = srcInst.LatestRestorableTime.UTC().Format(time.RFC3339)
			}
		} else {
			in.RestoreTime = aws.Time(at)
		}
		in.Tags = ownerTags(step, types.Tag{Key: aws.String(tagRestoreTime), Value: aws.String(restoreTime)})
		if class != "" {
			in.DBInstanceClass = aws.String(class)
		}
		if subnets != "" {
			in.DBSubnetGroupName = aws.String(subnets)
		}
		tr.Report("restoring " + src + " to " + restoreTime)
		res, err := api.RestoreDBInstanceToPointInTime(ctx, in)
		switch {
		case err == nil:
			seen = restoredUndo(step, id, "")
			seen(res.DBInstance)
		case !isCode(err, "DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"):
			return nil, fmt.Errorf("restore %s to %s as %s: %w", src, restoreTime, id, err)
		}
	}
	inst, err = e.Opts.waitInstanceAvailable(ctx, api, id, tr, seen)
	if err != nil {
		return nil, err
	}
	out, err := endpointOutputs(inst)
	if err != nil {
		return nil, err
	}
	out["restoreTime"] = restoreTime
	return out, nil
}

// RDSSnapshot is aws.rds.snapshot.
//
// Idempotency: it describes snapshotId first; an existing snapshot of the same instance is
// adopted and waited for (one of another instance is refused). DBSnapshotAlreadyExists from
// a race is adopted too.
type RDSSnapshot struct {
	Client func(region string) (RDSSnapshotAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *RDSSnapshot) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	id, err := action.Str(step, "instanceId")
	if err != nil {
		return nil, err
	}
	sid, err := action.Str(step, "snapshotId")
	if err != nil {
		return nil, err
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "RDS snapshot "+sid, nil)
	s, err := describeSnapshot(ctx, api, sid)
	if err != nil {
		return nil, err
	}
	if s != nil {
		if of := aws.ToString(s.DBInstanceIdentifier); of != id {
			return nil, guard("snapshot %s already exists but is of instance %s, not %s", sid, of, id)
		}
		tr.Report("exists (" + aws.ToString(s.Status) + "), adopting")
	} else {
		tr.Report("creating from " + id)
		_, err := api.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{
			DBInstanceIdentifier: aws.String(id), DBSnapshotIdentifier: aws.String(sid),
			Tags: []types.Tag{{Key: aws.String(tagRun), Value: aws.String(step.RunID)}, {Key: aws.String(tagStep), Value: aws.String(step.StepID)}},
		})
		if err != nil && !isCode(err, "DBSnapshotAlreadyExists", "DBSnapshotAlreadyExistsFault") {
			return nil, fmt.Errorf("create snapshot %s of %s: %w", sid, id, err)
		}
	}
	s, err = e.Opts.waitSnapshotAvailable(ctx, api, sid, tr)
	if err != nil {
		return nil, err
	}
	return map[string]any{"snapshotId": sid, "snapshotArn": aws.ToString(s.DBSnapshotArn)}, nil
}

// RDSCopySnapshot is aws.rds.copySnapshot: it copies sourceSnapshotArn into the step's
// region.
//
// Idempotency: targetSnapshotId is described in the step's region first; an existing copy
// is adopted and waited for, unless it records a different source. DBSnapshotAlreadyExists
// from a race is adopted too.
type RDSCopySnapshot struct {
	Client func(region string) (RDSCopyAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *RDSCopySnapshot) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	parts, srcARN, err := action.ARN(step, "sourceSnapshotArn", "rds", "snapshot:")
	if err != nil {
		return nil, err
	}
	srcRegion, err := action.Str(step, "sourceRegion")
	if err != nil {
		return nil, err
	}
	if srcRegion != parts.Region {
		return nil, fmt.Errorf("%w: with.sourceRegion %s does not match the region of with.sourceSnapshotArn (%s)", action.ErrInvalidInput, srcRegion, parts.Region)
	}
	target, err := action.Str(step, "targetSnapshotId")
	if err != nil {
		return nil, err
	}
	kms, err := action.OptStr(step, "kmsKeyId", "")
	if err != nil {
		return nil, err
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "RDS snapshot copy "+target, nil)
	s, err := describeSnapshot(ctx, api, target)
	if err != nil {
		return nil, err
	}
	if s != nil {
		if from := aws.ToString(s.SourceDBSnapshotIdentifier); from != "" && from != srcARN {
			return nil, guard("snapshot %s already exists in %s but was copied from %s, not %s", target, step.Region, from, srcARN)
		}
		tr.Report("exists (" + aws.ToString(s.Status) + "), adopting")
	} else {
		in := &rds.CopyDBSnapshotInput{
			SourceDBSnapshotIdentifier: aws.String(srcARN),
			TargetDBSnapshotIdentifier: aws.String(target),
			CopyTags:                   aws.Bool(true),
		}
		if kms != "" {
			in.KmsKeyId = aws.String(kms)
		}
		if srcRegion != step.Region {
			in.SourceRegion = aws.String(srcRegion)
		}
		tr.Report("copying from " + srcARN)
		if _, err := api.CopyDBSnapshot(ctx, in); err != nil && !isCode(err, "DBSnapshotAlreadyExists", "DBSnapshotAlreadyExistsFault") {
			return nil, fmt.Errorf("copy snapshot %s to %s: %w", srcARN, target, err)
		}
	}
	s, err = e.Opts.waitSnapshotAvailable(ctx, api, target, tr)
	if err != nil {
		return nil, err
	}
	return map[string]any{"snapshotId": target, "snapshotArn": aws.ToString(s.DBSnapshotArn)}, nil
}

// RDSDelete is aws.rds.delete, the guarded delete.
//
// Guard rails, checked on every run before anything else: finalSnapshotId and verifiedCopy
// are required, and verifiedCopy must be an available snapshot in the step's region.
//
// Idempotency: an instance already "deleting" is only waited for; an instance that is gone
// counts as deleted when the final snapshot exists. Success means the instance is gone and
// the final snapshot is available.
type RDSDelete struct {
	Client func(region string) (RDSDeleteAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *RDSDelete) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	id, err := action.Str(step, "instanceId")
	if err != nil {
		return nil, err
	}
	final, err := action.Str(step, "finalSnapshotId")
	if err != nil {
		return nil, fmt.Errorf("refusing to delete %s without a final snapshot: %w", id, err)
	}
	verified, err := action.Str(step, "verifiedCopy")
	if err != nil {
		return nil, fmt.Errorf("refusing to delete %s without a verified copy: %w", id, err)
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "RDS "+id, nil)
	v, err := describeSnapshot(ctx, api, verified)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, guard("refusing to delete %s: verifiedCopy %s not found in %s", id, verified, step.Region)
	}
	if st := aws.ToString(v.Status); st != "available" {
		return nil, guard("refusing to delete %s: verifiedCopy %s is %s, not available", id, verified, st)
	}
	inst, err := describeInstance(ctx, api, id)
	if err != nil {
		return nil, err
	}
	switch {
	case inst == nil:
		f, err := describeSnapshot(ctx, api, final)
		if err != nil {
			return nil, err
		}
		if f == nil {
			return nil, checkFailed("DB instance %s not found in %s and there is no final snapshot %s", id, step.Region, final)
		}
		tr.Report("already deleted")
	case aws.ToString(inst.DBInstanceStatus) == "deleting":
		tr.Report("already deleting")
	default:
		f, err := describeSnapshot(ctx, api, final)
		if err != nil {
			return nil, err
		}
		if f != nil {
			return nil, guard("refusing to delete %s: final snapshot %s already exists; choose a new finalSnapshotId", id, final)
		}
		tr.Report("deleting with final snapshot " + final)
		_, err = api.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{
			DBInstanceIdentifier:      aws.String(id),
			FinalDBSnapshotIdentifier: aws.String(final),
			SkipFinalSnapshot:         aws.Bool(false),
			DeleteAutomatedBackups:    aws.Bool(false),
		})
		if err != nil && !isCode(err, "DBInstanceNotFound", "DBInstanceNotFoundFault", "InvalidDBInstanceState") {
			return nil, fmt.Errorf("delete %s: %w", id, err)
		}
	}
	lo, hi := e.Opts.delays()
	w := rds.NewDBInstanceDeletedWaiter(api, func(wo *rds.DBInstanceDeletedWaiterOptions) {
		wo.MinDelay, wo.MaxDelay = lo, hi
		wo.Retryable = track(wo.Retryable, func(out *rds.DescribeDBInstancesOutput) {
			if len(out.DBInstances) > 0 {
				tr.Report(aws.ToString(out.DBInstances[0].DBInstanceStatus))
			}
		})
	})
	if err := w.Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)}, e.Opts.maxWait(ctx)); err != nil {
		return nil, waitErr("DB instance "+id+" to be deleted", err)
	}
	if _, err := e.Opts.waitSnapshotAvailable(ctx, api, final, action.NewTracker(progress, "RDS final snapshot "+final, nil)); err != nil {
		return nil, err
	}
	return map[string]any{"finalSnapshotId": final}, nil
}

// RDSStop is aws.rds.stop. There is no SDK waiter for "stopped", so it polls with backoff.
//
// Idempotency: StopDBInstance is called only while the instance is "available" and only
// once per run of Execute; "stopping" is waited for and "stopped" is success.
type RDSStop struct {
	Client func(region string) (RDSStopAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *RDSStop) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	id, err := action.Str(step, "instanceId")
	if err != nil {
		return nil, err
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "RDS "+id, nil)
	called := false
	err = action.Poll(ctx, e.Opts.backoff(), func(ctx context.Context) (bool, error) {
		inst, err := describeInstance(ctx, api, id)
		if err != nil {
			return false, err
		}
		if inst == nil {
			return false, checkFailed("DB instance %s not found in %s", id, step.Region)
		}
		st := aws.ToString(inst.DBInstanceStatus)
		switch {
		case st == "stopped":
			return true, nil
		case st == "available" && !called:
			tr.Report("stopping")
			called = true
			_, err := api.StopDBInstance(ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String(id)})
			if err != nil && !isCode(err, "InvalidDBInstanceState", "InvalidDBInstanceStateFault") {
				return false, fmt.Errorf("stop %s: %w", id, err)
			}
			return false, nil
		case slices.Contains([]string{"deleting", "deleted", "failed", "storage-full", "incompatible-restore", "incompatible-parameters"}, st):
			return false, checkFailed("DB instance %s is %s; it cannot be stopped", id, st)
		}
		tr.Report(st)
		return false, nil
	})
	if err != nil {
		return nil, waitErr("DB instance "+id+" to stop", err)
	}
	return map[string]any{"status": "stopped"}, nil
}

// RDSDeleteRestored is aws.rds.deleteRestored, the undo of a drill's restore: it deletes the
// instance with its automated backups (they were made by the drill), then waits until it is
// gone. Nothing is deleted without a verified snapshot of its data (SPEC R3): with
// sourceSnapshotId, the snapshot it was restored from must still be available, and no final
// snapshot is taken; without one, the delete takes a final snapshot.
//
// Guard rails, checked on every run: the instance's InstanceCreateTime must equal
// createTime, the time the restore reported, so it only ever deletes the instance the drill
// created, never one that was there before or was created again since under the same id;
// and the source snapshot, when named, must be available.
//
// Idempotency: an instance that is gone counts as deleted; one already "deleting" (with the
// right creation time) is only waited for.
type RDSDeleteRestored struct {
	Client func(region string) (RDSDeleteRestoredAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *RDSDeleteRestored) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	id, err := action.Str(step, "instanceId")
	if err != nil {
		return nil, err
	}
	want, err := action.Time(step, "createTime")
	if err != nil {
		return nil, fmt.Errorf("refusing to delete %s without its creation time: %w", id, err)
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "RDS "+id, nil)
	inst, err := describeInstance(ctx, api, id)
	if err != nil {
		return nil, err
	}
	if inst == nil {
		tr.Report("already gone")
		return map[string]any{"deleted": true}, nil
	}
	have := inst.InstanceCreateTime
	switch {
	case have == nil:
		return nil, guard("refusing to delete DB instance %s: it reports no creation time, so it cannot be shown to be the instance created at %s",
			id, want.UTC().Format(time.RFC3339Nano))
	case !have.Equal(want):
		return nil, guard("refusing to delete DB instance %s: it was created at %s, not at %s; it is not the instance the drill restored",
			id, have.UTC().Format(time.RFC3339Nano), want.UTC().Format(time.RFC3339Nano))
	}
	source, err := action.OptStr(step, "sourceSnapshotId", "")
	if err != nil {
		return nil, err
	}
	del := &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(id), DeleteAutomatedBackups: aws.Bool(true)}
	how := "without a final snapshot: its data is in snapshot " + source
	if source != "" {
		out, err := api.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(source)})
		if err != nil && !isCode(err, "DBSnapshotNotFound", "DBSnapshotNotFoundFault") {
			return nil, fmt.Errorf("describe snapshot %s: %w", source, err)
		}
		if err != nil || len(out.DBSnapshots) == 0 || aws.ToString(out.DBSnapshots[0].Status) != "available" {
			return nil, guard("refusing to delete DB instance %s: the snapshot it was restored from, %s, is not available, and nothing is deleted without a verified snapshot of its data",
				id, source)
		}
		del.SkipFinalSnapshot = aws.Bool(true)
	} else {
		final := id + "-drill-final-" + want.UTC().Format("20060102-150405")
		del.FinalDBSnapshotIdentifier = aws.String(final)
		how = "with final snapshot " + final
	}
	if st := aws.ToString(inst.DBInstanceStatus); st == "deleting" {
		tr.Report("already deleting")
	} else {
		tr.Report("deleting " + how + " (" + st + ")")
		_, err := api.DeleteDBInstance(ctx, del)
		if isCode(err, "DBInstanceNotFound", "DBInstanceNotFoundFault") {
			return map[string]any{"deleted": true}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("delete %s (state %s): %w", id, st, err)
		}
	}
	lo, hi := e.Opts.delays()
	w := rds.NewDBInstanceDeletedWaiter(api, func(wo *rds.DBInstanceDeletedWaiterOptions) {
		wo.MinDelay, wo.MaxDelay = lo, hi
		wo.Retryable = track(wo.Retryable, func(out *rds.DescribeDBInstancesOutput) {
			if len(out.DBInstances) > 0 {
				tr.Report(aws.ToString(out.DBInstances[0].DBInstanceStatus))
			}
		})
	})
	if err := w.Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)}, e.Opts.maxWait(ctx)); err != nil {
		return nil, waitErr("DB instance "+id+" to be deleted", err)
	}
	return map[string]any{"deleted": true}, nil
}
