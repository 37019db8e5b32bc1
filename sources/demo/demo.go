// Package demo runs simulated upstreams for `sitroom --demo` and for tests:
// one Prometheus and an Alertmanager HA pair (am-a, am-b), each a real HTTP
// server on a loopback port, answering with exactly the JSON shapes the real
// servers send, and a CloudWatch test server (cwtest: Smithy RPC v2 CBOR,
// SigV4-checked) holding one account's alarms in one region. Their alerts follow a scripted scenario that repeats every
// Cycle: a database outage that cascades db-main → payments → checkout → web
// and resolves again, over background noise; `sitroom --demo` starts it at
// Opening, as db-main goes down. The scenario is a pure function of the
// clock, so tests can assert what is served at any moment.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	pconfig "github.com/prometheus/common/config"
	pmodel "github.com/prometheus/common/model"

	"sitroom/model"
	"sitroom/model/config"
	"sitroom/sources/cloudwatch/cwtest"
	"sitroom/sources/tickets/servicenow/sntest"
)

// Options tune a Demo.
type Options struct {
	// Speed is how many scenario seconds pass per wall-clock second: 1 is
	// real time (a cycle takes Cycle); tests use e.g. 60. Zero means 1.
	Speed float64
	// Now is the clock; nil means time.Now. Tests pass a fake clock and
	// step it.
	Now func() time.Time
	// Skip starts the scenario this far into its first cycle (scenario
	// time), so an interactive demo need not open on a calm screen:
	// `sitroom --demo` starts at Opening, its first outage.
	Skip time.Duration
}

// Demo is a running set of simulated upstreams. Its methods are safe for
// concurrent use; the servers answer on their own goroutines until Close
// (or the cancellation of the context given to Start).
type Demo struct {
	speed float64
	now   func() time.Time
	start time.Time // wall-clock time of Start
	skip  time.Duration

	prom, amA, amB *server
	cw             *server
	notify         *server        // the teams' notify webhooks (notify.go)
	notified       notifyReceiver // what it accepted
	cwAPI          *cwtest.Server // behind cw (cloudwatch.go)
	sn             *sntest.Server // the noc-desk ServiceNow (tickets.go)
	cleanup        cleanups
	userSilences   userSilences // created through the Alertmanager API, shared by the pair
	closeOnce      sync.Once
	closeErr       error
	done           chan struct{}
}

type server struct {
	name string
	url  string
	srv  *http.Server
	ln   net.Listener
	wg   sync.WaitGroup
}

// The Alertmanager silence that holds the scenario's silenced alert. Both
// members of the HA pair share it, as gossip makes real ones do.
const (
	silenceID      = "6f1c2a9e-3b7d-4e58-9c0a-d2e4f6a8b0c1"
	silenceBy      = "noc-lead"
	silenceComment = "auth key rotation in progress; latency expected (CHG-2231)"
)

// Start begins the scenario at the current time and starts the three
// servers on free loopback ports. They stop when ctx is cancelled or Close
// is called.
func Start(ctx context.Context, opts Options) (*Demo, error) {
	d := &Demo{speed: opts.Speed, now: opts.Now, skip: max(opts.Skip, 0), done: make(chan struct{})}
	if d.speed <= 0 {
		d.speed = 1
	}
	if d.now == nil {
		d.now = time.Now
	}
	d.start = d.now()
	var err error
	if d.prom, err = d.listen("prometheus", d.promHandler()); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		s    **server
		name string
	}{{&d.amA, "am-a"}, {&d.amB, "am-b"}} {
		if *p.s, err = d.listen(p.name, d.amHandler()); err != nil {
			d.Close()
			return nil, err
		}
	}
	if d.cw, err = d.listen("cloudwatch", d.cloudWatchHandler()); err != nil {
		d.Close()
		return nil, err
	}
	if d.notify, err = d.listen("notify", d.notified.handler()); err != nil {
		d.Close()
		return nil, err
	}
	d.startDesk()
	// Every URL is known before any server answers (the handlers read them).
	for _, s := range []*server{d.prom, d.amA, d.amB, d.cw, d.notify} {
		s.serve()
	}
	go func() {
		select {
		case <-ctx.Done():
			d.Close()
		case <-d.done:
		}
	}()
	return d, nil
}

