package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/kirikae/kirikae/awshttp"
	"github.com/kirikae/kirikae/awssim"
)

// TestSimEnforcesIAM: `kirikae sim --iam FILE` holds each access key to its policies: the
// secondary agent's key, given deploy/iam/kaigo-us-west-2.json, may describe its own ECS
// service and not production's; a key the file does not name may do nothing. A file that is
// not valid stops the simulator before it serves.
func TestSimEnforcesIAM(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	creds := write("agents.credentials", "[secondary]\naws_access_key_id = AKIASECONDARYAGENT01\naws_secret_access_key = s\n"+
		"[other]\naws_access_key_id = AKIAOTHERKEY00000001\naws_secret_access_key = o\n")
	west, err := filepath.Abs("../deploy/iam/kaigo-us-west-2.json")
	if err != nil {
		t.Fatal(err)
	}
	iam := write("iam.json", `{"AKIASECONDARYAGENT01": "`+west+`"}`)
	out := startSim(t, simFlags{listen: "127.0.0.1:0", timeScale: 1, logLevel: "error", fixture: "kaigo", creds: creds, iam: iam})
	if !strings.Contains(out, "# IAM enforced from "+iam+" for access keys AKIASECONDARYAGENT01") {
		t.Errorf("the start lines do not say IAM is enforced:\n%s", out)
	}
	_, rest, _ := strings.Cut(out, "export AWS_ENDPOINT_URL=")
	endpoint, _, _ := strings.Cut(rest, "\n")
	describe := func(key, secret, region, cluster, service string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cfg := aws.Config{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: awshttp.KeepRequestBody(nil),
			Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")}
		_, err := ecs.NewFromConfig(cfg).DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
		return err
	}
	if err := describe("AKIASECONDARYAGENT01", "s", "us-west-2", awssim.KaigoDRCluster, awssim.KaigoDRService); err != nil {
		t.Errorf("the secondary agent's key on its own service: %v", err)
	}
	for _, c := range []struct{ key, secret, region, cluster, service string }{
		{"AKIASECONDARYAGENT01", "s", "us-east-1", awssim.KaigoProdCluster, awssim.KaigoProdService},
		{"AKIAOTHERKEY00000001", "o", "us-west-2", awssim.KaigoDRCluster, awssim.KaigoDRService},
	} {
		err := describe(c.key, c.secret, c.region, c.cluster, c.service)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "is not authorized to perform: ecs:DescribeServices") {
			t.Errorf("%s on %s/%s: %v, want AccessDeniedException naming ecs:DescribeServices", c.key, c.cluster, c.service, err)
		}
	}
	bad := write("bad.json", `{"AKIASECONDARYAGENT01": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecs:*"}]}}`)
	err = runSim(context.Background(), io.Discard, io.Discard, simFlags{listen: "127.0.0.1:0", timeScale: 1, logLevel: "error", iam: bad})
	if err == nil || !strings.Contains(err.Error(), "--iam") || !strings.Contains(err.Error(), "Resource") {
		t.Errorf("a policy without Resource: %v", err)
	}
}
