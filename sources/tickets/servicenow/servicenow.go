// Package servicenow is the ServiceNow ticket source: active incidents of
// the assignment groups mapped to Tier 1 and Tier 2, read through the
// Table API with sysparm_query/sysparm_fields and offset paging; SLA
// deadlines from task_sla (planned_end_time); escalation by one PATCH of
// assignment_group plus work_notes; take by assigned_to.
package servicenow

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
const Type = config.TypeServiceNow

// Options configure a Source.
type Options struct {
	// Common: URL is the instance, e.g. https://acme.service-now.com;
	// Client carries basic_auth, bearer or oauth2; Users maps operators
	// to sys_user sys_ids; ServiceField is an incident reference field
	// naming the service (cmdb_ci, business_service), whose .name is
	// read; SLATargets apply to incidents without a task_sla; PageSize is
	// sysparm_limit.
	tickets.Common
	// Tier1 and Tier2 are assignment group names.
	Tier1, Tier2 []string
	// EscalateTo is the group Escalate assigns; default Tier2[0].
	EscalateTo string
}

// Source reads one ServiceNow instance. Fetch keeps the last result to
// merge changed incidents into; it is called by one goroutine at a time,
// while Escalate and Take may run concurrently with it.
type Source struct {
	o    Options
	base string

	fetchMu sync.Mutex // held for a whole Fetch; guards inc
	inc     tickets.Incremental

	mu      sync.Mutex // guards groupID
	groupID map[string]string
}

var _ tickets.TicketSource = (*Source)(nil)

// New returns the source o describes.
func New(o Options) (*Source, error) {
	o.Defaults(0)
	if len(o.Tier1) == 0 || len(o.Tier2) == 0 {
		return nil, fmt.Errorf("source %q: servicenow needs assignment groups for tier 1 and tier 2", o.Name)
	}
	for _, g := range slices.Concat(o.Tier1, o.Tier2) {
		if strings.ContainsAny(g, "^") {
			return nil, fmt.Errorf("source %q: ^ is not supported in a group name", o.Name)
		}
	}
	if o.EscalateTo == "" {
		o.EscalateTo = o.Tier2[0]
	}
	if o.ServiceField != "" && !fieldOK(o.ServiceField) {
		return nil, fmt.Errorf("source %q: %q is not a field name", o.Name, o.ServiceField)
	}
	if err := o.CheckURL(); err != nil {
		return nil, err
	}
	return &Source{o: o, base: strings.TrimRight(o.URL, "/"), groupID: map[string]string{}, inc: tickets.Incremental{FullEvery: o.FullEvery}}, nil
}

// FromConfig builds the source from a validated config entry.
func FromConfig(sc config.Source) (*Source, error) {
	c, err := tickets.CommonFromConfig(sc)
	if err != nil {
		return nil, err
	}
	o := Options{Common: c, EscalateTo: sc.EscalateTo}
	if sc.Tiers != nil {
		o.Tier1, o.Tier2 = sc.Tiers.Tier1.Groups, sc.Tiers.Tier2.Groups
	}
	return New(o)
}

// Name is the configured source name.
func (s *Source) Name() string { return s.o.Name }

// Type is "servicenow".
func (s *Source) Type() string { return Type }

// Value is a Table API value with sysparm_display_value=false: a string,
// or a reference object {"link", "value"} (an empty reference is "").
type Value string

// UnmarshalJSONFrom reads a string, a reference's value, a number or a
// boolean; null reads as "".
func (v *Value) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	switch d.PeekKind() {
	case '{':
		var ref struct {
			Value        string `json:"value"`
			DisplayValue string `json:"display_value"`
		}
		if err := json.UnmarshalDecode(d, &ref); err != nil {
			return err
		}
		*v = Value(ref.Value)
		if ref.Value == "" {
			*v = Value(ref.DisplayValue)
		}
		return nil
	case '[':
		return errors.New("want a string or a reference, found an array")
	}
	tok, err := d.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case '"':
		*v = Value(tok.String())
	case '0', 't', 'f':
		*v = Value(tok.String())
	default:
		*v = ""
	}
	return nil
}

// Records is a Table API list reply: {"result": [{field: value}]}.
type Records struct {
	Result []map[string]Value `json:"result"`
}

var unmarshalOpts = json.JoinOptions(jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))

// DecodeRecords decodes a Table API list reply.
func DecodeRecords(b []byte) (*Records, error) {
	var r Records
	if err := json.Unmarshal(b, &r, unmarshalOpts); err != nil {
		return nil, tickets.Malformed(err)
	}
	if r.Result == nil {
		return nil, sources.MalformedError(`no "result" list`)
	}
	return &r, nil
}

