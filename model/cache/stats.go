package cache

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"sitroom/model"
)

// Schema version 14: what `sitroom stats` reads over a year, kept small
// enough to read in milliseconds (a busy NOC's year holds a million alert
// episodes and 200k tickets; summed per hour and source they are 26k rows).
//
//	alert_hours      a rollup of alert firing episodes: hour (UTC, unix ns
//	                 on the hour), source, fired (episodes that began in
//	                 the hour: an alert row that starts firing, at BeganAt
//	                 of its start and first firing sight).
//	alert_svc_hours  the same per service (the alert's service label, or
//	                 job), for stats narrowed to services.
//	alert_key_counts the episodes per alert key, merged across sources (a
//	                 row that starts firing while another source holds the
//	                 same key firing is the same episode: the migration
//	                 counts a row unless an earlier row of the key was
//	                 still open when it began firing), per width
//	                 (3600, 86400 or 2592000 seconds: hour, day, 30 days)
//	                 and period (its start, unix ns): the flapping list
//	                 sums whole 30-day periods and the hours and days at a
//	                 window's edges.
//	alert_keys       each key's id, alert name and service.
//	ticket_hours     tickets per hour (UTC), source and tier: opened (by
//	                 created), closed (by closed_at), breached (closed past
//	                 their SLA or flagged breached, by sla_due). Open
//	                 tickets past their SLA are read from the tickets.
//
// All are written in the transaction that writes the rows they count
// (Ingest, IngestTickets), so a poll that changes nothing writes nothing
// here either; the migration fills them from the rows in the file. Indexes
// (covering what stats read of a year, in order): outages by opened_at,
// acks by time in the audit log (each outage's first ack), escalations by
// time, acks by expiry, tickets by service for stats narrowed to
// services, and the open tickets by SLA due.
const schemaStats = `CREATE TABLE alert_hours (
		hour   INTEGER NOT NULL,
		source TEXT    NOT NULL,
		fired  INTEGER NOT NULL,
		PRIMARY KEY (hour, source)
	) WITHOUT ROWID;
	CREATE TABLE alert_svc_hours (
		service TEXT    NOT NULL,
		hour    INTEGER NOT NULL,
		source  TEXT    NOT NULL,
		fired   INTEGER NOT NULL,
		PRIMARY KEY (service, hour, source)
	) WITHOUT ROWID;
	CREATE INDEX alert_svc_hours_hour ON alert_svc_hours(hour);
	CREATE TABLE alert_keys (
		id      INTEGER PRIMARY KEY,
		key     TEXT    NOT NULL UNIQUE,
		name    TEXT    NOT NULL,
		service TEXT    NOT NULL
	);
	CREATE TABLE alert_key_counts (
		width  INTEGER NOT NULL,
		period INTEGER NOT NULL,
		key_id INTEGER NOT NULL,
		fired  INTEGER NOT NULL,
		PRIMARY KEY (width, period, key_id)
	) WITHOUT ROWID;
	CREATE TABLE ticket_hours (
		hour     INTEGER NOT NULL,
		source   TEXT    NOT NULL,
		tier     INTEGER NOT NULL,
		opened   INTEGER NOT NULL DEFAULT 0,
		closed   INTEGER NOT NULL DEFAULT 0,
		breached INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (hour, source, tier)
	) WITHOUT ROWID;
	CREATE INDEX audit_acks ON audit(at, service) WHERE verb = 'ack' AND state != 'refused';
	CREATE INDEX outage_history_stats ON outage_history(opened_at, closed_at, alerts, severity, service);
	CREATE INDEX escalations_stats ON escalations(at, service, level, by);
	CREATE INDEX acks_stats ON acks(until, cleared_at, ended_at, service, by);
	CREATE INDEX tickets_service ON tickets(service, created);
	CREATE INDEX tickets_open_due ON tickets(sla_due) WHERE closed_at = 0 AND sla_known != 0 AND sla_due != 0;
	CREATE TEMP TABLE episodes AS
		SELECT a.id, a.source, a.key,
			coalesce(json_extract(a.labels, '$.alertname'), '') AS name,
			coalesce(nullif(json_extract(a.labels, '$.service'), ''), json_extract(a.labels, '$.job'), '') AS service,
			CASE WHEN a.starts_at = 0 OR a.starts_at > a.fired_seen THEN a.fired_seen ELSE a.starts_at END AS began,
			a.fired_seen AS fired_seen, coalesce(a.resolved_at, 0) AS resolved_at
		FROM alerts a WHERE a.fired_seen != 0;
	INSERT INTO alert_hours(hour, source, fired)
		SELECT began - began % 3600000000000, source, count(*) FROM temp.episodes GROUP BY 1, 2;
	INSERT INTO alert_svc_hours(service, hour, source, fired)
		SELECT service, began - began % 3600000000000, source, count(*) FROM temp.episodes GROUP BY 1, 2, 3;
	INSERT INTO alert_keys(key, name, service) SELECT key, name, service FROM temp.episodes WHERE id IN
		(SELECT max(id) FROM temp.episodes GROUP BY key) ORDER BY key;
	CREATE TEMP TABLE key_episodes AS
		SELECT k.id AS key_id, e.began FROM (SELECT key, began, fired_seen,
			max(CASE WHEN resolved_at = 0 THEN 9223372036854775807 ELSE resolved_at END)
				OVER (PARTITION BY key ORDER BY fired_seen, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS held
			FROM temp.episodes) e JOIN alert_keys k ON k.key = e.key
		WHERE e.held IS NULL OR e.held <= e.fired_seen;
	INSERT INTO alert_key_counts(width, period, key_id, fired)
		SELECT w.s, began - began % (w.s * 1000000000), key_id, count(*) FROM temp.key_episodes,
			(SELECT 3600 AS s UNION ALL SELECT 86400 UNION ALL SELECT 2592000) w GROUP BY 1, 2, 3;
	INSERT INTO ticket_hours(hour, source, tier, opened)
		SELECT created - created % 3600000000000, source, tier, count(*) FROM tickets GROUP BY 1, 2, 3;
	INSERT INTO ticket_hours(hour, source, tier, closed)
		SELECT closed_at - closed_at % 3600000000000, source, tier, count(*) FROM tickets WHERE closed_at != 0 GROUP BY 1, 2, 3
		ON CONFLICT DO UPDATE SET closed = closed + excluded.closed;
	INSERT INTO ticket_hours(hour, source, tier, breached)
		SELECT sla_due - sla_due % 3600000000000, source, tier, count(*) FROM tickets
		WHERE closed_at != 0 AND sla_known != 0 AND sla_due != 0 AND (sla_breached != 0 OR closed_at > sla_due) GROUP BY 1, 2, 3
		ON CONFLICT DO UPDATE SET breached = breached + excluded.breached;
	DROP TABLE temp.key_episodes;
	DROP TABLE temp.episodes;`

