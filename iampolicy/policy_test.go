package iampolicy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kirikae/kirikae/iampolicy"
)

func mustParse(t *testing.T, doc string) *iampolicy.Policy {
	t.Helper()
	p, err := iampolicy.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

const db = "arn:aws:rds:us-west-2:123456789012:db:kaigo-subsys-dr"

func TestEvaluate(t *testing.T) {
	p := mustParse(t, `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Sid": "Describe", "Effect": "Allow", "Action": ["rds:Describe*", "ec2:DescribeVpcs"], "Resource": "*"},
	    {"Sid": "Restore", "Effect": "Allow", "Action": "rds:RestoreDBInstanceFromDBSnapshot",
	     "Resource": ["arn:aws:rds:us-west-2:123456789012:db:kaigo-subsys-dr", "arn:aws:rds:us-west-2:123456789012:snapshot:*"]},
	    {"Sid": "NoProd", "Effect": "Deny", "Action": "rds:*", "Resource": "arn:aws:rds:*:*:db:*-prod"},
	    {"Sid": "AllButDelete", "Effect": "Allow", "NotAction": "secretsmanager:Delete*", "Resource": "arn:aws:secretsmanager:us-west-2:123456789012:secret:kaigo-subsys/dr/db-endpoint-??????"}
	  ]}`)
	for _, c := range []struct {
		name      string
		action    string
		resources []string
		want      iampolicy.Decision
		denied    string
	}{
		{"wildcard action", "rds:DescribeDBInstances", []string{db}, iampolicy.Allowed, ""},
		{"actions are case-insensitive", "RDS:describedbinstances", []string{db}, iampolicy.Allowed, ""},
		{"no resource names *", "ec2:DescribeVpcs", nil, iampolicy.Allowed, ""},
		{"every resource allowed", "rds:RestoreDBInstanceFromDBSnapshot", []string{db, "arn:aws:rds:us-west-2:123456789012:snapshot:copy-1"}, iampolicy.Allowed, ""},
		{"one resource not allowed", "rds:RestoreDBInstanceFromDBSnapshot", []string{db, "arn:aws:rds:us-west-2:123456789012:subgrp:dr"},
			iampolicy.ImplicitDeny, "arn:aws:rds:us-west-2:123456789012:subgrp:dr"},
		{"another region", "rds:RestoreDBInstanceFromDBSnapshot", []string{"arn:aws:rds:us-east-1:123456789012:db:kaigo-subsys-dr"},
			iampolicy.ImplicitDeny, "arn:aws:rds:us-east-1:123456789012:db:kaigo-subsys-dr"},
		{"resources are case-sensitive", "rds:RestoreDBInstanceFromDBSnapshot", []string{"arn:aws:rds:us-west-2:123456789012:db:KAIGO-subsys-dr"},
			iampolicy.ImplicitDeny, "arn:aws:rds:us-west-2:123456789012:db:KAIGO-subsys-dr"},
		{"explicit deny wins over an allow", "rds:DescribeDBInstances", []string{"arn:aws:rds:us-east-1:123456789012:db:kaigo-subsys-prod"},
			iampolicy.ExplicitDeny, "arn:aws:rds:us-east-1:123456789012:db:kaigo-subsys-prod"},
		{"default deny", "rds:DeleteDBInstance", []string{db}, iampolicy.ImplicitDeny, db},
		{"? is one character", "secretsmanager:PutSecretValue", []string{"arn:aws:secretsmanager:us-west-2:123456789012:secret:kaigo-subsys/dr/db-endpoint-A1B2C3"}, iampolicy.Allowed, ""},
		{"? is exactly one", "secretsmanager:PutSecretValue", []string{"arn:aws:secretsmanager:us-west-2:123456789012:secret:kaigo-subsys/dr/db-endpoint-2-A1B2C3"},
			iampolicy.ImplicitDeny, "arn:aws:secretsmanager:us-west-2:123456789012:secret:kaigo-subsys/dr/db-endpoint-2-A1B2C3"},
		{"NotAction", "secretsmanager:DeleteSecret", []string{"arn:aws:secretsmanager:us-west-2:123456789012:secret:kaigo-subsys/dr/db-endpoint-A1B2C3"},
			iampolicy.ImplicitDeny, "arn:aws:secretsmanager:us-west-2:123456789012:secret:kaigo-subsys/dr/db-endpoint-A1B2C3"},
		{"* in a pattern segment stays in it", "rds:RestoreDBInstanceFromDBSnapshot", []string{"arn:aws:rds:us-west-2:123456789012:snapshot"},
			iampolicy.ImplicitDeny, "arn:aws:rds:us-west-2:123456789012:snapshot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := p.Evaluate(c.action, c.resources...)
			if got.Decision != c.want || got.Resource != c.denied {
				t.Errorf("%s on %v: %v (resource %q), want %v (%q)", c.action, c.resources, got.Decision, got.Resource, c.want, c.denied)
			}
			if c.want == iampolicy.ExplicitDeny && got.Sid != "NoProd" {
				t.Errorf("explicit deny by %q, want NoProd", got.Sid)
			}
		})
	}
}

