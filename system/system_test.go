package system_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/awssim"
	"github.com/kirikae/kirikae/deploy"
	"github.com/kirikae/kirikae/system"
)

const systemsDir = "../deploy/systems"

func parseFile(t testing.TB, name string) *system.System {
	t.Helper()
	s, err := system.ParseFile(filepath.Join(systemsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Every file in deploy/systems is valid, reads back the same from its canonical form, and
// answers every path it lists.
func TestBundledSystems(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(systemsDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("deploy/systems holds %d files, want kaigo.yaml and example-eu.yaml at least", len(files))
	}
	names := map[string]string{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := system.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if other, dup := names[s.Name]; dup {
				t.Errorf("system %s is also in %s", s.Name, other)
			}
			names[s.Name] = f
			roundTrip(t, s)
			for _, p := range s.Paths() {
				if v, err := s.Lookup(p); err != nil || v == "" {
					t.Errorf("Lookup(%s) = %q, %v", p, v, err)
				}
			}
		})
	}
}

// The binary carries every system file of deploy/systems, as it carries the plans.
func TestBundledInTheBinary(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(systemsDir, "*.yaml"))
	var onDisk []string
	for _, f := range files {
		onDisk = append(onDisk, filepath.Base(f))
	}
	if got := deploy.Systems(); !slices.Equal(got, onDisk) {
		t.Fatalf("bundled %v, on disk %v", got, onDisk)
	}
	for _, name := range onDisk {
		b, err := deploy.System(name)
		if err != nil {
			t.Fatal(err)
		}
		disk, err := os.ReadFile(filepath.Join(systemsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != string(disk) {
			t.Errorf("bundled %s differs from the file", name)
		}
	}
	if _, err := deploy.System("nope.yaml"); err == nil {
		t.Error("an unknown bundled system file is found")
	}
}

// roundTrip checks that the canonical form parses back into a system with the same form.
func roundTrip(t *testing.T, s *system.System) {
	t.Helper()
	canon := s.Marshal()
	again, err := system.Parse("canonical.yaml", canon)
	if err != nil {
		t.Fatalf("the canonical form does not parse: %v\n%s", err, canon)
	}
	if got := again.Marshal(); string(got) != string(canon) {
		t.Fatalf("the canonical form changes when read back:\n%s\nthen\n%s", canon, got)
	}
	if again.Digest() != s.Digest() {
		t.Fatal("the digest changes when the canonical form is read back")
	}
}

func TestKaigo(t *testing.T) {
	s := parseFile(t, "kaigo.yaml")
	pri, sec := s.Role(system.Primary), s.Role(system.Secondary)
	if pri.Name != "us-east-1" || sec.Name != "us-west-2" || s.RegionOf("us-west-2") != sec || s.RegionOf("eu-west-1") != nil {
		t.Fatalf("regions %s -> %s", pri.Name, sec.Name)
	}
	if s.Objectives.RPO != time.Hour || s.Objectives.RTO != 4*time.Hour {
		t.Errorf("objectives %v", s.Objectives)
	}
	for path, want := range map[string]string{
		"name":                                    "kaigo-subsys",
		"account":                                 "123456789012",
		"objectives.rpo":                          "1h",
		"objectives.rto":                          "4h",
		"dns.zone":                                "kaigo-subsys.example.com",
		"dns.record":                              "api.kaigo-subsys.example.com",
		"dns.type":                                "A",
		"secondary.database.instanceClass":        "db.r6g.large",
		"secondary.database.multiAZ":              "true",
		"secondary.database.securityGroup":        "kaigo-subsys-dr-rds-sg", // the name behind the logical db
		"secondary.cache.engineVersion":           "7.0",
		"secondary.cache.nodes":                   "2",
		"secondary.cache.securityGroup":           "kaigo-subsys-dr-elasticache-sg",
		"secondary.ecs.services.api.desiredCount": "2",
		"primary.database.kmsKey":                 "arn:aws:kms:us-east-1:123456789012:key/prod-key-id",
		"secondary.backup.restoreRole":            "AWSBackupDefaultServiceRole",
		"primary.bucket":                          "kaigo-subsys-prod-backups",
	} {
		if got, err := s.Lookup(path); got != want || err != nil {
			t.Errorf("Lookup(%s) = %q, %v, want %q", path, got, err, want)
		}
	}
}

// The kaigo file names what the simulated AWS builds for kaigo-subsys, so that
// `kirikae sim --system deploy/systems/kaigo.yaml` finds every resource.
func TestKaigoMatchesTheSimulatedFixture(t *testing.T) {
	s := parseFile(t, "kaigo.yaml")
	pri, sec := s.Role(system.Primary), s.Role(system.Secondary)
	topicName := func(arn string) string { return arn[strings.LastIndexByte(arn, ':')+1:] }
	for _, c := range []struct{ got, want string }{
		{s.Account, awssim.AccountID},
		{s.DNS.Zone + ".", awssim.KaigoZoneName},
		{s.DNS.Record + ".", awssim.KaigoAPIName},
		{pri.Database.Instance, awssim.KaigoProdInstance},
		{pri.LoadBalancer.Name, awssim.KaigoProdALBName},
		{pri.ECS.Cluster, awssim.KaigoProdCluster},
		{pri.ECS.Services["api"].Name, awssim.KaigoProdService},
		{pri.Bucket, awssim.KaigoProdBucket},
		{sec.Network.VPC, awssim.KaigoDRVPCName},
		{sec.Database.Instance, awssim.KaigoDRInstance},
		{sec.Database.SubnetGroup, awssim.KaigoDRSubnetGroup},
		{sec.Cache.SubnetGroup, awssim.KaigoDRCacheSubnets},
		{sec.Backup.Vault, awssim.KaigoDRVault},
		{sec.Secrets["db"], awssim.KaigoDRDBSecret},
		{sec.Secrets["cache"], awssim.KaigoDRRedisSecret},
		{sec.LoadBalancer.Name, awssim.KaigoDRALBName},
		{sec.ECS.Cluster, awssim.KaigoDRCluster},
		{sec.ECS.Services["api"].Name, awssim.KaigoDRService},
		{sec.ECS.Services["api"].TaskFamily, awssim.KaigoDRTaskFamily},
		{sec.ECS.Services["api"].TargetGroup, awssim.KaigoDRTargetGroup},
		{sec.Topics["alerts"], topicName(awssim.KaigoDRAlertsTopic)},
	} {
		if c.got != c.want {
			t.Errorf("kaigo.yaml says %q, the fixture %q", c.got, c.want)
		}
	}
}

// No placeholder or id of the seeds survives into the kaigo file: each became a name.
func TestKaigoHasNoSeedPlaceholders(t *testing.T) {
	s := parseFile(t, "kaigo.yaml")
	canon := string(s.Marshal())
	for _, bad := range []string{"xxxxx", "sg-", "Z1234567890ABC", "Z1BKCTXD74EZPE", "Z35SXDOTRQ7X7K", "elb.amazonaws.com"} {
		if strings.Contains(canon, bad) {
			t.Errorf("the kaigo system holds %q", bad)
		}
	}
	var kinds []string
	for _, r := range s.Regions {
		for _, res := range r.Resources() {
			if !slices.Contains(kinds, res.Kind) {
				kinds = append(kinds, res.Kind)
			}
		}
	}
	// Every kind of resource the seeds name: the network, RDS and its groups, the KMS key,
	// ElastiCache, AWS Backup and EFS, the secrets, the ALB, ECS, SNS and S3. (PostgreSQL
	// needs no option group, and the seeds name none.)
	for _, k := range system.Kinds() {
		if k == system.KindDBOptionGroup {
			continue
		}
		if !slices.Contains(kinds, k) {
			t.Errorf("the kaigo system names no %s", k)
		}
	}
}

func TestExampleEU(t *testing.T) {
	s := parseFile(t, "example-eu.yaml")
	pri, sec := s.Role(system.Primary), s.Role(system.Secondary)
	if s.Name != "ledger" || s.Account != "210987654321" || pri.Name != "eu-west-1" || sec.Name != "eu-central-1" {
		t.Fatalf("%s in %s: %s -> %s", s.Name, s.Account, pri.Name, sec.Name)
	}
	if pri.Cache != nil || sec.Cache != nil {
		t.Error("the example has a cache")
	}
	if _, err := s.Lookup("secondary.cache.nodeType"); !errors.Is(err, system.ErrUnknownPath) ||
		!strings.Contains(err.Error(), "the secondary region has no cache") {
		t.Errorf("Lookup of the missing cache: %v", err)
	}
	if got := sec.ServiceNames(); !slices.Equal(got, []string{"admin", "api"}) {
		t.Errorf("services %v, want admin and api", got)
	}
	tgs := map[string]bool{}
	for _, svc := range sec.ECS.Services {
		tgs[svc.TargetGroup] = true
	}
	if len(tgs) != 2 || s.DNS.Type != "A" || sec.Database.OptionGroup != "ledger-mysql80-audit" {
		t.Errorf("target groups %v, dns type %q, option group %q", tgs, s.DNS.Type, sec.Database.OptionGroup)
	}
	if s.Objectives.RPO != 15*time.Minute {
		t.Errorf("rpo %v", s.Objectives.RPO)
	}
	if kaigo := parseFile(t, "kaigo.yaml"); kaigo.Digest() == s.Digest() {
		t.Error("two systems have one digest")
	}
}

// Two files that say the same thing, in other words, have one canonical form and one
// digest; a file that says something else has another.
func TestCanonicalForm(t *testing.T) {
	s, err := system.Parse("a.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	same := strings.NewReplacer(
		"  objectives: {rpo: 1h, rto: 4h}\n", "  # recovery objectives\n  objectives:\n    rto: 240m\n    rpo: 3600s\n",
		"zone: shop.example.com", "zone: Shop.Example.COM.",
		"record: www.shop.example.com", "record: \"www.shop.example.com.\"\n    type: A",
		"{web: shop-east-web, db: shop-east-db, cache: shop-east-cache}", "{cache: shop-east-cache, web: shop-east-web, db: shop-east-db}",
		"        nodeType: cache.t4g.small\n        subnetGroup: shop-east-cache", "        nodeType: cache.t4g.small\n        nodes: 1\n        engine: redis\n        subnetGroup: shop-east-cache",
	).Replace(base)
	s2, err := system.Parse("b.yaml", []byte(same))
	if err != nil {
		t.Fatal(err)
	}
	if s.Digest() != s2.Digest() {
		t.Errorf("the same system has two canonical forms:\n%s\n%s", s.Marshal(), s2.Marshal())
	}
	other, err := system.Parse("c.yaml", []byte(strings.Replace(base, "desiredCount: 2", "desiredCount: 3", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if other.Digest() == s.Digest() {
		t.Error("a changed desired count leaves the digest as it was")
	}
	if len(s.Digest()) != 64 {
		t.Errorf("digest %q is not a SHA-256 in hex", s.Digest())
	}
	// Strings YAML would read as something else are quoted.
	tricky := strings.NewReplacer("  name: shop\n", "  name: shop\n  description: \"true: #1\\n\\u00e9\"\n",
		"{web: shop-east-web,", "{\"on\": shop-east-on, web: shop-east-web,", "{web: shop-west-web,", "{\"on\": shop-west-on, web: shop-west-web,").Replace(base)
	s3, err := system.Parse("d.yaml", []byte(tricky))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, s3)
	if v, _ := s3.Lookup("primary.network.securityGroups.on"); v != "shop-east-on" {
		t.Errorf("a logical name on reads back as %q", v)
	}
}

func TestParseFileNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(base, "engine: postgres", "engine: postgresql", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := system.ParseFile(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":19: spec.regions.primary.database.engine: ") {
		t.Errorf("got %v", err)
	}
	if _, err := system.ParseFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || errors.Is(err, system.ErrInvalid) {
		t.Errorf("a missing file: %v, want a read error", err)
	}
}
