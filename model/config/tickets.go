package config

import (
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	pmodel "github.com/prometheus/common/model"

	"sitroom/model"
)

// The ticket source types: Request Tracker (REST2), Jira Service
// Management (Cloud REST v3 + servicedeskapi) and ServiceNow (Table API).
const (
	TypeRT         = model.TicketTypeRT
	TypeJira       = model.TicketTypeJira
	TypeServiceNow = model.TicketTypeServiceNow
)

// ticketTypes are the source types that read tickets rather than alerts.
var ticketTypes = model.TicketSourceTypes()

// IsTicketType reports whether t is a ticket source type.
func IsTicketType(t string) bool { return model.IsTicketSourceType(t) }

// Tickets is the part of a Source that only the ticket sources (rt, jira,
// servicenow) use. They also take url and the inline HTTP client settings:
// RT an `authorization: {type: token, credentials_file: ...}` or
// basic_auth, Jira basic_auth with the account's e-mail and an API token,
// ServiceNow basic_auth, authorization (bearer) or oauth2.
type Tickets struct {
	// Tiers maps the system's queues to Tier 1 and Tier 2. Required for a
	// ticket source.
	Tiers *TicketTiers `yaml:"tiers,omitempty"`
	// EscalateTo is where Escalate moves a ticket: an RT queue or a
	// ServiceNow assignment group, one of tier2's; default the first of
	// them.
	EscalateTo string `yaml:"escalate_to,omitempty"`
	// Transition is the name of the Jira workflow transition that moves a
	// ticket to Tier 2 (required for jira: Jira queues are JQL over the
	// issue's fields, so only a transition or a field change moves an
	// issue between them).
	Transition string `yaml:"transition,omitempty"`
	// Users maps operators (OS user names) to the ticket system's users
	// for Take: RT user names, Jira account IDs, ServiceNow sys_user
	// sys_ids. RT falls back to the operator's own name; Jira and
	// ServiceNow need an entry.
	Users map[string]string `yaml:"users,omitempty"`
	// SLATargets gives tickets a deadline, by priority, when the system
	// has no SLA of its own for them (RT; Jira issues without an SLA;
	// ServiceNow incidents without a task_sla). A key is the system's
	// own priority name (RT's %PriorityAsString label such as Medium,
	// Jira's High, ServiceNow's Moderate), matched case-insensitively, or
	// P1–P5 for every ticket of that normalised priority that no name
	// key matches.
	SLATargets map[string]pmodel.Duration `yaml:"sla_targets,omitempty"`
	// PriorityAsString is the RT site's %PriorityAsString: per queue name
	// (or Default, for the others), label → lowest number of that label.
	// RT names a ticket's numeric priority by the highest label at or
	// below it; an empty map for a queue leaves its priorities unnamed.
	// Default: RT 5's {Low: 0, Medium: 50, High: 100}. RT only.
	PriorityAsString map[string]map[string]int `yaml:"priority_as_string,omitempty"`
	// ServiceField names the ticket field that holds a service name hint:
	// an RT custom field name, a Jira field id (components,
	// customfield_10050), a ServiceNow incident field (cmdb_ci,
	// business_service).
	ServiceField string `yaml:"service_field,omitempty"`
	// SLAField is the Jira SLA custom field (customfield_NNNNN) read with
	// the search; when unset, Jira SLAs are read per issue from the
	// servicedeskapi (only for issues that changed since the last poll).
	SLAField string `yaml:"sla_field,omitempty"`
	// PageSize is the number of tickets asked for per request; default
	// 100 (RT's maximum), at most 1000.
	PageSize int `yaml:"page_size,omitempty"`
}

// TicketTiers maps queues to tiers.
type TicketTiers struct {
	Tier1 TierQueues `yaml:"tier1"`
	Tier2 TierQueues `yaml:"tier2"`
}

// TierQueues is what makes a ticket belong to a tier, per system: RT
// queues, Jira JQL, ServiceNow assignment groups.
type TierQueues struct {
	// Queues are RT queue names.
	Queues []string `yaml:"queues,omitempty"`
	// JQL selects the tier's Jira issues (open ones: add e.g.
	// statusCategory != Done).
	JQL string `yaml:"jql,omitempty"`
	// Groups are ServiceNow assignment group names.
	Groups []string `yaml:"groups,omitempty"`
}

// DefaultTicketPageSize is the page size of ticket searches when
// page_size is unset.
const DefaultTicketPageSize = 100

// TicketPageSize returns the configured page size or the default.
func (t *Tickets) TicketPageSize() int {
	if t.PageSize <= 0 {
		return DefaultTicketPageSize
	}
	return t.PageSize
}

