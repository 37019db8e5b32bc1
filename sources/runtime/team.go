package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/model/teamstore"
)

// Team sync timing: how often this console's own changes are looked for
// (pushed at once when there are), how often the store is read when no
// notification came (the catch-up that bounds a missed one), and the
// back-off between attempts to reach a store that is down.
const (
	TeamPushEvery  = 200 * time.Millisecond
	TeamCatchUp    = 5 * time.Second
	teamRetryFirst = time.Second
	teamRetryMax   = 10 * time.Second
	teamBatch      = 200 // actions per push
	// TeamLeaseTTL is how long the team lease lasts unless renewed; it is
	// renewed every TeamLeaseTTL/4, so a console that dies leaves it to
	// another within TeamLeaseTTL.
	TeamLeaseTTL = 12 * time.Second
	// teamClaimBatch is how many of the team's deliveries the lease
	// holder claims at a time.
	teamClaimBatch = 10
	// teamFinishWithin bounds recording an attempt's outcome in the store.
	teamFinishWithin = 5 * time.Second
	// teamGateWithin bounds asking the store before an action (Gate):
	// past it, the console's own policy decides.
	teamGateWithin = 2 * time.Second
)

// teamConsoles counts the team syncs this process opened (teamHolder).
var teamConsoles atomic.Int64

// teamHolder names a console of this process in the team lease:
// host:pid, and a second console of one process (tests run several) is
// another console, with a name of its own.
func teamHolder(host string) string {
	holder := fmt.Sprintf("%s:%d", host, os.Getpid())
	if n := teamConsoles.Add(1); n > 1 {
		holder += fmt.Sprintf("/%d", n)
	}
	return holder
}

// teamStore is what the sync needs of the team store (teamstore.Store).
type teamStore interface {
	Sync(ctx context.Context, actions ...model.TeamAction) (int, error)
	TeamChanges(ctx context.Context, cursor int64) (model.TeamChanges, error)
	Listen(ctx context.Context, fn func(table string)) error
	TryLease(ctx context.Context, holder string, ttl time.Duration) (bool, error)
	Release(ctx context.Context, holder string) error
	ClaimDeliveries(ctx context.Context, holder string, limit int, hold time.Duration) ([]model.Delivery, error)
	FinishDelivery(ctx context.Context, d model.Delivery) error
	Identity(ctx context.Context) (teamstore.Identity, error)
	May(ctx context.Context, verb model.Verb, level int) (string, error)
	Close() error
}

// TeamSync keeps this console's cache and the team store in step (team
// mode): this console's actions, and what became of them, go up as soon as
// they are recorded (every TeamPushEvery at most); every other console's
// come down when the store announces a change (LISTEN/NOTIFY) and at least
// every TeamCatchUp. Both ways are idempotent (model.TeamAction): an
// action pushed twice or merged twice is one. While the store cannot be
// reached the console works on its cache alone, its changes wait in it
// (model.TeamState.Unsynced), and they go up when the store is back:
// nothing is lost, nothing is recorded twice.
//
// One console of the team holds the team lease (in the store, by the
// server's clock): Leader reports whether this one does. A console hands
// its pending deliveries to the team as it pushes their actions
// (cache.TeamHandOver); the lease holder delivers the team's outbox from
// the store (DeliverWith), each delivery once whatever the number of
// consoles, and another console takes it over within TeamLeaseTTL when
// the holder dies.
type TeamSync struct {
	cache   *cache.Cache
	history *TeamHistory // this host's history mirrored into the store
	open    func(context.Context) (teamStore, error)
	holder  string // this console in the team lease: host:pid
	log     *slog.Logger
	changed func() // the cache changed under the board: read it again

	// deliver makes one attempt at a delivery of the team's outbox
	// (DeliverWith), each bounded by attempt; nil: this console does not
	// deliver the team's outbox.
	deliver func(context.Context, model.Delivery) model.Delivery
	attempt time.Duration

	// Who acts (Identify): the store's name for the identity kept in the
	// cache, this host, the OS user with the config's role, and what is
	// told of the operator to act as.
	key    string
	host   string
	osOp   model.Operator
	apply  func(op model.Operator, vouched bool)
	warned bool // "identities not enforced" logged

	mu     sync.Mutex
	state  model.TeamState
	leader bool
	cur    teamStore       // the store while a session runs (Gate)
	selves map[string]bool // the users this console acted as this run
}

