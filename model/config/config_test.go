package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pconfig "github.com/prometheus/common/config"
	pmodel "github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

const fixtures = "../../testdata/config"

// plantedSecrets are the inline secrets the bad fixtures carry; none may
// ever show in an error.
var plantedSecrets = []string{"hunter2", "s3cr3t-pw", "t0k3n-value"}

func TestGoodFixturesLoad(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtures, "good", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			require.NoError(t, err)
			require.NotEmpty(t, c.Sources)
			require.NoError(t, c.Validate(), "a loaded config validates again")
		})
	}
}

func TestBadFixturesNameTheProblem(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtures, "bad", "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 11)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".err")
			require.NoError(t, err, "every bad fixture has a .err sibling")
			c, err := Load(f)
			require.Error(t, err)
			assert.Nil(t, c)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, f+": "), "the error names the file: %s", msg)
			for _, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
				assert.Contains(t, msg, line)
			}
			for _, s := range plantedSecrets {
				assert.NotContains(t, msg, s)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c, err := Load(filepath.Join(fixtures, "good", "minimal.yaml"))
	require.NoError(t, err)
	s := c.Sources[0]
	assert.Equal(t, 15*time.Second, time.Duration(s.Interval))
	assert.Equal(t, 10*time.Second, time.Duration(s.Timeout))
	assert.True(t, s.HTTP.FollowRedirects)
	assert.True(t, s.HTTP.EnableHTTP2)
	assert.Equal(t, "critical", c.OutageThreshold)
	assert.Equal(t, model.SevCritical, c.Threshold())

	c, err = Parse([]byte("sources: [{name: a, type: prometheus, url: 'http://p:9090', interval: 4s}]"), "")
	require.NoError(t, err)
	assert.Equal(t, 4*time.Second, time.Duration(c.Sources[0].Timeout), "an unset timeout never exceeds the interval")

	d := DefaultSource()
	assert.Equal(t, pconfig.DefaultHTTPClientConfig.FollowRedirects, d.HTTP.FollowRedirects)
	assert.Equal(t, "critical", Default().OutageThreshold)
}

