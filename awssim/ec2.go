package awssim

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
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
	// Default marks the default VPC and its default subnets, and a VPC's main route table.
	Default bool `json:"default,omitempty"`
	// Owner is the account that owns it (OwnerId).
	Owner string `json:"owner,omitempty"`
}

// defaultSGName and defaultSGDescription name the security group every VPC has from its
// creation: "When you create a VPC, it automatically has a default security group" whose
// rules allow "inbound traffic from network interfaces (and their associated instances)
// that are assigned to the same security group" and "all outbound IPv4 traffic"
// (https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html). Its name
// is "default" and its description "default VPC security group", as DescribeSecurityGroups
// gives them (an answer recorded from AWS in cloud-custodian's tests,
// tests/data/placebo/test_sagemaker_cluster_security_group_filter/ec2.DescribeSecurityGroups_1.json);
// "A default security group includes a default rule that grants instances unrestricted
// network access to each other" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html).
const (
	defaultSGName        = "default"
	defaultSGDescription = "default VPC security group"
)

// sgDescription is a security group's description: the default group's, or (awssim's
// own groups being described by their names) its name.
func sgDescription(r *ec2Resource) string {
	if r.Name == defaultSGName {
		return defaultSGDescription
	}
	return r.Name
}

// selfRule is whether r has the default group's inbound rule: all traffic from members of
// the group itself. awssim models no other inbound rules.
func selfRule(r *ec2Resource) bool { return r.Name == defaultSGName }

var ec2Ops = map[string]queryOp{
	"DescribeVpcs":           ec2Describe("vpc", "VpcId", "vpcSet", "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", 1000),
	"DescribeSubnets":        ec2Describe("subnet", "SubnetId", "subnetSet", "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", 1000),
	"DescribeSecurityGroups": ec2Describe("sg", "GroupId", "securityGroupInfo", "InvalidGroup.NotFound", "The security group '%s' does not exist", 1000),
	"DescribeRouteTables":    ec2Describe("rtb", "RouteTableId", "routeTableSet", "InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist", 100),
}

