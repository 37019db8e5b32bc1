package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	pconfig "github.com/prometheus/common/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/config"
	"sitroom/model/hostiletest"
)

// token is the secret part of every test webhook URL.
const token = "T0KEN-xoxb-9f8e7d6c5b4a"

// receiver is a webhook receiver on loopback: it records each request
// and answers with status (200 unless set).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	reply  string
	got    []request
}

type request struct {
	method, path, contentType, key string
	body                           []byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: http.StatusOK, reply: "ok"}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, request{req.Method, req.URL.Path, req.Header.Get("Content-Type"), req.Header.Get("Idempotency-Key"), b})
		status, reply := r.status, r.reply
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, reply)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.got...)
}

// url is the receiver's URL with a token in its path, as Slack's,
// Mattermost's and Teams' webhook URLs carry theirs.
func (r *receiver) url() string { return r.URL + "/services/T000/B000/" + token }

func channel(t *testing.T, typ, url string) Channel {
	t.Helper()
	c, err := New(config.NotifyChannel{Type: typ, URL: pconfig.Secret(url), HTTP: pconfig.DefaultHTTPClientConfig}, nil, "team-web/0")
	require.NoError(t, err)
	require.Equal(t, typ, c.Type())
	return c
}

func message() model.NotifyMessage {
	return model.NotifyMessage{
		UID: "a1b2", Kind: model.NotifyOutage, Service: "db-main", Severity: "critical",
		Since: time.Date(2026, 12, 7, 9, 12, 0, 0, time.UTC), Cause: "db-main", Impacted: []string{"payments", "checkout"},
		Acked: "acked by alice 12m ago: on it", Level: 2, Who: "service owner on-call", Runbook: "https://wiki.example/db-main",
		Text: "Primary is down.\nFailover under way.", Operator: "alice", At: time.Date(2026, 12, 7, 9, 24, 0, 0, time.UTC),
		Team: "team-web",
	}
}

func TestSlackIncomingWebhook(t *testing.T) {
	r := newReceiver(t)
	ref, err := channel(t, "slack", r.url()).Send(context.Background(), message(), "a1b2/team-web/0")
	require.NoError(t, err)
	assert.Contains(t, ref, "HTTP 200")
	got := r.requests()
	require.Len(t, got, 1)
	assert.Equal(t, http.MethodPost, got[0].method)
	assert.Equal(t, "/services/T000/B000/"+token, got[0].path)
	assert.Equal(t, "application/json", got[0].contentType)
	assert.Equal(t, "a1b2/team-web/0", got[0].key, "the idempotency key travels in a header")
	var body struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct{ Type, Text string }
		} `json:"blocks"`
	}
	require.NoError(t, json.Unmarshal(got[0].body, &body))
	assert.Equal(t, "CRIT db-main down since 09:12 UTC", body.Text, "the notification's fallback text is the title")
	require.Len(t, body.Blocks, 3)
	for _, b := range body.Blocks {
		assert.Equal(t, "section", b.Type)
		assert.Equal(t, "mrkdwn", b.Text.Type)
	}
	facts := body.Blocks[1].Text.Text
	for _, want := range []string{"*Probable cause:* db-main", "*Impacted:* payments, checkout", "*Escalation:* level 2 (service owner on-call)",
		"*Acknowledged:* acked by alice 12m ago: on it", "*Runbook:* https://wiki.example/db-main", "*Since:* 2026-12-07 09:12 UTC"} {
		assert.Contains(t, facts, want)
	}
	assert.Equal(t, "Primary is down.\nFailover under way.", body.Blocks[2].Text.Text)
}

func TestMattermostIncomingWebhook(t *testing.T) {
	r := newReceiver(t)
	_, err := channel(t, "mattermost", r.url()).Send(context.Background(), message(), "a1b2/team-db/1")
	require.NoError(t, err)
	got := r.requests()
	require.Len(t, got, 1)
	assert.Equal(t, "a1b2/team-db/1", got[0].key)
	var body map[string]any
	require.NoError(t, json.Unmarshal(got[0].body, &body))
	text, _ := body["text"].(string)
	assert.True(t, strings.HasPrefix(text, "**CRIT db-main down since 09\\:12 UTC**\n"), text)
	assert.Contains(t, text, "**Impacted:** payments, checkout")
	assert.Contains(t, text, "Failover under way.")
}

