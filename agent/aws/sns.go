package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
)

// SNSAPI is what SNSPublish and the notify publisher call.
type SNSAPI interface {
	Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNSPublish is aws.sns.publish.
//
// Idempotency: SNS cannot be asked whether a message was sent, so the executor records the
// message id in Options.Memo (the agent's data dir) and does not publish again for the same
// run and step. A FIFO topic also gets a MessageDeduplicationId from the run and step, which
// SNS itself deduplicates for five minutes. Every message carries kirikae-run and
// kirikae-step attributes so subscribers can drop the rare duplicate (a crash between the
// publish and the memo write).
type SNSPublish struct {
	Client func(region string) (SNSAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *SNSPublish) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.Publish)
	if err != nil {
		return nil, err
	}
	topic := in.TopicARN
	parts, err := action.CheckARN("topicArn", topic, "sns", "")
	if err != nil {
		return nil, err
	}
	key := "sns/" + step.Key()
	if e.Opts.Memo != nil {
		if out, ok := e.Opts.Memo.Get(key); ok {
			progress.Report("SNS " + topic + ": already published by an earlier attempt")
			return out, nil
		}
	}
	region := parts.Region
	if region == "" {
		region = step.Region
	}
	api, err := e.Client(region)
	if err != nil {
		return nil, err
	}
	id, err := publish(ctx, api, topic, in.Subject, in.Message, step)
	if err != nil {
		return nil, err
	}
	out, err := action.Outputs(catalog.Publish, catalog.PublishOut{MessageID: id})
	if err != nil {
		return nil, err
	}
	if e.Opts.Memo != nil {
		if err := e.Opts.Memo.Put(key, out); err != nil {
			return out, fmt.Errorf("published %s but could not record it: %w", id, err)
		}
	}
	progress.Report("SNS " + topic + ": published " + id)
	return out, nil
}

func publish(ctx context.Context, api SNSAPI, topic, subject, msg string, step action.Step) (string, error) {
	in := &sns.PublishInput{
		TopicArn: aws.String(topic),
		Message:  aws.String(msg),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"kirikae-run":  {DataType: aws.String("String"), StringValue: aws.String(orDash(step.RunID))},
			"kirikae-step": {DataType: aws.String("String"), StringValue: aws.String(orDash(step.StepID))},
		},
	}
	if subject != "" {
		in.Subject = aws.String(subject)
	}
	if strings.HasSuffix(topic, ".fifo") {
		in.MessageGroupId = aws.String("kirikae")
		in.MessageDeduplicationId = aws.String(action.Token(step, false, "sns", topic))
	}
	out, err := api.Publish(ctx, in)
	if err != nil {
		return "", fmt.Errorf("publish to %s: %w", topic, err)
	}
	return aws.ToString(out.MessageId), nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Publisher adapts the SNS clients to action.Publisher for the notify action.
func Publisher(clientsFor func(region string) (*Clients, error)) func(region string) (action.Publisher, error) {
	return func(region string) (action.Publisher, error) {
		c, err := clientsFor(region)
		if err != nil {
			return nil, err
		}
		return snsPublisher{c.SNS}, nil
	}
}

type snsPublisher struct{ api SNSAPI }

func (p snsPublisher) Publish(ctx context.Context, topic, subject, msg string) (string, error) {
	return publish(ctx, p.api, topic, subject, msg, action.Step{})
}
