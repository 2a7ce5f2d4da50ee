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
	msg, err := Str(step, "message")
	if err != nil {
		return nil, err
	}
	hook, err := OptStr(step, "webhook", "")
	if err != nil {
		return nil, err
	}
	topic, err := OptStr(step, "topicArn", "")
	if err != nil {
		return nil, err
	}
	audience, err := List(step, "audience")
	if err != nil {
		return nil, err
	}
	if hook == "" && topic == "" {
		return nil, fmt.Errorf("%w: with.webhook or with.topicArn is required", ErrInvalidInput)
	}
	if hook != "" && !strings.HasPrefix(hook, "http://") && !strings.HasPrefix(hook, "https://") {
		return nil, fmt.Errorf("%w: with.webhook: want an http:// or https:// URL, got %q", ErrInvalidInput, hook)
	}
	var topicRegion string
	if topic != "" {
		p, err := CheckARN("topicArn", topic, "sns", "")
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
	delivered := []any{}
	if hook != "" {
		if err := n.post(ctx, hook, msg, audience); err != nil {
			return nil, err
		}
		delivered = append(delivered, "webhook")
		progress.Report("notify: webhook delivered")
	}
	if topic != "" {
		pub, err := n.Publisher(topicRegion)
		if err != nil {
			return nil, fmt.Errorf("notify: SNS client for %s: %w", topicRegion, err)
		}
		if _, err := pub.Publish(ctx, topic, "kirikae", msg); err != nil {
			return nil, fmt.Errorf("notify: publish to %s: %w", topic, err)
		}
		delivered = append(delivered, "sns")
		progress.Report("notify: published to " + topic)
	}
	out := map[string]any{"delivered": delivered}
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
	reg.Register("http.check", &HTTPCheck{Client: o.HTTPClient, Now: o.Now})
	reg.Register("notify", &Notify{Client: o.HTTPClient, Publisher: o.Publisher, Memo: o.Memo})
}
