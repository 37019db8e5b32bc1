package tickets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"time"

	"sitroom/model"
	"sitroom/sources"
)

// maxWriteReply caps the body read from a write's reply.
const maxWriteReply = 1 << 20

// Send makes one write request (PUT, POST, PATCH) with body of type
// contentType and hands a 2xx reply's body to decode (which may be nil).
// Failures are *sources.FetchError worded like GetJSON's: transport
// failures, non-2xx statuses with a short sanitized snippet (Body holds
// the raw start of the reply so a caller can read an API error object),
// HTTP 429 as throttled with its Retry-After.
func Send(ctx context.Context, c *http.Client, method, url, contentType string, body []byte, decode func([]byte) error) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return &sources.FetchError{Kind: sources.KindRequest, Msg: "bad URL: " + sources.Sanitize(errors.Unwrap(err), 120), Err: err}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", sources.UserAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return transportError(ctx, start, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxWriteReply))
	if err != nil {
		return transportError(ctx, start, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return StatusError(resp, b)
	}
	if decode == nil {
		return nil
	}
	if err := decode(b); err != nil {
		var fe *sources.FetchError
		if errors.As(err, &fe) {
			return fe
		}
		return &sources.FetchError{Kind: sources.KindMalformed, Msg: "malformed reply: " + sources.Sanitize(err, 200), Err: err}
	}
	return nil
}

// StatusError describes a non-2xx reply as GetJSON does.
func StatusError(resp *http.Response, body []byte) *sources.FetchError {
	if len(body) > 4<<10 {
		body = body[:4<<10]
	}
	msg := strings.TrimSpace(fmt.Sprintf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode)))
	ct := strings.ToLower(resp.Header.Get("Content-Type"))
	if strings.HasPrefix(ct, "text/html") {
		msg += " (HTML page)"
	} else if s := sources.Sanitize(body, 120); s != "" {
		msg += ": " + s
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			msg += " (retry after " + sources.Sanitize(ra, 32) + ")"
		}
		return &sources.FetchError{Kind: sources.KindThrottled, Msg: model.ThrottledPrefix + ": " + msg, Status: resp.StatusCode, Body: body}
	}
	return &sources.FetchError{Kind: sources.KindHTTP, Msg: msg, Status: resp.StatusCode, Body: body}
}

func transportError(ctx context.Context, start time.Time, err error) *sources.FetchError {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			d := time.Since(start)
			if dl, ok := ctx.Deadline(); ok && dl.After(start) {
				d = dl.Sub(start)
			}
			return &sources.FetchError{Kind: sources.KindTimeout, Msg: "timed out after " + d.Round(time.Millisecond).String(), Err: err}
		}
		return &sources.FetchError{Kind: sources.KindCanceled, Msg: "canceled", Err: err}
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return &sources.FetchError{Kind: sources.KindRefused, Msg: "connection refused", Err: err}
	}
	if errors.Is(err, syscall.ECONNRESET) {
		return &sources.FetchError{Kind: sources.KindNetwork, Msg: "connection reset by peer", Err: err}
	}
	return &sources.FetchError{Kind: sources.KindNetwork, Msg: sources.Sanitize(err, 200), Err: err}
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

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// Kind returns the FetchErrorKind of err, or "" when it holds none.
func Kind(err error) sources.FetchErrorKind {
	var fe *sources.FetchError
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return ""
}
