package aws

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
)

// ContainerName is the name of the one container kirikae's task definitions run; the ALB
// target group of the seed system points at it.
const ContainerName = "app"

type (
	// ECSRegisterAPI is what ECSRegisterTaskDefinition calls.
	ECSRegisterAPI interface {
		DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
		RegisterTaskDefinition(context.Context, *ecs.RegisterTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	}
	// ECSDeregisterAPI is what ECSDeregisterTaskDefinition calls.
	ECSDeregisterAPI interface {
		DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
		DeregisterTaskDefinition(context.Context, *ecs.DeregisterTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error)
	}
	// ECSServiceAPI is what ECSUpdateService calls.
	ECSServiceAPI interface {
		ecs.DescribeServicesAPIClient
		DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
		UpdateService(context.Context, *ecs.UpdateServiceInput, ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	}
)

// ECSRegisterTaskDefinition is aws.ecs.registerTaskDefinition: one Fargate container named
// ContainerName, with the image, port, environment and secrets of the step.
//
// Idempotency: it describes the family's latest revision and adopts it when it is identical
// to what it would register (image, cpu, memory, port, environment, secrets, execution
// role); only otherwise does it register a new revision.
//
// Undo: when it registered a new revision, aws.ecs.deregisterTaskDefinition of it; an
// adopted revision has none.
type ECSRegisterTaskDefinition struct {
	Client func(region string) (ECSRegisterAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *ECSRegisterTaskDefinition) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.RegisterTaskDefinition)
	if err != nil {
		return nil, err
	}
	family := in.Family
	port := 8080
	if in.ContainerPort != nil {
		port = *in.ContainerPort
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("%w: with.containerPort: want 1..65535, got %d", action.ErrInvalidInput, port)
	}
	if in.ExecutionRoleARN != "" {
		if _, err := action.CheckARN("executionRoleArn", in.ExecutionRoleARN, "iam", "role/"); err != nil {
			return nil, err
		}
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "ECS task definition "+family, nil)
	cd := types.ContainerDefinition{
		Name:         aws.String(ContainerName),
		Image:        aws.String(in.Image),
		Essential:    aws.Bool(true),
		PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(int32(port)), Protocol: types.TransportProtocolTcp}},
	}
	for _, k := range slices.Sorted(maps.Keys(in.Environment)) {
		cd.Environment = append(cd.Environment, types.KeyValuePair{Name: aws.String(k), Value: aws.String(in.Environment[k])})
	}
	for _, k := range slices.Sorted(maps.Keys(in.Secrets)) {
		cd.Secrets = append(cd.Secrets, types.Secret{Name: aws.String(k), ValueFrom: aws.String(in.Secrets[k])})
	}
	req := &ecs.RegisterTaskDefinitionInput{
		Family:                  aws.String(family),
		ContainerDefinitions:    []types.ContainerDefinition{cd},
		Cpu:                     aws.String(cmp.Or(in.CPU, "512")),
		Memory:                  aws.String(cmp.Or(in.Memory, "1024")),
		NetworkMode:             types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
	}
	if in.ExecutionRoleARN != "" {
		req.ExecutionRoleArn = aws.String(in.ExecutionRoleARN)
	}
	latest, err := api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(family)})
	if err != nil && !isCode(err, "ClientException") {
		return nil, fmt.Errorf("describe task definition %s: %w", family, err)
	}
	if err == nil && latest.TaskDefinition != nil && sameTaskDef(latest.TaskDefinition, req) {
		td := latest.TaskDefinition
		tr.Report(fmt.Sprintf("revision %d is identical, adopting", td.Revision))
		return action.Outputs(catalog.RegisterTaskDefinition, catalog.RegisterTaskDefinitionOut{TaskDefinitionARN: aws.ToString(td.TaskDefinitionArn), Revision: int64(td.Revision)})
	}
	tr.Report("registering")
	out, err := api.RegisterTaskDefinition(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("register task definition %s: %w", family, err)
	}
	td := out.TaskDefinition
	arn := aws.ToString(td.TaskDefinitionArn)
	step.Undo.Add(action.Undo{
		Action: catalog.DeregisterTaskDefinition.Name,
		With:   map[string]any{"taskDefinition": arn},
		Note:   fmt.Sprintf("deregister task definition %s:%d (registered by this run)", family, td.Revision),
	})
	return action.Outputs(catalog.RegisterTaskDefinition, catalog.RegisterTaskDefinitionOut{TaskDefinitionARN: arn, Revision: int64(td.Revision)})
}

