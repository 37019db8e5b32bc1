package sources

import (
	"log/slog"
	"sync/atomic"
	"time"

	"sitroom/model"
	"sitroom/model/cache"
)

// Defaults of a HistoryRecorder.
const (
	DefaultOutageGrace = 2 * time.Minute
	DefaultRetention   = 400 * 24 * time.Hour
	// DefaultAlertRetention is how long resolved alert rows are kept.
	DefaultAlertRetention = 30 * 24 * time.Hour
	// PruneEvery is how often the recorder prunes history past retention.
	PruneEvery = time.Hour
	// BacklogEvery is how often the ticket backlog is sampled when it does
	// not change (a change is sampled at once).
	BacklogEvery = 5 * time.Minute
)

// HistoryOptions tune a HistoryRecorder.
type HistoryOptions struct {
	// Grace is how long an outage must stay gone before it is recorded as
	// closed (at the moment it went), so a flapping alert does not open
	// and close outages over and over; default DefaultOutageGrace.
	Grace time.Duration
	// Retention is how long history is kept; default DefaultRetention.
	Retention time.Duration
	// AlertRetention is how long resolved alert rows are kept (at most
	// Retention); default DefaultAlertRetention.
	AlertRetention time.Duration
	Logger         *slog.Logger
}

// HistoryRecorder turns the snapshots the polling process builds into the
// cache's history: outages opening and closing (with their worst severity
// and most alerts), and sources going down and coming back. It also prunes
// history older than the retention, once per PruneEvery.
//
// Observe is called by the Poller on its snapshot goroutine, only while
// this process holds the polling lease; a recorder is not safe for
// concurrent use. An outage opens when its first alert began firing
// upstream (model.Outage.Since, guarded against clock skew), with the
// moment this console first saw it beside it; it closes at the snapshot in
// which it was first gone, provisionally until the grace has passed.
// Sources' changes are their failed and successful attempts.
//
// In team mode every host's recorder records what its own console sees,
// whoever holds the team lease: each write leaves the record to be
// mirrored into the team store as this host's view (runtime.TeamHistory),
// from which the team's history is derived, so an outage only one host
// sees is recorded too.
type HistoryRecorder struct {
	c   *cache.Cache
	opt HistoryOptions

	loaded bool
	open   map[string]*openOutage // by service
	// lastClosed is when each service's last outage closed here: a new
	// one does not begin before it.
	lastClosed map[string]time.Time
	down       map[string]int64 // source → source_history id
	lastPrune  time.Time
	pruning    atomic.Bool // a prune runs in the background

	lastBacklog   map[[2]string]model.BacklogSample // (source, tier) → last sample written
	lastBacklogAt time.Time
}

type openOutage struct {
	id        int64
	sev       model.Severity
	alerts    int
	opened    time.Time
	goneSince time.Time // zero while the outage is in the snapshot; else its provisional close
}

// NewHistoryRecorder returns a recorder writing into c.
func NewHistoryRecorder(c *cache.Cache, opt HistoryOptions) *HistoryRecorder {
	if opt.Grace <= 0 {
		opt.Grace = DefaultOutageGrace
	}
	if opt.Retention <= 0 {
		opt.Retention = DefaultRetention
	}
	if opt.AlertRetention <= 0 {
		opt.AlertRetention = DefaultAlertRetention
	}
	opt.AlertRetention = min(opt.AlertRetention, opt.Retention)
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &HistoryRecorder{c: c, opt: opt}
}

// Reset forgets what the recorder holds in memory; the next Observe
// reloads the open records from the cache (another process may have
// written them while it held the lease).
func (r *HistoryRecorder) Reset() { r.loaded = false }