func TestFullFixture(t *testing.T) {
	path := filepath.Join(fixtures, "good", "full.yaml")
	c, err := Load(path)
	require.NoError(t, err)
	dir, err := filepath.Abs(filepath.Dir(path))
	require.NoError(t, err)

	prom := c.Sources[1]
	assert.Equal(t, filepath.Join(dir, "secrets", "prom"), prom.HTTP.BasicAuth.PasswordFile, "relative *_file paths resolve next to the config")
	assert.Equal(t, filepath.Join(dir, "certs", "internal-ca.pem"), prom.HTTP.TLSConfig.CAFile)
	assert.False(t, prom.HTTP.FollowRedirects, "an explicit false beats the default")
	assert.Equal(t, 20*time.Second, time.Duration(prom.Timeout))
	assert.Equal(t, []string{"replica", "prometheus"}, prom.MatchIgnoreLabels)

	mimir := c.Sources[2]
	assert.Equal(t, "/run/secrets/mimir", mimir.HTTP.Authorization.CredentialsFile, "absolute paths stay")
	assert.Equal(t, "Bearer", mimir.HTTP.Authorization.Type)
	assert.Equal(t, []string{"noc"}, mimir.HTTP.HTTPHeaders.Headers["X-Scope-OrgID"].Values)

	assert.Equal(t, model.SevWarning, c.Threshold())
	assert.Equal(t, "tier1", c.OperatorRoles["@noc"])
	require.Len(t, c.Escalation, 3)
	assert.Equal(t, 15*time.Minute, time.Duration(c.Escalation[1].After))

	cat := c.Catalog()
	name, mapped := cat.ServiceFor(model.LabelsFromMap(map[string]string{"job": "postgres", "cluster": "main"}))
	assert.Equal(t, "db-main", name, "the second match alternative claims the alert")
	assert.True(t, mapped)
	name, _ = cat.ServiceFor(model.LabelsFromMap(map[string]string{"service": "cart"}))
	assert.Equal(t, "checkout", name)
	assert.Equal(t, filepath.Join(dir, "runbooks", "db-main.md"), cat.Lookup("db-main").Runbook)
	assert.Equal(t, "https://runbooks.example.com/payments", cat.Lookup("payments").Runbook)
	assert.Equal(t, []string{"payments", "db-main"}, cat.Lookup("checkout").DependsOn)
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	c, err := Load(filepath.Join(fixtures, "good", "anchors.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "am-b", c.Sources[1].Name)
	assert.Equal(t, "http://127.0.0.1:9094", c.Sources[1].URL)
	assert.Equal(t, 20*time.Second, time.Duration(c.Sources[1].Interval), "merged from the anchor")

	_, err = Parse([]byte(`
x-common: &common {interval: 20s}
sources:
  - &a {name: am-a, type: alertmanager, url: "http://127.0.0.1:9093"}
  - <<: *a
    name: am-c
    intervl: 3s
`), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2: x-common: unknown key")
	assert.Contains(t, err.Error(), "line 7: sources[1].intervl: unknown key")

	_, err = Parse([]byte("sources:\n  - <<: {name: a, type: alertmanager, urll: 'http://x'}\n"), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sources[0].urll: unknown key", "keys merged in are checked too")
}

func TestSecretsNeverPrinted(t *testing.T) {
	const pw = "Pl4nted-Passw0rd"
	doc := `
sources:
  - name: prom
    type: prometheus
    url: https://prom.example.internal
    basic_auth: {username: noc, password: ` + pw + `}
  - name: am
    type: alertmanager
    url: https://am.example.internal
    authorization: {credentials: ` + pw + `}
    http_headers:
      X-Token: {secrets: [` + pw + `]}
`
	c, err := Parse([]byte(doc), "")
	require.NoError(t, err)
	outputs := []string{
		c.String(), fmt.Sprint(c), fmt.Sprintf("%v %+v", *c, c.Sources),
		c.Sources[0].Redacted(), c.Sources[1].Redacted(), fmt.Sprint(c.Sources[1]),
	}
	for _, out := range outputs {
		assert.NotContains(t, out, pw)
	}
	assert.Contains(t, c.String(), "<secret>")
	assert.Contains(t, c.String(), "username: noc", "non-secret fields are still shown")

	// Errors anywhere in a document with a password keep it out.
	for _, bad := range []string{
		doc + "    bearer_token: x\n",                    // conflicting auth, found by Validate
		doc + "    colour: blue\n",                       // unknown key next to the secret
		strings.Replace(doc, "password:", "pasword:", 1), // misspelt key holding the secret
		strings.Replace(doc, "https://prom.example.internal", "https://noc:"+pw+"@prom.example.internal", 1),
		strings.Replace(doc, "https://prom.example.internal", "https://noc:"+pw+"@prom example", 1),
		strings.Replace(doc, "{username: noc, password: "+pw+"}", "{username: noc, password: ["+pw+"]}", 1),
	} {
		_, err := Parse([]byte(bad), "")
		require.Error(t, err)
		assert.NotContains(t, err.Error(), pw)
	}

	// A hand-built config (no parse) is redacted too.
	hand := &Config{Sources: []Source{DefaultSource()}}
	hand.Sources[0].Name = "x"
	hand.Sources[0].Type = "prometheus"
	hand.Sources[0].URL = "https://u:" + pw + "@h"
	hand.Sources[0].HTTP.BearerToken = pconfig.Secret(pw)
	err = hand.Validate()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), pw)
	assert.NotContains(t, hand.String(), pw)
}

func TestWarnings(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), mode))
		require.NoError(t, os.Chmod(p, mode))
		return p
	}
	inline := "sources:\n  - {name: p, type: prometheus, url: 'https://p', basic_auth: {username: u, password: pw}}\n"
	viaFile := "sources:\n  - {name: p, type: prometheus, url: 'https://p', basic_auth: {username: u, password_file: pw.txt}}\n"

	c, err := Load(write("config.yaml", inline, 0o644))
	require.NoError(t, err)
	require.Len(t, c.Warnings(), 1)
	assert.Equal(t, "config.yaml is readable by others and holds inline secrets; chmod 600 or use *_file", c.Warnings()[0])

	c, err = Load(write("private.yaml", inline, 0o600))
	require.NoError(t, err)
	assert.Empty(t, c.Warnings())

	// A ticket source's only inline secret, an OAuth client secret, is
	// one too.
	oauth := "sources:\n  - {name: desk, type: servicenow, url: 'https://acme.service-now.com', oauth2: {client_id: sitroom, client_secret: cs, token_url: 'https://acme.service-now.com/oauth_token.do'}, tiers: {tier1: {groups: [T1]}, tier2: {groups: [T2]}}}\n"
	c, err = Load(write("desk.yaml", oauth, 0o640))
	require.NoError(t, err)
	assert.Equal(t, []string{"desk.yaml is readable by others and holds inline secrets; chmod 600 or use *_file"}, c.Warnings())
	c, err = Load(write("desk-private.yaml", oauth, 0o600))
	require.NoError(t, err)
	assert.Empty(t, c.Warnings())

	c, err = Load(write("files.yaml", viaFile, 0o644))
	require.NoError(t, err)
	assert.Empty(t, c.Warnings())

	c, err = Load(write("plain.yaml", strings.Replace(viaFile, "https://p", "http://p", 1), 0o600))
	require.NoError(t, err)
	require.Len(t, c.Warnings(), 1)
	assert.Contains(t, c.Warnings()[0], "plain http")
}

