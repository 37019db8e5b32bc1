package sources

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/bits"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	pconfig "github.com/prometheus/common/config"

	"sitroom/model"
)

// UserAgent is sent with every request to an upstream.
const UserAgent = "sitroom"

// DefaultMaxBytes caps a reply body when GetJSON is given no limit.
const DefaultMaxBytes int64 = 256 << 20

// snippetMax is the longest piece of an upstream's error body shown to a
// person, in bytes.
const snippetMax = 120

// errorBodyMax is how much of a non-2xx reply is read for FetchError.Body.
const errorBodyMax = 4 << 10

// NewHTTPClient validates cfg and builds the client for the source called
// name from it: authentication, TLS, proxy and extra headers all come from
// prometheus/common's config. The client has no overall timeout; every call
// is bounded by its context. Errors describe what is wrong with the
// configuration and never contain a secret value.
func NewHTTPClient(cfg pconfig.HTTPClientConfig, name string) (*http.Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("source %q: http config: %w", name, err)
	}
	c, err := pconfig.NewClientFromConfig(cfg, name, pconfig.WithUserAgent(UserAgent))
	if err != nil {
		return nil, fmt.Errorf("source %q: http config: %w", name, err)
	}
	return c, nil
}

// FetchErrorKind classifies a FetchError.
type FetchErrorKind string

// The kinds of FetchError.
const (
	KindRefused   FetchErrorKind = "refused"   // nothing listens at the address
	KindDNS       FetchErrorKind = "dns"       // the host name does not resolve
	KindTLS       FetchErrorKind = "tls"       // handshake or certificate failure
	KindTimeout   FetchErrorKind = "timeout"   // the deadline passed
	KindCanceled  FetchErrorKind = "canceled"  // the caller cancelled the request
	KindNetwork   FetchErrorKind = "network"   // any other transport failure
	KindHTTP      FetchErrorKind = "http"      // a non-2xx status
	KindHTML      FetchErrorKind = "html"      // an HTML page where JSON was expected
	KindMalformed FetchErrorKind = "malformed" // the body is not the JSON expected
	KindTruncated FetchErrorKind = "truncated" // the body ended early
	KindTooLarge  FetchErrorKind = "too-large" // the body exceeds the size cap
	KindAPI       FetchErrorKind = "api"       // the upstream answered with an error object
	KindRequest   FetchErrorKind = "request"   // the request could not be built (bad URL)
	// KindThrottled: the upstream is rate-limiting us (HTTP 429, or a
	// vendor's throttling error). Its message starts with
	// model.ThrottledPrefix so the source chip reads "throttled".
	KindThrottled FetchErrorKind = "throttled"
)

// FetchError is a failed fetch, described in a few words a person can act
// on. Msg never holds more than a short, sanitized piece of what the
// upstream sent.
type FetchError struct {
	Kind FetchErrorKind
	// Msg is the human description, e.g. "connection refused" or
	// "HTTP 503 Service Unavailable: overloaded".
	Msg string
	// Status is the HTTP status code for KindHTTP and KindAPI, else 0.
	Status int
	// Body is the start (at most 4 KiB) of a non-2xx reply's body, raw and
	// untrusted, so a source can decode an API-specific error object from
	// it. Never show it as it is.
	Body []byte
	// Err is the underlying error, if any. Its text may be longer and less
	// friendly than Msg; it is kept for errors.Is/As.
	Err error
}

// Error returns Msg.
func (e *FetchError) Error() string { return e.Msg }

// Unwrap returns the underlying error.
func (e *FetchError) Unwrap() error { return e.Err }

