package awssim

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

type recoveryPt struct {
	ARN        string    `json:"arn"`
	Vault      string    `json:"vault"`
	Resource   string    `json:"resource"`
	Type       string    `json:"type"`
	Created    time.Time `json:"created"`
	SourceARN  string    `json:"sourceARN"`
	SizeBytes  int64     `json:"sizeBytes"`
	FileSystem string    `json:"fileSystem"`
	// Tags are the backed-up resource's tags when the backup was taken, which a restore
	// with CopySourceTagsToRestoredResource gives the restored resource.
	Tags []tag `json:"tags,omitempty"`
	// Role is the name of the IAM role that copied it into the vault (IamRoleArn);
	// empty is defaultBackupRole.
	Role string `json:"role,omitempty"`
}

// defaultBackupRole is the role AWS Backup creates for itself in an account and uses when
// no other is named ("AWSBackupDefaultServiceRole", AWS Backup Developer Guide, "Default
// service role for AWS Backup").
const defaultBackupRole = "AWSBackupDefaultServiceRole"

type restoreJob struct {
	ID       string    `json:"id"`
	Token    string    `json:"token"`
	Point    string    `json:"point"`
	Role     string    `json:"role"`
	Created  time.Time `json:"created"`
	Done     time.Time `json:"done"`
	Resource string    `json:"resource"`
	Status   timeline  `json:"status"`
}

// backupRoutes are the AWS Backup operations (restJson1). A restore job creates the EFS file
// system it restores into, which becomes available when the job completes.
var backupRoutes = []route{
	{"GET", "/backup-vaults/", "ListBackupVaults", backupListVaults},
	{"GET", "/backup-vaults/{name}/recovery-points", "ListRecoveryPointsByBackupVault", backupListPoints},
	{"PUT", "/restore-jobs", "StartRestoreJob", backupStartRestore},
	{"GET", "/restore-jobs/{id}", "DescribeRestoreJob", backupDescribeRestore},
}

// backupNotFound is AWS Backup's ResourceNotFoundException, which AWS sends with HTTP 400:
// the API reference's error table gives it "HTTP Status Code: 400" for every operation
// (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeRestoreJob.html,
// API_ListRecoveryPointsByBackupVault.html, API_StartRestoreJob.html), and the botocore model
// (backup/2018-11-15/service-2.json) gives the exception no httpStatusCode, so 400, a client
// error's default.
func backupNotFound(format string, args ...any) error {
	return badRequest("ResourceNotFoundException", format, args...)
}

func (w *world) vaultARN(region, name string) string {
	return w.arn("backup", region, "backup-vault:"+name)
}

// backupKeyAlias is the AWS managed key AWS Backup encrypts a vault with when
// CreateBackupVault names none: "If you do not specify a key, Backup creates a KMS key for
// you by default" (BackupVaultListMember.EncryptionKeyArn, botocore
// backup/2018-11-15/service-2.json). Its description is the one AWS gives it.
const (
	backupKeyAlias       = "alias/aws/backup"
	backupKeyDescription = "Default key that protects my Backup data when no other key is defined"
)

// backupAccountDefaults gives a region that holds a vault what AWS Backup keeps in the
// account there: its AWS managed key, which the vaults the system file names are
// encrypted with (the file names no vault key).
func backupAccountDefaults(rs *regionState, octet int) {
	for _, k := range rs.KMSKeys {
		if slices.Contains(k.Aliases, backupKeyAlias) {
			return
		}
	}
	rs.KMSKeys = append(rs.KMSKeys, &kmsKey{ID: fmt.Sprintf("a1b2c3d4-%04x-4000-8000-00000000bac0", octet),
		Aliases: []string{backupKeyAlias}, Managed: true})
}

// backupVaultEpoch is the CreationDate of every simulated vault: the world models no
// vault's age, as it models no key's (kmsKeyEpoch).
var backupVaultEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// vaultTypes are ListBackupVaults' vaultType values (VaultType, botocore
// backup/2018-11-15/service-2.json). Every simulated vault is a BACKUP_VAULT.
var vaultTypes = []string{"BACKUP_VAULT", "LOGICALLY_AIR_GAPPED_BACKUP_VAULT", "RESTORE_ACCESS_BACKUP_VAULT"}

