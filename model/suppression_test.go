package model

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// suppressionRows: rows of alerts as Alertmanagers am-a and am-b (which
// do not share silences) and the Prometheus prom report them.
func suppressionSnapshot(t *testing.T, rows ...*AlertRow) *Snapshot {
	t.Helper()
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, r := range rows {
		r.Key = LabelsKey(r.Labels, nil)
		r.FirstSeen, r.FiredSeen, r.LastSeen = StampOf(at), StampOf(at), StampOf(at)
	}
	sts := []SourceStatus{
		{Name: "am-a", Type: "alertmanager", LastAttempt: at, LastSuccess: at},
		{Name: "am-b", Type: "alertmanager", LastAttempt: at, LastSuccess: at},
		{Name: "prom", Type: "prometheus", LastAttempt: at, LastSuccess: at},
	}
	return BuildSnapshot(rows, sts, SnapshotOptions{Now: at})
}

func amRow(src string, labels map[string]string, silencedBy, inhibitedBy []string) *AlertRow {
	st := StateFiring
	if len(silencedBy)+len(inhibitedBy) > 0 {
		st = StateSuppressed
	}
	return &AlertRow{Source: src, Alert: Alert{Labels: LabelsFromMap(labels), State: st, Suppressed: Suppress(silencedBy, inhibitedBy)}}
}

func TestSilencedOnlyWhereEverySourceSaysSo(t *testing.T) {
	a := map[string]string{"alertname": "SilOnA", "severity": "critical", "service": "pay"}
	both := map[string]string{"alertname": "SilOnBoth", "severity": "critical", "service": "pay"}
	snap := suppressionSnapshot(t,
		amRow("am-a", a, []string{"s1"}, nil), amRow("am-b", a, nil, nil), amRow("prom", a, nil, nil),
		amRow("am-a", both, []string{"s2"}, nil), amRow("am-b", both, []string{"s3"}, nil), amRow("prom", both, nil, nil))
	onA := snap.Signals[0]
	if onA.Name() != "SilOnA" {
		onA = snap.Signals[1]
	}
	assert.Equal(t, StateFiring, onA.State, "am-b still pages")
	assert.True(t, onA.Disputed())
	assert.Equal(t, int16(2), onA.Voters, "the Prometheus has no say in silences")
	assert.Equal(t, int16(1), onA.SilencedIn)
	assert.Equal(t, []string{"am-b"}, onA.Paging())
	assert.Equal(t, Counts{Outages: 1, Firing: 1, Critical: 1, Suppressed: 1, Silenced: 1}, snap.Counts)
	o := snap.Outage("pay")
	require.NotNil(t, o)
	assert.False(t, o.Silenced)
	assert.Equal(t, 1, o.SilencedAlerts)

	// One Alertmanager holding it, silencing it: silenced, whatever its
	// Prometheus says.
	single := suppressionSnapshot(t, amRow("am-a", a, []string{"s1"}, nil), amRow("prom", a, nil, nil))
	assert.True(t, single.Signals[0].Silenced())
	assert.False(t, single.Signals[0].Disputed())
	assert.Empty(t, single.Signals[0].Paging())
}

func TestInhibitedIsNotSilenced(t *testing.T) {
	node := map[string]string{"alertname": "NodeDown", "instance": "n1", "severity": "critical", "service": "node"}
	fp := LabelsKey(LabelsFromMap(node), nil)
	db := map[string]string{"alertname": "DBDown", "instance": "n1", "severity": "critical", "service": "db"}
	half := map[string]string{"alertname": "DiskFull", "instance": "n1", "severity": "critical", "service": "disk"}
	snap := suppressionSnapshot(t,
		amRow("am-a", node, nil, nil), amRow("am-b", node, nil, nil),
		amRow("am-a", db, nil, []string{fp}), amRow("am-b", db, nil, []string{fp}),
		amRow("am-a", half, nil, []string{fp}), amRow("am-b", half, nil, nil))
	assert.Equal(t, Counts{Outages: 3, Firing: 2, Critical: 2, Suppressed: 1, Inhibited: 1}, snap.Counts)
	var dbSig, halfSig *Signal
	for _, s := range snap.Signals {
		switch s.Name() {
		case "DBDown":
			dbSig = s
		case "DiskFull":
			halfSig = s
		}
	}
	assert.True(t, dbSig.Inhibited())
	assert.False(t, dbSig.Silenced())
	require.Len(t, snap.InhibitorsOf(dbSig), 1)
	assert.Equal(t, "NodeDown", snap.InhibitorsOf(dbSig)[0].Name())
	assert.True(t, halfSig.Disputed(), "inhibited on am-a only: am-b pages")
	assert.Equal(t, []string{"am-b"}, halfSig.Paging())

	o := snap.Outage("db")
	assert.True(t, o.Inhibited)
	assert.False(t, o.Silenced, "inhibited is not silenced")
	assert.Equal(t, 1, o.InhibitedAlerts)
	assert.Equal(t, 0, o.SilencedAlerts)
	assert.Equal(t, "node", o.ProbableCause)
	assert.True(t, o.CauseInhibits)
	assert.Equal(t, []*Outage{o}, snap.Outage("node").Symptoms)
	assert.False(t, snap.Outage("disk").IsSymptom(), "disk pages from am-b: not all inhibited")
}

// A source that leaves labels out of keys (ignore_labels) still resolves
// the Alertmanager's fingerprints, which are of the whole label set.
func TestInhibitorFoundWithIgnoredLabels(t *testing.T) {
	node := map[string]string{"alertname": "NodeDown", "instance": "n1", "replica": "a"}
	fp := LabelsKey(LabelsFromMap(node), nil)
	db := map[string]string{"alertname": "DBDown", "instance": "n1", "replica": "a"}
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	rows := []*AlertRow{amRow("am-a", node, nil, nil), amRow("am-a", db, nil, []string{fp})}
	for _, r := range rows {
		r.Key = LabelsKey(r.Labels, []string{"replica"})
		r.LastSeen = StampOf(at)
	}
	snap := BuildSnapshot(rows, []SourceStatus{{Name: "am-a", Type: "alertmanager", LastAttempt: at, LastSuccess: at}}, SnapshotOptions{Now: at})
	for _, s := range snap.Signals {
		if s.Name() == "DBDown" {
			require.Len(t, snap.InhibitorsOf(s), 1)
			assert.Equal(t, "NodeDown", snap.InhibitorsOf(s)[0].Name())
			return
		}
	}
	t.Fatal("no DBDown")
}

func TestStateFilterNamesSilencedAndInhibited(t *testing.T) {
	sil := &Signal{State: StateSuppressed, Voters: 1, SilencedIn: 1}
	inh := &Signal{State: StateSuppressed, Voters: 1, InhibitedIn: 1}
	half := &Signal{State: StateFiring, Voters: 2, SilencedIn: 1}
	for q, want := range map[string][3]bool{
		"@state=suppressed": {true, true, false},
		"@state=silenced":   {true, false, false},
		"@state=inhibited":  {false, true, false},
		"@state!=silenced":  {false, true, true},
		"@state=firing":     {false, false, true},
	} {
		f, err := ParseFilter(q)
		require.NoError(t, err, q)
		for i, s := range []*Signal{sil, inh, half} {
			assert.Equal(t, want[i], f.MatchSignal(s, FilterEnv{}), "%s on signal %d", q, i)
		}
	}
}