// Permanent reports whether sending the same request again cannot help: it
// could not be built, or the upstream refused it with a 4xx other than 401
// (credentials can be fixed), 408 and 429 (later may pass). The action
// outbox gives up on a permanent failure and retries any other.
func (e *FetchError) Permanent() bool {
	switch {
	case e.Kind == KindRequest:
		return true
	case e.Status < 400 || e.Status > 499:
		return false
	}
	switch e.Status {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return true
}

// GetJSON fetches url with c and hands the body to decode: Do with GET
// and no request body.
//
// It sends Accept: application/json and the sitroom User-Agent, reads at
// most maxBytes of body (DefaultMaxBytes when maxBytes <= 0), and turns
// every failure into a *FetchError: transport failures (refused, DNS, TLS,
// timeout), non-2xx statuses (with a short sanitized snippet of the body),
// HTML where JSON was expected, and decode failures (malformed, truncated,
// too large). decode is called at most once, on the caller's goroutine,
// with a reader that is valid only until it returns; any error it returns
// that is not already a *FetchError is reported as a malformed reply.
func GetJSON(ctx context.Context, c *http.Client, url string, maxBytes int64, decode func(io.Reader) error) error {
	return Do(ctx, c, http.MethodGet, url, "", nil, maxBytes, decode)
}

// Do makes one request (body, of type contentType, may be nil) and hands a
// 2xx reply's body to decode, with every failure described as GetJSON
// describes it. decode may be nil for a write whose reply does not matter:
// then the body is not read and an HTML reply is not an error.
func Do(ctx context.Context, c *http.Client, method, url, contentType string, body io.Reader, maxBytes int64, decode func(io.Reader) error) error {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return &FetchError{Kind: KindRequest, Msg: "bad URL: " + Sanitize(errors.Unwrap(err), snippetMax), Err: err}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	_, err = DoRequest(c, req, maxBytes, decode)
	return err
}

// DoRequest sends req, built by the caller with its own headers, and
// treats the reply as Do does. It sets Accept (unless req has one) and
// the User-Agent, and returns the status of a 2xx reply.
func DoRequest(c *http.Client, req *http.Request, maxBytes int64, decode func(io.Reader) error) (int, error) {
	var dec func(http.Header, io.Reader) error
	if decode != nil {
		dec = func(_ http.Header, r io.Reader) error { return decode(r) }
	}
	return doRequest(c, req, maxBytes, dec)
}

// requestTimeoutKey keys the per-request timeout in a context.
type requestTimeoutKey struct{}

// WithRequestTimeout returns ctx carrying d as the bound of each request
// made under it through Do, DoRequest and GetJSON: every request gets its
// own d (sooner if ctx's own deadline comes first), so a poll of several
// requests is bounded by ctx, and each of them by d. d <= 0 sets none.
func WithRequestTimeout(ctx context.Context, d time.Duration) context.Context {
	if d <= 0 {
		return ctx
	}
	return context.WithValue(ctx, requestTimeoutKey{}, d)
}

// RequestTimeout is the per-request timeout ctx carries
// (WithRequestTimeout), or 0 when it carries none.
func RequestTimeout(ctx context.Context) time.Duration {
	d, _ := ctx.Value(requestTimeoutKey{}).(time.Duration)
	return d
}

// doRequest is DoRequest with the reply's headers handed to decode too.
func doRequest(c *http.Client, req *http.Request, maxBytes int64, decode func(http.Header, io.Reader) error) (int, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if d := RequestTimeout(req.Context()); d > 0 {
		// Runs after the body is drained and closed (deferred first).
		rctx, cancel := context.WithTimeout(req.Context(), d)
		defer cancel()
		req = req.WithContext(rctx)
	}
	ctx := req.Context()
	start := time.Now()
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("User-Agent", UserAgent)
	resp, err := c.Do(req)
	if err != nil {
		return 0, transportError(ctx, c, start, err)
	}
	defer func() {
		// Drain a little so the connection can be reused, then close.
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
		_ = resp.Body.Close()
	}()

	html := isHTML(resp.Header.Get("Content-Type"))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyMax))
		return 0, statusError(resp, body, html)
	}
	if decode == nil {
		return resp.StatusCode, nil
	}
	if html {
		return 0, &FetchError{Kind: KindHTML, Msg: "HTML page instead of JSON (is the URL right?)"}
	}

	lr := &limitedReader{r: resp.Body, left: maxBytes}
	err = decode(resp.Header, lr)
	switch {
	case lr.exceeded:
		return 0, &FetchError{Kind: KindTooLarge, Msg: fmt.Sprintf("reply larger than %s", formatMiB(maxBytes)), Err: err}
	case err == nil:
		return resp.StatusCode, nil
	}
	var fe *FetchError
	if errors.As(err, &fe) {
		return 0, fe
	}
	if lr.readErr != nil && !errors.Is(lr.readErr, io.EOF) {
		// The connection failed while the body was being read.
		if errors.Is(lr.readErr, io.ErrUnexpectedEOF) {
			return 0, &FetchError{Kind: KindTruncated, Msg: "truncated reply", Err: lr.readErr}
		}
		return 0, transportError(ctx, c, start, lr.readErr)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || (errors.Is(err, io.EOF) && lr.n > 0) {
		return 0, &FetchError{Kind: KindTruncated, Msg: "truncated reply", Err: err}
	}
	if errors.Is(err, io.EOF) {
		return 0, &FetchError{Kind: KindMalformed, Msg: "malformed reply: empty body", Err: err}
	}
	return 0, &FetchError{Kind: KindMalformed, Msg: "malformed reply: " + Sanitize(err.Error(), 200), Err: err}
}

