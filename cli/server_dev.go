package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/pflag"

	"github.com/kirikae/kirikae/controlplane"
	"github.com/kirikae/kirikae/security"
)

// runDev runs `kirikae server --dev`: one node on loopback that needs no other flag. It
// is mTLS like any other node (R8), with throwaway certificates it makes at start, and it
// prints the export lines that make the CLI talk to it as admin. Whatever it made
// itself (the data dir unless --data-dir was given, the certificates) is removed on exit.
func runDev(ctx context.Context, out io.Writer, fs *pflag.FlagSet, cfg controlplane.Config) (err error) {
	for _, flag := range []string{"join", "tls-ca", "tls-cert", "tls-key"} {
		if fs.Changed(flag) {
			return &exitError{code: exitUsage, err: fmt.Errorf("server --dev: --%s: a dev server is one node with its own throwaway certificates; drop --%s or --dev", flag, flag)}
		}
	}
	if cfg.ID == "" {
		cfg.ID = "dev"
	}
	hosts := []string{"localhost", "127.0.0.1"}
	for _, a := range []struct {
		flag string
		v    *string
	}{{"--raft-addr", &cfg.RaftAddr}, {"--raft-advertise", &cfg.RaftAdvertise}, {"--grpc-addr", &cfg.GRPCAddr}, {"--grpc-advertise", &cfg.GRPCAdvertise}, {"--http-addr", &cfg.HTTPAddr}} {
		if *a.v == "" {
			if a.flag == "--raft-advertise" || a.flag == "--grpc-advertise" {
				continue
			}
			*a.v = "127.0.0.1:0"
		}
		if err := security.RequireLoopback(*a.v); err != nil {
			return fmt.Errorf("server --dev serves only on loopback: %s: %w", a.flag, err)
		}
		if h, _, err := net.SplitHostPort(*a.v); err == nil && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	tmp, err := os.MkdirTemp("", "kirikae-dev-")
	if err != nil {
		return fmt.Errorf("server --dev: %w", err)
	}
	defer func() {
		if rerr := os.RemoveAll(tmp); rerr != nil && err == nil {
			err = fmt.Errorf("server --dev: remove %s: %w", tmp, rerr)
		}
	}()
	kept := cfg.DataDir != ""
	if !kept {
		cfg.DataDir = filepath.Join(tmp, "data")
	}
	certs := filepath.Join(tmp, "certs")
	if _, err := security.GenerateCerts(certs, security.CertOptions{Hosts: hosts}); err != nil {
		return fmt.Errorf("server --dev: certificates: %w", err)
	}
	cfg.Bootstrap = true
	cfg.TLSCA, cfg.TLSCert, cfg.TLSKey = filepath.Join(certs, security.CAFile), filepath.Join(certs, security.ServerFile), filepath.Join(certs, security.ServerKeyFile)
	inst, err := controlplane.Start(ctx, cfg)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	cert, key := security.OperatorFiles("admin")
	where := cfg.DataDir + " (removed on exit)"
	if kept {
		where = cfg.DataDir
	}
	q := shellQuote
	fmt.Fprintf(out, `# kirikae server --dev: node %s alone on loopback, data in %s,
# throwaway certificates in %s (removed on exit). Talk to it as admin:
export KIRIKAE_ADDR=%s KIRIKAE_CA=%s KIRIKAE_CERT=%s KIRIKAE_KEY=%s
# then, e.g.: kirikae region init --primary us-east-1 --secondary us-west-2; kirikae region get
# an agent for REGION: kirikae certs init --dir %s --reuse-ca --region REGION, then
#   kirikae agent --region REGION --control-plane %s --data-dir DIR --tls-ca %s --tls-cert %s --tls-key %s
# /v1/active-region, /healthz and /metrics: http://%s
`, cfg.ID, where, certs,
		inst.GRPCAddr, q(cfg.TLSCA), q(filepath.Join(certs, cert)), q(filepath.Join(certs, key)),
		q(certs), inst.GRPCAddr, q(cfg.TLSCA), q(filepath.Join(certs, "agent-REGION.pem")), q(filepath.Join(certs, "agent-REGION-key.pem")),
		inst.HTTPAddr)
	<-ctx.Done()
	if err := inst.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}
