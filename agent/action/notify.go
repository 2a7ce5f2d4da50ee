package action

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kirikae/kirikae/catalog"
)

// Publisher publishes to an SNS topic; agent/aws provides one over the SDK.
type Publisher interface {
	Publish(ctx context.Context, topicArn, subject, message string) (messageID string, err error)
}

// Notify is the notify action: a Slack-compatible webhook POST ({"text": ...}) and/or an
// SNS publish. With a Memo it does not send again for a step that already delivered (see
// Memo for the remaining at-least-once window).
type Notify struct {
	Client *http.Client
	// Publisher returns the SNS publisher for a region; nil means topicArn is refused.
	Publisher func(region string) (Publisher, error)
	Memo      Memo
}

// Execute sends the notification.
func (n *Notify) Execute(ctx context.Context, step Step, progress ProgressFunc) (map[string]any, error) {
	in, err := Decode(step, catalog.Notify)
	if err != nil {
		return nil, err
	}
	if in.Webhook == "" && in.TopicARN == "" {
		return nil, fmt.Errorf("%w: with.webhook or with.topicArn is required", ErrInvalidInput)
	}
	if in.Webhook != "" && !strings.HasPrefix(in.Webhook, "http://") && !strings.HasPrefix(in.Webhook, "https://") {
		return nil, fmt.Errorf("%w: with.webhook: want an http:// or https:// URL, got %q", ErrInvalidInput, in.Webhook)
	}
	var topicRegion string
	if in.TopicARN != "" {
		p, err := CheckARN("topicArn", in.TopicARN, "sns", "")
		if err != nil {
			return nil, err
		}
		topicRegion = p.Region
		if n.Publisher == nil {
			return nil, fmt.Errorf("%w: with.topicArn: this agent has no SNS publisher", ErrInvalidInput)
		}
	}
	if n.Memo != nil {
		if out, ok := n.Memo.Get("notify/" + step.Key()); ok {
			progress.Report("notify: already delivered by an earlier attempt")
			return out, nil
		}
	}
	var delivered []string
	if in.Webhook != "" {
		if err := n.post(ctx, in.Webhook, in.Message, in.Audience); err != nil {
			return nil, err
		}
		delivered = append(delivered, "webhook")
		progress.Report("notify: webhook delivered")
	}
	if in.TopicARN != "" {
		pub, err := n.Publisher(topicRegion)
		if err != nil {
			return nil, fmt.Errorf("notify: SNS client for %s: %w", topicRegion, err)
		}
		if _, err := pub.Publish(ctx, in.TopicARN, "kirikae", in.Message); err != nil {
			return nil, fmt.Errorf("notify: publish to %s: %w", in.TopicARN, err)
		}
		delivered = append(delivered, "sns")
		progress.Report("notify: published to " + in.TopicARN)
	}
	out, err := Outputs(catalog.Notify, catalog.NotifyOut{Delivered: delivered})
	if err != nil {
		return nil, err
	}
	if n.Memo != nil {
		if err := n.Memo.Put("notify/"+step.Key(), out); err != nil {
			return out, fmt.Errorf("notify: delivered but could not record it: %w", err)
		}
	}
	return out, nil
}

func (n *Notify) post(ctx context.Context, hook, msg string, audience []string) error {
	payload := map[string]any{"text": msg}
	if len(audience) > 0 {
		payload["audience"] = audience
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%w: with.webhook: %v", ErrInvalidInput, err)
	}
	req.Header.Set("Content-Type", "application/json")
	c := n.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("notify: webhook: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("notify: webhook answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

// BuiltinOptions configures the non-AWS agent actions.
type BuiltinOptions struct {
	HTTPClient *http.Client
	Now        func() time.Time
	Publisher  func(region string) (Publisher, error)
	Memo       Memo
}

// RegisterBuiltins registers http.check and notify.
func RegisterBuiltins(reg *Registry, o BuiltinOptions) {
	reg.Register(catalog.HTTPCheck.Name, &HTTPCheck{Client: o.HTTPClient, Now: o.Now})
	reg.Register(catalog.Notify.Name, &Notify{Client: o.HTTPClient, Publisher: o.Publisher, Memo: o.Memo})
}
