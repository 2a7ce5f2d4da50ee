package awssim

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

type loadBalancer struct {
	Name    string    `json:"name"`
	ARN     string    `json:"arn"`
	DNS     string    `json:"dns"`
	ZoneID  string    `json:"zoneID"`
	VpcID   string    `json:"vpcID"`
	SGs     []string  `json:"sgs"`
	Subnets []string  `json:"subnets,omitempty"` // one per Availability Zone it is enabled in
	Created time.Time `json:"created"`
	Tags    []tag     `json:"tags,omitempty"`
}

type targetGroup struct {
	Name    string `json:"name"`
	ARN     string `json:"arn"`
	LB      string `json:"lb"`
	VpcID   string `json:"vpcID"`
	Cluster string `json:"cluster"`
	Service string `json:"service"`
	Tags    []tag  `json:"tags,omitempty"`
}

// elbOps are the ELBv2 actions (awsQuery). Target health is derived from the ECS service
// behind each target group, so it follows the tasks without any state of its own.
var elbOps = map[string]queryOp{
	"DescribeLoadBalancers": elbDescribeLBs,
	"DescribeTargetGroups":  elbDescribeTGs,
	"DescribeTargetHealth":  elbDescribeHealth,
	"DescribeTags":          elbDescribeTags,
}

// ELBv2 pages with PageSize (1 to 400; everything on one page without it) and Marker, and
// answers NextMarker (API reference, DescribeLoadBalancers and DescribeTargetGroups). A
// PageSize out of range fails the service's input validation, which answers ValidationError
// "1 validation error detected: Value '...' at '...' failed to satisfy constraint: ..."
// (the form of openshift/hive#28's answer).
func elbPage(p url.Values) (pageReq, error) {
	return parsePage(p.Get("PageSize"), p.Get("Marker"), pageLimits{min: 1, max: 400},
		func(v string) error {
			bound := "greater than or equal to 1"
			if n, err := strconv.Atoi(v); err == nil && n > 400 {
				bound = "less than or equal to 400"
			}
			return badRequest("ValidationError", "1 validation error detected: Value '%s' at 'pageSize' failed to satisfy constraint: Member must have value %s", v, bound)
		},
		func(v string) error { return badRequest("ValidationError", "The marker '%s' is not valid", v) })
}

// elbMax20 refuses more than 20 names or ARNs in one call: "You cannot describe more than
// '20' target groups at a time" (ValidationError; ansible-collections/amazon.aws#1593).
func elbMax20(what string, refs ...[]string) error {
	n := 0
	for _, r := range refs {
		n += len(r)
	}
	if n > 20 {
		return badRequest("ValidationError", "You cannot describe more than '20' %s at a time", what)
	}
	return nil
}

func elbDescribeLBs(c *call, p url.Values) ([]xn, error) {
	names, arns := listParam(p, "Names"), listParam(p, "LoadBalancerArns")
	if err := elbMax20("load balancers", names, arns); err != nil {
		return nil, err
	}
	pg, err := elbPage(p)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, v := range append(names, arns...) {
		want[v] = true
	}
	// missing shrinks as names are found; want stays the filter.
	missing := maps.Clone(want)
	var rows []*loadBalancer
	for _, k := range sortedKeys(c.rs().LoadBalancers) {
		lb := c.rs().LoadBalancers[k]
		if len(want) > 0 && !want[lb.Name] && !want[lb.ARN] {
			continue
		}
		delete(missing, lb.Name)
		delete(missing, lb.ARN)
		rows = append(rows, lb)
	}
	if len(missing) > 0 {
		return nil, errf(400, "LoadBalancerNotFound", "One or more load balancers not found: %s", slices.Sorted(maps.Keys(missing))[0])
	}
	page, next := pageOf(rows, func(lb *loadBalancer) string { return lb.Name }, pg)
	items := make([]xn, len(page))
	for i, lb := range page {
		items[i] = el("", tx("LoadBalancerArn", lb.ARN), tx("DNSName", lb.DNS),
			tx("CanonicalHostedZoneId", lb.ZoneID), tx("CreatedTime", isoTime(lb.Created)),
			tx("LoadBalancerName", lb.Name), tx("Scheme", "internet-facing"), tx("VpcId", lb.VpcID),
			el("State", tx("Code", "active")), tx("Type", "application"),
			c.lbZones(lb), strList("SecurityGroups", "member", lb.SGs), tx("IpAddressType", "ipv4"))
	}
	return []xn{list("LoadBalancers", "member", items), opt("NextMarker", next)}, nil
}

// lbZones is a load balancer's AvailabilityZones: "The subnets for the load balancer", each
// a ZoneName and SubnetId (API_LoadBalancer.html, API_AvailabilityZone.html in
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/; the
// DescribeLoadBalancers example in botocore's elbv2/2015-12-01/examples-1.json), the zone
// being the subnet's. LoadBalancerAddresses are static addresses, "[Network Load Balancers]"
// only, so an ALB's list is empty.
func (c *call) lbZones(lb *loadBalancer) xn {
	zones := make([]xn, 0, len(lb.Subnets))
	for _, id := range lb.Subnets {
		for _, r := range c.rs().EC2 {
			if r.Kind == "subnet" && r.ID == id {
				zones = append(zones, el("", tx("ZoneName", r.AZ), tx("SubnetId", id), el("LoadBalancerAddresses")))
			}
		}
	}
	return list("AvailabilityZones", "member", zones)
}

