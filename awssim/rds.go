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
	// Port is the port the database listens on; 0 (a state file written before it
	// existed) reads as PostgreSQL's 5432.
	Port int `json:"port,omitempty"`
	// KmsKeyID is the ARN of the key the storage is encrypted with; empty means not
	// encrypted.
	KmsKeyID           string `json:"kmsKeyID,omitempty"`
	AutoMinorUpgrade   bool   `json:"autoMinorUpgrade,omitempty"`
	CopyTagsToSnapshot bool   `json:"copyTagsToSnapshot,omitempty"`
	IAMAuth            bool   `json:"iamAuth,omitempty"`
	// OptionGroup, CACert, BackupWindow and MaintenanceWindow read as RDS's defaults
	// when empty (see their methods).
	OptionGroup       string `json:"optionGroup,omitempty"`
	CACert            string `json:"caCert,omitempty"`
	BackupWindow      string `json:"backupWindow,omitempty"`
	MaintenanceWindow string `json:"maintenanceWindow,omitempty"`
}

func (in *dbInstance) port() int {
	if in.Port == 0 {
		return 5432
	}
	return in.Port
}

// optionGroup is the instance's option group: without one named, RDS puts an instance in
// its engine version's default group, default:postgres-15 for PostgreSQL 15.x (the
// OptionGroupMemberships of the examples in botocore's rds/2014-10-31/examples-1.json and
// of every describe-db-instances answer: "default:mysql-5-6", "default:postgres-12").
func (in *dbInstance) optionGroup() string {
	if in.OptionGroup == "" {
		return defaultOptionGroupName(in.Engine, majorVersion(in.Engine, in.EngineVersion))
	}
	return in.OptionGroup
}

// defaultCACert is the CA RDS gives a new instance that names none: "rds-ca-rsa2048-g1"
// since January 2024 (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html,
// "Certificate authorities"). rdsCACerts are the CAs RDS has now.
const defaultCACert = "rds-ca-rsa2048-g1"

var rdsCACerts = []string{"rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1"}

func (in *dbInstance) caCert() string {
	if in.CACert == "" {
		return defaultCACert
	}
	return in.CACert
}

// windows are the instance's PreferredBackupWindow and PreferredMaintenanceWindow. RDS's
// defaults are "a 30-minute window selected at random from an 8-hour block of time for
// each Amazon Web Services Region", the maintenance window "occurring on a random day of
// the week" (CreateDBInstance, botocore rds/2014-10-31/service-2.json); the blocks are
// 03:00-11:00 UTC in us-east-1 and 06:00-14:00 UTC in us-west-2
// (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html#USER_WorkingWithAutomatedBackups.BackupWindow,
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.Maintenance.html#Concepts.DBMaintenance).
// awssim picks them from the instance's sequence number, so they are stable, and never
// lets the two overlap ("Must not conflict with the preferred maintenance window").
func (in *dbInstance) windows(region string) (backup, maintenance string) {
	block := 3 * 60
	if region == "us-west-2" {
		block = 6 * 60
	}
	slot := (in.Seq * 7) % 16 // sixteen 30-minute slots in the 8-hour block
	backup = in.BackupWindow
	if backup == "" {
		start := block + slot*30
		backup = fmt.Sprintf("%s-%s", hhmm(start), hhmm(start+30))
	}
	maintenance = in.MaintenanceWindow
	if maintenance == "" {
		start := block + ((slot+8)%16)*30
		if b, e, ok := parseWindow(backup); ok && overlaps(start, start+30, b, e) {
			start = (e + 60) % (24 * 60)
		}
		day := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}[in.Seq%7]
		maintenance = fmt.Sprintf("%s:%s-%s:%s", day, hhmm(start), day, hhmm(start+30))
	}
	return backup, maintenance
}

func hhmm(min int) string {
	min = ((min % (24 * 60)) + 24*60) % (24 * 60)
	return fmt.Sprintf("%02d:%02d", min/60, min%60)
}

// parseWindow reads an hh24:mi-hh24:mi window in minutes of the day.
func parseWindow(w string) (start, end int, ok bool) {
	a, b, found := strings.Cut(w, "-")
	if !found {
		return 0, 0, false
	}
	start, ok1 := parseHHMM(a)
	end, ok2 := parseHHMM(b)
	return start, end, ok1 && ok2
}

