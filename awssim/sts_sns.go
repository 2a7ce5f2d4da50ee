package awssim

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// stsOps and snsOps are awsQuery. SNS keeps published messages for Sim.Published.
var stsOps = map[string]queryOp{
	"GetCallerIdentity": func(c *call, _ url.Values) ([]xn, error) {
		return []xn{tx("Arn", c.callerARN()), tx("UserId", "AIDASIMULATEDUSER0001"), tx("Account", c.account())}, nil
	},
}

// callerARN is the identity every signed request acts as (GetCallerIdentity's Arn).
func (c *call) callerARN() string { return "arn:aws:iam::" + c.account() + ":user/" + IAMUser }

// SNSMessage is one message published to a simulated SNS topic.
type SNSMessage struct {
	Time    time.Time `json:"time"`
	Topic   string    `json:"topic"`
	Subject string    `json:"subject"`
	Message string    `json:"message"`
}

var snsOps = map[string]queryOp{
	"GetTopicAttributes": snsGetTopicAttributes,
	"ListTopics":         snsListTopics,
	"Publish": func(c *call, p url.Values) ([]xn, error) {
		msg, err := param(p, "Message")
		if err != nil {
			return nil, err
		}
		name := "TopicArn"
		if p.Get(name) == "" {
			name = "TargetArn"
		}
		topic := p.Get(name)
		if topic == "" && p.Get("PhoneNumber") == "" {
			return nil, badRequest("InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
		}
		if topic != "" {
			if err := c.findTopic(name, topic); err != nil {
				return nil, err
			}
		}
		c.s.st.Messages = append(c.s.st.Messages, SNSMessage{Time: c.now, Topic: topic, Subject: p.Get("Subject"), Message: msg})
		c.journal(topic)
		return []xn{tx("MessageId", fmt.Sprintf("00000000-0000-4000-9000-%012d", c.s.st.next()))}, nil
	},
}

// snsPageLimits: ListTopics answers "a limited list of topics, up to 100" per call, with a
// NextToken for the rest (ListTopics, botocore sns/2010-03-31/service-2.json).
var snsPageLimits = pageLimits{min: 100, max: 100, def: 100}

// snsListTopics lists the region's topics, by ARN, 100 a page.
func snsListTopics(c *call, p url.Values) ([]xn, error) {
	pg, err := parsePage("", p.Get("NextToken"), snsPageLimits, nil,
		func(string) error { return badRequest("InvalidParameter", "Invalid parameter: NextToken") })
	if err != nil {
		return nil, err
	}
	arns := sortedKeys(c.rs().Topics)
	page, next := pageOf(arns, func(a string) string { return a }, pg)
	items := make([]xn, len(page))
	for i, a := range page {
		items[i] = el("", tx("TopicArn", a))
	}
	return []xn{list("Topics", "member", items), opt("NextToken", next)}, nil
}

// findTopic resolves the topic ARN a request names in its parameter param as SNS does. A
// value that is no SNS topic ARN, and the ARN of a topic of another region, are
// InvalidParameter "Invalid parameter: TopicArn" (400): SNS answers only for the region of
// its endpoint, and callers that send another region's ARN get that error ("An error
// occurred (InvalidParameter) when calling the Publish operation: Invalid parameter:
// TopicArn", mozilla/security#8, boto/boto3#1084). A topic of another account is
// AuthorizationError (403), as IAM words a refusal: awssim's world is one account and no
// topic policy grants another. A topic of this region and account that does not exist is
// NotFound "Topic does not exist" (404).
func (c *call) findTopic(param, topicARN string) error {
	invalid := badRequest("InvalidParameter", "Invalid parameter: %s", param)
	parts := strings.SplitN(topicARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "sns" || parts[3] == "" ||
		!accountID.MatchString(parts[4]) || parts[5] == "" || strings.Contains(parts[5], ":") {
		return invalid
	}
	if parts[3] != c.region {
		return invalid
	}
	if parts[4] != c.account() {
		return errf(http.StatusForbidden, "AuthorizationError",
			"User: %s is not authorized to perform: SNS:%s on resource: %s because no resource-based policy allows the SNS:%s action",
			c.callerARN(), c.op, topicARN, c.op)
	}
	if !c.rs().Topics[topicARN] {
		return notFound("NotFound", "Topic does not exist")
	}
	return nil
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// snsDefaultDeliveryPolicy is the EffectiveDeliveryPolicy of a topic with no DeliveryPolicy
// of its own: SNS's default HTTP/S retry policy, as get-topic-attributes shows it for a new
// topic (AWS CLI reference, sns get-topic-attributes example; Amazon SNS Developer Guide,
// "Amazon SNS message delivery retries").
const snsDefaultDeliveryPolicy = `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,` +
	`"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false}}`

// snsDefaultPolicy is the access policy SNS gives a new topic, in its own key order: the
// topic's owner account may do every topic action (the AWS CLI reference's
// get-topic-attributes example; Amazon SNS Developer Guide, "Example cases for Amazon SNS
// access control"). Its two %s are the topic ARN and the owner's account.
const snsDefaultPolicy = `{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow",` +
	`"Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission",` +
	`"SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"%s",` +
	`"Condition":{"StringEquals":{"AWS:SourceOwner":"%s"}}}]}`

// snsGetTopicAttributes answers the attributes SNS gives a standard topic created without
// any (GetTopicAttributes, botocore sns/2010-03-31/service-2.json, and the AWS CLI
// reference's get-topic-attributes example): TopicArn, Owner, an empty DisplayName, the
// default Policy (the owner's account may do every topic action), the subscription counts,
// and the default EffectiveDeliveryPolicy. No DeliveryPolicy, KMS key, FIFO or archive
// attribute is set, and awssim models no subscriptions, so every count is 0.
func snsGetTopicAttributes(c *call, p url.Values) ([]xn, error) {
	topic := p.Get("TopicArn")
	if topic == "" {
		return nil, badRequest("InvalidParameter", "Invalid parameter: TopicArn")
	}
	if err := c.findTopic("TopicArn", topic); err != nil {
		return nil, err
	}
	policy := fmt.Sprintf(snsDefaultPolicy, topic, c.account())
	attrs := [][2]string{
		{"Policy", policy}, {"Owner", c.account()}, {"SubscriptionsPending", "0"}, {"TopicArn", topic},
		{"EffectiveDeliveryPolicy", snsDefaultDeliveryPolicy}, {"SubscriptionsConfirmed", "0"}, {"DisplayName", ""},
		{"SubscriptionsDeleted", "0"},
	}
	entries := make([]xn, len(attrs))
	for i, a := range attrs {
		entries[i] = el("entry", tx("key", a[0]), tx("value", a[1]))
	}
	return []xn{el("Attributes", entries...)}, nil
}
