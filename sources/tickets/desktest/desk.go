// Package desktest is what the ticket sources' tests share: the plumbing
// of the fake desks (jiratest, sntest) and the helpers the RT, Jira and
// ServiceNow tests use to build a source, read its tickets and benchmark
// its decoder.
//
// The fakes run in the demo too, so this package imports neither testing
// nor testify: the helpers take the few methods of testing.TB they call
// (TB, B) and fail a test with Fatalf.
package desktest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
)

// Desk is what every fake desk does before and after its own work: it
// counts requests by "METHOD path", answers the next n requests with 429
// and Retry-After when throttled, and drops the next n replies to writes
// when told to lose them. The zero Desk is ready; it is safe for
// concurrent use and has its own lock, apart from the fake's.
type Desk struct {
	mu         sync.Mutex
	requests   map[string]int
	throttle   int
	retryAfter string
	lose       int
}

// Serve starts a server, closed when t's cleanups run, that counts every
// request and hands it to next, or, while the desk is throttled, sets
// Retry-After and has tooMany write the desk's own 429 answer instead.
func (d *Desk) Serve(t interface{ Cleanup(func()) }, tooMany, next http.HandlerFunc) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if retryAfter, throttled := d.admit(r); throttled {
			w.Header().Set("Retry-After", retryAfter)
			tooMany(w, r)
			return
		}
		next(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// admit counts r and reports whether it is throttled, and the
// Retry-After to answer it with.
func (d *Desk) admit(r *http.Request) (retryAfter string, throttled bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.requests == nil {
		d.requests = map[string]int{}
	}
	d.requests[r.Method+" "+r.URL.Path]++
	if d.throttle > 0 {
		d.throttle--
		return d.retryAfter, true
	}
	return "", false
}

// Requests returns how many requests were made to "METHOD path".
func (d *Desk) Requests(key string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.requests[key]
}

// Throttle makes the next n requests answer 429 with Retry-After.
func (d *Desk) Throttle(n int, retryAfter string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.throttle, d.retryAfter = n, retryAfter
}

// LoseReplies makes the next n calls of LoseReply lose the reply.
func (d *Desk) LoseReplies(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lose = n
}

// LoseReply is called by a fake once it has made a write: when a reply
// is to be lost it cuts the connection without an answer, as when a
// reply is lost on the way back, and reports true; the fake then writes
// nothing more.
func (d *Desk) LoseReply(w http.ResponseWriter) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lose <= 0 {
		return false
	}
	d.lose--
	if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
		conn.Close()
	}
	return true
}

// WriteJSON answers with status code and v as JSON, as the desks do.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
