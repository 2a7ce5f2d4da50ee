package action

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Decode (action.go) reads a step's inputs into its action's typed In. The helpers here
// check what a type cannot: CheckARN an ARN's shape, Number a number written as text.
// Every error wraps ErrInvalidInput and names the input as "with.NAME".

func invalid(name, format string, args ...any) error {
	return fmt.Errorf("%w: with.%s: %s", ErrInvalidInput, name, fmt.Sprintf(format, args...))
}

// Number reads v, the value of the input name, as a number: the catalog gives inputs such
// as a threshold or an error rate as text, so a plan may write 90, "90.0" or "0.01".
func Number(name, v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, invalid(name, "want a number, got %q", v)
	}
	return f, nil
}

// ARNParts is a parsed ARN: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE.
type ARNParts struct {
	Partition, Service, Region, Account, Resource string
}

// ParseARN parses an ARN and checks its shape: six colon-separated fields, the literal
// "arn", a known partition, a service, and a resource.
func ParseARN(v string) (ARNParts, error) {
	f := strings.SplitN(v, ":", 6)
	if len(f) != 6 || f[0] != "arn" {
		return ARNParts{}, fmt.Errorf("want arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE")
	}
	p := ARNParts{Partition: f[1], Service: f[2], Region: f[3], Account: f[4], Resource: f[5]}
	switch {
	case p.Partition != "aws" && p.Partition != "aws-cn" && p.Partition != "aws-us-gov":
		return p, fmt.Errorf("unknown partition %q", p.Partition)
	case p.Service == "":
		return p, fmt.Errorf("no service")
	case p.Resource == "":
		return p, fmt.Errorf("no resource")
	case p.Account != "" && !isDigits(p.Account, 12):
		return p, fmt.Errorf("account %q is not 12 digits", p.Account)
	}
	return p, nil
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// CheckARN checks the ARN v, the value of the input name, and parses it. service, when not
// empty, is the service it must name, and resourcePrefix the resource type, e.g. "rds" and
// "snapshot:" for an RDS snapshot. An ARN of a regional service must name a region.
func CheckARN(name, v, service, resourcePrefix string) (ARNParts, error) {
	p, err := ParseARN(v)
	if err == nil && service != "" && p.Service != service {
		err = fmt.Errorf("service %q, want %q", p.Service, service)
	}
	if err == nil && resourcePrefix != "" && !strings.HasPrefix(p.Resource, resourcePrefix) {
		err = fmt.Errorf("resource %q does not start with %q", p.Resource, resourcePrefix)
	}
	if err == nil && p.Region == "" && service != "" && service != "iam" && service != "s3" && service != "route53" {
		err = fmt.Errorf("no region")
	}
	if err != nil {
		return p, fmt.Errorf("%w: with.%s: malformed ARN %q: %v", ErrInvalidInput, name, v, err)
	}
	return p, nil
}
