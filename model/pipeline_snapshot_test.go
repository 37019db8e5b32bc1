package model

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failingRule is a severe FindingRule of rule group/name whose alerts
// carry labels (alertname added), failing since since.
func failingRule(group, name string, since time.Time, labels map[string]string) Finding {
	l := map[string]string{"alertname": name}
	for k, v := range labels {
		l[k] = v
	}
	return Finding{Kind: FindingRule, Subject: group + "/" + name, Since: since, Severe: true, Labels: l,
		Text: `vector contains metrics with the same labelset after applying alert labels`}
}

// promRow is a firing alert of a prometheus-like source with labels.
func promRow(source string, labels map[string]string) *AlertRow {
	return &AlertRow{Source: source, Alert: Alert{Key: LabelsKey(LabelsFromMap(labels), nil), Labels: LabelsFromMap(labels), State: StateFiring,
		StartsAt: StampOf(t0.Add(-time.Hour))}, FirstSeen: StampOf(t0.Add(-time.Hour)), FiredSeen: StampOf(t0.Add(-time.Hour)), LastSeen: StampOf(t0)}
}

func signalByKey(s *Snapshot, key string) *Signal {
	for _, sig := range s.Signals {
		if sig.Key == key {
			return sig
		}
	}
	return nil
}

func TestFailingRuleMarksItsAlerts(t *testing.T) {
	since := t0.Add(-20 * time.Minute)
	api := map[string]string{"alertname": "HighErrorRate", "severity": "critical", "team": "api", "instance": "a:80"}
	web := map[string]string{"alertname": "HighErrorRate", "severity": "critical", "team": "web", "instance": "w:80"}
	other := map[string]string{"alertname": "DiskFull", "severity": "warning", "team": "api"}
	finding := failingRule("api", "HighErrorRate", since, map[string]string{"severity": "critical", "team": "api"})
	note := Finding{Kind: FindingNote, Subject: "rules not offered", Severe: false,
		Labels: map[string]string{"alertname": "HighErrorRate"}}
	unsevere := finding
	unsevere.Severe = false
	unlabelled := finding
	unlabelled.Labels = nil
	prom := func(fs ...Finding) SourceStatus {
		st := okStatus("prom")
		st.Type, st.Findings = "prometheus", fs
		return st
	}
	am := okStatus("am")
	am.Type = "alertmanager"

	for _, tc := range []struct {
		name     string
		rows     []*AlertRow
		statuses []SourceStatus
		marked   map[string]bool // by alert labels' team
	}{
		{"the failing rule's alert is marked; a same-named rule with other labels is not",
			[]*AlertRow{promRow("prom", api), promRow("prom", web), promRow("prom", other)},
			[]SourceStatus{prom(finding)}, map[string]bool{"api": true}},
		{"a note marks nothing", []*AlertRow{promRow("prom", api)}, []SourceStatus{prom(note)}, nil},
		{"a finding that is not severe marks nothing", []*AlertRow{promRow("prom", api)}, []SourceStatus{prom(unsevere)}, nil},
		{"a finding without labels marks nothing", []*AlertRow{promRow("prom", api)}, []SourceStatus{prom(unlabelled)}, nil},
		{"a merged row is marked when its Prometheus reports the rule failing",
			[]*AlertRow{promRow("am", api), promRow("prom", api)},
			[]SourceStatus{am, prom(finding)}, map[string]bool{"api": true}},
		{"an alert the failing source does not hold is not marked",
			[]*AlertRow{promRow("am", api)},
			[]SourceStatus{am, prom(finding)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := BuildSnapshot(tc.rows, tc.statuses, SnapshotOptions{Now: t0})
			for _, sig := range snap.Signals {
				if tc.marked[sig.Labels.Get("team")] && sig.Name() == "HighErrorRate" {
					require.NotNil(t, sig.RuleFailing, "%v", sig.Labels)
					assert.Equal(t, since, sig.RuleFailing.Since, "%v", sig.Labels)
					assert.Equal(t, finding.Text, sig.RuleFailing.Error)
				} else {
					assert.Nil(t, sig.RuleFailing, "not marked: %v", sig.Labels)
				}
				assert.Equal(t, StateFiring, sig.State, "a marked alert keeps its state")
			}
			assert.Equal(t, len(snap.Signals), snap.Counts.Firing, "counts are as without the finding")
		})
	}
}