const (
	hourNS = int64(time.Hour)
	dayNS  = 24 * hourNS
)

// The widths of alert_key_counts, in seconds, widest first.
var keyWidths = []int64{2592000, 86400, 3600}

// rollup is what one poll adds to the alert rollups.
type rollup struct {
	hours  map[alertHourKey]int
	keys   map[string]*keyEpisodes
	sorted []string
}

type alertHourKey struct {
	hour            int64
	source, service string
}

type keyEpisodes struct {
	name, service string
	began         []int64
}

// alertIdent is an alert row's name and service, as stats show them.
func alertIdent(l model.Labels) (name, service string) {
	service = l.Get("service")
	if service == "" {
		service = l.Get("job")
	}
	return l.Get("alertname"), service
}

// rollupOf is what the plan's changes add to the rollups: each row that
// starts firing is an episode of its source; of its key too, unless
// another source's open row holds the same key firing already.
func (c *Cache) rollupOf(p *plan) *rollup {
	var ru *rollup
	for i := range p.changes {
		ch := &p.changes[i]
		r := ch.row
		if r.FiredSeen.IsZero() || ch.kind == opTouch || ch.kind == opDigest || (ch.kind == opUpdate && !ch.e.row.FiredSeen.IsZero()) {
			continue
		}
		if ru == nil {
			ru = &rollup{hours: map[alertHourKey]int{}, keys: map[string]*keyEpisodes{}}
		}
		began := ns(model.BeganAt(r.StartsAt.Time(), r.FiredSeen.Time()))
		name, service := alertIdent(r.Labels)
		ru.hours[alertHourKey{began - began%hourNS, r.Source, service}]++
		if c.firingElsewhere(r.Source, r.Key) {
			continue
		}
		k := ru.keys[r.Key]
		if k == nil {
			k = &keyEpisodes{name: name, service: service}
			ru.keys[r.Key] = k
		}
		k.began = append(k.began, began)
	}
	return ru
}

