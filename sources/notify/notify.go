// Package notify tells a team about an outage through one of its
// channels: a Slack, Microsoft Teams or Mattermost incoming webhook, a
// generic JSON webhook, or e-mail. Each channel escapes every text of the
// message for its own format (no mention, link or header can be injected
// by a service name or an operator's text), sends the delivery's
// idempotency key, and words its errors without the channel's URL or
// password: the action outbox retries what can pass later and gives up
// on what cannot (Permanent).
package notify

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"sitroom/model"
	"sitroom/model/config"
	"sitroom/sources"
)

// Channel is one way to reach a team.
type Channel interface {
	// Type is the channel's config type: slack, msteams, mattermost,
	// webhook or email.
	Type() string
	// Send delivers m once; key is the delivery's idempotency key (the
	// action's uid and the delivery's Dest), the same on every attempt.
	// ref describes what the receiver answered. An error may be
	// permanent (Permanent() true: sending again cannot help); it never
	// holds the channel's URL or password.
	Send(ctx context.Context, m model.NotifyMessage, key string) (ref string, err error)
}

// New builds the channel ch of a team; smtp is the config's relay (for
// email channels) and name ("<team>/<i>") stands for the channel in error
// text. A URL file is read now.
func New(ch config.NotifyChannel, smtp *config.SMTP, name string) (Channel, error) {
	if ch.Type == config.ChannelEmail {
		return newEmail(ch, smtp, name)
	}
	format, ok := formats[ch.Type]
	if !ok {
		return nil, fmt.Errorf("channel %s: unknown type %q", name, sources.Sanitize(ch.Type, 40))
	}
	raw, err := ch.Endpoint()
	if err != nil {
		return nil, fmt.Errorf("channel %s: %w", name, err)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL is a secret: never quote it.
		return nil, fmt.Errorf("channel %s: the URL is not an absolute http:// or https:// URL", name)
	}
	client, err := sources.NewHTTPClient(ch.HTTP, name)
	if err != nil {
		return nil, err
	}
	return &httpChannel{typ: ch.Type, name: name, url: raw, secrets: urlSecrets(u), client: client, format: format}, nil
}

// replyMax bounds how much of a receiver's reply is read.
const replyMax = 64 << 10

// Error is a channel's failure in words, without its secrets.
type Error struct {
	// Msg is the failure: "HTTP 403 Forbidden: invalid_token",
	// "connection refused", "SMTP 550 …".
	Msg string
	// Status is the HTTP or SMTP status, 0 when there was none.
	Status int
	// Perm is true when sending again cannot help.
	Perm bool
}

func (e *Error) Error() string { return e.Msg }

// Permanent reports whether sending again cannot help; the outbox gives
// up on such a delivery and retries any other.
func (e *Error) Permanent() bool { return e.Perm }

// urlSecrets lists the parts of a webhook URL that may carry its token,
// longest first: the URL itself, its path and query and every path
// segment and query value long enough to be a token.
func urlSecrets(u *url.URL) []string {
	s := []string{u.String(), u.Host + u.EscapedPath(), u.EscapedPath(), u.Path, u.RawQuery}
	for _, seg := range strings.Split(u.Path, "/") {
		if len(seg) >= 6 {
			s = append(s, seg, url.PathEscape(seg))
		}
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			if len(v) >= 6 {
				s = append(s, v, url.QueryEscape(v))
			}
		}
	}
	sort.Slice(s, func(i, j int) bool { return len(s[i]) > len(s[j]) })
	return s
}

// scrub replaces each secret in msg with <secret>.
func scrub(msg string, secrets []string) string {
	for _, s := range secrets {
		if s != "" && s != "/" {
			msg = strings.ReplaceAll(msg, s, "<secret>")
		}
	}
	return msg
}

// wrap turns err into an *Error with the secrets taken out, keeping
// whether it is permanent.
func wrap(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	e := &Error{Msg: scrub(err.Error(), secrets)}
	var fe *sources.FetchError
	if errors.As(err, &fe) {
		e.Status, e.Perm = fe.Status, fe.Permanent()
		return e
	}
	var p interface{ Permanent() bool }
	if errors.As(err, &p) {
		e.Perm = p.Permanent()
	}
	return e
}

// Texts longer than these are cut.
const (
	fieldMax = 200  // a one-line field (service, cause, who, …)
	textMax  = 2000 // the operator's message
	linesMax = 40   // lines of the operator's message
	namesMax = 20   // impacted services listed by name
)

// fact is one labelled line of a message, cleaned of control characters
// but not yet escaped for any format.
type fact struct{ label, value string }

// oneLine cleans an untrusted one-line value.
func oneLine(s string) string { return model.OneLine(s, fieldMax) }

// text cleans the operator's message: each line made inert by OneLine,
// at most linesMax lines and textMax runes.
func text(s string) []string {
	var out []string
	n := 0
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if len(out) == linesMax || n >= textMax {
			out = append(out, "…")
			break
		}
		l = model.OneLine(l, textMax-n)
		n += len([]rune(l))
		if l == "" && (len(out) == 0 || out[len(out)-1] == "") {
			continue
		}
		out = append(out, l)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// facts lists what a message says besides its title and text, in order.
func facts(m model.NotifyMessage) []fact {
	var f []fact
	add := func(label, v string) {
		if v = oneLine(v); v != "" {
			f = append(f, fact{label, v})
		}
	}
	add("Service", m.Service)
	add("Severity", m.Severity)
	if !m.Since.IsZero() {
		add("Since", m.Since.UTC().Format("2006-01-02 15:04 UTC"))
	}
	add("Probable cause", m.Cause)
	if len(m.Impacted) > 0 {
		names := make([]string, 0, min(len(m.Impacted), namesMax))
		for _, s := range m.Impacted[:min(len(m.Impacted), namesMax)] {
			names = append(names, oneLine(s))
		}
		v := strings.Join(names, ", ")
		if more := len(m.Impacted) - len(names); more > 0 {
			v += " and " + model.Plural(more, "more service", "more services")
		}
		f = append(f, fact{"Impacted", v})
	}
	if m.Acked != "" {
		add("Acknowledged", m.Acked)
	} else if m.Kind != model.NotifyResolved {
		add("Acknowledged", "not yet")
	}
	if m.Level > 0 {
		esc := fmt.Sprintf("level %d", m.Level)
		if w := oneLine(m.Who); w != "" {
			esc += " (" + w + ")"
		}
		f = append(f, fact{"Escalation", esc})
	}
	add("Runbook", m.Runbook)
	add("Team", m.Team)
	if op := oneLine(m.Operator); op != "" {
		v := op
		if !m.At.IsZero() {
			v += " at " + m.At.UTC().Format("2006-01-02 15:04 UTC")
		}
		f = append(f, fact{"Sent by", v})
	}
	return f
}

// atTime formats a time for the generic JSON.
func atTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