func TestFailingRuleGroupIsAPipelineOutage(t *testing.T) {
	since := t0.Add(-40 * time.Minute)
	cat := mustCatalog(t, [2]string{"payments", `team="payments"`}, [2]string{"checkout", `team="checkout"`})
	crit := failingRule("api/v2", "PaymentsErrors", since, map[string]string{"severity": "critical", "team": "payments"})
	crit2 := failingRule("api/v2", "CheckoutErrors", since.Add(5*time.Minute), map[string]string{"severity": "critical", "team": "checkout"})
	warn := failingRule("slow", "PaymentsLatency", since, map[string]string{"severity": "warning", "team": "payments"})
	unmapped := failingRule("misc", "Whatever", since, map[string]string{"severity": "critical", "service": "nobody"})
	alert := map[string]string{"alertname": "PaymentsErrors", "severity": "critical", "team": "payments", "pod": "p-1"}
	prom := func(fs ...Finding) SourceStatus {
		st := okStatus("prom")
		st.Type, st.Findings = "prometheus", fs
		return st
	}
	build := func(on bool, st SourceStatus) *Snapshot {
		return BuildSnapshot([]*AlertRow{promRow("prom", alert)}, []SourceStatus{st},
			SnapshotOptions{Now: t0, Catalog: cat, PipelineOutages: on})
	}

	t.Run("one outage per rule group, blind to the services its rules watch", func(t *testing.T) {
		snap := build(true, prom(crit, crit2))
		o := snap.Outage("prom/api/v2 rules")
		require.NotNil(t, o, "outages: %v", snap.Outages)
		assert.True(t, o.Pipeline)
		assert.False(t, o.Mapped)
		assert.Equal(t, []string{"checkout", "payments"}, o.Blinds)
		assert.Equal(t, SevCritical, o.Severity)
		assert.Equal(t, 2, o.Alerts)
		assert.Equal(t, since, o.Since, "open since the rule that failed first")
		assert.Equal(t, []string{"prom"}, o.Sources)

		sig := signalByKey(snap, "pipeline/prom/api/v2/PaymentsErrors")
		require.NotNil(t, sig)
		assert.Equal(t, "prom/api/v2 rules", sig.Service)
		assert.Equal(t, map[string]string{"alertname": "RuleFailing", "rule": "PaymentsErrors", "rule_group": "api/v2",
			"service": "payments", "severity": "critical"}, sig.Labels.Map())
		assert.Equal(t, "rule PaymentsErrors failing: "+crit.Text, sig.Summary())
		assert.Contains(t, sig.Annotations.Get("description"), "payments is not watched")
		assert.Equal(t, StateFiring, sig.State)
		assert.Equal(t, t0, sig.LastSeen.Time())
		assert.False(t, sig.Stale)

		real := signalByKey(snap, LabelsKey(LabelsFromMap(alert), nil))
		require.NotNil(t, real)
		assert.Equal(t, "payments", real.Service, "the rule's own alert stays with its service")
		assert.Equal(t, since, real.RuleFailingSince())
		require.NotNil(t, snap.Outage("payments"))
		assert.False(t, snap.Outage("payments").Pipeline)
		assert.Equal(t, 2, snap.Counts.Outages)

		f, err := ParseFilter("rulefailing")
		require.NoError(t, err)
		var found []string
		for _, s := range snap.Signals {
			if f.MatchSignal(s, FilterEnv{Now: t0}) {
				found = append(found, s.Key)
			}
		}
		assert.Equal(t, []string{"pipeline/prom/api/v2/PaymentsErrors", "pipeline/prom/api/v2/CheckoutErrors"}, found,
			"the filter text finds them, in signal order (earliest first)")
	})

	t.Run("a warning rule's blindness is an alert but no outage under the critical threshold", func(t *testing.T) {
		snap := build(true, prom(warn))
		sig := signalByKey(snap, "pipeline/prom/slow/PaymentsLatency")
		require.NotNil(t, sig)
		assert.Equal(t, SevWarning, sig.Severity)
		assert.Nil(t, snap.Outage("prom/slow rules"))
		snap = BuildSnapshot(nil, []SourceStatus{prom(warn)}, SnapshotOptions{Now: t0, Catalog: cat, PipelineOutages: true, OutageThreshold: SevWarning})
		require.NotNil(t, snap.Outage("prom/slow rules"))
		assert.Equal(t, SevWarning, snap.Outage("prom/slow rules").Severity)
	})

	t.Run("a rule the catalog does not map makes no outage", func(t *testing.T) {
		snap := build(true, prom(unmapped))
		assert.Nil(t, signalByKey(snap, "pipeline/prom/misc/Whatever"))
		require.Len(t, snap.Outages, 1)
		assert.Equal(t, "payments", snap.Outages[0].Service, "only the alert's own outage")
	})

	t.Run("the option off leaves the outage out but keeps the marks", func(t *testing.T) {
		snap := build(false, prom(crit, crit2))
		assert.Len(t, snap.Signals, 1)
		assert.Nil(t, snap.Outage("prom/api/v2 rules"))
		assert.Equal(t, since, snap.Signals[0].RuleFailingSince())
	})

	t.Run("a source that is down makes its pipeline alerts stale", func(t *testing.T) {
		st := prom(crit)
		st.LastError = "connection refused"
		st.LastSuccess = t0.Add(-3 * time.Minute)
		snap := build(true, st)
		sig := signalByKey(snap, "pipeline/prom/api/v2/PaymentsErrors")
		require.NotNil(t, sig)
		assert.True(t, sig.Stale)
		assert.Equal(t, t0.Add(-3*time.Minute), sig.LastSeen.Time())
		assert.True(t, snap.Outage("prom/api/v2 rules").Stale)
	})

	t.Run("a long error is clipped in the summary", func(t *testing.T) {
		long := crit
		long.Text = strings.Repeat("é", 500)
		snap := build(true, prom(long))
		sum := signalByKey(snap, "pipeline/prom/api/v2/PaymentsErrors").Summary()
		assert.Less(t, len(sum), 260)
		assert.True(t, strings.HasSuffix(sum, "é…"), "cut on a rune boundary: %q", sum[len(sum)-8:])
	})

	t.Run("the same findings give the same snapshot", func(t *testing.T) {
		a := build(true, prom(crit, crit2, warn))
		b := build(true, prom(crit2, warn, crit))
		var ka, kb []string
		for i := range a.Signals {
			ka, kb = append(ka, a.Signals[i].Key), append(kb, b.Signals[i].Key)
		}
		assert.Equal(t, ka, kb)
	})
}
