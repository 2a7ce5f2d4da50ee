package jsonview

import (
	"encoding/json"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	// The API's types, registered for the index of protojson strings.
	_ "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// field is how the convention writes one proto field.
type field struct {
	key string
	// unit is set for a time held as an integer since the Unix epoch.
	unit time.Duration
	// json is set for a string that holds JSON; protoJSON when that JSON is protojson.
	json, protoJSON bool
}

// timeSuffixes are the names of times held as integers, longest first.
var timeSuffixes = []struct {
	suffix string
	unit   time.Duration
}{
	{"_unix_nano", time.Nanosecond},
	{"_unix_ms", time.Millisecond},
	{"_unix", time.Second},
}

func classify(fd protoreflect.FieldDescriptor) field {
	name := string(fd.Name())
	f := field{key: name}
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		for _, ts := range timeSuffixes {
			if base, ok := strings.CutSuffix(name, ts.suffix); ok && base != "" {
				return field{key: base, unit: ts.unit}
			}
		}
	case protoreflect.StringKind:
		if base, ok := strings.CutSuffix(name, "_json"); ok && base != "" {
			return field{key: base, json: true}
		}
		if jsonStrings[fd.FullName()] {
			return field{key: name, json: true, protoJSON: protoJSONStrings[fd.FullName()]}
		}
	}
	return f
}

var (
	messagesOnce sync.Once
	apiMessages  []protoreflect.MessageDescriptor
)

// allMessages lists every message of kirikae.v1.
func allMessages() []protoreflect.MessageDescriptor {
	messagesOnce.Do(func() {
		var add func(ms protoreflect.MessageDescriptors)
		add = func(ms protoreflect.MessageDescriptors) {
			for i := range ms.Len() {
				if md := ms.Get(i); !md.IsMapEntry() {
					apiMessages = append(apiMessages, md)
					add(md.Messages())
				}
			}
		}
		protoregistry.GlobalFiles.RangeFilesByPackage("kirikae.v1", func(fd protoreflect.FileDescriptor) bool {
			add(fd.Messages())
			return true
		})
	})
	return apiMessages
}

// fromProtoJSON maps v, a message of kirikae.v1 as protojson wrote it with proto names, to
// the convention. Its type is not recorded (the audit log names a method), so it is
// inferred: the candidates are the messages that have a field of every key. A key is
// mapped when its field is the same kind in every candidate (a quoted 64-bit integer, an
// enum, a time, JSON in a string, a message to descend into); one the candidates disagree
// on, and a map's keys (which are data), stay as protojson wrote them.
func fromProtoJSON(v any) any {
	return fromProtoJSONOf(v, allMessages())
}

func fromProtoJSONOf(v any, candidates []protoreflect.MessageDescriptor) any {
	obj, ok := v.(map[string]any)
	if !ok {
		return v
	}
	var fit []protoreflect.MessageDescriptor
	for _, md := range candidates {
		if hasAll(md, obj) {
			fit = append(fit, md)
		}
	}
	out := make(map[string]any, len(obj))
	for k, val := range obj {
		var fds []protoreflect.FieldDescriptor
		for _, md := range fit {
			fds = append(fds, md.Fields().ByName(protoreflect.Name(k)))
		}
		if !agree(fds) {
			out[k] = val
			continue
		}
		fd := fds[0]
		f := classify(fd)
		if list, ok := val.([]any); ok && fd.IsList() {
			mapped := make([]any, len(list))
			for i, e := range list {
				mapped[i] = fromProtoJSONValue(fds, f, e)
			}
			out[f.key] = mapped
			continue
		}
		out[f.key] = fromProtoJSONValue(fds, f, val)
	}
	return out
}

func hasAll(md protoreflect.MessageDescriptor, obj map[string]any) bool {
	for k := range obj {
		if md.Fields().ByName(protoreflect.Name(k)) == nil {
			return false
		}
	}
	return true
}

// agree says whether fds, one field of one name from each candidate, are written alike.
func agree(fds []protoreflect.FieldDescriptor) bool {
	if len(fds) == 0 || fds[0].IsMap() {
		return false
	}
	for _, fd := range fds[1:] {
		if fd.Kind() != fds[0].Kind() || fd.IsList() != fds[0].IsList() || fd.IsMap() || classify(fd) != classify(fds[0]) {
			return false
		}
	}
	return true
}

func fromProtoJSONValue(fds []protoreflect.FieldDescriptor, f field, v any) any {
	fd := fds[0]
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		var inner []protoreflect.MessageDescriptor
		for _, fd := range fds {
			inner = append(inner, fd.Message())
		}
		return fromProtoJSONOf(v, inner)
	case protoreflect.EnumKind:
		s, ok := v.(string)
		if !ok {
			return v
		}
		for _, fd := range fds {
			if vd := fd.Enum().Values().ByName(protoreflect.Name(s)); vd != nil {
				return enumValue(fd.Enum(), vd.Number())
			}
		}
		return v
	case protoreflect.StringKind:
		if s, ok := v.(string); ok && f.json {
			return nestedJSON(s, false)
		}
		return v
	case protoreflect.BoolKind, protoreflect.BytesKind, protoreflect.FloatKind, protoreflect.DoubleKind:
		return v
	}
	// An integer: protojson quotes the 64-bit ones.
	var n json.Number
	switch x := v.(type) {
	case string:
		n = json.Number(x)
	case json.Number:
		n = x
	default:
		return v
	}
	if strings.TrimLeft(string(n), "-0123456789") != "" || strings.TrimLeft(string(n), "-") == "" {
		return v
	}
	if f.unit != 0 {
		i, err := n.Int64()
		if err != nil {
			return v
		}
		return unixTime(i, f.unit)
	}
	return n
}