func TestValidateHandBuilt(t *testing.T) {
	s := DefaultSource()
	s.Name, s.Type, s.URL = "prom", "prometheus", "http://127.0.0.1:9090"
	c := &Config{
		OutageThreshold: "critical",
		Sources:         []Source{s},
		Services: []Service{
			{Name: "db"},
			{Name: "api", Match: []string{`{service="api", env!~"dev|test"}`}, DependsOn: []string{"db"}},
		},
	}
	require.NoError(t, c.Validate())
	assert.Equal(t, []string{"db"}, c.Catalog().Lookup("api").DependsOn)

	c.Sources[0].Timeout = pmodel.Duration(time.Minute)
	c.Services[1].DependsOn = append(c.Services[1].DependsOn, "nope")
	err := c.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sources[0].timeout: 1m is longer than the interval 15s")
	assert.Contains(t, err.Error(), `services[1].depends_on[1]: unknown service "nope"`)
	assert.NotContains(t, err.Error(), "line ", "a hand-built config has no lines")
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	assert.Equal(t, "/xdg/sitroom/config.yaml", DefaultPath())
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("HOME", "/home/op")
	assert.Equal(t, "/home/op/.config/sitroom/config.yaml", DefaultPath())
}

func TestSourceTypesIsACopy(t *testing.T) {
	ts := SourceTypes()
	ts[0] = "changed"
	assert.True(t, KnownSourceType("prometheus"))
	assert.Contains(t, Roles(), "lead")
}

func FuzzParse(f *testing.F) {
	for _, dir := range []string{"good", "bad"} {
		files, _ := filepath.Glob(filepath.Join(fixtures, dir, "*.yaml"))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("a: &a [*a, *a]\nsources: *a"))
	f.Add([]byte("sources:\n  - <<: [{name: x}, {type: y}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "/base")
		if err == nil {
			_ = c.String()
			_ = c.Catalog()
			_ = c.Warnings()
			if verr := c.Validate(); verr != nil {
				t.Fatalf("parsed config fails validation: %v", verr)
			}
		}
	})
}

func TestWebhooks(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pd"), []byte("pd-r0uting-key\n"), 0o600))
	c, err := Parse([]byte(`
sources: [{name: am, type: alertmanager, url: "http://127.0.0.1:9093"}]
webhooks:
  - {name: bot, url: "https://hooks.example.internal/x"}
  - {name: pd, url: "https://events.pagerduty.com/v2/enqueue", format: pagerduty, routing_key_file: pd}
`), dir)
	require.NoError(t, err)
	require.Len(t, c.Webhooks, 2)
	assert.True(t, c.Webhooks[0].HTTP.FollowRedirects, "HTTP client defaults apply to webhooks")
	key, err := c.Webhooks[1].Key()
	require.NoError(t, err)
	assert.Equal(t, "pd-r0uting-key", key, "routing_key_file resolves next to the config")
	assert.NotContains(t, c.String(), "pd-r0uting-key")

	_, err = Parse([]byte(`
sources: [{name: am, type: alertmanager, url: "http://127.0.0.1:9093"}]
webhooks: [{name: pd, url: "https://e.example/x", format: pagerduty, routing_key: planted-rk-123, bogus: 1}]
`), dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "webhooks[0].bogus: unknown key")
	assert.NotContains(t, err.Error(), "planted-rk-123")
}
