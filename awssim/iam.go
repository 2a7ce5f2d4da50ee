package awssim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/kirikae/kirikae/iampolicy"
)

// IAM enforcement. With an assignment set (SetIAM, `kirikae sim --iam FILE`), every signed
// request is authorized as AWS authorizes it, before the operation runs: each operation
// maps to its IAM action and the resource ARNs it touches (iamRequests), and the request is
// served only when the policies of the access key it was signed with allow every one of
// them (iampolicy.Evaluate: explicit Deny wins, default deny). A refused request gets the
// service's own refusal in its protocol (accessDenied), and is recorded (IAMDenials). Without
// an assignment, every caller with a valid signature may do everything, as before.
//
// Some operations need more than their own action, as on AWS:
//   - creating with tags (Tags on an RDS restore or snapshot, on an ElastiCache create)
//     needs the service's AddTagsToResource on the new resource;
//   - passing a role to a service (IamRoleArn of a Backup restore, the roles of an ECS task
//     definition) needs iam:PassRole on the role;
//   - an RDS restore of a snapshot, or a copy, encrypted with a customer managed KMS key
//     needs kms:CreateGrant and kms:DescribeKey on the key, which RDS calls on the caller's
//     behalf; without them RDS answers KMSKeyNotAccessibleFault, as AWS does. AWS managed
//     keys (alias/aws/rds) need nothing: their key policy lets the account use them
//     through RDS.
//
// sts:GetCallerIdentity needs no permission (AWS: "No permissions are required to perform
// this operation"), so an agent's credential check works under any policy.

// IAMUser is the user name in the principal ARN (arn:aws:iam::ACCOUNT:user/IAMUser) that
// GetCallerIdentity answers and refusals name.
const IAMUser = "kirikae-sim"

// IAMDenial is one request refused by the enforced policies.
type IAMDenial struct {
	Time      time.Time `json:"time"`
	AccessKey string    `json:"accessKey"`
	Region    string    `json:"region"`
	Operation string    `json:"operation"`
	Action    string    `json:"action"`
	Resource  string    `json:"resource"`
	Explicit  bool      `json:"explicit,omitempty"`
}

// maxDenials bounds the denials kept; the oldest go first.
const maxDenials = 10000

// iamState is the simulator's IAM enforcement: the assignment and the denials so far.
type iamState struct {
	mu      sync.Mutex
	assign  *iampolicy.Assignment
	denials []IAMDenial
}

// NewCredential draws an access key pair shaped like AWS's, for Options.Credentials: a
// simulator that enforces IAM per access key needs one pair per principal.
func NewCredential() Credential { return newCredential() }

// SetIAM enforces the assignment's policies on every request from now on; nil turns
// enforcement off. Its keys are not checked against the issued credentials: a key the
// simulator does not accept is refused before IAM is asked.
func (s *Sim) SetIAM(a *iampolicy.Assignment) {
	s.iam.mu.Lock()
	defer s.iam.mu.Unlock()
	s.iam.assign = a
}

// IAM is the assignment enforced, or nil.
func (s *Sim) IAM() *iampolicy.Assignment {
	s.iam.mu.Lock()
	defer s.iam.mu.Unlock()
	return s.iam.assign
}

// IAMDenials returns the requests refused by IAM so far, oldest first.
func (s *Sim) IAMDenials() []IAMDenial {
	s.iam.mu.Lock()
	defer s.iam.mu.Unlock()
	return slices.Clone(s.iam.denials)
}

// IAMRequest is one authorization a call needs: an IAM action on resources (ARNs, or "*"
// for an action without resource-level permissions).
type IAMRequest struct {
	Action    string
	Resources []string
	// Context are the request's condition keys: Route 53 gives a change batch's record
	// names, types and actions (route53:ChangeResourceRecordSetsNormalizedRecordNames,
	// ...RecordTypes, ...Actions), which a policy may narrow a zone's changes with.
	Context map[string][]string
	// kms marks a KMS permission RDS uses on the caller's behalf: refused, the call fails
	// with RDS's KMSKeyNotAccessibleFault.
	kms bool
}

// iamPrefixes maps the signing name of a service to the prefix of its IAM actions where the
// two differ.
var iamPrefixes = map[string]string{"monitoring": "cloudwatch"}

