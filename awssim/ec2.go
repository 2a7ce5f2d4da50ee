package awssim

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
)

// ec2Resource is a VPC, subnet, security group or route table. The DR network is built in
// advance (seed 001), so these are read-only here.
type ec2Resource struct {
	Kind   string            `json:"kind"` // vpc, subnet, sg, rtb
	ID     string            `json:"id"`
	VpcID  string            `json:"vpcID"`
	Cidr   string            `json:"cidr"`
	AZ     string            `json:"az"`
	Name   string            `json:"name"` // security group name
	Tags   map[string]string `json:"tags"`
	Routes [][2]string       `json:"routes"` // destination, target
	Assoc  []string          `json:"assoc"`  // route table → subnet ids
}

var ec2Ops = map[string]queryOp{
	"DescribeVpcs":           ec2Describe("vpc", "VpcId", "vpcSet", "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist"),
	"DescribeSubnets":        ec2Describe("subnet", "SubnetId", "subnetSet", "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist"),
	"DescribeSecurityGroups": ec2Describe("sg", "GroupId", "securityGroupInfo", "InvalidGroup.NotFound", "The security group '%s' does not exist"),
	"DescribeRouteTables":    ec2Describe("rtb", "RouteTableId", "routeTableSet", "InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist"),
}

// ec2FilterValue returns the values a resource has for a filter name, and whether the filter
// name is known for that kind.
func ec2FilterValue(r *ec2Resource, name string) ([]string, bool) {
	if k, ok := strings.CutPrefix(name, "tag:"); ok {
		if v, ok := r.Tags[k]; ok {
			return []string{v}, true
		}
		return nil, true
	}
	switch name {
	case "tag-key":
		keys := make([]string, 0, len(r.Tags))
		for k := range r.Tags {
			keys = append(keys, k)
		}
		return keys, true
	case "vpc-id":
		if r.Kind == "vpc" {
			return []string{r.ID}, true
		}
		return []string{r.VpcID}, true
	case "state":
		return []string{"available"}, r.Kind == "vpc" || r.Kind == "subnet"
	case "cidr", "cidr-block", "cidrBlock":
		return []string{r.Cidr}, r.Kind == "vpc" || r.Kind == "subnet"
	case "availability-zone", "availabilityZone":
		return []string{r.AZ}, r.Kind == "subnet"
	case "subnet-id":
		return []string{r.ID}, r.Kind == "subnet"
	case "group-id":
		return []string{r.ID}, r.Kind == "sg"
	case "group-name":
		return []string{r.Name}, r.Kind == "sg"
	case "route-table-id":
		return []string{r.ID}, r.Kind == "rtb"
	case "association.subnet-id":
		return r.Assoc, r.Kind == "rtb"
	case "owner-id":
		return []string{AccountID}, true
	}
	return nil, false
}

func ec2Describe(kind, idParam, setName, notFoundCode, notFoundMsg string) queryOp {
	return func(c *call, p url.Values) ([]xn, error) {
		ids := listParam(p, idParam)
		if kind == "sg" {
			ids = append(ids, listParam(p, "GroupName")...)
		}
		fs := filters(p, "Filter")
		for name := range fs {
			if _, ok := ec2FilterValue(&ec2Resource{Kind: kind}, name); !ok {
				return nil, badRequest("InvalidParameterValue", "The filter '%s' is invalid", name)
			}
		}
		found := map[string]bool{}
		var items []xn
		for _, r := range c.rs().EC2 {
			if r.Kind != kind {
				continue
			}
			if len(ids) > 0 && !slices.Contains(ids, r.ID) && !(kind == "sg" && slices.Contains(ids, r.Name)) {
				continue
			}
			found[r.ID], found[r.Name] = true, true
			if !ec2Matches(r, fs) {
				continue
			}
			items = append(items, c.ec2XML(r))
		}
		for _, id := range ids {
			if !found[id] {
				return nil, badRequest(notFoundCode, notFoundMsg, id)
			}
		}
		return []xn{list(setName, "item", items)}, nil
	}
}

// ec2Matches applies EC2 filter semantics: every filter must match; within a filter any value
// may match, and values may use * and ? wildcards.
func ec2Matches(r *ec2Resource, fs map[string][]string) bool {
	for name, want := range fs {
		have, _ := ec2FilterValue(r, name)
		ok := false
		for _, w := range want {
			for _, h := range have {
				if m, err := path.Match(w, h); err == nil && m || w == h {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func tagSet(tags map[string]string) xn {
	var items []xn
	for _, k := range sortedKeys(tags) {
		items = append(items, el("item", tx("key", k), tx("value", tags[k])))
	}
	return el("tagSet", items...)
}

func (c *call) ec2XML(r *ec2Resource) xn {
	switch r.Kind {
	case "vpc":
		return el("", tx("vpcId", r.ID), tx("ownerId", AccountID), tx("state", "available"), tx("cidrBlock", r.Cidr),
			tx("dhcpOptionsId", "dopt-0sim"), tx("instanceTenancy", "default"), bl("isDefault", false), tagSet(r.Tags))
	case "subnet":
		return el("", tx("subnetId", r.ID), tx("subnetArn", arn("ec2", c.region, "subnet/"+r.ID)), tx("ownerId", AccountID),
			tx("state", "available"), tx("vpcId", r.VpcID), tx("cidrBlock", r.Cidr), it("availableIpAddressCount", 250),
			tx("availabilityZone", r.AZ), tx("availabilityZoneId", shortRegion(c.region)+"-az"+r.AZ[len(r.AZ)-1:]),
			bl("defaultForAz", false), bl("mapPublicIpOnLaunch", false), tagSet(r.Tags))
	case "sg":
		return el("", tx("ownerId", AccountID), tx("groupId", r.ID), tx("groupName", r.Name), tx("groupDescription", r.Name),
			tx("vpcId", r.VpcID), tx("securityGroupArn", arn("ec2", c.region, "security-group/"+r.ID)),
			el("ipPermissions"), el("ipPermissionsEgress", el("item", tx("ipProtocol", "-1"),
				el("ipRanges", el("item", tx("cidrIp", "0.0.0.0/0"))))), tagSet(r.Tags))
	default:
		var routes, assoc []xn
		for _, rt := range r.Routes {
			target := "gatewayId"
			if strings.HasPrefix(rt[1], "nat-") {
				target = "natGatewayId"
			}
			routes = append(routes, el("item", tx("destinationCidrBlock", rt[0]), tx(target, rt[1]), tx("state", "active"), tx("origin", "CreateRoute")))
		}
		for i, s := range r.Assoc {
			assoc = append(assoc, el("item", tx("routeTableAssociationId", fmt.Sprintf("rtbassoc-%s%d", r.ID[4:], i)),
				tx("routeTableId", r.ID), tx("subnetId", s), bl("main", false), el("associationState", tx("state", "associated"))))
		}
		return el("", tx("routeTableId", r.ID), tx("vpcId", r.VpcID), tx("ownerId", AccountID),
			el("routeSet", routes...), el("associationSet", assoc...), tagSet(r.Tags))
	}
}
