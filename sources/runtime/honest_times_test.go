package runtime_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/runtime"
	"sitroom/sources/sourcetest"
)

// Honest times, on a real Alertmanager polled every second: an outage
// begins when its alerts began firing, the last resolve is not a fault,
// and the screen and the report agree.

// amConsole is a console polling one Alertmanager every second, with
// the services of these tests.
func amConsole(t *testing.T, amURL string) *console {
	return startConsole(t, fmt.Sprintf(`
sources:
  - {name: am, type: alertmanager, url: %q, interval: 1s}
services:
  - {name: late-svc, match: ['service="late-svc"'], owner: team-web}
  - {name: quiet-svc, match: ['service="quiet-svc"'], owner: team-web}
`, amURL))
}

func outageOf(r *model.Handoff, svc string) *model.HandoffOutage {
	for i := range r.Outages {
		if r.Outages[i].Service == svc {
			return &r.Outages[i]
		}
	}
	return nil
}

// A critical alert that fired an hour before the console started, acked
// as soon as the console shows it: the screen's FOR and the report's start
// are the upstream's, TTA is an hour, and the report says the console saw
// it late.
func TestOutageBeganWhenItsAlertBegan(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	began := time.Now().Add(-time.Hour).Truncate(time.Second)
	am.PostAlerts(t, sourcetest.PostableAlert{
		Labels:   map[string]string{"alertname": "DiskFull", "severity": "critical", "service": "late-svc"},
		StartsAt: began,
	})
	c := amConsole(t, am.URL)
	snap := c.waitFor(t, 15*time.Second, "late-svc's outage shows", func(s *model.Snapshot) bool { return s.Outage("late-svc") != nil })
	o := snap.Outage("late-svc")
	assert.Equal(t, began.UTC(), o.Since.UTC(), "the screen's FOR runs from when the alert began firing upstream")

	d, err := c.rt.Dispatcher(false)
	require.NoError(t, err)
	res, err := d.Do(context.Background(), model.ActionRequest{Verb: model.VerbAck, Service: "late-svc", AlertKeys: o.Keys, Comment: "on it", Expiry: time.Hour})
	require.NoError(t, err)
	require.NotEqual(t, model.ActionRefused, res.State, res.Message)

	var ho *model.HandoffOutage
	require.Eventually(t, func() bool {
		ho = outageOf(c.report(t), "late-svc")
		return ho != nil && ho.FirstAck != nil
	}, 10*time.Second, 100*time.Millisecond, "the report has the outage and its ack")
	assert.Equal(t, began.UTC(), ho.Opened, "opened when the alert began firing upstream")
	require.NotNil(t, ho.TTASeconds)
	assert.GreaterOrEqual(t, *ho.TTASeconds, int64(3600), "TTA runs from the trigger, not from when the console saw it")
	require.NotNil(t, ho.SeenLateSeconds, "the report says the console saw it late")
	assert.InDelta(t, 3600, *ho.SeenLateSeconds, 30)
	assert.WithinDuration(t, time.Now(), ho.FirstSeen, 30*time.Second)

	r, err := runtime.Report(c.opts, model.HandoffSpan{Since: 2 * time.Hour}, time.Now())
	require.NoError(t, err)
	assert.Contains(t, r.Markdown(), "began 1h00m before this console saw it")
}

