package awssim_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/kirikae/kirikae/awssim"
)

// signedWith is the simulator's config for region, signing with another key pair.
func signedWith(e *env, region, key, secret string) aws.Config {
	cfg := e.cfg(region)
	cfg.Credentials = credentials.NewStaticCredentialsProvider(key, secret, "")
	cfg.RetryMaxAttempts = 1
	return cfg
}

// protocolCalls is one mutating call per wire protocol (and per error family within one),
// made with a given config. A call that got through would change the world.
var protocolCalls = []struct {
	protocol, service string
	region            string
	call              func(context.Context, aws.Config) error
	unknownKey        string // the code for a key the simulator never issued
	badSignature      string // the code for the right key with the wrong secret
}{
	{"awsQuery", "rds", "us-east-1", func(c context.Context, cfg aws.Config) error {
		_, err := rds.NewFromConfig(cfg).CreateDBSnapshot(c, &rds.CreateDBSnapshotInput{
			DBInstanceIdentifier: aws.String(awssim.KaigoProdInstance), DBSnapshotIdentifier: aws.String("forged")})
		return err
	}, "InvalidClientTokenId", "SignatureDoesNotMatch"},
	{"ec2Query", "ec2", "us-west-2", func(c context.Context, cfg aws.Config) error {
		_, err := ec2.NewFromConfig(cfg).CreateSecurityGroup(c, &ec2.CreateSecurityGroupInput{
			GroupName: aws.String("forged"), Description: aws.String("forged")})
		return err
	}, "AuthFailure", "AuthFailure"},
	{"restXml", "route53", "us-east-1", func(c context.Context, cfg aws.Config) error {
		_, err := route53.NewFromConfig(cfg).GetHostedZone(c, &route53.GetHostedZoneInput{Id: aws.String(awssim.KaigoHostedZoneID)})
		return err
	}, "InvalidClientTokenId", "SignatureDoesNotMatch"},
	{"restXml (S3)", "s3", "us-east-1", func(c context.Context, cfg aws.Config) error {
		_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetBucketReplication(c,
			&s3.GetBucketReplicationInput{Bucket: aws.String(awssim.KaigoProdBucket)})
		return err
	}, "InvalidAccessKeyId", "SignatureDoesNotMatch"},
	{"restJson1", "elasticfilesystem", "us-west-2", func(c context.Context, cfg aws.Config) error {
		_, err := efs.NewFromConfig(cfg).DeleteFileSystem(c, &efs.DeleteFileSystemInput{FileSystemId: aws.String("fs-0000000000")})
		return err
	}, "UnrecognizedClientException", "InvalidSignatureException"},
	{"restJson1 (Backup)", "backup", "us-west-2", func(c context.Context, cfg aws.Config) error {
		_, err := backup.NewFromConfig(cfg).ListRecoveryPointsByBackupVault(c, &backup.ListRecoveryPointsByBackupVaultInput{
			BackupVaultName: aws.String(awssim.KaigoDRVault)})
		return err
	}, "UnrecognizedClientException", "InvalidSignatureException"},
	{"awsJson1_1", "ecs", "us-west-2", func(c context.Context, cfg aws.Config) error {
		_, err := ecs.NewFromConfig(cfg).UpdateService(c, &ecs.UpdateServiceInput{Cluster: aws.String(awssim.KaigoDRCluster),
			Service: aws.String(awssim.KaigoDRService), DesiredCount: aws.Int32(2)})
		return err
	}, "UnrecognizedClientException", "InvalidSignatureException"},
	{"awsJson1_1 (Secrets Manager)", "secretsmanager", "us-west-2", func(c context.Context, cfg aws.Config) error {
		_, err := secretsmanager.NewFromConfig(cfg).PutSecretValue(c, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(awssim.KaigoDRDBSecret), SecretString: aws.String("forged")})
		return err
	}, "UnrecognizedClientException", "InvalidSignatureException"},
	{"rpcv2Cbor", "monitoring", "us-west-2", func(c context.Context, cfg aws.Config) error {
		_, err := cloudwatch.NewFromConfig(cfg).DeleteAlarms(c, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"forged"}})
		return err
	}, "InvalidClientTokenId", "SignatureDoesNotMatch"},
}