// NewTeamSync is the sync of c with the team store opt names, as holder
// (this console in the team lease). changed is called after others'
// actions were merged into c (may be nil).
func NewTeamSync(c *cache.Cache, opt teamstore.Options, holder string, log *slog.Logger, changed func()) *TeamSync {
	t := newTeamSync(c, holder, func(ctx context.Context) (teamStore, error) {
		s, err := teamstore.Open(ctx, opt)
		if err != nil {
			return nil, err
		}
		return s, nil
	}, log, changed)
	t.key, t.host = opt.URL, opt.Host
	return t
}

func newTeamSync(c *cache.Cache, holder string, open func(context.Context) (teamStore, error), log *slog.Logger, changed func()) *TeamSync {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if changed == nil {
		changed = func() {}
	}
	return &TeamSync{cache: c, history: NewTeamHistory(c, log), holder: holder, open: open, log: log, changed: changed,
		state: model.TeamState{Configured: true}, selves: map[string]bool{}}
}

// Leader reports whether this console holds the team lease: it alone
// delivers the team's outbox (DeliverWith) and clears the acks of
// resolved outages. (The history is every host's: each mirrors its own
// view, TeamHistory.) A console cut off from the
// store never does. Safe for concurrent use.
func (t *TeamSync) Leader() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.leader
}

func (t *TeamSync) setLeader(on bool) {
	t.mu.Lock()
	was := t.leader
	t.leader = on
	t.mu.Unlock()
	if on != was {
		t.log.Info("team lease", "held", on, "holder", t.holder)
	}
}

// State is the team store as this console last found it. Safe for
// concurrent use.
func (t *TeamSync) State() model.TeamState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state
}

// OnChange sets what is called after others' actions were merged into the
// cache; call it before Run.
func (t *TeamSync) OnChange(fn func()) { t.changed = fn }

// DeliverWith has this console deliver the team's outbox while it holds
// the team lease, one attempt at a time through fn (the dispatcher's
// DeliverOne: the same calls as for its own outbox), each bounded by
// attempt; call it before Run. The holder claims what is due in the store
// (FOR UPDATE SKIP LOCKED) for ClaimHold(attempt), when the store
// announces a change and every TeamPushEvery, and records each outcome
// there (delivered, failed for good, or pending again at its back-off
// time); every console merges it with the action. A claim whose holder
// died is taken up by the next holder once its hold has passed.
func (t *TeamSync) DeliverWith(fn func(context.Context, model.Delivery) model.Delivery, attempt time.Duration) {
	t.deliver, t.attempt = fn, attempt
}

// ClaimHold is how long the lease holder holds a delivery of the team's
// outbox it claimed, for attempts bounded by attempt: twice that (20 s
// for the dispatcher's 10 s), and an attempt is started only while it
// can end a tenth of the hold (2 s) before the hold does, so no other
// console claims a delivery while an attempt at it may still be under
// way.
func ClaimHold(attempt time.Duration) time.Duration { return 2 * max(attempt, time.Second) }

// Run keeps the cache and the store in step until ctx ends: it connects
// (again and again, with back-off, while the store is down), then pushes
// and pulls until the store fails it.
func (t *TeamSync) Run(ctx context.Context) {
	wait := teamRetryFirst
	for ctx.Err() == nil {
		s, err := t.open(ctx)
		if err == nil {
			err = t.session(ctx, s)
			s.Close()
			wait = teamRetryFirst
		}
		if ctx.Err() != nil {
			return
		}
		t.down(err)
		if !t.waitDown(ctx, wait) {
			return
		}
		wait = min(2*wait, teamRetryMax)
	}
}

// waitDown waits d before the next attempt to reach the store, counting
// the changes that wait for it every second meanwhile (an action taken
// while the store is down shows at once in the chip's "1 to sync"). It
// reports false when ctx ended.
func (t *TeamSync) waitDown(ctx context.Context, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return true
		case <-tick.C:
			if n, err := t.cache.TeamUnsynced(); err == nil {
				t.mu.Lock()
				t.state.Unsynced = n
				t.mu.Unlock()
			}
		}
	}
}

