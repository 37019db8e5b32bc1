// Package prometheus reads the alerts of a Prometheus server (or anything
// serving its /api/v1/alerts, such as Thanos or vmalert) as a sitroom
// source.
package prometheus

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"sitroom/model"
	"sitroom/sources"
)

// AlertsPath is the API path the source polls.
const AlertsPath = "/api/v1/alerts"

// Source is one Prometheus server.
//
// Fetch is meant to be called from one goroutine at a time; concurrent
// calls are safe but run one after the other. Between polls the source
// keeps the last reply's buffer and a small string cache, so a steady
// poll allocates little beyond the alerts it returns.
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
// "http://127.0.0.1:9090", possibly with a path prefix) with client
// (http.DefaultClient when nil). ignoreLabels are left out of each alert's
// Key, so the same alert seen elsewhere with extra labels can match.
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

// Type is "prometheus".
func (s *Source) Type() string { return "prometheus" }

// SetMaxBytes caps the size of a reply (sources.DefaultMaxBytes when n <= 0).
// Call it before the first Fetch.
func (s *Source) SetMaxBytes(n int64) { s.maxBytes = n }

// Fetch returns every firing and pending alert the server holds. Alerts of
// the v1 API carry no generator URL, so GeneratorURL is empty. Errors are
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
		return nil, apiError(err)
	}
	return alerts, nil
}

// apiError turns a non-2xx reply carrying Prometheus' error object into a
// clear message; anything else is returned as it is.
func apiError(err error) error {
	fe, ok := err.(*sources.FetchError)
	if !ok || fe.Kind != sources.KindHTTP || len(fe.Body) == 0 {
		return err
	}
	sc := sources.NewJSONScanner()
	sc.Reset(fe.Body)
	var env envelope
	if decodeEnvelope(sc, &env, nil) != nil || env.status != "error" {
		return err
	}
	head := fe.Msg
	if i := strings.Index(head, ": "); i >= 0 {
		head = head[:i]
	}
	return &sources.FetchError{Kind: sources.KindAPI, Status: fe.Status, Msg: head + ": " + env.message(), Err: err}
}

type envelope struct {
	status    string
	errorType string
	errorText string
	alerts    []model.Alert
}

func (e *envelope) message() string {
	t := sources.Sanitize(e.errorType, 40)
	m := sources.Sanitize(e.errorText, 160)
	switch {
	case t != "" && m != "":
		return fmt.Sprintf("Prometheus error %s: %s", t, m)
	case m != "":
		return "Prometheus error: " + m
	case t != "":
		return "Prometheus error " + t
	}
	return "Prometheus error (no message)"
}

// Decode reads an /api/v1/alerts reply from data with sc and returns its
// firing and pending alerts, keyed with the ignore labels left out. Alerts
// in any other state are skipped. A reply whose status is "error" gives a
// *sources.FetchError of kind KindAPI; a reply that is not JSON of this
// shape gives one of kind KindMalformed or KindTruncated.
func Decode(sc *sources.JSONScanner, data []byte, ignore []string) ([]model.Alert, error) {
	sc.Reset(data)
	defer sc.Reset(nil)
	var env envelope
	if err := decodeEnvelope(sc, &env, func() error { return decodeAlerts(sc, &env, ignore) }); err != nil {
		return nil, err
	}
	if err := sc.End(); err != nil {
		return nil, err
	}
	switch env.status {
	case "success":
		return env.alerts, nil
	case "error":
		return nil, &sources.FetchError{Kind: sources.KindAPI, Msg: env.message()}
	case "":
		return nil, sources.MalformedError(`no "status" in reply (is this a Prometheus API?)`)
	}
	return nil, sources.MalformedError(fmt.Sprintf("unknown status %q", sources.Sanitize(env.status, 40)))
}

// decodeEnvelope reads {"status":..,"errorType":..,"error":..,"data":{"alerts":[..]}},
// calling alerts (when non-nil) positioned at the alerts array.
func decodeEnvelope(sc *sources.JSONScanner, env *envelope, alerts func() error) error {
	if sc.Peek() != '{' {
		return sources.MalformedError("expected a JSON object (is this a Prometheus API?)")
	}
	_, err := sc.Object("reply", func(name []byte) error {
		var err error
		switch string(name) {
		case "status":
			env.status, err = sc.String("status")
		case "errorType":
			env.errorType, err = sc.String("errorType")
		case "error":
			env.errorText, err = sc.String("error")
		case "data":
			if alerts == nil {
				return sc.Skip()
			}
			if sc.Peek() != '{' && sc.Peek() != 'n' {
				return sources.MalformedError("data: expected an object")
			}
			_, err = sc.Object("data", func(name []byte) error {
				if string(name) == "alerts" {
					return alerts()
				}
				return sc.Skip()
			})
		default:
			err = sc.Skip()
		}
		return err
	})
	return err
}

func decodeAlerts(sc *sources.JSONScanner, env *envelope, ignore []string) error {
	_, err := sc.Array("data.alerts", func() error {
		var a model.Alert
		var state string
		if sc.Peek() != '{' {
			return sources.MalformedError("data.alerts: expected objects")
		}
		_, err := sc.Object("alert", func(name []byte) error {
			var err error
			switch string(name) {
			case "labels":
				a.Labels, a.Key, err = sc.Labels("labels", ignore)
			case "annotations":
				a.Annotations, err = sc.StringMap("annotations")
			case "state":
				state, err = sc.String("state")
			case "activeAt":
				a.StartsAt, err = sc.Time("activeAt")
			default:
				err = sc.Skip()
			}
			return err
		})
		if err != nil {
			return err
		}
		switch state {
		case "firing":
			a.State = model.StateFiring
		case "pending":
			a.State = model.StatePending
		default:
			return nil
		}
		if a.Labels == nil {
			a.Labels = map[string]string{}
			a.Key = sources.LabelsKey(a.Labels, ignore, nil)
		}
		env.alerts = append(env.alerts, a)
		return nil
	})
	return err
}
