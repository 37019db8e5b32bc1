package cache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
	"unsafe"

	"sitroom/model"
)

// ResolveAfter is the number of consecutive successful polls an open row
// must be missing from before it is resolved.
const ResolveAfter = 2

// EmptyHold is how long a source that had alerts may answer with none
// before its alerts start counting as missed. An Alertmanager that just
// restarted answers [] until the Prometheus servers feeding it re-send
// (every minute by default); resolving on that would close real outages
// and expire their acks.
const EmptyHold = 3 * time.Minute

// PollMeta describes one poll of a source.
type PollMeta struct {
	At      time.Time     // when the poll started; time.Now() if zero
	Latency time.Duration // how long it took
	Type    string        // the source's type (prometheus, alertmanager, …)
	// Uptime is how long the upstream had been running, read when a poll
	// came back empty (UptimeKnown false: not read, or unreadable); see
	// Ingest.
	Uptime      time.Duration
	UptimeKnown bool
	// HealthRead, when not zero, is when the poller began the read of
	// the source's pipeline health that went with this poll: a later
	// one than the stored one is written with the status.
	HealthRead time.Time
	// Digests, when not nil, holds the digest of each alert's object
	// (DigestSize bytes each, in the order of the alerts), written
	// with its row; a row written without one has none.
	Digests []byte
	// Kept are the keys of open rows that the reply repeats unchanged,
	// found by their digests (KeptDigests, DigestSize bytes each) in
	// AlertDigests and not decoded: each is seen again as it is.
	Kept        []string
	KeptDigests []byte
}

// IngestResult counts what one Ingest did to the open rows of the source.
type IngestResult struct {
	Inserted  int  // new open rows
	Updated   int  // rows whose content changed
	Unchanged int  // rows returned with the same content (a reappearing row counts here)
	Missed    int  // open rows missing from this poll that stay open for now
	Resolved  int  // rows resolved by this poll
	Wrote     bool // whether any SQL write statement ran
	// Held is set when the poll was empty and the source's open rows were
	// kept, not counted as missed (see Ingest).
	Held bool
}

const (
	opInsert = iota
	opUpdate
	opTouch  // last_seen / missed / resolved_at only
	opDigest // the digest only: an alert decoded again unchanged
)

type change struct {
	kind int
	e    *entry // nil for opInsert
	row  *model.AlertRow
	id   int64 // assigned by the insert

	// full are the row's annotations, all of them (the row keeps the
	// shown part), for insert and update.
	full model.Labels
	// encoded by exec, for insert and update
	labels, annotations, silenced, inhibited string
	ann                                      uint64 // hash of full
	// digest of the alert object written (nil: none), for insert and
	// update, and opDigest
	digest []byte
}

type plan struct {
	src     *source
	newSrc  bool
	gen     uint64
	rows    []*model.AlertRow // the source's open rows after the poll
	kept    []*entry          // entries in rows order (nil where a change inserts)
	changes []change
	status  model.SourceStatus
	writeSt bool
	seq     int64 // meta seq of the write, 0 if no alert row was written
	res     IngestResult
}

// Ingest records one successful poll of source that returned alerts, in one
// transaction; see the package documentation for what is written when.
// An open row absent from alerts is missed; after ResolveAfter consecutive
// misses it is resolved. A poll that returns nothing while the source had
// open rows is the truth when the upstream says it has been running since
// before the last poll that had them (meta.Uptime): its rows are missed
// like any others, and the source is not degraded. An upstream that
// restarted since (an Alertmanager without its data answers [] until
// Prometheus re-sends), or one whose uptime is unknown, is suspect: the
// status Note says so ("empty reply; had N alerts", and "restarted 40s
// ago, waiting for re-sends" when it did) and the rows are counted as
// missed only once the source has stayed empty for EmptyHold. Alerts with
// an empty Key get the key of their labels; a key repeated within one poll
// is taken once. The rows meta.Kept names count as alerts of the poll,
// returned unchanged (see AlertDigests), ahead of the alerts given.
//
// Ingest may be called from any goroutine; calls are serialized.
func (c *Cache) Ingest(source string, alerts []model.Alert, meta PollMeta) (IngestResult, error) {
	if source == "" {
		return IngestResult{}, errors.New("cache: Ingest: empty source name")
	}
	if meta.At.IsZero() {
		meta.At = time.Now()
	}
	meta.At = norm(meta.At)
	keys := make([]string, len(alerts))
	for i := range alerts {
		keys[i] = alerts[i].Key
		if keys[i] == "" {
			keys[i] = model.LabelsKey(alerts[i].Labels, nil)
		}
	}

	c.connMu.Lock()
	defer c.connMu.Unlock()
	if c.closed {
		return IngestResult{}, ErrClosed
	}
	res, err := c.ingestLocked(source, alerts, keys, meta)
	again, err := c.recoverFrom(err)
	if again {
		return c.ingestLocked(source, alerts, keys, meta)
	}
	return res, err
}

