package awssim

import (
	"cmp"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

type replGroup struct {
	ID          string   `json:"id"`
	Description string   `json:"description"`
	NodeType    string   `json:"nodeType"`
	Engine      string   `json:"engine"`
	Version     string   `json:"version"`
	Nodes       int      `json:"nodes"`
	AutoFail    bool     `json:"autoFail"`
	SubnetGroup string   `json:"subnetGroup"`
	SGs         []string `json:"sgs"`
	Status      timeline `json:"status"`
	Tags        []tag    `json:"tags,omitempty"`
	// Shards holds, for a cluster-mode-enabled group, the replica count of each node group
	// (shard); it is empty for a cluster-mode-disabled group, whose one node group has
	// Nodes nodes.
	Shards []int `json:"shards,omitempty"`
	// The settings CreateReplicationGroup takes and DescribeReplicationGroups returns
	// (ecSettings); NetworkType and IpDiscovery are always ipv4 here. The zero values are
	// AWS's defaults, so a state file written before them reads as a group created
	// without them.
	AuthToken         bool   `json:"authToken,omitempty"` // an AuthToken was set; AWS never returns it
	DataTiering       bool   `json:"dataTiering,omitempty"`
	SnapshotRetention int    `json:"snapshotRetention,omitempty"`
	SnapshotWindow    string `json:"snapshotWindow,omitempty"`
}

func (g *replGroup) clusterMode() bool { return len(g.Shards) > 0 }

// elasticacheOps are the ElastiCache actions (awsQuery). Groups are created empty, as the
// seed does: a cache is rebuilt, never restored.
var elasticacheOps = map[string]queryOp{
	"CreateReplicationGroup":    ecCreate,
	"DescribeReplicationGroups": ecDescribe,
	"DescribeCacheSubnetGroups": ecDescribeSubnetGroups,
	"DeleteReplicationGroup":    ecDelete,
	"ListTagsForResource":       ecListTags,
}

func (c *call) liveRepl(id string) (*replGroup, string, error) {
	g := c.rs().ReplGroups[id]
	if g != nil {
		if st := g.Status.at(c.now); st != "" {
			return g, st, nil
		}
		delete(c.rs().ReplGroups, id)
	}
	return nil, "", notFound("ReplicationGroupNotFoundFault", "ReplicationGroup %s not found.", id)
}

// replXML describes a group as DescribeReplicationGroups does, in the shape of its cluster
// mode (AWS CLI examples describe-replication-groups, cluster mode disabled, and
// modify-replication-group-shard-configuration, cluster mode enabled):
//
//   - cluster mode disabled: ClusterEnabled false, one node group 0001 with PrimaryEndpoint
//     and ReaderEndpoint, each member with its ReadEndpoint and CurrentRole, and no
//     ConfigurationEndpoint;
//   - cluster mode enabled: ClusterEnabled true, a ConfigurationEndpoint, and node groups
//     with Slots whose members have neither ReadEndpoint nor CurrentRole ("only applicable
//     for ... cluster mode disabled", API reference NodeGroupMember) and no primary or
//     reader endpoint.
//
// Endpoints appear once the group has left "creating".
func (c *call) replXML(g *replGroup, st string) xn {
	sr := shortRegion(c.region)
	up := st != "creating"
	port := it("Port", 6379)
	var clusters []string
	var groups []xn
	member := func(cid string, i int, extra ...xn) xn {
		return el("", append([]xn{tx("CacheClusterId", cid), tx("CacheNodeId", "0001"),
			tx("PreferredAvailabilityZone", fmt.Sprintf("%s%c", c.region, 'a'+i%3))}, extra...)...)
	}
	cfg := xn{}
	if g.clusterMode() {
		for s, replicas := range g.Shards {
			ngID := fmt.Sprintf("%04d", s+1)
			var members []xn
			for i := 0; i <= replicas; i++ {
				cid := fmt.Sprintf("%s-%s-%03d", g.ID, ngID, i+1)
				clusters = append(clusters, cid)
				members = append(members, member(cid, s+i))
			}
			lo, hi := 16384*s/len(g.Shards), 16384*(s+1)/len(g.Shards)-1
			groups = append(groups, el("", tx("NodeGroupId", ngID), tx("Status", st), tx("Slots", fmt.Sprintf("%d-%d", lo, hi)),
				list("NodeGroupMembers", "NodeGroupMember", members)))
		}
		if up {
			cfg = el("ConfigurationEndpoint", tx("Address", fmt.Sprintf("clustercfg.%s.sim001.%s.cache.amazonaws.com", g.ID, sr)), port)
		}
	} else {
		host := cacheHost(g.ID, c.region)
		var members []xn
		for i := 0; i < g.Nodes; i++ {
			cid := fmt.Sprintf("%s-%03d", g.ID, i+1)
			clusters = append(clusters, cid)
			role := "replica"
			if i == 0 {
				role = "primary"
			}
			read := xn{}
			if up {
				read = el("ReadEndpoint", tx("Address", fmt.Sprintf("%s.sim001.0001.%s.cache.amazonaws.com", cid, sr)), port)
			}
			members = append(members, member(cid, i, read, tx("CurrentRole", role)))
		}
		ng := []xn{tx("NodeGroupId", "0001"), tx("Status", st)}
		if up {
			ng = append(ng, el("PrimaryEndpoint", tx("Address", "master."+host), port),
				el("ReaderEndpoint", tx("Address", "replica."+host), port))
		}
		groups = []xn{el("", append(ng, list("NodeGroupMembers", "NodeGroupMember", members))...)}
	}
	af, mode, dataTiering := "disabled", "disabled", "disabled"
	if g.DataTiering {
		dataTiering = "enabled"
	}
	if g.AutoFail {
		af = "enabled"
	}
	if g.clusterMode() {
		mode = "enabled"
	}
	return el("",
		tx("ReplicationGroupId", g.ID),
		tx("Description", g.Description),
		tx("Status", st),
		strList("MemberClusters", "ClusterId", clusters),
		list("NodeGroups", "NodeGroup", groups),
		tx("AutomaticFailover", af),
		tx("MultiAZ", af),
		cfg,
		tx("CacheNodeType", g.NodeType),
		bl("ClusterEnabled", g.clusterMode()),
		tx("Engine", g.Engine),
		tx("ARN", c.arn("elasticache", c.region, "replicationgroup:"+g.ID)),
		bl("AtRestEncryptionEnabled", true),
		bl("TransitEncryptionEnabled", true),
		tx("ClusterMode", mode),
		it("SnapshotRetentionLimit", g.SnapshotRetention),
		tx("SnapshotWindow", cmp.Or(g.SnapshotWindow, ecDefaultSnapshotWindow)),
		bl("AuthTokenEnabled", g.AuthToken),
		tx("ReplicationGroupCreateTime", isoTime(g.created())),
		tx("DataTiering", dataTiering),
		tx("NetworkType", "ipv4"),
		tx("IpDiscovery", "ipv4"),
	)
}

// created is when CreateReplicationGroup was called (or the fixture built the group): the
// start of its first phase.
func (g *replGroup) created() time.Time {
	if len(g.Status.Phases) == 0 {
		return time.Time{}
	}
	return g.Status.Phases[0].At
}

// ecDefaultSnapshotWindow is the window awssim gives a group created without SnapshotWindow
// ("If you do not specify this parameter, ElastiCache automatically chooses an appropriate
// time range", API reference, CreateReplicationGroup). AWS picks a one-hour window, as in
// the AWS CLI's own examples, whose groups were created without one and show
// "SnapshotRetentionLimit": 0, "SnapshotWindow": "06:00-07:00" (aws/aws-cli
// awscli/examples/elasticache/create-replication-group.rst and delete-replication-group.rst);
// awssim always picks that one.
const ecDefaultSnapshotWindow = "06:00-07:00"

// ecWindowRE is a daily time range in UTC, hh24:mi-hh24:mi (SnapshotWindow, "Example:
// 05:00-09:00").
var ecWindowRE = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$`)

// ecAuthTokenRE is an AuthToken as CreateReplicationGroup constrains it: 16 to 128
// printable ASCII characters, the only special characters being !, &, #, $, ^, <, > and -
// (API reference and botocore model, CreateReplicationGroupMessage AuthToken).
var ecAuthTokenRE = regexp.MustCompile(`^[A-Za-z0-9!&#$^<>-]{16,128}$`)

// ecSettings reads the settings of a new group that DescribeReplicationGroups returns
// (API reference, ReplicationGroup, and CreateReplicationGroup for each parameter):
//
//   - AuthTokenEnabled: whether AuthToken was given ("Default: false"); AuthToken "can be
//     specified only on replication groups where TransitEncryptionEnabled is true";
//   - DataTiering, from DataTieringEnabled: "only supported for replication groups using
//     the r6gd node type", and "must be set to true when using r6gd nodes";
//   - NetworkType ("ipv4 | ipv6 | dual_stack") and IpDiscovery ("ipv4 | ipv6"), ipv4 by
//     default. IPv6 needs subnets with IPv6 CIDR blocks, and awssim's subnets have none,
//     so a cache subnet group here supports ipv4 only (CacheSubnetGroup
//     SupportedNetworkTypes); ipv6 discovery needs an ipv6 or dual_stack network;
//   - SnapshotRetentionLimit, days, "Default: 0 (i.e., automatic backups are disabled)",
//     at most 35 ("The maximum value allowed is 35 days", CreateServerlessCache; AWS
//     Config's elasticache-automatic-backup-check-enabled: "Valid values are 1 to 35");
//   - SnapshotWindow, hh24:mi-hh24:mi in UTC, or ecDefaultSnapshotWindow.
func ecSettings(p url.Values, g *replGroup) error {
	if tok, ok := p["AuthToken"]; ok {
		if len(tok) == 0 || !ecAuthTokenRE.MatchString(tok[0]) {
			return badRequest("InvalidParameterValue", "Invalid AuthToken provided: it must be 16 to 128 printable characters, "+
				"with no special characters other than !, &, #, $, ^, <, > and -.")
		}
		if p.Get("TransitEncryptionEnabled") == "false" {
			return badRequest("InvalidParameterCombination", "AuthToken can be specified only when TransitEncryptionEnabled is true.")
		}
		g.AuthToken = true
	}
	r6gd := strings.Contains(g.NodeType, ".r6gd.")
	switch v := p.Get("DataTieringEnabled"); {
	case v != "" && v != "true" && v != "false":
		return badRequest("InvalidParameterValue", "Invalid value for DataTieringEnabled: %s", v)
	case v == "true" && !r6gd:
		return badRequest("InvalidParameterCombination", "Data tiering is supported only for the r6gd node types, not %s.", g.NodeType)
	case v != "true" && r6gd:
		return badRequest("InvalidParameterCombination", "DataTieringEnabled must be true for the r6gd node type %s.", g.NodeType)
	}
	g.DataTiering = r6gd
	switch nt := p.Get("NetworkType"); nt {
	case "", "ipv4":
	case "ipv6", "dual_stack":
		return badRequest("InvalidParameterCombination", "NetworkType %s needs subnets with IPv6 CIDR blocks; awssim's subnets have none, "+
			"so its cache subnet groups support ipv4 only.", nt)
	default:
		return badRequest("InvalidParameterValue", "Invalid NetworkType %q: use ipv4, ipv6 or dual_stack.", nt)
	}
	switch ip := p.Get("IpDiscovery"); ip {
	case "", "ipv4":
	case "ipv6":
		return badRequest("InvalidParameterCombination", "IpDiscovery ipv6 needs NetworkType ipv6 or dual_stack.")
	default:
		return badRequest("InvalidParameterValue", "Invalid IpDiscovery %q: use ipv4 or ipv6.", ip)
	}
	days, err := intParam(p, "SnapshotRetentionLimit", 0, 35, 0)
	if err != nil {
		return err
	}
	g.SnapshotRetention = days
	if w := p.Get("SnapshotWindow"); w != "" {
		if !ecWindowRE.MatchString(w) {
			return badRequest("InvalidParameterValue", "Invalid SnapshotWindow %q: use hh24:mi-hh24:mi (UTC), such as 05:00-09:00.", w)
		}
		g.SnapshotWindow = w
	}
	return nil
}

// intParam reads an optional integer parameter in [lo, hi]; absent is def.
func intParam(p url.Values, name string, lo, hi, def int) (int, error) {
	v := p.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("InvalidParameterValue", "%s must be between %d and %d, not %s.", name, lo, hi, v)
	}
	return n, nil
}

// ecShards decides a new group's cluster mode and, when it is enabled, its node groups.
// Cluster mode is enabled by ClusterMode=enabled or by a parameter group with
// cluster-enabled yes, which for the default groups is the ".cluster.on" suffix
// (CreateReplicationGroup's CacheParameterGroupName: "To create a ... (cluster mode
// enabled) replication group, use CacheParameterGroupName=default.redis3.2.cluster.on";
// awssim models no custom parameter groups). More than one node group needs cluster mode,
// and cluster mode needs AutomaticFailoverEnabled ("must be enabled for ... (cluster mode
// enabled) replication groups"). The number of node groups comes from NumNodeGroups
// (1 to 500) or from the entries of NodeGroupConfiguration, each with its ReplicaCount
// or else ReplicasPerNodeGroup (0 to 5).
func ecShards(p url.Values, autoFail bool) ([]int, error) {
	mode := p.Get("ClusterMode")
	switch mode {
	case "", "enabled", "disabled":
	case "compatible":
		return nil, badRequest("InvalidParameterValue", "ClusterMode compatible is not modelled by awssim; use enabled or disabled.")
	default:
		return nil, badRequest("InvalidParameterValue", "Invalid ClusterMode %q: use enabled, disabled or compatible.", mode)
	}
	pgroup := p.Get("CacheParameterGroupName")
	pgOn := strings.HasSuffix(pgroup, ".cluster.on")
	if mode == "disabled" && pgOn {
		return nil, badRequest("InvalidParameterCombination", "ClusterMode disabled contradicts CacheParameterGroupName %s, which enables cluster mode.", pgroup)
	}
	if mode == "enabled" && pgroup != "" && !pgOn {
		return nil, badRequest("InvalidParameterCombination", "ClusterMode enabled needs a cluster-enabled parameter group, not CacheParameterGroupName %s.", pgroup)
	}
	enabled := mode == "enabled" || pgOn
	replicas, err := intParam(p, "ReplicasPerNodeGroup", 0, 5, 0)
	if err != nil {
		return nil, err
	}
	n, err := intParam(p, "NumNodeGroups", 1, 500, 0)
	if err != nil {
		return nil, err
	}
	var shards []int
	for i := 1; i <= 501; i++ { // one past the limit, so that too many are refused below
		base := fmt.Sprintf("NodeGroupConfiguration.NodeGroupConfiguration.%d.", i)
		has := false
		for k := range p {
			has = has || strings.HasPrefix(k, base)
		}
		if !has {
			break
		}
		r, err := intParam(p, base+"ReplicaCount", 0, 5, replicas)
		if err != nil {
			return nil, err
		}
		shards = append(shards, r)
	}
	switch {
	case len(shards) > 500:
		return nil, badRequest("InvalidParameterValue", "NodeGroupConfiguration has %d entries; a replication group has at most 500 node groups.", len(shards))
	case len(shards) > 0 && n > 0 && n != len(shards):
		return nil, badRequest("InvalidParameterCombination", "NumNodeGroups %d does not match the %d entries of NodeGroupConfiguration.", n, len(shards))
	case len(shards) == 0:
		shards = make([]int, max(n, 1))
		for i := range shards {
			shards[i] = replicas
		}
	}
	if !enabled {
		if len(shards) > 1 {
			return nil, badRequest("InvalidParameterCombination",
				"NumNodeGroups %d needs cluster mode enabled: set ClusterMode enabled or a cluster-enabled CacheParameterGroupName such as default.redis7.cluster.on.", len(shards))
		}
		return nil, nil
	}
	if !autoFail {
		return nil, badRequest("InvalidParameterCombination", "AutomaticFailoverEnabled must be enabled for a cluster-mode-enabled replication group.")
	}
	return shards, nil
}

func ecCreate(c *call, p url.Values) ([]xn, error) {
	id, err := param(p, "ReplicationGroupId")
	if err != nil {
		return nil, err
	}
	desc, err := param(p, "ReplicationGroupDescription")
	if err != nil {
		return nil, err
	}
	if _, _, err := c.liveRepl(id); err == nil {
		return nil, badRequest("ReplicationGroupAlreadyExists", "Replication group %s already exists.", id)
	}
	n := 1
	if v := p.Get("NumCacheClusters"); v != "" {
		n, err = strconv.Atoi(v)
		if err != nil || n < 1 || n > 6 {
			return nil, badRequest("InvalidParameterValue", "NumCacheClusters must be between 1 and 6.")
		}
	}
	af := p.Get("AutomaticFailoverEnabled") == "true"
	shards, err := ecShards(p, af)
	if err != nil {
		return nil, err
	}
	if len(shards) == 0 && p.Get("NumCacheClusters") == "" && p.Get("ReplicasPerNodeGroup") != "" {
		// Its one node group: a primary and ReplicasPerNodeGroup replicas (checked by ecShards).
		n, _ = strconv.Atoi(p.Get("ReplicasPerNodeGroup"))
		n++
	}
	// NumCacheClusters "is not used if there is more than one node group"; the check on it
	// is for cluster-mode-disabled groups.
	if af && len(shards) == 0 && n < 2 {
		return nil, badRequest("InvalidParameterCombination", "Automatic failover requires at least 2 cache clusters.")
	}
	sub := p.Get("CacheSubnetGroupName")
	if sub != "" && c.rs().SubnetGroups["cache:"+sub] == nil {
		return nil, badRequest("CacheSubnetGroupNotFoundFault", "CacheSubnetGroup %s not found.", sub)
	}
	g := &replGroup{ID: id, Description: desc, NodeType: p.Get("CacheNodeType"), Engine: p.Get("Engine"),
		Version: p.Get("EngineVersion"), Nodes: n, AutoFail: af, SubnetGroup: sub, SGs: listParam(p, "SecurityGroupIds"),
		Tags: tagsParam(p), Shards: shards}
	if g.Engine == "" {
		g.Engine = "redis"
	}
	if err := ecSettings(p, g); err != nil {
		return nil, err
	}
	g.Status.then(c.now, c.s.dur(c.service, OpCreateReplicationGroup), []string{"creating", "available"}, nil)
	c.rs().ReplGroups[id] = g
	c.journal(id)
	return []xn{el("ReplicationGroup", c.replXML(g, "creating").kids...)}, nil
}

// ElastiCache pages with MaxRecords (default 100, 20 to 100) and Marker (API reference,
// DescribeReplicationGroups). Its wording for a MaxRecords out of range is "Invalid value
// for max records. Must be between 20 and 100" (aws/aws-sdk-js-v3#5727).
var ecPageLimits = pageLimits{min: 20, max: 100, def: 100}

func ecDescribe(c *call, p url.Values) ([]xn, error) {
	pg, err := parsePage(p.Get("MaxRecords"), p.Get("Marker"), ecPageLimits,
		func(string) error {
			return badRequest("InvalidParameterValue", "Invalid value for max records. Must be between %d and %d", ecPageLimits.min, ecPageLimits.max)
		},
		func(v string) error { return badRequest("InvalidParameterValue", "Invalid Marker: %s", v) })
	if err != nil {
		return nil, err
	}
	id := p.Get("ReplicationGroupId")
	type row struct {
		g  *replGroup
		st string
	}
	var rows []row
	if id != "" {
		g, st, err := c.liveRepl(id)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{g, st})
	} else {
		for _, k := range sortedKeys(c.rs().ReplGroups) {
			if g, st, err := c.liveRepl(k); err == nil {
				rows = append(rows, row{g, st})
			}
		}
	}
	page, next := pageOf(rows, func(r row) string { return r.g.ID }, pg)
	items := make([]xn, len(page))
	for i, r := range page {
		items[i] = c.replXML(r.g, r.st)
	}
	return []xn{opt("Marker", next), list("ReplicationGroups", "ReplicationGroup", items)}, nil
}

