package agent

import (
	"context"

	"github.com/kirikae/kirikae/agent/action"
)

// defaultRegistry builds the executors a production agent offers.
func defaultRegistry(_ context.Context, _ Config) (*action.Registry, error) {
	reg := action.NewRegistry()
	return reg, nil
}