func TestTeamsAdaptiveCard(t *testing.T) {
	r := newReceiver(t)
	r.status, r.reply = http.StatusAccepted, ""
	ref, err := channel(t, "msteams", r.url()).Send(context.Background(), message(), "a1b2/team-pay/0")
	require.NoError(t, err)
	assert.Contains(t, ref, "HTTP 202", "a Workflows webhook answers 202 Accepted")
	got := r.requests()
	require.Len(t, got, 1)
	var body struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Type    string `json:"type"`
				Version string `json:"version"`
				Body    []struct {
					Type  string                          `json:"type"`
					Text  string                          `json:"text"`
					Facts []struct{ Title, Value string } `json:"facts"`
				} `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	require.NoError(t, json.Unmarshal(got[0].body, &body))
	assert.Equal(t, "message", body.Type)
	require.Len(t, body.Attachments, 1)
	a := body.Attachments[0]
	assert.Equal(t, "application/vnd.microsoft.card.adaptive", a.ContentType)
	assert.Equal(t, "AdaptiveCard", a.Content.Type)
	assert.Equal(t, "1.4", a.Content.Version)
	require.Len(t, a.Content.Body, 3)
	assert.Equal(t, "TextBlock", a.Content.Body[0].Type)
	assert.Equal(t, "CRIT db-main down since 09:12 UTC", a.Content.Body[0].Text)
	assert.Equal(t, "FactSet", a.Content.Body[1].Type)
	assert.Contains(t, a.Content.Body[1].Facts, struct{ Title, Value string }{"Probable cause", "db-main"})
	assert.Equal(t, "Primary is down.\n\nFailover under way.", a.Content.Body[2].Text)
}

func TestGenericWebhookJSON(t *testing.T) {
	r := newReceiver(t)
	_, err := channel(t, "webhook", r.url()).Send(context.Background(), message(), "a1b2/team-web/2")
	require.NoError(t, err)
	got := r.requests()
	require.Len(t, got, 1)
	var ev map[string]any
	require.NoError(t, json.Unmarshal(got[0].body, &ev))
	for k, v := range map[string]any{
		"event": "notify", "idempotency_key": "a1b2/team-web/2", "uid": "a1b2", "kind": "outage", "team": "team-web",
		"service": "db-main", "severity": "critical", "since": "2026-12-07T09:12:00Z", "cause": "db-main",
		"impacted": []any{"payments", "checkout"}, "acked": "acked by alice 12m ago: on it", "level": float64(2),
		"who": "service owner on-call", "runbook": "https://wiki.example/db-main", "text": "Primary is down.\nFailover under way.",
		"operator": "alice", "at": "2026-12-07T09:24:00Z", "title": "CRIT db-main down since 09:12 UTC",
	} {
		assert.Equal(t, v, ev[k], k)
	}
}

func TestURLFile(t *testing.T) {
	r := newReceiver(t)
	f := filepath.Join(t.TempDir(), "slack-url")
	require.NoError(t, os.WriteFile(f, []byte(r.url()+"\n"), 0o600))
	c, err := New(config.NotifyChannel{Type: "slack", URLFile: f, HTTP: pconfig.DefaultHTTPClientConfig}, nil, "team-web/0")
	require.NoError(t, err)
	_, err = c.Send(context.Background(), message(), "k")
	require.NoError(t, err)
	require.Len(t, r.requests(), 1)
	assert.Equal(t, "/services/T000/B000/"+token, r.requests()[0].path)

	_, err = New(config.NotifyChannel{Type: "slack", URLFile: f + ".missing"}, nil, "team-web/0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "team-web/0")
}

// TestFailuresInWords: a 5xx is retried, a 4xx fails for good with its
// status in words; no error ever holds the URL's token.
func TestFailuresInWords(t *testing.T) {
	for _, typ := range []string{"slack", "mattermost", "msteams", "webhook"} {
		t.Run(typ, func(t *testing.T) {
			r := newReceiver(t)
			c := channel(t, typ, r.url())

			r.status, r.reply = http.StatusInternalServerError, "upstream broke at /services/T000/B000/"+token
			_, err := c.Send(context.Background(), message(), "k")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "HTTP 500")
			assert.False(t, permanent(err), "a 5xx is retried")
			assert.NotContains(t, err.Error(), token, "a reply echoing the URL does not leak it")

			r.status, r.reply = http.StatusForbidden, "invalid_token"
			_, err = c.Send(context.Background(), message(), "k")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "HTTP 403")
			assert.Contains(t, err.Error(), "invalid_token")
			assert.True(t, permanent(err), "a 403 will not pass later")
			assert.NotContains(t, err.Error(), token)

			for _, status := range []int{http.StatusUnauthorized, http.StatusTooManyRequests} {
				r.status = status
				_, err = c.Send(context.Background(), message(), "k")
				require.Error(t, err)
				assert.False(t, permanent(err), "HTTP %d may pass later", status)
			}
		})
	}
	// Nothing listening: the transport error names no token either.
	r := newReceiver(t)
	u := r.url()
	r.Close()
	_, err := channel(t, "slack", u).Send(context.Background(), message(), "k")
	require.Error(t, err)
	assert.False(t, permanent(err))
	assert.NotContains(t, err.Error(), token)
	assert.NotContains(t, err.Error(), "/services/")
}

func permanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// chatHostile are texts aimed at chat and mail formats: mentions, links,
// markup and header injection.
var chatHostile = []string{
	"<!channel>", "<!here|here>", "<!everyone>", "<@U024BE7LH>", "<#C024BE7LR>", "<http://evil.example|click here>",
	"<https://evil.example>", "@channel", "@here", "@all", "@alice", "[click](http://evil.example)", "![img](http://evil.example/x.png)",
	"**bold** _it_ ~~s~~ `code`", "<at>Everyone</at>", "<b>html</b>", "&lt;!channel&gt;", "a\\<!channel>",
	"db\r\nBcc: evil@example.com", "db\nSubject: pwned", "db\rX-Injected: 1", "| table | row |", "# heading",
}

func hostileMessages(t *testing.T) []model.NotifyMessage {
	var out []model.NotifyMessage
	for _, h := range append(chatHostile, hostiletest.Corpus(t)...) {
		m := message()
		m.Service, m.Cause, m.Impacted, m.Acked, m.Who, m.Runbook, m.Text, m.Operator, m.Team =
			h, h, []string{h, "x" + h}, h, h, h, h+"\n"+h, h, h
		out = append(out, m)
	}
	return out
}

// TestHostileTextInert: every text of a message, upstream's or the
// operator's, reaches each format inert.
func TestHostileTextInert(t *testing.T) {
	msgs := hostileMessages(t)
	for _, m := range msgs {
		// Slack: no <, so no <!channel>, <@U…> or <url|text>; no raw
		// @channel either.
		b, err := json.Marshal(slackBody(m, "k"))
		require.NoError(t, err)
		var s struct {
			Text   string
			Blocks []struct{ Text struct{ Text string } }
		}
		require.NoError(t, json.Unmarshal(b, &s))
		texts := []string{s.Text}
		for _, bl := range s.Blocks {
			texts = append(texts, bl.Text.Text)
			assert.LessOrEqual(t, len(bl.Text.Text), slackSectionMax)
		}
		for i, x := range texts {
			assert.NotContains(t, x, "<", "slack: %q", m.Service)
			assert.NotContains(t, x, ">", "slack: %q", m.Service)
			assertNoMention(t, x, "slack", m.Service)
			if i < 3 { // the title and the facts; the operator's text has lines of its own
				assertOneLineFacts(t, x, m.Service)
			}
		}

		// Mattermost: no mention, no link, no HTML.
		b, err = json.Marshal(mattermostBody(m, "k"))
		require.NoError(t, err)
		var mm struct{ Text string }
		require.NoError(t, json.Unmarshal(b, &mm))
		assertNoMention(t, mm.Text, "mattermost", m.Service)
		assertEscaped(t, mm.Text, "[]()<>`", "mattermost", m.Service)

		// Teams: no link, no emphasis, no <at> mention.
		b, err = json.Marshal(teamsBody(m, "k"))
		require.NoError(t, err)
		assert.True(t, utf8.Valid(b))
		var card struct {
			Attachments []struct {
				Content struct {
					Body []struct {
						Text  string
						Facts []struct{ Title, Value string }
					}
				}
			}
		}
		require.NoError(t, json.Unmarshal(b, &card))
		for _, el := range card.Attachments[0].Content.Body {
			vals := []string{el.Text}
			for _, f := range el.Facts {
				vals = append(vals, f.Value)
			}
			for _, v := range vals {
				assert.NotContains(t, v, "<", "msteams: %q", m.Service)
				assertEscaped(t, v, "[]()*_", "msteams", m.Service)
			}
		}

		// Generic JSON: valid, every text exactly as sitroom holds it
		// (made valid UTF-8), for the receiver to escape.
		b, err = json.Marshal(webhookBody(m, "k"))
		require.NoError(t, err)
		var ev Event
		require.NoError(t, json.Unmarshal(b, &ev))
		if len(m.Service) <= jsonFieldMax {
			assert.Equal(t, strings.ToValidUTF8(m.Service, "\uFFFD"), ev.Service)
		} else {
			assert.LessOrEqual(t, len(ev.Service), jsonFieldMax+len("…"))
		}

		// E-mail: the subject is one header line.
		subj := headerSafe(m.Title())
		assert.NotContains(t, subj, "\r")
		assert.NotContains(t, subj, "\n")
		assert.False(t, strings.ContainsAny(body(m), "\r\x1b\x00"), "mail body: %q", m.Service)
	}
}