// ec2Filters are the filters the EC2 API reference documents for each Describe, by kind,
// each with the values a resource has for it (botocore/data/ec2/2016-11-15/service-2.json,
// DescribeVpcs, DescribeSubnets, DescribeSecurityGroups, DescribeRouteTables). Attributes
// awssim does not model (IPv6, Outposts, customer-owned pools, peering, ...) have no value,
// so a filter on them matches nothing, as it matches nothing on AWS for resources without
// them. tag:<key> and tag-key are handled by ec2Values. The camel-case aliases
// (availabilityZone, cidrBlock, ...) are those the reference names; VPCs take cidr-block
// and cidrBlock as well as cidr (Corymbia/eucalyptus#316 on AWS's behaviour).
var ec2Filters = map[string]map[string]func(r *ec2Resource) []string{
	"vpc": {
		"cidr":                                  cidrOf,
		"cidr-block":                            cidrOf,
		"cidrBlock":                             cidrOf,
		"cidr-block-association.cidr-block":     cidrOf,
		"cidr-block-association.association-id": func(r *ec2Resource) []string { return []string{cidrAssocID(r)} },
		"cidr-block-association.state":          func(*ec2Resource) []string { return []string{"associated"} },
		"dhcp-options-id":                       func(*ec2Resource) []string { return []string{"dopt-0sim"} },
		"ipv6-cidr-block-association.ipv6-cidr-block": none,
		"ipv6-cidr-block-association.ipv6-pool":       none,
		"ipv6-cidr-block-association.association-id":  none,
		"ipv6-cidr-block-association.state":           none,
		"is-default":                                  func(r *ec2Resource) []string { return []string{strconv.FormatBool(r.Default)} },
		"owner-id":                                    owner,
		"state":                                       available,
		"vpc-id":                                      idOf,
	},
	"subnet": {
		"availability-zone":          azOf,
		"availabilityZone":           azOf,
		"availability-zone-id":       azIDOf,
		"availabilityZoneId":         azIDOf,
		"available-ip-address-count": func(*ec2Resource) []string { return []string{"250"} },
		"cidr-block":                 cidrOf,
		"cidr":                       cidrOf,
		"cidrBlock":                  cidrOf,
		"customer-owned-ipv4-pool":   none,
		"default-for-az":             func(r *ec2Resource) []string { return []string{strconv.FormatBool(r.Default)} },
		"defaultForAz":               func(r *ec2Resource) []string { return []string{strconv.FormatBool(r.Default)} },
		"enable-dns64":               falseValue,
		"enable-lni-at-device-index": none,
		"ipv6-cidr-block-association.ipv6-cidr-block":      none,
		"ipv6-cidr-block-association.association-id":       none,
		"ipv6-cidr-block-association.state":                none,
		"ipv6-native":                                      falseValue,
		"map-customer-owned-ip-on-launch":                  falseValue,
		"map-public-ip-on-launch":                          func(r *ec2Resource) []string { return []string{strconv.FormatBool(r.Default)} },
		"outpost-arn":                                      none,
		"owner-id":                                         owner,
		"private-dns-name-options-on-launch.hostname-type": func(*ec2Resource) []string { return []string{"ip-name"} },
		"private-dns-name-options-on-launch.enable-resource-name-dns-a-record":    falseValue,
		"private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record": falseValue,
		"state":      available,
		"subnet-arn": func(r *ec2Resource) []string { return []string{subnetARN(r)} },
		"subnet-id":  idOf,
		"vpc-id":     vpcOf,
	},
	"sg": {
		"description":                         func(r *ec2Resource) []string { return []string{sgDescription(r)} },
		"egress.ip-permission.cidr":           func(*ec2Resource) []string { return []string{"0.0.0.0/0"} },
		"egress.ip-permission.from-port":      none,
		"egress.ip-permission.group-id":       none,
		"egress.ip-permission.group-name":     none,
		"egress.ip-permission.ipv6-cidr":      none,
		"egress.ip-permission.prefix-list-id": none,
		"egress.ip-permission.protocol":       func(*ec2Resource) []string { return []string{"-1"} },
		"egress.ip-permission.to-port":        none,
		"egress.ip-permission.user-id":        none,
		"group-id":                            idOf,
		"group-name":                          nameOf,
		// The only inbound rule modelled is the default group's, from the group itself.
		"ip-permission.cidr":           none,
		"ip-permission.from-port":      none,
		"ip-permission.group-id":       ifSelfRule(idOf),
		"ip-permission.group-name":     none, // a rule naming a group by id has no group name
		"ip-permission.ipv6-cidr":      none,
		"ip-permission.prefix-list-id": none,
		"ip-permission.protocol":       ifSelfRule(func(*ec2Resource) []string { return []string{"-1"} }),
		"ip-permission.to-port":        none,
		"ip-permission.user-id":        ifSelfRule(owner),
		"owner-id":                     owner,
		"vpc-id":                       vpcOf,
	},
	"rtb": {
		"association.gateway-id":                 none,
		"association.route-table-association-id": func(r *ec2Resource) []string { return rtbAssocIDs(r) },
		"association.route-table-id": func(r *ec2Resource) []string {
			if len(r.Assoc) == 0 && !r.Default {
				return nil
			}
			return []string{r.ID}
		},
		"association.subnet-id": func(r *ec2Resource) []string { return r.Assoc },
		"association.main": func(r *ec2Resource) []string {
			// "Route tables that do not have an association ID are not returned."
			switch {
			case r.Default:
				return []string{"true"}
			case len(r.Assoc) > 0:
				return []string{"false"}
			}
			return nil
		},
		"owner-id":                              owner,
		"route-table-id":                        idOf,
		"route.destination-cidr-block":          func(r *ec2Resource) []string { return routeField(r, 0) },
		"route.destination-ipv6-cidr-block":     none,
		"route.destination-prefix-list-id":      none,
		"route.egress-only-internet-gateway-id": none,
		"route.gateway-id": func(r *ec2Resource) []string {
			return slices.DeleteFunc(routeField(r, 1), func(t string) bool { return strings.HasPrefix(t, "nat-") })
		},
		"route.instance-id": none,
		"route.nat-gateway-id": func(r *ec2Resource) []string {
			return slices.DeleteFunc(routeField(r, 1), func(t string) bool { return !strings.HasPrefix(t, "nat-") })
		},
		"route.transit-gateway-id": none,
		"route.origin": func(r *ec2Resource) []string {
			out := []string{}
			for _, rt := range r.Routes {
				out = append(out, routeOrigin(rt))
			}
			return out
		},
		"route.state":                     func(*ec2Resource) []string { return []string{"active"} },
		"route.vpc-peering-connection-id": none,
		"vpc-id":                          vpcOf,
	},
}

func none(*ec2Resource) []string        { return nil }
func owner(r *ec2Resource) []string     { return []string{r.Owner} }
func available(*ec2Resource) []string   { return []string{"available"} }
func falseValue(*ec2Resource) []string  { return []string{"false"} }
func idOf(r *ec2Resource) []string      { return []string{r.ID} }
func vpcOf(r *ec2Resource) []string     { return []string{r.VpcID} }
func nameOf(r *ec2Resource) []string    { return []string{r.Name} }
func cidrOf(r *ec2Resource) []string    { return []string{r.Cidr} }
func azOf(r *ec2Resource) []string      { return []string{r.AZ} }
func azIDOf(r *ec2Resource) []string    { return []string{azID(r.AZ)} }
func cidrAssocID(r *ec2Resource) string { return "vpc-cidr-assoc-" + strings.TrimPrefix(r.ID, "vpc-") }
func routeOrigin(rt [2]string) string {
	if rt[1] == "local" {
		return "CreateRouteTable"
	}
	return "CreateRoute"
}