// ingestLocked is Ingest's work under connMu, run once more after
// recoverFrom replaced a corrupt file.
func (c *Cache) ingestLocked(source string, alerts []model.Alert, keys []string, meta PollMeta) (IngestResult, error) {
	if _, err := c.syncIfChanged(); err != nil {
		return IngestResult{}, err
	}
	if len(meta.Kept) > 0 {
		if err := c.freshDigests(); err != nil {
			return IngestResult{}, err
		}
	}
	p, err := c.plan(source, alerts, keys, meta)
	if err != nil {
		return IngestResult{}, err
	}
	if len(p.changes) == 0 && !p.writeSt {
		c.apply(p)
		c.publish()
		return p.res, nil
	}
	// What the write will store is on screen while it is written
	// (OnPlanned); Load and the mirror wait for the commit.
	c.publishPlanned(p)
	err = c.inWriteTx(func() error {
		// Another process may have committed between the check above and
		// taking the write lock; now nobody else can, so check again.
		again, err := c.syncIfChanged()
		if err != nil {
			return err
		}
		if again {
			if p, err = c.plan(source, alerts, keys, meta); err != nil {
				return err
			}
		}
		return c.exec(p)
	})
	if err != nil {
		// The planned view is dropped: the screen goes back to what
		// is stored.
		c.publish()
		return IngestResult{}, err
	}
	c.apply(p)
	c.publish()
	return p.res, nil
}

// PollsOnce tells the cache that its process polls once and exits (`poll
// --once`): a poll then keeps each row it finds unchanged as it is, not
// replaced by a copy seen at this poll. Nothing in such a process reads a
// row's last sighting after its poll, and on file an unchanged row keeps
// the last_seen of its last write anyway; a snapshot built of the rows
// before the poll (while its request was in flight) then stays the one
// of the rows after it, not built again. Call it before the first Ingest.
func (c *Cache) PollsOnce() {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	c.oncePoll = true
}

