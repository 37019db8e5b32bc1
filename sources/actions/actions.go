// Package actions carries out what operators do — ack, un-ack, escalate,
// note — the way the product promises: every request is checked against
// the operator's role, written to the cache's audit log (refusals too)
// before any network call, and what must reach an upstream (Alertmanager
// silences, escalation webhooks) goes through the cache's outbox, from
// which a worker delivers it with retries and back-off, across restarts,
// exactly once.
//
// Goroutines: Do, Check and Observe may be called from any goroutine (Do
// does cache I/O and must not run on the UI goroutine). Run owns the
// outbox worker, the board publisher and the clearing of acks whose
// outage resolved; it returns when its context ends. Upstream silences
// are read by the poller with each Alertmanager's alerts
// (sources.SilenceReader), which also ends the acks whose silences ended
// upstream.
package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/sources"
	"sitroom/sources/alertmanager"
	"sitroom/sources/tickets"
)

// Silencer is what the dispatcher needs of one Alertmanager;
// *alertmanager.Silencer implements it.
type Silencer interface {
	List(ctx context.Context) ([]alertmanager.Silence, error)
	Create(ctx context.Context, s alertmanager.PostableSilence) (string, error)
	Expire(ctx context.Context, id string) error
}

// Options configure a Dispatcher.
type Options struct {
	// Operator is who acts through this process (role already resolved).
	Operator model.Operator
	// Policy holds the roles, the escalation levels and the read-only switch.
	Policy *model.Policy
	// Silencers are the Alertmanager sources by source name: an alert held
	// by one of them is acked there with a silence.
	Silencers map[string]Silencer
	// Webhooks are told about every escalation.
	Webhooks []Webhook
	// Tickets are the ticket sources by name, for ticket escalations and
	// takes (tickets.go).
	Tickets map[string]tickets.TicketSource
	// Teams are the config's teams with their notify channels
	// (notify.go), for the notify action.
	Teams  []NotifyTeam
	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default: discard
	// Polling reports whether this process clears the acks of resolved
	// outages: when it holds the polling lease, and in team mode the team
	// lease too (one console of the team clears them). Nil means always.
	Polling func() bool
	// MinBackoff and MaxBackoff bound the delay between delivery attempts
	// (default 1s and 5m; doubling per failed attempt).
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds one delivery attempt (default 10s).
	Timeout time.Duration
	// WatchEvery is how often the board is rebuilt and the outbox looked
	// at (default 1s); a new snapshot (Observe) rebuilds it at once.
	WatchEvery time.Duration
	// Team, in team mode, says how the team store stands: it is put on
	// every board read (model.Board.Team). Nil outside team mode.
	Team func() model.TeamState
	// Gate, in team mode, asks the team store whether the operator may
	// make a request the policy allowed, before anything is recorded: a
	// refusal in words (recorded and returned as any refusal), or "" when
	// the store allows it or cannot be asked (the policy then decides).
	Gate func(ctx context.Context, req model.ActionRequest) string
}

// Dispatcher is the sources side of the UI's actor.
type Dispatcher struct {
	cache *cache.Cache
	opt   Options

	kick   chan struct{}
	reread chan struct{} // a new snapshot: read the board now
	boards chan *model.Board

	mu    sync.Mutex
	snap  *model.Snapshot
	seal  uint64
	board *model.Board // the last board read

	opMu    sync.RWMutex
	op      model.Operator // who acts now (SetOperator)
	vouched bool           // the team store vouches for op
}