func parseHHMM(s string) (int, bool) {
	h, m, found := strings.Cut(s, ":")
	if !found || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, false
	}
	return hh*60 + mm, true
}

// overlaps reports whether two daily windows share a minute (either may wrap midnight).
func overlaps(s1, e1, s2, e2 int) bool {
	day := 24 * 60
	in := func(t, s, e int) bool {
		t, s, e = t%day, s%day, e%day
		if s <= e {
			return t >= s && t < e
		}
		return t >= s || t < e
	}
	return in(s1, s2, e2) || in(s2, s1, e1)
}

// licenseModel is the only license RDS offers the engine ("RDS for PostgreSQL -
// postgresql-license", "RDS for MySQL - general-public-license", LicenseModel in
// RestoreDBInstanceFromDBSnapshot, botocore rds/2014-10-31/service-2.json).
func licenseModel(engine string) string {
	switch engine {
	case "postgres":
		return "postgresql-license"
	case "mysql", "mariadb":
		return "general-public-license"
	}
	return "license-included"
}

// kmsKey is a KMS key of one region. awssim has no KMS API; RDS resolves KmsKeyId
// parameters against these. Managed marks the AWS managed key (alias/aws/rds).
type kmsKey struct {
	ID      string   `json:"id"`
	Aliases []string `json:"aliases,omitempty"` // alias/NAME
	Managed bool     `json:"managed,omitempty"`
}

// optionGroup is an RDS option group of one region. awssim models no options in it.
type optionGroup struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Engine      string `json:"engine"`
	Major       string `json:"major"`
}

// majorVersion is the major engine version option groups are made for: "15" for
// PostgreSQL 15.4 (every PostgreSQL from 10 on, Oracle), "8.0" for MySQL 8.0.35.
func majorVersion(engine, version string) string {
	parts := strings.Split(version, ".")
	if len(parts) < 2 {
		return version
	}
	if n, err := strconv.Atoi(parts[0]); err == nil && (engine == "postgres" && n >= 10 || strings.HasPrefix(engine, "oracle")) {
		return parts[0]
	}
	return parts[0] + "." + parts[1]
}

// defaultOptionGroupName is RDS's name for an engine version's default option group:
// default:postgres-15, default:mysql-8-0, default:sqlserver-ee-15-00.
func defaultOptionGroupName(engine, major string) string {
	return "default:" + engine + "-" + strings.ReplaceAll(major, ".", "-")
}

// defaultOptionGroups are the engine versions whose default option groups awssim's
// fixture gives every region ("Default option group for postgres 15", with no options and
// AllowsVpcAndNonVpcInstanceMemberships true, as DescribeOptionGroups lists them): the
// major versions RDS offers for the engines the API reference lists under EngineName.
var defaultOptionGroups = []struct {
	engine string
	majors []string
}{
	{"mariadb", []string{"10.5", "10.6", "10.11", "11.4"}},
	{"mysql", []string{"5.7", "8.0", "8.4"}},
	{"oracle-ee", []string{"19", "21"}},
	{"oracle-se2", []string{"19", "21"}},
	{"postgres", []string{"12", "13", "14", "15", "16", "17"}},
	{"sqlserver-ee", []string{"15.00", "16.00"}},
	{"sqlserver-ex", []string{"15.00", "16.00"}},
	{"sqlserver-se", []string{"15.00", "16.00"}},
	{"sqlserver-web", []string{"15.00", "16.00"}},
}

