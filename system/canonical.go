package system

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
)

// Marshal writes the system's canonical form: a system file that Parse reads back into the
// same System, with every default written out, durations as 1h or 1h30m, DNS names in
// lower case without the final dot, keys in the format's order and logical names sorted,
// no comments, and a string quoted only where YAML would read it as something else. Two
// files that describe the same system have the same canonical form, whatever their
// comments, order, quoting and defaults; Digest is its hash.
func (s *System) Marshal() []byte {
	e := &emitter{}
	e.str(0, "apiVersion", APIVersion)
	e.str(0, "kind", Kind)
	e.key(0, "metadata")
	e.str(1, "name", s.Name)
	e.str(1, "description", s.Description)
	e.key(0, "spec")
	e.str(1, "account", s.Account)
	e.key(1, "objectives")
	e.str(2, "rpo", formatDuration(s.Objectives.RPO))
	e.str(2, "rto", formatDuration(s.Objectives.RTO))
	e.key(1, "dns")
	e.str(2, "zone", s.DNS.Zone)
	e.str(2, "record", s.DNS.Record)
	e.str(2, "type", s.DNS.Type)
	e.key(1, "regions")
	for _, r := range s.Regions {
		e.key(2, string(r.Role))
		e.region(3, r)
	}
	return e.b.Bytes()
}

// Digest is the SHA-256 of the canonical form (Marshal), in hex: two systems are the same
// exactly when their digests are.
func (s *System) Digest() string {
	sum := sha256.Sum256(s.Marshal())
	return hex.EncodeToString(sum[:])
}

// emitter writes block YAML, two spaces a level.
type emitter struct{ b bytes.Buffer }

func (e *emitter) key(level int, k string) {
	e.b.WriteString(strings.Repeat("  ", level))
	e.b.WriteString(scalar(k))
	e.b.WriteString(":\n")
}

// str writes k: v, and nothing when v is empty (an optional value left out).
func (e *emitter) str(level int, k, v string) {
	if v == "" {
		return
	}
	e.b.WriteString(strings.Repeat("  ", level))
	e.b.WriteString(scalar(k))
	e.b.WriteString(": ")
	e.b.WriteString(scalar(v))
	e.b.WriteByte('\n')
}

// raw writes k: v with v as it is: an integer or a boolean.
func (e *emitter) raw(level int, k, v string) {
	e.b.WriteString(strings.Repeat("  ", level))
	e.b.WriteString(scalar(k))
	e.b.WriteString(": ")
	e.b.WriteString(v)
	e.b.WriteByte('\n')
}

func (e *emitter) names(level int, k string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	e.key(level, k)
	for _, l := range sortedKeys(m) {
		e.str(level+1, l, m[l])
	}
}

func (e *emitter) region(l int, r *Region) {
	e.str(l, "region", r.Name)
	e.key(l, "network")
	e.str(l+1, "vpc", r.Network.VPC)
	e.names(l+1, "securityGroups", r.Network.SecurityGroups)
	db := r.Database
	e.key(l, "database")
	e.str(l+1, "instance", db.Instance)
	e.str(l+1, "engine", db.Engine)
	e.str(l+1, "instanceClass", db.InstanceClass)
	e.raw(l+1, "multiAZ", strconv.FormatBool(db.MultiAZ))
	e.str(l+1, "subnetGroup", db.SubnetGroup)
	e.str(l+1, "parameterGroup", db.ParameterGroup)
	e.str(l+1, "optionGroup", db.OptionGroup)
	e.str(l+1, "securityGroup", db.SecurityGroup)
	e.str(l+1, "kmsKey", db.KMSKey)
	if c := r.Cache; c != nil {
		e.key(l, "cache")
		e.str(l+1, "replicationGroup", c.ReplicationGroup)
		e.str(l+1, "engine", c.Engine)
		e.str(l+1, "engineVersion", c.EngineVersion)
		e.str(l+1, "nodeType", c.NodeType)
		e.raw(l+1, "nodes", strconv.Itoa(c.Nodes))
		e.str(l+1, "subnetGroup", c.SubnetGroup)
		e.str(l+1, "securityGroup", c.SecurityGroup)
	}
	if b := r.Backup; b != nil {
		e.key(l, "backup")
		e.str(l+1, "vault", b.Vault)
		e.str(l+1, "fileSystem", b.FileSystem)
		e.str(l+1, "restoreRole", b.RestoreRole)
	}
	e.names(l, "secrets", r.Secrets)
	e.key(l, "loadBalancer")
	e.str(l+1, "name", r.LoadBalancer.Name)
	e.key(l, "ecs")
	e.str(l+1, "cluster", r.ECS.Cluster)
	e.key(l+1, "services")
	for _, name := range r.ServiceNames() {
		svc := r.ECS.Services[name]
		e.key(l+2, name)
		e.str(l+3, "name", svc.Name)
		e.str(l+3, "taskFamily", svc.TaskFamily)
		e.str(l+3, "targetGroup", svc.TargetGroup)
		e.raw(l+3, "desiredCount", strconv.Itoa(svc.DesiredCount))
		e.str(l+3, "image", svc.Image)
	}
	e.names(l, "topics", r.Topics)
	e.str(l, "bucket", r.Bucket)
}

// plainRe is what YAML reads as the same string when written plain in block context: a
// letter first, no spaces, none of the characters that mean something to YAML, and no ':'
// at the end.
var plainRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._/@+=:-]*$`)

// scalar writes s plain when YAML reads it back as the same string, else double-quoted.
func scalar(s string) string {
	if plainRe.MatchString(s) && !strings.HasSuffix(s, ":") {
		switch strings.ToLower(s) {
		case "true", "false", "yes", "no", "on", "off", "y", "n", "null":
		default:
			return s
		}
	}
	// Go's quoting is YAML's double-quoted style for the valid UTF-8 that YAML input
	// always is: \" \\ \n \t \xXX \uXXXX \UXXXXXXXX.
	return strconv.Quote(s)
}