// plan diffs one poll against the mirror without changing it (beyond the
// seen marks) and lists what must be written (exec encodes it). It fails
// with ErrReplyChanged when a row meta.Kept names is not open with its
// digest.
func (c *Cache) plan(name string, alerts []model.Alert, keys []string, meta PollMeta) (*plan, error) {
	at := meta.At
	s := c.srcs[name]
	items := len(alerts) + len(meta.Kept)
	for i, key := range meta.Kept {
		var d Digest
		copy(d[:], meta.KeptDigests[i*DigestSize:])
		if s == nil || s.digests[d] != key || s.byKey.get(key) == nil {
			return nil, ErrReplyChanged
		}
	}
	c.gen++
	p := &plan{gen: c.gen, src: s}
	if p.src == nil {
		p.src = &source{name: name}
		p.newSrc = true
	}
	s = p.src
	openBefore := s.byKey.len()
	var slab model.Slab[model.AlertRow]
	p.rows = make([]*model.AlertRow, 0, items+8)
	p.kept = make([]*entry, 0, items+8)
	for _, key := range meta.Kept {
		// Repeated unchanged by the reply (its digest): seen again,
		// kept as it is (see PollsOnce) unless it was missed before.
		e := s.byKey.get(key)
		if e.seen == p.gen {
			continue
		}
		e.seen = p.gen
		r := e.row
		if r.Missed != 0 {
			r = new(model.AlertRow)
			*r = *e.row
			r.Missed, r.LastSeen = 0, model.StampOf(at)
			p.changes = append(p.changes, change{kind: opTouch, e: e, row: r})
		}
		p.rows = append(p.rows, r)
		p.kept = append(p.kept, e)
		p.res.Unchanged++
	}
	var fresh map[string]bool // keys inserted by this poll, to drop repeats
	for i := range alerts {
		key := keys[i]
		e := s.byKey.get(key)
		if e != nil && e.seen == p.gen || fresh[key] {
			continue // repeated within this poll
		}
		var digest []byte
		if meta.Digests != nil {
			digest = meta.Digests[i*DigestSize : (i+1)*DigestSize]
		}
		if c.oncePoll && e != nil && e.row.Missed == 0 && sameContent(e, &alerts[i]) {
			// Kept as it is (see PollsOnce). Decoded, so its
			// digest was not the row's: the row takes it.
			e.seen = p.gen
			p.rows = append(p.rows, e.row)
			p.kept = append(p.kept, e)
			p.res.Unchanged++
			if digest != nil {
				p.changes = append(p.changes, change{kind: opDigest, e: e, row: e.row, digest: digest})
			}
			continue
		}
		r := slab.New(len(alerts) - i)
		atStamp := model.StampOf(at)
		switch {
		case e == nil:
			fillRow(r, name, &alerts[i], key)
			r.FirstSeen, r.LastSeen = atStamp, atStamp
			if r.State != model.StatePending {
				r.FiredSeen = atStamp
			}
			if fresh == nil {
				fresh = map[string]bool{}
			}
			fresh[key] = true
			p.changes = append(p.changes, newChange(opInsert, nil, r, digest))
			p.res.Inserted++
		case !sameContent(e, &alerts[i]):
			e.seen = p.gen
			fillRow(r, name, &alerts[i], key)
			r.FirstSeen, r.FiredSeen, r.LastSeen = e.row.FirstSeen, e.row.FiredSeen, atStamp
			if r.FiredSeen.IsZero() && r.State != model.StatePending {
				r.FiredSeen = atStamp // it fired: a change of content, so written now
			}
			p.changes = append(p.changes, newChange(opUpdate, e, r, digest))
			p.res.Updated++
		default:
			e.seen = p.gen
			*r = *e.row
			r.LastSeen = atStamp
			// Equal content: take the poll's labels and suppression, so the
			// next poll of a source that reuses its unchanged alerts
			// compares by identity (see sameContent). The annotations
			// stay the row's, the part of them it holds.
			a := &alerts[i]
			r.Labels, r.Suppressed = a.Labels, a.Suppressed
			if r.Missed != 0 {
				r.Missed = 0
				p.changes = append(p.changes, change{kind: opTouch, e: e, row: r})
			}
			if digest != nil {
				p.changes = append(p.changes, change{kind: opDigest, e: e, row: r, digest: digest})
			}
			p.res.Unchanged++
		}
		p.rows = append(p.rows, r)
		p.kept = append(p.kept, e)
	}
	// An empty reply from a source that had alerts is suspect (an
	// Alertmanager just restarted answers [] until Prometheus re-sends):
	// its rows are not counted as missed until it has stayed empty for
	// EmptyHold.
	holding, suspect, restarted := false, false, false
	if items == 0 && openBefore > 0 {
		// The last poll that had them: the latest last_seen of the rows.
		var lastHad model.Stamp
		for e := range s.byKey.all() {
			if e.row.LastSeen.After(lastHad) {
				lastHad = e.row.LastSeen
			}
		}
		// The Date header has whole seconds: a second's margin.
		restarted = meta.UptimeKnown && meta.Uptime <= at.Sub(lastHad.Time())+time.Second
		suspect = !meta.UptimeKnown || restarted
	}
	if suspect {
		if s.emptySince.IsZero() {
			s.emptySince = at
		}
		holding = at.Sub(s.emptySince) < EmptyHold
	} else {
		s.emptySince = time.Time{}
	}
	p.res.Held = holding
	for _, old := range s.rows {
		e := s.byKey.get(old.Key)
		if e == nil || e.seen == p.gen {
			continue
		}
		if holding {
			p.rows = append(p.rows, e.row)
			p.kept = append(p.kept, e)
			continue
		}
		r := new(model.AlertRow)
		*r = *e.row
		r.Missed++
		if r.Missed >= ResolveAfter {
			r.ResolvedAt = model.StampOf(at)
			p.res.Resolved++
		} else {
			p.rows = append(p.rows, r)
			p.kept = append(p.kept, e)
			p.res.Missed++
		}
		p.changes = append(p.changes, change{kind: opTouch, e: e, row: r})
	}

	st := s.status
	st.Name = name
	if meta.Type != "" {
		st.Type = meta.Type
	}
	st.LastAttempt, st.LastSuccess, st.LastError = at, at, ""
	st.Latency = meta.Latency
	st.Items = items
	st.Note = ""
	if hr := norm(meta.HealthRead); hr.After(st.HealthRead) {
		st.HealthRead = hr
	}
	if suspect {
		st.Note = fmt.Sprintf("%s; had %s", model.EmptyReplyNote, model.Plural(openBefore, "alert", "alerts"))
		if restarted {
			st.Note += fmt.Sprintf("; restarted %s ago, waiting for re-sends", model.FormatSeconds(int64(meta.Uptime/time.Second)))
		}
	}
	p.status = st
	d := s.disk
	p.writeSt = len(p.changes) > 0 || !s.stored || d.LastError != "" || d.Items != st.Items ||
		d.Note != st.Note || d.Type != st.Type || at.Sub(d.LastAttempt) > StatusRefresh || st.HealthRead.After(d.HealthRead)
	p.res.Wrote = len(p.changes) > 0 || p.writeSt
	return p, nil
}

