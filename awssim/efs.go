package awssim

import (
	"net/http"
	"strings"
	"time"
)

type fileSystem struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Token   string    `json:"token"`
	Created time.Time `json:"created"`
	Status  timeline  `json:"status"`
}

// efsRoutes are the EFS operations (restJson1).
var efsRoutes = []route{
	{"GET", "/2015-02-01/file-systems", "DescribeFileSystems", efsDescribe},
	{"DELETE", "/2015-02-01/file-systems/{FileSystemId}", "DeleteFileSystem", efsDelete},
}

// efsDelete removes a file system, including one an AWS Backup restore job created (still
// creating or not). EFS refuses while mount targets exist; the simulator models none, so it
// never does. AWS lists the file system as "deleting" for a few seconds; the simulator drops
// it at once, so the next DescribeFileSystems no longer shows it.
func efsDelete(c *call, p map[string]string) (any, error) {
	id := p["FileSystemId"]
	if i := strings.LastIndex(id, ":file-system/"); i >= 0 {
		id = id[i+len(":file-system/"):]
	}
	fs := c.rs().FileSystems[id]
	if fs == nil || fs.Status.at(c.now) == "" {
		return nil, efsNotFound(p["FileSystemId"])
	}
	delete(c.rs().FileSystems, id)
	c.journal(id)
	return restOut{status: http.StatusNoContent}, nil
}

func efsDescribe(c *call, _ map[string]string) (any, error) {
	q := c.r.URL.Query()
	id, token := q.Get("FileSystemId"), q.Get("CreationToken")
	out := []any{}
	for _, k := range sortedKeys(c.rs().FileSystems) {
		fs := c.rs().FileSystems[k]
		st := fs.Status.at(c.now)
		if st == "" || id != "" && fs.ID != id && !strings.HasSuffix(id, "/"+fs.ID) || token != "" && fs.Token != token {
			continue
		}
		out = append(out, map[string]any{
			"OwnerId": AccountID, "CreationToken": fs.Token, "FileSystemId": fs.ID,
			"FileSystemArn": arn("elasticfilesystem", c.region, "file-system/"+fs.ID), "CreationTime": epoch(fs.Created),
			"LifeCycleState": st, "Name": fs.Name, "NumberOfMountTargets": 0,
			"SizeInBytes":     map[string]any{"Value": 1 << 30, "Timestamp": epoch(c.now)},
			"PerformanceMode": "generalPurpose", "Encrypted": true, "ThroughputMode": "bursting",
			"Tags": []any{map[string]string{"Key": "Name", "Value": fs.Name}},
		})
	}
	if id != "" && len(out) == 0 {
		return nil, efsNotFound(id)
	}
	return map[string]any{"FileSystems": out}, nil
}

func efsNotFound(id string) error {
	return notFound("FileSystemNotFound", "File system '%s' does not exist.", id)
}
