package cache

import (
	"context"
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
// change (wrote reports whether anything was). It returns the findings as stored.
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
		return nil
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
