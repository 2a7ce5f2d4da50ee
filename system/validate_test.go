package system_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kirikae/kirikae/system"
)

// base is a small valid system file that the refusal cases below break, one mistake each.
const base = `apiVersion: kirikae/v1
kind: System
metadata:
  name: shop
spec:
  account: "111122223333"
  objectives: {rpo: 1h, rto: 4h}
  dns:
    zone: shop.example.com
    record: www.shop.example.com
  regions:
    primary:
      region: us-east-1
      network:
        vpc: shop-east
        securityGroups: {web: shop-east-web, db: shop-east-db, cache: shop-east-cache}
      database:
        instance: shop-east
        engine: postgres
        instanceClass: db.t4g.medium
        subnetGroup: shop-east-db
        parameterGroup: shop-pg16
        securityGroup: db
        kmsKey: arn:aws:kms:us-east-1:111122223333:alias/shop
      cache:
        replicationGroup: shop-east
        nodeType: cache.t4g.small
        subnetGroup: shop-east-cache
        securityGroup: cache
      secrets: {db: shop/east/db, cache: shop/east/cache}
      loadBalancer: {name: shop-east}
      ecs:
        cluster: shop-east
        services:
          web: {name: shop-web, taskFamily: shop-web, targetGroup: shop-east-web, desiredCount: 2}
          api: {name: shop-api, taskFamily: shop-api, targetGroup: shop-east-api, desiredCount: 2}
      topics: {alerts: shop-east-alerts}
      bucket: shop-east-assets
    secondary:
      region: us-west-2
      network:
        vpc: shop-west
        securityGroups: {web: shop-west-web, db: shop-west-db, cache: shop-west-cache}
      database:
        instance: shop-west
        engine: postgres
        instanceClass: db.t4g.medium
        subnetGroup: shop-west-db
        parameterGroup: shop-pg16
        securityGroup: db
      cache:
        replicationGroup: shop-west
        nodeType: cache.t4g.small
        subnetGroup: shop-west-cache
        securityGroup: cache
      secrets: {db: shop/west/db, cache: shop/west/cache}
      loadBalancer: {name: shop-west}
      ecs:
        cluster: shop-west
        services:
          web: {name: shop-web, taskFamily: shop-web, targetGroup: shop-west-web, desiredCount: 2}
          api: {name: shop-api, taskFamily: shop-api, targetGroup: shop-west-api, desiredCount: 2}
      topics: {alerts: shop-west-alerts}
      bucket: shop-west-assets
`

func TestBaseIsValid(t *testing.T) {
	s, err := system.Parse("shop.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "shop" || len(s.Role(system.Secondary).ECS.Services) != 2 {
		t.Fatalf("parsed %s with %d secondary services", s.Name, len(s.Role(system.Secondary).ECS.Services))
	}
}

// lineOf is the line of src where text first appears.
func lineOf(t *testing.T, src, text string) int {
	t.Helper()
	i := strings.Index(src, text)
	if i < 0 {
		t.Fatalf("%q is not in the file", text)
	}
	return strings.Count(src[:i], "\n") + 1
}

