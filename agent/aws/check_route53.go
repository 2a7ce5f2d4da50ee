package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
)

// aliasCheck checks aws.route53.upsertAlias as Route53UpsertAlias would use it:
//
//   - the zone: hostedZoneId must be a hosted zone (GetHostedZone); hostedZone must name
//     exactly one public zone (ListHostedZonesByName, as the executor finds it); the record
//     must lie within the zone.
//   - the target: targetLoadBalancer must be a load balancer of the step's region. A literal
//     targetDnsName that is a load balancer's DNS name (…elb.amazonaws.com) must be one of
//     the region that name gives (the step's region for the seed's DR ALB), and
//     targetHostedZoneId must be its CanonicalHostedZoneId: Route 53 refuses any other only
//     when the step runs (InvalidChangeBatch). A target that is no load balancer
//     (CloudFront, an S3 website) is not checked.
type aliasCheck struct {
	route53 func(region string) (route53CheckAPI, error)
	elb     func(region string) (elbCheckAPI, error)
}

func (c *aliasCheck) Check(ctx context.Context, s action.CheckStep) []catalog.Finding {
	f := newFindings(s)
	in, err := action.DecodeCheck(s, catalog.UpsertAlias)
	if err != nil {
		return f.invalid(err)
	}
	c.zone(ctx, f, s, in)
	c.target(ctx, f, s, in)
	return f.list
}

func (c *aliasCheck) zone(ctx context.Context, f *findings, s action.CheckStep, in catalog.UpsertAliasIn) {
	if in.HostedZoneID == "" && in.HostedZone == "" {
		return
	}
	api, err := c.route53(s.Region)
	if err != nil {
		f.noClients(s.Region, err)
		return
	}
	record := in.RecordName
	// suggest names the zone that holds the record, for a fix.
	suggest := func(also string) string {
		if record == "" {
			return also
		}
		id, name, err := zoneOfRecord(ctx, api, record)
		if err != nil || id == "" {
			return "hostedZoneId: the id of the public hosted zone that holds " + fqdn(record) + ", or hostedZone: its name" + also
		}
		return fmt.Sprintf("hostedZoneId: %s (the public zone %s, which holds %s), or hostedZone: %s and let kirikae find its id",
			id, name, fqdn(record), strings.TrimSuffix(name, "."))
	}
	zoneName := ""
	if in.HostedZoneID != "" {
		id := strings.TrimPrefix(in.HostedZoneID, "/hostedzone/")
		out, err := api.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})
		switch {
		case isCode(err, "NoSuchHostedZone", "InvalidInput"):
			f.missing("hostedZoneId", fmt.Sprintf("there is no hosted zone %s", id), suggest(""))
		case err != nil:
			f.failed("hostedZoneId", "route53:GetHostedZone", s.Region, err)
		case out.HostedZone != nil:
			zoneName = aws.ToString(out.HostedZone.Name)
		}
	} else {
		public, err := publicZones(ctx, api, in.HostedZone)
		switch {
		case err != nil:
			f.failed("hostedZone", "route53:ListHostedZonesByName", s.Region, err)
		case len(public) == 0:
			f.missing("hostedZone", "there is no public hosted zone named "+fqdn(in.HostedZone), suggest(""))
		case len(public) > 1:
			f.add("hostedZone", catalog.FindingAmbiguousResource,
				fmt.Sprintf("%d public hosted zones are named %s: %s", len(public), fqdn(in.HostedZone), strings.Join(public, ", ")),
				"hostedZoneId: "+oneOf(public)+", the zone whose name servers the domain's registrar names")
		default:
			zoneName = fqdn(in.HostedZone)
		}
	}
	if zoneName != "" && record != "" && !within(fqdn(record), fqdn(zoneName)) {
		f.add("recordName", catalog.FindingRecordNotInZone,
			fmt.Sprintf("record %s does not lie within the zone %s; Route 53 refuses the change", fqdn(record), fqdn(zoneName)),
			suggest(", or recordName: a name that ends in "+fqdn(zoneName)))
	}
}