// firingElsewhere reports whether a source other than src holds key open
// and firing in the mirror.
func (c *Cache) firingElsewhere(src, key string) bool {
	for name, s := range c.srcs {
		if name == src {
			continue
		}
		if e := s.byKey.get(key); e != nil && !e.row.FiredSeen.IsZero() {
			return true
		}
	}
	return false
}

// writeRollup adds ru to the rollup tables inside the caller's write
// transaction: four statements whatever the poll's size, each taking its
// rows as one JSON array (json_each) rather than a statement per row or a
// VALUES list of thousands of parameters, which SQLite would parse anew
// on every poll. A key's episode is one row per width, its id looked up
// in alert_keys by SQL, the upsert summing the episodes of a period.
func (c *Cache) writeRollup(ru *rollup) error {
	if ru == nil {
		return nil
	}
	ctx := context.Background()
	b := make([]byte, 0, 64*len(ru.hours)+2)
	b = append(b, '[')
	for k, n := range ru.hours {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendQuoted(b, k.service)
		b = append(b, ',')
		b = strconv.AppendInt(b, k.hour, 10)
		b = append(b, ',')
		b = appendQuoted(b, k.source)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, ']')
	}
	hours := string(append(b, ']'))
	if _, err := c.conn.ExecContext(ctx, `INSERT INTO alert_svc_hours(service, hour, source, fired)
		SELECT value->>0, value->>1, value->>2, value->>3 FROM json_each(?) WHERE true ORDER BY 1, 2, 3
		ON CONFLICT DO UPDATE SET fired = fired + excluded.fired`, hours); err != nil {
		return c.wrap("write alert rollup", err)
	}
	if _, err := c.conn.ExecContext(ctx, `INSERT INTO alert_hours(hour, source, fired)
		SELECT value->>1, value->>2, sum(value->>3) FROM json_each(?) WHERE true GROUP BY 1, 2
		ON CONFLICT DO UPDATE SET fired = fired + excluded.fired`, hours); err != nil {
		return c.wrap("write alert rollup", err)
	}
	if len(ru.keys) == 0 {
		return nil
	}
	keys := make([]string, 0, len(ru.keys))
	for k := range ru.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = make([]byte, 0, 64*len(keys)+2)
	b = append(b, '[')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendQuoted(b, k)
		b = append(b, ',')
		b = appendQuoted(b, ru.keys[k].name)
		b = append(b, ',')
		b = appendQuoted(b, ru.keys[k].service)
		b = append(b, ']')
	}
	if _, err := c.conn.ExecContext(ctx, `INSERT INTO alert_keys(key, name, service)
		SELECT value->>0, value->>1, value->>2 FROM json_each(?) WHERE true
		ON CONFLICT(key) DO UPDATE SET name = excluded.name, service = excluded.service`, string(append(b, ']'))); err != nil {
		return c.wrap("write alert rollup", err)
	}
	b = b[:1]
	for _, k := range keys {
		for _, began := range ru.keys[k].began {
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendQuoted(b, k)
			b = append(b, ',')
			b = strconv.AppendInt(b, began, 10)
			b = append(b, ']')
		}
	}
	if _, err := c.conn.ExecContext(ctx, `INSERT INTO alert_key_counts(width, period, key_id, fired)
		SELECT w.s, (j.value->>1) - (j.value->>1) % (w.s * 1000000000), k.id, 1
		FROM json_each(?) j CROSS JOIN alert_keys k ON k.key = j.value->>0 CROSS JOIN (`+keyWidthsSQL+`) w
		WHERE true ON CONFLICT DO UPDATE SET fired = fired + excluded.fired`, string(append(b, ']'))); err != nil {
		return c.wrap("write alert rollup", err)
	}
	return nil
}

