// Package catalog declares every action a plan step may name, once: its name, where it
// runs, what it does, its typed inputs (In) and outputs (Out) with a doc string for each
// field, the IAM actions it needs and, for an undo action, the resource it removes.
//
// Everything else reads these definitions: plan validation derives a step's allowed and
// required inputs and the outputs later steps may read from In and Out; `kirikae plan
// actions` prints them; executors decode a step's inputs straight into In (Def.Decode).
// Adding an action is one Define and its executor.
//
// The package sits low in the tree: it imports nothing of kirikae, so every other package
// may import it.
package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
)

// Where says which part of kirikae executes an action.
type Where string

const (
	// OnAgent actions run on the agent of the step's region, through the AWS SDK or HTTP.
	OnAgent Where = "agent"
	// OnControlPlane actions run inside the orchestrator on the leader: they wait for
	// people (approval, checklist), for time (wait), or move the active region.
	OnControlPlane Where = "control-plane"
)

// ErrInvalidInput means a step's inputs are missing one, hold one it does not know, or
// hold one of the wrong shape. Retrying the same step cannot succeed.
var ErrInvalidInput = errors.New("invalid input")

// Field is one input or output of an action, as plan validation and `plan actions` see
// it: its json name, its type in the plan format, whether it is a required input (an
// output never is), and its doc string.
type Field struct {
	Name string
	// Type is string, int, bool, duration, time, list or map; an output may also be a
	// number (a fraction) or any (what it holds says its doc).
	Type     string
	Required bool
	Doc      string
}

// ResourceRef says how to name the resource an undo action touches: a kind, and the
// inputs whose values, joined with "/", are its id within the step's region.
type ResourceRef struct {
	Kind   string
	Inputs []string
}

// Spec is an action's definition without its Go types: what plan validation, the CLI and
// the control plane read.
type Spec struct {
	Name   string
	Where  Where
	Doc    string
	Inputs []Field
	// Outputs are the names of the outputs, the values later steps read as
	// ${steps.ID.outputs.NAME}; OutputFields holds the same, in the same order, with each
	// one's type and doc.
	Outputs      []string
	OutputFields []Field
	// IAM lists the IAM actions the action needs, as "service:Operation": every AWS API
	// operation its executor calls (agent/aws's tests hold it to that), and permissions a
	// call needs beyond its own, such as iam:PassRole for a restore's role.
	IAM []string
	// Undo names the action whose step reverses this one: what an attempt records, right
	// after its mutating call, for a teardown or `run undo` to run. Empty: nothing to undo.
	Undo string
	// Idempotency says how a rerun of a step (a retry, a re-dispatch, an agent restart)
	// finds the work an earlier attempt did instead of doing it again.
	Idempotency string
	// Resource names what the action removes or reverts when it is run as an undo step (a
	// teardown runs undo steps): the control plane records which run owns that resource
	// and lets a teardown touch it only while the run it undoes still owns it.
	Resource *ResourceRef
	// Absent, when set, names the outputs a step with these inputs (a JSON object, as
	// resolved before the run) will not have, each with why and what to read instead. Plan
	// evaluation reports a later step that reads one, before anything runs.
	Absent func(withJSON []byte) map[string]string `json:"-"`
}

// Def is the definition of an action whose inputs are In and outputs Out. Fields of In and
// Out are named by their json tag; a `doc` tag says what the field is (every field of the
// catalog's has one: an input's meaning, unit and default, what an output holds), and the
// tag `kirikae:"required"` makes an input required.
type Def[In, Out any] struct {
	Name        string
	Where       Where
	Doc         string
	IAM         []string
	Undo        string
	Idempotency string
	Resource    *ResourceRef
	// Absent names the outputs a step with inputs in will not have, with why and the fix
	// (AWS gives some fields only in some configurations: a configuration endpoint only in
	// cluster mode). Nil: every output is there after a success.
	Absent func(in In) map[string]string
}

var (
	mu    sync.RWMutex
	specs = map[string]Spec{}
)

