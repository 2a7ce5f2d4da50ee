package awssim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxBody bounds request bodies; real AWS requests here are a few KB.
const maxBody = 4 << 20

// apiError is an AWS error as the service would send it. Code is the wire error code;
// Status the HTTP status.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(code, format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, code, format, args...)
}

func notFound(code, format string, args ...any) *apiError {
	return errf(http.StatusNotFound, code, format, args...)
}

// call is one API request after routing.
type call struct {
	s       *Sim
	region  string
	service string
	op      string
	now     time.Time
	reqID   string
	r       *http.Request
	body    []byte
	mutated bool
	key     string // the access key id the request is signed with
}

// rs is the request region's state.
func (c *call) rs() *regionState { return c.s.st.Regions[c.region] }

// holds says whether the world holds region.
func (s *Sim) holds(region string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.holds(region)
}

// arn is the ARN of a resource of the world's account in region.
func (c *call) arn(service, region, rest string) string { return c.s.st.arn(service, region, rest) }

// account is the world's account.
func (c *call) account() string { return c.s.st.Account }

// journal records a successful mutating call.
func (c *call) journal(resource string) {
	c.mutated = true
	c.s.st.Journal = append(c.s.st.Journal, JournalEntry{
		Time: c.now, Region: c.region, Service: c.service, Operation: c.op, Resource: resource,
	})
}

// Handler serves the AWS APIs, the /_sim/ control API and the simulated application.
func (s *Sim) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// A bug in one handler must not kill the listener or return a bare 500 page; it is
		// still a bug, so say so loudly.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("awssim: handler panic", "panic", v, "path", r.URL.Path)
			http.Error(w, "awssim internal error", http.StatusInternalServerError)
		}
	}()
	switch {
	case strings.HasPrefix(r.URL.Path, "/_sim/"):
		s.serveControl(w, r)
		return
	case strings.HasPrefix(r.URL.Path, "/_app/"):
		s.serveApp(w, r)
		return
	case r.Header.Get("Authorization") == "":
		// curl -H 'Host: api.kaigo-subsys.example.com' reaches the application the way the
		// runbook's step 10 does; AWS API calls are always signed, so they never land here.
		if region := s.hostRegion(r.Host); region != "" {
			s.serveAppIn(w, r, region, r.URL.Path)
			return
		}
	}
	region, service := credentialScope(r.Header.Get("Authorization"))
	if service == "" {
		// Presigned requests carry the scope in the query string instead.
		region, service = credentialScope("Credential=" + r.URL.Query().Get("X-Amz-Credential"))
	}
	if service == "" {
		service = guessService(r)
	}
	if region == "" {
		region = "us-east-1"
	}
	if !globalServices[service] && s.regionDown(w, r, region) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	reqID := fmt.Sprintf("00000000-0000-4000-8000-%012d", s.st.next())
	s.mu.Unlock()
	c := &call{s: s, region: region, service: service, r: r, body: body, reqID: reqID}
	p, ok := protocols[service]
	if !ok {
		// Answered in the caller's protocol, as AWS answers each client in its own, so that
		// the SDKs and the AWS CLI read the code and message (each service's protocol is its
		// botocore model's metadata.protocol). X-Amz-Target is awsJson's. A form with Action
		// is awsQuery's or ec2Query's, and the services botocore models as rest-xml are
		// restXml's: their clients read the XML ErrorResponse,
		// <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>
		// (botocore parsers.py QueryParser and RestXMLParser). The rest are restJson's, which
		// read the JSON body and X-Amzn-ErrorType.
		e := badRequest("UnknownService", "awssim does not simulate service %q", service)
		if r.Header.Get("Authorization") == "" && r.URL.Query().Get("X-Amz-Credential") == "" {
			// Unsigned, so no scope names the service; AWS's endpoints are per service and
			// would refuse the missing signature first.
			e = &apiError{Status: http.StatusForbidden, Code: "MissingAuthenticationToken", Message: "Request is missing Authentication Token"}
		}
		if r.Header.Get("X-Amz-Target") == "" && (c.form().Get("Action") != "" || restXMLServices[service]) {
			queryProtocol(nil, "").writeError(w, c, e)
		} else {
			writeJSONError(w, c, e)
		}
		return
	}
	// Route 53, S3 and IAM are global, and Health answers in us-east-1 (its global endpoint)
	// whatever regions the world holds.
	if service != "route53" && service != "s3" && service != "iam" && !(service == "health" && region == "us-east-1") && !s.holds(region) {
		p.writeError(w, c, badRequest("InvalidClientTokenId", "The security token included in the request is invalid (region %q is not simulated)", region))
		return
	}
	c.op = p.operation(c)
	sig, why, msg := s.verifySignature(r, body, time.Now())
	if why != 0 {
		// Checked against the wall clock, not the simulated one: the caller signs with its own.
		s.log.Debug("awssim: refused signature", "region", region, "service", service, "op", c.op, "why", msg)
		p.writeError(w, c, authError(service, why, msg))
		return
	}
	c.key = sig.accessKey
	if e := s.authorize(c, sig.accessKey); e != nil { // IAM, when enforced (iam.go)
		p.writeError(w, c, e)
		return
	}
	s.log.Debug("awssim request", "region", region, "service", service, "op", c.op)
	if lat := s.latency(service, c.op); lat > 0 {
		select {
		case <-time.After(lat):
		case <-r.Context().Done():
			return
		case <-s.closing:
		}
	}
	if e := s.injected(service, c.op); e != nil {
		p.writeError(w, c, e)
		return
	}
	s.mu.Lock()
	c.now = s.now()
	out, err := p.dispatch(c)
	if err == nil && c.mutated {
		if serr := s.saveLocked(); serr != nil {
			s.log.Warn("awssim: save state", "err", serr)
		}
	}
	s.mu.Unlock()
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = errf(http.StatusInternalServerError, "InternalFailure", "%v", err)
		}
		p.writeError(w, c, ae)
		return
	}
	p.writeOK(w, c, out)
}

