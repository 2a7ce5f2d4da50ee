package security_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kirikae/kirikae/security"
)

func TestRequireLoopback(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"127.9.8.7:1", true},
		{"[::1]:8080", true},
		{"localhost:8080", true},
		{"LOCALHOST:8080", true},
		{"127.0.0.1", true},
		{"::1", true},
		{"[::1]", true},
		{"[::ffff:127.0.0.1]:80", true},
		{":8080", false},
		{"", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"10.0.0.1:8080", false},
		{"128.0.0.1:8080", false},
		{"example.com:8080", false},
		{"localhost.example.com:80", false},
		{"[fe80::1%lo]:80", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := security.RequireLoopback(tt.addr)
			if tt.ok && err != nil {
				t.Fatalf("RequireLoopback(%q) = %v, want nil", tt.addr, err)
			}
			if !tt.ok {
				if !errors.Is(err, security.ErrNotLoopback) {
					t.Fatalf("RequireLoopback(%q) = %v, want ErrNotLoopback", tt.addr, err)
				}
				if !strings.Contains(err.Error(), `"`+tt.addr+`"`) {
					t.Errorf("error %q does not name the address", err)
				}
			}
		})
	}
}
