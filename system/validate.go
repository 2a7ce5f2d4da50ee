package system

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kirikae/kirikae/awsregion"
	"github.com/kirikae/kirikae/yamlcheck"
)

// Size limits of a system file. Parse refuses a file past any of them with a
// *ValidationError naming the limit, before the work the limit bounds: the size before the
// YAML is parsed, the nesting and what aliases expand to in one pass over the parsed tree.
// A real system file is a few KiB and nests 8 levels deep.
const (
	// MaxBytes is the largest system file: 1 MiB.
	MaxBytes = 1 << 20
	// MaxDepth is how deeply mappings and lists may nest, the top-level mapping counting
	// 1: an ECS service's fields are at depth 7.
	MaxDepth = 16
	// MaxExpanded bounds what YAML aliases expand to, as plan.MaxExpanded does for plans.
	MaxExpanded = 2 * MaxBytes
)

var limits = yamlcheck.Limits{Bytes: MaxBytes, Depth: MaxDepth, Expanded: MaxExpanded}

// decoder reads a System from a yaml.Node tree, checking as it goes, and collects every
// problem with its line and field. A field is the path in the file
// (spec.regions.primary.database.instance); a path is what Lookup takes
// (primary.database.instance).
type decoder struct {
	yamlcheck.Problems
	s     *System
	lines map[string]int // path -> line of its value
	keys  map[string]int // path of a mapping -> line of its key, for problems about it as a whole
	// broken holds the paths of mappings of logical names that are not mappings, which
	// the checks across the file leave alone: they are reported already.
	broken map[string]bool
	refs   []groupRef
}

// groupRef is a logical security group name that a database or cache refers to.
type groupRef struct {
	role    Role
	logical string
	field   string
	line    int
}

func newDecoder(file string) *decoder {
	return &decoder{Problems: yamlcheck.Problems{File: file, Top: "system"},
		lines: map[string]int{}, keys: map[string]int{}, broken: map[string]bool{}}
}

// key is one key a mapping may have: read decodes its value, at the field given.
type key struct {
	name     string
	required bool
	read     func(k, val *yaml.Node, field string)
}

// mapping reads the mapping n at field with keys, and reports every required key that is
// missing at line at (the line of the key that holds n).
func (d *decoder) mapping(n *yaml.Node, field string, at int, keys []key) bool {
	allowed := make([]string, len(keys))
	for i, k := range keys {
		allowed[i] = k.name
	}
	got := map[string]bool{}
	ok := d.Fields(n, field, allowed, func(name string, k, val *yaml.Node) {
		got[name] = true
		for _, ky := range keys {
			if ky.name == name {
				ky.read(k, val, d.JoinField(field, name))
			}
		}
	})
	if !ok {
		return false
	}
	for _, k := range keys {
		if k.required && !got[k.name] {
			d.Add(at, d.JoinField(field, k.name), "missing required field %q", k.name)
		}
	}
	return true
}

// name reads a name of r's kind into dst and records its line under path.
func (d *decoder) name(val *yaml.Node, field, path string, r *rule, dst *string) {
	s, ok := d.Str(val, field)
	if !ok {
		return
	}
	if msg := r.problem(s); msg != "" {
		d.Add(val.Line, field, "%s", msg)
		return
	}
	*dst = s
	d.lines[path] = val.Line
}

// names reads a mapping of logical names to names of r's kind, each given once.
func (d *decoder) names(k, val *yaml.Node, field, path string, r *rule, dst *map[string]string) {
	d.keys[path] = k.Line
	m := map[string]string{}
	first := map[string]string{} // name -> the logical name that has it
	ok := d.Fields(val, field, nil, func(logical string, lk, v *yaml.Node) {
		f, p := d.JoinField(field, logical), path+"."+logical
		if msg := logicalRule.problem(logical); msg != "" {
			d.Add(lk.Line, f, "%s", msg)
			return
		}
		// The logical name is kept even when its value is refused, so that what refers
		// to it is not reported as well.
		m[logical] = ""
		d.keys[p] = lk.Line
		var s string
		d.name(v, f, p, r, &s)
		if s == "" {
			return
		}
		if other, dup := first[s]; dup {
			d.Add(v.Line, f, "%s %q is also %s.%s (line %d): give each resource one logical name",
				r.what, s, field, other, d.lines[path+"."+other])
			return
		}
		first[s] = logical
		m[logical] = s
	})
	if !ok {
		d.broken[path] = true
	}
	*dst = m
}