// keyWidthsSQL is keyWidths as a table of one column, s.
var keyWidthsSQL = func() string {
	parts := make([]string, len(keyWidths))
	for i, w := range keyWidths {
		parts[i] = strconv.FormatInt(w, 10)
	}
	return "SELECT value AS s FROM json_each('[" + strings.Join(parts, ",") + "]')"
}()

// StatsFacts reads what the history holds about [q.From, q.To) for
// `sitroom stats` and the console's Stats view (see model.StatsFacts), in
// one read transaction on a pooled connection: it never waits for an
// Ingest of this Cache, and works while another process polls into the
// same file. Alert episodes and tickets come from the rollups the writes
// keep, the rest through indexes: a busy NOC's year takes milliseconds.
//
// AlertHours are summed per hour and source (Service and Name empty): a
// year of them per alert name is most of a million rows, and the figures
// need the hour and the source; with q.Services they count those
// services' alerts only. Hours are those that begin in [From, To), the
// same for the flapping counts. Safe for concurrent use; call it off the
// UI goroutine.
func (c *Cache) StatsFacts(q model.StatsQuery) (*model.StatsFacts, error) {
	db, done := c.pool()
	defer done()
	ctx := context.Background()
	// Two connections, each in a read transaction begun together: the
	// outages with their acks on one, the rest on the other, at once.
	// Taken one caller at a time, so callers never hold one each waiting
	// for a second.
	c.statsMu.Lock()
	conns, err := readConns(ctx, db, 2)
	c.statsMu.Unlock()
	if err != nil {
		return nil, c.closedOr("read stats", err)
	}
	defer func() {
		for _, conn := range conns {
			conn.ExecContext(ctx, "ROLLBACK") //nolint:errcheck // read-only
			conn.Close()
		}
	}()
	conn := conns[0]
	f, t := ns(q.From), ns(q.To)
	facts := &model.StatsFacts{From: q.From, To: q.To}
	svc, svcArgs := serviceFilter(q.Services, "service")
	args := func(a ...any) []any { return append(a, svcArgs...) }
	var wg sync.WaitGroup
	var outErr error
	wg.Go(func() { outErr = c.statsOutages(ctx, conns[1], facts, f, t, svc, svcArgs) })
	defer wg.Wait()

	err = c.query(ctx, conn, "read escalations", `SELECT at, service, level, by FROM escalations INDEXED BY escalations_stats
		WHERE at >= ?2 AND at < ?1`+svc+` ORDER BY at`,
		func(r *sql.Rows) error {
			var e model.StatsEscalation
			var at int64
			if err := r.Scan(&at, &e.Service, &e.Level, &e.Operator); err != nil {
				return err
			}
			e.At = fromNS(at)
			facts.Escalations = append(facts.Escalations, e)
			return nil
		}, args(t, f)...)
	if err != nil {
		return nil, err
	}
	// An ack lapsed when its until passed while it was still in force: not
	// cleared (un-acked, or its outage resolved) nor ended upstream before.
	err = c.query(ctx, conn, "read acks", `SELECT until, service, by FROM acks INDEXED BY acks_stats WHERE until >= ?2 AND until < ?1
		AND (cleared_at = 0 OR cleared_at > until) AND (ended_at = 0 OR ended_at > until)`+svc+` ORDER BY until`,
		func(r *sql.Rows) error {
			var a model.StatsAckExpiry
			var at int64
			if err := r.Scan(&at, &a.Service, &a.Operator); err != nil {
				return err
			}
			a.At = fromNS(at)
			facts.AcksExpired = append(facts.AcksExpired, a)
			return nil
		}, args(t, f)...)
	if err != nil {
		return nil, err
	}
	fromHour, toHour := ceilTo(f, hourNS), ceilTo(t, hourNS)
	hours := `SELECT hour, source, fired FROM alert_hours WHERE hour >= ?2 AND hour < ?1 ORDER BY hour, source`
	if svc != "" {
		hours = `SELECT hour, source, sum(fired) FROM alert_svc_hours WHERE hour >= ?2 AND hour < ?1` + svc +
			` GROUP BY hour, source ORDER BY hour, source`
	}
	if svc == "" {
		n, err := c.count(ctx, conn, `SELECT count(*) FROM alert_hours WHERE hour >= ?2 AND hour < ?1`, toHour, fromHour)
		if err != nil {
			return nil, err
		}
		facts.AlertHours = make([]model.AlertHour, 0, n)
	}
	err = c.query(ctx, conn, "read alert volume", hours, func(r *sql.Rows) error {
		var h model.AlertHour
		var hour int64
		if err := r.Scan(&hour, &h.Source, &h.Fired); err != nil {
			return err
		}
		h.Hour = fromNS(hour)
		facts.AlertHours = append(facts.AlertHours, h)
		return nil
	}, args(toHour, fromHour)...)
	if err != nil {
		return nil, err
	}
	if facts.Flapping, err = c.flapping(ctx, conn, fromHour, toHour, q.Services); err != nil {
		return nil, err
	}
	if facts.TicketHours, err = c.ticketHours(ctx, conn, fromHour, toHour, t, q.Services); err != nil {
		return nil, err
	}
	err = c.query(ctx, conn, "read sources", `SELECT EXISTS (SELECT 1 FROM sources WHERE type IN ('rt', 'jira', 'servicenow'))
		OR EXISTS (SELECT 1 FROM tickets) OR EXISTS (SELECT 1 FROM backlog_samples)`, func(r *sql.Rows) error {
		return r.Scan(&facts.HasTickets)
	})
	if err != nil {
		return nil, err
	}
	wg.Wait()
	if outErr != nil {
		return nil, outErr
	}
	return facts, nil
}

