package awssim

import (
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// ---- ElastiCache ----

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
}

var elasticacheOps = map[string]queryOp{
	"CreateReplicationGroup":    ecCreate,
	"DescribeReplicationGroups": ecDescribe,
	"DeleteReplicationGroup":    ecDelete,
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
		Version: p.Get("EngineVersion"), Nodes: n, AutoFail: af, SubnetGroup: sub, SGs: listParam(p, "SecurityGroupIds")}
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

// ---- ELBv2 ----

type loadBalancer struct {
	Name    string    `json:"name"`
	ARN     string    `json:"arn"`
	DNS     string    `json:"dns"`
	ZoneID  string    `json:"zoneID"`
	VpcID   string    `json:"vpcID"`
	SGs     []string  `json:"sgs"`
	Created time.Time `json:"created"`
}

type targetGroup struct {
	Name    string `json:"name"`
	ARN     string `json:"arn"`
	LB      string `json:"lb"`
	VpcID   string `json:"vpcID"`
	Cluster string `json:"cluster"`
	Service string `json:"service"`
}

var elbOps = map[string]queryOp{
	"DescribeLoadBalancers": elbDescribeLBs,
	"DescribeTargetGroups":  elbDescribeTGs,
	"DescribeTargetHealth":  elbDescribeHealth,
}

func elbDescribeLBs(c *call, p url.Values) ([]xn, error) {
	names, arns := listParam(p, "Names"), listParam(p, "LoadBalancerArns")
	want := map[string]bool{}
	for _, v := range append(names, arns...) {
		want[v] = true
	}
	var items []xn
	for _, k := range sortedKeys(c.rs().LoadBalancers) {
		lb := c.rs().LoadBalancers[k]
		if len(want) > 0 && !want[lb.Name] && !want[lb.ARN] {
			continue
		}
		delete(want, lb.Name)
		delete(want, lb.ARN)
		items = append(items, el("", tx("LoadBalancerArn", lb.ARN), tx("DNSName", lb.DNS),
			tx("CanonicalHostedZoneId", lb.ZoneID), tx("CreatedTime", isoTime(lb.Created)),
			tx("LoadBalancerName", lb.Name), tx("Scheme", "internet-facing"), tx("VpcId", lb.VpcID),
			el("State", tx("Code", "active")), tx("Type", "application"),
			strList("SecurityGroups", "member", lb.SGs), tx("IpAddressType", "ipv4")))
	}
	if len(want) > 0 {
		for k := range want {
			return nil, errf(400, "LoadBalancerNotFound", "One or more load balancers not found: %s", k)
		}
	}
	return []xn{list("LoadBalancers", "member", items)}, nil
}

func elbDescribeTGs(c *call, p url.Values) ([]xn, error) {
	names, arns := listParam(p, "Names"), listParam(p, "TargetGroupArns")
	lbArn := p.Get("LoadBalancerArn")
	want := map[string]bool{}
	for _, v := range append(names, arns...) {
		want[v] = true
	}
	if lbArn != "" {
		found := false
		for _, lb := range c.rs().LoadBalancers {
			found = found || lb.ARN == lbArn
		}
		if !found {
			return nil, errf(400, "LoadBalancerNotFound", "Load balancer '%s' not found", lbArn)
		}
	}
	var items []xn
	for _, k := range sortedKeys(c.rs().TargetGroups) {
		tg := c.rs().TargetGroups[k]
		if len(want) > 0 && !want[tg.Name] && !want[tg.ARN] || lbArn != "" && tg.LB != lbArn {
			continue
		}
		delete(want, tg.Name)
		delete(want, tg.ARN)
		items = append(items, el("", tx("TargetGroupArn", tg.ARN), tx("TargetGroupName", tg.Name),
			tx("Protocol", "HTTP"), it("Port", 8080), tx("VpcId", tg.VpcID), tx("HealthCheckProtocol", "HTTP"),
			tx("HealthCheckPort", "traffic-port"), bl("HealthCheckEnabled", true), it("HealthCheckIntervalSeconds", 30),
			it("HealthCheckTimeoutSeconds", 5), it("HealthyThresholdCount", 5), it("UnhealthyThresholdCount", 2),
			tx("HealthCheckPath", "/health"), el("Matcher", tx("HttpCode", "200")),
			strList("LoadBalancerArns", "member", []string{tg.LB}), tx("TargetType", "ip"), tx("IpAddressType", "ipv4")))
	}
	if len(want) > 0 {
		for k := range want {
			return nil, errf(400, "TargetGroupNotFound", "One or more target groups not found: %s", k)
		}
	}
	return []xn{list("TargetGroups", "member", items)}, nil
}

