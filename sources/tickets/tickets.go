// Package tickets holds what reads and changes tickets in ticket systems
// (Request Tracker, Jira Service Management, ServiceNow): the TicketSource
// interface and the helpers the ticket sources share. Each system's client
// lives in its own sub-package.
package tickets

import (
	"context"
	"errors"

	"sitroom/model"
)

// TicketSource reads the open tickets of the queues one ticket system maps
// to Tier 1 and Tier 2, and makes the two changes an operator asks for.
//
// Fetch is called from one goroutine at a time (the poller never overlaps
// polls of one source); Escalate and Take may be called from another
// goroutine (the outbox worker) concurrently with Fetch. Every method
// honours ctx cancellation and deadline, and every error says in words what
// went wrong (a *sources.FetchError for transport and HTTP failures, with
// HTTP 429 as throttled); no error holds a secret.
type TicketSource interface {
	// Name is the configured source name.
	Name() string
	// Type is the source type: rt, jira or servicenow.
	Type() string
	// Fetch returns every open ticket in the mapped queues now. A source
	// may fetch only what changed since its last poll and return the
	// merged set; the result is always the whole set.
	Fetch(ctx context.Context) ([]model.Ticket, error)
	// Escalate moves the ticket with this ID (model.Ticket.ID) from Tier 1
	// to Tier 2 and adds comment to it as an internal note. It is safe to
	// call again after a failure: a ticket already in Tier 2 is not moved
	// again, though the comment may then be added a second time only if
	// the first call failed before the system confirmed it.
	Escalate(ctx context.Context, id, comment string) error
	// Take makes the ticket's owner the upstream user that user (an
	// operator's name) maps to in config.
	Take(ctx context.Context, id, user string) error
}

// CommentFinder is implemented by ticket sources that can read a ticket's
// comments back: HasComment reports whether any comment on the ticket
// contains text. The dispatcher uses it to make escalations idempotent (a
// marker with the action's id is looked for before commenting again).
type CommentFinder interface {
	HasComment(ctx context.Context, id, text string) (bool, error)
}

// ErrUnknownUser is returned (wrapped) by Take when the operator has no
// user in the ticket system's user mapping and the system cannot use the
// operator's own name.
var ErrUnknownUser = errors.New("operator has no user in this ticket system")

// ErrNotFound is returned (wrapped) when the ticket does not exist
// upstream, or is not visible to sitroom's account.
var ErrNotFound = errors.New("ticket not found")
