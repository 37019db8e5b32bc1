package sources_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/sources"
	"sitroom/sources/sourcetest"
)

// `sitroom poll --once` run on a timer must feed the handoff report: the
// outage it reads is recorded as history, unless another process holds the
// polling lease (that one's recorder sees the same rows), and the lease is
// given back afterwards.
func TestPollOnceRecordsHistoryUnlessAnotherPollerDoes(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": "CheckoutDown", "severity": "critical", "service": "checkout"}})
	c := openCache(t, filepath.Join(t.TempDir(), "cache.db"))
	once := func(holder string) error {
		p := sources.NewPoller(c, []sources.Job{{Source: amSource(t, "am", am), Interval: time.Minute}},
			sources.PollerOptions{Holder: holder, History: sources.NewHistoryRecorder(c, sources.HistoryOptions{})})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return p.PollOnce(ctx)
	}

	ok, err := c.TryLease("elsewhere:1", time.Minute, time.Now())
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, once("cron:2"))
	open, err := c.OpenOutageRecords()
	require.NoError(t, err)
	assert.Empty(t, open, "the lease holder records history, not a one-off poll beside it")
	holder, _, err := c.LeaseHolder()
	require.NoError(t, err)
	assert.Equal(t, "elsewhere:1", holder, "the holder's lease is untouched")

	require.NoError(t, c.ReleaseLease("elsewhere:1"))
	require.NoError(t, once("cron:3"))
	open, err = c.OpenOutageRecords()
	require.NoError(t, err)
	require.Len(t, open, 1, "the outage read by poll --once is in the history")
	assert.Equal(t, "checkout", open[0].Service)
	holder, _, err = c.LeaseHolder()
	require.NoError(t, err)
	assert.Empty(t, holder, "poll --once gives the lease back")

	require.NoError(t, once("cron:4"))
	open, err = c.OpenOutageRecords()
	require.NoError(t, err)
	assert.Len(t, open, 1, "a second run does not open the outage again")
}