// session exchanges with one connected store until it fails.
func (t *TeamSync) session(ctx context.Context, s teamStore) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := t.identify(ctx, s); err != nil {
		return err
	}
	t.mu.Lock()
	t.cur = s
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.cur = nil
		t.mu.Unlock()
	}()
	heard, claim := make(chan struct{}, 1), make(chan struct{}, 1)
	go func() {
		// Listen reconnects by itself and says so with fn(""): then a
		// catch-up read is due, as after any notification.
		err := s.Listen(ctx, func(string) {
			for _, ch := range []chan struct{}{heard, claim} {
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		})
		if err != nil && ctx.Err() == nil {
			t.log.Warn("team store: listening", "err", err)
		}
	}()
	push := time.NewTicker(TeamPushEvery)
	defer push.Stop()
	catchUp := time.NewTicker(TeamCatchUp)
	defer catchUp.Stop()
	lease := time.NewTicker(TeamLeaseTTL / 4)
	defer lease.Stop()
	defer func() {
		if t.Leader() {
			t.setLeader(false)
			// Handed on at once rather than when it lapses; the
			// session's ctx may be over, so a short one of its own.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			_ = s.Release(rctx, t.holder)
		}
	}()
	if t.deliver != nil {
		// Stopped before the lease is released (deferred later, run
		// first): the next holder finds no attempt of this one going.
		dctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { t.deliverLoop(dctx, s, claim) })
		defer func() { stop(); wg.Wait() }()
	}
	pull, renew := true, true // a first read and lease at once
	for {
		if renew && !t.mayLead() {
			// A console whose operator may not act (a viewer) cannot
			// record the outcomes of the team's deliveries nor clear
			// acks: it leaves the lease to one that can.
			renew = false
		}
		if renew {
			held, err := s.TryLease(ctx, t.holder, TeamLeaseTTL)
			if err != nil {
				t.setLeader(false)
				return err
			}
			t.setLeader(held)
			renew = false
		}
		if err := t.push(ctx, s); err != nil {
			return err
		}
		if err := t.history.Connected(ctx, s); err != nil {
			return err
		}
		if pull {
			if err := t.pull(ctx, s); err != nil {
				return err
			}
			pull = false
		}
		t.ok()
		select {
		case <-ctx.Done():
			return nil
		case <-push.C:
		case <-heard:
			pull = true
		case <-catchUp.C:
			pull = true
		case <-lease.C:
			renew = true
		}
	}
}

// push hands this console's pending deliveries to the team, then sends
// its actions not yet in the store, a batch at a time, and marks each as
// in it unless it changed meanwhile. A delivery handed over waits for the
// store if the push fails: it is never made twice.
func (t *TeamSync) push(ctx context.Context, s teamStore) error {
	if t.deliver != nil {
		n, err := t.cache.TeamHandOver()
		if err != nil {
			return localError{err}
		}
		if n > 0 {
			t.log.Debug("team store: deliveries handed to the team", "deliveries", n)
		}
	}
	for {
		acts, counters, err := t.cache.TeamPending(teamBatch)
		if err != nil {
			return localError{err}
		}
		if len(acts) == 0 {
			return nil
		}
		if _, err := s.Sync(ctx, acts...); err != nil {
			var re *teamstore.RefusedError
			if !errors.As(err, &re) {
				return err
			}
			// The store refused one action (its policies: who may do
			// what); those before it are in, the rest go again.
			if err := t.refused(acts, counters, re); err != nil {
				return err
			}
			continue
		}
		uids := make([]string, len(acts))
		for i := range acts {
			uids[i] = acts[i].UID
		}
		if err := t.cache.TeamPushed(uids, counters); err != nil {
			return localError{err}
		}
		t.log.Debug("team store: pushed", "actions", len(acts))
		if len(acts) < teamBatch {
			return nil
		}
	}
}

// pull merges into the cache every action changed in the store since the
// cursor the cache keeps.
func (t *TeamSync) pull(ctx context.Context, s teamStore) error {
	cursor, err := t.cache.TeamCursor()
	if err != nil {
		return localError{err}
	}
	ch, err := s.TeamChanges(ctx, cursor)
	if err != nil {
		return err
	}
	if len(ch.Actions) == 0 && ch.Next == cursor {
		return nil
	}
	changed, err := t.cache.ImportTeam(ch)
	if err != nil {
		return localError{err}
	}
	if changed {
		t.log.Debug("team store: merged", "actions", len(ch.Actions))
		t.changed()
	}
	return nil
}

// localError is a failure of the cache, not of the team store: the sync
// retries it like a store failure, but the store is not said to be down
// for it.
type localError struct{ error }

func (e localError) Unwrap() error { return e.error }