// backupListVaults lists the region's vaults by name, paged with maxResults (1 to 1000;
// everything without it) and nextToken, and takes the filters ListBackupVaults documents:
// vaultType, and shared, which with true asks for the vaults other accounts share with this
// one (awssim's world is one account, so there are none). Each vault is as AWS answers a
// standard one: VaultType BACKUP_VAULT (no VaultState, which tracks the creation of a
// logically air-gapped vault), its key, the CreatorRequestId the SDK or CLI that created it
// filled in, the number of recovery points, and Locked false with no lock settings (no
// Vault Lock is modelled).
func backupListVaults(c *call, _ map[string]string) (any, error) {
	q := c.r.URL.Query()
	pg, err := backupPage(q)
	if err != nil {
		return nil, err
	}
	none := false
	if v := q.Get("vaultType"); v != "" {
		if !slices.Contains(vaultTypes, v) {
			return nil, badRequest("InvalidParameterValueException", "vaultType %q is not one of %s.", v, strings.Join(vaultTypes, ", "))
		}
		none = v != "BACKUP_VAULT"
	}
	if v := q.Get("shared"); v != "" {
		shared, err := strconv.ParseBool(v)
		if err != nil {
			return nil, badRequest("InvalidParameterValueException", "shared %q is not a boolean.", v)
		}
		none = none || shared
	}
	var names []string
	if !none {
		names = sortedKeys(c.rs().Vaults)
	}
	page, next := pageOf(names, func(n string) string { return n }, pg)
	key := ""
	for _, k := range c.rs().KMSKeys {
		if k.Managed && slices.Contains(k.Aliases, backupKeyAlias) {
			key = c.arn("kms", c.region, "key/"+k.ID)
		}
	}
	out := []any{}
	for _, name := range page {
		v := map[string]any{
			"BackupVaultName": name, "BackupVaultArn": c.s.st.vaultARN(c.region, name), "VaultType": "BACKUP_VAULT",
			"CreationDate": epoch(backupVaultEpoch), "NumberOfRecoveryPoints": len(c.rs().Vaults[name]), "Locked": false,
			"CreatorRequestId": fmt.Sprintf("%08x-0000-4000-8000-%012x", hash32(c.region+"/"+name), c.s.st.octet(c.region)),
		}
		if key != "" {
			v["EncryptionKeyArn"] = key
		}
		out = append(out, v)
	}
	res := map[string]any{"BackupVaultList": out}
	if next != "" {
		res["NextToken"] = next
	}
	return res, nil
}

// backupPage reads the maxResults (1 to 1000) and nextToken every Backup list takes.
func backupPage(q url.Values) (pageReq, error) {
	return parsePage(q.Get("maxResults"), q.Get("nextToken"), pageLimits{min: 1, max: 1000},
		func(v string) error {
			return badRequest("InvalidParameterValueException", "maxResults must be between 1 and 1000, not %s.", v)
		},
		func(v string) error {
			return badRequest("InvalidParameterValueException", "nextToken %q is not valid.", v)
		})
}

// backupListPoints pages with maxResults (1 to 1000; everything without it) and nextToken
// and takes every filter ListRecoveryPointsByBackupVault documents: resourceType,
// resourceArn, createdBefore, createdAfter, backupPlanId and parentRecoveryPointArn (API
// reference). awssim's recovery points were copied into the vault, so none has a backup
// plan or a parent: those two filters match nothing.
func backupListPoints(c *call, p map[string]string) (any, error) {
	q := c.r.URL.Query()
	pg, err := backupPage(q)
	if err != nil {
		return nil, err
	}
	var before, after time.Time
	for name, t := range map[string]*time.Time{"createdBefore": &before, "createdAfter": &after} {
		if v := q.Get(name); v != "" {
			if *t, err = parseQueryTime(v); err != nil {
				return nil, badRequest("InvalidParameterValueException", "%s %q is not a timestamp.", name, v)
			}
		}
	}
	pts, ok := c.rs().Vaults[p["name"]]
	if !ok {
		return nil, backupNotFound("Backup vault %s does not exist.", p["name"])
	}
	typ, resARN := q.Get("resourceType"), q.Get("resourceArn")
	none := q.Get("backupPlanId") != "" || q.Get("parentRecoveryPointArn") != ""
	var rows []*recoveryPt
	for _, rp := range pts {
		if none || typ != "" && rp.Type != typ || resARN != "" && rp.Resource != resARN ||
			!before.IsZero() && !rp.Created.Before(before) || !after.IsZero() && !rp.Created.After(after) {
			continue
		}
		rows = append(rows, rp)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ARN < rows[j].ARN })
	page, next := pageOf(rows, func(rp *recoveryPt) string { return rp.ARN }, pg)
	out := []any{}
	for _, rp := range page {
		out = append(out, map[string]any{
			"RecoveryPointArn": rp.ARN, "BackupVaultName": rp.Vault, "BackupVaultArn": c.s.st.vaultARN(c.region, rp.Vault),
			"ResourceArn": rp.Resource, "ResourceType": rp.Type, "CreationDate": epoch(rp.Created),
			"CompletionDate": epoch(rp.Created.Add(20 * time.Minute)), "Status": "COMPLETED",
			"BackupSizeInBytes": rp.SizeBytes, "IsEncrypted": true, "SourceBackupVaultArn": rp.SourceARN,
			"IamRoleArn": "arn:aws:iam::" + c.account() + ":role/" + cmp.Or(rp.Role, defaultBackupRole),
		})
	}
	res := map[string]any{"RecoveryPoints": out}
	if next != "" {
		res["NextToken"] = next
	}
	return res, nil
}

