package tickets

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"sitroom/model"
	"sitroom/sources"
)

// maxWriteReply caps the body read from a write's reply.
const maxWriteReply = 1 << 20

// MaxReply caps the body of one read from a ticket API: a page of at most
// 1000 tickets, an issue's SLAs, transitions or comments. A real page is a
// few MB; a reply past the cap is refused as too large instead of being
// read into memory and then failing to decode.
const MaxReply int64 = 32 << 20

// Send makes one write request (PUT, POST, PATCH) with body of type
// contentType and hands a 2xx reply's body to decode (which may be nil).
// Failures are *sources.FetchError, worded by sources.Do as for every
// source: transport failures, non-2xx statuses with a short sanitized
// snippet (Body holds the raw start of the reply so a caller can read an
// API error object), HTTP 429 as throttled with its Retry-After.
func Send(ctx context.Context, c *http.Client, method, url, contentType string, body []byte, decode func([]byte) error) error {
	var read func(io.Reader) error
	if decode != nil {
		read = func(r io.Reader) error {
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			return decode(b)
		}
	}
	return sources.Do(ctx, c, method, url, contentType, bytes.NewReader(body), maxWriteReply, read)
}

// Wrap prefixes a failed step's error with what was being done, keeping
// the *sources.FetchError (and its Kind) reachable with errors.As.
func Wrap(step string, err error) error {
	if err == nil {
		return nil
	}
	return &stepError{step: step, err: err}
}

type stepError struct {
	step string
	err  error
}

// Error is "step: error"; a throttled error keeps model.ThrottledPrefix
// first ("throttled: step: ..."), since the source's health is read from
// how its error starts.
func (e *stepError) Error() string {
	msg := e.err.Error()
	if rest, ok := strings.CutPrefix(msg, model.ThrottledPrefix+": "); ok {
		return model.ThrottledPrefix + ": " + e.step + ": " + rest
	}
	return e.step + ": " + msg
}
func (e *stepError) Unwrap() error { return e.err }

// Kind returns the FetchErrorKind of err, or "" when it holds none.
func Kind(err error) sources.FetchErrorKind {
	var fe *sources.FetchError
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return ""
}
