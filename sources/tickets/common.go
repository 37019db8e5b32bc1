package tickets

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"sitroom/model"
	"sitroom/model/config"
	"sitroom/sources"
)

// Common holds the options every ticket source has; each source's Options
// embeds it next to what is its own (tiers, escalation target).
type Common struct {
	// Name is the source name; URL the base URL of the ticket system.
	Name, URL string
	// Client carries the authentication; http.DefaultClient when nil.
	Client *http.Client
	// Users maps operators to the ticket system's users.
	Users map[string]string
	// ServiceField names the field holding a service name.
	ServiceField string
	// SLATargets give a ticket without an SLA of its own a deadline by
	// priority: keyed by the lower-cased upstream priority name
	// (model.Ticket.PriorityName), or by "p1".."p5" for a normalised
	// priority no name key matches.
	SLATargets map[string]time.Duration
	// PageSize is the page size of searches; default (and at most, when
	// the system caps it) 100.
	PageSize int
	// FullEvery is how often to read the whole tier set instead of only
	// what changed; default DefaultFullEvery. Negative: always everything.
	FullEvery time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// CommonFromConfig is the Common part of a validated config entry, with
// an HTTP client built from its http settings.
func CommonFromConfig(sc config.Source) (Common, error) {
	hc, err := sources.NewHTTPClient(sc.HTTP, sc.Name)
	if err != nil {
		return Common{}, err
	}
	return Common{Name: sc.Name, URL: sc.URL, Client: hc, Users: sc.Users, ServiceField: sc.ServiceField,
		PageSize: sc.TicketPageSize(), SLATargets: sc.SLATargetsByName()}, nil
}

// Defaults fills in the defaults of the unset options; a PageSize above
// maxPage (when maxPage > 0) is maxPage's default too.
func (c *Common) Defaults(maxPage int) {
	if c.Client == nil {
		c.Client = http.DefaultClient
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.PageSize <= 0 || (maxPage > 0 && c.PageSize > maxPage) {
		c.PageSize = 100
	}
	if c.FullEvery == 0 {
		c.FullEvery = DefaultFullEvery
	}
}

// CheckURL reports a URL that is not an absolute http(s) URL.
func (c *Common) CheckURL() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("source %q: url must be an absolute http(s) URL", c.Name)
	}
	return nil
}

// TargetSLA gives t, when it has no SLA of its own, the deadline its
// priority's SLA target sets from its creation: the target of its
// upstream priority name, else of its normalised priority (P1-P5).
func (c *Common) TargetSLA(t *model.Ticket, now time.Time) {
	if t.SLA.Known {
		return
	}
	d, ok := c.SLATargets[strings.ToLower(strings.TrimSpace(t.PriorityName))]
	if !ok || t.PriorityName == "" {
		d = c.SLATargets[strings.ToLower(t.Priority.String())]
	}
	if d > 0 {
		t.SLA = model.TargetSLA(t.Created, d)
		t.SLA.Breached = t.SLA.Due.Before(now)
	}
}

// Get reads one reply of a ticket API (capped at MaxReply) and hands its
// body to decode; failures are worded by sources.GetJSON.
func Get(ctx context.Context, c *http.Client, url string, decode func([]byte) error) error {
	return sources.GetJSON(ctx, c, url, MaxReply, func(r io.Reader) error {
		b, err := sources.ReadAll(nil, r)
		if err != nil {
			return err
		}
		return decode(b)
	})
}
