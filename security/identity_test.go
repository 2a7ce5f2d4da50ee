package security_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kirikae/kirikae/security"
)

func TestParseIdentity(t *testing.T) {
	tests := []struct {
		uri  string
		want security.Identity
		ok   bool
	}{
		{"spiffe://kirikae/server/kirikae", security.Identity{Kind: security.KindServer, Name: "kirikae"}, true},
		{"spiffe://kirikae/agent/us-east-1", security.Identity{Kind: security.KindAgent, Name: "us-east-1"}, true},
		{"spiffe://kirikae/agent/us-gov-west-1", security.Identity{Kind: security.KindAgent, Name: "us-gov-west-1"}, true},
		{"spiffe://kirikae/operator/alice.smith", security.Identity{Kind: security.KindOperator, Name: "alice.smith"}, true},
		{"spiffe://kirikae/dev/dev", security.Identity{}, false},
		{"spiffe://kirikae/root/alice", security.Identity{}, false},
		{"spiffe://other/operator/alice", security.Identity{}, false},
		{"spiffe://kirikae:443/operator/alice", security.Identity{}, false},
		{"spiffe://user@kirikae/operator/alice", security.Identity{}, false},
		{"https://kirikae/operator/alice", security.Identity{}, false},
		{"spiffe://kirikae/operator", security.Identity{}, false},
		{"spiffe://kirikae/operator/", security.Identity{}, false},
		{"spiffe://kirikae/operator/alice/extra", security.Identity{}, false},
		{"spiffe://kirikae/operator/a%2Fb", security.Identity{}, false},
		{"spiffe://kirikae/operator/a%20b", security.Identity{}, false},
		{"spiffe://kirikae/operator/alice?x=1", security.Identity{}, false},
		{"spiffe://kirikae/operator/alice#x", security.Identity{}, false},
		{"spiffe://kirikae/agent/useast1", security.Identity{}, false},
		{"", security.Identity{}, false},
		{"::", security.Identity{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			got, err := security.ParseIdentity(tt.uri)
			if !tt.ok {
				if !errors.Is(err, security.ErrInvalidIdentity) {
					t.Fatalf("ParseIdentity(%q) = %v, %v; want ErrInvalidIdentity", tt.uri, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseIdentity(%q) = %v, %v; want %v", tt.uri, got, err, tt.want)
			}
			if got.String() != tt.uri {
				t.Errorf("String() = %q, want %q", got.String(), tt.uri)
			}
		})
	}
}

func TestIdentityFromCert(t *testing.T) {
	tests := []struct {
		name    string
		uris    []string
		want    string
		wantErr string
	}{
		{name: "one", uris: []string{"spiffe://kirikae/operator/alice"}, want: "spiffe://kirikae/operator/alice"},
		{name: "foreign URI ignored", uris: []string{"spiffe://example.org/ns/x", "spiffe://kirikae/agent/us-east-1"}, want: "spiffe://kirikae/agent/us-east-1"},
		{name: "none", uris: nil, wantErr: "no spiffe://kirikae/ URI SAN"},
		{name: "only foreign", uris: []string{"https://example.org/alice"}, wantErr: "no spiffe://kirikae/ URI SAN"},
		{name: "two", uris: []string{"spiffe://kirikae/operator/alice", "spiffe://kirikae/operator/bob"}, wantErr: "want exactly one"},
		{name: "invalid", uris: []string{"spiffe://kirikae/dev/dev"}, wantErr: "unknown kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := security.IdentityFromCert(parsedCert(t, tt.uris...))
			if tt.wantErr != "" {
				if !errors.Is(err, security.ErrInvalidIdentity) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrInvalidIdentity containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || id.String() != tt.want {
				t.Fatalf("IdentityFromCert = %v, %v; want %s", id, err, tt.want)
			}
		})
	}
	if _, err := security.IdentityFromCert(nil); !errors.Is(err, security.ErrInvalidIdentity) {
		t.Errorf("nil certificate: %v", err)
	}
}
