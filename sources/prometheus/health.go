package prometheus

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"

	"sitroom/model"
	"sitroom/sources"
)

// HealthRulesPath lists every rule (recording ones too: an alert built on
// a failing recording rule is blind) with its health and last error.
const HealthRulesPath = "/api/v1/rules?exclude_alerts=true"

// MetricsPath is the server's own metrics.
const MetricsPath = "/metrics"

// StuckAfter is how many of its intervals a rule group may go without an
// evaluation before it is reported stuck.
const StuckAfter = 3

// health is what the source remembers between two health reads: the
// notification counters of the last read, per Alertmanager, and whether
// each Alertmanager was found not receiving.
type health struct {
	base   string
	client *http.Client

	mu      sync.Mutex
	named   map[string]string  // alertmanager (amKey) → its sitroom source name
	errs    map[string]float64 // prometheus_notifications_errors_total by alertmanager
	sent    map[string]float64 // prometheus_notifications_sent_total by alertmanager
	dropped float64
	failing map[string]bool // alertmanager → not receiving
	drops   bool            // dropped rose since the read before
	read    bool            // the counters were read once
}

// Health reads what the server reports of its own alerting pipeline
// (sources.HealthReader): rules whose health is not ok (with their
// lastError) and rule groups not evaluated for StuckAfter intervals
// (/api/v1/rules, whose alerting rules' `for` it also hands to the
// source, so they need not be read again), a failed config reload
// (/api/v1/status/runtimeinfo) and Alertmanagers it cannot deliver to
// (/metrics: prometheus_notifications_errors_total rising for an
// Alertmanager from one read to the next, until alerts sent to it get
// through again; prometheus_notifications_dropped_total rising, when no
// Alertmanager is found not receiving to say why, and the server has
// Alertmanagers: one with none drops every alert, which is a note). An
// endpoint the server does not offer (Thanos Ruler, vmalert) or refuses
// is a note.
func (s *Source) Health(ctx context.Context) ([]model.Finding, error) {
	now := time.Now()
	var notes sources.HealthNotes
	var out []model.Finding
	fs, err := s.ruleHealth(ctx, now)
	if notes.Add("/api/v1/rules", err) {
		out = append(out, fs...)
	}
	fs, loaded, err := s.health.reload(ctx)
	if notes.Add(StatusPath, err) {
		out = append(out, fs...)
		s.ext.configLoaded(loaded) // a reloaded config: its external labels are read again now
	}
	fs, err = s.health.notify(ctx)
	if notes.Add(MetricsPath, err) {
		out = append(out, fs...)
	}
	return append(out, notes.Findings()...), nil
}

