package awssim

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

type dbInstance struct {
	ID             string    `json:"id"`
	Class          string    `json:"class"`
	Engine         string    `json:"engine"`
	EngineVersion  string    `json:"engineVersion"`
	MultiAZ        bool      `json:"multiAZ"`
	Public         bool      `json:"public"`
	SubnetGroup    string    `json:"subnetGroup"`
	SecurityGroups []string  `json:"securityGroups"`
	ParamGroup     string    `json:"paramGroup"`
	Created        time.Time `json:"created"`
	Retention      int       `json:"retention"`
	Status         timeline  `json:"status"`
	Seq            int       `json:"seq"`
	Tags           []tag     `json:"tags,omitempty"`
}

// dbSnapshot is a DB snapshot. Created is its SnapshotCreateTime, which a copy gets anew
// (CopyDBSnapshot), as on RDS; Original (OriginalSnapshotCreateTime) and DataTime
// (SnapshotDatabaseTime, the data's last transaction) stay those of the snapshot first
// taken of the instance. Zero Original or DataTime (a state file written before they
// existed) read as Created.
type dbSnapshot struct {
	ID           string    `json:"id"`
	InstanceID   string    `json:"instanceID"`
	Type         string    `json:"type"`
	Created      time.Time `json:"created"`
	Original     time.Time `json:"original"`
	DataTime     time.Time `json:"dataTime"`
	Tags         []tag     `json:"tags,omitempty"`
	Engine       string    `json:"engine"`
	Version      string    `json:"version"`
	KmsKeyID     string    `json:"kmsKeyID"`
	SourceRegion string    `json:"sourceRegion"`
	SourceARN    string    `json:"sourceARN"`
	Status       timeline  `json:"status"`
	VpcID        string    `json:"vpcID"`
	// DbiResourceID is the DbiResourceId of the instance the data was taken from; a copy
	// keeps it, as RDS does.
	DbiResourceID string `json:"dbiResourceID,omitempty"`
}

func (sn *dbSnapshot) original() time.Time {
	if sn.Original.IsZero() {
		return sn.Created
	}
	return sn.Original
}

func (sn *dbSnapshot) dataTime() time.Time {
	if sn.DataTime.IsZero() {
		return sn.original()
	}
	return sn.DataTime
}

// tag is a resource tag, kept in the order the create call gave it.
type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// tagsParam reads an awsQuery tag list: Tags.Tag.N.Key and Tags.Tag.N.Value (what the SDK
// and the AWS CLI send), or Tags.member.N.* and Tags.N.*.
func tagsParam(p url.Values) []tag {
	byIndex := map[int]*tag{}
	for k, vs := range p {
		rest, ok := strings.CutPrefix(k, "Tags.")
		if !ok || len(vs) == 0 {
			continue
		}
		parts := strings.Split(rest, ".")
		if len(parts) < 2 {
			continue
		}
		n, err := strconv.Atoi(parts[len(parts)-2])
		if err != nil {
			continue
		}
		t := byIndex[n]
		if t == nil {
			t = &tag{}
			byIndex[n] = t
		}
		switch parts[len(parts)-1] {
		case "Key":
			t.Key = vs[0]
		case "Value":
			t.Value = vs[0]
		}
	}
	idx := make([]int, 0, len(byIndex))
	for n, t := range byIndex {
		if t.Key != "" {
			idx = append(idx, n)
		}
	}
	sort.Ints(idx)
	out := make([]tag, len(idx))
	for i, n := range idx {
		out[i] = *byIndex[n]
	}
	return out
}

// tagListXML is a TagList of Tag members, as RDS and ElastiCache give it.
func tagListXML(tags []tag) xn {
	items := make([]xn, len(tags))
	for i, t := range tags {
		items[i] = el("", tx("Key", t.Key), tx("Value", t.Value))
	}
	return list("TagList", "Tag", items)
}

// parseARN splits arn:aws:SERVICE:REGION:ACCOUNT:TYPE:ID (the RDS and ElastiCache form,
// with a colon before the id).
func parseARN(ref, service string) (region, typ, id string, ok bool) {
	rest, ok := strings.CutPrefix(ref, "arn:aws:"+service+":")
	if !ok {
		return "", "", "", false
	}
	parts := strings.SplitN(rest, ":", 4) // region, account, type, id
	if len(parts) != 4 || parts[0] == "" || parts[2] == "" || parts[3] == "" {
		return "", "", "", false
	}
	return parts[0], parts[2], parts[3], true
}