// The only alert of an Alertmanager resolves on a quiet night: the outage
// closes within two polls, the source is not degraded, and a report read
// at once (within the anti-flap grace) shows the outage resolved, when it
// went, provisionally.
func TestLastResolveIsNotAFault(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	alert := sourcetest.PostableAlert{Labels: map[string]string{"alertname": "QueueStuck", "severity": "critical", "service": "quiet-svc"}}
	am.PostAlerts(t, alert)
	c := amConsole(t, am.URL)
	c.waitFor(t, 15*time.Second, "quiet-svc's outage shows", func(s *model.Snapshot) bool { return s.Outage("quiet-svc") != nil })
	require.Eventually(t, func() bool {
		o := outageOf(c.report(t), "quiet-svc")
		return o != nil && o.StillOpen
	}, 10*time.Second, 100*time.Millisecond, "the report has the open outage")

	// The Alertmanager has been up for longer than a poll or two (the
	// uptime read has whole seconds, and a start within a second of the
	// last poll with alerts counts as a restart).
	time.Sleep(3 * time.Second)
	alert.EndsAt = time.Now().Add(-time.Second) // resolved upstream
	am.PostAlerts(t, alert)
	resolvedAt := time.Now()
	snap := c.waitFor(t, 10*time.Second, "the outage leaves the screen", func(s *model.Snapshot) bool {
		return s.Outage("quiet-svc") == nil && len(s.Signals) == 0
	})
	assert.Less(t, time.Since(resolvedAt), 5*time.Second, "gone within two polls of a second, not after the 3-minute hold")
	require.Len(t, snap.Sources, 1)
	st := snap.Sources[0]
	assert.Equal(t, model.HealthOK, st.Health(), "a quiet night is not a degraded source: %q", st.Note)
	assert.Empty(t, st.Note)

	var o *model.HandoffOutage
	require.Eventually(t, func() bool {
		o = outageOf(c.report(t), "quiet-svc")
		return o != nil && o.Closed != nil
	}, 5*time.Second, 100*time.Millisecond, "a report read within the grace shows the outage resolved")
	assert.True(t, o.Provisional, "within the grace the end is provisional")
	assert.False(t, o.StillOpen)
	assert.WithinDuration(t, resolvedAt, *o.Closed, 5*time.Second, "ended when it went")
}

// An Alertmanager restarted without its data answers [] until Prometheus
// re-sends: its alerts are held, shown stale, and its chip says why.
func TestRestartedAlertmanagerIsWaitedFor(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": "DiskFull", "severity": "critical", "service": "late-svc"}})
	c := amConsole(t, am.URL)
	c.waitFor(t, 15*time.Second, "the outage shows", func(s *model.Snapshot) bool { return s.Outage("late-svc") != nil })

	am.RestartWithoutData(t)
	snap := c.waitFor(t, 15*time.Second, "the chip says the Alertmanager restarted", func(s *model.Snapshot) bool {
		return len(s.Sources) == 1 && strings.Contains(s.Sources[0].Note, "restarted")
	})
	st := snap.Sources[0]
	assert.Regexp(t, `^empty reply; had 1 alert; restarted \d+s ago, waiting for re-sends$`, st.Note)
	assert.Equal(t, model.HealthDegraded, st.Health())
	o := snap.Outage("late-svc")
	require.NotNil(t, o, "the outage is held while the Alertmanager waits for re-sends")
	assert.True(t, o.Stale, "its rows show stale")
}

// An upstream whose clock is an hour ahead reports a start in the future:
// it counts as when this console first saw the alert, on screen and in
// the report.
func TestStartInTheFutureCountsAsFirstSeen(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{
		Labels:   map[string]string{"alertname": "DiskFull", "severity": "critical", "service": "late-svc"},
		StartsAt: time.Now().Add(time.Hour), EndsAt: time.Now().Add(2 * time.Hour),
	})
	c := amConsole(t, am.URL)
	snap := c.waitFor(t, 15*time.Second, "the outage shows", func(s *model.Snapshot) bool { return s.Outage("late-svc") != nil })
	o := snap.Outage("late-svc")
	assert.False(t, o.Since.After(time.Now()), "the screen's FOR does not start in the future: %s", o.Since)
	assert.Equal(t, o.FirstSeen, o.Since)
	var ho *model.HandoffOutage
	require.Eventually(t, func() bool {
		ho = outageOf(c.report(t), "late-svc")
		return ho != nil
	}, 10*time.Second, 100*time.Millisecond, "the report has the outage")
	assert.Equal(t, o.FirstSeen.UTC(), ho.Opened.UTC(), "the report opens it when first seen, as the screen does")
	assert.Nil(t, ho.SeenLateSeconds)
}
