package sources

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"sitroom/model"
	"sitroom/model/cache"
)

// Job is one source with its schedule: an alert Source, or a ticket
// source (Tickets) polled under the same rules (schedule, back-off, lease,
// no overlap). Exactly one of Source and Tickets is set.
type Job struct {
	Source  Source
	Tickets TicketFetcher
	// Silences, for an Alertmanager source, reads its silences in the
	// same cycle as its alerts, so a row is never shown silenced without
	// its silence's author, and an ack whose silence ended upstream ends
	// within one poll (cache.StoreSilences).
	Silences SilenceReader
	// Interval is the time between the end of one poll and the start of
	// the next, and the most one poll may take. A failed poll is retried
	// after one interval too, so a recovery shows within one interval;
	// only a throttled source backs off further (RetryDelay).
	Interval time.Duration
	// Timeout bounds each request of a poll (WithRequestTimeout); a poll
	// of several requests may take up to the interval. For an alert
	// Source that is not RequestBounded (CloudWatch, whose SDK makes its
	// own requests) it bounds the whole poll. Defaults to the interval.
	Timeout time.Duration
}

// RequestBounded is implemented by alert sources whose every request
// goes through Do (JSONSource and the sources built on it), and so is
// bounded by the Job's Timeout on its own: their poll as a whole is
// bounded by the interval. Ticket sources always are.
type RequestBounded interface {
	RequestBounded()
}

// SilenceReader lists an Alertmanager's silences as sitroom keeps them,
// each with the source name given; *alertmanager.Silencer implements it.
type SilenceReader interface {
	Silences(ctx context.Context, source string) ([]model.Silence, error)
}

// HealthReader is implemented by alert sources whose upstream reports on
// its own alerting pipeline (failing rules, a failed reload, a split
// cluster, an Alertmanager not receiving): the poller calls Health after
// a successful poll, at the first and then every HealthEvery, and stores
// what it returns with the source's status (cache.StoreFindings). What
// the upstream does not offer or refuses is a model.FindingNote; an error
// returned is stored as a note too, never as a fault of the source.
type HealthReader interface {
	Health(ctx context.Context) ([]model.Finding, error)
}

// HealthEvery is how often a HealthReader is read: a slower clock than
// alerts, as a pipeline's health changes seldom.
const HealthEvery = 30 * time.Second

// TicketFetcher is the reading side of a ticket source
// (sources/tickets.TicketSource implements it): Fetch returns every open
// ticket of its mapped queues, under the same contract as Source.Fetch.
type TicketFetcher interface {
	Name() string
	Type() string
	Fetch(ctx context.Context) ([]model.Ticket, error)
}

// Name is the job's source name.
func (j *Job) Name() string {
	if j.Tickets != nil {
		return j.Tickets.Name()
	}
	return j.Source.Name()
}

// Type is the job's source type.
func (j *Job) Type() string {
	if j.Tickets != nil {
		return j.Tickets.Type()
	}
	return j.Source.Type()
}

// PollerOptions tune a Poller.
type PollerOptions struct {
	Catalog         *model.Catalog
	OutageThreshold model.Severity
	// PipelineOutages makes failing alerting rules the catalog maps to
	// services outages of the alerting pipeline (see
	// model.SnapshotOptions.PipelineOutages).
	PipelineOutages bool
	Now             func() time.Time // default time.Now
	Logger          *slog.Logger     // default: discard
	// Holder names this process for the polling lease (e.g. "host:pid").
	// Only the lease holder polls; the others build snapshots from what the
	// holder writes into the shared cache and take over when its lease lapses.
	Holder string
	// LeaseTTL is how long a lease lasts without renewal (default 30s).
	LeaseTTL time.Duration
	// MaxBackoff caps the delay after repeated throttled polls
	// (default 5m); see RetryDelay.
	MaxBackoff time.Duration
	// WatchEvery is how often snapshots are rebuilt from the cache when
	// nothing local changed, to pick up other processes' writes (default 1s).
	WatchEvery time.Duration
	// OnPanic is called (from the panicking goroutine) when one of the
	// poller's goroutines panics, after the panic is recovered and logged;
	// main uses it to restore the terminal and exit non-zero. That
	// goroutine then stops.
	OnPanic func(p any, stack []byte)
	// History, when set, is shown every snapshot built while this process
	// holds the lease (on the snapshot goroutine), to record outage and
	// source history into the cache.
	History *HistoryRecorder
}

