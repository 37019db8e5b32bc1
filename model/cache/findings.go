package cache

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/go-json-experiment/json"

	"sitroom/model"
)

// schemaFindings (version 10) adds to each source's status what its
// upstream reports about its own alerting pipeline (model.Finding): a
// JSON array, ” for none. Only StoreFindings writes it; the status
// writes of a poll leave it as it is.
const schemaFindings = `ALTER TABLE sources ADD COLUMN findings TEXT NOT NULL DEFAULT '';`

// schemaPipeline (version 11) keeps the history of each source's
// alerting pipeline, for the shift handoff:
//
//	pipeline_history  one row per episode of a severe finding (notes are
//	                  not degradation): source, kind, subject (the
//	                  finding's identity, with the source), text (the
//	                  upstream's latest words, bounded as the findings
//	                  column's), began (the finding's Since), ended (the
//	                  first read without it; 0 while open).
//
// StoreFindings maintains it in the transaction that writes the findings
// column; rows outlive their source's removal from the config, and Prune
// drops those ended before its cutoff. The severe findings a file at
// version 10 holds open their episodes as it migrates.
const schemaPipeline = `CREATE TABLE pipeline_history (
		id      INTEGER PRIMARY KEY,
		source  TEXT    NOT NULL,
		kind    TEXT    NOT NULL,
		subject TEXT    NOT NULL,
		text    TEXT    NOT NULL,
		began   INTEGER NOT NULL,
		ended   INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX pipeline_history_open ON pipeline_history(source) WHERE ended = 0;
	CREATE INDEX pipeline_history_began ON pipeline_history(began);
	INSERT INTO pipeline_history(source, kind, subject, text, began)
		SELECT sources.name, coalesce(json_extract(f.value, '$.kind'), ''), coalesce(json_extract(f.value, '$.subject'), ''),
			coalesce(json_extract(f.value, '$.text'), ''), coalesce(json_extract(f.value, '$.since'), 0)
		FROM sources, json_each(CASE WHEN json_valid(sources.findings) THEN sources.findings ELSE '[]' END) AS f
		WHERE json_extract(f.value, '$.severe') = 1;`

// schemaHealthRead (version 15) adds to each source's status when its
// pipeline health was last read (unix ns, 0 for never), so that a poller
// started since, a `poll --once` run on a timer say, reads it on the
// same clock as the one before it instead of at its every start. The
// status write of a poll that read the health carries it.
const schemaHealthRead = `ALTER TABLE sources ADD COLUMN health_read INTEGER NOT NULL DEFAULT 0;`

