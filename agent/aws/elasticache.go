package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"

	"github.com/kirikae/kirikae/agent/action"
)

type (
	// ElastiCacheCreateAPI is what ElastiCacheCreate calls.
	ElastiCacheCreateAPI interface {
		elasticache.DescribeReplicationGroupsAPIClient
		CreateReplicationGroup(context.Context, *elasticache.CreateReplicationGroupInput, ...func(*elasticache.Options)) (*elasticache.CreateReplicationGroupOutput, error)
	}
	// ElastiCacheDeleteAPI is what ElastiCacheDelete calls.
	ElastiCacheDeleteAPI interface {
		elasticache.DescribeReplicationGroupsAPIClient
		DeleteReplicationGroup(context.Context, *elasticache.DeleteReplicationGroupInput, ...func(*elasticache.Options)) (*elasticache.DeleteReplicationGroupOutput, error)
	}
)

func describeReplGroup(ctx context.Context, api elasticache.DescribeReplicationGroupsAPIClient, id string) (*types.ReplicationGroup, error) {
	out, err := api.DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(id)})
	if isCode(err, "ReplicationGroupNotFoundFault", "ReplicationGroupNotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe replication group %s: %w", id, err)
	}
	for i := range out.ReplicationGroups {
		if aws.ToString(out.ReplicationGroups[i].ReplicationGroupId) == id {
			return &out.ReplicationGroups[i], nil
		}
	}
	return nil, nil
}

// ElastiCacheCreate is aws.elasticache.createReplicationGroup. The group is created new and
// empty (seed 000 step 5: the cache is rebuilt, not restored).
//
// Idempotency: it describes replicationGroupId first and adopts an existing group (refusing
// one that is being deleted or has another node type), then waits with the SDK's
// ReplicationGroupAvailable waiter. ReplicationGroupAlreadyExists from a race is adopted.
//
// Undo: when it created the group, aws.elasticache.deleteReplicationGroup of it; an adopted
// group has none.
type ElastiCacheCreate struct {
	Client func(region string) (ElastiCacheCreateAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *ElastiCacheCreate) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	id, err := action.Str(step, "replicationGroupId")
	if err != nil {
		return nil, err
	}
	desc, err := action.OptStr(step, "description", "kirikae: "+id)
	if err != nil {
		return nil, err
	}
	nodeType, err := action.OptStr(step, "nodeType", "")
	if err != nil {
		return nil, err
	}
	n, err := action.OptInt(step, "numCacheClusters", 2)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 6 {
		return nil, fmt.Errorf("%w: with.numCacheClusters: want 1..6, got %d", action.ErrInvalidInput, n)
	}
	version, err := action.OptStr(step, "engineVersion", "")
	if err != nil {
		return nil, err
	}
	autoFail, err := action.Bool(step, "automaticFailover", true)
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
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "ElastiCache "+id, nil)
	g, err := describeReplGroup(ctx, api, id)
	if err != nil {
		return nil, err
	}
	if g != nil {
		st := aws.ToString(g.Status)
		if st == "deleting" || st == "create-failed" {
			return nil, guard("replication group %s already exists in state %s; it cannot be adopted", id, st)
		}
		if have := aws.ToString(g.CacheNodeType); nodeType != "" && have != "" && have != nodeType {
			return nil, guard("replication group %s already exists with node type %s, not %s", id, have, nodeType)
		}
		tr.Report("exists (" + st + "), adopting")
	} else {
		in := &elasticache.CreateReplicationGroupInput{
			ReplicationGroupId:          aws.String(id),
			ReplicationGroupDescription: aws.String(desc),
			Engine:                      aws.String("redis"),
			NumCacheClusters:            aws.Int32(int32(n)),
			AutomaticFailoverEnabled:    aws.Bool(autoFail),
			SecurityGroupIds:            sgs,
			Tags: []types.Tag{
				{Key: aws.String(tagRun), Value: aws.String(step.RunID)},
				{Key: aws.String(tagStep), Value: aws.String(step.StepID)},
			},
		}
		if autoFail && n >= 2 {
			in.MultiAZEnabled = aws.Bool(true)
		}
		if nodeType != "" {
			in.CacheNodeType = aws.String(nodeType)
		}
		if version != "" {
			in.EngineVersion = aws.String(version)
		}
		if subnets != "" {
			in.CacheSubnetGroupName = aws.String(subnets)
		}
		tr.Report("creating")
		_, err := api.CreateReplicationGroup(ctx, in)
		switch {
		case err == nil:
			step.Undo.Add(action.Undo{
				Action: "aws.elasticache.deleteReplicationGroup",
				With:   map[string]any{"replicationGroupId": id},
				Note:   "delete replication group " + id + " (created by this run)",
			})
		case !isCode(err, "ReplicationGroupAlreadyExists", "ReplicationGroupAlreadyExistsFault"):
			return nil, fmt.Errorf("create replication group %s: %w", id, err)
		}
	}
	lo, hi := e.Opts.delays()
	w := elasticache.NewReplicationGroupAvailableWaiter(api, func(wo *elasticache.ReplicationGroupAvailableWaiterOptions) {
		wo.MinDelay, wo.MaxDelay = lo, hi
		wo.Retryable = track(wo.Retryable, func(out *elasticache.DescribeReplicationGroupsOutput) {
			if len(out.ReplicationGroups) > 0 {
				tr.Report(aws.ToString(out.ReplicationGroups[0].Status))
			}
		})
	})
	out, err := w.WaitForOutput(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(id)}, e.Opts.maxWait(ctx))
	if err != nil {
		return nil, waitErr("replication group "+id+" to be available", err)
	}
	if len(out.ReplicationGroups) == 0 {
		return nil, fmt.Errorf("replication group %s vanished while waiting", id)
	}
	g = &out.ReplicationGroups[0]
	var ep *types.Endpoint
	for _, ng := range g.NodeGroups {
		if ng.PrimaryEndpoint != nil {
			ep = ng.PrimaryEndpoint
			break
		}
	}
	if ep == nil {
		ep = g.ConfigurationEndpoint
	}
	if ep == nil || aws.ToString(ep.Address) == "" {
		return nil, fmt.Errorf("replication group %s is available but has no endpoint", id)
	}
	return map[string]any{"primaryEndpoint": aws.ToString(ep.Address), "port": int64(aws.ToInt32(ep.Port))}, nil
}

