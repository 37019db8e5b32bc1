package sources_test

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/sources"
	"sitroom/sources/alertmanager"
	"sitroom/sources/sourcetest"
)

// poll --once prints the snapshot of what it just polled: the one the
// history recorder saw, while the cache still holds what it was built
// from; once another process has written to the cache since, what the
// cache holds now. What the cache held before the poll (its mirror loaded
// while the request is in flight) is part of it: an alert missing from
// one reply stays open.
func TestPollOnceSnapshotIsTheCacheNow(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": "CheckoutDown", "severity": "critical", "service": "checkout"}})
	path := filepath.Join(t.TempDir(), "cache.db")
	other := openCache(t, path)
	meta := func() cache.PollMeta { return cache.PollMeta{At: time.Now(), Type: "alertmanager"} }
	_, err := other.Ingest("am", []model.Alert{{Labels: model.LabelsFromMap(map[string]string{"alertname": "DiskFull", "service": "storage"}), State: model.StateFiring}}, meta())
	require.NoError(t, err)

	c := openCache(t, path)
	p := sources.NewPoller(c, []sources.Job{{Source: amSource(t, "am", am), Interval: time.Minute}},
		sources.PollerOptions{History: sources.NewHistoryRecorder(c, sources.HistoryOptions{})})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, p.PollOnce(ctx))
	snap, err := p.Snapshot()
	require.NoError(t, err)
	assert.NotNil(t, signalNamed(snap, "CheckoutDown"), "the polled alert is in the snapshot")
	assert.NotNil(t, signalNamed(snap, "DiskFull"), "an open row missing from one reply stays open")
	require.Len(t, snap.Sources, 1, "only the configured source has a chip")
	assert.Equal(t, "am", snap.Sources[0].Name)
	assert.Empty(t, snap.Sources[0].LastError)

	require.NoError(t, p.PollOnce(ctx))
	_, err = other.Ingest("am", []model.Alert{{Labels: model.LabelsFromMap(map[string]string{"alertname": "QueueBacklog", "service": "billing"}), State: model.StateFiring}}, meta())
	require.NoError(t, err)
	snap, err = p.Snapshot()
	require.NoError(t, err)
	assert.NotNil(t, signalNamed(snap, "QueueBacklog"), "a write by another process after the poll shows")
}

// failingOnce is a healthy source whose alerts cannot be read while down.
type failingOnce struct {
	*healthy
	down atomic.Bool
}

func (f *failingOnce) Fetch(ctx context.Context) ([]model.Alert, error) {
	if f.down.Load() {
		return nil, &sources.FetchError{Kind: sources.KindRefused, Msg: "connection refused"}
	}
	return f.healthy.Fetch(ctx)
}

// The pipeline's health is read beside the alerts; when the alerts cannot
// be read, what the health read found is not stored (the chip says the
// source is down, not what its pipeline said) and the next poll that
// reads the alerts reads the health again.
func TestFailedPollDropsTheHealthRead(t *testing.T) {
	c := openCache(t, filepath.Join(t.TempDir(), "cache.db"))
	src := &failingOnce{healthy: &healthy{}}
	src.set([]model.Finding{{Kind: model.FindingRule, Subject: "g/JoinBroken", Text: "found duplicate series", Severe: true}}, nil)
	src.down.Store(true)
	p := sources.NewPoller(c, []sources.Job{{Source: src, Interval: 5 * time.Second}}, sources.PollerOptions{})
	ctx := context.Background()

	require.Error(t, p.PollOnce(ctx))
	snap, err := p.Snapshot()
	require.NoError(t, err)
	require.Len(t, snap.Sources, 1)
	assert.Equal(t, "connection refused", snap.Sources[0].LastError)
	assert.Empty(t, snap.Sources[0].Findings, "nothing of a health read beside a failed poll is stored")

	src.down.Store(false)
	require.NoError(t, p.PollOnce(ctx))
	assert.EqualValues(t, 2, src.reads.Load(), "the first poll that reads the alerts reads the health again")
	snap, err = p.Snapshot()
	require.NoError(t, err)
	assert.Equal(t, "1 rule failing", snap.Sources[0].PipelineReason(time.Now()))
}