func elbDescribeTGs(c *call, p url.Values) ([]xn, error) {
	names, arns := listParam(p, "Names"), listParam(p, "TargetGroupArns")
	if err := elbMax20("target groups", names, arns); err != nil {
		return nil, err
	}
	pg, err := elbPage(p)
	if err != nil {
		return nil, err
	}
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
	missing := maps.Clone(want)
	var rows []*targetGroup
	for _, k := range sortedKeys(c.rs().TargetGroups) {
		tg := c.rs().TargetGroups[k]
		if len(want) > 0 && !want[tg.Name] && !want[tg.ARN] || lbArn != "" && tg.LB != lbArn {
			continue
		}
		delete(missing, tg.Name)
		delete(missing, tg.ARN)
		rows = append(rows, tg)
	}
	if len(missing) > 0 {
		return nil, errf(400, "TargetGroupNotFound", "One or more target groups not found: %s", slices.Sorted(maps.Keys(missing))[0])
	}
	page, next := pageOf(rows, func(tg *targetGroup) string { return tg.Name }, pg)
	items := make([]xn, len(page))
	for i, tg := range page {
		items[i] = el("", tx("TargetGroupArn", tg.ARN), tx("TargetGroupName", tg.Name),
			// "[HTTP/HTTPS protocol] The protocol version", HTTP1 unless the target group was
			// created with another (API_TargetGroup.html, API_CreateTargetGroup.html in the
			// ELBv2 API reference).
			tx("Protocol", "HTTP"), tx("ProtocolVersion", "HTTP1"), it("Port", 8080), tx("VpcId", tg.VpcID), tx("HealthCheckProtocol", "HTTP"),
			tx("HealthCheckPort", "traffic-port"), bl("HealthCheckEnabled", true), it("HealthCheckIntervalSeconds", 30),
			it("HealthCheckTimeoutSeconds", 5), it("HealthyThresholdCount", 5), it("UnhealthyThresholdCount", 2),
			tx("HealthCheckPath", "/health"), el("Matcher", tx("HttpCode", "200")),
			strList("LoadBalancerArns", "member", []string{tg.LB}), tx("TargetType", "ip"), tx("IpAddressType", "ipv4"))
	}
	return []xn{list("TargetGroups", "member", items), opt("NextMarker", next)}, nil
}

// elbDescribeTags answers DescribeTags for up to 20 load balancer and target group ARNs,
// in the order given, with the tags each was created with. An ARN of neither kind, or of
// one that does not exist, fails the whole call, as it does on AWS.
func elbDescribeTags(c *call, p url.Values) ([]xn, error) {
	refs := listParam(p, "ResourceArns")
	if len(refs) == 0 {
		return nil, badRequest("ValidationError", "1 validation error detected: Value null at 'resourceArns' failed to satisfy constraint: Member must not be null")
	}
	if len(refs) > 20 {
		return nil, badRequest("ValidationError", "You cannot describe the tags of more than '20' resources at a time")
	}
	items := make([]xn, 0, len(refs))
	for _, ref := range refs {
		var tags []tag
		found := false
		switch {
		case strings.Contains(ref, ":loadbalancer/"):
			for _, lb := range c.rs().LoadBalancers {
				if lb.ARN == ref {
					tags, found = lb.Tags, true
				}
			}
			if !found {
				return nil, errf(400, "LoadBalancerNotFound", "Load balancer '%s' not found", ref)
			}
		case strings.Contains(ref, ":targetgroup/"):
			for _, tg := range c.rs().TargetGroups {
				if tg.ARN == ref {
					tags, found = tg.Tags, true
				}
			}
			if !found {
				return nil, errf(400, "TargetGroupNotFound", "Target groups '%s' not found", ref)
			}
		default:
			return nil, badRequest("ValidationError", "'%s' in ResourceArns is not a valid load balancer or target group ARN", ref)
		}
		kv := make([]xn, len(tags))
		for i, t := range tags {
			kv[i] = el("", tx("Key", t.Key), tx("Value", t.Value))
		}
		items = append(items, el("", tx("ResourceArn", ref), list("Tags", "member", kv)))
	}
	return []xn{list("TagDescriptions", "member", items)}, nil
}

// targetStates is the ALB's view of the ECS service's tasks: a task is registered when it
// starts running and turns healthy at its Healthy time (start + the TargetHealthy duration).
func (c *call) targetStates(tg *targetGroup) (ips, states []string) {
	svc := c.service0(tg.Cluster, tg.Service)
	if svc == nil {
		return nil, nil
	}
	for _, t := range svc.Tasks {
		if !t.runningAt(c.now) {
			continue
		}
		st := "initial"
		if !c.now.Before(t.Healthy) {
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
