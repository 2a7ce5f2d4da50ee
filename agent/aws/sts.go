package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// STSAPI is what CallerIdentity calls.
type STSAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Identity is who the agent's credentials are.
type Identity struct {
	Account string
	ARN     string
}

// CallerIdentity checks the agent's credentials; the heartbeat reports its error as
// "credentials invalid". It is not a plan action.
func CallerIdentity(ctx context.Context, api STSAPI) (Identity, error) {
	out, err := api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, fmt.Errorf("sts GetCallerIdentity: %w", err)
	}
	return Identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn)}, nil
}