// Observe records what changed since the last snapshot. Errors are logged
// and retried with the next snapshot.
func (r *HistoryRecorder) Observe(s *model.Snapshot) {
	if s == nil {
		return
	}
	now := s.Built
	if now.IsZero() {
		now = time.Now()
	}
	if !r.loaded && !r.load() {
		return
	}
	seen := make(map[string]bool, len(s.Outages))
	for _, o := range s.Outages {
		seen[o.Service] = true
		// The outage began when its first alert began firing upstream
		// (Outage.Since, guarded against skew), never before the previous
		// outage of the service ended.
		firstSeen := o.FirstSeen
		if firstSeen.IsZero() || firstSeen.After(now) {
			firstSeen = now
		}
		began := model.BeganAt(o.Since, firstSeen)
		if last := r.lastClosed[o.Service]; began.Before(last) {
			began = last
		}
		cur := r.open[o.Service]
		if cur == nil {
			id, err := r.c.OpenOutage(model.OutageRecord{Service: o.Service, Severity: o.Severity, Opened: began,
				FirstSeen: firstSeen, Alerts: o.Alerts})
			if err != nil {
				r.opt.Logger.Error("recording an outage", "service", o.Service, "err", err)
				continue
			}
			r.open[o.Service] = &openOutage{id: id, sev: o.Severity, alerts: o.Alerts, opened: began}
			continue
		}
		if !cur.goneSince.IsZero() {
			// Back within the grace: the same outage, its provisional
			// close taken back.
			if err := r.c.ReopenOutage(cur.id); err != nil {
				r.opt.Logger.Error("reopening an outage", "service", o.Service, "err", err)
				continue
			}
			cur.goneSince = time.Time{}
		}
		if o.Severity > cur.sev || o.Alerts > cur.alerts || began.Before(cur.opened) {
			sev, n, opened := max(cur.sev, o.Severity), max(cur.alerts, o.Alerts), cur.opened
			if began.Before(opened) {
				opened = began
			}
			if err := r.c.UpdateOutage(cur.id, sev, n, opened); err != nil {
				r.opt.Logger.Error("updating an outage", "service", o.Service, "err", err)
				continue
			}
			cur.sev, cur.alerts, cur.opened = sev, n, opened
		}
	}
	for svc, cur := range r.open {
		if seen[svc] {
			continue
		}
		if cur.goneSince.IsZero() {
			// Gone: closed at once, provisionally, so a report read
			// during the grace already shows it ended when it did.
			if err := r.c.CloseOutage(cur.id, now, true); err != nil {
				r.opt.Logger.Error("closing an outage", "service", svc, "err", err)
				continue
			}
			cur.goneSince = now
		}
		if now.Sub(cur.goneSince) >= r.opt.Grace {
			if err := r.c.CloseOutage(cur.id, cur.goneSince, false); err != nil {
				r.opt.Logger.Error("closing an outage", "service", svc, "err", err)
				continue
			}
			r.lastClosed[svc] = cur.goneSince
			delete(r.open, svc)
		}
	}
	for _, st := range s.Sources {
		id, isDown := r.down[st.Name]
		switch {
		case st.LastError != "" && !isDown:
			at := st.LastAttempt
			if at.IsZero() {
				at = now
			}
			id, err := r.c.SourceDown(st.Name, at, st.LastError)
			if err != nil {
				r.opt.Logger.Error("recording a source outage", "source", st.Name, "err", err)
				continue
			}
			r.down[st.Name] = id
		case st.LastError == "" && isDown && !st.LastAttempt.IsZero():
			at := st.LastSuccess
			if at.IsZero() {
				at = now
			}
			if err := r.c.SourceUp(id, at); err != nil {
				r.opt.Logger.Error("recording a source recovery", "source", st.Name, "err", err)
				continue
			}
			delete(r.down, st.Name)
		}
	}
	r.sampleBacklog(s, now)
	if now.Sub(r.lastPrune) >= PruneEvery && r.pruning.CompareAndSwap(false, true) {
		// In the background, in short transactions (cache.PruneHistory):
		// neither the polls nor the next snapshot wait for a big prune.
		r.lastPrune = now
		ret := cache.Retention{Before: now.Add(-r.opt.Retention), AlertsBefore: now.Add(-r.opt.AlertRetention)}
		go func() {
			defer r.pruning.Store(false)
			n, err := r.c.PruneHistory(ret)
			if err != nil {
				r.opt.Logger.Error("pruning history", "err", err)
			} else if n > 0 {
				r.opt.Logger.Info("pruned history", "rows", n, "retention", r.opt.Retention, "alert_retention", r.opt.AlertRetention)
			}
		}()
	}
}