func (c *aliasCheck) target(ctx context.Context, f *findings, s action.CheckStep, in catalog.UpsertAliasIn) {
	switch {
	case in.TargetLoadBalancer != "":
		api, err := c.elb(s.Region)
		if err != nil {
			f.noClients(s.Region, err)
			return
		}
		_, err = api.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{in.TargetLoadBalancer}})
		switch {
		case isCode(err, "LoadBalancerNotFound"):
			lbs, lerr := listLoadBalancers(ctx, api)
			if lerr != nil {
				f.failed("targetLoadBalancer", "elasticloadbalancing:DescribeLoadBalancers", s.Region, lerr)
			}
			f.missing("targetLoadBalancer", fmt.Sprintf("there is no load balancer named %s in %s; %s", in.TargetLoadBalancer, s.Region, lbList(lbs, s.Region)),
				fixLoadBalancer(lbs, s.Region, ""))
		case err != nil:
			f.failed("targetLoadBalancer", "elasticloadbalancing:DescribeLoadBalancers", s.Region, err)
		}
	case in.TargetDNSName != "":
		region := elbRegion(in.TargetDNSName)
		if region == "" {
			return // no load balancer: nothing kirikae can read the zone of
		}
		api, err := c.elb(region)
		if err != nil {
			f.noClients(region, err)
			return
		}
		lbs, err := listLoadBalancers(ctx, api)
		if err != nil {
			f.failed("targetDnsName", "elasticloadbalancing:DescribeLoadBalancers", region, err)
			return
		}
		var lb *elbtypes.LoadBalancer
		for i := range lbs {
			if sameDNS(aws.ToString(lbs[i].DNSName), in.TargetDNSName) {
				lb = &lbs[i]
			}
		}
		if lb == nil {
			f.missing("targetDnsName", fmt.Sprintf("no load balancer in %s has the DNS name %s; %s", region, in.TargetDNSName, lbList(lbs, region)),
				fixLoadBalancer(lbs, region, s.Region))
			// The zone is wrong on its own account when no load balancer there has it (the
			// seed's Z1BKCTXD74EZPE for a us-west-2 ALB): fixing the name alone is not enough.
			have := strings.TrimPrefix(in.TargetHostedZoneID, "/hostedzone/")
			var zones []string
			for _, l := range lbs {
				if z := aws.ToString(l.CanonicalHostedZoneId); z != "" && !slices.Contains(zones, z) {
					zones = append(zones, z)
				}
			}
			if have != "" && len(zones) > 0 && !slices.Contains(zones, have) {
				f.add("targetHostedZoneId", catalog.FindingAliasZoneMismatch,
					fmt.Sprintf("targetHostedZoneId %s is the canonical hosted zone of no load balancer in %s (theirs: %s); Route 53 refuses the alias when the step runs",
						have, region, strings.Join(zones, ", ")),
					fixLoadBalancer(lbs, region, s.Region))
			}
			return
		}
		name, zone := aws.ToString(lb.LoadBalancerName), aws.ToString(lb.CanonicalHostedZoneId)
		if have := strings.TrimPrefix(in.TargetHostedZoneID, "/hostedzone/"); have != "" && zone != "" && have != zone {
			fix := fmt.Sprintf("targetHostedZoneId: %s, or write targetLoadBalancer: %s and let kirikae find both", zone, name)
			if region != s.Region {
				fix = fmt.Sprintf("targetHostedZoneId: %s", zone)
			}
			f.add("targetHostedZoneId", catalog.FindingAliasZoneMismatch,
				fmt.Sprintf("targetHostedZoneId %s is not the canonical hosted zone of load balancer %s (%s) in %s, which is %s; Route 53 refuses the alias when the step runs",
					have, name, aws.ToString(lb.DNSName), region, zone), fix)
		}
	}
}

// listLoadBalancers lists every load balancer the client's region has.
func listLoadBalancers(ctx context.Context, api elbv2.DescribeLoadBalancersAPIClient) ([]elbtypes.LoadBalancer, error) {
	var out []elbtypes.LoadBalancer
	p := elbv2.NewDescribeLoadBalancersPaginator(api, &elbv2.DescribeLoadBalancersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, err
		}
		out = append(out, page.LoadBalancers...)
	}
	return out, nil
}

