package system

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/kirikae/kirikae/awsregion"
	"github.com/kirikae/kirikae/yamlcheck"
)

// APIVersion and Kind are what a system file must say it is.
const (
	APIVersion = "kirikae/v1"
	Kind       = "System"
)

// Errors callers test for with errors.Is.
var (
	// ErrInvalid is wrapped by every *ValidationError.
	ErrInvalid = errors.New("invalid system file")
	// ErrUnknownPath is returned by Lookup for a path that names no value of the system.
	ErrUnknownPath = errors.New("unknown system path")
)

// Role is a region's part in the pair: where the system runs in peacetime, or where it
// fails over to.
type Role string

// The two roles. They are the words plans already use for the regions of the pair.
const (
	Primary   Role = awsregion.Primary
	Secondary Role = awsregion.Secondary
)

// roles lists the roles in the order a system file gives them.
var roles = []Role{Primary, Secondary}

// Other is the other role of the pair; an unknown role's other is "".
func (r Role) Other() Role {
	switch r {
	case Primary:
		return Secondary
	case Secondary:
		return Primary
	}
	return ""
}

// System is a parsed and validated system file: one user's system, its two regions, its
// resources by the names the user knows them by, and its objectives. Parse fills every
// default, so a System says everything explicitly; Marshal writes that canonical form.
//
// A System is a value to read. Nothing in kirikae changes one after Parse; code that
// builds or edits one by hand should Marshal and Parse it again to have it validated.
type System struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Account     string     `json:"account,omitempty"`
	Objectives  Objectives `json:"objectives"`
	DNS         DNS        `json:"dns"`
	// Regions holds the primary region, then the secondary one.
	Regions []*Region `json:"regions"`

	// File is the name the system was parsed under, used in messages.
	File string `json:"file,omitempty"`

	lines map[string]int // path (as Lookup takes it) -> line of its value
	// set and unset are entries(), computed once by Parse: a System is not changed after.
	set, unset map[string]string
}

// Objectives are the recovery objectives (seed 001: RPO 1 h, RTO 4 h).
type Objectives struct {
	// RPO is the most data, in time, a failover may lose: the oldest a restored snapshot
	// may be.
	RPO time.Duration `json:"rpo"`
	// RTO is the most time a failover may take.
	RTO time.Duration `json:"rto"`
}

// DNS is the public name that moves between the regions.
type DNS struct {
	// Zone is the public hosted zone's name, without the final dot; its id is found by name
	// (ListHostedZonesByName) at run time.
	Zone string `json:"zone"`
	// Record is the name that points at the active region's load balancer.
	Record string `json:"record"`
	// Type is the alias record's type: A (the default) or AAAA.
	Type string `json:"type"`
}

// Region is one region of the pair and the system's resources in it.
type Region struct {
	Role Role `json:"role"`
	// Name is the AWS region, e.g. us-east-1.
	Name         string            `json:"region"`
	Network      Network           `json:"network"`
	Database     Database          `json:"database"`
	Cache        *Cache            `json:"cache,omitempty"`
	Backup       *Backup           `json:"backup,omitempty"`
	Secrets      map[string]string `json:"secrets,omitempty"`
	LoadBalancer LoadBalancer      `json:"loadBalancer"`
	ECS          ECS               `json:"ecs"`
	Topics       map[string]string `json:"topics,omitempty"`
	Bucket       string            `json:"bucket,omitempty"`
}

// Network is the VPC built in advance and its security groups.
type Network struct {
	// VPC is the VPC's Name tag.
	VPC string `json:"vpc"`
	// SecurityGroups maps a logical name to a security group's name (its GroupName).
	SecurityGroups map[string]string `json:"securityGroups,omitempty"`
}

// Database is the RDS instance: the one that runs in the region, or the one a failover
// restores there.
type Database struct {
	Instance       string `json:"instance"`
	Engine         string `json:"engine"`
	InstanceClass  string `json:"instanceClass"`
	MultiAZ        bool   `json:"multiAZ"`
	SubnetGroup    string `json:"subnetGroup"`
	ParameterGroup string `json:"parameterGroup"`
	OptionGroup    string `json:"optionGroup,omitempty"`
	// SecurityGroup is a logical name of Network.SecurityGroups.
	SecurityGroup string `json:"securityGroup"`
	// KMSKey is a key id, a key or alias ARN, or alias/NAME; empty means the default key.
	KMSKey string `json:"kmsKey,omitempty"`
}