// EscalationTarget returns where Escalate moves tickets: EscalateTo, else
// the first Tier 2 queue or group.
func (t *Tickets) EscalationTarget() string {
	if t.EscalateTo != "" {
		return t.EscalateTo
	}
	if t.Tiers == nil {
		return ""
	}
	if len(t.Tiers.Tier2.Queues) > 0 {
		return t.Tiers.Tier2.Queues[0]
	}
	if len(t.Tiers.Tier2.Groups) > 0 {
		return t.Tiers.Tier2.Groups[0]
	}
	return ""
}

// SLATargetsByName returns the SLA targets keyed by the lower-cased
// priority name or P1–P5, or nil when none are configured.
func (t *Tickets) SLATargetsByName() map[string]time.Duration {
	if len(t.SLATargets) == 0 {
		return nil
	}
	out := make(map[string]time.Duration, len(t.SLATargets))
	for k, d := range t.SLATargets {
		out[strings.ToLower(strings.TrimSpace(k))] = time.Duration(d)
	}
	return out
}

// isZero reports whether no ticket field is set.
func (t *Tickets) isZero() bool { return reflect.ValueOf(*t).IsZero() }

// ticketFieldKeys lists the keys of Tickets that are set, for errors.
func (t *Tickets) setKeys() []string {
	var out []string
	rt := reflect.TypeFor[Tickets]()
	rv := reflect.ValueOf(*t)
	for i := 0; i < rt.NumField(); i++ {
		if !rv.Field(i).IsZero() {
			out = append(out, strings.Split(rt.Field(i).Tag.Get("yaml"), ",")[0])
		}
	}
	return out
}

// tickets checks the fields that belong to ticket sources: on a ticket
// source, that they are complete and consistent; on any other, that none
// is set.
func (v *validator) tickets(p string, s *Source) {
	tk := &s.Tickets
	if !IsTicketType(s.Type) {
		if s.Type != "" && KnownSourceType(s.Type) {
			for _, k := range tk.setKeys() {
				v.errorf(p+"."+k, "only for %s sources", oneOf(ticketTypes))
			}
		}
		return
	}
	if tk.Tiers == nil {
		v.errs = append(v.errs, &fieldError{line: v.c.lines[p], path: p + ".tiers",
			msg: map[bool]string{true: "an", false: "a"}[s.Type == TypeRT] + " " + s.Type + " source needs tiers (tier1 and tier2)"})
	} else {
		v.tier(p+".tiers.tier1", s.Type, &tk.Tiers.Tier1)
		v.tier(p+".tiers.tier2", s.Type, &tk.Tiers.Tier2)
		v.tierOverlap(p+".tiers", tk.Tiers)
	}
	if tk.EscalateTo != "" {
		switch {
		case s.Type == TypeJira:
			v.errorf(p+".escalate_to", "not used by jira sources; set transition")
		case tk.Tiers != nil && !contains(tk.Tiers.Tier2.Queues, tk.EscalateTo) && !contains(tk.Tiers.Tier2.Groups, tk.EscalateTo):
			v.errorf(p+".escalate_to", "%q is not one of tier2's %s", clip(tk.EscalateTo), map[bool]string{true: "queues", false: "groups"}[s.Type == TypeRT])
		}
	}
	switch {
	case s.Type == TypeJira && strings.TrimSpace(tk.Transition) == "":
		v.errs = append(v.errs, &fieldError{line: v.c.lines[p], path: p + ".transition",
			msg: "a jira source needs the name of the transition that moves an issue to tier 2"})
	case s.Type != TypeJira && tk.Transition != "":
		v.errorf(p+".transition", "only for jira sources")
	case hasControl(tk.Transition):
		v.errorf(p+".transition", "control characters are not allowed")
	}
	if tk.SLAField != "" {
		switch {
		case s.Type != TypeJira:
			v.errorf(p+".sla_field", "only for jira sources")
		case !jiraFieldRe(tk.SLAField):
			v.errorf(p+".sla_field", "want a Jira custom field id like customfield_10030")
		}
	}
	if tk.ServiceField != "" && !fieldNameOK(tk.ServiceField) {
		v.errorf(p+".service_field", "%q is not a field name", clip(tk.ServiceField))
	}
	users := make([]string, 0, len(tk.Users))
	for k := range tk.Users {
		users = append(users, k)
	}
	sort.Strings(users)
	for _, k := range users {
		kp := mapKey(p+".users", k)
		switch val := tk.Users[k]; {
		case strings.TrimSpace(k) == "" || hasControl(k):
			v.errorf(kp, "not an operator name")
		case strings.TrimSpace(val) == "" || hasControl(val):
			v.errorf(kp, "empty or unprintable user")
		}
	}
	prios := make([]string, 0, len(tk.SLATargets))
	for k := range tk.SLATargets {
		prios = append(prios, k)
	}
	sort.Strings(prios)
	seen := map[string]string{}
	for _, k := range prios {
		kp := mapKey(p+".sla_targets", k)
		lk := strings.ToLower(strings.TrimSpace(k))
		switch {
		case lk == "" || hasControl(k):
			v.errorf(kp, "not a priority name")
		case seen[lk] != "":
			v.errorf(kp, "%s is also given as %s", k, seen[lk])
		case tk.SLATargets[k] <= 0:
			v.errorf(kp, "must be more than 0s")
		}
		seen[lk] = k
	}
	if len(tk.PriorityAsString) > 0 && s.Type != TypeRT {
		v.errorf(p+".priority_as_string", "only for rt sources (the others name their priorities)")
	}
	queues := make([]string, 0, len(tk.PriorityAsString))
	for q := range tk.PriorityAsString {
		queues = append(queues, q)
	}
	sort.Strings(queues)
	for _, q := range queues {
		qp := mapKey(p+".priority_as_string", q)
		if strings.TrimSpace(q) == "" || hasControl(q) {
			v.errorf(qp, "not a queue name (or Default)")
		}
		for label := range tk.PriorityAsString[q] {
			if strings.TrimSpace(label) == "" || hasControl(label) {
				v.errorf(mapKey(qp, label), "not a priority label")
			}
		}
	}
	if tk.PageSize < 0 || tk.PageSize > 1000 || (s.Type == TypeRT && tk.PageSize > 100) {
		max := 1000
		if s.Type == TypeRT {
			max = 100
		}
		v.errorf(p+".page_size", "must be between 1 and %d", max)
	}
}

