package alertmanager_test

import (
	"flag"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/alertmanager"
	"sitroom/sources/prometheus"
	"sitroom/sources/sourcetest"
)

var updatePayloads = flag.Bool("update-payloads", false, "rewrite testdata/alertmanager payloads captured from the real server")

func testAlerts(start time.Time) []sourcetest.PostableAlert {
	return []sourcetest.PostableAlert{
		{
			Labels:       map[string]string{"alertname": "HighErrorRate", "severity": "critical", "service": "checkout"},
			Annotations:  map[string]string{"summary": "Checkout error rate above 5%", "runbook_url": "https://runbooks.example.com/checkout"},
			StartsAt:     start,
			GeneratorURL: "http://prom.example.com/graph?g0.expr=errors",
		},
		{
			Labels:      map[string]string{"alertname": "DiskAlmostFull", "severity": "warning", "service": "storage"},
			Annotations: map[string]string{"summary": "Disk above 90%"},
			StartsAt:    start,
		},
		{
			Labels:   map[string]string{"alertname": "CertExpiringSoon", "severity": "info", "service": "edge"},
			StartsAt: start,
		},
	}
}

// Uptime is how long the Alertmanager has run, by its own clock (its
// /api/v2/status uptime against its Date header).
func TestIntegrationUptime(t *testing.T) {
	began := time.Now()
	am := sourcetest.StartAlertmanager(t)
	src := alertmanager.New("am-test", am.URL, nil, nil)
	up, err := src.Uptime(t.Context())
	require.NoError(t, err)
	assert.LessOrEqual(t, up, time.Since(began)+2*time.Second, "it started with the test")
	time.Sleep(2100 * time.Millisecond) // Date has whole seconds
	later, err := src.Uptime(t.Context())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, later-up, time.Second, "uptime grows with the upstream's clock")
}

func TestIntegrationPostedAlertsAndSilence(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	src := alertmanager.New("am-test", am.URL, nil, nil)
	assert.Equal(t, "alertmanager", src.Type())
	assert.Equal(t, "am-test", src.Name())

	start := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	posted := testAlerts(start)
	// A resolved alert (endsAt in the past): the Alertmanager keeps it a
	// while but must not list it.
	posted = append(posted, sourcetest.PostableAlert{
		Labels:   map[string]string{"alertname": "AlreadyResolved", "severity": "critical", "service": "checkout"},
		StartsAt: start, EndsAt: time.Now().Add(-time.Minute),
	})
	am.PostAlerts(t, posted...)

	alerts, err := sourcetest.Fetch(t, src)
	require.NoError(t, err)
	m := sourcetest.ByName(alerts)
	require.Len(t, m, 3, "resolved alerts are not returned: %v", alerts)
	for _, p := range posted[:3] {
		a := m[p.Labels["alertname"]]
		assert.Equal(t, model.StateFiring, a.State, a.Name())
		assert.Equal(t, p.Labels, a.Labels.Map(), a.Name())
		if p.Annotations == nil {
			assert.Empty(t, a.Annotations, a.Name())
		} else {
			assert.Equal(t, p.Annotations, a.Annotations.Map(), a.Name())
		}
		assert.True(t, p.StartsAt.Equal(a.StartsAt.Time()), "%s starts %s, posted %s", a.Name(), a.StartsAt, p.StartsAt)
		assert.Equal(t, p.GeneratorURL, a.GeneratorURL, a.Name())
		assert.Equal(t, model.LabelsKey(model.LabelsFromMap(p.Labels), nil), a.Key, a.Name())
		assert.Empty(t, a.SilencedBy(), a.Name())
		assert.Empty(t, a.InhibitedBy(), a.Name())
	}
	if *updatePayloads {
		sourcetest.WritePayload(t, "alertmanager", "alerts.json", am.Get(t, alertmanager.AlertsPath))
	}

	id := am.CreateSilence(t, map[string]string{"alertname": "DiskAlmostFull"}, time.Hour, "noc-test", "maintenance")
	sourcetest.Eventually(t, 10*time.Second, 100*time.Millisecond, func() error {
		alerts, err = sourcetest.Fetch(t, src)
		if err != nil {
			return err
		}
		if s := sourcetest.ByName(alerts)["DiskAlmostFull"].State; s != model.StateSuppressed {
			return fmt.Errorf("DiskAlmostFull is %q", s)
		}
		return nil
	})
	m = sourcetest.ByName(alerts)
	disk := m["DiskAlmostFull"]
	assert.Equal(t, []string{id}, disk.SilencedBy())
	assert.Equal(t, model.StateFiring, m["HighErrorRate"].State, "only the silenced alert is suppressed")
	assert.Equal(t, model.StateFiring, m["CertExpiringSoon"].State)
	if *updatePayloads {
		sourcetest.WritePayload(t, "alertmanager", "alerts-silenced.json", am.Get(t, alertmanager.AlertsPath))
	}
}

