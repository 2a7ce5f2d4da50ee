package aws

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
)

type (
	// CloudWatchAPI is what CloudWatchPutAlarm calls.
	CloudWatchAPI interface {
		cloudwatch.DescribeAlarmsAPIClient
		PutMetricAlarm(context.Context, *cloudwatch.PutMetricAlarmInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error)
	}
	// CloudWatchDeleteAPI is what CloudWatchDeleteAlarm calls.
	CloudWatchDeleteAPI interface {
		cloudwatch.DescribeAlarmsAPIClient
		DeleteAlarms(context.Context, *cloudwatch.DeleteAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DeleteAlarmsOutput, error)
	}
)

// CloudWatchPutAlarm is aws.cloudwatch.putAlarm.
//
// Idempotency: PutMetricAlarm is an upsert by name anyway; the executor still describes the
// alarm first and skips the put when it already has every setting of the step, so a rerun
// changes nothing (and does not reset the alarm's state).
//
// Undo: when the alarm did not exist before, aws.cloudwatch.deleteAlarm of it. Changing an
// existing alarm has none: the teardown leaves alarms that were there before the drill.
type CloudWatchPutAlarm struct {
	Client func(region string) (CloudWatchAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *CloudWatchPutAlarm) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.PutAlarm)
	if err != nil {
		return nil, err
	}
	name := in.AlarmName
	stat := cmp.Or(in.Statistic, "Average")
	if !slices.Contains(types.Statistic("").Values(), types.Statistic(stat)) {
		return nil, fmt.Errorf("%w: with.statistic: want one of %v, got %q", action.ErrInvalidInput, types.Statistic("").Values(), stat)
	}
	period, evals := 300, 2
	if in.Period != nil {
		period = *in.Period
	}
	if in.EvaluationPeriods != nil {
		evals = *in.EvaluationPeriods
	}
	if period < 1 || evals < 1 {
		return nil, fmt.Errorf("%w: with.period and with.evaluationPeriods must be positive", action.ErrInvalidInput)
	}
	threshold, err := action.Number("threshold", in.Threshold)
	if err != nil {
		return nil, err
	}
	comparison := cmp.Or(in.Comparison, "GreaterThanThreshold")
	if !slices.Contains(types.ComparisonOperator("").Values(), types.ComparisonOperator(comparison)) {
		return nil, fmt.Errorf("%w: with.comparison: want one of %v, got %q", action.ErrInvalidInput, types.ComparisonOperator("").Values(), comparison)
	}
	for i, a := range in.AlarmActions {
		if _, err := action.CheckARN(fmt.Sprintf("alarmActions[%d]", i), a, "", ""); err != nil {
			return nil, err
		}
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "alarm "+name, nil)
	req := &cloudwatch.PutMetricAlarmInput{
		AlarmName:          aws.String(name),
		MetricName:         aws.String(in.MetricName),
		Namespace:          aws.String(in.Namespace),
		Statistic:          types.Statistic(stat),
		Period:             aws.Int32(int32(period)),
		EvaluationPeriods:  aws.Int32(int32(evals)),
		Threshold:          aws.Float64(threshold),
		ComparisonOperator: types.ComparisonOperator(comparison),
		AlarmActions:       in.AlarmActions,
	}
	if in.Description != "" {
		req.AlarmDescription = aws.String(in.Description)
	}
	for _, k := range slices.Sorted(maps.Keys(in.Dimensions)) {
		req.Dimensions = append(req.Dimensions, types.Dimension{Name: aws.String(k), Value: aws.String(in.Dimensions[k])})
	}
	cur, err := describeAlarm(ctx, api, name)
	if err != nil {
		return nil, err
	}
	if cur != nil && sameAlarm(cur, req) {
		tr.Report("already up to date")
		return action.Outputs(catalog.PutAlarm, catalog.PutAlarmOut{AlarmARN: aws.ToString(cur.AlarmArn)})
	}
	tr.Report("putting")
	if _, err := api.PutMetricAlarm(ctx, req); err != nil {
		return nil, fmt.Errorf("put alarm %s: %w", name, err)
	}
	if cur == nil {
		step.Undo.Add(action.Undo{
			Action: catalog.DeleteAlarm.Name,
			With:   map[string]any{"alarmName": name},
			Note:   "delete alarm " + name + " (created by this run)",
		})
	}
	cur, err = describeAlarm(ctx, api, name)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, checkFailed("alarm %s is not listed after PutMetricAlarm", name)
	}
	return action.Outputs(catalog.PutAlarm, catalog.PutAlarmOut{AlarmARN: aws.ToString(cur.AlarmArn)})
}

func describeAlarm(ctx context.Context, api cloudwatch.DescribeAlarmsAPIClient, name string) (*types.MetricAlarm, error) {
	out, err := api.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil {
		return nil, fmt.Errorf("describe alarm %s: %w", name, err)
	}
	for i := range out.MetricAlarms {
		if aws.ToString(out.MetricAlarms[i].AlarmName) == name {
			return &out.MetricAlarms[i], nil
		}
	}
	return nil, nil
}

func sameAlarm(a *types.MetricAlarm, in *cloudwatch.PutMetricAlarmInput) bool {
	dims := func(l []types.Dimension) map[string]string {
		m := map[string]string{}
		for _, d := range l {
			m[aws.ToString(d.Name)] = aws.ToString(d.Value)
		}
		return m
	}
	sorted := func(l []string) []string { return slices.Sorted(slices.Values(l)) }
	return aws.ToString(a.AlarmDescription) == aws.ToString(in.AlarmDescription) &&
		aws.ToString(a.MetricName) == aws.ToString(in.MetricName) &&
		aws.ToString(a.Namespace) == aws.ToString(in.Namespace) &&
		a.Statistic == in.Statistic &&
		aws.ToInt32(a.Period) == aws.ToInt32(in.Period) &&
		aws.ToInt32(a.EvaluationPeriods) == aws.ToInt32(in.EvaluationPeriods) &&
		aws.ToFloat64(a.Threshold) == aws.ToFloat64(in.Threshold) &&
		a.ComparisonOperator == in.ComparisonOperator &&
		maps.Equal(dims(a.Dimensions), dims(in.Dimensions)) &&
		slices.Equal(sorted(a.AlarmActions), sorted(in.AlarmActions))
}

// CloudWatchDeleteAlarm is aws.cloudwatch.deleteAlarm, the undo of a new alarm.
//
// Idempotency: an alarm that is not there counts as deleted (and DeleteAlarms' not-found
// answer to a race too).
type CloudWatchDeleteAlarm struct {
	Client func(region string) (CloudWatchDeleteAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *CloudWatchDeleteAlarm) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.DeleteAlarm)
	if err != nil {
		return nil, err
	}
	name := in.AlarmName
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "alarm "+name, nil)
	cur, err := describeAlarm(ctx, api, name)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		tr.Report("already gone")
		return action.Outputs(catalog.DeleteAlarm, catalog.DeletedOut{Deleted: true})
	}
	tr.Report("deleting")
	if _, err := api.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{name}}); err != nil && !isCode(err, "ResourceNotFound") {
		return nil, fmt.Errorf("delete alarm %s: %w", name, err)
	}
	if cur, err = describeAlarm(ctx, api, name); err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, checkFailed("alarm %s is still listed after DeleteAlarms", name)
	}
	return action.Outputs(catalog.DeleteAlarm, catalog.DeletedOut{Deleted: true})
}
