package system_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kirikae/kirikae/system"
)

func TestLookup(t *testing.T) {
	s, err := system.Parse("shop.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path, want string
		errs       []string // parts of the error, when Lookup fails
	}{
		{path: "secondary.loadBalancer.name", want: "shop-west"},
		{path: "secondary.ecs.services.api.name", want: "shop-api"},
		{path: "primary.ecs.services.web.targetGroup", want: "shop-east-web"},
		{path: "objectives.rpo", want: "1h"},
		{path: "secondary.region", want: "us-west-2"},
		{path: "primary.database.securityGroup", want: "shop-east-db"},
		{path: "primary.database.multiAZ", want: "false"}, // a default
		{path: "primary.cache.engine", want: "redis"},     // a default
		{path: "primary.cache.nodes", want: "1"},          // a default
		{path: "secondary.database.kmsKey", errs: []string{"secondary.database.kmsKey is not set in system shop", "optional"}},
		{path: "secondary.ecs.services.api", errs: []string{"is a mapping, not a value: want one of secondary.ecs.services.api.desiredCount,",
			"secondary.ecs.services.api.taskFamily"}},
		{path: "secondary.ecs.services.apii.name", errs: []string{"did you mean secondary.ecs.services.api.name?",
			"the paths under secondary.ecs.services are secondary.ecs.services.api.desiredCount"}},
		{path: "secondary.loadbalancer.name", errs: []string{"did you mean secondary.loadBalancer.name?"}},
		{path: "system.objectives.rpo", errs: []string{"did you mean objectives.rpo?"}},
		{path: "tertiary.region", errs: []string{"no such path in system shop", "paths start with account, dns, name, objectives, primary, secondary"}},
		{path: "", errs: []string{"no such path"}},
	} {
		got, err := s.Lookup(tt.path)
		if tt.errs == nil {
			if err != nil || got != tt.want {
				t.Errorf("Lookup(%s) = %q, %v, want %q", tt.path, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, system.ErrUnknownPath) {
			t.Errorf("Lookup(%s) = %q, %v, want ErrUnknownPath", tt.path, got, err)
			continue
		}
		for _, part := range tt.errs {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("Lookup(%s): %v\ndoes not say %q", tt.path, err, part)
			}
		}
	}
}

func TestPaths(t *testing.T) {
	s, err := system.Parse("shop.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	paths := s.Paths()
	if !slices.IsSorted(paths) {
		t.Error("paths are not sorted")
	}
	for _, want := range []string{"name", "account", "objectives.rto", "dns.type", "primary.network.securityGroups.cache",
		"secondary.ecs.services.web.desiredCount", "secondary.topics.alerts", "secondary.bucket"} {
		if !slices.Contains(paths, want) {
			t.Errorf("Paths lacks %s", want)
		}
	}
	for _, p := range paths {
		if _, err := s.Lookup(p); err != nil {
			t.Errorf("Paths lists %s, which Lookup refuses: %v", p, err)
		}
	}
	if slices.Contains(paths, "description") || slices.Contains(paths, "secondary.database.kmsKey") {
		t.Error("Paths lists a value the file leaves out")
	}
	if got, want := s.Line("secondary.ecs.services.api.desiredCount"), lineOf(t, base, "api: {name: shop-api, taskFamily: shop-api, targetGroup: shop-west-api"); got != want {
		t.Errorf("Line = %d, want %d", got, want)
	}
	if s.Line("primary.cache.nodes") != 0 {
		t.Error("a default has a line")
	}
}

func TestRolesAndResources(t *testing.T) {
	s, err := system.Parse("shop.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if system.Primary.Other() != system.Secondary || system.Secondary.Other() != system.Primary || system.Role("x").Other() != "" {
		t.Error("Other is wrong")
	}
	if s.Role("tertiary") != nil || s.Role(system.Primary).Role != system.Primary {
		t.Error("Role is wrong")
	}
	sec := s.Role(system.Secondary)
	res := sec.Resources()
	var kinds, paths []string
	for _, r := range res {
		kinds = append(kinds, r.Kind)
		paths = append(paths, r.Path)
		if v, err := s.Lookup(r.Path); err != nil || v != r.Name {
			t.Errorf("resource %s %s: Lookup(%s) = %q, %v", r.Kind, r.Name, r.Path, v, err)
		}
	}
	want := "vpc securityGroup securityGroup securityGroup dbInstance dbSubnetGroup dbParameterGroup cacheReplicationGroup " +
		"cacheSubnetGroup secret secret loadBalancer ecsCluster ecsService taskFamily targetGroup ecsService taskFamily targetGroup snsTopic s3Bucket"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("kinds\n%s\nwant\n%s", got, want)
	}
	// Resources first lists each kind in the order of Kinds, so a summary by kind reads the same.
	at := -1
	for j, k := range kinds {
		if slices.Contains(kinds[:j], k) {
			continue
		}
		i := slices.Index(system.Kinds(), k)
		if i < at {
			t.Errorf("Resources first lists %s after a kind that Kinds puts later", k)
		}
		at = i
	}
	if paths[1] != "secondary.network.securityGroups.cache" || paths[len(paths)-1] != "secondary.bucket" {
		t.Errorf("paths %v", paths)
	}
	if sec.SecurityGroupName(sec.Database.SecurityGroup) != "shop-west-db" {
		t.Error("SecurityGroupName does not resolve the database's group")
	}
}