// ifSelfRule is f for a group with the default group's inbound rule, nothing for another.
func ifSelfRule(f func(*ec2Resource) []string) func(*ec2Resource) []string {
	return func(r *ec2Resource) []string {
		if !selfRule(r) {
			return nil
		}
		return f(r)
	}
}

func routeField(r *ec2Resource, i int) []string {
	out := make([]string, 0, len(r.Routes))
	for _, rt := range r.Routes {
		out = append(out, rt[i])
	}
	return out
}

func rtbAssocIDs(r *ec2Resource) []string {
	var out []string
	for i := range r.Assoc {
		out = append(out, fmt.Sprintf("rtbassoc-%s%d", r.ID[4:], i))
	}
	if r.Default {
		out = append(out, "rtbassoc-"+r.ID[4:]+"main")
	}
	return out
}

// azID is the zone id of an availability zone name, as awssim names them (use1-az1 for
// us-east-1a, ...).
func azID(az string) string {
	if az == "" {
		return ""
	}
	return fmt.Sprintf("%s-az%d", shortRegion(az[:len(az)-1]), az[len(az)-1]-'a'+1)
}

// subnetARN is a subnet's ARN, in the region of its availability zone.
func subnetARN(r *ec2Resource) string {
	region := r.AZ[:max(len(r.AZ)-1, 0)]
	return "arn:aws:ec2:" + region + ":" + r.Owner + ":subnet/" + r.ID
}

// ec2Values returns the values r has for a filter, and whether the filter exists for r's
// kind.
func ec2Values(r *ec2Resource, name string) ([]string, bool) {
	if k, ok := strings.CutPrefix(name, "tag:"); ok {
		if v, has := r.Tags[k]; has {
			return []string{v}, true
		}
		return nil, true
	}
	if name == "tag-key" {
		return sortedKeys(r.Tags), true
	}
	f, ok := ec2Filters[r.Kind][name]
	if !ok {
		return nil, false
	}
	return f(r), true
}

// EC2 pages with MaxResults and NextToken: MaxResults from 5 to 1000 (100 for
// DescribeRouteTables), everything on one page without it (API reference). Out of range
// is InvalidParameterValue "Value ( 1 ) for parameter maxResults is invalid. Expecting a
// value greater than 5." (aws/aws-sdk-ruby#2575); the wording for too large a value is
// awssim's. A token EC2 did not issue is InvalidPaginationToken, EC2's code for it.
func ec2Page(p url.Values, max int) (pageReq, error) {
	return parsePage(p.Get("MaxResults"), p.Get("NextToken"), pageLimits{min: 5, max: max},
		func(v string) error {
			n, err := strconv.Atoi(v)
			if err == nil && n > max {
				return badRequest("InvalidParameterValue", "Value ( %s ) for parameter maxResults is invalid. Expecting a value less than or equal to %d.", v, max)
			}
			return badRequest("InvalidParameterValue", "Value ( %s ) for parameter maxResults is invalid. Expecting a value greater than 5.", v)
		},
		func(v string) error {
			return badRequest("InvalidPaginationToken", "The pagination token %s is invalid or has expired.", v)
		})
}

