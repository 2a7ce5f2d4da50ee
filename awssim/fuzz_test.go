package awssim_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/health"
	healthtypes "github.com/aws/aws-sdk-go-v2/service/health/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/kirikae/kirikae/awssim"
)

// The fuzz targets below, one per wire protocol, throw requests at the decoders. Each signs
// the fuzzed request validly (the SDK's signer, the test key pair), so it passes the
// signature check and reaches the decoder, sends it to Sim.Handler, and holds the answer to
// what the package promises (doc.go: "Bad input gets a 4xx AWS error, never a 500"):
//
//   - no 5xx: the handler recovers a panic into a 500, so this catches panics too, and the
//     simulator sends no deliberate 5xx here (no faults are injected, no region is down);
//   - an error answer carries an AWS error code in the protocol's own error shape, and is
//     not a signature refusal (that would mean the input never reached the decoder);
//   - an error leaves the simulated world as it was (GET /_sim/state before and after);
//   - a success is well formed for the protocol, and one that changed the world is journaled.
//
// Each corpus is seeded with the SDK's own requests, captured on the wire from real clients
// (captureSDK), and hand-written malformed ones. The world is reset after every call that
// changed it, so every input runs against the fixture and a crasher replays on its own.

// wire is a protocol's error and success shape.
type wire int

const (
	wireQuery    wire = iota // awsQuery: <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>
	wireEC2                  // ec2Query: <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/>
	wireRoute53              // restXml: <ErrorResponse> as awsQuery, or <InvalidChangeBatch><Messages/>
	wireS3                   // restXml: <Error><Code/><Message/><RequestId/></Error>
	wireRestJSON             // restJson1: X-Amzn-ErrorType and {"Code","message"}
	wireJSON                 // awsJson1_0/1_1: {"__type","message"}
	wireCBOR                 // rpcv2Cbor: {"__type":"namespace#Code","message"}
)

// authCodes are the codes of a refused signature, in every protocol's spelling. A fuzzed
// request must never get one: it is signed properly, so the refusal would mean the verifier
// and the SDK's signer disagree, and the input never reached the decoder under test.
var authCodes = map[string]bool{
	"MissingAuthenticationToken": true, "IncompleteSignature": true, "InvalidClientTokenId": true,
	"SignatureDoesNotMatch": true, "RequestExpired": true, "AuthFailure": true,
	"MissingAuthenticationTokenException": true, "IncompleteSignatureException": true,
	"UnrecognizedClientException": true, "InvalidSignatureException": true,
	"AccessDenied": true, "AuthorizationHeaderMalformed": true, "InvalidAccessKeyId": true,
	"RequestTimeTooSkewed": true, "XAmzContentSHA256Mismatch": true,
}

