// Package prometheus reads the alerts of a Prometheus server (or anything
// serving its /api/v1/alerts, such as Thanos or vmalert) as a sitroom
// source.
package prometheus

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"sitroom/model"
	"sitroom/sources"
)

// AlertsPath is the API path the source polls.
const AlertsPath = "/api/v1/alerts"

// Source is one Prometheus server.
//
// Fetch is sources.JSONSource's, then each firing alert's StartsAt is made
// when it fired: activeAt (the start of pending) plus its rule's `for`,
// read from /api/v1/rules every RulesEvery. Between polls the source keeps
// the alerts of the last reply and reuses those that did not change, so
// the maps and slices of the alerts Fetch returns are shared from poll to
// poll and must not be modified.
//
// Its Fetch returns every firing and pending alert the server holds. Alerts of
// the v1 API carry no generator URL, so GeneratorURL is empty. Errors are
// *sources.FetchError.
type Source struct {
	*sources.JSONSource
	rules  *rules
	ext    *learner
	health *health
}

var (
	_ sources.Source            = (*Source)(nil)
	_ sources.HealthReader      = (*Source)(nil)
	_ sources.AlertmanagerNamer = (*Source)(nil)
)

// New returns the source called name reading baseURL (e.g.
// "http://127.0.0.1:9090", possibly with a path prefix) with client
// (http.DefaultClient when nil). ignoreLabels are left out of each alert's
// Key, so the same alert seen elsewhere with extra labels can match.
func New(name, baseURL string, client *http.Client, ignoreLabels []string) *Source {
	s := &Source{rules: newRules(baseURL, client), ext: newLearner(baseURL, client), health: newHealth(baseURL, client)}
	a := api
	a.Decode = s.ext.decode
	s.JSONSource = a.NewSource(name, baseURL, client, ignoreLabels)
	return s
}

// Fetch polls the server's alerts, labelled as its Alertmanagers receive
// them (see External); firing ones start when they fired.
func (s *Source) Fetch(ctx context.Context) ([]model.Alert, error) {
	s.ext.refresh(ctx, time.Now())
	alerts, err := s.JSONSource.Fetch(ctx)
	if err != nil {
		return nil, err
	}
	s.rules.startFiring(ctx, alerts, time.Now())
	return alerts, nil
}

// External is what the source learned from the server's config
// (ConfigPath, read at the first Fetch and every ConfigEvery after): the
// external labels it adds to each alert lacking them, then the
// alert_relabel_configs it applies, exactly as Prometheus does before
// sending an alert to an Alertmanager, so that the same alert read from
// Prometheus and from its Alertmanagers is one row. A server that does not
// serve its config (Thanos Ruler, vmalert) or refuses it has its alerts
// shown as it lists them.
func (s *Source) External() External { return s.ext.External() }

// api is the Prometheus alerts API: its replies are read by decode, its
// error replies turned into clear messages by apiError.
var api = sources.AlertAPI{Type: Type, Path: AlertsPath, Decode: decode, MapErr: apiError,
	StatusPath: StatusPath, Started: started}

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
	return decode(sc, nil, data, ignore)
}

func decode(sc *sources.JSONScanner, memo *sources.AlertMemo, data []byte, ignore []string) ([]model.Alert, error) {
	return decodeWith(sc, memo, data, ignore, nil)
}

// decodeWith is decode labelling each alert it decodes with ext (when not
// nil) before keying it.
func decodeWith(sc *sources.JSONScanner, memo *sources.AlertMemo, data []byte, ignore []string, ext *external) ([]model.Alert, error) {
	sc.Reset(data)
	defer sc.Reset(nil)
	var env envelope
	if err := decodeEnvelope(sc, &env, func() error { return decodeAlerts(sc, memo, &env, ignore, ext) }); err != nil {
		return nil, err
	}
	if err := sc.End(); err != nil {
		return nil, err
	}
	switch env.status {
	case "success":
		if len(env.alerts) == 0 {
			return nil, nil
		}
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

// Decoder decodes the successive replies of one Prometheus server, reusing
// the alerts of the previous reply that did not change (see
// sources.MemoDecoder): an unchanged alert costs a syntax check and a hash
// of its bytes instead of a decode. Its results equal Decode's. The maps of
// the alerts it returns are shared with earlier results and must not be
// modified. A Decoder is not safe for concurrent use.
type Decoder = sources.MemoDecoder

// NewDecoder returns a decoder keying alerts with ignore left out.
func NewDecoder(ignore []string) *Decoder {
	return api.NewDecoder(ignore)
}

// The members of an alert object sitroom keeps, as memo tags. value is
// left out on purpose: it changes on every rule evaluation.
const (
	tagLabels byte = 1 + iota
	tagAnnotations
	tagState
	tagActiveAt
)

func memberTag(name []byte) byte {
	switch string(name) {
	case "labels":
		return tagLabels
	case "annotations":
		return tagAnnotations
	case "state":
		return tagState
	case "activeAt":
		return tagActiveAt
	}
	return 0
}

// format is what sources.AlertReader needs to know of the alert objects.
var format = sources.AlertFormat{Array: "data.alerts", MemberTag: memberTag, State: state}

// state maps an alert's state onto sitroom's; inactive and unknown states
// are skipped.
func state(s string) (model.State, bool) {
	switch s {
	case "firing":
		return model.StateFiring, true
	case "pending":
		return model.StatePending, true
	}
	return model.StateNone, false
}

// alertsDecoder is the state of one decode of the alerts array.
type alertsDecoder struct {
	sources.AlertReader
	sc      *sources.JSONScanner
	ignore  []string
	ext     *external
	scratch []string
}

func decodeAlerts(sc *sources.JSONScanner, memo *sources.AlertMemo, env *envelope, ignore []string, ext *external) error {
	d := &alertsDecoder{sc: sc, ignore: ignore, ext: ext}
	d.Start(sc, memo, ignore, &format, d.decodeMember, env.alerts)
	_, err := sc.Array("data.alerts", d.Read)
	env.alerts = d.Alerts
	return err
}

// decodeMember decodes the member tagged d.Cur into d.A and d.State.
func (d *alertsDecoder) decodeMember() (err error) {
	sc := d.sc
	switch d.Cur {
	case tagLabels:
		d.A.Labels, d.A.Key, err = sc.Labels("labels", d.ignore)
		if err == nil && d.ext != nil {
			m := d.A.Labels.Map()
			if m == nil {
				m = map[string]string{}
			}
			if d.ext.apply(m) {
				d.A.Labels = model.LabelsFromMap(m)
				d.A.Key = sources.LabelsKey(d.A.Labels, d.ignore)
			}
		}
	case tagAnnotations:
		d.A.Annotations, err = sc.StringLabels("annotations")
	case tagState:
		d.State, err = sc.String("state")
	case tagActiveAt:
		d.A.StartsAt, err = sc.Stamp("activeAt")
	}
	return err
}