// readConns takes n connections of the pool, each in a read transaction.
func readConns(ctx context.Context, db *sql.DB, n int) ([]*sql.Conn, error) {
	var conns []*sql.Conn
	for range n {
		conn, err := db.Conn(ctx)
		if err == nil {
			_, err = conn.ExecContext(ctx, "BEGIN")
			if err == nil {
				// A deferred transaction takes its snapshot at its first read.
				_, err = conn.ExecContext(ctx, "SELECT 1 FROM meta LIMIT 1")
			}
			if err != nil {
				conn.Close()
			}
		}
		if err != nil {
			for _, c := range conns {
				c.ExecContext(ctx, "ROLLBACK") //nolint:errcheck // read-only
				c.Close()
			}
			return nil, err
		}
		conns = append(conns, conn)
	}
	return conns, nil
}

// statsOutages reads the outages of [f, t) into facts, with their first
// acks.
func (c *Cache) statsOutages(ctx context.Context, conn *sql.Conn, facts *model.StatsFacts, f, t int64, svc string, svcArgs []any) error {
	args := append([]any{t, f}, svcArgs...)
	// Sized first (counting on the covering index costs far less than
	// growing a year of rows).
	n, err := c.count(ctx, conn, `SELECT count(*) FROM outage_history INDEXED BY outage_history_stats
		WHERE opened_at < ?1 AND (closed_at = 0 OR closed_at >= ?2)`+svc, args...)
	if err != nil {
		return err
	}
	facts.Outages = make([]model.StatsOutage, 0, n)
	earliest := f
	err = c.query(ctx, conn, "read outage history", `SELECT service, severity, opened_at, closed_at, alerts
		FROM outage_history INDEXED BY outage_history_stats WHERE opened_at < ?1 AND (closed_at = 0 OR closed_at >= ?2)`+
		svc+` ORDER BY opened_at`,
		func(r *sql.Rows) error {
			var o model.StatsOutage
			var sev string
			var opened, closed int64
			if err := r.Scan(&o.Service, &sev, &opened, &closed, &o.Alerts); err != nil {
				return err
			}
			o.Severity, o.Opened, o.Closed = model.ParseSeverity(sev), fromNS(opened), fromNS(closed)
			earliest = min(earliest, opened)
			facts.Outages = append(facts.Outages, o)
			return nil
		}, args...)
	if err != nil {
		return err
	}
	return c.firstAcks(ctx, conn, facts.Outages, earliest, t, svc, svcArgs)
}