// Poller runs every source on its own schedule (never two polls of one
// source at once), writes each result into the cache in one transaction and
// publishes snapshots built off the UI goroutine through a latest-wins
// channel.
type Poller struct {
	cache *cache.Cache
	jobs  []Job
	opt   PollerOptions
	names map[string]string // configured source name → type

	out   chan *model.Snapshot
	dirty chan struct{}

	baseMu  sync.Mutex
	base    *model.Snapshot // see alertsSnapshot; guarded by baseMu
	baseKey uint64          // the seal of base's rows and statuses
	// oneShot: OneShot was called; PollOnce builds the signals of the
	// rows stored while its requests are in flight.
	oneShot bool
	// decodeAll[i] is set once job i's rows changed between reading
	// their digests and the write (cache.ErrReplyChanged): its reply is
	// fetched again and every alert decoded.
	decodeAll []atomic.Bool
	refresh   []chan struct{}

	// quiet[i] is set while job i's last poll was empty and the cache
	// held nothing of it: an empty reply then needs no uptime read.
	quiet []atomic.Bool
	// fails[i] counts job i's consecutive failed polls; a failure is
	// logged as a warning at the 1st, 2nd, 4th, 8th... of a run, the
	// others at debug level, so a source down for hours does not flood
	// the log while it is retried every interval.
	fails []atomic.Int64
	// healthAt[i] is when job i's HealthReader was last read (unix ns).
	healthAt []atomic.Int64

	mu       sync.Mutex
	leaseOK  bool
	lastSeal uint64
	seenRec  *cache.Recovery // the cache's last Recovery already logged (mu)

	last *model.Snapshot // the last snapshot published by snapshotLoop

	// recorded is the snapshot PollOnce showed the history recorder and
	// recordedSeal its cache state (mu): Snapshot hands it out again
	// while the cache still holds that state, instead of building it twice.
	recorded     *model.Snapshot
	recordedSeal uint64
	// ingested, while PollOnce builds ahead (buildAhead), signals its
	// builder that a poll was ingested without a write (a poll with no
	// change), so the snapshot is built while the rest of the poll (its
	// health) finishes; nil otherwise.
	ingested atomic.Pointer[func()]

	// planOn makes Run publish the snapshot of each write before it
	// commits (ShowPlanned); planned signals one (cache.OnPlanned).
	planOn  atomic.Bool
	planned chan struct{}
	// unstored are the published snapshots built from rows a write had
	// not committed, not yet asked about by Unstored (mu).
	unstored map[*model.Snapshot]bool
	// writeErr[i] is why job i's last poll could not be written into
	// the cache ("cache: …"), "" once one is (mu): shown as the source's
	// error on the screen, never recorded as the source being down.
	writeErr []string
}

// NewPoller prepares a poller; nothing runs until Run or PollOnce.
func NewPoller(c *cache.Cache, jobs []Job, opt PollerOptions) *Poller {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.LeaseTTL <= 0 {
		opt.LeaseTTL = 30 * time.Second
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 5 * time.Minute
	}
	if opt.WatchEvery <= 0 {
		opt.WatchEvery = time.Second
	}
	if opt.Holder == "" {
		opt.Holder = fmt.Sprintf("pid-%d", rand.Int64())
	}
	p := &Poller{
		cache: c, jobs: jobs, opt: opt, quiet: make([]atomic.Bool, len(jobs)),
		fails: make([]atomic.Int64, len(jobs)), healthAt: make([]atomic.Int64, len(jobs)),
		names:    make(map[string]string, len(jobs)),
		out:      make(chan *model.Snapshot, 1),
		dirty:    make(chan struct{}, 1),
		planned:  make(chan struct{}, 1),
		writeErr: make([]string, len(jobs)),
		// A file OpenRecover replaced was reported by whoever opened it;
		// the snapshots still say so (CacheNote).
		seenRec: c.Recovered(),
	}
	for i := range jobs {
		if jobs[i].Interval <= 0 {
			jobs[i].Interval = 15 * time.Second
		}
		if jobs[i].Timeout <= 0 || jobs[i].Timeout > jobs[i].Interval {
			jobs[i].Timeout = jobs[i].Interval
		}
		p.names[jobs[i].Name()] = jobs[i].Type()
		p.refresh = append(p.refresh, make(chan struct{}, 1))
	}
	return p
}

// Snapshots delivers each new snapshot; only the latest is kept when the
// reader is slow. It is closed when Run returns.
func (p *Poller) Snapshots() <-chan *model.Snapshot { return p.out }

// Refresh asks every source to poll now. It never blocks.
func (p *Poller) Refresh() {
	for _, ch := range p.refresh {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// ShowPlanned makes Run publish, before each write of a poll commits, a
// snapshot of what the write will store (cache.LoadPlanned), so the
// screen need not wait for the commit; call it before Run. Such a
// snapshot is for the screen only: Unstored reports it, and nothing may
// act on or record it (the write may fail; then the stored rows are
// published again, with the source's error). The history recorder never
// sees it.
func (p *Poller) ShowPlanned() { p.planOn.Store(true) }

// Unstored reports whether s, received from Snapshots, was built from
// rows of a write that had not committed (see ShowPlanned). It answers
// once per snapshot.
func (p *Poller) Unstored(s *model.Snapshot) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.unstored[s] {
		return false
	}
	delete(p.unstored, s)
	return true
}

// Polling reports whether this process holds the polling lease.
func (p *Poller) Polling() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.leaseOK
}

// Run polls until ctx is cancelled, then waits for every goroutine it
// started and closes the snapshot channel.
func (p *Poller) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if p.planOn.Load() {
		p.cache.OnPlanned(func() {
			select {
			case p.planned <- struct{}{}:
			default:
			}
		})
		defer p.cache.OnPlanned(nil)
	}
	p.renewLease()
	wg.Go(p.cache.Preload) // while the first requests are in flight
	wg.Go(func() { p.guard(func() { p.leaseLoop(ctx) }) })
	for i := range p.jobs {
		wg.Go(func() { p.guard(func() { p.sourceLoop(ctx, i) }) })
	}
	wg.Go(func() { p.guard(func() { p.snapshotLoop(ctx) }) })
	wg.Wait()
	if p.Polling() {
		if err := p.cache.ReleaseLease(p.opt.Holder); err != nil {
			p.opt.Logger.Warn("releasing the polling lease", "err", err)
		}
	}
	close(p.out)
}

