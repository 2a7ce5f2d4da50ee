package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/human"
)

// Tags kirikae puts on what it creates, so a later attempt can tell its own work from a
// stranger's and recover facts the describe calls do not give back.
const (
	tagRun         = "kirikae:run"
	tagStep        = "kirikae:step"
	tagSnapshot    = "kirikae:snapshot"
	tagRestoreTime = "kirikae:restoreTime"
	tagSource      = "kirikae:source"
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

// unadoptable reports whether an existing instance in state st can never stand in for a
// restore: it is going away, broken, or stopped (a stopped instance holds whatever it held
// when it was stopped, and the available-waiter would wait on it until the step times out).
func unadoptable(st string) bool {
	switch st {
	case "stopped", "stopping", "deleting", "deleted", "failed", "restore-error", "storage-full",
		"incompatible-restore", "incompatible-parameters", "incompatible-network", "incompatible-option-group",
		"inaccessible-encryption-credentials", "inaccessible-encryption-credentials-recoverable":
		return true
	}
	return false
}

// creator says who created a resource from its kirikae tags, for a refusal, and whether
// step may adopt it: only this run's work, or that of a run passed to it (Step.OwnerRuns).
// A resource without a kirikae:run tag was made by hand, or by an emulator that drops
// tags, and may hold anything; it is never adopted.
func creator(run, stepID string, step action.Step) (who string, owned bool) {
	if run == "" {
		return "it was not created by kirikae (it has no " + tagRun + " tag)", false
	}
	who = "it was created by run " + run
	if stepID != "" {
		who += " (step " + stepID + ")"
	}
	switch {
	case run == step.RunID:
		return who + ", this run", true
	case step.Owns(run):
		return who + ", whose resources were passed to this run (" + step.RunID + ")", true
	}
	who += ", not by this run (" + step.RunID + ")"
	if len(step.OwnerRuns) > 0 {
		who += " or a run passed to it (" + strings.Join(step.OwnerRuns, ", ") + ")"
	}
	return who, false
}

// refuseAdoption is the guard-rail error for an existing instance that is not adopted.
func refuseAdoption(in *types.DBInstance, why []string) error {
	return guard("DB instance %s already exists (%s) and is not adopted: %s. Delete it (with a final snapshot if its data matters) or set another instanceId",
		aws.ToString(in.DBInstanceIdentifier), aws.ToString(in.DBInstanceStatus), strings.Join(why, "; "))
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
			Action: catalog.DeleteRestored.Name,
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

// endpointOf is the address and port of an available instance.
func endpointOf(in *types.DBInstance) (string, int64, error) {
	if in.Endpoint == nil || aws.ToString(in.Endpoint.Address) == "" {
		return "", 0, fmt.Errorf("DB instance %s is available but has no endpoint", aws.ToString(in.DBInstanceIdentifier))
	}
	return aws.ToString(in.Endpoint.Address), int64(aws.ToInt32(in.Endpoint.Port)), nil
}

// RDSRestoreSnapshot is aws.rds.restoreSnapshot.
//
// It restores the named snapshot, or the newest available one of sourceInstance. Newest
// means the newest data ([SnapshotDataTime]), not the newest copy. The maxAge guard rail
// ages the snapshot by its data time too, so does the data-loss window it reports.
//
// Idempotency: it first describes instanceId. An existing instance is adopted (waited for
// until available, its endpoint returned, no second restore) only when all of these hold;
// otherwise the step is refused with a guard-rail error that says why and what to do:
//   - kirikae created it for this run: its kirikae:run tag names this run or one of
//     Step.OwnerRuns. An untagged instance is never adopted: it may hold anything.
//   - it is usable: not stopped, stopping, deleting or failed (see unadoptable).
//   - it holds the data a restore would give now: its kirikae:snapshot tag names the
//     snapshot the executor would choose now, and that snapshot passes maxAge.
//
// The exception is an instance an earlier attempt of this very step created (its tags name
// this run and step: a retry after a crash, or a re-dispatch after a leader change). That
// attempt chose the snapshot and applied maxAge, and the restore under way is the step's
// own, so it is adopted in any usable state even if a newer snapshot has appeared since
// (which is reported), and the outputs name the snapshot it chose. A
// DBInstanceAlreadyExists answer to a race is decided by the same rules.
//
// The age reported is the data's age when the instance was created (its
// InstanceCreateTime), so a rerun reports the same data-loss window.
//
// Undo: when it restored the instance, aws.rds.deleteRestored of it, with the
// InstanceCreateTime DescribeDBInstances reports once the instance exists (recorded while
// waiting, so an attempt that fails later still reports it). An adopted instance has no
// undo, except one an earlier attempt of this step created, which may have ended before it
// could report the undo.
type RDSRestoreSnapshot struct {
	Client func(region string) (RDSRestoreAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *RDSRestoreSnapshot) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.RestoreSnapshot)
	if err != nil {
		return nil, err
	}
	id, src, snapID := in.InstanceID, in.SourceInstance, in.SnapshotID
	if src == "" && snapID == "" {
		return nil, fmt.Errorf("%w: with.sourceInstance or with.snapshotId is required", action.ErrInvalidInput)
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "RDS "+id, nil)
	age := ageRule{maxAge: time.Duration(in.MaxAge), allow: in.AllowDataLoss, now: e.Opts.now}

	inst, err := describeInstance(ctx, api, id)
	if err != nil {
		return nil, err
	}
	var snap *types.DBSnapshot
	var seen func(*types.DBInstance) // records the undo when this step created the instance
	if inst == nil {
		snap, err = e.choose(ctx, api, step.Region, src, snapID)
		if err != nil {
			return nil, err
		}
		sid := aws.ToString(snap.DBSnapshotIdentifier)
		if err := age.check(snapshotWhat(src)+" "+sid, snap, "restore", tr); err != nil {
			return nil, err
		}
		tr.Report("restoring from " + sid)
		req := &rds.RestoreDBInstanceFromDBSnapshotInput{
			DBInstanceIdentifier: aws.String(id),
			DBSnapshotIdentifier: aws.String(sid),
			MultiAZ:              aws.Bool(in.MultiAZ == nil || *in.MultiAZ),
			PubliclyAccessible:   aws.Bool(in.PubliclyAccessible),
			VpcSecurityGroupIds:  in.SecurityGroups,
			Tags:                 ownerTags(step, types.Tag{Key: aws.String(tagSnapshot), Value: aws.String(sid)}),
		}
		if in.InstanceClass != "" {
			req.DBInstanceClass = aws.String(in.InstanceClass)
		}
		if in.SubnetGroup != "" {
			req.DBSubnetGroupName = aws.String(in.SubnetGroup)
		}
		res, err := api.RestoreDBInstanceFromDBSnapshot(ctx, req)
		switch {
		case err == nil:
			seen = restoredUndo(step, id, sid)
			seen(res.DBInstance)
		case isCode(err, "DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"):
			// Someone restored it between the describe and the restore: the instance
			// that won the race is judged like any other existing one.
			if inst, err = describeInstance(ctx, api, id); err != nil {
				return nil, err
			}
			if inst == nil {
				return nil, fmt.Errorf("restore %s from %s: RDS says it already exists, yet it cannot be described", id, sid)
			}
		default:
			return nil, fmt.Errorf("restore %s from %s: %w", id, sid, err)
		}
	}
	if inst != nil {
		snap, seen, err = e.adopt(ctx, api, step, inst, src, snapID, age, tr)
		if err != nil {
			return nil, err
		}
	}
	inst, err = e.Opts.waitInstanceAvailable(ctx, api, id, tr, seen)
	if err != nil {
		return nil, err
	}
	endpoint, port, err := endpointOf(inst)
	if err != nil {
		return nil, err
	}
	at := aws.ToTime(inst.InstanceCreateTime)
	if at.IsZero() {
		at = e.Opts.now()
	}
	out := snapshotOutputs(snap, at.Sub(SnapshotDataTime(snap)))
	out.Endpoint, out.Port = endpoint, port
	return action.Outputs(catalog.RestoreSnapshot, out)
}

// snapshotOutputs are the outputs that say which data a restore holds: the snapshot, when
// its data was taken, and the window of data lost, as of a restore window after it.
func snapshotOutputs(snap *types.DBSnapshot, window time.Duration) catalog.RestoreSnapshotOut {
	window = window.Truncate(time.Second)
	return catalog.RestoreSnapshotOut{
		SnapshotID:         aws.ToString(snap.DBSnapshotIdentifier),
		SnapshotTime:       SnapshotDataTime(snap).UTC().Format(time.RFC3339),
		SnapshotAgeSeconds: int64(window / time.Second),
		DataLossWindow:     human.Duration(window),
	}
}

// refusalOutputs are the outputs a refusal of snap carries: which data it refused (the
// snapshot outputs), and no endpoint, since nothing was restored.
func refusalOutputs(snap *types.DBSnapshot, window time.Duration) map[string]any {
	out, err := action.Outputs(catalog.RestoreSnapshot, snapshotOutputs(snap, window))
	if err != nil {
		return nil // strings and integers always encode
	}
	delete(out, "endpoint")
	delete(out, "port")
	return out
}

// adopt decides whether the existing instance in may stand in for the restore, by the
// rules on RDSRestoreSnapshot. It returns the snapshot the instance holds, and the undo
// recorder when an earlier attempt of this step created it.
func (e *RDSRestoreSnapshot) adopt(ctx context.Context, api RDSRestoreAPI, step action.Step, in *types.DBInstance, src, snapID string, age ageRule, tr *action.Tracker) (*types.DBSnapshot, func(*types.DBInstance), error) {
	id, st := aws.ToString(in.DBInstanceIdentifier), aws.ToString(in.DBInstanceStatus)
	held := instanceTag(in, tagSnapshot)
	if ownedByStep(in, step) && !unadoptable(st) {
		chosen := snapID
		if held != "" {
			chosen = held
		}
		snap, err := e.choose(ctx, api, step.Region, src, chosen)
		if err != nil {
			return nil, nil, err
		}
		sid := aws.ToString(snap.DBSnapshotIdentifier)
		note := ""
		if snapID == "" && held != "" {
			if newest, err := e.choose(ctx, api, step.Region, src, ""); err == nil && aws.ToString(newest.DBSnapshotIdentifier) != sid {
				note = fmt.Sprintf("; a newer snapshot, %s (data from %s), has appeared since", aws.ToString(newest.DBSnapshotIdentifier), stamp(SnapshotDataTime(newest)))
			}
		}
		tr.Report(fmt.Sprintf("exists (%s), restored from %s by an earlier attempt of this step, adopting%s", st, sid, note))
		seen := restoredUndo(step, id, sid)
		seen(in)
		return snap, seen, nil
	}
	want, err := e.choose(ctx, api, step.Region, src, snapID)
	if err != nil {
		return nil, nil, err
	}
	wantID := aws.ToString(want.DBSnapshotIdentifier)
	who, owned := creator(instanceTag(in, tagRun), instanceTag(in, tagStep), step)
	why := []string{who} // the first is who made it, a reason only when it is not owned
	if unadoptable(st) {
		why = append(why, "it is "+st)
	}
	wantDesc := fmt.Sprintf("newest snapshot %s (data from %s)", wantID, stamp(SnapshotDataTime(want)))
	if snapID != "" {
		wantDesc = "snapshot " + wantID + " named by snapshotId"
	}
	switch {
	case held == "":
		why = append(why, "no "+tagSnapshot+" tag says which snapshot it was restored from, so it may hold older data than the "+wantDesc)
	case held != wantID:
		desc := "snapshot " + held
		if h, err := describeSnapshot(ctx, api, held); err == nil && h != nil {
			desc += " (data from " + stamp(SnapshotDataTime(h)) + ")"
		}
		why = append(why, "it holds "+desc+", not the "+wantDesc)
	case !owned || len(why) > 1:
		why = append(why, "it holds the "+wantDesc) // not a reason, but what deleting it would lose
	}
	if !owned || len(why) > 1 {
		return nil, nil, refuseAdoption(in, why)
	}
	if err := age.check("snapshot "+wantID+" held by DB instance "+id, want, "adopt it", tr); err != nil {
		return nil, nil, err
	}
	tr.Report(fmt.Sprintf("exists (%s), restored from %s; %s; adopting", st, wantID, who))
	return want, nil, nil
}

// snapshotWhat names how the snapshot was chosen, for messages.
func snapshotWhat(src string) string {
	if src == "" {
		return "snapshot"
	}
	return "newest snapshot"
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format(time.RFC3339)
}

// ageRule is the maxAge guard rail of a restore.
type ageRule struct {
	maxAge time.Duration
	allow  bool
	now    func() time.Time
}

// check refuses snap when its data is older than maxAge, unless allowDataLoss; verb is
// what allowDataLoss would let the step do ("restore", "adopt it"). what names the
// snapshot. The refusal carries the snapshot's outputs (refusalOutputs).
func (r ageRule) check(what string, snap *types.DBSnapshot, verb string, tr *action.Tracker) error {
	data := SnapshotDataTime(snap)
	age := r.now().Sub(data)
	detail := ""
	if c := aws.ToTime(snap.SnapshotCreateTime); !c.IsZero() && !c.Equal(data) {
		detail = fmt.Sprintf(" (its data is from %s; the copy was made at %s)", stamp(data), stamp(c))
	}
	switch {
	case r.maxAge <= 0 || age <= r.maxAge:
		tr.Report(fmt.Sprintf("%s is %s old", what, human.Duration(age)))
		return nil
	case !r.allow:
		// The refusal says which data it refused, so a report or a tabletop can weigh it.
		return action.WithOutputs(guard("%s is %s old > maxAge %s; set allowDataLoss to %s anyway%s", what, human.Duration(age), human.Duration(r.maxAge), verb, detail),
			refusalOutputs(snap, age))
	}
	tr.Report(fmt.Sprintf("%s is %s old > maxAge %s; going on (allowDataLoss)%s", what, human.Duration(age), human.Duration(r.maxAge), detail))
	return nil
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
// Idempotency: an existing instanceId is adopted and waited for by the rules of
// RDSRestoreSnapshot, with the restore time in place of the snapshot: it must be this run's
// (or a run's in Step.OwnerRuns), usable, and restored from sourceInstance (its
// kirikae:source tag) to restoreTime (its kirikae:restoreTime tag). With no restoreTime
// ("latest") only the instance an earlier attempt of this step created is adopted: any
// other holds data up to a time that is no longer the latest. The restore time reported
// is the one the instance was restored to (its kirikae:restoreTime tag).
//
// Undo: as RDSRestoreSnapshot, aws.rds.deleteRestored of the instance it restored.
type RDSRestorePointInTime struct {
	Client func(region string) (RDSPointInTimeAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *RDSRestorePointInTime) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.RestorePointInTime)
	if err != nil {
		return nil, err
	}
	src, id := in.SourceInstance, in.InstanceID
	var at time.Time // zero: the latest restorable time
	if in.RestoreTime != nil {
		at = *in.RestoreTime
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
	if inst == nil {
		srcInst, err := describeInstance(ctx, api, src)
		if err != nil {
			return nil, err
		}
		if srcInst == nil {
			return nil, checkFailed("source DB instance %s not found in %s", src, step.Region)
		}
		req := &rds.RestoreDBInstanceToPointInTimeInput{
			SourceDBInstanceIdentifier: aws.String(src),
			TargetDBInstanceIdentifier: aws.String(id),
			MultiAZ:                    aws.Bool(in.MultiAZ == nil || *in.MultiAZ),
			VpcSecurityGroupIds:        in.SecurityGroups,
		}
		if at.IsZero() {
			req.UseLatestRestorableTime = aws.Bool(true)
			if srcInst.LatestRestorableTime != nil {
				restoreTime = srcInst.LatestRestorableTime.UTC().Format(time.RFC3339)
			}
		} else {
			req.RestoreTime = aws.Time(at)
		}
		req.Tags = ownerTags(step, types.Tag{Key: aws.String(tagRestoreTime), Value: aws.String(restoreTime)},
			types.Tag{Key: aws.String(tagSource), Value: aws.String(src)})
		if in.InstanceClass != "" {
			req.DBInstanceClass = aws.String(in.InstanceClass)
		}
		if in.SubnetGroup != "" {
			req.DBSubnetGroupName = aws.String(in.SubnetGroup)
		}
		tr.Report("restoring " + src + " to " + restoreTime)
		res, err := api.RestoreDBInstanceToPointInTime(ctx, req)
		switch {
		case err == nil:
			seen = restoredUndo(step, id, "")
			seen(res.DBInstance)
		case isCode(err, "DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"):
			// Judged like any other existing instance, below.
			if inst, err = describeInstance(ctx, api, id); err != nil {
				return nil, err
			}
			if inst == nil {
				return nil, fmt.Errorf("restore %s to %s as %s: RDS says it already exists, yet it cannot be described", src, restoreTime, id)
			}
		default:
			return nil, fmt.Errorf("restore %s to %s as %s: %w", src, restoreTime, id, err)
		}
	}
	if inst != nil {
		held := instanceTag(inst, tagRestoreTime)
		if err := adoptPointInTime(inst, step, src, at); err != nil {
			return nil, err
		}
		if held != "" {
			restoreTime = held
		}
		if ownedByStep(inst, step) {
			seen = restoredUndo(step, id, "")
			seen(inst)
		}
		tr.Report("exists (" + aws.ToString(inst.DBInstanceStatus) + "), restored to " + restoreTime + ", adopting")
	}
	inst, err = e.Opts.waitInstanceAvailable(ctx, api, id, tr, seen)
	if err != nil {
		return nil, err
	}
	endpoint, port, err := endpointOf(inst)
	if err != nil {
		return nil, err
	}
	return action.Outputs(catalog.RestorePointInTime, catalog.RestorePointInTimeOut{Endpoint: endpoint, Port: port, RestoreTime: restoreTime})
}

// adoptPointInTime decides, by the rules on RDSRestorePointInTime, whether the existing
// instance in may stand in for restoring src to at (zero: the latest restorable time).
func adoptPointInTime(in *types.DBInstance, step action.Step, src string, at time.Time) error {
	st := aws.ToString(in.DBInstanceStatus)
	if ownedByStep(in, step) && !unadoptable(st) {
		return nil
	}
	who, owned := creator(instanceTag(in, tagRun), instanceTag(in, tagStep), step)
	why := []string{who} // the first is who made it, a reason only when it is not owned
	if unadoptable(st) {
		why = append(why, "it is "+st)
	}
	held, from := instanceTag(in, tagRestoreTime), instanceTag(in, tagSource)
	switch {
	case at.IsZero():
		to := "an unknown time"
		if held != "" {
			to = held
		}
		why = append(why, "it holds the data of "+to+", and this step asks for the latest restorable time of "+src)
	case held == "":
		why = append(why, "no "+tagRestoreTime+" tag says which time it was restored to")
	default:
		if t, err := time.Parse(time.RFC3339, held); err != nil || !t.Equal(at) {
			why = append(why, "it was restored to "+held+", not to "+at.UTC().Format(time.RFC3339))
		}
	}
	if from != "" && from != src {
		why = append(why, "it was restored from "+from+", not from "+src)
	}
	if !owned || len(why) > 1 {
		return refuseAdoption(in, why)
	}
	return nil
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
	in, err := action.Decode(step, catalog.Snapshot)
	if err != nil {
		return nil, err
	}
	id, sid := in.InstanceID, in.SnapshotID
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
	return action.Outputs(catalog.Snapshot, catalog.SnapshotOut{SnapshotID: sid, SnapshotARN: aws.ToString(s.DBSnapshotArn)})
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
	in, err := action.Decode(step, catalog.CopySnapshot)
	if err != nil {
		return nil, err
	}
	parts, err := action.CheckARN("sourceSnapshotArn", in.SourceSnapshotARN, "rds", "snapshot:")
	if err != nil {
		return nil, err
	}
	srcARN, srcRegion, target := in.SourceSnapshotARN, in.SourceRegion, in.TargetSnapshotID
	if srcRegion != parts.Region {
		return nil, fmt.Errorf("%w: with.sourceRegion %s does not match the region of with.sourceSnapshotArn (%s)", action.ErrInvalidInput, srcRegion, parts.Region)
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
		req := &rds.CopyDBSnapshotInput{
			SourceDBSnapshotIdentifier: aws.String(srcARN),
			TargetDBSnapshotIdentifier: aws.String(target),
			CopyTags:                   aws.Bool(true),
		}
		if in.KMSKeyID != "" {
			req.KmsKeyId = aws.String(in.KMSKeyID)
		}
		if srcRegion != step.Region {
			req.SourceRegion = aws.String(srcRegion)
		}
		tr.Report("copying from " + srcARN)
		if _, err := api.CopyDBSnapshot(ctx, req); err != nil && !isCode(err, "DBSnapshotAlreadyExists", "DBSnapshotAlreadyExistsFault") {
			return nil, fmt.Errorf("copy snapshot %s to %s: %w", srcARN, target, err)
		}
	}
	s, err = e.Opts.waitSnapshotAvailable(ctx, api, target, tr)
	if err != nil {
		return nil, err
	}
	return action.Outputs(catalog.CopySnapshot, catalog.SnapshotOut{SnapshotID: target, SnapshotARN: aws.ToString(s.DBSnapshotArn)})
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
	in, err := action.Decode(step, catalog.Delete)
	if err != nil {
		// Among them the guard rail's own: a final snapshot and a verified copy.
		return nil, fmt.Errorf("refusing to delete: %w", err)
	}
	id, final, verified := in.InstanceID, in.FinalSnapshotID, in.VerifiedCopy
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
	return action.Outputs(catalog.Delete, catalog.DeleteOut{FinalSnapshotID: final})
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
	in, err := action.Decode(step, catalog.Stop)
	if err != nil {
		return nil, err
	}
	id := in.InstanceID
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
	return action.Outputs(catalog.Stop, catalog.StopOut{Status: "stopped"})
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
	in, err := action.Decode(step, catalog.DeleteRestored)
	if err != nil {
		// Among them the guard rail's own: the instance's creation time.
		return nil, fmt.Errorf("refusing to delete: %w", err)
	}
	id, want, source := in.InstanceID, in.CreateTime, in.SourceSnapshotID
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
		return action.Outputs(catalog.DeleteRestored, catalog.DeletedOut{Deleted: true})
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
			return action.Outputs(catalog.DeleteRestored, catalog.DeletedOut{Deleted: true})
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
	return action.Outputs(catalog.DeleteRestored, catalog.DeletedOut{Deleted: true})
}
