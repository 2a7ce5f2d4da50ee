package awssim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// ---- Backup ----

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

// ---- EFS ----

type fileSystem struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Token   string    `json:"token"`
	Created time.Time `json:"created"`
	Status  timeline  `json:"status"`
}

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

// ---- Route 53 ----

type hostedZone struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	Records []*recordSet `json:"records"`
}

type recordSet struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	TTL         int      `json:"ttl"`
	Values      []string `json:"values"`
	AliasZone   string   `json:"aliasZone"`
	AliasDNS    string   `json:"aliasDNS"`
	AliasHealth bool     `json:"aliasHealth"`
}

const route53NS = "https://route53.amazonaws.com/doc/2013-04-01/"

var route53Routes = []route{
	{"GET", "/2013-04-01/hostedzone/{id}/rrset", "ListResourceRecordSets", r53List},
	{"POST", "/2013-04-01/hostedzone/{id}/rrset", "ChangeResourceRecordSets", r53Change},
	{"GET", "/2013-04-01/change/{id}", "GetChange", r53GetChange},
	{"GET", "/2013-04-01/testdnsanswer", "TestDNSAnswer", r53Test},
}

// xmlRoot is a restXml response: the root element and its children.
type xmlRoot struct {
	name string
	kids []xn
}

func route53Protocol() protocol {
	return restProtocol(route53Routes, func(w http.ResponseWriter, c *call, out any) {
		x, _ := out.(xmlRoot)
		w.Header().Set("X-Amzn-RequestId", c.reqID)
		writeXML(w, http.StatusOK, x.name, route53NS, x.kids)
	}, func(w http.ResponseWriter, c *call, e *apiError) {
		w.Header().Set("X-Amzn-RequestId", c.reqID)
		if e.Code == "InvalidChangeBatch" {
			writeXML(w, e.Status, "InvalidChangeBatch", route53NS, []xn{
				strList("Messages", "Message", strings.Split(e.Message, "\n")), tx("RequestId", c.reqID)})
			return
		}
		typ := "Sender"
		if e.Status >= 500 {
			typ = "Receiver"
		}
		writeXML(w, e.Status, "ErrorResponse", route53NS, []xn{
			el("Error", tx("Type", typ), tx("Code", e.Code), tx("Message", e.Message)), tx("RequestId", c.reqID)})
	})
}

func (c *call) zone(id string) (*hostedZone, error) {
	id = strings.TrimPrefix(id, "/hostedzone/")
	z := c.s.st.Zones[id]
	if z == nil {
		return nil, notFound("NoSuchHostedZone", "No hosted zone found with ID: %s", id)
	}
	return z, nil
}