// parseQueryTime reads a timestamp of a query string: ISO 8601, as the SDKs and the AWS CLI
// send it, or epoch seconds.
func parseQueryTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q: %w", v, err)
	}
	return time.UnixMilli(int64(f * 1000)).UTC(), nil
}

func (c *call) findPoint(pointARN string) *recoveryPt {
	for _, pts := range c.rs().Vaults {
		for _, rp := range pts {
			if rp.ARN == pointARN {
				return rp
			}
		}
	}
	return nil
}

func backupStartRestore(c *call, _ map[string]string) (any, error) {
	var in struct {
		RecoveryPointArn                 string
		Metadata                         map[string]string
		IamRoleArn                       string
		IdempotencyToken                 string
		ResourceType                     string
		CopySourceTagsToRestoredResource bool
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	if in.RecoveryPointArn == "" {
		return nil, badRequest("MissingParameterValueException", "RecoveryPointArn is required.")
	}
	if in.Metadata == nil {
		return nil, badRequest("MissingParameterValueException", "Metadata is required.")
	}
	if in.IdempotencyToken != "" {
		for _, j := range c.rs().RestoreJobs {
			if j.Token == in.IdempotencyToken {
				return map[string]any{"RestoreJobId": j.ID}, nil
			}
		}
	}
	rp := c.findPoint(in.RecoveryPointArn)
	if rp == nil {
		return nil, backupNotFound("Recovery point %s not found.", in.RecoveryPointArn)
	}
	n := c.s.st.next()
	fsID := fmt.Sprintf("fs-%017x", 0xd0000+n)
	if in.Metadata["newFileSystem"] == "false" && in.Metadata["file-system-id"] != "" {
		fsID = in.Metadata["file-system-id"]
	}
	d := c.s.dur(c.service, OpStartRestoreJob)
	j := &restoreJob{ID: fmt.Sprintf("SIM-RESTORE-%08d", n), Token: in.IdempotencyToken, Point: rp.ARN,
		Role: in.IamRoleArn, Created: c.now, Done: c.now.Add(d),
		Resource: c.arn("elasticfilesystem", c.region, "file-system/"+fsID)}
	j.Status.then(c.now, d, []string{"PENDING", "RUNNING", "COMPLETED"}, []float64{0.1})
	c.rs().RestoreJobs[j.ID] = j
	if _, ok := c.rs().FileSystems[fsID]; !ok {
		// A new file system takes the metadata's CreationToken, and the tags of the backup
		// only with CopySourceTagsToRestoredResource ("tags included in the backup will be
		// copied to the restored resource", API reference); otherwise it has none, and so
		// no Name.
		fs := &fileSystem{ID: fsID, Token: cmp.Or(in.Metadata["CreationToken"], j.ID), Created: c.now, Tags: []tag{}}
		if in.CopySourceTagsToRestoredResource {
			fs.Tags = slices.Clone(rp.Tags)
		}
		fs.Status.then(c.now, d, []string{"creating", "available"}, nil)
		c.rs().FileSystems[fsID] = fs
	}
	c.journal(j.ID)
	return map[string]any{"RestoreJobId": j.ID}, nil
}

func backupDescribeRestore(c *call, p map[string]string) (any, error) {
	j := c.rs().RestoreJobs[p["id"]]
	if j == nil {
		return nil, backupNotFound("Restore job %s not found.", p["id"])
	}
	st := j.Status.at(c.now)
	out := map[string]any{"RestoreJobId": j.ID, "AccountId": c.account(), "RecoveryPointArn": j.Point,
		"CreationDate": epoch(j.Created), "Status": st, "IamRoleArn": j.Role, "ResourceType": "EFS",
		"ExpectedCompletionTimeMinutes": int(j.Done.Sub(j.Created).Minutes()), "PercentDone": "0%"}
	switch st {
	case "RUNNING":
		out["PercentDone"] = fmt.Sprintf("%d%%", int(100*c.now.Sub(j.Created)/max(j.Done.Sub(j.Created), 1)))
	case "COMPLETED":
		out["PercentDone"] = "100%"
		out["CompletionDate"] = epoch(j.Done)
		out["CreatedResourceArn"] = j.Resource
	}
	return out, nil
}