// globalServices are signed for us-east-1 whatever region the caller is in. Their data
// planes are global, and the runbook switches DNS and reads Health precisely while us-east-1
// is down, so a region outage does not take them with it.
var globalServices = map[string]bool{"route53": true, "health": true, "iam": true}

// restXMLServices are the signing names of the services botocore models as rest-xml
// (botocore/data/*/service-2.json, metadata.protocol and signingName).
var restXMLServices = map[string]bool{"cloudfront": true, "route53": true, "s3": true}

// credentialScope pulls region and service out of a SigV4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-west-2/rds/aws4_request, SignedHeaders=...".
func credentialScope(auth string) (region, service string) {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", ""
	}
	if i := strings.IndexAny(rest, ", "); i >= 0 {
		rest = rest[:i]
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 5 {
		return "", ""
	}
	return parts[len(parts)-3], parts[len(parts)-2]
}

// guessService covers unsigned requests (curl, anonymous clients) from protocol hints.
func guessService(r *http.Request) string {
	t := r.Header.Get("X-Amz-Target")
	switch {
	case strings.HasPrefix(t, "AmazonEC2ContainerService"):
		return "ecs"
	case strings.HasPrefix(t, "secretsmanager"):
		return "secretsmanager"
	case strings.HasPrefix(t, "TrentService"):
		return "kms"
	case strings.HasPrefix(t, "AWSHealth"):
		return "health"
	case strings.HasPrefix(r.URL.Path, "/service/GraniteServiceVersion20100801"), strings.HasPrefix(t, "GraniteServiceVersion20100801"):
		return "monitoring"
	case strings.HasPrefix(r.URL.Path, "/2013-04-01/"):
		return "route53"
	}
	return ""
}

// protocol encodes and decodes one wire protocol; dispatch finds the operation's handler.
type protocol struct {
	operation  func(c *call) string
	dispatch   func(c *call) (any, error)
	writeOK    func(w http.ResponseWriter, c *call, out any)
	writeError func(w http.ResponseWriter, c *call, e *apiError)
}

var protocols map[string]protocol

func init() {
	protocols = map[string]protocol{
		"rds":                  queryProtocol(rdsOps, "http://rds.amazonaws.com/doc/2014-10-31/"),
		"elasticache":          queryProtocol(elasticacheOps, "http://elasticache.amazonaws.com/doc/2015-02-02/"),
		"elasticloadbalancing": queryProtocol(elbOps, "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"),
		"sts":                  queryProtocol(stsOps, "https://sts.amazonaws.com/doc/2011-06-15/"),
		"sns":                  queryProtocol(snsOps, "http://sns.amazonaws.com/doc/2010-03-31/"),
		"ec2":                  ec2Protocol(ec2Ops),
		"ecs":                  jsonProtocol(ecsOps),
		"secretsmanager":       jsonProtocol(secretsOps),
		"health":               jsonProtocol(healthOps),
		"backup":               restJSONProtocol(backupRoutes),
		"elasticfilesystem":    restJSONProtocol(efsRoutes),
		"route53":              route53Protocol(),
		"s3":                   s3Protocol(),
		"monitoring":           cloudwatchProtocol(),
		"kms":                  jsonProtocol(kmsOps),
		"iam":                  queryProtocol(iamOps, "https://iam.amazonaws.com/doc/2010-05-08/"),
	}
}

func writeJSONError(w http.ResponseWriter, c *call, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", c.reqID)
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// isoTime is the XML timestamp format the SDKs parse.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// epoch is the JSON timestamp format (seconds since the epoch, fractional).
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
