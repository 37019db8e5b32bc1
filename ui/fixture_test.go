package ui_test

import (
	"strings"
	"time"

	"sitroom/model"
)

// fixedNow is the clock of every golden.
var fixedNow = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return fixedNow.Add(-d) }

// hostile values that must be drawn inert.
const (
	hostileTag  = "[red]boom[-]"
	hostileURL  = "[:::http://evil]click"
	hostileOSC  = "click \x1b]8;;http://evil\x07here\x1b]8;;\x07 now"
	hostileBidi = "invoice\u202Egnp.exe"
)

func mustMatchers(s string) [][]*model.Matcher {
	m, err := model.ParseMatchers(s)
	if err != nil {
		panic(err)
	}
	return [][]*model.Matcher{m}
}

func row(source string, state model.State, started time.Duration, labels, annotations map[string]string, silencedBy ...string) *model.AlertRow {
	return &model.AlertRow{
		Source: source,
		Alert: model.Alert{
			Key:          model.LabelsKey(model.LabelsFromMap(labels), nil),
			Labels:       model.LabelsFromMap(labels),
			Annotations:  model.LabelsFromMap(annotations),
			State:        state,
			StartsAt:     model.StampOf(ago(started)),
			GeneratorURL: "http://prom.example:9090/graph?g0.expr=up",
			Suppressed:   model.Suppress(silencedBy, nil),
		},
		FirstSeen: model.StampOf(ago(started - 30*time.Second)),
		LastSeen:  model.StampOf(ago(5 * time.Second)),
	}
}

// fixture is a hand-made snapshot with every case the screen must handle:
// a mapped and an unmapped outage, a stale outage (its source is down), a
// silenced alert, a pending one, a degraded and a never-polled source, and
// hostile text.
func fixture() *model.Snapshot { return buildFixture(nil) }

// buildFixture is the fixture with edit applied to its source statuses
// and the extra rows added before the snapshot is built.
func buildFixture(edit func([]model.SourceStatus), extra ...*model.AlertRow) *model.Snapshot {
	statuses := []model.SourceStatus{
		{Name: "am-eu", Type: "alertmanager", LastAttempt: ago(5 * time.Second), LastSuccess: ago(5 * time.Second), Items: 5, Latency: 42 * time.Millisecond},
		{Name: "am-us", Type: "alertmanager", LastAttempt: ago(3 * time.Second), LastSuccess: ago(3 * time.Second), Items: 2, Latency: 38 * time.Millisecond},
		{Name: "prom", Type: "prometheus", LastAttempt: ago(10 * time.Second), LastSuccess: ago(4 * time.Minute),
			LastError: `Get "http://prom.example:9090/api/v1/alerts": dial tcp 10.0.0.7:9090: connect: connection refused`},
		{Name: "aws", Type: "cloudwatch", LastAttempt: ago(20 * time.Second), LastSuccess: ago(20 * time.Second), Note: "empty reply after 12 alerts"},
		{Name: "rt", Type: "rt"},
	}
	cat := model.NewCatalog([]*model.Service{
		{Name: "checkout", Match: mustMatchers(`service="checkout"`), Owner: "team-web", Runbook: "runbooks/checkout.md"},
		{Name: "payments", Match: mustMatchers(`service="payments"`), Owner: "team-pay"},
	})
	highErr := map[string]string{"alertname": "HighErrorRate", "severity": "critical", "service": "checkout", "env": "prod"}
	rows := []*model.AlertRow{
		row("am-eu", model.StateFiring, 12*time.Minute, highErr, map[string]string{
			"summary":     "5xx ratio above 5% for 10m",
			"description": "The checkout API returns 5xx for 7.2% of requests.\nCheck the payments dependency first.",
			"runbook_url": "https://runbooks.example/checkout/high-error-rate",
		}),
		row("am-us", model.StateFiring, 11*time.Minute, highErr, map[string]string{"summary": "5xx ratio above 5% for 10m"}),
		row("am-eu", model.StateFiring, 3*time.Hour+5*time.Minute, map[string]string{"alertname": "LatencyHigh", "severity": "warning", "service": "checkout"},
			map[string]string{"summary": "p99 latency 2.4s (SLO 800ms)"}),
		row("am-eu", model.StateSuppressed, 50*time.Minute, map[string]string{"alertname": "DiskAlmostFull", "severity": "critical", "service": "checkout", "instance": "db-3"},
			map[string]string{"summary": "/var at 97%"}, "6a1f0c2e-silence"),
		row("prom", model.StateFiring, 2*24*time.Hour+4*time.Hour, map[string]string{"alertname": "ReplicationLag", "severity": "critical", "service": "payments-legacy"},
			map[string]string{"summary": "replica 45s behind primary"}),
		row("prom", model.StatePending, 45*time.Second, map[string]string{"alertname": "CertExpirySoon", "severity": "info", "job": "ingress"},
			map[string]string{"summary": "certificate for shop.example expires in 13d"}),
		row("am-us", model.StateFiring, 25*time.Minute, map[string]string{"alertname": "QueueBacklog", "severity": "warning", "service": "payments"},
			map[string]string{"summary": "settlement queue 12k messages"}),
		row("am-eu", model.StateFiring, 7*time.Minute, map[string]string{
			"alertname": "HostileText", "severity": "warning", "job": "edge",
			"note": hostileTag, "link": hostileURL, "file": hostileBidi,
		}, map[string]string{
			"summary": hostileOSC,
			"huge":    strings.Repeat("A", 1<<20),
			"bad":     "bytes \xff\xfe end \x7f\u009b",
		}),
	}
	for _, r := range rows {
		if r.Source == "prom" {
			r.LastSeen = model.StampOf(ago(4 * time.Minute)) // its last good poll: it is down since
		}
	}
	if edit != nil {
		edit(statuses)
	}
	rows = append(rows, extra...)
	return model.BuildSnapshot(rows, statuses, model.SnapshotOptions{Now: fixedNow, Catalog: cat})
}

func signalKey(s *model.Snapshot, name string) string {
	for _, sig := range s.Signals {
		if sig.Name() == name {
			return sig.Key
		}
	}
	panic("no signal " + name)
}
