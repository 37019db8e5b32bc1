package cwtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A server that runs as long as a process (the demo's) keeps no record of
// the requests it answered once RecordRequests(false), and still answers.
func TestRecordRequestsOff(t *testing.T) {
	srv, url := serve(t)
	c := client(t, url, "eu-west-1", key, secret, nil)
	describe := func() {
		t.Helper()
		out, err := c.DescribeAlarms(context.Background(), &cw.DescribeAlarmsInput{})
		require.NoError(t, err)
		require.Len(t, out.MetricAlarms, 1)
	}
	describe()
	require.Len(t, srv.Requests(), 1)

	srv.RecordRequests(false)
	assert.Empty(t, srv.Requests(), "turning the record off forgets it")
	for range 3 {
		describe()
	}
	assert.Empty(t, srv.Requests(), "recording off")

	srv.RecordRequests(true)
	describe()
	reqs := srv.Requests()
	require.Len(t, reqs, 1, "recording back on")
	assert.Equal(t, "DescribeAlarms", reqs[0].Operation)
}

// firstByteWatch notes, as a reply starts, how many requests the server
// has recorded.
type firstByteWatch struct {
	rec   *httptest.ResponseRecorder
	srv   *Server
	seen  *[]int
	wrote bool
}

func (w *firstByteWatch) Header() http.Header { return w.rec.Header() }

func (w *firstByteWatch) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		*w.seen = append(*w.seen, len(w.srv.Requests()))
	}
	w.rec.WriteHeader(code)
}

func (w *firstByteWatch) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.rec.Write(b)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A request is in the record before any byte of its reply is written: a
// client that has read a reply, or only the start of one, finds it in
// Requests (it was recorded once the handler returned, which a client
// could outrun on a loaded machine).
func TestRecordedBeforeTheReply(t *testing.T) {
	srv, url := serve(t)
	var seen []int
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		w := &firstByteWatch{rec: httptest.NewRecorder(), srv: srv, seen: &seen}
		r.Host = r.URL.Host // as the server side sees it; the signature covers it
		srv.ServeHTTP(w, r)
		return w.rec.Result(), nil
	})}
	_, err := client(t, url, "eu-west-1", key, secret, hc).DescribeAlarms(context.Background(), &cw.DescribeAlarmsInput{})
	require.NoError(t, err)
	_, err = client(t, url, "eu-west-1", key, "wrong", hc).DescribeAlarms(context.Background(), &cw.DescribeAlarmsInput{})
	assert.Equal(t, "SignatureDoesNotMatch", code(err))
	assert.Equal(t, []int{1, 2}, seen, "each request recorded before its reply starts")
	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, 200, reqs[0].Status)
	assert.Equal(t, 400, reqs[1].Status)
}
