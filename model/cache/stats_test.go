package cache

import (
	"database/sql"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

func hr(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }

func pollAt(t time.Time) PollMeta {
	return PollMeta{At: t, Latency: 30 * time.Millisecond, Type: "alertmanager"}
}

func firing(name string, start time.Time) model.Alert {
	a := alert(name)
	a.StartsAt = model.StampOf(start)
	return a
}

// statsCache is a small history written through the cache's own calls:
// outages, acks (one refused, one before the outage opened that lapsed),
// an escalation, an alert that fires twice on two sources, tickets.
func statsCache(t *testing.T) (*Cache, string) {
	c, path := openTemp(t)
	// checkout: opened 0h, closed 2h; its first ack (not refused) at 0h05.
	co, err := c.OpenOutage(model.OutageRecord{Service: "checkout", Severity: model.SevCritical, Opened: hr(0), Alerts: 2})
	require.NoError(t, err)
	require.NoError(t, c.CloseOutage(co, hr(2), false))
	early := ackAction("checkout", hr(-1)) // before it opened: not its first ack; lapses at 1h
	early.Until = hr(-0.5)
	_, err = c.RecordAction(early)
	require.NoError(t, err)
	refused := ackAction("checkout", hr(0).Add(time.Minute))
	refused.State, refused.Reason = model.ActionRefused, "tier1 may not"
	_, err = c.RecordAction(refused)
	require.NoError(t, err)
	_, err = c.RecordAction(ackAction("checkout", hr(0).Add(5*time.Minute))) // until 2h05: lapses too
	require.NoError(t, err)
	esc := escalateAction("checkout", hr(0).Add(10*time.Minute))
	esc.Level = 2
	_, err = c.RecordAction(esc)
	require.NoError(t, err)
	// payments: opened 1h, still open, never acked.
	_, err = c.OpenOutage(model.OutageRecord{Service: "payments", Severity: model.SevWarning, Opened: hr(1), Alerts: 1})
	require.NoError(t, err)
	// web: over before the window.
	web, err := c.OpenOutage(model.OutageRecord{Service: "web", Severity: model.SevWarning, Opened: hr(-5), Alerts: 1})
	require.NoError(t, err)
	require.NoError(t, c.CloseOutage(web, hr(-4), false))

	// Disk full fires on am-a and am-b at 0h (one episode of the key, one
	// of each source), resolves, and fires again at 1h on am-a.
	disk := firing("DiskFull", hr(0))
	for _, src := range []string{"am-a", "am-b"} {
		_, err = c.Ingest(src, []model.Alert{disk}, pollAt(hr(0).Add(time.Minute)))
		require.NoError(t, err)
	}
	for i := range 2 {
		for _, src := range []string{"am-a", "am-b"} {
			_, err = c.Ingest(src, []model.Alert{firing("Other", hr(0))}, pollAt(hr(0.5).Add(time.Duration(i)*time.Minute)))
			require.NoError(t, err)
		}
	}
	_, err = c.Ingest("am-a", []model.Alert{firing("DiskFull", hr(1)), firing("Other", hr(0))}, pollAt(hr(1).Add(time.Minute)))
	require.NoError(t, err)

	// Tickets: 1 opened at -1h, due 0h30, closed at 1h (late); 2 opened at
	// 0h50, due 0h30 too, still open.
	t1 := ticket("1", "disk full", model.Tier1)
	_, err = c.IngestTickets("rt", []model.Ticket{t1}, PollMeta{At: hr(0), Type: "rt"})
	require.NoError(t, err)
	t2 := ticket("2", "checkout slow", model.Tier2)
	t2.Created = hr(0).Add(50 * time.Minute)
	_, err = c.IngestTickets("rt", []model.Ticket{t2}, PollMeta{At: hr(1), Type: "rt"})
	require.NoError(t, err)
	return c, path
}

func TestStatsFactsOfAHandMadeHistory(t *testing.T) {
	c, _ := statsCache(t)
	f, err := c.StatsFacts(model.StatsQuery{From: hr(-2), To: hr(3)})
	require.NoError(t, err)

	require.Len(t, f.Outages, 2, "web closed before the window")
	co, pay := f.Outages[0], f.Outages[1]
	assert.Equal(t, "checkout", co.Service)
	assert.Equal(t, model.SevCritical, co.Severity)
	assert.Equal(t, hr(0).Add(5*time.Minute), co.FirstAck, "not the ack before it opened, nor the refused one")
	assert.Equal(t, hr(2), co.Closed)
	assert.Equal(t, "payments", pay.Service)
	assert.True(t, pay.Closed.IsZero())
	assert.True(t, pay.FirstAck.IsZero())

	require.Len(t, f.Escalations, 1)
	assert.Equal(t, model.StatsEscalation{At: hr(0).Add(10 * time.Minute), Service: "checkout", Level: 2, Operator: "alice"},
		f.Escalations[0])
	require.Len(t, f.AcksExpired, 2, "both acks lapsed, the refused one never held")
	assert.Equal(t, hr(-0.5), f.AcksExpired[0].At)
	assert.Equal(t, hr(2).Add(5*time.Minute), f.AcksExpired[1].At)

	fired := map[string]int{}
	for _, h := range f.AlertHours {
		fired[h.Hour.Format("15")+" "+h.Source] += h.Fired
	}
	assert.Equal(t, map[string]int{
		hr(0).Format("15") + " am-a": 2, hr(0).Format("15") + " am-b": 2, // DiskFull and Other on each
		hr(1).Format("15") + " am-a": 1, // DiskFull again
	}, fired)
	require.Len(t, f.Flapping, 1, "Other fired once per source: one episode")
	assert.Equal(t, model.FlappingAlert{Key: firing("DiskFull", hr(0)).Key, Name: "DiskFull", Service: "checkout", Cycles: 2},
		f.Flapping[0])

	assert.True(t, f.HasTickets)
	assert.Equal(t, []model.TicketHour{
		{Hour: hr(-1), Source: "rt", Tier: 1, Opened: 1},
		{Hour: hr(0), Source: "rt", Tier: 1, Breached: 1}, // closed at 1h, due 0h30
		{Hour: hr(0), Source: "rt", Tier: 2, Opened: 1, Breached: 1},
		{Hour: hr(1), Source: "rt", Tier: 1, Closed: 1},
	}, f.TicketHours)

	// Narrowed to payments: its outage only, nothing else of checkout's.
	p, err := c.StatsFacts(model.StatsQuery{From: hr(-2), To: hr(3), Services: []string{"payments"}})
	require.NoError(t, err)
	require.Len(t, p.Outages, 1)
	assert.Equal(t, "payments", p.Outages[0].Service)
	assert.Empty(t, p.Escalations)
	assert.Empty(t, p.AcksExpired)
	assert.Empty(t, p.AlertHours)
	assert.Empty(t, p.Flapping)
	assert.Empty(t, p.TicketHours, "the tickets name no service")

	// A window after the first episode: DiskFull fired once in it.
	late, err := c.StatsFacts(model.StatsQuery{From: hr(0.5), To: hr(3)})
	require.NoError(t, err)
	assert.Empty(t, late.Flapping)
	assert.Equal(t, []model.AlertHour{{Hour: hr(1), Source: "am-a", Fired: 1}}, late.AlertHours)
}

// A ticket that comes back takes back its close and its breach; the open
// ticket past its SLA counts as breached instead.
func TestStatsTicketReopened(t *testing.T) {
	c, _ := statsCache(t)
	t1, t2 := ticket("1", "disk full", model.Tier1), ticket("2", "checkout slow", model.Tier2)
	t2.Created = hr(0).Add(50 * time.Minute)
	_, err := c.IngestTickets("rt", []model.Ticket{t1, t2}, PollMeta{At: hr(2), Type: "rt"})
	require.NoError(t, err)
	f, err := c.StatsFacts(model.StatsQuery{From: hr(-2), To: hr(3)})
	require.NoError(t, err)
	assert.Equal(t, []model.TicketHour{
		{Hour: hr(-1), Source: "rt", Tier: 1, Opened: 1},
		{Hour: hr(0), Source: "rt", Tier: 1, Breached: 1}, // open past due now
		{Hour: hr(0), Source: "rt", Tier: 2, Opened: 1, Breached: 1},
		// its close at 1h taken back: nothing left in that hour
	}, f.TicketHours)
	// An open ticket is past its SLA once its due time has passed, not
	// from the start of that hour: at 0h20 the one due at 0h30 is not.
	early, err := c.StatsFacts(model.StatsQuery{From: hr(-2), To: hr(0).Add(20 * time.Minute)})
	require.NoError(t, err)
	for _, h := range early.TicketHours {
		assert.Zero(t, h.Breached, "%+v", h)
	}
	later, err := c.StatsFacts(model.StatsQuery{From: hr(-2), To: hr(0).Add(40 * time.Minute)})
	require.NoError(t, err)
	assert.Contains(t, later.TicketHours, model.TicketHour{Hour: hr(0), Source: "rt", Tier: 1, Breached: 1})
}

func rollupRows(t *testing.T, db *sql.DB) (n int) {
	t.Helper()
	for _, tb := range []string{"alert_hours", "alert_svc_hours", "alert_key_counts", "alert_keys", "ticket_hours"} {
		var k int
		require.NoError(t, db.QueryRow(`SELECT coalesce(sum(`+map[bool]string{true: "fired", false: "1"}[tb != "alert_keys" && tb != "ticket_hours"]+`), 0) FROM `+tb).Scan(&k))
		n += k
	}
	return n
}

// The rollups follow churn: a poll that changes nothing writes nothing,
// an alert that starts firing adds one episode.
func TestStatsRollupWrittenAtIngestOnly(t *testing.T) {
	c, path := openTemp(t)
	db := rawDB(t, path)
	a, b := firing("A", hr(0)), firing("B", hr(0))
	b.State = model.StatePending
	_, err := c.Ingest("am", []model.Alert{a, b}, pollAt(hr(0)))
	require.NoError(t, err)
	before, dv := rollupRows(t, db), dataVersion(t, db)
	for i := 1; i <= 3; i++ {
		res, err := c.Ingest("am", []model.Alert{a, b}, pollAt(hr(0).Add(time.Duration(i)*time.Second)))
		require.NoError(t, err)
		assert.False(t, res.Wrote, "no change, no write")
	}
	assert.Equal(t, dv, dataVersion(t, db), "not a row written")
	assert.Equal(t, before, rollupRows(t, db))
	f, err := c.StatsFacts(model.StatsQuery{From: hr(-1), To: hr(1)})
	require.NoError(t, err)
	assert.Equal(t, []model.AlertHour{{Hour: hr(0), Source: "am", Fired: 1}}, f.AlertHours, "the pending alert has not fired")

	b.State = model.StateFiring // B fires: one more episode, in the hour it began
	_, err = c.Ingest("am", []model.Alert{a, b}, pollAt(hr(0).Add(time.Minute)))
	require.NoError(t, err)
	f, err = c.StatsFacts(model.StatsQuery{From: hr(-1), To: hr(1)})
	require.NoError(t, err)
	assert.Equal(t, []model.AlertHour{{Hour: hr(0), Source: "am", Fired: 2}}, f.AlertHours)
}

// A cache written before the rollups gets them from its rows.
func TestStatsMigrationBackfillsRollups(t *testing.T) {
	c, path := statsCache(t)
	q := model.StatsQuery{From: hr(-2), To: hr(3)}
	want, err := c.StatsFacts(q)
	require.NoError(t, err)
	require.NoError(t, c.Close())

	db := rawDB(t, path)
	for _, s := range append(dropSince13, "PRAGMA user_version = 13") {
		_, err := db.Exec(s)
		require.NoError(t, err, s)
	}
	require.NoError(t, db.Close())

	c2, err := Open(path)
	require.NoError(t, err)
	defer c2.Close()
	got, err := c2.StatsFacts(q)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.NotEmpty(t, got.AlertHours)
	assert.NotEmpty(t, got.Flapping)
	assert.NotEmpty(t, got.TicketHours)
}

// Pruning a big backlog runs in short transactions: a poll gets the
// write lock between two of them, not only after the whole prune.
func TestPruneInBatchesLetsIngestIn(t *testing.T) {
	c, path := openTemp(t)
	db := rawDB(t, path)
	const old = 3*PruneBatch + 10
	tx, err := db.Begin()
	require.NoError(t, err)
	for i := range old {
		_, err := tx.Exec(`INSERT INTO alerts(source, key, state, starts_at, generator_url, labels, annotations, silenced_by,
			inhibited_by, first_seen, last_seen, missed, resolved_at, seq, fired_seen)
			VALUES ('am', ?, 'firing', 1, '', '{}', '{}', '[]', '[]', 1, 1, 2, ?, 1, 1)`, i, ns(hr(-100)))
		require.NoError(t, err)
	}
	require.NoError(t, tx.Commit())
	_, err = c.Ingest("am", []model.Alert{firing("A", hr(0))}, pollAt(hr(0)))
	require.NoError(t, err)

	var yields, ingested atomic.Int32
	saved := pruneYield
	t.Cleanup(func() { pruneYield = saved })
	pruneYield = func() {
		yields.Add(1)
		// A poll between two prune transactions: it must not wait for the
		// whole prune (it would block here for ever: this is the pruner).
		res, err := c.Ingest("am", []model.Alert{firing("A", hr(0)), firing(time.Now().String(), hr(0))}, pollAt(hr(0).Add(time.Second)))
		if err == nil && res.Wrote {
			ingested.Add(1)
		}
	}
	n, err := c.PruneHistory(Retention{Before: hr(-400), AlertsBefore: hr(-1)})
	require.NoError(t, err)
	assert.EqualValues(t, old, n)
	assert.EqualValues(t, 3, yields.Load(), "%d rows in batches of %d", old, PruneBatch)
	assert.EqualValues(t, 3, ingested.Load(), "every poll between batches got in")
	var left int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM alerts WHERE resolved_at < ?`, ns(hr(-1))).Scan(&left))
	assert.Zero(t, left)
}

// The compact history and the alert rows have their own horizons; closed
// tickets go with the compact history, open ones stay.
func TestPruneKeepsRollupsLongerThanAlertRows(t *testing.T) {
	c, _ := statsCache(t)
	for _, src := range []string{"am-a", "am-b"} { // resolve everything
		for i := range 2 {
			_, err := c.Ingest(src, nil, PollMeta{At: hr(2).Add(time.Duration(i) * time.Minute), UptimeKnown: true, Uptime: 100 * time.Hour})
			require.NoError(t, err)
		}
	}
	q := model.StatsQuery{From: hr(-2), To: hr(3)}
	before, err := c.StatsFacts(q)
	require.NoError(t, err)
	_, err = c.PruneHistory(Retention{Before: hr(-3), AlertsBefore: hr(10)})
	require.NoError(t, err)
	after, err := c.StatsFacts(q)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the alert rows went, the stats stay")
	h, err := c.History(hr(-2), hr(3))
	require.NoError(t, err)
	assert.Empty(t, h.Alerts, "resolved alert rows pruned")

	_, err = c.PruneHistory(Retention{Before: hr(10)})
	require.NoError(t, err)
	gone, err := c.StatsFacts(q)
	require.NoError(t, err)
	assert.Len(t, gone.Outages, 1, "the open outage stays")
	assert.Empty(t, gone.AlertHours)
	assert.Empty(t, gone.Flapping)
	assert.Equal(t, []model.TicketHour{{Hour: hr(0), Source: "rt", Tier: 2, Breached: 1}}, gone.TicketHours,
		"the open ticket stays, past its SLA")
}

// dropSince13 takes a file back from the current schema to what version
// 13 had (the stats schema of 14, the health_read column of 15, the
// alerts' digest column of 16), for the tests that migrate from an older
// one.
var dropSince13 = []string{"ALTER TABLE alerts DROP COLUMN digest", "ALTER TABLE sources DROP COLUMN health_read", "DROP TABLE alert_hours", "DROP TABLE alert_svc_hours", "DROP TABLE alert_keys",
	"DROP TABLE alert_key_counts", "DROP TABLE ticket_hours", "DROP INDEX audit_acks", "DROP INDEX escalations_stats",
	"DROP INDEX acks_stats", "DROP INDEX outage_history_stats", "DROP INDEX tickets_service", "DROP INDEX tickets_open_due"}

// rollupTables is what the alert rollups hold, keys by their text.
func rollupTables(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for name, q := range map[string]string{
		"hours":  `SELECT hour, source, fired FROM alert_hours`,
		"svc":    `SELECT service, hour, source, fired FROM alert_svc_hours`,
		"keys":   `SELECT key, name, service FROM alert_keys`,
		"counts": `SELECT width, period, k.key, fired FROM alert_key_counts JOIN alert_keys k ON k.id = key_id`,
	} {
		rows, err := db.Query(q)
		require.NoError(t, err)
		cols, _ := rows.Columns()
		for rows.Next() {
			v := make([]any, len(cols))
			p := make([]any, len(cols))
			for i := range v {
				p[i] = &v[i]
			}
			require.NoError(t, rows.Scan(p...))
			out[name] = append(out[name], fmt.Sprintf("%v", v))
		}
		require.NoError(t, rows.Err())
		rows.Close()
		sort.Strings(out[name])
	}
	return out
}

// A big first poll's rollups, written in bulk, are what the migration
// counts from the same rows: names and services whatever their text,
// hours, days and 30-day periods, a key another source already holds
// firing counted once.
func TestStatsRollupWriteMatchesBackfill(t *testing.T) {
	c, path := openTemp(t)
	var polls [2][]model.Alert
	for i := range 600 {
		name := fmt.Sprintf(`Disk "%d" \ full ✓`, i%40)
		extra := []string{"instance", fmt.Sprint(i)}
		if i%3 == 0 {
			extra = append(extra, "service", "", "job", "node\texporter")
		}
		a := alert(name, extra...)
		a.StartsAt = model.StampOf(hr(-float64(i) * 2.5))
		polls[0] = append(polls[0], a)
		if i%4 == 0 {
			polls[1] = append(polls[1], a) // the same key on a second source
		}
	}
	_, err := c.Ingest("am-a", polls[0], pollAt(hr(0)))
	require.NoError(t, err)
	_, err = c.Ingest("am-b", polls[1], pollAt(hr(0).Add(time.Minute)))
	require.NoError(t, err)
	_, err = c.Ingest("am-b", append(polls[1], firing("Late", hr(1))), pollAt(hr(1)))
	require.NoError(t, err)
	require.NoError(t, c.Close())

	db := rawDB(t, path)
	written := rollupTables(t, db)
	assert.Len(t, written["keys"], 601)
	assert.Len(t, written["counts"], 3*601, "each key once per width")
	for _, s := range append(dropSince13, "PRAGMA user_version = 13") {
		_, err := db.Exec(s)
		require.NoError(t, err, s)
	}
	require.NoError(t, db.Close())
	c2, err := Open(path)
	require.NoError(t, err)
	require.NoError(t, c2.Close())
	assert.Equal(t, written, rollupTables(t, rawDB(t, path)))
}
