package awshttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/kirikae/kirikae/awshttp"
	"github.com/kirikae/kirikae/awssim"
)

// TestAnswersArriveWhole sends 800 never-retried DescribeSecurityGroups (answers of a few
// kilobytes) one after another, on kept-alive connections, through the real SDK to awssim. Through KeepRequestBody every
// answer must arrive whole. The bare client's failures are logged: they are the race
// KeepRequestBody removes (about 4% under -race on a loaded machine, fewer without).
func TestAnswersArriveWhole(t *testing.T) {
	key := awssim.Credential{AccessKeyID: "AKIAAWSHTTPTEST", SecretAccessKey: "secret"}
	sim, err := awssim.New(awssim.Options{Fixture: "kaigo", Credentials: []awssim.Credential{key}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	run := func(c aws.HTTPClient) (failed int, first error) {
		cfg := aws.Config{Region: "us-west-2", BaseEndpoint: aws.String(srv.URL), HTTPClient: c,
			Credentials: credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.SecretAccessKey, ""),
			Retryer:     func() aws.Retryer { return aws.NopRetryer{} }}
		api := ec2.NewFromConfig(cfg)
		for range 800 {
			if _, err := api.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{}); err != nil {
				failed++
				if first == nil {
					first = err
				}
			}
		}
		return failed, first
	}
	if n, err := run(awshttp.KeepRequestBody(&http.Client{})); n != 0 {
		t.Fatalf("%d of 800 answers broke through KeepRequestBody, the first: %v", n, err)
	}
	n, err := run(&http.Client{})
	t.Logf("the bare client broke %d of 800 answers (first: %v)", n, err)
}
