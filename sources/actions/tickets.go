package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"sitroom/model"
	"sitroom/sources/tickets"
)

// ticketPayload is what an outbox row of a ticket delivery carries.
type ticketPayload struct {
	Comment string `json:"comment,omitempty"` // the escalation comment, without its marker
	User    string `json:"user,omitempty"`    // the operator a take assigns
}

// planTicket fills in a ticket escalation or take: one delivery to the
// ticket's source, and the comment carrying the context (operator,
// linked outage, affected services, runbook). It returns the flash
// message, or a refusal when the ticket cannot be acted on here.
func (d *Dispatcher) planTicket(a *model.Action, req model.ActionRequest) (msg, refusal string) {
	tr := req.Ticket
	if d.opt.Tickets[tr.Source] == nil {
		return "", fmt.Sprintf("%s is not a configured ticket source", tr.Source)
	}
	var p ticketPayload
	kind := model.DeliverTicketTake
	if req.Verb == model.VerbTicketEscalate {
		kind = model.DeliverTicketEscalate
		p.Comment = d.EscalationComment(req, a)
		msg = fmt.Sprintf("escalating %s to Tier 2", tr.Label())
	} else {
		p.User = a.Operator
		msg = fmt.Sprintf("taking %s for %s", tr.Label(), a.Operator)
	}
	b, _ := json.Marshal(p)
	a.Deliveries = []model.Delivery{{Kind: kind, Dest: tr.Source, Key: tr.ID, Payload: string(b)}}
	return msg, ""
}

// EscalationComment is the comment a ticket escalation adds: the
// operator's words, then who escalated from where and when, the outage
// the ticket is linked to (as the last snapshot shows it), the services
// impacted downstream and the runbook. The marker is added on delivery.
func (d *Dispatcher) EscalationComment(req model.ActionRequest, a *model.Action) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(req.Comment))
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "Escalated to Tier 2 by %s (%s) with sitroom on %s at %s.\n", a.Operator, a.Role, a.Host,
		a.At.UTC().Format("2006-01-02 15:04 UTC"))
	snap := d.snapshot()
	var o *model.Outage
	if snap != nil && req.Service != "" {
		o = snap.Outage(req.Service)
	}
	switch {
	case o != nil:
		fmt.Fprintf(&b, "Linked outage: %s, %s since %s, %s.\n", o.Service, o.Severity, o.Since.UTC().Format("15:04 UTC"), model.Plural(o.Alerts, "alert", "alerts"))
		if o.ProbableCause != "" {
			fmt.Fprintf(&b, "Probable cause: %s.\n", o.ProbableCause)
		}
		if o.Impact != nil && len(o.Impact.Downstream) > 0 {
			var names []string
			for _, n := range o.Impact.Downstream {
				names = append(names, n.Service)
			}
			fmt.Fprintf(&b, "Affected services: %s.\n", strings.Join(names, ", "))
		}
		if o.Runbook != "" {
			fmt.Fprintf(&b, "Runbook: %s\n", o.Runbook)
		}
	case req.Service != "":
		fmt.Fprintf(&b, "Service: %s (no open outage).\n", req.Service)
	default:
		b.WriteString("No linked outage.\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// deliverTicket makes one attempt at a ticket delivery. An escalation is
// idempotent where the source can read its comments back
// (tickets.CommentFinder): the marker of this action is looked for first,
// and a comment already there is taken as the delivery.
func (d *Dispatcher) deliverTicket(ctx context.Context, dl model.Delivery) (string, error) {
	src := d.opt.Tickets[dl.Dest]
	if src == nil {
		return "", deadErr{fmt.Errorf("ticket source %s: %w", dl.Dest, errNoDest)}
	}
	var p ticketPayload
	if err := json.Unmarshal([]byte(dl.Payload), &p); err != nil {
		return "", deadErr{fmt.Errorf("unreadable ticket delivery: %v", err)}
	}
	var err error
	switch dl.Kind {
	case model.DeliverTicketEscalate:
		marker := model.TicketMarker(dl.ActionUID, dl.Key)
		if f, ok := src.(tickets.CommentFinder); ok {
			found, ferr := f.HasComment(ctx, dl.Key, marker)
			if ferr != nil {
				return "", ferr
			}
			if found {
				return dl.Key, nil
			}
		}
		err = src.Escalate(ctx, dl.Key, p.Comment+"\n\n"+marker)
	case model.DeliverTicketTake:
		err = src.Take(ctx, dl.Key, p.User)
	}
	if err != nil {
		if ticketPermanent(err) {
			return "", deadErr{err}
		}
		return "", err
	}
	return dl.Key, nil
}

// ticketPermanent reports whether retrying cannot help: the ticket or the
// user does not exist, or the system refused the request as such
// (sources.FetchError.Permanent).
func ticketPermanent(err error) bool {
	return errors.Is(err, tickets.ErrNotFound) || errors.Is(err, tickets.ErrUnknownUser) || permanent(err)
}