// Cache is the ElastiCache replication group: the one that runs in the region, or the one
// a failover creates there, new and empty.
type Cache struct {
	ReplicationGroup string `json:"replicationGroup"`
	// Engine is redis (the default) or valkey.
	Engine string `json:"engine"`
	// EngineVersion is empty when ElastiCache may choose.
	EngineVersion string `json:"engineVersion,omitempty"`
	NodeType      string `json:"nodeType"`
	// Nodes is the number of cache clusters in the group, default 1.
	Nodes       int    `json:"nodes"`
	SubnetGroup string `json:"subnetGroup"`
	// SecurityGroup is a logical name of Network.SecurityGroups.
	SecurityGroup string `json:"securityGroup"`
}

// Backup is the AWS Backup side of the region.
type Backup struct {
	// Vault holds the EFS recovery points (in the secondary region, the copies).
	Vault string `json:"vault"`
	// FileSystem is the Name tag of the EFS file system backed up, if any.
	FileSystem string `json:"fileSystem,omitempty"`
	// RestoreRole is the name of the IAM role AWS Backup restores with, if any.
	RestoreRole string `json:"restoreRole,omitempty"`
}

// LoadBalancer is the application load balancer the DNS record points at.
type LoadBalancer struct {
	Name string `json:"name"`
}

// ECS is the cluster and its services.
type ECS struct {
	Cluster string `json:"cluster"`
	// Services maps a logical name to a service; there is at least one.
	Services map[string]*Service `json:"services"`
}

// Service is one ECS service.
type Service struct {
	Name       string `json:"name"`
	TaskFamily string `json:"taskFamily"`
	// TargetGroup is the name of the ALB target group the service registers in; empty
	// for a service behind no load balancer.
	TargetGroup string `json:"targetGroup,omitempty"`
	// DesiredCount is how many tasks run when the region is active.
	DesiredCount int `json:"desiredCount"`
	// Image is the container image the task definition runs, if given.
	Image string `json:"image,omitempty"`
}

// Role returns the region that plays role, or nil.
func (s *System) Role(role Role) *Region {
	for _, r := range s.Regions {
		if r.Role == role {
			return r
		}
	}
	return nil
}