// lbList says which load balancers region has, for a problem.
func lbList(lbs []elbtypes.LoadBalancer, region string) string {
	if len(lbs) == 0 {
		return region + " has no load balancer"
	}
	var names []string
	for _, lb := range lbs {
		names = append(names, aws.ToString(lb.LoadBalancerName)+" ("+aws.ToString(lb.DNSName)+")")
	}
	return "the load balancers there are " + strings.Join(names, ", ")
}

// fixLoadBalancer offers the load balancers of region as the target. stepRegion is the
// step's region when the plan gave a DNS name, "" when it gave targetLoadBalancer: a load
// balancer of the step's region is offered by name, one of another region by DNS name.
func fixLoadBalancer(lbs []elbtypes.LoadBalancer, region, stepRegion string) string {
	if len(lbs) == 0 {
		return "create the load balancer in " + region + " before the run, or correct the target"
	}
	var names []string
	var dns []string
	for _, lb := range lbs {
		names = append(names, aws.ToString(lb.LoadBalancerName))
		dns = append(dns, aws.ToString(lb.DNSName))
	}
	switch {
	case stepRegion == "":
		return "targetLoadBalancer: " + oneOf(names)
	case stepRegion != region:
		return "targetDnsName: " + oneOf(dns) + ", with its canonical hosted zone as targetHostedZoneId"
	}
	return "targetLoadBalancer: " + oneOf(names) + " (instead of targetDnsName and targetHostedZoneId), and let kirikae find its DNS name and zone"
}

// elbRegion is the region in a load balancer's DNS name: NAME-ID.REGION.elb.amazonaws.com
// (application and classic, with dualstack. or internal- in front) or
// NAME-ID.elb.REGION.amazonaws.com (network); "" for any other name.
func elbRegion(dns string) string {
	l := strings.Split(strings.TrimSuffix(strings.ToLower(strings.TrimSpace(dns)), "."), ".")
	n := len(l)
	switch {
	case n >= 5 && l[n-3] == "elb" && l[n-2] == "amazonaws" && l[n-1] == "com":
		return l[n-4]
	case n >= 5 && l[n-4] == "elb" && l[n-2] == "amazonaws" && l[n-1] == "com":
		return l[n-3]
	}
	return ""
}

// sameDNS compares two DNS names as an alias does: case, a final dot and the dualstack.
// prefix aside.
func sameDNS(a, b string) bool {
	return strings.TrimPrefix(fqdn(a), "dualstack.") == strings.TrimPrefix(fqdn(b), "dualstack.")
}

// within reports whether the fully qualified name lies within the zone.
func within(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// publicZones lists the ids of the public hosted zones named name.
func publicZones(ctx context.Context, api route53CheckAPI, name string) ([]string, error) {
	want := fqdn(name)
	var public []string
	in := &route53.ListHostedZonesByNameInput{DNSName: aws.String(want)}
	for {
		out, err := api.ListHostedZonesByName(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, z := range out.HostedZones {
			if strings.ToLower(aws.ToString(z.Name)) != want {
				return public, nil
			}
			if z.Config == nil || !z.Config.PrivateZone {
				public = append(public, strings.TrimPrefix(aws.ToString(z.Id), "/hostedzone/"))
			}
		}
		if !out.IsTruncated {
			return public, nil
		}
		in.DNSName, in.HostedZoneId = out.NextDNSName, out.NextHostedZoneId
	}
}

// zoneOfRecord finds the one public zone that would hold record: the longest name it lies
// within that names exactly one public zone. It asks for each name down to the second
// level (example.com.), never for a top-level domain.
func zoneOfRecord(ctx context.Context, api route53CheckAPI, record string) (id, name string, err error) {
	labels := strings.Split(strings.TrimSuffix(fqdn(record), "."), ".")
	for i := 0; i+2 <= len(labels); i++ {
		name := strings.Join(labels[i:], ".") + "."
		public, err := publicZones(ctx, api, name)
		if err != nil {
			return "", "", err
		}
		if len(public) == 1 {
			return public[0], name, nil
		}
	}
	return "", "", nil
}