// storedFinding is a model.Finding as the findings column holds it.
type storedFinding struct {
	Kind    string            `json:"kind"`
	Subject string            `json:"subject,omitempty"`
	Text    string            `json:"text,omitempty"`
	Since   int64             `json:"since,omitempty"` // unix nanoseconds
	Severe  bool              `json:"severe,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
}

func encodeFindings(fs []model.Finding) (string, error) {
	if len(fs) == 0 {
		return "", nil
	}
	out := make([]storedFinding, len(fs))
	for i, f := range fs {
		out[i] = storedFinding{Kind: string(f.Kind), Subject: f.Subject, Text: f.Text, Since: ns(f.Since), Severe: f.Severe, Labels: f.Labels}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// decodeFindings reads the findings column; what does not decode is
// dropped (they are read again within a health interval).
func decodeFindings(s string) []model.Finding {
	if s == "" {
		return nil
	}
	var in []storedFinding
	if json.Unmarshal([]byte(s), &in) != nil {
		return nil
	}
	out := make([]model.Finding, len(in))
	for i, f := range in {
		out[i] = model.Finding{Kind: model.FindingKind(f.Kind), Subject: f.Subject, Text: f.Text, Since: fromNS(f.Since), Severe: f.Severe, Labels: f.Labels}
	}
	return out
}

// StoreFindings records what the named source's upstream reports about its
// own alerting pipeline, read at at. A finding already stored (same kind
// and subject) keeps its Since unless the upstream gave one, so Since is
// when sitroom first saw it; nothing is written when the findings did not
// change (wrote reports whether anything was). In the same transaction it
// keeps the source's pipeline history (schema version 11): a severe
// finding appearing opens an episode, one gone closes it at at, new
// upstream words update it. It returns the findings as stored.
// Safe for concurrent use.
func (c *Cache) StoreFindings(name string, findings []model.Finding, at time.Time) (stored []model.Finding, wrote bool, err error) {
	if name == "" {
		return nil, false, errors.New("cache: StoreFindings: empty source name")
	}
	c.connMu.Lock()
	defer c.connMu.Unlock()
	if c.closed {
		return nil, false, ErrClosed
	}
	stored, wrote, err = c.storeFindingsLocked(name, findings, at)
	again, err := c.recoverFrom(err)
	if again {
		return c.storeFindingsLocked(name, findings, at)
	}
	return stored, wrote, err
}

func (c *Cache) storeFindingsLocked(name string, findings []model.Finding, at time.Time) ([]model.Finding, bool, error) {
	if _, err := c.syncIfChanged(); err != nil {
		return nil, false, err
	}
	at = norm(at)
	next := make([]model.Finding, len(findings))
	for i, f := range findings {
		if f.Since.IsZero() {
			f.Since = at
		}
		f.Since = norm(f.Since)
		f.Subject, f.Text = clipError(f.Subject), clipError(f.Text) // upstream words: bounded, no user info
		next[i] = f
	}
	s := c.source(name)
	// A finding seen before keeps the Since sitroom first saw it at; one
	// whose Since the upstream gives keeps that.
	for i := range next {
		for _, p := range s.disk.Findings {
			if p.Kind == next[i].Kind && p.Subject == next[i].Subject && findings[i].Since.IsZero() {
				next[i].Since = p.Since
				break
			}
		}
	}
	if model.SameFindings(s.disk.Findings, next) && (s.stored || len(next) == 0) {
		return s.disk.Findings, false, nil
	}
	enc, err := encodeFindings(next)
	if err != nil {
		return nil, false, err
	}
	err = c.inWriteTx(func() error {
		_, err := c.conn.ExecContext(context.Background(), `INSERT INTO sources(name, type, last_attempt, last_success,
			last_error, latency_ns, items, note, findings) VALUES (?, '', 0, 0, '', 0, 0, '', ?)
			ON CONFLICT(name) DO UPDATE SET findings = excluded.findings`, name, enc)
		if err != nil {
			return c.wrap("write findings", err)
		}
		return c.recordEpisodes(name, next, at)
	})
	if err != nil {
		c.publish()
		return nil, false, err
	}
	if !s.stored {
		s.disk = model.SourceStatus{Name: name}
	}
	s.disk.Findings, s.stored = next, true
	s.status.Name = name
	s.status.Findings = next
	c.publish()
	return next, true, nil
}

// episodeKey is a pipeline episode's identity within its source.
type episodeKey struct {
	kind    model.FindingKind
	subject string
}

// recordEpisodes brings the source's open pipeline episodes in line with
// its severe findings, read at at: it opens, updates and closes rows of
// pipeline_history. It reads the open rows from the file, so a console
// that took the lease over, or a file migrated from version 10, carries
// on from what is recorded. It runs inside StoreFindings' write
// transaction.
func (c *Cache) recordEpisodes(name string, findings []model.Finding, at time.Time) error {
	ctx := context.Background()
	want := map[episodeKey]model.Finding{}
	var order []episodeKey
	for _, f := range findings {
		k := episodeKey{f.Kind, f.Subject}
		if _, dup := want[k]; !f.Severe || dup {
			continue
		}
		want[k] = f
		order = append(order, k)
	}
	type open struct {
		id   int64
		text string
	}
	have := map[episodeKey]open{}
	var gone []int64
	rows, err := c.conn.QueryContext(ctx, `SELECT id, kind, subject, text FROM pipeline_history WHERE source = ? AND ended = 0 ORDER BY id`, name)
	if err != nil {
		return c.wrap("read pipeline history", err)
	}
	for rows.Next() {
		var o open
		var k episodeKey
		var kind string
		if err := rows.Scan(&o.id, &kind, &k.subject, &o.text); err != nil {
			rows.Close()
			return c.wrap("read pipeline history", err)
		}
		k.kind = model.FindingKind(kind)
		if _, ok := want[k]; !ok {
			gone = append(gone, o.id)
			continue
		}
		if _, dup := have[k]; dup {
			gone = append(gone, o.id) // one open episode per finding
			continue
		}
		have[k] = o
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return c.wrap("read pipeline history", err)
	}
	rows.Close()
	for _, id := range gone {
		if _, err := c.conn.ExecContext(ctx, `UPDATE pipeline_history SET ended = ? WHERE id = ?`, ns(at), id); err != nil {
			return c.wrap("record pipeline history", err)
		}
	}
	for _, k := range order {
		f := want[k]
		o, ok := have[k]
		switch {
		case !ok:
			_, err = c.conn.ExecContext(ctx, `INSERT INTO pipeline_history(source, kind, subject, text, began) VALUES (?, ?, ?, ?, ?)`,
				name, string(f.Kind), f.Subject, f.Text, ns(f.Since))
		case o.text != f.Text:
			_, err = c.conn.ExecContext(ctx, `UPDATE pipeline_history SET text = ? WHERE id = ?`, f.Text, o.id)
		}
		if err != nil {
			return c.wrap("record pipeline history", err)
		}
	}
	return nil
}

func (c *Cache) pipelineEpisodes(ctx context.Context, q querier, from, to int64) ([]model.PipelineEpisode, error) {
	var out []model.PipelineEpisode
	err := c.query(ctx, q, "read pipeline history", `SELECT id, source, kind, subject, text, began, ended FROM pipeline_history
		WHERE began < ? AND (ended = 0 OR ended >= ?) ORDER BY began, id`,
		func(r *sql.Rows) error {
			var e model.PipelineEpisode
			var kind string
			var began, ended int64
			if err := r.Scan(&e.ID, &e.Source, &kind, &e.Subject, &e.Text, &began, &ended); err != nil {
				return err
			}
			e.Kind, e.Began, e.Ended = model.FindingKind(kind), fromNS(began), fromNS(ended)
			out = append(out, e)
			return nil
		}, to, from)
	return out, err
}
