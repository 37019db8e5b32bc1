package model

import (
	"sort"
	"strings"
	"time"
)

// BreachingSoon is how close to its SLA deadline a ticket counts as
// "breaching soon" in the backlog summary.
const BreachingSoon = 30 * time.Minute

// TicketItem is one open ticket in a snapshot, with the service it is
// linked to. The Ticket is shared with the cache and never modified.
type TicketItem struct {
	Ticket *Ticket
	// Service is the service the ticket is linked to, "" when none: the
	// ticket's own service hint (a configured field), else the first
	// catalog service whose matchers match the ticket's fields.
	Service string
	// Stale is set when the ticket's source failed its last poll, or
	// answered with no ticket while it had some (held as suspect): the
	// ticket is shown from the cache. StaleSince is its last good poll.
	Stale      bool
	StaleSince time.Time
}

// TierSummary is the backlog of one tier at the snapshot's time.
type TierSummary struct {
	Tier          Tier
	Open          int
	Unassigned    int
	Breached      int       // SLA breached
	BreachingSoon int       // not breached, but within BreachingSoon of the deadline
	Oldest        time.Time // Created of the oldest open ticket; zero when none is known
}

// Backlog summarises the open tickets per tier.
type Backlog struct {
	// Known is false when no ticket source is configured: ticket counts
	// are then unknown, never zero.
	Known bool
	Tier1 TierSummary
	Tier2 TierSummary
	// Stale is set when a ticket source the counts come from is failing
	// (or its last reply is suspect): the counts are those of its last
	// good poll, at StaleSince (the earliest such; zero when one never
	// answered).
	Stale      bool
	StaleSince time.Time
}

// Tier returns the summary of tier t (Tier1 or Tier2), or nil.
func (b *Backlog) Tier(t Tier) *TierSummary {
	switch t {
	case Tier1:
		return &b.Tier1
	case Tier2:
		return &b.Tier2
	}
	return nil
}

// LinkTicket names the service a ticket belongs to: its service hint when
// it has one, else the first catalog service whose matchers match its
// fields (queue, subject, service, ...), else "".
func LinkTicket(cat *Catalog, t *Ticket) string {
	if t.Service != "" {
		return t.Service
	}
	if cat != nil && !t.Fields.IsEmpty() {
		for _, s := range cat.Services {
			for _, alt := range s.Match {
				if MatchAll(alt, t.Fields) {
					return s.Name
				}
			}
		}
	}
	return ""
}

// AttachTickets adds the open tickets of the configured ticket sources
// (ticketSources, by name) to a snapshot built by BuildSnapshot: links
// each to a service, marks tickets of failing sources stale, sums the
// backlog per tier and fills ServiceState.Tickets. Tickets of sources not
// configured are left out. With no ticket source configured the backlog
// stays unknown. Tickets are ordered by SLA urgency (see TicketLess).
func AttachTickets(snap *Snapshot, tickets []*Ticket, ticketSources []string, cat *Catalog) {
	if len(ticketSources) == 0 {
		return
	}
	now := snap.Built
	snap.Backlog = Backlog{Known: true, Tier1: TierSummary{Tier: Tier1}, Tier2: TierSummary{Tier: Tier2}}
	status := make(map[string]*SourceStatus, len(ticketSources))
	for _, name := range ticketSources {
		status[name] = nil
	}
	for i := range snap.Sources {
		src := &snap.Sources[i]
		if _, ok := status[src.Name]; !ok {
			continue
		}
		status[src.Name] = src
		if src.LastError != "" || strings.HasPrefix(src.Note, EmptyReplyNote) {
			b := &snap.Backlog
			if !b.Stale || src.LastSuccess.Before(b.StaleSince) {
				b.StaleSince = src.LastSuccess
			}
			b.Stale = true
		}
	}
	slab := make([]TicketItem, 0, len(tickets))
	snap.Tickets = make([]*TicketItem, 0, len(tickets))
	var prevLinks, links map[*Ticket]string
	if cat != nil {
		cat.linksMu.Lock()
		defer cat.linksMu.Unlock()
		prevLinks, links = cat.links, make(map[*Ticket]string, len(tickets))
		cat.links = links
	}
	for _, t := range tickets {
		st, ok := status[t.Source]
		if !ok {
			continue
		}
		svc, known := prevLinks[t]
		if !known {
			svc = LinkTicket(cat, t)
		}
		if links != nil {
			links[t] = svc
		}
		slab = append(slab, TicketItem{Ticket: t, Service: svc})
		it := &slab[len(slab)-1]
		if st != nil && (st.LastError != "" || strings.HasPrefix(st.Note, EmptyReplyNote)) {
			it.Stale, it.StaleSince = true, st.LastSuccess
		}
		snap.Tickets = append(snap.Tickets, it)
		if sum := snap.Backlog.Tier(t.Tier); sum != nil {
			sum.Open++
			if t.Unassigned() {
				sum.Unassigned++
			}
			if !t.Created.IsZero() && (sum.Oldest.IsZero() || t.Created.Before(sum.Oldest)) {
				sum.Oldest = t.Created
			}
			if t.SLA.BreachedAt(now) {
				sum.Breached++
			} else if left, ok := t.SLA.Left(now); ok && left <= BreachingSoon {
				sum.BreachingSoon++
			}
		}
		if it.Service != "" {
			if snap.Services == nil {
				snap.Services = map[string]*ServiceState{}
			}
			ss := snap.Services[it.Service]
			if ss == nil {
				ss = &ServiceState{}
				snap.Services[it.Service] = ss
			}
			ss.Tickets++
		}
	}
	for _, ss := range snap.Services {
		ss.TicketsKnown = true
	}
	sort.Slice(snap.Tickets, func(i, j int) bool { return TicketLess(snap.Tickets[i].Ticket, snap.Tickets[j].Ticket, now) })
}

