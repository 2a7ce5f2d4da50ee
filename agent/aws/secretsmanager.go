package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
)

type (
	// SecretsAPI is what SecretPut calls.
	SecretsAPI interface {
		GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
		PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	}
	// SecretsRestoreAPI is what SecretRestoreVersion calls.
	SecretsRestoreAPI interface {
		GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
		UpdateSecretVersionStage(context.Context, *secretsmanager.UpdateSecretVersionStageInput, ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
	}
)

// stageCurrent is the staging label of a secret's current version.
const stageCurrent = "AWSCURRENT"

// SecretPut is aws.secretsmanager.put. The secret must exist (the DR secrets are built in
// advance); it writes a new AWSCURRENT version and polls with backoff until the read side
// returns it.
//
// Idempotency: when the current value already equals the new one (as JSON when `json` is
// given, so key order and spacing do not matter) nothing is written. Otherwise the write
// carries a ClientRequestToken derived from the run, the step and the value, so a repeated
// write is a no-op in Secrets Manager, even after a restart.
//
// Undo: when it wrote a new value, aws.secretsmanager.restoreVersion back to the version
// that was AWSCURRENT before. None when it wrote nothing, and none when the secret had no
// value before: Secrets Manager cannot take a secret back to having no current version
// (every version but the current one can lose its labels, the current one cannot), and the
// DR secrets are made in advance with a value anyway.
type SecretPut struct {
	Client func(region string) (SecretsAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *SecretPut) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.SecretPut)
	if err != nil {
		return nil, err
	}
	id, value, obj := in.SecretID, in.Value, in.JSON
	switch {
	case value == "" && obj == nil:
		return nil, fmt.Errorf("%w: with.value or with.json is required", action.ErrInvalidInput)
	case value != "" && obj != nil:
		return nil, fmt.Errorf("%w: give with.value or with.json, not both", action.ErrInvalidInput)
	case obj != nil:
		b, err := json.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("%w: with.json: %v", action.ErrInvalidInput, err)
		}
		value = string(b)
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "secret "+id, nil)
	equal := func(cur string) bool {
		if cur == value {
			return true
		}
		if obj == nil {
			return false
		}
		var have any
		if json.Unmarshal([]byte(cur), &have) != nil {
			return false
		}
		var want any
		_ = json.Unmarshal([]byte(value), &want)
		return reflect.DeepEqual(have, want)
	}
	cur, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil && !isCode(err, "ResourceNotFoundException") {
		return nil, fmt.Errorf("read secret %s: %w", id, err)
	}
	if err != nil && isCode(err, "ResourceNotFoundException") {
		// The secret exists but has no AWSCURRENT value yet, or does not exist: PutSecretValue
		// tells the two apart.
		cur = nil
	}
	if cur != nil && cur.SecretString != nil && equal(*cur.SecretString) {
		tr.Report("already up to date")
		return action.Outputs(catalog.SecretPut, catalog.SecretVersionOut{VersionID: aws.ToString(cur.VersionId)})
	}
	token := action.Token(step, true, "secret", id, value)
	tr.Report("writing")
	put, err := api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(id), SecretString: aws.String(value), ClientRequestToken: aws.String(token),
	})
	if err != nil {
		return nil, fmt.Errorf("write secret %s: %w", id, err)
	}
	version := aws.ToString(put.VersionId)
	prev := ""
	if cur != nil {
		prev = aws.ToString(cur.VersionId)
	}
	// No undo when there was no value before (see the type's doc).
	if prev != "" && prev != version {
		step.Undo.Add(action.Undo{
			Action: catalog.SecretRestoreVersion.Name,
			With:   map[string]any{"secretId": id, "versionId": prev},
			Note:   "make version " + prev + " of secret " + id + " current again (replaced by this run)",
		})
	}
	err = action.Poll(ctx, e.Opts.backoff(), func(ctx context.Context) (bool, error) {
		got, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			return false, fmt.Errorf("read back secret %s: %w", id, err)
		}
		if aws.ToString(got.VersionId) == version && got.SecretString != nil && equal(*got.SecretString) {
			return true, nil
		}
		tr.Report("waiting for version " + version + " to become AWSCURRENT")
		return false, nil
	})
	if err != nil {
		return nil, waitErr("secret "+id+" version "+version, err)
	}
	return action.Outputs(catalog.SecretPut, catalog.SecretVersionOut{VersionID: version})
}

// SecretRestoreVersion is aws.secretsmanager.restoreVersion, the undo of a secret write: it
// moves AWSCURRENT back to versionId with UpdateSecretVersionStage (the version it takes the
// label from becomes AWSPREVIOUS) and polls with backoff until the read side returns it.
//
// Idempotency: when versionId already is AWSCURRENT nothing is called.
type SecretRestoreVersion struct {
	Client func(region string) (SecretsRestoreAPI, error)
	Opts   Options
}

// Execute runs the step.
func (e *SecretRestoreVersion) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.SecretRestoreVersion)
	if err != nil {
		return nil, err
	}
	id, version := in.SecretID, in.VersionID
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "secret "+id, nil)
	current := func(ctx context.Context) (string, error) {
		cur, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if isCode(err, "ResourceNotFoundException") {
			return "", nil // no current version (or no secret: UpdateSecretVersionStage says which)
		}
		if err != nil {
			return "", fmt.Errorf("read secret %s: %w", id, err)
		}
		return aws.ToString(cur.VersionId), nil
	}
	cur, err := current(ctx)
	if err != nil {
		return nil, err
	}
	if cur == version {
		tr.Report("version " + version + " is already current")
		return action.Outputs(catalog.SecretRestoreVersion, catalog.SecretVersionOut{VersionID: version})
	}
	tr.Report("making version " + version + " current again")
	req := &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(id), VersionStage: aws.String(stageCurrent), MoveToVersionId: aws.String(version),
	}
	if cur != "" {
		req.RemoveFromVersionId = aws.String(cur)
	}
	if _, err := api.UpdateSecretVersionStage(ctx, req); err != nil {
		return nil, fmt.Errorf("make version %s of secret %s current: %w", version, id, err)
	}
	err = action.Poll(ctx, e.Opts.backoff(), func(ctx context.Context) (bool, error) {
		cur, err := current(ctx)
		if err != nil {
			return false, err
		}
		if cur == version {
			return true, nil
		}
		tr.Report("waiting for version " + version + " to become AWSCURRENT")
		return false, nil
	})
	if err != nil {
		return nil, waitErr("secret "+id+" version "+version, err)
	}
	return action.Outputs(catalog.SecretRestoreVersion, catalog.SecretVersionOut{VersionID: version})
}