// sameContent reports whether a holds exactly what the cache stores for
// e's row: everything model.Alert.ContentHash covers (the key is equal by
// lookup). Comparing directly costs a fraction of hashing the alert; label
// sets and slices that are the very ones the row holds (a source that
// reuses its unchanged alerts from poll to poll hands them back) compare
// in constant time. The annotations, which the row holds only in part,
// compare by their hash.
func sameContent(e *entry, a *model.Alert) bool {
	r := e.row
	return r.State == a.State &&
		r.StartsAt == a.StartsAt &&
		r.Labels.Equal(a.Labels) &&
		e.ann == a.Annotations.Hash() &&
		sameList(r.SilencedBy(), a.SilencedBy()) &&
		sameList(r.InhibitedBy(), a.InhibitedBy()) &&
		(r.GeneratorURL == a.GeneratorURL || r.GeneratorURL == stripUserinfo(a.GeneratorURL))
}

func sameMap(x, y map[string]string) bool {
	// A map value is a pointer to its header: equal pointers, same map.
	if len(x) == len(y) && *(*unsafe.Pointer)(unsafe.Pointer(&x)) == *(*unsafe.Pointer)(unsafe.Pointer(&y)) {
		return true
	}
	return maps.Equal(x, y)
}

func sameList(x, y []string) bool {
	if len(x) == len(y) && (len(x) == 0 || unsafe.SliceData(x) == unsafe.SliceData(y)) {
		return true
	}
	return slices.Equal(x, y)
}

func fillRow(r *model.AlertRow, src string, a *model.Alert, key string) {
	r.Source = src
	r.Alert = *a
	r.Key = key
	r.GeneratorURL = stripUserinfo(a.GeneratorURL)
}

// newChange is an insert or update of r; r keeps only the shown part of
// its annotations from then on. It is encoded by exec, once the plan is
// published (publishPlanned): a poll of 10k new alerts is on screen
// about 11 ms sooner.
func newChange(kind int, e *entry, r *model.AlertRow, digest []byte) change {
	ch := change{kind: kind, e: e, row: r, full: r.Annotations, digest: digest}
	r.Annotations = model.ShownAnnotations(r.Annotations)
	return ch
}

// encode encodes an insert or update for its statement.
func (ch *change) encode() {
	r := ch.row
	ch.labels, ch.annotations = encodeLabels(r.Labels), encodeLabels(ch.full)
	ch.silenced, ch.inhibited = encodeList(r.SilencedBy()), encodeList(r.InhibitedBy())
	ch.ann = ch.full.Hash()
}

