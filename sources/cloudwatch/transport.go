package cloudwatch

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// ownBodies wraps the HTTP client the SDK resolved for a service client
// so that every request goes out with a body of its own.
//
// The SDK closes the body it hands the HTTP client as soon as Do returns
// with the reply's headers; once closed, that body's WriteTo returns
// io.EOF as an error. net/http's writing goroutine sends a body of known
// length and then reads it once more to check that it is at its end; the
// server, having read the body, may have answered before that goroutine
// gets there, and on a loaded machine the SDK's close can come first. The
// write then "fails" with io.EOF, net/http closes the connection under the
// reply still being read ("use of closed network connection"), and the
// SDK's retryer, taking that for a network error, asks again for a page
// the server has already served. A body that only net/http holds, in
// memory, cannot be closed under it; net/http then also sends headers and
// body in one write.
func ownBodies(c aws.HTTPClient) aws.HTTPClient {
	if c == nil {
		return nil
	}
	return ownBodyClient{c}
}

type ownBodyClient struct{ next aws.HTTPClient }

// Do sends req with a copy of its body (a few hundred bytes for the calls
// sitroom makes). Bodies of unknown length (streams) go out as they are.
func (c ownBodyClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength <= 0 {
		return c.next.Do(req)
	}
	b, err := io.ReadAll(req.Body)
	// As http.Client.Do does, the caller's body is closed, even on errors.
	if cerr := req.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	r := req.WithContext(req.Context()) // a shallow copy: req stays the caller's
	r.Body = io.NopCloser(bytes.NewReader(b))
	// Lets net/http send it again on a fresh connection only where nothing
	// of it was written (a kept-alive connection the server had closed).
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return c.next.Do(r)
}

// answered reports whether the attempt that failed with err had a 2xx reply
// from the server: the failure came while reading or decoding it. Asking
// again would have the server serve the same page twice.
func answered(err error) bool {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil {
		return false
	}
	status := re.HTTPStatusCode()
	return status >= 200 && status <= 299
}