func fqdn(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

func recordXML(r *recordSet) xn {
	kids := []xn{tx("Name", r.Name), tx("Type", r.Type)}
	if r.AliasDNS != "" {
		kids = append(kids, el("AliasTarget", tx("HostedZoneId", r.AliasZone), tx("DNSName", r.AliasDNS), bl("EvaluateTargetHealth", r.AliasHealth)))
	} else {
		kids = append(kids, it("TTL", r.TTL), strListNested(r.Values))
	}
	return el("ResourceRecordSet", kids...)
}

func strListNested(vals []string) xn {
	items := make([]xn, len(vals))
	for i, v := range vals {
		items[i] = el("ResourceRecord", tx("Value", v))
	}
	return el("ResourceRecords", items...)
}

func r53List(c *call, p map[string]string) (any, error) {
	z, err := c.zone(p["id"])
	if err != nil {
		return nil, err
	}
	q := c.r.URL.Query()
	start, typ := q.Get("name"), q.Get("type")
	if typ != "" && start == "" {
		return nil, badRequest("InvalidInput", "The input is not valid: type requires name.")
	}
	var items []xn
	for _, r := range z.Records {
		if start != "" && (r.Name < fqdn(start) || r.Name == fqdn(start) && typ != "" && r.Type < typ) {
			continue
		}
		items = append(items, recordXML(r))
	}
	return xmlRoot{"ListResourceRecordSetsResponse", []xn{
		el("ResourceRecordSets", items...), bl("IsTruncated", false), tx("MaxItems", "300")}}, nil
}

// changeBatch is the ChangeResourceRecordSets request body.
type changeBatch struct {
	XMLName xml.Name `xml:"ChangeResourceRecordSetsRequest"`
	Batch   struct {
		Comment string `xml:"Comment"`
		Changes []struct {
			Action string `xml:"Action"`
			RRSet  struct {
				Name            string   `xml:"Name"`
				Type            string   `xml:"Type"`
				TTL             *int     `xml:"TTL"`
				ResourceRecords []string `xml:"ResourceRecords>ResourceRecord>Value"`
				AliasTarget     *struct {
					HostedZoneID string `xml:"HostedZoneId"`
					DNSName      string `xml:"DNSName"`
					Evaluate     bool   `xml:"EvaluateTargetHealth"`
				} `xml:"AliasTarget"`
			} `xml:"ResourceRecordSet"`
		} `xml:"Changes>Change"`
	} `xml:"ChangeBatch"`
}

func (c *call) changeInfo(id string, tl *timeline, comment string) xn {
	return el("ChangeInfo", tx("Id", "/change/"+id), tx("Status", tl.at(c.now)),
		tx("SubmittedAt", isoTime(tl.Phases[0].At)), opt("Comment", comment))
}

func r53Change(c *call, p map[string]string) (any, error) {
	z, err := c.zone(p["id"])
	if err != nil {
		return nil, err
	}
	var cb changeBatch
	if err := xml.Unmarshal(c.body, &cb); err != nil {
		return nil, badRequest("InvalidInput", "Invalid XML: %v", err)
	}
	if len(cb.Batch.Changes) == 0 {
		return nil, badRequest("InvalidInput", "1 validation error detected: Value null at 'changeBatch.changes' failed to satisfy constraint: Member must not be null")
	}
	// Validate the whole batch against a copy first: Route 53 applies all or nothing.
	recs := append([]*recordSet(nil), z.Records...)
	var msgs []string
	seen := map[string]bool{}
	for _, ch := range cb.Batch.Changes {
		rr := ch.RRSet
		name, typ := fqdn(rr.Name), strings.ToUpper(rr.Type)
		switch ch.Action {
		case "CREATE", "UPSERT", "DELETE":
		default:
			return nil, badRequest("InvalidInput", "Invalid request: Expected one of CREATE, DELETE, UPSERT but found %q", ch.Action)
		}
		if rr.Name == "" || typ == "" {
			return nil, badRequest("InvalidInput", "Invalid request: ResourceRecordSet requires Name and Type")
		}
		key := name + " " + typ
		if seen[key] {
			msgs = append(msgs, fmt.Sprintf("The request contains more than one change for resource record set [name='%s', type='%s']", name, typ))
			continue
		}
		seen[key] = true
		if name != z.Name && !strings.HasSuffix(name, "."+z.Name) {
			msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", name, z.Name))
			continue
		}
		rs := &recordSet{Name: name, Type: typ, Values: rr.ResourceRecords}
		if rr.TTL != nil {
			rs.TTL = *rr.TTL
		}
		if a := rr.AliasTarget; a != nil {
			if rr.TTL != nil || len(rr.ResourceRecords) > 0 {
				msgs = append(msgs, fmt.Sprintf("Alias target and TTL or records both specified for [name='%s', type='%s']", name, typ))
				continue
			}
			rs.AliasZone, rs.AliasDNS, rs.AliasHealth = a.HostedZoneID, fqdn(a.DNSName), a.Evaluate
			if strings.HasSuffix(rs.AliasDNS, ".elb.amazonaws.com.") && c.s.albByDNS(rs.AliasDNS) == nil {
				msgs = append(msgs, fmt.Sprintf("Tried to create an alias that targets %s, type %s in zone %s, but the alias target name does not lie within the target zone", rs.AliasDNS, typ, a.HostedZoneID))
				continue
			}
		} else if ch.Action != "DELETE" && (len(rr.ResourceRecords) == 0 || rr.TTL == nil) {
			return nil, badRequest("InvalidInput", "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=%s, Name=%s, Type=%s]", ch.Action, name, typ)
		}
		idx := -1
		for i, r := range recs {
			if r.Name == name && r.Type == typ {
				idx = i
			}
		}
		switch {
		case ch.Action == "CREATE" && idx >= 0:
			msgs = append(msgs, fmt.Sprintf("Tried to create resource record set [name='%s', type='%s'] but it already exists", name, typ))
		case ch.Action == "DELETE" && idx < 0:
			msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set [name='%s', type='%s'] but it was not found", name, typ))
		case ch.Action == "DELETE":
			recs = append(recs[:idx], recs[idx+1:]...)
		case idx >= 0:
			recs[idx] = rs
		default:
			recs = append(recs, rs)
		}
	}
	if len(msgs) > 0 {
		return nil, badRequest("InvalidChangeBatch", "%s", strings.Join(msgs, "\n"))
	}
	z.Records = recs
	id := fmt.Sprintf("C%013d", c.s.st.next())
	tl := &timeline{}
	tl.then(c.now, c.s.dur(c.service, OpChangeRecordSets), []string{"PENDING", "INSYNC"}, nil)
	c.s.st.Changes[id] = tl
	c.journal(z.ID + "/" + cb.Batch.Changes[0].RRSet.Name)
	return xmlRoot{"ChangeResourceRecordSetsResponse", []xn{c.changeInfo(id, tl, cb.Batch.Comment)}}, nil
}

func r53GetChange(c *call, p map[string]string) (any, error) {
	id := strings.TrimPrefix(p["id"], "/change/")
	tl := c.s.st.Changes[id]
	if tl == nil {
		return nil, notFound("NoSuchChange", "A change with the specified change ID does not exist.")
	}
	return xmlRoot{"GetChangeResponse", []xn{c.changeInfo(id, tl, "")}}, nil
}

// resolve answers a name the way the simulated DNS would: records' values, or for an alias to
// an ALB a stable address derived from the ALB (so a switch is visible in the answer).
func (s *Sim) resolve(name, typ string) (values []string, alias string, ok bool) {
	name = fqdn(name)
	for _, z := range s.st.Zones {
		for _, r := range z.Records {
			if r.Name != name || r.Type != typ {
				continue
			}
			if r.AliasDNS != "" {
				if lb := s.albByDNS(r.AliasDNS); lb != nil {
					return []string{lbAddress(lb.region)}, r.AliasDNS, true
				}
				return nil, r.AliasDNS, true
			}
			return r.Values, "", true
		}
	}
	return nil, "", false
}

func lbAddress(region string) string {
	if region == "us-west-2" {
		return "198.51.100.20"
	}
	return "192.0.2.10"
}

type regionLB struct {
	*loadBalancer
	region string
}

func (s *Sim) albByDNS(dns string) *regionLB {
	dns = strings.TrimSuffix(strings.ToLower(dns), ".")
	dns = strings.TrimPrefix(dns, "dualstack.")
	for _, region := range regions {
		for _, lb := range s.st.Regions[region].LoadBalancers {
			if strings.ToLower(lb.DNS) == dns {
				return &regionLB{lb, region}
			}
		}
	}
	return nil
}

func r53Test(c *call, _ map[string]string) (any, error) {
	q := c.r.URL.Query()
	zid, name, typ := q.Get("hostedzoneid"), q.Get("recordname"), q.Get("recordtype")
	if zid == "" || name == "" || typ == "" {
		return nil, badRequest("InvalidInput", "hostedzoneid, recordname and recordtype are required")
	}
	if _, err := c.zone(zid); err != nil {
		return nil, err
	}
	vals, _, ok := c.s.resolve(name, typ)
	code := "NOERROR"
	if !ok {
		code = "NXDOMAIN"
	}
	return xmlRoot{"TestDNSAnswerResponse", []xn{tx("Nameserver", "ns-1.awsdns-sim.org"), tx("RecordName", fqdn(name)),
		tx("RecordType", typ), strList("RecordData", "RecordDataEntry", vals), tx("ResponseCode", code), tx("Protocol", "UDP")}}, nil
}

// ---- S3 ----

type bucket struct {
	Region      string `json:"region"`
	Destination string `json:"destination"`
	Role        string `json:"role"`
	KmsKey      string `json:"kmsKey"`
}

func s3Protocol() protocol {
	const ns = "http://s3.amazonaws.com/doc/2006-03-01/"
	bucketOf := func(c *call) string {
		path := strings.Trim(c.r.URL.Path, "/")
		if path != "" {
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
			name := bucketOf(c)
			b := c.s.st.Buckets[name]
			if b == nil {
				return nil, notFound("NoSuchBucket", "The specified bucket does not exist")
			}
			if b.Destination == "" {
				return nil, notFound("ReplicationConfigurationNotFoundError", "The replication configuration was not found")
			}
			return xmlRoot{"ReplicationConfiguration", []xn{tx("Role", b.Role), el("Rule",
				tx("ID", "kaigo-subsys-dr-replication"), it("Priority", 1), tx("Status", "Enabled"),
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

// ---- CloudWatch (rpcv2Cbor) ----

type alarm struct {
	Region      string      `json:"region"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Metric      string      `json:"metric"`
	Namespace   string      `json:"namespace"`
	Statistic   string      `json:"statistic"`
	Period      int64       `json:"period"`
	Evaluations int64       `json:"evaluations"`
	Threshold   float64     `json:"threshold"`
	Comparison  string      `json:"comparison"`
	Dimensions  [][2]string `json:"dimensions"`
	Actions     []string    `json:"actions"`
	Updated     time.Time   `json:"updated"`
}

var cloudwatchOps = map[string]cborOp{
	"PutMetricAlarm": cwPut,
	"DescribeAlarms": cwDescribe,
}

func cborStr(m cbor.Map, k string) string {
	if s, ok := m[k].(cbor.String); ok {
		return string(s)
	}
	return ""
}

func cborList(m cbor.Map, k string) cbor.List {
	l, _ := m[k].(cbor.List)
	return l
}

var comparisons = map[string]bool{
	"GreaterThanOrEqualToThreshold": true, "GreaterThanThreshold": true, "LessThanThreshold": true,
	"LessThanOrEqualToThreshold": true, "LessThanLowerOrGreaterThanUpperThreshold": true,
	"LessThanLowerThreshold": true, "GreaterThanUpperThreshold": true,
}

func cwPut(c *call, in cbor.Map) (cbor.Map, error) {
	a := &alarm{Region: c.region, Name: cborStr(in, "AlarmName"), Description: cborStr(in, "AlarmDescription"),
		Metric: cborStr(in, "MetricName"), Namespace: cborStr(in, "Namespace"), Statistic: cborStr(in, "Statistic"),
		Comparison: cborStr(in, "ComparisonOperator"), Updated: c.now}
	if a.Name == "" {
		return nil, badRequest("MissingParameter", "The parameter AlarmName is required.")
	}
	if a.Comparison == "" {
		return nil, badRequest("MissingParameter", "The parameter ComparisonOperator is required.")
	}
	if !comparisons[a.Comparison] {
		return nil, badRequest("ValidationError", "Invalid ComparisonOperator %q", a.Comparison)
	}
	var err error
	if v, ok := in["EvaluationPeriods"]; ok {
		if a.Evaluations, err = cbor.AsInt64(v); err != nil {
			return nil, badRequest("ValidationError", "EvaluationPeriods: %v", err)
		}
	} else {
		return nil, badRequest("MissingParameter", "The parameter EvaluationPeriods is required.")
	}
	if v, ok := in["Period"]; ok {
		if a.Period, err = cbor.AsInt64(v); err != nil {
			return nil, badRequest("ValidationError", "Period: %v", err)
		}
	}
	if v, ok := in["Threshold"]; ok {
		if a.Threshold, err = cbor.AsFloat64(v); err != nil {
			return nil, badRequest("ValidationError", "Threshold: %v", err)
		}
	}
	for _, d := range cborList(in, "Dimensions") {
		if dm, ok := d.(cbor.Map); ok {
			a.Dimensions = append(a.Dimensions, [2]string{cborStr(dm, "Name"), cborStr(dm, "Value")})
		}
	}
	for _, v := range cborList(in, "AlarmActions") {
		if s, ok := v.(cbor.String); ok {
			a.Actions = append(a.Actions, string(s))
		}
	}
	c.s.st.Alarms[c.region+"/"+a.Name] = a
	c.journal(a.Name)
	return cbor.Map{}, nil
}

func cborTime(t time.Time) cbor.Value {
	return &cbor.Tag{ID: 1, Value: cbor.Float64(epoch(t))}
}

func cwDescribe(c *call, in cbor.Map) (cbor.Map, error) {
	names := map[string]bool{}
	for _, v := range cborList(in, "AlarmNames") {
		if s, ok := v.(cbor.String); ok {
			names[string(s)] = true
		}
	}
	prefix, state := cborStr(in, "AlarmNamePrefix"), cborStr(in, "StateValue")
	if state != "" && state != "INSUFFICIENT_DATA" {
		return cbor.Map{"MetricAlarms": cbor.List{}, "CompositeAlarms": cbor.List{}}, nil
	}
	out := cbor.List{}
	for _, k := range sortedKeys(c.s.st.Alarms) {
		a := c.s.st.Alarms[k]
		if a.Region != c.region || len(names) > 0 && !names[a.Name] || !strings.HasPrefix(a.Name, prefix) {
			continue
		}
		dims := cbor.List{}
		for _, d := range a.Dimensions {
			dims = append(dims, cbor.Map{"Name": cbor.String(d[0]), "Value": cbor.String(d[1])})
		}
		acts := cbor.List{}
		for _, s := range a.Actions {
			acts = append(acts, cbor.String(s))
		}
		m := cbor.Map{
			"AlarmName":                          cbor.String(a.Name),
			"AlarmArn":                           cbor.String(arn("cloudwatch", a.Region, "alarm:"+a.Name)),
			"AlarmConfigurationUpdatedTimestamp": cborTime(a.Updated),
			"ActionsEnabled":                     cbor.Bool(true),
			"AlarmActions":                       acts,
			"StateValue":                         cbor.String("INSUFFICIENT_DATA"),
			"StateReason":                        cbor.String("Unchecked: Initial alarm creation"),
			"StateUpdatedTimestamp":              cborTime(a.Updated),
			"Dimensions":                         dims,
			"Period":                             cbor.Uint(max(a.Period, 0)),
			"EvaluationPeriods":                  cbor.Uint(max(a.Evaluations, 0)),
			"Threshold":                          cbor.Float64(a.Threshold),
			"ComparisonOperator":                 cbor.String(a.Comparison),
		}
		for k, v := range map[string]string{"AlarmDescription": a.Description, "MetricName": a.Metric, "Namespace": a.Namespace, "Statistic": a.Statistic} {
			if v != "" {
				m[k] = cbor.String(v)
			}
		}
		out = append(out, m)
	}
	return cbor.Map{"MetricAlarms": out, "CompositeAlarms": cbor.List{}}, nil
}

// CloudWatch also speaks awsQuery: the AWS CLI v2 that Debian ships (2.9) and older SDKs use
// it, and the seed runbook's step 11 is such a CLI call. Both protocols share the handlers
// above; queryToCBOR and cborXML translate at the edge.
var cloudwatchQueryOps = map[string]queryOp{
	"PutMetricAlarm": func(c *call, p url.Values) ([]xn, error) {
		_, err := cwPut(c, queryToCBOR(p))
		return nil, err
	},
	"DescribeAlarms": func(c *call, p url.Values) ([]xn, error) {
		m, err := cwDescribe(c, queryToCBOR(p))
		if err != nil {
			return nil, err
		}
		return []xn{cborXML("MetricAlarms", m["MetricAlarms"]), cborXML("CompositeAlarms", m["CompositeAlarms"])}, nil
	},
}

var cwIntParams = map[string]bool{"Period": true, "EvaluationPeriods": true, "DatapointsToAlarm": true, "MaxRecords": true}

func queryToCBOR(p url.Values) cbor.Map {
	m := cbor.Map{}
	for k, vs := range p {
		if strings.Contains(k, ".") || len(vs) == 0 {
			continue
		}
		v := vs[0]
		switch {
		case cwIntParams[k]:
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
				m[k] = cbor.Uint(n)
			} else {
				m[k] = cbor.String(v) // AsInt64 rejects it: a ValidationError, as AWS gives
			}
		case k == "Threshold":
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				m[k] = cbor.Float64(f)
			} else {
				m[k] = cbor.String(v)
			}
		default:
			m[k] = cbor.String(v)
		}
	}
	for _, k := range []string{"AlarmNames", "AlarmActions", "OKActions", "InsufficientDataActions"} {
		if vals := listParam(p, k); len(vals) > 0 {
			l := cbor.List{}
			for _, v := range vals {
				l = append(l, cbor.String(v))
			}
			m[k] = l
		}
	}
	dims := cbor.List{}
	for i := 1; i <= 30; i++ {
		name := p.Get(fmt.Sprintf("Dimensions.member.%d.Name", i))
		if name == "" {
			break
		}
		dims = append(dims, cbor.Map{"Name": cbor.String(name), "Value": cbor.String(p.Get(fmt.Sprintf("Dimensions.member.%d.Value", i)))})
	}
	if len(dims) > 0 {
		m["Dimensions"] = dims
	}
	return m
}

// cborXML renders a CBOR value as awsQuery XML: lists use "member", timestamps ISO 8601.
func cborXML(name string, v cbor.Value) xn {
	switch vv := v.(type) {
	case cbor.Map:
		var kids []xn
		for _, k := range sortedKeys(vv) {
			kids = append(kids, cborXML(k, vv[k]))
		}
		return el(name, kids...)
	case cbor.List:
		kids := make([]xn, len(vv))
		for i, x := range vv {
			kids[i] = cborXML("member", x)
		}
		return el(name, kids...)
	case cbor.String:
		return tx(name, string(vv))
	case cbor.Uint:
		return tx(name, strconv.FormatUint(uint64(vv), 10))
	case cbor.Float64:
		return tx(name, strconv.FormatFloat(float64(vv), 'f', -1, 64))
	case cbor.Bool:
		return bl(name, bool(vv))
	case *cbor.Tag:
		if f, ok := vv.Value.(cbor.Float64); ok && vv.ID == 1 {
			sec := float64(f)
			return tx(name, isoTime(time.UnixMilli(int64(sec*1000))))
		}
	}
	return xn{}
}

func cloudwatchProtocol() protocol {
	cb := cborProtocol(cloudwatchOps)
	js := cloudwatchJSON()
	q := queryProtocol(cloudwatchQueryOps, "http://monitoring.amazonaws.com/doc/2010-08-01/")
	pick := func(c *call) protocol {
		switch {
		case c.r.Header.Get("Smithy-Protocol") != "" || strings.Contains(c.r.URL.Path, "/operation/"):
			return cb
		case c.r.Header.Get("X-Amz-Target") != "":
			return js
		}
		return q
	}
	return protocol{
		operation:  func(c *call) string { return pick(c).operation(c) },
		dispatch:   func(c *call) (any, error) { return pick(c).dispatch(c) },
		writeOK:    func(w http.ResponseWriter, c *call, out any) { pick(c).writeOK(w, c, out) },
		writeError: func(w http.ResponseWriter, c *call, e *apiError) { pick(c).writeError(w, c, e) },
	}
}

// jsonToCBOR turns an awsJson1_0 CloudWatch body into the CBOR shape the handlers read.
func jsonToCBOR(v any) cbor.Value {
	switch vv := v.(type) {
	case map[string]any:
		m := cbor.Map{}
		for k, x := range vv {
			m[k] = jsonToCBOR(x)
		}
		return m
	case []any:
		l := cbor.List{}
		for _, x := range vv {
			l = append(l, jsonToCBOR(x))
		}
		return l
	case json.Number:
		if n, err := strconv.ParseInt(string(vv), 10, 64); err == nil {
			if n < 0 {
				return cbor.NegInt(uint64(-n))
			}
			return cbor.Uint(n)
		}
		f, _ := vv.Float64()
		return cbor.Float64(f)
	case string:
		return cbor.String(vv)
	case bool:
		return cbor.Bool(vv)
	}
	return &cbor.Nil{}
}

// cborJSON is the reverse, for awsJson1_0 responses; timestamps become epoch seconds.
func cborJSON(v cbor.Value) any {
	switch vv := v.(type) {
	case cbor.Map:
		m := map[string]any{}
		for k, x := range vv {
			m[k] = cborJSON(x)
		}
		return m
	case cbor.List:
		l := make([]any, len(vv))
		for i, x := range vv {
			l[i] = cborJSON(x)
		}
		return l
	case cbor.String:
		return string(vv)
	case cbor.Uint:
		return uint64(vv)
	case cbor.Float64:
		return float64(vv)
	case cbor.Bool:
		return bool(vv)
	case *cbor.Tag:
		return cborJSON(vv.Value)
	}
	return nil
}

// cloudwatchJSON is CloudWatch's awsJson1_0 protocol (X-Amz-Target
// GraniteServiceVersion20100801.<Op>), which newer AWS CLI releases use.
func cloudwatchJSON() protocol {
	p := jsonProtocol(map[string]jsonOp{})
	p.dispatch = func(c *call) (any, error) {
		fn, ok := cloudwatchOps[c.op]
		if !ok {
			return nil, badRequest("UnknownOperationException", "Unknown operation %q", c.r.Header.Get("X-Amz-Target"))
		}
		in := cbor.Map{}
		if len(bytes.TrimSpace(c.body)) > 0 {
			dec := json.NewDecoder(bytes.NewReader(c.body))
			dec.UseNumber()
			var v map[string]any
			if err := dec.Decode(&v); err != nil {
				return nil, badRequest("SerializationException", "Could not parse request body: %v", err)
			}
			in, _ = jsonToCBOR(v).(cbor.Map)
		}
		out, err := fn(c, in)
		if err != nil {
			return nil, err
		}
		return cborJSON(out), nil
	}
	p.writeOK = func(w http.ResponseWriter, c *call, out any) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amzn-RequestId", c.reqID)
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(out)
	}
	p.writeError = func(w http.ResponseWriter, c *call, e *apiError) {
		fault := "Sender"
		if e.Status >= 500 {
			fault = "Receiver"
		}
		w.Header().Set("X-Amzn-Query-Error", e.Code+";"+fault)
		writeJSONError(w, c, e)
	}
	return p
}
