package aws

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/health"
	"github.com/aws/aws-sdk-go-v2/service/health/types"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
)

// HealthAPI is what HealthEvents calls.
type HealthAPI interface {
	health.DescribeEventsAPIClient
}

// HealthEvents is aws.health.events: the open AWS Health events of a region (seed 000
// step 1). It only reads. With failIfOpen it fails while any matching event is open, which
// is how a cutback confirms the primary region has recovered.
type HealthEvents struct {
	Client func(region string) (HealthAPI, error)
	Opts   Options
}

// OpenEvents lists the open events for region; the agent's heartbeat uses it too.
func OpenEvents(ctx context.Context, api HealthAPI, region string, categories, services []string) ([]types.Event, error) {
	filter := &types.EventFilter{
		Regions:          []string{region},
		EventStatusCodes: []types.EventStatusCode{types.EventStatusCodeOpen},
		Services:         services,
	}
	for _, c := range categories {
		filter.EventTypeCategories = append(filter.EventTypeCategories, types.EventTypeCategory(c))
	}
	var events []types.Event
	p := health.NewDescribeEventsPaginator(api, &health.DescribeEventsInput{Filter: filter})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("AWS Health events for %s: %w", region, err)
		}
		events = append(events, page.Events...)
	}
	return events, nil
}

// Execute runs the step.
func (e *HealthEvents) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.HealthEvents)
	if err != nil {
		return nil, err
	}
	cats := in.EventTypeCategories
	if len(cats) == 0 {
		cats = []string{"issue"}
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	events, err := OpenEvents(ctx, api, in.Region, cats, in.Services)
	if err != nil {
		return nil, err
	}
	var arns []string
	var lines []string
	for _, ev := range events {
		arns = append(arns, aws.ToString(ev.Arn))
		since := ""
		if ev.StartTime != nil {
			since = " since " + ev.StartTime.UTC().Format(time.RFC3339)
		}
		lines = append(lines, fmt.Sprintf("%s %s%s", aws.ToString(ev.Service), aws.ToString(ev.EventTypeCode), since))
	}
	summary := "no open AWS Health events in " + in.Region
	if len(events) > 0 {
		summary = fmt.Sprintf("%d open AWS Health event(s) in %s: %s", len(events), in.Region, strings.Join(lines, "; "))
	}
	progress.Report(summary)
	out, err := action.Outputs(catalog.HealthEvents, catalog.HealthEventsOut{OpenEvents: int64(len(events)), EventArns: arns, Summary: summary})
	if err != nil {
		return nil, err
	}
	if in.FailIfOpen && len(events) > 0 {
		return out, checkFailed("%s (failIfOpen)", summary)
	}
	return out, nil
}