// firstAcks fills in each outage's first ack as the handoff counts it
// (model/handoff.go's firstAck): not refused, on the outage's service, at
// or after Opened and before it closed (or to). The acks since the
// earliest outage opened are read once, through their index, and matched
// here.
func (c *Cache) firstAcks(ctx context.Context, conn *sql.Conn, outages []model.StatsOutage, earliest, to int64,
	svc string, svcArgs []any) error {
	if len(outages) == 0 {
		return nil
	}
	acks := map[string][]int64{}
	err := c.query(ctx, conn, "read acks", `SELECT at, service FROM audit INDEXED BY audit_acks
		WHERE verb = 'ack' AND state != 'refused' AND at >= ?2 AND at < ?1`+svc+` ORDER BY at`,
		func(r *sql.Rows) error {
			var at int64
			var s string
			if err := r.Scan(&at, &s); err != nil {
				return err
			}
			acks[s] = append(acks[s], at)
			return nil
		}, append([]any{to, earliest}, svcArgs...)...)
	if err != nil {
		return err
	}
	for i := range outages {
		o := &outages[i]
		at := acks[o.Service]
		opened, end := ns(o.Opened), to
		if !o.Closed.IsZero() && ns(o.Closed) < to {
			end = ns(o.Closed)
		}
		j := sort.Search(len(at), func(k int) bool { return at[k] >= opened })
		if j < len(at) && at[j] < end {
			o.FirstAck = fromNS(at[j])
		}
	}
	return nil
}

// ceilTo rounds v up to a multiple of unit: hours a window covers start
// at or after its start (an hour's episodes count where the hour begins).
func ceilTo(v, unit int64) int64 {
	if r := v % unit; r != 0 {
		return v - r + unit
	}
	return v
}

// serviceFilter is " AND col IN (?, …)" over services, and its arguments
// (numbered after the query's own ?1 and ?2, which every caller has).
func serviceFilter(services []string, col string) (string, []any) {
	if len(services) == 0 {
		return "", nil
	}
	args := make([]any, len(services))
	for i, s := range services {
		args[i] = s
	}
	return " AND " + col + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(services)), ", ") + ")", args
}

// keySpan is one stretch of alert_key_counts to sum: periods of width w
// seconds starting in [lo, hi).
type keySpan struct{ w, lo, hi int64 }

// keySpans cuts [from, to) (whole hours) into the fewest periods of
// keyWidths: whole 30-day periods in the middle, days, then hours at
// the edges.
func keySpans(from, to int64, widths []int64) []keySpan {
	if from >= to {
		return nil
	}
	if len(widths) == 1 {
		return []keySpan{{widths[0], from, to}}
	}
	p := widths[0] * int64(time.Second)
	a, b := ceilTo(from, p), to-to%p
	if a >= b {
		return keySpans(from, to, widths[1:])
	}
	out := keySpans(from, a, widths[1:])
	out = append(out, keySpan{widths[0], a, b})
	return append(out, keySpans(b, to, widths[1:])...)
}