// rdsAccountDefaults gives a region what RDS and KMS keep in every account there: the
// default option groups, and the AWS managed key alias/aws/rds, the key RDS encrypts with
// when none is named ("If StorageEncrypted is enabled, and you do not specify a value for
// the KmsKeyId parameter, then Amazon RDS uses your default KMS key ... a different
// default KMS key for each Amazon Web Services Region", CreateDBInstance, botocore
// rds/2014-10-31/service-2.json).
func rdsAccountDefaults(rs *regionState, octet int) {
	rs.KMSKeys = append(rs.KMSKeys, &kmsKey{ID: fmt.Sprintf("a1b2c3d4-%04x-4000-8000-00000000a0e5", octet),
		Aliases: []string{"alias/aws/rds"}, Managed: true})
	for _, e := range defaultOptionGroups {
		for _, m := range e.majors {
			name := defaultOptionGroupName(e.engine, m)
			rs.OptionGroups[name] = &optionGroup{Name: name, Description: "Default option group for " + e.engine + " " + m, Engine: e.engine, Major: m}
		}
	}
}

// kmsKeyARN resolves a KmsKeyId as RDS takes it — "the key ARN, key ID, alias ARN, or
// alias name for the KMS key" (CopyDBSnapshot, botocore rds/2014-10-31/service-2.json) —
// among the keys of the call's region, and returns the key's ARN. "KMS keys are specific
// to the Amazon Web Services Region that they are created in, and you can't use KMS keys
// from one Amazon Web Services Region in another" (ibid.), so the ARN of a key of another
// region, or of another account, is refused like a key that does not exist: with
// KMSKeyNotAccessibleFault, HTTP 400 (API model), in RDS's words "The target KMS key [...]
// does not exist, is not enabled or you do not have permissions to access it"
// (awslabs/rds-snapshot-tool#70).
func (c *call) kmsKeyARN(ref string) (string, error) {
	refused := badRequest("KMSKeyNotAccessibleFault", "The target KMS key [%s] does not exist, is not enabled or you do not have permissions to access it.", ref)
	k, _ := c.keyInRegion(ref)
	if k == nil {
		return "", refused
	}
	return c.arn("kms", c.region, "key/"+k.ID), nil
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
	// IAMAuth and Port are the instance's when the snapshot was taken; a restore takes
	// its port ("Default: The same port as the original DB instance",
	// RestoreDBInstanceFromDBSnapshot). Port 0 reads as 5432.
	IAMAuth bool `json:"iamAuth,omitempty"`
	Port    int  `json:"port,omitempty"`
}

func (sn *dbSnapshot) original() time.Time {
	if sn.Original.IsZero() {
		return sn.Created
	}
	return sn.Original
}

func (sn *dbSnapshot) port() int {
	if sn.Port == 0 {
		return 5432
	}
	return sn.Port
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

// masterUsername is every simulated instance's and snapshot's MasterUsername. Nothing in
// kirikae reads it; a restore keeps the snapshot's on RDS, and here they are all the same.
const masterUsername = "admin"

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
	"DescribeOptionGroups":            rdsDescribeOptionGroups,
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
			tx("Address", dbEndpoint(in, c.region)),
			it("Port", in.port()), tx("HostedZoneId", "Z1PVIF0B656C1W"))
	}
	backup, maintenance := in.windows(c.region)
	return el("",
		tx("DBInstanceIdentifier", in.ID),
		tx("DBInstanceClass", in.Class),
		tx("Engine", in.Engine),
		tx("EngineVersion", in.EngineVersion),
		tx("DBInstanceStatus", st),
		tx("MasterUsername", masterUsername),
		endpoint,
		it("AllocatedStorage", 100),
		tx("InstanceCreateTime", isoTime(in.Created)),
		tx("PreferredBackupWindow", backup),
		it("BackupRetentionPeriod", in.Retention),
		list("VpcSecurityGroups", "VpcSecurityGroupMembership", sgs),
		list("DBParameterGroups", "DBParameterGroup", []xn{el("", tx("DBParameterGroupName", in.ParamGroup), tx("ParameterApplyStatus", "in-sync"))}),
		tx("AvailabilityZone", c.region+"a"),
		c.subnetGroupXML("DBSubnetGroup", in.SubnetGroup),
		tx("PreferredMaintenanceWindow", maintenance),
		bl("MultiAZ", in.MultiAZ),
		tx("LatestRestorableTime", isoTime(c.now.Add(-5*time.Minute))),
		bl("AutoMinorVersionUpgrade", in.AutoMinorUpgrade),
		tx("LicenseModel", licenseModel(in.Engine)),
		list("OptionGroupMemberships", "OptionGroupMembership", []xn{el("", tx("OptionGroupName", in.optionGroup()), tx("Status", "in-sync"))}),
		bl("PubliclyAccessible", in.Public),
		tx("StorageType", "gp3"),
		// DbInstancePort is "the port that the DB instance listens on" when it is part
		// of a DB cluster; an instance of no cluster answers 0, its port being the
		// Endpoint's (the restore example in botocore rds/2014-10-31/examples-1.json).
		it("DbInstancePort", 0),
		bl("StorageEncrypted", in.KmsKeyID != ""),
		opt("KmsKeyId", in.KmsKeyID),
		tx("DbiResourceId", dbiResourceID(in.Seq)),
		tx("CACertificateIdentifier", in.caCert()),
		bl("CopyTagsToSnapshot", in.CopyTagsToSnapshot),
		tx("DBInstanceArn", c.arn("rds", c.region, "db:"+in.ID)),
		bl("IAMDatabaseAuthenticationEnabled", in.IAMAuth),
		bl("DeletionProtection", false),
		tagListXML(in.Tags),
	)
}