// TestRefusals breaks base in one way per case and wants exactly one problem, on the line
// where the mistake is (the first line holding `at`), in the field named, saying msg.
func TestRefusals(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // base with the first old replaced by new
		at       string // "" for the line where new begins
		field    string
		msg      string
		more     int // other problems the mistake is reported as, besides this one
	}{
		// Keys and types.
		{name: "unknown key, with a suggestion", old: "        vpc: shop-west\n", new: "        vpc: shop-west\n        securityGroup: {}\n",
			at: "securityGroup: {}", field: "spec.regions.secondary.network.securityGroup",
			msg: `unknown field "securityGroup": did you mean "securityGroups"? (want one of: vpc, securityGroups)`},
		{name: "unknown key", old: "kind: System\n", new: "kind: System\nlabels: {team: a}\n",
			at: "labels:", field: "labels", msg: `unknown field "labels" (want one of: apiVersion, kind, metadata, spec)`},
		{name: "integer wanted", old: "targetGroup: shop-west-api, desiredCount: 2", new: "targetGroup: shop-west-api, desiredCount: two",
			at: "desiredCount: two", field: "spec.regions.secondary.ecs.services.api.desiredCount", msg: `want an integer, got a string "two"`},
		{name: "integer in quotes", old: "targetGroup: shop-east-web, desiredCount: 2", new: `targetGroup: shop-east-web, desiredCount: "2"`,
			at: `desiredCount: "2"`, field: "spec.regions.primary.ecs.services.web.desiredCount", msg: `want an integer, got a string "2"`},
		{name: "mapping wanted", old: "  objectives: {rpo: 1h, rto: 4h}", new: "  objectives: [1h, 4h]",
			at: "objectives:", field: "spec.objectives", msg: "want a mapping, got a list"},
		{name: "boolean wanted", old: "        engine: postgres\n", new: "        engine: postgres\n        multiAZ: yes\n",
			at: "multiAZ", field: "spec.regions.primary.database.multiAZ", msg: `want true or false, got a string "yes"`},
		{name: "bad duration", old: "rpo: 1h,", new: "rpo: 1 hour,",
			at: "rpo:", field: "spec.objectives.rpo", msg: `bad duration "1 hour": want e.g. 90s, 45m, 1h30m`},
		{name: "objective of zero", old: "rto: 4h}", new: "rto: 0s}",
			at: "rto:", field: "spec.objectives.rto", msg: "RTO must be more than 0"},
		{name: "missing required field", old: "        instanceClass: db.t4g.medium\n", new: "",
			at: "database:", field: "spec.regions.primary.database.instanceClass", msg: `missing required field "instanceClass"`},
		{name: "missing required section", old: "      loadBalancer: {name: shop-west}\n", new: "",
			at: "secondary:", field: "spec.regions.secondary.loadBalancer", msg: `missing required field "loadBalancer"`},
		{name: "missing name", old: "  name: shop\n", new: "  description: no name\n",
			at: "metadata:", field: "metadata.name", msg: `missing required field "name"`},
		{name: "misspelt region role", old: "    secondary:\n", new: "    secundary:\n",
			at: "secundary:", field: "spec.regions.secundary", msg: `unknown field "secundary": did you mean "secondary"? (want one of: primary, secondary)`,
			more: 1}, // and secondary is missing
		{name: "no services", old: "        services:\n          web: {name: shop-web, taskFamily: shop-web, targetGroup: shop-east-web, desiredCount: 2}\n          api: {name: shop-api, taskFamily: shop-api, targetGroup: shop-east-api, desiredCount: 2}\n",
			new: "        services: {}\n", at: "services: {}", field: "spec.regions.primary.ecs.services", msg: "no services: want at least one"},

		// Duplicates.
		{name: "YAML duplicate key", old: "        instance: shop-west\n", new: "        instance: shop-west\n        instance: shop-west2\n",
			at: "instance: shop-west2", field: "spec.regions.secondary.database.instance", msg: `duplicate key "instance" (first at line`},
		{name: "two services of one name", old: "api: {name: shop-api, taskFamily: shop-api, targetGroup: shop-west-api", new: "api: {name: shop-web, taskFamily: shop-api, targetGroup: shop-west-api",
			at: "api: {name: shop-web", field: "spec.regions.secondary.ecs.services.api.name", msg: `service "shop-web" is also services.web.name (line`},
		{name: "two services in one target group", old: "api: {name: shop-api, taskFamily: shop-api, targetGroup: shop-east-api", new: "api: {name: shop-api, taskFamily: shop-api, targetGroup: shop-east-web",
			at: "api: {name: shop-api, taskFamily: shop-api, targetGroup: shop-east-web", field: "spec.regions.primary.ecs.services.api.targetGroup", msg: `target group "shop-east-web" is also services.web.targetGroup`},
		{name: "two logical names for one secret", old: "{db: shop/west/db, cache: shop/west/cache}", new: "{db: shop/west/db, cache: shop/west/db}",
			at: "cache: shop/west/db", field: "spec.regions.secondary.secrets.cache", msg: `secret name "shop/west/db" is also spec.regions.secondary.secrets.db (line`},
		{name: "one bucket for both regions", old: "bucket: shop-west-assets", new: "bucket: shop-east-assets",
			field: "spec.regions.secondary.bucket", msg: `bucket "shop-east-assets" is also the primary's (line 38): bucket names are global`},

		// Regions and references.
		{name: "unknown region", old: "region: us-west-2", new: "region: us-westt",
			at: "region: us-westt", field: "spec.regions.secondary.region", msg: `unknown region "us-westt"`},
		{name: "primary is secondary", old: "region: us-west-2", new: "region: us-east-1",
			field: "spec.regions.secondary.region", msg: "us-east-1 is also the primary region (line 13)"},
		{name: "logical reference that does not exist", old: "        securityGroup: cache\n      secrets: {db: shop/west", new: "        securityGroup: cach\n      secrets: {db: shop/west",
			at: "securityGroup: cach\n", field: "spec.regions.secondary.cache.securityGroup", msg: `unknown security group "cach": did you mean "cache"?`},
		{name: "security group id for a logical name", old: "        securityGroup: db\n        kmsKey", new: "        securityGroup: sg-0123456789abcdef0\n        kmsKey",
			at: "sg-0123456789abcdef0", field: "spec.regions.primary.database.securityGroup", msg: `"sg-0123456789abcdef0" is a security group id: want a logical name`},
		{name: "logical name in one region only", old: "{db: shop/east/db, cache: shop/east/cache}", new: "{db: shop/east/db, cache: shop/east/cache, api: shop/east/api}",
			at: "secrets: {db: shop/west", field: "spec.regions.secondary.secrets", msg: `no "api": the primary region names it (line 30)`},
		{name: "cache in one region only", old: "      cache:\n        replicationGroup: shop-west\n        nodeType: cache.t4g.small\n        subnetGroup: shop-west-cache\n        securityGroup: cache\n", new: "",
			at: "secondary:", field: "spec.regions.secondary.cache", msg: "missing cache: the primary region has one (line 25)"},
		{name: "two engines", old: "        instance: shop-west\n        engine: postgres", new: "        instance: shop-west\n        engine: mysql",
			at: "engine: mysql", field: "spec.regions.secondary.database.engine", msg: "engine mysql, but the primary's is postgres (line 19)"},
		{name: "unknown engine, with a suggestion", old: "engine: postgres", new: "engine: postgresql",
			at: "engine: postgresql", field: "spec.regions.primary.database.engine", msg: `unknown RDS engine "postgresql": did you mean "postgres"?`},
		{name: "KMS key of the other region", old: "kms:us-east-1:", new: "kms:us-west-2:",
			at: "kmsKey", field: "spec.regions.primary.database.kmsKey", msg: "the key is in us-west-2, but the database is in us-east-1"},
		{name: "KMS key of another account", old: ":111122223333:alias", new: ":999988887777:alias",
			at: "kmsKey", field: "spec.regions.primary.database.kmsKey", msg: "the key is in account 999988887777, but the system's account is 111122223333 (spec.account, line 6)"},
		{name: "record outside its zone", old: "record: www.shop.example.com", new: "record: www.shop.example.net",
			at: "record:", field: "spec.dns.record", msg: "www.shop.example.net is not in the zone shop.example.com"},

		// Names, not ids.
		{name: "security group id for a name", old: "web: shop-west-web,", new: "web: sg-0a1b2c3d4e5f67890,",
			at: "sg-0a1b2c3d4e5f67890", field: "spec.regions.secondary.network.securityGroups.web", msg: `"sg-0a1b2c3d4e5f67890" is an id: want the security group name`},
		{name: "seed's placeholder id", old: "web: shop-west-web,", new: "web: sg-dr-rds-xxxxx,",
			at: "sg-dr-rds-xxxxx", field: "spec.regions.secondary.network.securityGroups.web", msg: "a security group's name cannot start with sg-"},
		{name: "hosted zone id", old: "zone: shop.example.com", new: "zone: Z1234567890ABC",
			at: "zone:", field: "spec.dns.zone", msg: `"Z1234567890ABC" is a hosted zone id: want the zone's domain name`},
		{name: "ALB DNS name", old: "loadBalancer: {name: shop-west}", new: "loadBalancer: {name: shop-west-123.us-west-2.elb.amazonaws.com}",
			at: "loadBalancer: {name: shop-west-123", field: "spec.regions.secondary.loadBalancer.name", msg: "is a DNS name: want the load balancer name"},
		{name: "topic ARN", old: "topics: {alerts: shop-west-alerts}", new: "topics: {alerts: \"arn:aws:sns:us-west-2:111122223333:shop-west-alerts\"}",
			at: "topics: {alerts: \"arn", field: "spec.regions.secondary.topics.alerts", msg: "is an ARN: want the topic name"},
		{name: "task family with a revision", old: "taskFamily: shop-api, targetGroup: shop-west-api", new: "taskFamily: \"shop-api:latest\", targetGroup: shop-west-api",
			at: "shop-api:latest", field: "spec.regions.secondary.ecs.services.api.taskFamily", msg: "a family has no revision: write shop-api, not shop-api:latest"},
		{name: "bad bucket name", old: "bucket: shop-west-assets", new: "bucket: Shop_West",
			at: "bucket: Shop_West", field: "spec.regions.secondary.bucket", msg: `bad bucket name "Shop_West"`},
		{name: "bad account", old: `account: "111122223333"`, new: `account: "1111-2222-3333"`,
			at: "account:", field: "spec.account", msg: `bad account "1111-2222-3333": want 12 digits`},
		{name: "count out of range", old: "targetGroup: shop-west-web, desiredCount: 2", new: "targetGroup: shop-west-web, desiredCount: 0",
			at: "desiredCount: 0", field: "spec.regions.secondary.ecs.services.web.desiredCount", msg: "desiredCount 0: want 1 to 5000"},

		// The document.
		{name: "wrong apiVersion", old: "apiVersion: kirikae/v1", new: "apiVersion: kirikae/v2",
			at: "apiVersion:", field: "apiVersion", msg: `unsupported apiVersion "kirikae/v2": want kirikae/v1`},
		{name: "wrong kind", old: "kind: System", new: "kind: Plan",
			at: "kind:", field: "kind", msg: `kind "Plan": want System`},
		{name: "more than one document", old: "      bucket: shop-west-assets\n", new: "      bucket: shop-west-assets\n---\nkind: System\n",
			at: "---", field: "yaml", msg: "more than one YAML document: a file holds one system"},
		{name: "YAML syntax", old: "  dns:\n", new: "  dns: [\n",
			at: "dns: [", field: "yaml", msg: "did not find expected"},
		{name: "too deep", old: "  name: shop\n", new: "  name: shop\n  description: " + strings.Repeat("[", system.MaxDepth) + strings.Repeat("]", system.MaxDepth) + "\n",
			at: "description:", field: "yaml", msg: fmt.Sprintf("nest %d levels deep: a system may nest at most %d", system.MaxDepth+2, system.MaxDepth)},
		{name: "too large", old: "kind: System\n", new: "kind: System\n# " + strings.Repeat("x", system.MaxBytes) + "\n",
			at: "apiVersion", field: "system", msg: fmt.Sprintf("a system may be at most %d bytes (1 MiB)", system.MaxBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(base, tt.old) {
				t.Fatalf("%q is not in base", tt.old)
			}
			src := strings.Replace(base, tt.old, tt.new, 1)
			line := lineOf(t, base, tt.old)
			if tt.at != "" {
				line = lineOf(t, src, tt.at)
			}
			_, err := system.Parse("shop.yaml", []byte(src))
			if err == nil {
				t.Fatal("parsed, want refused")
			}
			var ve *system.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, system.ErrInvalid) {
				t.Fatalf("error is %T, want a *system.ValidationError wrapping ErrInvalid: %v", err, err)
			}
			if len(ve.Errors) != 1+tt.more {
				t.Fatalf("%d problems, want %d:\n%v", len(ve.Errors), 1+tt.more, err)
			}
			e := ve.Errors[0]
			for _, o := range ve.Errors {
				if o.Field == tt.field {
					e = o
				}
			}
			if e.Line != line || e.Field != tt.field || !strings.Contains(e.Msg, tt.msg) || e.File != "shop.yaml" {
				t.Errorf("got\n  %.300s\nwant\n  shop.yaml:%d: %s: …%s…", e, line, tt.field, tt.msg)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("shop.yaml:%d: %s: ", line, tt.field)) {
				t.Errorf("the error does not say file:line: field: %.300s", err)
			}
		})
	}
}

