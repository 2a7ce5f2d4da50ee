package jsonview

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/kirikae/kirikae/enum"
)

// jsonStrings are the string fields, besides those named *_json, that hold JSON.
var jsonStrings = map[protoreflect.FullName]bool{
	"kirikae.v1.AuditEntry.request": true,
}

// protoJSONStrings are the JSON strings that hold a message as protojson (the server's
// rendering, which the audit hash chain covers, so it cannot change): they are mapped to
// the convention by field name (see fromProtoJSON).
var protoJSONStrings = map[protoreflect.FullName]bool{
	"kirikae.v1.AuditEntry.request": true,
}

// Of returns m as plain values that encoding/json writes in the convention of the package
// doc: map[string]any, []any, string, bool, json.Number, float64 and nil. A nil or unset m is
// nil.
func Of(m proto.Message) any {
	if m == nil {
		return nil
	}
	r := m.ProtoReflect()
	if !r.IsValid() {
		return nil
	}
	return message(r)
}

// Time is t as the convention writes a time: RFC 3339 in UTC, nil when t is zero. It is for
// the Go values the CLI prints next to messages.
func Time(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func message(m protoreflect.Message) any {
	md := m.Descriptor()
	if md.ParentFile() != nil && md.ParentFile().Package() == "google.protobuf" {
		return wellKnown(m)
	}
	out := map[string]any{}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() && !m.Has(fd) {
			continue
		}
		f := classify(fd)
		out[f.key] = fieldValue(m, fd, f)
	}
	return out
}

// wellKnown writes the google.protobuf types as protojson does: a Timestamp is already
// RFC 3339, a Struct already an object.
func wellKnown(m protoreflect.Message) any {
	b, err := protojson.Marshal(m.Interface())
	if err != nil {
		return nil
	}
	v, ok := parseJSON(string(b))
	if !ok {
		return string(b)
	}
	return v
}

func fieldValue(m protoreflect.Message, fd protoreflect.FieldDescriptor, f field) any {
	v := m.Get(fd)
	switch {
	case fd.IsList():
		l := v.List()
		out := make([]any, 0, l.Len())
		for i := range l.Len() {
			out = append(out, singular(fd, l.Get(i), f))
		}
		return out
	case fd.IsMap():
		out := map[string]any{}
		vd := fd.MapValue()
		vf := classify(vd)
		v.Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			out[k.String()] = singular(vd, v, vf)
			return true
		})
		return out
	case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
		if !m.Has(fd) {
			return nil
		}
	}
	return singular(fd, v, f)
}

func singular(fd protoreflect.FieldDescriptor, v protoreflect.Value, f field) any {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return message(v.Message())
	case protoreflect.BoolKind:
		return v.Bool()
	case protoreflect.EnumKind:
		return enumValue(fd.Enum(), v.Enum())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if f.unit != 0 {
			return unixTime(v.Int(), f.unit)
		}
		return json.Number(strconv.FormatInt(v.Int(), 10))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if f.unit != 0 && v.Uint() <= math.MaxInt64 {
			return unixTime(int64(v.Uint()), f.unit)
		}
		return json.Number(strconv.FormatUint(v.Uint(), 10))
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		x := v.Float()
		switch {
		case math.IsNaN(x):
			return "NaN"
		case math.IsInf(x, 1):
			return "Infinity"
		case math.IsInf(x, -1):
			return "-Infinity"
		}
		return x
	case protoreflect.StringKind:
		if !f.json {
			return v.String()
		}
		return nestedJSON(v.String(), f.protoJSON)
	case protoreflect.BytesKind:
		return base64.StdEncoding.EncodeToString(v.Bytes())
	}
	return v.Interface()
}

// enumValue is the table's word for n: "" for the zero value, the number for a value this
// build does not know.
func enumValue(ed protoreflect.EnumDescriptor, n protoreflect.EnumNumber) any {
	if n == 0 {
		return ""
	}
	if ed.Values().ByNumber(n) == nil {
		return json.Number(strconv.FormatInt(int64(n), 10))
	}
	return enum.Name(dynamicpb.NewEnumType(ed).New(n))
}

func unixTime(n int64, unit time.Duration) any {
	if n == 0 {
		return nil
	}
	var t time.Time
	switch unit {
	case time.Second:
		t = time.Unix(n, 0)
	case time.Millisecond:
		t = time.UnixMilli(n)
	default:
		t = time.Unix(0, n)
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// nestedJSON is s parsed, nil when empty, s itself when it does not parse.
func nestedJSON(s string, protoJSON bool) any {
	if s == "" {
		return nil
	}
	v, ok := parseJSON(s)
	if !ok {
		return s
	}
	if protoJSON {
		return fromProtoJSON(v)
	}
	return v
}

// parseJSON parses one JSON value, numbers kept exact.
func parseJSON(s string) (any, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return v, true
}