// dbSubnetGroup returns a DB subnet group's VPC and subnets. "default" is, as on RDS, the
// default VPC's subnets when no group of that name was made.
func (c *call) dbSubnetGroup(name string) (vpc string, subnets []string, ok bool) {
	if v := c.rs().SubnetGroups[name]; !strings.HasPrefix(name, "cache:") && len(v) > 0 {
		return v[0], v[1:], true
	}
	if name != "default" {
		return "", nil, false
	}
	for _, r := range c.rs().EC2 {
		if r.Kind == "vpc" && r.Default {
			vpc = r.ID
		}
	}
	for _, r := range c.rs().EC2 {
		if vpc != "" && r.Kind == "subnet" && r.VpcID == vpc {
			subnets = append(subnets, r.ID)
		}
	}
	return vpc, subnets, vpc != ""
}

// subnetGroupXML is a DBSubnetGroup as DescribeDBSubnetGroups and DBInstance.DBSubnetGroup
// give it (API_DBSubnetGroup.html): each subnet with the Availability Zone EC2 has it in.
// awssim keeps no description; a group's is its name (RDS's "default" group's is "default").
func (c *call) subnetGroupXML(elem, name string) xn {
	vpc, subnets, _ := c.dbSubnetGroup(name)
	var subs []xn
	for j, sid := range subnets {
		az := fmt.Sprintf("%s%c", c.region, 'a'+j)
		for _, r := range c.rs().EC2 {
			if r.Kind == "subnet" && r.ID == sid && r.AZ != "" {
				az = r.AZ
			}
		}
		subs = append(subs, el("", tx("SubnetIdentifier", sid), el("SubnetAvailabilityZone", tx("Name", az)), tx("SubnetStatus", "Active")))
	}
	return el(elem, tx("DBSubnetGroupName", name), tx("DBSubnetGroupDescription", name), opt("VpcId", vpc),
		tx("SubnetGroupStatus", "Complete"), list("Subnets", "Subnet", subs), tx("DBSubnetGroupArn", c.arn("rds", c.region, "subgrp:"+name)))
}