// ECSDeregisterTaskDefinition is aws.ecs.deregisterTaskDefinition, the undo of a
// registration: it deregisters one revision (it turns INACTIVE; services that run it keep
// running, new ones cannot use it).
//
// Idempotency: a revision already INACTIVE (or DELETE_IN_PROGRESS) is left alone.
type ECSDeregisterTaskDefinition struct {
	Client func(region string) (ECSDeregisterAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *ECSDeregisterTaskDefinition) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.DeregisterTaskDefinition)
	if err != nil {
		return nil, err
	}
	ref := in.TaskDefinition
	if _, err := action.CheckARN("taskDefinition", ref, "ecs", "task-definition/"); err != nil {
		return nil, err
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "ECS task definition "+ref, nil)
	cur, err := api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)})
	if err != nil {
		return nil, fmt.Errorf("describe task definition %s: %w", ref, err)
	}
	td := cur.TaskDefinition
	if td == nil {
		return nil, checkFailed("task definition %s not found in %s", ref, step.Region)
	}
	if td.Status != types.TaskDefinitionStatusActive {
		tr.Report("already " + string(td.Status))
		return action.Outputs(catalog.DeregisterTaskDefinition, catalog.DeregisterTaskDefinitionOut{TaskDefinitionARN: aws.ToString(td.TaskDefinitionArn), Status: string(td.Status)})
	}
	tr.Report("deregistering")
	out, err := api.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(ref)})
	if err != nil {
		return nil, fmt.Errorf("deregister task definition %s: %w", ref, err)
	}
	status := types.TaskDefinitionStatusInactive
	if out.TaskDefinition != nil && out.TaskDefinition.Status != "" {
		status = out.TaskDefinition.Status
	}
	return action.Outputs(catalog.DeregisterTaskDefinition, catalog.DeregisterTaskDefinitionOut{TaskDefinitionARN: aws.ToString(td.TaskDefinitionArn), Status: string(status)})
}

func sameTaskDef(have *types.TaskDefinition, want *ecs.RegisterTaskDefinitionInput) bool {
	if aws.ToString(have.Cpu) != aws.ToString(want.Cpu) || aws.ToString(have.Memory) != aws.ToString(want.Memory) ||
		aws.ToString(have.ExecutionRoleArn) != aws.ToString(want.ExecutionRoleArn) ||
		have.NetworkMode != want.NetworkMode || len(have.ContainerDefinitions) != 1 {
		return false
	}
	h, w := have.ContainerDefinitions[0], want.ContainerDefinitions[0]
	if aws.ToString(h.Name) != aws.ToString(w.Name) || aws.ToString(h.Image) != aws.ToString(w.Image) || len(h.PortMappings) != 1 ||
		aws.ToInt32(h.PortMappings[0].ContainerPort) != aws.ToInt32(w.PortMappings[0].ContainerPort) {
		return false
	}
	kv := func(l []types.KeyValuePair) map[string]string {
		m := map[string]string{}
		for _, p := range l {
			m[aws.ToString(p.Name)] = aws.ToString(p.Value)
		}
		return m
	}
	sec := func(l []types.Secret) map[string]string {
		m := map[string]string{}
		for _, p := range l {
			m[aws.ToString(p.Name)] = aws.ToString(p.ValueFrom)
		}
		return m
	}
	return maps.Equal(kv(h.Environment), kv(w.Environment)) && maps.Equal(sec(h.Secrets), sec(w.Secrets))
}