// authorize decides c, signed with key, under the enforced assignment: nil when allowed.
func (s *Sim) authorize(c *call, key string) *apiError {
	a := s.IAM()
	if a == nil || c.service == "sts" && c.op == "GetCallerIdentity" {
		return nil
	}
	s.mu.Lock()
	reqs := iamRequests(c)
	s.mu.Unlock()
	policies := a.Policies(key)
	for _, r := range reqs {
		res := iampolicy.EvaluateRequest(policies, iampolicy.Request{Action: r.Action, Resources: r.Resources, Context: r.Context})
		if res.Decision == iampolicy.Allowed {
			continue
		}
		s.iam.mu.Lock()
		if len(s.iam.denials) >= maxDenials {
			s.iam.denials = s.iam.denials[1:]
		}
		s.iam.denials = append(s.iam.denials, IAMDenial{Time: s.now(), AccessKey: key, Region: c.region, Operation: c.op,
			Action: r.Action, Resource: res.Resource, Explicit: res.Decision == iampolicy.ExplicitDeny})
		s.iam.mu.Unlock()
		s.log.Debug("awssim: IAM denied", "key", key, "action", r.Action, "resource", res.Resource, "decision", res.Decision)
		user := "arn:aws:iam::" + s.Account() + ":user/" + IAMUser
		if r.kms {
			return badRequest("KMSKeyNotAccessibleFault", "The specified KMS key [%s] does not exist, is not enabled or you do not have permissions to access it.", res.Resource)
		}
		return accessDenied(c.service, user, r.Action, res.Resource, res.Decision == iampolicy.ExplicitDeny)
	}
	return nil
}

