package agent

import (
	"context"
	"errors"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/agent/aws"
	"github.com/kirikae/kirikae/catalog"
)

type fakeSTS struct{ arn string }

func (f fakeSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return &sts.GetCallerIdentityOutput{Arn: awssdk.String(f.arn), Account: awssdk.String("123456789012")}, nil
}

// fakeIAM denies the actions in deny, or fails every call with err.
type fakeIAM struct {
	deny   map[string]bool
	err    error
	source []string
}

func (f *fakeIAM) SimulatePrincipalPolicy(_ context.Context, in *iam.SimulatePrincipalPolicyInput, _ ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.source = append(f.source, awssdk.ToString(in.PolicySourceArn))
	out := &iam.SimulatePrincipalPolicyOutput{}
	for _, a := range in.ActionNames {
		for _, r := range in.ResourceArns {
			d := iamtypes.PolicyEvaluationDecisionTypeAllowed
			if f.deny[a] {
				d = iamtypes.PolicyEvaluationDecisionTypeImplicitDeny
			}
			out.EvaluationResults = append(out.EvaluationResults, iamtypes.EvaluationResult{EvalActionName: awssdk.String(a), EvalResourceName: awssdk.String(r), EvalDecision: d})
		}
	}
	return out, nil
}

func TestIAMCheck(t *testing.T) {
	steps := []action.CheckStep{
		{StepID: "restore", Action: catalog.RestoreSnapshot.Name, Region: "us-west-2",
			With: map[string]any{"instanceId": "db1", "snapshotId": "snap", "subnetGroup": "sg"}},
		{StepID: "secret", Action: catalog.SecretPut.Name, Region: "us-west-2", With: map[string]any{"secretId": "s"}, Unresolved: []string{"json"}},
	}
	for _, tc := range []struct {
		name  string
		iam   *fakeIAM
		codes map[string]string // step -> the code of its one finding
	}{
		{"all allowed", &fakeIAM{}, map[string]string{}},
		{"one action denied", &fakeIAM{deny: map[string]bool{"rds:RestoreDBInstanceFromDBSnapshot": true}}, map[string]string{"restore": catalog.FindingIAMDenied}},
		{"simulation refused", &fakeIAM{err: errors.New("AccessDenied")}, map[string]string{"restore": catalog.FindingCheckError}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &iamCheck{sts: func() (aws.STSAPI, error) { return fakeSTS{"arn:aws:sts::123456789012:assumed-role/agent/i-0abc"}, nil },
				iam: func() (iamSimulator, error) { return tc.iam, nil }}
			got := map[string]string{}
			for _, f := range c.check(context.Background(), steps) {
				if _, dup := got[f.Step]; dup {
					t.Errorf("two findings on %s", f.Step)
				}
				got[f.Step] = f.Code
				t.Log(f.Problem, f.Fix)
			}
			if len(got) != len(tc.codes) {
				t.Errorf("findings %v, want %v", got, tc.codes)
			}
			for s, code := range tc.codes {
				if got[s] != code {
					t.Errorf("step %s: %q, want %q", s, got[s], code)
				}
			}
			for _, src := range tc.iam.source {
				if src != "arn:aws:iam::123456789012:role/agent" {
					t.Errorf("simulated for %s, want the session's role", src)
				}
			}
		})
	}
}
