package prometheus

import (
	"context"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"

	"sitroom/model"
	"sitroom/sources"
)

// RulesPath lists the alerting rules with their `for` durations.
// exclude_alerts (Prometheus 2.52 and later; older servers ignore it)
// leaves out the alerts the source already has from AlertsPath.
const RulesPath = "/api/v1/rules?type=alert&exclude_alerts=true"

// RulesEvery is how often the rules are read again; a firing alert of a
// rule not known yet has them read sooner (see startFiring).
const RulesEvery = 5 * time.Minute

// rule is what the source needs of one alerting rule: which alerts are
// its (alertname and its static labels) and how long they pend.
type rule struct {
	labels map[string]string
	pend   time.Duration
}

// rules knows each alerting rule's `for`, so that a firing alert's start
// is when it fired (activeAt, the start of pending, plus the rule's for),
// not when it began pending. Safe for one polling goroutine.
type rules struct {
	url    string
	client *http.Client

	mu     sync.Mutex
	byName map[string][]rule
	sched  reading
	retry  time.Duration // wait before reading again for a firing alert of an unknown rule
}

// startFiring sets the StartsAt of every firing alert to activeAt plus its
// rule's for, reading the rules when they are due (every RulesEvery) or
// when a firing alert names a rule not known yet (a server that had not
// loaded its rules when last read, a rule added since): at once, then
// after 10s, 20s, … while it stays unknown. alerts are the slice Fetch
// returns, filled anew each poll; the memo keeps its own copies, so the
// change does not compound across polls. When the rules cannot be read,
// starts stay activeAt (earlier than the truth by at most the rule's for).
func (r *rules) startFiring(ctx context.Context, alerts []model.Alert, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sched.due(now, RulesEvery) {
		r.reread(ctx, now)
	}
	unknown := r.apply(alerts, nil)
	if len(unknown) > 0 && now.Sub(r.sched.tried) >= max(r.retry, minRetry) {
		r.reread(ctx, now)
		unknown = r.apply(alerts, unknown)
		if len(unknown) > 0 {
			r.retry = min(max(2*r.retry, minRetry), RulesEvery)
		} else {
			r.retry = 0
		}
	}
}

// minRetry is the least time between two reads of the rules, or of the
// config.
const minRetry = 10 * time.Second

// reading is when something the source reads from the server beside its
// alerts (the rules, the config) was last read and last tried: it is read
// again every so often, and never twice within minRetry.
type reading struct {
	read  time.Time // last successful read
	tried time.Time // last attempt
}

// due reports whether every has passed since the last successful read.
func (s *reading) due(now time.Time, every time.Duration) bool { return now.Sub(s.read) >= every }

// try calls read unless it was tried less than minRetry ago, and notes
// the read when read returns nil.
func (s *reading) try(now time.Time, read func() error) {
	if now.Sub(s.tried) < minRetry {
		return
	}
	s.tried = now
	if read() == nil {
		s.read = now
	}
}

// reread reads the rules unless they were tried less than minRetry ago.
func (r *rules) reread(ctx context.Context, now time.Time) {
	r.sched.try(now, func() error {
		m, err := r.fetch(ctx)
		if err == nil {
			r.byName = m
		}
		return err
	})
}

// apply starts the firing alerts at indexes only (all when only is nil)
// at activeAt plus their rule's for, and returns the indexes of those
// whose rule is unknown (left at activeAt).
func (r *rules) apply(alerts []model.Alert, only []int) (unknown []int) {
	one := func(i int) {
		a := &alerts[i]
		if a.State != model.StateFiring || a.StartsAt.IsZero() {
			return
		}
		pend, ok := r.pendFor(a.Labels)
		if !ok {
			unknown = append(unknown, i)
			return
		}
		a.StartsAt = model.StampOf(a.StartsAt.Time().Add(pend))
	}
	if only == nil {
		for i := range alerts {
			one(i)
		}
	} else {
		for _, i := range only {
			one(i)
		}
	}
	return unknown
}

// pendFor is the `for` of the rule the alert with these labels comes from:
// the rule of its alertname whose static labels it carries (the one with
// the most of them when several do).
func (r *rules) pendFor(labels model.Labels) (time.Duration, bool) {
	best, found := -1, false
	var pend time.Duration
	for _, ru := range r.byName[labels.Get("alertname")] {
		n := 0
		for k, v := range ru.labels {
			if labels.Get(k) != v {
				n = -1
				break
			}
			n++
		}
		if n > best {
			best, pend, found = n, ru.pend, true
		}
	}
	return pend, found
}

// fetch reads the alerting rules.
func (r *rules) fetch(ctx context.Context) (map[string][]rule, error) {
	var reply struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name     string            `json:"name"`
					Type     string            `json:"type"`
					Duration float64           `json:"duration"` // seconds
					Labels   map[string]string `json:"labels"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	err := sources.GetJSON(ctx, r.client, r.url, 0, func(body io.Reader) error {
		return json.UnmarshalRead(body, &reply, json.RejectUnknownMembers(false))
	})
	if err != nil {
		return nil, err
	}
	m := map[string][]rule{}
	for _, g := range reply.Data.Groups {
		for _, ru := range g.Rules {
			if ru.Type != "" && ru.Type != "alerting" {
				continue
			}
			m[ru.Name] = append(m[ru.Name], rule{labels: maps.Clone(ru.Labels), pend: time.Duration(ru.Duration * float64(time.Second))})
		}
	}
	return m, nil
}

func newRules(baseURL string, client *http.Client) *rules {
	if client == nil {
		client = http.DefaultClient
	}
	return &rules{url: strings.TrimRight(baseURL, "/") + RulesPath, client: client}
}
