package awssim

import (
	"cmp"
	"net/http"
	"strings"
)

type bucket struct {
	Region      string `json:"region"`
	Destination string `json:"destination"`
	Role        string `json:"role"`
	KmsKey      string `json:"kmsKey"`
	// RuleID is the replication rule's ID; empty (a state file written before it) is
	// "replication".
	RuleID string `json:"ruleID,omitempty"`
}

// s3Bucket is the bucket of an S3 request, path-style or virtual-hosted.
func s3Bucket(c *call) string {
	if path := strings.Trim(c.r.URL.Path, "/"); path != "" {
		b, _, _ := strings.Cut(path, "/")
		return b
	}
	host := c.r.Host
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	if b, rest, ok := strings.Cut(host, "."); ok && rest != "" {
		return b
	}
	return ""
}

func s3Protocol() protocol {
	const ns = "http://s3.amazonaws.com/doc/2006-03-01/"
	return protocol{
		operation: func(c *call) string {
			if c.r.Method == http.MethodGet && c.r.URL.Query().Has("replication") {
				return "GetBucketReplication"
			}
			return ""
		},
		dispatch: func(c *call) (any, error) {
			if c.op == "" {
				return nil, badRequest("NotImplemented", "awssim implements only GetBucketReplication for S3")
			}
			name := s3Bucket(c)
			b := c.s.st.Buckets[name]
			if b == nil {
				return nil, notFound("NoSuchBucket", "The specified bucket does not exist")
			}
			if b.Destination == "" {
				return nil, notFound("ReplicationConfigurationNotFoundError", "The replication configuration was not found")
			}
			return xmlRoot{"ReplicationConfiguration", []xn{tx("Role", b.Role), el("Rule",
				tx("ID", cmp.Or(b.RuleID, "replication")), it("Priority", 1), tx("Status", "Enabled"),
				el("Filter", tx("Prefix", "")),
				el("SourceSelectionCriteria", el("SseKmsEncryptedObjects", tx("Status", "Enabled"))),
				el("Destination", tx("Bucket", b.Destination), el("EncryptionConfiguration", tx("ReplicaKmsKeyID", b.KmsKey))),
				el("DeleteMarkerReplication", tx("Status", "Disabled")))}}, nil
		},
		writeOK: func(w http.ResponseWriter, c *call, out any) {
			x, _ := out.(xmlRoot)
			w.Header().Set("X-Amz-Request-Id", c.reqID)
			writeXML(w, http.StatusOK, x.name, ns, x.kids)
		},
		writeError: func(w http.ResponseWriter, c *call, e *apiError) {
			w.Header().Set("X-Amz-Request-Id", c.reqID)
			writeXML(w, e.Status, "Error", "", []xn{tx("Code", e.Code), tx("Message", e.Message), tx("RequestId", c.reqID)})
		},
	}
}
