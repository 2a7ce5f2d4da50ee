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
	Tags        []tag            `json:"tags,omitempty"`
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
	"GetSecretValue":           smGet,
	"PutSecretValue":           smPut,
	"UpdateSecret":             smUpdate,
	"DescribeSecret":           smDescribe,
	"UpdateSecretVersionStage": smUpdateStage,
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
	out := map[string]any{"ARN": s.ARN, "Name": s.Name, "Description": s.Description,
		"CreatedDate": epoch(s.Created), "LastChangedDate": epoch(s.Changed), "VersionIdsToStages": stages}
	// DescribeSecret is where Secrets Manager returns a secret's tags (API reference,
	// DescribeSecretResponse Tags).
	if len(s.Tags) > 0 {
		tags := make([]map[string]string, len(s.Tags))
		for i, t := range s.Tags {
			tags[i] = map[string]string{"Key": t.Key, "Value": t.Value}
		}
		out["Tags"] = tags
	}
	return out, nil
}

// smUpdateStage moves or removes a staging label with Secrets Manager's rules: a label is on
// at most one version; moving a label that some version holds needs RemoveFromVersionId to
// name that version; AWSCURRENT can be moved but not removed; moving AWSCURRENT also moves
// AWSPREVIOUS to the version that lost AWSCURRENT. Moving a label onto the version that
// already holds it changes nothing and is not journaled.
func smUpdateStage(c *call) (any, error) {
	var in struct {
		SecretID            string `json:"SecretId"`
		VersionStage        string
		MoveToVersionID     string `json:"MoveToVersionId"`
		RemoveFromVersionID string `json:"RemoveFromVersionId"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	s, err := c.findSecret(in.SecretID)
	if err != nil {
		return nil, err
	}
	if in.VersionStage == "" {
		return nil, badRequest("InvalidParameterException", "You must provide a value for VersionStage.")
	}
	if in.MoveToVersionID == "" && in.RemoveFromVersionID == "" {
		return nil, badRequest("InvalidParameterException", "You must provide MoveToVersionId, RemoveFromVersionId, or both.")
	}
	version := func(field, id string) (*secretVersion, error) {
		for _, v := range s.Versions {
			if v.ID == id {
				return v, nil
			}
		}
		return nil, badRequest("ResourceNotFoundException", "Secrets Manager can't find the version %s given as %s of secret %s.", id, field, s.Name)
	}
	var to, from *secretVersion
	if in.MoveToVersionID != "" {
		if to, err = version("MoveToVersionId", in.MoveToVersionID); err != nil {
			return nil, err
		}
	}
	if in.RemoveFromVersionID != "" {
		if from, err = version("RemoveFromVersionId", in.RemoveFromVersionID); err != nil {
			return nil, err
		}
	}
	var holder *secretVersion
	for _, v := range s.Versions {
		if slices.Contains(v.Stages, in.VersionStage) {
			holder = v
		}
	}
	out := map[string]any{"ARN": s.ARN, "Name": s.Name}
	if from != nil && from != holder {
		return nil, badRequest("InvalidParameterException",
			"The parameter RemoveFromVersionId doesn't match the version that holds staging label %s.", in.VersionStage)
	}
	if to == nil {
		// Remove only.
		if in.VersionStage == "AWSCURRENT" {
			return nil, badRequest("InvalidParameterException",
				"You can't remove the staging label AWSCURRENT (given RemoveFromVersionId); move it to another version with MoveToVersionId instead.")
		}
		from.Stages = withoutStage(from.Stages, in.VersionStage)
		s.Changed = c.now
		c.journal(s.Name)
		return out, nil
	}
	if holder == to {
		return out, nil // already there
	}
	if holder != nil && from == nil {
		return nil, badRequest("InvalidParameterException",
			"The parameter RemoveFromVersionId can't be empty. Staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.",
			in.VersionStage, holder.ID)
	}
	if holder != nil {
		holder.Stages = withoutStage(holder.Stages, in.VersionStage)
	}
	to.Stages = append(to.Stages, in.VersionStage)
	if in.VersionStage == "AWSCURRENT" && holder != nil {
		for _, v := range s.Versions {
			v.Stages = withoutStage(v.Stages, "AWSPREVIOUS")
		}
		holder.Stages = append(holder.Stages, "AWSPREVIOUS")
	}
	s.Changed = c.now
	c.journal(s.Name)
	return out, nil
}

// withoutStage returns stages without label, in a fresh slice.
func withoutStage(stages []string, label string) []string {
	return slices.DeleteFunc(slices.Clone(stages), func(st string) bool { return st == label })
}