// assertNoMention: no @channel, @here, @all or @everyone survives.
func assertNoMention(t *testing.T, s, format, what string) {
	t.Helper()
	for _, m := range []string{"@channel", "@here", "@all", "@everyone", "@alice", "!channel", "!here"} {
		if strings.Contains(s, m) && (m[0] == '@' || strings.Contains(s, "<"+m)) {
			t.Errorf("%s: %q survives in the text for %q", format, m, what)
		}
	}
}

// assertEscaped: each of chars in s is preceded by a backslash (an odd
// run of them).
func assertEscaped(t *testing.T, s, chars, format, what string) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(chars, rune(s[i])) {
			continue
		}
		n := 0
		for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			t.Errorf("%s: unescaped %q at %d in the text for %q: %q", format, s[i], i, what, clipped(s, i))
			return
		}
	}
}

// assertOneLineFacts: hostile text never adds a line that looks like a
// fact of its own.
func assertOneLineFacts(t *testing.T, s, what string) {
	t.Helper()
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "Bcc:") || strings.HasPrefix(l, "Subject:") || strings.HasPrefix(l, "X-Injected") {
			t.Errorf("a line starts a header for %q: %q", what, l)
		}
	}
}

func clipped(s string, i int) string {
	return s[max(0, i-20):min(len(s), i+20)]
}

// TestDocumentedJSON: docs/notify.md's example of the generic webhook's
// body has exactly the fields sitroom sends, and its table names each.
func TestDocumentedJSON(t *testing.T) {
	doc, err := os.ReadFile("../../docs/notify.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(doc), "```json\n")
	require.True(t, ok, "docs/notify.md has a JSON example")
	example, _, _ := strings.Cut(rest, "```")
	var documented map[string]any
	require.NoError(t, json.Unmarshal([]byte(example), &documented))
	var ev Event
	require.NoError(t, json.Unmarshal([]byte(example), &ev), "the example decodes as an Event")

	b, err := json.Marshal(webhookBody(message(), "k"))
	require.NoError(t, err)
	var sent map[string]any
	require.NoError(t, json.Unmarshal(b, &sent))
	for k := range sent {
		assert.Contains(t, documented, k, "sent but not in the example")
		assert.Contains(t, string(doc), "`"+k+"`", "not in the table")
	}
	for k := range documented {
		assert.Contains(t, sent, k, "documented but not sent")
	}
}