// New returns a dispatcher writing to c; nothing runs until Run.
func New(c *cache.Cache, opt Options) *Dispatcher {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Policy == nil {
		opt.Policy = &model.Policy{}
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = time.Second
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 5 * time.Minute
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.WatchEvery <= 0 {
		opt.WatchEvery = time.Second
	}
	return &Dispatcher{cache: c, opt: opt, kick: make(chan struct{}, 1), reread: make(chan struct{}, 1),
		boards: make(chan *model.Board, 1), op: opt.Operator}
}

// Operator is who acts through this dispatcher now (Options.Operator,
// then what SetOperator set). Safe for concurrent use.
func (d *Dispatcher) Operator() model.Operator {
	d.opMu.RLock()
	defer d.opMu.RUnlock()
	return d.op
}

// SetOperator makes op who acts through this dispatcher from now on: in
// team mode, the operator the team store authenticated, with the role
// their membership gives them. vouched says the store vouches for op (it
// records actions only as the user it authenticated): the acks this
// console clears when their outage resolved are then cleared as op, not
// as "sitroom". The board is read again at once. Safe for concurrent
// use.
func (d *Dispatcher) SetOperator(op model.Operator, vouched bool) {
	d.opMu.Lock()
	d.op, d.vouched = op, vouched
	d.opMu.Unlock()
	d.Reread()
}

// SetGate sets Options.Gate; call it before Run.
func (d *Dispatcher) SetGate(gate func(ctx context.Context, req model.ActionRequest) string) {
	d.opt.Gate = gate
}

// Policy is the policy requests are checked against.
func (d *Dispatcher) Policy() *model.Policy { return d.opt.Policy }

// Boards delivers the action state whenever it changes; latest wins. It is
// never closed.
func (d *Dispatcher) Boards() <-chan *model.Board { return d.boards }

// Observe hands the dispatcher the latest snapshot: which sources hold
// which alert (for silences) and which outages are still open (to clear
// acks when they resolve). The board is read again at once: the silences
// and acks the poll that made the snapshot recorded reach the screen with
// it. It never blocks.
func (d *Dispatcher) Observe(s *model.Snapshot) {
	d.mu.Lock()
	d.snap = s
	d.mu.Unlock()
	select {
	case d.reread <- struct{}{}:
	default:
	}
}

// FollowTeam puts the team store's state, as state reports it, on every
// board (Options.Team); call it before Run.
func (d *Dispatcher) FollowTeam(state func() model.TeamState) { d.opt.Team = state }

// Reread has the board read again at once: the cache changed under it
// (another console's actions merged from the team store). It never
// blocks.
func (d *Dispatcher) Reread() {
	select {
	case d.reread <- struct{}{}:
	default:
	}
}

func (d *Dispatcher) snapshot() *model.Snapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.snap
}

// Check says why the operator may not make the request ("" when they
// may): the policy, then an action of the same kind on the same target
// still pending in the outbox as the last board read shows it. It does
// no I/O; the UI calls it before opening a form. Do checks the outbox
// again when it records the action.
func (d *Dispatcher) Check(req model.ActionRequest) string {
	if why := d.opt.Policy.Refusal(d.Operator(), req); why != "" {
		return why
	}
	d.mu.Lock()
	b := d.board
	d.mu.Unlock()
	if b == nil {
		return ""
	}
	return model.PendingRefusal(req.Verb, req.Target(), req.Level, b.Pending)
}