func (d *decoder) oneOf(val *yaml.Node, field, path, what string, options []string, dst *string) {
	s, ok := d.Str(val, field)
	if !ok {
		return
	}
	if msg := oneOf(what, s, options); msg != "" {
		d.Add(val.Line, field, "%s", msg)
		return
	}
	*dst = s
	d.lines[path] = val.Line
}

func (d *decoder) run(data []byte) *System {
	d.s = &System{}
	root := d.Load(data, limits, "system")
	if root == nil {
		return d.s
	}
	at := root.Line
	d.mapping(root, "system", at, []key{
		{"apiVersion", true, func(_, v *yaml.Node, f string) {
			if s, ok := d.Str(v, f); ok && s != APIVersion {
				d.Add(v.Line, f, "unsupported apiVersion %q: want %s", s, APIVersion)
			}
		}},
		{"kind", true, func(_, v *yaml.Node, f string) {
			switch s, ok := d.Str(v, f); {
			case !ok || s == Kind:
			case s == "Plan":
				d.Add(v.Line, f, "kind %q: want %s; this is a plan, which `kirikae plan validate` checks", s, Kind)
			default:
				d.Add(v.Line, f, "kind %q: want %s", s, Kind)
			}
		}},
		{"metadata", true, d.metadata},
		{"spec", true, d.spec},
	})
	if len(d.s.Regions) == len(roles) {
		d.check()
	}
	d.s.lines = d.lines
	return d.s
}

func (d *decoder) metadata(k, n *yaml.Node, field string) {
	d.mapping(n, field, k.Line, []key{
		{"name", true, func(_, v *yaml.Node, f string) { d.name(v, f, "name", systemNameRule, &d.s.Name) }},
		{"description", false, func(_, v *yaml.Node, f string) {
			if s, ok := d.Str(v, f); ok {
				d.s.Description = s
				d.lines["description"] = v.Line
			}
		}},
	})
}

func (d *decoder) spec(k, n *yaml.Node, field string) {
	s := d.s
	d.mapping(n, field, k.Line, []key{
		{"account", false, func(_, v *yaml.Node, f string) { d.name(v, f, "account", accountRule, &s.Account) }},
		{"objectives", true, func(k, v *yaml.Node, f string) {
			d.mapping(v, f, k.Line, []key{
				{"rpo", true, func(_, v *yaml.Node, f string) { d.objective(v, f, "objectives.rpo", &s.Objectives.RPO) }},
				{"rto", true, func(_, v *yaml.Node, f string) { d.objective(v, f, "objectives.rto", &s.Objectives.RTO) }},
			})
		}},
		{"dns", true, d.dns},
		{"regions", true, func(k, v *yaml.Node, f string) {
			byRole := map[Role]*Region{}
			d.mapping(v, f, k.Line, []key{
				{"primary", true, func(k, v *yaml.Node, f string) { byRole[Primary] = d.region(Primary, k, v, f) }},
				{"secondary", true, func(k, v *yaml.Node, f string) { byRole[Secondary] = d.region(Secondary, k, v, f) }},
			})
			for _, role := range roles {
				if r := byRole[role]; r != nil {
					s.Regions = append(s.Regions, r)
				}
			}
		}},
	})
}

func (d *decoder) objective(val *yaml.Node, field, path string, dst *time.Duration) {
	v, ok := d.Duration(val, field)
	if !ok {
		return
	}
	if v <= 0 {
		d.Add(val.Line, field, "%s must be more than 0", strings.ToUpper(path[strings.LastIndex(path, ".")+1:]))
		return
	}
	*dst = v
	d.lines[path] = val.Line
}

