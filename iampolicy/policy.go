package iampolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Version is the policy language version every policy kirikae writes carries.
const Version = "2012-10-17"

// Effects of a statement.
const (
	Allow = "Allow"
	Deny  = "Deny"
)

// ErrInvalid marks a policy document or assignment file that cannot be used; the error
// wrapping it names the statement and the field.
var ErrInvalid = errors.New("invalid IAM policy")

// Policy is an identity-based IAM policy document.
type Policy struct {
	Version   string      `json:"Version"`
	ID        string      `json:"Id,omitempty"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a policy. Exactly one of Action and NotAction, and one of
// Resource and NotResource, is set.
type Statement struct {
	Sid         string  `json:"Sid,omitempty"`
	Effect      string  `json:"Effect"`
	Action      Strings `json:"Action,omitempty"`
	NotAction   Strings `json:"NotAction,omitempty"`
	Resource    Strings `json:"Resource,omitempty"`
	NotResource Strings `json:"NotResource,omitempty"`
	// Condition maps an operator (StringEquals, ForAllValues:StringLike, Null ...) to
	// condition keys and their values; see Conditions for what is evaluated.
	Condition map[string]map[string]Strings `json:"Condition,omitempty"`
}

// Strings is a policy element that JSON may give as one string or as a list of them; it is
// always written as a list.
type Strings []string

// UnmarshalJSON takes "a" or ["a", "b"].
func (s *Strings) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(`"`)) {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want a string or a list of strings")
	}
	*s = many
	return nil
}

// Parse reads a policy document strictly: an unknown field (Principal included, which an
// identity policy cannot have), a missing or unknown Version or Effect, a statement without
// actions or resources, a malformed action or ARN, or a condition operator not among
// Conditions is an error wrapping ErrInvalid.
func Parse(data []byte) (*Policy, error) {
	var raw struct {
		Version   string          `json:"Version"`
		ID        string          `json:"Id"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := strictDecode(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	p := &Policy{Version: raw.Version, ID: raw.ID}
	switch st := bytes.TrimSpace(raw.Statement); {
	case len(st) == 0:
		return nil, fmt.Errorf("%w: no Statement", ErrInvalid)
	case st[0] == '{':
		var one Statement
		if err := strictDecode(st, &one); err != nil {
			return nil, fmt.Errorf("%w: Statement: %v", ErrInvalid, err)
		}
		p.Statement = []Statement{one}
	default:
		var list []json.RawMessage
		if err := json.Unmarshal(st, &list); err != nil {
			return nil, fmt.Errorf("%w: Statement: want an object or a list of objects", ErrInvalid)
		}
		for i, item := range list {
			var s Statement
			if err := strictDecode(item, &s); err != nil {
				return nil, fmt.Errorf("%w: Statement[%d]: %v", ErrInvalid, i, err)
			}
			p.Statement = append(p.Statement, s)
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

var (
	sidRE     = regexp.MustCompile(`^[A-Za-z0-9]*$`)
	actionRE  = regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9*?]+$`)
	serviceRE = regexp.MustCompile(`^[a-z0-9-]*$`)
)

// Validate checks what Parse checks, for a policy built in Go.
func (p *Policy) Validate() error {
	if p.Version != Version && p.Version != "2008-10-17" {
		return fmt.Errorf("%w: Version %q: want %q", ErrInvalid, p.Version, Version)
	}
	if len(p.Statement) == 0 {
		return fmt.Errorf("%w: no Statement", ErrInvalid)
	}
	sids := map[string]int{}
	for i, s := range p.Statement {
		where := fmt.Sprintf("Statement[%d]", i)
		if s.Sid != "" {
			where = fmt.Sprintf("Statement[%d] (Sid %s)", i, s.Sid)
			if !sidRE.MatchString(s.Sid) {
				return fmt.Errorf("%w: %s: a Sid holds letters and digits only", ErrInvalid, where)
			}
			if j, dup := sids[s.Sid]; dup {
				return fmt.Errorf("%w: %s: Sid is also Statement[%d]'s", ErrInvalid, where, j)
			}
			sids[s.Sid] = i
		}
		if s.Effect != Allow && s.Effect != Deny {
			return fmt.Errorf("%w: %s: Effect %q: want Allow or Deny", ErrInvalid, where, s.Effect)
		}
		if (len(s.Action) == 0) == (len(s.NotAction) == 0) {
			return fmt.Errorf("%w: %s: give Action or NotAction, one of them", ErrInvalid, where)
		}
		if (len(s.Resource) == 0) == (len(s.NotResource) == 0) {
			return fmt.Errorf("%w: %s: give Resource or NotResource, one of them", ErrInvalid, where)
		}
		for _, a := range append(append(Strings{}, s.Action...), s.NotAction...) {
			if a != "*" && !actionRE.MatchString(a) {
				return fmt.Errorf("%w: %s: action %q: want SERVICE:ACTION, e.g. rds:DescribeDBInstances or rds:Describe*", ErrInvalid, where, a)
			}
		}
		for op, keys := range s.Condition {
			if _, _, _, ok := conditionOperator(op); !ok {
				return fmt.Errorf("%w: %s: condition operator %q: want one of %s, alone or after ForAllValues: or ForAnyValue:, or Null",
					ErrInvalid, where, op, strings.Join(stringOperators, ", "))
			}
			if len(keys) == 0 {
				return fmt.Errorf("%w: %s: condition operator %s names no key", ErrInvalid, where, op)
			}
		}
		for _, r := range append(append(Strings{}, s.Resource...), s.NotResource...) {
			if r == "*" {
				continue
			}
			parts := strings.SplitN(r, ":", 6)
			if len(parts) < 6 || parts[0] != "arn" || parts[1] == "" || !serviceRE.MatchString(parts[2]) {
				return fmt.Errorf("%w: %s: resource %q: want \"*\" or an ARN, arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE", ErrInvalid, where, r)
			}
		}
	}
	return nil
}

