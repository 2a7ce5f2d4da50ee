package awssim_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// signRequest signs req with SigV4 as an SDK client holding testCreds[0] would, for region
// and service, at the wall clock's time (the simulator checks skew against its wall clock,
// not its simulated one). body must be what req's Body will yield. The signature comes from
// the SDK's own signer, so it is valid whatever awssim's verifier believes; signing an
// already signed request replaces the signature (after changing its Host, say).
//
// S3 differs from the other services as its SDK client does: the payload hash travels in
// X-Amz-Content-Sha256 and the path is signed as sent, not escaped a second time.
func signRequest(t testing.TB, req *http.Request, body []byte, region, service string) {
	t.Helper()
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	var opts []func(*v4.SignerOptions)
	if service == "s3" {
		req.Header.Set("X-Amz-Content-Sha256", payload)
		opts = append(opts, func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	}
	key := testCreds[0]
	creds := aws.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey}
	if err := v4.NewSigner(opts...).SignHTTP(context.Background(), creds, req, payload, service, region, time.Now()); err != nil {
		t.Fatalf("sign %s %s: %v", req.Method, req.URL, err)
	}
}
