package security_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kirikae/kirikae/security"
)

func op(name string) security.Identity {
	return security.Identity{Kind: security.KindOperator, Name: name}
}

func TestParseRoles(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr []string // substrings; nil means success
	}{
		{name: "good", yaml: "operators:\n  alice: [operator, sysadmin]\n  bob: [manager]\n  carol: [viewer]\n"},
		{name: "block list", yaml: "operators:\n  alice:\n    - admin\n"},
		{name: "empty mapping", yaml: "operators: {}\n"},
		{name: "unknown top-level key", yaml: "operators:\n  alice: [admin]\nadmins: [bob]\n", wantErr: []string{"line 3", "admins"}},
		{name: "unknown key and bad type", yaml: "operators:\n  alice: [admin]\nadmins: [bob]\nextra: 1\n", wantErr: []string{"line 3", "admins", "line 4", "extra"}},
		{name: "unknown role", yaml: "operators:\n  alice: [admin]\n  bob:\n    - viewer\n    - admn\n", wantErr: []string{"line 5", `unknown role "admn"`}},
		{name: "role not a list", yaml: "operators:\n  alice: admin\n", wantErr: []string{"line 2", "must be a list"}},
		{name: "nested role", yaml: "operators:\n  alice: [[admin]]\n", wantErr: []string{"line 2", "single word"}},
		{name: "bad operator name", yaml: "operators:\n  alice: [admin]\n  bad name: [viewer]\n", wantErr: []string{"line 3", "bad name"}},
		{name: "duplicate operator", yaml: "operators:\n  alice: [admin]\n  alice: [viewer]\n", wantErr: []string{"line 3", "line 2"}},
		{name: "operators not a mapping", yaml: "operators: [alice]\n", wantErr: []string{"line 1", "mapping"}},
		{name: "empty", yaml: "", wantErr: []string{"empty"}},
		{name: "no operators", yaml: "operators:\n", wantErr: []string{"no operators"}},
		{name: "two documents", yaml: "operators: {}\n---\noperators: {}\n", wantErr: []string{"more than one YAML document"}},
		{name: "bad yaml", yaml: "operators:\n  alice: [admin\n", wantErr: []string{"line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := security.ParseRoles([]byte(tt.yaml))
			if tt.wantErr == nil {
				if err != nil || r == nil {
					t.Fatalf("ParseRoles: %v", err)
				}
				return
			}
			if !errors.Is(err, security.ErrInvalidRoles) {
				t.Fatalf("err = %v, want ErrInvalidRoles", err)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestLoadRoles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roles.yaml")
	if err := os.WriteFile(path, []byte("operators:\n  alice: [admin]\n  bob: [nope]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := security.LoadRoles(path)
	if !errors.Is(err, security.ErrInvalidRoles) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v, want ErrInvalidRoles naming %s and line 3", err, path)
	}
	if _, err := security.LoadRoles(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, security.ErrInvalidRoles) {
		t.Fatalf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("operators:\n  alice: [admin]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := security.LoadRoles(path)
	if err != nil || !r.Has(op("alice"), security.RoleAdmin) {
		t.Fatalf("LoadRoles = %v, %v; want alice as admin", r, err)
	}
}

func TestAuthorize(t *testing.T) {
	file, err := security.ParseRoles([]byte(`operators:
  alice: [operator, sysadmin]
  bob: [manager]
  carol: [viewer]
  dave: [admin]
  erin: [security, executive]
  frank: []
  gina: [sysadmin]
  admin: [viewer]
`))
	if err != nil {
		t.Fatal(err)
	}
	const (
		V = security.RoleViewer
		O = security.RoleOperator
		A = security.RoleAdmin
		S = security.RoleSysadmin
		M = security.RoleManager
		C = security.RoleSecurity
		E = security.RoleExecutive
	)
	tests := []struct {
		name  string
		roles *security.Roles
		id    security.Identity
		has   []security.Role
	}{
		{"file alice", file, op("alice"), []security.Role{V, O, S}},
		{"file bob", file, op("bob"), []security.Role{V, M}},
		{"file carol", file, op("carol"), []security.Role{V}},
		{"file dave", file, op("dave"), []security.Role{V, O, A}},
		{"file erin", file, op("erin"), []security.Role{V, C, E}},
		{"file gina", file, op("gina"), []security.Role{V, S}},
		{"file frank no roles", file, op("frank"), nil},
		{"file unlisted", file, op("mallory"), nil},
		{"file admin is only what the file says", file, op("admin"), []security.Role{V}},
		{"file dev", file, security.DevIdentity, []security.Role{V, O, A}},
		{"file server", file, security.Identity{Kind: security.KindServer, Name: "kirikae"}, nil},
		{"file agent", file, security.Identity{Kind: security.KindAgent, Name: "us-east-1"}, nil},
		{"default admin", nil, op("admin"), []security.Role{V, O, A}},
		{"default other operator", nil, op("alice"), []security.Role{V}},
		{"default dev", nil, security.DevIdentity, []security.Role{V, O, A}},
		{"default server", nil, security.Identity{Kind: security.KindServer, Name: "admin"}, nil},
		{"default agent", nil, security.Identity{Kind: security.KindAgent, Name: "us-east-1"}, nil},
		{"zero identity", nil, security.Identity{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, role := range security.AllRoles {
				want := false
				for _, h := range tt.has {
					want = want || h == role
				}
				if got := tt.roles.Has(tt.id, role); got != want {
					t.Errorf("Has(%s, %s) = %v, want %v", tt.id, role, got, want)
				}
				err := tt.roles.Authorize(tt.id, role)
				if want && err != nil {
					t.Errorf("Authorize(%s, %s) = %v, want nil", tt.id, role, err)
				}
				if !want {
					if !errors.Is(err, security.ErrPermissionDenied) {
						t.Errorf("Authorize(%s, %s) = %v, want ErrPermissionDenied", tt.id, role, err)
					} else if !strings.Contains(err.Error(), tt.id.String()) || !strings.Contains(err.Error(), string(role)) {
						t.Errorf("Authorize error %q does not name %s and %s", err, tt.id, role)
					}
				}
			}
		})
	}
	if err := file.Authorize(op("dave"), security.Role("root")); !errors.Is(err, security.ErrPermissionDenied) {
		t.Errorf("unknown role granted: %v", err)
	}
}

func TestRequireServerAndAgent(t *testing.T) {
	server := security.Identity{Kind: security.KindServer, Name: "kirikae"}
	east := security.Identity{Kind: security.KindAgent, Name: "us-east-1"}
	tests := []struct {
		name   string
		err    error
		wantOK bool
	}{
		{"server is server", security.RequireServer(server), true},
		{"agent is not server", security.RequireServer(east), false},
		{"operator is not server", security.RequireServer(op("admin")), false},
		{"dev is not server", security.RequireServer(security.DevIdentity), false},
		{"agent for own region", security.RequireAgent(east, "us-east-1"), true},
		{"agent for other region", security.RequireAgent(east, "us-west-2"), false},
		{"server is not agent", security.RequireAgent(server, "us-east-1"), false},
		{"operator is not agent", security.RequireAgent(op("us-east-1"), "us-east-1"), false},
		{"dev is not agent", security.RequireAgent(security.DevIdentity, "us-east-1"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantOK && tt.err != nil {
				t.Fatalf("got %v, want nil", tt.err)
			}
			if !tt.wantOK && !errors.Is(tt.err, security.ErrPermissionDenied) {
				t.Fatalf("got %v, want ErrPermissionDenied", tt.err)
			}
		})
	}
}