// Marshal writes the policy as indented JSON with a final newline: the form kirikae
// commits and prints.
func (p *Policy) Marshal() []byte {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		panic("iampolicy: marshal: " + err.Error()) // strings and lists only: cannot fail
	}
	return append(b, '\n')
}

// Decision is the outcome of evaluating one request.
type Decision int

// The three outcomes, as AWS names them.
const (
	// ImplicitDeny: no statement allows the request (the default).
	ImplicitDeny Decision = iota
	// Allowed: a statement allows it and none denies it.
	Allowed
	// ExplicitDeny: a Deny statement matches it.
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "allowed"
	case ExplicitDeny:
		return "explicitDeny"
	}
	return "implicitDeny"
}

// Result says why a request was decided as it was.
type Result struct {
	Decision Decision
	// Resource is the resource that was denied (the first one, for a request that touches
	// several); empty when allowed.
	Resource string
	// Sid is the Sid of the Deny statement that matched, for an explicit deny.
	Sid string
}

// Request is one request to authorize: an action (SERVICE:Operation) on resources (ARNs, or
// "*" for an action that names no resource), and the request's condition keys and values
// (e.g. route53:ChangeResourceRecordSetsNormalizedRecordNames).
type Request struct {
	Action    string
	Resources []string
	Context   map[string][]string
}

// Evaluate decides a request for action on every one of resources under the policies
// together, with no condition keys. An action that touches several resources is allowed
// only when each of them is.
func Evaluate(policies []*Policy, action string, resources []string) Result {
	return EvaluateRequest(policies, Request{Action: action, Resources: resources})
}

// EvaluateRequest decides req under the policies together.
func EvaluateRequest(policies []*Policy, req Request) Result {
	action, resources := req.Action, req.Resources
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	var denied *Result
	for _, r := range resources {
		allowed := false
		for _, p := range policies {
			for _, s := range p.Statement {
				if !s.matches(action, r) || !s.conditionsHold(req.Context) {
					continue
				}
				if s.Effect == Deny {
					return Result{Decision: ExplicitDeny, Resource: r, Sid: s.Sid}
				}
				allowed = true
			}
		}
		if !allowed && denied == nil {
			denied = &Result{Decision: ImplicitDeny, Resource: r}
		}
	}
	if denied != nil {
		return *denied
	}
	return Result{Decision: Allowed}
}

// Evaluate is Evaluate for one policy.
func (p *Policy) Evaluate(action string, resources ...string) Result {
	return Evaluate([]*Policy{p}, action, resources)
}

func (s Statement) matches(action, resource string) bool {
	if len(s.Action) > 0 {
		if !anyMatch(s.Action, action, MatchAction) {
			return false
		}
	} else if anyMatch(s.NotAction, action, MatchAction) {
		return false
	}
	if len(s.Resource) > 0 {
		return anyMatch(s.Resource, resource, MatchResource)
	}
	return !anyMatch(s.NotResource, resource, MatchResource)
}

func anyMatch(patterns []string, v string, match func(pattern, v string) bool) bool {
	for _, p := range patterns {
		if match(p, v) {
			return true
		}
	}
	return false
}

// MatchAction reports whether an action pattern (rds:Describe*, *) matches an action.
// Action names are case-insensitive.
func MatchAction(pattern, action string) bool {
	return glob(strings.ToLower(pattern), strings.ToLower(action))
}

// MatchResource reports whether a resource pattern of a policy matches a resource: "*"
// matches any; otherwise the two are compared by ARN segment (partition, service, region,
// account, and the rest, which may itself hold colons), each segment a case-sensitive
// glob. A pattern of fewer segments matches the rest of the ARN with its last one. A
// resource "*", which an action without resource-level permissions is authorized on, is
// matched by the pattern "*" only.
func MatchResource(pattern, resource string) bool {
	if pattern == "*" {
		return true
	}
	pp := strings.SplitN(pattern, ":", 6)
	rp := strings.SplitN(resource, ":", len(pp))
	if len(rp) != len(pp) {
		return false
	}
	for i := range pp {
		if !glob(pp[i], rp[i]) {
			return false
		}
	}
	return true
}

// glob matches s against pattern, where * is any run of characters and ? any one.
func glob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
