package runtime_test

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/runtime"
	"sitroom/sources/runtime/bintest"
)

// firstOutageCeiling is how long the end-to-end checks below give the
// demo's first outage to show. The demo has it firing at its first poll,
// which the poller makes at once, so it shows within a second; the
// ceiling leaves room for a loaded machine and still fails a demo that
// opens on a calm screen (25 s into the cycle, it showed its first outage
// 35 s after start).
const firstOutageCeiling = 15 * time.Second

// startDemoConsole opens the runtime of `sitroom --demo` (the built-in
// upstreams, its cache and log in a temp dir) and runs it as the dashboard
// does, keeping the latest snapshot.
func startDemoConsole(t *testing.T) *console {
	t.Helper()
	dir := t.TempDir()
	opts := runtime.Options{Demo: true, DBPath: filepath.Join(dir, "demo.db"), LogFile: filepath.Join(dir, "log"), LogLevel: "debug", Stderr: io.Discard}
	return runConsole(t, opts, 500)
}

// TestDemoOpensOnItsFirstOutage runs --demo's runtime as the dashboard
// does: db-main's outage, with payments, checkout and web downstream
// impacted, is in a snapshot at once, and it began when the demo opened,
// not before (the screen's "for 3s" is true) nor after it was seen.
func TestDemoOpensOnItsFirstOutage(t *testing.T) {
	opened := time.Now()
	c := startDemoConsole(t)
	s := c.waitFor(t, firstOutageCeiling, "db-main's outage in a snapshot", func(s *model.Snapshot) bool {
		return s.Outage("db-main") != nil
	})
	seen := time.Now()
	t.Logf("db-main's outage in a snapshot %v after the demo opened", seen.Sub(opened).Round(time.Millisecond))

	o := s.Outage("db-main")
	assert.Equal(t, model.SevCritical, o.Severity)
	require.NotNil(t, o.Impact, "db-main is in the demo's catalog")
	var downstream []string
	for _, n := range o.Impact.Downstream {
		downstream = append(downstream, n.Service)
	}
	assert.Equal(t, []string{"payments", "checkout", "web"}, downstream, "the cascade db-main's outage impacts")
	// Upstream times carry milliseconds at most.
	assert.WithinRange(t, o.Since, opened.Add(-time.Millisecond), seen, "the outage began as the demo opened")
	assert.WithinRange(t, o.FirstSeen, opened.Add(-time.Millisecond), seen)
	assert.False(t, o.FirstSeen.Before(o.Since), "seen after it began")
}

// TestDemoFirstScreenShowsTheOutage runs `sitroom --demo` in a 120×40
// pseudo-terminal, as a visitor would: db-main's outage and the services
// it impacts (the dependencies panel) are on the screen at once.
func TestDemoFirstScreenShowsTheOutage(t *testing.T) {
	bin := dashboardBinary(t)
	dir := t.TempDir()
	opened := time.Now()
	r := bintest.StartInPTY(t, bin, 120, 40, []string{"TERM=xterm-256color"},
		"--demo", "--db", filepath.Join(dir, "demo.db"), "--log-file", filepath.Join(dir, "sitroom.log"))
	r.WaitFor(t, "db-main", firstOutageCeiling)
	r.WaitFor(t, "impacted", time.Until(opened.Add(firstOutageCeiling)))
	t.Logf("db-main's outage and its downstream on the screen %v after start", time.Since(opened).Round(time.Millisecond))
	require.NoError(t, r.Quit(t))
}

// TestDemoStartsAFreshWorld runs the demo twice on its default cache
// (demo.db in the state dir): the second run opens on none of the first
// run's alerts, which came from upstreams that are gone and would show
// stale with their old ages.
func TestDemoStartsAFreshWorld(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir := t.TempDir()
	opts := runtime.Options{Demo: true, LogFile: filepath.Join(dir, "log"), Stderr: io.Discard}
	ctx := context.Background()

	rt, err := runtime.Open(ctx, opts)
	require.NoError(t, err)
	require.NoError(t, rt.PollOnce(ctx, io.Discard))
	p, err := rt.Cache.Preview(10)
	require.NoError(t, err)
	require.Positive(t, p.Open, "the first demo recorded its alerts")
	rt.Close()

	rt, err = runtime.Open(ctx, opts)
	require.NoError(t, err)
	defer rt.Close()
	p, err = rt.Cache.Preview(10)
	require.NoError(t, err)
	assert.Zero(t, p.Open, "the second demo opens on none of the first one's alerts")
	assert.Empty(t, p.Statuses, "nor on its sources' statuses")
}
