// Package jira is the Jira Service Management (Cloud) ticket source: the
// issues each tier's JQL selects, read with GET /rest/api/3/search/jql and
// its nextPageToken paging; SLAs from an SLA custom field or, per changed
// issue, from the servicedeskapi; escalation by a named workflow
// transition plus an internal servicedeskapi comment; take by assignee
// accountId.
package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
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
const Type = config.TypeJira

// Options configure a Source.
type Options struct {
	// Common: URL is the site, e.g. https://acme.atlassian.net; Client
	// carries basic_auth (e-mail + API token) or a bearer token; Users
	// maps operators to Jira account IDs; ServiceField is a field holding
	// a service name (components, or a custom field holding a string, an
	// option or a list of them); SLATargets apply to issues without an
	// SLA; PageSize is maxResults.
	tickets.Common
	// Tier1JQL and Tier2JQL select each tier's open issues.
	Tier1JQL, Tier2JQL string
	// Transition is the name (or target status name) of the transition
	// that moves an issue to Tier 2.
	Transition string
	// SLAField is the SLA custom field read with the search; empty means
	// the servicedeskapi is asked per changed issue.
	SLAField string
}

// Source reads one Jira site. Fetch is called by one goroutine at a time;
// Escalate and Take may run concurrently with it.
type Source struct {
	o    Options
	base string

	mu   sync.Mutex // held for a whole Fetch; guards slas and inc
	slas map[string]slaMemo
	inc  tickets.Incremental
}

type slaMemo struct {
	updated time.Time
	sla     model.TicketSLA
}

var _ tickets.TicketSource = (*Source)(nil)

// New returns the source o describes.
func New(o Options) (*Source, error) {
	o.Defaults(0)
	if strings.TrimSpace(o.Tier1JQL) == "" || strings.TrimSpace(o.Tier2JQL) == "" {
		return nil, fmt.Errorf("source %q: jira needs a JQL query for tier 1 and tier 2", o.Name)
	}
	if err := o.CheckURL(); err != nil {
		return nil, err
	}
	return &Source{o: o, base: strings.TrimRight(o.URL, "/"), slas: map[string]slaMemo{}, inc: tickets.Incremental{FullEvery: o.FullEvery}}, nil
}

// FromConfig builds the source from a validated config entry.
func FromConfig(sc config.Source) (*Source, error) {
	c, err := tickets.CommonFromConfig(sc)
	if err != nil {
		return nil, err
	}
	o := Options{Common: c, Transition: sc.Transition, SLAField: sc.SLAField}
	if sc.Tiers != nil {
		o.Tier1JQL, o.Tier2JQL = sc.Tiers.Tier1.JQL, sc.Tiers.Tier2.JQL
	}
	return New(o)
}

// Name is the configured source name.
func (s *Source) Name() string { return s.o.Name }

// Type is "jira".
func (s *Source) Type() string { return Type }

// SearchPage is one page of GET /rest/api/3/search/jql.
type SearchPage struct {
	Issues        []Issue `json:"issues"`
	NextPageToken string  `json:"nextPageToken"`
	IsLast        *bool   `json:"isLast"`
}

// Issue is one issue of a search, with the fields asked for.
type Issue struct {
	ID     string                    `json:"id"`
	Key    string                    `json:"key"`
	Fields map[string]jsontext.Value `json:"fields"`
}

type named struct {
	Name string `json:"name"`
}

type user struct {
	AccountID   string `json:"accountId"`
	DisplayName string `json:"displayName"`
}

// SLA is a servicedeskapi SLA (also the value of an SLA custom field).
type SLA struct {
	Name         string `json:"name"`
	OngoingCycle *struct {
		BreachTime    dateDTO     `json:"breachTime"`
		Breached      bool        `json:"breached"`
		Paused        bool        `json:"paused"`
		WithinCalHrs  *bool       `json:"withinCalendarHours"`
		RemainingTime durationDTO `json:"remainingTime"`
	} `json:"ongoingCycle"`
}

type dateDTO struct {
	ISO8601     string `json:"iso8601"`
	EpochMillis int64  `json:"epochMillis"`
}

type durationDTO struct {
	Millis int64 `json:"millis"`
}

// SLAPage is GET /rest/servicedeskapi/request/{key}/sla.
type SLAPage struct {
	Values     []SLA `json:"values"`
	IsLastPage bool  `json:"isLastPage"`
}