func (d *decoder) dns(k, n *yaml.Node, field string) {
	dns := &d.s.DNS
	dns.Type = "A"
	dnsName := func(v *yaml.Node, f, path string, dst *string) {
		raw, ok := d.Str(v, f)
		if !ok {
			return
		}
		if dnsNameRule.id.MatchString(raw) {
			d.Add(v.Line, f, "%q is a hosted zone id: want the zone's domain name, such as example.com; kirikae finds the id by name at run time", raw)
			return
		}
		// DNS names are the same in any case and with or without the final dot.
		s := strings.ToLower(strings.TrimSuffix(raw, "."))
		if msg := dnsNameRule.problem(s); msg != "" {
			d.Add(v.Line, f, "%s", msg)
			return
		}
		*dst = s
		d.lines[path] = v.Line
	}
	d.mapping(n, field, k.Line, []key{
		{"zone", true, func(_, v *yaml.Node, f string) { dnsName(v, f, "dns.zone", &dns.Zone) }},
		{"record", true, func(_, v *yaml.Node, f string) { dnsName(v, f, "dns.record", &dns.Record) }},
		{"type", false, func(_, v *yaml.Node, f string) { d.oneOf(v, f, "dns.type", "record type", dnsTypes, &dns.Type) }},
	})
	if dns.Zone != "" && dns.Record != "" && dns.Record != dns.Zone && !strings.HasSuffix(dns.Record, "."+dns.Zone) {
		d.Add(d.lines["dns.record"], field+".record", "%s is not in the zone %s: the record must be the zone's name or a name under it", dns.Record, dns.Zone)
	}
}

// region reads one region, or returns nil when n is not a mapping.
func (d *decoder) region(role Role, k, n *yaml.Node, field string) *Region {
	r := &Region{Role: role}
	p := string(role)
	d.keys[p] = k.Line
	sub := func(f string) string { return p + "." + f }
	ok := d.mapping(n, field, k.Line, []key{
		{"region", true, func(_, v *yaml.Node, f string) {
			s, ok := d.Str(v, f)
			if !ok {
				return
			}
			if !awsregion.Valid(s) {
				d.Add(v.Line, f, "unknown region %q: want an AWS region name such as us-east-1 or eu-west-1", s)
				return
			}
			r.Name = s
			d.lines[sub("region")] = v.Line
		}},
		{"network", true, func(k, v *yaml.Node, f string) {
			if !d.mapping(v, f, k.Line, []key{
				{"vpc", true, func(_, v *yaml.Node, f string) { d.name(v, f, sub("network.vpc"), vpcRule, &r.Network.VPC) }},
				{"securityGroups", false, func(k, v *yaml.Node, f string) {
					d.names(k, v, f, sub("network.securityGroups"), securityGroupRule, &r.Network.SecurityGroups)
				}},
			}) {
				d.broken[sub("network.securityGroups")] = true
			}
		}},
		{"database", true, func(k, v *yaml.Node, f string) { d.database(r, k, v, f) }},
		{"cache", false, func(k, v *yaml.Node, f string) { d.cache(r, k, v, f) }},
		{"backup", false, func(k, v *yaml.Node, f string) {
			r.Backup = &Backup{}
			d.keys[sub("backup")] = k.Line
			d.mapping(v, f, k.Line, []key{
				{"vault", true, func(_, v *yaml.Node, f string) { d.name(v, f, sub("backup.vault"), vaultRule, &r.Backup.Vault) }},
				{"fileSystem", false, func(_, v *yaml.Node, f string) {
					d.name(v, f, sub("backup.fileSystem"), fileSystemRule, &r.Backup.FileSystem)
				}},
				{"restoreRole", false, func(_, v *yaml.Node, f string) {
					d.name(v, f, sub("backup.restoreRole"), iamRoleRule, &r.Backup.RestoreRole)
				}},
			})
		}},
		{"secrets", false, func(k, v *yaml.Node, f string) { d.names(k, v, f, sub("secrets"), secretRule, &r.Secrets) }},
		{"loadBalancer", true, func(k, v *yaml.Node, f string) {
			d.mapping(v, f, k.Line, []key{
				{"name", true, func(_, v *yaml.Node, f string) {
					d.name(v, f, sub("loadBalancer.name"), loadBalancerRule, &r.LoadBalancer.Name)
				}},
			})
		}},
		{"ecs", true, func(k, v *yaml.Node, f string) { d.ecs(r, k, v, f) }},
		{"topics", false, func(k, v *yaml.Node, f string) { d.names(k, v, f, sub("topics"), topicRule, &r.Topics) }},
		{"bucket", false, func(_, v *yaml.Node, f string) { d.name(v, f, sub("bucket"), bucketRule, &r.Bucket) }},
	})
	if !ok {
		return nil
	}
	return r
}

