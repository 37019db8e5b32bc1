package model

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func row(source, name, sev, service string, state State, started time.Time) *AlertRow {
	labels := map[string]string{"alertname": name, "severity": sev}
	if service != "" {
		labels["service"] = service
	}
	return &AlertRow{
		Source: source,
		Alert: Alert{
			Key: LabelsKey(LabelsFromMap(labels), nil), Labels: LabelsFromMap(labels), State: state, StartsAt: StampOf(started),
			Annotations: LabelsFromMap(map[string]string{"summary": name + " on " + service}),
		},
		FirstSeen: StampOf(started), LastSeen: StampOf(t0),
	}
}

func okStatus(name string) SourceStatus {
	return SourceStatus{Name: name, LastAttempt: t0, LastSuccess: t0}
}

func mustCatalog(t *testing.T, svcs ...[2]string) *Catalog {
	var out []*Service
	for _, s := range svcs {
		ms, err := ParseMatchers(s[1])
		require.NoError(t, err)
		out = append(out, &Service{Name: s[0], Match: [][]*Matcher{ms}, Owner: "team-" + s[0]})
	}
	return NewCatalog(out)
}

func TestBuildSnapshotMergesHAPair(t *testing.T) {
	a := row("am-a", "HighErrorRate", "critical", "checkout", StateFiring, t0.Add(-10*time.Minute))
	b := row("am-b", "HighErrorRate", "critical", "checkout", StateFiring, t0.Add(-9*time.Minute))
	snap := BuildSnapshot([]*AlertRow{b, a}, []SourceStatus{okStatus("am-a"), okStatus("am-b")}, SnapshotOptions{Now: t0})
	require.Len(t, snap.Signals, 1)
	sig := snap.Signals[0]
	assert.Equal(t, []string{"am-a", "am-b"}, sig.Sources)
	assert.Equal(t, t0.Add(-10*time.Minute), sig.StartsAt.Time(), "earliest start wins")
	assert.False(t, sig.Stale)
	require.Len(t, snap.Outages, 1)
	assert.Equal(t, 1, snap.Outages[0].Alerts)
	assert.Equal(t, 1, snap.Counts.Firing)
}

func TestBuildSnapshotStaleness(t *testing.T) {
	down := SourceStatus{Name: "am-b", LastAttempt: t0, LastSuccess: t0.Add(-4 * time.Minute), LastError: "connection refused"}
	shared := []*AlertRow{
		row("am-a", "HighErrorRate", "critical", "checkout", StateFiring, t0),
		row("am-b", "HighErrorRate", "critical", "checkout", StateFiring, t0),
	}
	only := row("am-b", "DiskFull", "critical", "storage", StateFiring, t0)
	only.LastSeen = StampOf(t0.Add(-4 * time.Minute)) // its last good poll
	snap := BuildSnapshot(append(shared, only), []SourceStatus{okStatus("am-a"), down}, SnapshotOptions{Now: t0})
	bySvc := map[string]*Outage{}
	for _, o := range snap.Outages {
		bySvc[o.Service] = o
	}
	assert.False(t, bySvc["checkout"].Stale, "still held by a healthy source")
	assert.True(t, bySvc["storage"].Stale, "its only source is down")
	assert.Equal(t, t0.Add(-4*time.Minute), bySvc["storage"].StaleSince)
	assert.Equal(t, 1, snap.Counts.Stale)

	// Prometheus down for 16s, the Alertmanager it feeds answering []
	// (suspect) a second ago: the row is as old as Prometheus' last good
	// read, not the Alertmanager's empty one.
	promDown := SourceStatus{Name: "prom", LastAttempt: t0, LastSuccess: t0.Add(-16 * time.Second), LastError: "connection refused"}
	amEmpty := SourceStatus{Name: "am", LastAttempt: t0.Add(-time.Second), LastSuccess: t0.Add(-time.Second), Note: EmptyReplyNote + "; had 1 alert"}
	fromProm := row("prom", "DiskFull", "critical", "storage", StateFiring, t0.Add(-time.Hour))
	fromProm.LastSeen = StampOf(t0.Add(-16 * time.Second))
	fromAM := row("am", "DiskFull", "critical", "storage", StateFiring, t0.Add(-time.Hour))
	fromAM.LastSeen = StampOf(t0.Add(-20 * time.Second)) // its last reply that had it
	snap = BuildSnapshot([]*AlertRow{fromProm, fromAM}, []SourceStatus{promDown, amEmpty}, SnapshotOptions{Now: t0})
	require.Len(t, snap.Signals, 1)
	assert.True(t, snap.Signals[0].Stale)
	assert.Equal(t, t0.Add(-16*time.Second), snap.Signals[0].StaleSince.Time(), "STALE 16s: the age of the data shown")
}