// statusError describes a non-2xx reply: its status, a short sanitized
// snippet of the body (none for an HTML page), HTTP 429 as throttled with
// its Retry-After. Body keeps the raw start of the reply so a caller can
// read an API's own error object.
func statusError(resp *http.Response, body []byte, html bool) *FetchError {
	msg := "HTTP " + resp.Status
	if resp.Status == "" {
		msg = fmt.Sprintf("HTTP %d", resp.StatusCode)
	} else if !strings.HasPrefix(resp.Status, fmt.Sprint(resp.StatusCode)) {
		msg = fmt.Sprintf("HTTP %d %s", resp.StatusCode, resp.Status)
	}
	msg = strings.TrimSpace(msg)
	if html {
		msg += " (HTML page)"
	} else if s := Sanitize(string(body), snippetMax); s != "" {
		msg += ": " + s
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			msg += " (retry after " + Sanitize(ra, 32) + ")"
		}
		return &FetchError{Kind: KindThrottled, Msg: model.ThrottledPrefix + ": " + msg, Status: resp.StatusCode, Body: body}
	}
	return &FetchError{Kind: KindHTTP, Msg: msg, Status: resp.StatusCode, Body: body}
}

// MalformedError returns a *FetchError of KindMalformed with the message
// "malformed reply: <what>"; decoders use it for replies of the wrong shape.
func MalformedError(what string) *FetchError {
	return &FetchError{Kind: KindMalformed, Msg: "malformed reply: " + what}
}

func formatMiB(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return model.Plural(int(n), "byte", "bytes")
}

func isHTML(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "text/html")
	}
	return mt == "text/html" || mt == "application/xhtml+xml"
}

// limitedReader reads at most left bytes and records whether the body had
// more, and the first read error of the underlying reader.
type limitedReader struct {
	r        io.Reader
	left     int64
	n        int64
	exceeded bool
	readErr  error
}

var errTooLarge = errors.New("reply too large")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.exceeded {
		return 0, errTooLarge
	}
	if l.left <= 0 {
		// Probe for one more byte to tell "exactly at the limit" from "over".
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			l.exceeded = true
			return 0, errTooLarge
		}
		if err == nil {
			return 0, nil
		}
		if !errors.Is(err, io.EOF) && l.readErr == nil {
			l.readErr = err
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	l.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && l.readErr == nil {
		l.readErr = err
	}
	return n, err
}

// transportError describes a failure to get a response (or to read its
// body) in a few words.
func transportError(ctx context.Context, c *http.Client, start time.Time, err error) *FetchError {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return &FetchError{Kind: KindTimeout, Msg: "timed out after " + deadlineText(ctx, start), Err: err}
		}
		return &FetchError{Kind: KindCanceled, Msg: "canceled", Err: err}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		host := Sanitize(dnsErr.Name, 80)
		msg := "DNS lookup of " + host + " failed"
		if dnsErr.IsNotFound {
			msg = "DNS lookup of " + host + " failed: no such host"
		}
		if dnsErr.IsTimeout {
			return &FetchError{Kind: KindTimeout, Msg: msg + ": timed out", Err: err}
		}
		return &FetchError{Kind: KindDNS, Msg: msg, Err: err}
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return &FetchError{Kind: KindRefused, Msg: "connection refused", Err: err}
	}
	if msg, ok := tlsReason(err); ok {
		return &FetchError{Kind: KindTLS, Msg: "TLS: " + msg, Err: err}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		d := c.Timeout
		if d <= 0 {
			d = time.Since(start)
		}
		return &FetchError{Kind: KindTimeout, Msg: "timed out after " + roundDuration(d), Err: err}
	}
	if errors.Is(err, syscall.ECONNRESET) {
		return &FetchError{Kind: KindNetwork, Msg: "connection reset by peer", Err: err}
	}
	if errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return &FetchError{Kind: KindNetwork, Msg: "host unreachable", Err: err}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &FetchError{Kind: KindNetwork, Msg: "connection closed by server", Err: err}
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	return &FetchError{Kind: KindNetwork, Msg: Sanitize(err.Error(), 200), Err: err}
}

func tlsReason(err error) (string, bool) {
	var (
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalid     x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
		alertErr    tls.AlertError
		verifyErr   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknownAuth):
		return "certificate signed by unknown authority", true
	case errors.As(err, &hostErr):
		return Sanitize(hostErr.Error(), 200), true
	case errors.As(err, &invalid):
		return Sanitize(invalid.Error(), 200), true
	case errors.As(err, &recordErr):
		return "server does not speak TLS (is the URL http://?)", true
	case errors.As(err, &alertErr):
		return Sanitize(alertErr.Error(), 200), true
	case errors.As(err, &verifyErr):
		return Sanitize(verifyErr.Err.Error(), 200), true
	}
	if s := err.Error(); strings.Contains(s, "tls: ") {
		i := strings.Index(s, "tls: ")
		return Sanitize(s[i+len("tls: "):], 200), true
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return "server gave an HTTP response to an HTTPS request (is the URL https://?)", true
	}
	return "", false
}

