package model

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Role is what an operator may do. Roles are ordered: each may do what the
// ones below it may.
type Role int

// Roles, lowest first. RoleNone is "no role given" and acts as a viewer.
const (
	RoleNone Role = iota
	RoleViewer
	RoleTier1
	RoleTier2
	RoleLead
)

// ParseRole reads a role name as config spells it (viewer, tier1, tier2,
// lead); ok is false for anything else.
func ParseRole(s string) (r Role, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "viewer":
		return RoleViewer, true
	case "tier1":
		return RoleTier1, true
	case "tier2":
		return RoleTier2, true
	case "lead":
		return RoleLead, true
	}
	return RoleNone, false
}

// String is the role's config name.
func (r Role) String() string {
	switch r {
	case RoleViewer:
		return "viewer"
	case RoleTier1:
		return "tier1"
	case RoleTier2:
		return "tier2"
	case RoleLead:
		return "lead"
	}
	return "viewer"
}

// Verb names an action.
type Verb string

// Verbs. VerbClear is sitroom itself lifting an ack because its outage
// resolved, VerbEnded sitroom recording that an ack ended upstream (a
// silence behind it was expired, deleted or had its end changed in the
// Alertmanager); operators never send either.
const (
	VerbAck      Verb = "ack"
	VerbUnack    Verb = "unack"
	VerbEscalate Verb = "escalate"
	VerbNote     Verb = "note"
	VerbClear    Verb = "clear"
	VerbEnded    Verb = "ended"
)

// ActionState is where an action stands. An action is written to the audit
// log before anything goes upstream; its state then follows its deliveries.
type ActionState string

// Action states.
const (
	ActionPending   ActionState = "pending"   // recorded; some delivery not done yet
	ActionDelivered ActionState = "delivered" // recorded and every delivery done (or none needed)
	ActionFailed    ActionState = "failed"    // a delivery was refused upstream for good
	ActionRefused   ActionState = "refused"   // not allowed; recorded with the reason, nothing done
	ActionCancelled ActionState = "cancelled" // a delivery made pointless by a later action (un-ack before the silence went out)
)

// Operator is who acts: the OS user, their groups, where they sit and the
// role config gives them.
type Operator struct {
	User      string
	Groups    []string
	Host      string
	SSHClient string // SSH_CLIENT when present: "client-ip client-port server-port"
	Role      Role
}

// DefaultAckExpiry is how long an ack lasts unless the operator says.
const DefaultAckExpiry = 2 * time.Hour

// ActionRequest is what the UI asks an Actor to do.
type ActionRequest struct {
	Verb Verb
	// Service is the outage acted on; for a note, "" is a note on the shift.
	Service string
	// AlertKeys are the signals acted on: every alert of the outage, or the
	// one alert an ack on the alerts panel names.
	AlertKeys []string
	Comment   string
	// Expiry is how long an ack lasts; DefaultAckExpiry when zero.
	Expiry time.Duration
	// Level is the level an escalation goes to.
	Level int
	// Ticket is the ticket a ticket escalation or take acts on; Service
	// is then the service it is linked to ("" when none).
	Ticket TicketRef
	// Silence is the silence an expiry or extension acts on, or the
	// matchers of a new one; Expiry is then the extension or the new
	// silence's length (silence_request.go).
	Silence SilenceTarget
	// Teams are the teams a notify action tells, by name; Notify is the
	// message they get (the dispatcher fills in its uid, team, operator
	// and time).
	Teams  []string
	Notify *NotifyMessage
}

// Target is how the audit log names what the request acts on.
func (r *ActionRequest) Target() string {
	switch {
	case r.Verb.silence():
		return r.silenceTarget()
	case r.Verb == VerbTicketEscalate || r.Verb == VerbTake:
		return "ticket " + r.Ticket.Label()
	case r.Service == "" && r.Verb == VerbNote:
		return "shift"
	case len(r.AlertKeys) == 1:
		return r.Service + " alert " + r.AlertKeys[0]
	}
	return r.Service
}

// ActionResult is what came of a request.
type ActionResult struct {
	ID      int64 // audit id; 0 when nothing was recorded
	State   ActionState
	Message string // one line for the flash bar
}

// AuditEntry is one row of the audit log: who did what, from where, when,
// and what became of it. Refusals are recorded too, with their reason.
type AuditEntry struct {
	ID        int64
	UID       string // random id, carried upstream in the marker of what the action created
	At        time.Time
	Operator  string
	Role      Role
	Host      string
	SSHClient string
	Verb      Verb
	Service   string
	Target    string
	Comment   string
	Upstream  string // upstream references (silence ids, webhook replies), comma separated
	State     ActionState
	Reason    string // why it was refused, or the last delivery error
}

