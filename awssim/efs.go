package awssim

import (
	"net/http"
	"strings"
	"time"
)

type fileSystem struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"` // the Name tag of a state file written before Tags
	Token   string    `json:"token"`
	Created time.Time `json:"created"`
	Status  timeline  `json:"status"`
	Tags    []tag     `json:"tags,omitempty"`
}

// tags are the file system's tags; its Name is the Name tag's value, as on EFS.
func (fs *fileSystem) tags() []tag {
	if fs.Tags == nil && fs.Name != "" {
		return []tag{{Key: "Name", Value: fs.Name}}
	}
	return fs.Tags
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

// efsDescribe pages with MaxItems (at least 1; 100 without it) and Marker, answering
// NextMarker (API reference, DescribeFileSystems), and returns each file system's tags,
// its Name being the Name tag's value.
func efsDescribe(c *call, _ map[string]string) (any, error) {
	q := c.r.URL.Query()
	pg, err := parsePage(q.Get("MaxItems"), q.Get("Marker"), pageLimits{min: 1, def: 100},
		func(v string) error {
			return badRequest("BadRequest", "MaxItems must be an integer of at least 1, not %q.", v)
		},
		func(v string) error { return badRequest("BadRequest", "Marker %q is not valid.", v) })
	if err != nil {
		return nil, err
	}
	id, token := q.Get("FileSystemId"), q.Get("CreationToken")
	var rows []*fileSystem
	for _, k := range sortedKeys(c.rs().FileSystems) {
		fs := c.rs().FileSystems[k]
		st := fs.Status.at(c.now)
		if st == "" || id != "" && fs.ID != id && !strings.HasSuffix(id, "/"+fs.ID) || token != "" && fs.Token != token {
			continue
		}
		rows = append(rows, fs)
	}
	if id != "" && len(rows) == 0 {
		return nil, efsNotFound(id)
	}
	page, next := pageOf(rows, func(fs *fileSystem) string { return fs.ID }, pg)
	out := []any{}
	for _, fs := range page {
		tags, name := []map[string]string{}, ""
		for _, t := range fs.tags() {
			tags = append(tags, map[string]string{"Key": t.Key, "Value": t.Value})
			if t.Key == "Name" {
				name = t.Value
			}
		}
		d := map[string]any{
			"OwnerId": c.account(), "CreationToken": fs.Token, "FileSystemId": fs.ID,
			"FileSystemArn": c.arn("elasticfilesystem", c.region, "file-system/"+fs.ID), "CreationTime": epoch(fs.Created),
			"LifeCycleState": fs.Status.at(c.now), "NumberOfMountTargets": 0,
			"SizeInBytes":     efsSize(c.now),
			"PerformanceMode": "generalPurpose", "Encrypted": true, "ThroughputMode": "bursting",
			"Tags": tags,
		}
		if name != "" {
			d["Name"] = name
		}
		out = append(out, d)
	}
	res := map[string]any{"FileSystems": out}
	if m := q.Get("Marker"); m != "" {
		res["Marker"] = m
	}
	if next != "" {
		res["NextMarker"] = next
	}
	return res, nil
}

// efsSimSize is the metered size awssim gives every file system: 1 GiB, all of it in the
// Standard storage class.
const efsSimSize = 1 << 30

// efsSize is a file system's SizeInBytes: the metered size in total (Value) and in each
// storage class, ValueInIA and ValueInStandard (API reference, FileSystemSize:
// https://docs.aws.amazon.com/efs/latest/ug/API_FileSystemSize.html; the AWS CLI's example
// describe-file-systems, aws/aws-cli awscli/examples/efs/describe-file-systems.rst, shows
// "ValueInIA": 0 and "ValueInStandard" equal to Value). awssim models no lifecycle
// policy, so nothing moves to Infrequent Access.
func efsSize(now time.Time) map[string]any {
	return map[string]any{"Value": efsSimSize, "ValueInIA": 0, "ValueInStandard": efsSimSize, "Timestamp": epoch(now)}
}

func efsNotFound(id string) error {
	return notFound("FileSystemNotFound", "File system '%s' does not exist.", id)
}
