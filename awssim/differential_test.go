package awssim_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/document"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/kirikae/kirikae/awshttp"
	"github.com/kirikae/kirikae/awssim"
)

// The differential suite sends the same requests, through the Go SDK, to awssim (the kaigo
// fixture) and to moto_server (an independent AWS emulator, given the same resources), one
// operation at a time, and compares what comes back: the HTTP status, the error code, and
// the shape of the answer (which fields are present, their kinds and how many of each),
// never values such as ids and times.
//
// Every difference must be explained. motoDeviations lists where moto is not AWS, each with
// the AWS documentation or API model that says so; awssimPending lists where awssim is not
// AWS and is still to be fixed, and each of those FAILS the test until it is. A difference
// on neither list fails too, and so does an entry that no longer matches anything.
//
// Operations moto does not implement (diffOp.MotoLacks says why) are checked against AWS's
// documented behaviour by awssim-only assertions instead. TestDifferentialCoverage holds the
// suite to every operation the seed runbook and kirikae's executors and readiness checks call.

// diffOp is one operation of the suite.
type diffOp struct {
	// Service is the aws-sdk-go-v2 service package (rds, elasticloadbalancingv2, ...) and Op
	// the API operation, as the SDK and the API reference name them.
	Service, Op string
	// Given creates in moto what the steps need and the kaigo fixture already has in awssim.
	Given []given
	// Steps sends the requests; it runs once against each backend.
	Steps func(d *diffRun)
	// MotoLacks says why moto cannot answer this operation; Sim then checks awssim against
	// AWS's documented behaviour on its own.
	MotoLacks string
	Sim       func(c *simCheck)
}

func (o diffOp) name() string { return o.Service + "." + o.Op }

// given is a piece of the kaigo fixture built in moto through the SDK.
type given func(d *diffRun)

// diffRun is one backend running one operation's steps.
type diffRun struct {
	t        *testing.T
	ctx      context.Context
	backend  string // "awssim" or "moto"
	endpoint string
	env      *env // awssim only
	status   int  // HTTP status of the last response
	obs      []observation
	cbor     []observation // awssim's rpcv2Cbor answers to the CloudWatch steps
	vars     map[string]string
}

func (d *diffRun) moto() bool { return d.backend == "moto" }

// now is the backend's idea of the present: awssim's test clock, or moto's (real) time.
func (d *diffRun) now() time.Time {
	if d.env != nil {
		return d.env.clock.Now()
	}
	return time.Now()
}

// advance moves awssim's clock; moto has no clock to move (its state changes are instant).
func (d *diffRun) advance(dur time.Duration) {
	if d.env != nil {
		d.env.clock.Advance(dur)
	}
}

// cfg is an SDK config for region that records each response's HTTP status and never
// retries, so the status seen is the one the request got.
func (d *diffRun) cfg(region string) aws.Config {
	c := awsConfig(d.endpoint, region)
	c.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	if d.moto() {
		// moto's server can drop a kept-alive connection under a request; one connection per
		// request avoids that without retries, which could send a create twice.
		c.HTTPClient = awshttp.KeepRequestBody(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}})
	}
	c.APIOptions = append(c.APIOptions, func(st *middleware.Stack) error {
		return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("diffStatus",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				if r, ok := out.RawResponse.(*smithyhttp.Response); ok {
					d.status = r.StatusCode
				}
				return out, md, err
			}), middleware.After)
	})
	return c
}

// set and get carry ids the steps discover (a zone id, an ARN) from one step to the next.
func (d *diffRun) set(k, v string) { d.vars[k] = v }
func (d *diffRun) get(k string) string {
	v, ok := d.vars[k]
	if !ok {
		d.t.Fatalf("%s: step variable %q was never set (an earlier step failed?)", d.backend, k)
	}
	return v
}

// need fails the run when a given's setup call fails: a broken setup is not a difference.
func need[T any](d *diffRun, what string) func(T, error) T {
	return func(v T, err error) T {
		d.t.Helper()
		if err != nil {
			d.t.Fatalf("%s setup: %s: %v", d.backend, what, err)
		}
		return v
	}
}

// observation is what one step saw.
type observation struct {
	label   string
	outcome string // "ok", an error code, or "error: ..." for a failure without one
	status  int
	shape   map[string]string
	value   string // a value both must agree on (a tag list, a secret), when the step has one
}