// TestForeignSignaturesRefused signs a mutating call of every protocol with a key the
// simulator never issued, and with the issued key but the wrong secret: each gets the
// protocol's real error, and the world does not change.
func TestForeignSignaturesRefused(t *testing.T) {
	e := newEnv(t, time.Second)
	before := e.sim.Journal()
	for _, pc := range protocolCalls {
		t.Run(pc.protocol, func(t *testing.T) {
			wantCode(t, pc.call(ctx(t), signedWith(e, pc.region, "AKIANEVERISSUED00000", "secret")), pc.unknownKey)
			wantCode(t, pc.call(ctx(t), signedWith(e, pc.region, testCreds[0].AccessKeyID, "not-the-secret")), pc.badSignature)
		})
	}
	if after := e.sim.Journal(); len(after) != len(before) {
		t.Fatalf("refused calls changed the world: journal %d → %d entries: %+v", len(before), len(after), after[len(before):])
	}
	// The same calls signed right get through to the service: the refusals above were the
	// signature's, not the request's.
	for _, pc := range protocolCalls {
		err := pc.call(ctx(t), e.cfg(pc.region))
		if code := apiErrorCode(err); code == pc.unknownKey || code == pc.badSignature {
			t.Errorf("%s: rightly signed call refused: %v", pc.protocol, err)
		}
	}
}

func apiErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestTwoSimulatorsRefuseEachOther is the incident: two processes on one machine each ran a
// simulator, and one's agents drove a whole failover against the other's world. Each
// simulator now issues its own random key pair, and refuses the other's.
func TestTwoSimulatorsRefuseEachOther(t *testing.T) {
	a, err := awssim.New(awssim.Options{Fixture: "kaigo"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := awssim.New(awssim.Options{Fixture: "kaigo"})
	if err != nil {
		t.Fatal(err)
	}
	ka, kb := a.Credentials()[0], b.Credentials()[0]
	if ka.AccessKeyID == kb.AccessKeyID || ka.SecretAccessKey == kb.SecretAccessKey {
		t.Fatalf("two simulators issued the same key: %v and %v", ka, kb)
	}
	if !strings.HasPrefix(ka.AccessKeyID, "AKIA") || len(ka.AccessKeyID) != 20 || len(ka.SecretAccessKey) != 40 {
		t.Fatalf("issued key is not shaped like AWS's: %q / %d-character secret", ka.AccessKeyID, len(ka.SecretAccessKey))
	}
	urlB := newServer(t, b)
	cfg := awsConfig(urlB, "us-west-2")
	cfg.Credentials = credentials.NewStaticCredentialsProvider(ka.AccessKeyID, ka.SecretAccessKey, "")
	cfg.RetryMaxAttempts = 1
	_, err = ecs.NewFromConfig(cfg).UpdateService(ctx(t), &ecs.UpdateServiceInput{Cluster: aws.String(awssim.KaigoDRCluster),
		Service: aws.String(awssim.KaigoDRService), DesiredCount: aws.Int32(2)})
	wantCode(t, err, "UnrecognizedClientException")
	if j := b.Journal(); len(j) != 0 {
		t.Fatalf("simulator B served simulator A's caller: %+v", j)
	}
	cfg.Credentials = credentials.NewStaticCredentialsProvider(kb.AccessKeyID, kb.SecretAccessKey, "")
	if _, err := ecs.NewFromConfig(cfg).UpdateService(ctx(t), &ecs.UpdateServiceInput{Cluster: aws.String(awssim.KaigoDRCluster),
		Service: aws.String(awssim.KaigoDRService), DesiredCount: aws.Int32(2)}); err != nil {
		t.Fatalf("B's own key: %v", err)
	}
}

// signedRequest builds a request to the simulator signed by the SDK's signer at time at.
func signedRequest(t *testing.T, url, service, region string, body []byte, headers map[string]string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	hash := sha256.Sum256(body)
	sum := hex.EncodeToString(hash[:])
	creds := aws.Credentials{AccessKeyID: testCreds[0].AccessKeyID, SecretAccessKey: testCreds[0].SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sum, service, region, at); err != nil {
		t.Fatal(err)
	}
	return req
}

func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSignatureCoversTheRequest tampers with a rightly signed request after signing, and
// sends requests that are stale, from the future, or not signed at all.
func TestSignatureCoversTheRequest(t *testing.T) {
	e := newEnv(t, time.Second)
	form := []byte("Action=CreateDBSnapshot&Version=2014-10-31&DBInstanceIdentifier=" + awssim.KaigoProdInstance + "&DBSnapshotIdentifier=s1")
	hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	now := time.Now()
	for _, c := range []struct {
		name     string
		req      func() *http.Request
		status   int
		code     string
		contains string
	}{
		{"body changed after signing", func() *http.Request {
			r := signedRequest(t, e.endpoint, "rds", "us-east-1", form, hdr, now)
			tampered := bytes.Replace(form, []byte("s1"), []byte("s2"), 1)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(tampered)), int64(len(tampered))
			return r
		}, 403, "SignatureDoesNotMatch", "does not match the signature you provided"},
		{"region changed after signing", func() *http.Request {
			r := signedRequest(t, e.endpoint, "rds", "us-east-1", form, hdr, now)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/us-east-1/", "/us-west-2/", 1))
			return r
		}, 403, "SignatureDoesNotMatch", ""},
		{"signed 20 minutes ago", func() *http.Request {
			return signedRequest(t, e.endpoint, "rds", "us-east-1", form, hdr, now.Add(-20*time.Minute))
		}, 403, "SignatureDoesNotMatch", "Signature expired"},
		{"signed 20 minutes ahead", func() *http.Request {
			return signedRequest(t, e.endpoint, "rds", "us-east-1", form, hdr, now.Add(20*time.Minute))
		}, 403, "SignatureDoesNotMatch", "Signature not yet current"},
		{"not signed", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, e.endpoint, bytes.NewReader(form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 403, "MissingAuthenticationToken", ""},
		{"signature not hex", func() *http.Request {
			r := signedRequest(t, e.endpoint, "rds", "us-east-1", form, hdr, now)
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, "Signature=")]+"Signature=zz")
			return r
		}, 400, "IncompleteSignature", "Signature must be 64 hexadecimal characters"},
		{"host not signed", func() *http.Request {
			r := signedRequest(t, e.endpoint, "rds", "us-east-1", form, hdr, now)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=", "SignedHeaders=x-amz-date;", 1))
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", strings.Replace(a, "host;", "", 1))
			return r
		}, 400, "IncompleteSignature", "must include host"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := send(t, c.req())
			if status != c.status || !strings.Contains(body, "<Code>"+c.code+"</Code>") || !strings.Contains(body, c.contains) {
				t.Fatalf("got %d %s, want %d %s mentioning %q", status, body, c.status, c.code, c.contains)
			}
		})
	}
	if j := e.sim.Journal(); len(j) != 0 {
		t.Fatalf("a refused request changed the world: %+v", j)
	}
	if status, body := send(t, signedRequest(t, e.endpoint, "rds", "us-east-1", form, hdr, now)); status != 200 {
		t.Fatalf("the untampered request: %d %s", status, body)
	}
}

