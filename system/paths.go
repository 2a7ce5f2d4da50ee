package system

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kirikae/kirikae/yamlcheck"
)

// entries lists every value a path names (set) and every path that the format has but
// this system leaves out (unset, with why).
func (s *System) entries() (set map[string]string, unset map[string]string) {
	if s.set != nil {
		return s.set, s.unset // Parse computed them; a System is not changed after
	}
	set, unset = map[string]string{}, map[string]string{}
	put := func(path, value string) {
		if value == "" {
			unset[path] = "it is optional and the system file does not give it"
			return
		}
		set[path] = value
	}
	put("name", s.Name)
	put("description", s.Description)
	put("account", s.Account)
	put("objectives.rpo", formatDuration(s.Objectives.RPO))
	put("objectives.rto", formatDuration(s.Objectives.RTO))
	put("dns.zone", s.DNS.Zone)
	put("dns.record", s.DNS.Record)
	put("dns.type", s.DNS.Type)
	for _, r := range s.Regions {
		p := string(r.Role) + "."
		put(p+"region", r.Name)
		put(p+"network.vpc", r.Network.VPC)
		for l, g := range r.Network.SecurityGroups {
			put(p+"network.securityGroups."+l, g)
		}
		db := r.Database
		for _, f := range [][2]string{{"instance", db.Instance}, {"engine", db.Engine}, {"instanceClass", db.InstanceClass},
			{"multiAZ", strconv.FormatBool(db.MultiAZ)}, {"subnetGroup", db.SubnetGroup}, {"parameterGroup", db.ParameterGroup},
			{"optionGroup", db.OptionGroup}, {"securityGroup", r.SecurityGroupName(db.SecurityGroup)}, {"kmsKey", db.KMSKey}} {
			put(p+"database."+f[0], f[1])
		}
		cacheFields := []string{"replicationGroup", "engine", "engineVersion", "nodeType", "nodes", "subnetGroup", "securityGroup"}
		if c := r.Cache; c != nil {
			for i, v := range []string{c.ReplicationGroup, c.Engine, c.EngineVersion, c.NodeType, strconv.Itoa(c.Nodes),
				c.SubnetGroup, r.SecurityGroupName(c.SecurityGroup)} {
				put(p+"cache."+cacheFields[i], v)
			}
		} else {
			for _, f := range cacheFields {
				unset[p+"cache."+f] = fmt.Sprintf("the %s region has no cache", r.Role)
			}
		}
		backupFields := []string{"vault", "fileSystem", "restoreRole"}
		if b := r.Backup; b != nil {
			for i, v := range []string{b.Vault, b.FileSystem, b.RestoreRole} {
				put(p+"backup."+backupFields[i], v)
			}
		} else {
			for _, f := range backupFields {
				unset[p+"backup."+f] = fmt.Sprintf("the %s region has no backup section", r.Role)
			}
		}
		for l, v := range r.Secrets {
			put(p+"secrets."+l, v)
		}
		put(p+"loadBalancer.name", r.LoadBalancer.Name)
		put(p+"ecs.cluster", r.ECS.Cluster)
		for l, svc := range r.ECS.Services {
			sp := p + "ecs.services." + l + "."
			put(sp+"name", svc.Name)
			put(sp+"taskFamily", svc.TaskFamily)
			put(sp+"targetGroup", svc.TargetGroup)
			put(sp+"desiredCount", strconv.Itoa(svc.DesiredCount))
			put(sp+"image", svc.Image)
		}
		for l, v := range r.Topics {
			put(p+"topics."+l, v)
		}
		put(p+"bucket", r.Bucket)
	}
	return set, unset
}

// Paths lists every path Lookup answers, sorted: name, objectives.rpo, dns.record,
// primary.region, secondary.ecs.services.api.name ... A plan refers to one as
// ${system.PATH}.
func (s *System) Paths() []string {
	set, _ := s.entries()
	return sortedKeys(set)
}

// Lookup returns the value at path, a dotted path from the top of the system's
// description with the regions named by role: objectives.rpo, dns.record,
// secondary.loadBalancer.name, secondary.ecs.services.api.name. A plan's
// ${system.secondary.loadBalancer.name} is Lookup("secondary.loadBalancer.name").
//
// Every value is a string as a plan would write it: a duration as 1h or 1h30m, a count
// as 2, a flag as true or false. A logical security group reference
// (database.securityGroup, cache.securityGroup) reads as the name of the group it names.
//
// A path that names no value is an error wrapping ErrUnknownPath that says why: an
// optional value the file leaves out, a path that names a mapping (listing the paths
// under it), or an unknown path (naming the closest paths that exist).
func (s *System) Lookup(path string) (string, error) {
	set, unset := s.entries()
	if v, ok := set[path]; ok {
		return v, nil
	}
	if why, ok := unset[path]; ok {
		return "", fmt.Errorf("%w: %s is not set in system %s: %s", ErrUnknownPath, path, s.Name, why)
	}
	paths := sortedKeys(set)
	if under := pathsUnder(paths, path); len(under) > 0 {
		return "", fmt.Errorf("%w: %s is a mapping, not a value: want one of %s", ErrUnknownPath, path, listPaths(under))
	}
	msg := fmt.Sprintf("%s: no such path in system %s", path, s.Name)
	if m := yamlcheck.Suggest(path, paths); m != "" {
		msg += fmt.Sprintf(": did you mean %s?", m)
	}
	// Name the paths next to where it goes wrong: under the longest prefix that exists.
	for parent := path; parent != ""; {
		i := strings.LastIndexByte(parent, '.')
		if i < 0 {
			break
		}
		parent = parent[:i]
		if under := pathsUnder(paths, parent); len(under) > 0 {
			return "", fmt.Errorf("%w: %s (the paths under %s are %s)", ErrUnknownPath, msg, parent, listPaths(under))
		}
	}
	return "", fmt.Errorf("%w: %s (paths start with %s)", ErrUnknownPath, msg, strings.Join(topSegments(paths), ", "))
}

// pathsUnder lists the paths under prefix, sorted.
func pathsUnder(paths []string, prefix string) []string {
	var out []string
	for _, p := range paths {
		if strings.HasPrefix(p, prefix+".") {
			out = append(out, p)
		}
	}
	return out
}

// listPaths joins paths for a message, cut short after a dozen.
func listPaths(paths []string) string {
	const most = 12
	if len(paths) <= most {
		return strings.Join(paths, ", ")
	}
	return strings.Join(paths[:most], ", ") + fmt.Sprintf(", and %d more", len(paths)-most)
}

func topSegments(paths []string) []string {
	var out []string
	for _, p := range paths {
		top, _, _ := strings.Cut(p, ".")
		if !slices.Contains(out, top) {
			out = append(out, top)
		}
	}
	return out
}

// formatDuration writes d as a plan would: 1h, 1h30m, 90s is 1m30s.
func formatDuration(d time.Duration) string {
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = out[:len(out)-2]
	}
	if strings.HasSuffix(out, "h0m") {
		out = out[:len(out)-2]
	}
	return out
}
