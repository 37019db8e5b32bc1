package cache

import (
	"context"
	"errors"
)

// DigestSize is the length of an alert digest.
const DigestSize = 32

// Digest identifies what an alert object of an upstream's reply holds
// (see sources.ReplyChecker): two alerts with one digest decode to the
// same alert.
type Digest = [DigestSize]byte

// A process that polls once (`poll --once` on a timer) mostly receives
// alerts that its last run stored. Its decoder digests each alert object
// of a reply, and each alert row keeps the digest of the object it was
// last written from (schema 16), written by a poll that gives digests
// (PollMeta.Digests) and cleared by one that does not (a dashboard's):
// a row whose digest the reply repeats is one the alert did not change,
// so the decoder passes its key (PollMeta.Kept) instead of decoding it.
// Only such a process loads the digests (PollsOnce).
const schemaAlertDigest = `ALTER TABLE alerts ADD COLUMN digest BLOB;`

// ErrReplyChanged is Ingest's answer when a row PollMeta.Kept names is
// no longer open with that digest (another process wrote the source's
// rows since AlertDigests): nothing is written, and the poll must decode
// its reply again.
var ErrReplyChanged = errors.New("cache: rows changed since their digests were read")

// loadDigests reads the digests of the open rows into the mirror again, in
// a process that polls once (a full reload reads them with the rows).
func (c *Cache) loadDigests() error {
	if !c.oncePoll {
		return nil
	}
	for _, s := range c.srcs {
		s.digests = nil
	}
	rs, err := c.conn.QueryContext(context.Background(),
		`SELECT source, key, digest FROM alerts WHERE resolved_at IS NULL AND length(digest) = ?`, DigestSize)
	if err != nil {
		return c.wrap("read alert digests", err)
	}
	defer rs.Close()
	var src string
	var d []byte
	for rs.Next() {
		var key string
		if err := rs.Scan(&src, &key, &d); err != nil {
			return c.wrap("read alert digests", err)
		}
		s := c.source(src)
		if s.digests == nil {
			s.digests = make(map[Digest]string, s.byKey.len())
		}
		if e := s.byKey.get(key); e != nil {
			s.digests[Digest(d)] = e.row.Key
		}
	}
	if err := rs.Err(); err != nil {
		return c.wrap("read alert digests", err)
	}
	return nil
}

// freshDigests reloads the digests after a write of this process.
func (c *Cache) freshDigests() error {
	if !c.digestsStale {
		return nil
	}
	if err := c.loadDigests(); err != nil {
		return err
	}
	c.digestsStale = false
	return nil
}

// AlertDigests maps the digest of each open row of the source that has
// one to the row's key; nil outside a process that polls once
// (PollsOnce). The map is not modified afterwards: a later write gives
// the source a new one. Safe for concurrent use; it waits for a load of
// the mirror in progress.
func (c *Cache) AlertDigests(source string) map[Digest]string {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	if c.closed {
		return nil
	}
	if _, err := c.syncIfChanged(); err != nil {
		return nil
	}
	if c.freshDigests() != nil {
		return nil
	}
	if s := c.srcs[source]; s != nil {
		return s.digests
	}
	return nil
}