// flapping sums each key's episodes over [from, to) (whole hours) and
// returns the keys with two or more, most first.
func (c *Cache) flapping(ctx context.Context, conn *sql.Conn, from, to int64, services []string) ([]model.FlappingAlert, error) {
	spans := keySpans(from, to, keyWidths)
	if len(spans) == 0 {
		return nil, nil
	}
	var parts []string
	var args []any
	for _, s := range spans {
		parts = append(parts, `SELECT key_id, fired FROM alert_key_counts WHERE width = ? AND period >= ? AND period < ?`)
		args = append(args, s.w, s.lo, s.hi)
	}
	svc := ""
	if len(services) > 0 {
		svc = " WHERE k.service IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(services)), ", ") + ")"
		for _, s := range services {
			args = append(args, s)
		}
	}
	var out []model.FlappingAlert
	err := c.query(ctx, conn, "read flapping alerts", `SELECT k.key, k.name, k.service, f.n FROM
		(SELECT key_id, sum(fired) AS n FROM (`+strings.Join(parts, " UNION ALL ")+`) GROUP BY key_id HAVING n >= 2) f
		JOIN alert_keys k ON k.id = f.key_id`+svc+` ORDER BY f.n DESC, k.key LIMIT `+itoa(model.StatsTopFlapping),
		func(r *sql.Rows) error {
			var a model.FlappingAlert
			if err := r.Scan(&a.Key, &a.Name, &a.Service, &a.Cycles); err != nil {
				return err
			}
			out = append(out, a)
			return nil
		}, args...)
	return out, err
}

// ticketHours sums tickets opened (by created), closed (by closed_at) and
// past their SLA (by sla_due: closed after it or flagged breached, or
// still open) per UTC hour, source and tier, over the hours beginning in
// [f, t): from the ticket_hours rollup and the open tickets, or, narrowed
// to services, from those services' tickets.
// An open ticket is past its SLA once its due time has passed: until,
// the span's real end, bounds it (t is the end of that hour).
func (c *Cache) ticketHours(ctx context.Context, conn *sql.Conn, f, t, until int64, services []string) ([]model.TicketHour, error) {
	type key struct {
		hour   int64
		source string
		tier   int
	}
	var out []model.TicketHour
	extra := map[key]*model.TicketHour{} // rows the rollup may also have
	scan := func(rollup bool) func(r *sql.Rows) error {
		return func(r *sql.Rows) error {
			var k key
			var o, cl, b int
			if err := r.Scan(&k.hour, &k.source, &k.tier, &o, &cl, &b); err != nil {
				return err
			}
			if rollup { // one row per key, in order
				if o != 0 || cl != 0 || b != 0 {
					out = append(out, model.TicketHour{Hour: fromNS(k.hour), Source: k.source, Tier: k.tier, Opened: o, Closed: cl, Breached: b})
				}
				return nil
			}
			h := extra[k]
			if h == nil {
				h = &model.TicketHour{Hour: fromNS(k.hour), Source: k.source, Tier: k.tier}
				extra[k] = h
			}
			h.Opened, h.Closed, h.Breached = h.Opened+o, h.Closed+cl, h.Breached+b
			return nil
		}
	}
	svc, svcArgs := serviceFilter(services, "service")
	args := append([]any{t, f}, svcArgs...)
	var queries []string
	if svc == "" {
		n, err := c.count(ctx, conn, `SELECT count(*) FROM ticket_hours WHERE hour >= ?2 AND hour < ?1`, args...)
		if err != nil {
			return nil, err
		}
		out = make([]model.TicketHour, 0, n+8)
		err = c.query(ctx, conn, "read tickets", `SELECT hour, source, tier, opened, closed, breached FROM ticket_hours
			WHERE hour >= ?2 AND hour < ?1 ORDER BY hour, source, tier`, scan(true), args...)
		if err != nil {
			return nil, err
		}
		queries = []string{`SELECT sla_due - sla_due % 3600000000000, source, tier, 0, 0, 1 FROM tickets INDEXED BY tickets_open_due
			WHERE closed_at = 0 AND sla_known != 0 AND sla_due != 0 AND sla_due >= ?2 AND sla_due < ?1 AND sla_due < ` + strconv.FormatInt(until, 10)}
	} else {
		queries = []string{
			`SELECT created - created % 3600000000000, source, tier, 1, 0, 0 FROM tickets WHERE created >= ?2 AND created < ?1` + svc,
			`SELECT closed_at - closed_at % 3600000000000, source, tier, 0, 1, 0 FROM tickets INDEXED BY tickets_service
				WHERE closed_at != 0 AND closed_at >= ?2 AND closed_at < ?1` + svc,
			`SELECT sla_due - sla_due % 3600000000000, source, tier, 0, 0, 1 FROM tickets INDEXED BY tickets_service
				WHERE sla_known != 0 AND sla_due != 0 AND sla_due >= ?2 AND sla_due < ?1
				AND (sla_breached != 0 OR closed_at > sla_due OR closed_at = 0 AND sla_due < ` + strconv.FormatInt(until, 10) + `)` + svc,
		}
	}
	for _, q := range queries {
		if err := c.query(ctx, conn, "read tickets", q, scan(false), args...); err != nil {
			return nil, err
		}
	}
	if len(extra) == 0 {
		return out, nil
	}
	for i := range out { // add the open tickets' breaches to the rollup's rows
		h := &out[i]
		if e := extra[key{ns(h.Hour), h.Source, h.Tier}]; e != nil {
			h.Opened, h.Closed, h.Breached = h.Opened+e.Opened, h.Closed+e.Closed, h.Breached+e.Breached
			delete(extra, key{ns(h.Hour), h.Source, h.Tier})
		}
	}
	for _, e := range extra {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Hour.Equal(b.Hour) {
			return a.Hour.Before(b.Hour)
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.Tier < b.Tier
	})
	return out, nil
}

