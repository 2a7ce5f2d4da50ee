package awssim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SigV4 verification. awssim serves only requests signed with a key pair it issued, so two
// simulators on one machine never serve each other's callers, and a caller with the wrong
// secret learns it at once, as on AWS.
//
// The algorithm is AWS's: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
// (canonical request, string to sign, signing key derived from date, region and service).
// The error messages are those AWS documents in
// https://docs.aws.amazon.com/IAM/latest/UserGuide/signature-v4-troubleshooting.html.

const (
	sigV4Algorithm = "AWS4-HMAC-SHA256"
	amzDateFormat  = "20060102T150405Z"
	// maxSkew is how far a request's X-Amz-Date may be from the simulator's wall clock.
	maxSkew = 15 * time.Minute
	// unsignedPayload and the streaming forms stand for the body hash in S3 requests.
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// authFailure is why a request's signature was refused; the protocol decides the error code.
type authFailure int

const (
	authMissing      authFailure = iota + 1 // no Authorization header and no presigned query
	authIncomplete                          // a part of the signature is missing or malformed
	authUnknownKey                          // the access key id was not issued
	authBadSig                              // the signature does not match
	authExpired                             // X-Amz-Date is too far from now
	authBodyMismatch                        // X-Amz-Content-Sha256 does not hash the body
)

// sigError is a refusal in AWS's own words, which begin with a capital letter.
type sigError string

func (e sigError) Error() string { return string(e) }

func sigErrorf(format string, args ...any) error { return sigError(fmt.Sprintf(format, args...)) }

// sigV4 is a parsed signature: from the Authorization header or a presigned query string.
type sigV4 struct {
	accessKey     string
	date          string // YYYYMMDD from the scope
	region        string
	service       string
	signedHeaders []string
	signature     string
	amzDate       string
	presigned     bool
	expires       time.Duration // presigned only
}

func (v *sigV4) scope() string {
	return v.date + "/" + v.region + "/" + v.service + "/aws4_request"
}

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
// SignedHeaders=a;b, Signature=hex". It never panics on any input.
func parseAuthorization(h string) (*sigV4, error) {
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != sigV4Algorithm {
		return nil, sigErrorf("Authorization header requires the %s algorithm", sigV4Algorithm)
	}
	v := &sigV4{}
	var cred, signed string
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, sigErrorf("Authorization header requires each component to be key=value, not %q", strings.TrimSpace(part))
		}
		switch k {
		case "Credential":
			cred = val
		case "SignedHeaders":
			signed = val
		case "Signature":
			v.signature = val
		}
	}
	switch {
	case cred == "":
		return nil, sigErrorf("Authorization header requires 'Credential' parameter")
	case signed == "":
		return nil, sigErrorf("Authorization header requires 'SignedHeaders' parameter")
	case v.signature == "":
		return nil, sigErrorf("Authorization header requires 'Signature' parameter")
	}
	if err := v.setCredential(cred); err != nil {
		return nil, err
	}
	v.signedHeaders = strings.Split(signed, ";")
	return v, v.checkParts()
}

// parsePresigned reads the X-Amz-* query parameters of a presigned URL, or returns nil when
// the query carries none.
func parsePresigned(q url.Values) (*sigV4, error) {
	if q.Get("X-Amz-Algorithm") == "" && q.Get("X-Amz-Credential") == "" && q.Get("X-Amz-Signature") == "" {
		return nil, nil
	}
	if q.Get("X-Amz-Algorithm") != sigV4Algorithm {
		return nil, sigErrorf("X-Amz-Algorithm only supports %s", sigV4Algorithm)
	}
	v := &sigV4{presigned: true, signature: q.Get("X-Amz-Signature"), amzDate: q.Get("X-Amz-Date")}
	if err := v.setCredential(q.Get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	if s := q.Get("X-Amz-SignedHeaders"); s != "" {
		v.signedHeaders = strings.Split(s, ";")
	}
	secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || secs < 1 || secs > 604800 {
		return nil, sigErrorf("X-Amz-Expires must be a number of seconds from 1 to 604800, not %q", q.Get("X-Amz-Expires"))
	}
	v.expires = time.Duration(secs) * time.Second
	switch {
	case v.signature == "":
		return nil, fmt.Errorf("query string requires X-Amz-Signature")
	case len(v.signedHeaders) == 0:
		return nil, fmt.Errorf("query string requires X-Amz-SignedHeaders")
	}
	return v, v.checkParts()
}

func (v *sigV4) setCredential(cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return sigErrorf("Credential should be AKID/YYYYMMDD/region/service/aws4_request, not %q", cred)
	}
	v.accessKey, v.date, v.region, v.service = parts[0], parts[1], parts[2], parts[3]
	for i, p := range parts[:4] {
		if p == "" {
			return sigErrorf("Credential %q has an empty %s", cred, [...]string{"access key id", "date", "region", "service"}[i])
		}
	}
	return nil
}

