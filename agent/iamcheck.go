package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/agent/aws"
	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/iampolicy/agentpolicy"
	"github.com/kirikae/kirikae/system"
)

// iamSimulator is the one IAM call the IAM check makes.
type iamSimulator interface {
	SimulatePrincipalPolicy(context.Context, *iam.SimulatePrincipalPolicyInput, ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error)
}

// iamCheck asks IAM, once per plan-check request, whether the agent's own credentials may
// call what each step calls: the grants the policy generator derives from the step's
// inputs (agentpolicy.StepGrants), simulated for the agent's principal
// (iam:SimulatePrincipalPolicy). A denied grant is a catalog.FindingIAMDenied finding on
// its step. It only reads, and never fails the evaluation: when the caller's identity or
// the simulation cannot be had (real accounts may not allow it), the request gets one
// catalog.FindingCheckError finding saying the IAM check was skipped, and why.
//
// Grants made only on some paths (Optional) are not asked about; neither are resources
// that depend on inputs not known before the run (StepGrants leaves them out).
type iamCheck struct {
	sts    func() (aws.STSAPI, error)
	iam    func() (iamSimulator, error)
	system func() *system.System // nil: none held yet
}

// newIAMCheck builds the check over the agent's clients of region; IAM is asked in
// us-east-1, where its global endpoint signs.
func newIAMCheck(clientsFor func(region string) (*aws.Clients, error), region string, sys func() *system.System) *iamCheck {
	return &iamCheck{
		sts: func() (aws.STSAPI, error) {
			c, err := clientsFor(region)
			if err != nil {
				return nil, err
			}
			return c.STS, nil
		},
		iam: func() (iamSimulator, error) {
			c, err := clientsFor(region)
			if err != nil {
				return nil, err
			}
			return iam.NewFromConfig(c.Config, func(o *iam.Options) { o.Region = "us-east-1" }), nil
		},
		system: sys,
	}
}

// principalARN is the IAM principal the simulation is asked for: an assumed role's session
// (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION) is its role, arn:aws:iam::ACCOUNT:role/ROLE
// (a role with a path cannot be told from the session ARN: IAM answers NoSuchEntity, and
// the check is skipped with that reason).
func principalARN(caller string) string {
	rest, ok := strings.CutPrefix(caller, "arn:aws:sts::")
	if !ok {
		return caller
	}
	account, res, _ := strings.Cut(rest, ":")
	if role, ok := strings.CutPrefix(res, "assumed-role/"); ok {
		role, _, _ = strings.Cut(role, "/")
		return "arn:aws:iam::" + account + ":role/" + role
	}
	return caller
}

// check returns the findings of steps; steps is one request's, all of the agent's region.
func (c *iamCheck) check(ctx context.Context, steps []action.CheckStep) []catalog.Finding {
	if len(steps) == 0 {
		return nil
	}
	skipped := func(why string, err error) []catalog.Finding {
		return []catalog.Finding{{Step: steps[0].StepID, Code: catalog.FindingCheckError,
			Problem: fmt.Sprintf("the IAM check of this plan's steps in %s was skipped: %s: %v", steps[0].Region, why, err),
			Fix: "allow the agent iam:SimulatePrincipalPolicy on its own principal (`kirikae plan iam-policy` grants it), " +
				"or compare the agent's policy with what `kirikae plan iam-policy` writes"}}
	}
	stsc, err := c.sts()
	if err != nil {
		return skipped("no STS client", err)
	}
	id, err := aws.CallerIdentity(ctx, stsc)
	if err != nil {
		return skipped("who the agent is", err)
	}
	api, err := c.iam()
	if err != nil {
		return skipped("no IAM client", err)
	}
	var sys *system.System
	if c.system != nil {
		sys = c.system()
	}
	principal := principalARN(id.ARN)
	type denial struct{ resource, decision string }
	memo := map[string][]denial{}
	var out []catalog.Finding
	for _, s := range steps {
		byAction := map[string][]denial{}
		var actions []string
		for _, gr := range agentpolicy.StepGrants(s.Action, s.Region, id.Account, sys, s.With, s.Unresolved) {
			if gr.Optional || len(gr.Condition) > 0 {
				// A grant held by a condition (Route 53's UPSERT of the plan's one record)
				// is not asked about: its answer depends on the request's context keys,
				// which the check cannot give exactly, and a wrong guess is a false denial.
				continue
			}
			key, _ := json.Marshal(gr)
			denied, done := memo[string(key)]
			if !done {
				res, err := api.SimulatePrincipalPolicy(ctx, simulateInput(principal, gr))
				if err != nil {
					return append(out, skipped("iam:SimulatePrincipalPolicy for "+principal, err)...)
				}
				for _, r := range res.EvaluationResults {
					if r.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeAllowed {
						denied = append(denied, denial{awssdk.ToString(r.EvalResourceName), string(r.EvalDecision)})
					}
				}
				memo[string(key)] = denied
			}
			if len(denied) > 0 && !slices.Contains(actions, gr.Action) {
				actions = append(actions, gr.Action)
			}
			byAction[gr.Action] = append(byAction[gr.Action], denied...)
		}
		for _, a := range actions {
			var res, how []string
			for _, d := range byAction[a] {
				if !slices.Contains(res, d.resource) {
					res = append(res, d.resource)
					how = append(how, d.resource+" ("+d.decision+")")
				}
			}
			stmt, _ := json.Marshal(map[string]any{"Effect": "Allow", "Action": a, "Resource": res})
			out = append(out, catalog.Finding{Step: s.StepID, Code: catalog.FindingIAMDenied,
				Problem: fmt.Sprintf("the agent's credentials (%s) may not call %s, which step %s (%s) calls, on %s", principal, a, s.StepID, s.Action, strings.Join(how, ", ")),
				Fix:     fmt.Sprintf("add %s to the agent's policy, or attach the policy `kirikae plan iam-policy` writes for this plan", stmt)})
		}
	}
	return out
}

// simulateInput asks for one grant: its action on each of its resources, with its
// condition's keys as the request's context.
func simulateInput(principal string, gr agentpolicy.Grant) *iam.SimulatePrincipalPolicyInput {
	in := &iam.SimulatePrincipalPolicyInput{PolicySourceArn: awssdk.String(principal), ActionNames: []string{gr.Action}, ResourceArns: gr.Resources}
	seen := map[string]bool{}
	for _, keys := range gr.Condition {
		for k, vs := range keys {
			if seen[k] {
				continue
			}
			seen[k] = true
			in.ContextEntries = append(in.ContextEntries, iamtypes.ContextEntry{ContextKeyName: awssdk.String(k),
				ContextKeyType: iamtypes.ContextKeyTypeEnumStringList, ContextKeyValues: vs})
		}
	}
	slices.SortFunc(in.ContextEntries, func(a, b iamtypes.ContextEntry) int { return strings.Compare(*a.ContextKeyName, *b.ContextKeyName) })
	return in
}