func TestMatchResource(t *testing.T) {
	for _, c := range []struct {
		pattern, resource string
		want              bool
	}{
		{"*", "*", true},
		{"*", db, true},
		{"arn:aws:rds:*:*:db:*", db, true},
		{"arn:aws:rds:us-west-2:123456789012:db:kaigo-*", db, true},
		{"arn:aws:rds:*", db, true}, // the last segment of a short pattern takes the rest
		{"arn:aws:rds:us-west-2:123456789012:db:*", "*", false},
		{"arn:aws:rds:us-west-2:*:*", db, true},
		{"arn:aws:rds:us-west-2:123456789012:db", db, false},
		{"arn:aws:route53:::hostedzone/*", "arn:aws:route53:::hostedzone/Z123", true},
		{"arn:aws:route53:::hostedzone/*", "arn:aws:route53:::change/C123", false},
		{"arn:aws:s3:::kaigo-*", "arn:aws:s3:::kaigo-subsys-prod-backups", true},
	} {
		if got := iampolicy.MatchResource(c.pattern, c.resource); got != c.want {
			t.Errorf("MatchResource(%q, %q) = %v, want %v", c.pattern, c.resource, got, c.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, c := range []struct {
		name, doc, want string
	}{
		{"no version", `{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}`, "Version"},
		{"bad effect", `{"Version": "2012-10-17", "Statement": [{"Effect": "allow", "Action": "*", "Resource": "*"}]}`, "Effect"},
		{"no action", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}`, "Action or NotAction"},
		{"both resources", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "NotResource": "*"}]}`, "Resource or NotResource"},
		{"bad action", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "DescribeDBInstances", "Resource": "*"}]}`, "SERVICE:ACTION"},
		{"bad arn", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "rds:*", "Resource": "db:kaigo"}]}`, "ARN"},
		{"condition", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}`, "condition operator \"Bool\""},
		{"condition set", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"ForEach:StringEquals": {"k": "v"}}}]}`, "condition operator"},
		{"principal", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}`, "Principal"},
		{"bad sid", `{"Version": "2012-10-17", "Statement": [{"Sid": "rds-all", "Effect": "Allow", "Action": "*", "Resource": "*"}]}`, "Sid"},
		{"duplicate sid", `{"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "*"}, {"Sid": "A", "Effect": "Deny", "Action": "*", "Resource": "*"}]}`, "Sid"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := iampolicy.Parse([]byte(c.doc))
			if !errors.Is(err, iampolicy.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Parse: %v, want ErrInvalid naming %q", err, c.want)
			}
		})
	}
	one := mustParse(t, `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}}`)
	if len(one.Statement) != 1 || one.Statement[0].Action[0] != "sns:Publish" {
		t.Errorf("a single statement object: %+v", one)
	}
	again := mustParse(t, string(one.Marshal()))
	if string(again.Marshal()) != string(one.Marshal()) {
		t.Errorf("Marshal does not round-trip:\n%s\n%s", one.Marshal(), again.Marshal())
	}
}