// TestPresignedURL checks the query-string form of SigV4: the SDK's presigned S3 URL is
// accepted, and the same URL with its signature altered is refused.
func TestPresignedURL(t *testing.T) {
	e := newEnv(t, time.Second)
	p := s3.NewPresignClient(s3.NewFromConfig(e.cfg("us-east-1"), func(o *s3.Options) { o.UsePathStyle = true }))
	req, err := p.PresignGetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(awssim.KaigoProdBucket), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	get := func(u string) (int, string) {
		r, err := http.NewRequest(req.Method, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		return send(t, r)
	}
	// GetObject is not simulated: reaching the service at all shows the signature held.
	if status, body := get(req.URL); strings.Contains(body, "SignatureDoesNotMatch") || strings.Contains(body, "InvalidAccessKeyId") || status == 403 {
		t.Fatalf("presigned URL refused: %d %s", status, body)
	}
	i := strings.Index(req.URL, "X-Amz-Signature=") + len("X-Amz-Signature=")
	flipped := req.URL[:i] + map[bool]string{true: "1", false: "0"}[req.URL[i] == '0'] + req.URL[i+1:]
	if status, body := get(flipped); status != 403 || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
		t.Fatalf("altered presigned URL: %d %s", status, body)
	}
}

// TestCLIForeignKeysRefused runs the real AWS CLI v2 (botocore's signer, not Go's) with the
// issued key, an unknown key and a wrong secret, for one command of each protocol.
func TestCLIForeignKeysRefused(t *testing.T) {
	t.Parallel()
	requireTool(t, awsCLI, "apt-get install -y awscli")
	e := newEnv(t, time.Second)
	dir := t.TempDir()
	cli := func(key, secret, region string, args ...string) (string, error) {
		full := append([]string{"--endpoint-url", e.endpoint, "--region", region, "--output", "json", "--no-cli-pager"}, args...)
		cmd := exec.Command(awsCLI, full...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "AWS_ACCESS_KEY_ID=" + key, "AWS_SECRET_ACCESS_KEY=" + secret,
			"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
			"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1"}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	for _, c := range []struct {
		protocol            string
		region              string
		args                []string
		unknownKey, badSign string
	}{
		{"awsQuery", "us-west-2", []string{"rds", "describe-db-instances"}, "InvalidClientTokenId", "SignatureDoesNotMatch"},
		{"ec2Query", "us-west-2", []string{"ec2", "describe-vpcs"}, "AuthFailure", "AuthFailure"},
		{"restXml", "us-east-1", []string{"route53", "get-hosted-zone", "--id", awssim.KaigoHostedZoneID}, "InvalidClientTokenId", "SignatureDoesNotMatch"},
		{"restJson1", "us-west-2", []string{"efs", "describe-file-systems"}, "UnrecognizedClientException", "InvalidSignatureException"},
		{"awsJson1_1", "us-west-2", []string{"ecs", "describe-services", "--cluster", awssim.KaigoDRCluster, "--services", awssim.KaigoDRService}, "UnrecognizedClientException", "InvalidSignatureException"},
		{"CloudWatch", "us-west-2", []string{"cloudwatch", "describe-alarms"}, "InvalidClientTokenId", "SignatureDoesNotMatch"},
	} {
		if out, err := cli(testCreds[0].AccessKeyID, testCreds[0].SecretAccessKey, c.region, c.args...); err != nil {
			t.Errorf("%s: issued key refused: %v\n%s", c.protocol, err, out)
		}
		for _, k := range []struct{ key, secret, code string }{
			{"AKIANEVERISSUED00000", "secret", c.unknownKey}, {testCreds[0].AccessKeyID, "wrong", c.badSign}} {
			out, err := cli(k.key, k.secret, c.region, c.args...)
			if err == nil || !strings.Contains(out, "An error occurred ("+k.code+")") {
				t.Errorf("%s with key %s: want the CLI to show (%s), got %v:\n%s", c.protocol, k.key, k.code, err, out)
			}
		}
	}
}

// TestCredentialsFile reads key pairs in the ~/.aws/credentials format, and refuses a bad
// file naming its line.
func TestCredentialsFile(t *testing.T) {
	got, err := awssim.ParseCredentials(strings.NewReader("# sim keys\n[a]\naws_access_key_id = AKIAONE\naws_secret_access_key = s1\n\n[b]\naws_access_key_id=AKIATWO\naws_secret_access_key=s2\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []awssim.Credential{{AccessKeyID: "AKIAONE", SecretAccessKey: "s1"}, {AccessKeyID: "AKIATWO", SecretAccessKey: "s2"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for _, c := range []struct{ file, want string }{
		{"[a]\naws_access_key_id = AKIAONE\n", "line 1: profile [a] needs both"},
		{"[a]\naws_access_key_id = AKIAONE\naws_secret_access_key = s\n[b]\naws_access_key_id = AKIAONE\naws_secret_access_key = t\n", "line 4: access key id AKIAONE is already given at line 1"},
		{"[a]\nregion = us-east-1\n", `line 2: unknown key "region"`},
		{"aws_access_key_id = AKIAONE\n", "line 1: aws_access_key_id comes before any [profile]"},
		{"[a\n", "line 1: a section header must end"},
		{"[a]\naws_access_key_id = AKIA/ONE\naws_secret_access_key = s\n", "line 2:"},
		{"[a]\njust words\n", "line 2: want key = value"},
		{"# nothing\n", "no [profile] section"},
	} {
		_, err := awssim.ParseCredentials(strings.NewReader(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want an error containing %q", c.file, err, c.want)
		}
	}
}

// TestIssuedKeysSurviveRestart keeps the random pair in the state file, so agents started
// against a simulator still sign right after it restarts.
func TestIssuedKeysSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	first, err := awssim.New(awssim.Options{Fixture: "kaigo", StateFile: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Reset(); err != nil { // a reset keeps the keys, and writes the state
		t.Fatal(err)
	}
	_ = first.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no state written: %v", err)
	}
	second, err := awssim.New(awssim.Options{StateFile: path})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if !reflect.DeepEqual(first.Credentials(), second.Credentials()) {
		t.Fatalf("keys changed across a restart: %v → %v", first.Credentials(), second.Credentials())
	}
	fixed := []awssim.Credential{{AccessKeyID: "AKIAFIXED", SecretAccessKey: "s"}}
	third, err := awssim.New(awssim.Options{StateFile: path, Credentials: fixed})
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if !reflect.DeepEqual(third.Credentials(), fixed) {
		t.Fatalf("given keys must win over the state file's: %v", third.Credentials())
	}
	if _, err := awssim.New(awssim.Options{Credentials: []awssim.Credential{{AccessKeyID: "AKIAX"}}}); err == nil {
		t.Fatal("a pair without a secret was accepted")
	}
}

// FuzzSignatureHeaders sends requests with arbitrary Authorization, X-Amz-Date and
// X-Amz-Content-Sha256 headers and query strings. None may panic or reach a service, and the
// world stays as it was.
func FuzzSignatureHeaders(f *testing.F) {
	good := "AWS4-HMAC-SHA256 Credential=AKIASIMTEST/20251201/us-west-2/rds/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64)
	f.Add(good, "20251201T090000Z", "", "")
	f.Add("AWS4-HMAC-SHA256 Credential=AKIASIMTEST/20251201/us-west-2/rds/aws4_request", "x", "", "")
	f.Add("AWS4-HMAC-SHA256 Credential=//////, SignedHeaders=;;, Signature=", "", "STREAMING-AWS4", "")
	f.Add("AWS4-HMAC-SHA256 ,,,===", "20251301T990000Z", "UNSIGNED-PAYLOAD", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2Fb&X-Amz-Expires=-1")
	f.Add("", "", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIASIMTEST%2F20251201%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20251201T090000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature="+strings.Repeat("a", 64))
	f.Add("AWS4-HMAC-SHA256 Credential=AKIASIMTEST/20251201/us-west-2/ecs/aws4_request, SignedHeaders=Host, Signature=%zz", "20251201T090000Z", "%", "a=%&b")
	sim, err := awssim.New(awssim.Options{Fixture: "kaigo", Credentials: testCreds})
	if err != nil {
		f.Fatal(err)
	}
	h := sim.Handler()
	// The world without its request counter, which every answer's request id advances.
	state := func() []byte {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/_sim/state", nil))
		var m map[string]json.RawMessage
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			f.Fatalf("state: %v", err)
		}
		delete(m, "seq")
		b, _ := json.Marshal(m)
		return b
	}
	before := state()
	f.Fuzz(func(t *testing.T, auth, date, payload, query string) {
		body := "Action=CreateDBSnapshot&Version=2014-10-31&DBInstanceIdentifier=" + awssim.KaigoProdInstance + "&DBSnapshotIdentifier=fz"
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		req.Header.Set("X-Amz-Date", date)
		req.Header.Set("X-Amz-Content-Sha256", payload)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code < 400 || w.Code >= 500 {
			t.Fatalf("status %d for Authorization %q, X-Amz-Date %q, query %q: %s", w.Code, auth, date, query, w.Body.String())
		}
		if after := state(); !bytes.Equal(before, after) {
			t.Fatalf("a refused request changed the world (Authorization %q)", auth)
		}
	})
}

// TestHeaderWhiteSpaceEitherSigner: a signed header value with a tab in it is canonicalized
// differently by the Go SDK (runs of spaces only) and botocore (any white space); a request
// signed by either is accepted.
func TestHeaderWhiteSpaceEitherSigner(t *testing.T) {
	e := newEnv(t, time.Second)
	body := []byte(`{"SecretId":"` + awssim.KaigoDRDBSecret + `"}`)
	req := signedRequest(t, e.endpoint, "secretsmanager", "us-west-2", body,
		map[string]string{"X-Amz-Target": "secretsmanager.Get\tSecretValue", "Content-Type": "application/x-amz-json-1.1"}, time.Now())
	status, out := send(t, req)
	if strings.Contains(out, "InvalidSignatureException") || status == 403 {
		t.Fatalf("a Go-SDK-signed header with a tab was refused: %d %s", status, out)
	}
}