func (s *Source) fields() string {
	f := "sys_id,number,short_description,priority,state,assignment_group,assignment_group.name,assigned_to,assigned_to.name,caller_id.name,opened_at,sys_updated_on"
	if s.o.ServiceField != "" {
		f += "," + s.o.ServiceField + "," + s.o.ServiceField + ".name"
	}
	return f
}

// notGroupQuery selects incidents in none of groups, or in no group
// (ISEMPTY is ORed to each condition, whichever way an instance treats an
// empty reference under !=).
func notGroupQuery(groups []string) string {
	parts := make([]string, 0, len(groups))
	for _, g := range groups {
		parts = append(parts, "assignment_groupISEMPTY^ORassignment_group.name!="+g)
	}
	return strings.Join(parts, "^")
}

func groupQuery(groups []string) string {
	var parts []string
	for i, g := range groups {
		if i == 0 {
			parts = append(parts, "assignment_group.name="+g)
		} else {
			parts = append(parts, "ORassignment_group.name="+g)
		}
	}
	return strings.Join(parts, "^")
}

// Fetch returns the active incidents of the tier groups, with the
// earliest running task_sla deadline of each. The first poll, and one
// every FullEvery, reads them all; the others read only the incidents
// updated since the newest sys_updated_on seen (less updatedMargin) and
// drop those updated since that are no longer active or no longer in a
// tier group. A task_sla change that does not touch its incident shows at
// the next full read.
func (s *Source) Fetch(ctx context.Context) ([]model.Ticket, error) {
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	now := s.o.Now()
	tiers := slices.Concat(s.o.Tier1, s.o.Tier2)
	groups := groupQuery(tiers)
	return s.inc.Poll(now, updatedMargin, func() ([]model.Ticket, error) {
		return s.read(ctx, "active=true^"+groups+"^ORDERBYsys_id", now)
	}, func(t time.Time) ([]model.Ticket, []string, error) {
		since := t.Format("2006-01-02 15:04:05")
		changed, err := s.read(ctx, "active=true^"+groups+"^sys_updated_on>"+since+"^ORDERBYsys_id", now)
		if err != nil {
			return nil, nil, err
		}
		// Updated in the window and inactive, or in no tier group: left the set.
		var gone []string
		leftQueries := []string{"sys_updated_on>" + since + "^active=false^ORDERBYsys_id",
			"sys_updated_on>" + since + "^" + notGroupQuery(tiers) + "^ORDERBYsys_id"}
		for _, q := range leftQueries {
			for offset := 0; ; offset += s.o.PageSize {
				recs, err := s.list(ctx, "incident", q, "sys_id", offset)
				if err != nil {
					return nil, nil, tickets.Wrap("incidents", err)
				}
				for _, r := range recs {
					if id := string(r["sys_id"]); s.inc.Has(id) {
						gone = append(gone, id)
					}
				}
				if len(recs) < s.o.PageSize {
					break
				}
			}
		}
		return changed, gone, nil
	})
}

// updatedMargin widens the sys_updated_on window of a changed search: an
// incident written in the same second as the newest one seen, or stamped
// by an instance clock a little behind, is still found. The Table API
// reads a plain date-time in an encoded query as UTC, as it stores it.
const updatedMargin = 5 * time.Minute

// read returns the incidents query selects, with their SLAs.
func (s *Source) read(ctx context.Context, query string, now time.Time) ([]model.Ticket, error) {
	var out []model.Ticket
	for offset := 0; ; offset += s.o.PageSize {
		recs, err := s.list(ctx, "incident", query, s.fields(), offset)
		if err != nil {
			return nil, tickets.Wrap("incidents", err)
		}
		first := len(out)
		for _, r := range recs {
			if r["sys_id"] == "" {
				return nil, tickets.Wrap("incidents", sources.MalformedError("an incident without a sys_id"))
			}
			out = append(out, s.ticket(r))
		}
		if err := s.slas(ctx, out[first:], now); err != nil {
			return nil, tickets.Wrap("task_sla", err)
		}
		if len(recs) < s.o.PageSize {
			break
		}
	}
	for i := range out {
		s.o.TargetSLA(&out[i], now)
	}
	return out, nil
}

