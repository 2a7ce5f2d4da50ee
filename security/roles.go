package security

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Role is a permission an operator holds.
type Role string

// The roles. Viewer reads; operator runs the day-to-day verbs; admin may also change the
// active region and the cluster. The approver roles exist so that a plan step can demand
// sign-off from a kind of person; holding one grants nothing beyond viewing, so an approver
// cannot act alone.
const (
	RoleViewer    Role = "viewer"
	RoleOperator  Role = "operator"
	RoleAdmin     Role = "admin"
	RoleSysadmin  Role = "sysadmin"
	RoleManager   Role = "manager"
	RoleSecurity  Role = "security"
	RoleExecutive Role = "executive"
)

// implied lists each role with the roles it brings along, itself included.
var implied = map[Role][]Role{
	RoleViewer:    {RoleViewer},
	RoleOperator:  {RoleOperator, RoleViewer},
	RoleAdmin:     {RoleAdmin, RoleOperator, RoleViewer},
	RoleSysadmin:  {RoleSysadmin, RoleViewer},
	RoleManager:   {RoleManager, RoleViewer},
	RoleSecurity:  {RoleSecurity, RoleViewer},
	RoleExecutive: {RoleExecutive, RoleViewer},
}

// AllRoles lists every role in a fixed order, for help text and error messages.
var AllRoles = []Role{RoleViewer, RoleOperator, RoleAdmin, RoleSysadmin, RoleManager, RoleSecurity, RoleExecutive}

func roleNames() string {
	s := make([]string, len(AllRoles))
	for i, r := range AllRoles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// UnmarshalYAML refuses unknown roles with the line they are on, so a typo such as
// "admn" fails loading instead of quietly granting nothing.
func (r *Role) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a role is a single word, one of %s", n.Line, roleNames())
	}
	role := Role(n.Value)
	if _, ok := implied[role]; !ok {
		return fmt.Errorf("line %d: unknown role %q: want one of %s", n.Line, n.Value, roleNames())
	}
	*r = role
	return nil
}

// Roles maps operator names to the roles they hold, as loaded from a roles file. A nil
// *Roles is valid and means "no roles file": the operator named admin is an admin and every
// other operator a viewer, which is what `kirikae certs init` sets up by default.
//
// With a roles file, an operator not named in it holds no roles at all: the file is an
// allow-list, and a certificate from the CA alone does not grant access.
//
// A Roles is immutable after loading and safe for concurrent use.
type Roles struct {
	operators map[string][]Role
}

// rolesFile is the YAML layout; KnownFields makes any other key an error.
type rolesFile struct {
	Operators operatorRoles `yaml:"operators"`
}

type operatorRoles map[string][]Role

// UnmarshalYAML walks the mapping itself so that a bad operator name is reported with
// its line.
func (o *operatorRoles) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: operators must be a mapping of name: [roles]", n.Line)
	}
	m := make(operatorRoles, len(n.Content)/2)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := ValidateName(k.Value); err != nil {
			return fmt.Errorf("line %d: operator: %w", k.Line, err)
		}
		if first, dup := seen[k.Value]; dup {
			return fmt.Errorf("line %d: operator %q is already listed at line %d", k.Line, k.Value, first)
		}
		seen[k.Value] = k.Line
		if v.Kind != yaml.SequenceNode {
			return fmt.Errorf("line %d: operator %q: roles must be a list, like [viewer]", v.Line, k.Value)
		}
		var roles []Role
		if err := v.Decode(&roles); err != nil {
			return err
		}
		m[k.Value] = roles
	}
	*o = m
	return nil
}

