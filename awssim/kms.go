package awssim

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// kmsOps are the KMS actions (awsJson1_1, target TrentService.*). awssim models no key
// material: DescribeKey tells whether a region holds a key, which is what readiness asks
// (the key a region's snapshot copies are encrypted with must exist there).
var kmsOps = map[string]jsonOp{
	"DescribeKey": kmsDescribe,
}

// kmsKeyEpoch is the CreationDate of every simulated key: the world models no key's age.
var kmsKeyEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// findKMSKey resolves a KeyId as KMS takes it — "key ID, key ARN, alias name, or alias ARN"
// (DescribeKey, botocore kms/2014-11-01/service-2.json) — among the call's region's keys.
// A key or alias ARN of another region or account names no key here.
func (c *call) findKMSKey(ref string) (*kmsKey, error) {
	if ref == "" {
		return nil, badRequest("ValidationException", "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	}
	k, alias := c.keyInRegion(ref)
	if k != nil {
		return k, nil
	}
	if alias != "" {
		return nil, badRequest("NotFoundException", "Alias %s is not found.", c.arn("kms", c.region, alias))
	}
	return nil, badRequest("NotFoundException", "Invalid keyId %s", ref)
}

// keyInRegion finds the key ref names among the call's region's keys: a key ID or alias
// name, or the key or alias ARN of this region and account (an ARN of another names none).
// It returns nil when no key matches, and alias when ref named an alias of this region.
func (c *call) keyInRegion(ref string) (k *kmsKey, alias string) {
	id := ref
	if rest, ok := strings.CutPrefix(ref, "arn:aws:kms:"); ok {
		parts := strings.SplitN(rest, ":", 3) // region, account, key/ID or alias/NAME
		id = ""
		if len(parts) == 3 && parts[0] == c.region && parts[1] == c.account() {
			if k, ok := strings.CutPrefix(parts[2], "key/"); ok {
				id = k
			} else if strings.HasPrefix(parts[2], "alias/") {
				alias = parts[2]
			}
		}
	} else if strings.HasPrefix(ref, "alias/") {
		id, alias = "", ref
	}
	for _, k := range c.rs().KMSKeys {
		if id != "" && k.ID == id || alias != "" && slices.Contains(k.Aliases, alias) {
			return k, alias
		}
	}
	return nil, alias
}

func kmsDescribe(c *call) (any, error) {
	var in struct {
		KeyID string `json:"KeyId"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	k, err := c.findKMSKey(in.KeyID)
	if err != nil {
		return nil, err
	}
	manager, desc := "CUSTOMER", ""
	if k.Managed {
		manager, desc = "AWS", "Default key that protects my RDS database volumes when no other key is defined"
		if slices.Contains(k.Aliases, backupKeyAlias) {
			desc = backupKeyDescription
		}
	}
	return map[string]any{"KeyMetadata": map[string]any{
		"AWSAccountId":          c.account(),
		"Arn":                   c.arn("kms", c.region, "key/"+k.ID),
		"CreationDate":          json.Number(strconv.FormatInt(kmsKeyEpoch.Unix(), 10)),
		"CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
		"Description":           desc,
		"Enabled":               true,
		"EncryptionAlgorithms":  []string{"SYMMETRIC_DEFAULT"},
		"KeyId":                 k.ID,
		"KeyManager":            manager,
		"KeySpec":               "SYMMETRIC_DEFAULT",
		"KeyState":              "Enabled",
		"KeyUsage":              "ENCRYPT_DECRYPT",
		"MultiRegion":           false,
		"Origin":                "AWS_KMS",
	}}, nil
}
