package enum_test

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/kirikae/kirikae/enum"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

func TestName(t *testing.T) {
	for _, tc := range []struct {
		v    protoreflect.Enum
		want string
	}{
		{kirikaev1.StepStatus_STEP_STATUS_RETRY_WAIT, "retry-wait"},
		{kirikaev1.RunKind_RUN_KIND_FAILOVER, "failover"},
		{kirikaev1.RunStatus_RUN_STATUS_SUCCEEDED, "succeeded"},
		{kirikaev1.DrillKind_DRILL_KIND_TABLETOP, "tabletop"},
		{kirikaev1.Mode_MODE_FAILING_OVER, "failing-over"},
		{kirikaev1.StepStatus(99), "99"},
	} {
		if got := enum.Name(tc.v); got != tc.want {
			t.Errorf("Name(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
