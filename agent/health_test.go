package agent_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/health"
	healthtypes "github.com/aws/aws-sdk-go-v2/service/health/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kirikae/kirikae/agent"
)

type fakeSTS struct{ err error }

func (f fakeSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return &sts.GetCallerIdentityOutput{}, f.err
}

type fakeEC2 struct{ err error }

func (f fakeEC2) DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	return &ec2.DescribeVpcsOutput{}, f.err
}

type fakeHealth struct {
	events int
	err    error
}

func (f fakeHealth) DescribeEvents(_ context.Context, in *health.DescribeEventsInput, _ ...func(*health.Options)) (*health.DescribeEventsOutput, error) {
	if in.Filter == nil || len(in.Filter.Regions) != 1 || in.Filter.Regions[0] != "us-west-2" {
		return nil, errors.New("filter must name the region")
	}
	return &health.DescribeEventsOutput{Events: make([]healthtypes.Event, f.events)}, f.err
}

func TestAWSHealthProbe(t *testing.T) {
	badToken := &smithy.GenericAPIError{Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}
	tests := []struct {
		name    string
		sts     error
		ec2     error
		health  fakeHealth
		healthy bool
		events  int
		cause   string
	}{
		{name: "healthy", health: fakeHealth{events: 2}, healthy: true, events: 2},
		{name: "health API fails alone", health: fakeHealth{err: errors.New("SubscriptionRequiredException")}, healthy: true},
		{name: "bad credentials", sts: badToken, health: fakeHealth{err: errors.New("denied")}, cause: "sts GetCallerIdentity: InvalidClientTokenId: The security token included in the request is invalid.; health DescribeEvents: denied"},
		{name: "api down", ec2: errors.New("connection refused"), cause: "us-west-2 API unreachable: ec2 DescribeVpcs: connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := agent.AWSHealthProbe("us-west-2", fakeSTS{tc.sts}, fakeEC2{tc.ec2}, tc.health)(context.Background())
			if h.Healthy() != tc.healthy || h.OpenHealthEvents != tc.events || h.Cause != tc.cause {
				t.Fatalf("got %+v", h)
			}
			if h.CredentialsOK != (tc.sts == nil) || h.APIReachable != (tc.ec2 == nil) {
				t.Fatalf("flags %+v", h)
			}
		})
	}
}
