package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
)

// ELBAPI is what ELBWaitHealthy calls.
type ELBAPI interface {
	elbv2.DescribeTargetHealthAPIClient
	elbv2.DescribeTargetGroupsAPIClient
	elbv2.DescribeLoadBalancersAPIClient
}

// ELBWaitHealthy is aws.elbv2.waitHealthy. It uses the SDK's TargetInService waiter for
// its polling and delays, with the success condition "at least count targets are healthy"
// (the waiter's own condition, every target healthy, is never true of an empty group and
// says nothing about how many there are). It only reads, so it is idempotent by nature.
type ELBWaitHealthy struct {
	Client func(region string) (ELBAPI, error)
	Opts   Options
}

func countHealthy(out *elbv2.DescribeTargetHealthOutput) (healthy, total int) {
	if out == nil {
		return 0, 0
	}
	for _, d := range out.TargetHealthDescriptions {
		total++
		if d.TargetHealth != nil && d.TargetHealth.State == types.TargetHealthStateEnumHealthy {
			healthy++
		}
	}
	return healthy, total
}

// Execute runs the step.
func (e *ELBWaitHealthy) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.WaitHealthy)
	if err != nil {
		return nil, err
	}
	arn, name := in.TargetGroupARN, in.TargetGroupName
	if arn == "" && name == "" {
		return nil, fmt.Errorf("%w: with.targetGroupArn or with.targetGroupName is required", action.ErrInvalidInput)
	}
	if arn != "" {
		if _, err := action.CheckARN("targetGroupArn", arn, "elasticloadbalancing", "targetgroup/"); err != nil {
			return nil, err
		}
	}
	want := 2
	if in.Count != nil {
		want = *in.Count
	}
	if want < 1 {
		return nil, fmt.Errorf("%w: with.count: want at least 1, got %d", action.ErrInvalidInput, want)
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	req := &elbv2.DescribeTargetGroupsInput{}
	if arn != "" {
		req.TargetGroupArns = []string{arn}
	} else {
		req.Names = []string{name}
	}
	tgs, err := api.DescribeTargetGroups(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("describe target group %s%s: %w", arn, name, err)
	}
	if len(tgs.TargetGroups) == 0 {
		return nil, checkFailed("target group %s%s not found in %s", arn, name, step.Region)
	}
	tg := tgs.TargetGroups[0]
	arn = aws.ToString(tg.TargetGroupArn)
	label := "target group " + aws.ToString(tg.TargetGroupName)
	tr := action.NewTracker(progress, label, nil)
	lo, hi := e.Opts.delays()
	w := elbv2.NewTargetInServiceWaiter(api, func(wo *elbv2.TargetInServiceWaiterOptions) {
		wo.MinDelay, wo.MaxDelay = lo, hi
		wo.Retryable = func(_ context.Context, _ *elbv2.DescribeTargetHealthInput, out *elbv2.DescribeTargetHealthOutput, err error) (bool, error) {
			if err != nil {
				return false, err
			}
			h, total := countHealthy(out)
			if h >= want {
				return false, nil
			}
			tr.Report(fmt.Sprintf("%d of %d healthy (%d registered)", h, want, total))
			return true, nil
		}
	})
	out, err := w.WaitForOutput(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)}, e.Opts.maxWait(ctx))
	if err != nil {
		return nil, waitErr(fmt.Sprintf("%d healthy targets in %s", want, label), err)
	}
	h, _ := countHealthy(out)
	dns := ""
	if len(tg.LoadBalancerArns) > 0 {
		lbs, err := api.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: tg.LoadBalancerArns[:1]})
		if err != nil {
			return nil, fmt.Errorf("describe load balancer of %s: %w", label, err)
		}
		if len(lbs.LoadBalancers) > 0 {
			dns = aws.ToString(lbs.LoadBalancers[0].DNSName)
		}
	}
	return action.Outputs(catalog.WaitHealthy, catalog.WaitHealthyOut{Healthy: int64(h), TargetGroupARN: arn, LoadBalancerDNSName: dns})
}