// record keeps the outcome, status and shape of one SDK call under label, and passes the
// output on so later steps can use it (nil after an error).
func record[T any](d *diffRun, label string) func(T, error) T {
	d.status = 0
	return func(out T, err error) T {
		d.t.Helper()
		o := observation{label: label, outcome: outcome(err), status: d.status}
		if err == nil {
			o.shape = shapeOf(out)
		}
		d.add(o)
		if err != nil {
			var zero T
			return zero
		}
		return out
	}
}

// note records a value both backends must give: one the steps chose themselves (tags they
// set, a secret they wrote), or a count or status AWS documents.
func (d *diffRun) note(label, value string) {
	d.add(observation{label: label, outcome: "ok", status: 200, value: value})
}

func (d *diffRun) add(o observation) {
	for _, p := range d.obs {
		if p.label == o.label {
			d.t.Fatalf("step label %q used twice", o.label)
		}
	}
	d.obs = append(d.obs, o)
}

// shapeOf reduces an SDK output to its shape: for each field path present, its kind and how
// many times it occurs (list elements are path[]). ResultMetadata is not part of the answer.
// Non-pointer numbers and booleans are skipped: the SDK gives them a zero value when absent,
// so their presence cannot be seen. An empty list or map counts as absent, as it does to
// every caller (len is 0 either way), and the wire formats do not distinguish them reliably.
func shapeOf(v any) map[string]string {
	kinds, counts := map[string]string{}, map[string]int{}
	see := func(path, kind string) {
		if k, ok := kinds[path]; ok && k != kind {
			kind = k + "|" + kind
		}
		kinds[path] = kind
		counts[path]++
	}
	timeType := reflect.TypeOf(time.Time{})
	docType := reflect.TypeOf((*document.Unmarshaler)(nil)).Elem()
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		if v.Kind() == reflect.Interface {
			if v.IsNil() {
				return
			}
			if v.Type().Implements(docType) {
				see(path, "document")
				return
			}
			walk(v.Elem(), path)
			return
		}
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), path)
			}
		case reflect.Struct:
			if v.Type() == timeType {
				see(path, "timestamp")
				return
			}
			if path != "" {
				see(path, "struct")
			}
			for i := 0; i < v.NumField(); i++ {
				f := v.Type().Field(i)
				if !f.IsExported() || f.Name == "ResultMetadata" {
					continue
				}
				switch f.Type.Kind() {
				case reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64:
					continue
				}
				p := f.Name
				if path != "" {
					p = path + "." + f.Name
				}
				walk(v.Field(i), p)
			}
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				if v.Len() > 0 {
					see(path, "blob")
				}
				return
			}
			if v.Len() == 0 {
				return
			}
			see(path, "list")
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), path+"[]")
			}
		case reflect.Map:
			if v.Len() == 0 {
				return
			}
			see(path, "map")
			for _, k := range v.MapKeys() {
				walk(v.MapIndex(k), path+"{}")
			}
		case reflect.String:
			if v.Len() == 0 {
				return
			}
			if v.Type().PkgPath() != "" {
				see(path, "enum")
			} else {
				see(path, "string")
			}
		case reflect.Bool:
			see(path, "bool")
		case reflect.Int, reflect.Int32, reflect.Int64:
			see(path, "int")
		case reflect.Float32, reflect.Float64:
			see(path, "float")
		default:
			see(path, v.Kind().String())
		}
	}
	walk(reflect.ValueOf(v), "")
	out := make(map[string]string, len(kinds))
	for p, k := range kinds {
		out[p] = fmt.Sprintf("%s×%d", k, counts[p])
	}
	return out
}