func (v *validator) tier(p, typ string, q *TierQueues) {
	want, wantKey := "queues", "queues"
	switch typ {
	case TypeJira:
		want, wantKey = "a jql query", "jql"
	case TypeServiceNow:
		want, wantKey = "assignment groups", "groups"
	}
	set := map[string]bool{"queues": q.Queues != nil, "jql": q.JQL != "", "groups": q.Groups != nil}
	for _, k := range []string{"queues", "jql", "groups"} {
		if set[k] && k != wantKey {
			v.errorf(p+"."+k, "not used by %s sources (want %s)", typ, wantKey)
		}
	}
	switch wantKey {
	case "jql":
		switch {
		case strings.TrimSpace(q.JQL) == "":
			v.errs = append(v.errs, &fieldError{line: v.c.lines[p], path: p + ".jql", msg: "a tier needs " + want})
		case hasControl(strings.NewReplacer("\n", " ", "\t", " ").Replace(q.JQL)):
			v.errorf(p+".jql", "control characters are not allowed")
		}
	default:
		list := q.Queues
		if wantKey == "groups" {
			list = q.Groups
		}
		if len(list) == 0 {
			v.errs = append(v.errs, &fieldError{line: v.c.lines[p], path: p + "." + wantKey, msg: "a tier needs at least one of its " + want})
		}
		seen := map[string]bool{}
		for i, name := range list {
			ip := p + "." + wantKey + "[" + strconv.Itoa(i) + "]"
			switch {
			case strings.TrimSpace(name) == "":
				v.errorf(ip, "empty name")
			case hasControl(name):
				v.errorf(ip, "control characters are not allowed")
			case wantKey == "queues" && strings.ContainsAny(name, `'\`):
				// RT queue names go into TicketSQL between single quotes.
				v.errorf(ip, "quotes and backslashes are not supported in a queue name")
			case wantKey == "groups" && strings.Contains(name, "^"):
				// ServiceNow encoded queries separate conditions with ^.
				v.errorf(ip, "^ is not supported in a group name")
			case seen[name]:
				v.errorf(ip, "%q is listed twice", clip(name))
			}
			seen[name] = true
		}
	}
}

func (v *validator) tierOverlap(p string, t *TicketTiers) {
	for _, pair := range []struct {
		key      string
		one, two []string
	}{{"queues", t.Tier1.Queues, t.Tier2.Queues}, {"groups", t.Tier1.Groups, t.Tier2.Groups}} {
		for i, name := range pair.two {
			if name != "" && contains(pair.one, name) {
				v.errorf(p+".tier2."+pair.key+"["+strconv.Itoa(i)+"]", "%q is also in tier1; a queue belongs to one tier", clip(name))
			}
		}
	}
}

func jiraFieldRe(s string) bool {
	const prefix = "customfield_"
	if !strings.HasPrefix(s, prefix) || len(s) == len(prefix) {
		return false
	}
	for _, r := range s[len(prefix):] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// fieldNameOK accepts field names of the three systems: letters, digits,
// _ . - and spaces (RT custom field names), nothing that would need
// quoting.
func fieldNameOK(s string) bool {
	if len(s) > 128 || strings.TrimSpace(s) == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-', r == ' ':
		default:
			return false
		}
	}
	return true
}
