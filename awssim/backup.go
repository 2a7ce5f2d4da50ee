package awssim

import (
	"fmt"
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
}

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
	{"GET", "/backup-vaults/{name}/recovery-points", "ListRecoveryPointsByBackupVault", backupListPoints},
	{"PUT", "/restore-jobs", "StartRestoreJob", backupStartRestore},
	{"GET", "/restore-jobs/{id}", "DescribeRestoreJob", backupDescribeRestore},
}

func vaultARN(region, name string) string { return arn("backup", region, "backup-vault:"+name) }

func backupListPoints(c *call, p map[string]string) (any, error) {
	pts, ok := c.rs().Vaults[p["name"]]
	if !ok {
		return nil, notFound("ResourceNotFoundException", "Backup vault %s does not exist.", p["name"])
	}
	typ := c.r.URL.Query().Get("resourceType")
	out := []any{}
	for _, rp := range pts {
		if typ != "" && rp.Type != typ {
			continue
		}
		out = append(out, map[string]any{
			"RecoveryPointArn": rp.ARN, "BackupVaultName": rp.Vault, "BackupVaultArn": vaultARN(c.region, rp.Vault),
			"ResourceArn": rp.Resource, "ResourceType": rp.Type, "CreationDate": epoch(rp.Created),
			"CompletionDate": epoch(rp.Created.Add(20 * time.Minute)), "Status": "COMPLETED",
			"BackupSizeInBytes": rp.SizeBytes, "IsEncrypted": true, "SourceBackupVaultArn": rp.SourceARN,
			"IamRoleArn": "arn:aws:iam::" + AccountID + ":role/AWSBackupDefaultServiceRole",
		})
	}
	return map[string]any{"RecoveryPoints": out}, nil
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
		RecoveryPointArn string
		Metadata         map[string]string
		IamRoleArn       string
		IdempotencyToken string
		ResourceType     string
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
		return nil, badRequest("ResourceNotFoundException", "Recovery point %s not found.", in.RecoveryPointArn)
	}
	n := c.s.st.next()
	fsID := fmt.Sprintf("fs-%017x", 0xd0000+n)
	if in.Metadata["newFileSystem"] == "false" && in.Metadata["file-system-id"] != "" {
		fsID = in.Metadata["file-system-id"]
	}
	d := c.s.dur(c.service, OpStartRestoreJob)
	j := &restoreJob{ID: fmt.Sprintf("SIM-RESTORE-%08d", n), Token: in.IdempotencyToken, Point: rp.ARN,
		Role: in.IamRoleArn, Created: c.now, Done: c.now.Add(d),
		Resource: arn("elasticfilesystem", c.region, "file-system/"+fsID)}
	j.Status.then(c.now, d, []string{"PENDING", "RUNNING", "COMPLETED"}, []float64{0.1})
	c.rs().RestoreJobs[j.ID] = j
	if _, ok := c.rs().FileSystems[fsID]; !ok {
		fs := &fileSystem{ID: fsID, Name: "kaigo-subsys-restored", Token: j.ID, Created: c.now}
		fs.Status.then(c.now, d, []string{"creating", "available"}, nil)
		c.rs().FileSystems[fsID] = fs
	}
	c.journal(j.ID)
	return map[string]any{"RestoreJobId": j.ID}, nil
}

func backupDescribeRestore(c *call, p map[string]string) (any, error) {
	j := c.rs().RestoreJobs[p["id"]]
	if j == nil {
		return nil, notFound("ResourceNotFoundException", "Restore job %s not found.", p["id"])
	}
	st := j.Status.at(c.now)
	out := map[string]any{"RestoreJobId": j.ID, "AccountId": AccountID, "RecoveryPointArn": j.Point,
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
