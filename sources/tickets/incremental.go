package tickets

import (
	"time"

	"sitroom/model"
)

// DefaultFullEvery is how often a ticket source reads its whole tier set
// instead of only what changed, when its FullEvery option is zero.
const DefaultFullEvery = 10 * time.Minute

// Incremental is the bookkeeping of a ticket source that reads only the
// tickets changed since its last poll: the last whole set, when it was
// read in full, and the newest update time seen, which the next changed
// search starts from.
//
// It is not safe for concurrent use: the source holds its own lock
// around a whole Fetch.
type Incremental struct {
	// FullEvery is how often Full reports that a full read is due;
	// negative means every time.
	FullEvery time.Duration

	held      map[string]model.Ticket
	lastFull  time.Time
	maxUpdate time.Time
}

// NeedFull reports whether the poll at now must read the whole set: the
// first poll, a poll FullEvery or more after the last full read, or every
// poll when FullEvery is negative.
func (c *Incremental) NeedFull(now time.Time) bool {
	return c.held == nil || c.FullEvery < 0 || now.Sub(c.lastFull) >= c.FullEvery
}

// Since is the newest Updated of the tickets read so far (zero when none
// had one); a changed search asks for tickets updated since it, less the
// source's margin.
func (c *Incremental) Since() time.Time { return c.maxUpdate }

// Full replaces the set with ts, read in full at now.
func (c *Incremental) Full(now time.Time, ts []model.Ticket) {
	c.held = make(map[string]model.Ticket, len(ts))
	c.maxUpdate = time.Time{}
	for _, t := range ts {
		c.held[t.ID] = t
		c.seen(t)
	}
	c.lastFull = now
}

// Merge puts the changed tickets into the set (replacing the held copy of
// each) and drops the tickets whose IDs are in gone. A ticket both changed
// and gone is kept: it was found in the set's own search.
func (c *Incremental) Merge(changed []model.Ticket, gone []string) {
	if c.held == nil {
		c.held = map[string]model.Ticket{}
	}
	for _, id := range gone {
		delete(c.held, id)
	}
	for _, t := range changed {
		c.held[t.ID] = t
		c.seen(t)
	}
}

// Has reports whether the set holds a ticket with this ID.
func (c *Incremental) Has(id string) bool {
	_, ok := c.held[id]
	return ok
}

func (c *Incremental) seen(t model.Ticket) {
	if t.Updated.After(c.maxUpdate) {
		c.maxUpdate = t.Updated
	}
}

// Tickets returns the set as of now: a held ticket whose SLA deadline
// has passed since it was read is marked breached.
func (c *Incremental) Tickets(now time.Time) []model.Ticket {
	out := make([]model.Ticket, 0, len(c.held))
	for _, t := range c.held {
		if t.SLA.Known && !t.SLA.Breached && !t.SLA.Paused && !t.SLA.Due.IsZero() && t.SLA.Due.Before(now) {
			t.SLA.Breached = true
		}
		out = append(out, t)
	}
	return out
}

// Poll is one Fetch of a source that reads only what changed between full
// reads. When a full read is due at now, full reads the whole set;
// otherwise changed reads the tickets changed since since (the newest
// update seen less margin, or 1970-01-02 when none was seen) and the IDs
// of those that left the set. It returns the set as of now; a failed read
// leaves the set as it was.
func (c *Incremental) Poll(now time.Time, margin time.Duration, full func() ([]model.Ticket, error),
	changed func(since time.Time) ([]model.Ticket, []string, error)) ([]model.Ticket, error) {
	if c.NeedFull(now) {
		all, err := full()
		if err != nil {
			return nil, err
		}
		c.Full(now, all)
		return c.Tickets(now), nil
	}
	since := time.Unix(86400, 0).UTC()
	if t := c.Since(); !t.IsZero() {
		since = t.Add(-margin).UTC()
	}
	ts, gone, err := changed(since)
	if err != nil {
		return nil, err
	}
	c.Merge(ts, gone)
	return c.Tickets(now), nil
}