// Define registers an action and returns its definition. It panics on a definition that
// cannot be right (a name defined twice, a field type the plan format has no name for):
// those are programming errors, found by the first test that loads the package.
func Define[In, Out any](d Def[In, Out]) *Def[In, Out] {
	s := Spec{Name: d.Name, Where: d.Where, Doc: d.Doc, IAM: d.IAM, Undo: d.Undo, Idempotency: d.Idempotency, Resource: d.Resource,
		Inputs: fieldsOf(reflect.TypeFor[In]()), Outputs: []string{}, OutputFields: []Field{}}
	for _, f := range fieldsOf(reflect.TypeFor[Out]()) {
		f.Required = false
		s.Outputs = append(s.Outputs, f.Name)
		s.OutputFields = append(s.OutputFields, f)
	}
	if d.Absent != nil {
		dd := d
		s.Absent = func(withJSON []byte) map[string]string {
			in, err := dd.Decode(withJSON)
			if err != nil {
				return nil // the step's own inputs are wrong: validation reports that
			}
			return dd.Absent(in)
		}
	}
	if s.Name == "" || (s.Where != OnAgent && s.Where != OnControlPlane) {
		panic(fmt.Sprintf("catalog: action %q needs a name and where it runs", s.Name))
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := specs[s.Name]; dup {
		panic(fmt.Sprintf("catalog: action %q defined twice", s.Name))
	}
	specs[s.Name] = s
	return &d
}

// Undefine removes an action; tests that define one of their own use it to clean up.
func Undefine(name string) {
	mu.Lock()
	defer mu.Unlock()
	delete(specs, name)
}

// Lookup returns the definition of the action called name.
func Lookup(name string) (Spec, bool) {
	mu.RLock()
	defer mu.RUnlock()
	s, ok := specs[name]
	return s, ok
}

// All returns every definition, sorted by name.
func All() []Spec {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Spec, 0, len(specs))
	for _, s := range specs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Spec returns the definition without its Go types.
func (d *Def[In, Out]) Spec() Spec {
	s, _ := Lookup(d.Name)
	return s
}

// Decode decodes a step's resolved inputs, a JSON object, into In. An input In does not
// have, a required one that is missing, or one of the wrong type is an error wrapping
// ErrInvalidInput that names it as with.NAME.
func (d *Def[In, Out]) Decode(withJSON []byte) (In, error) {
	var in In
	if len(bytes.TrimSpace(withJSON)) == 0 {
		withJSON = []byte("{}")
	}
	var present map[string]any
	dec := json.NewDecoder(bytes.NewReader(withJSON))
	dec.UseNumber()
	if err := dec.Decode(&present); err != nil {
		return in, fmt.Errorf("%w: with is not a JSON object: %v", ErrInvalidInput, err)
	}
	if present == nil {
		return in, fmt.Errorf("%w: with is null, not a JSON object", ErrInvalidInput)
	}
	spec, _ := Lookup(d.Name)
	for _, f := range spec.Inputs {
		if v, ok := present[f.Name]; f.Required && (!ok || v == nil) {
			return in, fmt.Errorf("%w: with.%s is required", ErrInvalidInput, f.Name)
		}
	}
	// A reference takes the type of what it names (${steps.X.outputs.port} is a number),
	// so a value is brought to its input's type where that loses nothing.
	t := reflect.TypeFor[In]()
	known := map[string]bool{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		known[name] = true
		if v, ok := present[name]; ok {
			present[name] = coerce(t.Field(i).Type, v)
		}
	}
	var unknown []string
	for name := range present {
		if !known[name] {
			unknown = append(unknown, fmt.Sprintf("%q", name))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return in, fmt.Errorf("%w: with: %s is not an input of %s", ErrInvalidInput, strings.Join(unknown, ", "), d.Name)
	}
	b, err := json.Marshal(present)
	if err != nil {
		return in, fmt.Errorf("%w: with: %v", ErrInvalidInput, err)
	}
	dec = json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		if ute := (*json.UnmarshalTypeError)(nil); errors.As(err, &ute) {
			want, ok := kindName(ute.Type)
			if !ok {
				want = ute.Type.String()
			}
			return in, fmt.Errorf("%w: with.%s: want %s, got a JSON %s", ErrInvalidInput, ute.Field, want, ute.Value)
		}
		// A type's own UnmarshalJSON (a duration, a time) fails without saying which field
		// it was reading: find the input that does not decode alone, to name it.
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if v, ok := present[name]; ok {
				b, _ := json.Marshal(v)
				if ferr := json.Unmarshal(b, reflect.New(t.Field(i).Type).Interface()); ferr != nil {
					return in, fmt.Errorf("%w: with.%s: %v", ErrInvalidInput, name, ferr)
				}
			}
		}
		return in, fmt.Errorf("%w: with: %v", ErrInvalidInput, err)
	}
	return in, tidy(reflect.ValueOf(&in).Elem())
}

// tidy trims the blanks around a decoded In's strings (the items of its lists and the
// values of its maps too), then refuses a required string left empty as missing, and an
// empty list item. Nothing may act on "" for a value: an empty id can mean every resource
// to AWS (DescribeDBInstances with an empty id describes them all), and an empty region
// no region.
func tidy(v reflect.Value) error {
	t := v.Type()
	for i := range t.NumField() {
		sf, f := t.Field(i), v.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		switch {
		case f.Kind() == reflect.String:
			f.SetString(strings.TrimSpace(f.String()))
			if f.String() == "" && sf.Tag.Get("kirikae") == "required" {
				return fmt.Errorf("%w: with.%s is required", ErrInvalidInput, name)
			}
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			for j := range f.Len() {
				e := f.Index(j)
				e.SetString(strings.TrimSpace(e.String()))
				if e.String() == "" {
					return fmt.Errorf("%w: with.%s: item %d is empty", ErrInvalidInput, name, j)
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

// Encode turns an Out into the JSON object a step's outputs are.
func (d *Def[In, Out]) Encode(out Out) (map[string]any, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("outputs of %s: %w", d.Name, err)
	}
	m := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("outputs of %s: %w", d.Name, err)
	}
	return m, nil
}

// Outputs decodes a step's recorded outputs (a JSON object) into Out.
func (d *Def[In, Out]) Outputs(outputsJSON string) (Out, error) {
	var out Out
	if strings.TrimSpace(outputsJSON) == "" {
		return out, fmt.Errorf("%s: no outputs", d.Name)
	}
	if err := json.Unmarshal([]byte(outputsJSON), &out); err != nil {
		return out, fmt.Errorf("outputs of %s: %w", d.Name, err)
	}
	return out, nil
}

// Duration is a duration input: "90s", "45m", "1h30m", or with a days suffix, "7d"
// (retention periods and RPOs are often written so); a number is seconds.
type Duration time.Duration

// UnmarshalJSON reads a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err := json.Unmarshal(b, &secs); err != nil {
			return fmt.Errorf("want a duration like 1h or 90s, got %s", b)
		}
		*d = Duration(secs * float64(time.Second))
		return d.check()
	}
	v, err := ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("want a duration like 1h or 90s, got %q", s)
	}
	*d = Duration(v)
	return d.check()
}

