package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTeamsAndChannels(t *testing.T) {
	c, err := Load(filepath.Join(fixtures, "good", "notify.yaml"))
	require.NoError(t, err)
	dir, err := filepath.Abs(filepath.Join(fixtures, "good"))
	require.NoError(t, err)

	web := c.TeamNamed("team-web")
	require.NotNil(t, web, "checkout's owner names a team")
	assert.True(t, web.NotifyOnResolve)
	require.Len(t, web.Notify, 2)
	assert.Equal(t, filepath.Join(dir, "notify-slack.url"), web.Notify[0].URLFile, "url_file is relative to the config")
	u, err := web.Notify[0].Endpoint()
	require.NoError(t, err)
	assert.Equal(t, "https://hooks.slack.example/services/T000/B000/t0k3n-value", u, "read from the file, newline dropped")
	assert.Equal(t, []string{"web-oncall@example.com"}, web.Notify[1].To)
	assert.True(t, web.Notify[0].HTTP.FollowRedirects, "the HTTP client's defaults apply to a channel")

	assert.Nil(t, c.TeamNamed("Web folks (no team entry)"), "an owner naming no team keeps working as text")
	cat := c.Catalog()
	assert.Equal(t, "Web folks (no team entry)", cat.Lookup("web").Owner)

	require.NotNil(t, c.SMTP)
	assert.Equal(t, SMTPStartTLS, c.SMTP.Mode())
	assert.Equal(t, 587, c.SMTP.PortOrDefault())
	pw, err := c.SMTP.Password()
	require.NoError(t, err)
	assert.Equal(t, "hunter2", pw)
	assert.Equal(t, 10*time.Minute, time.Duration(c.NotifyAfter))

	// Printed config: the inline URLs and credentials are secrets.
	out := c.String()
	for _, s := range []string{"IncomingWebhook/def/ghi", "xxx-generatedkey-xxx", "s3cr3t-pw", "t0k3n-value", "hunter2"} {
		assert.NotContains(t, out, s)
	}
	assert.Contains(t, out, "url_file: "+filepath.Join(dir, "notify-slack.url"), "a file's name is not a secret")
	assert.Contains(t, out, "<secret>")
}

func TestSMTPModes(t *testing.T) {
	for _, tc := range []struct {
		s    SMTP
		mode string
		port int
	}{
		{SMTP{}, SMTPStartTLS, 587},
		{SMTP{Port: 465}, SMTPTLS, 465},
		{SMTP{TLS: SMTPTLS}, SMTPTLS, 465},
		{SMTP{TLS: SMTPNone}, SMTPNone, 25},
		{SMTP{TLS: SMTPNone, Port: 2525}, SMTPNone, 2525},
		{SMTP{Port: 25}, SMTPStartTLS, 25},
	} {
		assert.Equal(t, tc.mode, tc.s.Mode(), "%+v", tc.s)
		assert.Equal(t, tc.port, tc.s.PortOrDefault(), "%+v", tc.s)
	}
}

func TestNotifyKeys(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hook"), []byte("not a url t0k3n-value\n"), 0o600))
	for doc, want := range map[string]string{
		"teams: [{name: a, notify: [{type: slack, url_file: hook}]}]":                                                                       "teams[0].notify[0].url_file: the file does not hold an absolute http:// or https:// URL",
		"teams: [{name: a, notify: [{type: slack, url: 'https://u:hunter2@hooks.example/x'}]}]":                                             "teams[0].notify[0].url: the URL holds credentials",
		"teams: [{name: a, notify: [{type: email, to: [nobody]}]}]\nsmtp: {host: h, from: n@example.com}":                                   `teams[0].notify[0].to[0]: not an e-mail address "nobody"`,
		"teams: [{name: a, notify: [{type: email, to: [a@example.com], url: 'https://x.example'}]}]\nsmtp: {host: h, from: n@example.com}":  "an email channel has no url",
		"teams: [{name: a, notify: [{type: email, to: [a@example.com], basic_auth: {username: u}}]}]\nsmtp: {host: h, from: n@example.com}": "teams[0].notify[0]: HTTP client settings (basic_auth, tls_config, …) are not for an email channel",
		"smtp: {host: h, from: n@example.com, password_file: pw}":                                                                           "smtp.username: smtp.password_file is set: name the user",
		"smtp: {host: h, from: n@example.com, username: u, password_file: missing}":                                                         "smtp.password_file: cannot read the password file",
		`smtp: {host: h, from: "n@example.com\r\nBcc: x@y.example"}`:                                                                        "smtp.from: control characters are not allowed",
		"teams: [{name: '', notify: []}]":                          "teams[0].name: a team needs a name",
		"teams: [{name: a, notify: [{url: 'https://x.example'}]}]": "teams[0].notify[0].type: a channel needs a type",
		"teams: [{name: a, notify_on_resolve: maybe}]":             "teams[0].notify_on_resolve",
		"smtp: {host: h, from: n@example.com, passwd: x}":          "smtp.passwd: unknown key",
	} {
		_, err := Parse([]byte(teamSources+doc+"\n"), dir)
		require.Error(t, err, doc)
		assert.Contains(t, err.Error(), want, doc)
		assert.NotContains(t, err.Error(), "hunter2", doc)
		assert.NotContains(t, err.Error(), "t0k3n-value", doc)
	}
	c, err := Parse([]byte(teamSources+"teams: [{name: a}]\n"), dir)
	require.NoError(t, err, "a team without channels is shown but told nothing")
	assert.Empty(t, c.TeamNamed("a").Notify)
	assert.Zero(t, c.NotifyAfter, "notify_after is off unless set")
}
