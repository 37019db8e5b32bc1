package model

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sitroom/model/hostiletest"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileHistory is a history of one shift (and the one before) in which
// every string an upstream, an operator or the config gave is taken from
// strs: service and source names, alert names, operators, targets,
// comments, refusal and delivery errors, escalation targets, notes, ticket
// sources and tiers, and the shift's label.
func hostileHistory(strs []string) (*History, HandoffOptions) {
	at := func(i int) string { return strs[i%len(strs)] }
	from := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	to := from.Add(8 * time.Hour)
	opt := HandoffOptions{
		Window:   Window{Label: at(0), From: from, To: to},
		Previous: Window{Label: at(1), From: from.Add(-8 * time.Hour), To: from},
		Next:     Window{Label: at(2), From: to, To: to.Add(8 * time.Hour)},
	}
	h := &History{From: opt.Previous.From, To: to}
	var services []*Service
	verbs := []Verb{VerbAck, VerbEscalate, VerbNote, VerbUnack, VerbTicketEscalate}
	states := []ActionState{ActionDelivered, ActionRefused, ActionPending, ActionFailed}
	for i := range strs {
		t0 := from.Add(time.Duration(i) * 5 * time.Minute)
		svc := at(i)
		rec := OutageRecord{ID: int64(i + 1), Service: svc, Severity: []Severity{SevCritical, SevWarning, SevInfo}[i%3], Opened: t0, Alerts: 1 + i%4}
		if i%2 == 0 {
			rec.Closed = t0.Add(20 * time.Minute)
		}
		if i%5 == 0 {
			rec.Opened = from.Add(-time.Hour + time.Duration(i)*time.Minute) // carried over
		}
		h.Outages = append(h.Outages, rec)
		so := SourceOutage{ID: int64(i + 1), Source: at(i + 1), Down: t0, Error: at(i + 2)}
		if i%2 == 1 {
			so.Up = t0.Add(3 * time.Minute)
		}
		h.SourceOutages = append(h.SourceOutages, so)
		ev := AlertEvent{Key: at(i + 3), Name: at(i + 3), Service: svc, Severity: SevWarning, Sources: []string{at(i + 1)}, Fired: t0}
		if i%3 == 0 {
			ev.Resolved = t0.Add(time.Minute)
		}
		h.Alerts = append(h.Alerts, ev)
		h.Audit = append(h.Audit, AuditEntry{ID: int64(i + 1), At: t0.Add(2 * time.Minute), Operator: at(i + 4), Verb: verbs[i%len(verbs)],
			Service: svc, Target: at(i + 5), Comment: at(i + 6), State: states[i%len(states)], Reason: at(i + 7)})
		h.Audit = append(h.Audit, AuditEntry{ID: int64(1000 + i), At: t0.Add(time.Minute), Operator: at(i + 4), Verb: VerbAck,
			Service: svc, Target: svc, Comment: at(i + 6), State: ActionDelivered})
		h.Escalations = append(h.Escalations, Escalation{ActionID: int64(i + 1), Service: svc, Level: 1 + i%3, Who: at(i + 8),
			Contact: at(i + 9), By: at(i + 4), At: t0.Add(3 * time.Minute), Comment: at(i + 9)})
		note := Note{ID: int64(i + 1), By: at(i + 4), At: t0.Add(4 * time.Minute), Text: at(i + 10)}
		if i%2 == 0 {
			note.Service = svc
		}
		h.Notes = append(h.Notes, note)
		h.Acks = append(h.Acks, AckRecord{Ack: Ack{ActionID: int64(1000 + i), Service: svc, By: at(i + 4), At: t0.Add(time.Minute),
			Until: to.Add(time.Duration(i+1) * time.Minute), Comment: at(i + 11)}, Silences: 1 + i%2})
		h.Backlog = append(h.Backlog, BacklogSample{At: t0, Source: at(i + 12), Tier: at(i + 13), Open: i, Unassigned: i % 3, Breached: i % 2})
		// An upstream silence on the outage, ending in the next shift, and
		// an ack that ended upstream: author, comment, ids are upstream text.
		h.Silences = append(h.Silences, SilenceRecord{Silence: Silence{Source: at(i + 1), ID: at(i + 14), CreatedBy: at(i + 15),
			Comment: at(i + 16), StartsAt: t0, EndsAt: to.Add(time.Duration(i+1) * time.Minute), State: SilenceActive,
			Matchers: at(i + 17)}, Services: []string{svc}})
		h.Audit = append(h.Audit, AuditEntry{ID: int64(2000 + i), At: t0.Add(5 * time.Minute), Operator: "sitroom", Verb: VerbEnded,
			Service: svc, Target: svc, Comment: "ack by " + at(i+4) + " ended upstream: silence expired by " + at(i+15), State: ActionDelivered})
		// The service's team (config text) told through two channels, of
		// upstream-named types, one failing with upstream text.
		services = append(services, &Service{Name: svc, Owner: at(i + 18)})
		uid := fmt.Sprintf("n%d", i)
		h.Notifications = append(h.Notifications,
			NotificationRecord{ActionUID: uid, At: t0.Add(2 * time.Minute), Operator: at(i + 4), Service: svc, Team: at(i + 18),
				Channel: at(i + 19), Index: 0, Kind: at(i + 20), State: states[i%len(states)], Error: at(i + 7)},
			NotificationRecord{ActionUID: uid, At: t0.Add(2 * time.Minute), Operator: at(i + 4), Service: svc, Team: at(i + 18),
				Channel: at(i + 21), Index: 1, Kind: at(i + 20), State: ActionPending, Error: at(i + 22)})
	}
	opt.Catalog = NewCatalog(services)
	return h, opt
}

