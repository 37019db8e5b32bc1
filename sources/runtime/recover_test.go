package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/model/cache/cachetest"
	"sitroom/sources"
	"sitroom/sources/alertmanager"
	"sitroom/sources/runtime"
	"sitroom/sources/runtime/bintest"
	"sitroom/sources/sourcetest"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// lockedBuffer is a log destination several goroutines write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// damagedCache writes a cache at path holding an operator's note in its
// audit log and 10,000 open alerts of source "am" (the 500 most severe
// first), and damages the alerts table deep in the file, past what Open
// and the preview read. It returns the note's uid.
func damagedCache(t *testing.T, path string) string {
	t.Helper()
	c, err := cache.Open(path)
	require.NoError(t, err)
	now := time.Now().UTC()
	note := &model.Action{AuditEntry: model.AuditEntry{At: now, Operator: "bob", Role: model.RoleTier1,
		Verb: model.VerbNote, Service: "checkout", Comment: "db failover started 09:02"}}
	_, err = c.RecordAction(note)
	require.NoError(t, err)
	alerts := make([]model.Alert, 0, 10000)
	for i := range 10000 {
		sev := "info"
		if i < 500 {
			sev = "critical"
		}
		labels := map[string]string{"alertname": fmt.Sprintf("Old%05d", i), "severity": sev,
			"service": fmt.Sprintf("svc-%d", i%50), "pad": strings.Repeat("x", 200)}
		alerts = append(alerts, model.Alert{Key: model.LabelsKey(model.LabelsFromMap(labels), nil), Labels: model.LabelsFromMap(labels),
			State: model.StateFiring, StartsAt: model.StampOf(now.Add(-time.Hour))})
	}
	_, err = c.Ingest("am", alerts, cache.PollMeta{At: now, Type: "alertmanager"})
	require.NoError(t, err)
	require.NoError(t, c.Close())
	cachetest.DamageLastAlertsPage(t, path)
	return note.UID
}

// A cache damaged past what Open reads: the dashboard's preview shows
// from it, then the poller's first load finds it corrupt, the file is
// moved aside with the audit log copied into a fresh cache, the screen
// and the log say so, and polling goes on into the fresh cache.
func TestDashboardRecoversACacheDamagedDeep(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": "DiskFull", "severity": "critical", "service": "checkout"}})
	path := filepath.Join(t.TempDir(), "cache.db")
	uid := damagedCache(t, path)

	c, err := cache.Open(path)
	require.NoError(t, err)
	defer c.Close()
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	p := sources.NewPoller(c, []sources.Job{{Source: alertmanager.New("am", am.URL, nil, nil), Interval: time.Hour}},
		sources.PollerOptions{Logger: log, WatchEvery: 10 * time.Millisecond})
	disp := &seenSnapshots{}
	feed := runtime.NewFeed(p, disp)
	h := uitest.Start(t, ui.Options{Operator: "alice"}, 200, 30)

	feed.Preview(runtime.PreviewRows, log)
	first := <-feed.Snapshots()
	require.Equal(t, 10000, first.Loading, "the preview reads the most severe rows, before the damage")
	h.Push(first)
	require.True(t, h.Contains("loading 10,000 alerts…"), strings.Join(h.Text(), "\n"))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	var last *model.Snapshot
	for last == nil || last.Loading > 0 || last.Service("checkout").Firing == 0 {
		select {
		case s, ok := <-feed.Snapshots():
			require.True(t, ok, "the feed stopped")
			last = s
			h.Push(s)
		case <-time.After(time.Minute):
			t.Fatalf("no snapshot with the new poll in a minute; log:\n%s", logs.String())
		}
	}
	assert.Empty(t, last.CacheError)
	require.Len(t, last.Signals, 1, "the alerts of the damaged file are gone; the poll's is there")
	assert.Equal(t, "DiskFull", last.Signals[0].Name())

	moved, err := filepath.Glob(path + ".corrupt-*")
	require.NoError(t, err)
	require.Len(t, moved, 1, "the damaged file is moved aside, not deleted")
	assert.Contains(t, last.CacheNote, "cache was corrupt")
	assert.Contains(t, last.CacheNote, filepath.Base(moved[0]))
	assert.Contains(t, last.CacheNote, "1 audit")
	screen := strings.Join(h.Text(), "\n")
	assert.Contains(t, screen, "cache was corrupt", "the status line says so:\n%s", screen)
	assert.Contains(t, screen, "moved aside to "+filepath.Base(moved[0]))
	assert.Contains(t, logs.String(), "cache moved aside")
	assert.Contains(t, logs.String(), moved[0])
	assert.Equal(t, 1, strings.Count(logs.String(), "cache moved aside"), "logged once")

	audit, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, audit, 1, "the audit log was copied into the fresh cache")
	assert.Equal(t, uid, audit[0].UID)
}