// ok records an exchange that succeeded. It follows a push that sent
// every change there was, so nothing waits: no count is read for it (a
// change made since goes up at the next push).
func (t *TeamSync) ok() {
	t.mu.Lock()
	st := t.state
	st.OK, st.Since, st.Error, st.LastSync, st.Unsynced = true, time.Time{}, "", time.Now(), 0
	t.state = st
	t.mu.Unlock()
}

func (t *TeamSync) down(err error) {
	t.setLeader(false)
	if err == nil {
		err = errors.New("connection closed")
	}
	var le localError
	local := errors.As(err, &le)
	n, _ := t.cache.TeamUnsynced()
	t.mu.Lock()
	st := t.state
	if !local {
		if st.OK || st.Since.IsZero() {
			st.Since = time.Now()
			t.log.Warn("team store down", "err", err)
		}
		t.history.Down(st.Since)
		st.OK, st.Error = false, err.Error()
	}
	st.Unsynced = n
	t.state = st
	t.mu.Unlock()
	if local {
		t.log.Warn("team sync: the cache", "err", err)
	}
}

// deliverLoop delivers the team's outbox while this console holds the
// team lease, until ctx ends: when the store announces a change and every
// TeamPushEvery.
func (t *TeamSync) deliverLoop(ctx context.Context, s teamStore, wake <-chan struct{}) {
	tick := time.NewTicker(TeamPushEvery)
	defer tick.Stop()
	for {
		if t.Leader() {
			if err := t.deliverTeam(ctx, s); err != nil && ctx.Err() == nil {
				t.log.Warn("team outbox", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
		}
	}
}

// deliverTeam claims what is due in the team's outbox and makes one
// attempt at each, recording the outcomes, while this console holds the
// lease. A delivery whose attempt could not end well within its claim's
// hold is not started: it is left to the claim's lapse.
func (t *TeamSync) deliverTeam(ctx context.Context, s teamStore) error {
	hold := ClaimHold(t.attempt)
	for t.Leader() && ctx.Err() == nil {
		claimed := time.Now()
		ds, err := s.ClaimDeliveries(ctx, t.holder, teamClaimBatch, hold)
		if err != nil || len(ds) == 0 {
			return err
		}
		for i, d := range ds {
			if time.Since(claimed)+t.attempt > hold-hold/10 || !t.Leader() {
				t.log.Debug("team outbox: left to the claim's lapse", "deliveries", len(ds)-i)
				return nil
			}
			out := t.deliver(ctx, d)
			if ctx.Err() != nil {
				return nil // outcome unknown: the claim lapses
			}
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teamFinishWithin)
			err := s.FinishDelivery(fctx, out)
			cancel()
			if err != nil {
				return err
			}
		}
		if len(ds) < teamClaimBatch {
			return nil
		}
	}
	return nil
}

// Identify tells the sync who acts on this console until the store says:
// osOp is the OS user with the role the config gives them. apply is told
// the operator to act as, and whether the store vouches for them, at
// once (the identity last read from this store, kept in the cache, or
// osOp) and whenever the store names another (at each connection). Call it
// before Run.
func (t *TeamSync) Identify(osOp model.Operator, apply func(op model.Operator, vouched bool)) {
	t.osOp, t.apply = osOp, apply
	op, enforced := osOp, false
	if id, ok, err := t.cache.TeamIdentity(); err != nil {
		t.log.Warn("team identity: the cache", "err", err)
	} else if ok && id.Store == t.key && id.Enforced {
		op.User, op.Role, enforced = id.User, id.Role, true
	}
	t.mu.Lock()
	t.state.User, t.state.OSUser, t.state.Role, t.state.Enforced, t.state.Verified = op.User, osOp.User, op.Role, enforced, false
	t.selves[osOp.User], t.selves[op.User] = true, true
	t.mu.Unlock()
	if apply != nil {
		apply(op, enforced)
	}
}

// identify reads who the store authenticated this console as, and makes
// them who acts: current_user with the role their membership gives
// (viewer when they are a member of no group of the team) when the store
// enforces identities; the OS user with the config's role when it does
// not (a URL connecting as the schema's owner: the lab setup).
func (t *TeamSync) identify(ctx context.Context, s teamStore) error {
	id, err := s.Identity(ctx)
	if err != nil {
		return err
	}
	op := t.osOp
	if id.Enforced {
		op.User, op.Role = id.User, id.Role
		if !id.Operator || op.Role < model.RoleViewer {
			op.Role = model.RoleViewer
		}
	} else if !t.warned {
		t.warned = true
		t.log.Warn("team store: identities not enforced", "user", id.User, "why", id.Why)
	}
	t.mu.Lock()
	st := t.state
	changed := st.User != op.User || st.Role != op.Role || st.Enforced != id.Enforced || !st.Verified
	st.User, st.OSUser, st.Role, st.Enforced, st.Verified = op.User, t.osOp.User, op.Role, id.Enforced, true
	t.state = st
	t.selves[op.User] = true
	t.mu.Unlock()
	if !changed {
		return nil
	}
	t.log.Info("team identity", "user", op.User, "role", op.Role.String(), "enforced", id.Enforced, "os_user", t.osOp.User)
	if err := t.cache.SetTeamIdentity(cache.TeamIdentity{Store: t.key, User: op.User, Role: op.Role, Enforced: id.Enforced}); err != nil {
		t.log.Warn("team identity: the cache", "err", err)
	}
	if t.apply != nil {
		t.apply(op, id.Enforced)
	}
	return nil
}

// mayLead reports whether this console may hold the team lease: its
// operator may act (tier1 or above), or the store does not enforce roles.
func (t *TeamSync) mayLead() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.state.Enforced || t.state.Role >= model.RoleTier1
}