func deadlineText(ctx context.Context, start time.Time) string {
	// The deadline may have passed before the request started (a poll
	// slowed down upstream of the fetch): then say how long it did wait.
	if dl, ok := ctx.Deadline(); ok && dl.After(start) {
		return roundDuration(dl.Sub(start))
	}
	return roundDuration(time.Since(start))
}

func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= 100*time.Millisecond:
		// A deadline measured from just after it was set (499.7ms of a
		// 500ms timeout) reads as the timeout that was configured.
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.String()
}

// Sanitize makes untrusted text safe to show in one line: invalid UTF-8
// becomes U+FFFD, control, format (bidi) and other non-printing characters
// are dropped, runs of whitespace become one space, and the result is cut
// to at most max bytes on a rune boundary, with "…" marking the cut. v may
// be a string, []byte or error; nil gives "".
func Sanitize(v any, max int) string {
	var s string
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		s = x
	case []byte:
		s = string(x)
	case error:
		s = x.Error()
	default:
		s = fmt.Sprint(x)
	}
	var b strings.Builder
	b.Grow(min(len(s), max+4))
	space := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			// invalid byte or a literal U+FFFD: kept, visible and inert
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), !unicode.IsPrint(r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		if b.Len() > max {
			break
		}
	}
	out := b.String()
	if len(out) <= max {
		return out
	}
	const ellipsis = "…"
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(out[cut]) {
		cut--
	}
	if cut < 0 {
		cut = 0
	}
	return strings.TrimSpace(out[:cut]) + ellipsis
}

// ReadAll reads r to the end into dst[:0], growing it as needed, and
// returns the filled slice. Passing the previous result back in as dst
// reuses its memory from poll to poll.
func ReadAll(dst []byte, r io.Reader) ([]byte, error) {
	b := dst[:0]
	if cap(b) < 64<<10 {
		b = make([]byte, 0, 64<<10)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if errors.Is(err, io.EOF) {
				return b, nil
			}
			return b, err
		}
	}
}

// JSONScanner decodes the JSON replies of alert APIs straight from the
// bytes, without reflection: the shape of those replies is fixed and a
// poll of 10k alerts must decode in a few tens of milliseconds. It checks
// the syntax of everything it reads or skips, accepts duplicate object
// names (the last wins) and replaces invalid UTF-8 inside strings with
// U+FFFD, so one odd alert does not fail a whole poll. Short strings that
// repeat from alert to alert (label names, severities, alert names) are
// shared through a small cache instead of allocated each time.
//
// A JSONScanner is not safe for concurrent use; a source keeps one and
// uses it from its polling goroutine. Strings it returns never alias the
// input.
type JSONScanner struct {
	data    []byte
	pos     int
	base    int // offset in the reply of data[0], for errors (DecodeStream)
	depth   int
	strBuf  []byte
	nameBuf []byte
	pairs   []string
	seed    maphash.Seed
	cache   []string

	skipMember func([]byte) error // made once: a method value allocates
	skipElem   func() error
}

const (
	internSlots  = 4096 // a power of two
	internMaxLen = 48
	maxDepth     = 512
)

// NewJSONScanner returns a scanner ready for Reset.
func NewJSONScanner() *JSONScanner {
	return &JSONScanner{seed: maphash.MakeSeed(), cache: make([]string, internSlots)}
}

// Reset starts scanning data. The scanner keeps no reference to data
// once the decode that follows is done.
func (s *JSONScanner) Reset(data []byte) {
	s.data, s.pos, s.base, s.depth = data, 0, 0, 0
}

func (s *JSONScanner) ws() { s.pos = skipSpace(s.data, s.pos) }

// skipSpace returns the index of the first byte of b at or after i that
// is not JSON whitespace, len(b) if none.
func skipSpace(b []byte, i int) int {
	for ; i < len(b); i++ {
		switch b[i] {
		case ' ', '\n', '\r', '\t':
		default:
			return i
		}
	}
	return i
}