// slas reads the running task_slas of one page of incidents.
func (s *Source) slas(ctx context.Context, page []model.Ticket, now time.Time) error {
	if len(page) == 0 {
		return nil
	}
	idx := make(map[string]int, len(page))
	ids := make([]string, 0, len(page))
	for i, t := range page {
		idx[t.ID] = i
		ids = append(ids, t.ID)
	}
	q := "active=true^taskIN" + strings.Join(ids, ",") + "^ORDERBYplanned_end_time"
	for offset := 0; ; offset += s.o.PageSize {
		recs, err := s.list(ctx, "task_sla", q, "task,sla.name,stage,has_breached,planned_end_time", offset)
		if err != nil {
			return err
		}
		for _, r := range recs {
			i, ok := idx[string(r["task"])]
			if !ok {
				continue
			}
			due := snTime(string(r["planned_end_time"]))
			t := &page[i]
			if due.IsZero() || (t.SLA.Known && !t.SLA.Due.After(due)) {
				continue
			}
			t.SLA = model.TicketSLA{Known: true, Name: string(r["sla.name"]), Due: due,
				Breached: r["has_breached"] == "true" || due.Before(now), Paused: r["stage"] == "paused"}
			if t.SLA.Paused {
				t.SLA.Remaining, t.SLA.AsOf = due.Sub(now), now
			}
		}
		if len(recs) < s.o.PageSize {
			return nil
		}
	}
}

func (s *Source) list(ctx context.Context, table, query, fields string, offset int) ([]map[string]Value, error) {
	q := url.Values{}
	q.Set("sysparm_query", query)
	q.Set("sysparm_fields", fields)
	q.Set("sysparm_limit", strconv.Itoa(s.o.PageSize))
	q.Set("sysparm_offset", strconv.Itoa(offset))
	q.Set("sysparm_display_value", "false")
	q.Set("sysparm_exclude_reference_link", "true")
	var recs *Records
	err := tickets.Get(ctx, s.o.Client, s.base+"/api/now/table/"+table+"?"+q.Encode(), func(b []byte) (err error) {
		recs, err = DecodeRecords(b)
		return err
	})
	if err != nil {
		return nil, explain(err)
	}
	return recs.Result, nil
}

// priorityNames are ServiceNow's names of the incident priority values.
var priorityNames = map[string]string{"1": "Critical", "2": "High", "3": "Moderate", "4": "Low", "5": "Planning"}

func (s *Source) ticket(r map[string]Value) model.Ticket {
	t := model.Ticket{
		Source: s.o.Name, ID: string(r["sys_id"]), Number: string(r["number"]),
		Subject: string(r["short_description"]), Status: StateName(string(r["state"])),
		PriorityRaw: string(r["priority"]), Priority: model.ParsePriority(string(r["priority"])),
		PriorityName: priorityNames[string(r["priority"])],
		Queue:        string(r["assignment_group.name"]), Owner: string(r["assigned_to.name"]),
		Requester: string(r["caller_id.name"]),
		Created:   snTime(string(r["opened_at"])), Updated: snTime(string(r["sys_updated_on"])),
	}
	if t.Owner == "" {
		t.Owner = string(r["assigned_to"])
	}
	t.URL = s.base + "/nav_to.do?uri=" + url.QueryEscape("incident.do?sys_id="+t.ID)
	switch {
	case slices.Contains(s.o.Tier1, t.Queue):
		t.Tier = model.Tier1
	case slices.Contains(s.o.Tier2, t.Queue):
		t.Tier = model.Tier2
	}
	fields := []string{"queue", t.Queue, "subject", t.Subject, "status", t.Status, "number", t.Number}
	if f := s.o.ServiceField; f != "" {
		v := string(r[f+".name"])
		if v == "" {
			v = string(r[f])
		}
		if v != "" {
			t.Service = v
			fields = append(fields, "service", v)
		}
	}
	t.Fields = model.LabelsFromPairs(fields...)
	return t
}

// StateName is the label of an incident state value as the base system
// defines it (1 New, 2 In Progress, 3 On Hold, 6 Resolved, 7 Closed,
// 8 Canceled); a value an instance added is shown as "state N".
func StateName(v string) string {
	switch v {
	case "1":
		return "New"
	case "2":
		return "In Progress"
	case "3":
		return "On Hold"
	case "6":
		return "Resolved"
	case "7":
		return "Closed"
	case "8":
		return "Canceled"
	case "":
		return ""
	}
	return "state " + v
}

// snTime reads the Table API's raw UTC "2025-11-03 09:14:22".
func snTime(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, time.UTC)
	if err != nil {
		return time.Time{}
	}
	return t
}

func fieldOK(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return s != ""
}

