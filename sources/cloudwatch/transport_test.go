package cloudwatch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/sources"
	"sitroom/sources/cloudwatch/cwtest"
)

// pagedAlarms gives the env's server 230 metric alarms in ALARM: three
// DescribeAlarms pages of 100.
func pagedAlarms(e *env) {
	var metric []cwtest.MetricAlarm
	for i := range 230 {
		var a cwtest.MetricAlarm
		a.AlarmName = fmt.Sprintf("queue-%03d-depth", i)
		a.AlarmArn = "arn:aws:cloudwatch:eu-west-1:" + prodAccount + ":alarm:" + a.AlarmName
		a.StateValue = "ALARM"
		a.Namespace, a.MetricName = "AWS/SQS", "ApproximateNumberOfMessagesVisible"
		metric = append(metric, a)
	}
	e.srv.SetAlarms(prodAccount, "eu-west-1", metric, nil)
}

func describeCalls(e *env) []cwtest.Request {
	var out []cwtest.Request
	for _, r := range e.srv.Requests() {
		if r.Operation == "DescribeAlarms" {
			out = append(out, r)
		}
	}
	return out
}

// cutReply is an HTTP client whose cut-th DescribeAlarms reply loses its
// connection (reset by peer) after 100 bytes of the body.
type cutReply struct {
	hc  *http.Client
	n   atomic.Int32
	cut int32
}

func (c *cutReply) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err == nil && strings.HasSuffix(req.URL.Path, "/DescribeAlarms") && c.n.Add(1) == c.cut {
		resp.Body = &resetBody{rc: resp.Body}
	}
	return resp, err
}

type resetBody struct {
	rc   io.ReadCloser
	read int
}

func (b *resetBody) Read(p []byte) (int, error) {
	const before = 100
	if b.read >= before {
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	}
	if len(p) > before-b.read {
		p = p[:before-b.read]
	}
	n, err := b.rc.Read(p)
	b.read += n
	return n, err
}

func (b *resetBody) Close() error { return b.rc.Close() }

// A page the server has served (200) is never asked for again in the same
// poll, even when the reply is lost on the way: the SDK's retryer takes a
// connection reset for a network error and would send the call again.
func TestServedPageIsNotAskedAgain(t *testing.T) {
	e := newEnv(t)
	pagedAlarms(e)
	s := e.source(t, nil, Options{HTTPClient: &cutReply{hc: &http.Client{}, cut: 2}})
	_, err := s.Fetch(context.Background())
	var fe *sources.FetchError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, sources.KindNetwork, fe.Kind)
	assert.Equal(t, "connection reset by peer", fe.Msg)
	calls := describeCalls(e)
	require.Len(t, calls, 2, "page 2 was served once and is not asked again: %+v", calls)
	assert.Empty(t, calls[0].NextToken)
	assert.NotEmpty(t, calls[1].NextToken)

	// The next poll asks afresh, from the first page.
	e.srv.ResetRequests()
	alerts, err := s.Fetch(context.Background())
	require.NoError(t, err)
	assert.Len(t, alerts, 230)
	assert.Len(t, describeCalls(e), 3)
}

// bodyHold makes the race the SDK loses on a loaded machine happen every
// time. The first write that carries only a request body (its headers
// went out before it) reaches the server, then holds the writing goroutine
// of net/http until the SDK has the reply's headers, has closed the
// request body as it does once Do returns, and starts reading the reply's
// body. Only then may net/http go on: it reads the request body once more
// to check that it is at its end. Reading the reply waits until net/http
// is done with that connection, one way or the other. (A body net/http
// knows to be in memory goes out in one write with its headers, and
// nothing is held.)
type bodyHold struct {
	once    sync.Once
	held    atomic.Pointer[holdConn]
	release chan struct{}
}

type holdConn struct {
	net.Conn
	h         *bodyHold
	closed    chan struct{}
	closeOnce sync.Once
}

func (c *holdConn) Write(p []byte) (int, error) {
	body := !bytes.HasPrefix(p, []byte("POST ")) && !bytes.HasPrefix(p, []byte("GET "))
	hold := false
	if body {
		c.h.once.Do(func() { hold = true; c.h.held.Store(c) })
	}
	n, err := c.Conn.Write(p)
	if hold {
		select {
		case <-c.h.release:
		case <-time.After(10 * time.Second): // a bound, not a timing: nothing waits here when all is well
		}
	}
	return n, err
}

func (c *holdConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

type holdClient struct {
	h  *bodyHold
	hc aws.HTTPClient
}

func (c *holdClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err == nil {
		resp.Body = &heldReply{rc: resp.Body, h: c.h}
	}
	return resp, err
}

type heldReply struct {
	rc      io.ReadCloser
	h       *bodyHold
	started bool
}

func (b *heldReply) Read(p []byte) (int, error) {
	if !b.started {
		b.started = true
		if c := b.h.held.Load(); c != nil {
			close(b.h.release)
			select {
			case <-c.closed: // net/http gave up the connection
			case <-time.After(10 * time.Second): // or kept it
			}
			b.h.held.Store(nil)
		}
	}
	return b.rc.Read(p)
}

func (b *heldReply) Close() error { return b.rc.Close() }

// The SDK closes a request's body as soon as the reply's headers are in,
// while net/http may still be checking that body's end. That must not
// cost the connection the reply is being read from — it did, and the
// retry that followed asked the server for a page it had already served
// (TestPaginationAcrossPages saw 4 DescribeAlarms calls on a loaded
// machine).
func TestRequestBodyOutlivesTheSDKsClose(t *testing.T) {
	e := newEnv(t)
	pagedAlarms(e)
	h := &bodyHold{release: make(chan struct{})}
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		var d net.Dialer
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &holdConn{Conn: c, h: h, closed: make(chan struct{})}, nil
		}
	})
	s := e.source(t, nil, Options{HTTPClient: &holdClient{h: h, hc: hc}})
	alerts, err := s.Fetch(context.Background())
	require.NoError(t, err)
	assert.Len(t, alerts, 230)
	calls := describeCalls(e)
	require.Len(t, calls, 3, "each page asked once: %+v", calls)
	assert.Empty(t, calls[0].NextToken)
	assert.NotEqual(t, calls[1].NextToken, calls[2].NextToken)
}
