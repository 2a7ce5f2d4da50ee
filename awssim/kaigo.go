package awssim

import (
	"fmt"
	"sync"

	"github.com/kirikae/kirikae/deploy"
	"github.com/kirikae/kirikae/system"
)

// The kaigo system is the seed's, bundled as deploy/systems/kaigo.yaml. It is the
// simulator's default system: the "kaigo" fixtures build its world, and the empty world
// is in its regions. Nothing else in awssim knows its names.

// kaigoFile is the bundled system file the default system is read from.
const kaigoFile = "kaigo.yaml"

var kaigoSystem = sync.OnceValues(func() (*system.System, error) {
	b, err := deploy.System(kaigoFile)
	if err != nil {
		return nil, err
	}
	return system.Parse("deploy/systems/"+kaigoFile, b)
})

// mustKaigo is the bundled kaigo system. The file is embedded and its tests hold it valid,
// so a failure here is a broken build.
func mustKaigo() *system.System {
	s, err := kaigoSystem()
	if err != nil {
		panic(fmt.Sprintf("awssim: the bundled kaigo system: %v", err))
	}
	return s
}

// defaultPair is the default system's regions: the empty world's.
func defaultPair() (primary, secondary string) {
	p := systemPair(mustKaigo())
	return p[0], p[1]
}

// Names and ids of the kaigo world, for plans and tests that refer to it. Each is what the
// bundled kaigo system file gives (a test holds them equal), or what the simulator makes
// of it; a world built from another system file has its own, found by name like on AWS.
const (
	// AccountID is the kaigo system's account, and the account of a world whose system
	// file gives none (Sim.Account is a world's).
	AccountID = "123456789012"

	KaigoHostedZoneID   = publicZoneID
	KaigoZoneName       = "kaigo-subsys.example.com."
	KaigoPrivateZoneID  = privateZoneID
	KaigoPrivateZone    = "kaigo-subsys.internal."
	KaigoAPIName        = "api.kaigo-subsys.example.com."
	KaigoProdInstance   = "kaigo-subsys-prod"
	KaigoDRInstance     = "kaigo-subsys-dr"
	KaigoDRSubnetGroup  = "kaigo-subsys-dr-db-subnet-group"
	KaigoDRCacheSubnets = "kaigo-subsys-dr-cache-subnet-group"
	KaigoDRCluster      = "kaigo-subsys-dr"
	KaigoDRService      = "kaigo-subsys-dr-service"
	KaigoDRTaskFamily   = "kaigo-subsys-dr"
	KaigoDRVault        = "kaigo-subsys-dr-backup-vault"
	KaigoDRVPCName      = "kaigo-subsys-dr-vpc"
	KaigoDRALBName      = "kaigo-subsys-dr-alb"
	KaigoDRTargetGroup  = "kaigo-subsys-dr"
	KaigoDRDBSecret     = "kaigo-subsys/dr/db-endpoint"
	KaigoDRRedisSecret  = "kaigo-subsys/dr/redis-endpoint"
	KaigoDRAlertsTopic  = "arn:aws:sns:us-west-2:" + AccountID + ":kaigo-subsys-dr-critical-alerts"
	KaigoProdBucket     = "kaigo-subsys-prod-backups"
	KaigoProdALBName    = "kaigo-subsys-prod-alb"
	KaigoProdCluster    = "kaigo-subsys-prod"
	KaigoProdService    = "kaigo-subsys-prod-service"
)

// kaigoRegion is the kaigo system's region named region, or its primary for a region
// not of its pair.
func kaigoRegion(region string) *system.Region {
	s := mustKaigo()
	if r := s.RegionOf(region); r != nil {
		return r
	}
	return s.Role(system.Primary)
}

// KaigoTargetGroupARN is the ARN of the kaigo service's target group in region (the
// primary's for a region not of the pair).
func KaigoTargetGroupARN(region string) string {
	r := kaigoRegion(region)
	return targetGroupARN(AccountID, r.Name, r.ECS.Services[r.ServiceNames()[0]].TargetGroup)
}

// KaigoALBDNS is the DNS name of the kaigo ALB in region (the primary's for a region not
// of the pair).
func KaigoALBDNS(region string) string {
	r := kaigoRegion(region)
	return albDNS(r.LoadBalancer.Name, r.Name)
}

// KaigoALBZoneID is the canonical hosted zone id of ALBs in region (the real AWS values).
func KaigoALBZoneID(region string) string { return lbZoneID(region) }
