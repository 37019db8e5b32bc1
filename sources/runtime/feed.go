package runtime

import (
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"sitroom/model"
	"sitroom/sources"
)

// Feed is what the dashboard reads (ui.Feed): the poller's snapshots,
// each shown to an observer (the action dispatcher: which alerts each
// Alertmanager holds, which outages resolved) before it is passed on,
// latest wins. Before the poller's first snapshot it may pass one preview
// (see Preview), which is passed on only; so is the snapshot of a poll
// being written, before the write commits (sources.Poller.ShowPlanned).
type Feed struct {
	p   *sources.Poller
	out chan *model.Snapshot
	// settledGC is the GOGC to collect with once the first snapshot has
	// settled (see SettleGC); 0 leaves the collector as it is.
	settledGC atomic.Int32

	mu    sync.Mutex
	full  bool            // a poller snapshot was passed: a preview would be older
	shown *model.Snapshot // the last snapshot passed
}

// Observer is what sees the poller's snapshots before the feed passes
// them on: the action dispatcher.
type Observer interface{ Observe(*model.Snapshot) }

// Feed starts passing the poller's snapshots on, each shown to d first
// (but the snapshot of a write not yet committed, passed on only); the
// feed's channel closes when the poller's does. Call it before Run.
func (r *Runtime) Feed(d Observer) *Feed { return NewFeed(r.Poller, d) }

// NewFeed is Runtime.Feed for a poller built elsewhere (tests, benchmarks).
func NewFeed(p *sources.Poller, d Observer) *Feed { return newFeed(p, d, true) }

// newFeed is NewFeed; planned says whether to pass on the snapshot of a
// write before it commits (a feed that no screen reads does not).
func newFeed(p *sources.Poller, d Observer, planned bool) *Feed {
	f := &Feed{p: p, out: make(chan *model.Snapshot, 1)}
	if planned {
		p.ShowPlanned()
	}
	go func() {
		defer close(f.out)
		var (
			settle <-chan time.Time
			built  *model.Signal // the first signal of the last snapshot passed
		)
		snaps := p.Snapshots()
		for {
			select {
			case s, ok := <-snaps:
				if !ok {
					return
				}
				// The dispatcher observes what is stored, not rows that
				// may never be (the screen's only), nor a snapshot that
				// holds only why none could be built.
				if !p.Unstored(s) && !s.Built.IsZero() {
					d.Observe(s)
				}
				f.send(s, false)
				if first := firstSignal(s); first != built && !s.Built.IsZero() && s.Loading == 0 {
					// Signals built anew (a reissued snapshot shares
					// them): the garbage of building them, and of the
					// cache's load before the first, is collected and
					// handed back to the OS once the console has been
					// quiet a while, so it idles at its live size
					// rather than at twice it.
					built, settle = first, time.After(releaseAfter)
				}
			case <-settle:
				settle = nil
				debug.FreeOSMemory()
				if pct := f.settledGC.Swap(0); pct != 0 {
					debug.SetGCPercent(int(pct))
				}
			}
		}
	}()
	return f
}

// SettleGC makes the process collect with GOGC percent once the first
// complete snapshot has settled and its garbage is returned: the cache's
// load runs at the default (it makes several times what stays), the idle
// console at percent, so what it allocates while idle (the clock, retried
// sources) does not let it grow to twice its live heap before the next
// collection. The dashboard calls it (with 25) unless GOGC is set.
func (f *Feed) SettleGC(percent int) { f.settledGC.Store(int32(percent)) }

// releaseAfter is how long the feed waits after new signals before it
// returns the garbage to the OS: long enough for the screen to have
// drawn them, short of the next poll of a source polled every 10s.
const releaseAfter = 3 * time.Second

// firstSignal is the first signal of s, which tells signals built anew
// from reissued ones; nil when s has none.
func firstSignal(s *model.Snapshot) *model.Signal {
	if len(s.Signals) == 0 {
		return nil
	}
	return s.Signals[0]
}

// send passes s on, dropping an unread older snapshot (latest wins). A
// preview is dropped once a poller snapshot was passed.
func (f *Feed) send(s *model.Snapshot, preview bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if preview && f.full {
		return
	}
	if s.Built.IsZero() && f.shown != nil {
		// No snapshot could be built yet: what is shown (a preview)
		// stays, with why.
		c := *f.shown
		c.CacheError = s.CacheError
		s = &c
	} else {
		f.full = f.full || !preview
	}
	f.shown = s
	for {
		select {
		case f.out <- s:
			return
		default:
		}
		select {
		case <-f.out:
		default:
		}
	}
}

// Preview passes on a snapshot of the limit most severe open alerts of
// the cache (sources.Poller.Preview) unless the poller's first snapshot
// got there first, so the first frame with data does not wait for the
// cache to load every open alert. The observer never sees it.
func (f *Feed) Preview(limit int, log *slog.Logger) {
	snap, err := f.p.Preview(limit)
	if err != nil {
		log.Warn("previewing the cache", "err", err)
		return
	}
	f.send(snap, true)
}

// Snapshots is the poller's snapshots, latest wins.
func (f *Feed) Snapshots() <-chan *model.Snapshot { return f.out }

// Refresh asks the poller for a poll now.
func (f *Feed) Refresh() { f.p.Refresh() }