// LoadRoles reads a roles file. Errors name the file and, where YAML knows it, the line.
func LoadRoles(path string) (*Roles, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRoles, err)
	}
	r, err := ParseRoles(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// ParseRoles parses the YAML of a roles file:
//
//	operators:
//	  alice: [operator, sysadmin]
//	  bob: [manager]
//
// Unknown keys, unknown roles and bad operator names are errors naming the line. An empty
// document is an error too: an empty roles file would lock everyone out, which is more
// likely a mistake than a wish.
func ParseRoles(data []byte) (*Roles, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f rolesFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: empty; want an operators: mapping of name: [roles]", ErrInvalidRoles)
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			// One line per problem reads badly after "kirikae: server: --roles: ...".
			return nil, fmt.Errorf("%w: %s", ErrInvalidRoles, strings.Join(te.Errors, "; "))
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidRoles, err)
	}
	if f.Operators == nil {
		return nil, fmt.Errorf("%w: no operators: mapping", ErrInvalidRoles)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: more than one YAML document (---); want a single one", ErrInvalidRoles)
	}
	return &Roles{operators: f.Operators}, nil
}

// RolesOf returns every role id holds, implied roles included, in AllRoles order.
func (r *Roles) RolesOf(id Identity) []Role {
	var held []Role
	switch id.Kind {
	case KindDev:
		held = []Role{RoleAdmin}
	case KindOperator:
		if r == nil {
			if id.Name == "admin" {
				held = []Role{RoleAdmin}
			} else {
				held = []Role{RoleViewer}
			}
		} else {
			held = r.operators[id.Name]
		}
	default:
		// Servers and agents hold no operator roles: RequireServer and RequireAgent are
		// their checks, so a stolen agent key can never drive a failover.
		return nil
	}
	var out []Role
	for _, role := range AllRoles {
		for _, h := range held {
			if slices.Contains(implied[h], role) {
				out = append(out, role)
				break
			}
		}
	}
	return out
}

func (r *Roles) lookup(name string) ([]Role, bool) {
	if r == nil {
		return nil, false
	}
	roles, ok := r.operators[name]
	return roles, ok
}

// Has reports whether id holds role, directly or by implication.
func (r *Roles) Has(id Identity, role Role) bool {
	return slices.Contains(r.RolesOf(id), role)
}

// Authorize returns nil if id holds need, and otherwise ErrPermissionDenied wrapped with a
// message naming the identity, the missing role and the roles it does hold.
func (r *Roles) Authorize(id Identity, need Role) error {
	if _, ok := implied[need]; !ok {
		return fmt.Errorf("%w: unknown role %q required", ErrPermissionDenied, need)
	}
	switch id.Kind {
	case KindServer:
		return fmt.Errorf("%w: %s is a control-plane server and holds no operator roles; role %s is required", ErrPermissionDenied, id, need)
	case KindAgent:
		return fmt.Errorf("%w: %s is an agent and may call only the agent API; role %s is required", ErrPermissionDenied, id, need)
	}
	held := r.RolesOf(id)
	if slices.Contains(held, need) {
		return nil
	}
	has := "no roles"
	if _, listed := r.lookup(id.Name); r != nil && id.Kind == KindOperator && !listed {
		has = "no roles: not in the roles file"
	}
	if len(held) > 0 {
		s := make([]string, len(held))
		for i, h := range held {
			s[i] = string(h)
		}
		has = "roles " + strings.Join(s, ", ")
	}
	return fmt.Errorf("%w: %s lacks role %s (has %s)", ErrPermissionDenied, id, need, has)
}

// RequireServer admits only control-plane servers: internal RPCs such as forwarded
// applies and read-index checks.
func RequireServer(id Identity) error {
	if id.Kind != KindServer {
		return fmt.Errorf("%w: %s is not a control-plane server", ErrPermissionDenied, id)
	}
	return nil
}

// RequireAgent admits only the agent of region: an agent may speak for its own region and
// no other, so one compromised region cannot report on or act for its pair.
func RequireAgent(id Identity, region string) error {
	if id.Kind != KindAgent {
		return fmt.Errorf("%w: %s is not an agent; only agents may call the agent API", ErrPermissionDenied, id)
	}
	if id.Name != region {
		return fmt.Errorf("%w: %s may speak only for region %s, not %s", ErrPermissionDenied, id, id.Name, region)
	}
	return nil
}