// Do carries out a request: validated, checked against the role (a
// refusal is audited and returned as a result, not an error), written to
// the audit log and outbox in one transaction, then handed to the outbox
// worker. It returns once the action is recorded, never waiting for an
// upstream. The error is for the cache failing; the action was then not
// recorded.
func (d *Dispatcher) Do(ctx context.Context, req model.ActionRequest) (model.ActionResult, error) {
	if why := req.Validate(); why != "" {
		return model.ActionResult{Message: why}, nil
	}
	now := d.opt.Now()
	op := d.Operator()
	a := &model.Action{AuditEntry: model.AuditEntry{At: now, Operator: op.User, Role: op.Role, Host: op.Host,
		SSHClient: op.SSHClient, Verb: req.Verb, Service: req.Service, Target: req.Target(), Comment: req.Comment},
		AlertKeys: req.AlertKeys}
	why := d.Check(req)
	if why == "" && d.opt.Gate != nil {
		// The team store's word, asked before anything is recorded or
		// delivered: its policies decide what it will take.
		why = d.opt.Gate(ctx, req)
	}
	if why != "" {
		a.State, a.Reason = model.ActionRefused, why
		if _, err := d.cache.RecordAction(a); err != nil {
			return model.ActionResult{}, err
		}
		d.opt.Logger.Info("action refused", "verb", req.Verb, "target", a.Target, "operator", op.User, "reason", why)
		return model.ActionResult{ID: a.ID, State: model.ActionRefused, Message: why}, nil
	}
	var msg string
	switch req.Verb {
	case model.VerbTicketEscalate, model.VerbTake:
		var why string
		if msg, why = d.planTicket(a, req); why != "" {
			a.State, a.Reason = model.ActionRefused, why
			if _, err := d.cache.RecordAction(a); err != nil {
				return model.ActionResult{}, err
			}
			return model.ActionResult{ID: a.ID, State: model.ActionRefused, Message: why}, nil
		}
	case model.VerbExpireSilence, model.VerbExtendSilence, model.VerbCreateSilence:
		var why string
		if msg, why = d.planSilence(a, &req); why != "" {
			a.State, a.Reason = model.ActionRefused, why
			if _, err := d.cache.RecordAction(a); err != nil {
				return model.ActionResult{}, err
			}
			return model.ActionResult{ID: a.ID, State: model.ActionRefused, Message: why}, nil
		}
	case model.VerbNotify:
		var why string
		if msg, why = d.planNotify(a, req); why != "" {
			a.State, a.Reason, a.Deliveries = model.ActionRefused, why, nil
			if _, err := d.cache.RecordAction(a); err != nil {
				return model.ActionResult{}, err
			}
			return model.ActionResult{ID: a.ID, State: model.ActionRefused, Message: why}, nil
		}
	case model.VerbAck:
		exp := req.Expiry
		if exp == 0 {
			exp = model.DefaultAckExpiry
		}
		a.Until = now.Add(exp)
		var ams []string
		a.Deliveries, ams = d.silences(req.AlertKeys, a.Until)
		msg = fmt.Sprintf("acked %s (%s) until %s", req.Service, model.Plural(len(req.AlertKeys), "alert", "alerts"), a.Until.Local().Format("15:04"))
		if len(ams) > 0 {
			msg += fmt.Sprintf(" · %s queued for %s", model.Plural(len(a.Deliveries), "silence", "silences"), strings.Join(ams, ", "))
		}
	case model.VerbUnack:
		msg = "un-acked " + req.Service
	case model.VerbEscalate:
		l := d.opt.Policy.Level(req.Level)
		a.Level, a.Who, a.Contact = l.Level, l.Who, l.Contact
		a.Deliveries = d.webhookDeliveries(a, req)
		msg = fmt.Sprintf("escalated %s to level %d: %s", req.Service, l.Level, l.Who)
		if l.Contact != "" {
			msg += " (" + l.Contact + ")"
		}
	case model.VerbNote:
		msg = "note saved"
		if req.Service != "" {
			msg = "note saved on " + req.Service
		}
	}
	queued, err := d.cache.RecordAction(a)
	switch {
	case errors.Is(err, cache.ErrAlreadyAcked):
		a.State, a.Reason, a.Deliveries = model.ActionRefused, "already acknowledged", nil
		if _, err := d.cache.RecordAction(a); err != nil {
			return model.ActionResult{}, err
		}
		return model.ActionResult{ID: a.ID, State: model.ActionRefused, Message: req.Service + " is already acknowledged (u un-acks)"}, nil
	case errors.Is(err, cache.ErrNotAcked):
		return model.ActionResult{Message: req.Service + " is not acknowledged"}, nil
	case err != nil:
		return model.ActionResult{}, err
	}
	if a.State == model.ActionRefused { // the same action is pending in the outbox
		d.opt.Logger.Info("action refused", "verb", req.Verb, "target", a.Target, "operator", op.User, "reason", a.Reason)
		return model.ActionResult{ID: a.ID, State: model.ActionRefused, Message: a.Reason}, nil
	}
	if req.Verb == model.VerbUnack && len(queued) > 0 {
		msg += " · expiring its silences on " + model.Plural(len(queued), "Alertmanager", "Alertmanagers")
	}
	d.opt.Logger.Info("action recorded", "id", a.ID, "verb", req.Verb, "target", a.Target, "operator", op.User,
		"deliveries", len(queued))
	d.Kick()
	return model.ActionResult{ID: a.ID, State: a.State, Message: msg}, nil
}