// Peek returns the first byte of the next value (after whitespace), or 0
// at the end of the input.
func (s *JSONScanner) Peek() byte {
	if s.pos < len(s.data) && s.data[s.pos] > ' ' {
		return s.data[s.pos]
	}
	s.ws()
	if s.pos >= len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

func (s *JSONScanner) errAt(what, msg string) error {
	if s.pos >= len(s.data) {
		return &FetchError{Kind: KindTruncated, Msg: "truncated reply", Err: io.ErrUnexpectedEOF}
	}
	if what != "" {
		msg = what + ": " + msg
	}
	return MalformedError(fmt.Sprintf("%s at byte %d", msg, s.base+s.pos))
}

func (s *JSONScanner) expect(c byte, what string) error {
	if s.Peek() != c {
		return s.errAt(what, fmt.Sprintf("expected %q, found %s", c, s.found()))
	}
	s.pos++
	return nil
}

func (s *JSONScanner) found() string {
	if s.pos >= len(s.data) {
		return "end of reply"
	}
	switch c := s.data[s.pos]; c {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case '}', ']', ',', ':':
		return fmt.Sprintf("%q", c)
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return "number"
		}
		return fmt.Sprintf("byte %q", c)
	}
}

// null consumes a null literal if one is next.
func (s *JSONScanner) null() (bool, error) {
	if s.Peek() != 'n' {
		return false, nil
	}
	if !bytes.HasPrefix(s.data[s.pos:], []byte("null")) {
		return false, s.errAt("", "invalid literal")
	}
	s.pos += 4
	return true, nil
}

// Object reads an object, calling member for each member with its name
// (valid only during the call); member must consume the value. null reads
// as an absent object: present is false and member is not called.
func (s *JSONScanner) Object(what string, member func(name []byte) error) (present bool, err error) {
	if isNull, err := s.null(); isNull || err != nil {
		return false, err
	}
	if err := s.expect('{', what); err != nil {
		return false, err
	}
	if s.depth++; s.depth > maxDepth {
		return false, s.errAt(what, "nested too deep")
	}
	if s.Peek() == '}' {
		s.pos++
		s.depth--
		return true, nil
	}
	for {
		name, err := s.name(what)
		if err != nil {
			return false, err
		}
		if err := member(name); err != nil {
			return false, err
		}
		switch s.Peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.depth--
			return true, nil
		default:
			return false, s.errAt(what, "expected ',' or '}', found "+s.found())
		}
	}
}

// Array reads an array, calling elem for each element; elem must consume
// it. null reads as an absent array.
func (s *JSONScanner) Array(what string, elem func() error) (present bool, err error) {
	if isNull, err := s.null(); isNull || err != nil {
		return false, err
	}
	if err := s.expect('[', what); err != nil {
		return false, err
	}
	if s.depth++; s.depth > maxDepth {
		return false, s.errAt(what, "nested too deep")
	}
	if s.Peek() == ']' {
		s.pos++
		s.depth--
		return true, nil
	}
	for {
		if err := elem(); err != nil {
			return false, err
		}
		switch s.Peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.depth--
			return true, nil
		default:
			return false, s.errAt(what, "expected ',' or ']', found "+s.found())
		}
	}
}

func (s *JSONScanner) name(what string) ([]byte, error) {
	if s.Peek() != '"' {
		return nil, s.errAt(what, "expected a member name, found "+s.found())
	}
	b, err := s.rawString(&s.nameBuf)
	if err != nil {
		return nil, err
	}
	if err := s.expect(':', what); err != nil {
		return nil, err
	}
	return b, nil
}

// rawString reads a string at s.pos and returns its content, a view of
// the input when it has no escapes, else unquoted into *buf.
func (s *JSONScanner) rawString(buf *[]byte) ([]byte, error) {
	start := s.pos
	d := s.data
	i := plainRun(d, start+1)
	if i < len(d) && d[i] == '"' {
		s.pos = i + 1
		return d[start+1 : i], nil
	}
	// Slow path: escapes (or an error).
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			raw := d[start : i+1]
			s.pos = i + 1
			if !utf8.Valid(raw) {
				raw = []byte(strings.ToValidUTF8(string(raw), "\uFFFD"))
			}
			out, err := jsontext.AppendUnquote((*buf)[:0], raw)
			*buf = out
			if err != nil {
				s.pos = start
				return nil, s.errAt("", "invalid string escape")
			}
			return out, nil
		case c == '\\':
			i += 2
		case c < 0x20:
			s.pos = i
			return nil, s.errAt("", "control character in string")
		default:
			i++
		}
	}
	s.pos = len(d)
	return nil, s.errAt("", "unterminated string")
}

// skipString checks the string at s.pos and moves past it without
// unquoting it. It accepts exactly what rawString accepts: the common
// escapes are checked here, anything else (surrogate pairs, errors) goes
// through rawString.
func (s *JSONScanner) skipString() error {
	d := s.data
	i := s.pos + 1
	for {
		i = plainRun(d, i)
		if i >= len(d) {
			break
		}
		if d[i] == '"' {
			s.pos = i + 1
			return nil
		}
		if d[i] != '\\' {
			break
		}
		n := simpleEscape(d, i)
		if n == 0 {
			break
		}
		i += n
	}
	_, err := s.rawString(&s.strBuf)
	return err
}

