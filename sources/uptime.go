package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Uptimer is implemented by sources that can say how long their upstream
// has been running. The poller asks when a source that had alerts answers
// with none: an upstream that restarted since (an Alertmanager without its
// data answers [] until Prometheus re-sends) is waited for; one that did
// not is believed.
type Uptimer interface {
	Uptime(ctx context.Context) (time.Duration, error)
}

// ErrNoUptime is returned by an Uptime of a source whose API has no status
// to read it from.
var ErrNoUptime = errors.New("the upstream does not say when it started")

// Uptime reads how long an upstream has been running from its status
// endpoint url: started reads its start time (by its own clock) from the
// reply, and the reply's Date header is its clock now (ours when absent),
// so the figure does not depend on the two clocks agreeing.
func Uptime(ctx context.Context, c *http.Client, url string, started func([]byte) (time.Time, error)) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, transportError(ctx, c, start, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, transportError(ctx, c, start, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, statusError(resp, body, isHTML(resp.Header.Get("Content-Type")))
	}
	at, err := started(body)
	if err != nil {
		return 0, MalformedError(fmt.Sprintf("status: %v", err))
	}
	now := time.Now()
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		now = d
	}
	// The Date header has whole seconds: an upstream that started within
	// the second reads as up for 0s, not less.
	return max(now.Sub(at), 0), nil
}
