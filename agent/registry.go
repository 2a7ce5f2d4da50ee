package agent

import (
	"context"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/agent/aws"
)

// memoDir holds the memo of side effects AWS cannot look up afterwards (SNS publishes,
// webhook posts), so a re-dispatch after a restart does not send them again.
const memoDir = "memo"

// defaultRegistry builds the executors a production agent offers: every AWS action of the
// catalog over the default credential chain (pointed at cfg.AWSEndpoint when set), plus
// http.check and notify. SDK clients are built per region on first use. It returns the
// clients too, for the IAM check of plan checks (iamcheck.go).
func defaultRegistry(ctx context.Context, cfg Config) (*action.Registry, func(region string) (*aws.Clients, error), error) {
	memo := action.FileMemo{Dir: filepath.Join(cfg.DataDir, memoDir)}
	opts := aws.Options{Memo: memo, ConfigOptions: append([]func(*config.LoadOptions) error{
		config.WithLogger(sdkLogger(cfg.Logger)),
	}, cfg.AWSConfigOptions...)}
	if cfg.WaiterDelay > 0 {
		opts.MinDelay, opts.MaxDelay = cfg.WaiterDelay, cfg.WaiterDelay
	}
	clientsFor := aws.ClientCache(ctx, cfg.AWSEndpoint, opts)
	reg := action.NewRegistry()
	aws.Register(reg, clientsFor, opts)
	action.RegisterBuiltins(reg, action.BuiltinOptions{Publisher: aws.Publisher(clientsFor), Memo: memo})
	return reg, clientsFor, nil
}
