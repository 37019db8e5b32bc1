package sources

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"

	"sitroom/model"
)

// Metrics reads an upstream's own /metrics (url) in the Prometheus text
// format, parsed with prometheus/common's expfmt. Errors are *FetchError.
func Metrics(ctx context.Context, c *http.Client, url string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, &FetchError{Kind: KindRequest, Msg: "bad URL: " + Sanitize(errors.Unwrap(err), snippetMax), Err: err}
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	var out map[string]*dto.MetricFamily
	_, err = DoRequest(c, req, 0, func(r io.Reader) error {
		p := expfmt.NewTextParser(pmodel.UTF8Validation)
		var perr error
		out, perr = p.TextToMetricFamilies(r)
		return perr
	})
	return out, err
}

// MetricValue is the value of one sample of a counter, gauge or untyped
// metric.
func MetricValue(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

// MetricLabel is the value of a sample's label name, "" when it has none.
func MetricLabel(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// HealthNotes gathers what a health read could not read, endpoint by
// endpoint, into notes of one line each: the endpoints the upstream does
// not offer (404), those it refuses (401, 403), and those that failed
// otherwise.
type HealthNotes struct {
	missing, refused []string
	refusedStatus    int
	failed           []model.Finding
}

// Add records that endpoint (a path, e.g. "/metrics") could not be read
// with err; it reports whether err was nil.
func (n *HealthNotes) Add(endpoint string, err error) bool {
	if err == nil {
		return true
	}
	var fe *FetchError
	if errors.As(err, &fe) {
		switch fe.Status {
		case http.StatusNotFound:
			n.missing = append(n.missing, endpoint)
			return false
		case http.StatusUnauthorized, http.StatusForbidden:
			n.refused = append(n.refused, endpoint)
			n.refusedStatus = fe.Status
			return false
		}
	}
	n.failed = append(n.failed, model.Finding{Kind: model.FindingNote, Subject: "could not read " + endpoint, Text: err.Error()})
	return false
}

// Findings are the notes, one per kind of trouble, sorted.
func (n *HealthNotes) Findings() []model.Finding {
	var out []model.Finding
	if len(n.missing) > 0 {
		sort.Strings(n.missing)
		out = append(out, model.Finding{Kind: model.FindingNote, Subject: "not offered: " + strings.Join(n.missing, ", ")})
	}
	if len(n.refused) > 0 {
		sort.Strings(n.refused)
		out = append(out, model.Finding{Kind: model.FindingNote,
			Subject: "refused (HTTP " + strconv.Itoa(n.refusedStatus) + "): " + strings.Join(n.refused, ", ")})
	}
	return append(out, n.failed...)
}
