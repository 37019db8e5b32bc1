package model

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	pmodel "github.com/prometheus/common/model"
)

// FilterOp is the operator of one filter term.
type FilterOp string

// Filter operators: the Alertmanager matcher operators, and comparisons
// for the duration fields (@age, @sla).
const (
	OpEq  FilterOp = "="
	OpNe  FilterOp = "!="
	OpRe  FilterOp = "=~"
	OpNre FilterOp = "!~"
	OpLt  FilterOp = "<"
	OpLe  FilterOp = "<="
	OpGt  FilterOp = ">"
	OpGe  FilterOp = ">="
)

// Filter fields that are not labels. Every other field name is a label
// (or, for a ticket, one of its fields).
const (
	FieldSource = "@source" // a source holding the item
	FieldAge    = "@age"    // how long it has been open
	FieldAcked  = "@acked"  // its service is acknowledged, as Acknowledge means it (true/false)
	FieldState  = "@state"  // firing, pending, suppressed (silenced, inhibited); a ticket's status
	FieldTier   = "@tier"   // a ticket's tier (1 or 2)
	FieldSLA    = "@sla"    // time left on a ticket's SLA (negative once breached)
)

// FilterTerm is one `field op value` term of a filter.
type FilterTerm struct {
	Field string
	Op    FilterOp
	Value string // unquoted
	Pos   int    // 1-based rune position of the field in the filter text

	m    *Matcher // a label term: the Alertmanager matcher it came from
	re   *regexp.Regexp
	dur  time.Duration
	flag bool
	tier Tier
}

// Filter is a parsed filter line: every term and every free-text word
// must match (AND).
type Filter struct {
	Terms []FilterTerm
	// Words are the free-text words in lower case; each must occur in the
	// item's text (a quoted word may hold spaces).
	Words []string
}

// FilterError is a filter that does not parse; Pos is the 1-based rune
// position of the offending character (one past the end for "unexpected
// end").
type FilterError struct {
	Pos int
	Msg string
}

func (e *FilterError) Error() string { return fmt.Sprintf("at %d: %s", e.Pos, e.Msg) }

// Empty reports whether the filter keeps everything.
func (f *Filter) Empty() bool { return f == nil || len(f.Terms) == 0 && len(f.Words) == 0 }

// UsesAcks reports whether the filter depends on the acks (@acked), so its
// result changes when they do.
func (f *Filter) UsesAcks() bool {
	if f == nil {
		return false
	}
	for _, t := range f.Terms {
		if t.Field == FieldAcked {
			return true
		}
	}
	return false
}

