package notify

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model/config"
	"sitroom/sources/sourcetest"
)

// header returns the message's header block (aiosmtpd prints the
// envelope's options, a blank line, then the message).
func header(msg string) string {
	msg = strings.TrimLeft(msg, "\n")
	if strings.HasPrefix(msg, "mail options:") {
		_, msg, _ = strings.Cut(msg, "\n\n")
	}
	h, _, _ := strings.Cut(msg, "\n\n")
	return h
}

func TestEmailThroughRealSMTP(t *testing.T) {
	srv := sourcetest.StartSMTP(t)
	port, out := srv.Port, srv
	smtp := &config.SMTP{Host: "127.0.0.1", Port: port, From: "noc@example.com", TLS: config.SMTPNone}
	c, err := New(config.NotifyChannel{Type: "email", To: []string{"web-oncall@example.com", "web-lead@example.com"}}, smtp, "team-web/1")
	require.NoError(t, err)
	assert.Equal(t, "email", c.Type())

	ref, err := c.Send(context.Background(), message(), "a1b2/team-web/1")
	require.NoError(t, err)
	assert.Contains(t, ref, "2 addresses")

	msgs := out.Messages(t, 1)
	h := header(msgs[0])
	assert.Contains(t, h, "Subject: CRIT db-main down since 09:12 UTC")
	assert.Contains(t, h, "From: <noc@example.com>")
	assert.Contains(t, h, "To: <web-oncall@example.com>, <web-lead@example.com>")
	assert.Contains(t, h, "Message-ID: <"+MessageID("a1b2/team-web/1", "noc@example.com")+">")
	assert.Contains(t, h, "Content-Type: text/plain")
	assert.Contains(t, msgs[0], "Probable cause: db-main")
	assert.Contains(t, msgs[0], "Impacted: payments, checkout")
	assert.Contains(t, msgs[0], "Failover under way.")

	// The same delivery sent again (a lost reply) carries the same
	// Message-ID; another channel's does not.
	_, err = c.Send(context.Background(), message(), "a1b2/team-web/1")
	require.NoError(t, err)
	msgs = out.Messages(t, 2)
	assert.Contains(t, header(msgs[1]), "Message-ID: <"+MessageID("a1b2/team-web/1", "noc@example.com")+">")
	assert.NotEqual(t, MessageID("a1b2/team-web/1", "noc@example.com"), MessageID("a1b2/team-db/0", "noc@example.com"))
}

// TestEmailHeaderInjection: a service name carrying CR/LF and a header of
// its own stays inside the Subject.
func TestEmailHeaderInjection(t *testing.T) {
	srv := sourcetest.StartSMTP(t)
	port, out := srv.Port, srv
	smtp := &config.SMTP{Host: "127.0.0.1", Port: port, From: "noc@example.com", TLS: config.SMTPNone}
	c, err := New(config.NotifyChannel{Type: "email", To: []string{"web-oncall@example.com"}}, smtp, "team-web/1")
	require.NoError(t, err)
	hostile := []string{"db\r\nBcc: evil@example.com", "db\nX-Injected: 1", "db\rX-Injected: 2", "db\u2028X-Injected: 3",
		"db\x00\nX-Injected: 4", "db\u0085X-Injected: 5"}
	for _, h := range hostile {
		m := message()
		m.Service, m.Text, m.Operator = h, h, h
		_, err := c.Send(context.Background(), m, "k/"+h)
		require.NoError(t, err)
	}
	msgs := out.Messages(t, len(hostile))
	for i, msg := range msgs {
		hd := header(msg)
		for _, l := range strings.Split(hd, "\n") {
			assert.False(t, strings.HasPrefix(l, "Bcc:") || strings.HasPrefix(l, "X-Injected"), "message %d: injected header %q", i, l)
		}
		assert.NotContains(t, hd, "evil@example.com\n")
	}
	assert.NotContains(t, out.Output(), "X-RcptTo: evil", "no extra recipient")
}

// TestEmailRefusedAndUnreachable: nothing listening is retried, and the
// error names no password.
func TestEmailRefusedAndUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	dir := t.TempDir()
	pw := dir + "/smtp"
	require.NoError(t, os.WriteFile(pw, []byte("Sup3rS3cretPw\n"), 0o600))
	smtp := &config.SMTP{Host: "127.0.0.1", Port: port, From: "noc@example.com", TLS: config.SMTPNone, Username: "noc", PasswordFile: pw}
	c, err := New(config.NotifyChannel{Type: "email", To: []string{"a@example.com"}}, smtp, "team-web/1")
	require.NoError(t, err)
	_, err = c.Send(context.Background(), message(), "k")
	require.Error(t, err)
	assert.False(t, permanent(err), "a relay that is down may be up later")
	assert.NotContains(t, err.Error(), "Sup3rS3cretPw")

	_, err = New(config.NotifyChannel{Type: "email", To: []string{"a@example.com"}}, nil, "team-web/1")
	require.Error(t, err, "no smtp")
	smtp.PasswordFile = dir + "/missing"
	_, err = New(config.NotifyChannel{Type: "email", To: []string{"a@example.com"}}, smtp, "team-web/1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "smtp.password_file")
}