func (d *decoder) database(r *Region, k, n *yaml.Node, field string) {
	db := &r.Database
	p := string(r.Role) + ".database."
	d.mapping(n, field, k.Line, []key{
		{"instance", true, func(_, v *yaml.Node, f string) { d.name(v, f, p+"instance", dbInstanceRule, &db.Instance) }},
		{"engine", true, func(_, v *yaml.Node, f string) { d.oneOf(v, f, p+"engine", "RDS engine", rdsEngines, &db.Engine) }},
		{"instanceClass", true, func(_, v *yaml.Node, f string) {
			d.name(v, f, p+"instanceClass", dbInstanceClassRule, &db.InstanceClass)
		}},
		{"multiAZ", false, func(_, v *yaml.Node, f string) {
			if b, ok := d.Bool(v, f); ok {
				db.MultiAZ = b
				d.lines[p+"multiAZ"] = v.Line
			}
		}},
		{"subnetGroup", true, func(_, v *yaml.Node, f string) { d.name(v, f, p+"subnetGroup", dbSubnetGroupRule, &db.SubnetGroup) }},
		{"parameterGroup", true, func(_, v *yaml.Node, f string) {
			d.name(v, f, p+"parameterGroup", dbGroupRule, &db.ParameterGroup)
		}},
		{"optionGroup", false, func(_, v *yaml.Node, f string) { d.name(v, f, p+"optionGroup", dbGroupRule, &db.OptionGroup) }},
		{"securityGroup", true, func(_, v *yaml.Node, f string) { d.groupRef(r, v, f, p+"securityGroup", &db.SecurityGroup) }},
		{"kmsKey", false, func(_, v *yaml.Node, f string) { d.name(v, f, p+"kmsKey", kmsKeyRule, &db.KMSKey) }},
	})
}

func (d *decoder) cache(r *Region, k, n *yaml.Node, field string) {
	c := &Cache{Engine: "redis", Nodes: 1}
	r.Cache = c
	p := string(r.Role) + ".cache."
	d.keys[string(r.Role)+".cache"] = k.Line
	d.mapping(n, field, k.Line, []key{
		{"replicationGroup", true, func(_, v *yaml.Node, f string) {
			d.name(v, f, p+"replicationGroup", replicationGroupRule, &c.ReplicationGroup)
		}},
		{"engine", false, func(_, v *yaml.Node, f string) { d.oneOf(v, f, p+"engine", "cache engine", cacheEngines, &c.Engine) }},
		{"engineVersion", false, func(_, v *yaml.Node, f string) {
			d.name(v, f, p+"engineVersion", engineVersionRule, &c.EngineVersion)
		}},
		{"nodeType", true, func(_, v *yaml.Node, f string) { d.name(v, f, p+"nodeType", nodeTypeRule, &c.NodeType) }},
		{"nodes", false, func(_, v *yaml.Node, f string) {
			if n, ok := d.Int(v, f); ok {
				if n < 1 || n > 6 {
					d.Add(v.Line, f, "%d nodes: a replication group has 1 to 6 (a primary and up to 5 replicas)", n)
					return
				}
				c.Nodes = n
				d.lines[p+"nodes"] = v.Line
			}
		}},
		{"subnetGroup", true, func(_, v *yaml.Node, f string) {
			d.name(v, f, p+"subnetGroup", cacheSubnetGroupRule, &c.SubnetGroup)
		}},
		{"securityGroup", true, func(_, v *yaml.Node, f string) { d.groupRef(r, v, f, p+"securityGroup", &c.SecurityGroup) }},
	})
}

// groupRef reads a logical security group name, which check resolves.
func (d *decoder) groupRef(r *Region, val *yaml.Node, field, path string, dst *string) {
	s, ok := d.Str(val, field)
	if !ok {
		return
	}
	if strings.HasPrefix(s, "sg-") {
		d.Add(val.Line, field, "%q is a security group id: want a logical name from network.securityGroups, which names the group", s)
		return
	}
	if msg := logicalRule.problem(s); msg != "" {
		d.Add(val.Line, field, "%s", msg)
		return
	}
	*dst = s
	d.lines[path] = val.Line
	d.refs = append(d.refs, groupRef{role: r.Role, logical: s, field: field, line: val.Line})
}

