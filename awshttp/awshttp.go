// Package awshttp holds what kirikae puts between the AWS SDK and the network.
package awshttp

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// KeepRequestBody wraps an SDK HTTP client so that the SDK's closing of a request body
// cannot break the answer to that request.
//
// smithy-go closes the request body as soon as the client's Do returns, that is once the
// response headers are in. net/http's transport may still be reading that body then (after
// Content-Length bytes it reads once more, to check for the end); a read of a closed body is
// a write error, and on a write error the transport closes the connection, under the
// response body being read: "use of closed network connection" on a request AWS (or awssim)
// answered in full. Under load about one answer in 25 of a few kilobytes failed so
// (aws/aws-sdk-go-v2#2737). Buffering the body and handing the transport a copy whose Close
// does nothing removes the race; the standard retryer only hides it, by sending the request
// again.
func KeepRequestBody(c aws.HTTPClient) aws.HTTPClient {
	if c == nil {
		c = http.DefaultClient
	}
	return keepBody{c}
}

type keepBody struct{ c aws.HTTPClient }

// Do sends r with a body the SDK can no longer close under the transport.
func (k keepBody) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	return k.c.Do(r)
}