// Gate asks the team store whether this console's operator may make req
// (the store's policies: their membership, an escalation level's
// min_role), before the dispatcher records it: a refusal in words, or ""
// when the store allows it. While the store cannot be reached, or does
// not answer within teamGateWithin, it says "" and the console's own
// policy decides (the push may then be refused later: refused). Safe for
// concurrent use.
func (t *TeamSync) Gate(ctx context.Context, req model.ActionRequest) string {
	t.mu.Lock()
	s := t.cur
	t.mu.Unlock()
	if s == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, teamGateWithin)
	defer cancel()
	why, err := s.May(ctx, req.Verb, req.Level)
	if err != nil {
		t.log.Warn("team store: asking before an action", "verb", req.Verb, "err", err)
		return ""
	}
	if why == "" {
		return ""
	}
	return refusedByStore(why)
}

// refusedByStore is the reason recorded for an action the store refused.
func refusedByStore(why string) string {
	const prefix = "refused by the team store: "
	if strings.HasPrefix(why, prefix) {
		return why
	}
	return prefix + why
}

// refused handles the store's refusal of one action of a push (42501:
// its grants or row-level security). One this console made (while the
// store was down, its own policy allowing it) is marked refused in the
// cache, with the store's reason, undone here and never pushed again,
// and said on the board; a change this console made to another's action
// and may not make in the store (a viewer's console seeing an ack end
// upstream) is left to the consoles that may. Either way it is not sent
// again, so the push goes on with the rest.
func (t *TeamSync) refused(acts []model.TeamAction, counters []int64, re *teamstore.RefusedError) error {
	i := slices.IndexFunc(acts, func(a model.TeamAction) bool { return a.UID == re.UID })
	if i < 0 {
		return re // not one of this push's: the push is retried
	}
	a := &acts[i]
	t.mu.Lock()
	mine := a.Host == t.host && t.selves[a.Operator]
	t.mu.Unlock()
	why := refusedByStore(re.Reason)
	if !mine {
		t.log.Info("team store: a change to another's action refused", "uid", a.UID, "verb", a.Verb, "operator", a.Operator, "reason", why)
		if err := t.cache.TeamPushed([]string{a.UID}, []int64{counters[i]}); err != nil {
			return localError{err}
		}
		return nil
	}
	if _, err := t.cache.RefuseTeamAction(a.UID, why); err != nil {
		return localError{err}
	}
	if a.State == model.ActionRefused {
		// Refused here already (a viewer's console, whose refusals the
		// store does not take): said when it was made.
		t.log.Debug("team store: a refusal not recorded in the store", "uid", a.UID, "reason", why)
		return nil
	}
	t.log.Warn("team store refused an action", "uid", a.UID, "verb", a.Verb, "target", a.Target, "operator", a.Operator, "reason", why)
	t.mu.Lock()
	t.state.Refused = fmt.Sprintf("%s %s by %s: %s", a.Verb, a.Target, a.Operator, why)
	t.state.RefusedAt = time.Now()
	t.mu.Unlock()
	t.changed()
	return nil
}