// TicketLess orders tickets by SLA urgency at now: breached first (the
// longest overdue first), then the least time left; tickets without an
// SLA after those; ties by priority (P1 first), then age (oldest first),
// then source and ID.
func TicketLess(a, b *Ticket, now time.Time) bool {
	la, oka := a.SLA.Left(now)
	lb, okb := b.SLA.Left(now)
	if oka != okb {
		return oka
	}
	if oka && la != lb {
		return la < lb
	}
	return PriorityLess(a, b)
}

// PriorityLess orders tickets by priority (P1 first, none last), then age
// (oldest first), then source and ID.
func PriorityLess(a, b *Ticket) bool {
	pa, pb := a.Priority, b.Priority
	if pa == PriorityNone {
		pa = PriorityPlanning + 1
	}
	if pb == PriorityNone {
		pb = PriorityPlanning + 1
	}
	if pa != pb {
		return pa < pb
	}
	return AgeLess(a, b)
}

// AgeLess orders tickets oldest first (unknown creation last), then by
// source and ID.
func AgeLess(a, b *Ticket) bool {
	if !a.Created.Equal(b.Created) {
		if a.Created.IsZero() || b.Created.IsZero() {
			return !a.Created.IsZero()
		}
		return a.Created.Before(b.Created)
	}
	if a.Source != b.Source {
		return a.Source < b.Source
	}
	return a.ID < b.ID
}

// TicketsOf lists the open tickets linked to service, in snapshot order.
func (s *Snapshot) TicketsOf(service string) []*TicketItem {
	var out []*TicketItem
	for _, t := range s.Tickets {
		if t.Service == service {
			out = append(out, t)
		}
	}
	return out
}

// Ticket verbs: escalating a ticket to Tier 2 and taking one. They are
// recorded in the audit log like every action, with no outage effect.
const (
	VerbTicketEscalate Verb = "escalate-ticket"
	VerbTake           Verb = "take"
)

// Ticket delivery kinds.
const (
	DeliverTicketEscalate = "ticket-escalate" // move a ticket to Tier 2 with a comment
	DeliverTicketTake     = "ticket-take"     // make the operator the ticket's owner
)

// TicketRef names the ticket an action is on.
type TicketRef struct {
	Source string
	ID     string // model.Ticket.ID, what writes address
	Number string // what people call it
	Tier   Tier
	Owner  string
}

// Label is how messages name the ticket: "rt-noc #42".
func (r TicketRef) Label() string {
	n := r.Number
	if n == "" {
		n = r.ID
	}
	return r.Source + " " + n
}

// TicketMarker is the text sitroom puts at the end of every ticket
// comment it writes, so a retry finds the comment an earlier attempt made.
func TicketMarker(uid, ticketID string) string {
	return "[sitroom action " + uid + " ticket " + ticketID + "]"
}