func ecDelete(c *call, p url.Values) ([]xn, error) {
	id, err := param(p, "ReplicationGroupId")
	if err != nil {
		return nil, err
	}
	g, st, err := c.liveRepl(id)
	if err != nil {
		return nil, err
	}
	if st != "available" {
		return nil, badRequest("InvalidReplicationGroupState", "Replication group %s is not in available state.", id)
	}
	g.Status.then(c.now, c.s.dur(c.service, OpDeleteReplicationGroup), []string{"deleting", ""}, nil)
	c.journal(id)
	return []xn{el("ReplicationGroup", c.replXML(g, "deleting").kids...)}, nil
}

// ecListTags answers ListTagsForResource for a replication group's ARN. As on AWS, this is
// the only way to read a group's tags: DescribeReplicationGroups does not return them.
func ecListTags(c *call, p url.Values) ([]xn, error) {
	name, err := param(p, "ResourceName")
	if err != nil {
		return nil, err
	}
	region, typ, id, ok := parseARN(name, "elasticache")
	if !ok || region != c.region {
		return nil, badRequest("InvalidARN", "The ARN %s is not valid.", name)
	}
	if typ != "replicationgroup" {
		return nil, badRequest("InvalidParameterValue", "awssim keeps the tags of replication groups only, not of %s", name)
	}
	g, _, err := c.liveRepl(id)
	if err != nil {
		return nil, err
	}
	return []xn{tagListXML(g.Tags)}, nil
}