func TestBuildSnapshotOutagesAndThreshold(t *testing.T) {
	cat := mustCatalog(t, [2]string{"payments", `service=~"pay.*"`})
	rows := []*AlertRow{
		row("p", "ErrorsHigh", "critical", "payments-api", StateFiring, t0.Add(-5*time.Minute)),
		row("p", "LatencyHigh", "warning", "payments-api", StateFiring, t0.Add(-20*time.Minute)),
		row("p", "Silenced", "critical", "payments-api", StateSuppressed, t0.Add(-30*time.Minute)),
		row("p", "Pending", "critical", "search", StatePending, t0),
		row("p", "NoService", "critical", "", StateFiring, t0.Add(-time.Minute)),
		row("p", "Info", "info", "edge", StateFiring, t0),
	}
	resolved := row("p", "Gone", "critical", "web", StateFiring, t0)
	resolved.ResolvedAt = StampOf(t0)
	rows = append(rows, resolved, row("removed-source", "Orphan", "critical", "web", StateFiring, t0))

	snap := BuildSnapshot(rows, []SourceStatus{okStatus("p")}, SnapshotOptions{Now: t0, Catalog: cat})
	require.Len(t, snap.Outages, 2, "critical firing or silenced: payments and unmapped")
	pay := snap.Outages[0]
	assert.Equal(t, "payments", pay.Service)
	assert.True(t, pay.Mapped)
	assert.Equal(t, "team-payments", pay.Owner)
	assert.Equal(t, 2, pay.Alerts, "the firing critical and the silenced critical")
	assert.Equal(t, 3, pay.Total)
	assert.Equal(t, 1, pay.Suppressed)
	assert.False(t, pay.Silenced, "one of its alerts is not silenced")
	assert.Equal(t, 1, pay.SilencedAlerts)
	assert.Equal(t, t0.Add(-30*time.Minute), pay.Since, "since the first alert at/above the threshold")
	assert.Equal(t, Unmapped, snap.Outages[1].Service)
	assert.Equal(t, Counts{Outages: 2, Firing: 4, Pending: 1, Suppressed: 1, Silenced: 1, Critical: 2}, snap.Counts)
	assert.Len(t, snap.Signals, 6, "resolved rows and rows of unconfigured sources are left out")

	warn := BuildSnapshot(rows, []SourceStatus{okStatus("p")}, SnapshotOptions{Now: t0, Catalog: cat, OutageThreshold: SevWarning})
	assert.Len(t, warn.Outages, 2)
	assert.Equal(t, 3, warn.Outages[0].Alerts, "the warning now counts")
	assert.Equal(t, t0.Add(-30*time.Minute), warn.Outages[0].Since)
}

func TestServiceForFallbacks(t *testing.T) {
	cat := mustCatalog(t, [2]string{"checkout", `{service="checkout", env="prod"}`})
	name, mapped := cat.ServiceFor(LabelsFromMap(map[string]string{"service": "checkout", "env": "prod"}))
	assert.Equal(t, "checkout", name)
	assert.True(t, mapped)
	name, mapped = cat.ServiceFor(LabelsFromMap(map[string]string{"service": "checkout", "env": "dev"}))
	assert.Equal(t, "checkout", name, "falls back to the service label")
	assert.False(t, mapped)
	name, _ = cat.ServiceFor(LabelsFromMap(map[string]string{"job": "node"}))
	assert.Equal(t, "node", name)
	name, _ = (*Catalog)(nil).ServiceFor(LabelsFromMap(map[string]string{}))
	assert.Equal(t, Unmapped, name)
}