// ticketCounts is what one ticket row adds to ticket_hours.
type ticketCounts struct {
	exists                   bool
	tier                     int
	created, closed, slaDue  int64
	slaKnown, slaBreachedSet bool
}

// ticketHourRows are the (hour, opened, closed, breached) rows of c.
func (c ticketCounts) rows() [][4]int64 {
	if !c.exists {
		return nil
	}
	out := [][4]int64{{c.created - c.created%hourNS, 1, 0, 0}}
	if c.closed != 0 {
		out = append(out, [4]int64{c.closed - c.closed%hourNS, 0, 1, 0})
		if c.slaKnown && c.slaDue != 0 && (c.slaBreachedSet || c.closed > c.slaDue) {
			out = append(out, [4]int64{c.slaDue - c.slaDue%hourNS, 0, 0, 1})
		}
	}
	return out
}

// ticketRollup moves ticket_hours from what the row (source, id) counted
// before this write to what it counts after (next), inside the caller's
// write transaction: a new ticket adds its opening, a close its closing
// (and its breach), a reopen takes them back. closeAt set: the write only
// closes the row as it is, at closeAt.
func (c *Cache) ticketRollup(ctx context.Context, source, id string, next ticketCounts, closeAt int64) error {
	var prev ticketCounts
	var known, breached int
	err := c.conn.QueryRowContext(ctx, `SELECT tier, created, closed_at, sla_known, sla_due, sla_breached FROM tickets
		WHERE source = ? AND id = ?`, source, id).Scan(&prev.tier, &prev.created, &prev.closed, &known, &prev.slaDue, &breached)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return c.wrap("write ticket rollup", err)
	default:
		prev.exists, prev.slaKnown, prev.slaBreachedSet = true, known != 0, breached != 0
	}
	if closeAt != 0 {
		next = prev
		next.closed = closeAt
	}
	if prev == next {
		return nil
	}
	for _, d := range []struct {
		c    ticketCounts
		sign int64
	}{{prev, -1}, {next, 1}} {
		for _, r := range d.c.rows() {
			if _, err := c.conn.ExecContext(ctx, `INSERT INTO ticket_hours(hour, source, tier, opened, closed, breached)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET opened = opened + excluded.opened,
				closed = closed + excluded.closed, breached = breached + excluded.breached`,
				r[0], source, d.c.tier, d.sign*r[1], d.sign*r[2], d.sign*r[3]); err != nil {
				return c.wrap("write ticket rollup", err)
			}
		}
	}
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// count runs a SELECT count(*).
func (c *Cache) count(ctx context.Context, conn *sql.Conn, q string, args ...any) (int, error) {
	var n int
	if err := conn.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, c.wrap("read stats", err)
	}
	return n, nil
}