// param returns a required awsQuery parameter, or the error AWS gives when it is missing.
func param(p url.Values, name string) (string, error) {
	v := p.Get(name)
	if v == "" {
		return "", badRequest("MissingParameter", "The request must contain the parameter %s", name)
	}
	return v, nil
}

// listParam collects an awsQuery list (Name.member.1, Name.Member.2 or Name.1 ...) in order.
func listParam(p url.Values, name string) []string {
	type kv struct {
		i int
		v string
	}
	var got []kv
	for k, vs := range p {
		rest, ok := strings.CutPrefix(k, name+".")
		if !ok || len(vs) == 0 {
			continue
		}
		idx := rest
		if j := strings.LastIndexByte(rest, '.'); j >= 0 {
			idx = rest[j+1:]
		}
		n, err := strconv.Atoi(idx)
		if err != nil {
			continue
		}
		got = append(got, kv{n, vs[0]})
	}
	sort.Slice(got, func(a, b int) bool { return got[a].i < got[b].i })
	out := make([]string, len(got))
	for i, g := range got {
		out[i] = g.v
	}
	return out
}

func arn(service, region, rest string) string {
	return "arn:aws:" + service + ":" + region + ":" + AccountID + ":" + rest
}

// rdsOps are the RDS actions (awsQuery). Instances and snapshots move through timelines set
// when the mutating call arrives; reads evaluate them at the call's time.
var rdsOps = map[string]queryOp{
	"DescribeDBInstances":             rdsDescribeInstances,
	"DescribeDBSnapshots":             rdsDescribeSnapshots,
	"CreateDBSnapshot":                rdsCreateSnapshot,
	"CopyDBSnapshot":                  rdsCopySnapshot,
	"RestoreDBInstanceFromDBSnapshot": rdsRestoreFromSnapshot,
	"RestoreDBInstanceToPointInTime":  rdsRestorePITR,
	"DeleteDBInstance":                rdsDeleteInstance,
	"StopDBInstance":                  rdsStop,
	"StartDBInstance":                 rdsStart,
	"DescribeDBParameterGroups":       rdsDescribeParamGroups,
	"DescribeDBSubnetGroups":          rdsDescribeSubnetGroups,
	"ListTagsForResource":             rdsListTags,
}

// liveInstance finds an instance that exists now (a deleted one has an empty status).
func (c *call) liveInstance(id string) (*dbInstance, string, error) {
	if i := strings.Index(id, ":db:"); strings.HasPrefix(id, "arn:") && i >= 0 {
		id = id[i+len(":db:"):] // RDS accepts the ARN wherever it takes the identifier
	}
	in := c.rs().DBInstances[id]
	if in != nil {
		if st := in.Status.at(c.now); st != "" {
			return in, st, nil
		}
		delete(c.rs().DBInstances, id)
	}
	return nil, "", notFound("DBInstanceNotFound", "DBInstance %s not found.", id)
}

func (c *call) instanceXML(in *dbInstance, st string) xn {
	var sgs []xn
	for _, g := range in.SecurityGroups {
		sgs = append(sgs, el("", tx("VpcSecurityGroupId", g), tx("Status", "active")))
	}
	endpoint := xn{}
	if st != "creating" {
		endpoint = el("Endpoint",
			tx("Address", fmt.Sprintf("%s.c%06d.%s.rds.amazonaws.com", in.ID, in.Seq, c.region)),
			it("Port", 5432), tx("HostedZoneId", "Z1PVIF0B656C1W"))
	}
	sub := c.rs().SubnetGroups[in.SubnetGroup]
	return el("",
		tx("DBInstanceIdentifier", in.ID),
		tx("DBInstanceClass", in.Class),
		tx("Engine", in.Engine),
		tx("EngineVersion", in.EngineVersion),
		tx("DBInstanceStatus", st),
		tx("MasterUsername", "kaigo"),
		endpoint,
		it("AllocatedStorage", 100),
		tx("InstanceCreateTime", isoTime(in.Created)),
		it("BackupRetentionPeriod", in.Retention),
		list("VpcSecurityGroups", "VpcSecurityGroupMembership", sgs),
		list("DBParameterGroups", "DBParameterGroup", []xn{el("", tx("DBParameterGroupName", in.ParamGroup), tx("ParameterApplyStatus", "in-sync"))}),
		tx("AvailabilityZone", c.region+"a"),
		el("DBSubnetGroup", tx("DBSubnetGroupName", in.SubnetGroup), opt("VpcId", firstOr(sub, "")), tx("SubnetGroupStatus", "Complete")),
		bl("MultiAZ", in.MultiAZ),
		tx("LatestRestorableTime", isoTime(c.now.Add(-5*time.Minute))),
		bl("PubliclyAccessible", in.Public),
		tx("StorageType", "gp3"),
		bl("StorageEncrypted", true),
		tx("DbiResourceId", dbiResourceID(in.Seq)),
		tx("DBInstanceArn", arn("rds", c.region, "db:"+in.ID)),
		bl("DeletionProtection", false),
		tagListXML(in.Tags),
	)
}