func (d Duration) check() error {
	if d < 0 {
		return fmt.Errorf("must not be negative, got %s", time.Duration(d))
	}
	return nil
}

// MarshalJSON writes the duration as Go writes it ("1h30m0s").
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// ParseDuration is time.ParseDuration plus a days suffix ("7d", "1.5d").
func ParseDuration(v string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(v, "d"); ok && n != "" && !strings.ContainsAny(n, "hmsuµn") {
		var days float64
		if _, err := fmt.Sscanf(n, "%g", &days); err != nil {
			return 0, fmt.Errorf("bad duration %q", v)
		}
		return time.Duration(days * float64(24*time.Hour)), nil
	}
	return time.ParseDuration(v)
}

// coerce brings a decoded JSON value to the Go type t where nothing is lost: a number or a
// boolean to its text for a string, numeric text to a number, "true"/"yes"/"1" to a
// boolean, a comma-separated string to a list; anything else is left to fail decoding.
func coerce(t reflect.Type, v any) any {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType || t == timeType {
		return v
	}
	switch t.Kind() {
	case reflect.String:
		switch x := v.(type) {
		case json.Number:
			return x.String()
		case bool:
			return fmt.Sprint(x)
		}
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint64, reflect.Float64:
		if x, ok := v.(string); ok {
			if n := json.Number(strings.TrimSpace(x)); n.String() != "" {
				if _, err := n.Float64(); err == nil {
					return n
				}
			}
		}
	case reflect.Bool:
		if x, ok := v.(string); ok {
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "yes", "1", "on":
				return true
			case "false", "no", "0", "off":
				return false
			}
		}
	case reflect.Slice:
		switch x := v.(type) {
		case string:
			var out []any
			for _, p := range strings.Split(x, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
			return out
		case []any:
			for i := range x {
				x[i] = coerce(t.Elem(), x[i])
			}
		}
	case reflect.Map:
		if x, ok := v.(map[string]any); ok {
			for k := range x {
				x[k] = coerce(t.Elem(), x[k])
			}
		}
	}
	return v
}

var (
	durationType = reflect.TypeFor[Duration]()
	timeType     = reflect.TypeFor[time.Time]()
)

// fieldsOf lists the fields of a definition's In or Out struct.
func fieldsOf(t reflect.Type) []Field {
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("catalog: %s is not a struct", t))
	}
	var out []Field
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			panic(fmt.Sprintf("catalog: field %s.%s has no json name", t, sf.Name))
		}
		typ, ok := kindName(sf.Type)
		if !ok {
			panic(fmt.Sprintf("catalog: the plan format has no name for %s (field %s.%s)", sf.Type, t, sf.Name))
		}
		out = append(out, Field{Name: name, Type: typ, Required: sf.Tag.Get("kirikae") == "required", Doc: sf.Tag.Get("doc")})
	}
	return out
}

// kindName is the plan format's name for a field's Go type.
func kindName(t reflect.Type) (string, bool) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem() // an optional input whose zero value is not its default
	}
	switch {
	case t == durationType:
		return "duration", true
	case t == timeType:
		return "time", true
	}
	switch t.Kind() {
	case reflect.String:
		return "string", true
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint64:
		return "int", true
	case reflect.Float64:
		return "number", true
	case reflect.Bool:
		return "bool", true
	case reflect.Slice:
		return "list", true
	case reflect.Map:
		return "map", true
	case reflect.Interface:
		return "any", true
	}
	return "", false
}

// Terms are what a step that waits for people asks of them, read from its resolved inputs
// as its definition says: an approval's roles and the count of approvers, or a
// checklist's items and the roles that may confirm them. Other actions have none.
func Terms(action string, withJSON []byte) (roles []string, count uint32, items []string, err error) {
	switch action {
	case Approval.Name:
		in, err := Approval.Decode(withJSON)
		if err != nil {
			return nil, 0, nil, err
		}
		return in.Roles, uint32(max(in.Count, 0)), nil, nil
	case Checklist.Name:
		in, err := Checklist.Decode(withJSON)
		if err != nil {
			return nil, 0, nil, err
		}
		return in.Roles, 0, in.Items, nil
	}
	return nil, 0, nil, nil
}