// compareRuns lists every difference between awssim's and moto's observations, one line
// each: "<label>: <what>: awssim <x>, moto <y>" (other names when other runs are compared).
func compareRuns(sim, moto []observation, simName, motoName string) []string {
	var diffs []string
	byLabel := map[string]observation{}
	for _, o := range moto {
		byLabel[o.label] = o
	}
	for _, s := range sim {
		m, ok := byLabel[s.label]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: step: %s ran it, %s did not", s.label, simName, motoName))
			continue
		}
		delete(byLabel, s.label)
		if s.outcome != m.outcome {
			diffs = append(diffs, fmt.Sprintf("%s: outcome: %s %s, %s %s", s.label, simName, s.outcome, motoName, m.outcome))
		}
		if s.value != m.value {
			diffs = append(diffs, fmt.Sprintf("%s: value: %s %q, %s %q", s.label, simName, s.value, motoName, m.value))
		}
		if s.status != m.status {
			diffs = append(diffs, fmt.Sprintf("%s: status: %s %d, %s %d", s.label, simName, s.status, motoName, m.status))
		}
		if s.outcome != "ok" || m.outcome != "ok" {
			continue
		}
		paths := map[string]bool{}
		for p := range s.shape {
			paths[p] = true
		}
		for p := range m.shape {
			paths[p] = true
		}
		// A field one side lacks is one difference, not one per field inside it.
		absentOnOneSide := func(p string) bool { return (s.shape[p] == "") != (m.shape[p] == "") }
		for _, p := range sortedStrings(paths) {
			a, b := s.shape[p], m.shape[p]
			if a == b || absentOnOneSide(parentPath(p)) {
				continue
			}
			if a == "" {
				a = "absent"
			}
			if b == "" {
				b = "absent"
			}
			diffs = append(diffs, fmt.Sprintf("%s: field %s: %s %s, %s %s", s.label, p, simName, a, motoName, b))
		}
	}
	for _, m := range moto {
		if _, left := byLabel[m.label]; left {
			diffs = append(diffs, fmt.Sprintf("%s: step: %s ran it, %s did not", m.label, motoName, simName))
		}
	}
	return diffs
}

