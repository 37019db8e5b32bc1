package cache

import (
	"context"
	"database/sql"
	"time"
)

// Retention says what Prune keeps.
type Retention struct {
	// Before: history older than this goes (outages, source outages,
	// actions, notes, the stats rollups, closed tickets, backlog samples).
	Before time.Time
	// AlertsBefore: resolved alert rows older than this go (their labels
	// and annotations are most of the file; the handoff lists them, stats
	// read the rollups). Zero, or before Before: Before.
	AlertsBefore time.Time
}

// PruneBatch is how many rows one prune transaction deletes at most.
const PruneBatch = 4000

// pruneYield runs between two prune transactions, so a poll waiting for
// the write lock takes it there; tests replace it.
var pruneYield = func() { time.Sleep(5 * time.Millisecond) }

// pruneStep is one kind of row Prune deletes: the rows of table whose key
// (rowid, or the primary key's columns) the select finds, ?1 being the
// horizon.
type pruneStep struct {
	table, key, sel string
	alerts          bool // ?1 is Retention.AlertsBefore
}

var pruneSteps = []pruneStep{
	{"outage_history", "id", `SELECT id FROM outage_history WHERE closed_at != 0 AND closed_at < ?1`, false},
	{"source_history", "id", `SELECT id FROM source_history WHERE up_at != 0 AND up_at < ?1`, false},
	{"team_cutoff", "id", `SELECT id FROM team_cutoff WHERE up_at != 0 AND up_at < ?1`, false},
	{"pipeline_history", "rowid", `SELECT rowid FROM pipeline_history WHERE ended != 0 AND ended < ?1`, false},
	{"backlog_samples", "(source, tier, at)", `SELECT source, tier, at FROM backlog_samples WHERE at < ?1`, false},
	{"alerts", "id", `SELECT id FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < ?1`, true},
	{"alert_hours", "(hour, source)", `SELECT hour, source FROM alert_hours WHERE hour < ?1`, false},
	{"alert_svc_hours", "(service, hour, source)", `SELECT service, hour, source FROM alert_svc_hours WHERE hour < ?1`, false},
	{"alert_key_counts", "(width, period, key_id)", `SELECT width, period, key_id FROM alert_key_counts
		WHERE width IN (3600, 86400, 2592000) AND period < ?1 - width * 1000000000`, false},
	{"ticket_hours", "(hour, source, tier)", `SELECT hour, source, tier FROM ticket_hours WHERE hour < ?1`, false},
	{"tickets", "(source, id)", `SELECT source, id FROM tickets WHERE closed_at != 0 AND closed_at < ?1`, false},
	{"notes", "id", `SELECT id FROM notes WHERE at < ?1`, false},
	{"acks", "id", `SELECT id FROM acks WHERE at < ?1 AND cleared_at != 0`, false},
	{"escalations", "id", `SELECT id FROM escalations WHERE at < ?1 AND cleared_at != 0`, false},
	{"outbox", "id", `SELECT id FROM outbox WHERE state != 'pending' AND action_id IN (SELECT id FROM audit WHERE at < ?1 AND state != 'pending')
		AND action_id NOT IN (SELECT id FROM acks) AND action_id NOT IN (SELECT id FROM escalations)`, false},
	{"audit", "id", `SELECT id FROM audit WHERE at < ?1 AND state != 'pending' AND id NOT IN (SELECT action_id FROM outbox)
		AND id NOT IN (SELECT id FROM acks) AND id NOT IN (SELECT id FROM escalations) AND id NOT IN (SELECT id FROM notes)`, false},
}

// PruneHistory deletes history past r: closed outages, ended source
// outages, ended cut-offs from the team store, ended alerting pipeline
// episodes, backlog samples, the stats rollups' hours, closed tickets,
// notes and settled actions (with their deliveries) that no ack or
// escalation in force refers to, older than r.Before; resolved alert rows
// older than r.AlertsBefore. Open outages, down sources, open pipeline
// episodes, open tickets, pending deliveries and acks or escalations not
// yet cleared are kept whatever their age. It returns how many rows went.
//
// It never holds the write lock for long: each transaction deletes at
// most PruneBatch rows, and between two of them a poll (Ingest, on this
// Cache or in another process) takes the lock if it waits for it. Call it
// off the UI goroutine.
func (c *Cache) PruneHistory(r Retention) (int64, error) {
	var n int64
	alerts := r.AlertsBefore
	if alerts.IsZero() || alerts.Before(r.Before) {
		alerts = r.Before
	}
	for _, s := range pruneSteps {
		horizon := ns(r.Before)
		if s.alerts {
			horizon = ns(alerts)
		}
		q := `DELETE FROM ` + s.table + ` WHERE ` + s.key + ` IN (` + s.sel + ` LIMIT ` + itoa(PruneBatch) + `)`
		for {
			var k int64
			err := c.actTx("prune history", func(ctx context.Context, tx *sql.Conn) error {
				res, err := tx.ExecContext(ctx, q, horizon)
				if err != nil {
					return c.wrap("prune history", err)
				}
				k, _ = res.RowsAffected()
				return nil
			})
			if err != nil {
				return n, err
			}
			n += k
			if k < PruneBatch {
				break
			}
			pruneYield()
		}
	}
	return n, nil
}
