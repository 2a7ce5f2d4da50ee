package controlplane_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kirikae/kirikae/controlplane"
	"github.com/kirikae/kirikae/security"
)

// TestStartRefusesBeforeBinding: a configuration that cannot work is refused before any
// address is bound or the data dir is created, with the flag at fault named.
func TestStartRefusesBeforeBinding(t *testing.T) {
	certs := t.TempDir()
	if _, err := security.GenerateCerts(certs, security.CertOptions{Regions: []string{"us-east-1", "us-west-2"}}); err != nil {
		t.Fatal(err)
	}
	in := func(f string) string { return filepath.Join(certs, f) }
	tests := []struct {
		name   string
		mutate func(*controlplane.Config)
		errHas string
	}{
		{"leader lease past the heartbeat", func(c *controlplane.Config) {
			c.Timeouts = controlplane.RaftTimeouts{Heartbeat: time.Second, Election: time.Second, LeaderLease: 2 * time.Second, Commit: 50 * time.Millisecond}
		}, "--raft-leader-lease-timeout 2s must not exceed --raft-heartbeat-timeout 1s"},
		{"election below the heartbeat", func(c *controlplane.Config) {
			c.Timeouts = controlplane.RaftTimeouts{Heartbeat: time.Second, Election: 500 * time.Millisecond, LeaderLease: 500 * time.Millisecond, Commit: 50 * time.Millisecond}
		}, "--raft-election-timeout 500ms must not be less than --raft-heartbeat-timeout 1s"},
		{"a timeout too short", func(c *controlplane.Config) {
			c.Timeouts = controlplane.DefaultRaftTimeouts
			c.Timeouts.Commit = time.Microsecond
		}, "--raft-commit-timeout 1µs: want at least 1ms"},
		{"negative reload interval", func(c *controlplane.Config) { c.TLSReloadEvery = -time.Second }, "--tls-reload-every"},
		{"gRPC advertised on port 0", func(c *controlplane.Config) { c.GRPCAdvertise = "127.0.0.1:0" }, "--grpc-advertise \"127.0.0.1:0\" must be HOST:PORT"},
		{"an agent certificate", func(c *controlplane.Config) {
			c.Dev = false
			c.TLSCA, c.TLSCert, c.TLSKey = in(security.CAFile), in("agent-us-east-1.pem"), in("agent-us-east-1-key.pem")
		}, "holds spiffe://kirikae/agent/us-east-1: a control-plane node needs a server certificate"},
		{"a key of another certificate", func(c *controlplane.Config) {
			c.Dev = false
			c.TLSCA, c.TLSCert, c.TLSKey = in(security.CAFile), in(security.ServerFile), in("operator-admin-key.pem")
		}, "private key does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			grpcAddr := freeAddr(t)
			cfg := controlplane.Config{ID: "cp1", DataDir: filepath.Join(t.TempDir(), "data"), Dev: true,
				RaftAddr: freeAddr(t), GRPCAddr: grpcAddr, HTTPAddr: freeAddr(t)}
			tt.mutate(&cfg)
			inst, err := controlplane.Start(context.Background(), cfg)
			if err == nil {
				inst.Close()
				t.Fatal("Start accepted the configuration")
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q lacks %q", err, tt.errHas)
			}
			if _, err := os.Stat(cfg.DataDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the data dir was created: %v", err)
			}
			for _, a := range []string{cfg.RaftAddr, cfg.GRPCAddr, cfg.HTTPAddr} {
				ln, err := net.Listen("tcp", a)
				if err != nil {
					t.Errorf("%s is still bound: %v", a, err)
					continue
				}
				ln.Close()
			}
		})
	}
}

// TestGRPCAdvertise: a node tells the cluster the gRPC address it was given to advertise,
// not the one it bound, so followers forward to it and agents are sent to it.
func TestGRPCAdvertise(t *testing.T) {
	advertised := "127.0.0.2:7443"
	inst, err := controlplane.Start(context.Background(), controlplane.Config{ID: "cp1", DataDir: filepath.Join(t.TempDir(), "data"), Dev: true,
		RaftAddr: freeAddr(t), GRPCAddr: freeAddr(t), GRPCAdvertise: advertised, HTTPAddr: freeAddr(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, m := range inst.Node.FSM().Members() {
			if m.GetId() == "cp1" && m.GetGrpcAddress() == advertised {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("members %v: cp1 does not advertise %s (it binds %s)", inst.Node.FSM().Members(), advertised, inst.GRPCAddr)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}
