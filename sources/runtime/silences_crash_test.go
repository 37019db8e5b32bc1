package runtime_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/sources/alertmanager"
	"sitroom/sources/runtime/bintest"
	"sitroom/sources/sourcetest"
)

// kill -9 while the silences view's actions are in flight on a clustered
// pair: a new silence (its POST held until the poller is killed, then
// taken by the Alertmanager anyway) and an extension of change-mgmt's
// silence. After the restarts each reached the pair once: one new
// silence and one extended maintenance silence in each member's list.
func TestKillDuringSilenceActionsDeliversOnce(t *testing.T) {
	a, b := sourcetest.StartAlertmanagerPair(t)
	labels := map[string]string{"alertname": "PayErrors", "severity": "critical", "service": "payments"}
	a.PostAlerts(t, sourcetest.PostableAlert{Labels: labels})
	b.PostAlerts(t, sourcetest.PostableAlert{Labels: labels})
	maint := a.CreateSilence(t, map[string]string{"service": "web"}, time.Hour, "change-mgmt", "CHG-4711 planned maintenance")
	proxy := newHoldProxy(t, a.URL)
	dir := t.TempDir()
	cfg := writeConfig(t, fmt.Sprintf(`sources:
  - {name: am-a, type: alertmanager, url: %s, interval: 1s}
  - {name: am-b, type: alertmanager, url: %s, interval: 1s}
services:
  - {name: payments, match: ['service="payments"']}
`, proxy.srv.URL, b.URL))
	db, logf := filepath.Join(dir, "cache.db"), filepath.Join(dir, "log")

	list := func(url string) []alertmanager.Silence {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l, err := alertmanager.NewSilencer(url, nil).List(ctx)
		require.NoError(t, err)
		return l
	}
	var end time.Time
	for _, s := range list(a.URL) {
		if s.ID == maint {
			end = s.EndsAt
		}
	}
	require.False(t, end.IsZero())

	// A console records both actions and goes away before delivering.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := openRuntime(t, ctx, cfg, db, logf)
	snap, d := observedPoll(t, ctx, s)
	o := snap.Outage("payments")
	require.NotNil(t, o)
	res, err := d.Do(ctx, model.ActionRequest{Verb: model.VerbCreateSilence, Service: "payments", AlertKeys: o.Keys,
		Comment: "payments rollback", Expiry: time.Hour,
		Silence: model.SilenceTarget{Sources: []string{"am-a", "am-b"}, Matchers: `{alertname="PayErrors"}`}})
	require.NoError(t, err)
	require.Equal(t, model.ActionPending, res.State, res.Message)
	res, err = d.Do(ctx, model.ActionRequest{Verb: model.VerbExtendSilence, Comment: "maintenance overran", Expiry: time.Hour,
		Silence: model.SilenceTarget{ID: maint, Sources: []string{"am-a", "am-b"}, CreatedBy: "change-mgmt", EndsAt: end}})
	require.NoError(t, err)
	require.Equal(t, model.ActionPending, res.State, res.Message)
	log, err := s.Cache.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 2)
	created := model.Marker(log[0].UID, o.Keys[0])
	s.Close()

	// The headless poller is killed while the new silence's POST is held.
	proxy.killPollerMidPost(t, cfg, db, logf)

	// counts is, per member: live new silences, live maintenance
	// silences, and whether the maintenance now ends an hour later.
	counts := func() string {
		var out []string
		for _, url := range []string{a.URL, b.URL} {
			nNew, nMaint, moved := 0, 0, false
			for _, s := range list(url) {
				if !s.Live() {
					continue
				}
				if strings.Contains(s.Comment, created) {
					nNew++
				}
				if strings.Contains(s.Comment, "CHG-4711") {
					nMaint++
					moved = s.EndsAt.Sub(end) > 59*time.Minute
				}
			}
			out = append(out, fmt.Sprintf("new=%d maint=%d moved=%v", nNew, nMaint, moved))
		}
		return strings.Join(out, " | ")
	}
	const once = "new=1 maint=1 moved=true | new=1 maint=1 moved=true"

	// Restart: the extension is delivered; the new silence is still
	// claimed by the dead process, and the Alertmanager took it anyway.
	code, out, errOut := bintest.Run(t, "poll", "--once", "--config", cfg, "--db", db, "--log-file", logf)
	require.Equal(t, 0, code, out+errOut)
	require.Eventually(t, func() bool { return counts() == once }, 10*time.Second, 50*time.Millisecond, "got %s", counts())

	// The dead process's claim lapses (moved to now rather than waited
	// for): the retry finds the silence by its marker on both members.
	raw, err := sql.Open("sqlite3", "file:"+db+"?_busy_timeout=5000")
	require.NoError(t, err)
	r, err := raw.Exec(`UPDATE outbox SET next_at = ? WHERE state = 'pending'`, time.Now().UnixNano())
	require.NoError(t, err)
	claimed, _ := r.RowsAffected()
	require.NoError(t, raw.Close())
	assert.EqualValues(t, 1, claimed, "exactly the new silence was left in flight")
	code, out, errOut = bintest.Run(t, "poll", "--once", "--config", cfg, "--db", db, "--log-file", logf)
	require.Equal(t, 0, code, out+errOut)
	time.Sleep(500 * time.Millisecond) // anything made twice would have gossiped by now
	assert.Equal(t, once, counts(), "each action reached each member of the pair once")

	c, err := cache.Open(db)
	require.NoError(t, err)
	defer c.Close()
	log, err = c.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 2)
	for _, e := range log {
		assert.Equal(t, model.ActionDelivered, e.State, "%s: %s", e.Verb, e.Reason)
	}
}
