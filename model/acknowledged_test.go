package model

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ackFixture is db-main's outage of two alerts, k1 firing and k2 in the
// state given, silenced by silences (may be none).
func ackFixture(k2 State, silences ...string) (*Snapshot, *Outage) {
	o := &Outage{Service: "db-main", Keys: []string{"k1", "k2"}, Alerts: 2}
	s := &Snapshot{
		Signals: []*Signal{
			{AlertRow: silencedRow("k1", silences...), Service: "db-main", State: StateSuppressed},
			{AlertRow: silencedRow("k2", silences...), Service: "db-main", State: k2},
		},
		Outages:  []*Outage{o},
		Services: map[string]*ServiceState{"db-main": {Outage: o}},
	}
	return s, o
}

func TestOneMeaningOfAcknowledged(t *testing.T) {
	now := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)
	byRoot := &Board{Acks: map[string]*Ack{"db-main": {Service: "db-main", By: "root", Until: now.Add(time.Hour)}}}
	byRootK1 := &Board{Acks: map[string]*Ack{"db-main": {Service: "db-main", By: "root", AlertKeys: []string{"k1"}}}}
	ext := &Board{Silences: map[string]Silence{"x1": {ID: "x1", CreatedBy: "change-mgmt", Comment: "CHG-4711 planned db maintenance"}}}
	for _, c := range []struct {
		name     string
		board    *Board
		k2       State
		silences []string
		acked    bool
		byAck    int
		bySil    int
	}{
		{"nothing", nil, StateFiring, nil, false, 0, 0},
		{"sitroom ack of the outage", byRoot, StateFiring, nil, true, 2, 0},
		{"someone else's silence on every alert", ext, StateSuppressed, []string{"x1"}, true, 0, 2},
		{"a silence on one alert of two", ext, StateFiring, []string{"x1"}, false, 0, 1},
		{"ack of one alert, silence on the other", byRootK1, StateSuppressed, []string{"x1"}, true, 1, 1},
		{"ack of one alert only", byRootK1, StateFiring, nil, false, 1, 0},
		// inhibited only: suppressed with no silence is nobody's ack
		{"inhibited, not silenced", nil, StateSuppressed, nil, false, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			snap, o := ackFixture(c.k2, c.silences...)
			if c.silences == nil {
				snap.Signals[0].State = StateFiring
				if c.k2 == StateSuppressed {
					snap.Signals[0].State = StateSuppressed // both inhibited
				}
			}
			v := NewAckView(snap, c.board)
			got := v.Outage(o)
			assert.Equal(t, c.acked, got.Acked, "Outage")
			assert.Equal(t, c.byAck, got.ByAck)
			assert.Equal(t, c.bySil, got.BySilence)
			assert.Equal(t, c.acked, v.Service("db-main"), "Service (@acked) agrees with Outage")
		})
	}
}

// A silenced signal whose sources disagree (one still fires it) is firing,
// and a silence on it covers nothing.
func TestDisputedSilenceIsNotAcknowledged(t *testing.T) {
	snap, o := ackFixture(StateFiring, "x1")
	snap.Signals[0].State = StateFiring
	v := NewAckView(snap, nil)
	assert.False(t, v.Outage(o).Acked)
	assert.False(t, v.Signal(snap.Signals[0]))
}

// Without an outage, a service is acknowledged by an ack in force or when
// every one of its firing alerts is silenced.
func TestServiceWithoutOutage(t *testing.T) {
	s := &Snapshot{Signals: []*Signal{{AlertRow: silencedRow("w1", "x"), Service: "web", State: StateSuppressed}}}
	assert.True(t, NewAckView(s, nil).Service("web"))
	s.Signals = append(s.Signals, &Signal{AlertRow: silencedRow("w2"), Service: "web", State: StateFiring})
	assert.False(t, NewAckView(s, nil).Service("web"))
	b := &Board{Acks: map[string]*Ack{"web": {Service: "web"}}}
	assert.True(t, NewAckView(s, b).Service("web"))
	assert.False(t, NewAckView(s, b).Service("db"), "nothing open, nothing acked")
}

// The handoff says an outage someone else silenced is acknowledged (by
// the silence), lists the silence, and counts an ack that ended upstream
// as no ack.
func TestHandoffAcknowledgedBySilenceAndAckEnded(t *testing.T) {
	h, opt := handoffFixture(t)
	// checkout: bob's ack ended upstream at 20:00; change-mgmt's silence
	// now covers only one of its two alerts.
	h.AcksNow = nil
	h.Audit = append(h.Audit, AuditEntry{ID: 12, At: opt.Window.From.Add(5 * time.Hour), Operator: "sitroom", Verb: VerbEnded,
		Service: "checkout", Target: "checkout", Comment: "ack by bob ended upstream: silence expired", State: ActionDelivered})
	r := BuildHandoff(h, opt)
	co := outageOf(t, r, "checkout")
	assert.False(t, co.Acknowledged, "one alert still fires with no ack")
	require.Len(t, co.AcksEnded, 1)
	assert.Equal(t, "bob", co.AcksEnded[0].By)
	md := r.Markdown()
	assert.Contains(t, md, "ack by bob ended upstream: silence expired")
	assert.Contains(t, md, "  - not acknowledged now")

	// The silence covers both: acknowledged, by the silence alone.
	h.OpenAlerts[0].SilencedBy = h.OpenAlerts[1].SilencedBy
	r = BuildHandoff(h, opt)
	co = outageOf(t, r, "checkout")
	assert.True(t, co.Acknowledged)
	require.Len(t, co.Silences, 1)
	s := co.Silences[0]
	assert.Equal(t, "change-mgmt", s.By)
	assert.Equal(t, "CHG-4711 planned db maintenance", s.Comment)
	assert.Equal(t, 2*time.Hour, s.Ends.Sub(s.Starts))
	var external []ExpiringAck
	for _, e := range r.ExpiringSilences {
		if e.External {
			external = append(external, e)
		}
	}
	require.Len(t, external, 1, "silences expiring next shift include the upstream one")
	assert.Equal(t, "change-mgmt", external[0].By)
	assert.Equal(t, "checkout", external[0].Service)
	md = r.Markdown()
	assert.NotContains(t, md, "not acknowledged now")
	assert.True(t, strings.Contains(md, "silenced upstream by change-mgmt since"), md)
}

func outageOf(t *testing.T, r *Handoff, svc string) HandoffOutage {
	t.Helper()
	for _, o := range r.Outages {
		if o.Service == svc {
			return o
		}
	}
	t.Fatalf("no outage %s in the report", svc)
	return HandoffOutage{}
}

// silencedRow is an alert row of the given key silenced by the given silences.
func silencedRow(key string, silencedBy ...string) *AlertRow {
	return &AlertRow{Alert: Alert{Key: key, Suppressed: Suppress(silencedBy, nil)}}
}
