package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/kirikae/kirikae/agent/action"
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
	arn, err := action.OptStr(step, "targetGroupArn", "")
	if err != nil {
		return nil, err
	}
	name, err := action.OptStr(step, "targetGroupName", "")
	if err != nil {
		return nil, err
	}
	if arn == "" && name == "" {
		return nil, fmt.Errorf("%w: with.targetGroupArn or with.targetGroupName is required", action.ErrInvalidInput)
	}
	if arn != "" {
		if _, err := action.CheckARN("targetGroupArn", arn, "elasticloadbalancing", "targetgroup/"); err != nil {
			return nil, err
		}
	}
	want, err := action.OptInt(step, "count", 2)
	if err != nil {
		return nil, err
	}
	if want < 1 {
		return nil, fmt.Errorf("%w: with.count: want at least 1, got %d", action.ErrInvalidInput, want)
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	in := &elbv2.DescribeTargetGroupsInput{}
	if arn != "" {
		in.TargetGroupArns = []string{arn}
	} else {
		in.Names = []string{name}
	}
	tgs, err := api.DescribeTargetGroups(ctx, in)
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
			if int64(h) >= want {
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
	return map[string]any{"healthy": int64(h), "targetGroupArn": arn, "loadBalancerDnsName": dns}, nil
}
