package prometheus_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"sitroom/model"
	"sitroom/sources/prometheus"
	"sitroom/sources/sourcetest"
)

// The alerts a real Prometheus sends to a real Alertmanager, after its
// external labels and alert_relabel_configs (one of each supported kind
// that changes labels), carry exactly the labels the Prometheus source
// gives the same alerts.
func TestIntegrationLabelledAsTheAlertmanagerReceives(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	prom := sourcetest.StartPrometheusWith(t, sourcetest.PromOptions{
		RuleFiles:        []string{sourcetest.RulesFile(t)},
		AlertmanagerURLs: []string{am.URL},
		ExternalLabels:   map[string]string{"replica": "r1", "cluster": "eu1", "service": "never-wins"},
		AlertRelabelConfigs: []map[string]any{
			{"action": "labeldrop", "regex": "replica"},
			{"source_labels": []string{"severity"}, "regex": "(crit).*", "target_label": "sev"},
			{"action": "labelmap", "regex": "(serv)ice", "replacement": "${1}er"},
			{"action": "hashmod", "source_labels": []string{"alertname"}, "modulus": 8, "target_label": "shard"},
			{"source_labels": []string{"alertname"}, "regex": "(Disk).*", "target_label": "service", "replacement": ""},
			{"action": "lowercase", "source_labels": []string{"alertname"}, "target_label": "lower"},
		},
	})
	src := prometheus.New("prom", prom.URL, nil, nil)

	firing := func(alerts []model.Alert) map[string]map[string]string {
		out := map[string]map[string]string{}
		for _, a := range alerts {
			if a.State == model.StateFiring {
				out[a.Key] = a.Labels.Map()
			}
		}
		return out
	}
	var fromProm, fromAM map[string]map[string]string
	sourcetest.Eventually(t, 30*time.Second, 250*time.Millisecond, func() error {
		alerts, err := sourcetest.Fetch(t, src)
		if err != nil {
			return err
		}
		fromProm = firing(alerts)
		var received []struct {
			Labels map[string]string `json:"labels"`
		}
		if err := json.Unmarshal(am.Get(t, "/api/v2/alerts"), &received); err != nil {
			return err
		}
		fromAM = map[string]map[string]string{}
		for _, r := range received {
			fromAM[model.LabelsKey(model.LabelsFromMap(r.Labels), nil)] = r.Labels
		}
		if len(fromProm) != 3 || len(fromAM) != 3 {
			return fmt.Errorf("%d firing in Prometheus, %d in the Alertmanager", len(fromProm), len(fromAM))
		}
		return nil
	})
	assert.Equal(t, fromAM, fromProm, "keyed and labelled alike")
	byName := map[string]map[string]string{}
	for _, l := range fromProm {
		byName[l["alertname"]] = l
	}
	assert.Equal(t, map[string]string{"alertname": "HighErrorRate", "severity": "critical", "service": "checkout",
		"server": "checkout", "cluster": "eu1", "sev": "crit", "shard": byName["HighErrorRate"]["shard"], "lower": "higherrorrate"},
		byName["HighErrorRate"])
	assert.NotContains(t, byName["DiskAlmostFull"], "service")
	assert.Equal(t, "storage", byName["DiskAlmostFull"]["server"])

	x := src.External()
	assert.Equal(t, map[string]string{"replica": "r1", "cluster": "eu1", "service": "never-wins"}, x.Labels)
	assert.Equal(t, 6, x.Relabel)
	assert.Empty(t, x.Unknown)
	assert.Empty(t, x.Warnings)

	if *updatePayloads {
		sourcetest.WritePayload(t, "prometheus", "config.json", prom.Get(t, prometheus.ConfigPath))
	}
}