// parentPath is the path of the field that holds p ("" at the top): a list's or map's
// elements are held by the list or map. Checking the parent is enough, since a field is
// absent wherever its parent is.
func parentPath(p string) string {
	if s, ok := strings.CutSuffix(p, "[]"); ok {
		return s
	}
	if s, ok := strings.CutSuffix(p, "{}"); ok {
		return s
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// keysOf returns a map's keys in order.
func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func sortedStrings(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// deviation explains a set of differences. Ops names the operations (service.Op) it may
// appear in, and Match the difference lines ("<label>: <what>: awssim <x>, moto <y>").
type deviation struct {
	Name  string
	Ops   []string
	Match string
	Why   string
	re    *regexp.Regexp
}

func (v *deviation) matches(op, line string) bool {
	if v.re == nil {
		v.re = regexp.MustCompile(v.Match)
	}
	for _, o := range v.Ops {
		if o == op {
			return v.re.MatchString(line)
		}
	}
	return false
}

// TestMotoDifferential runs every operation of diffOps against awssim and one moto_server.
func TestMotoDifferential(t *testing.T) {
	// moto is an external process; overlap its start with the rest of the package.
	t.Parallel()
	for i := range motoDeviations {
		checkDeviation(t, &motoDeviations[i])
	}
	for i := range awssimPending {
		checkDeviation(t, &awssimPending[i])
	}
	moto := startMoto(t)
	matched := map[*deviation]bool{}
	ran := map[string]bool{}
	var summary []string
	for _, op := range diffOps {
		t.Run(op.Service+"/"+op.Op, func(t *testing.T) {
			ran[op.name()] = true
			var lines []string
			steps := 0
			if op.MotoLacks != "" {
				c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				chk := &simCheck{t: t, e: newEnv(t, 0), ctx: c}
				op.Sim(chk)
				if chk.checks == 0 {
					t.Fatal("the awssim-only checks checked nothing")
				}
				lines, steps = chk.lines, chk.checks
			} else {
				sim := runOp(t, op, "awssim", newEnv(t, 0), "")
				resetMoto(t, moto)
				m := runOp(t, op, "moto", nil, moto)
				if len(sim.obs) == 0 {
					t.Fatal("the steps recorded nothing")
				}
				lines = compareRuns(sim.obs, m.obs, "awssim", "moto")
				// The SDK's rpcv2Cbor must answer as awsJson1_0 did, which moto just checked.
				if len(sim.cbor) > 0 {
					var asJSON []observation
					for _, o := range sim.obs {
						if strings.HasSuffix(o.label, " (awsJson1_0)") {
							asJSON = append(asJSON, o)
						}
					}
					lines = append(lines, compareRuns(sim.cbor, asJSON, "rpcv2Cbor", "awsJson1_0")...)
				}
				for _, o := range sim.obs {
					t.Logf("step %-60s %-38s HTTP %d", o.label, o.outcome, o.status)
				}
				for _, o := range sim.cbor {
					t.Logf("step %-60s %-38s HTTP %d", strings.TrimSuffix(o.label, " (awsJson1_0)")+" (rpcv2Cbor, awssim only)", o.outcome, o.status)
				}
				steps = len(sim.obs)
			}
			explained, pending, unexplained := report(t, op.name(), lines, matched)
			what := fmt.Sprintf("%2d steps against moto", steps)
			if op.MotoLacks != "" {
				what = fmt.Sprintf("%2d awssim-only checks (%s)", steps, op.MotoLacks)
			}
			summary = append(summary, fmt.Sprintf("%-50s %s; %d moto deviations, %d pending awssim bugs, %d unexplained",
				op.name(), what, explained, pending, unexplained))
		})
	}
	// An entry that explains nothing any more must go: the lists are the suite's claims.
	for _, list := range []struct {
		name string
		devs []deviation
	}{{"motoDeviations", motoDeviations}, {"awssimPending", awssimPending}} {
		for i := range list.devs {
			v := &list.devs[i]
			all := true
			for _, o := range v.Ops {
				all = all && ran[o]
			}
			if all && !matched[v] {
				t.Errorf("%s entry %q matched no difference: remove it (fixed?)", list.name, v.Name)
			}
		}
	}
	t.Logf("differential suite, %d operations:\n%s", len(summary), strings.Join(summary, "\n"))
}

// report explains each difference: a moto deviation is logged; a pending awssim bug fails,
// named; anything else fails as unexplained. Lines that differ only in their step label are
// reported once, with the labels.
func report(t *testing.T, op string, lines []string, matched map[*deviation]bool) (explained, pending, unexplained int) {
	t.Helper()
	type group struct {
		labels []string
		why    *explanation
	}
	groups := map[string]*group{}
	var order []string
	for _, line := range lines {
		label, what, _ := strings.Cut(line, ": ")
		// "awssim absent, moto bool×3" and "…×1" are one difference seen in steps of
		// different sizes.
		if strings.Contains(what, " absent") {
			what = countRE.ReplaceAllString(what, "")
			line = label + ": " + what
		}
		g := groups[what]
		if g == nil {
			g = &group{why: explain(op, line, matched)}
			groups[what] = g
			order = append(order, what)
		} else if w := explain(op, line, matched); (w == nil) != (g.why == nil) || w != nil && w.dev != g.why.dev {
			// The same difference explained differently under another label: keep it apart.
			groups[line] = &group{labels: []string{label}, why: w}
			order = append(order, line)
			continue
		}
		g.labels = append(g.labels, label)
	}
	for _, what := range order {
		g := groups[what]
		where := "[" + strings.Join(g.labels, "; ") + "]"
		switch {
		case g.why == nil:
			unexplained++
			t.Errorf("unexplained difference: %s %s", what, where)
		case g.why.pending:
			pending++
			t.Errorf("PENDING awssim bug %q: %s %s", g.why.dev.Name, what, where)
		default:
			explained++
			t.Logf("moto deviation %q: %s %s", g.why.dev.Name, what, where)
		}
	}
	return explained, pending, unexplained
}

var countRE = regexp.MustCompile(`×[0-9]+`)

type explanation struct {
	dev     *deviation
	pending bool
}

// explain finds the entry that accounts for a difference; a line two entries claim is
// ambiguous, which is a fault of the lists.
func explain(op, line string, matched map[*deviation]bool) *explanation {
	var found []*explanation
	for i := range motoDeviations {
		if motoDeviations[i].matches(op, line) {
			found = append(found, &explanation{dev: &motoDeviations[i]})
		}
	}
	for i := range awssimPending {
		if awssimPending[i].matches(op, line) {
			found = append(found, &explanation{dev: &awssimPending[i], pending: true})
		}
	}
	if len(found) != 1 {
		return nil
	}
	matched[found[0].dev] = true
	return found[0]
}

func checkDeviation(t *testing.T, v *deviation) {
	t.Helper()
	if v.Name == "" || len(v.Ops) == 0 || v.Match == "" || len(v.Why) < 40 {
		t.Errorf("deviation %q needs a name, operations, a pattern and a reason", v.Name)
	}
	known := map[string]bool{}
	for _, op := range diffOps {
		known[op.name()] = true
	}
	for _, o := range v.Ops {
		if !known[o] {
			t.Errorf("deviation %q names %s, which diffOps does not cover", v.Name, o)
		}
	}
	if _, err := regexp.Compile(v.Match); err != nil {
		t.Errorf("deviation %q: %v", v.Name, err)
	}
}

// runOp runs one operation's steps against one backend.
func runOp(t *testing.T, op diffOp, backend string, e *env, endpoint string) *diffRun {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := &diffRun{t: t, ctx: c, backend: backend, env: e, endpoint: endpoint, vars: map[string]string{}}
	if e != nil {
		d.endpoint = e.endpoint
		// What the givens set in moto, the fixture has under these names.
		d.set("zone", awssim.KaigoHostedZoneID)
		d.set("kms:"+west, "arn:aws:kms:us-west-2:"+awssim.AccountID+":key/dr-key-id")
	} else {
		for _, g := range op.Given {
			g(d)
		}
	}
	op.Steps(d)
	return d
}

// resetMoto empties moto between operations, so each starts from its givens alone.
func resetMoto(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Post(url+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatalf("reset moto: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset moto: HTTP %d", resp.StatusCode)
	}
}

// CloudWatch's current SDK speaks rpcv2Cbor, which moto does not; both backends speak the
// two older protocols, awsQuery (the Debian AWS CLI's) and awsJson1_0 (newer CLIs'), so the
// CloudWatch steps are sent in both, signed with the SDK's signer, and their answers reduced
// to shapes from the XML or JSON.

// cwParams are a CloudWatch request's parameters: strings, numbers, string lists, and lists
// of string maps (Dimensions).
type cwParams map[string]any

// cw sends one CloudWatch request in both protocols and records each.
func (d *diffRun) cw(region, label, op string, p cwParams) {
	d.t.Helper()
	d.add(d.cwQuery(region, label+" (awsQuery)", op, p))
	d.add(d.cwJSON(region, label+" (awsJson1_0)", op, p))
	if !d.moto() {
		// Labelled as the JSON step it must match.
		d.cbor = append(d.cbor, d.cwCBOR(region, label+" (awsJson1_0)", op, p))
	}
}

// fill sets an SDK input's fields from CloudWatch parameters by name, through JSON.
func fill(d *diffRun, p cwParams, in any) {
	d.t.Helper()
	b, err := json.Marshal(p)
	if err == nil {
		err = json.Unmarshal(b, in)
	}
	if err != nil {
		d.t.Fatalf("CloudWatch parameters into %T: %v", in, err)
	}
}

func (d *diffRun) signed(service, region string, req *http.Request, body []byte) *http.Response {
	d.t.Helper()
	sum := sha256Hex(body)
	creds := credentials.NewStaticCredentialsProvider(testCreds[0].AccessKeyID, testCreds[0].SecretAccessKey, "")
	v, err := creds.Retrieve(d.ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	if err := v4.NewSigner().SignHTTP(d.ctx, v, req, sum, service, region, time.Now()); err != nil {
		d.t.Fatalf("sign: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatalf("%s: %v", d.backend, err)
	}
	return resp
}

func (d *diffRun) cwQuery(region, label, op string, p cwParams) observation {
	d.t.Helper()
	form := []string{"Action=" + op, "Version=2010-08-01"}
	for _, k := range keysOf(p) {
		switch v := p[k].(type) {
		case string:
			form = append(form, k+"="+url.QueryEscape(v))
		case int, float64:
			form = append(form, fmt.Sprintf("%s=%v", k, v))
		case []string:
			for i, s := range v {
				form = append(form, fmt.Sprintf("%s.member.%d=%s", k, i+1, url.QueryEscape(s)))
			}
		case []map[string]string:
			for i, m := range v {
				for _, mk := range keysOf(m) {
					form = append(form, fmt.Sprintf("%s.member.%d.%s=%s", k, i+1, mk, url.QueryEscape(m[mk])))
				}
			}
		default:
			d.t.Fatalf("cwParams: %s has unsupported type %T", k, v)
		}
	}
	body := []byte(strings.Join(form, "&"))
	req, _ := http.NewRequestWithContext(d.ctx, http.MethodPost, d.endpoint+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	resp := d.signed("monitoring", region, req, body)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	o := observation{label: label, status: resp.StatusCode}
	tree, err := parseXMLTree(raw)
	switch {
	case err != nil:
		o.outcome = "error: unparsable XML: " + err.Error()
	case resp.StatusCode >= 300:
		o.outcome = xmlErrorCode(tree)
	default:
		o.outcome = "ok"
		o.shape = map[string]string{}
		// The answer is <OpResponse><OpResult>...</OpResult><ResponseMetadata/></OpResponse>.
		if res := tree.child(op + "Result"); res != nil {
			res.shape("", o.shape)
		}
		countShape(o.shape)
	}
	return o
}

func (d *diffRun) cwJSON(region, label, op string, p cwParams) observation {
	d.t.Helper()
	body, err := json.Marshal(p)
	if err != nil {
		d.t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(d.ctx, http.MethodPost, d.endpoint+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801."+op)
	resp := d.signed("monitoring", region, req, body)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	o := observation{label: label, status: resp.StatusCode}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := dec.Decode(&v); err != nil {
			o.outcome = "error: unparsable JSON: " + err.Error()
			return o
		}
	}
	if resp.StatusCode >= 300 {
		o.outcome = jsonErrorCode(resp.Header, v)
		return o
	}
	o.outcome = "ok"
	o.shape = map[string]string{}
	jsonShape(v, "", o.shape)
	countShape(o.shape)
	return o
}

// jsonErrorCode reads an awsJson1_0 error as a query-compatible client does: the code in
// X-Amzn-Query-Error when present, else __type without its namespace.
func jsonErrorCode(h http.Header, v any) string {
	if q := h.Get("X-Amzn-Query-Error"); q != "" {
		code, _, _ := strings.Cut(q, ";")
		return code
	}
	m, _ := v.(map[string]any)
	t, _ := m["__type"].(string)
	if i := strings.LastIndexByte(t, '#'); i >= 0 {
		t = t[i+1:]
	}
	if t == "" {
		return "error: no error code"
	}
	return t
}

// jsonShape records the kinds at each path; list elements are path[]. Empty lists, maps and
// strings count as absent, as in shapeOf. Counts are summed by countShape.
func jsonShape(v any, path string, out map[string]string) {
	add := func(kind string) { out[path] += kind + "," }
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return
		}
		if path != "" {
			add("struct")
		}
		for k, e := range x {
			p := k
			if path != "" {
				p = path + "." + k
			}
			jsonShape(e, p, out)
		}
	case []any:
		if len(x) == 0 {
			return
		}
		add("list")
		for _, e := range x {
			jsonShape(e, path+"[]", out)
		}
	case string:
		if x != "" {
			add("value")
		}
	case json.Number, bool:
		add("value")
	}
}

// countShape turns "kind,kind,...," accumulations into "kind×n".
func countShape(m map[string]string) {
	for p, ks := range m {
		parts := strings.Split(strings.TrimSuffix(ks, ","), ",")
		m[p] = fmt.Sprintf("%s×%d", parts[0], len(parts))
	}
}

// xmlNode is a parsed XML element.
type xmlNode struct {
	name string
	text string
	kids []*xmlNode
}

func (n *xmlNode) child(name string) *xmlNode {
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
		if c := k.child(name); c != nil {
			return c
		}
	}
	return nil
}

// shape records an awsQuery result the way jsonShape records JSON: an element whose
// children are all <member> is a list; a leaf is a value; empty elements count as absent.
func (n *xmlNode) shape(path string, out map[string]string) {
	add := func(kind string) { out[path] += kind + "," }
	if len(n.kids) == 0 {
		if strings.TrimSpace(n.text) != "" && path != "" {
			add("value")
		}
		return
	}
	list := true
	for _, k := range n.kids {
		list = list && k.name == "member"
	}
	if list {
		add("list")
		for _, k := range n.kids {
			k.shape(path+"[]", out)
		}
		return
	}
	if path != "" {
		add("struct")
	}
	for _, k := range n.kids {
		p := k.name
		if path != "" {
			p = path + "." + k.name
		}
		k.shape(p, out)
	}
}

func parseXMLTree(raw []byte) (*xmlNode, error) {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	root := &xmlNode{}
	stack := []*xmlNode{root}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		top := stack[len(stack)-1]
		switch x := tok.(type) {
		case xml.StartElement:
			n := &xmlNode{name: x.Name.Local}
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top.text += string(x)
		}
	}
	if len(root.kids) != 1 {
		return nil, errors.New("no single root element")
	}
	return root.kids[0], nil
}

func xmlErrorCode(tree *xmlNode) string {
	if c := tree.child("Code"); c != nil && c.text != "" {
		return c.text
	}
	return "error: no <Code> in the error"
}