// silences plans one silence per (alert, Alertmanager holding it), with
// the labels that Alertmanager reports for the alert.
func (d *Dispatcher) silences(keys []string, until time.Time) ([]model.Delivery, []string) {
	if len(d.opt.Silencers) == 0 || len(keys) == 0 {
		return nil, nil
	}
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	// The outage may be on screen from a poll still being written: its
	// rows are the ones to silence.
	rows, _, _ := d.cache.LoadCommitted()
	var out []model.Delivery
	amSet := map[string]bool{}
	for _, r := range rows {
		if r.Resolved() || !want[r.Key] || d.opt.Silencers[r.Source] == nil {
			continue
		}
		payload, _ := json.Marshal(r.Labels)
		out = append(out, model.Delivery{Kind: model.DeliverSilence, Dest: r.Source, Key: r.Key, Payload: string(payload), Until: until})
		amSet[r.Source] = true
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Dest != out[j].Dest {
			return out[i].Dest < out[j].Dest
		}
		return out[i].Key < out[j].Key
	})
	return out, model.SortedKeys(amSet)
}

// Kick wakes the outbox worker. It never blocks.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run delivers the outbox, publishes boards and clears acks whose outage
// resolved, until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { d.outboxLoop(ctx) })
	wg.Go(func() { d.boardLoop(ctx) })
	wg.Wait()
}

func (d *Dispatcher) outboxLoop(ctx context.Context) {
	t := time.NewTicker(d.opt.WatchEvery)
	defer t.Stop()
	for {
		if err := d.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			d.opt.Logger.Warn("outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		case <-t.C:
		}
	}
}

// DeliverDue makes one attempt at every delivery due now, oldest first,
// and records each outcome. Deliveries another process claimed are left
// to it.
func (d *Dispatcher) DeliverDue(ctx context.Context) error {
	due, err := d.cache.DueDeliveries(d.opt.Now(), 100)
	if err != nil {
		return err
	}
	for _, dl := range due {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ok, err := d.cache.ClaimDelivery(dl, d.opt.Now().Add(2*d.opt.Timeout+time.Minute))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		dl = d.DeliverOne(ctx, dl)
		if ctx.Err() != nil {
			return ctx.Err() // leave it claimed: it is due again when the claim lapses
		}
		if err := d.cache.FinishDelivery(dl); err != nil {
			return err
		}
	}
	return nil
}

// DeliverOne makes one attempt at a delivery claimed for it (from this
// console's outbox, or from the team store by the team lease holder) and
// returns it with the outcome, for the caller to record: delivered;
// failed for good (a 4xx other than 401/408/429, a destination the
// config does not name); or pending again at the back-off time (1s
// doubling to 5m by default), with the error in words. Attempts counts
// this one. The attempt is bounded by AttemptTimeout. When ctx ends
// during the attempt its outcome is unknown: the caller records nothing
// and leaves the delivery to its claim's lapse. Safe for concurrent use.
func (d *Dispatcher) DeliverOne(ctx context.Context, dl model.Delivery) model.Delivery {
	dl.Attempts++
	actx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	ref, derr := d.deliver(actx, dl)
	cancel()
	dl.Ref, dl.Error = ref, ""
	switch {
	case derr == nil:
		dl.State = model.ActionDelivered
	case permanent(derr):
		dl.State, dl.Error = model.ActionFailed, sources.Sanitize(derr, 300)
	default:
		dl.State, dl.Error = model.ActionPending, sources.Sanitize(derr, 300)
		dl.NextAt = d.opt.Now().Add(sources.Backoff(d.opt.MinBackoff, dl.Attempts-1, d.opt.MaxBackoff))
	}
	if ctx.Err() != nil {
		return dl
	}
	if derr != nil {
		d.opt.Logger.Warn("delivery failed", "id", dl.ID, "action", dl.ActionUID, "kind", dl.Kind, "dest", dl.Dest,
			"attempt", dl.Attempts, "state", dl.State, "err", dl.Error)
	} else {
		d.opt.Logger.Info("delivered", "id", dl.ID, "action", dl.ActionUID, "kind", dl.Kind, "dest", dl.Dest, "ref", ref)
	}
	return dl
}

