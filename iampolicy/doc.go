// Package iampolicy owns the IAM identity-policy document as kirikae reads and writes it:
// its JSON form (Policy, Statement), its strict parsing, and its evaluation for one request
// (Policy.Evaluate, Set.Decide) by AWS's rules for identity-based policies:
//
//   - a request is allowed only when some Allow statement matches its action and every
//     resource it touches, and no Deny statement matches;
//   - an explicit Deny wins over any Allow; without a matching Allow the answer is the
//     default deny;
//   - actions match case-insensitively, with * and ? wildcards (rds:Describe*);
//   - resource ARNs match segment by segment (arn:partition:service:region:account:rest),
//     case-sensitively, with * and ? inside a segment; the resource "*" matches any.
//
// The package also reads the file `kirikae sim --iam FILE` takes (ParseAssignment), which
// gives each access key its policies.
//
// Conditions are evaluated with the string operators (their ForAllValues: and ForAnyValue:
// forms too) and Null, against the condition keys the caller gives with the request
// (Request.Context); any other operator is refused when a policy is parsed, not ignored,
// because a policy that relies on one would be evaluated wrongly. There are no
// resource-based policies, permission boundaries, SCPs or sessions. It imports nothing of kirikae: awssim enforces
// with it, and the agent's policy generator (iampolicy/agentpolicy) writes with it.
package iampolicy