// ecDescribeSubnetGroups lists the region's cache subnet groups, or the one named, each
// with its VPC and its subnets in the Availability Zones EC2 has them in. awssim keeps no
// description; a group's is its name.
func ecDescribeSubnetGroups(c *call, p url.Values) ([]xn, error) {
	pg, err := parsePage(p.Get("MaxRecords"), p.Get("Marker"), ecPageLimits,
		func(string) error {
			return badRequest("InvalidParameterValue", "Invalid value for max records. Must be between %d and %d", ecPageLimits.min, ecPageLimits.max)
		},
		func(v string) error { return badRequest("InvalidParameterValue", "Invalid Marker: %s", v) })
	if err != nil {
		return nil, err
	}
	var names []string
	if name := p.Get("CacheSubnetGroupName"); name != "" {
		if c.rs().SubnetGroups["cache:"+name] == nil {
			return nil, badRequest("CacheSubnetGroupNotFoundFault", "Cache subnet group %s not found.", name)
		}
		names = []string{name}
	} else {
		for _, k := range sortedKeys(c.rs().SubnetGroups) {
			if name, ok := strings.CutPrefix(k, "cache:"); ok {
				names = append(names, name)
			}
		}
	}
	page, next := pageOf(names, func(n string) string { return n }, pg)
	items := make([]xn, len(page))
	for i, name := range page {
		g := c.rs().SubnetGroups["cache:"+name] // the VPC, then its subnets
		var subs []xn
		for _, sid := range g[1:] {
			az := ""
			for _, r := range c.rs().EC2 {
				if r.Kind == "subnet" && r.ID == sid {
					az = r.AZ
				}
			}
			subs = append(subs, el("", tx("SubnetIdentifier", sid), el("SubnetAvailabilityZone", tx("Name", az)),
				strList("SupportedNetworkTypes", "member", []string{"ipv4"})))
		}
		items[i] = el("", tx("CacheSubnetGroupName", name), tx("CacheSubnetGroupDescription", name), tx("VpcId", g[0]),
			list("Subnets", "Subnet", subs), tx("ARN", c.arn("elasticache", c.region, "subnetgroup:"+name)),
			strList("SupportedNetworkTypes", "member", []string{"ipv4"}))
	}
	return []xn{opt("Marker", next), list("CacheSubnetGroups", "CacheSubnetGroup", items)}, nil
}
