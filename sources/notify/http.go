package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"sitroom/model"
	"sitroom/model/config"
	"sitroom/sources"
)

// httpChannel posts a JSON body, built by format, to a webhook URL.
type httpChannel struct {
	typ, name string
	url       string   // a secret
	secrets   []string // the URL's parts that may hold its token
	client    *http.Client
	format    func(m model.NotifyMessage, key string) any
}

// formats builds each HTTP channel type's body.
var formats = map[string]func(model.NotifyMessage, string) any{
	config.ChannelSlack:      slackBody,
	config.ChannelMattermost: mattermostBody,
	config.ChannelMSTeams:    teamsBody,
	config.ChannelWebhook:    webhookBody,
}

func (c *httpChannel) Type() string { return c.typ }

// Send posts the message once with an Idempotency-Key header. A 4xx other
// than 401, 408 and 429 is permanent; a 5xx or a transport failure is
// not. The error never holds the URL.
func (c *httpChannel) Send(ctx context.Context, m model.NotifyMessage, key string) (string, error) {
	b, err := json.Marshal(c.format(m, key))
	if err != nil {
		return "", &Error{Msg: c.name + ": " + err.Error(), Perm: true}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(b))
	if err != nil {
		return "", &Error{Msg: c.name + ": the URL does not make a request", Perm: true}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Idempotency-Key", key)
	var reply string
	code, err := sources.DoRequest(c.client, req, replyMax, func(r io.Reader) error {
		buf := make([]byte, 200)
		n, _ := r.Read(buf)
		reply = sources.Sanitize(buf[:n], 80)
		return nil
	})
	if err != nil {
		return "", wrap(err, c.secrets)
	}
	ref := fmt.Sprintf("%s: HTTP %d", c.typ, code)
	if reply = scrub(reply, c.secrets); reply != "" {
		ref += " " + reply
	}
	return ref, nil
}

// Slack's mrkdwn: &, < and > are the only characters to escape, and once
// escaped no <!channel>, <@U…> or <http://x|y> can form. A plain @channel
// is not a mention in an incoming webhook's text; a zero-width joiner
// after each @ keeps it so should a client differ.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "@", "@\u200d")

func slackEscape(s string) string { return slackEscaper.Replace(s) }

// slackSectionMax is Slack's limit on a section's text.
const slackSectionMax = 3000

// slackBody is a Slack incoming webhook's payload: text (the
// notification's fallback) and blocks: the title, the facts and the
// operator's message as mrkdwn sections.
func slackBody(m model.NotifyMessage, _ string) any {
	type textObj struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	type block struct {
		Type string   `json:"type"`
		Text *textObj `json:"text,omitempty"`
	}
	title := slackEscape(m.Title())
	var fl []string
	for _, f := range facts(m) {
		fl = append(fl, "*"+f.label+":* "+slackEscape(f.value))
	}
	blocks := []block{
		{Type: "section", Text: &textObj{"mrkdwn", "*" + title + "*"}},
		{Type: "section", Text: &textObj{"mrkdwn", cut(strings.Join(fl, "\n"), slackSectionMax)}},
	}
	if t := text(m.Text); len(t) > 0 {
		lines := make([]string, len(t))
		for i, l := range t {
			lines[i] = slackEscape(l)
		}
		blocks = append(blocks, block{Type: "section", Text: &textObj{"mrkdwn", cut(strings.Join(lines, "\n"), slackSectionMax)}})
	}
	return struct {
		Text   string  `json:"text"`
		Blocks []block `json:"blocks"`
	}{title, blocks}
}

// cut shortens s to at most max bytes on a line or rune boundary, never
// inside an escape (&amp;).
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[:max-len("…")]
	if i := strings.LastIndexByte(s, '\n'); i > max/2 {
		s = s[:i]
	} else if i := strings.LastIndexByte(s, '&'); i > len(s)-6 {
		s = s[:i]
	}
	return strings.ToValidUTF8(s, "") + "…"
}

// Mattermost markdown: a backslash before each punctuation character that
// could open a link, an image, emphasis, code, a heading, a table or HTML
// makes it literal; a zero-width joiner after each @ keeps @channel,
// @all, @here and @user from mentioning anyone.
var mattermostEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "(", `\(`, ")", `\)`,
	"<", `\<`, ">", `\>`, "#", `\#`, "|", `\|`, "~", `\~`, "!", `\!`, ":", "\\:",
	"@", "@\u200d")

func mattermostEscape(s string) string { return mattermostEscaper.Replace(s) }

// mattermostBody is a Mattermost incoming webhook's payload: text, in
// Mattermost markdown.
func mattermostBody(m model.NotifyMessage, _ string) any {
	var b strings.Builder
	b.WriteString("**" + mattermostEscape(m.Title()) + "**\n")
	for _, f := range facts(m) {
		b.WriteString("**" + f.label + ":** " + mattermostEscape(f.value) + "\n")
	}
	if t := text(m.Text); len(t) > 0 {
		b.WriteString("\n")
		for _, l := range t {
			b.WriteString(mattermostEscape(l) + "  \n")
		}
	}
	return struct {
		Text string `json:"text"`
	}{cut(strings.TrimRight(b.String(), "\n "), 16000)}
}

