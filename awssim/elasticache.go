package awssim

import (
	"fmt"
	"net/url"
	"strconv"
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
}

// elasticacheOps are the ElastiCache actions (awsQuery). Groups are created empty, as the
// seed does: a cache is rebuilt, never restored.
var elasticacheOps = map[string]queryOp{
	"CreateReplicationGroup":    ecCreate,
	"DescribeReplicationGroups": ecDescribe,
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

// replXML includes ConfigurationEndpoint as well as the node group's primary endpoint:
// real AWS sets it only in cluster mode, but the seed runbook reads it, so both are offered.
func (c *call) replXML(g *replGroup, st string) xn {
	host := fmt.Sprintf("%s.sim001.ng.0001.%s.cache.amazonaws.com", g.ID, shortRegion(c.region))
	var members []xn
	var clusters []string
	for i := 1; i <= g.Nodes; i++ {
		cid := fmt.Sprintf("%s-%03d", g.ID, i)
		clusters = append(clusters, cid)
		role := "replica"
		if i == 1 {
			role = "primary"
		}
		members = append(members, el("", tx("CacheClusterId", cid), tx("CacheNodeId", "0001"),
			tx("PreferredAvailabilityZone", fmt.Sprintf("%s%c", c.region, 'a'+i-1)), tx("CurrentRole", role)))
	}
	var endpoints []xn
	if st != "creating" {
		endpoints = []xn{
			el("PrimaryEndpoint", tx("Address", "master."+host), it("Port", 6379)),
			el("ReaderEndpoint", tx("Address", "replica."+host), it("Port", 6379)),
		}
	}
	ng := el("", append([]xn{tx("NodeGroupId", "0001"), tx("Status", st)}, append(endpoints, list("NodeGroupMembers", "NodeGroupMember", members))...)...)
	cfg := xn{}
	if st != "creating" {
		cfg = el("ConfigurationEndpoint", tx("Address", "clustercfg."+host), it("Port", 6379))
	}
	af := "disabled"
	if g.AutoFail {
		af = "enabled"
	}
	return el("",
		tx("ReplicationGroupId", g.ID),
		tx("Description", g.Description),
		tx("Status", st),
		strList("MemberClusters", "ClusterId", clusters),
		list("NodeGroups", "NodeGroup", []xn{ng}),
		tx("AutomaticFailover", af),
		tx("MultiAZ", af),
		cfg,
		tx("CacheNodeType", g.NodeType),
		bl("ClusterEnabled", false),
		tx("Engine", g.Engine),
		tx("ARN", arn("elasticache", c.region, "replicationgroup:"+g.ID)),
		bl("AtRestEncryptionEnabled", true),
		bl("TransitEncryptionEnabled", true),
	)
}

func shortRegion(r string) string {
	switch r {
	case "us-east-1":
		return "use1"
	case "us-west-2":
		return "usw2"
	}
	return r
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
	if af && n < 2 {
		return nil, badRequest("InvalidParameterCombination", "Automatic failover requires at least 2 cache clusters.")
	}
	sub := p.Get("CacheSubnetGroupName")
	if sub != "" && c.rs().SubnetGroups["cache:"+sub] == nil {
		return nil, badRequest("CacheSubnetGroupNotFoundFault", "CacheSubnetGroup %s not found.", sub)
	}
	g := &replGroup{ID: id, Description: desc, NodeType: p.Get("CacheNodeType"), Engine: p.Get("Engine"),
		Version: p.Get("EngineVersion"), Nodes: n, AutoFail: af, SubnetGroup: sub, SGs: listParam(p, "SecurityGroupIds"),
		Tags: tagsParam(p)}
	if g.Engine == "" {
		g.Engine = "redis"
	}
	g.Status.then(c.now, c.s.dur(c.service, OpCreateReplicationGroup), []string{"creating", "available"}, nil)
	c.rs().ReplGroups[id] = g
	c.journal(id)
	return []xn{el("ReplicationGroup", c.replXML(g, "creating").kids...)}, nil
}

func ecDescribe(c *call, p url.Values) ([]xn, error) {
	id := p.Get("ReplicationGroupId")
	var items []xn
	if id != "" {
		g, st, err := c.liveRepl(id)
		if err != nil {
			return nil, err
		}
		items = append(items, c.replXML(g, st))
	} else {
		for _, k := range sortedKeys(c.rs().ReplGroups) {
			if g, st, err := c.liveRepl(k); err == nil {
				items = append(items, c.replXML(g, st))
			}
		}
	}
	return []xn{list("ReplicationGroups", "ReplicationGroup", items)}, nil
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
