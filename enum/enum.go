// Package enum says how kirikae shows the API's enum values to people: in tables, reports,
// messages and JSON summaries. It is the one place that does.
package enum

import (
	"strconv"
	"strings"
	"unicode"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Name is a value without the prefix that buf's lint puts on every value (its type's name
// in upper snake case), in lower case, with words joined by '-': StepStatus
// STEP_STATUS_RETRY_WAIT is "retry-wait", RunKind RUN_KIND_FAILOVER is "failover". A value
// this build does not know shows as its number.
func Name(e protoreflect.Enum) string {
	d := e.Descriptor()
	v := d.Values().ByNumber(e.Number())
	if v == nil {
		return strconv.Itoa(int(e.Number()))
	}
	s := strings.TrimPrefix(string(v.Name()), upperSnake(string(d.Name()))+"_")
	return strings.ReplaceAll(strings.ToLower(s), "_", "-")
}

// upperSnake turns a type name into the prefix of its values: StepStatus is STEP_STATUS.
func upperSnake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}