var unmarshalOpts = json.JoinOptions(jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))

// DecodeSearch decodes one search/jql page.
func DecodeSearch(b []byte) (*SearchPage, error) {
	var p SearchPage
	if err := json.Unmarshal(b, &p, unmarshalOpts); err != nil {
		return nil, tickets.Malformed(err)
	}
	for _, is := range p.Issues {
		if is.ID == "" {
			return nil, sources.MalformedError("an issue without an id")
		}
	}
	return &p, nil
}

// DecodeSLAs decodes a servicedeskapi SLA page.
func DecodeSLAs(b []byte) (*SLAPage, error) {
	var p SLAPage
	if err := json.Unmarshal(b, &p, unmarshalOpts); err != nil {
		return nil, tickets.Malformed(err)
	}
	return &p, nil
}

// Fetch returns the issues both tiers' JQL select. An issue both select
// counts as Tier 2. The first poll, and one every FullEvery, reads them
// all; the others read only the issues of each tier updated since the
// newest update seen (less updatedMargin, as JQL reads the date in the
// account's time zone, to the minute) and drop the issues updated since
// that neither tier selects any more.
func (s *Source) Fetch(ctx context.Context) ([]model.Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	ts, err := s.inc.Poll(now, updatedMargin, func() ([]model.Ticket, error) {
		ts, _, err := s.read(ctx, "", now)
		return ts, err
	}, func(since time.Time) ([]model.Ticket, []string, error) {
		return s.read(ctx, `updated >= "`+since.Format("2006/01/02 15:04")+`"`, now)
	})
	if err != nil {
		return nil, err
	}
	for id := range s.slas {
		if !s.inc.Has(id) {
			delete(s.slas, id)
		}
	}
	return ts, nil
}