func (d *Demo) listen(name string, h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo %s: %w", name, err)
	}
	s := &server{
		name: name,
		url:  "http://" + ln.Addr().String(),
		ln:   ln,
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second},
	}
	return s, nil
}

// serve answers on the server's own goroutine until Close.
func (s *server) serve() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(s.ln)
	}()
}

// Close stops the servers and waits for them. It may be called more than
// once.
func (d *Demo) Close() error {
	d.closeOnce.Do(func() {
		close(d.done)
		var errs []error
		for _, s := range []*server{d.prom, d.amA, d.amB, d.cw, d.notify} {
			if s == nil {
				continue
			}
			if err := s.srv.Close(); err != nil {
				errs = append(errs, err)
			}
			_ = s.ln.Close() // in case it never served; already closed otherwise
			s.wg.Wait()
		}
		d.cleanup.run()
		d.closeErr = errors.Join(errs...)
	})
	return d.closeErr
}

// PrometheusURL, AlertmanagerAURL and AlertmanagerBURL are the base URLs of
// the simulated servers.
func (d *Demo) PrometheusURL() string    { return d.prom.url }
func (d *Demo) AlertmanagerAURL() string { return d.amA.url }
func (d *Demo) AlertmanagerBURL() string { return d.amB.url }

// CloudWatchURL is the base URL of the CloudWatch (and STS) test server.
func (d *Demo) CloudWatchURL() string { return d.cw.url }

// simTime maps a wall-clock moment to scenario time: the scenario starts at
// the wall-clock time of Start and runs Speed times as fast.
func (d *Demo) simTime(wall time.Time) time.Time {
	elapsed := float64(wall.Sub(d.start)) * d.speed
	return d.start.Add(time.Duration(elapsed))
}

// offset is where in its cycle the scenario is at scenario time t, and when
// that cycle began.
func (d *Demo) offset(t time.Time) (time.Duration, time.Time) {
	el := t.Sub(d.start) + d.skip
	if el < 0 {
		el = 0
	}
	off := el % Cycle
	return off, t.Add(-off)
}

// Phase names the scenario phase now (one of the Phase constants).
func (d *Demo) Phase() string { return d.PhaseAt(d.now()) }

// PhaseAt names the scenario phase at wall-clock time t.
func (d *Demo) PhaseAt(t time.Time) string {
	off, _ := d.offset(d.simTime(t))
	return phaseAt(off)
}

// alert is one active alert at a moment.
type alert struct {
	r  *rule
	st state
}

// active lists the alerts active at scenario time t, in rule order.
func (d *Demo) active(t time.Time) []alert {
	off, cycleStart := d.offset(t)
	since := d.start.Add(-2 * time.Hour)
	var out []alert
	for i := range rules {
		if st, ok := rules[i].stateAt(off, cycleStart, since); ok {
			out = append(out, alert{r: &rules[i], st: st})
		}
	}
	return out
}

func (d *Demo) generatorURL(r *rule) string {
	return d.prom.url + "/graph?g0.expr=" + url.QueryEscape(r.expr) + "&g0.tab=1"
}