func TestAssignment(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("west.json", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "rds:*", "Resource": "arn:aws:rds:us-west-2:*:*"}]}`)
	file := write("iam.json", `{
	  "AKIAWEST": "west.json",
	  "AKIABOTH": ["west.json", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "rds:*", "Resource": "arn:aws:rds:us-east-1:*:*"}]}],
	  "*": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]}
	}`)
	a, err := iampolicy.LoadAssignment(file)
	if err != nil {
		t.Fatal(err)
	}
	east := "arn:aws:rds:us-east-1:123456789012:db:kaigo-subsys-prod"
	for _, c := range []struct {
		key, action, resource string
		want                  iampolicy.Decision
	}{
		{"AKIAWEST", "rds:DeleteDBInstance", db, iampolicy.Allowed},
		{"AKIAWEST", "rds:DeleteDBInstance", east, iampolicy.ImplicitDeny},
		{"AKIABOTH", "rds:DeleteDBInstance", east, iampolicy.Allowed},
		{"AKIAOTHER", "sns:Publish", "*", iampolicy.Allowed},
		{"AKIAOTHER", "rds:DeleteDBInstance", db, iampolicy.ImplicitDeny},
		{"AKIAWEST", "sns:Publish", "*", iampolicy.ImplicitDeny},
	} {
		if got := a.Decide(c.key, c.action, []string{c.resource}); got.Decision != c.want {
			t.Errorf("%s %s on %s: %v, want %v", c.key, c.action, c.resource, got.Decision, c.want)
		}
	}
	single, err := iampolicy.ParseAssignment([]byte(`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}`), nil)
	if err != nil || single.Decide("AKIAANY", "rds:DeleteDBInstance", []string{db}).Decision != iampolicy.Allowed {
		t.Errorf("one policy for every key: %v", err)
	}
	for _, bad := range []string{`[]`, `{}`, `{"AKIA": "missing.json"}`, `{"AKIA": [["x"]]}`, `{"AKIA": {"Version": "2012-10-17"}}`} {
		if _, err := iampolicy.ParseAssignment([]byte(bad), func(string) ([]byte, error) { return nil, os.ErrNotExist }); err == nil {
			t.Errorf("ParseAssignment(%s) succeeded", bad)
		}
	}
}

// TestConditions: the string operators, their set forms and Null, as AWS evaluates them,
// on the Route 53 record-name keys a DNS switch's policy narrows ChangeResourceRecordSets
// with.
func TestConditions(t *testing.T) {
	const names, types = "route53:ChangeResourceRecordSetsNormalizedRecordNames", "route53:ChangeResourceRecordSetsRecordTypes"
	p := mustParse(t, `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "route53:ChangeResourceRecordSets",
	  "Resource": "arn:aws:route53:::hostedzone/*",
	  "Condition": {"ForAllValues:StringEquals": {"`+names+`": ["api.example.com"], "route53:ChangeResourceRecordSetsActions": "UPSERT"},
	                "ForAllValues:StringLike": {"`+types+`": ["A", "AAAA"]},
	                "Null": {"`+names+`": "false"}}}]}`)
	zone := "arn:aws:route53:::hostedzone/Z1"
	for _, c := range []struct {
		name string
		ctx  map[string][]string
		want iampolicy.Decision
	}{
		{"the record", map[string][]string{names: {"api.example.com"}, types: {"A"}, "route53:ChangeResourceRecordSetsActions": {"UPSERT"}}, iampolicy.Allowed},
		{"keys are case-insensitive", map[string][]string{strings.ToUpper(names): {"api.example.com"}, types: {"AAAA"}, "Route53:ChangeResourceRecordSetsActions": {"UPSERT"}}, iampolicy.Allowed},
		{"another record too", map[string][]string{names: {"api.example.com", "www.example.com"}, types: {"A"}, "route53:ChangeResourceRecordSetsActions": {"UPSERT"}}, iampolicy.ImplicitDeny},
		{"a delete", map[string][]string{names: {"api.example.com"}, types: {"A"}, "route53:ChangeResourceRecordSetsActions": {"DELETE"}}, iampolicy.ImplicitDeny},
		{"another type", map[string][]string{names: {"api.example.com"}, types: {"TXT"}, "route53:ChangeResourceRecordSetsActions": {"UPSERT"}}, iampolicy.ImplicitDeny},
		{"no names: Null fails it", map[string][]string{types: {"A"}}, iampolicy.ImplicitDeny},
	} {
		got := iampolicy.EvaluateRequest([]*iampolicy.Policy{p}, iampolicy.Request{Action: "route53:ChangeResourceRecordSets", Resources: []string{zone}, Context: c.ctx})
		if got.Decision != c.want {
			t.Errorf("%s: %v, want %v", c.name, got.Decision, c.want)
		}
	}
	q := mustParse(t, `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
	  "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}, "ForAnyValue:StringEqualsIgnoreCase": {"x:tags": ["Prod"]}}}]}`)
	for _, c := range []struct {
		ctx  map[string][]string
		want iampolicy.Decision
	}{
		{map[string][]string{"aws:RequestedRegion": {"us-west-2"}, "x:tags": {"dev", "PROD"}}, iampolicy.Allowed},
		{map[string][]string{"x:tags": {"prod"}}, iampolicy.Allowed}, // a negated operator passes without the key
		{map[string][]string{"aws:RequestedRegion": {"us-east-1"}, "x:tags": {"prod"}}, iampolicy.ImplicitDeny},
		{map[string][]string{"aws:RequestedRegion": {"us-west-2"}}, iampolicy.ImplicitDeny}, // ForAnyValue fails without the key
	} {
		if got := iampolicy.EvaluateRequest([]*iampolicy.Policy{q}, iampolicy.Request{Action: "s3:GetObject", Context: c.ctx}); got.Decision != c.want {
			t.Errorf("%v: %v, want %v", c.ctx, got.Decision, c.want)
		}
	}
}
