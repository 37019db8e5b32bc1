package actions_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/actions"
	"sitroom/sources/alertmanager"
	"sitroom/sources/sourcetest"
)

// Nothing twice: the ack's silence is made, its reply lost, and someone
// expires it in the Alertmanager before the retry. The retry must not make
// it again (that would undo what the upstream did); the next read of the
// silences ends the ack.
func TestSilenceExpiredUpstreamIsNotMadeAgainByARetry(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: alertLabels})
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	poll(t, c, "am-eu", am.URL)
	px := newFlaky(t, am.URL)
	d := actions.New(c, actions.Options{Operator: tier1(), MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		Silencers: map[string]actions.Silencer{"am-eu": alertmanager.NewSilencer(px.srv.URL, nil)}})

	px.loseReply.Store(true)
	ackOutage(t, d, snapshot(t, c), "db failover in progress")
	deliver(t, d)
	sils := live(listSilences(t, am.URL))
	require.Len(t, sils, 1, "the Alertmanager made the silence; sitroom did not hear back")
	b, err := d.Board()
	require.NoError(t, err)
	require.Equal(t, 1, b.Deliveries["checkout"].Pending, "still pending in the outbox")

	// change-mgmt expires it (DELETE /api/v2/silence/{id}).
	req, err := http.NewRequest(http.MethodDelete, am.URL+"/api/v2/silence/"+sils[0].ID, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	time.Sleep(10 * time.Millisecond)
	deliver(t, d)
	assert.EqualValues(t, 1, px.posts.Load(), "the retry found the expired silence instead of posting again")
	assert.Empty(t, live(listSilences(t, am.URL)), "no silence made again")

	d.ReadSilences(context.Background())
	b, err = d.Board()
	require.NoError(t, err)
	assert.Nil(t, b.AckOf("checkout"), "the ack ended upstream")
	require.NotNil(t, b.Ended["checkout"])
	assert.Equal(t, "silence expired", b.Ended["checkout"].Ended)
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	var ended []string
	for _, e := range log {
		if e.Verb == model.VerbEnded {
			ended = append(ended, e.Comment)
		}
	}
	require.Len(t, ended, 1)
	assert.True(t, strings.HasPrefix(ended[0], "ack by alice ended upstream: silence expired"), ended[0])

	// And a new ack is taken.
	res := ackOutage(t, d, snapshot(t, c), "again")
	assert.Equal(t, model.ActionPending, res.State, res.Message)
}