// mdSkeleton is what of a line of the report Markdown would read as
// syntax: how the line starts (indent, heading marks, list or quote
// markers, table pipes, an ordered list's number) and every mark of inline syntax (emphasis, code,
// strike-through, links and images, HTML tags, entities, table cells, hard
// breaks) not escaped with a backslash. Text escaped into a report adds
// none.
func mdSkeleton(line string) string {
	var b strings.Builder
	rest := strings.TrimLeft(line, " #->+|")
	indent := len(line) - len(strings.TrimLeft(line, " "))
	// One to four spaces after a list marker are the same; five start a
	// code block.
	b.WriteString(line[:indent] + collapseGaps(line[indent:len(line)-len(rest)]))
	if orderedItem.MatchString(rest) {
		b.WriteString("1. ")
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case c == '\\' && i+1 < len(rest) && strings.IndexByte(markdownPunct, rest[i+1]) >= 0:
			i++
		case strings.IndexByte(inlineSyntax, c) >= 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// strongBroken reports whether a ** of the line cannot open or close
// strong emphasis: CommonMark reads "** x**" or "**x **" as literal
// asterisks, so an opening ** must be followed by, and a closing one
// preceded by, something other than white space.
func strongBroken(line string) bool {
	var at []int
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\':
			i++
		case strings.HasPrefix(line[i:], "**"):
			at = append(at, i)
			i++
		}
	}
	if len(at)%2 != 0 {
		return true
	}
	for k := 0; k < len(at); k += 2 {
		open, close := at[k]+2, at[k+1]
		if close == open {
			return true
		}
		first, _ := utf8.DecodeRuneInString(line[open:])
		last, _ := utf8.DecodeLastRuneInString(line[:close])
		if unicode.IsSpace(first) || unicode.IsSpace(last) {
			return true
		}
	}
	return false
}

// orderedItem is the start of an ordered list item.
var orderedItem = regexp.MustCompile(`^[0-9]{1,9}[.)]( |$)`)