// ElastiCacheDelete is aws.elasticache.deleteReplicationGroup.
//
// Idempotency: a group that is not there counts as deleted; one already "deleting" is only
// waited for (SDK ReplicationGroupDeleted waiter).
type ElastiCacheDelete struct {
	Client func(region string) (ElastiCacheDeleteAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *ElastiCacheDelete) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	id, err := action.Str(step, "replicationGroupId")
	if err != nil {
		return nil, err
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "ElastiCache "+id, nil)
	g, err := describeReplGroup(ctx, api, id)
	if err != nil {
		return nil, err
	}
	if g == nil {
		tr.Report("already gone")
		return map[string]any{"deleted": true}, nil
	}
	if aws.ToString(g.Status) != "deleting" {
		tr.Report("deleting")
		_, err := api.DeleteReplicationGroup(ctx, &elasticache.DeleteReplicationGroupInput{ReplicationGroupId: aws.String(id)})
		if isCode(err, "ReplicationGroupNotFoundFault", "ReplicationGroupNotFound") {
			return map[string]any{"deleted": true}, nil
		}
		if err != nil && !isCode(err, "InvalidReplicationGroupState", "InvalidReplicationGroupStateFault") {
			return nil, fmt.Errorf("delete replication group %s: %w", id, err)
		}
	}
	lo, hi := e.Opts.delays()
	w := elasticache.NewReplicationGroupDeletedWaiter(api, func(wo *elasticache.ReplicationGroupDeletedWaiterOptions) {
		wo.MinDelay, wo.MaxDelay = lo, hi
		wo.Retryable = track(wo.Retryable, func(out *elasticache.DescribeReplicationGroupsOutput) {
			if len(out.ReplicationGroups) > 0 {
				tr.Report(aws.ToString(out.ReplicationGroups[0].Status))
			}
		})
	})
	if err := w.Wait(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(id)}, e.Opts.maxWait(ctx)); err != nil {
		return nil, waitErr("replication group "+id+" to be deleted", err)
	}
	return map[string]any{"deleted": true}, nil
}
