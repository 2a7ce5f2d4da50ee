package action

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Decode (action.go) reads a step's inputs into its action's typed In. The helpers here do
// what it leaves to the agent: Trim treats blanks as the agent always has, CheckARN and
// Number check values a type cannot. Every error wraps ErrInvalidInput and names the input
// as "with.NAME".
//
// Int, OptStr and Bool read one input straight from step.With, leniently (a number may be
// a Go integer, a whole float64 or numeric text), for executors that have no definition in
// the catalog, such as the ones tests make up. A value that is absent, nil or blank counts
// as not given.

func raw(s Step, name string) (any, bool) {
	v, ok := s.With[name]
	if !ok || v == nil {
		return nil, false
	}
	if str, isStr := v.(string); isStr && strings.TrimSpace(str) == "" {
		return nil, false
	}
	return v, true
}

func invalid(name, format string, args ...any) error {
	return fmt.Errorf("%w: with.%s: %s", ErrInvalidInput, name, fmt.Sprintf(format, args...))
}

func missing(name string) error {
	return fmt.Errorf("%w: with.%s is required", ErrInvalidInput, name)
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

// OptStr returns a string input, or def when it is not given.
func OptStr(s Step, name, def string) (string, error) {
	v, ok := raw(s, name)
	if !ok {
		return def, nil
	}
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), nil
	case json.Number:
		return x.String(), nil
	case int, int32, int64, uint32, uint64, float64, bool:
		return fmt.Sprint(x), nil
	case fmt.Stringer:
		return x.String(), nil
	}
	return "", invalid(name, "want a string, got %T", v)
}

// Int returns a required integer input.
func Int(s Step, name string) (int64, error) {
	v, ok := raw(s, name)
	if !ok {
		return 0, missing(name)
	}
	return asInt(name, v)
}

func asInt(name string, v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint32:
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, invalid(name, "%d is out of range", x)
		}
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, invalid(name, "want a whole number, got %v", x)
		}
		return int64(x), nil
	case json.Number:
		return asInt(name, x.String())
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, invalid(name, "want a whole number, got %q", x)
		}
		return n, nil
	}
	return 0, invalid(name, "want a whole number, got %T", v)
}

// Bool returns a boolean input, or def when it is not given. It accepts booleans and the
// strings true/false/yes/no/1/0/on/off.
func Bool(s Step, name string, def bool) (bool, error) {
	v, ok := raw(s, name)
	if !ok {
		return def, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "1", "on":
			return true, nil
		case "false", "no", "0", "off":
			return false, nil
		}
		return false, invalid(name, "want true or false, got %q", x)
	}
	return false, invalid(name, "want true or false, got %T", v)
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