// accessDenied is the refusal of a request IAM does not allow, in each service's words, as
// AWS sends it now: "User: ARN is not authorized to perform: ACTION on resource: ARN because
// no identity-based policy allows the ACTION action" (or "with an explicit deny in an
// identity-based policy").
//   - awsQuery and restXml services (RDS, ElastiCache, ELBv2, CloudWatch, Route 53, S3)
//     answer AccessDenied, HTTP 403;
//   - SNS answers AuthorizationError, HTTP 403, and writes the action SNS:Publish;
//   - EC2 answers UnauthorizedOperation, HTTP 403, "You are not authorized to perform this
//     operation." before the reason;
//   - awsJson services (ECS, Secrets Manager, Health, KMS) answer AccessDeniedException,
//     HTTP 400, and restJson ones (Backup, EFS) AccessDeniedException, HTTP 403.
func accessDenied(service, user, action, resource string, explicit bool) *apiError {
	shown := action
	if service == "sns" {
		if _, op, ok := strings.Cut(action, ":"); ok {
			shown = "SNS:" + op
		}
	}
	why := "because no identity-based policy allows the " + shown + " action"
	if explicit {
		why = "with an explicit deny in an identity-based policy"
	}
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", user, shown, resource, why)
	switch service {
	case "ec2":
		return &apiError{Status: http.StatusForbidden, Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation. " + msg}
	case "sns":
		return &apiError{Status: http.StatusForbidden, Code: "AuthorizationError", Message: msg}
	case "ecs", "secretsmanager", "health", "kms":
		return &apiError{Status: http.StatusBadRequest, Code: "AccessDeniedException", Message: msg}
	case "backup", "elasticfilesystem":
		return &apiError{Status: http.StatusForbidden, Code: "AccessDeniedException", Message: msg}
	}
	return &apiError{Status: http.StatusForbidden, Code: "AccessDenied", Message: msg}
}

// IAMAction is the IAM action of an operation of a service (its signing name, as awssim
// routes it): SERVICE:Operation, except where IAM names it otherwise.
func IAMAction(service, op string) string {
	if service == "s3" && op == "GetBucketReplication" {
		return "s3:GetReplicationConfiguration"
	}
	prefix := service
	if p, ok := iamPrefixes[service]; ok {
		prefix = p
	}
	return prefix + ":" + op
}

// iamRequests lists what c needs IAM to allow, in the order it is checked: the operation's
// own action first. The caller holds s.mu (secrets, snapshots and keys are looked up).
func iamRequests(c *call) []IAMRequest {
	own := IAMRequest{Action: IAMAction(c.service, c.op), Resources: []string{"*"}}
	var more []IAMRequest
	switch c.service {
	case "rds":
		own.Resources, more = rdsResources(c)
	case "elasticache":
		own.Resources, more = elastiCacheResources(c)
	case "ecs":
		own.Resources, more = ecsResources(c)
	case "secretsmanager":
		var in struct {
			SecretID string `json:"SecretId"`
		}
		_ = json.Unmarshal(c.body, &in)
		own.Resources = []string{secretARN(c, in.SecretID)}
	case "kms":
		var in struct {
			KeyID string `json:"KeyId"`
		}
		_ = json.Unmarshal(c.body, &in)
		own.Resources = []string{kmsResource(c, in.KeyID)}
	case "backup":
		own.Resources, more = backupResources(c)
	case "elasticfilesystem":
		own.Resources = efsResources(c)
	case "route53":
		own.Resources = route53Resources(c)
		if c.op == "ChangeResourceRecordSets" {
			own.Context = route53ChangeContext(c)
		}
	case "monitoring":
		own.Resources = alarmResources(c)
	case "sns":
		if c.op == "Publish" || c.op == "GetTopicAttributes" || c.op == "SetTopicAttributes" {
			p := c.form()
			own.Resources = []string{cmpOr(p.Get("TopicArn"), p.Get("TargetArn"), "*")}
		}
	case "iam":
		if c.op == "SimulatePrincipalPolicy" {
			own.Resources = []string{cmpOr(c.form().Get("PolicySourceArn"), "*")}
		}
	case "s3":
		if b := s3Bucket(c); b != "" {
			own.Resources = []string{"arn:aws:s3:::" + b}
		}
	}
	return append([]IAMRequest{own}, more...)
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// rdsARN is the ARN of an RDS resource of the call's region: kind db, snapshot, subgrp,
// pg or og. A name that already is an ARN is kept.
func rdsARN(c *call, kind, name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return c.arn("rds", c.region, kind+":"+name)
}

// named is the ARN of the resource name names, or the ARN of every resource of its kind
// when the call names none (a Describe that lists them all).
func named(arn func(kind, name string) string, kind, name string) string {
	if name == "" {
		return arn(kind, "*")
	}
	return arn(kind, name)
}

func rdsResources(c *call) ([]string, []IAMRequest) {
	p := c.form()
	arn := func(kind, name string) string { return rdsARN(c, kind, name) }
	var res []string
	add := func(kind, name string) {
		if name != "" {
			res = append(res, arn(kind, name))
		}
	}
	tagged := func(target string) []IAMRequest {
		if len(tagsParam(p)) == 0 {
			return nil
		}
		return []IAMRequest{{Action: "rds:AddTagsToResource", Resources: []string{target}}}
	}
	var more []IAMRequest
	switch c.op {
	case "DescribeDBInstances":
		return []string{named(arn, "db", p.Get("DBInstanceIdentifier"))}, nil
	case "DescribeDBSnapshots":
		return []string{named(arn, "snapshot", p.Get("DBSnapshotIdentifier"))}, nil
	case "DescribeDBParameterGroups":
		return []string{named(arn, "pg", p.Get("DBParameterGroupName"))}, nil
	case "DescribeDBSubnetGroups":
		return []string{named(arn, "subgrp", p.Get("DBSubnetGroupName"))}, nil
	case "DescribeOptionGroups":
		return []string{named(arn, "og", p.Get("OptionGroupName"))}, nil
	case "ListTagsForResource":
		return []string{cmpOr(p.Get("ResourceName"), "*")}, nil
	case "CreateDBSnapshot":
		add("db", p.Get("DBInstanceIdentifier"))
		add("snapshot", p.Get("DBSnapshotIdentifier"))
		more = tagged(arn("snapshot", p.Get("DBSnapshotIdentifier")))
	case "CopyDBSnapshot":
		src := p.Get("SourceDBSnapshotIdentifier")
		srcRegion, srcID := parseSnapshotRef(src, c.region)
		if srcID != "" {
			res = append(res, c.arn("rds", srcRegion, "snapshot:"+srcID))
		}
		add("snapshot", p.Get("TargetDBSnapshotIdentifier"))
		more = tagged(arn("snapshot", p.Get("TargetDBSnapshotIdentifier")))
		key := p.Get("KmsKeyId")
		if key == "" && srcRegion == c.region {
			if sn := c.rs().DBSnapshots[srcID]; sn != nil {
				key = sn.KmsKeyID
			}
		}
		more = append(more, kmsGrant(c, key)...)
	case "RestoreDBInstanceFromDBSnapshot":
		add("db", p.Get("DBInstanceIdentifier"))
		add("snapshot", p.Get("DBSnapshotIdentifier"))
		add("subgrp", p.Get("DBSubnetGroupName"))
		add("pg", p.Get("DBParameterGroupName"))
		add("og", p.Get("OptionGroupName"))
		more = tagged(arn("db", p.Get("DBInstanceIdentifier")))
		if sn := c.rs().DBSnapshots[p.Get("DBSnapshotIdentifier")]; sn != nil {
			more = append(more, kmsGrant(c, sn.KmsKeyID)...)
		}
	case "RestoreDBInstanceToPointInTime":
		add("db", p.Get("TargetDBInstanceIdentifier"))
		add("db", p.Get("SourceDBInstanceIdentifier"))
		add("subgrp", p.Get("DBSubnetGroupName"))
		add("pg", p.Get("DBParameterGroupName"))
		add("og", p.Get("OptionGroupName"))
		more = tagged(arn("db", p.Get("TargetDBInstanceIdentifier")))
		if in := c.rs().DBInstances[p.Get("SourceDBInstanceIdentifier")]; in != nil {
			more = append(more, kmsGrant(c, in.KmsKeyID)...)
		}
	case "DeleteDBInstance":
		// A final snapshot is a snapshot created: it needs rds:CreateDBSnapshot too.
		add("db", p.Get("DBInstanceIdentifier"))
		if final := p.Get("FinalDBSnapshotIdentifier"); final != "" && p.Get("SkipFinalSnapshot") != "true" {
			more = []IAMRequest{{Action: "rds:CreateDBSnapshot", Resources: []string{arn("db", p.Get("DBInstanceIdentifier")), arn("snapshot", final)}}}
		}
	case "StopDBInstance", "StartDBInstance":
		add("db", p.Get("DBInstanceIdentifier"))
		add("snapshot", p.Get("DBSnapshotIdentifier"))
	}
	if len(res) == 0 {
		res = []string{"*"}
	}
	return res, more
}

// kmsGrant is what RDS asks KMS on the caller's behalf for a key (an ARN as RDS keeps it):
// nothing for an AWS managed key or none.
func kmsGrant(c *call, key string) []IAMRequest {
	if key == "" {
		return nil
	}
	arn := kmsResource(c, key)
	if k := kmsKeyOf(c, arn); k != nil && k.Managed {
		return nil
	}
	return []IAMRequest{
		{Action: "kms:CreateGrant", Resources: []string{arn}, kms: true},
		{Action: "kms:DescribeKey", Resources: []string{arn}, kms: true},
	}
}

// kmsResource is the key ARN a KeyId names in the call's region: KMS authorizes on the
// key, whatever alias named it. An unknown key keeps the ARN form it would have.
func kmsResource(c *call, ref string) string {
	if ref == "" {
		return "*"
	}
	region := c.region
	if strings.HasPrefix(ref, "arn:aws:kms:") {
		if parts := strings.SplitN(ref, ":", 6); len(parts) == 6 && parts[3] != c.region {
			return ref // another region's key: not one of ours
		}
	}
	if k, err := c.findKMSKey(ref); err == nil {
		return c.arn("kms", region, "key/"+k.ID)
	}
	if strings.HasPrefix(ref, "arn:") {
		return ref
	}
	if strings.HasPrefix(ref, "alias/") {
		return c.arn("kms", region, ref)
	}
	return c.arn("kms", region, "key/"+ref)
}

func kmsKeyOf(c *call, arn string) *kmsKey {
	k, err := c.findKMSKey(arn)
	if err != nil {
		return nil
	}
	return k
}

func elastiCacheResources(c *call) ([]string, []IAMRequest) {
	p := c.form()
	arn := func(kind, name string) string {
		if strings.HasPrefix(name, "arn:") {
			return name
		}
		return c.arn("elasticache", c.region, kind+":"+name)
	}
	switch c.op {
	case "DescribeReplicationGroups":
		return []string{named(arn, "replicationgroup", p.Get("ReplicationGroupId"))}, nil
	case "DescribeCacheSubnetGroups":
		return []string{named(arn, "subnetgroup", p.Get("CacheSubnetGroupName"))}, nil
	case "ListTagsForResource":
		return []string{cmpOr(p.Get("ResourceName"), "*")}, nil
	case "CreateReplicationGroup":
		group := arn("replicationgroup", p.Get("ReplicationGroupId"))
		res := []string{group}
		if n := p.Get("CacheSubnetGroupName"); n != "" {
			res = append(res, arn("subnetgroup", n))
		}
		if n := p.Get("CacheParameterGroupName"); n != "" {
			res = append(res, arn("parametergroup", n))
		}
		var more []IAMRequest
		if len(tagsParam(p)) > 0 {
			more = []IAMRequest{{Action: "elasticache:AddTagsToResource", Resources: []string{group}}}
		}
		return res, more
	case "DeleteReplicationGroup":
		res := []string{arn("replicationgroup", p.Get("ReplicationGroupId"))}
		if n := p.Get("FinalSnapshotIdentifier"); n != "" {
			res = append(res, arn("snapshot", n))
		}
		return res, nil
	}
	return []string{"*"}, nil
}

// ecsName is the name at the end of an ECS ARN or name: cluster/NAME, service/CLUSTER/NAME.
func ecsName(ref string) string {
	if i := strings.LastIndexByte(ref, '/'); i >= 0 && strings.HasPrefix(ref, "arn:") {
		return ref[i+1:]
	}
	return ref
}

func ecsResources(c *call) ([]string, []IAMRequest) {
	var in struct {
		Cluster          string   `json:"cluster"`
		Clusters         []string `json:"clusters"`
		Service          string   `json:"service"`
		Services         []string `json:"services"`
		ResourceARN      string   `json:"resourceArn"`
		ExecutionRoleARN string   `json:"executionRoleArn"`
		TaskRoleARN      string   `json:"taskRoleArn"`
	}
	_ = json.Unmarshal(c.body, &in)
	cluster := ecsName(cmpOr(in.Cluster, "default"))
	service := func(name string) string {
		if strings.HasPrefix(name, "arn:") {
			return name
		}
		return c.arn("ecs", c.region, "service/"+cluster+"/"+name)
	}
	switch c.op {
	case "UpdateService":
		return []string{service(in.Service)}, nil
	case "DescribeServices":
		var res []string
		for _, s := range in.Services {
			res = append(res, service(s))
		}
		return cmpList(res), nil
	case "DescribeClusters":
		var res []string
		for _, cl := range cmpList(in.Clusters, "default") {
			if !strings.HasPrefix(cl, "arn:") {
				cl = c.arn("ecs", c.region, "cluster/"+cl)
			}
			res = append(res, cl)
		}
		return res, nil
	case "ListTagsForResource":
		return []string{cmpOr(in.ResourceARN, "*")}, nil
	case "RegisterTaskDefinition":
		var more []IAMRequest
		for _, role := range []string{in.ExecutionRoleARN, in.TaskRoleARN} {
			if role != "" {
				more = append(more, IAMRequest{Action: "iam:PassRole", Resources: []string{role}})
			}
		}
		return []string{"*"}, more
	}
	return []string{"*"}, nil
}

// cmpList is list, or else the fallback values, or else "*".
func cmpList(list []string, fallback ...string) []string {
	if len(list) > 0 {
		return list
	}
	if len(fallback) > 0 {
		return fallback
	}
	return []string{"*"}
}

// secretARN is the ARN of the secret id names (a name or an ARN), as Secrets Manager
// authorizes it: with the random suffix of the real secret when there is one.
func secretARN(c *call, id string) string {
	if id == "" {
		return "*"
	}
	if s, err := c.findSecret(id); err == nil {
		return s.ARN
	}
	if strings.HasPrefix(id, "arn:") {
		return id
	}
	return c.arn("secretsmanager", c.region, "secret:"+id)
}

func backupResources(c *call) ([]string, []IAMRequest) {
	_, params, _ := matchRoute(backupRoutes, c.r)
	switch c.op {
	case "ListRecoveryPointsByBackupVault":
		return []string{c.s.st.vaultARN(c.region, params["name"])}, nil
	case "StartRestoreJob":
		var in struct {
			RecoveryPointArn string
			IamRoleArn       string
		}
		_ = json.Unmarshal(c.body, &in)
		var more []IAMRequest
		if in.IamRoleArn != "" {
			more = []IAMRequest{{Action: "iam:PassRole", Resources: []string{in.IamRoleArn}}}
		}
		return []string{cmpOr(in.RecoveryPointArn, "*")}, more
	}
	return []string{"*"}, nil
}

func efsResources(c *call) []string {
	fs := func(id string) string {
		if strings.HasPrefix(id, "arn:") {
			return id
		}
		return c.arn("elasticfilesystem", c.region, "file-system/"+id)
	}
	switch c.op {
	case "DescribeFileSystems":
		return []string{fs(cmpOr(c.r.URL.Query().Get("FileSystemId"), "*"))}
	case "DeleteFileSystem":
		_, params, _ := matchRoute(efsRoutes, c.r)
		return []string{fs(params["FileSystemId"])}
	}
	return []string{"*"}
}

func route53Resources(c *call) []string {
	_, params, _ := matchRoute(route53Routes, c.r)
	id := strings.TrimPrefix(strings.TrimPrefix(params["id"], "/hostedzone/"), "/change/")
	switch c.op {
	case "GetHostedZone", "ListResourceRecordSets", "ChangeResourceRecordSets":
		return []string{"arn:aws:route53:::hostedzone/" + id}
	case "GetChange":
		return []string{"arn:aws:route53:::change/" + id}
	}
	return []string{"*"}
}

// route53ChangeContext are the condition keys of a change batch, as Route 53 gives them to
// IAM: each record's name normalized (lower case, without the final dot), its type and the
// change's action. A body that does not parse gives none (the operation refuses it).
func route53ChangeContext(c *call) map[string][]string {
	var cb changeBatch
	if err := xml.Unmarshal(c.body, &cb); err != nil {
		return nil
	}
	var names, types, actions []string
	for _, ch := range cb.Batch.Changes {
		names = append(names, strings.TrimSuffix(strings.ToLower(ch.RRSet.Name), "."))
		types = append(types, strings.ToUpper(ch.RRSet.Type))
		actions = append(actions, ch.Action)
	}
	return map[string][]string{
		"route53:ChangeResourceRecordSetsNormalizedRecordNames": names,
		"route53:ChangeResourceRecordSetsRecordTypes":           types,
		"route53:ChangeResourceRecordSetsActions":               actions,
	}
}

// alarmResources are the alarms a CloudWatch call names, in any of its three protocols.
func alarmResources(c *call) []string {
	var names []string
	switch {
	case c.r.Header.Get("Smithy-Protocol") != "" || strings.Contains(c.r.URL.Path, "/operation/"):
		if v, err := cbor.Decode(c.body); err == nil {
			if m, ok := v.(cbor.Map); ok {
				names = append(names, cborStr(m, "AlarmName"))
				for _, n := range cborList(m, "AlarmNames") {
					if s, ok := n.(cbor.String); ok {
						names = append(names, string(s))
					}
				}
			}
		}
	case c.r.Header.Get("X-Amz-Target") != "" || strings.HasPrefix(c.r.Header.Get("Content-Type"), "application/x-amz-json-1.0"):
		var in struct {
			AlarmName  string
			AlarmNames []string
		}
		_ = json.NewDecoder(bytes.NewReader(c.body)).Decode(&in)
		names = append([]string{in.AlarmName}, in.AlarmNames...)
	default:
		p := c.form()
		names = append(names, p.Get("AlarmName"))
		names = append(names, listParam(p, "AlarmNames")...)
	}
	var res []string
	for _, n := range names {
		if n != "" {
			res = append(res, c.arn("cloudwatch", c.region, "alarm:"+n))
		}
	}
	if len(res) == 0 && (c.op == "DescribeAlarms" || c.op == "DeleteAlarms") {
		return []string{c.arn("cloudwatch", c.region, "alarm:*")}
	}
	return cmpList(res)
}
