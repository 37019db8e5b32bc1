package model

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A db-main → payments → checkout cascade: who was told of each outage,
// and which impacted teams never were.
func TestHandoffNotificationsOfACascade(t *testing.T) {
	from := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return from.Add(time.Duration(min) * time.Minute) }
	w := Window{Label: "late shift", From: from, To: from.Add(8 * time.Hour)}
	cat := NewCatalog([]*Service{
		{Name: "db-main", Owner: "dba"},
		{Name: "payments", Owner: "payments", DependsOn: []string{"db-main"}},
		{Name: "checkout", Owner: "checkout", DependsOn: []string{"payments"}},
		{Name: "search", Owner: "search"},
	})
	rec := func(uid string, min int, team, typ string, i int, kind string, st ActionState, e string) NotificationRecord {
		return NotificationRecord{ActionUID: uid, At: at(min), Operator: "alice", Service: "db-main", Team: team, Channel: typ,
			Index: i, Kind: kind, State: st, Error: e}
	}
	h := &History{From: from, To: w.To,
		Outages: []OutageRecord{
			{ID: 1, Service: "db-main", Severity: SevCritical, Opened: at(10), Closed: at(70), Alerts: 2},
			{ID: 2, Service: "payments", Severity: SevCritical, Opened: at(12), Closed: at(70), Alerts: 1},
			{ID: 3, Service: "search", Severity: SevWarning, Opened: at(100), Closed: at(110), Alerts: 1},
		},
		Notifications: []NotificationRecord{
			// Listed out of order: the report sorts them.
			rec("u2", 71, "dba", "slack", 0, NotifyResolved, ActionDelivered, ""),
			rec("u1", 15, "payments", "msteams", 0, NotifyOutage, ActionFailed, "HTTP 403 Forbidden"),
			rec("u1", 15, "dba", "email", 1, NotifyOutage, ActionPending, "HTTP 500"),
			rec("u1", 15, "dba", "slack", 0, NotifyOutage, ActionDelivered, ""),
			rec("u1", 15, "checkout", "mattermost", 0, NotifyOutage, ActionDelivered, ""),
			// A message about an earlier db-main outage belongs to none here.
			rec("u0", 5, "dba", "slack", 0, NotifyOutage, ActionDelivered, ""),
		},
	}
	r := BuildHandoff(h, HandoffOptions{Window: w, Catalog: cat})
	require.Len(t, r.Notifications, 3, "db-main (told), payments and search (never told)")
	db := r.Notifications[0]
	assert.Equal(t, "db-main", db.Service)
	require.Len(t, db.Told, 4)
	assert.Equal(t, "checkout", db.Told[0].Team, "same time: by team")
	assert.Equal(t, "dba", db.Told[1].Team)
	assert.Equal(t, []HandoffChannel{{Type: "slack", State: "delivered"}, {Type: "email", State: "pending", Error: "HTTP 500"}},
		db.Told[1].Channels, "channels in config order")
	assert.Equal(t, "pending", db.Told[1].State)
	assert.Equal(t, "failed", db.Told[2].State)
	assert.Equal(t, NotifyResolved, db.Told[3].Kind, "the resolved message, sent after the close, is this outage's")
	assert.Equal(t, []string{"payments"}, db.NeverTold, "payments' message failed: never told")

	pay := r.Notifications[1]
	assert.Equal(t, "payments", pay.Service)
	assert.Empty(t, pay.Told)
	assert.Equal(t, []string{"payments", "checkout", "dba"}, pay.NeverTold,
		"its own team, downstream, then the owner of its probable cause (db-main, open when it opened)")

	assert.Equal(t, "search", r.Notifications[2].Service)
	assert.Equal(t, []string{"search"}, r.Notifications[2].NeverTold, "its own team")

	md := r.Markdown()
	for _, want := range []string{
		"## Notifications\n\n- **db-main** (opened Mon 02 Mar 15:10)\n",
		"  - 15:15 alice told **dba** (outage) through slack delivered, email pending: HTTP 500 — pending\n",
		"  - 15:15 alice told **payments** (outage) through msteams — failed: HTTP 403 Forbidden\n",
		"  - 16:11 alice told **dba** (resolved) through slack — delivered\n",
		"  - never told: **payments**\n",
		"- **payments** (opened Mon 02 Mar 15:12)\n  - never told: **payments**, **checkout**, **dba**\n",
	} {
		assert.Contains(t, md, want)
	}

	// Only the teams configured with channels count as never told.
	r = BuildHandoff(h, HandoffOptions{Window: w, Catalog: cat, NotifyTeams: []string{"dba", "checkout"}})
	require.Len(t, r.Notifications, 2, "search's team has no channels: nothing to say of it")
	assert.Empty(t, r.Notifications[0].NeverTold)
	assert.Equal(t, []string{"checkout", "dba"}, r.Notifications[1].NeverTold)

	// The JSON carries the section, empty lists as [].
	js, err := r.JSON()
	require.NoError(t, err)
	var doc struct {
		Version       int `json:"version"`
		Notifications []struct {
			Service   string            `json:"service"`
			Told      []json.RawMessage `json:"told"`
			NeverTold []string          `json:"never_told"`
		} `json:"notifications"`
	}
	require.NoError(t, json.Unmarshal(js, &doc))
	assert.Equal(t, 6, doc.Version)
	require.Len(t, doc.Notifications, 2)
	assert.Len(t, doc.Notifications[0].Told, 4)
	assert.Contains(t, string(js), `"never_told": []`)
	assert.Contains(t, string(js), `"told": []`)
	assert.Contains(t, string(js), `"channels": [`)

	// Every field is documented in the notifications row of the JSON table.
	var raw struct {
		Notifications []map[string]json.RawMessage `json:"notifications"`
	}
	require.NoError(t, json.Unmarshal(js, &raw))
	spec, err := os.ReadFile(filepath.Join("..", "docs", "handoff.md"))
	require.NoError(t, err)
	row := string(regexp.MustCompile("(?m)^\\| `notifications\\[\\]` \\|.*$").Find(spec))
	require.NotEmpty(t, row, "docs/handoff.md has a `notifications[]` row")
	var told []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw.Notifications[0]["told"], &told))
	var channels []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(told[0]["channels"], &channels))
	for _, obj := range []map[string]json.RawMessage{raw.Notifications[0], told[0], channels[0]} {
		for k := range obj {
			assert.True(t, strings.Contains(row, "`"+k+"`") || strings.Contains(row, "`"+k+"[]`"),
				"docs/handoff.md documents notifications %s", k)
		}
	}

	// Without a catalog nobody is listed as never told; what was told is.
	r = BuildHandoff(h, HandoffOptions{Window: w})
	require.Len(t, r.Notifications, 1)
	assert.Equal(t, "db-main", r.Notifications[0].Service)
	assert.Empty(t, r.Notifications[0].NeverTold)
	assert.Contains(t, BuildHandoff(&History{From: from, To: w.To}, HandoffOptions{Window: w}).Markdown(),
		"## Notifications\n\nNone: no team was told of an outage, and none had to be.\n")
}