// explain reads ServiceNow's error object into the message.
func explain(err error) error {
	var fe *sources.FetchError
	if !errors.As(err, &fe) || fe.Status == 0 {
		return err
	}
	var body struct {
		Error struct {
			Message string `json:"message"`
			Detail  string `json:"detail"`
		} `json:"error"`
	}
	_ = json.Unmarshal(fe.Body, &body, unmarshalOpts)
	// A reply that is not ServiceNow's error object (a proxy's page, an
	// empty body) leaves the generic wording alone.
	var parts []string
	for _, p := range []string{body.Error.Message, body.Error.Detail} {
		if p = sources.Sanitize(p, 160); strings.Trim(p, " :") != "" {
			parts = append(parts, p)
		}
	}
	msg := sources.Sanitize(strings.Join(parts, ": "), 160)
	out := &sources.FetchError{Kind: fe.Kind, Status: fe.Status, Body: fe.Body, Err: fe, Msg: fe.Msg}
	switch {
	case fe.Status == http.StatusUnauthorized:
		out.Msg = "ServiceNow refused the credentials (HTTP 401): check basic_auth or the token"
	case fe.Status == http.StatusNotFound && msg == "":
		return fmt.Errorf("%w (HTTP 404)", tickets.ErrNotFound)
	case fe.Status == http.StatusNotFound:
		return fmt.Errorf("%w (HTTP 404: %s)", tickets.ErrNotFound, msg)
	case fe.Kind == sources.KindThrottled:
		// keep the throttled wording with Retry-After
	case msg != "":
		out.Msg = fmt.Sprintf("HTTP %d: %s", fe.Status, msg)
	}
	return out
}

// group returns the sys_id of the assignment group called name.
func (s *Source) group(ctx context.Context, name string) (string, error) {
	s.mu.Lock()
	id := s.groupID[name]
	s.mu.Unlock()
	if id != "" {
		return id, nil
	}
	recs, err := s.list(ctx, "sys_user_group", "name="+name, "sys_id,name", 0)
	if err != nil {
		return "", err
	}
	switch len(recs) {
	case 0:
		return "", fmt.Errorf("no assignment group called %q", name)
	case 1:
	default: // always plural: two or more records here
		return "", fmt.Errorf("%d assignment groups are called %q", len(recs), name)
	}
	id = string(recs[0]["sys_id"])
	s.mu.Lock()
	s.groupID[name] = id
	s.mu.Unlock()
	return id, nil
}

// Escalate assigns incident id (a sys_id) to the escalation group and
// adds comment as a work note, in one PATCH.
func (s *Source) Escalate(ctx context.Context, id, comment string) error {
	if err := checkID(id); err != nil {
		return err
	}
	gid, err := s.group(ctx, s.o.EscalateTo)
	if err != nil {
		return tickets.Wrap("escalate "+id, err)
	}
	body := map[string]string{"assignment_group": gid}
	if strings.TrimSpace(comment) != "" {
		body["work_notes"] = comment
	}
	return tickets.Wrap("escalate "+id, s.patch(ctx, id, body))
}

// Take assigns incident id to the sys_user user maps to.
func (s *Source) Take(ctx context.Context, id, user string) error {
	if err := checkID(id); err != nil {
		return err
	}
	uid := s.o.Users[user]
	if uid == "" {
		return fmt.Errorf("take %s: %w: %q has no ServiceNow user in users", id, tickets.ErrUnknownUser, sources.Sanitize(user, 64))
	}
	return tickets.Wrap("take "+id, s.patch(ctx, id, map[string]string{"assigned_to": uid}))
}

func (s *Source) patch(ctx context.Context, id string, fields map[string]string) error {
	b, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	u := s.base + "/api/now/table/incident/" + id + "?sysparm_fields=sys_id&sysparm_exclude_reference_link=true"
	if err := tickets.Send(ctx, s.o.Client, http.MethodPatch, u, "application/json", b, nil); err != nil {
		return explain(err)
	}
	return nil
}

func checkID(id string) error {
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		return fmt.Errorf("%q is not a ServiceNow sys_id", sources.Sanitize(id, 40))
	}
	return nil
}

var _ tickets.CommentFinder = (*Source)(nil)

// HasComment reports whether any work note on incident id (a sys_id)
// contains text: it reads the incident's work_notes journal entries from
// sys_journal_field (newest first, offset paging).
func (s *Source) HasComment(ctx context.Context, id, text string) (bool, error) {
	if err := checkID(id); err != nil {
		return false, err
	}
	q := "element_id=" + id + "^element=work_notes^ORDERBYDESCsys_created_on"
	for offset := 0; offset < 10_000_000; offset += s.o.PageSize {
		recs, err := s.list(ctx, "sys_journal_field", q, "sys_id,element_id,element,value,sys_created_on", offset)
		if err != nil {
			return false, tickets.Wrap("read the work notes of "+id, err)
		}
		for _, r := range recs {
			if string(r["element_id"]) == id && strings.Contains(string(r["value"]), text) {
				return true, nil
			}
		}
		if len(recs) < s.o.PageSize {
			return false, nil
		}
	}
	return false, nil
}