func firstOr(v []string, def string) string {
	if len(v) > 0 {
		return v[0]
	}
	return def
}

// RDS pages with MaxRecords (default 100, 20 to 100) and Marker, as the API reference of
// every Describe operation here says (botocore/data/rds/2014-10-31/service-2.json).
var rdsPageLimits = pageLimits{min: 20, max: 100, def: 100}

// rdsPage checks MaxRecords and Marker. RDS's wording for a MaxRecords out of range is
// "Invalid value 3412 for MaxRecords. Must be between 20 and 1000" (InvalidParameterValue;
// hashicorp/terraform-provider-aws#37221, for DescribeOrderableDBInstanceOptions, whose
// range is 20 to 1000).
func rdsPage(p url.Values) (pageReq, error) {
	return parsePage(p.Get("MaxRecords"), p.Get("Marker"), rdsPageLimits,
		func(v string) error {
			return badRequest("InvalidParameterValue", "Invalid value %s for MaxRecords. Must be between %d and %d", v, rdsPageLimits.min, rdsPageLimits.max)
		},
		func(v string) error { return badRequest("InvalidParameterValue", "Invalid Marker: %s", v) })
}

// rdsFilters reads Filters and refuses a name the operation does not support the way RDS
// does: InvalidParameterValue "Unrecognized filter name: DBInstanceStatus"
// (boto/boto3#3126). known is nil for operations whose Filters "isn't currently supported"
// (DescribeDBParameterGroups, DescribeDBSubnetGroups, ListTagsForResource).
func rdsFilters(p url.Values, known ...string) ([]queryFilter, error) {
	fs, err := queryFilters(p, "Filters.Filter")
	if err != nil {
		return nil, err
	}
	err = checkFilterNames(fs, func(n string) bool { return slices.Contains(known, n) },
		func(n string) error { return badRequest("InvalidParameterValue", "Unrecognized filter name: %s", n) })
	return fs, err
}

// rdsID strips the ARN off an identifier: RDS takes either wherever it takes an identifier.
func rdsID(ref, typ string) string {
	if _, t, id, ok := parseARN(ref, "rds"); ok && t == typ {
		return id
	}
	return ref
}

func rdsIDs(refs []string, typ string) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = rdsID(r, typ)
	}
	return out
}

func dbiResourceID(seq int) string { return fmt.Sprintf("db-SIM%08d", seq) }

// rdsDescribeInstances supports every filter the API reference lists for
// DescribeDBInstances: db-cluster-id, db-instance-id (identifiers or ARNs),
// dbi-resource-id, domain and engine. awssim models no clusters and no Active Directory
// domains, so those two filters match nothing. A filter matches when any of its values
// does; every filter must match.
func rdsDescribeInstances(c *call, p url.Values) ([]xn, error) {
	fs, err := rdsFilters(p, "db-cluster-id", "db-instance-id", "dbi-resource-id", "domain", "engine")
	if err != nil {
		return nil, err
	}
	pg, err := rdsPage(p)
	if err != nil {
		return nil, err
	}
	var ids []string
	if id := p.Get("DBInstanceIdentifier"); id != "" {
		in, _, err := c.liveInstance(id)
		if err != nil {
			return nil, err
		}
		ids = []string{in.ID}
	} else {
		ids = sortedKeys(c.rs().DBInstances)
	}
	type row struct {
		in *dbInstance
		st string
	}
	var rows []row
	for _, k := range ids {
		in, st, err := c.liveInstance(k)
		if err != nil {
			continue
		}
		ok := true
		for _, f := range fs {
			var have []string
			switch f.Name {
			case "db-instance-id":
				have, f.Values = []string{in.ID}, rdsIDs(f.Values, "db")
			case "dbi-resource-id":
				have = []string{dbiResourceID(in.Seq)}
			case "engine":
				have = []string{in.Engine}
			} // db-cluster-id, domain: no instance has one
			ok = ok && anyEqual(f.Values, have)
		}
		if ok {
			rows = append(rows, row{in, st})
		}
	}
	page, next := pageOf(rows, func(r row) string { return r.in.ID }, pg)
	items := make([]xn, len(page))
	for i, r := range page {
		items[i] = c.instanceXML(r.in, r.st)
	}
	return []xn{opt("Marker", next), list("DBInstances", "DBInstance", items)}, nil
}

