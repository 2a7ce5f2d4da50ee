package awssim

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// What awssim knows of AWS regions in general, for a world in any pair of them. A region
// these tables do not list still works: it gets made-up values of the same shapes.

// lbZoneIDs are the canonical hosted zone ids of Application Load Balancers, by region
// (the "Application Load Balancers" column of https://docs.aws.amazon.com/general/latest/gr/elb.html).
// An alias record to an ALB names its region's id.
var lbZoneIDs = map[string]string{
	"us-east-1":      "Z35SXDOTRQ7X7K",
	"us-east-2":      "Z3AADJGX6KTTL2",
	"us-west-1":      "Z368ELLRRE2KJ0",
	"us-west-2":      "Z1H1FL5HABSF5",
	"ca-central-1":   "ZQSVJUPU6J1EY",
	"eu-central-1":   "Z215JYRZR1TBD5",
	"eu-west-1":      "Z32O12XQLNTSW2",
	"eu-west-2":      "ZHURV8PSTC4K8",
	"eu-west-3":      "Z3Q77PNBQS71R4",
	"eu-north-1":     "Z23TAZ6LKFMNIO",
	"ap-northeast-1": "Z14GRHDCWA56QT",
	"ap-northeast-2": "ZWKZPGTI48KDX",
	"ap-northeast-3": "Z5LXEXXYW11ES",
	"ap-southeast-1": "Z1LMS91P8CMLE5",
	"ap-southeast-2": "Z1GM3OXH4ZPM65",
	"ap-south-1":     "ZP97RAFLXTNZK",
	"sa-east-1":      "Z2P70J7HTTTPLU",
}

// lbZoneID is the canonical hosted zone id of ALBs in region; for a region lbZoneIDs does
// not list, a made-up id of the same shape, the same every time.
func lbZoneID(region string) string {
	if id, ok := lbZoneIDs[region]; ok {
		return id
	}
	return fmt.Sprintf("ZSIM%010X", hash32(region))
}

// azLetters are the letters of a region's availability zones as an account sees them
// (us-east-1a ... us-east-1f). Which letters exist differs between accounts in a few
// regions; these are the common ones. A region not listed has a, b and c.
var azLetters = map[string]string{
	"us-east-1":      "abcdef",
	"us-east-2":      "abc",
	"us-west-1":      "ac",
	"us-west-2":      "abcd",
	"ca-central-1":   "abd",
	"eu-central-1":   "abc",
	"eu-west-1":      "abc",
	"eu-west-2":      "abc",
	"eu-west-3":      "abc",
	"eu-north-1":     "abc",
	"ap-northeast-1": "acd",
	"ap-northeast-2": "abcd",
	"ap-northeast-3": "abc",
	"ap-southeast-1": "abc",
	"ap-southeast-2": "abc",
	"ap-south-1":     "abc",
	"sa-east-1":      "abc",
}

func zonesOf(region string) string {
	if z, ok := azLetters[region]; ok {
		return z
	}
	return "abc"
}

// systemZones are the zones a system's VPC has its subnets in: a, c and d as the seed's
// (in us-east-1 and us-west-2), or the region's first three where it has no such three.
func systemZones(region string) string {
	z := zonesOf(region)
	if strings.Contains(z, "a") && strings.Contains(z, "c") && strings.Contains(z, "d") {
		return "acd"
	}
	return z[:min(len(z), 3)]
}

// shortRegion is a region's short form in ElastiCache endpoints and availability zone ids:
// use1 for us-east-1, usw2, euc1, apne1, apse1 (the area, the initials of the direction,
// the number).
func shortRegion(r string) string {
	parts := strings.Split(r, "-")
	if len(parts) != 3 {
		return r
	}
	dir := map[string]string{"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
		"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}[parts[1]]
	if dir == "" {
		dir = parts[1][:1]
	}
	return parts[0] + dir + parts[2]
}

// hash32 is a stable hash for made-up ids.
func hash32(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}