// ECSUpdateService is aws.ecs.updateService: desired count and task definition, then the
// SDK's ServicesStable waiter.
//
// Idempotency: when the service already has the desired count and task definition (the
// input resolved to a revision ARN), UpdateService is not called again; the executor only
// waits, so a rerun does not restart a deployment in flight. forceNewDeployment cannot be
// seen on the service afterwards, so the executor records in Options.Memo that it forced
// one and does not force again for the same run and step. That is at-least-once: if the
// agent dies after ECS accepted the call and before the record, the rerun forces a second
// rolling deployment, which is harmless, where at-most-once could leave tasks on old secrets.
//
// Undo: when it changed the desired count or the task definition, aws.ecs.updateService back
// to the desired count and task definition the service had before (wait true). A forced
// deployment alone changes nothing that could be undone, and has none.
type ECSUpdateService struct {
	Client func(region string) (ECSServiceAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *ECSUpdateService) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.UpdateService)
	if err != nil {
		return nil, err
	}
	cluster, service, desired, force := in.Cluster, in.Service, in.DesiredCount, in.ForceNewDeployment
	if desired < 0 || desired > 5000 {
		return nil, fmt.Errorf("%w: with.desiredCount: want 0..5000, got %d", action.ErrInvalidInput, desired)
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "ECS "+cluster+"/"+service, nil)
	tdARN := ""
	if in.TaskDefinition != "" {
		// Passed to ECS as written: "family" is the newest ACTIVE revision, and the seed's
		// "family:latest" is no revision, which ECS refuses (InvalidParameterException); a
		// plan that carries it must fail here, as the runbook's command would on AWS.
		td, err := api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(in.TaskDefinition)})
		if err != nil {
			return nil, fmt.Errorf("resolve with.taskDefinition %s: %w", in.TaskDefinition, err)
		}
		tdARN = aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	}
	svc, err := describeService(ctx, api, cluster, service)
	if err != nil {
		return nil, err
	}
	memoKey := "ecs/force/" + step.Key()
	if force && e.Opts.Memo != nil {
		if _, done := e.Opts.Memo.Get(memoKey); done {
			force = false
			tr.Report("new deployment already forced by an earlier attempt")
		}
	}
	if !force && int(svc.DesiredCount) == desired && (tdARN == "" || aws.ToString(svc.TaskDefinition) == tdARN) {
		tr.Report(fmt.Sprintf("already at %d tasks of %s", desired, aws.ToString(svc.TaskDefinition)))
	} else {
		req := &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String(service),
			DesiredCount: aws.Int32(int32(desired)), ForceNewDeployment: force}
		if tdARN != "" {
			req.TaskDefinition = aws.String(tdARN)
		}
		tr.Report(fmt.Sprintf("updating to %d tasks", desired))
		if _, err := api.UpdateService(ctx, req); err != nil {
			return nil, fmt.Errorf("update service %s/%s: %w", cluster, service, err)
		}
		prevTD := aws.ToString(svc.TaskDefinition)
		if int(svc.DesiredCount) != desired || (tdARN != "" && prevTD != tdARN) {
			step.Undo.Add(action.Undo{
				Action: catalog.UpdateService.Name,
				With: map[string]any{"cluster": cluster, "service": service, "desiredCount": int64(svc.DesiredCount),
					"taskDefinition": prevTD, "wait": true},
				Note: fmt.Sprintf("set service %s/%s back to %d tasks of %s (changed by this run)", cluster, service, svc.DesiredCount, prevTD),
			})
		}
		if force && e.Opts.Memo != nil {
			if err := e.Opts.Memo.Put(memoKey, map[string]any{"forced": true}); err != nil {
				return nil, fmt.Errorf("record the forced deployment of %s/%s: %w", cluster, service, err)
			}
		}
	}
	if in.Wait == nil || *in.Wait {
		lo, hi := e.Opts.delays()
		w := ecs.NewServicesStableWaiter(api, func(wo *ecs.ServicesStableWaiterOptions) {
			wo.MinDelay, wo.MaxDelay = lo, hi
			wo.Retryable = track(wo.Retryable, func(out *ecs.DescribeServicesOutput) {
				if len(out.Services) > 0 {
					s := out.Services[0]
					tr.Report(fmt.Sprintf("%d running, %d pending of %d", s.RunningCount, s.PendingCount, s.DesiredCount))
				}
			})
		})
		if err := w.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}}, e.Opts.maxWait(ctx)); err != nil {
			return nil, waitErr("service "+cluster+"/"+service+" to be stable", err)
		}
		if svc, err = describeService(ctx, api, cluster, service); err != nil {
			return nil, err
		}
	}
	return action.Outputs(catalog.UpdateService, catalog.UpdateServiceOut{RunningCount: int64(svc.RunningCount), TaskDefinition: aws.ToString(svc.TaskDefinition)})
}

func describeService(ctx context.Context, api ecs.DescribeServicesAPIClient, cluster, service string) (*types.Service, error) {
	out, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
	if err != nil {
		return nil, fmt.Errorf("describe service %s/%s: %w", cluster, service, err)
	}
	if len(out.Services) == 0 {
		reason := "MISSING"
		if len(out.Failures) > 0 {
			reason = aws.ToString(out.Failures[0].Reason)
		}
		return nil, checkFailed("ECS service %s/%s not found (%s)", cluster, service, reason)
	}
	return &out.Services[0], nil
}
