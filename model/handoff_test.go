package model

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateHandoff = flag.Bool("update", false, "rewrite the handoff goldens in testdata/handoff")

// handoffFixture is a fixed history over two shifts of 2026-03-02 (London
// is on UTC in March): the day shift 07:00–15:00 and the late shift
// 15:00–23:00 reported on.
func handoffFixture(t *testing.T) (*History, HandoffOptions) {
	loc, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	at := func(hhmm string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", "2026-03-02 "+hhmm, loc)
		require.NoError(t, err)
		return tm
	}
	next := func(hhmm string) time.Time { return at(hhmm).Add(24 * time.Hour) }
	sched := ShiftSchedule{Zone: loc, Starts: DefaultShiftStarts}
	from, to := sched.ShiftAt(at("18:00"))
	pf, pt := sched.Previous(from)
	nf, nt := sched.ShiftAt(to)
	opt := HandoffOptions{
		Window:   Window{Label: "late shift", From: from, To: to},
		Previous: Window{Label: "previous shift", From: pf, To: pt},
		Next:     Window{Label: "next shift", From: nf, To: nt},
		Zone:     loc,
		Catalog: NewCatalog([]*Service{{Name: "db-main", Owner: "dba"},
			{Name: "payments", Owner: "payments", DependsOn: []string{"db-main"}},
			{Name: "checkout", Owner: "checkout", DependsOn: []string{"payments"}},
			{Name: "web", Owner: "web", DependsOn: []string{"checkout"}},
			{Name: "search", Owner: "search"}}),
	}
	audit := func(id int64, hhmm, op string, verb Verb, svc, comment string, state ActionState, reason string) AuditEntry {
		target := svc
		if svc == "" {
			target = "shift"
		}
		return AuditEntry{ID: id, At: at(hhmm), Operator: op, Verb: verb, Service: svc, Target: target, Comment: comment, State: state, Reason: reason}
	}
	h := &History{
		From: pf, To: to,
		Outages: []OutageRecord{
			{ID: 1, Service: "db-main", Severity: SevCritical, Opened: at("08:00"), Closed: at("08:40"), Alerts: 2},
			{ID: 2, Service: "search", Severity: SevWarning, Opened: at("10:00"), Closed: at("10:30"), Alerts: 1},
			{ID: 3, Service: "payments", Severity: SevCritical, Opened: at("14:20"), Closed: at("16:10"), Alerts: 3},
			// checkout began firing upstream 3 minutes before this console
			// saw it; web ended within the anti-flap grace (provisional).
			{ID: 4, Service: "checkout", Severity: SevCritical, Opened: at("17:00"), FirstSeen: at("17:03"), Alerts: 2},
			{ID: 5, Service: "web", Severity: SevWarning, Opened: at("18:00"), Closed: at("18:05"), Provisional: true, Alerts: 1},
		},
		SourceOutages: []SourceOutage{
			{ID: 1, Source: "am-eu", Down: at("19:00"), Up: at("19:12"), Error: "connection refused"},
			{ID: 2, Source: "prom-eu", Down: at("22:50"), Error: "timed out after 10s"},
		},
		Alerts: []AlertEvent{
			{Key: "a1", Name: "CheckoutErrors", Service: "checkout", Severity: SevCritical, Sources: []string{"am-eu", "prom-eu"}, Fired: at("17:00")},
			{Key: "a2", Name: "WebLatency", Service: "web", Severity: SevWarning, Sources: []string{"prom-eu"}, Fired: at("18:00"), Resolved: at("18:05")},
		},
		Audit: []AuditEntry{
			audit(1, "08:06", "alice", VerbAck, "db-main", "failing over", ActionDelivered, ""),
			audit(2, "10:02", "bob", VerbAck, "search", "reindex running", ActionDelivered, ""),
			audit(3, "14:25", "alice", VerbAck, "payments", "card processor degraded", ActionDelivered, ""),
			audit(4, "15:20", "carol", VerbEscalate, "payments", "processor not answering", ActionDelivered, ""),
			audit(5, "15:40", "alice", VerbNote, "payments", "processor says fix by 16:00", ActionDelivered, ""),
			audit(6, "17:02", "eve", VerbAck, "checkout", "mine", ActionRefused, "role viewer cannot acknowledge"),
			audit(7, "17:04", "bob", VerbAck, "checkout", "looking at DB pool", ActionDelivered, ""),
			audit(12, "17:10", "bob", VerbNotify, "checkout", "DB pool exhausted", ActionFailed, "HTTP 403 Forbidden: invalid_token"),
			audit(8, "17:30", "dave", VerbEscalate, "checkout", "needs the DBA on call", ActionPending, "HTTP 503 Service Unavailable"),
			audit(13, "17:40", "bob", VerbNotify, "checkout", "still on it", ActionPending, "HTTP 500 Internal Server Error"),
			audit(9, "22:30", "bob", VerbNote, "", "checkout still open: **DB pool** [see](http://x) \x1b[31mred\x1b[0m | watch payments", ActionDelivered, ""),
			audit(10, "18:10", "bob", VerbTicketEscalate, "payments", "card refunds failing, needs T2", ActionDelivered, ""),
			audit(11, "16:00", "sitroom", VerbEnded, "payments", "ack by alice ended upstream: silence expired", ActionDelivered, ""),
		},
		// bob told checkout (slack, email) and web (msteams: refused) of
		// checkout's outage, then sent checkout an update still retried.
		Notifications: []NotificationRecord{
			{ActionUID: "n1", At: at("17:10"), Operator: "bob", Service: "checkout", Team: "checkout", Channel: "slack", Index: 0,
				Kind: NotifyOutage, State: ActionDelivered},
			{ActionUID: "n1", At: at("17:10"), Operator: "bob", Service: "checkout", Team: "checkout", Channel: "email", Index: 1,
				Kind: NotifyOutage, State: ActionDelivered},
			{ActionUID: "n1", At: at("17:10"), Operator: "bob", Service: "checkout", Team: "web", Channel: "msteams", Index: 0,
				Kind: NotifyOutage, State: ActionFailed, Error: "HTTP 403 Forbidden: invalid_token"},
			{ActionUID: "n2", At: at("17:40"), Operator: "bob", Service: "checkout", Team: "checkout", Channel: "slack", Index: 0,
				Kind: NotifyUpdate, State: ActionPending, Error: "HTTP 500 Internal Server Error"},
		},
		// checkout: bob's ack is in force; change-mgmt silenced one of
		// its alerts upstream too, until after midnight (next shift).
		Silences: []SilenceRecord{{Silence: Silence{Source: "am-eu", ID: "8f1c2d3e-0000-4000-8000-000000000001",
			CreatedBy: "change-mgmt", Comment: "CHG-4711 planned db maintenance", StartsAt: at("22:00"), EndsAt: next("00:00"),
			State: SilenceActive, Matchers: `{alertname="CheckoutDB"}`}, Services: []string{"checkout"}}},
		OpenAlerts: []OpenAlert{{Service: "checkout", Key: "a1", Severity: SevCritical},
			{Service: "checkout", Key: "a3", Severity: SevCritical, SilencedBy: []string{"8f1c2d3e-0000-4000-8000-000000000001"}}},
		AcksNow: []Ack{{ActionID: 7, Service: "checkout", By: "bob", At: at("17:04"), Until: next("01:04"), Comment: "looking at DB pool"}},
		Backlog: []BacklogSample{
			{At: at("14:55"), Source: "noc-desk", Tier: "T1", Open: 6, Unassigned: 3, Breached: 1},
			{At: at("14:55"), Source: "noc-desk", Tier: "T2", Open: 2, Unassigned: 0, Breached: 0},
			{At: at("18:10"), Source: "noc-desk", Tier: "T1", Open: 5, Unassigned: 2, Breached: 1},
			{At: at("18:10"), Source: "noc-desk", Tier: "T2", Open: 3, Unassigned: 1, Breached: 0},
			{At: at("22:40"), Source: "noc-desk", Tier: "T1", Open: 2, Unassigned: 0, Breached: 0},
		},
		Escalations: []Escalation{
			{ActionID: 4, Service: "payments", Level: 2, Who: "service owner on-call", By: "carol", At: at("15:20"), Comment: "processor not answering"},
			{ActionID: 8, Service: "checkout", Level: 2, Who: "service owner on-call", By: "dave", At: at("17:30"), Comment: "needs the DBA on call"},
		},
		Notes: []Note{
			{ID: 5, Service: "payments", By: "alice", At: at("15:40"), Text: "processor says fix by 16:00"},
			{ID: 9, Service: "", By: "bob", At: at("22:30"), Text: "checkout still open: **DB pool** [see](http://x) \x1b[31mred\x1b[0m | watch payments"},
		},
		Acks: []AckRecord{
			{Ack: Ack{ActionID: 7, Service: "checkout", By: "bob", At: at("17:04"), Until: next("01:04"), Comment: "looking at DB pool"}, Silences: 2},
		},
	}
	return h, opt
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", "handoff", name)
	if *updateHandoff {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./model -run Handoff -update to create it")
	assert.Equal(t, string(want), string(got), "golden %s (go test ./model -run Handoff -update rewrites it)", name)
}

func TestHandoffReportGoldens(t *testing.T) {
	h, opt := handoffFixture(t)
	r := BuildHandoff(h, opt)
	golden(t, "report.md", []byte(r.Markdown()+"\n"+r.TimelineMarkdown()))
	js, err := r.JSON()
	require.NoError(t, err)
	golden(t, "report.json", js)
}

func TestHandoffFigures(t *testing.T) {
	h, opt := handoffFixture(t)
	r := BuildHandoff(h, opt)
	var svcs []string
	for _, o := range r.Outages {
		svcs = append(svcs, o.Service)
	}
	assert.Equal(t, []string{"payments", "checkout", "web"}, svcs, "outages open at some time in the shift; the day shift's closed ones are left out")

	pay := r.Outages[0]
	assert.False(t, pay.OpenedInWindow, "payments crossed the shift boundary")
	assert.True(t, pay.ClosedInWindow)
	require.NotNil(t, pay.FirstAck)
	assert.Equal(t, "alice", pay.FirstAck.By, "acked in the previous shift by alice")
	require.Len(t, pay.Escalations, 1)
	assert.Equal(t, "carol", pay.Escalations[0].By, "escalated by another operator")
	assert.Equal(t, int64(110*60), *pay.TTRSeconds)

	co := r.Outages[1]
	assert.True(t, co.StillOpen)
	assert.Equal(t, "bob", co.FirstAck.By, "eve's refused ack is not the first ack")
	assert.Equal(t, int64(4*60), *co.TTASeconds)
	assert.Nil(t, co.TTRSeconds)
	assert.Equal(t, int64(6*3600), co.DurationSeconds, "to the shift's end, not to the time the report is built")

	assert.Equal(t, HandoffStats{Opened: 2, Closed: 2, StillOpen: 1, TTASamples: 1, TTAP50: ptr[int64](240), TTAP90: ptr[int64](240),
		TTRSamples: 2, TTRP50: ptr[int64](300), TTRP90: ptr[int64](6600)}, r.Stats)
	assert.Equal(t, 3, r.PreviousStats.Opened)
	assert.Equal(t, 3, r.PreviousStats.TTASamples, "db-main 6m, search 2m, payments 5m")
	assert.Equal(t, int64(300), *r.PreviousStats.TTAP50)
	assert.Equal(t, int64(360), *r.PreviousStats.TTAP90)

	require.Len(t, r.Refused, 1)
	assert.Equal(t, "eve", r.Refused[0].Operator)
	require.Len(t, r.Unfinished, 3, "dave's escalation and bob's two notifications")
	assert.Equal(t, "dave", r.Unfinished[1].Operator)
	assert.Equal(t, []string{"notify", "escalate", "notify"}, []string{r.Unfinished[0].Verb, r.Unfinished[1].Verb, r.Unfinished[2].Verb})
	for _, op := range r.Operators {
		if op.Operator == "bob" {
			assert.Equal(t, 2, op.Notifications)
		}
	}
	require.Len(t, r.SourceOutages, 2)
	assert.Equal(t, int64(12*60), r.SourceOutages[0].DurationSeconds)
	assert.Equal(t, int64(10*60), r.SourceOutages[1].DurationSeconds, "still down: counted to the shift's end")
	require.Len(t, r.ExpiringSilences, 2, "bob's ack and change-mgmt's silence on checkout")
	assert.Equal(t, "change-mgmt", r.ExpiringSilences[0].By, "ending soonest first")
	assert.True(t, r.ExpiringSilences[0].External)
	assert.Equal(t, "checkout", r.ExpiringSilences[1].Service)
	assert.False(t, r.ExpiringSilences[1].External)
	require.True(t, r.Backlog.Known)
	require.Len(t, r.Backlog.Escalated, 1)
	assert.Equal(t, "bob", r.Backlog.Escalated[0].Operator)
	for _, tier := range r.Backlog.Tiers {
		if tier.Tier == "T1" {
			require.NotNil(t, tier.Start)
			require.NotNil(t, tier.End)
			assert.Equal(t, 6, tier.Start.Open, "the last sample at or before the start")
			assert.Equal(t, 2, tier.End.Open)
		}
	}

	// The same history and windows give the same report, byte for byte.
	again, _ := BuildHandoff(h, opt).JSON()
	first, _ := r.JSON()
	assert.Equal(t, string(first), string(again))
}

func TestShiftAtAcrossMidnightAndDST(t *testing.T) {
	loc, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	s := ShiftSchedule{Zone: loc, Starts: DefaultShiftStarts}
	from, to := s.ShiftAt(time.Date(2026, 3, 29, 3, 0, 0, 0, time.UTC)) // the night the clocks go forward
	assert.Equal(t, time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC), from.UTC())
	assert.Equal(t, time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC), to.UTC(), "07:00 BST: a 7-hour night shift")
	pf, pt := s.Previous(from)
	assert.Equal(t, time.Date(2026, 3, 28, 15, 0, 0, 0, time.UTC), pf.UTC())
	assert.Equal(t, from, pt)
}

func TestPercentileNearestRank(t *testing.T) {
	assert.Nil(t, percentile(nil, 50))
	assert.Equal(t, int64(2), *percentile([]int64{4, 1, 3, 2}, 50))
	assert.Equal(t, int64(10), *percentile([]int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90+1))
	assert.Equal(t, int64(9), *percentile([]int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90))
}
