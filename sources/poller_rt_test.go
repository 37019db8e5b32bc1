package sources_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pconfig "github.com/prometheus/common/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
	"sitroom/sources/sourcetest"
	"sitroom/sources/tickets"
	"sitroom/sources/tickets/rt"
)

// rtProxy stands on a fixed loopback address in front of a real RT: it
// holds each reply until delay has passed since the request came in, and
// can be stopped (connections refused, as from an RT that is down) and
// started again on the same address.
type rtProxy struct {
	t        *testing.T
	upstream string
	addr     string
	delay    atomic.Int64 // time.Duration
	requests atomic.Int64

	mu  sync.Mutex
	srv *http.Server
}

func startRTProxy(t *testing.T, upstream string) *rtProxy {
	t.Helper()
	p := &rtProxy{t: t, upstream: upstream}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.stop)
	return p
}

func (p *rtProxy) URL() string { return "http://" + p.addr }

func (p *rtProxy) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(p.handle)}
	p.mu.Lock()
	p.srv = srv
	p.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// stop closes the listener and every connection: RT is unreachable.
func (p *rtProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		_ = p.srv.Close()
		p.srv = nil
	}
}

// start listens again on the same address.
func (p *rtProxy) start() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(p.t, err)
	p.serve(ln)
}

func (p *rtProxy) handle(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	until := time.Now().Add(time.Duration(p.delay.Load()))
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.upstream+r.URL.RequestURI(), r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	select {
	case <-time.After(time.Until(until)):
	case <-r.Context().Done():
		return
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, bytes.NewReader(body))
}

func rtSource(t *testing.T, srv *sourcetest.RTServer, url string) *rt.Source {
	t.Helper()
	c, err := sources.NewHTTPClient(pconfig.HTTPClientConfig{
		Authorization: &pconfig.Authorization{Type: "token", Credentials: pconfig.Secret(srv.Token)},
	}, "rt-noc")
	require.NoError(t, err)
	// One ticket a page: a poll is several requests.
	s, err := rt.New(rt.Options{Common: tickets.Common{Name: "rt-noc", URL: url, Client: c, PageSize: 1},
		Tier1: []string{"NOC"}, Tier2: []string{"NOC-T2"}})
	require.NoError(t, err)
	return s
}

func status(t *testing.T, p *sources.Poller) *model.SourceStatus {
	t.Helper()
	snap, err := p.Snapshot()
	require.NoError(t, err)
	require.Len(t, snap.Sources, 1)
	return &snap.Sources[0]
}

// The timeout bounds each request, not the poll: RT answering every
// request in 60 % of the timeout is ok however many requests a poll
// makes, with the poll's time in its status; one request slower than the
// timeout is not.
func TestRTSlowWithinTimeoutIsOK(t *testing.T) {
	srv := sourcetest.StartRT(t)
	for _, subject := range []string{"edge-2 BGP down", "payments 5xx", "disk full"} {
		srv.CreateTicket(t, "NOC", subject, 50, "")
	}
	proxy := startRTProxy(t, srv.URL)
	const timeout = 2 * time.Second
	proxy.delay.Store(int64(timeout * 6 / 10))
	c := openCache(t, filepath.Join(t.TempDir(), "cache.db"))
	p := sources.NewPoller(c, []sources.Job{{Tickets: rtSource(t, srv, proxy.URL()), Interval: 20 * time.Second, Timeout: timeout}},
		sources.PollerOptions{})

	for _, poll := range []string{"full", "incremental"} {
		before := proxy.requests.Load()
		require.NoError(t, p.PollOnce(context.Background()), "%s poll", poll)
		st := status(t, p)
		assert.Equal(t, model.HealthOK, st.Health(), "%s poll: %s", poll, st.LastError)
		made := proxy.requests.Load() - before
		assert.GreaterOrEqual(t, made, int64(2), "%s poll: a poll of several requests", poll)
		assert.Greater(t, st.Latency, timeout, "%s poll: %d requests of 1.2s each took longer than one timeout, and the status says how long", poll, made)
	}
	snap, err := p.Snapshot()
	require.NoError(t, err)
	assert.Len(t, snap.Tickets, 3)

	proxy.delay.Store(int64(timeout * 3 / 2))
	err = p.PollOnce(context.Background())
	require.Error(t, err, "a request slower than the timeout fails the poll")
	var fe *sources.FetchError
	require.True(t, errors.As(err, &fe), "%v", err)
	assert.Equal(t, sources.KindTimeout, fe.Kind)
	assert.Contains(t, err.Error(), "timed out after 2s")
	assert.Equal(t, model.HealthDown, status(t, p).Health())
}

// RT stopped, failing poll after poll, then started again shows up again
// within one interval: failures are retried every interval, not backed
// off past a recovery.
func TestRTRecoveryShowsWithinOneInterval(t *testing.T) {
	srv := sourcetest.StartRT(t)
	srv.CreateTicket(t, "NOC", "edge-2 BGP down", 50, "")
	proxy := startRTProxy(t, srv.URL)
	const interval = 2 * time.Second
	c := openCache(t, filepath.Join(t.TempDir(), "cache.db"))
	p := sources.NewPoller(c, []sources.Job{{Tickets: rtSource(t, srv, proxy.URL()), Interval: interval, Timeout: interval}},
		sources.PollerOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	require.Eventually(t, func() bool { return status(t, p).Health() == model.HealthOK }, 30*time.Second, 50*time.Millisecond,
		"RT polled")
	proxy.stop()
	// Three failed polls in a row: a back-off doubling per failure would
	// now wait 8 intervals.
	var attempts []time.Time
	require.Eventually(t, func() bool {
		st := status(t, p)
		if st.Health() == model.HealthDown && (len(attempts) == 0 || st.LastAttempt.After(attempts[len(attempts)-1])) {
			attempts = append(attempts, st.LastAttempt)
		}
		return len(attempts) >= 3
	}, 60*time.Second, 20*time.Millisecond, "RT down, polled again and again")
	assert.Contains(t, status(t, p).LastError, "connection refused")
	for i := 1; i < len(attempts); i++ {
		assert.Less(t, attempts[i].Sub(attempts[i-1]), interval*3/2, "a down source is retried every interval")
	}

	proxy.start()
	back := time.Now()
	// One interval (+10 % jitter) and the poll itself, with slack for a
	// loaded machine; a doubling back-off would take 16 s.
	require.Eventually(t, func() bool { return status(t, p).Health() == model.HealthOK }, interval+4*time.Second, 50*time.Millisecond,
		"RT back: seen within one interval")
	t.Logf("RT back, seen after %s (interval %s)", time.Since(back).Round(10*time.Millisecond), interval)
}
