package sources_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"

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

// counting wraps a real source and records how many fetches ran and the
// most that ever ran at once.
type counting struct {
	sources.Source
	calls, inFlight, maxInFlight atomic.Int32
	delay                        time.Duration
}

func (c *counting) Fetch(ctx context.Context) ([]model.Alert, error) {
	c.calls.Add(1)
	n := c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	for {
		m := c.maxInFlight.Load()
		if n <= m || c.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	if c.delay > 0 {
		select {
		case <-time.After(c.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return c.Source.Fetch(ctx)
}

func openCache(t *testing.T, path string) *cache.Cache {
	t.Helper()
	c, err := cache.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// waitSnapshot reads snapshots until ok accepts one.
func waitSnapshot(t *testing.T, ch <-chan *model.Snapshot, timeout time.Duration, what string, ok func(*model.Snapshot) bool) *model.Snapshot {
	t.Helper()
	deadline := time.After(timeout)
	var last *model.Snapshot
	for {
		select {
		case s, open := <-ch:
			require.True(t, open, "snapshot channel closed while waiting for %s", what)
			last = s
			if ok(s) {
				return s
			}
		case <-deadline:
			t.Fatalf("no snapshot with %s after %s; last: %+v", what, timeout, last)
		}
	}
}

func amSource(t *testing.T, name string, am *sourcetest.Server) sources.Source {
	return alertmanager.New(name, am.URL, &http.Client{}, nil)
}

func signalNamed(s *model.Snapshot, name string) *model.Signal {
	for _, sig := range s.Signals {
		if sig.Name() == name {
			return sig
		}
	}
	return nil
}

// An alert posted to a real Alertmanager shows in the next snapshot; when
// the Alertmanager stops, its rows stay, marked stale, and its status says
// why.
func TestPollerRealAlertmanagerUpThenDown(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	c := openCache(t, filepath.Join(t.TempDir(), "cache.db"))
	p := sources.NewPoller(c, []sources.Job{{Source: amSource(t, "am-eu", am), Interval: 200 * time.Millisecond}}, sources.PollerOptions{WatchEvery: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	am.PostAlerts(t, sourcetest.PostableAlert{
		Labels:      map[string]string{"alertname": "CheckoutDown", "severity": "critical", "service": "checkout"},
		Annotations: map[string]string{"summary": "checkout is down"},
	})
	snap := waitSnapshot(t, p.Snapshots(), 15*time.Second, "CheckoutDown", func(s *model.Snapshot) bool { return signalNamed(s, "CheckoutDown") != nil })
	require.Len(t, snap.Outages, 1)
	assert.Equal(t, "checkout", snap.Outages[0].Service)
	assert.False(t, snap.Outages[0].Stale)
	assert.Equal(t, model.HealthOK, snap.Sources[0].Health())

	am.Stop()
	snap = waitSnapshot(t, p.Snapshots(), 15*time.Second, "am-eu down", func(s *model.Snapshot) bool { return s.Sources[0].Health() == model.HealthDown })
	// A poll in flight as the Alertmanager stops sees the connection
	// reset; the next ones find nothing listening.
	assert.Regexp(t, `connection (refused|reset by peer)`, snap.Sources[0].LastError)
	sig := signalNamed(snap, "CheckoutDown")
	require.NotNil(t, sig, "rows stay when the source is down")
	assert.True(t, sig.Stale)
	assert.True(t, snap.Outages[0].Stale)
	assert.False(t, snap.Sources[0].LastSuccess.IsZero(), "last good poll is remembered")
}

// Refresh requests and a slow source never produce two polls of one source
// at the same time.
func TestPollerNeverOverlapsPolls(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	src := &counting{Source: amSource(t, "am", am), delay: 50 * time.Millisecond}
	c := openCache(t, filepath.Join(t.TempDir(), "cache.db"))
	p := sources.NewPoller(c, []sources.Job{{Source: src, Interval: 10 * time.Millisecond}}, sources.PollerOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	for i := 0; i < 50; i++ {
		p.Refresh()
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	assert.Greater(t, src.calls.Load(), int32(3))
	assert.Equal(t, int32(1), src.maxInFlight.Load())
}

// Two pollers on one cache file: only the lease holder fetches, the other
// shows the holder's data, and takes over when the holder stops.
func TestPollerLeaseSharing(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": "Shared", "severity": "critical", "service": "web"}})
	path := filepath.Join(t.TempDir(), "cache.db")
	opts := func(holder string) sources.PollerOptions {
		return sources.PollerOptions{Holder: holder, LeaseTTL: 600 * time.Millisecond, WatchEvery: 50 * time.Millisecond}
	}
	srcA := &counting{Source: amSource(t, "am", am)}
	srcB := &counting{Source: amSource(t, "am", am)}
	a := sources.NewPoller(openCache(t, path), []sources.Job{{Source: srcA, Interval: 100 * time.Millisecond}}, opts("a"))
	ctxA, cancelA := context.WithCancel(context.Background())
	doneA := make(chan struct{})
	go func() { a.Run(ctxA); close(doneA) }()
	defer func() { cancelA(); <-doneA }()
	require.Eventually(t, a.Polling, 5*time.Second, 20*time.Millisecond)

	b := sources.NewPoller(openCache(t, path), []sources.Job{{Source: srcB, Interval: 100 * time.Millisecond}}, opts("b"))
	ctxB, cancelB := context.WithCancel(context.Background())
	doneB := make(chan struct{})
	go func() { b.Run(ctxB); close(doneB) }()
	defer func() { cancelB(); <-doneB }()

	waitSnapshot(t, b.Snapshots(), 10*time.Second, "the holder's data in the follower", func(s *model.Snapshot) bool { return signalNamed(s, "Shared") != nil })
	assert.False(t, b.Polling())
	assert.Zero(t, srcB.calls.Load(), "the follower must not poll while the lease is held")

	cancelA()
	<-doneA
	require.Eventually(t, b.Polling, 5*time.Second, 20*time.Millisecond, "follower takes over the released lease")
	require.Eventually(t, func() bool { return srcB.calls.Load() > 0 }, 5*time.Second, 20*time.Millisecond)
}

// Nobody reading snapshots never blocks polling: the channel keeps only the
// latest.
func TestPollerLatestWins(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	src := &counting{Source: amSource(t, "am", am)}
	c := openCache(t, filepath.Join(t.TempDir(), "cache.db"))
	p := sources.NewPoller(c, []sources.Job{{Source: src, Interval: 10 * time.Millisecond}}, sources.PollerOptions{WatchEvery: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	for i := 0; i < 5; i++ {
		am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": fmt.Sprintf("A%d", i)}})
		time.Sleep(30 * time.Millisecond)
	}
	require.Eventually(t, func() bool { return src.calls.Load() > 10 }, 5*time.Second, 10*time.Millisecond)
	cancel()
	<-done
	var n int
	for range p.Snapshots() {
		n++
	}
	assert.LessOrEqual(t, n, 1, "at most one unread snapshot is kept")
}

func TestPollOnceJoinsErrorsByName(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	dead := sourcetest.StartAlertmanager(t)
	dead.Stop()
	c := openCache(t, filepath.Join(t.TempDir(), "cache.db"))
	p := sources.NewPoller(c, []sources.Job{
		{Source: amSource(t, "am-up", am), Interval: time.Second},
		{Source: amSource(t, "am-dead", dead), Interval: time.Second},
	}, sources.PollerOptions{})
	err := p.PollOnce(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "am-dead: connection refused")
	assert.NotContains(t, err.Error(), "am-up")
	snap, err := p.Snapshot()
	require.NoError(t, err)
	health := map[string]model.SourceHealth{}
	for _, s := range snap.Sources {
		health[s.Name] = s.Health()
	}
	assert.Equal(t, map[string]model.SourceHealth{"am-up": model.HealthOK, "am-dead": model.HealthDown}, health)
}

func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		n    int
		want time.Duration
	}{{0, 10 * time.Second}, {1, 20 * time.Second}, {2, 40 * time.Second}, {5, 5 * time.Minute}, {50, 5 * time.Minute}} {
		assert.Equal(t, c.want, sources.Backoff(10*time.Second, c.n, 5*time.Minute), "after %d failures", c.n)
	}
}

// A source that is down is retried every interval, however long it has
// been down; only one that is throttled backs off.
func TestRetryDelay(t *testing.T) {
	down := fmt.Errorf("rt-noc: %w", &sources.FetchError{Kind: sources.KindRefused, Msg: "connection refused"})
	throttled := fmt.Errorf("rt-noc: %w", &sources.FetchError{Kind: sources.KindThrottled, Msg: "throttled: HTTP 429"})
	aws := errors.New("aws-eu: throttled by AWS (Throttling)")
	for _, n := range []int{1, 2, 5, 50} {
		assert.Equal(t, 10*time.Second, sources.RetryDelay(10*time.Second, n, down, 5*time.Minute), "down, after %d failures", n)
		assert.Equal(t, sources.Backoff(10*time.Second, n, 5*time.Minute), sources.RetryDelay(10*time.Second, n, throttled, 5*time.Minute), "throttled, after %d", n)
		assert.Equal(t, sources.Backoff(10*time.Second, n, 5*time.Minute), sources.RetryDelay(10*time.Second, n, aws, 5*time.Minute), "throttled (words), after %d", n)
	}
	assert.Equal(t, 10*time.Second, sources.RetryDelay(10*time.Second, 3, throttled, time.Second), "never sooner than the interval")
}

type panicky struct{ sources.Source }

func (panicky) Fetch(context.Context) ([]model.Alert, error) { panic("decoder bug") }

// A panic in a source is recovered, reported through OnPanic, and does not
// take the process down.
func TestPollerRecoversPanics(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	c := openCache(t, filepath.Join(t.TempDir(), "cache.db"))
	got := make(chan any, 1)
	p := sources.NewPoller(c, []sources.Job{{Source: panicky{amSource(t, "am", am)}, Interval: time.Second}},
		sources.PollerOptions{OnPanic: func(v any, stack []byte) {
			select {
			case got <- v:
			default:
			}
		}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	select {
	case v := <-got:
		assert.Equal(t, "decoder bug", v)
	case <-time.After(10 * time.Second):
		t.Fatal("panic not reported")
	}
	cancel()
	<-done
}

// A poller on this host that died without releasing its lease does not
// make the next one wait for the lease to expire.
func TestPollerTakesTheLeaseOfADeadProcess(t *testing.T) {
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	host, err := os.Hostname()
	require.NoError(t, err)
	dead := fmt.Sprintf("%s:%d", host, cmd.Process.Pid)
	require.True(t, sources.HolderGone(dead))
	require.False(t, sources.HolderGone(fmt.Sprintf("%s:%d", host, os.Getpid())), "a live process is not gone")
	require.False(t, sources.HolderGone("other-host:1"), "holders on other hosts are left to expire")

	c := openCache(t, filepath.Join(t.TempDir(), "cache.db"))
	ok, err := c.TryLease(dead, time.Hour, time.Now())
	require.NoError(t, err)
	require.True(t, ok)

	am := sourcetest.StartAlertmanager(t)
	src := &counting{Source: amSource(t, "am", am)}
	p := sources.NewPoller(c, []sources.Job{{Source: src, Interval: 100 * time.Millisecond}},
		sources.PollerOptions{Holder: fmt.Sprintf("%s:%d", host, os.Getpid()), LeaseTTL: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	require.Eventually(t, p.Polling, 5*time.Second, 20*time.Millisecond, "the dead holder's hour-long lease is taken over at once")
	require.Eventually(t, func() bool { return src.calls.Load() > 0 }, 5*time.Second, 20*time.Millisecond)
}
