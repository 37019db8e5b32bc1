package sources

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"sitroom/model"
	"sitroom/model/cache"
)

// JSONSource is a Source that GETs one URL returning a JSON document and
// hands the bytes to a decoder. The Prometheus and Alertmanager sources are
// JSONSources with their own decoders.
//
// Fetch is meant to be called from one goroutine at a time; concurrent
// calls are safe but run one after the other. Between polls the source
// keeps its read buffer (the last reply; for an API read as it arrives,
// a chunk or the largest alert object), and its decoder may keep the
// alerts of the last reply to reuse where they did not change, so the
// maps and slices of the alerts Fetch returns are shared from poll to
// poll and must not be modified.
type JSONSource struct {
	name, typ, url string
	client         *http.Client
	maxBytes       int64
	decode         func([]byte) ([]model.Alert, error)
	stream         func(io.Reader, *[]byte) ([]model.Alert, error) // nil: decode the whole reply
	mapErr         func(error) error
	statusURL      string                               // see AlertAPI.StatusPath; "" for none
	started        func([]byte) (time.Time, error)      // reads the start time from the status
	forget         func()                               // drops the decoder's memo; nil if none
	checkReplies   func(func() map[cache.Digest]string) // see ReplyChecker; nil if the decoder cannot
	replyDigests   func() ([]byte, []string, []byte)

	mu  sync.Mutex // held for a whole Fetch; guards buf and the decoder
	buf []byte
}

var _ Source = (*JSONSource)(nil)

// NewJSONSource returns the source called name, of type typ, polling url
// with client (http.DefaultClient when nil). decode turns a whole reply into
// alerts; mapErr, when not nil, may turn a failed fetch into a clearer error
// (for example by reading the upstream's own error object in the body).
func NewJSONSource(name, typ, url string, client *http.Client, decode func([]byte) ([]model.Alert, error), mapErr func(error) error) *JSONSource {
	if client == nil {
		client = http.DefaultClient
	}
	return &JSONSource{name: name, typ: typ, url: url, client: client, decode: decode, mapErr: mapErr}
}

// Name is the configured source name.
func (s *JSONSource) Name() string { return s.name }

// Type is the source type, e.g. "prometheus".
func (s *JSONSource) Type() string { return s.typ }

// RequestBounded marks a JSONSource as RequestBounded: every request it
// makes goes through Do, each bounded by the poll's request timeout.
func (s *JSONSource) RequestBounded() {}

// SetMaxBytes caps the size of a reply (DefaultMaxBytes when n <= 0).
// Call it before the first Fetch.
func (s *JSONSource) SetMaxBytes(n int64) { s.maxBytes = n }

// Uptime is how long the upstream has been running, read from its status
// (see AlertAPI.StatusPath); ErrNoUptime when its API has none.
func (s *JSONSource) Uptime(ctx context.Context) (time.Duration, error) {
	if s.statusURL == "" {
		return 0, ErrNoUptime
	}
	return Uptime(ctx, s.client, s.statusURL, s.started)
}

// OneShot tells the source that its next reply is its last: its decoder
// keeps no memo of it (see Poller.OneShot).
func (s *JSONSource) OneShot() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.forget != nil {
		s.forget()
	}
}

var _ ReplyChecker = (*JSONSource)(nil)

// CheckReplies makes each Fetch digest the alerts of its reply and decode
// only those whose digest is not in the map stored returns (see
// ReplyChecker), for a source whose decoder can (an API read element by
// element, after OneShot); a no-op for the others. Call it before the
// first Fetch.
func (s *JSONSource) CheckReplies(stored func() map[cache.Digest]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.checkReplies != nil {
		s.checkReplies(stored)
	}
}

// ReplyDigests is what the last Fetch found (see ReplyChecker).
func (s *JSONSource) ReplyDigests() (digests []byte, kept []string, keptDigests []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.replyDigests == nil {
		return nil, nil, nil
	}
	return s.replyDigests()
}

// Fetch polls the URL once. Errors are *FetchError.
func (s *JSONSource) Fetch(ctx context.Context) ([]model.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var alerts []model.Alert
	replied, _ := ctx.Value(replyStartedKey{}).(func())
	err := GetJSON(ctx, s.client, s.url, s.maxBytes, func(r io.Reader) error {
		if replied != nil {
			replied()
		}
		var err error
		if s.stream != nil {
			alerts, err = s.stream(r, &s.buf)
			return err
		}
		if s.buf, err = ReadAll(s.buf, r); err != nil {
			return err
		}
		alerts, err = s.decode(s.buf)
		return err
	})
	if err != nil {
		if s.mapErr != nil {
			return nil, s.mapErr(err)
		}
		return nil, err
	}
	return alerts, nil
}

// replyStartedKey keys the function withReplyStarted puts in a context.
type replyStartedKey struct{}

// withReplyStarted returns ctx carrying f, which a JSONSource's Fetch
// under it calls once its reply's headers have arrived with a 2xx status,
// before reading the body. The poller starts a source's health read then:
// not while the upstream is still building the alerts reply (an
// Alertmanager builds all of it before its first byte), nor only after
// the body is decoded, so the read overlaps the decoding and the write.
func withReplyStarted(ctx context.Context, f func()) context.Context {
	return context.WithValue(ctx, replyStartedKey{}, f)
}

// replyNotifier is implemented by sources whose Fetch calls the function
// of withReplyStarted: JSONSource and the sources built on it.
type replyNotifier interface{ notifiesReply() }

func (s *JSONSource) notifiesReply() {}