// defaultSecurityGroup is the id of the VPC's security group named "default", or "".
func (c *call) defaultSecurityGroup(vpc string) string {
	for _, r := range c.rs().EC2 {
		if r.Kind == "sg" && r.VpcID == vpc && r.Name == "default" {
			return r.ID
		}
	}
	return ""
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
		it("Port", sn.port()),
		tx("AvailabilityZone", c.region+"a"),
		opt("VpcId", sn.VpcID),
		tx("InstanceCreateTime", isoTime(sn.original().Add(-24*time.Hour))),
		tx("MasterUsername", masterUsername),
		tx("EngineVersion", sn.Version),
		tx("SnapshotType", sn.Type),
		it("PercentProgress", progress),
		opt("SourceRegion", sn.SourceRegion),
		opt("SourceDBSnapshotIdentifier", sn.SourceARN),
		tx("StorageType", "gp3"),
		bl("Encrypted", sn.KmsKeyID != ""),
		opt("KmsKeyId", sn.KmsKeyID),
		tx("DBSnapshotArn", c.arn("rds", c.region, "snapshot:"+sn.ID)),
		bl("IAMDatabaseAuthenticationEnabled", sn.IAMAuth),
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

// newSnapshot records a snapshot of the instance's data as it is now; it becomes available
// after op's duration. It is encrypted with the instance's key and has its IAM
// authentication setting and port. tags are the ones the call gave; without any, an
// instance with CopyTagsToSnapshot gives the snapshot its own ("Copying tags to DB instance
// snapshots", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html#USER_Tagging.CopyTags:
// as the RestoreDBInstanceFromDBSnapshot reference puts it, RDS "checks whether you specify
// new tags. If yes, the new tags are added ... If there are no new tags, RDS looks for the
// tags from the source"). DeleteDBInstance's final snapshot and StopDBInstance's take no
// tags of their own.
func (c *call) newSnapshot(id string, in *dbInstance, typ, op, initial string, tags []tag) *dbSnapshot {
	sn := &dbSnapshot{ID: id, InstanceID: in.ID, Type: typ, Created: c.now, Original: c.now, DataTime: c.now,
		Engine: in.Engine, Version: in.EngineVersion, KmsKeyID: in.KmsKeyID, IAMAuth: in.IAMAuth, Port: in.Port,
		DbiResourceID: dbiResourceID(in.Seq), Tags: tags}
	if vpc, _, ok := c.dbSubnetGroup(in.SubnetGroup); ok {
		sn.VpcID = vpc
	}
	if len(tags) == 0 && in.CopyTagsToSnapshot {
		sn.Tags = slices.Clone(in.Tags)
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
	sn := c.newSnapshot(sid, in, "manual", OpCreateDBSnapshot, "creating", tagsParam(p))
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
	// "If you don't specify a value for this parameter, then the copy of the DB snapshot is
	// encrypted with the same Amazon Web Services KMS key as the source DB snapshot"; "If you
	// copy an encrypted snapshot to a different Amazon Web Services Region, then you must
	// specify an Amazon Web Services KMS key identifier for the destination Amazon Web
	// Services Region" (KmsKeyId, API_CopyDBSnapshot.html). A key is one of the
	// destination region's (kmsKeyARN).
	kms := sn.KmsKeyID
	if k := p.Get("KmsKeyId"); k != "" {
		if kms, err = c.kmsKeyARN(k); err != nil {
			return nil, err
		}
	} else if srcRegion != c.region && sn.KmsKeyID != "" {
		// RDS's own answer, as seen through the AWS CLI:
		// https://github.com/1Strategy/rds-oracle-cross-account-cross-region-dr/issues/1
		return nil, badRequest("InvalidParameterValue", "Must specify new KMS key for cross region encrypted snapshot copy.")
	}
	if ex := c.rs().DBSnapshots[dst]; ex != nil && ex.Status.at(c.now) != "" {
		return nil, badRequest("DBSnapshotAlreadyExists", "Cannot copy snapshot: a snapshot with the identifier %s already exists.", dst)
	}
	// As on RDS: the copy's SnapshotCreateTime is its own (now); the times of the data stay
	// the original's. Tags given on the call replace the source's; CopyTags copies them.
	cp := &dbSnapshot{ID: dst, InstanceID: sn.InstanceID, Type: "manual", Created: c.now, Original: sn.original(), DataTime: sn.dataTime(),
		Engine: sn.Engine, Version: sn.Version, KmsKeyID: kms, VpcID: sn.VpcID, DbiResourceID: sn.DbiResourceID,
		IAMAuth: sn.IAMAuth, Port: sn.Port, Tags: tagsParam(p)}
	if len(cp.Tags) == 0 && p.Get("CopyTags") == "true" {
		cp.Tags = slices.Clone(sn.Tags)
	}
	if srcRegion != c.region {
		cp.SourceRegion = srcRegion
		cp.SourceARN = c.arn("rds", srcRegion, "snapshot:"+srcID)
	}
	cp.Status.then(c.now, c.s.dur(c.service, OpCopyDBSnapshot), []string{"pending", "available"}, nil)
	c.rs().DBSnapshots[dst] = cp
	c.journal(dst)
	return []xn{el("DBSnapshot", c.snapshotXML(cp, "pending").kids...)}, nil
}

// restoreSource is what a restored instance takes from its snapshot or source instance:
// the engine, the encryption ("If the DB snapshot is encrypted, then the restored DB
// instance is encrypted using the KMS key that was used to encrypt the DB snapshot"; the
// restore calls have no KmsKeyId parameter, botocore rds/2014-10-31/service-2.json) and
// the port ("Default: The same port as the original DB instance").
type restoreSource struct {
	engine, version, kmsKeyID string
	port                      int
}

// newInstance creates an instance that goes creating → backing-up → available over op's
// duration, from the restore parameters AWS accepts on both restore calls. Every parameter
// is checked before anything changes, so a refused call leaves the world as it was.
func (c *call) newInstance(p url.Values, id, op string, src restoreSource) (*dbInstance, error) {
	if ex, _, err := c.liveInstance(id); err == nil && ex != nil {
		return nil, badRequest("DBInstanceAlreadyExists", "DB instance already exists")
	}
	sg := p.Get("DBSubnetGroupName")
	if sg == "" {
		sg = "default"
	} else if _, _, ok := c.dbSubnetGroup(sg); !ok {
		return nil, notFound("DBSubnetGroupNotFoundFault", "DB subnet group '%s' does not exist.", sg)
	}
	class := p.Get("DBInstanceClass")
	if class == "" {
		class = "db.r6g.large"
	}
	port := src.port
	if v := p.Get("Port"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1150 || n > 65535 { // "Constraints: Value must be 1150-65535"
			return nil, badRequest("InvalidParameterValue", "Invalid value %s for Port. Must be between 1150 and 65535", v)
		}
		port = n
	}
	og := p.Get("OptionGroupName")
	if og != "" {
		g := c.rs().OptionGroups[og]
		if g == nil {
			return nil, notFound("OptionGroupNotFoundFault", "Specified OptionGroupName: %s not found.", og)
		}
		if g.Engine != src.engine || g.Major != majorVersion(src.engine, src.version) {
			return nil, badRequest("InvalidParameterCombination", "The option group %s is for %s %s, not for %s %s (OptionGroupName).",
				og, g.Engine, g.Major, src.engine, majorVersion(src.engine, src.version))
		}
	}
	ca := p.Get("CACertificateIdentifier")
	if ca != "" && !slices.Contains(rdsCACerts, ca) {
		return nil, notFound("CertificateNotFound", "CACertificateIdentifier %s not found.", ca)
	}
	backup := p.Get("PreferredBackupWindow")
	if backup != "" {
		// "Must be in the format hh24:mi-hh24:mi ... Must be at least 30 minutes."
		s, e, ok := parseWindow(backup)
		if !ok || (e-s+24*60)%(24*60) < 30 {
			return nil, badRequest("InvalidParameterValue", "Invalid value %s for PreferredBackupWindow: must be hh24:mi-hh24:mi in UTC, at least 30 minutes", backup)
		}
	}
	in := &dbInstance{
		ID: id, Class: class, Engine: src.engine, EngineVersion: src.version,
		MultiAZ: p.Get("MultiAZ") == "true", Public: p.Get("PubliclyAccessible") == "true",
		SubnetGroup: sg, SecurityGroups: listParam(p, "VpcSecurityGroupIds"),
		ParamGroup: p.Get("DBParameterGroupName"), Created: c.now, Retention: 1, Seq: c.s.st.next(),
		Tags: tagsParam(p), Port: port, KmsKeyID: src.kmsKeyID, OptionGroup: og, CACert: ca, BackupWindow: backup,
		// "By default, minor engine upgrades are applied automatically"; CopyTagsToSnapshot
		// and IAM authentication are off unless asked for (CreateDBInstance, RestoreDBInstance*).
		AutoMinorUpgrade:   p.Get("AutoMinorVersionUpgrade") != "false",
		CopyTagsToSnapshot: p.Get("CopyTagsToSnapshot") == "true",
		IAMAuth:            p.Get("EnableIAMDatabaseAuthentication") == "true",
	}
	if len(in.SecurityGroups) == 0 {
		// "Default: The default EC2 VPC security group for the DB subnet group's VPC"
		// (VpcSecurityGroupIds, API_RestoreDBInstanceFromDBSnapshot.html).
		if vpc, _, _ := c.dbSubnetGroup(sg); vpc != "" {
			if d := c.defaultSecurityGroup(vpc); d != "" {
				in.SecurityGroups = []string{d}
			}
		}
	}
	if in.ParamGroup == "" {
		// "If you don't specify a value for DBParameterGroupName, then RDS uses the default
		// DBParameterGroup for the specified DB engine" (RestoreDBInstanceFromDBSnapshot).
		in.ParamGroup = "default." + paramFamily(src.engine, src.version)
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
	in, err := c.newInstance(p, id, OpRestoreFromSnapshot, restoreSource{engine: sn.Engine, version: sn.Version, kmsKeyID: sn.KmsKeyID, port: sn.Port})
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
	srcIn, _, err := c.liveInstance(src)
	if err != nil {
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
	in, err := c.newInstance(p, id, OpRestorePointInTime,
		restoreSource{engine: srcIn.Engine, version: srcIn.EngineVersion, kmsKeyID: srcIn.KmsKeyID, port: srcIn.Port})
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
		c.newSnapshot(final, in, "manual", OpCreateDBSnapshot, "creating", nil)
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
		c.newSnapshot(s, in, "manual", OpCreateDBSnapshot, "creating", nil)
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
		family := c.rs().paramFamily(g)
		items[i] = el("", tx("DBParameterGroupName", g), tx("DBParameterGroupFamily", family),
			tx("Description", "Custom parameter group for "+family), tx("DBParameterGroupArn", c.arn("rds", c.region, "pg:"+g)))
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
		items[i] = c.subnetGroupXML("", g)
	}
	return []xn{opt("Marker", next), list("DBSubnetGroups", "DBSubnetGroup", items)}, nil
}

// rdsDescribeOptionGroups lists the region's option groups by name, paged like every RDS
// Describe (MaxRecords 20-100, Marker). OptionGroupName names one group, and one that does
// not exist is OptionGroupNotFoundFault, HTTP 404 (API model); EngineName and
// MajorEngineVersion narrow the list, and "If specified, then EngineName must also be
// specified" (MajorEngineVersion, API_DescribeOptionGroups.html). Its Filters "isn't
// currently supported", so any filter name is unrecognized.
func rdsDescribeOptionGroups(c *call, p url.Values) ([]xn, error) {
	if _, err := rdsFilters(p); err != nil {
		return nil, err
	}
	pg, err := rdsPage(p)
	if err != nil {
		return nil, err
	}
	name, engine, major := p.Get("OptionGroupName"), p.Get("EngineName"), p.Get("MajorEngineVersion")
	if major != "" && engine == "" {
		return nil, badRequest("InvalidParameterCombination", "If MajorEngineVersion is supplied, EngineName must also be supplied.")
	}
	if name != "" && c.rs().OptionGroups[name] == nil {
		return nil, notFound("OptionGroupNotFoundFault", "Specified OptionGroupName: %s not found.", name)
	}
	var groups []*optionGroup
	for _, k := range sortedKeys(c.rs().OptionGroups) {
		g := c.rs().OptionGroups[k]
		if name != "" && g.Name != name || engine != "" && g.Engine != engine || major != "" && g.Major != major {
			continue
		}
		groups = append(groups, g)
	}
	page, next := pageOf(groups, func(g *optionGroup) string { return g.Name }, pg)
	items := make([]xn, len(page))
	for i, g := range page {
		items[i] = el("", tx("OptionGroupName", g.Name), tx("OptionGroupDescription", g.Description), tx("EngineName", g.Engine),
			tx("MajorEngineVersion", g.Major), list("Options", "Option", nil), bl("AllowsVpcAndNonVpcInstanceMemberships", true),
			tx("OptionGroupArn", c.arn("rds", c.region, "og:"+g.Name)))
	}
	return []xn{opt("Marker", next), list("OptionGroupsList", "OptionGroup", items)}, nil
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
