// Package rt is the Request Tracker 5 ticket source: tickets of the queues
// mapped to Tier 1 and Tier 2 through REST2 (TicketSQL search with paging,
// only changed tickets refetched between full polls), escalation by queue
// change plus an internal comment, and take by owner change.
package rt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"sitroom/model"
	"sitroom/model/config"
	"sitroom/sources"
	"sitroom/sources/tickets"
)

// Type is the source type name.
const Type = config.TypeRT

// DefaultFullEvery is how often a full search replaces the incremental
// one when Options.FullEvery is zero.
const DefaultFullEvery = tickets.DefaultFullEvery

// tzMargin widens the LastUpdated window of incremental searches: RT reads
// the dates in TicketSQL in the RT user's time zone, whatever zone the
// string names, and the offset of any zone lies within −12h..+14h.
const tzMargin = 15 * time.Hour

// Options configure a Source.
type Options struct {
	// Common: URL is the RT base URL (without /REST/2.0); Client
	// carries the authorization type token, or basic_auth; Users maps
	// operators to RT user names (an operator not in it is taken to be an
	// RT user of the same name); SLATargets apply when a ticket has no Due
	// date (RT has no SLA clock of its own); ServiceField names a custom
	// field; PageSize is per_page (1..100).
	tickets.Common
	// Tier1 and Tier2 are the queue names of each tier.
	Tier1, Tier2 []string
	// EscalateTo is the queue Escalate moves tickets to; default Tier2[0].
	EscalateTo string
	// PriorityAsString is the site's %PriorityAsString: per queue name,
	// or "Default" for the others, label → lowest number of that label.
	// It names numeric priorities when RT's reply carries no name. Nil:
	// RT 5's default, model.DefaultRTPriorities.
	PriorityAsString map[string]map[string]int
}

// Source reads one RT instance. Fetch keeps the last result to merge
// changed tickets into; it is called by one goroutine at a time, while
// Escalate and Take may run concurrently with it.
type Source struct {
	o    Options
	base string // .../REST/2.0

	mu  sync.Mutex // held for a whole Fetch; guards inc
	inc tickets.Incremental
}

var _ tickets.TicketSource = (*Source)(nil)