// checkParts checks what can be checked without the request.
func (v *sigV4) checkParts() error {
	if _, err := time.Parse("20060102", v.date); err != nil {
		return sigErrorf("Credential scope date %q is not YYYYMMDD", v.date)
	}
	if len(v.signature) != 64 {
		return sigErrorf("Signature must be 64 hexadecimal characters")
	}
	if _, err := hex.DecodeString(v.signature); err != nil {
		return sigErrorf("Signature must be 64 hexadecimal characters")
	}
	for _, h := range v.signedHeaders {
		if h == "" || h != strings.ToLower(h) {
			return sigErrorf("SignedHeaders must be lowercase header names separated by ';'")
		}
	}
	if !slices.Contains(v.signedHeaders, "host") {
		return sigErrorf("SignedHeaders must include host")
	}
	return nil
}

// verifySignature checks r's SigV4 signature against the simulator's key pairs. body is the
// request body already read; service decides S3's path and payload rules. It returns the
// parsed signature (for the scope) or why it was refused and a message in AWS's words.
func (s *Sim) verifySignature(r *http.Request, body []byte, now time.Time) (*sigV4, authFailure, string) {
	var (
		v   *sigV4
		err error
	)
	if h := r.Header.Get("Authorization"); h != "" {
		v, err = parseAuthorization(h)
	} else {
		v, err = parsePresigned(r.URL.Query())
		if v == nil && err == nil {
			return nil, authMissing, "Request is missing Authentication Token"
		}
	}
	if err != nil {
		return nil, authIncomplete, err.Error()
	}
	cred, ok := s.creds[v.accessKey]
	if !ok {
		return v, authUnknownKey, "The security token included in the request is invalid."
	}
	if !v.presigned {
		v.amzDate = r.Header.Get("X-Amz-Date")
	}
	signedAt, err := time.Parse(amzDateFormat, v.amzDate)
	if err != nil {
		return v, authIncomplete, fmt.Sprintf("Authorization requires an X-Amz-Date of the form %s, not %q", amzDateFormat, v.amzDate)
	}
	if signedAt.Format("20060102") != v.date {
		return v, authBadSig, fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", v.date, signedAt.Format("20060102"), v.amzDate)
	}
	until := signedAt.Add(maxSkew)
	if v.presigned {
		until = signedAt.Add(v.expires)
	}
	switch {
	case now.Before(signedAt.Add(-maxSkew)):
		return v, authExpired, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)", v.amzDate, now.Add(maxSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	case now.After(until):
		return v, authExpired, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)", v.amzDate, now.Add(-until.Sub(signedAt)).Format(amzDateFormat), now.Format(amzDateFormat), human(until.Sub(signedAt)))
	}
	payload, fail, msg := payloadHash(r, body, v.presigned)
	if fail != 0 {
		return v, fail, msg
	}
	key := signingKey(cred.SecretAccessKey, v.date, v.region, v.service)
	// SigV4 collapses "sequential spaces" in header values. The Go SDK collapses runs of
	// plain spaces only; botocore collapses any white space (str.split). Either signer's
	// request is accepted: the two canonical forms differ only for a header value holding a
	// tab or a Unicode space.
	for _, collapse := range []func(string) string{collapseSpaces, collapseWhiteSpace} {
		creq := canonicalRequest(r, v, payload, collapse)
		hashed := sha256.Sum256([]byte(creq))
		toSign := sigV4Algorithm + "\n" + v.amzDate + "\n" + v.scope() + "\n" + hex.EncodeToString(hashed[:])
		want := hex.EncodeToString(hmacSHA256(key, toSign))
		if hmac.Equal([]byte(want), []byte(strings.ToLower(v.signature))) {
			return v, 0, ""
		}
	}
	return v, authBadSig, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
}

// collapseSpaces trims a header value and turns each run of spaces into one, as the Go
// SDK's signer does.
func collapseSpaces(v string) string {
	v = strings.Trim(v, " ")
	for strings.Contains(v, "  ") {
		v = strings.ReplaceAll(v, "  ", " ")
	}
	return v
}

// collapseWhiteSpace trims and collapses any white space, as botocore's signer does.
func collapseWhiteSpace(v string) string { return strings.Join(strings.Fields(v), " ") }

// human renders the skew window as AWS does ("15 min.").
func human(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return d.String()
}

// payloadHash is the hash the signature covers: X-Amz-Content-Sha256 when given (S3 always
// sends it, and it must hash the body), else the body's SHA-256.
func payloadHash(r *http.Request, body []byte, presigned bool) (string, authFailure, string) {
	sum := sha256.Sum256(body)
	actual := hex.EncodeToString(sum[:])
	declared := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case declared == "" && presigned:
		return unsignedPayload, 0, ""
	case declared == "":
		return actual, 0, ""
	case declared == unsignedPayload:
		return declared, 0, ""
	case strings.HasPrefix(declared, "STREAMING-"):
		return "", authIncomplete, "awssim does not accept chunked (" + declared + ") uploads; send the body whole"
	case !strings.EqualFold(declared, actual):
		return "", authBodyMismatch, "The provided 'x-amz-content-sha256' header does not match what was computed."
	}
	return strings.ToLower(declared), 0, ""
}

