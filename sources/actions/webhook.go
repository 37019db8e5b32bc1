package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"sitroom/model"
	"sitroom/sources"
)

// Webhook formats.
const (
	FormatJSON      = "json"      // sitroom's own JSON body (see EscalationEvent)
	FormatPagerDuty = "pagerduty" // PagerDuty Events API v2 (POST /v2/enqueue)
)

// Webhook is an endpoint told about every escalation.
type Webhook struct {
	Name   string
	URL    string
	Format string // FormatJSON (default) or FormatPagerDuty
	// RoutingKey is the PagerDuty integration key. It is a secret: it is
	// added to the body at send time and never stored in the outbox.
	RoutingKey string
	Client     *http.Client // default: 10s timeout
}

// EscalationEvent is the generic JSON body of an escalation webhook.
type EscalationEvent struct {
	Event      string    `json:"event"` // "escalate"
	ActionID   string    `json:"action_id"`
	Service    string    `json:"service"`
	Level      int       `json:"level"`
	Who        string    `json:"who"`
	Contact    string    `json:"contact,omitempty"`
	Comment    string    `json:"comment"`
	Operator   string    `json:"operator"`
	Host       string    `json:"host,omitempty"`
	At         time.Time `json:"at"`
	Severity   string    `json:"severity,omitempty"`
	Since      time.Time `json:"since,omitzero"`
	Alerts     int       `json:"alerts"`
	Runbook    string    `json:"runbook,omitempty"`
	Owner      string    `json:"owner,omitempty"`
	Downstream []string  `json:"downstream,omitempty"`
	Notify     []string  `json:"notify,omitempty"`
}

// pdEvent is a PagerDuty Events API v2 trigger.
type pdEvent struct {
	RoutingKey  string    `json:"routing_key"`
	EventAction string    `json:"event_action"`
	DedupKey    string    `json:"dedup_key"`
	Payload     pdPayload `json:"payload"`
	Links       []pdLink  `json:"links,omitempty"`
}

type pdPayload struct {
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Severity      string          `json:"severity"` // critical, error, warning or info
	Timestamp     string          `json:"timestamp"`
	Component     string          `json:"component"`
	Group         string          `json:"group,omitempty"`
	Class         string          `json:"class"`
	CustomDetails EscalationEvent `json:"custom_details"`
}

type pdLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// webhookDeliveries queues one delivery per webhook carrying the
// escalation: the outage, its services, runbook and comment.
func (d *Dispatcher) webhookDeliveries(a *model.Action, req model.ActionRequest) []model.Delivery {
	if len(d.opt.Webhooks) == 0 {
		return nil
	}
	ev := EscalationEvent{Event: "escalate", Service: req.Service, Level: a.Level, Who: a.Who, Contact: a.Contact,
		Comment: req.Comment, Operator: a.Operator, Host: a.Host, At: a.At.UTC(), Alerts: len(req.AlertKeys)}
	if snap := d.snapshot(); snap != nil {
		if o := snap.Outage(req.Service); o != nil {
			ev.Severity, ev.Since, ev.Runbook, ev.Owner, ev.Alerts = o.Severity.String(), o.Since.UTC(), o.Runbook, o.Owner, o.Alerts
			if o.Impact != nil {
				for _, n := range o.Impact.Downstream {
					ev.Downstream = append(ev.Downstream, n.Service)
				}
				for _, t := range o.Impact.Notify {
					ev.Notify = append(ev.Notify, t.Contacts...)
				}
			}
		}
	}
	body, _ := json.Marshal(ev)
	out := make([]model.Delivery, 0, len(d.opt.Webhooks))
	for _, w := range d.opt.Webhooks {
		out = append(out, model.Delivery{Kind: model.DeliverWebhook, Dest: w.Name, Payload: string(body)})
	}
	return out
}

// body builds what is sent: the stored event, or the PagerDuty shape
// around it with the routing key added now.
func (w *Webhook) body(dl model.Delivery) ([]byte, error) {
	if w.Format != FormatPagerDuty {
		var ev EscalationEvent
		if err := json.Unmarshal([]byte(dl.Payload), &ev); err != nil {
			return nil, deadErr{fmt.Errorf("webhook payload: %w", err)}
		}
		ev.ActionID = dl.ActionUID
		return json.Marshal(ev)
	}
	var ev EscalationEvent
	if err := json.Unmarshal([]byte(dl.Payload), &ev); err != nil {
		return nil, deadErr{fmt.Errorf("webhook payload: %w", err)}
	}
	ev.ActionID = dl.ActionUID
	sev := "error"
	switch strings.ToLower(ev.Severity) {
	case "crit", "critical":
		sev = "critical"
	case "warn", "warning":
		sev = "warning"
	case "info":
		sev = "info"
	}
	e := pdEvent{
		RoutingKey:  w.RoutingKey,
		EventAction: "trigger",
		DedupKey:    "sitroom/" + ev.Service + "/" + ev.Since.Format(time.RFC3339),
		Payload: pdPayload{
			Summary:       fmt.Sprintf("%s escalated to level %d (%s): %s", ev.Service, ev.Level, ev.Who, ev.Comment),
			Source:        "sitroom@" + ev.Host,
			Severity:      sev,
			Timestamp:     ev.At.Format(time.RFC3339),
			Component:     ev.Service,
			Group:         ev.Owner,
			Class:         "escalation",
			CustomDetails: ev,
		},
	}
	if ev.Runbook != "" && (strings.HasPrefix(ev.Runbook, "http://") || strings.HasPrefix(ev.Runbook, "https://")) {
		e.Links = []pdLink{{Href: ev.Runbook, Text: "runbook"}}
	}
	// PagerDuty's limit is 1024 bytes; cut on a character boundary (after
	// invalid UTF-8 became U+FFFD, as it will in the JSON) so the summary
	// never ends in half a character.
	e.Payload.Summary = strings.ToValidUTF8(e.Payload.Summary, "\uFFFD")
	if len(e.Payload.Summary) > 1024 {
		cut := 1021
		for cut > 0 && !utf8.RuneStart(e.Payload.Summary[cut]) {
			cut--
		}
		e.Payload.Summary = e.Payload.Summary[:cut] + "..."
	}
	return json.Marshal(e)
}

// post sends one delivery; the reply's start is the upstream reference.
// The action's uid and the webhook's name go in an Idempotency-Key header
// (and the PagerDuty dedup_key names the outage), so a receiver can drop
// a retried duplicate.
func (w *Webhook) post(ctx context.Context, dl model.Delivery) (string, error) {
	b, err := w.body(dl)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(b))
	if err != nil {
		return "", deadErr{err}
	}
	req.Header.Set("Content-Type", "application/json")
	// The same for every attempt of this call, by whichever console of
	// the team makes it (the outbox ids differ from cache to store).
	req.Header.Set("Idempotency-Key", dl.ActionUID+"/"+dl.Dest)
	c := w.Client
	if c == nil {
		c = httpClient
	}
	// The reply's body does not matter; its status is the reference.
	code, err := sources.DoRequest(c, req, 0, nil)
	if err != nil {
		return "", err
	}
	return w.Name + ": HTTP " + fmt.Sprint(code), nil
}
