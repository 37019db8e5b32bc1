package model

import (
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// Tier is the support tier a ticket's queue (or assignment group) belongs
// to, as the config maps it. The zero value is TierNone: not in a mapped
// queue.
type Tier int

// Tiers.
const (
	TierNone Tier = iota
	Tier1
	Tier2
)

// String is the short label shown on screen: T1, T2 or "—".
func (t Tier) String() string {
	switch t {
	case Tier1:
		return "T1"
	case Tier2:
		return "T2"
	}
	return "—"
}

// ParseTier reads a tier as config spells it: 1, 2, tier1, tier2, t1 or
// t2 (case-insensitive); ok is false for anything else.
func ParseTier(s string) (t Tier, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "tier1", "t1":
		return Tier1, true
	case "2", "tier2", "t2":
		return Tier2, true
	}
	return TierNone, false
}

// Priority is a ticket's priority normalised across ticket systems: P1
// (most urgent) to P5 (planning). The zero value is PriorityNone: the
// system gave none, or one that could not be mapped. A lower non-zero value
// is more urgent.
type Priority int

// Priorities, most urgent first.
const (
	PriorityNone     Priority = 0
	PriorityCritical Priority = 1
	PriorityHigh     Priority = 2
	PriorityModerate Priority = 3
	PriorityLow      Priority = 4
	PriorityPlanning Priority = 5
)

// String is the short label shown on screen: P1 to P5, or "—".
func (p Priority) String() string {
	if p >= PriorityCritical && p <= PriorityPlanning {
		return "P" + strconv.Itoa(int(p))
	}
	return "—"
}

// ParsePriority reads a priority as config or an upstream spells it by
// name: P1–P5, 1–5, and the names ServiceNow and Jira use (critical,
// highest, blocker; high, major; moderate, medium; low, minor; planning,
// lowest, trivial), case-insensitively. Anything else is PriorityNone.
func ParsePriority(s string) Priority {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) == 2 && s[0] == 'p' {
		s = s[1:]
	}
	if i := strings.IndexAny(s, " -"); i > 0 && s[0] >= '1' && s[0] <= '5' {
		s = s[:i] // ServiceNow display values: "1 - Critical"
	}
	switch s {
	case "1", "critical", "highest", "blocker", "urgent":
		return PriorityCritical
	case "2", "high", "major":
		return PriorityHigh
	case "3", "moderate", "medium", "normal":
		return PriorityModerate
	case "4", "low", "minor":
		return PriorityLow
	case "5", "planning", "lowest", "trivial":
		return PriorityPlanning
	}
	return PriorityNone
}

// DefaultRTPriorities is RT 5's default %PriorityAsString map: the labels
// it names numeric priorities by, with the lowest number of each.
func DefaultRTPriorities() map[string]int {
	return map[string]int{"Low": 0, "Medium": 50, "High": 100}
}

// RTPriorityName names Request Tracker's numeric priority n the way RT's
// _PriorityAsString does with the label map m: the label with the highest
// value at or below n ("unknown" when n is below them all). Labels of
// equal value are taken in name order. An empty map names nothing: "".
func RTPriorityName(m map[string]int, n int) string {
	if len(m) == 0 {
		return ""
	}
	best, found := "", false
	for label, v := range m {
		if v > n {
			continue
		}
		if !found || v > m[best] || (v == m[best] && label < best) {
			best, found = label, true
		}
	}
	if !found {
		return "unknown"
	}
	return best
}

// PriorityFromName is the normalised priority of an upstream priority
// name: the one ParsePriority reads in it ("High" is P2, "Urgent" P1),
// else, for a name of the label map m, its rank from the top of m (the
// highest label P1, the next P2, ..., at most P5). Anything else is
// PriorityNone.
func PriorityFromName(name string, m map[string]int) Priority {
	if p := ParsePriority(name); p != PriorityNone {
		return p
	}
	v, ok := m[name]
	if !ok {
		return PriorityNone
	}
	rank := 1
	for label, w := range m {
		if w > v || (w == v && label < name) {
			rank++
		}
	}
	return Priority(min(rank, int(PriorityPlanning)))
}

// TicketSLA is the service-level deadline of a ticket, as the ticket system
// reports it or as computed from a per-priority target in config.
type TicketSLA struct {
	// Known is false when neither the system nor the config gives a
	// deadline; the other fields are then zero.
	Known bool
	// Name is the SLA's name upstream ("Time to resolution"), or "target"
	// for a config target.
	Name string
	// Due is when the SLA breaches (Jira breachTime, ServiceNow
	// planned_end_time, created + target). Zero when the system reports
	// only a remaining time.
	Due time.Time
	// Breached is the system's own verdict, or Due having passed.
	Breached bool
	// Paused is true while the clock is stopped (Jira paused, ServiceNow
	// stage paused, Jira outside calendar hours): Remaining then does not
	// run down.
	Paused bool
	// Remaining is the time left as reported at AsOf (negative once
	// breached); zero when the system reports only Due.
	Remaining time.Duration
	// AsOf is when Remaining was read.
	AsOf time.Time
}

// Left is the time left at now: negative once breached. Paused SLAs (and
// SLAs with a reported remaining time but no due time) report Remaining;
// otherwise Due − now. ok is false when the SLA is not Known.
func (s TicketSLA) Left(now time.Time) (left time.Duration, ok bool) {
	switch {
	case !s.Known:
		return 0, false
	case s.Paused || (s.Due.IsZero() && !s.AsOf.IsZero()):
		return s.Remaining, true
	case !s.Due.IsZero():
		return s.Due.Sub(now), true
	}
	return s.Remaining, true
}