// AttemptTimeout bounds one delivery attempt (Options.Timeout).
func (d *Dispatcher) AttemptTimeout() time.Duration { return d.opt.Timeout }

type permanentErr interface{ Permanent() bool }

func permanent(err error) bool {
	var p permanentErr
	return errors.As(err, &p) && p.Permanent()
}

var errNoDest = errors.New("no such destination in the config")

type deadErr struct{ error }

func (deadErr) Permanent() bool { return true }

func (d *Dispatcher) deliver(ctx context.Context, dl model.Delivery) (string, error) {
	switch dl.Kind {
	case model.DeliverSilence:
		s := d.opt.Silencers[dl.Dest]
		if s == nil {
			return "", deadErr{fmt.Errorf("%s: %w", dl.Dest, errNoDest)}
		}
		return d.createSilence(ctx, s, dl)
	case model.DeliverExpire:
		s := d.opt.Silencers[dl.Dest]
		if s == nil {
			return "", deadErr{fmt.Errorf("%s: %w", dl.Dest, errNoDest)}
		}
		return expireSilences(ctx, s, dl.Key)
	case model.DeliverTicketEscalate, model.DeliverTicketTake:
		return d.deliverTicket(ctx, dl)
	case model.DeliverSilenceExpire, model.DeliverSilenceExtend, model.DeliverSilenceCreate:
		return d.deliverSilenceAction(ctx, dl)
	case model.DeliverNotify:
		return d.deliverNotify(ctx, dl)
	case model.DeliverWebhook:
		for i := range d.opt.Webhooks {
			if d.opt.Webhooks[i].Name == dl.Dest {
				return d.opt.Webhooks[i].post(ctx, dl)
			}
		}
		return "", deadErr{fmt.Errorf("webhook %s: %w", dl.Dest, errNoDest)}
	}
	return "", deadErr{fmt.Errorf("unknown delivery kind %q", dl.Kind)}
}

// SilenceComment is the comment of the silence sitroom creates for an
// ack: the operator's comment and the marker that finds it again.
func SilenceComment(comment, uid, key string) string {
	return strings.TrimSpace(comment) + " " + model.Marker(uid, key)
}

// createSilence is idempotent: a silence carrying the marker of this
// action and alert that is still live (made by an earlier attempt whose
// reply was lost, or gossiped from the other member of an HA pair) is
// taken as the delivery. So is one that was made and then expired
// upstream before the ack's end: the upstream ended it, and the poller
// ends the ack (cache.StoreSilences); making it again would undo that.
func (d *Dispatcher) createSilence(ctx context.Context, s Silencer, dl model.Delivery) (string, error) {
	marker := model.Marker(dl.ActionUID, dl.Key)
	list, err := s.List(ctx)
	if err != nil {
		return "", err
	}
	for _, sil := range list {
		if strings.Contains(sil.Comment, marker) && (sil.Live() || sil.EndsAt.Before(dl.Until.Add(-time.Second))) {
			return sil.ID, nil
		}
	}
	now := d.opt.Now()
	if !dl.Until.After(now) {
		return "", nil // the ack ran out before it could be delivered: nothing to silence
	}
	var labels map[string]string
	if err := json.Unmarshal([]byte(dl.Payload), &labels); err != nil || len(labels) == 0 {
		return "", deadErr{fmt.Errorf("silence without labels")}
	}
	return s.Create(ctx, alertmanager.PostableSilence{
		Matchers:  alertmanager.EqualMatchers(labels),
		StartsAt:  now,
		EndsAt:    dl.Until,
		CreatedBy: dl.Operator,
		Comment:   SilenceComment(dl.Comment, dl.ActionUID, dl.Key),
	})
}