// ruleHealth reads every rule group and reports failing rules and stuck
// groups; the alerting rules' `for` go to the rules reader.
func (s *Source) ruleHealth(ctx context.Context, now time.Time) ([]model.Finding, error) {
	var reply struct {
		Data struct {
			Groups []struct {
				Name           string    `json:"name"`
				Interval       float64   `json:"interval"` // seconds
				LastEvaluation time.Time `json:"lastEvaluation"`
				Rules          []struct {
					Name      string            `json:"name"`
					Type      string            `json:"type"`
					Health    string            `json:"health"`
					LastError string            `json:"lastError"`
					Duration  float64           `json:"duration"`
					Labels    map[string]string `json:"labels"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	err := sources.GetJSON(ctx, s.health.client, s.health.base+HealthRulesPath, 0, func(body io.Reader) error {
		return json.UnmarshalRead(body, &reply, json.RejectUnknownMembers(false))
	})
	if err != nil {
		return nil, err
	}
	var out []model.Finding
	byName := map[string][]rule{}
	for _, g := range reply.Data.Groups {
		every := time.Duration(g.Interval * float64(time.Second))
		if every > 0 && g.LastEvaluation.Year() > 1 && now.Sub(g.LastEvaluation) > StuckAfter*every {
			out = append(out, model.Finding{Kind: model.FindingStuck, Subject: g.Name,
				Text: "last evaluated " + g.LastEvaluation.UTC().Format(time.RFC3339) + ", every " + every.String(), Severe: true})
		}
		for _, ru := range g.Rules {
			if ru.Health == "err" {
				f := model.Finding{Kind: model.FindingRule, Subject: g.Name + "/" + ru.Name, Text: ru.LastError, Severe: true}
				if ru.Type == "alerting" {
					f.Labels = maps.Clone(ru.Labels)
					if f.Labels == nil {
						f.Labels = map[string]string{}
					}
					f.Labels["alertname"] = ru.Name
				}
				out = append(out, f)
			}
			if ru.Type == "" || ru.Type == "alerting" { // as the rules reader takes them
				byName[ru.Name] = append(byName[ru.Name], rule{labels: maps.Clone(ru.Labels), pend: time.Duration(ru.Duration * float64(time.Second))})
			}
		}
	}
	s.rules.learned(byName, now)
	return out, nil
}

// learned takes the alerting rules read by a health read, as if read by
// the rules reader itself.
func (r *rules) learned(m map[string][]rule, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byName = m
	r.sched.read, r.sched.tried = now, now
}

// reload reads whether the last config reload succeeded, and when the
// config running was loaded (zero when the server does not say).
func (h *health) reload(ctx context.Context) ([]model.Finding, time.Time, error) {
	var st runtimeInfo
	err := sources.GetJSON(ctx, h.client, h.base+StatusPath, 0, func(body io.Reader) (err error) {
		st, err = readRuntimeInfo(body)
		return err
	})
	loaded := st.Data.LastConfigTime
	if loaded.Year() <= 1 {
		loaded = time.Time{}
	}
	if err != nil || st.Data.ReloadConfigSuccess == nil || *st.Data.ReloadConfigSuccess {
		return nil, loaded, err
	}
	text := "reloadConfigSuccess false"
	if st.Data.LastConfigTime.Year() > 1 {
		text += "; running the config loaded at " + st.Data.LastConfigTime.UTC().Format(time.RFC3339)
	}
	return []model.Finding{{Kind: model.FindingReload, Subject: "config reload failed", Text: text, Severe: true}}, loaded, nil
}

// notify reads the notification counters and reports the Alertmanagers
// whose errors rose since the last read: not receiving until alerts get
// through again (sent rises while errors do not). Nothing moving keeps
// the last verdict: Prometheus sends only while alerts fire.
func (h *health) notify(ctx context.Context) ([]model.Finding, error) {
	mfs, err := sources.Metrics(ctx, h.client, h.base+MetricsPath)
	if err != nil {
		return nil, err
	}
	errs, sent := map[string]float64{}, map[string]float64{}
	var dropped float64
	// A server sending to no Alertmanager drops every alert it fires: by
	// design when it is read only for its alerts list, so a note.
	none := false
	if mf := mfs["prometheus_notifications_alertmanagers_discovered"]; mf != nil && len(mf.GetMetric()) > 0 {
		none = sources.MetricValue(mf.GetMetric()[0]) == 0
	}
	if mf := mfs["prometheus_notifications_errors_total"]; mf != nil {
		for _, m := range mf.GetMetric() {
			errs[sources.MetricLabel(m, "alertmanager")] += sources.MetricValue(m)
		}
	}
	if mf := mfs["prometheus_notifications_sent_total"]; mf != nil {
		for _, m := range mf.GetMetric() {
			sent[sources.MetricLabel(m, "alertmanager")] += sources.MetricValue(m)
		}
	}
	if mf := mfs["prometheus_notifications_dropped_total"]; mf != nil {
		for _, m := range mf.GetMetric() {
			dropped += sources.MetricValue(m)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failing == nil {
		h.failing = map[string]bool{}
	}
	if h.read {
		for am, e := range errs {
			switch de := e - h.errs[am]; {
			case de > 0:
				h.failing[am] = true
			case de == 0 && sent[am] > h.sent[am]:
				h.failing[am] = false
			}
		}
		h.drops = dropped > h.dropped
	}
	for am := range h.failing {
		if _, ok := errs[am]; !ok { // no longer sent to
			delete(h.failing, am)
		}
	}
	h.errs, h.sent, h.dropped, h.read = errs, sent, dropped, true
	var out []model.Finding
	ams := make([]string, 0, len(h.failing))
	for am, bad := range h.failing {
		if bad {
			ams = append(ams, am)
		}
	}
	sort.Strings(ams)
	for _, am := range ams {
		out = append(out, model.Finding{Kind: model.FindingNotify, Subject: h.amName(am) + " not receiving",
			Text: "prometheus_notifications_errors_total{alertmanager=" + am + "} rising", Severe: true})
	}
	if none {
		out = append(out, model.Finding{Kind: model.FindingNote, Subject: "sends alerts to no Alertmanager",
			Text: "prometheus_notifications_alertmanagers_discovered 0"})
	} else if h.drops && len(ams) == 0 { // an Alertmanager not receiving says why
		out = append(out, model.Finding{Kind: model.FindingNotify, Subject: "alerts dropped before sending",
			Text: "prometheus_notifications_dropped_total rising", Severe: true})
	}
	return out, nil
}

// amName is an Alertmanager's URL as Prometheus labels it (its alerts
// endpoint, e.g. "http://127.0.0.1:9093/api/v2/alerts"), in short: the
// name of the Alertmanager source configured at that host, port and path
// prefix, else its host and port. h.mu is held.
func (h *health) amName(u string) string {
	if n := h.named[amKey(u)]; n != "" {
		return n
	}
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Host
	}
	return u
}

// amKey is what an Alertmanager's base URL and the URL Prometheus sends
// to it at (the base URL and /api/v1/alerts or /api/v2/alerts) have in
// common: lowercase host and port, then the path prefix without a
// trailing slash. The scheme is left out: a source may read through a
// proxy what Prometheus reaches directly.
func amKey(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || p.Host == "" {
		return ""
	}
	path := strings.TrimRight(p.Path, "/")
	for _, api := range []string{"/api/v2/alerts", "/api/v1/alerts"} {
		path = strings.TrimSuffix(path, api)
	}
	return strings.ToLower(p.Host) + strings.TrimRight(path, "/")
}

// NameAlertmanagers (sources.AlertmanagerNamer) takes the configured
// Alertmanager sources' names by their base URLs: an Alertmanager the
// server cannot deliver to is then reported by its source name ("am-b not
// receiving") rather than its host and port.
func (s *Source) NameAlertmanagers(byURL map[string]string) {
	named := make(map[string]string, len(byURL))
	for u, name := range byURL {
		if k := amKey(u); k != "" {
			named[k] = name
		}
	}
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	s.health.named = named
}

func newHealth(baseURL string, client *http.Client) *health {
	if client == nil {
		client = http.DefaultClient
	}
	return &health{base: strings.TrimRight(baseURL, "/"), client: client}
}