func (r *HistoryRecorder) load() bool {
	outs, err := r.c.OpenOutageRecords()
	if err != nil {
		r.opt.Logger.Error("reading open outages", "err", err)
		return false
	}
	downs, err := r.c.OpenSourceOutages()
	if err != nil {
		r.opt.Logger.Error("reading source outages", "err", err)
		return false
	}
	r.open = make(map[string]*openOutage, len(outs))
	r.lastClosed = map[string]time.Time{}
	for _, o := range outs {
		if prev := r.open[o.Service]; prev != nil {
			// Two open records of one service (two processes raced for the
			// lease): keep the newer open, close the older where it was.
			_ = r.c.CloseOutage(prev.id, o.Opened, false)
		}
		cur := &openOutage{id: o.ID, sev: o.Severity, alerts: o.Alerts, opened: o.Opened}
		if o.Provisional {
			cur.goneSince = o.Closed
		}
		r.open[o.Service] = cur
	}
	r.down = make(map[string]int64, len(downs))
	for _, d := range downs {
		r.down[d.Source] = d.ID
	}
	r.loaded = true
	return true
}

// sampleBacklog records the ticket backlog per ticket source and tier
// (open, unassigned, SLA breached) when it changed, and every BacklogEvery
// otherwise, for the handoff report's start and end of shift figures.
// Sources whose last poll failed are not sampled: their counts are stale.
func (r *HistoryRecorder) sampleBacklog(s *model.Snapshot, now time.Time) {
	if !s.Backlog.Known {
		return
	}
	failing := map[string]bool{}
	for _, st := range s.Sources {
		if st.LastError != "" {
			failing[st.Name] = true
		}
	}
	cur := map[[2]string]model.BacklogSample{}
	for _, it := range s.Tickets {
		t := it.Ticket
		if t == nil || failing[t.Source] || (t.Tier != model.Tier1 && t.Tier != model.Tier2) {
			continue
		}
		k := [2]string{t.Source, t.Tier.String()}
		smp := cur[k]
		smp.At, smp.Source, smp.Tier = now, t.Source, t.Tier.String()
		smp.Open++
		if t.Unassigned() {
			smp.Unassigned++
		}
		if t.SLA.BreachedAt(now) {
			smp.Breached++
		}
		cur[k] = smp
	}
	// A tier that emptied is a change too: record it as zero.
	for k, prev := range r.lastBacklog {
		if _, ok := cur[k]; !ok && !failing[k[0]] && prev.Open > 0 {
			cur[k] = model.BacklogSample{At: now, Source: k[0], Tier: k[1]}
		}
	}
	changed := len(cur) != len(r.lastBacklog)
	for k, v := range cur {
		p, ok := r.lastBacklog[k]
		if !ok || p.Open != v.Open || p.Unassigned != v.Unassigned || p.Breached != v.Breached {
			changed = true
		}
	}
	if !changed && now.Sub(r.lastBacklogAt) < BacklogEvery {
		return
	}
	samples := make([]model.BacklogSample, 0, len(cur))
	for _, v := range cur {
		samples = append(samples, v)
	}
	if err := r.c.RecordBacklog(samples); err != nil {
		r.opt.Logger.Error("recording the ticket backlog", "err", err)
		return
	}
	r.lastBacklog, r.lastBacklogAt = cur, now
}
