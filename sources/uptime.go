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

// statusMax caps a status reply.
const statusMax = 1 << 20

// Uptime reads how long an upstream has been running from its status
// endpoint url: started reads its start time (by its own clock) from the
// reply, and the reply's Date header is its clock now (ours when absent),
// so the figure does not depend on the two clocks agreeing. Failures are
// *FetchError, as for any request.
func Uptime(ctx context.Context, c *http.Client, url string, started func([]byte) (time.Time, error)) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	var up time.Duration
	_, err = doRequest(c, req, statusMax, func(h http.Header, r io.Reader) error {
		body, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		at, err := started(body)
		if err != nil {
			return MalformedError(fmt.Sprintf("status: %v", err))
		}
		now := time.Now()
		if d, err := http.ParseTime(h.Get("Date")); err == nil {
			now = d
		}
		// The Date header has whole seconds: an upstream that started
		// within the second reads as up for 0s, not less.
		up = max(now.Sub(at), 0)
		return nil
	})
	return up, err
}