func (c *call) snapshotXML(sn *dbSnapshot, st string) xn {
	progress := 100
	if st != "available" {
		progress = 50
	}
	return el("",
		tx("DBSnapshotIdentifier", sn.ID),
		tx("DBInstanceIdentifier", sn.InstanceID),
		tx("SnapshotCreateTime", isoTime(sn.Created)),
		tx("OriginalSnapshotCreateTime", isoTime(sn.original())),
		tx("SnapshotDatabaseTime", isoTime(sn.dataTime())),
		tx("Engine", sn.Engine),
		it("AllocatedStorage", 100),
		tx("Status", st),
		it("Port", 5432),
		tx("AvailabilityZone", c.region+"a"),
		opt("VpcId", sn.VpcID),
		tx("InstanceCreateTime", isoTime(sn.original().Add(-24*time.Hour))),
		tx("MasterUsername", "kaigo"),
		tx("EngineVersion", sn.Version),
		tx("SnapshotType", sn.Type),
		it("PercentProgress", progress),
		opt("SourceRegion", sn.SourceRegion),
		opt("SourceDBSnapshotIdentifier", sn.SourceARN),
		tx("StorageType", "gp3"),
		bl("Encrypted", true),
		opt("KmsKeyId", sn.KmsKeyID),
		tx("DBSnapshotArn", arn("rds", c.region, "snapshot:"+sn.ID)),
		opt("DbiResourceId", sn.DbiResourceID),
		tagListXML(sn.Tags),
	)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// rdsDescribeSnapshots supports DBSnapshotIdentifier, DBInstanceIdentifier, SnapshotType,
// DbiResourceId and every filter the API reference lists for DescribeDBSnapshots:
// db-instance-id (identifiers or ARNs), db-snapshot-id, dbi-resource-id, snapshot-type and
// engine. Without SnapshotType, automated and manual snapshots are listed; awssim has no
// shared, public or AWS Backup snapshots, so those types (and IncludeShared,
// IncludePublic) add nothing.
func rdsDescribeSnapshots(c *call, p url.Values) ([]xn, error) {
	fs, err := rdsFilters(p, "db-instance-id", "db-snapshot-id", "dbi-resource-id", "snapshot-type", "engine")
	if err != nil {
		return nil, err
	}
	pg, err := rdsPage(p)
	if err != nil {
		return nil, err
	}
	id := p.Get("DBSnapshotIdentifier")
	if r, sid := parseSnapshotRef(id, c.region); r == c.region {
		id = sid
	}
	inst := rdsID(p.Get("DBInstanceIdentifier"), "db")
	typ, dbi := p.Get("SnapshotType"), p.Get("DbiResourceId")
	if id != "" {
		sn := c.rs().DBSnapshots[id]
		if sn == nil || sn.Status.at(c.now) == "" {
			return nil, notFound("DBSnapshotNotFound", "DBSnapshot %s not found.", id)
		}
	}
	type row struct {
		sn *dbSnapshot
		st string
	}
	var rows []row
	for _, k := range sortedKeys(c.rs().DBSnapshots) {
		sn := c.rs().DBSnapshots[k]
		st := sn.Status.at(c.now)
		switch {
		case st == "":
			continue
		case id != "" && sn.ID != id:
			continue
		case inst != "" && sn.InstanceID != inst:
			continue
		case typ != "" && sn.Type != typ:
			continue
		case dbi != "" && sn.DbiResourceID != dbi:
			continue
		}
		ok := true
		for _, f := range fs {
			var have []string
			switch f.Name {
			case "db-instance-id":
				have, f.Values = []string{sn.InstanceID}, rdsIDs(f.Values, "db")
			case "db-snapshot-id":
				have = []string{sn.ID}
			case "dbi-resource-id":
				have = []string{sn.DbiResourceID}
			case "snapshot-type":
				have = []string{sn.Type}
			case "engine":
				have = []string{sn.Engine}
			}
			ok = ok && anyEqual(f.Values, have)
		}
		if ok {
			rows = append(rows, row{sn, st})
		}
	}
	page, next := pageOf(rows, func(r row) string { return r.sn.ID }, pg)
	items := make([]xn, len(page))
	for i, r := range page {
		items[i] = c.snapshotXML(r.sn, r.st)
	}
	return []xn{opt("Marker", next), list("DBSnapshots", "DBSnapshot", items)}, nil
}

// newSnapshot records a snapshot of the data as it is now; it becomes available after op's
// duration.
func (c *call) newSnapshot(id, instance, typ, op string, initial string) *dbSnapshot {
	sn := &dbSnapshot{ID: id, InstanceID: instance, Type: typ, Created: c.now, Original: c.now, DataTime: c.now,
		Engine: "postgres", Version: "15.4"}
	if in := c.rs().DBInstances[instance]; in != nil {
		sn.DbiResourceID = dbiResourceID(in.Seq)
	}
	sn.Status.then(c.now, c.s.dur(c.service, op), []string{initial, "available"}, nil)
	c.rs().DBSnapshots[id] = sn
	return sn
}

func rdsCreateSnapshot(c *call, p url.Values) ([]xn, error) {
	sid, err := param(p, "DBSnapshotIdentifier")
	if err != nil {
		return nil, err
	}
	iid, err := param(p, "DBInstanceIdentifier")
	if err != nil {
		return nil, err
	}
	in, st, err := c.liveInstance(iid)
	if err != nil {
		return nil, err
	}
	if st != "available" {
		return nil, badRequest("InvalidDBInstanceState", "Cannot create a snapshot because the database instance %s is not currently in the available state.", iid)
	}
	if sn := c.rs().DBSnapshots[sid]; sn != nil && sn.Status.at(c.now) != "" {
		return nil, badRequest("DBSnapshotAlreadyExists", "Cannot create the snapshot because a snapshot with the identifier %s already exists.", sid)
	}
	sn := c.newSnapshot(sid, in.ID, "manual", OpCreateDBSnapshot, "creating")
	sn.Tags = tagsParam(p)
	c.journal(sid)
	return []xn{el("DBSnapshot", c.snapshotXML(sn, "creating").kids...)}, nil
}

// parseSnapshotRef resolves a snapshot identifier or ARN to its region and id.
func parseSnapshotRef(ref, defRegion string) (region, id string) {
	if rest, ok := strings.CutPrefix(ref, "arn:aws:rds:"); ok {
		parts := strings.SplitN(rest, ":", 4) // region, account, "snapshot", id
		if len(parts) == 4 && parts[2] == "snapshot" {
			return parts[0], parts[3]
		}
		return "", ""
	}
	return defRegion, ref
}

func rdsCopySnapshot(c *call, p url.Values) ([]xn, error) {
	src, err := param(p, "SourceDBSnapshotIdentifier")
	if err != nil {
		return nil, err
	}
	dst, err := param(p, "TargetDBSnapshotIdentifier")
	if err != nil {
		return nil, err
	}
	srcRegion, srcID := parseSnapshotRef(src, c.region)
	rs := c.s.st.Regions[srcRegion]
	var sn *dbSnapshot
	if rs != nil {
		sn = rs.DBSnapshots[srcID]
	}
	if sn == nil || sn.Status.at(c.now) == "" {
		return nil, notFound("DBSnapshotNotFound", "DBSnapshot %s not found.", src)
	}
	if sn.Status.at(c.now) != "available" {
		return nil, badRequest("InvalidDBSnapshotState", "Snapshot %s is not in the available state.", src)
	}
	if srcRegion != c.region && p.Get("KmsKeyId") == "" {
		return nil, badRequest("InvalidParameterCombination", "KmsKeyId is required when copying an encrypted snapshot across regions.")
	}
	if ex := c.rs().DBSnapshots[dst]; ex != nil && ex.Status.at(c.now) != "" {
		return nil, badRequest("DBSnapshotAlreadyExists", "Cannot copy snapshot: a snapshot with the identifier %s already exists.", dst)
	}
	// As on RDS: the copy's SnapshotCreateTime is its own (now); the times of the data stay
	// the original's. Tags given on the call replace the source's; CopyTags copies them.
	cp := c.newSnapshot(dst, sn.InstanceID, "manual", OpCopyDBSnapshot, "pending")
	cp.Original, cp.DataTime, cp.DbiResourceID = sn.original(), sn.dataTime(), sn.DbiResourceID
	cp.KmsKeyID = p.Get("KmsKeyId")
	cp.Tags = tagsParam(p)
	if len(cp.Tags) == 0 && p.Get("CopyTags") == "true" {
		cp.Tags = slices.Clone(sn.Tags)
	}
	if srcRegion != c.region {
		cp.SourceRegion = srcRegion
		cp.SourceARN = arn("rds", srcRegion, "snapshot:"+srcID)
	}
	c.journal(dst)
	return []xn{el("DBSnapshot", c.snapshotXML(cp, "pending").kids...)}, nil
}

// newInstance creates an instance that goes creating → backing-up → available over op's
// duration, from the restore parameters AWS accepts on both restore calls.
func (c *call) newInstance(p url.Values, id, op string) (*dbInstance, error) {
	if ex, _, err := c.liveInstance(id); err == nil && ex != nil {
		return nil, badRequest("DBInstanceAlreadyExists", "DB instance already exists")
	}
	sg := p.Get("DBSubnetGroupName")
	if sg == "" {
		sg = "default"
	} else if _, ok := c.rs().SubnetGroups[sg]; !ok {
		return nil, notFound("DBSubnetGroupNotFoundFault", "DB subnet group '%s' does not exist.", sg)
	}
	class := p.Get("DBInstanceClass")
	if class == "" {
		class = "db.r6g.large"
	}
	in := &dbInstance{
		ID: id, Class: class, Engine: "postgres", EngineVersion: "15.4",
		MultiAZ: p.Get("MultiAZ") == "true", Public: p.Get("PubliclyAccessible") == "true",
		SubnetGroup: sg, SecurityGroups: listParam(p, "VpcSecurityGroupIds"),
		ParamGroup: p.Get("DBParameterGroupName"), Created: c.now, Retention: 1, Seq: c.s.st.next(),
		Tags: tagsParam(p),
	}
	if in.ParamGroup == "" {
		in.ParamGroup = "default.postgres15"
	}
	in.Status.then(c.now, c.s.dur(c.service, op), []string{"creating", "backing-up", "available"}, []float64{0.8})
	c.rs().DBInstances[id] = in
	return in, nil
}

func rdsRestoreFromSnapshot(c *call, p url.Values) ([]xn, error) {
	id, err := param(p, "DBInstanceIdentifier")
	if err != nil {
		return nil, err
	}
	sid, err := param(p, "DBSnapshotIdentifier")
	if err != nil {
		return nil, err
	}
	srcRegion, snID := parseSnapshotRef(sid, c.region)
	if srcRegion != c.region {
		return nil, notFound("DBSnapshotNotFound", "DBSnapshot %s not found.", sid)
	}
	sn := c.rs().DBSnapshots[snID]
	if sn == nil || sn.Status.at(c.now) == "" {
		return nil, notFound("DBSnapshotNotFound", "DBSnapshot %s not found.", sid)
	}
	if sn.Status.at(c.now) != "available" {
		return nil, badRequest("InvalidDBSnapshotState", "Snapshot %s is not in the available state.", sid)
	}
	in, err := c.newInstance(p, id, OpRestoreFromSnapshot)
	if err != nil {
		return nil, err
	}
	c.journal(id)
	return []xn{el("DBInstance", c.instanceXML(in, "creating").kids...)}, nil
}

func rdsRestorePITR(c *call, p url.Values) ([]xn, error) {
	src := p.Get("SourceDBInstanceIdentifier")
	if src == "" && p.Get("SourceDbiResourceId") == "" && p.Get("SourceDBInstanceAutomatedBackupsArn") == "" {
		return nil, badRequest("MissingParameter", "The request must contain the parameter SourceDBInstanceIdentifier")
	}
	id, err := param(p, "TargetDBInstanceIdentifier")
	if err != nil {
		return nil, err
	}
	if _, _, err := c.liveInstance(src); err != nil {
		return nil, err
	}
	if rt := p.Get("RestoreTime"); rt != "" {
		t, perr := time.Parse(time.RFC3339, rt)
		if perr != nil {
			return nil, badRequest("InvalidParameterValue", "Invalid RestoreTime %q", rt)
		}
		if p.Get("UseLatestRestorableTime") == "true" {
			return nil, badRequest("InvalidParameterCombination", "Cannot specify both RestoreTime and UseLatestRestorableTime")
		}
		if t.After(c.now.Add(-5*time.Minute)) || t.Before(c.now.Add(-7*24*time.Hour)) {
			return nil, badRequest("InvalidRestoreFault", "Restore time %s is outside the restorable window.", rt)
		}
	}
	in, err := c.newInstance(p, id, OpRestorePointInTime)
	if err != nil {
		return nil, err
	}
	c.journal(id)
	return []xn{el("DBInstance", c.instanceXML(in, "creating").kids...)}, nil
}

func rdsDeleteInstance(c *call, p url.Values) ([]xn, error) {
	id, err := param(p, "DBInstanceIdentifier")
	if err != nil {
		return nil, err
	}
	in, st, err := c.liveInstance(id)
	if err != nil {
		return nil, err
	}
	final := p.Get("FinalDBSnapshotIdentifier")
	skip := p.Get("SkipFinalSnapshot") == "true"
	switch {
	case final == "" && !skip:
		return nil, badRequest("InvalidParameterCombination", "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
	case final != "" && skip:
		return nil, badRequest("InvalidParameterCombination", "Cannot specify both FinalDBSnapshotIdentifier and SkipFinalSnapshot.")
	case st == "deleting":
		return nil, badRequest("InvalidDBInstanceState", "Instance %s is already being deleted.", id)
	case final != "" && st != "available" && st != "stopped":
		// As on RDS: without a final snapshot an instance can be deleted mid-restore (a
		// drill's teardown does that); with one, it must be able to take the snapshot.
		return nil, badRequest("InvalidDBInstanceState", "Instance %s is currently %s - a final snapshot cannot be taken.", id, st)
	}
	if final != "" {
		if ex := c.rs().DBSnapshots[final]; ex != nil && ex.Status.at(c.now) != "" {
			return nil, badRequest("DBSnapshotAlreadyExists", "Cannot create the snapshot because a snapshot with the identifier %s already exists.", final)
		}
		c.newSnapshot(final, id, "manual", OpCreateDBSnapshot, "creating")
	}
	in.Status.then(c.now, c.s.dur(c.service, OpDeleteDBInstance), []string{"deleting", ""}, nil)
	c.journal(id)
	return []xn{el("DBInstance", c.instanceXML(in, "deleting").kids...)}, nil
}

func rdsStop(c *call, p url.Values) ([]xn, error) {
	id, err := param(p, "DBInstanceIdentifier")
	if err != nil {
		return nil, err
	}
	in, st, err := c.liveInstance(id)
	if err != nil {
		return nil, err
	}
	if st != "available" {
		return nil, badRequest("InvalidDBInstanceState", "Instance %s is not in available state.", id)
	}
	if s := p.Get("DBSnapshotIdentifier"); s != "" {
		c.newSnapshot(s, id, "manual", OpCreateDBSnapshot, "creating")
	}
	in.Status.then(c.now, c.s.dur(c.service, OpStopDBInstance), []string{"stopping", "stopped"}, nil)
	c.journal(id)
	return []xn{el("DBInstance", c.instanceXML(in, "stopping").kids...)}, nil
}

func rdsStart(c *call, p url.Values) ([]xn, error) {
	id, err := param(p, "DBInstanceIdentifier")
	if err != nil {
		return nil, err
	}
	in, st, err := c.liveInstance(id)
	if err != nil {
		return nil, err
	}
	if st != "stopped" {
		return nil, badRequest("InvalidDBInstanceState", "Instance %s cannot be started as it is not in stopped state.", id)
	}
	in.Status.then(c.now, c.s.dur(c.service, OpStartDBInstance), []string{"starting", "available"}, nil)
	c.journal(id)
	return []xn{el("DBInstance", c.instanceXML(in, "starting").kids...)}, nil
}

// rdsDescribeParamGroups pages like every RDS Describe. Its Filters "isn't currently
// supported" (API reference), so any filter name is unrecognized.
func rdsDescribeParamGroups(c *call, p url.Values) ([]xn, error) {
	if _, err := rdsFilters(p); err != nil {
		return nil, err
	}
	pg, err := rdsPage(p)
	if err != nil {
		return nil, err
	}
	name := p.Get("DBParameterGroupName")
	groups := slices.Sorted(slices.Values(c.rs().ParamGroups))
	if name != "" {
		groups = slices.DeleteFunc(groups, func(g string) bool { return g != name })
		if len(groups) == 0 {
			return nil, notFound("DBParameterGroupNotFound", "DBParameterGroup not found: %s", name)
		}
	}
	page, next := pageOf(groups, func(g string) string { return g }, pg)
	items := make([]xn, len(page))
	for i, g := range page {
		items[i] = el("", tx("DBParameterGroupName", g), tx("DBParameterGroupFamily", "postgres15"),
			tx("Description", "kaigo-subsys PostgreSQL parameters"), tx("DBParameterGroupArn", arn("rds", c.region, "pg:"+g)))
	}
	return []xn{opt("Marker", next), list("DBParameterGroups", "DBParameterGroup", items)}, nil
}

// rdsDescribeSubnetGroups pages like every RDS Describe; its Filters are not supported
// either.
func rdsDescribeSubnetGroups(c *call, p url.Values) ([]xn, error) {
	if _, err := rdsFilters(p); err != nil {
		return nil, err
	}
	pg, err := rdsPage(p)
	if err != nil {
		return nil, err
	}
	name := p.Get("DBSubnetGroupName")
	var groups []string
	for _, g := range sortedKeys(c.rs().SubnetGroups) {
		// Cache subnet groups share the map under "cache:"; a group needs its VPC.
		if strings.HasPrefix(g, "cache:") || len(c.rs().SubnetGroups[g]) == 0 || name != "" && g != name {
			continue
		}
		groups = append(groups, g)
	}
	if name != "" && len(groups) == 0 {
		return nil, notFound("DBSubnetGroupNotFoundFault", "DB subnet group '%s' does not exist.", name)
	}
	page, next := pageOf(groups, func(g string) string { return g }, pg)
	items := make([]xn, len(page))
	for i, g := range page {
		v := c.rs().SubnetGroups[g] // vpc id, then subnet ids
		var subs []xn
		for j, sid := range v[1:] {
			subs = append(subs, el("", tx("SubnetIdentifier", sid),
				el("SubnetAvailabilityZone", tx("Name", fmt.Sprintf("%s%c", c.region, 'a'+j))), tx("SubnetStatus", "Active")))
		}
		items[i] = el("", tx("DBSubnetGroupName", g), tx("DBSubnetGroupDescription", g), tx("VpcId", v[0]),
			tx("SubnetGroupStatus", "Complete"), list("Subnets", "Subnet", subs), tx("DBSubnetGroupArn", arn("rds", c.region, "subgrp:"+g)))
	}
	return []xn{opt("Marker", next), list("DBSubnetGroups", "DBSubnetGroup", items)}, nil
}

// rdsListTags answers ListTagsForResource for the ARN of a DB instance or snapshot of the
// call's region, the resources awssim keeps tags on.
func rdsListTags(c *call, p url.Values) ([]xn, error) {
	name, err := param(p, "ResourceName")
	if err != nil {
		return nil, err
	}
	if _, err := rdsFilters(p); err != nil {
		return nil, err
	}
	region, typ, id, ok := parseARN(name, "rds")
	if !ok || region != c.region {
		return nil, badRequest("InvalidParameterValue", "Invalid resource name: %s", name)
	}
	var tags []tag
	switch typ {
	case "db":
		in, _, err := c.liveInstance(id)
		if err != nil {
			return nil, err
		}
		tags = in.Tags
	case "snapshot":
		sn := c.rs().DBSnapshots[id]
		if sn == nil || sn.Status.at(c.now) == "" {
			return nil, notFound("DBSnapshotNotFound", "DBSnapshot %s not found.", id)
		}
		tags = sn.Tags
	default:
		return nil, badRequest("InvalidParameterValue", "awssim keeps the tags of DB instances and DB snapshots only, not of %s", name)
	}
	return []xn{tagListXML(tags)}, nil
}