func ec2Describe(kind, idParam, setName, notFoundCode, notFoundMsg string, maxResults int) queryOp {
	return func(c *call, p url.Values) ([]xn, error) {
		ids := listParam(p, idParam)
		if kind == "sg" {
			ids = append(ids, listParam(p, "GroupName")...)
		}
		// An unknown filter is InvalidParameterValue "The filter 'public-ip' is invalid"
		// (boto/boto3#1299; the raw answer in aws/aws-cli#4013).
		fs, err := queryFilters(p, "Filter")
		if err != nil {
			return nil, err
		}
		if err := checkFilterNames(fs, func(n string) bool { _, ok := ec2Values(&ec2Resource{Kind: kind}, n); return ok },
			func(n string) error { return badRequest("InvalidParameterValue", "The filter '%s' is invalid", n) }); err != nil {
			return nil, err
		}
		pg, err := ec2Page(p, maxResults)
		if err != nil {
			return nil, err
		}
		found := map[string]bool{}
		var rows []*ec2Resource
		for _, r := range c.rs().EC2 {
			if r.Kind != kind {
				continue
			}
			if len(ids) > 0 && !slices.Contains(ids, r.ID) && !(kind == "sg" && slices.Contains(ids, r.Name)) {
				continue
			}
			found[r.ID], found[r.Name] = true, true
			if ec2Matches(r, fs) {
				rows = append(rows, r)
			}
		}
		for _, id := range ids {
			if !found[id] {
				return nil, badRequest(notFoundCode, notFoundMsg, id)
			}
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
		page, next := pageOf(rows, func(r *ec2Resource) string { return r.ID }, pg)
		items := make([]xn, len(page))
		for i, r := range page {
			items[i] = c.ec2XML(r)
		}
		return []xn{list(setName, "item", items), opt("nextToken", next)}, nil
	}
}

// ec2Matches applies EC2 filter semantics: every filter must match; within a filter any value
// may match, and values may use * and ? wildcards.
func ec2Matches(r *ec2Resource, fs []queryFilter) bool {
	for _, f := range fs {
		have, _ := ec2Values(r, f.Name)
		if !anyGlob(f.Values, have) {
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
		return el("", tx("vpcId", r.ID), tx("ownerId", r.Owner), tx("state", "available"), tx("cidrBlock", r.Cidr),
			el("cidrBlockAssociationSet", el("item", tx("associationId", cidrAssocID(r)), tx("cidrBlock", r.Cidr),
				el("cidrBlockState", tx("state", "associated")))),
			tx("dhcpOptionsId", "dopt-0sim"), tx("instanceTenancy", "default"), bl("isDefault", r.Default), tagSet(r.Tags))
	case "subnet":
		return el("", tx("subnetId", r.ID), tx("subnetArn", subnetARN(r)), tx("ownerId", r.Owner),
			tx("state", "available"), tx("vpcId", r.VpcID), tx("cidrBlock", r.Cidr), it("availableIpAddressCount", 250),
			tx("availabilityZone", r.AZ), tx("availabilityZoneId", azID(r.AZ)),
			bl("defaultForAz", r.Default), bl("mapPublicIpOnLaunch", r.Default),
			// An IPv4-only subnet, as awssim's all are: no IPv6 addresses, not IPv6-only, no
			// DNS64, no customer-owned addresses, and instances named after their IP
			// address (API_Subnet.html, API_PrivateDnsNameOptionsOnLaunch.html in
			// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/; botocore's
			// ec2/2016-11-15 Subnet shape). EC2 returns all of these for every subnet: a
			// DescribeSubnets answer recorded from AWS in cloud-custodian's tests
			// (tests/data/placebo/test_sagemaker_cluster_subnet_filter/ec2.DescribeSubnets_1.json).
			bl("mapCustomerOwnedIpOnLaunch", false), bl("assignIpv6AddressOnCreation", false),
			el("ipv6CidrBlockAssociationSet"), bl("enableDns64", false), bl("ipv6Native", false),
			el("privateDnsNameOptionsOnLaunch", tx("hostnameType", "ip-name"),
				bl("enableResourceNameDnsARecord", false), bl("enableResourceNameDnsAAAARecord", false)),
			tagSet(r.Tags))
	case "sg":
		var ingress []xn
		if selfRule(r) {
			ingress = append(ingress, el("item", tx("ipProtocol", "-1"),
				el("groups", el("item", tx("userId", r.Owner), tx("groupId", r.ID))),
				el("ipRanges"), el("ipv6Ranges"), el("prefixListIds")))
		}
		return el("", tx("ownerId", r.Owner), tx("groupId", r.ID), tx("groupName", r.Name), tx("groupDescription", sgDescription(r)),
			tx("vpcId", r.VpcID), tx("securityGroupArn", c.arn("ec2", c.region, "security-group/"+r.ID)),
			el("ipPermissions", ingress...), el("ipPermissionsEgress", el("item", tx("ipProtocol", "-1"),
				el("ipRanges", el("item", tx("cidrIp", "0.0.0.0/0"))))), tagSet(r.Tags))
	default:
		var routes, assoc []xn
		for _, rt := range r.Routes {
			target := "gatewayId"
			if strings.HasPrefix(rt[1], "nat-") {
				target = "natGatewayId"
			}
			routes = append(routes, el("item", tx("destinationCidrBlock", rt[0]), tx(target, rt[1]), tx("state", "active"), tx("origin", routeOrigin(rt))))
		}
		ids := rtbAssocIDs(r)
		for i, s := range r.Assoc {
			assoc = append(assoc, el("item", tx("routeTableAssociationId", ids[i]),
				tx("routeTableId", r.ID), tx("subnetId", s), bl("main", false), el("associationState", tx("state", "associated"))))
		}
		if r.Default {
			assoc = append(assoc, el("item", tx("routeTableAssociationId", ids[len(ids)-1]),
				tx("routeTableId", r.ID), bl("main", true), el("associationState", tx("state", "associated"))))
		}
		return el("", tx("routeTableId", r.ID), tx("vpcId", r.VpcID), tx("ownerId", r.Owner),
			el("routeSet", routes...), el("associationSet", assoc...), tagSet(r.Tags))
	}
}
