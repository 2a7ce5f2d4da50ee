package security

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/kirikae/kirikae/awsregion"
)

// Kind is what sort of principal an identity names. The kind is part of the certificate's
// URI SAN, so the CA decides it when it signs; nothing a caller sends can change it.
type Kind string

// The kinds of identity. KindDev never comes from a certificate: ParseIdentity rejects it,
// and only an Authenticator with Dev set hands it out.
const (
	KindServer   Kind = "server"
	KindAgent    Kind = "agent"
	KindOperator Kind = "operator"
	KindDev      Kind = "dev"
)

// trustDomain is the SPIFFE trust domain of every kirikae certificate.
const trustDomain = "kirikae"

// Identity is an authenticated principal: a control-plane server (Name is its server id),
// a regional agent (Name is its region) or an operator (Name is the person's name, the key
// of the roles file).
type Identity struct {
	Kind Kind
	Name string
}

// DevIdentity is the caller of a --dev server, which has no certificates to read. It has
// the admin role, because a dev server is one person's loopback playground.
var DevIdentity = Identity{Kind: KindDev, Name: "dev"}

// String returns the identity as its URI, spiffe://kirikae/<kind>/<name>. This is the
// form written to the audit log, so it is stable.
func (id Identity) String() string {
	return "spiffe://" + trustDomain + "/" + string(id.Kind) + "/" + id.Name
}

// ParseIdentity parses a spiffe://kirikae/<kind>/<name> URI, where kind is server, agent
// or operator. The dev kind is refused: it exists only inside a dev server, and a
// certificate claiming it must not be believed.
func ParseIdentity(uri string) (Identity, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %q: %w", ErrInvalidIdentity, uri, err)
	}
	return identityFromURL(u)
}

func identityFromURL(u *url.URL) (Identity, error) {
	raw := u.String()
	if u.Scheme != "spiffe" || u.Host != trustDomain || u.User != nil || u.Opaque != "" {
		return Identity{}, fmt.Errorf("%w: %q: want spiffe://%s/<server|agent|operator>/<name>", ErrInvalidIdentity, raw, trustDomain)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.RawPath != "" {
		return Identity{}, fmt.Errorf("%w: %q: a kirikae identity has no query, fragment or escaped characters", ErrInvalidIdentity, raw)
	}
	parts := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	if len(parts) != 2 {
		return Identity{}, fmt.Errorf("%w: %q: want exactly /<kind>/<name> after spiffe://%s", ErrInvalidIdentity, raw, trustDomain)
	}
	id := Identity{Kind: Kind(parts[0]), Name: parts[1]}
	if err := id.validate(); err != nil {
		return Identity{}, fmt.Errorf("%w: %q: %w", ErrInvalidIdentity, raw, err)
	}
	return id, nil
}

// validate checks the name against the rules of its kind. Dev is not a certificate kind.
func (id Identity) validate() error {
	switch id.Kind {
	case KindServer, KindOperator:
		return ValidateName(id.Name)
	case KindAgent:
		return ValidateRegion(id.Name)
	default:
		return fmt.Errorf("unknown kind %q: want server, agent or operator", id.Kind)
	}
}

// IdentityFromCert reads the identity from a certificate's URI SANs. Exactly one URI in
// the spiffe://kirikae/ trust domain is required: with two, which one the CA meant would be
// a guess, and a security decision must not guess. URIs of other trust domains are ignored,
// so a certificate may also carry an unrelated SPIFFE id.
func IdentityFromCert(cert *x509.Certificate) (Identity, error) {
	if cert == nil {
		return Identity{}, fmt.Errorf("%w: no certificate", ErrInvalidIdentity)
	}
	var ours []*url.URL
	for _, u := range cert.URIs {
		if u.Scheme == "spiffe" && u.Host == trustDomain {
			ours = append(ours, u)
		}
	}
	subject := cert.Subject.CommonName
	switch len(ours) {
	case 0:
		return Identity{}, fmt.Errorf("%w: certificate %q has no spiffe://%s/ URI SAN; make certificates with `kirikae certs init`", ErrInvalidIdentity, subject, trustDomain)
	case 1:
		id, err := identityFromURL(ours[0])
		if err != nil {
			return Identity{}, fmt.Errorf("certificate %q: %w", subject, err)
		}
		return id, nil
	default:
		uris := make([]string, len(ours))
		for i, u := range ours {
			uris[i] = u.String()
		}
		return Identity{}, fmt.Errorf("%w: certificate %q has %d spiffe://%s/ URI SANs (%s); want exactly one", ErrInvalidIdentity, subject, len(ours), trustDomain, strings.Join(uris, ", "))
	}
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$`)

// ValidateName checks an operator name or server id. Names become URI path segments, file
// names (operator-<name>.pem) and roles-file keys, so only letters, digits, '.', '_' and
// '-' are allowed, starting and ending with a letter or digit, at most 64 characters.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: %q: use 1-64 letters, digits, '.', '_' or '-', starting and ending with a letter or digit (no slashes or spaces)", ErrInvalidName, name)
	}
	return nil
}

// ValidateRegion checks that a region looks like an AWS region name (us-east-1,
// us-gov-west-1). It does not check that the region exists: the control plane checks
// regions against the configured pair.
func ValidateRegion(region string) error {
	if !awsregion.Valid(region) {
		return fmt.Errorf("%w: region %q: want an AWS region name like us-east-1", ErrInvalidName, region)
	}
	return nil
}
