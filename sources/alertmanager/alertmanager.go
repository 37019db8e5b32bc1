// Package alertmanager reads the alerts of an Alertmanager (or anything
// serving its /api/v2/alerts, such as Mimir's or Cortex's multi-tenant
// Alertmanager) as a sitroom source.
package alertmanager

import (
	"net/http"

	"sitroom/model"
	"sitroom/sources"
)

// AlertsPath is the API path the source polls, with every kind of alert
// asked for explicitly: silenced and inhibited alerts are shown (as
// suppressed), and unprocessed ones are new alerts not yet routed.
const AlertsPath = "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true"

// Source is one Alertmanager.
//
// Fetch is sources.JSONSource's; between polls the source keeps the alerts
// of the last reply and reuses those that did not change, so the maps and
// slices of the alerts Fetch returns are shared from poll to poll and must
// not be modified.
//
// Its Fetch returns every alert the Alertmanager holds that has not resolved:
// active and unprocessed ones as firing, silenced and inhibited ones as
// suppressed. Resolved alerts are left out by the Alertmanager itself
// (by its own clock, which is the one that counts). Errors are
// *sources.FetchError.
type Source struct {
	*sources.JSONSource
	health *health
}

var (
	_ sources.Source       = (*Source)(nil)
	_ sources.HealthReader = (*Source)(nil)
)

// New returns the source called name reading baseURL (e.g.
// "http://127.0.0.1:9093", possibly with a path prefix) with client
// (http.DefaultClient when nil). ignoreLabels are left out of each alert's
// Key: name here the external labels the Prometheus servers feeding this
// Alertmanager add (cluster, replica…), so their alerts match the same
// alerts read from those servers' own API.
func New(name, baseURL string, client *http.Client, ignoreLabels []string) *Source {
	return &Source{JSONSource: api.NewSource(name, baseURL, client, ignoreLabels), health: newHealth(baseURL, client)}
}

// api is the Alertmanager v2 alerts API, its replies read by decode;
// failed fetches are reported as they are.
var api = sources.AlertAPI{Type: Type, Path: AlertsPath, Decode: decode, Elements: start, StatusPath: StatusPath, Started: started}

// Decode reads an /api/v2/alerts reply (a JSON array of gettableAlert)
// from data with sc and returns its alerts, keyed with the ignore labels
// left out. Alerts whose status.state is unknown are skipped. A reply that
// is not JSON of this shape gives a *sources.FetchError of kind
// KindMalformed or KindTruncated.
func Decode(sc *sources.JSONScanner, data []byte, ignore []string) ([]model.Alert, error) {
	return decode(sc, nil, data, ignore)
}

// Decoder decodes the successive replies of one Alertmanager, reusing the
// alerts of the previous reply that did not change (see
// sources.MemoDecoder): an unchanged alert costs a syntax check and a hash
// of its bytes instead of a decode. Its results equal Decode's. The maps
// and slices of the alerts it returns are shared with earlier results and
// must not be modified. A Decoder is not safe for concurrent use.
type Decoder = sources.MemoDecoder

// NewDecoder returns a decoder keying alerts with ignore left out.
func NewDecoder(ignore []string) *Decoder {
	return api.NewDecoder(ignore)
}

// The members of an alert object sitroom keeps, as memo tags. endsAt and
// updatedAt are left out on purpose: Alertmanager moves them on every
// resend of an unchanged alert.
const (
	tagLabels byte = 1 + iota
	tagAnnotations
	tagStartsAt
	tagGeneratorURL
	tagStatus
)

func memberTag(name []byte) byte {
	switch string(name) {
	case "labels":
		return tagLabels
	case "annotations":
		return tagAnnotations
	case "startsAt":
		return tagStartsAt
	case "generatorURL":
		return tagGeneratorURL
	case "status":
		return tagStatus
	}
	return 0
}

// format is what sources.AlertReader needs to know of the alert objects.
var format = sources.AlertFormat{Array: "alerts", MemberTag: memberTag, State: state}

// state maps status.state onto the alert's state; unknown states are
// skipped.
func state(s string) (model.State, bool) {
	switch s {
	case "active", "unprocessed":
		return model.StateFiring, true
	case "suppressed":
		return model.StateSuppressed, true
	}
	return model.StateNone, false
}

// decoder is the state of one decode.
type decoder struct {
	sources.AlertReader
	sc     *sources.JSONScanner
	ignore []string

	// method value, made once per decode
	statusFn func([]byte) error
}

func decode(sc *sources.JSONScanner, memo *sources.AlertMemo, data []byte, ignore []string) ([]model.Alert, error) {
	sc.Reset(data)
	defer sc.Reset(nil)
	if c := sc.Peek(); c != '[' {
		if c == '{' {
			return nil, sources.MalformedError("expected a JSON array of alerts, found an object (is this an Alertmanager v2 API?)")
		}
		if c == 0 && sc.End() == nil { // 0 is also a NUL byte
			return nil, sources.MalformedError("empty body")
		}
		return nil, sources.MalformedError("expected a JSON array of alerts")
	}
	d := start(sc, memo, ignore)
	if _, err := sc.Array("alerts", d.Read); err != nil {
		return nil, err
	}
	if err := sc.End(); err != nil {
		return nil, err
	}
	if len(d.Alerts) == 0 {
		return nil, nil
	}
	return d.Alerts, nil
}

// start readies one decode of the alert objects of a reply, read one by
// one with the returned reader's Read (sources.MemoStartFunc).
func start(sc *sources.JSONScanner, memo *sources.AlertMemo, ignore []string) *sources.AlertReader {
	d := &decoder{sc: sc, ignore: ignore}
	d.statusFn = d.statusMember
	d.Start(sc, memo, ignore, &format, d.decodeMember, nil)
	return &d.AlertReader
}

// decodeMember decodes the member tagged d.Cur into d.A and d.State.
func (d *decoder) decodeMember() (err error) {
	sc := d.sc
	switch d.Cur {
	case tagLabels:
		d.A.Labels, d.A.Key, err = sc.Labels("labels", d.ignore)
	case tagAnnotations:
		d.A.Annotations, err = sc.StringLabels("annotations")
	case tagStartsAt:
		d.A.StartsAt, err = sc.Stamp("startsAt")
	case tagGeneratorURL:
		d.A.GeneratorURL, err = sc.String("generatorURL")
	case tagStatus:
		if sc.Peek() != '{' && sc.Peek() != 'n' {
			return sources.MalformedError("status: expected an object")
		}
		_, err = sc.Object("status", d.statusFn)
	}
	return err
}

func (d *decoder) statusMember(name []byte) error {
	var err error
	switch string(name) {
	case "state":
		d.State, err = d.sc.String("status.state")
	case "silencedBy":
		var ids []string
		ids, err = d.sc.StringSlice("status.silencedBy")
		d.A.Suppressed = model.Suppress(ids, d.A.InhibitedBy())
	case "inhibitedBy":
		var ids []string
		ids, err = d.sc.StringSlice("status.inhibitedBy")
		d.A.Suppressed = model.Suppress(d.A.SilencedBy(), ids)
	default:
		err = d.sc.Skip()
	}
	return err
}
