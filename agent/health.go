package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/health"
	healthtypes "github.com/aws/aws-sdk-go-v2/service/health/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/kirikae/kirikae/awshttp"
)

// probeLoop runs the health probe every heartbeat interval, each run bounded by the health
// timeout, and keeps the latest result for the heartbeats.
func (a *Agent) probeLoop(ctx context.Context) {
	var inFlight atomic.Bool
	var once sync.Once
	t := time.NewTicker(a.cfg.HeartbeatInterval)
	defer t.Stop()
	var prev *Health
	for {
		h := a.probeOnce(ctx, &inFlight)
		if ctx.Err() != nil {
			return
		}
		a.health.Store(&h)
		once.Do(func() { close(a.probed) })
		if prev == nil || prev.Healthy() != h.Healthy() || prev.Cause != h.Cause || prev.OpenHealthEvents != h.OpenHealthEvents {
			if h.Healthy() {
				a.log.Info("region healthy", "open_health_events", h.OpenHealthEvents)
			} else {
				a.log.Warn("region unhealthy", "cause", h.Cause, "open_health_events", h.OpenHealthEvents)
			}
		}
		prev = &h
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// probeOnce runs the probe with the health timeout. The probe's own context ends a fifth
// of the timeout earlier, so a probe that honours it can still say what hung. A probe that
// ignores it is left to finish on its own, and no other starts until it does.
func (a *Agent) probeOnce(ctx context.Context, inFlight *atomic.Bool) Health {
	timeout := a.cfg.HealthTimeout
	if !inFlight.CompareAndSwap(false, true) {
		return Health{Cause: fmt.Sprintf("health probe: still no answer (timeout %s)", timeout)}
	}
	wait := time.NewTimer(timeout)
	defer wait.Stop()
	pctx, cancel := context.WithTimeout(ctx, timeout-timeout/5)
	defer cancel()
	done := make(chan Health, 1)
	go func() {
		defer inFlight.Store(false)
		defer func() {
			if r := recover(); r != nil {
				done <- Health{Cause: fmt.Sprintf("health probe panicked: %v", r)}
			}
		}()
		done <- a.probe(pctx)
	}()
	select {
	case h := <-done:
		return h
	case <-ctx.Done():
		return Health{Cause: "agent stopping"}
	case <-wait.C:
		return Health{Cause: fmt.Sprintf("health probe: no answer within %s", timeout)}
	}
}

// The AWS calls the default health probe makes, as the SDK clients offer them.
type (
	// CallerIdentityAPI verifies credentials.
	CallerIdentityAPI interface {
		GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
	}
	// RegionAPI is the cheap call that shows the region's API answers.
	RegionAPI interface {
		DescribeVpcs(ctx context.Context, in *ec2.DescribeVpcsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error)
	}
	// HealthEventsAPI lists AWS Health events.
	HealthEventsAPI interface {
		DescribeEvents(ctx context.Context, in *health.DescribeEventsInput, optFns ...func(*health.Options)) (*health.DescribeEventsOutput, error)
	}
)

// NewAWSHealthProbe returns the default probe for region, with the AWS default credential
// chain and opts; a non-empty endpoint (awssim, moto_server) is used for every call. The SDK's
// retries are off: the heartbeat is the retry, and a prompt failure names its cause. The
// SDK's own log lines go to logger (nil discards them).
func NewAWSHealthProbe(ctx context.Context, region, endpoint string, logger *slog.Logger, opts ...func(*config.LoadOptions) error) (HealthProbe, error) {
	cfg, err := config.LoadDefaultConfig(ctx, append([]func(*config.LoadOptions) error{config.WithRegion(region), config.WithRetryMaxAttempts(1),
		config.WithLogger(sdkLogger(logger))}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("aws config for the health probe: %w", err)
	}
	cfg.HTTPClient = awshttp.KeepRequestBody(cfg.HTTPClient) // no retries here: a lost answer would be a false alarm
	// AWS Health answers in us-east-1 for the whole partition; a simulator answers in
	// every region.
	healthRegion := "us-east-1"
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
		healthRegion = region
	}
	return AWSHealthProbe(region, sts.NewFromConfig(cfg), ec2.NewFromConfig(cfg),
		health.NewFromConfig(cfg, func(o *health.Options) { o.Region = healthRegion })), nil
}

// AWSHealthProbe builds the default probe from its three calls, which run concurrently:
// STS GetCallerIdentity (credentials), EC2 DescribeVpcs (the region's API) and AWS Health
// DescribeEvents (open events in the region). A failure of the last one does not make the
// agent unhealthy, since the Health API lives outside the region; it is named in the cause
// only when something else is wrong too.
func AWSHealthProbe(region string, creds CallerIdentityAPI, api RegionAPI, events HealthEventsAPI) HealthProbe {
	return func(ctx context.Context) Health {
		limit := ""
		if dl, ok := ctx.Deadline(); ok {
			limit = time.Until(dl).Round(time.Millisecond).String()
		}
		describe := func(err error) string { return describeAWSError(ctx, err, limit) }
		var h Health
		var credErr, apiErr, evErr error
		var wg sync.WaitGroup
		wg.Go(func() {
			_, credErr = creds.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		})
		wg.Go(func() {
			_, apiErr = api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{MaxResults: aws.Int32(5)})
		})
		wg.Go(func() {
			h.OpenHealthEvents, evErr = openEvents(ctx, events, region)
		})
		wg.Wait()
		h.CredentialsOK, h.APIReachable = credErr == nil, apiErr == nil
		var causes []string
		if credErr != nil {
			causes = append(causes, "sts GetCallerIdentity: "+describe(credErr))
		}
		if apiErr != nil {
			causes = append(causes, fmt.Sprintf("%s API unreachable: ec2 DescribeVpcs: %s", region, describe(apiErr)))
		}
		if evErr != nil && len(causes) > 0 {
			causes = append(causes, "health DescribeEvents: "+describe(evErr))
		}
		h.Cause = strings.Join(causes, "; ")
		return h
	}
}

func openEvents(ctx context.Context, c HealthEventsAPI, region string) (int, error) {
	in := &health.DescribeEventsInput{Filter: &healthtypes.EventFilter{
		Regions:          []string{region},
		EventStatusCodes: []healthtypes.EventStatusCode{healthtypes.EventStatusCodeOpen},
	}}
	n := 0
	for page := 0; page < 10; page++ {
		out, err := c.DescribeEvents(ctx, in)
		if err != nil {
			return n, err
		}
		n += len(out.Events)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	return n, nil
}

// describeAWSError shortens the SDK's error chain to what an operator needs: "no answer
// within 800ms", the transport error ("Post ...: connect: connection
// refused"), or the service's error code and message.
func describeAWSError(ctx context.Context, err error, limit string) string {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if limit != "" {
			return "no answer within " + limit
		}
		return "no answer before the health probe timed out"
	}
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) && send.Err != nil {
		return send.Err.Error()
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode() + ": " + api.ErrorMessage()
	}
	return err.Error()
}

// sdkLogger routes the AWS SDK's log lines (which otherwise go to stderr) to slog.
func sdkLogger(l *slog.Logger) logging.Logger {
	if l == nil {
		return logging.Nop{}
	}
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		level := slog.LevelDebug
		if c == logging.Warn {
			level = slog.LevelWarn
		}
		l.Log(context.Background(), level, "aws sdk: "+fmt.Sprintf(format, v...))
	})
}