// read returns the issues both tiers' JQL select, all of them when window
// is "", else only those the JQL clause window selects, and then also the
// IDs of the issues held that window selects but neither tier does.
func (s *Source) read(ctx context.Context, window string, now time.Time) ([]model.Ticket, []string, error) {
	full := window == ""
	t1, t2 := stripOrderBy(s.o.Tier1JQL), stripOrderBy(s.o.Tier2JQL)
	seen := map[string]int{}
	var out []model.Ticket
	for _, tier := range []struct {
		t   model.Tier
		jql string
	}{{model.Tier2, t2}, {model.Tier1, t1}} {
		jql := s.tierJQL(tier.t)
		if !full {
			jql = "(" + tier.jql + ") AND " + window
		}
		err := s.search(ctx, jql, s.fieldList(), func(is *Issue) error {
			if _, dup := seen[is.ID]; dup {
				return nil
			}
			t := s.ticket(is, tier.t, now)
			seen[is.ID] = len(out)
			out = append(out, t)
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	var gone []string
	if !full {
		err := s.search(ctx, window+" AND NOT (("+t1+") OR ("+t2+"))", "updated", func(is *Issue) error {
			if s.inc.Has(is.ID) {
				gone = append(gone, is.ID)
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	if s.o.SLAField == "" {
		for i := range out {
			t := &out[i]
			m, ok := s.slas[t.ID]
			if !ok || !m.updated.Equal(t.Updated) {
				sla, err := s.requestSLA(ctx, t.ID, now)
				if err != nil {
					return nil, nil, err
				}
				m = slaMemo{updated: t.Updated, sla: sla}
				s.slas[t.ID] = m
			}
			if m.sla.Known {
				t.SLA = m.sla
			}
		}
	}
	for i := range out {
		s.o.TargetSLA(&out[i], now)
	}
	return out, gone, nil
}

// updatedMargin widens the window of a changed search: JQL reads
// "yyyy/MM/dd HH:mm" in the time zone of sitroom's Jira account, whatever
// it is, and every zone's offset lies within −12h..+14h.
const updatedMargin = 15 * time.Hour

// tierJQL is the JQL of a tier as configured.
func (s *Source) tierJQL(t model.Tier) string {
	if t == model.Tier2 {
		return s.o.Tier2JQL
	}
	return s.o.Tier1JQL
}

var orderBy = regexp.MustCompile(`(?is)\s+order\s+by\s+[^"']*$`)

// stripOrderBy drops a trailing ORDER BY clause, which JQL allows only at
// the end of the whole query, so that the query can be put in parentheses.
func stripOrderBy(jql string) string {
	return strings.TrimSpace(orderBy.ReplaceAllString(jql, ""))
}

func (s *Source) fieldList() string {
	f := "summary,status,priority,assignee,reporter,created,updated,project"
	if s.o.SLAField != "" {
		f += "," + s.o.SLAField
	}
	if s.o.ServiceField != "" {
		f += "," + s.o.ServiceField
	}
	return f
}

// search runs jql through search/jql, following nextPageToken.
func (s *Source) search(ctx context.Context, jql, fields string, each func(*Issue) error) error {
	token := ""
	for n := 0; n < 1_000_000; n++ {
		q := url.Values{}
		q.Set("jql", jql)
		q.Set("fields", fields)
		q.Set("maxResults", strconv.Itoa(s.o.PageSize))
		if token != "" {
			q.Set("nextPageToken", token)
		}
		var p *SearchPage
		err := tickets.Get(ctx, s.o.Client, s.base+"/rest/api/3/search/jql?"+q.Encode(), func(b []byte) (err error) {
			p, err = DecodeSearch(b)
			return err
		})
		if err != nil {
			return s.explain("search", err)
		}
		for i := range p.Issues {
			if err := each(&p.Issues[i]); err != nil {
				return err
			}
		}
		if p.NextPageToken == "" || (p.IsLast != nil && *p.IsLast) {
			return nil
		}
		if p.NextPageToken == token {
			return tickets.Wrap("search", sources.MalformedError("the same nextPageToken twice"))
		}
		token = p.NextPageToken
	}
	return nil
}

func (s *Source) requestSLA(ctx context.Context, id string, now time.Time) (model.TicketSLA, error) {
	var p *SLAPage
	err := tickets.Get(ctx, s.o.Client, s.base+"/rest/servicedeskapi/request/"+url.PathEscape(id)+"/sla", func(b []byte) (err error) {
		p, err = DecodeSLAs(b)
		return err
	})
	if err != nil {
		var fe *sources.FetchError
		if errors.As(err, &fe) && fe.Status == http.StatusNotFound {
			return model.TicketSLA{}, nil // not a service desk request
		}
		return model.TicketSLA{}, s.explain("SLA of "+id, err)
	}
	return pickSLA(p.Values, now), nil
}

// pickSLA returns the running SLA cycle that breaches first.
func pickSLA(slas []SLA, now time.Time) model.TicketSLA {
	var best model.TicketSLA
	for _, v := range slas {
		sla := slaOf(&v, now)
		if !sla.Known {
			continue
		}
		if !best.Known || sla.Remaining < best.Remaining {
			best = sla
		}
	}
	return best
}

func slaOf(v *SLA, now time.Time) model.TicketSLA {
	c := v.OngoingCycle
	if c == nil {
		return model.TicketSLA{}
	}
	sla := model.TicketSLA{Known: true, Name: v.Name, Breached: c.Breached, Paused: c.Paused || (c.WithinCalHrs != nil && !*c.WithinCalHrs),
		Remaining: time.Duration(c.RemainingTime.Millis) * time.Millisecond, AsOf: now}
	if c.BreachTime.EpochMillis != 0 {
		sla.Due = time.UnixMilli(c.BreachTime.EpochMillis).UTC()
	} else if t := jiraTime(c.BreachTime.ISO8601); !t.IsZero() {
		sla.Due = t
	}
	return sla
}

// ticket maps an issue onto a model.Ticket.
func (s *Source) ticket(is *Issue, tier model.Tier, now time.Time) model.Ticket {
	t := model.Ticket{Source: s.o.Name, ID: is.ID, Number: is.Key, Tier: tier,
		URL: s.base + "/browse/" + url.PathEscape(is.Key)}
	f := is.Fields
	var status struct {
		Name string `json:"name"`
	}
	var prio named
	var assignee, reporter user
	var project struct {
		Key string `json:"key"`
	}
	dec := func(k string, v any) {
		if raw, ok := f[k]; ok && raw.Kind() == '{' {
			_ = json.Unmarshal(raw, v, unmarshalOpts)
		}
	}
	str := func(k string) string {
		var x string
		if raw, ok := f[k]; ok && raw.Kind() == '"' {
			_ = json.Unmarshal(raw, &x, unmarshalOpts)
		}
		return x
	}
	t.Subject = str("summary")
	dec("status", &status)
	dec("priority", &prio)
	dec("assignee", &assignee)
	dec("reporter", &reporter)
	dec("project", &project)
	t.Status, t.PriorityRaw, t.PriorityName, t.Priority = status.Name, prio.Name, prio.Name, model.ParsePriority(prio.Name)
	t.Owner = assignee.DisplayName
	if t.Owner == "" {
		t.Owner = assignee.AccountID
	}
	t.Requester = reporter.DisplayName
	t.Queue = project.Key
	t.Created, t.Updated = jiraTime(str("created")), jiraTime(str("updated"))
	if s.o.SLAField != "" {
		var v SLA
		dec(s.o.SLAField, &v)
		t.SLA = slaOf(&v, now)
	}
	fields := []string{"queue", t.Queue, "subject", t.Subject, "status", t.Status, "key", t.Number}
	if s.o.ServiceField != "" {
		if v := fieldText(f[s.o.ServiceField]); v != "" {
			t.Service = v
			fields = append(fields, "service", v)
		}
	}
	t.Fields = model.LabelsFromPairs(fields...)
	return t
}

// fieldText reads a service hint from a string, an object with a name or
// value (component, option), or a list of them (the first).
func fieldText(raw jsontext.Value) string {
	switch raw.Kind() {
	case '"':
		var s string
		_ = json.Unmarshal(raw, &s)
		return s
	case '{':
		var v struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		}
		_ = json.Unmarshal(raw, &v, unmarshalOpts)
		if v.Name != "" {
			return v.Name
		}
		return v.Value
	case '[':
		var list []jsontext.Value
		_ = json.Unmarshal(raw, &list, unmarshalOpts)
		for _, x := range list {
			if s := fieldText(x); s != "" {
				return s
			}
		}
	}
	return ""
}

// jiraTime reads Jira's 2025-11-03T09:14:22.123+0000 (and the variants
// without milliseconds or with a colon in the zone).
func jiraTime(s string) time.Time {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// apiError is Jira's platform error object, or the servicedeskapi one.
type apiError struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
	ErrorMessage  string            `json:"errorMessage"`
}

// explain words a failed call: 401 as refused credentials, 410 as the
// removed search API, Jira's own error messages otherwise.
func (s *Source) explain(step string, err error) error {
	var fe *sources.FetchError
	if !errors.As(err, &fe) || fe.Status == 0 {
		return tickets.Wrap(step, err)
	}
	var ae apiError
	_ = json.Unmarshal(fe.Body, &ae, unmarshalOpts)
	msg := ae.ErrorMessage
	if len(ae.ErrorMessages) > 0 {
		msg = strings.Join(ae.ErrorMessages, "; ")
	}
	for k, v := range ae.Errors {
		msg = strings.TrimPrefix(msg+"; "+k+": "+v, "; ")
	}
	msg = sources.Sanitize(msg, 160)
	out := &sources.FetchError{Kind: fe.Kind, Status: fe.Status, Body: fe.Body, Err: fe, Msg: fe.Msg}
	switch fe.Status {
	case http.StatusUnauthorized:
		out.Msg = "Jira refused the credentials (HTTP 401): check the e-mail and API token"
	case http.StatusGone:
		out.Msg = "HTTP 410 Gone: Jira removed this API: " + msg
	case http.StatusTooManyRequests:
		// keep GetJSON's throttled wording, with Retry-After
	default:
		if msg != "" {
			out.Msg = fmt.Sprintf("HTTP %d: %s", fe.Status, msg)
		}
	}
	return tickets.Wrap(step, out)
}

// Transitions is GET /rest/api/3/issue/{id}/transitions.
type Transitions struct {
	Transitions []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		To   struct {
			Name string `json:"name"`
		} `json:"to"`
	} `json:"transitions"`
}

// Escalate moves issue id to Tier 2 with the configured transition (found
// by name, or by the name of the status it leads to) unless Tier 2's JQL
// already selects it, then adds comment as an internal servicedeskapi
// comment (public false: not shown to the customer).
func (s *Source) Escalate(ctx context.Context, id, comment string) error {
	if err := checkID(id); err != nil {
		return err
	}
	step := "escalate " + id
	in, err := s.inTier2(ctx, id)
	if err != nil {
		return tickets.Wrap(step, err)
	}
	if !in {
		var tr Transitions
		err := tickets.Get(ctx, s.o.Client, s.base+"/rest/api/3/issue/"+id+"/transitions", func(b []byte) error {
			return json.Unmarshal(b, &tr, unmarshalOpts)
		})
		if err != nil {
			return s.explain(step, err)
		}
		tid := ""
		var names []string
		for _, x := range tr.Transitions {
			names = append(names, sources.Sanitize(x.Name, 40))
			if strings.EqualFold(x.Name, s.o.Transition) || strings.EqualFold(x.To.Name, s.o.Transition) {
				tid = x.ID
				break
			}
		}
		if tid == "" {
			return fmt.Errorf("%s: transition %q is not available for it (available: %s)", step, s.o.Transition, strings.Join(names, ", "))
		}
		body, _ := json.Marshal(map[string]any{"transition": map[string]string{"id": tid}})
		if err := tickets.Send(ctx, s.o.Client, http.MethodPost, s.base+"/rest/api/3/issue/"+id+"/transitions", "application/json", body, nil); err != nil {
			return s.explain(step, err)
		}
	}
	if strings.TrimSpace(comment) == "" {
		return nil
	}
	body, _ := json.Marshal(map[string]any{"body": comment, "public": false})
	if err := tickets.Send(ctx, s.o.Client, http.MethodPost, s.base+"/rest/servicedeskapi/request/"+id+"/comment", "application/json", body, nil); err != nil {
		return s.explain("comment on "+id, err)
	}
	return nil
}

func (s *Source) inTier2(ctx context.Context, id string) (bool, error) {
	found := false
	err := s.search(ctx, "("+s.o.Tier2JQL+") AND id = "+id, "summary", func(*Issue) error {
		found = true
		return nil
	})
	return found, err
}

// Take assigns issue id to the account ID user maps to.
func (s *Source) Take(ctx context.Context, id, user string) error {
	if err := checkID(id); err != nil {
		return err
	}
	acct := s.o.Users[user]
	if acct == "" {
		return fmt.Errorf("take %s: %w: %q has no Jira account ID in users", id, tickets.ErrUnknownUser, sources.Sanitize(user, 64))
	}
	body, _ := json.Marshal(map[string]string{"accountId": acct})
	if err := tickets.Send(ctx, s.o.Client, http.MethodPut, s.base+"/rest/api/3/issue/"+id+"/assignee", "application/json", body, nil); err != nil {
		return s.explain("take "+id, err)
	}
	return nil
}

// checkID accepts Jira issue ids (numbers) and keys (PROJ-123).
func checkID(id string) error {
	ok := id != "" && len(id) <= 64
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-' || r == '_') {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("%q is not a Jira issue id or key", sources.Sanitize(id, 32))
	}
	return nil
}

var _ tickets.CommentFinder = (*Source)(nil)

// CommentPage is one page of GET /rest/servicedeskapi/request/{key}/comment.
type CommentPage struct {
	Values []struct {
		ID     string `json:"id"`
		Body   string `json:"body"`
		Public bool   `json:"public"`
	} `json:"values"`
	Start      int  `json:"start"`
	Size       int  `json:"size"`
	IsLastPage bool `json:"isLastPage"`
}

// DecodeComments decodes a servicedeskapi comment page.
func DecodeComments(b []byte) (*CommentPage, error) {
	var p CommentPage
	if err := json.Unmarshal(b, &p, unmarshalOpts); err != nil {
		return nil, tickets.Malformed(err)
	}
	return &p, nil
}

// HasComment reports whether any comment on issue id, internal or public,
// contains text: it reads the request's servicedeskapi comments
// (internal=true, start/limit paging until isLastPage).
func (s *Source) HasComment(ctx context.Context, id, text string) (bool, error) {
	if err := checkID(id); err != nil {
		return false, err
	}
	start := 0
	for n := 0; n < 100_000; n++ {
		q := url.Values{}
		q.Set("internal", "true")
		q.Set("public", "true")
		q.Set("start", strconv.Itoa(start))
		q.Set("limit", "100")
		var p *CommentPage
		err := tickets.Get(ctx, s.o.Client, s.base+"/rest/servicedeskapi/request/"+id+"/comment?"+q.Encode(), func(b []byte) (err error) {
			p, err = DecodeComments(b)
			return err
		})
		if err != nil {
			return false, s.explain("read the comments of "+id, err)
		}
		for _, c := range p.Values {
			if strings.Contains(c.Body, text) {
				return true, nil
			}
		}
		if p.IsLastPage || len(p.Values) == 0 {
			return false, nil
		}
		start += len(p.Values)
	}
	return false, nil
}