// guard runs f, turning a panic into a log entry and an OnPanic call.
func (p *Poller) guard(f func()) {
	defer func() {
		if r := recover(); r != nil {
			stack := debug.Stack()
			p.opt.Logger.Error("panic in the poller", "panic", r, "stack", string(stack))
			if p.opt.OnPanic != nil {
				p.opt.OnPanic(r, stack)
			}
		}
	}()
	f()
}

// OneShot readies the poller for a process that polls once (PollOnce)
// and exits: its sources keep nothing of the replies for a next poll (a
// memo of 10k alerts costs a poll about a third more than decoding them
// and keeping nothing), and the cache keeps the rows the poll finds
// unchanged as they are (cache.PollsOnce), so the signals PollOnce builds
// of the stored rows while its requests are in flight are those of the
// rows after a poll that changed none: not built again once it is in.
// Call it before PollOnce.
func (p *Poller) OneShot() {
	p.oneShot = true
	p.cache.PollsOnce()
	p.decodeAll = make([]atomic.Bool, len(p.jobs))
	for i, job := range p.jobs {
		if s, ok := job.Source.(OneShot); ok {
			s.OneShot()
		}
		// Alerts the cache's rows hold are not decoded again (see
		// ReplyChecker).
		if s, ok := job.Source.(ReplyChecker); ok && job.Tickets == nil {
			name := job.Name()
			s.CheckReplies(func() map[cache.Digest]string {
				if p.decodeAll[i].Load() {
					return nil
				}
				return p.cache.AlertDigests(name)
			})
		}
	}
}

// PollOnce polls every source once, concurrently, and stores the results.
// It returns the sources' errors joined, each prefixed by the source name.
// With a history recorder, and unless another process holds the polling
// lease (its own recorder then sees the same rows), the result is also
// recorded as history — outages opened or closed, sources down, backlog —
// so a `poll --once` run on a timer feeds the handoff report.
func (p *Poller) PollOnce(ctx context.Context) error {
	errs := make([]error, len(p.jobs))
	var wg sync.WaitGroup
	// The mirror loads, and the lease the history is recorded under is
	// taken if free, while the requests are in flight, not before; so
	// are the signals of the stored rows, in a process that polls once.
	wg.Go(func() {
		p.cache.Preload()
		if p.oneShot {
			p.guard(p.signalsAhead)
		}
	})
	if p.opt.History != nil {
		wg.Go(p.renewLease)
	}
	var ahead func() (*model.Snapshot, uint64)
	if p.opt.History != nil {
		ahead = p.buildAhead()
	}
	for i := range p.jobs {
		wg.Go(func() { errs[i] = p.pollOne(ctx, i) })
	}
	wg.Wait()
	if p.opt.History != nil {
		errs = append(errs, p.recordOnce(ahead))
	}
	return errors.Join(errs...)
}

// buildAhead builds, while each write of PollOnce commits, the snapshot
// of what it writes (cache.LoadPlanned), on a goroutine of its own. The
// function it returns stops it and returns the last one built with its
// seal (nil if none): recordOnce shows it to the history recorder only
// if the cache, once written, holds exactly that (the same seal), so the
// recorder never sees rows that were not stored.
func (p *Poller) buildAhead() func() (*model.Snapshot, uint64) {
	planned := make(chan struct{}, 1)
	stop := make(chan struct{})
	var snap *model.Snapshot
	var sl uint64
	done := make(chan struct{})
	signal := func() {
		select {
		case planned <- struct{}{}:
		default:
		}
	}
	p.cache.OnPlanned(signal)
	p.ingested.Store(&signal)
	go p.guard(func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-planned:
			}
			rows, statuses, ok := p.cache.LoadPlanned()
			if !ok {
				// The write committed, or there was none: what Load
				// has is what it stored.
				var err error
				if rows, statuses, err = p.cache.Load(); err != nil {
					continue
				}
			}
			tickets, err := p.cache.Tickets()
			if err != nil {
				continue
			}
			s, configured := p.snapshotOf(rows, statuses, tickets)
			snap, sl = s, seal(rows, configured)^sealTickets(tickets)
		}
	})
	return func() (*model.Snapshot, uint64) {
		p.cache.OnPlanned(nil)
		p.ingested.Store(nil)
		close(stop)
		<-done
		return snap, sl
	}
}

// recordOnce, when PollOnce took the lease, shows the cache's snapshot
// to the history recorder and gives the lease back: the one built ahead
// (buildAhead) if the cache holds what it was built of.
func (p *Poller) recordOnce(ahead func() (*model.Snapshot, uint64)) error {
	pre, preSeal := ahead()
	if !p.Polling() {
		return nil
	}
	defer func() {
		if err := p.cache.ReleaseLease(p.opt.Holder); err != nil {
			p.opt.Logger.Warn("releasing the polling lease", "err", err)
		}
		p.mu.Lock()
		p.leaseOK = false
		p.mu.Unlock()
	}()
	snap, sl, err := p.stored(pre, preSeal)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	p.record(snap, false)
	p.mu.Lock()
	p.recorded, p.recordedSeal = snap, sl
	p.mu.Unlock()
	return nil
}

// Snapshot builds a snapshot from the cache now (after PollOnce, the one
// it showed the history recorder when the cache has not changed since).
func (p *Poller) Snapshot() (*model.Snapshot, error) {
	p.mu.Lock()
	prev, prevSeal := p.recorded, p.recordedSeal
	p.recorded = nil
	p.mu.Unlock()
	snap, _, err := p.stored(prev, prevSeal)
	return snap, err
}

