package action

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/kirikae/kirikae/catalog"
)

// Outputs turns out into the outputs of a step of def (Def.Encode), holding only the
// types outputs may hold (see the package doc): a number is an int64 in an integer field
// and a float64 in a float one (in a field of type any, an int64 when it is whole), and a
// list is never null, so an empty one is [] as it always was.
func Outputs[In, Out any](def *catalog.Def[In, Out], out Out) (map[string]any, error) {
	m, err := def.Encode(out)
	if err != nil {
		return nil, err
	}
	t := reflect.TypeFor[Out]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if v, ok := m[name]; ok {
			m[name] = typed(t.Field(i).Type, v)
		}
	}
	return m, nil
}

// typed gives v, decoded from JSON with UseNumber, the output type of the Go type t it was
// encoded from.
func typed(t reflect.Type, v any) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	elem := t // what a list or a map holds; in a field of type any, anything
	if k := t.Kind(); k == reflect.Slice || k == reflect.Array || k == reflect.Map {
		elem = t.Elem()
	}
	switch x := v.(type) {
	case nil:
		if t.Kind() == reflect.Slice {
			return []any{}
		}
	case json.Number:
		if k := t.Kind(); k != reflect.Float32 && k != reflect.Float64 {
			if n, err := x.Int64(); err == nil {
				return n
			}
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case []any:
		for i := range x {
			x[i] = typed(elem, x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = typed(elem, x[k])
		}
	}
	return v
}