func TestIntegrationInhibitedAlert(t *testing.T) {
	am := sourcetest.StartAlertmanager(t, sourcetest.WithAlertmanagerConfig(sourcetest.DefaultAlertmanagerConfig+`
inhibit_rules:
  - source_matchers: [alertname="ServiceDown"]
    target_matchers: [alertname="HighLatency"]
    equal: [service]
`))
	src := alertmanager.New("am", am.URL, nil, nil)
	am.PostAlerts(t,
		sourcetest.PostableAlert{Labels: map[string]string{"alertname": "ServiceDown", "service": "checkout", "severity": "critical"}},
		sourcetest.PostableAlert{Labels: map[string]string{"alertname": "HighLatency", "service": "checkout", "severity": "warning"}},
	)
	var alerts []model.Alert
	sourcetest.Eventually(t, 15*time.Second, 200*time.Millisecond, func() error {
		var err error
		if alerts, err = sourcetest.Fetch(t, src); err != nil {
			return err
		}
		if s := sourcetest.ByName(alerts)["HighLatency"].State; s != model.StateSuppressed {
			return fmt.Errorf("HighLatency is %q", s)
		}
		return nil
	})
	m := sourcetest.ByName(alerts)
	assert.Equal(t, model.StateFiring, m["ServiceDown"].State)
	// InhibitedBy holds the fingerprints of the inhibiting alerts.
	latency := m["HighLatency"]
	assert.Equal(t, []string{model.LabelsKey(m["ServiceDown"].Labels, nil)}, latency.InhibitedBy())
	assert.Empty(t, latency.SilencedBy())
	if *updatePayloads {
		sourcetest.WritePayload(t, "alertmanager", "alerts-inhibited.json", am.Get(t, alertmanager.AlertsPath))
	}
}

// Two Alertmanagers of an HA pair each hold the same alert: merged, it is
// one signal listing both sources.
func TestIntegrationHAPairIsOneSignal(t *testing.T) {
	am1 := sourcetest.StartAlertmanager(t)
	am2 := sourcetest.StartAlertmanager(t)
	alert := testAlerts(time.Now().Add(-time.Minute).Truncate(time.Second))[0]
	am1.PostAlerts(t, alert)
	am2.PostAlerts(t, alert)

	now := time.Now()
	var rows []*model.AlertRow
	var statuses []model.SourceStatus
	for _, src := range []*alertmanager.Source{alertmanager.New("am-a", am1.URL, nil, nil), alertmanager.New("am-b", am2.URL, nil, nil)} {
		alerts, err := sourcetest.Fetch(t, src)
		require.NoError(t, err)
		require.Len(t, alerts, 1)
		for _, a := range alerts {
			rows = append(rows, &model.AlertRow{Source: src.Name(), Alert: a, FirstSeen: model.StampOf(now), LastSeen: model.StampOf(now)})
		}
		statuses = append(statuses, model.SourceStatus{Name: src.Name(), Type: src.Type(), LastAttempt: now, LastSuccess: now, Items: len(alerts)})
	}
	snap := model.BuildSnapshot(rows, statuses, model.SnapshotOptions{Now: now})
	require.Len(t, snap.Signals, 1)
	sig := snap.Signals[0]
	assert.Equal(t, []string{"am-a", "am-b"}, sig.Sources)
	assert.Equal(t, "HighErrorRate", sig.Name())
	assert.Equal(t, model.StateFiring, sig.State)
	assert.False(t, sig.Stale)
	require.Len(t, snap.Outages, 1, "a critical firing alert is an outage")
	assert.Equal(t, []string{"am-a", "am-b"}, snap.Outages[0].Sources)
}