// collapseGaps makes each run of one to four spaces one space.
func collapseGaps(s string) string {
	var b strings.Builder
	for s != "" {
		n := len(s) - len(strings.TrimLeft(s, " "))
		switch {
		case n == 0:
			b.WriteByte(s[0])
			s = s[1:]
			continue
		case n <= 4:
			b.WriteByte(' ')
		default:
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}

// markdownPunct is the ASCII punctuation CommonMark lets a backslash
// escape; inlineSyntax the marks that mean something within a line.
const (
	markdownPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
	inlineSyntax  = "\\`*_~[]<>|&#"
)

// The report's Markdown built from the corpus has exactly the structure of
// the same report built from plain words: the same lines, and on each line
// the same Markdown syntax (no heading, list item, table cell, link,
// emphasis, HTML tag or entity that the plain report lacks), and nothing
// a terminal would act on: no control character but the newlines, no
// bidi control, no line separator, only valid UTF-8.
func TestHandoffMarkdownOfHostileText(t *testing.T) {
	corpus := hostiletest.Corpus(t)
	const chunk = 24
	for start := 0; start < len(corpus); start += chunk {
		strs := corpus[start:min(start+chunk, len(corpus))]
		plain := make([]string, len(strs))
		for i := range plain {
			plain[i] = fmt.Sprintf("plain%d", i)
		}
		what := fmt.Sprintf("corpus[%d:%d]", start, start+len(strs))
		md := func(strs []string) []string {
			r := BuildHandoff(hostileHistory(strs))
			// Events of kinds this version does not know (a newer one
			// wrote them to the cache) are named by their kind.
			for i, s := range strs {
				r.Timeline = append(r.Timeline, TimelineEvent{At: r.Window.To.Add(time.Duration(i) * time.Second), Kind: s, Subject: strs[(i+1)%len(strs)]})
			}
			return strings.Split(r.Markdown()+"\n"+r.TimelineMarkdown(), "\n")
		}
		got, want := md(strs), md(plain)
		require.Equal(t, len(want), len(got), "%s: the report has another number of lines\n%s", what, strings.Join(got, "\n"))
		for i := range got {
			if !utf8.ValidString(got[i]) {
				t.Fatalf("%s: line %d is not valid UTF-8: %q", what, i+1, got[i])
			}
			for _, r := range got[i] {
				if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Bidi_Control, r) || r == 0x2028 || r == 0x2029 {
					t.Fatalf("%s: line %d carries %U: %q", what, i+1, r, got[i])
				}
			}
			if strongBroken(got[i]) {
				t.Fatalf("%s: line %d has bold text that does not read as bold: %q", what, i+1, got[i])
			}
			if g, w := mdSkeleton(got[i]), mdSkeleton(want[i]); g != w {
				t.Fatalf("%s: line %d reads as other Markdown than the plain report's\n got %q\nwant %q\nline %q\nplain %q", what, i+1, g, w, got[i], want[i])
			}
		}
	}
}

// The JSON report is data: every string built from the corpus comes back
// from the JSON exactly (invalid UTF-8, which JSON cannot carry, as
// U+FFFD), and nothing in the file would act on a terminal that prints it.
// The 1 MiB values are cut to 64 KiB here: the history repeats each string
// in a dozen fields, which would make a report of 300 MB.
func TestHandoffJSONOfHostileText(t *testing.T) {
	corpus := hostiletest.Corpus(t)
	for i, s := range corpus {
		corpus[i] = s[:min(len(s), 64<<10)]
	}
	const chunk = 24
	for start := 0; start < len(corpus); start += chunk {
		strs := corpus[start:min(start+chunk, len(corpus))]
		what := fmt.Sprintf("corpus[%d:%d]", start, start+len(strs))
		r := BuildHandoff(hostileHistory(strs))
		js, err := r.JSON()
		require.NoError(t, err, what)
		for i, c := range string(js) {
			if c < 0x20 && c != '\n' || c == 0x7f || c >= 0x80 && (unicode.Is(unicode.Cc, c) || unicode.Is(unicode.Bidi_Control, c) || c == 0x2028 || c == 0x2029) {
				t.Fatalf("%s: the JSON carries %U at byte %d", what, c, i)
			}
		}
		var back Handoff
		require.NoError(t, json.Unmarshal(js, &back), what)
		want := *r
		want.loc = nil
		valid := func(s *string) { *s = string([]rune(*s)) }
		forStrings(&want, valid)
		assert.Equal(t, want, back, "%s: the JSON round trip", what)
		// The test sees the corpus at all: the shift's label is its first string.
		require.NotEmpty(t, back.Notes, what)
		require.NotEmpty(t, back.Notifications, what)
		require.Equal(t, string([]rune(strs[0])), back.Window.Label, what)
	}
}

// forStrings applies f to every string of the report a person or upstream
// gave.
func forStrings(r *Handoff, f func(*string)) {
	f(&r.Window.Label)
	f(&r.Previous.Label)
	f(&r.Next.Label)
	for i := range r.Outages {
		o := &r.Outages[i]
		f(&o.Service)
		if o.FirstAck != nil {
			f(&o.FirstAck.By)
			f(&o.FirstAck.Comment)
		}
		for j := range o.Escalations {
			f(&o.Escalations[j].Who)
			f(&o.Escalations[j].By)
			f(&o.Escalations[j].Comment)
		}
		for j := range o.Silences {
			f(&o.Silences[j].Source)
			f(&o.Silences[j].ID)
			f(&o.Silences[j].By)
			f(&o.Silences[j].Comment)
			f(&o.Silences[j].Matchers)
		}
		for j := range o.AcksEnded {
			f(&o.AcksEnded[j].By)
			f(&o.AcksEnded[j].Comment)
		}
	}
	for i := range r.Operators {
		f(&r.Operators[i].Operator)
	}
	for _, list := range [][]HandoffAction{r.Refused, r.Unfinished, r.Backlog.Escalated} {
		for i := range list {
			f(&list[i].Operator)
			f(&list[i].Target)
			f(&list[i].Reason)
		}
	}
	for i := range r.Backlog.Tiers {
		f(&r.Backlog.Tiers[i].Source)
		f(&r.Backlog.Tiers[i].Tier)
	}
	for i := range r.SourceOutages {
		f(&r.SourceOutages[i].Source)
		f(&r.SourceOutages[i].Error)
	}
	for i := range r.ExpiringSilences {
		f(&r.ExpiringSilences[i].Service)
		f(&r.ExpiringSilences[i].By)
		f(&r.ExpiringSilences[i].Comment)
		f(&r.ExpiringSilences[i].Source)
		f(&r.ExpiringSilences[i].SilenceID)
	}
	for i := range r.Notifications {
		n := &r.Notifications[i]
		f(&n.Service)
		for j := range n.Told {
			t := &n.Told[j]
			f(&t.By)
			f(&t.Team)
			f(&t.Kind)
			for k := range t.Channels {
				f(&t.Channels[k].Type)
				f(&t.Channels[k].Error)
			}
		}
		for j := range n.NeverTold {
			f(&n.NeverTold[j])
		}
	}
	for i := range r.Notes {
		f(&r.Notes[i].By)
		f(&r.Notes[i].Service)
		f(&r.Notes[i].Text)
	}
	for i := range r.Timeline {
		f(&r.Timeline[i].Subject)
		f(&r.Timeline[i].By)
		f(&r.Timeline[i].Detail)
	}
}
