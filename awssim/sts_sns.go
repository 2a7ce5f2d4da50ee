package awssim

import (
	"fmt"
	"net/url"
	"time"
)

// stsOps and snsOps are awsQuery. SNS keeps published messages for Sim.Published.
var stsOps = map[string]queryOp{
	"GetCallerIdentity": func(c *call, _ url.Values) ([]xn, error) {
		return []xn{tx("Arn", "arn:aws:iam::"+AccountID+":user/kirikae-sim"), tx("UserId", "AIDASIMULATEDUSER0001"), tx("Account", AccountID)}, nil
	},
}

// SNSMessage is one message published to a simulated SNS topic.
type SNSMessage struct {
	Time    time.Time `json:"time"`
	Topic   string    `json:"topic"`
	Subject string    `json:"subject"`
	Message string    `json:"message"`
}

var snsOps = map[string]queryOp{
	"Publish": func(c *call, p url.Values) ([]xn, error) {
		msg, err := param(p, "Message")
		if err != nil {
			return nil, err
		}
		topic := p.Get("TopicArn")
		if topic == "" {
			topic = p.Get("TargetArn")
		}
		if topic == "" && p.Get("PhoneNumber") == "" {
			return nil, badRequest("InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
		}
		if topic != "" && !c.rs().Topics[topic] {
			return nil, notFound("NotFound", "Topic does not exist")
		}
		c.s.st.Messages = append(c.s.st.Messages, SNSMessage{Time: c.now, Topic: topic, Subject: p.Get("Subject"), Message: msg})
		c.journal(topic)
		return []xn{tx("MessageId", fmt.Sprintf("00000000-0000-4000-9000-%012d", c.s.st.next()))}, nil
	},
}
