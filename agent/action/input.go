package action

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The input helpers read step.With. A value that is absent, nil or the empty string counts
// as not given. Every error wraps ErrInvalidInput and names the input as "with.NAME".

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

// Trim finishes decoding in, a pointer to an action's In, as the agent has always read
// inputs: it trims the blanks around its strings (the items of its lists and the values
// of its maps too), then refuses a required string left empty as missing, and a list item
// left empty. Def.Decode takes "" for a value: an executor must not, since an empty id can
// mean every resource to AWS (DescribeDBInstances with an empty id describes them all).
func Trim(in any) error {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("action.Trim: want a pointer to an In struct, got %T", in))
	}
	v = v.Elem()
	for i := range v.NumField() {
		sf, f := v.Type().Field(i), v.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		switch {
		case f.Kind() == reflect.String:
			f.SetString(strings.TrimSpace(f.String()))
			if f.String() == "" && sf.Tag.Get("kirikae") == "required" {
				return missing(name)
			}
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			for j := range f.Len() {
				e := f.Index(j)
				e.SetString(strings.TrimSpace(e.String()))
				if e.String() == "" {
					return invalid(name, "item %d is empty", j)
				}
			}
		case f.Kind() == reflect.Map && f.Type().Elem().Kind() == reflect.String:
			iter := f.MapRange()
			for iter.Next() {
				f.SetMapIndex(iter.Key(), reflect.ValueOf(strings.TrimSpace(iter.Value().String())).Convert(f.Type().Elem()))
			}
		}
	}
	return nil
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

// Has reports whether the input is given.
func Has(s Step, name string) bool {
	_, ok := raw(s, name)
	return ok
}

// Str returns a required string input.
func Str(s Step, name string) (string, error) {
	v, ok := raw(s, name)
	if !ok {
		return "", missing(name)
	}
	return asString(name, v)
}

// OptStr returns a string input, or def when it is not given.
func OptStr(s Step, name, def string) (string, error) {
	v, ok := raw(s, name)
	if !ok {
		return def, nil
	}
	return asString(name, v)
}

func asString(name string, v any) (string, error) {
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

// Int returns a required integer input. It accepts Go integers, whole float64 values (as
// JSON and protobuf Struct decode numbers) and numeric strings.
func Int(s Step, name string) (int64, error) {
	v, ok := raw(s, name)
	if !ok {
		return 0, missing(name)
	}
	return asInt(name, v)
}

// OptInt returns an integer input, or def when it is not given.
func OptInt(s Step, name string, def int64) (int64, error) {
	v, ok := raw(s, name)
	if !ok {
		return def, nil
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

// OptFloat returns a number input (a number or a numeric string), or def when not given.
func OptFloat(s Step, name string, def float64) (float64, error) {
	v, ok := raw(s, name)
	if !ok {
		return def, nil
	}
	return asFloat(name, v)
}

// Float returns a required number input.
func Float(s Step, name string) (float64, error) {
	v, ok := raw(s, name)
	if !ok {
		return 0, missing(name)
	}
	return asFloat(name, v)
}

func asFloat(name string, v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int, int32, int64, uint32, uint64:
		n, err := asInt(name, x)
		return float64(n), err
	case json.Number:
		return asFloat(name, x.String())
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, invalid(name, "want a number, got %q", x)
		}
		return f, nil
	}
	return 0, invalid(name, "want a number, got %T", v)
}

// Bool returns a boolean input, or def when it is not given. It accepts booleans and the
// strings true/false/yes/no/1/0.
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

// Dur returns a duration input ("1h", "90s", "1h30m", or a number of seconds), or def when
// it is not given. Negative durations are refused.
func Dur(s Step, name string, def time.Duration) (time.Duration, error) {
	v, ok := raw(s, name)
	if !ok {
		return def, nil
	}
	var d time.Duration
	switch x := v.(type) {
	case time.Duration:
		d = x
	case string:
		var err error
		d, err = parseDuration(strings.TrimSpace(x))
		if err != nil {
			return 0, invalid(name, "want a duration like 1h or 90s, got %q", x)
		}
	default:
		secs, err := asFloat(name, v)
		if err != nil {
			return 0, invalid(name, "want a duration like 1h or 90s, got %T", v)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < 0 {
		return 0, invalid(name, "must not be negative, got %s", d)
	}
	return d, nil
}

// parseDuration accepts Go durations plus a days suffix ("7d"), as RPOs and retention
// periods are often written that way.
func parseDuration(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil {
			return 0, err
		}
		return time.Duration(n * 24 * float64(time.Hour)), nil
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(secs * float64(time.Second)), nil
	}
	return time.ParseDuration(v)
}

// OptTime returns an RFC 3339 time input, or the zero time when it is not given.
func OptTime(s Step, name string) (time.Time, error) {
	v, ok := raw(s, name)
	if !ok {
		return time.Time{}, nil
	}
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case string:
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(x))
		if err != nil {
			return time.Time{}, invalid(name, "want an RFC 3339 time like 2025-01-15T03:00:00Z, got %q", x)
		}
		return t, nil
	}
	return time.Time{}, invalid(name, "want an RFC 3339 time, got %T", v)
}

// Time returns a required RFC 3339 time input.
func Time(s Step, name string) (time.Time, error) {
	if _, ok := raw(s, name); !ok {
		return time.Time{}, missing(name)
	}
	return OptTime(s, name)
}

// List returns a list of strings input, or nil when it is not given. A single string is
// accepted as a one-element list, and a comma-separated string is split.
func List(s Step, name string) ([]string, error) {
	v, ok := raw(s, name)
	if !ok {
		return nil, nil
	}
	var out []string
	switch x := v.(type) {
	case []string:
		out = slices.Clone(x)
	case []any:
		for i, e := range x {
			str, err := asString(fmt.Sprintf("%s[%d]", name, i), e)
			if err != nil {
				return nil, err
			}
			out = append(out, str)
		}
	case string:
		for _, p := range strings.Split(x, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	default:
		return nil, invalid(name, "want a list of strings, got %T", v)
	}
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
		if out[i] == "" {
			return nil, invalid(name, "item %d is empty", i)
		}
	}
	return out, nil
}

// Map returns a map of strings input, or nil when it is not given. Values that are numbers
// or booleans are turned into their string form.
func Map(s Step, name string) (map[string]string, error) {
	v, ok := raw(s, name)
	if !ok {
		return nil, nil
	}
	out := map[string]string{}
	switch x := v.(type) {
	case map[string]string:
		for k, e := range x {
			out[k] = e
		}
	case map[string]any:
		for k, e := range x {
			str, err := asString(name+"."+k, e)
			if err != nil {
				return nil, err
			}
			out[k] = str
		}
	default:
		return nil, invalid(name, "want a map of strings, got %T", v)
	}
	return out, nil
}

// AnyMap returns a map input as given (for values that are written as JSON), or nil.
func AnyMap(s Step, name string) (map[string]any, error) {
	v, ok := raw(s, name)
	if !ok {
		return nil, nil
	}
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = e
		}
		return out, nil
	}
	return nil, invalid(name, "want a map, got %T", v)
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

// ARN returns a required ARN input of the given service ("" for any). resourcePrefix, when
// not empty, is the resource type the ARN must name, e.g. "snapshot:" for an RDS snapshot.
func ARN(s Step, name, service, resourcePrefix string) (ARNParts, string, error) {
	v, err := Str(s, name)
	if err != nil {
		return ARNParts{}, "", err
	}
	p, err := CheckARN(name, v, service, resourcePrefix)
	return p, v, err
}

// CheckARN validates an ARN value for the input name; see ARN.
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