// errorCodeRE is what an AWS error code looks like: InvalidParameterValue, DBSnapshotNotFound,
// InvalidVpcID.NotFound; never a Go error message or an empty string.
var errorCodeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$`)

// fuzzSim is the simulator one fuzz target's inputs share (one per fuzzing worker process).
type fuzzSim struct {
	sim  *awssim.Sim
	h    http.Handler
	logs *lockedBuffer
	// last is the world after the previous input, nil after a reset. Nothing else changes
	// the world between two inputs, and the stored world holds timelines, not statuses, so
	// it does not change as the clock moves: last is the next input's world before.
	last []byte
}

// lockedBuffer collects the simulator's warnings and errors (a handler panic is logged
// there with its value), to show them with a failure.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

func newFuzzSim(f *testing.F) *fuzzSim {
	f.Helper()
	logs := &lockedBuffer{}
	sim, err := awssim.New(awssim.Options{Credentials: testCreds, Fixture: "kaigo", Now: newTickClock(time.Second).Now, Seed: 1,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = sim.Close() })
	return &fuzzSim{sim: sim, h: sim.Handler(), logs: logs}
}

// fuzzReq is one fuzzed request, as a client would address it.
type fuzzReq struct {
	wire    wire
	region  string
	service string
	method  string
	target  string // path and query, as on the request line
	headers map[string]string
	body    []byte
}

func (r fuzzReq) String() string {
	var hs []string
	for k, v := range r.headers {
		hs = append(hs, fmt.Sprintf("%s: %q", k, v))
	}
	slices.Sort(hs)
	return fmt.Sprintf("%s %s (%s in %s) [%s] body %q", r.method, r.target, r.service, r.region, strings.Join(hs, ", "), r.body)
}

// onWire turns r into the request the simulator's server would read: built and signed as a
// Go client builds and signs it, written to the wire and parsed back. It is nil for input no
// Go client can send (a target that is no URL, a header value with a control character):
// such a request never reaches the handler, so it cannot reach a decoder either; and for a
// path under /_sim/ or /_app/, which no decoder serves.
func (r fuzzReq) onWire(t *testing.T) *http.Request {
	t.Helper()
	target := r.target
	if !strings.HasPrefix(target, "/") {
		target = "/" + target
	}
	creq, err := http.NewRequest(r.method, "http://example.com"+target, bytes.NewReader(r.body))
	if err != nil {
		return nil
	}
	for k, v := range r.headers {
		if !validHeaderValue(v) {
			return nil
		}
		creq.Header.Set(k, v)
	}
	signRequest(t, creq, r.body, r.region, r.service)
	var b bytes.Buffer
	if err := creq.Write(&b); err != nil {
		return nil
	}
	sreq, err := http.ReadRequest(bufio.NewReader(&b))
	if err != nil {
		return nil
	}
	if strings.HasPrefix(sreq.URL.Path, "/_sim/") || strings.HasPrefix(sreq.URL.Path, "/_app/") {
		// The control API and the application are served before any decoder, unsigned; a
		// fuzzed /_sim/region-down would hang every later input.
		return nil
	}
	return sreq
}

// validHeaderValue is what Go's client lets through as a header value (httpguts'
// ValidHeaderFieldValue): no control character but tab. http.Transport refuses the rest, and
// Request.Write, which onWire uses, would turn CR and LF into spaces after signing.
//
// White space other than ' ' (a tab, U+00A0, U+0085) is left out too, though Go sends it:
// SigV4 signers disagree on it (the Go SDK signs it as it is, botocore collapses it like
// runs of spaces, as awssim's verifier does), so such a request is refused before any
// decoder sees it; to a decoder, a target with a tab in it is one more unknown operation.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' || c == 0x7f {
			return false
		}
	}
	return !strings.ContainsFunc(v, func(r rune) bool { return r != ' ' && unicode.IsSpace(r) })
}

// do sends r and checks the answer; it returns the answer for target-specific checks.
func (fs *fuzzSim) do(t *testing.T, r fuzzReq) *httptest.ResponseRecorder {
	t.Helper()
	req := r.onWire(t)
	if req == nil {
		return nil
	}
	before := fs.last
	if before == nil {
		before = fs.state(t)
	}
	fs.logs.take()
	rec := httptest.NewRecorder()
	fs.h.ServeHTTP(rec, req)
	after := fs.state(t)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\n→ %d %.2000q\n%s\nsimulator log: %s", r, rec.Code, rec.Body.Bytes(), fmt.Sprintf(format, args...), fs.logs.take())
	}
	changed := stateDiff(before, after)
	switch {
	case rec.Code >= 500:
		fail("a 5xx for a request the simulator should answer with a 4xx or a success")
	case rec.Code >= 400:
		code, problem := errorCode(r.wire, rec)
		if problem != "" {
			fail("the error is not in the protocol's shape: %s", problem)
		}
		if authCodes[code] {
			fail("the validly signed request was refused (%s): the verifier and the SDK's signer disagree", code)
		}
		if len(changed) > 0 {
			fail("the request failed with %s but changed the world: %s", code, strings.Join(changed, "; "))
		}
	case rec.Code >= 200 && rec.Code < 300:
		if problem := successProblem(r.wire, rec); problem != "" {
			fail("the success is malformed: %s", problem)
		}
		if len(changed) > 0 && !slices.Contains(changed, "journal") {
			fail("the request changed the world without a journal entry: %s", strings.Join(changed, "; "))
		}
	default:
		fail("an unexpected status")
	}
	fs.last = after
	if len(changed) > 0 {
		fs.last = nil
		if err := fs.sim.Reset(); err != nil {
			t.Fatal(err)
		}
	}
	return rec
}

// seqRE is the world's leading request counter in GET /_sim/state: every request, failed
// or not, draws its request id from it, so state leaves it out.
var seqRE = regexp.MustCompile(`^\{"seq":[0-9]+,`)

// state is the simulated world as GET /_sim/state gives it, without the request counter.
func (fs *fuzzSim) state(t *testing.T) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	fs.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_sim/state", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /_sim/state: %d %s", rec.Code, rec.Body.Bytes())
	}
	b := rec.Body.Bytes()
	if loc := seqRE.FindIndex(b); loc != nil {
		b = append([]byte("{"), b[loc[1]:]...)
	}
	return b
}

// stateDiff names what differs between two worlds: each top-level key that changed, and
// for a change below it the first few paths that did. The request counter is no change,
// wherever in the document it is.
func stateDiff(before, after []byte) []string {
	if bytes.Equal(before, after) {
		return nil
	}
	var a, b map[string]json.RawMessage
	if err := json.Unmarshal(before, &a); err != nil {
		return []string{fmt.Sprintf("world before is no JSON object: %v", err)}
	}
	if err := json.Unmarshal(after, &b); err != nil {
		return []string{fmt.Sprintf("world after is no JSON object: %v", err)}
	}
	delete(a, "seq")
	delete(b, "seq")
	var out []string
	keys := make(map[string]bool)
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	for _, k := range sortedKeysOf(keys) {
		if bytes.Equal(a[k], b[k]) {
			continue
		}
		out = append(out, k)
		var va, vb any
		_ = json.Unmarshal(a[k], &va)
		_ = json.Unmarshal(b[k], &vb)
		var paths []string
		jsonDiff(va, vb, k, &paths)
		out = append(out, paths...)
	}
	return out
}

func sortedKeysOf[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// jsonDiff appends up to five paths at which a and b differ.
func jsonDiff(a, b any, path string, out *[]string) {
	if len(*out) >= 5 {
		return
	}
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range av {
			keys[k] = true
		}
		for k := range bv {
			keys[k] = true
		}
		for _, k := range sortedKeysOf(keys) {
			jsonDiff(av[k], bv[k], path+"."+k, out)
		}
		return
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			break
		}
		for i := range av {
			jsonDiff(av[i], bv[i], fmt.Sprintf("%s[%d]", path, i), out)
		}
		return
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		*out = append(*out, fmt.Sprintf("%s: %.200s → %.200s", path, ja, jb))
	}
}

// errorCode reads the AWS error code out of an error answer in w's shape, or says what is
// wrong with the answer.
func errorCode(w wire, rec *httptest.ResponseRecorder) (code, problem string) {
	body := rec.Body.Bytes()
	hdr := rec.Header()
	sender := rec.Code < 500
	switch w {
	case wireQuery, wireRoute53:
		var x struct {
			XMLName xml.Name
			Error   struct{ Type, Code, Message string }
			Msgs    []string `xml:"Messages>Message"`
			ReqID   string   `xml:"RequestId"`
		}
		if err := xml.Unmarshal(body, &x); err != nil {
			return "", fmt.Sprintf("not XML: %v", err)
		}
		switch {
		case w == wireRoute53 && x.XMLName.Local == "InvalidChangeBatch":
			if len(x.Msgs) == 0 || slices.Contains(x.Msgs, "") {
				return "", "InvalidChangeBatch without messages"
			}
			code = "InvalidChangeBatch"
		case x.XMLName.Local != "ErrorResponse":
			return "", fmt.Sprintf("root element %s, want ErrorResponse", x.XMLName.Local)
		case sender && x.Error.Type != "Sender":
			return "", fmt.Sprintf("a 4xx with error type %q, want Sender", x.Error.Type)
		default:
			code = x.Error.Code
		}
		if x.ReqID == "" {
			return "", "no RequestId"
		}
	case wireEC2:
		var x struct {
			XMLName xml.Name
			Errors  []struct{ Code, Message string } `xml:"Errors>Error"`
			ReqID   string                           `xml:"RequestID"`
		}
		if err := xml.Unmarshal(body, &x); err != nil {
			return "", fmt.Sprintf("not XML: %v", err)
		}
		if x.XMLName.Local != "Response" || len(x.Errors) != 1 || x.ReqID == "" {
			return "", "want <Response><Errors><Error> with one error and a RequestID"
		}
		code = x.Errors[0].Code
	case wireS3:
		var x struct {
			XMLName xml.Name
			Code    string
			ReqID   string `xml:"RequestId"`
		}
		if err := xml.Unmarshal(body, &x); err != nil {
			return "", fmt.Sprintf("not XML: %v", err)
		}
		if x.XMLName.Local != "Error" || x.ReqID == "" {
			return "", "want <Error> with a RequestId"
		}
		code = x.Code
	case wireRestJSON:
		var x struct{ Code, Message string }
		if err := json.Unmarshal(body, &x); err != nil {
			return "", fmt.Sprintf("not JSON: %v", err)
		}
		code = hdr.Get("X-Amzn-ErrorType")
		if x.Code != code {
			return "", fmt.Sprintf("body code %q, X-Amzn-ErrorType %q", x.Code, code)
		}
	case wireJSON:
		if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-amz-json-1.") {
			return "", fmt.Sprintf("Content-Type %q", ct)
		}
		var x struct {
			Type string `json:"__type"`
		}
		if err := json.Unmarshal(body, &x); err != nil {
			return "", fmt.Sprintf("not JSON: %v", err)
		}
		code = x.Type
		if h := hdr.Get("X-Amzn-ErrorType"); h != code {
			return "", fmt.Sprintf("__type %q, X-Amzn-ErrorType %q", code, h)
		}
	case wireCBOR:
		if hdr.Get("Smithy-Protocol") != "rpc-v2-cbor" {
			return "", "no Smithy-Protocol: rpc-v2-cbor"
		}
		v, err := cbor.Decode(body)
		if err != nil {
			return "", fmt.Sprintf("not CBOR: %v", err)
		}
		m, ok := v.(cbor.Map)
		if !ok {
			return "", fmt.Sprintf("CBOR %T, want a map", v)
		}
		typ, _ := m["__type"].(cbor.String)
		ns, c, ok := strings.Cut(string(typ), "#")
		if !ok || ns == "" {
			return "", fmt.Sprintf("__type %q, want namespace#Code", typ)
		}
		code = c
		if q, _, _ := strings.Cut(hdr.Get("X-Amzn-Query-Error"), ";"); q != code {
			return "", fmt.Sprintf("__type code %q, X-Amzn-Query-Error %q", code, q)
		}
	}
	if !errorCodeRE.MatchString(code) {
		return "", fmt.Sprintf("error code %q is not an AWS error code", code)
	}
	return code, ""
}

// successProblem says what is wrong with a success answer in w's shape, or "".
func successProblem(w wire, rec *httptest.ResponseRecorder) string {
	body := rec.Body.Bytes()
	switch w {
	case wireQuery, wireEC2, wireRoute53, wireS3:
		d := xml.NewDecoder(bytes.NewReader(body))
		root := ""
		for {
			tok, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Sprintf("not XML: %v", err)
			}
			if se, ok := tok.(xml.StartElement); ok && root == "" {
				root = se.Name.Local
			}
		}
		if (w == wireQuery || w == wireEC2) && !strings.HasSuffix(root, "Response") {
			return fmt.Sprintf("root element %q, want <Operation>Response", root)
		}
		if root == "" {
			return "no root element"
		}
	case wireRestJSON, wireJSON:
		if rec.Code == http.StatusNoContent && len(body) == 0 {
			return ""
		}
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Sprintf("not a JSON object: %v", err)
		}
	case wireCBOR:
		v, err := cbor.Decode(body)
		if err != nil {
			return fmt.Sprintf("not CBOR: %v", err)
		}
		if _, ok := v.(cbor.Map); !ok {
			return fmt.Sprintf("CBOR %T, want a map", v)
		}
	}
	return ""
}

// fuzzMethod maps a fuzzed method onto the ones the REST routes distinguish.
func fuzzMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead:
		return m
	}
	return http.MethodPost
}

func regionOf(east bool) string {
	if east {
		return "us-east-1"
	}
	return "us-west-2"
}

// captured is one request an SDK client sent.
type captured struct {
	region, service, method, target string
	header                          http.Header
	body                            []byte
}

// captureSDK runs calls with real SDK clients against a simulator of its own and returns
// every request they sent, in order: the seeds of a corpus. calls reports each call's error
// to sent. A call may fail (a refused request is as good a seed as a served one), but not
// before sending: one that sent nothing (the SDK refused its input) fails the capture.
func captureSDK(f *testing.F, calls func(ctx context.Context, cfg func(region string) aws.Config, sent func(error))) []captured {
	f.Helper()
	sim, err := awssim.New(awssim.Options{Credentials: testCreds, Fixture: "kaigo", Now: newTickClock(time.Minute).Now})
	if err != nil {
		f.Fatal(err)
	}
	var (
		mu  sync.Mutex
		got []captured
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, scope, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
		scope, _, _ = strings.Cut(scope, ",")
		parts := strings.Split(scope, "/")
		c := captured{method: r.Method, target: r.URL.RequestURI(), header: r.Header.Clone(), body: body}
		if len(parts) == 5 {
			c.region, c.service = parts[2], parts[3]
		}
		mu.Lock()
		got = append(got, c)
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		sim.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer func() { _ = sim.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// awsConfig's retryer stays: with this SDK on this Go, a call whose answer is longer than
	// about 4 KB now and then fails reading the body with "use of closed network connection"
	// (on the client's side; older simulator builds too, and never with a plain
	// http.Client). The SDK retries that, as it would against AWS; a retry is one more seed.
	cfg := func(region string) aws.Config { return awsConfig(srv.URL, region) }
	call, seen := 0, 0
	calls(ctx, cfg, func(err error) {
		f.Helper()
		call++
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == seen {
			f.Fatalf("seed call %d sent no request: %v", call, err)
		}
		seen = n
	})
	mu.Lock()
	defer mu.Unlock()
	for _, c := range got {
		if c.service == "" {
			f.Fatalf("captured an unsigned request: %s %s", c.method, c.target)
		}
	}
	return got
}

// queryServices are the awsQuery services, in the order FuzzAWSQuery's svc picks them.
var queryServices = []string{"rds", "elasticache", "elasticloadbalancing", "sts", "sns", "monitoring"}

// FuzzAWSQuery fuzzes the awsQuery form decoder (Action and its parameters, in the body and
// the URL query) of RDS, ElastiCache, ELBv2, STS, SNS and CloudWatch's awsQuery front end.
func FuzzAWSQuery(f *testing.F) {
	for _, c := range captureSDK(f, func(ctx context.Context, cfg func(string) aws.Config, sent func(error)) {
		east, west := rds.NewFromConfig(cfg("us-east-1")), rds.NewFromConfig(cfg("us-west-2"))
		_, err := east.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance)})
		sent(err)
		snaps, err := west.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance),
			Filters: []rdstypes.Filter{{Name: aws.String("snapshot-type"), Values: []string{"automated", "manual"}}}})
		sent(err)
		snap := "rds:kaigo-subsys-prod-2025-11-30-03-00"
		if err == nil && len(snaps.DBSnapshots) > 0 {
			snap = aws.ToString(snaps.DBSnapshots[0].DBSnapshotIdentifier)
		}
		_, err = west.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
			DBInstanceIdentifier: aws.String(awssim.KaigoDRInstance), DBSnapshotIdentifier: aws.String(snap),
			DBSubnetGroupName: aws.String(awssim.KaigoDRSubnetGroup), VpcSecurityGroupIds: []string{"sg-0123456789abcdef0"},
			MultiAZ: aws.Bool(true), Tags: []rdstypes.Tag{{Key: aws.String("env"), Value: aws.String("dr")}}})
		sent(err)
		_, err = east.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance),
			DBSnapshotIdentifier: aws.String("kaigo-manual-1"), Tags: []rdstypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		sent(err)
		_, err = west.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{
			SourceDBSnapshotIdentifier: aws.String("arn:aws:rds:us-east-1:" + awssim.AccountID + ":snapshot:kaigo-manual-1"),
			TargetDBSnapshotIdentifier: aws.String("kaigo-manual-1-copy"), KmsKeyId: aws.String("alias/aws/rds"), CopyTags: aws.Bool(true)})
		sent(err)
		_, err = east.RestoreDBInstanceToPointInTime(ctx, &rds.RestoreDBInstanceToPointInTimeInput{
			SourceDBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), TargetDBInstanceIdentifier: aws.String("kaigo-pitr"),
			RestoreTime: aws.Time(time.Date(2025, 12, 1, 8, 0, 0, 0, time.UTC))})
		sent(err)
		_, err = east.RestoreDBInstanceToPointInTime(ctx, &rds.RestoreDBInstanceToPointInTimeInput{
			SourceDBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), TargetDBInstanceIdentifier: aws.String("kaigo-pitr-2"),
			UseLatestRestorableTime: aws.Bool(true)})
		sent(err)
		_, err = east.StopDBInstance(ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("kaigo-pitr")})
		sent(err)
		_, err = east.StartDBInstance(ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: aws.String("kaigo-pitr")})
		sent(err)
		_, err = east.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("kaigo-pitr"),
			SkipFinalSnapshot: aws.Bool(false), FinalDBSnapshotIdentifier: aws.String("kaigo-pitr-final")})
		sent(err)
		_, err = west.DescribeDBParameterGroups(ctx, &rds.DescribeDBParameterGroupsInput{})
		sent(err)
		_, err = west.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String(awssim.KaigoDRSubnetGroup)})
		sent(err)
		_, err = east.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{
			ResourceName: aws.String("arn:aws:rds:us-east-1:" + awssim.AccountID + ":db:" + awssim.KaigoProdInstance)})
		sent(err)

		ec := elasticache.NewFromConfig(cfg("us-west-2"))
		_, err = ec.CreateReplicationGroup(ctx, &elasticache.CreateReplicationGroupInput{ReplicationGroupId: aws.String("kaigo-subsys-dr-redis"),
			ReplicationGroupDescription: aws.String("DR redis"), Engine: aws.String("redis"), CacheNodeType: aws.String("cache.r6g.large"),
			NumCacheClusters: aws.Int32(2), AutomaticFailoverEnabled: aws.Bool(true), CacheSubnetGroupName: aws.String(awssim.KaigoDRCacheSubnets),
			SecurityGroupIds: []string{"sg-1"}, Tags: []ectypes.Tag{{Key: aws.String("env"), Value: aws.String("dr")}}})
		sent(err)
		_, err = ec.DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("kaigo-subsys-dr-redis")})
		sent(err)
		_, err = ec.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{
			ResourceName: aws.String("arn:aws:elasticache:us-west-2:" + awssim.AccountID + ":replicationgroup:kaigo-subsys-dr-redis")})
		sent(err)
		_, err = ec.DeleteReplicationGroup(ctx, &elasticache.DeleteReplicationGroupInput{ReplicationGroupId: aws.String("kaigo-subsys-dr-redis"),
			RetainPrimaryCluster: aws.Bool(false)})
		sent(err)

		lb := elbv2.NewFromConfig(cfg("us-west-2"))
		lbs, err := lb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{awssim.KaigoDRALBName}})
		sent(err)
		if err == nil && len(lbs.LoadBalancers) > 0 {
			_, err = lb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: lbs.LoadBalancers[0].LoadBalancerArn})
			sent(err)
		}
		_, err = lb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{awssim.KaigoDRTargetGroup}})
		sent(err)
		_, err = lb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(awssim.KaigoTargetGroupARN("us-west-2"))})
		sent(err)

		_, err = sts.NewFromConfig(cfg("us-east-1")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		sent(err)
		_, err = sns.NewFromConfig(cfg("us-west-2")).Publish(ctx, &sns.PublishInput{TopicArn: aws.String(awssim.KaigoDRAlertsTopic),
			Subject: aws.String("failover"), Message: aws.String("DR環境へ切り替えました")})
		sent(err)
	}) {
		f.Add(uint8(slices.Index(queryServices, c.service)), c.region == "us-east-1", "", string(c.body))
	}
	// Hand-written: malformed values, lists with holes, and CloudWatch's awsQuery form, which
	// today's SDK no longer sends.
	for _, s := range []struct {
		svc   string
		east  bool
		query string
		body  string
	}{
		{"rds", false, "", "Action=RestoreDBInstanceFromDBSnapshot&DBInstanceIdentifier=a&DBSnapshotIdentifier=arn:aws:rds:us-east-1:1:snapshot:x"},
		{"rds", false, "", "Action=CopyDBSnapshot&SourceDBSnapshotIdentifier=arn:aws:rds:&TargetDBSnapshotIdentifier=b&Tags.Tag.-1.Key=k&Tags.Tag.99999999999999999999.Key=v"},
		{"rds", true, "", "Action=DeleteDBInstance&DBInstanceIdentifier=kaigo-subsys-prod&SkipFinalSnapshot=maybe"},
		{"rds", true, "", "Action=RestoreDBInstanceToPointInTime&SourceDBInstanceIdentifier=kaigo-subsys-prod&TargetDBInstanceIdentifier=p&RestoreTime=2025"},
		{"rds", true, "Action=DescribeDBInstances&DBInstanceIdentifier=kaigo-subsys-prod", ""},
		{"rds", false, "", "Action=DescribeDBSnapshots&Filters.Filter.1.Name=db-instance-id&Filters.Filter.1.Values.Value.1=%ff&Filters.Filter.3.Name=x"},
		{"rds", false, "", "Action=DescribeDBSnapshots&Action=DeleteDBInstance&%zz=1&;=;"},
		{"elasticache", false, "", "Action=CreateReplicationGroup&ReplicationGroupId=x&ReplicationGroupDescription=d&NumCacheClusters=-1"},
		{"elasticache", false, "", "Action=CreateReplicationGroup&ReplicationGroupId=&ReplicationGroupDescription=d&NumCacheClusters=99999999999999999999"},
		{"elasticache", false, "", "Action=ListTagsForResource&ResourceName=arn:aws:elasticache:us-west-2::replicationgroup:"},
		{"elasticloadbalancing", false, "", "Action=DescribeTargetHealth&TargetGroupArn=%ff"},
		{"elasticloadbalancing", false, "", "Action=DescribeLoadBalancers&Names.member.0=&Names.member.1=x&LoadBalancerArns.member.1=arn"},
		{"sns", false, "", "Action=Publish&Message=m"},
		{"sns", false, "", "Action=Publish&PhoneNumber=%2B10000000000&Message="},
		{"sns", false, "", "Action=GetTopicAttributes&TopicArn=arn:aws:sns:us-west-2:%ff:%3A"},
		{"sns", false, "", "Action=GetTopicAttributes&TopicArn=arn:aws:sns::::"},
		{"sts", true, "", "Action=GetCallerIdentity&Version=2011-06-15"},
		{"monitoring", false, "", "Action=PutMetricAlarm&AlarmName=a&ComparisonOperator=GreaterThanThreshold&EvaluationPeriods=2&Period=300&Threshold=90.5" +
			"&Dimensions.member.1.Name=ClusterName&Dimensions.member.1.Value=kaigo-subsys-dr&AlarmActions.member.1=" + awssim.KaigoDRAlertsTopic},
		{"monitoring", false, "", "Action=PutMetricAlarm&AlarmName=a&ComparisonOperator=GreaterThanThreshold&EvaluationPeriods=1&Threshold=NaN"},
		{"monitoring", false, "", "Action=PutMetricAlarm&AlarmName=a&ComparisonOperator=LessThanThreshold&EvaluationPeriods=-3&Period=x"},
		{"monitoring", false, "", "Action=DescribeAlarms&AlarmNames.member.1=a&StateValue=ALARM"},
		{"monitoring", false, "", "Action=DeleteAlarms&AlarmNames.member.1=&AlarmNames.member.2=a"},
		{"rds", false, "", "Action=LaunchRockets"},
		{"rds", false, "", "Version=2014-10-31"},
		{"rds", false, "", "\x00\xff%"},
	} {
		f.Add(uint8(slices.Index(queryServices, s.svc)), s.east, s.query, s.body)
	}
	fs := newFuzzSim(f)
	f.Fuzz(func(t *testing.T, svc uint8, east bool, query, body string) {
		target := "/"
		if query != "" {
			target += "?" + query
		}
		fs.do(t, fuzzReq{wire: wireQuery, region: regionOf(east), service: queryServices[int(svc)%len(queryServices)],
			method: http.MethodPost, target: target, body: []byte(body),
			headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}})
	})
}

// FuzzEC2Query fuzzes the ec2Query decoder: EC2's Describe actions with their id lists and
// Filter.N.Name / Filter.N.Value.M filters.
func FuzzEC2Query(f *testing.F) {
	for _, c := range captureSDK(f, func(ctx context.Context, cfg func(string) aws.Config, sent func(error)) {
		c := ec2.NewFromConfig(cfg("us-west-2"))
		vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{awssim.KaigoDRVPCName}}}})
		sent(err)
		vpc := "vpc-0123456789abcdef0"
		if err == nil && len(vpcs.Vpcs) > 0 {
			vpc = aws.ToString(vpcs.Vpcs[0].VpcId)
		}
		_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}},
			{Name: aws.String("tag:Name"), Values: []string{"kaigo-subsys-dr-private-*", "x"}}}})
		sent(err)
		_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{"kaigo-subsys-dr-db-sg"}}}})
		sent(err)
		_, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}})
		sent(err)
		_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-nope"}})
		sent(err)
		_, err = ec2.NewFromConfig(cfg("us-east-1")).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpc}})
		sent(err)
	}) {
		f.Add(c.region == "us-east-1", string(c.body))
	}
	for _, s := range []string{
		"Action=DescribeVpcs&Filter.1.Name=colour&Filter.1.Value.1=red",
		"Action=DescribeSubnets&Filter.1.Name=tag:Name&Filter.1.Value.1=[&SubnetId.1=x",
		"Action=DescribeSubnets&Filter.0.Name=vpc-id&Filter.2.Name=vpc-id&Filter.1.Name=",
		"Action=DescribeSecurityGroups&GroupId.1=&GroupId.2=sg-1&Filter.1.Name=tag-key&Filter.1.Value.1=*",
		"Action=DescribeRouteTables&RouteTableId.01=rtb-1&RouteTableId.1=rtb-2",
		"Action=RunInstances&ImageId=ami-1",
	} {
		f.Add(false, s)
	}
	fs := newFuzzSim(f)
	f.Fuzz(func(t *testing.T, east bool, body string) {
		fs.do(t, fuzzReq{wire: wireEC2, region: regionOf(east), service: "ec2", method: http.MethodPost, target: "/", body: []byte(body),
			headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}})
	})
}

// FuzzRestXML fuzzes the restXml decoders: Route 53's routes (method, path parameters, query
// parameters and the ChangeResourceRecordSets XML body) and S3's bucket and sub-resource.
func FuzzRestXML(f *testing.F) {
	for _, c := range captureSDK(f, func(ctx context.Context, cfg func(string) aws.Config, sent func(error)) {
		r := route53.NewFromConfig(cfg("us-east-1"))
		_, err := r.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID),
			StartRecordName: aws.String(awssim.KaigoAPIName), StartRecordType: r53types.RRTypeA, MaxItems: aws.Int32(10)})
		sent(err)
		ch, err := r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID),
			ChangeBatch: &r53types.ChangeBatch{Comment: aws.String("failover to us-west-2"), Changes: []r53types.Change{{
				Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
					Name: aws.String(awssim.KaigoAPIName), Type: r53types.RRTypeA,
					AliasTarget: &r53types.AliasTarget{HostedZoneId: aws.String("Z1H1FL5HABSF5"), EvaluateTargetHealth: true,
						DNSName: aws.String("dualstack." + awssim.KaigoDRALBName + "-1234567890.us-west-2.elb.amazonaws.com")}}}}}})
		sent(err)
		change := "C0000000000001"
		if err == nil {
			change = strings.TrimPrefix(aws.ToString(ch.ChangeInfo.Id), "/change/")
		}
		_, err = r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID),
			ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{
				Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
					Name: aws.String("status." + awssim.KaigoZoneName), Type: r53types.RRTypeTxt, TTL: aws.Int64(60),
					ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(`"dr"`)}}}}, {
				Action: r53types.ChangeActionDelete, ResourceRecordSet: &r53types.ResourceRecordSet{
					Name: aws.String("old." + awssim.KaigoZoneName), Type: r53types.RRTypeCname, TTL: aws.Int64(300),
					ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("x.example.com")}}}}}}})
		sent(err)
		_, err = r.GetChange(ctx, &route53.GetChangeInput{Id: aws.String(change)})
		sent(err)
		_, err = r.TestDNSAnswer(ctx, &route53.TestDNSAnswerInput{HostedZoneId: aws.String(awssim.KaigoHostedZoneID),
			RecordName: aws.String(awssim.KaigoAPIName), RecordType: r53types.RRTypeA})
		sent(err)
		s := s3.NewFromConfig(cfg("us-east-1"), func(o *s3.Options) { o.UsePathStyle = true })
		_, err = s.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String(awssim.KaigoProdBucket)})
		sent(err)
		_, err = s.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String("kaigo-subsys-dr-backups")})
		sent(err)
	}) {
		f.Add(c.service == "s3", c.method, c.target, string(c.body))
	}
	rrset := "/2013-04-01/hostedzone/" + awssim.KaigoHostedZoneID + "/rrset"
	for _, s := range []struct {
		s3                   bool
		method, target, body string
	}{
		{false, "POST", rrset, "<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change>"},
		{false, "POST", rrset, `<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>DELETE</Action><ResourceRecordSet><Name>.</Name><Type>A</Type><AliasTarget><DNSName></DNSName></AliasTarget></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`},
		{false, "POST", rrset, `<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>a.kaigo-subsys.example.com</Name><Type>A</Type><TTL>-1</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change><Change><Action>UPSERT</Action><ResourceRecordSet><Name>A.kaigo-subsys.example.com.</Name><Type>a</Type><TTL>99999999999</TTL></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`},
		{false, "POST", rrset, `<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>kaigo-subsys.example.com</Name><Type>NS</Type><AliasTarget><DNSName>x.elb.amazonaws.com</DNSName></AliasTarget><TTL>1</TTL></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`},
		{false, "POST", "/2013-04-01/hostedzone/%2Fhostedzone%2F" + awssim.KaigoHostedZoneID + "/rrset", "<x/>"},
		{false, "GET", rrset + "?type=A", ""},
		{false, "GET", rrset + "?name=%00&type=", ""},
		{false, "GET", "/2013-04-01/change/%2Fchange%2FC1", ""},
		{false, "GET", "/2013-04-01/testdnsanswer?hostedzoneid=Z1234567890ABC&recordname=api.kaigo-subsys.example.com&recordtype=A", ""},
		{false, "GET", "/2013-04-01/testdnsanswer?recordname=&recordtype=TXT", ""},
		{false, "DELETE", "/2013-04-01/hostedzone/" + awssim.KaigoHostedZoneID, ""},
		{true, "GET", "/" + awssim.KaigoProdBucket + "?replication", ""},
		{true, "GET", "/" + awssim.KaigoProdBucket + "?acl", ""},
		{true, "GET", "/nope/key?replication=1", ""},
		{true, "PUT", "/" + awssim.KaigoProdBucket + "?replication", "<ReplicationConfiguration/>"},
		{true, "GET", "/?replication", ""},
	} {
		f.Add(s.s3, s.method, s.target, s.body)
	}
	fs := newFuzzSim(f)
	f.Fuzz(func(t *testing.T, isS3 bool, method, target, body string) {
		r := fuzzReq{wire: wireRoute53, region: "us-east-1", service: "route53", method: fuzzMethod(method), target: target, body: []byte(body),
			headers: map[string]string{"Content-Type": "application/xml"}}
		if isS3 {
			r.wire, r.service = wireS3, "s3"
		}
		fs.do(t, r)
	})
}

// FuzzRestJSON fuzzes the restJson1 decoders of AWS Backup and EFS: method, path parameters,
// query parameters and JSON bodies.
func FuzzRestJSON(f *testing.F) {
	for _, c := range captureSDK(f, func(ctx context.Context, cfg func(string) aws.Config, sent func(error)) {
		b := backup.NewFromConfig(cfg("us-west-2"))
		pts, err := b.ListRecoveryPointsByBackupVault(ctx, &backup.ListRecoveryPointsByBackupVaultInput{
			BackupVaultName: aws.String(awssim.KaigoDRVault), ByResourceType: aws.String("EFS")})
		sent(err)
		point := "arn:aws:backup:us-west-2:" + awssim.AccountID + ":recovery-point:nope"
		if err == nil && len(pts.RecoveryPoints) > 0 {
			point = aws.ToString(pts.RecoveryPoints[0].RecoveryPointArn)
		}
		job, err := b.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: aws.String(point),
			IamRoleArn: aws.String("arn:aws:iam::" + awssim.AccountID + ":role/AWSBackupDefaultServiceRole"), IdempotencyToken: aws.String("tok-1"),
			ResourceType: aws.String("EFS"), Metadata: map[string]string{"newFileSystem": "true", "Encrypted": "true", "PerformanceMode": "generalPurpose"}})
		sent(err)
		id := "SIM-RESTORE-00000001"
		if err == nil {
			id = aws.ToString(job.RestoreJobId)
		}
		_, err = b.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String(id)})
		sent(err)
		e := efs.NewFromConfig(cfg("us-west-2"))
		fss, err := e.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{})
		sent(err)
		_, err = e.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{CreationToken: aws.String(id)})
		sent(err)
		if err == nil && len(fss.FileSystems) > 0 {
			_, err = e.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: fss.FileSystems[0].FileSystemId})
			sent(err)
		}
		_, err = efs.NewFromConfig(cfg("us-east-1")).DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String("fs-nope")})
		sent(err)
	}) {
		f.Add(c.service == "elasticfilesystem", c.region == "us-east-1", c.method, c.target, string(c.body))
	}
	for _, s := range []struct {
		efs, east            bool
		method, target, body string
	}{
		{false, false, "PUT", "/restore-jobs", `{}`},
		{false, false, "PUT", "/restore-jobs", `{"RecoveryPointArn":"x","Metadata":{"a":1}}`},
		{false, false, "PUT", "/restore-jobs", `{"RecoveryPointArn":"x","Metadata":{},"IdempotencyToken":""`},
		{false, false, "PUT", "/restore-jobs", `[]`},
		{false, false, "GET", "/backup-vaults/%25zz%2F/recovery-points", ""},
		{false, false, "GET", "/backup-vaults/" + awssim.KaigoDRVault + "/recovery-points?resourceType=RDS&maxResults=-1", ""},
		{false, false, "GET", "/backup-vaults/?maxResults=99999999999999999999&vaultType=%00&shared=maybe&nextToken=%ff", ""},
		{false, false, "GET", "/restore-jobs/%00", ""},
		{true, false, "GET", "/2015-02-01/file-systems?FileSystemId=fs-1", ""},
		{true, false, "GET", "/2015-02-01/file-systems?FileSystemId=arn:aws:elasticfilesystem:us-west-2:1:file-system/", ""},
		{true, false, "DELETE", "/2015-02-01/file-systems/arn%3Aaws%3Aelasticfilesystem%3Aus-west-2%3A1%3Afile-system%2F", ""},
		{true, true, "DELETE", "/2015-02-01/file-systems/", ""},
		{true, false, "POST", "/2015-02-01/file-systems", `{"CreationToken":"x"}`},
	} {
		f.Add(s.efs, s.east, s.method, s.target, s.body)
	}
	fs := newFuzzSim(f)
	f.Fuzz(func(t *testing.T, isEFS, east bool, method, target, body string) {
		service := "backup"
		if isEFS {
			service = "elasticfilesystem"
		}
		fs.do(t, fuzzReq{wire: wireRestJSON, region: regionOf(east), service: service, method: fuzzMethod(method), target: target,
			body: []byte(body), headers: map[string]string{"Content-Type": "application/json"}})
	})
}

// jsonServices are the awsJson services, in the order FuzzAWSJSON's svc picks them; the last
// is CloudWatch's awsJson1_0 front end.
var jsonServices = []string{"ecs", "secretsmanager", "health", "monitoring"}

// FuzzAWSJSON fuzzes the awsJson1_1 decoders of ECS, Secrets Manager and Health, and
// CloudWatch's awsJson1_0 one: the X-Amz-Target operation and the JSON body.
func FuzzAWSJSON(f *testing.F) {
	for _, c := range captureSDK(f, func(ctx context.Context, cfg func(string) aws.Config, sent func(error)) {
		e := ecs.NewFromConfig(cfg("us-west-2"))
		_, err := e.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(awssim.KaigoDRTaskFamily),
			Cpu: aws.String("512"), Memory: aws.String("1024"), NetworkMode: ecstypes.NetworkModeAwsvpc,
			RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("kaigo:1.2.3"), Essential: aws.Bool(true),
				PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080)}},
				Secrets:      []ecstypes.Secret{{Name: aws.String("DB_HOST"), ValueFrom: aws.String(awssim.KaigoDRDBSecret)}}}}})
		sent(err)
		_, err = e.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(awssim.KaigoDRTaskFamily + ":2")})
		sent(err)
		_, err = e.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(awssim.KaigoDRCluster), Service: aws.String(awssim.KaigoDRService),
			DesiredCount: aws.Int32(2), TaskDefinition: aws.String(awssim.KaigoDRTaskFamily + ":2"), ForceNewDeployment: true})
		sent(err)
		_, err = e.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(awssim.KaigoDRCluster), Services: []string{awssim.KaigoDRService, "nope"}})
		sent(err)
		_, err = e.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{awssim.KaigoDRCluster}})
		sent(err)
		_, err = e.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(awssim.KaigoDRTaskFamily + ":2")})
		sent(err)

		sm := secretsmanager.NewFromConfig(cfg("us-west-2"))
		_, err = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(awssim.KaigoDRDBSecret)})
		sent(err)
		put, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(awssim.KaigoDRDBSecret),
			SecretString: aws.String(`{"host":"kaigo-subsys-dr.example"}`), ClientRequestToken: aws.String("00000000-0000-4000-8000-000000000001")})
		sent(err)
		_, err = sm.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String(awssim.KaigoDRRedisSecret), SecretString: aws.String("redis://dr")})
		sent(err)
		_, err = sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(awssim.KaigoDRDBSecret)})
		sent(err)
		if err == nil && put != nil {
			_, err = sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(awssim.KaigoDRDBSecret),
				VersionStage: aws.String("AWSPREVIOUS"), MoveToVersionId: put.VersionId})
			sent(err)
		}
		_, err = health.NewFromConfig(cfg("us-east-1")).DescribeEvents(ctx, &health.DescribeEventsInput{Filter: &healthtypes.EventFilter{
			Regions: []string{"us-east-1"}, Services: []string{"EC2"}, EventTypeCategories: []healthtypes.EventTypeCategory{"issue"},
			EventStatusCodes: []healthtypes.EventStatusCode{"open"}}})
		sent(err)
	}) {
		f.Add(uint8(slices.Index(jsonServices, c.service)), c.region == "us-east-1", c.header.Get("X-Amz-Target"), string(c.body))
	}
	for _, s := range []struct {
		svc          string
		target, body string
	}{
		{"ecs", "AmazonEC2ContainerServiceV20141113.UpdateService", `{"service":`},
		{"ecs", "AmazonEC2ContainerServiceV20141113.UpdateService", `{"cluster":"kaigo-subsys-dr","service":"kaigo-subsys-dr-service","desiredCount":-5,"taskDefinition":"kaigo-subsys-dr:0"}`},
		{"ecs", "AmazonEC2ContainerServiceV20141113.UpdateService", `{"cluster":"kaigo-subsys-dr","service":"arn:aws:ecs:us-west-2:1:service/kaigo-subsys-dr/","desiredCount":1e9}`},
		{"ecs", "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition", `{"family":"f","containerDefinitions":[{}]}`},
		{"ecs", "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition", `{"family":"","containerDefinitions":null}`},
		{"ecs", "AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition", `{"taskDefinition":"arn:aws:ecs:us-west-2:1:task-definition/kaigo-subsys-dr:99999999999999999999"}`},
		{"ecs", "AmazonEC2ContainerServiceV20141113.DeregisterTaskDefinition", `{"taskDefinition":"kaigo-subsys-dr:-1"}`},
		{"ecs", "AmazonEC2ContainerServiceV20141113.Nope", `{}`},
		{"ecs", "UpdateService", `null`},
		{"secretsmanager", "secretsmanager.PutSecretValue", `{"SecretId":"kaigo-subsys/dr/db-endpoint","SecretBinary":"AAE="}`},
		{"secretsmanager", "secretsmanager.UpdateSecretVersionStage", `{"SecretId":"kaigo-subsys/dr/db-endpoint","VersionStage":"AWSCURRENT","RemoveFromVersionId":"x"}`},
		{"secretsmanager", "secretsmanager.GetSecretValue", `{"SecretId":"kaigo-subsys/dr/db-endpoint","VersionStage":"AWSPENDING","VersionId":""}`},
		{"secretsmanager", "secretsmanager.GetSecretValue", `{}`},
		{"health", "AWSHealth_20160804.DescribeEvents", `{"filter":{"regions":[1]}}`},
		{"health", "AWSHealth_20160804.DescribeEvents", ``},
		{"monitoring", "GraniteServiceVersion20100801.PutMetricAlarm", `{"AlarmName":"a","ComparisonOperator":"GreaterThanThreshold","EvaluationPeriods":2,"Period":300,"Threshold":90.5}`},
		{"monitoring", "GraniteServiceVersion20100801.PutMetricAlarm", `{"AlarmName":"a","ComparisonOperator":"GreaterThanThreshold","EvaluationPeriods":-9223372036854775808,"Threshold":1e400}`},
		{"monitoring", "GraniteServiceVersion20100801.DescribeAlarms", `{"AlarmNames":["a",1,null],"AlarmNamePrefix":{}}`},
		{"monitoring", "GraniteServiceVersion20100801.DeleteAlarms", `{"AlarmNames":[""]}`},
	} {
		f.Add(uint8(slices.Index(jsonServices, s.svc)), false, s.target, s.body)
	}
	fs := newFuzzSim(f)
	f.Fuzz(func(t *testing.T, svc uint8, east bool, target, body string) {
		service := jsonServices[int(svc)%len(jsonServices)]
		region, ct := regionOf(east), "application/x-amz-json-1.1"
		switch service {
		case "health":
			region = "us-east-1" // global, signed for us-east-1
		case "monitoring":
			ct = "application/x-amz-json-1.0"
		}
		headers := map[string]string{"Content-Type": ct}
		if target != "" {
			headers["X-Amz-Target"] = target
		}
		fs.do(t, fuzzReq{wire: wireJSON, region: region, service: service, method: http.MethodPost, target: "/", body: []byte(body), headers: headers})
	})
}

// FuzzRPCv2CBOR fuzzes CloudWatch's rpcv2Cbor decoder: the operation in the path, the
// Smithy-Protocol header and the CBOR body.
func FuzzRPCv2CBOR(f *testing.F) {
	const prefix = "/service/GraniteServiceVersion20100801/operation/"
	for _, c := range captureSDK(f, func(ctx context.Context, cfg func(string) aws.Config, sent func(error)) {
		cw := cloudwatch.NewFromConfig(cfg("us-west-2"))
		_, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String("kaigo-subsys-dr-ecs-cpu-critical"), AlarmDescription: aws.String("DR環境のECS CPU使用率が90%を超過"),
			MetricName: aws.String("CPUUtilization"), Namespace: aws.String("AWS/ECS"), Statistic: cwtypes.StatisticAverage,
			Period: aws.Int32(300), EvaluationPeriods: aws.Int32(2), Threshold: aws.Float64(90.5),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
			Dimensions:         []cwtypes.Dimension{{Name: aws.String("ClusterName"), Value: aws.String(awssim.KaigoDRCluster)}},
			AlarmActions:       []string{awssim.KaigoDRAlertsTopic}})
		sent(err)
		_, err = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"kaigo-subsys-dr-ecs-cpu-critical"}})
		sent(err)
		_, err = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("kaigo-"), StateValue: cwtypes.StateValueAlarm})
		sent(err)
		_, err = cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"kaigo-subsys-dr-ecs-cpu-critical", "nope"}})
		sent(err)
	}) {
		f.Add(c.region == "us-east-1", strings.TrimPrefix(c.target, prefix), c.header.Get("Smithy-Protocol") != "", c.body)
	}
	for _, s := range []struct {
		op   string
		body []byte
	}{
		{"PutMetricAlarm", []byte("\xff\x00\x01")},
		{"PutMetricAlarm", []byte("\x01")},
		{"PutMetricAlarm", []byte("\xa0")},
		{"PutMetricAlarm", []byte("\xa2iAlarmNameaxqEvaluationPeriods\x3a\x7f\xff\xff\xff")},
		{"PutMetricAlarm", cbor.Encode(cbor.Map{"AlarmName": cbor.String("a"), "ComparisonOperator": cbor.String("LessThanThreshold"),
			"EvaluationPeriods": cbor.NegInt(1), "Period": cbor.Float64(1.5), "Threshold": cbor.Float64(1e308),
			"Dimensions": cbor.List{cbor.String("x"), cbor.Map{}}, "AlarmActions": cbor.Map{}})},
		{"PutMetricAlarm", cbor.Encode(cbor.Map{"AlarmName": cbor.String("a"), "ComparisonOperator": cbor.String("LessThanThreshold"),
			"EvaluationPeriods": cbor.Uint(1), "Threshold": &cbor.Tag{ID: 2, Value: cbor.Slice{1, 0}}})},
		{"DescribeAlarms", []byte("\xbf\xff")},
		{"DescribeAlarms", cbor.Encode(cbor.Map{"AlarmNames": cbor.Map{}, "AlarmNamePrefix": cbor.Uint(3), "StateValue": &cbor.Nil{}})},
		{"DeleteAlarms", cbor.Encode(cbor.Map{"AlarmNames": cbor.List{cbor.String(""), &cbor.Undefined{}}})},
		{"ListMetrics", []byte("\xa0")},
		{"", nil},
	} {
		f.Add(false, s.op, true, s.body)
	}
	fs := newFuzzSim(f)
	f.Fuzz(func(t *testing.T, east bool, op string, protocolHeader bool, body []byte) {
		headers := map[string]string{"Content-Type": "application/cbor", "Accept": "application/cbor"}
		if protocolHeader {
			headers["Smithy-Protocol"] = "rpc-v2-cbor"
		}
		fs.do(t, fuzzReq{wire: wireCBOR, region: regionOf(east), service: "monitoring", method: http.MethodPost,
			target: prefix + op, body: body, headers: headers})
	})
}