// canonicalRequest builds step 1 of the algorithm from what the client sent; collapse
// canonicalizes a header value's white space.
func canonicalRequest(r *http.Request, v *sigV4, payload string, collapse func(string) string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r, v.service))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, v.presigned))
	b.WriteByte('\n')
	for _, h := range v.signedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(r, h, collapse))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(v.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payload)
	return b.String()
}

// canonicalURI is the path as sent, URI-encoded once more for every service but S3 (whose
// signers do not double-encode).
func canonicalURI(r *http.Request, service string) string {
	p := r.URL.EscapedPath()
	if r.RequestURI != "" && !strings.Contains(r.RequestURI, "://") {
		p, _, _ = strings.Cut(r.RequestURI, "?")
	}
	if p == "" {
		p = "/"
	}
	if service == "s3" {
		return p
	}
	return uriEncode(p, false)
}

// canonicalQuery sorts the query's parameters by encoded name, then value, each encoded as
// RFC 3986 unreserved characters only. A presigned request leaves out its own signature.
func canonicalQuery(raw string, presigned bool) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var pairs []kv
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, val, _ := strings.Cut(part, "=")
		k, val = queryUnescape(k), queryUnescape(val)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, kv{uriEncode(k, true), uriEncode(val, true)})
	}
	slices.SortFunc(pairs, func(a, b kv) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// queryUnescape decodes %XX; a '+' stays a '+', as the SDKs encode a space as %20. A bad
// escape is kept as sent, so the signature simply fails to match.
func queryUnescape(s string) string {
	u, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// uriEncode percent-encodes every byte but RFC 3986's unreserved characters; '/' too when
// encodeSlash is set.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// headerValue is a signed header's canonical value: its values trimmed, runs of spaces
// collapsed, joined by commas. Go keeps Host and Content-Length outside r.Header.
func headerValue(r *http.Request, name string, collapse func(string) string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values("Content-Length")
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		vals = r.TransferEncoding
	default:
		vals = r.Header.Values(name)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = collapse(v)
	}
	return strings.Join(out, ",")
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// authError is the error each service answers a refused signature with. The codes differ by
// protocol family, as AWS's do:
//   - awsQuery and restXml services (RDS, ElastiCache, ELBv2, STS, SNS, CloudWatch, Route 53)
//     use the common errors InvalidClientTokenId, SignatureDoesNotMatch,
//     MissingAuthenticationToken, IncompleteSignature and RequestExpired
//     (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/CommonErrors.html);
//   - EC2 answers AuthFailure for any credential it cannot validate
//     (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html);
//   - JSON services (ECS, Secrets Manager, Health, EFS, Backup) use the *Exception forms:
//     UnrecognizedClientException, InvalidSignatureException,
//     MissingAuthenticationTokenException, IncompleteSignatureException;
//   - S3 uses InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied,
//     AuthorizationHeaderMalformed, RequestTimeTooSkewed and XAmzContentSHA256Mismatch
//     (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
func authError(service string, why authFailure, msg string) *apiError {
	type codes struct{ missing, incomplete, unknown, badSig, expired string }
	var c codes
	status := map[authFailure]int{authMissing: http.StatusForbidden, authIncomplete: http.StatusBadRequest,
		authUnknownKey: http.StatusForbidden, authBadSig: http.StatusForbidden, authExpired: http.StatusForbidden,
		authBodyMismatch: http.StatusBadRequest}[why]
	switch service {
	case "ec2":
		c = codes{"MissingAuthenticationToken", "IncompleteSignature", "AuthFailure", "AuthFailure", "RequestExpired"}
		if why == authUnknownKey || why == authBadSig {
			status = http.StatusUnauthorized
			msg = "AWS was not able to validate the provided access credentials"
		}
	case "ecs", "secretsmanager", "health", "elasticfilesystem", "backup":
		c = codes{"MissingAuthenticationTokenException", "IncompleteSignatureException", "UnrecognizedClientException", "InvalidSignatureException", "InvalidSignatureException"}
		if service == "ecs" || service == "secretsmanager" || service == "health" {
			status = http.StatusBadRequest // awsJson services answer 400 for these
		}
	case "s3":
		c = codes{"AccessDenied", "AuthorizationHeaderMalformed", "InvalidAccessKeyId", "SignatureDoesNotMatch", "RequestTimeTooSkewed"}
		switch why {
		case authMissing:
			msg = "Access Denied"
		case authUnknownKey:
			msg = "The AWS Access Key Id you provided does not exist in our records."
		case authBadSig:
			msg = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
		case authExpired:
			msg = "The difference between the request time and the current time is too large."
		}
	default:
		c = codes{"MissingAuthenticationToken", "IncompleteSignature", "InvalidClientTokenId", "SignatureDoesNotMatch", "SignatureDoesNotMatch"}
	}
	code := map[authFailure]string{authMissing: c.missing, authIncomplete: c.incomplete, authUnknownKey: c.unknown,
		authBadSig: c.badSig, authExpired: c.expired}[why]
	if why == authBodyMismatch {
		code = "XAmzContentSHA256Mismatch"
		if service != "s3" {
			code = c.badSig
		}
	}
	return &apiError{Status: status, Code: code, Message: msg}
}