// Action is an audited request with its effect: what the cache records
// (ack, escalation, note) and what must be delivered upstream.
type Action struct {
	AuditEntry
	AlertKeys []string
	Until     time.Time // an ack's expiry
	Level     int       // an escalation's level, with who holds it
	Who       string
	Contact   string
	// Deliveries are queued in the outbox in the same transaction as the
	// audit row.
	Deliveries []Delivery
}

// Delivery kinds.
const (
	DeliverSilence = "silence" // create a silence for one alert on one Alertmanager
	DeliverExpire  = "expire"  // expire the silences an ack created on one Alertmanager
	DeliverWebhook = "webhook" // POST an escalation to a webhook
)

// Delivery is one call to make upstream, kept in the outbox until it is
// done. It is retried with back-off and survives restarts.
type Delivery struct {
	ID       int64
	ActionID int64
	// ActionUID, Operator and the action's comment come from the audit row.
	ActionUID string
	Operator  string
	Comment   string
	Kind      string
	Dest      string // the Alertmanager source or webhook name
	// Key is the alert a silence is for, or for an expiry the UID of the
	// ack whose silences go.
	Key      string
	Payload  string // kind-specific JSON (labels of a silence, webhook body)
	State    ActionState
	Attempts int
	NextAt   time.Time
	Ref      string // upstream reference once delivered (silence id)
	Error    string // last failure in words
	Until    time.Time
}

// Marker is the text sitroom puts in the comment of every silence it
// creates, so a retry finds the silence an earlier attempt made and an
// un-ack finds the silences to expire. uid is the action's UID; key the
// alert, or "" to match every silence of the action.
func Marker(uid, key string) string {
	if key == "" {
		return "[sitroom action " + uid + " "
	}
	return "[sitroom action " + uid + " alert " + key + "]"
}

// Ack is an acknowledgement of an outage (or of some of its alerts), made
// in sitroom or found upstream as someone else's silence.
type Ack struct {
	ActionID  int64
	UID       string
	Service   string
	AlertKeys []string
	By        string
	At        time.Time
	Until     time.Time
	Comment   string
	// External is set for a silence found upstream that sitroom did not
	// make: By is its author.
	External bool
	// Ended says, for an ack that ended upstream, why in words ("silence
	// expired", "silence expired by change-mgmt", "silence deleted"), and
	// EndedAt when sitroom saw it.
	Ended   string
	EndedAt time.Time
}

// Escalation is where an outage stands on the escalation policy.
type Escalation struct {
	ActionID int64
	Service  string
	Level    int
	Who      string
	Contact  string
	By       string
	At       time.Time
	Comment  string
}

// Note is a free-text note on an outage, or on the shift when Service is "".
type Note struct {
	ID      int64
	Service string
	By      string
	At      time.Time
	Text    string
}

// Silence is a silence read from an Alertmanager.
type Silence struct {
	Source    string
	ID        string
	CreatedBy string
	Comment   string
	StartsAt  time.Time
	EndsAt    time.Time
	UpdatedAt time.Time
	// State is the Alertmanager's: active, pending (starts later) or
	// expired.
	State SilenceState
	// Matchers are the silence's matchers in Alertmanager's syntax, as
	// amtool prints them: {alertname="DBDown", instance=~"n1|n2"}.
	Matchers string
	// Also names the other sources that hold the same silence (the
	// members of a clustered pair share their silences' ids).
	Also []string
}

// SilenceState is an Alertmanager silence's state.
type SilenceState string

// The states of an Alertmanager silence.
const (
	SilenceActive  SilenceState = "active"
	SilencePending SilenceState = "pending"
	SilenceExpired SilenceState = "expired"
)

// Deliveries counts the unfinished deliveries of one service's actions.
type Deliveries struct {
	Pending int
	Failed  int
	Error   string // the latest failure in words
}

// Board is the shared action state the UI draws over a snapshot: open
// acks, lapsed acks, escalations, notes, deliveries not yet done and the
// authors of upstream silences. It is built off the UI goroutine and never
// modified after it is published.
type Board struct {
	Built  time.Time
	Acks   map[string]*Ack // by service: acks in force
	Lapsed map[string]*Ack // by service: acks that expired while the outage stayed open
	// Ended holds, by service, the service's latest ack when it ended
	// upstream (Ack.Ended says why) and no ack was made since.
	Ended       map[string]*Ack
	Escalations map[string]*Escalation
	Notes       []Note // newest first
	Deliveries  map[string]Deliveries
	Silences    map[string]Silence // by silence id
	// Pending lists the actions of the kinds that refuse a duplicate
	// (OnePending) with a delivery still pending, oldest first.
	Pending []Pending
	// Team is the team store as this console sees it (team mode).
	Team TeamState
	// Notices holds, by service, what each team was told about its outage
	// (the latest notify action per team), in team name order.
	Notices map[string][]Notice
}