// RegionOf returns the region of the pair named name (us-east-1), or nil.
func (s *System) RegionOf(name string) *Region {
	for _, r := range s.Regions {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Line is the line of the system file that gives the value at path (as Lookup takes it),
// or 0 when the file does not write it (a default) or the path names no value.
func (s *System) Line(path string) int { return s.lines[path] }

// SecurityGroupName is the name of the security group with the logical name, or "".
func (r *Region) SecurityGroupName(logical string) string { return r.Network.SecurityGroups[logical] }

// ServiceNames lists the logical names of the ECS services, sorted.
func (r *Region) ServiceNames() []string { return sortedKeys(r.ECS.Services) }

// Resource is one AWS resource a system file names.
type Resource struct {
	// Kind is the kind of resource: vpc, securityGroup, dbInstance, ... (see Resources).
	Kind string `json:"kind"`
	// Name is the resource's name as the user knows it.
	Name string `json:"name"`
	// Path is where Lookup finds the name, e.g. secondary.ecs.services.api.name.
	Path string `json:"path"`
}

// Resource kinds, in the order Resources lists them.
const (
	KindVPC                   = "vpc"
	KindSecurityGroup         = "securityGroup"
	KindDBInstance            = "dbInstance"
	KindDBSubnetGroup         = "dbSubnetGroup"
	KindDBParameterGroup      = "dbParameterGroup"
	KindDBOptionGroup         = "dbOptionGroup"
	KindKMSKey                = "kmsKey"
	KindCacheReplicationGroup = "cacheReplicationGroup"
	KindCacheSubnetGroup      = "cacheSubnetGroup"
	KindBackupVault           = "backupVault"
	KindFileSystem            = "efsFileSystem"
	KindIAMRole               = "iamRole"
	KindSecret                = "secret"
	KindLoadBalancer          = "loadBalancer"
	KindECSCluster            = "ecsCluster"
	KindECSService            = "ecsService"
	KindTaskFamily            = "taskFamily"
	KindTargetGroup           = "targetGroup"
	KindSNSTopic              = "snsTopic"
	KindS3Bucket              = "s3Bucket"
)

// Kinds lists the kinds of resources in the order Resources first lists each.
func Kinds() []string {
	return []string{KindVPC, KindSecurityGroup, KindDBInstance, KindDBSubnetGroup, KindDBParameterGroup, KindDBOptionGroup,
		KindKMSKey, KindCacheReplicationGroup, KindCacheSubnetGroup, KindBackupVault, KindFileSystem, KindIAMRole, KindSecret,
		KindLoadBalancer, KindECSCluster, KindECSService, KindTaskFamily, KindTargetGroup, KindSNSTopic, KindS3Bucket}
}

// Resources lists every resource the region names, each once, in a fixed order: the
// network, the database, the cache, backup, secrets, the load balancer, ECS, topics and
// the bucket, and within a mapping by logical name.
func (r *Region) Resources() []Resource {
	var out []Resource
	p := string(r.Role) + "."
	add := func(kind, name, path string) {
		if name != "" {
			out = append(out, Resource{Kind: kind, Name: name, Path: p + path})
		}
	}
	add(KindVPC, r.Network.VPC, "network.vpc")
	for _, l := range sortedKeys(r.Network.SecurityGroups) {
		add(KindSecurityGroup, r.Network.SecurityGroups[l], "network.securityGroups."+l)
	}
	db := r.Database
	add(KindDBInstance, db.Instance, "database.instance")
	add(KindDBSubnetGroup, db.SubnetGroup, "database.subnetGroup")
	add(KindDBParameterGroup, db.ParameterGroup, "database.parameterGroup")
	add(KindDBOptionGroup, db.OptionGroup, "database.optionGroup")
	add(KindKMSKey, db.KMSKey, "database.kmsKey")
	if c := r.Cache; c != nil {
		add(KindCacheReplicationGroup, c.ReplicationGroup, "cache.replicationGroup")
		add(KindCacheSubnetGroup, c.SubnetGroup, "cache.subnetGroup")
	}
	if b := r.Backup; b != nil {
		add(KindBackupVault, b.Vault, "backup.vault")
		add(KindFileSystem, b.FileSystem, "backup.fileSystem")
		add(KindIAMRole, b.RestoreRole, "backup.restoreRole")
	}
	for _, l := range sortedKeys(r.Secrets) {
		add(KindSecret, r.Secrets[l], "secrets."+l)
	}
	add(KindLoadBalancer, r.LoadBalancer.Name, "loadBalancer.name")
	add(KindECSCluster, r.ECS.Cluster, "ecs.cluster")
	for _, l := range r.ServiceNames() {
		svc := r.ECS.Services[l]
		sp := "ecs.services." + l + "."
		add(KindECSService, svc.Name, sp+"name")
		add(KindTaskFamily, svc.TaskFamily, sp+"taskFamily")
		add(KindTargetGroup, svc.TargetGroup, sp+"targetGroup")
	}
	for _, l := range sortedKeys(r.Topics) {
		add(KindSNSTopic, r.Topics[l], "topics."+l)
	}
	add(KindS3Bucket, r.Bucket, "bucket")
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Parse reads and validates a system file. filename is only used in messages. Every
// problem found is reported in one *ValidationError, which wraps ErrInvalid; a file past a
// size limit (MaxBytes, MaxDepth, MaxExpanded) is refused that way too, before the work
// that limit bounds.
func Parse(filename string, data []byte) (*System, error) {
	d := newDecoder(filename)
	s := d.run(data)
	if d.Len() > 0 {
		return nil, &ValidationError{File: filename, Errors: d.List()}
	}
	s.File = filename
	s.set, s.unset = s.entries()
	return s, nil
}

// ParseFile reads and validates the system file at path.
func ParseFile(path string) (*System, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read system file: %w", err)
	}
	return Parse(path, data)
}

// FieldError is one problem in a system file: FILE:LINE: FIELD: MESSAGE, the field a path
// such as spec.regions.secondary.ecs.services.api.desiredCount.
type FieldError = yamlcheck.FieldError

// ValidationError holds every problem found in one system file, sorted by line.
type ValidationError struct {
	File   string       `json:"file"`
	Errors []FieldError `json:"errors"`
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		lines[i] = fe.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalid }
