// Package statstest writes a year of a busy NOC's history into a cache
// file, for the benchmarks of `sitroom stats` and the Stats view (the
// budgets of docs/stats.md: the command over 365 days in 200 ms, the
// view's first frame in 100 ms). Only benchmarks use it: generating the
// year takes tens of seconds.
//
// It writes the cache's tables directly (the cache's own writes would
// take hours for a year), so it knows the schema of the statistics'
// rollups (model/cache/stats.go, schema version 14): a change there is a
// change here. The benchmarks check the figures they read back.
package statstest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the driver the cache uses

	"sitroom/model"
	"sitroom/model/cache"
)

// The year: 50k outages, 1M alert firing episodes, 200k tickets, 500k
// actions (acks, escalations, notes and the rest), on the services of
// Services, written as the cache holds them with the default retention:
// the rollups for the year, resolved alert rows with their labels for the
// last AlertRowDays days.
const (
	Outages      = 50_000
	Episodes     = 1_000_000
	Tickets      = 200_000
	Actions      = 500_000
	AlertRowDays = 30
)

// version names the generator's output in the kept file's name: bump it
// when the generated year changes.
const version = 1

// Services are the year's services, svc-00 to svc-59; a few carry most
// outages and alerts (Zipf).
func Services() []string {
	s := make([]string, 60)
	for i := range s {
		s[i] = fmt.Sprintf("svc-%02d", i)
	}
	return s
}

// End is when the year generated today ends: today's midnight (UTC), so
// the last 7 and 30 days to now, which the Stats view reads, are full.
func End() time.Time {
	return time.Now().UTC().Truncate(24 * time.Hour)
}

// Year is the path of a cache file holding the year ending at end,
// generated when missing. The file is kept in the temp dir
// (sitroom-stats-year-v<version>-<end>.db), so later runs and other
// packages' benchmarks reuse it; generating it removes the ones of other
// days. SITROOM_STATS_YEAR names another file to use (generated when
// missing), to look at with sqlite3. Callers open it and must not write
// to it.
func Year(tb testing.TB, end time.Time) string {
	tb.Helper()
	path := os.Getenv("SITROOM_STATS_YEAR")
	name := fmt.Sprintf("sitroom-stats-year-v%d-%s.db", version, end.UTC().Format("20060102T1504"))
	if path == "" {
		path = filepath.Join(os.TempDir(), name)
	}
	if _, err := os.Stat(path); err == nil {
		return path
	}
	// One generator at a time (go test runs packages' binaries in
	// parallel); the file appears whole, by rename.
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "sitroom-stats-year.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	defer lock.Close() // and so unlocked
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(path); err == nil {
		return path // another process generated it meanwhile
	}
	if os.Getenv("SITROOM_STATS_YEAR") == "" {
		old, _ := filepath.Glob(filepath.Join(os.TempDir(), "sitroom-stats-year-v*.db"))
		for _, p := range old {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(p + suffix)
			}
		}
	}
	dir, err := os.MkdirTemp(filepath.Dir(path), ".sitroom-year-")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "cache.db")
	start := time.Now()
	if err := generate(tmp, end); err != nil {
		tb.Fatalf("generating a year of history: %v", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	if fi, err := os.Stat(path); err == nil {
		tb.Logf("generated a year in %s: %.1f MiB, %s", time.Since(start).Round(time.Millisecond), float64(fi.Size())/(1<<20), path)
	}
	return path
}

const hourNS = int64(time.Hour)

// keyWidths are alert_key_counts' widths in seconds (the cache's).
var keyWidths = []int64{2592000, 86400, 3600}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// labelsJSON is a label set as the cache stores it: JSON, keys sorted.
func labelsJSON(m map[string]string) string {
	b, _ := json.Marshal(m)
	return string(b)
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

// generate writes the year ending at end into a new cache file.
func generate(path string, end time.Time) error {
	c, err := cache.Open(path)
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
	services := Services()
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
	for i := range Outages {
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
	for actionID < Actions {
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
	rowsFrom := end.Add(-AlertRowDays * 24 * time.Hour).UnixNano()
	alerts := &bulk{tx: tx, cols: 16, head: `INSERT INTO alerts(source, key, state, starts_at, generator_url, labels, annotations,
		silenced_by, inhibited_by, first_seen, last_seen, missed, resolved_at, seq, severity, fired_seen)`}
	for range Episodes {
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
			labels := labelsJSON(map[string]string{"alertname": k.name, "service": k.service, "severity": "warning",
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
	tk := &bulk{tx: tx, cols: 29, head: `INSERT INTO tickets(source, id, number, url, tier, queue, priority, priority_raw,
		status, subject, requester, owner, created, updated, sla_known, sla_name, sla_due, sla_breached, sla_paused,
		sla_remaining, sla_as_of, service, fields, hash, closed_at, priority_name, first_seen, last_seen, seq)`}
	for i := range Tickets {
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
	// ticket_hours as the cache's migration fills it from the rows.
	if _, err := tx.Exec(ticketHours); err != nil {
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

// ticketHours fills ticket_hours from the tickets, as the cache's
// migration to schema version 14 does.
const ticketHours = `INSERT INTO ticket_hours(hour, source, tier, opened)
		SELECT created - created % 3600000000000, source, tier, count(*) FROM tickets GROUP BY 1, 2, 3;
	INSERT INTO ticket_hours(hour, source, tier, closed)
		SELECT closed_at - closed_at % 3600000000000, source, tier, count(*) FROM tickets WHERE closed_at != 0 GROUP BY 1, 2, 3
		ON CONFLICT DO UPDATE SET closed = closed + excluded.closed;
	INSERT INTO ticket_hours(hour, source, tier, breached)
		SELECT sla_due - sla_due % 3600000000000, source, tier, count(*) FROM tickets
		WHERE closed_at != 0 AND sla_known != 0 AND sla_due != 0 AND (sla_breached != 0 OR closed_at > sla_due) GROUP BY 1, 2, 3
		ON CONFLICT DO UPDATE SET breached = breached + excluded.breached;`

// CheckYear fails tb unless s are the figures of (nearly) the whole
// generated year: at least 99 % and at most all of its outages, alert
// episodes and tickets, acks and escalations, the most frequent service
// first, flapping alerts and noisy sources. It guards the generator
// against drifting from the cache's schema.
func CheckYear(tb testing.TB, s *model.Stats) {
	tb.Helper()
	if s == nil {
		tb.Fatal("no figures")
	}
	tickets := 0
	for _, t := range s.Totals.Tickets {
		tickets += t.Opened
	}
	escalations := 0
	for _, n := range s.Totals.Escalations {
		escalations += n
	}
	for _, c := range []struct {
		what      string
		got, want int
	}{{"outages", s.Totals.Outages, Outages}, {"alert episodes", s.Totals.Alerts, Episodes}, {"tickets", tickets, Tickets}} {
		if c.got < c.want*99/100 || c.got > c.want {
			tb.Errorf("%d %s in the year's figures, want about %d", c.got, c.what, c.want)
		}
	}
	if s.Totals.TTASamples < Outages/2 || escalations < Outages/5 {
		tb.Errorf("%s acked, %s: the year has acks for most outages and escalations for a quarter",
			model.Plural(s.Totals.TTASamples, "outage", "outages"), model.Plural(escalations, "escalation", "escalations"))
	}
	if len(s.TopByOutages) == 0 || s.TopByOutages[0].Service != "svc-00" {
		tb.Errorf("top services by outages %v, want svc-00 first", s.TopByOutages)
	}
	if len(s.Flapping) == 0 || len(s.Sources) == 0 {
		tb.Errorf("%s flapping, %s", model.Plural(len(s.Flapping), "alert", "alerts"), model.Plural(len(s.Sources), "source", "sources"))
	}
}