// Pending is an action some delivery of which is still in the outbox:
// while it is, another of the same kind on the same target is refused
// (PendingRefusal).
type Pending struct {
	Verb     Verb
	Target   string // as ActionRequest.Target names it
	Level    int    // an escalation's level
	Operator string
	At       time.Time
}

// OnePending reports whether an action of verb v is refused while one of
// the same kind on the same target is pending: escalations, ticket
// escalations and takes. An ack needs no such rule: it is in force from
// when it is recorded, and another ack of the alerts it covers is refused
// as such (the cache's ErrAlreadyAcked, audited by the dispatcher).
func OnePending(v Verb) bool {
	switch v {
	case VerbEscalate, VerbTicketEscalate, VerbTake:
		return true
	}
	return false
}

// PendingRefusal says why an action of verb v on target (to level, for
// an escalation) may not be made while pending are in the outbox, or ""
// when none of them is of the same kind on the same target.
func PendingRefusal(v Verb, target string, level int, pending []Pending) string {
	if !OnePending(v) {
		return ""
	}
	for _, p := range pending {
		if p.Verb != v || p.Target != target || (v == VerbEscalate && p.Level != level) {
			continue
		}
		var what string
		switch v {
		case VerbEscalate:
			what = fmt.Sprintf("escalation of %s to level %d", target, level)
		case VerbTicketEscalate:
			what = "escalation of " + target + " to Tier 2"
		case VerbTake:
			what = "take of " + target
		}
		return fmt.Sprintf("%s already pending (%s at %s)", what, p.Operator, p.At.Local().Format("15:04:05"))
	}
	return ""
}

// PendingOf returns the pending action of verb v on target, or nil.
func (b *Board) PendingOf(v Verb, target string) *Pending {
	if b == nil {
		return nil
	}
	for i := range b.Pending {
		if b.Pending[i].Verb == v && b.Pending[i].Target == target {
			return &b.Pending[i]
		}
	}
	return nil
}

// EndedOf returns the ack of service that ended upstream during the
// outage open since since (nil when none did, or it ended before).
func (b *Board) EndedOf(service string, since time.Time) *Ack {
	if b == nil {
		return nil
	}
	if a := b.Ended[service]; a != nil && !a.EndedAt.Before(since) {
		return a
	}
	return nil
}

// AckOf returns the ack in force on service, or nil.
func (b *Board) AckOf(service string) *Ack {
	if b == nil {
		return nil
	}
	return b.Acks[service]
}

// LevelOf is the escalation level of service: 1 until someone escalates.
func (b *Board) LevelOf(service string) int {
	if b != nil {
		if e := b.Escalations[service]; e != nil {
			return e.Level
		}
	}
	return 1
}

// NotesOf lists the notes on service ("" for the shift), newest first.
func (b *Board) NotesOf(service string) []Note {
	if b == nil {
		return nil
	}
	var out []Note
	for _, n := range b.Notes {
		if n.Service == service {
			out = append(out, n)
		}
	}
	return out
}

// SilenceAuthor names who silenced a signal upstream: the author of the
// first of its silences the board knows, or "".
func (b *Board) SilenceAuthor(sig *Signal) string {
	if sig == nil {
		return ""
	}
	return b.SilencedByAuthor(sig.SilencedBy())
}

// SilencedByAuthor is the author of the first known silence among ids, or
// "" when none is known (silences are read by the polling process).
func (b *Board) SilencedByAuthor(ids []string) string {
	if b == nil {
		return ""
	}
	for _, id := range ids {
		if s, ok := b.Silences[id]; ok && s.CreatedBy != "" {
			return s.CreatedBy
		}
	}
	return ""
}

// EscalationLevel is one step of the escalation policy.
type EscalationLevel struct {
	Level   int
	Who     string
	Contact string
	After   time.Duration
	MinRole Role // RoleNone: any role that may act (tier1)
}

// Policy decides who may do what: operator roles, the escalation policy
// and the read-only switch. It is pure and safe for concurrent use once
// built.
type Policy struct {
	// Roles maps OS user names, and group names prefixed with "@", to roles.
	Roles map[string]Role
	// Levels is the escalation policy, lowest level first.
	Levels []EscalationLevel
	// ReadOnly refuses every action (the wall-screen kiosk).
	ReadOnly bool
	// NotifyAfter is how long an outage may stay open before the teams it
	// affects and that were not told are shown as UNTOLD; 0 is off.
	NotifyAfter time.Duration
}

// RoleFor is the role of a user in the given groups: the user's own entry
// if there is one, else the highest role among the groups' entries. With
// no operator_roles configured at all, everyone is tier1 (a console on a
// single-user host works without role config); once any role is
// configured, an operator it does not name is a viewer and cannot act.
func (p *Policy) RoleFor(user string, groups []string) Role {
	if len(p.Roles) == 0 {
		return RoleTier1
	}
	if r, ok := p.Roles[user]; ok {
		return r
	}
	best := RoleViewer
	for _, g := range groups {
		if r, ok := p.Roles["@"+g]; ok && r > best {
			best = r
		}
	}
	return best
}

// Level returns the policy's level n, or nil.
func (p *Policy) Level(n int) *EscalationLevel {
	for i := range p.Levels {
		if p.Levels[i].Level == n {
			return &p.Levels[i]
		}
	}
	return nil
}

// NextLevel is the level after cur, or nil at the top.
func (p *Policy) NextLevel(cur int) *EscalationLevel {
	for i := range p.Levels {
		if p.Levels[i].Level > cur {
			return &p.Levels[i]
		}
	}
	return nil
}

// AckDeadline is how long an outage may stay unacknowledged before it is
// shown as overdue: level 1's `after`, or when that is zero (level 1
// applies at once) the `after` of the next level. Zero means no deadline.
func (p *Policy) AckDeadline() time.Duration {
	for _, l := range p.Levels {
		if l.After > 0 {
			return l.After
		}
	}
	return 0
}

// Overdue reports whether an outage open since since and not acknowledged
// is past the ack deadline at now.
func (p *Policy) Overdue(since, now time.Time, acked bool) bool {
	d := p.AckDeadline()
	return !acked && d > 0 && !since.IsZero() && now.Sub(since) >= d
}

// Refusal says why op may not take the request, or "" when they may. The
// reasons are shown to the operator and recorded in the audit log.
func (p *Policy) Refusal(op Operator, req ActionRequest) string {
	if p.ReadOnly {
		return "read-only console"
	}
	role := op.Role
	if role < RoleTier1 {
		return fmt.Sprintf("role %s cannot %s", role, verbWords(req.Verb))
	}
	if why := silenceRefusal(op, req); why != "" {
		return why
	}
	if req.Verb == VerbTicketEscalate && req.Ticket.Tier == Tier2 {
		return "already Tier 2"
	}
	if req.Verb == VerbEscalate {
		l := p.Level(req.Level)
		if l == nil {
			if len(p.Levels) == 0 {
				return "no escalation policy configured"
			}
			return fmt.Sprintf("no escalation level %d (top level is %d)", req.Level, p.Levels[len(p.Levels)-1].Level)
		}
		if l.MinRole > role {
			return fmt.Sprintf("role %s cannot escalate to level %d (needs %s)", role, l.Level, l.MinRole)
		}
	}
	return ""
}

func verbWords(v Verb) string {
	switch v {
	case VerbAck:
		return "acknowledge"
	case VerbUnack:
		return "un-acknowledge"
	case VerbNote:
		return "write notes"
	case VerbEscalate:
		return "escalate"
	case VerbTicketEscalate:
		return "escalate tickets"
	case VerbTake:
		return "take tickets"
	case VerbNotify:
		return "notify teams"
	case VerbExpireSilence, VerbExtendSilence, VerbCreateSilence:
		return silenceVerbWords(v)
	}
	return string(v)
}

// Validate checks a request before anything is recorded: a comment where
// one is required, a service, a level. It returns the problem in words.
func (r *ActionRequest) Validate() string {
	switch r.Verb {
	case VerbAck, VerbEscalate:
		if r.Service == "" {
			return "select an outage or alert"
		}
		if strings.TrimSpace(r.Comment) == "" {
			return "a comment is required"
		}
		if r.Verb == VerbAck && r.Expiry < 0 {
			return "expiry must be positive"
		}
	case VerbUnack:
		if r.Service == "" {
			return "select an outage or alert"
		}
	case VerbNotify:
		if r.Service == "" {
			return "select an outage"
		}
	case VerbNote:
		if strings.TrimSpace(r.Comment) == "" {
			return "the note is empty"
		}
	case VerbTicketEscalate, VerbTake:
		if r.Ticket.Source == "" || r.Ticket.ID == "" {
			return "select a ticket"
		}
		if r.Verb == VerbTicketEscalate && strings.TrimSpace(r.Comment) == "" {
			return "a comment is required"
		}
	case VerbExpireSilence, VerbExtendSilence, VerbCreateSilence:
		return r.validateSilence()
	default:
		return fmt.Sprintf("unknown action %q", r.Verb)
	}
	return ""
}

// SortedKeys returns the map's keys sorted, for deterministic output.
func SortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
