package plan_test

import (
	"slices"
	"testing"

	"github.com/kirikae/kirikae/plan"
)

func TestReferencedSteps(t *testing.T) {
	with := map[string]any{
		"endpoint": "${steps.restore-rds.outputs.endpoint}:${steps.restore-rds.outputs.port}",
		"json":     map[string]any{"redis": "${steps.create-cache.outputs.endpoint}", "rpo": "${params.RPO}"},
		"list":     []any{"$${steps.literal.outputs.x}", "${run.id}", 3},
	}
	if got := plan.ReferencedSteps(with); !slices.Equal(got, []string{"create-cache", "restore-rds"}) {
		t.Fatalf("ReferencedSteps = %v", got)
	}
}
