package awssim

import (
	"net/url"
	"time"
)

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

// elbOps are the ELBv2 actions (awsQuery). Target health is derived from the ECS service
// behind each target group, so it follows the tasks without any state of its own.
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