// simpleEscape returns the length of the escape sequence at d[i] (a
// backslash) if it is one that needs no further context to be valid: a
// one-character escape or a \uXXXX outside the surrogate range; else 0.
func simpleEscape(d []byte, i int) int {
	if i+1 >= len(d) {
		return 0
	}
	switch d[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if i+6 > len(d) {
			return 0
		}
		var r rune
		for _, c := range d[i+2 : i+6] {
			switch {
			case c >= '0' && c <= '9':
				r = r<<4 | rune(c-'0')
			case c >= 'a' && c <= 'f':
				r = r<<4 | rune(c-'a'+10)
			case c >= 'A' && c <= 'F':
				r = r<<4 | rune(c-'A'+10)
			default:
				return 0
			}
		}
		if r >= 0xd800 && r <= 0xdfff {
			return 0
		}
		return 6
	}
	return 0
}

// plainRun returns the index of the first byte at or after i that ends a
// run of plain string content: a quote, a backslash or a control
// character; len(d) if there is none. It tests eight bytes at a time.
func plainRun(d []byte, i int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(d); i += 8 {
		x := binary.LittleEndian.Uint64(d[i:])
		q := x ^ (lo * '"')
		b := x ^ (lo * '\\')
		// Each term flags the bytes equal to 0 (q, b) or below 0x20 (x);
		// the lowest flag is exact, those above it may not be.
		m := ((q - lo) &^ q) | ((b - lo) &^ b) | ((x - lo*0x20) &^ x)
		if m &= hi; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(d); i++ {
		if c := d[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}

// String reads a string; null reads as "". Another kind of value is a
// malformed reply naming what.
func (s *JSONScanner) String(what string) (string, error) {
	switch s.Peek() {
	case '"':
	case 'n':
		_, err := s.null()
		return "", err
	default:
		return "", s.errAt(what, "expected a string, found "+s.found())
	}
	b, err := s.rawString(&s.strBuf)
	if err != nil {
		return "", err
	}
	return s.str(b), nil
}

// Stamp reads an RFC 3339 time string; null and "" read as no instant,
// and so does a time a model.Stamp cannot hold (see model.StampOf).
func (s *JSONScanner) Stamp(what string) (model.Stamp, error) {
	switch s.Peek() {
	case '"':
	case 'n':
		_, err := s.null()
		return 0, err
	default:
		return 0, s.errAt(what, "expected a time, found "+s.found())
	}
	at := s.pos
	b, err := s.rawString(&s.strBuf)
	if err != nil || len(b) == 0 {
		return 0, err
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		s.pos = at
		return 0, s.errAt(what, fmt.Sprintf("bad time %q", Sanitize(b, 40)))
	}
	return model.StampOf(t), nil
}

// StringMap reads an object of strings (annotations) into a map sized
// exactly; null reads as nil.
func (s *JSONScanner) StringMap(what string) (map[string]string, error) {
	ok, err := s.readPairs(what)
	if err != nil || !ok {
		return nil, err
	}
	m := s.pairsMap()
	clear(s.pairs)
	return m, nil
}

// Labels reads a label set like StringMap, as a model.Labels, and also
// returns its key, as LabelsKey(labels, ignore) computes it. null reads as
// the empty set.
func (s *JSONScanner) Labels(what string, ignore []string) (model.Labels, string, error) {
	if _, err := s.readPairs(what); err != nil {
		return model.Labels{}, "", err
	}
	var l model.Labels
	var key string
	if hasDuplicateNames(s.pairs) {
		// The last value of each name counts, as in a map.
		l = model.LabelsFromPairs(s.pairs...)
		key = LabelsKey(l, ignore)
	} else {
		key = pairsKey(s.pairs, ignore) // sorts the pairs by name
		l = model.SortedLabels(s.pairs...)
	}
	clear(s.pairs)
	return l, key, nil
}

// StringLabels reads an object of strings like StringMap, as a
// model.Labels (annotations); null reads as the empty set.
func (s *JSONScanner) StringLabels(what string) (model.Labels, error) {
	ok, err := s.readPairs(what)
	if err != nil || !ok {
		return model.Labels{}, err
	}
	l := model.LabelsFromPairs(s.pairs...)
	clear(s.pairs)
	return l, nil
}

// hasDuplicateNames reports whether a name repeats in pairs (name, value, …).
func hasDuplicateNames(p []string) bool {
	for i := 0; i < len(p); i += 2 {
		for j := i + 2; j < len(p); j += 2 {
			if p[i] == p[j] {
				return true
			}
		}
	}
	return false
}

// StringSlice reads an array of strings; null and [] read as nil.
func (s *JSONScanner) StringSlice(what string) ([]string, error) {
	var out []string
	_, err := s.Array(what, func() error {
		v, err := s.String(what)
		out = append(out, v)
		return err
	})
	return out, err
}

func (s *JSONScanner) readPairs(what string) (bool, error) {
	s.pairs = s.pairs[:0]
	return s.Object(what, func(name []byte) error {
		k := s.str(name)
		v, err := s.String(what)
		s.pairs = append(s.pairs, k, v)
		return err
	})
}

func (s *JSONScanner) pairsMap() map[string]string {
	m := make(map[string]string, len(s.pairs)/2)
	for i := 0; i < len(s.pairs); i += 2 {
		m[s.pairs[i]] = s.pairs[i+1]
	}
	return m
}

// Raw reads one value of any kind, checking its syntax like Skip, and
// returns its offset in the input and its bytes: a view of the input,
// valid until the next Reset, that must not be modified. A decoder uses it
// to hash a value cheaply and decode it later, typed, with At.
func (s *JSONScanner) Raw() (off int, raw []byte, err error) {
	s.ws()
	off = s.pos
	if err := s.Skip(); err != nil {
		return 0, nil, err
	}
	return off, s.data[off:s.pos], nil
}

// At runs read with the scanner positioned at off, the offset of a value
// that Raw returned since the last Reset, then puts the scanner back where
// it was. read must consume that one value.
func (s *JSONScanner) At(off int, read func() error) error {
	pos, depth := s.pos, s.depth
	s.pos = off
	err := read()
	s.pos, s.depth = pos, depth
	return err
}

// Skip reads and discards one value of any kind, checking its syntax.
func (s *JSONScanner) Skip() error {
	switch c := s.Peek(); {
	case c == '"':
		return s.skipString()
	case c == '{':
		if s.skipMember == nil {
			s.skipMember = func([]byte) error { return s.Skip() }
		}
		_, err := s.Object("", s.skipMember)
		return err
	case c == '[':
		if s.skipElem == nil {
			s.skipElem = s.Skip
		}
		_, err := s.Array("", s.skipElem)
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return s.errAt("", "expected a value, found "+s.found())
}

func (s *JSONScanner) literal(lit string) error {
	if !bytes.HasPrefix(s.data[s.pos:], []byte(lit)) {
		return s.errAt("", "invalid literal")
	}
	s.pos += len(lit)
	return nil
}

// number checks a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *JSONScanner) number() error {
	d, i := s.data, s.pos
	digits := func() bool {
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case !digits():
		s.pos = i
		return s.errAt("", "invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			s.pos = i
			return s.errAt("", "invalid number")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			s.pos = i
			return s.errAt("", "invalid number")
		}
	}
	s.pos = i
	return nil
}

// End checks that nothing but whitespace follows the top-level value.
func (s *JSONScanner) End() error {
	if !s.atEnd() {
		return s.errAt("", "data after the end of the reply")
	}
	return nil
}

// atEnd skips whitespace and reports whether the data ends there (Peek
// returns 0 there, and for a NUL byte too).
func (s *JSONScanner) atEnd() bool {
	s.ws()
	return s.pos >= len(s.data)
}

// str turns b into a string, sharing a cached copy of short strings and
// replacing invalid UTF-8.
func (s *JSONScanner) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > internMaxLen {
		if !utf8.Valid(b) {
			return strings.ToValidUTF8(string(b), "\uFFFD")
		}
		return string(b)
	}
	slot := &s.cache[maphash.Bytes(s.seed, b)&(internSlots-1)]
	if *slot == string(b) {
		return *slot
	}
	v := string(b)
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	*slot = v
	return v
}

// pairsKey sorts pairs (name, value, name, value…; names unique) by name
// and hashes them like LabelsKey.
func pairsKey(p []string, ignore []string) string {
	n := len(p) / 2
	for i := 1; i < n; i++ {
		for k := i; k > 0 && p[2*k] < p[2*k-2]; k-- {
			p[2*k], p[2*k-2] = p[2*k-2], p[2*k]
			p[2*k+1], p[2*k-1] = p[2*k-1], p[2*k+1]
		}
	}
	h := uint64(fnvOffset64)
outer:
	for i := 0; i < len(p); i += 2 {
		for _, ig := range ignore {
			if p[i] == ig {
				continue outer
			}
		}
		h = fnvPair(h, p[i], p[i+1])
	}
	return fingerprintHex(h)
}

const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func fnvPair(h uint64, k, v string) uint64 {
	for i := 0; i < len(k); i++ {
		h ^= uint64(k[i])
		h *= fnvPrime64
	}
	h ^= 0xff
	h *= fnvPrime64
	for i := 0; i < len(v); i++ {
		h ^= uint64(v[i])
		h *= fnvPrime64
	}
	h ^= 0xff
	h *= fnvPrime64
	return h
}

func fingerprintHex(h uint64) string {
	const hexdigits = "0123456789abcdef"
	var out [16]byte
	for i := 15; i >= 0; i-- {
		out[i] = hexdigits[h&0xf]
		h >>= 4
	}
	return string(out[:])
}

// LabelsKey is model.LabelsKey computed without copying the labels: the
// Prometheus fingerprint (FNV-64a over the sorted name/value pairs, each
// followed by 0xff) of labels minus ignore, as 16 hex digits.
func LabelsKey(labels model.Labels, ignore []string) string {
	h := uint64(fnvOffset64)
outer:
	for k, v := range labels.All() {
		for _, ig := range ignore {
			if k == ig {
				continue outer
			}
		}
		h = fnvPair(h, k, v)
	}
	return fingerprintHex(h)
}

// sortStrings is an insertion sort: label sets are small.
func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for k := i; k > 0 && s[k] < s[k-1]; k-- {
			s[k], s[k-1] = s[k-1], s[k]
		}
	}
}