// New returns the source o describes.
func New(o Options) (*Source, error) {
	o.Defaults(100)
	if len(o.Tier1) == 0 || len(o.Tier2) == 0 {
		return nil, fmt.Errorf("source %q: rt needs queues for tier 1 and tier 2", o.Name)
	}
	for _, q := range slices.Concat(o.Tier1, o.Tier2) {
		if strings.ContainsAny(q, `'\`) {
			return nil, fmt.Errorf("source %q: queue names with quotes or backslashes are not supported", o.Name)
		}
	}
	if o.EscalateTo == "" {
		o.EscalateTo = o.Tier2[0]
	}
	if o.PriorityAsString == nil {
		o.PriorityAsString = map[string]map[string]int{"Default": model.DefaultRTPriorities()}
	}
	if err := o.CheckURL(); err != nil {
		return nil, err
	}
	return &Source{o: o, base: strings.TrimRight(o.URL, "/") + "/REST/2.0", inc: tickets.Incremental{FullEvery: o.FullEvery}}, nil
}

// FromConfig builds the source from a validated config entry.
func FromConfig(sc config.Source) (*Source, error) {
	c, err := tickets.CommonFromConfig(sc)
	if err != nil {
		return nil, err
	}
	o := Options{Common: c, EscalateTo: sc.EscalateTo, PriorityAsString: sc.PriorityAsString}
	if sc.Tiers != nil {
		o.Tier1, o.Tier2 = sc.Tiers.Tier1.Queues, sc.Tiers.Tier2.Queues
	}
	return New(o)
}

// Name is the configured source name.
func (s *Source) Name() string { return s.o.Name }

// Type is "rt".
func (s *Source) Type() string { return Type }

// fields asked for in every search. RT 5's REST2 sends Priority as the
// stored number and leaves PriorityAsString out (it is no column), but a
// server that sends the name is believed.
const searchFields = "Subject,Status,Priority,PriorityAsString,Owner,Queue,Requestors,Created,LastUpdated,Due,CustomFields"

// Fetch returns the open tickets of the tier queues. The first poll, and
// one every FullEvery, searches them all; the others search only tickets
// updated since the newest update seen (less a margin for RT's time zone
// handling) and drop those that left the tier queues or closed.
func (s *Source) Fetch(ctx context.Context) ([]model.Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	active := s.queueClause() + " AND Status = '__Active__'"
	read := func(query string) ([]model.Ticket, error) {
		var out []model.Ticket
		err := s.search(ctx, query, searchFields, func(it *Item) { out = append(out, s.ticket(it, now)) })
		return out, err
	}
	return s.inc.Poll(now, tzMargin, func() ([]model.Ticket, error) { return read(active) },
		func(t time.Time) ([]model.Ticket, []string, error) {
			since := t.Format("2006-01-02 15:04:05")
			changed, err := read(active + " AND LastUpdated > '" + since + "'")
			if err != nil {
				return nil, nil, err
			}
			// Everything updated in the window that is not (in a tier
			// queue and active) has left the set.
			var gone []string
			left := "LastUpdated > '" + since + "' AND (Status = '__Inactive__' OR (" + s.notQueueClause() + "))"
			err = s.search(ctx, left, "", func(it *Item) { gone = append(gone, it.ID) })
			return changed, gone, err
		})
}

func (s *Source) queueClause() string {
	var b strings.Builder
	b.WriteString("(")
	for i, q := range slices.Concat(s.o.Tier1, s.o.Tier2) {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("Queue = '" + q + "'")
	}
	b.WriteString(")")
	return b.String()
}

func (s *Source) notQueueClause() string {
	var parts []string
	for _, q := range slices.Concat(s.o.Tier1, s.o.Tier2) {
		parts = append(parts, "Queue != '"+q+"'")
	}
	return strings.Join(parts, " AND ")
}

// Page is one page of a REST2 collection.
type Page struct {
	Total    *int    `json:"total"`
	Page     int     `json:"page"`
	PerPage  int     `json:"per_page"`
	NextPage string  `json:"next_page"`
	Items    []*Item `json:"items"`
}

// Item is one ticket of a search reply, with the fields asked for.
type Item struct {
	ID          string         `json:"id"`
	Subject     string         `json:"Subject"`
	Status      string         `json:"Status"`
	Priority    jsontext.Value `json:"Priority"`
	PriorityStr string         `json:"PriorityAsString"`
	Owner       ref            `json:"Owner"`
	Queue       ref            `json:"Queue"`
	Requestors  []ref          `json:"Requestors"`
	Created     string         `json:"Created"`
	LastUpdated string         `json:"LastUpdated"`
	Due         string         `json:"Due"`
	CustomField cfList         `json:"CustomFields"`
}

// ref is a REST2 object reference: {"type", "id", "_url"} plus expanded
// fields (Name with fields[Queue]=Name). RT sends "" for one the user may
// not see.
type ref struct {
	ID   string
	Name string
}

func (r *ref) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	switch d.PeekKind() {
	case '"':
		_, err := d.ReadToken() // "" for a hidden value
		return err
	case 'n':
		_, err := d.ReadToken()
		return err
	}
	var v struct {
		ID   jsontext.Value `json:"id"`
		Name string         `json:"Name"`
	}
	if err := json.UnmarshalDecode(d, &v); err != nil {
		return err
	}
	r.ID, r.Name = scalar(v.ID), v.Name
	return nil
}

// cfList is the CustomFields of a ticket: an array of {name, values}, or
// "" when no custom field applies to the ticket.
type cfList []customField

func (l *cfList) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	if k := d.PeekKind(); k == '"' || k == 'n' {
		_, err := d.ReadToken()
		return err
	}
	return json.UnmarshalDecode(d, (*[]customField)(l))
}

type customField struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// scalar reads a JSON string or number as text; anything else is "".
func scalar(v jsontext.Value) string {
	switch v.Kind() {
	case '"':
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
	case '0':
		return string(v)
	}
	return ""
}

var unmarshalOpts = json.JoinOptions(json.RejectUnknownMembers(false), jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))

// DecodePage decodes one page of a REST2 ticket search.
func DecodePage(b []byte) (*Page, error) {
	var p Page
	if err := json.Unmarshal(b, &p, unmarshalOpts); err != nil {
		return nil, tickets.Malformed(err)
	}
	for _, it := range p.Items {
		if it == nil || it.ID == "" {
			return nil, sources.MalformedError("a ticket without an id")
		}
	}
	return &p, nil
}

// search runs a TicketSQL query page by page, following next_page.
func (s *Source) search(ctx context.Context, query, fields string, each func(*Item)) error {
	for pg := 1; ; pg++ {
		q := url.Values{}
		q.Set("query", query)
		if fields != "" {
			q.Set("fields", fields)
			q.Set("fields[Queue]", "Name")
		}
		q.Set("orderby", "id")
		q.Set("per_page", strconv.Itoa(s.o.PageSize))
		q.Set("page", strconv.Itoa(pg))
		var p *Page
		err := tickets.Get(ctx, s.o.Client, s.base+"/tickets?"+q.Encode(), func(b []byte) (err error) {
			p, err = DecodePage(b)
			return err
		})
		if err != nil {
			return s.explain("search", err)
		}
		for _, it := range p.Items {
			each(it)
		}
		if p.NextPage == "" || len(p.Items) == 0 || pg >= 100000 {
			return nil
		}
	}
}

// explain turns RT's error object into words.
func (s *Source) explain(step string, err error) error {
	var fe *sources.FetchError
	if errors.As(err, &fe) && fe.Status == http.StatusUnauthorized {
		return tickets.Wrap(step, &sources.FetchError{Kind: fe.Kind, Status: fe.Status, Body: fe.Body, Err: fe,
			Msg: "RT refused the credentials (HTTP 401): check the token or basic_auth"})
	}
	return tickets.Wrap(step, err)
}

// ticket maps a search item onto a model.Ticket.
func (s *Source) ticket(it *Item, now time.Time) model.Ticket {
	t := model.Ticket{
		Source:  s.o.Name,
		ID:      it.ID,
		Number:  it.ID,
		URL:     strings.TrimRight(s.o.URL, "/") + "/Ticket/Display.html?id=" + url.QueryEscape(it.ID),
		Queue:   it.Queue.Name,
		Status:  it.Status,
		Subject: it.Subject,
		Created: rtTime(it.Created),
		Updated: rtTime(it.LastUpdated),
	}
	if t.Queue == "" {
		t.Queue = it.Queue.ID
	}
	switch {
	case slices.Contains(s.o.Tier1, t.Queue):
		t.Tier = model.Tier1
	case slices.Contains(s.o.Tier2, t.Queue):
		t.Tier = model.Tier2
	}
	t.PriorityRaw = scalar(it.Priority)
	labels := s.priorityMap(t.Queue)
	switch n, err := strconv.Atoi(t.PriorityRaw); {
	case it.PriorityStr != "":
		t.PriorityName = it.PriorityStr
	case err == nil:
		t.PriorityName = model.RTPriorityName(labels, n)
	default:
		t.PriorityName = t.PriorityRaw // a name in place of the number
	}
	t.Priority = model.PriorityFromName(t.PriorityName, labels)
	if it.Owner.ID != "Nobody" {
		t.Owner = it.Owner.ID
	}
	if len(it.Requestors) > 0 {
		t.Requester = it.Requestors[0].ID
	}
	if due := rtTime(it.Due); !due.IsZero() {
		t.SLA = model.TicketSLA{Known: true, Name: "due", Due: due, Breached: due.Before(now)}
	}
	s.o.TargetSLA(&t, now)
	fields := []string{"queue", t.Queue, "subject", t.Subject, "status", t.Status}
	for _, cf := range it.CustomField {
		if len(cf.Values) == 0 {
			continue
		}
		if s.o.ServiceField != "" && cf.Name == s.o.ServiceField {
			t.Service = cf.Values[0]
			fields = append(fields, "service", cf.Values[0])
		}
		fields = append(fields, "cf_"+cf.Name, strings.Join(cf.Values, ","))
	}
	t.Fields = model.LabelsFromPairs(fields...)
	return t
}

// priorityMap is the %PriorityAsString labels of a queue: its own, else
// Default's.
func (s *Source) priorityMap(queue string) map[string]int {
	if m, ok := s.o.PriorityAsString[queue]; ok {
		return m
	}
	return s.o.PriorityAsString["Default"]
}

// rtTime reads RT's ISO 8601 UTC dates; RT's "unset" date
// (1970-01-01T00:00:00Z) and anything unreadable is the zero time.
func rtTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.Unix() <= 0 {
		return time.Time{}
	}
	return t.UTC()
}

// Escalate moves ticket id to the escalation queue (a no-op when it is
// there already) and adds comment as an internal comment, which RT does
// not mail to requestors. The move is checked by searching for the ticket
// in its new queue, since RT reports a refused change inside a 200 reply.
func (s *Source) Escalate(ctx context.Context, id, comment string) error {
	if err := checkID(id); err != nil {
		return err
	}
	if err := s.update(ctx, id, map[string]string{"Queue": s.o.EscalateTo}); err != nil {
		return tickets.Wrap("escalate #"+id, err)
	}
	ok, err := s.matches(ctx, "id = "+id+" AND Queue = '"+s.o.EscalateTo+"'")
	if err != nil {
		return tickets.Wrap("escalate #"+id, err)
	}
	if !ok {
		return fmt.Errorf("escalate #%s: RT did not move it to queue %s (no permission, or the queue does not exist)", id, s.o.EscalateTo)
	}
	if strings.TrimSpace(comment) == "" {
		return nil
	}
	err = tickets.Send(ctx, s.o.Client, http.MethodPost, s.base+"/ticket/"+id+"/comment", "text/plain; charset=utf-8", []byte(comment), nil)
	return s.explainWrite("comment on #"+id, err)
}

// Take makes the RT user user maps to the owner of ticket id.
func (s *Source) Take(ctx context.Context, id, user string) error {
	if err := checkID(id); err != nil {
		return err
	}
	rtUser := s.o.Users[user]
	if rtUser == "" {
		rtUser = user
	}
	if rtUser == "" || strings.ContainsAny(rtUser, `'\`) {
		return fmt.Errorf("take #%s: %w: %q", id, tickets.ErrUnknownUser, sources.Sanitize(user, 64))
	}
	if err := s.update(ctx, id, map[string]string{"Owner": rtUser}); err != nil {
		return tickets.Wrap("take #"+id, err)
	}
	ok, err := s.matches(ctx, "id = "+id+" AND Owner = '"+rtUser+"'")
	if err != nil {
		return tickets.Wrap("take #"+id, err)
	}
	if !ok {
		return fmt.Errorf("take #%s: RT did not make %s the owner (unknown user, or no OwnTicket right)", id, sources.Sanitize(rtUser, 64))
	}
	return nil
}

func (s *Source) update(ctx context.Context, id string, fields map[string]string) error {
	body, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return s.explainWrite("", tickets.Send(ctx, s.o.Client, http.MethodPut, s.base+"/ticket/"+id, "application/json", body, nil))
}

func (s *Source) explainWrite(step string, err error) error {
	if err == nil {
		return nil
	}
	var fe *sources.FetchError
	if errors.As(err, &fe) && fe.Status == http.StatusNotFound {
		err = fmt.Errorf("%w (HTTP 404)", tickets.ErrNotFound)
	} else if errors.As(err, &fe) && fe.Status == http.StatusUnauthorized {
		err = &sources.FetchError{Kind: fe.Kind, Status: fe.Status, Err: fe, Msg: "RT refused the credentials (HTTP 401): check the token or basic_auth"}
	}
	if step == "" {
		return err
	}
	return tickets.Wrap(step, err)
}

// matches reports whether a TicketSQL query finds any ticket.
func (s *Source) matches(ctx context.Context, query string) (bool, error) {
	found := false
	err := s.search(ctx, query, "", func(*Item) { found = true })
	return found, err
}

func checkID(id string) error {
	if _, err := strconv.ParseUint(id, 10, 63); err != nil || id == "" || id[0] == '0' {
		return fmt.Errorf("%q is not an RT ticket id", sources.Sanitize(id, 32))
	}
	return nil
}