func (d *decoder) ecs(r *Region, k, n *yaml.Node, field string) {
	p := string(r.Role) + ".ecs."
	ok := d.mapping(n, field, k.Line, []key{
		{"cluster", true, func(_, v *yaml.Node, f string) { d.name(v, f, p+"cluster", ecsNameRule, &r.ECS.Cluster) }},
		{"services", true, func(k, v *yaml.Node, f string) {
			d.keys[p+"services"] = k.Line
			r.ECS.Services = map[string]*Service{}
			names, groups := map[string]string{}, map[string]string{} // service or target group -> logical name
			ok := d.Fields(v, f, nil, func(logical string, lk, sv *yaml.Node) {
				sf, sp := d.JoinField(f, logical), p+"services."+logical+"."
				if msg := logicalRule.problem(logical); msg != "" {
					d.Add(lk.Line, sf, "%s", msg)
					return
				}
				svc := &Service{}
				d.keys[p+"services."+logical] = lk.Line
				d.mapping(sv, sf, lk.Line, []key{
					{"name", true, func(_, v *yaml.Node, f string) { d.name(v, f, sp+"name", ecsNameRule, &svc.Name) }},
					{"taskFamily", true, func(_, v *yaml.Node, f string) {
						d.name(v, f, sp+"taskFamily", taskFamilyRule, &svc.TaskFamily)
					}},
					{"targetGroup", false, func(_, v *yaml.Node, f string) {
						d.name(v, f, sp+"targetGroup", targetGroupRule, &svc.TargetGroup)
					}},
					{"desiredCount", true, func(_, v *yaml.Node, f string) {
						if n, ok := d.Int(v, f); ok {
							if n < 1 || n > 5000 {
								d.Add(v.Line, f, "desiredCount %d: want 1 to 5000 tasks, the count that runs when the region is active", n)
								return
							}
							svc.DesiredCount = n
							d.lines[sp+"desiredCount"] = v.Line
						}
					}},
					{"image", false, func(_, v *yaml.Node, f string) { d.name(v, f, sp+"image", imageRule, &svc.Image) }},
				})
				unique := func(seen map[string]string, what, value, key string) bool {
					if value == "" {
						return true
					}
					if other, dup := seen[value]; dup {
						d.Add(d.lines[sp+key], sf+"."+key, "%s %q is also services.%s.%s (line %d): each service has its own",
							what, value, other, key, d.lines[p+"services."+other+"."+key])
						return false
					}
					seen[value] = logical
					return true
				}
				unique(names, "service", svc.Name, "name")
				unique(groups, "target group", svc.TargetGroup, "targetGroup")
				r.ECS.Services[logical] = svc
			})
			switch {
			case !ok:
				d.broken[p+"services"] = true
			case len(v.Content) == 0:
				d.Add(v.Line, f, "no services: want at least one, by logical name: services: {api: {name: ..., taskFamily: ..., desiredCount: 2}}")
				d.broken[p+"services"] = true
			}
		}},
	})
	if !ok {
		d.broken[p+"services"] = true
	}
}