// exec writes a plan inside the caller's write transaction.
func (c *Cache) exec(p *plan) error {
	ctx := context.Background()
	var seq int64
	if len(p.changes) > 0 {
		if err := c.st.bumpSeq.QueryRowContext(ctx).Scan(&seq); err != nil {
			return c.wrap("write alerts", err)
		}
	}
	for i := range p.changes {
		ch := &p.changes[i]
		r := ch.row
		var err error
		if ch.kind == opInsert || ch.kind == opUpdate {
			ch.encode()
		}
		var digest any // NULL: a row written without one has none
		if ch.digest != nil {
			digest = ch.digest
		}
		switch ch.kind {
		case opInsert:
			var res sql.Result
			res, err = c.st.insert.ExecContext(ctx, r.Source, r.Key, r.State.String(), int64(r.StartsAt),
				r.GeneratorURL, ch.labels, ch.annotations, ch.silenced, ch.inhibited, int64(r.FirstSeen), int64(r.LastSeen), seq,
				int(model.ParseSeverity(r.Labels.Get("severity"))), int64(r.FiredSeen), digest)
			if err == nil {
				ch.id, err = res.LastInsertId()
			}
		case opUpdate:
			_, err = c.st.update.ExecContext(ctx, r.State.String(), int64(r.StartsAt), r.GeneratorURL,
				ch.labels, ch.annotations, ch.silenced, ch.inhibited, int64(r.LastSeen), seq,
				int(model.ParseSeverity(r.Labels.Get("severity"))), int64(r.FiredSeen), digest, ch.e.id)
		case opTouch:
			var resolved any
			if r.Resolved() {
				resolved = int64(r.ResolvedAt)
			}
			_, err = c.st.touch.ExecContext(ctx, int64(r.LastSeen), r.Missed, resolved, seq, ch.e.id)
		case opDigest:
			_, err = c.st.digest.ExecContext(ctx, digest, ch.e.id)
		}
		if err != nil {
			return c.wrap("write alerts", err)
		}
	}
	// The episodes that began: the rollups stats read (stats.go), in the
	// same transaction, judged against the mirror before apply.
	if err := c.writeRollup(c.rollupOf(p)); err != nil {
		return err
	}
	if p.writeSt {
		if err := c.writeStatus(p.status); err != nil {
			return err
		}
	}
	p.seq = seq
	return nil
}

func (c *Cache) writeStatus(st model.SourceStatus) error {
	_, err := c.st.status.ExecContext(context.Background(), st.Name, st.Type, ns(st.LastAttempt), ns(st.LastSuccess),
		st.LastError, int64(st.Latency), st.Items, st.Note, ns(st.HealthRead))
	if err != nil {
		return c.wrap("write source status", err)
	}
	return nil
}

// apply moves a plan, written or not, into the mirror.
func (c *Cache) apply(p *plan) {
	s := p.src
	if p.newSrc {
		c.srcs[s.name] = s
	}
	if p.seq != 0 {
		c.seq = p.seq
	}
	for i := range p.changes {
		ch := &p.changes[i]
		switch ch.kind {
		case opInsert:
			s.byKey.set(&entry{id: ch.id, row: ch.row, seen: p.gen, ann: ch.ann})
		default:
			ch.e.row = ch.row
			if ch.kind == opUpdate {
				ch.e.ann = ch.ann
			}
			if ch.row.Resolved() {
				s.byKey.del(ch.row.Key)
			}
		}
	}
	for i, e := range p.kept {
		if e != nil {
			e.row = p.rows[i]
		}
	}
	s.rows = p.rows
	s.status = p.status
	if c.oncePoll && len(p.changes) > 0 {
		c.digestsStale = true
	}
	if p.writeSt {
		s.disk, s.stored = p.status, true
	}
}

// RecordFailure records a failed poll of the named source: last attempt, the error's
// text (user info in URLs stripped, clipped to 2000 bytes) and latency. Its
// rows are untouched: they stay open and show as stale. It is always
// written. Safe for concurrent use.
func (c *Cache) RecordFailure(name string, pollErr error, meta PollMeta) error {
	if name == "" {
		return errors.New("cache: RecordFailure: empty source name")
	}
	if meta.At.IsZero() {
		meta.At = time.Now()
	}
	msg := "unknown error"
	if pollErr != nil && pollErr.Error() != "" {
		msg = clipError(pollErr.Error())
	}
	c.connMu.Lock()
	defer c.connMu.Unlock()
	if c.closed {
		return ErrClosed
	}
	err := c.recordFailureLocked(name, msg, meta)
	again, err := c.recoverFrom(err)
	if again {
		return c.recordFailureLocked(name, msg, meta)
	}
	return err
}

// recordFailureLocked is RecordFailure's work under connMu, run once more after
// recoverFrom replaced a corrupt file.
func (c *Cache) recordFailureLocked(name, msg string, meta PollMeta) error {
	var st model.SourceStatus
	err := c.inWriteTx(func() error {
		if _, err := c.syncIfChanged(); err != nil {
			return err
		}
		if s := c.srcs[name]; s != nil {
			st = s.status
		}
		st.Name = name
		if meta.Type != "" {
			st.Type = meta.Type
		}
		st.LastAttempt = norm(meta.At)
		st.LastError = msg
		st.Latency = meta.Latency
		return c.writeStatus(st)
	})
	if err != nil {
		c.publish()
		return err
	}
	s := c.srcs[name]
	if s == nil {
		s = &source{name: name}
		c.srcs[name] = s
	}
	s.status, s.disk, s.stored = st, st, true
	c.publish()
	return nil
}