// Prometheus /api/v1/alerts shapes.
type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"activeAt"`
	Value       string            `json:"value"`
}

type promAlertsReply struct {
	Status string `json:"status"`
	Data   struct {
		Alerts []promAlert `json:"alerts"`
	} `json:"data"`
}

func (d *Demo) promHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/alerts", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, OPTIONS")
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		var reply promAlertsReply
		reply.Status = "success"
		reply.Data.Alerts = []promAlert{}
		for _, a := range d.active(d.simTime(d.now())) {
			st := "pending"
			if a.st.firing {
				st = "firing"
			}
			reply.Data.Alerts = append(reply.Data.Alerts, promAlert{
				Labels:      a.r.labels(),
				Annotations: a.r.annotations(),
				State:       st,
				ActiveAt:    a.st.activeAt.UTC(),
				Value:       strconv.FormatFloat(a.r.value, 'e', -1, 64),
			})
		}
		writeJSON(w, reply)
	})
	// The rules, with their for: a firing alert fired activeAt + for.
	mux.HandleFunc("/api/v1/rules", func(w http.ResponseWriter, r *http.Request) {
		type promRule struct {
			Name     string            `json:"name"`
			Type     string            `json:"type"`
			Query    string            `json:"query"`
			Duration float64           `json:"duration"`
			Labels   map[string]string `json:"labels"`
		}
		group := struct {
			Name  string     `json:"name"`
			File  string     `json:"file"`
			Rules []promRule `json:"rules"`
		}{Name: "demo", File: "demo.yml", Rules: []promRule{}}
		for i := range rules {
			ru := &rules[i]
			group.Rules = append(group.Rules, promRule{Name: ru.name, Type: "alerting", Query: ru.expr,
				Duration: ru.pendingFor.Seconds(), Labels: map[string]string{"severity": ru.severity, "service": ru.service, "team": ru.team}})
		}
		reply := map[string]any{"status": "success", "data": map[string]any{"groups": []any{group}}}
		writeJSON(w, reply)
	})
	mux.HandleFunc("/api/v1/status/runtimeinfo", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"status": "success", "data": map[string]any{"startTime": d.start.UTC()}})
	})
	mux.HandleFunc("/-/ready", plain("Prometheus Server is Ready.\n"))
	mux.HandleFunc("/-/healthy", plain("Prometheus Server is Healthy.\n"))
	return mux
}

// Alertmanager /api/v2 shapes.
type amAlert struct {
	Annotations  map[string]string `json:"annotations"`
	EndsAt       string            `json:"endsAt"`
	Fingerprint  string            `json:"fingerprint"`
	Receivers    []amReceiver      `json:"receivers"`
	StartsAt     string            `json:"startsAt"`
	Status       amStatus          `json:"status"`
	UpdatedAt    string            `json:"updatedAt"`
	GeneratorURL string            `json:"generatorURL"`
	Labels       map[string]string `json:"labels"`
}

type amReceiver struct {
	Name string `json:"name"`
}

type amStatus struct {
	InhibitedBy []string `json:"inhibitedBy"`
	SilencedBy  []string `json:"silencedBy"`
	State       string   `json:"state"`
}

type amSilence struct {
	ID        string      `json:"id"`
	Status    amSilStatus `json:"status"`
	UpdatedAt string      `json:"updatedAt"`
	Comment   string      `json:"comment"`
	CreatedBy string      `json:"createdBy"`
	EndsAt    string      `json:"endsAt"`
	Matchers  []amMatcher `json:"matchers"`
	StartsAt  string      `json:"startsAt"`
}

type amSilStatus struct {
	State string `json:"state"`
}

type amMatcher struct {
	IsEqual bool   `json:"isEqual"`
	IsRegex bool   `json:"isRegex"`
	Name    string `json:"name"`
	Value   string `json:"value"`
}

type amError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// amTime formats a time as Alertmanager's API does (strfmt.DateTime).
func amTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func (d *Demo) amHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v2/alerts", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			amJSONError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed")
			return
		}
		q := r.URL.Query()
		want := map[string]bool{"active": true, "silenced": true, "inhibited": true}
		for k := range want {
			if v := q.Get(k); v != "" {
				b, err := strconv.ParseBool(v)
				if err != nil {
					amJSONError(w, http.StatusBadRequest, fmt.Sprintf("%s in query should be of type boolean", k))
					return
				}
				want[k] = b
			}
		}
		var filter []*model.Matcher
		for _, f := range q["filter"] {
			ms, err := model.ParseMatchers(f)
			if err != nil {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_ = json.NewEncoder(w).Encode("bad matcher format: " + f)
				return
			}
			filter = append(filter, ms...)
		}
		out := []amAlert{}
		for _, a := range d.amAlerts(d.simTime(d.now())) {
			switch a.Status.State {
			case "active":
				if !want["active"] {
					continue
				}
			case "suppressed":
				if !want["silenced"] {
					continue
				}
			}
			if !model.MatchAll(filter, model.LabelsFromMap(a.Labels)) {
				continue
			}
			out = append(out, a)
		}
		writeJSON(w, out)
	})
	mux.HandleFunc("/api/v2/silences", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, append(d.silences(), d.userSilences.all(d.now())...))
		case http.MethodPost:
			d.userSilences.create(w, r, d.now())
		default:
			amJSONError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed")
		}
	})
	mux.HandleFunc("/api/v2/silence/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodDelete {
			amJSONError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed")
			return
		}
		d.userSilences.expire(w, r, d.now())
	})
	mux.HandleFunc("/api/v2/status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"uptime": d.start.UTC(), "cluster": map[string]any{"status": "ready", "peers": []any{}},
			"versionInfo": map[string]string{"version": "demo"}, "config": map[string]string{"original": ""}})
	})
	mux.HandleFunc("/-/ready", plain("OK"))
	mux.HandleFunc("/-/healthy", plain("OK"))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		amJSONError(w, http.StatusNotFound, "path "+r.URL.Path+" was not found")
	})
	return mux
}

// amAlerts is what an Alertmanager fed by the demo Prometheus holds at
// scenario time t: the firing alerts (pending ones never reach it), sorted
// by fingerprint.
func (d *Demo) amAlerts(t time.Time) []amAlert {
	// Prometheus re-sends every minute and sets endsAt 4 resends ahead.
	updated := t.Truncate(time.Minute)
	var out []amAlert
	for _, a := range d.active(t) {
		if !a.st.firing {
			continue
		}
		labels := a.r.labels()
		st := amStatus{InhibitedBy: []string{}, SilencedBy: []string{}, State: "active"}
		if a.r.silenced {
			st.SilencedBy = []string{silenceID}
			st.State = "suppressed"
		}
		if ids := d.userSilences.silencing(labels, d.now()); len(ids) > 0 {
			st.SilencedBy = append(st.SilencedBy, ids...)
			st.State = "suppressed"
		}
		up := updated
		if up.Before(a.st.firedAt) {
			up = a.st.firedAt
		}
		out = append(out, amAlert{
			Annotations:  a.r.annotations(),
			EndsAt:       amTime(up.Add(4 * time.Minute)),
			Fingerprint:  pmodel.LabelSet(toLabelSet(labels)).Fingerprint().String(),
			Receivers:    []amReceiver{{Name: "noc"}},
			StartsAt:     amTime(a.st.firedAt),
			Status:       st,
			UpdatedAt:    amTime(up),
			GeneratorURL: d.generatorURL(a.r),
			Labels:       labels,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Fingerprint < out[j].Fingerprint })
	return out
}

func (d *Demo) silences() []amSilence {
	created := d.start.Add(-2 * time.Hour)
	var out []amSilence
	for _, r := range rules {
		if !r.silenced {
			continue
		}
		out = append(out, amSilence{
			ID:        silenceID,
			Status:    amSilStatus{State: "active"},
			UpdatedAt: amTime(created),
			Comment:   silenceComment,
			CreatedBy: silenceBy,
			StartsAt:  amTime(created),
			EndsAt:    amTime(created.Add(100 * 24 * time.Hour)),
			Matchers: []amMatcher{
				{IsEqual: true, Name: "alertname", Value: r.name},
				{IsEqual: true, Name: "service", Value: r.service},
			},
		})
	}
	if out == nil {
		out = []amSilence{}
	}
	return out
}

func toLabelSet(m map[string]string) pmodel.LabelSet {
	ls := make(pmodel.LabelSet, len(m))
	for k, v := range m {
		ls[pmodel.LabelName(k)] = pmodel.LabelValue(v)
	}
	return ls
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

func amJSONError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(amError{Code: code, Message: msg})
}

func plain(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(body))
	}
}

// services is the demo's service catalog.
var services = []struct {
	name, owner, contact string
	dependsOn            []string
	cloudWatch           []string // matchers for the service's CloudWatch alarms
}{
	{"db-main", "team-data", "#data-oncall", nil, []string{`dimension_DBInstanceIdentifier="db-main"`}},
	{"payments", "team-payments", "#payments-oncall", []string{"db-main"}, []string{`dimension_LoadBalancer=~"app/payments/.*"`}},
	{"checkout", "team-web", "#web-oncall", []string{"payments"}, nil},
	{"web", "team-web", "#web-oncall", []string{"checkout"}, nil},
	{"search", "team-search", "#search-oncall", nil, nil},
	{"auth", "team-identity", "#identity-oncall", nil, nil},
	{"edge", "team-network", "#network-oncall", nil, nil},
}

// Config returns a configuration whose sources are the demo servers (one
// Prometheus, the Alertmanager pair am-a and am-b) and whose catalog holds
// the scenario's services with owners, contacts, runbooks and the
// dependency chain db-main → payments → checkout → web.
func (d *Demo) Config() *config.Config {
	c := config.Default()
	src := func(name, typ, u string) config.Source {
		s := config.DefaultSource()
		s.Name, s.Type, s.URL = name, typ, u
		s.Interval = pmodel.Duration(5 * time.Second)
		s.Timeout = pmodel.Duration(4 * time.Second)
		return s
	}
	c.Sources = []config.Source{
		src("prom", "prometheus", d.prom.url),
		src("am-a", "alertmanager", d.amA.url),
		src("am-b", "alertmanager", d.amB.url),
		d.cloudWatchSource(),
		d.deskSource(),
	}
	for _, s := range services {
		c.Services = append(c.Services, config.Service{
			Name:      s.name,
			Match:     append([]string{`service="` + s.name + `"`}, s.cloudWatch...),
			DependsOn: append([]string(nil), s.dependsOn...),
			Owner:     s.owner,
			Contacts:  []string{s.contact, strings.TrimPrefix(s.owner, "team-") + "-oncall@example.com"},
			Runbook:   runbookURL(s.name),
		})
		// Each team is told through a webhook the demo accepts (notify.go).
		if c.TeamNamed(s.owner) == nil {
			c.Teams = append(c.Teams, config.OwnerTeam{Name: s.owner, NotifyOnResolve: true, Notify: []config.NotifyChannel{
				{Type: config.ChannelWebhook, URL: pconfig.Secret(d.notify.url + "/notify/" + s.owner)}}})
		}
	}
	c.NotifyAfter = pmodel.Duration(10 * time.Minute)
	c.Escalation = []config.Level{
		{Level: 1, Who: "NOC tier 1", Contact: "#noc", After: 0},
		{Level: 2, Who: "service owner on-call", Contact: "owner's channel", After: pmodel.Duration(15 * time.Minute), MinRole: "tier1"},
		{Level: 3, Who: "incident commander", Contact: "#incident", After: pmodel.Duration(30 * time.Minute), MinRole: "lead"},
	}
	// Named views for the command palette (:).
	c.Views = []config.View{
		{Name: "pay-crit", Filter: `service=~"pay.*" severity=critical`, Panel: "alerts"},
		{Name: "t1-by-age", Filter: "@tier=1", Panel: "backlog", Sort: "age"},
	}
	return c
}