// The headless `poll --once` recovers the same way: the file is moved
// aside, stderr and the log say so, the poll is written into the fresh
// cache with the audit log copied into it.
func TestBinaryPollOnceRecoversACacheDamagedDeep(t *testing.T) {
	cfg, db, logf := diskFullConfig(t)
	uid := damagedCache(t, db)

	code, out, errOut := bintest.Run(t, "poll", "--once", "--config", cfg, "--db", db, "--log-file", logf)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "1 firing", "the poll went into the fresh cache")
	moved, _ := filepath.Glob(db + ".corrupt-*")
	require.Len(t, moved, 1)
	assert.Equal(t, 1, strings.Count(errOut, "moved aside"), errOut)
	assert.Contains(t, errOut, db+" is corrupt")
	assert.Contains(t, errOut, "1 audit")
	logText, err := os.ReadFile(logf)
	require.NoError(t, err)
	assert.Contains(t, string(logText), "cache moved aside")

	c, err := cache.Open(db)
	require.NoError(t, err)
	defer c.Close()
	audit, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, audit, 1)
	assert.Equal(t, uid, audit[0].UID)
	rows, _, err := c.Load()
	require.NoError(t, err)
	assert.Len(t, rows, 1)
	assert.Nil(t, c.Recovered(), "the fresh cache opens as it is")
}

// A cache that cannot be read for another reason than corruption (here:
// closed under the poller) is not moved: the screen keeps the preview
// and says why the rest is not loaded, instead of "loading…" forever;
// the dispatcher is shown nothing built from nothing.
func TestFeedShowsWhyTheCacheCannotBeRead(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	var alerts []sourcetest.PostableAlert
	for i := range 30 {
		alerts = append(alerts, sourcetest.PostableAlert{Labels: map[string]string{
			"alertname": fmt.Sprintf("A%02d", i), "severity": []string{"warning", "critical"}[i%2]}})
	}
	am.PostAlerts(t, alerts...)
	path := filepath.Join(t.TempDir(), "cache.db")
	jobs := []sources.Job{{Source: alertmanager.New("am", am.URL, nil, nil), Interval: time.Hour}}
	filler, err := cache.Open(path)
	require.NoError(t, err)
	require.NoError(t, sources.NewPoller(filler, jobs, sources.PollerOptions{}).PollOnce(context.Background()))
	require.NoError(t, filler.Close())

	c, err := cache.Open(path)
	require.NoError(t, err)
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	p := sources.NewPoller(c, jobs, sources.PollerOptions{Logger: log})
	disp := &seenSnapshots{}
	feed := runtime.NewFeed(p, disp)
	h := uitest.Start(t, ui.Options{Operator: "alice"}, 120, 30)
	feed.Preview(10, log)
	first := <-feed.Snapshots()
	require.Equal(t, 30, first.Loading)
	h.Push(first)

	require.NoError(t, c.Close())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	s := <-feed.Snapshots()
	cancel()
	<-done
	assert.Equal(t, cache.ErrClosed.Error(), s.CacheError)
	assert.Equal(t, 30, s.Loading, "the preview stays on screen")
	assert.Len(t, s.Signals, 10)
	h.Push(s)
	screen := strings.Join(h.Text(), "\n")
	assert.Contains(t, h.Text()[0], "30 alerts not loaded: cache unreadable", screen)
	assert.NotContains(t, screen, "loading 30 alerts", screen)
	assert.Contains(t, screen, cache.ErrClosed.Error(), "the status line says why:\n%s", screen)
	assert.Contains(t, logs.String(), "building a snapshot")
	moved, _ := filepath.Glob(path + ".corrupt-*")
	assert.Empty(t, moved, "only a corrupt file is moved aside")
	disp.mu.Lock()
	defer disp.mu.Unlock()
	assert.Empty(t, disp.seen, "the dispatcher is not shown a snapshot built from nothing")
}

// The headless poller (`sitroom poll`, no --once) says on stderr, once,
// that it replaced a cache it found corrupt after opening it, and goes on
// polling into the fresh file.
func TestBinaryPollRecoversACacheDamagedDeepAndSaysSo(t *testing.T) {
	cfg, db, logf := diskFullConfig(t, "interval: 1s")
	damagedCache(t, db)

	var stderr lockedBuffer
	cmd := exec.Command(bintest.Binary(t), "poll", "--config", cfg, "--db", db, "--log-file", logf)
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "moved aside") }, 30*time.Second, 50*time.Millisecond,
		"no word on stderr of the cache moved aside; stderr: %s", stderr.String())
	// Polls go on into the fresh cache; the note is said once.
	require.Eventually(t, func() bool {
		c, err := cache.Open(db)
		if err != nil {
			return false
		}
		defer c.Close()
		rows, _, err := c.Load()
		return err == nil && len(rows) == 1
	}, 30*time.Second, 200*time.Millisecond, "the poll's alert in the fresh cache")
	time.Sleep(1500 * time.Millisecond) // another poll or two
	assert.Equal(t, 1, strings.Count(stderr.String(), "sitroom: warning:"), stderr.String())
	moved, _ := filepath.Glob(db + ".corrupt-*")
	assert.Len(t, moved, 1)
}