// RawHash identifies the raw JSON an alert was decoded from: 128 bits from
// two independently seeded hashes, so two different inputs share one only
// with a probability of about 2⁻¹²⁸ per comparison.
type RawHash struct{ a, b uint64 }

// AlertMemo lets a decoder skip decoding alerts that have not changed since
// the previous poll of the same source. The decoder hashes, with Mix, the
// raw bytes of the members of each alert object it keeps (labels,
// annotations, start, state…, leaving out members an upstream bumps on
// every evaluation or resend such as Alertmanager's updatedAt and endsAt),
// looks the hash up with Lookup, and decodes the alert only when it is
// not there. Every alert it returns goes to Keep; Commit, after a
// successful decode, makes those the alerts the next poll looks up, and
// Discard, after a failed one, keeps the previous poll's.
//
// A reused alert shares its maps and slices with the alert returned for
// the earlier poll: whoever receives alerts decoded through a memo must
// treat their maps and slices as read-only (the cache does). The seeds are
// random per memo, so hashes are neither stable across processes nor
// predictable by an upstream.
//
// An AlertMemo is not safe for concurrent use; a source keeps one beside
// its JSONScanner and uses it from its polling goroutine.
type AlertMemo struct {
	seeds      [2]maphash.Seed
	prev, next map[RawHash]int32
	prevAlerts []model.Alert
	nextAlerts []model.Alert
}

