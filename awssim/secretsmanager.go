package awssim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

type secret struct {
	Name        string           `json:"name"`
	ARN         string           `json:"arn"`
	Description string           `json:"description"`
	Created     time.Time        `json:"created"`
	Changed     time.Time        `json:"changed"`
	Versions    []*secretVersion `json:"versions"`
}

type secretVersion struct {
	ID      string    `json:"id"`
	Value   string    `json:"value"`
	Created time.Time `json:"created"`
	Stages  []string  `json:"stages"`
}

// secretsOps are the Secrets Manager actions (awsJson1_1). Secrets exist only from the
// fixture; the runbook updates them, it never creates them.
var secretsOps = map[string]jsonOp{
	"GetSecretValue": smGet,
	"PutSecretValue": smPut,
	"UpdateSecret":   smUpdate,
	"DescribeSecret": smDescribe,
}

func (c *call) findSecret(id string) (*secret, error) {
	if id == "" {
		return nil, badRequest("InvalidParameterException", "You must provide a value for SecretId.")
	}
	for _, s := range c.rs().Secrets {
		if s.Name == id || s.ARN == id || strings.HasPrefix(s.ARN, id+"-") && strings.HasPrefix(id, "arn:") {
			return s, nil
		}
	}
	return nil, badRequest("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

func smGet(c *call) (any, error) {
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionID    string `json:"VersionId"`
		VersionStage string `json:"VersionStage"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	s, err := c.findSecret(in.SecretID)
	if err != nil {
		return nil, err
	}
	stage := in.VersionStage
	if stage == "" && in.VersionID == "" {
		stage = "AWSCURRENT"
	}
	for _, v := range s.Versions {
		if (in.VersionID == "" || v.ID == in.VersionID) && (stage == "" || slices.Contains(v.Stages, stage)) {
			return map[string]any{"ARN": s.ARN, "Name": s.Name, "VersionId": v.ID, "SecretString": v.Value,
				"VersionStages": v.Stages, "CreatedDate": epoch(v.Created)}, nil
		}
	}
	return nil, badRequest("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: %s", stage)
}

// putVersion adds a version as AWSCURRENT. A repeated ClientRequestToken with the same value
// is a no-op, as in AWS; with a different value it is ResourceExistsException.
func (c *call) putVersion(s *secret, token, value string) (*secretVersion, error) {
	for _, v := range s.Versions {
		if token != "" && v.ID == token {
			if v.Value == value {
				return v, nil
			}
			return nil, badRequest("ResourceExistsException", "A resource with the ID you requested already exists.")
		}
	}
	if token == "" {
		token = fmt.Sprintf("00000000-0000-4000-a000-%012d", c.s.st.next())
	}
	for _, v := range s.Versions {
		if slices.Contains(v.Stages, "AWSCURRENT") {
			v.Stages = []string{"AWSPREVIOUS"}
		} else {
			v.Stages = slices.DeleteFunc(v.Stages, func(st string) bool { return st == "AWSPREVIOUS" })
		}
	}
	v := &secretVersion{ID: token, Value: value, Created: c.now, Stages: []string{"AWSCURRENT"}}
	s.Versions = append(s.Versions, v)
	s.Changed = c.now
	c.journal(s.Name)
	return v, nil
}

func smPut(c *call) (any, error) {
	var in struct {
		SecretID     string `json:"SecretId"`
		SecretString *string
		SecretBinary []byte
		Token        string `json:"ClientRequestToken"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	s, err := c.findSecret(in.SecretID)
	if err != nil {
		return nil, err
	}
	if in.SecretString == nil && in.SecretBinary == nil {
		return nil, badRequest("InvalidParameterException", "You must provide either SecretString or SecretBinary.")
	}
	val := string(in.SecretBinary)
	if in.SecretString != nil {
		val = *in.SecretString
	}
	v, err := c.putVersion(s, in.Token, val)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ARN": s.ARN, "Name": s.Name, "VersionId": v.ID, "VersionStages": v.Stages}, nil
}

func smUpdate(c *call) (any, error) {
	var in struct {
		SecretID     string `json:"SecretId"`
		SecretString *string
		Description  *string
		Token        string `json:"ClientRequestToken"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	s, err := c.findSecret(in.SecretID)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"ARN": s.ARN, "Name": s.Name}
	if in.Description != nil {
		s.Description = *in.Description
		s.Changed = c.now
		c.journal(s.Name)
	}
	if in.SecretString != nil {
		v, err := c.putVersion(s, in.Token, *in.SecretString)
		if err != nil {
			return nil, err
		}
		out["VersionId"] = v.ID
	}
	return out, nil
}

func smDescribe(c *call) (any, error) {
	var in struct {
		SecretID string `json:"SecretId"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	s, err := c.findSecret(in.SecretID)
	if err != nil {
		return nil, err
	}
	stages := map[string][]string{}
	for _, v := range s.Versions {
		if len(v.Stages) > 0 {
			stages[v.ID] = v.Stages
		}
	}
	return map[string]any{"ARN": s.ARN, "Name": s.Name, "Description": s.Description,
		"CreatedDate": epoch(s.Created), "LastChangedDate": epoch(s.Changed), "VersionIdsToStages": stages}, nil
}