// expireSilences expires every live silence carrying the marker of the
// ack uid; expiring one already gone is not an error, so it is idempotent.
func expireSilences(ctx context.Context, s Silencer, uid string) (string, error) {
	marker := model.Marker(uid, "")
	list, err := s.List(ctx)
	if err != nil {
		return "", err
	}
	var ids []string
	for _, sil := range list {
		if sil.Live() && strings.Contains(sil.Comment, marker) {
			if err := s.Expire(ctx, sil.ID); err != nil {
				return strings.Join(ids, ","), err
			}
			ids = append(ids, sil.ID)
		}
	}
	return strings.Join(ids, ","), nil
}

// boardLoop publishes the board when it changes and clears the acks of
// outages that resolved.
func (d *Dispatcher) boardLoop(ctx context.Context) {
	t := time.NewTicker(d.opt.WatchEvery)
	defer t.Stop()
	for {
		if b, err := d.Board(); err != nil {
			if ctx.Err() == nil {
				d.opt.Logger.Warn("reading actions", "err", err)
			}
		} else {
			if d.polling() {
				if n := d.clearResolved(b) + d.notifyResolved(b); n > 0 {
					if nb, err := d.Board(); err == nil {
						b = nb
					}
				}
			}
			d.publish(b)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.reread:
		}
	}
}

// clearer is who clears the acks of resolved outages: this console's
// operator when the team store vouches for them.
func (d *Dispatcher) clearer() (model.Operator, bool) {
	d.opMu.RLock()
	defer d.opMu.RUnlock()
	return d.op, d.vouched
}

func (d *Dispatcher) polling() bool { return d.opt.Polling == nil || d.opt.Polling() }

// Board reads the action state from the cache now.
func (d *Dispatcher) Board() (*model.Board, error) {
	b, err := d.cache.Board(d.opt.Now(), 0)
	if b != nil && d.opt.Team != nil {
		b.Team = d.opt.Team()
	}
	return b, err
}

// publish hands b to the UI if it differs from the last one published.
func (d *Dispatcher) publish(b *model.Board) {
	s := boardSeal(b)
	d.mu.Lock()
	d.board = b
	same := s == d.seal && d.seal != 0
	d.seal = s
	d.mu.Unlock()
	if same {
		return
	}
	for {
		select {
		case d.boards <- b:
			return
		default:
		}
		select {
		case <-d.boards:
		default:
		}
	}
}

func boardSeal(b *model.Board) uint64 {
	h := fnv.New64a()
	for _, m := range []map[string]*model.Ack{b.Acks, b.Lapsed} {
		for _, k := range model.SortedKeys(m) {
			fmt.Fprintf(h, "a%s|%d|%d\x00", k, m[k].ActionID, m[k].Until.UnixNano())
		}
		h.Write([]byte{1})
	}
	for _, k := range model.SortedKeys(b.Escalations) {
		fmt.Fprintf(h, "e%s|%d\x00", k, b.Escalations[k].ActionID)
	}
	for _, n := range b.Notes {
		fmt.Fprintf(h, "n%d\x00", n.ID)
	}
	for _, k := range model.SortedKeys(b.Deliveries) {
		fmt.Fprintf(h, "d%s|%+v\x00", k, b.Deliveries[k])
	}
	for _, p := range b.Pending {
		fmt.Fprintf(h, "p%s|%s|%d\x00", p.Verb, p.Target, p.At.UnixNano())
	}
	if t := b.Team; t.Configured {
		// The last sync moves every exchange while the store is ok; it is
		// shown only once it is down.
		last := int64(0)
		if !t.OK {
			last = t.LastSync.UnixNano()
		}
		fmt.Fprintf(h, "t%t|%s|%d|%d|%d\x00", t.OK, t.Error, t.Since.UnixNano(), t.Unsynced, last)
		fmt.Fprintf(h, "i%s|%s|%d|%t|%t|%d\x00", t.User, t.OSUser, t.Role, t.Enforced, t.Verified, t.RefusedAt.UnixNano())
	}
	for _, k := range model.SortedKeys(b.Notices) {
		for _, n := range b.Notices[k] {
			fmt.Fprintf(h, "N%s|%s|%s|%s|%d|%s|%s\x00", k, n.Team, n.State, n.By, n.At.UnixNano(), n.Error, n.Kind)
		}
	}
	for _, k := range model.SortedKeys(b.Ended) {
		fmt.Fprintf(h, "x%s|%d\x00", k, b.Ended[k].ActionID)
	}
	for _, k := range model.SortedKeys(b.Silences) {
		s := b.Silences[k]
		fmt.Fprintf(h, "s%s|%s|%s|%d|%d|%s|%s\x00", k, s.CreatedBy, s.State, s.StartsAt.UnixNano(), s.EndsAt.UnixNano(), s.Comment, s.Matchers)
	}
	return h.Sum64() | 1
}

