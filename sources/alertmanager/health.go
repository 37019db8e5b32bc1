package alertmanager

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/go-json-experiment/json"

	"sitroom/model"
	"sitroom/sources"
)

// MetricsPath is the Alertmanager's own metrics.
const MetricsPath = "/metrics"

// health is what the source remembers between two health reads: the most
// cluster peers the Alertmanager listed since sitroom started.
type health struct {
	base   string
	client *http.Client

	mu   sync.Mutex
	best int
}

// Health reads what the Alertmanager reports of its own part of the
// alerting pipeline (sources.HealthReader): its cluster (/api/v2/status:
// a cluster.status other than ready, settling or disabled, or fewer
// cluster.peers, itself included, than it listed at its best since
// sitroom started: a split, whose members no longer share silences) and
// its last config reload (/metrics:
// alertmanager_config_last_reload_successful 0). An endpoint it does not
// offer or refuses is a note.
func (s *Source) Health(ctx context.Context) ([]model.Finding, error) {
	var notes sources.HealthNotes
	var out []model.Finding
	fs, err := s.health.cluster(ctx)
	if notes.Add(StatusPath, err) {
		out = append(out, fs...)
	}
	fs, err = s.health.reload(ctx)
	if notes.Add(MetricsPath, err) {
		out = append(out, fs...)
	}
	return append(out, notes.Findings()...), nil
}

func (h *health) cluster(ctx context.Context) ([]model.Finding, error) {
	var st struct {
		Cluster struct {
			Status string `json:"status"`
			Peers  []struct {
				Name string `json:"name"`
			} `json:"peers"`
		} `json:"cluster"`
	}
	err := sources.GetJSON(ctx, h.client, h.base+StatusPath, 0, func(body io.Reader) error {
		return json.UnmarshalRead(body, &st, json.RejectUnknownMembers(false))
	})
	if err != nil {
		return nil, err
	}
	status, peers := st.Cluster.Status, len(st.Cluster.Peers)
	h.mu.Lock()
	h.best = max(h.best, peers)
	best := h.best
	h.mu.Unlock()
	text := fmt.Sprintf("cluster.status %s, %s", status, model.Plural(peers, "peer", "peers"))
	switch {
	case status == "disabled" || status == "":
		return nil, nil
	case status != "ready" && status != "settling":
		return []model.Finding{{Kind: model.FindingCluster, Subject: "cluster " + sources.Sanitize(status, 20), Text: text, Severe: true}}, nil
	case peers < best:
		return []model.Finding{{Kind: model.FindingCluster, Subject: fmt.Sprintf("cluster split (%d of %s)", peers, model.Plural(best, "peer", "peers")),
			Text: text + " (" + model.Plural(best, "peer", "peers") + " at most since sitroom started)", Severe: true}}, nil
	}
	return nil, nil
}

func (h *health) reload(ctx context.Context) ([]model.Finding, error) {
	mfs, err := sources.Metrics(ctx, h.client, h.base+MetricsPath)
	if err != nil {
		return nil, err
	}
	mf := mfs["alertmanager_config_last_reload_successful"]
	if mf == nil || len(mf.GetMetric()) == 0 || sources.MetricValue(mf.GetMetric()[0]) != 0 {
		return nil, nil
	}
	return []model.Finding{{Kind: model.FindingReload, Subject: "config reload failed",
		Text: "alertmanager_config_last_reload_successful 0", Severe: true}}, nil
}

func newHealth(baseURL string, client *http.Client) *health {
	if client == nil {
		client = http.DefaultClient
	}
	return &health{base: strings.TrimRight(baseURL, "/"), client: client}
}
