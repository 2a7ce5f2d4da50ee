package cli

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kirikae/kirikae/awsregion"
	"github.com/kirikae/kirikae/security"
	"github.com/kirikae/kirikae/system"
)

func init() { register(newCertsCommand) }

func newCertsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Make the CA and certificates for mTLS",
		Long: `Every kirikae connection, raft included, is mutual TLS. Who a caller is comes from the
URI in its certificate: spiffe://kirikae/server/<id>, spiffe://kirikae/agent/<region> or
spiffe://kirikae/operator/<name>. These commands make certificates for a test or a small
installation; a larger one can use any CA that issues the same URIs.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newCertsInitCommand())
	return cmd
}

type certsInitFlags struct {
	dir    string
	system string
	opts   security.CertOptions
}

func (f *certsInitFlags) Bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.dir, "dir", "", "directory to write into; created (0700) if missing (required)")
	fs.StringSliceVar(&f.opts.Hosts, "host", nil, "DNS name or IP the server certificate is valid for; repeat for each address clients and raft peers dial (default localhost, 127.0.0.1)")
	fs.StringSliceVar(&f.opts.Operators, "operator", nil, "operator to make a certificate for, besides admin (always made); repeat for each")
	fs.StringSliceVar(&f.opts.Regions, "region", nil, "region to make an agent certificate for; repeat for each region an agent runs in")
	fs.StringVar(&f.system, "system", "", "system file whose two regions get an agent certificate each (instead of, or besides, --region)")
	fs.StringVar(&f.opts.ServerID, "server-id", "kirikae", "name in the server identity spiffe://kirikae/server/<id>; every node may share the one certificate")
	fs.BoolVar(&f.opts.Force, "force", false, "replace an existing CA and every certificate (running nodes will reject the old ones); with --reuse-ca, reissue existing certificates")
	fs.BoolVar(&f.opts.ReuseCA, "reuse-ca", false, "sign with the ca.pem and ca-key.pem already in --dir, keeping existing certificates; use it to add an operator or agent later")
}

func newCertsInitCommand() *cobra.Command {
	f := &certsInitFlags{}
	cmd := &cobra.Command{
		Use:   "init --dir DIR",
		Short: "Make a CA and server, agent and operator certificates",
		Long: `Make a certificate authority and the certificates a cluster needs, all ECDSA P-256.
Keys are written 0600; guard ca-key.pem, since whoever holds it can mint any identity.

Files written in --dir:
  ca.pem, ca-key.pem                 the CA (10 years); every node and client trusts ca.pem
  server.pem, server-key.pem         control-plane nodes (1 year): TLS for gRPC and raft,
                                     valid for each --host, identity spiffe://kirikae/server/<id>
  agent-<region>.pem, -key.pem       one per region (--region, or the two of --system FILE),
                                     identity spiffe://kirikae/agent/<region>; an agent may
                                     speak only for its own region
  operator-<name>.pem, -key.pem      admin's, and one per --operator, identity
                                     spiffe://kirikae/operator/<name>

Use them with a server:
  kirikae server --tls-ca DIR/ca.pem --tls-cert DIR/server.pem --tls-key DIR/server-key.pem ...

and with the operator commands, as flags (--ca, --cert, --key) or in the environment:
  export KIRIKAE_CA=DIR/ca.pem KIRIKAE_CERT=DIR/operator-admin.pem KIRIKAE_KEY=DIR/operator-admin-key.pem
  kirikae region get

Without --roles, the server makes the operator named admin an admin and every other operator
a viewer. A roles file grants more, and only what it lists (keep admin in it):
  operators:
    admin: [admin]
    alice: [operator, sysadmin]
    bob: [manager]
Roles: viewer, operator, admin, and the approver roles sysadmin, manager, security, executive.

An existing ca.pem is never replaced silently: pass --force to start over, or --reuse-ca to
add certificates signed by the CA you already have.`,
		Example: `  # a local cluster on this machine, with agents for the regions of a system file
  kirikae certs init --dir ./certs --system deploy/systems/kaigo.yaml
  # three hosts, two operators besides admin
  kirikae certs init --dir ./certs --host cp1.internal --host cp2.internal --host cp3.internal \
    --region eu-west-1 --region eu-central-1 --operator alice --operator bob
  # add an operator later, keeping the CA and everyone else's certificates
  kirikae certs init --dir ./certs --reuse-ca --operator carol`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCertsInit(cmd.OutOrStdout(), f)
		},
	}
	f.Bind(cmd.Flags())
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

func runCertsInit(out io.Writer, f *certsInitFlags) error {
	if f.system != "" {
		sys, err := system.ParseFile(f.system)
		if err != nil {
			return fmt.Errorf("--system: %w", err)
		}
		for _, r := range sys.Regions {
			f.opts.Regions = append(f.opts.Regions, r.Name)
		}
	}
	for _, r := range f.opts.Regions {
		if !awsregion.Valid(r) {
			return fmt.Errorf("--region %q: not an AWS region name (e.g. us-east-1)", r)
		}
	}
	if len(f.opts.Regions) == 0 && !f.opts.ReuseCA {
		// No default: the regions are the user's, and an agent without its certificate
		// cannot connect at all.
		return errors.New("name the regions your agents run in: --region REGION (repeat for each), or --system FILE for the two regions of your system file")
	}
	res, err := security.GenerateCerts(f.dir, f.opts)
	for _, p := range res.Written {
		fmt.Fprintln(out, "wrote", p)
	}
	switch {
	case errors.Is(err, security.ErrCAExists):
		return fmt.Errorf("certs init: %w; pass --force to replace it and every certificate it signed, or --reuse-ca to sign new certificates with it", err)
	case err != nil:
		return fmt.Errorf("certs init: %w", err)
	}
	for _, p := range res.Kept {
		fmt.Fprintln(out, "kept ", p)
	}
	// admin is always issued: it sets the cluster up (region init, system apply).
	operator := "admin"
	cert, key := security.OperatorFiles(operator)
	d := f.dir
	fmt.Fprintf(out, `
Start a server with:
  kirikae server --tls-ca %s --tls-cert %s --tls-key %s ...
Talk to it as %s with:
  export KIRIKAE_CA=%s KIRIKAE_CERT=%s KIRIKAE_KEY=%s
`, filepath.Join(d, security.CAFile), filepath.Join(d, security.ServerFile), filepath.Join(d, security.ServerKeyFile),
		operator, filepath.Join(d, security.CAFile), filepath.Join(d, cert), filepath.Join(d, key))
	return nil
}
