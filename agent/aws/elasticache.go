package aws

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
)

type (
	// ElastiCacheCreateAPI is what ElastiCacheCreate calls.
	ElastiCacheCreateAPI interface {
		elasticache.DescribeReplicationGroupsAPIClient
		CreateReplicationGroup(context.Context, *elasticache.CreateReplicationGroupInput, ...func(*elasticache.Options)) (*elasticache.CreateReplicationGroupOutput, error)
		// ListTagsForResource reads a group's kirikae tags: DescribeReplicationGroups
		// does not return tags.
		ListTagsForResource(context.Context, *elasticache.ListTagsForResourceInput, ...func(*elasticache.Options)) (*elasticache.ListTagsForResourceOutput, error)
	}
	// ElastiCacheDeleteAPI is what ElastiCacheDelete calls.
	ElastiCacheDeleteAPI interface {
		elasticache.DescribeReplicationGroupsAPIClient
		DeleteReplicationGroup(context.Context, *elasticache.DeleteReplicationGroupInput, ...func(*elasticache.Options)) (*elasticache.DeleteReplicationGroupOutput, error)
	}
)

// adoptReplGroup decides, by the rules on ElastiCacheCreate, whether the existing group g
// may be adopted; mine says an earlier attempt of this very step created it.
func adoptReplGroup(ctx context.Context, api ElastiCacheCreateAPI, step action.Step, g *types.ReplicationGroup, nodeType string) (mine bool, err error) {
	id, st := aws.ToString(g.ReplicationGroupId), aws.ToString(g.Status)
	var tags []types.Tag
	if groupARN := aws.ToString(g.ARN); groupARN != "" {
		out, err := api.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String(groupARN)})
		if err != nil {
			return false, fmt.Errorf("list tags of replication group %s: %w", id, err)
		}
		tags = out.TagList
	}
	tag := func(key string) string {
		for _, t := range tags {
			if aws.ToString(t.Key) == key {
				return aws.ToString(t.Value)
			}
		}
		return ""
	}
	run, stepID := tag(tagRun), tag(tagStep)
	who, owned := creator(run, stepID, step)
	if g.ARN == nil {
		who = "it reports no ARN, so its kirikae tags cannot be read"
	}
	why := []string{who} // the first is who made it, a reason only when it is not owned
	if st == "deleting" || st == "create-failed" {
		why = append(why, "it is "+st)
	}
	if have := aws.ToString(g.CacheNodeType); nodeType != "" && have != "" && have != nodeType {
		why = append(why, "its node type is "+have+", not "+nodeType)
	}
	if !owned || len(why) > 1 {
		return false, guard("replication group %s already exists (%s) and is not adopted: %s. Delete it or set another replicationGroupId",
			id, st, strings.Join(why, "; "))
	}
	return run == step.RunID && stepID == step.StepID, nil
}

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
// Idempotency: it describes replicationGroupId first. An existing group is adopted, and
// waited for with the SDK's ReplicationGroupAvailable waiter, only when kirikae created it
// for this run: its kirikae:run tag (read with ListTagsForResource, since
// DescribeReplicationGroups returns no tags) names this run or one of Step.OwnerRuns. A
// group of another run, or one without kirikae tags, is refused, as is one that is being
// deleted, failed to create or has another node type. ReplicationGroupAlreadyExists from a
// race is decided by the same rules.
//
// Undo: when it created the group, aws.elasticache.deleteReplicationGroup of it. An adopted
// group has none, except one an earlier attempt of this step created (its tags name this
// run and step), which may have ended before it could report the undo.
type ElastiCacheCreate struct {
	Client func(region string) (ElastiCacheCreateAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *ElastiCacheCreate) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.CreateReplicationGroup)
	if err != nil {
		return nil, err
	}
	id := in.ReplicationGroupID
	n := 2
	if in.NumCacheClusters != nil {
		n = *in.NumCacheClusters
	}
	if n < 1 || n > 6 {
		return nil, fmt.Errorf("%w: with.numCacheClusters: want 1..6, got %d", action.ErrInvalidInput, n)
	}
	autoFail := in.AutomaticFailover == nil || *in.AutomaticFailover
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "ElastiCache "+id, nil)
	g, err := describeReplGroup(ctx, api, id)
	if err != nil {
		return nil, err
	}
	undo := func() {
		step.Undo.Add(action.Undo{
			Action: catalog.DeleteReplicationGroup.Name,
			With:   map[string]any{"replicationGroupId": id},
			Note:   "delete replication group " + id + " (created by this run)",
		})
	}
	if g == nil {
		req := &elasticache.CreateReplicationGroupInput{
			ReplicationGroupId:          aws.String(id),
			ReplicationGroupDescription: aws.String(cmp.Or(in.Description, "kirikae: "+id)),
			Engine:                      aws.String("redis"),
			NumCacheClusters:            aws.Int32(int32(n)),
			AutomaticFailoverEnabled:    aws.Bool(autoFail),
			SecurityGroupIds:            in.SecurityGroups,
			Tags: []types.Tag{
				{Key: aws.String(tagRun), Value: aws.String(step.RunID)},
				{Key: aws.String(tagStep), Value: aws.String(step.StepID)},
			},
		}
		if autoFail && n >= 2 {
			req.MultiAZEnabled = aws.Bool(true)
		}
		if in.NodeType != "" {
			req.CacheNodeType = aws.String(in.NodeType)
		}
		if in.EngineVersion != "" {
			req.EngineVersion = aws.String(in.EngineVersion)
		}
		if in.SubnetGroup != "" {
			req.CacheSubnetGroupName = aws.String(in.SubnetGroup)
		}
		tr.Report("creating")
		_, err := api.CreateReplicationGroup(ctx, req)
		switch {
		case err == nil:
			undo()
		case isCode(err, "ReplicationGroupAlreadyExists", "ReplicationGroupAlreadyExistsFault"):
			// Someone created it since the describe: judged like any existing group.
			if g, err = describeReplGroup(ctx, api, id); err != nil {
				return nil, err
			}
			if g == nil {
				return nil, fmt.Errorf("create replication group %s: ElastiCache says it already exists, yet it cannot be described", id)
			}
		default:
			return nil, fmt.Errorf("create replication group %s: %w", id, err)
		}
	}
	if g != nil {
		mine, err := adoptReplGroup(ctx, api, step, g, in.NodeType)
		if err != nil {
			return nil, err
		}
		if mine {
			undo()
		}
		tr.Report("exists (" + aws.ToString(g.Status) + "), adopting")
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
	res := catalog.CreateReplicationGroupOut{PrimaryEndpoint: aws.ToString(ep.Address), Port: int64(aws.ToInt32(ep.Port))}
	if c := g.ConfigurationEndpoint; c != nil && aws.ToString(c.Address) != "" {
		res.ConfigurationEndpoint = map[string]any{"address": aws.ToString(c.Address), "port": int64(aws.ToInt32(c.Port))}
	}
	return action.Outputs(catalog.CreateReplicationGroup, res)
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
	in, err := action.Decode(step, catalog.DeleteReplicationGroup)
	if err != nil {
		return nil, err
	}
	id := in.ReplicationGroupID
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
		return action.Outputs(catalog.DeleteReplicationGroup, catalog.DeletedOut{Deleted: true})
	}
	if aws.ToString(g.Status) != "deleting" {
		tr.Report("deleting")
		_, err := api.DeleteReplicationGroup(ctx, &elasticache.DeleteReplicationGroupInput{ReplicationGroupId: aws.String(id)})
		if isCode(err, "ReplicationGroupNotFoundFault", "ReplicationGroupNotFound") {
			return action.Outputs(catalog.DeleteReplicationGroup, catalog.DeletedOut{Deleted: true})
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
	return action.Outputs(catalog.DeleteReplicationGroup, catalog.DeletedOut{Deleted: true})
}
