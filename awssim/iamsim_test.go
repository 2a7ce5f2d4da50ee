package awssim_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/kirikae/kirikae/iampolicy"
)

// TestIAMSimulatePrincipalPolicy: the simulation answers, per action and resource, what the
// enforced policies of the signing key decide (context keys included), and needs
// iam:SimulatePrincipalPolicy on the user itself.
func TestIAMSimulatePrincipalPolicy(t *testing.T) {
	e := newEnv(t, time.Second)
	c := ctx(t)
	api := iam.NewFromConfig(e.cfg("us-east-1"))
	sim := func() ([]iamtypes.EvaluationResult, error) {
		out, err := api.SimulatePrincipalPolicy(c, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(iamUser),
			ActionNames:  []string{"rds:DescribeDBInstances", "rds:DeleteDBInstance", "route53:ChangeResourceRecordSets"},
			ResourceArns: []string{"arn:aws:rds:us-east-1:" + acct + ":db:a"},
			ContextEntries: []iamtypes.ContextEntry{{ContextKeyName: aws.String("route53:ChangeResourceRecordSetsActions"),
				ContextKeyType: iamtypes.ContextKeyTypeEnumStringList, ContextKeyValues: []string{"UPSERT"}}}})
		if err != nil {
			return nil, err
		}
		return out.EvaluationResults, nil
	}
	got, err := sim()
	if err != nil || len(got) != 3 || got[1].EvalDecision != iamtypes.PolicyEvaluationDecisionTypeAllowed {
		t.Fatalf("without enforcement: %v %v", got, err)
	}
	e.sim.SetIAM(iampolicy.ForAll(policy(t, `{"Effect": "Allow", "Action": "rds:DescribeDBInstances", "Resource": "*"}`)))
	if _, err := sim(); err == nil {
		t.Fatal("the simulation is allowed without iam:SimulatePrincipalPolicy")
	}
	e.sim.SetIAM(iampolicy.ForAll(policy(t, `{"Effect": "Allow", "Action": ["rds:DescribeDBInstances", "iam:SimulatePrincipalPolicy"], "Resource": "*"},
		{"Effect": "Deny", "Action": "rds:DeleteDBInstance", "Resource": "*"},
		{"Effect": "Allow", "Action": "route53:ChangeResourceRecordSets", "Resource": "*",
		 "Condition": {"ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsActions": ["UPSERT"]}}}`)))
	got, err = sim()
	if err != nil {
		t.Fatal(err)
	}
	want := []iamtypes.PolicyEvaluationDecisionType{"allowed", "explicitDeny", "allowed"}
	for i, r := range got {
		if r.EvalDecision != want[i] || aws.ToString(r.EvalResourceName) != "arn:aws:rds:us-east-1:"+acct+":db:a" {
			t.Errorf("%s: %s on %s, want %s", aws.ToString(r.EvalActionName), r.EvalDecision, aws.ToString(r.EvalResourceName), want[i])
		}
	}
	if _, err := api.SimulatePrincipalPolicy(c, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::" + acct + ":user/other"),
		ActionNames: []string{"rds:DescribeDBInstances"}}); err == nil {
		t.Error("another principal was simulated")
	}
}