// stored returns the snapshot of what the cache holds now with its seal:
// prev if it was built of exactly that (its seal is prevSeal), else a
// new one.
func (p *Poller) stored(prev *model.Snapshot, prevSeal uint64) (*model.Snapshot, uint64, error) {
	if prev == nil {
		return p.build()
	}
	rows, statuses, err := p.cache.Load()
	if err != nil {
		return nil, 0, err
	}
	tickets, err := p.cache.Tickets()
	if err != nil {
		return nil, 0, err
	}
	configured, _ := p.configuredOf(statuses)
	sl := seal(rows, configured) ^ sealTickets(tickets)
	if sl == prevSeal {
		return prev, sl, nil
	}
	snap, _ := p.snapshotOf(rows, statuses, tickets)
	return snap, sl, nil
}

func (p *Poller) leaseLoop(ctx context.Context) {
	t := time.NewTicker(p.opt.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.renewLease()
		}
	}
}

func (p *Poller) renewLease() {
	ok, err := p.cache.TryLease(p.opt.Holder, p.opt.LeaseTTL, p.opt.Now())
	if err != nil {
		p.opt.Logger.Warn("polling lease", "err", err)
	}
	if !ok && err == nil {
		// A poller on this host that died (kill -9, a crash) cannot
		// release its lease: take it over now instead of waiting it out.
		if holder, _, herr := p.cache.LeaseHolder(); herr == nil && holder != "" && HolderGone(holder) {
			if ok, err = p.cache.TakeLeaseFrom(p.opt.Holder, holder, p.opt.LeaseTTL, p.opt.Now()); err == nil && ok {
				p.opt.Logger.Info("took over the polling lease of a process that is gone", "from", holder)
			}
		}
	}
	p.mu.Lock()
	changed := ok != p.leaseOK
	p.leaseOK = ok
	p.mu.Unlock()
	if changed {
		p.opt.Logger.Info("polling lease", "held", ok, "holder", p.opt.Holder)
		if ok {
			p.Refresh()
		}
	}
}

func (p *Poller) sourceLoop(ctx context.Context, i int) {
	job := p.jobs[i]
	failures := 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-p.refresh[i]:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		}
		delay := job.Interval
		if p.Polling() {
			if err := p.pollOne(ctx, i); err != nil {
				if ctx.Err() != nil {
					return
				}
				failures++
				delay = RetryDelay(job.Interval, failures, err, p.opt.MaxBackoff)
			} else {
				failures = 0
			}
			p.markDirty()
		}
		timer.Reset(jitter(delay))
	}
}

