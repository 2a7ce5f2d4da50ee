package awssim

import (
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
