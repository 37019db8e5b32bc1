package cache

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// A year of a busy NOC: 50k outages, 1M alert firing episodes, 200k
// tickets, 500k actions, written as the cache would hold them with the
// default retention (the rollups for the year, resolved alert rows with
// their labels for the last 30 days), once per test binary.
const (
	yearOutages   = 50_000
	yearEpisodes  = 1_000_000
	yearTickets   = 200_000
	yearActions   = 500_000
	yearAlertRows = 30 // days of resolved alert rows kept
)

// yearEnd is the end of the generated year.
var yearEnd = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func yearCache(tb testing.TB) string {
	if p, ok := warmFiles.Load("year"); ok {
		return p.(string)
	}
	// SITROOM_STATS_YEAR names a file to keep (generated when missing),
	// to look at with sqlite3.
	if p := os.Getenv("SITROOM_STATS_YEAR"); p != "" {
		if _, err := os.Stat(p); err != nil {
			require.NoError(tb, generateYear(p, yearEnd))
		}
		return p
	}
	dir, err := os.MkdirTemp("", "sitroom-year-")
	require.NoError(tb, err)
	path := filepath.Join(dir, "cache.db")
	start := time.Now()
	require.NoError(tb, generateYear(path, yearEnd))
	if fi, err := os.Stat(path); err == nil {
		tb.Logf("generated a year in %s: %.1f MiB", time.Since(start).Round(time.Millisecond), float64(fi.Size())/(1<<20))
	}
	warmFiles.Store("year", path)
	return path
}

// bulk inserts rows of n columns, many rows per statement.
type bulk struct {
	tx   *sql.Tx
	head string
	cols int
	rows [][]any
}

func (b *bulk) add(v ...any) error {
	b.rows = append(b.rows, v)
	if len(b.rows)*b.cols >= 30_000 {
		return b.flush()
	}
	return nil
}

func (b *bulk) flush() error {
	if len(b.rows) == 0 {
		return nil
	}
	ph := "(" + strings.TrimSuffix(strings.Repeat("?,", b.cols), ",") + ")"
	var sb strings.Builder
	sb.WriteString(b.head)
	sb.WriteString(" VALUES ")
	args := make([]any, 0, len(b.rows)*b.cols)
	for i, r := range b.rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(ph)
		args = append(args, r...)
	}
	b.rows = b.rows[:0]
	_, err := b.tx.Exec(sb.String(), args...)
	return err
}

