// Package alertmanager reads the alerts of an Alertmanager (or anything
// serving its /api/v2/alerts, such as Mimir's or Cortex's multi-tenant
// Alertmanager) as a sitroom source.
package alertmanager

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"

	"sitroom/model"
	"sitroom/sources"
)

// AlertsPath is the API path the source polls, with every kind of alert
// asked for explicitly: silenced and inhibited alerts are shown (as
// suppressed), and unprocessed ones are new alerts not yet routed.
const AlertsPath = "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true"

// Source is one Alertmanager.
//
// Fetch is meant to be called from one goroutine at a time; concurrent
// calls are safe but run one after the other. Between polls the source
// keeps the last reply's buffer and a small string cache.
type Source struct {
	name     string
	url      string
	client   *http.Client
	ignore   []string
	maxBytes int64

	mu  sync.Mutex // held for a whole Fetch; guards sc and buf
	sc  *sources.JSONScanner
	buf []byte
}

var _ sources.Source = (*Source)(nil)

// New returns the source called name reading baseURL (e.g.
// "http://127.0.0.1:9093", possibly with a path prefix) with client
// (http.DefaultClient when nil). ignoreLabels are left out of each alert's
// Key: name here the external labels the Prometheus servers feeding this
// Alertmanager add (cluster, replica…), so their alerts match the same
// alerts read from those servers' own API.
func New(name, baseURL string, client *http.Client, ignoreLabels []string) *Source {
	if client == nil {
		client = http.DefaultClient
	}
	return &Source{
		name:   name,
		url:    strings.TrimRight(baseURL, "/") + AlertsPath,
		client: client,
		ignore: append([]string(nil), ignoreLabels...),
		sc:     sources.NewJSONScanner(),
	}
}

// Name is the configured source name.
func (s *Source) Name() string { return s.name }

// Type is "alertmanager".
func (s *Source) Type() string { return "alertmanager" }

// SetMaxBytes caps the size of a reply (sources.DefaultMaxBytes when n <= 0).
// Call it before the first Fetch.
func (s *Source) SetMaxBytes(n int64) { s.maxBytes = n }

// Fetch returns every alert the Alertmanager holds that has not resolved:
// active and unprocessed ones as firing, silenced and inhibited ones as
// suppressed. Resolved alerts are left out by the Alertmanager itself
// (by its own clock, which is the one that counts). Errors are
// *sources.FetchError.
func (s *Source) Fetch(ctx context.Context) ([]model.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var alerts []model.Alert
	err := sources.GetJSON(ctx, s.client, s.url, s.maxBytes, func(r io.Reader) error {
		var err error
		if s.buf, err = sources.ReadAll(s.buf, r); err != nil {
			return err
		}
		alerts, err = Decode(s.sc, s.buf, s.ignore)
		return err
	})
	if err != nil {
		return nil, err
	}
	return alerts, nil
}

// Decode reads an /api/v2/alerts reply (a JSON array of gettableAlert)
// from data with sc and returns its alerts, keyed with the ignore labels
// left out. Alerts whose status.state is unknown are skipped. A reply that
// is not JSON of this shape gives a *sources.FetchError of kind
// KindMalformed or KindTruncated.
func Decode(sc *sources.JSONScanner, data []byte, ignore []string) ([]model.Alert, error) {
	sc.Reset(data)
	defer sc.Reset(nil)
	if c := sc.Peek(); c != '[' {
		if c == '{' {
			return nil, sources.MalformedError("expected a JSON array of alerts, found an object (is this an Alertmanager v2 API?)")
		}
		if c == 0 {
			return nil, sources.MalformedError("empty body")
		}
		return nil, sources.MalformedError("expected a JSON array of alerts")
	}
	var alerts []model.Alert
	_, err := sc.Array("alerts", func() error {
		var a model.Alert
		var state string
		if sc.Peek() != '{' {
			return sources.MalformedError("alerts: expected objects")
		}
		_, err := sc.Object("alert", func(name []byte) error {
			var err error
			switch string(name) {
			case "labels":
				a.Labels, a.Key, err = sc.Labels("labels", ignore)
			case "annotations":
				a.Annotations, err = sc.StringMap("annotations")
			case "startsAt":
				a.StartsAt, err = sc.Time("startsAt")
			case "generatorURL":
				a.GeneratorURL, err = sc.String("generatorURL")
			case "status":
				if sc.Peek() != '{' && sc.Peek() != 'n' {
					return sources.MalformedError("status: expected an object")
				}
				_, err = sc.Object("status", func(name []byte) error {
					var err error
					switch string(name) {
					case "state":
						state, err = sc.String("status.state")
					case "silencedBy":
						a.SilencedBy, err = sc.StringSlice("status.silencedBy")
					case "inhibitedBy":
						a.InhibitedBy, err = sc.StringSlice("status.inhibitedBy")
					default:
						err = sc.Skip()
					}
					return err
				})
			default:
				err = sc.Skip()
			}
			return err
		})
		if err != nil {
			return err
		}
		switch state {
		case "active", "unprocessed":
			a.State = model.StateFiring
		case "suppressed":
			a.State = model.StateSuppressed
		default:
			return nil
		}
		if a.Labels == nil {
			a.Labels = map[string]string{}
			a.Key = sources.LabelsKey(a.Labels, ignore, nil)
		}
		alerts = append(alerts, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := sc.End(); err != nil {
		return nil, err
	}
	return alerts, nil
}
