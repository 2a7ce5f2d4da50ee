package aws

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
)

// taskDefRef splits a task definition reference as ECS reads it: an ARN
// (…:task-definition/FAMILY:REVISION), FAMILY:REVISION, or FAMILY alone. hasRev says a
// revision was written; numeric says it is a number, the only revision ECS has.
func taskDefRef(ref string) (family, rev string, hasRev, numeric bool) {
	name := ref
	if i := strings.LastIndex(ref, ":task-definition/"); i >= 0 && strings.HasPrefix(ref, "arn:") {
		name = ref[i+len(":task-definition/"):]
	}
	family, rev, hasRev = strings.Cut(name, ":")
	if hasRev {
		_, err := strconv.Atoi(rev)
		numeric = err == nil
	}
	return family, rev, hasRev, numeric
}

// newestRevision describes family (ECS answers with its newest ACTIVE revision); 0 when it
// has none.
func newestRevision(ctx context.Context, api ecsCheckAPI, family string) (int32, error) {
	out, err := api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(family)})
	switch {
	case isCode(err, "ClientException"):
		return 0, nil
	case err != nil:
		return 0, err
	case out.TaskDefinition == nil || out.TaskDefinition.Status != types.TaskDefinitionStatusActive:
		return 0, nil
	}
	return out.TaskDefinition.Revision, nil
}

// taskDefinitionCheck checks aws.ecs.registerTaskDefinition: the family is a family (no
// ":latest" or other revision: RegisterTaskDefinition makes the next revision, and ECS
// refuses a colon in a family), and every secret the container reads exists
// (DescribeSecret, in the region its ARN names). SSM parameters are not checked.
type taskDefinitionCheck struct {
	ecs     func(region string) (ecsCheckAPI, error)
	secrets func(region string) (secretsCheckAPI, error)
}

func (c *taskDefinitionCheck) Check(ctx context.Context, s action.CheckStep) []catalog.Finding {
	f := newFindings(s)
	in, err := action.DecodeCheck(s, catalog.RegisterTaskDefinition)
	if err != nil {
		return f.invalid(err)
	}
	if family, rev, hasRev, _ := taskDefRef(in.Family); in.Family != "" && hasRev {
		newest := ""
		if api, err := c.ecs(s.Region); err == nil {
			n, err := newestRevision(ctx, api, family)
			switch {
			case err != nil:
				f.failed("family", "ecs:DescribeTaskDefinition", s.Region, err)
			case n > 0:
				newest = fmt.Sprintf("; its newest ACTIVE revision is now %d", n)
			}
		}
		f.add("family", catalog.FindingTaskDefinitionUnpinned,
			fmt.Sprintf("family %s names revision %q: a family has no revision, and ECS refuses the name", in.Family, rev),
			fmt.Sprintf("family: %s (registering makes its next revision%s)", family, newest))
	}
	for _, name := range slices.Sorted(maps.Keys(in.Secrets)) {
		ref := in.Secrets[name]
		id, region, ok := secretRef(ref, s.Region)
		if !ok {
			continue
		}
		api, err := c.secrets(region)
		if err != nil {
			f.noClients(region, err)
			continue
		}
		checkSecret(ctx, f, api, "secrets", region, id,
			fmt.Sprintf("secrets.%s: the name or ARN of the secret the task should read, or create %s in %s before the run", name, id, region))
	}
	return f.list
}

// checkSecret records a finding when the secret id is not in region or is scheduled for
// deletion; fix says what to write instead.
func checkSecret(ctx context.Context, f *findings, api secretsCheckAPI, input, region, id, fix string) {
	out, err := api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	switch {
	case isCode(err, "ResourceNotFoundException"):
		f.missing(input, fmt.Sprintf("there is no secret %s in %s", id, region), fix)
	case err != nil:
		f.failed(input, "secretsmanager:DescribeSecret", region, err)
	case out.DeletedDate != nil:
		f.missing(input, fmt.Sprintf("secret %s in %s is scheduled for deletion (since %s); Secrets Manager refuses to read or write it",
			id, region, stamp(*out.DeletedDate)),
			fmt.Sprintf("restore it before the run (aws secretsmanager restore-secret --secret-id %s --region %s)", id, region))
	}
}

// serviceCheck checks aws.ecs.updateService: the cluster and the service exist and are
// ACTIVE (DescribeClusters, DescribeServices), and taskDefinition is a revision ECS has: a
// FAMILY:latest (any revision that is not a number) is refused by ECS, and the fix names
// the family's newest ACTIVE revision.
type serviceCheck struct {
	ecs func(region string) (ecsCheckAPI, error)
}