// generateYear writes the year ending at end into a new cache file.
func generateYear(path string, end time.Time) error {
	c, err := Open(path)
	if err != nil {
		return err
	}
	if err := c.Close(); err != nil {
		return err
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=OFF")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	rng := rand.New(rand.NewPCG(19, 365))
	begin := end.Add(-365 * 24 * time.Hour)
	span := int64(end.Sub(begin))
	at := func() int64 { return begin.UnixNano() + rng.Int64N(span) }
	services := make([]string, 60)
	for i := range services {
		services[i] = fmt.Sprintf("svc-%02d", i)
	}
	svcZipf := rand.NewZipf(rng, 1.3, 2, uint64(len(services)-1))
	sevs := []string{"critical", "warning", "warning", "info"}
	ops := []string{"alice", "bob", "carol", "dave", "erin", "frank"}
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		return err
	}
	step := func(bs ...*bulk) error {
		for _, b := range bs {
			if err := b.flush(); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		tx, err = db.BeginTx(context.Background(), nil)
		for _, b := range bs {
			b.tx = tx
		}
		return err
	}

	// Outages, each with an ack (most), an escalation (some) and a note;
	// then other actions up to yearActions.
	outages := &bulk{tx: tx, cols: 9, head: `INSERT INTO outage_history(service, severity, opened_at, closed_at, alerts, first_seen, provisional, team, id)`}
	audit := &bulk{tx: tx, cols: 12, head: `INSERT INTO audit(id, uid, at, operator, role, host, ssh_client, verb, service, target, comment, state)`}
	acks := &bulk{tx: tx, cols: 9, head: `INSERT INTO acks(id, service, alert_keys, by, at, until, comment, cleared_at, cleared_by)`}
	escs := &bulk{tx: tx, cols: 9, head: `INSERT INTO escalations(id, service, level, who, contact, by, at, comment, cleared_at)`}
	notes := &bulk{tx: tx, cols: 5, head: `INSERT INTO notes(id, service, by, at, text)`}
	var actionID int64
	action := func(t int64, verb, service, state string) (int64, error) {
		actionID++
		return actionID, audit.add(actionID, fmt.Sprintf("%016x", actionID), t, ops[rng.IntN(len(ops))], "operator", "noc-1", "",
			verb, service, service, "looking", state)
	}
	for i := range yearOutages {
		svc := services[svcZipf.Uint64()]
		opened := at()
		dur := int64(rng.ExpFloat64() * float64(40*time.Minute))
		closed := opened + dur
		if closed >= end.UnixNano() {
			closed = 0
		}
		if err := outages.add(svc, sevs[rng.IntN(len(sevs))], opened, closed, 1+rng.IntN(12), opened+int64(20*time.Second), 0, 0, i+1); err != nil {
			return err
		}
		if rng.IntN(10) < 8 {
			t := opened + int64(rng.ExpFloat64()*float64(4*time.Minute))
			state := "delivered"
			if rng.IntN(50) == 0 {
				state = "refused"
			}
			id, err := action(t, "ack", svc, state)
			if err != nil {
				return err
			}
			if state != "refused" {
				cleared := closed
				if cleared != 0 && rng.IntN(8) == 0 {
					cleared = 0 // lapsed
				}
				if err := acks.add(id, svc, "[]", "alice", t, t+int64(time.Hour), "looking", cleared, ""); err != nil {
					return err
				}
			}
		}
		if rng.IntN(4) == 0 {
			t := opened + int64(rng.ExpFloat64()*float64(15*time.Minute))
			id, err := action(t, "escalate", svc, "delivered")
			if err != nil {
				return err
			}
			if err := escs.add(id, svc, 1+rng.IntN(3), "oncall", "", "bob", t, "", closed); err != nil {
				return err
			}
		}
		if i%10_000 == 9_999 {
			if err := step(outages, audit, acks, escs, notes); err != nil {
				return err
			}
		}
	}
	verbs := []string{"note", "note", "unack", "clear", "notify"}
	for actionID < yearActions {
		t := at()
		verb := verbs[rng.IntN(len(verbs))]
		svc := services[svcZipf.Uint64()]
		id, err := action(t, verb, svc, "delivered")
		if err != nil {
			return err
		}
		if verb == "note" {
			if err := notes.add(id, svc, "carol", t, "checked the dashboards, nothing new"); err != nil {
				return err
			}
		}
		if actionID%50_000 == 0 {
			if err := step(outages, audit, acks, escs, notes); err != nil {
				return err
			}
		}
	}
	if err := step(outages, audit, acks, escs, notes); err != nil {
		return err
	}

	// Alert episodes: 3000 keys, a few of them noisy, on three sources.
	type key struct{ name, service, key, source string }
	keys := make([]key, 3000)
	sources := []string{"prom", "am-1", "cloudwatch"}
	for i := range keys {
		name := fmt.Sprintf("Alert%02d", i%80)
		svc := services[svcZipf.Uint64()]
		keys[i] = key{name, svc, fmt.Sprintf("alertname=%s,instance=host-%04d,service=%s", name, i, svc), sources[i%3]}
	}
	keyZipf := rand.NewZipf(rng, 1.1, 4, uint64(len(keys)-1))
	type hourKey struct {
		hour            int64
		source, service string
	}
	hours := map[hourKey]int{}
	keyCounts := map[[3]int64]int{} // width, period, key index
	rowsFrom := end.Add(-yearAlertRows * 24 * time.Hour).UnixNano()
	alerts := &bulk{tx: tx, cols: 16, head: `INSERT INTO alerts(source, key, state, starts_at, generator_url, labels, annotations,
		silenced_by, inhibited_by, first_seen, last_seen, missed, resolved_at, seq, severity, fired_seen)`}
	for range yearEpisodes {
		ki := keyZipf.Uint64()
		k := keys[ki]
		began := at()
		hours[hourKey{began - began%hourNS, k.source, k.service}]++
		for _, w := range keyWidths {
			p := w * int64(time.Second)
			keyCounts[[3]int64{w, began - began%p, int64(ki) + 1}]++
		}
		if began >= rowsFrom {
			resolved := min(began+int64(rng.ExpFloat64()*float64(20*time.Minute)), end.UnixNano()-1)
			labels := encodeMap(map[string]string{"alertname": k.name, "service": k.service, "severity": "warning",
				"instance": k.key[strings.Index(k.key, "host-"):][:9], "job": "node", "team": "platform"})
			if err := alerts.add(k.source, k.key, "firing", began, "http://prom:9090/graph?g0.expr=up", labels,
				`{"summary":"the thing is down on this host","runbook_url":"https://wiki/runbooks/thing"}`, "[]", "[]",
				began+int64(15*time.Second), resolved, 2, resolved, 1, 2, began+int64(15*time.Second)); err != nil {
				return err
			}
		}
	}
	if err := step(alerts); err != nil {
		return err
	}
	src := map[[2]any]int{}
	sh := &bulk{tx: tx, cols: 4, head: `INSERT INTO alert_svc_hours(service, hour, source, fired)`}
	for k, n := range hours {
		src[[2]any{k.hour, k.source}] += n
		if err := sh.add(k.service, k.hour, k.source, n); err != nil {
			return err
		}
	}
	hb := &bulk{tx: tx, cols: 3, head: `INSERT INTO alert_hours(hour, source, fired)`}
	for k, n := range src {
		if err := hb.add(k[0], k[1], n); err != nil {
			return err
		}
	}
	kc := &bulk{tx: tx, cols: 4, head: `INSERT INTO alert_key_counts(width, period, key_id, fired)`}
	for k, n := range keyCounts {
		if err := kc.add(k[0], k[1], k[2], n); err != nil {
			return err
		}
	}
	kk := &bulk{tx: tx, cols: 4, head: `INSERT INTO alert_keys(id, key, name, service)`}
	for i, k := range keys {
		if err := kk.add(i+1, k.key, k.name, k.service); err != nil {
			return err
		}
	}
	if err := step(sh, hb, kc, kk); err != nil {
		return err
	}

	// Tickets on two desks, tiers 1 and 2, most with an SLA.
	tk := &bulk{tx: tx, cols: 29, head: `INSERT INTO tickets(` + ticketCols + `, first_seen, last_seen, seq)`}
	for i := range yearTickets {
		created := at()
		closed := created + int64(rng.ExpFloat64()*float64(8*time.Hour))
		if closed >= end.UnixNano() {
			closed = 0
		}
		due := created + int64(4*time.Hour)
		known := rng.IntN(10) < 9
		if err := tk.add(fmt.Sprintf("desk-%d", i%2), fmt.Sprint(i), fmt.Sprint(i), "", 1+rng.IntN(2), "noc", 3, "3", "open",
			"disk full on host", "someone", "", created, created, b2i(known), "P3", due, b2i(known && closed > due), 0, 0, 0,
			services[svcZipf.Uint64()], "{}", 0, closed, "Medium", created, created, 1); err != nil {
			return err
		}
	}
	if err := step(tk); err != nil {
		return err
	}
	// ticket_hours as the migration fills it from the rows.
	backfill := schemaStats[strings.Index(schemaStats, "INSERT INTO ticket_hours"):strings.Index(schemaStats, "DROP TABLE temp.key_episodes")]
	if _, err := tx.Exec(backfill); err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO sources(name, type, last_attempt, last_success, last_error, latency_ns, items, note)
		VALUES ('desk-0', 'rt', 0, 0, '', 0, 0, '')`); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.Exec(`ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

func yearQuery() model.StatsQuery {
	return model.StatsQuery{From: yearEnd.Add(-365 * 24 * time.Hour), To: yearEnd}
}

// BenchmarkStatsFacts365d is `sitroom stats --since 365d`'s read of a busy
// NOC's year (the budget: the whole command in 200 ms).
func BenchmarkStatsFacts365d(b *testing.B) {
	c, err := Open(yearCache(b))
	require.NoError(b, err)
	defer c.Close()
	b.ResetTimer()
	for b.Loop() {
		f, err := c.StatsFacts(yearQuery())
		if err != nil {
			b.Fatal(err)
		}
		if len(f.Outages) < yearOutages*9/10 {
			b.Fatalf("%d outages", len(f.Outages))
		}
	}
}

// BenchmarkStatsFacts30d is the console's Stats view over 30 days.
func BenchmarkStatsFacts30d(b *testing.B) {
	c, err := Open(yearCache(b))
	require.NoError(b, err)
	defer c.Close()
	q := model.StatsQuery{From: yearEnd.Add(-30 * 24 * time.Hour), To: yearEnd}
	for b.Loop() {
		if _, err := c.StatsFacts(q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStats365d is `sitroom stats --since 365d` but for the
// formatting: the facts of the year read and built into the figures.
func BenchmarkStats365d(b *testing.B) {
	c, err := Open(yearCache(b))
	require.NoError(b, err)
	defer c.Close()
	opt := model.StatsOptions{Bucket: model.BucketWeek, Shifts: model.ShiftSchedule{Zone: time.UTC,
		Starts: []time.Duration{7 * time.Hour, 15 * time.Hour, 23 * time.Hour}}, Now: yearEnd}
	for b.Loop() {
		f, err := c.StatsFacts(yearQuery())
		if err != nil {
			b.Fatal(err)
		}
		if s := model.BuildStats(f, opt); s.Totals.Outages == 0 {
			b.Fatal("no outages")
		}
	}
}