func TestSignalOrderingAndText(t *testing.T) {
	rows := []*AlertRow{
		row("p", "B", "warning", "x", StateFiring, t0),
		row("p", "A", "critical", "x", StatePending, t0),
		row("p", "C", "critical", "x", StateFiring, t0.Add(time.Minute)),
		row("p", "D", "critical", "x", StateFiring, t0),
	}
	snap := BuildSnapshot(rows, []SourceStatus{okStatus("p")}, SnapshotOptions{Now: t0})
	var names []string
	for _, s := range snap.Signals {
		names = append(names, s.Name())
	}
	assert.Equal(t, []string{"D", "C", "A", "B"}, names)
	assert.True(t, snap.Signals[0].MatchesText("d on x", nil))
	assert.False(t, snap.Signals[0].MatchesText("payments", nil))
}

func TestLabelsKeyIgnores(t *testing.T) {
	a := LabelsKey(LabelsFromMap(map[string]string{"alertname": "X", "replica": "1"}), []string{"replica"})
	b := LabelsKey(LabelsFromMap(map[string]string{"alertname": "X"}), nil)
	c := LabelsKey(LabelsFromMap(map[string]string{"alertname": "X", "replica": "1"}), nil)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
}

func TestContentHashIgnoresMapOrderButSeesChanges(t *testing.T) {
	a := Alert{Key: "k", Labels: LabelsFromMap(map[string]string{"a": "1", "b": "2"}), State: StateFiring}
	b := Alert{Key: "k", Labels: LabelsFromMap(map[string]string{"b": "2", "a": "1"}), State: StateFiring}
	assert.Equal(t, a.ContentHash(), b.ContentHash())
	b.State = StateSuppressed
	assert.NotEqual(t, a.ContentHash(), b.ContentHash())
	c := a
	c.Annotations = LabelsFromMap(map[string]string{"summary": "x"})
	assert.NotEqual(t, a.ContentHash(), c.ContentHash())
}

// Prometheus knows nothing of silences: an alert it reports firing that its
// Alertmanager has silenced is one silenced signal.
func TestMergedStateSilenceWins(t *testing.T) {
	prom := row("prom", "AuthSlow", "critical", "auth", StateFiring, t0)
	am := row("am", "AuthSlow", "critical", "auth", StateSuppressed, t0)
	am.Suppressed = Suppress([]string{"s-1"}, nil)
	pend := row("prom", "Later", "critical", "auth", StatePending, t0)
	amFiring := row("am", "Later", "critical", "auth", StateFiring, t0)
	snap := BuildSnapshot([]*AlertRow{prom, am, pend, amFiring}, []SourceStatus{okStatus("prom"), okStatus("am")}, SnapshotOptions{Now: t0})
	require.Len(t, snap.Signals, 2)
	byName := map[string]*Signal{}
	for _, s := range snap.Signals {
		byName[s.Name()] = s
	}
	assert.Equal(t, StateSuppressed, byName["AuthSlow"].State)
	assert.Equal(t, []string{"s-1"}, byName["AuthSlow"].SilencedBy())
	assert.Equal(t, StateFiring, byName["Later"].State)
	assert.Equal(t, 1, snap.Counts.Suppressed)
	assert.Equal(t, 1, snap.Counts.Firing)
}

func TestHealthThrottled(t *testing.T) {
	st := SourceStatus{LastAttempt: t0, LastError: "throttled by AWS (Throttling); backing off"}
	assert.Equal(t, HealthThrottled, st.Health())
	st = SourceStatus{LastAttempt: t0, LastSuccess: t0, Note: "throttled twice before this reply"}
	assert.Equal(t, HealthThrottled, st.Health())
	st = SourceStatus{LastAttempt: t0, LastError: "HTTP 503 Service Unavailable"}
	assert.Equal(t, HealthDown, st.Health())
	// A throttled failure still leaves the rows stale.
	snap := BuildSnapshot([]*AlertRow{row("aws", "CPU", "critical", "db", StateFiring, t0)},
		[]SourceStatus{{Name: "aws", LastAttempt: t0, LastError: "throttled by AWS"}}, SnapshotOptions{Now: t0})
	assert.True(t, snap.Signals[0].Stale)
}