// clearResolved clears every ack (in force or lapsed) whose outage has
// resolved: none of its alerts is open any more (silenced ones still
// count as open) and the service has no outage. Its silences are expired
// through the outbox. Only a snapshot in which every source has answered
// at least once is trusted for this.
func (d *Dispatcher) clearResolved(b *model.Board) int {
	snap := d.snapshot()
	if snap == nil || len(snap.Sources) == 0 {
		return 0
	}
	for _, st := range snap.Sources {
		if st.LastSuccess.IsZero() {
			return 0
		}
	}
	if len(b.Acks)+len(b.Lapsed) == 0 {
		return 0
	}
	open := make(map[string]bool, len(snap.Signals))
	for _, s := range snap.Signals {
		open[s.Key] = true
	}
	n := 0
	for _, m := range []map[string]*model.Ack{b.Acks, b.Lapsed} {
		for _, svc := range model.SortedKeys(m) {
			ack := m[svc]
			if snap.Outage(svc) != nil {
				continue
			}
			still := false
			for _, k := range ack.AlertKeys {
				if open[k] {
					still = true
					break
				}
			}
			if still {
				continue
			}
			by, role := "sitroom", model.RoleLead
			if op, vouched := d.clearer(); vouched {
				// The team store records actions only as the user it
				// authenticated.
				by, role = op.User, op.Role
			}
			a := &model.Action{AuditEntry: model.AuditEntry{At: d.opt.Now(), Operator: by, Role: role,
				Host: d.Operator().Host, Verb: model.VerbClear, Service: svc, Target: svc,
				Comment: fmt.Sprintf("outage resolved; clearing the ack by %s", ack.By)}}
			if _, err := d.cache.RecordAction(a); err != nil {
				if !errors.Is(err, cache.ErrNotAcked) {
					d.opt.Logger.Warn("clearing an ack", "service", svc, "err", err)
				}
				continue
			}
			d.opt.Logger.Info("ack cleared: outage resolved", "service", svc, "by", ack.By)
			n++
		}
	}
	if n > 0 {
		d.Kick()
	}
	return n
}

// ReadSilences reads every Alertmanager's silences into the cache now, as
// the poller does with each poll (ending the acks whose silences ended
// upstream): for a caller that just changed silences and wants the board
// to follow before the next poll. A source that cannot be read keeps what
// was recorded before.
func (d *Dispatcher) ReadSilences(ctx context.Context) {
	for _, name := range model.SortedKeys(d.opt.Silencers) {
		rctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
		list, err := d.opt.Silencers[name].List(rctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				d.opt.Logger.Debug("reading silences", "source", name, "err", err)
			}
			continue
		}
		sils := make([]model.Silence, 0, len(list))
		for i := range list {
			sils = append(sils, list[i].Model(name))
		}
		ended, err := d.cache.StoreSilences(name, sils, d.opt.Now())
		if err != nil {
			d.opt.Logger.Warn("storing silences", "source", name, "err", err)
		}
		for _, a := range ended {
			d.opt.Logger.Info("ack ended upstream", "source", name, "service", a.Service, "by", a.By, "why", a.Ended)
		}
	}
}

// httpClient is the client webhooks use when none is given.
var httpClient = &http.Client{Timeout: 10 * time.Second}