// Processes that poll once each (a timer's `poll --once`) on one cache:
// a poll that finds nothing changed shows the signals built of the stored
// rows while its request was in flight, with the source's status of this
// poll; a change upstream since (an alert silenced, another's summary
// edited) shows at the next.
func TestOneShotPollsShowTheUpstreamAsItIs(t *testing.T) {
	am, checkout, billing := checkoutAndBilling(t)
	path := filepath.Join(t.TempDir(), "cache.db")
	oneShot := func() *model.Snapshot {
		t.Helper()
		return pollOnceInto(t, path, amSource(t, "am", am))
	}
	states := func(s *model.Snapshot) map[string]string {
		m := map[string]string{}
		for _, sig := range s.Signals {
			m[sig.Name()] = sig.State.String() + " " + sig.Annotations.Get("summary")
		}
		return m
	}

	first := oneShot()
	again := oneShot()
	want := map[string]string{"CheckoutDown": "firing checkout answers 503", "QueueBacklog": "firing "}
	assert.Equal(t, want, states(first))
	assert.Equal(t, want, states(again), "nothing changed upstream")
	assert.Equal(t, first.Counts, again.Counts)
	assert.True(t, again.Sources[0].LastSuccess.After(first.Sources[0].LastSuccess), "the status is this poll's")

	am.CreateSilence(t, map[string]string{"alertname": "QueueBacklog"}, time.Hour, "noc-lead", "known, CHG-7")
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: checkout, Annotations: map[string]string{"summary": "checkout answers 502"}})
	changed := oneShot()
	want = map[string]string{"CheckoutDown": "firing checkout answers 502", "QueueBacklog": "suppressed "}
	assert.Equal(t, want, states(changed))
	assert.Equal(t, 1, changed.Counts.Silenced)
	assert.Equal(t, want, states(oneShot()), "and stays so")

	// Resolved upstream: missed by one poll, resolved by the next,
	// whose reply is the very one the cache's rows stand for.
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: billing, EndsAt: time.Now().Add(-time.Second)})
	assert.Equal(t, want, states(oneShot()), "missed once, still open")
	assert.Equal(t, map[string]string{"CheckoutDown": "firing checkout answers 502"}, states(oneShot()), "missed twice, resolved")
}

// checkoutAndBilling starts an Alertmanager holding two alerts: checkout
// down (critical, with a summary) and a billing backlog (warning).
func checkoutAndBilling(t *testing.T) (am *sourcetest.Server, checkout, billing map[string]string) {
	am = sourcetest.StartAlertmanager(t)
	checkout = map[string]string{"alertname": "CheckoutDown", "severity": "critical", "service": "checkout"}
	billing = map[string]string{"alertname": "QueueBacklog", "severity": "warning", "service": "billing"}
	am.PostAlerts(t,
		sourcetest.PostableAlert{Labels: checkout, Annotations: map[string]string{"summary": "checkout answers 503"}},
		sourcetest.PostableAlert{Labels: billing})
	return am, checkout, billing
}

// pollOnceInto polls src once into the cache file at path as `poll
// --once` does (OneShot, with a history recorder) and returns the
// snapshot it shows.
func pollOnceInto(t *testing.T, path string, src sources.Source) *model.Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := cache.Open(path)
	require.NoError(t, err)
	defer c.Close()
	p := sources.NewPoller(c, []sources.Job{{Source: src, Interval: time.Minute}},
		sources.PollerOptions{History: sources.NewHistoryRecorder(c, sources.HistoryOptions{})})
	p.OneShot()
	require.NoError(t, p.PollOnce(ctx))
	snap, err := p.Snapshot()
	require.NoError(t, err)
	require.Len(t, snap.Sources, 1)
	return snap
}

// meddling is an Alertmanager source whose first Fetch lets another
// process write the cache (meddle) once the reply is in, between the read
// of the rows' digests and the poll's write.
type meddling struct {
	*alertmanager.Source
	once   sync.Once
	meddle func()
}

func (m *meddling) Fetch(ctx context.Context) ([]model.Alert, error) {
	alerts, err := m.Source.Fetch(ctx)
	m.once.Do(m.meddle)
	return alerts, err
}

// A one-shot poll that finds the rows it meant to keep rewritten by
// another process meanwhile fetches its reply again and decodes every
// alert: the rows are the upstream's, not the other process's.
func TestOneShotDecodesAgainWhenRowsChangeUnderIt(t *testing.T) {
	am, checkout, _ := checkoutAndBilling(t)
	path := filepath.Join(t.TempDir(), "cache.db")
	summaries := func(s *model.Snapshot) map[string]string {
		m := map[string]string{}
		for _, sig := range s.Signals {
			m[sig.Name()] = sig.Annotations.Get("summary")
		}
		return m
	}
	want := map[string]string{"CheckoutDown": "checkout answers 503", "QueueBacklog": ""}
	require.Equal(t, want, summaries(pollOnceInto(t, path, amSource(t, "am", am))))

	meddled := false
	src := &meddling{Source: alertmanager.New("am", am.URL, &http.Client{}, nil), meddle: func() {
		other, err := cache.Open(path)
		require.NoError(t, err)
		defer other.Close()
		_, err = other.Ingest("am", []model.Alert{{
			Labels:      model.LabelsFromMap(checkout),
			Annotations: model.LabelsFromMap(map[string]string{"summary": "written by another console"}),
			State:       model.StateFiring,
		}}, cache.PollMeta{Type: "alertmanager"})
		require.NoError(t, err)
		meddled = true
	}}
	assert.Equal(t, want, summaries(pollOnceInto(t, path, src)))
	assert.True(t, meddled)
}