// NewAlertMemo returns an empty memo.
func NewAlertMemo() *AlertMemo {
	return &AlertMemo{
		seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		prev:  map[RawHash]int32{},
		next:  map[RawHash]int32{},
	}
}

// Mix returns h extended by one member of an alert object: tag names the
// member (one small number per member name the decoder keeps) and raw is
// its value's bytes as Raw returned them. Start each alert from the zero
// RawHash and mix its members in the order they appear.
func (m *AlertMemo) Mix(h RawHash, tag byte, raw []byte) RawHash {
	const k1, k2 = 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f
	h.a = (bits.RotateLeft64(h.a, 23)^uint64(tag))*k1 + maphash.Bytes(m.seeds[0], raw)
	h.b = (bits.RotateLeft64(h.b, 29)^uint64(tag))*k2 + maphash.Bytes(m.seeds[1], raw)
	return h
}

// Lookup returns the alert decoded from the same raw members in the
// previous committed poll, if there was one.
func (m *AlertMemo) Lookup(h RawHash) (model.Alert, bool) {
	if i, ok := m.prev[h]; ok {
		return m.prevAlerts[i], true
	}
	return model.Alert{}, false
}

// Keep records an alert of the poll being decoded under its hash.
func (m *AlertMemo) Keep(h RawHash, a *model.Alert) {
	m.next[h] = int32(len(m.nextAlerts))
	m.nextAlerts = append(m.nextAlerts, *a)
}

// Commit ends a successful decode: the alerts kept since the last Commit
// or Discard are what the next poll looks up.
func (m *AlertMemo) Commit() {
	m.prev, m.next = m.next, m.prev
	clear(m.next)
	clear(m.prevAlerts) // drop references to alerts no longer current
	m.prevAlerts, m.nextAlerts = m.nextAlerts, m.prevAlerts[:0]
}

// Discard ends a failed decode: what it kept is dropped and the previous
// poll's alerts stay current.
func (m *AlertMemo) Discard() {
	clear(m.next)
	clear(m.nextAlerts)
	m.nextAlerts = m.nextAlerts[:0]
}

// Len is the number of alerts the next poll can reuse.
func (m *AlertMemo) Len() int { return len(m.prevAlerts) }
