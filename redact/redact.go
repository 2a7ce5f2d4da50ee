// Package redact masks the values of a run's secret params (plan params marked
// `secret: true`) in what is shown to people: API answers, audit lines and reports.
//
// It owns the masking rule and nothing else. The run in the replicated state keeps the
// real values, because the agents need them in their assignments: callers mask copies,
// at the edge, and never the state itself.
package redact

import (
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// Mask is shown in place of a secret value.
const Mask = "(secret)"

// minInText is the shortest value masked inside longer text. A shorter one is masked
// only where it is the whole string: masking every "ab" in a run would garble it and
// tell a reader what the secret is not.
const minInText = 4

// Values returns the values r's secret params hold, in params and cutback params; empty
// values are left out.
func Values(r *kirikaev1.Run) []string {
	var out []string
	for _, name := range r.GetSecretParams() {
		for _, m := range []map[string]string{r.GetParams(), r.GetCutbackParams()} {
			if v := m[name]; v != "" && v != Mask {
				out = append(out, v)
			}
		}
	}
	return out
}

// String masks every value of values in s.
func String(s string, values []string) string {
	for _, v := range values {
		switch {
		case s == v:
			return Mask
		case len(v) >= minInText:
			s = strings.ReplaceAll(s, v, Mask)
		}
	}
	return s
}

// Run masks r in place: each secret param's value, and the values wherever they appear in
// the run's text (step outputs, errors, progress, history). Byte fields (the plan source
// and the system file, which hold defaults only) are left as they are. It returns r.
func Run(r *kirikaev1.Run) *kirikaev1.Run {
	values := Values(r)
	for _, name := range r.GetSecretParams() {
		for _, m := range []map[string]string{r.GetParams(), r.GetCutbackParams()} {
			if _, ok := m[name]; ok {
				m[name] = Mask
			}
		}
	}
	if len(values) > 0 {
		Strings(r.ProtoReflect(), values)
	}
	return r
}

// Message masks, in place, every run inside m (a response holding runs), and returns
// whether it found one with secrets. Runs without secret params are not touched.
func Message(m proto.Message) bool {
	found := false
	walk(m.ProtoReflect(), func(r *kirikaev1.Run) {
		if len(r.GetSecretParams()) > 0 {
			Run(r)
			found = true
		}
	})
	return found
}

// Has reports whether m holds a run with secret params, without changing it.
func Has(m proto.Message) bool {
	found := false
	walk(m.ProtoReflect(), func(r *kirikaev1.Run) {
		if len(r.GetSecretParams()) > 0 {
			found = true
		}
	})
	return found
}

var runName = (&kirikaev1.Run{}).ProtoReflect().Descriptor().FullName()

func walk(m protoreflect.Message, visit func(*kirikaev1.Run)) {
	if m.Descriptor().FullName() == runName {
		if r, ok := m.Interface().(*kirikaev1.Run); ok {
			visit(r)
			return
		}
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := range l.Len() {
				walk(l.Get(i).Message(), visit)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				walk(mv.Message(), visit)
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			walk(v.Message(), visit)
		}
		return true
	})
}

// Strings masks values in every string field of m, at any depth, map values included.
func Strings(m protoreflect.Message, values []string) {
	type set struct {
		fd protoreflect.FieldDescriptor
		s  string
	}
	var sets []set // a message's own fields are set after Range, which must not add or change fields
	defer func() {
		for _, st := range sets {
			m.Set(st.fd, protoreflect.ValueOfString(st.s))
		}
	}()
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				if fd.Message() != nil {
					Strings(l.Get(i).Message(), values)
				} else if fd.Kind() == protoreflect.StringKind {
					l.Set(i, protoreflect.ValueOfString(String(l.Get(i).String(), values)))
				}
			}
		case fd.IsMap():
			mp := v.Map()
			mp.Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				if fd.MapValue().Message() != nil {
					Strings(mv.Message(), values)
				} else if fd.MapValue().Kind() == protoreflect.StringKind {
					mp.Set(k, protoreflect.ValueOfString(String(mv.String(), values)))
				}
				return true
			})
		case fd.Message() != nil:
			Strings(v.Message(), values)
		case fd.Kind() == protoreflect.StringKind:
			if masked := String(v.String(), values); masked != v.String() {
				sets = append(sets, set{fd, masked})
			}
		}
		return true
	})
}
