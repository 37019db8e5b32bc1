package cache

import (
	"context"
	"database/sql"

	"sitroom/model"
)

// Schema version 5 adds to every alert row its severity, the
// model.Severity of its severity label (written by Ingest), and
// alerts_open_severity, an index of the open rows by severity and start
// time, so that Preview reads the most severe open rows without reading
// the others. Rows already open are given theirs by backfillSeverity.
const schemaSeverity = `ALTER TABLE alerts ADD COLUMN severity INTEGER NOT NULL DEFAULT 0;
	UPDATE alerts SET severity = ` + backfillSeverity + ` WHERE resolved_at IS NULL;
	CREATE INDEX alerts_open_severity ON alerts(severity DESC, starts_at) WHERE resolved_at IS NULL;`

// backfillSeverity is model.ParseSeverity over the severity label, in SQL
// (ASCII white space trimmed, ASCII case folded), for the rows open when
// the schema moves to version 5; Ingest computes it in Go from then on.
// json_valid keeps labels that are not JSON (written by another tool)
// from failing the migration.
const backfillSeverity = `CASE WHEN json_valid(labels) THEN
	CASE lower(trim(json_extract(labels, '$.severity'), ' ' || char(9, 10, 11, 12, 13)))
		WHEN 'critical' THEN 3 WHEN 'crit' THEN 3 WHEN 'page' THEN 3 WHEN 'fatal' THEN 3
		WHEN 'emergency' THEN 3 WHEN 'high' THEN 3 WHEN 'p1' THEN 3 WHEN 'error' THEN 3 WHEN 'major' THEN 3
		WHEN 'warning' THEN 2 WHEN 'warn' THEN 2 WHEN 'medium' THEN 2 WHEN 'minor' THEN 2
		WHEN 'p2' THEN 2 WHEN 'p3' THEN 2
		WHEN 'info' THEN 1 WHEN 'informational' THEN 1 WHEN 'low' THEN 1 WHEN 'notice' THEN 1
		WHEN 'p4' THEN 1 WHEN 'p5' THEN 1
		ELSE 0 END
	ELSE 0 END`

// Preview is a first look at the cache, read before the open rows are
// loaded into memory: the most severe open rows, how many rows are open
// in all, the source statuses and the open tickets.
type Preview struct {
	// Rows are at most the limit asked for, most severe first, then
	// oldest first; decoded as Load decodes them.
	Rows []*model.AlertRow
	// Open is the number of open rows in the file; Rows is complete when
	// len(Rows) == Open.
	Open     int
	Statuses []model.SourceStatus
	Tickets  []*model.Ticket
}

// Preview reads the limit most severe open rows (by severity, then oldest
// first; see schemaSeverity), the count
// of open rows, the source statuses and the open tickets, in one read
// transaction on a pooled connection: it never waits for a write of this
// Cache nor loads the mirror. With the rank index it reads about limit
// rows whatever the size of the cache. Safe for concurrent use.
func (c *Cache) Preview(limit int) (*Preview, error) {
	db, done := c.pool()
	defer done()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, c.wrap("read cache", err)
	}
	defer tx.Rollback()
	p := &Preview{}
	h := &Cache{path: c.path, busy: c.busy} // no intern table: this may run beside Ingest
	rs, err := tx.QueryContext(ctx, `SELECT `+rowCols+` FROM alerts WHERE resolved_at IS NULL
		ORDER BY severity DESC, starts_at LIMIT ?`, limit)
	if err != nil {
		return nil, c.wrap("read cache", err)
	}
	p.Rows = make([]*model.AlertRow, 0, limit)
	if err := h.scanRows(rs, func(_ int64, r *model.AlertRow, _ uint64, _ []byte) { p.Rows = append(p.Rows, r) }); err != nil {
		return nil, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM alerts WHERE resolved_at IS NULL`).Scan(&p.Open); err != nil {
		return nil, c.wrap("read cache", err)
	}
	rs, err = tx.QueryContext(ctx, `SELECT `+statusCols+` FROM sources ORDER BY name`)
	if err != nil {
		return nil, c.wrap("read source status", err)
	}
	if err := h.scanStatuses(rs, func(d model.SourceStatus) { p.Statuses = append(p.Statuses, d) }); err != nil {
		return nil, err
	}
	rs, err = tx.QueryContext(ctx, `SELECT `+ticketCols+` FROM tickets WHERE closed_at = 0`)
	if err != nil {
		return nil, c.wrap("read tickets", err)
	}
	if err := h.scanTickets(rs, func(e *tkEntry, _ int64) { p.Tickets = append(p.Tickets, e.t) }); err != nil {
		return nil, err
	}
	return p, nil
}