// pollOne fetches one source and records the result in the cache. The
// poll as a whole may take up to the interval; each of its requests up to
// the timeout (the whole poll, for a source not RequestBounded).
func (p *Poller) pollOne(ctx context.Context, i int) error {
	job := p.jobs[i]
	name := job.Name()
	bound := job.Interval
	if _, ok := job.Source.(RequestBounded); !ok && job.Tickets == nil {
		bound = job.Timeout
	}
	fctx, cancel := context.WithTimeout(ctx, bound)
	fctx = WithRequestTimeout(fctx, job.Timeout)
	start := time.Now()
	// The silences are read beside the alerts, and so is the health, not
	// after them: once the alerts reply has begun to arrive when the
	// source can say so (replyNotifier), at once otherwise. An
	// Alertmanager's /metrics walks every alert, and asked at once it
	// slows the alerts reply it competes with by more than it saves.
	gate := make(chan struct{})
	open := sync.OnceFunc(func() { close(gate) })
	if _, ok := job.Source.(replyNotifier); !ok || job.Tickets != nil {
		open()
	}
	health, healthRead := p.startHealth(ctx, i, gate)
	var alerts []model.Alert
	var tickets []model.Ticket
	var sils []model.Silence
	var err, silErr error
	if job.Tickets != nil {
		tickets, err = job.Tickets.Fetch(fctx)
	} else {
		var wg sync.WaitGroup
		if job.Silences != nil {
			wg.Go(func() { sils, silErr = job.Silences.Silences(fctx, name) })
		}
		alerts, err = job.Source.Fetch(withReplyStarted(fctx, open))
		if err != nil {
			cancel() // neither silences nor health are stored without the alerts
		} else {
			open()
		}
		wg.Wait()
	}
	cancel()
	meta := cache.PollMeta{At: p.opt.Now(), Latency: time.Since(start), Type: job.Type()}
	if err != nil {
		health(false)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		level := slog.LevelDebug
		if n := p.fails[i].Add(1); n&(n-1) == 0 {
			level = slog.LevelWarn
		}
		p.opt.Logger.Log(ctx, level, "poll failed", "source", name, "err", err, "latency", meta.Latency)
		if rerr := p.cache.RecordFailure(name, err, meta); rerr != nil {
			p.opt.Logger.Error("recording a failed poll", "source", name, "err", rerr)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	if p.fails[i].Swap(0) > 0 {
		p.opt.Logger.Info("poll succeeded again", "source", name, "latency", meta.Latency)
	}
	if job.Tickets != nil {
		res, err := p.cache.IngestTickets(name, tickets, meta)
		p.setWriteErr(i, err)
		if err != nil {
			p.opt.Logger.Error("writing a poll to the cache", "source", name, "err", err)
			return fmt.Errorf("%s: cache: %w", name, err)
		}
		p.opt.Logger.Debug("polled", "source", name, "tickets", len(tickets), "latency", meta.Latency,
			"inserted", res.Inserted, "updated", res.Updated, "closed", res.Closed)
		return nil
	}
	if job.Silences != nil {
		p.storeSilences(name, sils, silErr, meta.At)
	}
	if rc, ok := job.Source.(ReplyChecker); ok && p.oneShot {
		meta.Digests, meta.Kept, meta.KeptDigests = rc.ReplyDigests()
	}
	empty := len(alerts) == 0 && len(meta.Kept) == 0
	if empty && !p.quiet[i].Load() {
		// Empty: believed unless the upstream restarted since it last
		// had alerts (see cache.Ingest), so ask how long it has run.
		if u, ok := job.Source.(Uptimer); ok {
			uctx, ucancel := context.WithTimeout(ctx, job.Timeout)
			uctx = WithRequestTimeout(uctx, job.Timeout)
			up, uerr := u.Uptime(uctx)
			ucancel()
			switch {
			case uerr == nil:
				meta.Uptime, meta.UptimeKnown = up, true
			case !errors.Is(uerr, ErrNoUptime):
				p.opt.Logger.Warn("reading the upstream's uptime", "source", name, "err", uerr)
			}
		}
	}
	meta.HealthRead = healthRead()
	res, err := p.cache.Ingest(name, alerts, meta)
	if errors.Is(err, cache.ErrReplyChanged) && !p.decodeAll[i].Swap(true) {
		// Another process wrote the rows since their digests were
		// read: the reply is fetched again, every alert decoded.
		health(false)
		return p.pollOne(ctx, i)
	}
	p.setWriteErr(i, err)
	if err != nil {
		health(false)
		p.opt.Logger.Error("writing a poll to the cache", "source", name, "err", err)
		return fmt.Errorf("%s: cache: %w", name, err)
	}
	if f := p.ingested.Load(); f != nil && !res.Wrote {
		(*f)()
	}
	p.quiet[i].Store(empty && !res.Held && res.Missed == 0)
	p.opt.Logger.Debug("polled", "source", name, "alerts", len(alerts), "latency", meta.Latency,
		"inserted", res.Inserted, "updated", res.Updated, "resolved", res.Resolved)
	health(true)
	return nil
}

// startHealth starts reading job i's pipeline health, beside its poll,
// when it is a HealthReader and HealthEvery has passed since the last read;
// the read begins once gate is closed. The poller's first read is due
// unless the cache says another poller of it (an earlier process: say,
// the last `poll --once` of a timer) began one less than HealthEvery ago.
// The poll calls health once:
// with true after the poll is stored, to wait for the read and store the
// findings (a failed read is stored as a note); with false after the poll
// failed, to drop the read, so the next poll reads the health again.
// Before storing a successful poll it calls readAt, which waits for the
// read to begin and returns when it began (zero when none is made), to
// store with the source's status.
func (p *Poller) startHealth(ctx context.Context, i int, gate <-chan struct{}) (health func(store bool), readAt func() time.Time) {
	job := p.jobs[i]
	none, noRead := func(bool) {}, func() time.Time { return time.Time{} }
	h, ok := job.Source.(HealthReader)
	if !ok {
		return none, noRead
	}
	now := p.opt.Now()
	last := p.healthAt[i].Load()
	if last != 0 && now.Sub(time.Unix(0, last)) < HealthEvery {
		return none, noRead
	}
	p.healthAt[i].Store(now.UnixNano())
	// decided is closed once the read begins, or is found not due after
	// all, or the poll failed first.
	decided := make(chan struct{})
	decide := sync.OnceFunc(func() { close(decided) })
	var notDue bool
	// As a poll: each request bounded by the timeout, the read by the
	// interval.
	hctx, cancel := context.WithTimeout(ctx, job.Interval)
	hctx = WithRequestTimeout(hctx, job.Timeout)
	var findings []model.Finding
	var err error
	done := make(chan struct{})
	go p.guard(func() {
		defer close(done)
		defer decide()
		select {
		case <-gate: // open at once, or once the alerts reply began
		default:
			select {
			case <-gate:
			case <-hctx.Done(): // the poll failed before its reply began
				err = hctx.Err()
				return
			}
		}
		if last == 0 {
			if at := p.storedHealthRead(job.Name()); !at.After(now) && now.Sub(at) < HealthEvery {
				notDue = true
				p.healthAt[i].CompareAndSwap(now.UnixNano(), at.UnixNano())
				return
			}
		}
		decide()
		findings, err = h.Health(hctx)
	})
	health = func(store bool) {
		if !store {
			cancel()
			<-done
			p.healthAt[i].CompareAndSwap(now.UnixNano(), last)
			return
		}
		<-done
		cancel()
		if !notDue {
			p.storeHealth(ctx, job, findings, err, now)
		}
	}
	readAt = func() time.Time {
		<-decided
		if notDue {
			return time.Time{}
		}
		return now
	}
	return health, readAt
}

// storedHealthRead is when the cache says the health of the source called
// name was last read (zero if never, or if the cache cannot say).
func (p *Poller) storedHealthRead(name string) time.Time {
	_, statuses, err := p.cache.Load()
	if err != nil {
		return time.Time{}
	}
	for _, st := range statuses {
		if st.Name == name {
			return st.HealthRead
		}
	}
	return time.Time{}
}

// storeHealth stores the findings of a health read, or the note of a
// failed one.
func (p *Poller) storeHealth(ctx context.Context, job Job, findings []model.Finding, err error, now time.Time) {
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		p.opt.Logger.Debug("reading the pipeline's health", "source", job.Name(), "err", err)
		findings = append(findings, model.Finding{Kind: model.FindingNote, Subject: "health not read", Text: err.Error()})
	}
	stored, wrote, err := p.cache.StoreFindings(job.Name(), findings, now)
	if err != nil {
		p.opt.Logger.Error("storing the pipeline's health", "source", job.Name(), "err", err)
		return
	}
	if wrote {
		for _, f := range stored {
			if f.Severe {
				p.opt.Logger.Warn("alerting pipeline", "source", job.Name(), "kind", f.Kind, "subject", f.Subject, "text", f.Text)
			}
		}
	}
}

// storeSilences records the silences read with a source's alerts before
// the alerts are written, so the snapshot that shows an alert silenced
// comes after its silence is known. A failed read keeps what was recorded.
func (p *Poller) storeSilences(name string, sils []model.Silence, err error, at time.Time) {
	if err != nil {
		p.opt.Logger.Warn("reading silences", "source", name, "err", err)
		return
	}
	ended, err := p.cache.StoreSilences(name, sils, at)
	if err != nil {
		p.opt.Logger.Error("storing silences", "source", name, "err", err)
		return
	}
	for _, a := range ended {
		p.opt.Logger.Info("ack ended upstream", "source", name, "service", a.Service, "by", a.By, "why", a.Ended)
	}
}

func (p *Poller) markDirty() {
	select {
	case p.dirty <- struct{}{}:
	default:
	}
}

// snapshotLoop rebuilds the snapshot after each poll and, to follow writes
// by other processes sharing the cache, every WatchEvery; it publishes only
// when the content changed. With ShowPlanned it also publishes the
// snapshot of a write in progress, builds none of what is stored until
// that write is over, and then publishes the stored one whatever its
// content, so a write that failed is taken back.
func (p *Poller) snapshotLoop(ctx context.Context) {
	t := time.NewTicker(p.opt.WatchEvery)
	defer t.Stop()
	first, recording := true, false
	failing := ""   // why the last build failed
	writeErrs := "" // the write errors the last published snapshot shows
	for {
		if !p.planOn.Load() || !p.writing() {
			snap, seal, err := p.build()
			if err != nil {
				if msg := err.Error(); msg != failing {
					// Logged and shown once per reason, not every WatchEvery.
					p.opt.Logger.Error("building a snapshot", "err", err)
					failing = msg
					p.publish(p.failed(msg))
				}
			} else if shown, errs := p.withWriteErrors(snap); first || seal != p.lastSeal || failing != "" || errs != writeErrs {
				first, failing, writeErrs = false, "", errs
				p.keepRecordedStarts(shown)
				p.lastSeal, p.last = seal, shown
				p.publish(shown)
			}
			if err == nil {
				recording = p.record(snap, recording)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-p.dirty:
		case <-t.C:
		case <-p.planned:
			if p.publishPlanned() {
				// The stored snapshot that follows is published,
				// changed or not: it replaces this one.
				first = true
			}
		}
	}
}

// writing reports whether a write of the cache is in progress, its rows
// planned (cache.LoadPlanned).
func (p *Poller) writing() bool {
	_, _, ok := p.cache.LoadPlanned()
	return ok
}

// publishPlanned publishes the snapshot of the write in progress, if one
// still is, for the screen only (Unstored), and reports whether it did.
// Snapshot goroutine only.
func (p *Poller) publishPlanned() bool {
	rows, statuses, ok := p.cache.LoadPlanned()
	if !ok {
		return false // committed or failed already: the stored one follows
	}
	tickets, err := p.cache.Tickets()
	if err != nil {
		return false
	}
	snap, _ := p.snapshotOf(rows, statuses, tickets)
	snap, _ = p.withWriteErrors(snap)
	p.mu.Lock()
	if p.unstored == nil {
		p.unstored = map[*model.Snapshot]bool{}
	}
	p.unstored[snap] = true
	p.mu.Unlock()
	p.publish(snap)
	return true
}

// setWriteErr records whether job i's poll was written into the cache.
func (p *Poller) setWriteErr(i int, err error) {
	msg := ""
	if err != nil {
		msg = "cache: " + err.Error()
	}
	p.mu.Lock()
	changed := p.writeErr[i] != msg
	p.writeErr[i] = msg
	p.mu.Unlock()
	if changed {
		p.markDirty()
	}
}

// withWriteErrors returns snap with the error of each source whose last
// poll could not be written into the cache as that source's error (a
// copy; snap itself is what the history recorder sees: the source is not
// down), and those errors as one string.
func (p *Poller) withWriteErrors(snap *model.Snapshot) (*model.Snapshot, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var all strings.Builder
	var shown *model.Snapshot
	for i, msg := range p.writeErr {
		if msg == "" {
			continue
		}
		name := p.jobs[i].Name()
		fmt.Fprintf(&all, "%s\x00%s\x00", name, msg)
		if shown == nil {
			c := *snap
			c.Sources = slices.Clone(snap.Sources)
			shown = &c
		}
		for j := range shown.Sources {
			if st := &shown.Sources[j]; st.Name == name {
				st.LastError = msg
			}
		}
	}
	if shown == nil {
		return snap, ""
	}
	return shown, all.String()
}

// record shows the snapshot to the history recorder while this process
// holds the lease; it reports whether it did. A recorder that was not
// recording reloads what is open from the cache first.
func (p *Poller) record(snap *model.Snapshot, recording bool) bool {
	if p.opt.History == nil || !p.Polling() {
		return false
	}
	if !recording {
		p.opt.History.Reset()
	}
	p.opt.History.Observe(snap)
	return true
}

// failed is what is published when no snapshot could be built: the last
// one that was, with why (model.Snapshot.CacheError), or, before the
// first, a snapshot holding only why. Snapshot goroutine only.
func (p *Poller) failed(why string) *model.Snapshot {
	if p.last == nil {
		return &model.Snapshot{CacheError: why}
	}
	s := *p.last
	s.CacheError = why
	return &s
}

func (p *Poller) publish(s *model.Snapshot) {
	for {
		select {
		case p.out <- s:
			return
		default:
		}
		select { // drop the unread older snapshot: latest wins
		case old := <-p.out:
			p.Unstored(old)
		default:
		}
	}
}

// Preview builds a snapshot from the limit most severe open rows of the
// cache (cache.Preview), without waiting for the cache to load every open
// row: for the screen only, while the first complete snapshot is built.
// Its Loading field is the number of open rows when it holds fewer; when
// it holds them all it is a complete snapshot. It is never published on
// Snapshots nor shown to the history recorder. Safe to call beside Run.
func (p *Poller) Preview(limit int) (*model.Snapshot, error) {
	pv, err := p.cache.Preview(limit)
	if err != nil {
		return nil, err
	}
	snap, _ := p.snapshotOf(pv.Rows, pv.Statuses, pv.Tickets)
	if len(pv.Rows) < pv.Open {
		snap.Loading = pv.Open
	}
	return snap, nil
}

func (p *Poller) build() (*model.Snapshot, uint64, error) {
	rows, statuses, err := p.cache.Load()
	if err != nil {
		return nil, 0, err
	}
	tickets, err := p.cache.Tickets()
	if err != nil {
		return nil, 0, err
	}
	snap, configured := p.snapshotOf(rows, statuses, tickets)
	return snap, seal(rows, configured) ^ sealTickets(tickets), nil
}

// snapshotOf builds the snapshot of the configured sources from rows,
// statuses and tickets read from the cache; it returns the statuses of
// the configured sources too.
func (p *Poller) snapshotOf(rows []*model.AlertRow, statuses []model.SourceStatus, tickets []*model.Ticket) (*model.Snapshot, []model.SourceStatus) {
	configured, ticketSources := p.configuredOf(statuses)
	snap := p.alertsSnapshot(rows, configured).Reissue(p.opt.Now(), configured)
	model.AttachTickets(snap, tickets, ticketSources, p.opt.Catalog)
	p.noteRecovery(snap)
	return snap, configured
}

// signalsAhead builds the signals of the rows stored before PollOnce's
// poll (alertsSnapshot), for a process that polls once: its cache keeps
// the rows a poll finds unchanged, so after a poll that changed none the
// snapshot is these signals reissued, not built again.
func (p *Poller) signalsAhead() {
	rows, statuses, err := p.cache.Load()
	if err != nil {
		return // for the poll to meet and report
	}
	configured, _ := p.configuredOf(statuses)
	p.alertsSnapshot(rows, configured)
}

// alertsSnapshot returns the snapshot of rows and configured statuses
// without tickets: the last one built when the rows and what the signals
// read of the statuses have not changed since (rows are replaced, never
// modified, so their addresses tell), else a new one. The snapshot loop
// asks every WatchEvery, and a source that is down is attempted again
// and again; on a quiet cache of 100k alerts, building the signals each
// time cost 20 MB of garbage and a tenth of a core. Callers reissue it
// (Snapshot.Reissue) with the statuses of the moment: it is never
// modified.
func (p *Poller) alertsSnapshot(rows []*model.AlertRow, configured []model.SourceStatus) *model.Snapshot {
	key := signalsSeal(rows, configured)
	p.baseMu.Lock()
	defer p.baseMu.Unlock()
	if p.base == nil || p.baseKey != key {
		p.base = model.BuildSnapshot(rows, configured, model.SnapshotOptions{
			Now: p.opt.Now(), OutageThreshold: p.opt.OutageThreshold, Catalog: p.opt.Catalog,
			PipelineOutages: p.opt.PipelineOutages,
		})
		p.baseKey = key
	}
	return p.base
}

// configuredOf returns the statuses of the configured sources, in the
// config's order, from the cache's statuses, and the names of the ticket
// sources.
func (p *Poller) configuredOf(statuses []model.SourceStatus) ([]model.SourceStatus, []string) {
	byName := make(map[string]model.SourceStatus, len(statuses))
	for _, st := range statuses {
		byName[st.Name] = st
	}
	configured := make([]model.SourceStatus, 0, len(p.jobs))
	var ticketSources []string
	for i := range p.jobs {
		j := &p.jobs[i]
		st, ok := byName[j.Name()]
		if !ok {
			st = model.SourceStatus{Name: j.Name()}
		}
		st.Type = j.Type()
		configured = append(configured, st)
		if j.Tickets != nil {
			ticketSources = append(ticketSources, j.Name())
		}
	}
	return configured, ticketSources
}

// keepRecordedStarts makes each outage of snap, which is about to be
// published, begin no later than its open record in the history (which a
// restarted Prometheus resetting activeAt cannot make younger), so the
// screen and the report tell one age. It reads the history only for a
// snapshot that is published and has outages.
func (p *Poller) keepRecordedStarts(snap *model.Snapshot) {
	if p.opt.History == nil || len(snap.Outages) == 0 {
		return
	}
	recs, err := p.cache.OpenOutageRecords()
	if err != nil {
		p.opt.Logger.Debug("reading open outages", "err", err)
		return
	}
	began := make(map[string]time.Time, len(recs))
	for _, r := range recs {
		began[r.Service] = r.Opened
	}
	model.KeepStarts(snap, began)
}

// noteRecovery tells the operator, in snap and once in the log, that the
// cache file was found corrupt and replaced (cache.Recovered): at Open,
// or since, when loading or writing the open rows found it so. Polling
// goes on into the fresh file.
func (p *Poller) noteRecovery(snap *model.Snapshot) {
	rec := p.cache.Recovered()
	if rec == nil {
		return
	}
	snap.CacheNote = rec.Note()
	p.mu.Lock()
	fresh := rec != p.seenRec
	p.seenRec = rec
	p.mu.Unlock()
	if fresh {
		p.opt.Logger.Warn("cache moved aside", "warning", rec.String())
	}
}

// sealTickets fingerprints the open tickets: like rows, tickets are
// replaced on change, so their addresses identify their content.
func sealTickets(ts []*model.Ticket) uint64 {
	h := fnv.New64a()
	var b [8]byte
	put := func(v uint64) {
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
		h.Write(b[:])
	}
	put(uint64(len(ts)) | 1<<63)
	for _, t := range ts {
		put(uint64(uintptr(unsafe.Pointer(t))))
	}
	return h.Sum64()
}

// seal fingerprints a cache state cheaply: rows are immutable and replaced
// on change, so their addresses identify their content. It covers the set
// of rows, not their order (a snapshot does not depend on it, and a poll
// that keeps its rows, Cache.PollsOnce, lists them in the reply's order),
// and all that BuildSnapshot reads of the statuses (see alertsSnapshot).
func seal(rows []*model.AlertRow, statuses []model.SourceStatus) uint64 {
	h := fnv.New64a()
	var b [8]byte
	put := func(v uint64) {
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
		h.Write(b[:])
	}
	var set uint64 // the sum of the rows' mixed addresses
	for _, r := range rows {
		set += mixAddress(uint64(uintptr(unsafe.Pointer(r))))
	}
	put(uint64(len(rows)))
	put(set)
	for _, st := range statuses {
		fmt.Fprintf(h, "%s|%s|%d|%d|%s|%d|%s|%d\x00", st.Name, st.Type, st.LastAttempt.UnixNano(), st.LastSuccess.UnixNano(),
			st.LastError, st.Items, st.Note, st.Latency)
		for _, f := range st.Findings {
			fmt.Fprintf(h, "%s|%s|%s|%d|%t|%v\x00", f.Kind, f.Subject, f.Text, f.Since.UnixNano(), f.Severe, f.Labels)
		}
	}
	return h.Sum64()
}

// mixAddress scatters the bits of a row's address (splitmix64's
// finalizer), so that a sum of them tells sets apart.
func mixAddress(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// signalsSeal is seal without what signals do not depend on: when a
// source was last attempted, how long that took, how many items it had,
// and, but for a source reporting findings (its failing rules are
// signals seen at its last success), when it last succeeded.
func signalsSeal(rows []*model.AlertRow, statuses []model.SourceStatus) uint64 {
	trimmed := make([]model.SourceStatus, len(statuses))
	for i, st := range statuses {
		st.LastAttempt, st.Latency, st.Items = time.Time{}, 0, 0
		if len(st.Findings) == 0 {
			st.LastSuccess = time.Time{}
		}
		trimmed[i] = st
	}
	return seal(rows, trimmed)
}

// RetryDelay is the delay before the next poll after n consecutive
// failed polls, the last failing with err. A source that is down is
// retried every interval, so its recovery shows within one interval; a
// throttled one (err starts with model.ThrottledPrefix: the upstream
// asked to slow down) backs off, its interval doubled per failure up to
// max (Backoff).
func RetryDelay(interval time.Duration, n int, err error, max time.Duration) time.Duration {
	if err == nil || n <= 0 || !throttled(err) {
		return interval
	}
	if d := Backoff(interval, n, max); d > interval {
		return d
	}
	return interval
}

// throttled reports whether err, or the error it wraps to, says the
// upstream rate-limited the poll.
func throttled(err error) bool {
	var fe *FetchError
	if errors.As(err, &fe) && fe.Kind == KindThrottled {
		return true
	}
	_, msg, _ := strings.Cut(err.Error(), ": ") // "<source>: throttled: ..."
	return strings.HasPrefix(err.Error(), model.ThrottledPrefix) || strings.HasPrefix(msg, model.ThrottledPrefix)
}

// Backoff is the delay before the next poll after n consecutive failures:
// the interval doubled per failure, capped at max.
func Backoff(interval time.Duration, n int, max time.Duration) time.Duration {
	d := interval
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// HolderGone reports whether a lease holder named "host:pid" (as main
// names it) is a process on this host that no longer exists. Holders on
// other hosts, or whose process may exist (even as another user's), are
// not gone: their lease is left to expire.
func HolderGone(holder string) bool {
	host, pidText, ok := strings.Cut(holder, ":")
	if !ok {
		return false
	}
	me, err := os.Hostname()
	if err != nil || host != me {
		return false
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// jitter spreads polls by ±10% so sources sharing an interval do not align.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}