func (c *serviceCheck) Check(ctx context.Context, s action.CheckStep) []catalog.Finding {
	f := newFindings(s)
	in, err := action.DecodeCheck(s, catalog.UpdateService)
	if err != nil {
		return f.invalid(err)
	}
	api, err := c.ecs(s.Region)
	if err != nil {
		return f.noClients(s.Region, err)
	}
	clusterOK := false
	if in.Cluster != "" {
		out, err := api.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{in.Cluster}})
		switch {
		case err != nil:
			f.failed("cluster", "ecs:DescribeClusters", s.Region, err)
		case len(out.Clusters) == 0:
			f.missing("cluster", fmt.Sprintf("there is no ECS cluster %s in %s", in.Cluster, s.Region),
				fmt.Sprintf("create cluster %s in %s before the run (the DR cluster is built in advance), or correct cluster", in.Cluster, s.Region))
		case aws.ToString(out.Clusters[0].Status) != "ACTIVE":
			f.missing("cluster", fmt.Sprintf("ECS cluster %s in %s is %s", in.Cluster, s.Region, aws.ToString(out.Clusters[0].Status)),
				fmt.Sprintf("cluster: an ACTIVE cluster of %s", s.Region))
		default:
			clusterOK = true
		}
	}
	if clusterOK && in.Service != "" {
		out, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(in.Cluster), Services: []string{in.Service}})
		switch {
		case err != nil:
			f.failed("service", "ecs:DescribeServices", s.Region, err)
		case len(out.Services) == 0:
			f.missing("service", fmt.Sprintf("there is no service %s in ECS cluster %s (%s)", in.Service, in.Cluster, s.Region),
				fmt.Sprintf("create service %s in cluster %s before the run (at 0 tasks, as the DR service is built), or correct service", in.Service, in.Cluster))
		case aws.ToString(out.Services[0].Status) != "ACTIVE":
			f.missing("service", fmt.Sprintf("ECS service %s/%s is %s; UpdateService needs an ACTIVE service", in.Cluster, in.Service, aws.ToString(out.Services[0].Status)),
				fmt.Sprintf("service: an ACTIVE service of cluster %s", in.Cluster))
		}
	}
	if in.TaskDefinition != "" {
		c.taskDefinition(ctx, f, api, s.Region, in.TaskDefinition)
	}
	return f.list
}

func (c *serviceCheck) taskDefinition(ctx context.Context, f *findings, api ecsCheckAPI, region, ref string) {
	family, rev, hasRev, numeric := taskDefRef(ref)
	if hasRev && !numeric {
		n, err := newestRevision(ctx, api, family)
		fix := fmt.Sprintf("taskDefinition: %s (its newest ACTIVE revision, now %d), or %s:%d to pin that revision", family, n, family, n)
		switch {
		case err != nil:
			f.failed("taskDefinition", "ecs:DescribeTaskDefinition", region, err)
			fix = fmt.Sprintf("taskDefinition: %s (its newest ACTIVE revision), or %s:REVISION to pin one", family, family)
		case n == 0:
			fix = fmt.Sprintf("taskDefinition: %s:REVISION of a registered revision, or the taskDefinitionArn output of the step that registers it; family %s has no ACTIVE revision in %s yet",
				family, family, region)
		}
		f.add("taskDefinition", catalog.FindingTaskDefinitionUnpinned,
			fmt.Sprintf("taskDefinition %s names revision %q: ECS has no such revision and refuses it (Invalid revision number)", ref, rev), fix)
		return
	}
	out, err := api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)})
	switch {
	case isCode(err, "ClientException"):
		what := "revision " + ref
		if !hasRev {
			what = "family " + ref + " (no ACTIVE revision)"
		}
		f.missing("taskDefinition", fmt.Sprintf("there is no task definition %s in %s", what, region),
			fmt.Sprintf("register %s in %s before the run, or write taskDefinition: the taskDefinitionArn output of the step that registers it", family, region))
	case err != nil:
		f.failed("taskDefinition", "ecs:DescribeTaskDefinition", region, err)
	case out.TaskDefinition != nil && out.TaskDefinition.Status != types.TaskDefinitionStatusActive:
		n, _ := newestRevision(ctx, api, family)
		fix := fmt.Sprintf("taskDefinition: %s (its newest ACTIVE revision, now %d), or %s:%d", family, n, family, n)
		if n == 0 {
			fix = fmt.Sprintf("register %s again before the run; it has no ACTIVE revision", family)
		}
		f.missing("taskDefinition", fmt.Sprintf("task definition %s is %s; ECS runs no new tasks of it", ref, out.TaskDefinition.Status), fix)
	}
}