// targetStates is the ALB's view of the ECS service's tasks: a task is registered when it
// starts running and turns healthy after the TargetHealthy duration.
func (c *call) targetStates(tg *targetGroup) (ips, states []string) {
	svc := c.service0(tg.Cluster, tg.Service)
	if svc == nil {
		return nil, nil
	}
	healthy := c.s.dur("elasticloadbalancing", OpTargetHealthy)
	for _, t := range svc.Tasks {
		if !t.runningAt(c.now) {
			continue
		}
		st := "initial"
		if !c.now.Before(t.Start.Add(healthy)) {
			st = "healthy"
		}
		ips = append(ips, t.IP)
		states = append(states, st)
	}
	return ips, states
}

func elbDescribeHealth(c *call, p url.Values) ([]xn, error) {
	tgArn, err := param(p, "TargetGroupArn")
	if err != nil {
		return nil, err
	}
	var tg *targetGroup
	for _, g := range c.rs().TargetGroups {
		if g.ARN == tgArn {
			tg = g
		}
	}
	if tg == nil {
		return nil, errf(400, "TargetGroupNotFound", "Target groups '%s' not found", tgArn)
	}
	ips, states := c.targetStates(tg)
	var items []xn
	for i, ip := range ips {
		th := []xn{tx("State", states[i])}
		if states[i] == "initial" {
			th = append(th, tx("Reason", "Elb.InitialHealthChecking"), tx("Description", "Initial health checks in progress"))
		}
		items = append(items, el("", el("Target", tx("Id", ip), it("Port", 8080), tx("AvailabilityZone", c.region+"a")),
			tx("HealthCheckPort", "8080"), el("TargetHealth", th...)))
	}
	return []xn{list("TargetHealthDescriptions", "member", items)}, nil
}

// ---- STS, SNS ----

var stsOps = map[string]queryOp{
	"GetCallerIdentity": func(c *call, _ url.Values) ([]xn, error) {
		return []xn{tx("Arn", "arn:aws:iam::"+AccountID+":user/kirikae-sim"), tx("UserId", "AIDASIMULATEDUSER0001"), tx("Account", AccountID)}, nil
	},
}

// SNSMessage is one message published to a simulated SNS topic.
type SNSMessage struct {
	Time    time.Time `json:"time"`
	Topic   string    `json:"topic"`
	Subject string    `json:"subject"`
	Message string    `json:"message"`
}

var snsOps = map[string]queryOp{
	"Publish": func(c *call, p url.Values) ([]xn, error) {
		msg, err := param(p, "Message")
		if err != nil {
			return nil, err
		}
		topic := p.Get("TopicArn")
		if topic == "" {
			topic = p.Get("TargetArn")
		}
		if topic == "" && p.Get("PhoneNumber") == "" {
			return nil, badRequest("InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
		}
		if topic != "" && !c.rs().Topics[topic] {
			return nil, notFound("NotFound", "Topic does not exist")
		}
		c.s.st.Messages = append(c.s.st.Messages, SNSMessage{Time: c.now, Topic: topic, Subject: p.Get("Subject"), Message: msg})
		c.journal(topic)
		return []xn{tx("MessageId", fmt.Sprintf("00000000-0000-4000-9000-%012d", c.s.st.next()))}, nil
	},
}