// Every problem of a file is reported at once, in line order.
func TestAllProblemsAtOnce(t *testing.T) {
	src := strings.NewReplacer(
		"rpo: 1h", "rpo: soon",
		"instance: shop-west", "instance: Shop--West",
		"desiredCount: 2}\n      topics: {alerts: shop-west", "desiredCount: many}\n      topics: {alerts: shop-west",
	).Replace(base)
	_, err := system.Parse("shop.yaml", []byte(src))
	var ve *system.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a *ValidationError", err)
	}
	var fields []string
	for i, e := range ve.Errors {
		fields = append(fields, e.Field)
		if i > 0 && e.Line < ve.Errors[i-1].Line {
			t.Errorf("problems out of line order: %v", err)
		}
	}
	want := "spec.objectives.rpo spec.regions.secondary.database.instance spec.regions.secondary.ecs.services.api.desiredCount"
	if got := strings.Join(fields, " "); got != want {
		t.Errorf("fields %s, want %s:\n%v", got, want, err)
	}
}

func TestEmptyFile(t *testing.T) {
	for _, src := range []string{"", "# nothing here\n"} {
		_, err := system.Parse("e.yaml", []byte(src))
		if err == nil || err.Error() != "e.yaml:1: system: empty file" {
			t.Errorf("Parse(%q) = %v, want e.yaml:1: system: empty file", src, err)
		}
	}
}