// Adaptive Card markdown (TextBlock and FactSet): a backslash before each
// character that could open emphasis or a link, and & and < as entities
// so no <at> mention or HTML forms.
var teamsEscaper = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "(", `\(`, ")", `\)`, "`", "\\`", "~", `\~`, "#", `\#`,
	"&", "&amp;", "<", "&lt;", ">", "&gt;")

func teamsEscape(s string) string { return teamsEscaper.Replace(s) }

// teamsBody is a Microsoft Teams incoming webhook's (or Workflows
// "post to a channel when a webhook request is received") payload: a
// message with one Adaptive Card 1.4 attachment holding the title, the
// facts and the operator's message.
func teamsBody(m model.NotifyMessage, _ string) any {
	type factObj struct {
		Title string `json:"title"`
		Value string `json:"value"`
	}
	type element struct {
		Type   string    `json:"type"`
		Text   string    `json:"text,omitempty"`
		Weight string    `json:"weight,omitempty"`
		Size   string    `json:"size,omitempty"`
		Wrap   bool      `json:"wrap,omitempty"`
		Facts  []factObj `json:"facts,omitempty"`
	}
	body := []element{{Type: "TextBlock", Text: teamsEscape(m.Title()), Weight: "Bolder", Size: "Medium", Wrap: true}}
	var fs []factObj
	for _, f := range facts(m) {
		fs = append(fs, factObj{f.label, teamsEscape(f.value)})
	}
	body = append(body, element{Type: "FactSet", Facts: fs})
	if t := text(m.Text); len(t) > 0 {
		lines := make([]string, len(t))
		for i, l := range t {
			lines[i] = teamsEscape(l)
		}
		body = append(body, element{Type: "TextBlock", Text: strings.Join(lines, "\n\n"), Wrap: true})
	}
	type card struct {
		Schema  string    `json:"$schema"`
		Type    string    `json:"type"`
		Version string    `json:"version"`
		Body    []element `json:"body"`
	}
	type attachment struct {
		ContentType string `json:"contentType"`
		ContentURL  any    `json:"contentUrl"`
		Content     card   `json:"content"`
	}
	return struct {
		Type        string       `json:"type"`
		Attachments []attachment `json:"attachments"`
	}{"message", []attachment{{
		ContentType: "application/vnd.microsoft.card.adaptive",
		Content: card{Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4",
			Body: body},
	}}}
}

// Event is the generic webhook's JSON body (docs/notify.md): the message's
// fields in snake_case, its title, and the delivery's idempotency key.
// Text fields are as sitroom holds them, untrusted: a receiver escapes
// them for wherever it shows them.
type Event struct {
	Event          string   `json:"event"` // "notify"
	IdempotencyKey string   `json:"idempotency_key"`
	UID            string   `json:"uid"`
	Kind           string   `json:"kind"` // outage, update or resolved
	Title          string   `json:"title"`
	Team           string   `json:"team"`
	Service        string   `json:"service"`
	Severity       string   `json:"severity"`
	Since          string   `json:"since,omitempty"` // RFC 3339, UTC
	Cause          string   `json:"cause,omitempty"`
	Impacted       []string `json:"impacted"`
	Acked          string   `json:"acked,omitempty"`
	Level          int      `json:"level"`
	Who            string   `json:"who,omitempty"`
	Runbook        string   `json:"runbook,omitempty"`
	Text           string   `json:"text"`
	Operator       string   `json:"operator"`
	At             string   `json:"at"` // RFC 3339, UTC
}

// jsonFieldMax bounds each text of the generic JSON, in bytes.
const jsonFieldMax = 16 << 10

func clipJSON(s string) string {
	if len(s) <= jsonFieldMax {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ToValidUTF8(s[:jsonFieldMax], "") + "…"
}

// webhookBody is the generic webhook's Event.
func webhookBody(m model.NotifyMessage, key string) any {
	imp := make([]string, 0, len(m.Impacted))
	for _, s := range m.Impacted {
		imp = append(imp, clipJSON(s))
	}
	return Event{
		Event: "notify", IdempotencyKey: key, UID: m.UID, Kind: m.Kind, Title: m.Title(), Team: clipJSON(m.Team),
		Service: clipJSON(m.Service), Severity: clipJSON(m.Severity), Since: atTime(m.Since), Cause: clipJSON(m.Cause),
		Impacted: imp, Acked: clipJSON(m.Acked), Level: m.Level, Who: clipJSON(m.Who), Runbook: clipJSON(m.Runbook),
		Text: clipJSON(m.Text), Operator: clipJSON(m.Operator), At: atTime(m.At),
	}
}