// An outage whose alerts are all silenced upstream stays an outage, marked
// silenced, so acking it never hides it.
func TestSilencedOutageStays(t *testing.T) {
	a := row("am", "DBDown", "critical", "db", StateSuppressed, t0.Add(-time.Hour))
	a.Suppressed = Suppress([]string{"s-1"}, nil)
	snap := BuildSnapshot([]*AlertRow{a}, []SourceStatus{okStatus("am")}, SnapshotOptions{Now: t0})
	require.Len(t, snap.Outages, 1)
	o := snap.Outages[0]
	assert.True(t, o.Silenced)
	assert.Equal(t, []string{"s-1"}, o.SilencedBy)
	assert.Equal(t, 1, o.Alerts)
	assert.Equal(t, 1, snap.Counts.Outages)
	assert.Equal(t, 0, snap.Counts.Firing)
}

// An outage's Since is when its alerts began firing upstream, the earliest
// across its alerts and their sources, guarded against clock skew: a start
// later than sitroom first saw the alert (an upstream clock an hour ahead)
// counts as first seen; FirstSeen is when sitroom first saw any of them.
func TestOutageSinceIsWhenItsAlertsBegan(t *testing.T) {
	seen := t0.Add(-time.Minute)
	late := row("am", "DiskFull", "critical", "db", StateFiring, t0.Add(-time.Hour))
	late.FirstSeen = StampOf(seen)
	other := row("prom", "DiskFull", "critical", "db", StateFiring, t0.Add(-2*time.Hour)) // same alert, earlier in this source
	other.FirstSeen = StampOf(seen)
	ahead := row("am", "CPU", "critical", "web", StateFiring, t0.Add(time.Hour)) // the upstream's clock is an hour ahead
	ahead.FirstSeen = StampOf(seen)
	snap := BuildSnapshot([]*AlertRow{late, other, ahead}, []SourceStatus{okStatus("am"), okStatus("prom")}, SnapshotOptions{Now: t0})
	db, web := snap.Outage("db"), snap.Outage("web")
	require.NotNil(t, db)
	require.NotNil(t, web)
	assert.Equal(t, t0.Add(-2*time.Hour), db.Since, "the earliest start across sources")
	assert.Equal(t, seen, db.FirstSeen)
	assert.Equal(t, seen, web.Since, "a start after first seen counts as first seen")
}

// An outage whose alerts now start later than the history recorded it
// began (a restarted Prometheus resets activeAt) keeps the older start; a
// record that is later than the alerts' start changes nothing.
func TestKeepStartsKeepsTheRecordedAge(t *testing.T) {
	snap := BuildSnapshot([]*AlertRow{
		row("prom", "DiskFull", "critical", "db", StateFiring, t0.Add(-time.Minute)),
		row("prom", "CPU", "critical", "web", StateFiring, t0.Add(-time.Hour)),
	}, []SourceStatus{okStatus("prom")}, SnapshotOptions{Now: t0})
	KeepStarts(snap, map[string]time.Time{"db": t0.Add(-30 * time.Minute), "web": t0.Add(-10 * time.Minute)})
	assert.Equal(t, t0.Add(-30*time.Minute), snap.Outage("db").Since, "no younger than its record")
	assert.Equal(t, t0.Add(-time.Hour), snap.Outage("web").Since)
}

// Rows are merged in source-name order, each source's in the order the
// cache has them, whatever the order of the slice: the merged labels
// and annotations do not depend on it. Rows resolved or of a source
// not configured are left out.
func TestSourceOrder(t *testing.T) {
	row := func(src string, resolved bool) *AlertRow {
		r := &AlertRow{Source: src}
		if resolved {
			r.ResolvedAt = StampOf(time.Unix(1, 0))
		}
		return r
	}
	rows := []*AlertRow{
		row("prom-b", false), row("am", false), row("prom-b", false), row("gone", false),
		row("am", true), row("am", false), row("prom-a", false), row("prom-b", false),
	}
	status := map[string]*SourceStatus{"am": {}, "prom-a": {}, "prom-b": {}}
	assert.Equal(t, []int{1, 5, 6, 0, 2, 7}, sourceOrder(rows, status))
	assert.Empty(t, sourceOrder(rows, map[string]*SourceStatus{}))
	assert.Empty(t, sourceOrder(nil, status))
}