// check makes the checks that need the whole file: the two regions differ, references
// resolve, both regions name the same logical resources, and names that are global are
// not given twice.
func (d *decoder) check() {
	s := d.s
	pri, sec := s.Role(Primary), s.Role(Secondary)
	field := func(path string) string { return "spec.regions." + path }
	if pri.Name != "" && pri.Name == sec.Name {
		d.Add(d.lines["secondary.region"], field("secondary.region"), "%s is also the primary region (line %d): the secondary must be another region",
			sec.Name, d.lines["primary.region"])
	}
	for _, ref := range d.refs {
		groups := s.Role(ref.role).Network.SecurityGroups
		if _, ok := groups[ref.logical]; ok || d.broken[string(ref.role)+".network.securityGroups"] {
			continue
		}
		known := sortedKeys(groups)
		switch m := yamlcheck.Suggest(ref.logical, known); {
		case len(known) == 0:
			d.Add(ref.line, ref.field, "unknown security group %q: network.securityGroups names none (give it there: securityGroups: {%s: GROUP-NAME})",
				ref.logical, ref.logical)
		case m != "":
			d.Add(ref.line, ref.field, "unknown security group %q: did you mean %q? (network.securityGroups names %s)",
				ref.logical, m, strings.Join(known, ", "))
		default:
			d.Add(ref.line, ref.field, "unknown security group %q (network.securityGroups names %s)", ref.logical, strings.Join(known, ", "))
		}
	}
	// A plan refers to a logical name in either region, for a failover or a cutback, so
	// both regions name the same ones.
	for _, m := range []struct {
		path string
		of   func(r *Region) []string
	}{
		{"network.securityGroups", func(r *Region) []string { return sortedKeys(r.Network.SecurityGroups) }},
		{"secrets", func(r *Region) []string { return sortedKeys(r.Secrets) }},
		{"ecs.services", func(r *Region) []string { return r.ServiceNames() }},
		{"topics", func(r *Region) []string { return sortedKeys(r.Topics) }},
	} {
		for _, role := range roles {
			if d.broken[string(role)+"."+m.path] || d.broken[string(role.Other())+"."+m.path] {
				continue
			}
			here, there := s.Role(role), s.Role(role.Other())
			have := map[string]bool{}
			for _, l := range m.of(here) {
				have[l] = true
			}
			var missing []string
			for _, l := range m.of(there) {
				if !have[l] {
					missing = append(missing, l)
				}
			}
			if len(missing) == 0 {
				continue
			}
			line := d.keys[string(role)+"."+m.path]
			if line == 0 {
				line = d.keys[string(role)]
			}
			d.Add(line, field(string(role)+"."+m.path), "no %s: the %s region names %s (line %d), and a plan may refer to a logical name in either region, so both name the same ones",
				quoteAll(missing), role.Other(), plural(len(missing), "it", "them"), d.keys[string(role.Other())+"."+m.path+"."+missing[0]])
		}
	}
	if (pri.Cache == nil) != (sec.Cache == nil) {
		has, lacks := Primary, Secondary
		if pri.Cache == nil {
			has, lacks = Secondary, Primary
		}
		d.Add(d.keys[string(lacks)], field(string(lacks)+".cache"), "missing cache: the %s region has one (line %d); give both regions one, or neither",
			has, d.keys[string(has)+".cache"])
	}
	if pri.Database.Engine != "" && sec.Database.Engine != "" && pri.Database.Engine != sec.Database.Engine {
		d.Add(d.lines["secondary.database.engine"], field("secondary.database.engine"), "engine %s, but the primary's is %s (line %d): a snapshot restores into the same engine",
			sec.Database.Engine, pri.Database.Engine, d.lines["primary.database.engine"])
	}
	if pri.Cache != nil && sec.Cache != nil && pri.Cache.Engine != sec.Cache.Engine {
		d.Add(d.lines["secondary.cache.engine"], field("secondary.cache.engine"), "engine %s, but the primary's is %s: both regions run the same cache engine",
			sec.Cache.Engine, pri.Cache.Engine)
	}
	if pri.Bucket != "" && pri.Bucket == sec.Bucket {
		d.Add(d.lines["secondary.bucket"], field("secondary.bucket"), "bucket %q is also the primary's (line %d): bucket names are global, and replication needs two buckets",
			sec.Bucket, d.lines["primary.bucket"])
	}
	for _, r := range s.Regions {
		path := string(r.Role) + ".database.kmsKey"
		m := kmsARNRe.FindStringSubmatch(r.Database.KMSKey)
		if m == nil {
			continue
		}
		if m[1] != r.Name {
			d.Add(d.lines[path], field(path), "the key is in %s, but the database is in %s: RDS uses a key of its own region", m[1], r.Name)
		}
		if s.Account != "" && m[2] != s.Account {
			d.Add(d.lines[path], field(path), "the key is in account %s, but the system's account is %s (spec.account, line %d)",
				m[2], s.Account, d.lines["account"])
		}
	}
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	sort.Strings(q)
	return strings.Join(q, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
