package runtime_test

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/sources"
	"sitroom/sources/alertmanager"
	"sitroom/sources/runtime"
	"sitroom/sources/sourcetest"
)

// seen records every snapshot the feed shows its observer (the action
// dispatcher's place).
type seen struct {
	mu    sync.Mutex
	snaps []*model.Snapshot
}

func (s *seen) Observe(snap *model.Snapshot) {
	s.mu.Lock()
	s.snaps = append(s.snaps, snap)
	s.mu.Unlock()
}

func (s *seen) any(f func(*model.Snapshot) bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, snap := range s.snaps {
		if f(snap) {
			return true
		}
	}
	return false
}

func holds(snap *model.Snapshot, alertname string) bool {
	for _, sig := range snap.Signals {
		if sig.Name() == alertname {
			return true
		}
	}
	return false
}

func sourceError(snap *model.Snapshot, name string) string {
	for _, st := range snap.Sources {
		if st.Name == name {
			return st.LastError
		}
	}
	return ""
}

// The screen sees a poll's alerts while their write is in progress, not
// after it commits; when the write then fails, the screen goes back to
// what is stored, with the source's "cache:" error, and nothing that acts
// or records (the dispatcher, the history recorder) ever saw the alert
// that was not stored. Once writes succeed again, everyone sees it.
func TestFeedShowsAPollBeforeItsWriteAndTakesAFailedWriteBack(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": "DiskFull", "severity": "critical", "service": "db"}})
	path := filepath.Join(t.TempDir(), "cache.db")
	c, err := cache.Open(path)
	require.NoError(t, err)
	src := alertmanager.New("am", am.URL, &http.Client{}, nil)
	p := sources.NewPoller(c, []sources.Job{{Source: src, Interval: time.Hour}}, sources.PollerOptions{
		Holder: "planned-test", WatchEvery: 20 * time.Millisecond,
		History: sources.NewHistoryRecorder(c, sources.HistoryOptions{}),
	})
	obs := &seen{}
	feed := runtime.NewFeed(p, obs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; c.Close() })

	next := func(what string, f func(*model.Snapshot) bool) *model.Snapshot {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case s := <-feed.Snapshots():
				if f(s) {
					return s
				}
			case <-timeout:
				t.Fatalf("no snapshot %s on the screen", what)
			}
		}
	}
	next("with DiskFull", func(s *model.Snapshot) bool { return holds(s, "DiskFull") })
	recorded := func(service string) bool {
		recs, err := c.OpenOutageRecords()
		require.NoError(t, err)
		for _, r := range recs {
			if r.Service == service {
				return true
			}
		}
		return false
	}
	// The history has what it records of DiskFull: it writes nothing
	// more while nothing changes.
	require.Eventually(t, func() bool { return recorded("db") }, 10*time.Second, 10*time.Millisecond)

	// Another connection holds the write lock, so the next write waits
	// for it (the cache waits up to 5 s), and makes every insert of an
	// alert row fail, as on a full disk, once it lets go; the rest of the
	// cache (the history) stays writable.
	db, err := sql.Open("sqlite3", path)
	require.NoError(t, err)
	defer db.Close()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, `BEGIN IMMEDIATE`)
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, `CREATE TRIGGER test_full BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`)
	require.NoError(t, err)

	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": "WebDown", "severity": "critical", "service": "web"}})
	p.Refresh()
	planned := next("with WebDown before its write", func(s *model.Snapshot) bool { return holds(s, "WebDown") })
	assert.True(t, holds(planned, "DiskFull"))
	assert.Empty(t, sourceError(planned, "am"))
	_, err = conn.ExecContext(ctx, `COMMIT`)
	require.NoError(t, err)
	back := next("taken back after the failed write", func(s *model.Snapshot) bool {
		return !holds(s, "WebDown") && sourceError(s, "am") != ""
	})
	assert.True(t, holds(back, "DiskFull"), "what is stored is shown again")
	assert.Contains(t, sourceError(back, "am"), "cache: ")
	assert.Contains(t, sourceError(back, "am"), "database or disk is full")

	assert.False(t, obs.any(func(s *model.Snapshot) bool { return holds(s, "WebDown") }),
		"the dispatcher never sees an alert that was not stored")
	assert.False(t, recorded("web"), "no history of an alert that was not stored")
	var downs int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM source_history`).Scan(&downs))
	assert.Zero(t, downs, "a failed write is not the source being down")

	_, err = db.Exec(`DROP TRIGGER test_full`)
	require.NoError(t, err)
	p.Refresh()
	again := next("with WebDown stored", func(s *model.Snapshot) bool {
		return holds(s, "WebDown") && sourceError(s, "am") == "" && !strings.Contains(s.CacheError, "cache")
	})
	assert.True(t, holds(again, "DiskFull"))
	require.Eventually(t, func() bool { return obs.any(func(s *model.Snapshot) bool { return holds(s, "WebDown") }) },
		10*time.Second, 10*time.Millisecond, "the stored alert reaches the dispatcher")
	require.Eventually(t, func() bool { return recorded("web") }, 10*time.Second, 10*time.Millisecond,
		"and the history records its outage")
}