// Prometheus sending to an Alertmanager: the Alertmanager's copy of each
// alert carries exactly Prometheus' labels plus its external labels. The
// Prometheus source learns those from the server's config and labels its
// alerts the same way, so both sources give the same Key untuned and the
// alert is one signal; an ignore list changes the key, not the labels.
func TestIntegrationPrometheusFeedingAlertmanager(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	ext := map[string]string{"cluster": "eu-1", "replica": "a"}
	prom := sourcetest.StartPrometheusWith(t, sourcetest.PromOptions{
		RuleFiles:        []string{sourcetest.RulesFile(t)},
		AlertmanagerURLs: []string{am.URL},
		ExternalLabels:   ext,
	})
	promSrc := prometheus.New("prom", prom.URL, nil, nil)
	amPlain := alertmanager.New("am-plain", am.URL, nil, nil)
	amIgnoring := alertmanager.New("am", am.URL, nil, []string{"cluster", "replica"})

	// Alerts reach the Alertmanager after about 7 s (resend delay 1s).
	var amAlerts []model.Alert
	sourcetest.Eventually(t, 30*time.Second, 500*time.Millisecond, func() error {
		var err error
		if amAlerts, err = sourcetest.Fetch(t, amPlain); err != nil {
			return err
		}
		if _, ok := sourcetest.ByName(amAlerts)["HighErrorRate"]; !ok {
			return fmt.Errorf("HighErrorRate not in the Alertmanager yet (%d alerts)", len(amAlerts))
		}
		return nil
	})
	promAlerts, err := sourcetest.Fetch(t, promSrc)
	require.NoError(t, err)
	amIgn, err := sourcetest.Fetch(t, amIgnoring)
	require.NoError(t, err)

	p, a, ai := sourcetest.ByName(promAlerts)["HighErrorRate"], sourcetest.ByName(amAlerts)["HighErrorRate"], sourcetest.ByName(amIgn)["HighErrorRate"]
	for k, v := range ext {
		assert.Equal(t, v, p.Labels.Get(k), "the Prometheus source learns external label %s from the server's config", k)
	}
	assert.Equal(t, p.Labels, a.Labels, "the Prometheus source labels the alert as the Alertmanager received it")
	assert.Equal(t, p.Key, a.Key, "untuned, both sources give the same key")
	assert.NotEqual(t, a.Key, ai.Key, "an ignore list changes the key")
	assert.Equal(t, a.Labels, ai.Labels, "ignoring changes the key, not the labels shown")
	assert.Equal(t, p.Annotations, a.Annotations)
	assert.Contains(t, a.GeneratorURL, prom.URL+"/graph?", "the generator URL points at the Prometheus that sent it")

	// Merged, the alert is one signal held by both sources.
	now := time.Now()
	rows := []*model.AlertRow{
		{Source: "prom", Alert: p, FirstSeen: model.StampOf(now), LastSeen: model.StampOf(now)},
		{Source: "am", Alert: a, FirstSeen: model.StampOf(now), LastSeen: model.StampOf(now)},
	}
	statuses := []model.SourceStatus{
		{Name: "prom", Type: "prometheus", LastAttempt: now, LastSuccess: now},
		{Name: "am", Type: "alertmanager", LastAttempt: now, LastSuccess: now},
	}
	snap := model.BuildSnapshot(rows, statuses, model.SnapshotOptions{Now: now})
	require.Len(t, snap.Signals, 1)
	srcs := append([]string(nil), snap.Signals[0].Sources...)
	sort.Strings(srcs)
	assert.Equal(t, []string{"am", "prom"}, srcs)
	assert.Equal(t, a.GeneratorURL, snap.Signals[0].GeneratorURL, "the merged signal gets the Alertmanager's generator URL")
}

func TestIntegrationStoppedServerIsConnectionRefused(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	sourcetest.CheckStoppedServerRefuses(t, am, alertmanager.New("am", am.URL, nil, nil))
}
