package model

import (
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// VerbNotify tells the teams an outage affects through their channels
// (Slack, Teams, Mattermost, a webhook, e-mail). Each (team, channel) is
// one delivery in the outbox.
const VerbNotify Verb = "notify"

// DeliverNotify is the delivery kind of a notification: Dest is
// "<team>/<i>" (the team and the index of its channel in config), Key the
// team and Payload EncodeNotify's JSON (the channel type and the message).
const DeliverNotify = "notify"

// Notification kinds (NotifyMessage.Kind).
const (
	NotifyOutage   = "outage"   // the first word to a team about an outage
	NotifyUpdate   = "update"   // a later word about the same outage
	NotifyResolved = "resolved" // the outage closed (teams with notify_on_resolve)
)

// NotifyMessage is what a team is told about an outage. Every text field
// is untrusted (service names, causes and the operator's text come from
// upstream or from a keyboard): each channel escapes it for its format.
type NotifyMessage struct {
	// UID is the action's uid: with the delivery's Dest, the idempotency
	// key of one message on one channel.
	UID      string    `json:"uid"`
	Kind     string    `json:"kind"` // NotifyOutage, NotifyUpdate or NotifyResolved
	Service  string    `json:"service"`
	Severity string    `json:"severity"` // critical, warning, info
	Since    time.Time `json:"since"`
	Cause    string    `json:"cause,omitempty"`    // probable cause service, "" none
	Impacted []string  `json:"impacted,omitempty"` // downstream services
	Acked    string    `json:"acked,omitempty"`    // "acked by alice 12m ago: comment" or ""
	Level    int       `json:"level"`              // escalation level
	Who      string    `json:"who,omitempty"`      // who holds that level
	Runbook  string    `json:"runbook,omitempty"`  // URL or path, "" none
	Text     string    `json:"text"`               // the operator's message, as edited
	Operator string    `json:"operator"`
	At       time.Time `json:"at"`
	Team     string    `json:"team"`
}

// titleMax bounds a title's length in runes.
const titleMax = 200

// Title is the message's subject on one line: "CRIT db-main down since
// 09:12 UTC", "CRIT db-main update", "CRIT db-main resolved". Control
// characters, line breaks and bidi overrides in the service name become
// spaces, runs of white space one space, and a long title is cut, so it
// is safe as an e-mail subject or a chat message's first line (each
// channel still escapes its own markup).
func (m NotifyMessage) Title() string {
	sev := ParseSeverity(m.Severity).String()
	var what string
	switch m.Kind {
	case NotifyUpdate:
		what = "update"
	case NotifyResolved:
		what = "resolved"
	default:
		what = "down"
		if !m.Since.IsZero() {
			what += " since " + m.Since.UTC().Format("15:04") + " UTC"
		}
	}
	return OneLine(sev+" "+m.Service+" "+what, titleMax)
}

// OneLine makes untrusted text one line: invalid UTF-8 becomes U+FFFD,
// control characters (escape sequences, line breaks), line and paragraph
// separators and bidi controls become spaces, runs of white space become
// one space, the ends are trimmed and text longer than max runes is cut
// with "…" (max <= 0: no limit).
func OneLine(s string, max int) string {
	var b strings.Builder
	space := false
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			r = '\uFFFD'
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || unicode.IsSpace(r) ||
			r == '\u2028' || r == '\u2029' || r == '\u200b' || r == '\ufeff' {
			space = b.Len() > 0
			continue
		}
		if space {
			if max > 0 && n+1 >= max {
				b.WriteString("…")
				return b.String()
			}
			b.WriteByte(' ')
			n++
			space = false
		}
		if max > 0 && n >= max {
			b.WriteString("…")
			return b.String()
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// NotifyPayload is a notify delivery's Payload: the channel's type (so the
// board can list a team's channels without the config) and the message.
type NotifyPayload struct {
	Type    string        `json:"type"`
	Message NotifyMessage `json:"message"`
}

// EncodeNotify is the Payload of a notify delivery through a channel of
// type typ.
func EncodeNotify(typ string, m NotifyMessage) string {
	b, err := json.Marshal(NotifyPayload{Type: typ, Message: m})
	if err != nil { // a struct of strings, times and ints always marshals
		panic(err)
	}
	return string(b)
}

// DecodeNotify reads a notify delivery's Payload.
func DecodeNotify(payload string) (NotifyPayload, error) {
	var p NotifyPayload
	err := json.Unmarshal([]byte(payload), &p)
	return p, err
}

// Notice is one team told (or being told) about one service's outage: the
// latest notify action naming the team, and what became of it on each of
// the team's channels.
type Notice struct {
	Service string
	Team    string
	// Channels are the channel types of the latest action, in config
	// order ("slack", "email").
	Channels []string
	// State is the worst of the latest action's channels: pending if any
	// is pending, failed if any failed, else delivered.
	State ActionState
	By    string    // who sent the latest notify action
	At    time.Time // when
	Error string    // the latest channel failure in words
	Kind  string    // the latest message's kind (NotifyOutage, …)
	// ToldAt is when the latest notify action at least one channel of
	// which was delivered was made; zero when no message reached the team.
	// A team whose update is still pending was told by an earlier one.
	ToldAt time.Time
}

// Told reports whether the team heard of the outage open since since:
// some message reached it at or after since.
func (n *Notice) Told(since time.Time) bool {
	return n != nil && !n.ToldAt.IsZero() && !n.ToldAt.Before(since)
}

// NoticeOf returns what team was told about service, or nil.
func (b *Board) NoticeOf(service, team string) *Notice {
	if b == nil {
		return nil
	}
	ns := b.Notices[service]
	for i := range ns {
		if ns[i].Team == team {
			return &ns[i]
		}
	}
	return nil
}

// Untold lists the teams (of teams, in their order) not told about the
// outage o once after has passed since it began: a team is told when a
// notify message about o's service reached it at or after o.Since. It is
// empty while the outage is younger than after, and always when after is
// zero (no notify_after policy).
func Untold(o *Outage, b *Board, teams []string, after time.Duration, now time.Time) []string {
	if o == nil || after <= 0 || o.Since.IsZero() || now.Sub(o.Since) < after {
		return nil
	}
	var out []string
	for _, t := range teams {
		if !b.NoticeOf(o.Service, t).Told(o.Since) {
			out = append(out, t)
		}
	}
	return out
}

// TeamsToTell lists the teams an outage affects, each once, nearest
// first: the outage's own team, the owners of every downstream service,
// then the owner of its probable cause. Services with no owner name no
// team. cat may be nil (then the outage's Impact alone is used).
func TeamsToTell(o *Outage, cat *Catalog) []string {
	if o == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(t string) {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	add(o.Owner)
	if o.Impact != nil {
		for _, t := range o.Impact.Notify {
			add(t.Owner)
		}
	}
	if o.ProbableCause != "" && cat != nil {
		if s := cat.Lookup(o.ProbableCause); s != nil {
			add(s.Owner)
		}
	}
	return out
}