// Narrows reports whether everything f keeps is also kept by prev (f only
// adds terms or lengthens words), so prev's result can be filtered by f
// instead of every item.
func (f *Filter) Narrows(prev *Filter) bool {
	if prev.Empty() {
		return true
	}
	if f.Empty() {
		return false
	}
	for _, pt := range prev.Terms {
		found := false
		for _, t := range f.Terms {
			if t.Field == pt.Field && t.Op == pt.Op && t.Value == pt.Value {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, pw := range prev.Words {
		found := false
		for _, w := range f.Words {
			if strings.Contains(w, pw) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// FilterQuote spells s as a label term's value: bare when Alertmanager's
// parsers read it unquoted as it is, else double-quoted with only \\, \"
// and newline escaped (the escapes both of its parsers read alike).
func FilterQuote(s string) string {
	if s != "" && utf8.ValidString(s) && !strings.ContainsFunc(s, amReserved) && strconv.Quote(s) == `"`+s+`"` {
		return s
	}
	return `"` + quoteEscaper.Replace(s) + `"`
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

// amReserved are the runes Alertmanager's UTF-8 parser does not take in
// an unquoted name or value.
func amReserved(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("{}!=~,\\\"'`", r)
}

type filterLexer struct {
	r   []rune
	i   int // index into r
	err *FilterError
}

func (l *filterLexer) fail(i int, format string, a ...any) {
	if l.err == nil {
		l.err = &FilterError{Pos: i + 1, Msg: fmt.Sprintf(format, a...)}
	}
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

func isNameStart(r rune) bool { return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

func isNameRune(r rune) bool { return isNameStart(r) || r >= '0' && r <= '9' }

// isLabelRune: the runes of a label name written unquoted in the filter:
// ASCII letters, digits, _ : . - and any other character outside ASCII
// but spaces. Other ASCII punctuation makes a word free text (a URL, an
// address); such a name can still be written quoted ("a/b"=c).
func isLabelRune(r rune) bool {
	return isNameRune(r) || r == ':' || r == '.' || r == '-' || r >= utf8.RuneSelf && !unicode.IsSpace(r)
}

func isOpRune(r rune) bool { return r == '=' || r == '!' || r == '~' || r == '<' || r == '>' }

// ParseFilter parses a filter line: space-separated terms, all of which
// must match.
//
//	name=value  name!=value  name=~regex  name!~regex   (labels; regexes are anchored)
//	a=b,c!=d  {a="b", c!="d"}  "a b"="c"                (Alertmanager matchers: all must match)
//	@source=…  @state=…      (same operators)
//	@age>10m  @sla<30m       (<, <=, >, >= with a duration: 90s, 10m, 2h, 1d)
//	@acked=false  @tier=1    (= or !=)
//	anything else            (case-insensitive text the item must contain)
//
// Label terms are read as an Alertmanager 0.35 config line reads its
// matchers (ParseMatchers): a brace list, which may hold spaces, or a word
// up to the next space outside double quotes, starting with a label name
// (letters, digits, _ : . - or any non-ASCII character; any name
// double-quoted) and an operator. A value may be double-quoted to hold
// spaces; a quoted text alone is free text. An empty line is an empty
// filter (keeps all), and so is {}.
func ParseFilter(s string) (*Filter, error) {
	l := &filterLexer{r: []rune(s)}
	f := &Filter{}
	for l.err == nil {
		for l.i < len(l.r) && isSpace(l.r[l.i]) {
			l.i++
		}
		if l.i >= len(l.r) {
			break
		}
		start := l.i
		c := l.r[l.i]
		switch {
		case c == '{':
			f.Terms = l.matchers(f.Terms, true)
		case c == '"':
			w, ok := l.quoted()
			if !ok {
				break
			}
			if l.i < len(l.r) && (l.r[l.i] == '=' || l.r[l.i] == '!') {
				l.i = start
				f.Terms = l.matchers(f.Terms, false)
				break
			}
			if l.i < len(l.r) && !isSpace(l.r[l.i]) {
				l.fail(l.i, "expected a space after the quoted text")
				break
			}
			if w = strings.ToLower(w); w != "" {
				f.Words = append(f.Words, w)
			}
		case isOpRune(c):
			l.fail(start, "expected a field name before %q", string(c))
		case c == '@':
			j := l.i + 1
			for j < len(l.r) && isNameRune(l.r[j]) {
				j++
			}
			switch {
			case j < len(l.r) && isOpRune(l.r[j]) && j == l.i+1:
				l.fail(j, "expected a field name after @")
			case j < len(l.r) && isOpRune(l.r[j]):
				name := string(l.r[l.i:j])
				l.i = j
				if t, ok := l.term(name, start); ok {
					f.Terms = append(f.Terms, t)
				}
			default:
				l.fail(start, "unknown field %q (use @source, @age, @acked, @state, @tier or @sla with an operator)", string(l.r[l.i:j]))
			}
		default:
			j := l.i
			for j < len(l.r) && isLabelRune(l.r[j]) {
				j++
			}
			if j > l.i && j < len(l.r) && (l.r[j] == '<' || l.r[j] == '>') {
				l.fail(j, "%s only compares durations (@age, @sla); use =, !=, =~ or !~", string(l.r[j]))
				break
			}
			if j > l.i && j < len(l.r) && isOpRune(l.r[j]) {
				f.Terms = l.matchers(f.Terms, false)
				break
			}
			for j < len(l.r) && !isSpace(l.r[j]) {
				j++
			}
			f.Words = append(f.Words, strings.ToLower(string(l.r[l.i:j])))
			l.i = j
		}
	}
	if l.err != nil {
		return nil, l.err
	}
	return f, nil
}

// matchers reads the Alertmanager matchers at l.i: a brace list up to its
// closing brace, or else a word up to the next space, double quotes and
// backslash escapes respected either way; and appends a term for each.
func (l *filterLexer) matchers(terms []FilterTerm, braced bool) []FilterTerm {
	start := l.i
	j, quote := l.i, -1
	if braced {
		j++
	}
	end := -1
	for j < len(l.r) && end < 0 {
		switch r := l.r[j]; {
		case r == '\\' && j+1 < len(l.r) && (quote >= 0 || !isSpace(l.r[j+1])):
			j++
		case r == '"' && quote >= 0:
			quote = -1
		case r == '"':
			quote = j
		case quote >= 0:
		case braced && r == '}':
			end = j + 1
		case !braced && isSpace(r):
			end = j
			continue
		}
		j++
	}
	switch {
	case quote >= 0:
		l.fail(len(l.r), "unterminated quote (opened at %d)", quote+1)
		return terms
	case braced && end < 0:
		l.fail(len(l.r), "missing closing } (opened at %d)", start+1)
		return terms
	case end < 0:
		end = len(l.r)
	}
	if end < len(l.r) && !isSpace(l.r[end]) {
		l.fail(end, "expected a space after }")
		return terms
	}
	l.i = end
	lms, err := parseAM(string(l.r[start:end]))
	if err != nil {
		e := err.(*MatcherError)
		pos := start
		if e.Pos > 0 {
			pos += e.Pos - 1
		}
		l.fail(pos, "%s", e.Msg)
		return terms
	}
	for _, lm := range lms {
		if strings.HasPrefix(lm.Name, "@") {
			l.fail(start, "%s is not a label: write @ fields as terms of their own", lm.Name)
			return terms
		}
		m := fromLabels(lm)
		terms = append(terms, FilterTerm{Field: m.Name, Op: FilterOp(m.Op), Value: m.Value, Pos: start + 1, m: m})
	}
	return terms
}

// quoted reads a double-quoted string at l.i.
func (l *filterLexer) quoted() (string, bool) {
	start := l.i
	j := l.i + 1
	for j < len(l.r) {
		switch l.r[j] {
		case '\\':
			j += 2
			continue
		case '"':
			v, err := strconv.Unquote(string(l.r[start : j+1]))
			if err != nil {
				l.fail(start, "bad escape in quoted text")
				return "", false
			}
			l.i = j + 1
			return v, true
		}
		j++
	}
	l.fail(len(l.r), "unterminated quote (opened at %d)", start+1)
	return "", false
}

// term reads the operator and value of an @ field's term whose name ends
// at l.i. Label terms are read by matchers.
func (l *filterLexer) term(name string, start int) (FilterTerm, bool) {
	t := FilterTerm{Field: name, Pos: start + 1}
	opAt := l.i
	j := l.i
	for j < len(l.r) && isOpRune(l.r[j]) {
		j++
	}
	t.Op = FilterOp(string(l.r[l.i:j]))
	switch t.Op {
	case OpEq, OpNe, OpRe, OpNre, OpLt, OpLe, OpGt, OpGe:
	default:
		l.fail(opAt, "unknown operator %q (use =, !=, =~, !~, <, <=, >, >=)", string(t.Op))
		return t, false
	}
	l.i = j
	valAt := l.i
	if l.i < len(l.r) && l.r[l.i] == '"' {
		v, ok := l.quoted()
		if !ok {
			return t, false
		}
		if l.i < len(l.r) && !isSpace(l.r[l.i]) {
			l.fail(l.i, "expected a space after the quoted value")
			return t, false
		}
		t.Value = v
	} else {
		for j < len(l.r) && !isSpace(l.r[j]) {
			j++
		}
		t.Value = string(l.r[l.i:j])
		l.i = j
		if t.Value == "" {
			l.fail(valAt, "expected a value after %s (use \"\" for an empty one)", t.Op)
			return t, false
		}
	}
	cmp := t.Op == OpLt || t.Op == OpLe || t.Op == OpGt || t.Op == OpGe
	switch name {
	case FieldAge, FieldSLA:
		if !cmp {
			l.fail(opAt, "%s takes <, <=, > or >= and a duration", name)
			return t, false
		}
		neg := strings.HasPrefix(t.Value, "-")
		d, err := pmodel.ParseDuration(strings.TrimPrefix(t.Value, "-"))
		if err != nil {
			l.fail(valAt, "bad duration %q (like 90s, 10m, 2h, 1d)", t.Value)
			return t, false
		}
		t.dur = time.Duration(d)
		if neg {
			t.dur = -t.dur
		}
		return t, true
	}
	if cmp {
		l.fail(opAt, "%s only compares durations (@age, @sla); use =, !=, =~ or !~", string(t.Op))
		return t, false
	}
	switch name {
	case FieldAcked:
		if t.Op != OpEq && t.Op != OpNe {
			l.fail(opAt, "@acked takes = or !=")
			return t, false
		}
		b, err := strconv.ParseBool(t.Value)
		if err != nil {
			l.fail(valAt, "@acked is true or false")
			return t, false
		}
		t.flag = b
		return t, true
	case FieldTier:
		if t.Op != OpEq && t.Op != OpNe {
			l.fail(opAt, "@tier takes = or !=")
			return t, false
		}
		tier, ok := ParseTier(t.Value)
		if !ok {
			l.fail(valAt, "@tier is 1 or 2")
			return t, false
		}
		t.tier = tier
		return t, true
	case FieldSource, FieldState:
	default:
		l.fail(start, "unknown field %s (use @source, @age, @acked, @state, @tier or @sla)", name)
		return t, false
	}
	if t.Op == OpRe || t.Op == OpNre {
		re, err := regexp.Compile("^(?:" + t.Value + ")$")
		if err != nil {
			msg := err.Error()
			if e, ok := err.(*syntax.Error); ok {
				msg = string(e.Code)
			}
			l.fail(valAt, "bad regex: %s", msg)
			return t, false
		}
		t.re = re
	}
	return t, true
}

// matchString applies a string operator (=, !=, =~, !~) to v; a label
// term its Alertmanager matcher.
func (t *FilterTerm) matchString(v string) bool {
	if t.m != nil {
		return t.m.MatchesValue(v)
	}
	switch t.Op {
	case OpEq:
		return v == t.Value
	case OpNe:
		return v != t.Value
	case OpRe:
		return t.re.MatchString(v)
	case OpNre:
		return !t.re.MatchString(v)
	}
	return false
}

// matchAny applies a string operator to a set: = and =~ need one value to
// match, != and !~ need none to equal or match the value.
func (t *FilterTerm) matchAny(vs []string) bool {
	neg := t.Op == OpNe || t.Op == OpNre
	for _, v := range vs {
		pos := t.Op
		switch t.Op {
		case OpNe:
			pos = OpEq
		case OpNre:
			pos = OpRe
		}
		pt := *t
		pt.Op = pos
		if pt.matchString(v) {
			return !neg
		}
	}
	return neg
}

func (t *FilterTerm) matchDur(d time.Duration) bool {
	switch t.Op {
	case OpLt:
		return d < t.dur
	case OpLe:
		return d <= t.dur
	case OpGt:
		return d > t.dur
	case OpGe:
		return d >= t.dur
	}
	return false
}

func (t *FilterTerm) matchFlag(b bool) bool {
	if t.Op == OpNe {
		return b != t.flag
	}
	return b == t.flag
}

// FilterEnv is what evaluating a filter needs besides the item: the time
// ages and SLAs are measured at (the snapshot's), and whether a service is
// acknowledged (nil: nothing is).
type FilterEnv struct {
	Now time.Time
	// Acked reports whether a service is acknowledged: its outage by the
	// one meaning (Acknowledge: a sitroom ack in force or upstream
	// silences cover every alert; AckView.Service). Nil: nothing is.
	Acked func(service string) bool
	// Texts keeps the text of each signal a free-text filter searched,
	// for the next filter of the same snapshot (nil: none kept).
	Texts SignalTexts
}

func (e FilterEnv) acked(service string) bool { return e.Acked != nil && e.Acked(service) }

// The names @state knows a suppressed signal by: suppressed, and silenced
// or inhibited (or both) as it is upstream.
var (
	stateFiring         = []string{StateFiring.String()}
	statePending        = []string{StatePending.String()}
	suppressedSilenced  = []string{StateSuppressed.String(), "silenced"}
	suppressedInhibited = []string{StateSuppressed.String(), "inhibited"}
	suppressedBoth      = []string{StateSuppressed.String(), "silenced", "inhibited"}
)

// stateNames are the names @state matches a signal by: its state, and for
// a suppressed one whether it is silenced, inhibited or both. An alert
// that a source still pages is firing, whatever the others say.
func stateNames(s *Signal) []string {
	switch {
	case s.State == StateFiring:
		return stateFiring
	case s.State == StatePending:
		return statePending
	case s.State != StateSuppressed:
		return []string{s.State.String()}
	case s.SilencedIn > 0 && s.InhibitedIn > 0:
		return suppressedBoth
	case s.InhibitedIn > 0:
		return suppressedInhibited
	}
	return suppressedSilenced
}

// MatchSignal reports whether the filter keeps the signal. Labels are its
// labels, except service (its catalog service) and severity (its
// normalised severity: critical, warning, info, none); a missing label
// reads as "". @state is firing, pending or suppressed, and a suppressed
// signal is also silenced or inhibited (or both); @age is measured
// from StartsAt. Ticket fields (@tier, @sla) never match a signal. Free
// text is matched with MatchesText, keeping its texts in env.Texts.
func (f *Filter) MatchSignal(s *Signal, env FilterEnv) bool {
	for i := range f.Terms {
		t := &f.Terms[i]
		var ok bool
		switch t.Field {
		case FieldSource:
			ok = t.matchAny(s.Sources)
		case FieldState:
			ok = t.matchAny(stateNames(s))
		case FieldAge:
			ok = !s.StartsAt.IsZero() && t.matchDur(env.Now.Sub(s.StartsAt.Time()))
		case FieldAcked:
			ok = t.matchFlag(env.acked(s.Service))
		case FieldTier, FieldSLA:
			ok = false
		case "service":
			ok = t.matchString(s.Service)
		case "severity":
			ok = t.matchString(s.Severity.Name())
		default:
			ok = t.matchString(s.Labels.Get(t.Field))
		}
		if !ok {
			return false
		}
	}
	for _, w := range f.Words {
		if !s.MatchesText(w, env.Texts) {
			return false
		}
	}
	return true
}

// MatchTicket reports whether the filter keeps the ticket. hay is the
// ticket's searchable text in lower case (the caller keeps it across
// snapshots); free text also matches the linked service. Fields are
// service (the linked one), queue, status, owner, requester, subject,
// number, priority (P1…P5) and the ticket's own Fields; @source is its
// source, @state its status, @age its age, @acked whether its linked
// service is acknowledged, @tier its tier and @sla the time left (a ticket
// without an SLA never matches @sla).
func (f *Filter) MatchTicket(it *TicketItem, hay string, env FilterEnv) bool {
	tk := it.Ticket
	for i := range f.Terms {
		t := &f.Terms[i]
		var ok bool
		switch t.Field {
		case FieldSource:
			ok = t.matchString(tk.Source)
		case FieldState:
			ok = t.matchString(tk.Status)
		case FieldAge:
			ok = !tk.Created.IsZero() && t.matchDur(tk.Age(env.Now))
		case FieldAcked:
			ok = t.matchFlag(it.Service != "" && env.acked(it.Service))
		case FieldTier:
			ok = (tk.Tier == t.tier) == (t.Op == OpEq)
		case FieldSLA:
			left, known := tk.SLA.Left(env.Now)
			ok = known && t.matchDur(left)
		default:
			ok = t.matchString(ticketField(it, t.Field))
		}
		if !ok {
			return false
		}
	}
	if len(f.Words) > 0 {
		svc := strings.ToLower(it.Service)
		for _, w := range f.Words {
			if !strings.Contains(hay, w) && !strings.Contains(svc, w) {
				return false
			}
		}
	}
	return true
}

func ticketField(it *TicketItem, name string) string {
	tk := it.Ticket
	switch name {
	case "service":
		return it.Service
	case "queue":
		return tk.Queue
	case "status":
		return tk.Status
	case "owner":
		return tk.Owner
	case "requester":
		return tk.Requester
	case "subject":
		return tk.Subject
	case "number":
		return tk.Number
	case "priority":
		if tk.Priority == PriorityNone {
			return ""
		}
		return tk.Priority.String()
	}
	return tk.Fields.Get(name)
}
