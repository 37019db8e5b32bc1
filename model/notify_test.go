package model

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNotifyTitle(t *testing.T) {
	since := time.Date(2026, 11, 26, 9, 12, 40, 0, time.FixedZone("CET", 3600))
	m := NotifyMessage{Kind: NotifyOutage, Service: "db-main", Severity: "critical", Since: since}
	assert.Equal(t, "CRIT db-main down since 08:12 UTC", m.Title(), "in UTC, whatever the zone")
	m.Kind, m.Severity = NotifyUpdate, "warning"
	assert.Equal(t, "WARN db-main update", m.Title())
	m.Kind, m.Severity = NotifyResolved, "info"
	assert.Equal(t, "INFO db-main resolved", m.Title())

	// A hostile service name cannot add a header line or reorder text.
	m = NotifyMessage{Kind: NotifyOutage, Service: "db\r\nBcc: all@example.com\x1b[31m\u202e", Severity: "critical", Since: since}
	title := m.Title()
	assert.NotContains(t, title, "\r")
	assert.NotContains(t, title, "\n")
	assert.NotContains(t, title, "\x1b")
	assert.NotContains(t, title, "\u202e")
	assert.Equal(t, "CRIT db Bcc: all@example.com [31m down since 08:12 UTC", title)

	m.Service = strings.Repeat("x", 1000)
	assert.Equal(t, titleMax+1, len([]rune(m.Title())), "cut, with an ellipsis")
	assert.True(t, strings.HasSuffix(m.Title(), "…"))
}

func TestOneLine(t *testing.T) {
	assert.Equal(t, "a b c", OneLine("  a\t\n b\u2028\u2029c \x00", 0))
	assert.Equal(t, "\uFFFD", OneLine("\xff", 0))
	assert.Equal(t, "abc…", OneLine("abcdef", 3))
	assert.Equal(t, "ab…", OneLine("ab cd", 3), "no trailing space before the ellipsis")
}

func TestNotifyPayloadRoundTrip(t *testing.T) {
	m := NotifyMessage{UID: "u1", Kind: NotifyUpdate, Service: "db-main", Severity: "critical",
		Since: time.Date(2026, 11, 26, 9, 12, 0, 0, time.UTC), Impacted: []string{"payments", "checkout"},
		Text: "<!channel> failover", Team: "dba", Level: 2, Who: "dba on call"}
	p, err := DecodeNotify(EncodeNotify("slack", m))
	require.NoError(t, err)
	assert.Equal(t, "slack", p.Type)
	assert.Equal(t, m, p.Message)
	_, err = DecodeNotify("not json")
	assert.Error(t, err)
}

func TestUntoldAtTheBoundary(t *testing.T) {
	since := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	o := &Outage{Service: "db-main", Since: since}
	teams := []string{"dba", "payments", "checkout"}
	b := &Board{Notices: map[string][]Notice{"db-main": {
		{Service: "db-main", Team: "checkout", State: ActionFailed, At: since.Add(time.Minute)},
		{Service: "db-main", Team: "dba", State: ActionDelivered, At: since.Add(time.Minute), ToldAt: since.Add(time.Minute)},
		// told about an earlier outage of db-main, not this one
		{Service: "db-main", Team: "payments", State: ActionDelivered, At: since.Add(-time.Hour), ToldAt: since.Add(-time.Hour)},
	}}}
	after := 10 * time.Minute
	assert.Empty(t, Untold(o, b, teams, after, since.Add(after-time.Nanosecond)), "not yet late")
	assert.Equal(t, []string{"payments", "checkout"}, Untold(o, b, teams, after, since.Add(after)), "late at the deadline itself")
	assert.Empty(t, Untold(o, b, teams, 0, since.Add(24*time.Hour)), "no policy, never UNTOLD")
	assert.Equal(t, teams, Untold(o, nil, teams, after, since.Add(time.Hour)), "no board: nobody told")

	// Told at the very instant the outage began counts.
	b.Notices["db-main"][2].ToldAt = since
	assert.Equal(t, []string{"checkout"}, Untold(o, b, teams, after, since.Add(after)))
}

func TestNotifyPolicy(t *testing.T) {
	p := &Policy{Roles: map[string]Role{"vic": RoleViewer, "tia": RoleTier1}}
	req := ActionRequest{Verb: VerbNotify, Service: "db-main", Comment: "failover"}
	assert.Empty(t, p.Refusal(Operator{User: "tia", Role: RoleTier1}, req))
	assert.Empty(t, p.Refusal(Operator{User: "lee", Role: RoleLead}, req))
	assert.Equal(t, "role viewer cannot notify teams", p.Refusal(Operator{User: "vic", Role: RoleViewer}, req))
	ro := &Policy{ReadOnly: true}
	assert.Equal(t, "read-only console", ro.Refusal(Operator{User: "lee", Role: RoleLead}, req))

	assert.Empty(t, req.Validate())
	req.Service = ""
	assert.Equal(t, "select an outage", req.Validate())
}

func TestTeamsToTell(t *testing.T) {
	cat := NewCatalog([]*Service{
		{Name: "db-main", Owner: "dba"},
		{Name: "payments", Owner: "payments", DependsOn: []string{"db-main"}},
		{Name: "checkout", Owner: "checkout", DependsOn: []string{"payments"}},
		{Name: "ledger", Owner: "payments", DependsOn: []string{"db-main"}},
		{Name: "lonely", DependsOn: []string{"db-main"}},
		{Name: "net", Owner: "netops"},
	})
	o := &Outage{Service: "payments", Owner: "payments", Impact: cat.Impact("payments"), ProbableCause: "db-main"}
	assert.Equal(t, []string{"payments", "checkout", "dba"}, TeamsToTell(o, cat),
		"own team, downstream teams, then the probable cause's owner")
	o = &Outage{Service: "db-main", Owner: "dba", Impact: cat.Impact("db-main")}
	assert.Equal(t, []string{"dba", "payments", "checkout"}, TeamsToTell(o, cat), "each team once; no owner, no team")
	assert.Equal(t, []string{"x"}, TeamsToTell(&Outage{Service: "u", Owner: "x"}, nil))
}