// BreachedAt reports whether the SLA is breached at now: the system said so,
// or the time left is negative.
func (s TicketSLA) BreachedAt(now time.Time) bool {
	if !s.Known {
		return false
	}
	if s.Breached {
		return true
	}
	left, _ := s.Left(now)
	return left < 0
}

// TargetSLA is the SLA a ticket gets from a per-priority target in config
// when its system has none: due target after created.
func TargetSLA(created time.Time, target time.Duration) TicketSLA {
	if created.IsZero() || target <= 0 {
		return TicketSLA{}
	}
	return TicketSLA{Known: true, Name: "target", Due: created.Add(target)}
}

// Ticket is one open ticket as one ticket system reports it in one poll.
// Every string in it comes from the upstream and is untrusted: draw it
// literally, never interpret it.
type Ticket struct {
	// Source is the configured name of the ticket source.
	Source string
	// ID is the upstream's stable identifier, the one writes address:
	// RT's ticket id, Jira's issue id, ServiceNow's sys_id.
	ID string
	// Number is what people call the ticket: RT's id, Jira's key
	// (NOC-812), ServiceNow's number (INC0041207).
	Number string
	// URL is the ticket's page for people, when the source can build one.
	URL string
	// Tier is the tier of the queue or group the ticket is in.
	Tier Tier
	// Queue is the RT queue, the Jira queue or project, or the ServiceNow
	// assignment group (its name when known).
	Queue string
	// Priority is the normalised priority; PriorityRaw is the upstream's
	// own value ("60", "High", "1"); PriorityName is the name the
	// upstream gives that value (RT's %PriorityAsString label "Medium",
	// Jira's "High", ServiceNow's "Moderate"), "" when it has none.
	Priority     Priority
	PriorityRaw  string
	PriorityName string
	// Status is the upstream's status name or value (open, "In Progress",
	// "2").
	Status string
	// Subject is the ticket's title.
	Subject string
	// Requester is who asked (RT requestor, Jira reporter, ServiceNow
	// caller).
	Requester string
	// Owner is who works on it (RT owner, Jira assignee, ServiceNow
	// assigned_to); "" when nobody does (RT's Nobody reads as "").
	Owner string
	// Created and Updated are the upstream's timestamps, in UTC.
	Created time.Time
	Updated time.Time
	// SLA is the ticket's SLA deadline, when there is one.
	SLA TicketSLA
	// Service is a service name hint taken from a field configured for it
	// (an RT custom field, a Jira component or custom field, ServiceNow's
	// configuration item), "" when none.
	Service string
	// Fields are ticket fields catalog matchers run over to link the
	// ticket to services (queue, subject, service, component, ci, ...).
	// Read-only once returned by a source.
	Fields Labels
}

// PriorityLabel is the priority as the upstream names it, else the
// normalised one (P1 to P5, or "—").
func (t *Ticket) PriorityLabel() string {
	if t.PriorityName != "" {
		return t.PriorityName
	}
	return t.Priority.String()
}

// Key identifies the ticket across sources: source name and ID.
func (t *Ticket) Key() string { return t.Source + "\x00" + t.ID }

// Unassigned reports whether nobody owns the ticket.
func (t *Ticket) Unassigned() bool { return t.Owner == "" }

// Age is how long the ticket has been open at now (zero when Created is
// unknown).
func (t *Ticket) Age(now time.Time) time.Duration {
	if t.Created.IsZero() {
		return 0
	}
	return now.Sub(t.Created)
}

// ContentHash hashes everything a cache stores about the ticket (all but
// SLA.AsOf, which moves every poll), so an unchanged ticket costs no
// write. Map iteration order does not matter.
func (t *Ticket) ContentHash() uint64 {
	h := fnv.New64a()
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0xff}) }
	tm := func(x time.Time) {
		if x.IsZero() {
			w("")
			return
		}
		w(x.UTC().Format(time.RFC3339Nano))
	}
	w(t.Source)
	w(t.ID)
	w(t.Number)
	w(t.URL)
	w(strconv.Itoa(int(t.Tier)))
	w(t.Queue)
	w(strconv.Itoa(int(t.Priority)))
	w(t.PriorityRaw)
	w(t.PriorityName)
	w(t.Status)
	w(t.Subject)
	w(t.Requester)
	w(t.Owner)
	tm(t.Created)
	tm(t.Updated)
	w(strconv.FormatBool(t.SLA.Known))
	w(t.SLA.Name)
	tm(t.SLA.Due)
	w(strconv.FormatBool(t.SLA.Breached))
	w(strconv.FormatBool(t.SLA.Paused))
	if t.SLA.Paused || t.SLA.Due.IsZero() {
		w(t.SLA.Remaining.String())
	}
	w(t.Service)
	w("\x00fields")
	writeMap(w, t.Fields)
	return h.Sum64()
}

// The source types that read tickets rather than alerts: Request Tracker,
// Jira Service Management and ServiceNow.
const (
	TicketTypeRT         = "rt"
	TicketTypeJira       = "jira"
	TicketTypeServiceNow = "servicenow"
)

// TicketSourceTypes lists the ticket source types.
func TicketSourceTypes() []string {
	return []string{TicketTypeRT, TicketTypeJira, TicketTypeServiceNow}
}

// IsTicketSourceType reports whether a source of type t reads tickets (its
// status counts tickets, not alerts).
func IsTicketSourceType(t string) bool {
	switch t {
	case TicketTypeRT, TicketTypeJira, TicketTypeServiceNow:
		return true
	}
	return false
}
