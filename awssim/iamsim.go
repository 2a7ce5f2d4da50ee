package awssim

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kirikae/kirikae/iampolicy"
)

// iamOps is the IAM API (awsQuery, global, signed for us-east-1): only
// SimulatePrincipalPolicy, which the agent's plan check asks whether its own credentials
// may call what a step calls.
//
// Every access key acts as the one user GetCallerIdentity names (IAMUser), so the
// simulation evaluates the policies of the key that signs the request: PolicySourceArn must
// be that user's ARN (anything else is NoSuchEntity). Without an enforced assignment (SetIAM)
// every action is allowed, as every request is.
var iamOps = map[string]queryOp{
	"SimulatePrincipalPolicy": iamSimulatePrincipalPolicy,
}

func iamSimulatePrincipalPolicy(c *call, p url.Values) ([]xn, error) {
	src, err := param(p, "PolicySourceArn")
	if err != nil {
		return nil, err
	}
	if src != c.callerARN() {
		return nil, errf(http.StatusNotFound, "NoSuchEntity", "The user with name %s cannot be found.", src[strings.LastIndexByte(src, '/')+1:])
	}
	actions := listParam(p, "ActionNames")
	if len(actions) == 0 {
		return nil, badRequest("ValidationError", "1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null")
	}
	resources := listParam(p, "ResourceArns")
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	ctx := iamContextEntries(p)
	var policies []*iampolicy.Policy
	assign := c.s.IAM()
	enforced := assign != nil
	if enforced {
		policies = assign.Policies(c.key)
	}
	var results []xn
	for _, a := range actions {
		for _, r := range resources {
			decision := "allowed"
			if enforced {
				res := iampolicy.EvaluateRequest(policies, iampolicy.Request{Action: a, Resources: []string{r}, Context: ctx})
				switch res.Decision {
				case iampolicy.ExplicitDeny:
					decision = "explicitDeny"
				case iampolicy.Allowed:
				default:
					decision = "implicitDeny"
				}
			}
			results = append(results, el("member", tx("EvalActionName", a), tx("EvalResourceName", r), tx("EvalDecision", decision)))
		}
	}
	return []xn{el("EvaluationResults", results...), tx("IsTruncated", "false")}, nil
}

// iamContextEntries reads ContextEntries.member.N.{ContextKeyName,ContextKeyValues.member.M}.
func iamContextEntries(p url.Values) map[string][]string {
	out := map[string][]string{}
	for i := 1; ; i++ {
		pre := "ContextEntries.member." + strconv.Itoa(i) + "."
		name := p.Get(pre + "ContextKeyName")
		if name == "" {
			return out
		}
		out[name] = append(out[name], listParam(p, pre+"ContextKeyValues")...)
	}
}
