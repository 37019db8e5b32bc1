package runtime_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/prometheus"
	"sitroom/sources/runtime"
	"sitroom/sources/sourcetest"
)

// The timeline tells what happened, on real Prometheus rules feeding a
// real Alertmanager, both polled every second: firing is not pending, a
// re-fire is an event, one source is one source, and an alert is not
// resolved while a source still has it firing.
func TestTimelineOfRealRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real rules for half a minute")
	}
	freezeAt := time.Now().Add(14 * time.Second).Unix()
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yml")
	require.NoError(t, os.WriteFile(rules, []byte(fmt.Sprintf(`groups:
  - name: timeline
    interval: 1s
    rules:
      - alert: FiresAfterFor
        expr: vector(1)
        for: 4s
        labels: {severity: critical, service: svc-for}
      - alert: PendsForever
        expr: vector(1)
        for: 1h
        labels: {severity: critical, service: svc-pend}
      # firing 8s, then inactive 8s, again and again
      - alert: Flaps
        expr: vector(1) and on() (vector(time() %% 16) < 8)
        labels: {severity: critical, service: svc-flap}
      # its evaluation fails from freezeAt on (duplicate series on the
      # one side of a group_left): Prometheus keeps it firing, unsent,
      # and the Alertmanager lets it expire
      - alert: Freezes
        expr: vector(1) * on() group_left() (label_replace(vector(1), "a", "1", "", "") or label_replace(vector(time()) > %d, "a", "2", "", ""))
        labels: {severity: critical, service: svc-freeze}
`, freezeAt)), 0o600))
	am := sourcetest.StartAlertmanager(t)
	prom := sourcetest.StartPrometheus(t, []string{rules}, am.URL)

	c := startConsole(t, fmt.Sprintf(`
sources:
  - {name: prom, type: prometheus, url: %q, interval: 1s}
  - {name: am, type: alertmanager, url: %q, interval: 1s}
`, prom.URL, am.URL))
	// Long enough for two flaps, the freeze and the Alertmanager's expiry
	// of the frozen alert (four resend delays).
	time.Sleep(time.Until(time.Unix(freezeAt, 0).Add(18 * time.Second)))
	c.stop()
	last := c.snapshot()

	r, err := runtime.Report(c.opts, model.HandoffSpan{Since: time.Hour}, time.Now())
	require.NoError(t, err)
	b, err := r.JSON()
	require.NoError(t, err)
	var rep model.Handoff
	require.NoError(t, json.Unmarshal(b, &rep))
	events := map[string][]model.TimelineEvent{}
	for _, e := range rep.Timeline {
		if e.Kind == model.EventAlertFired || e.Kind == model.EventAlertResolved {
			name, _, _ := strings.Cut(e.Subject, " ")
			events[name] = append(events[name], e)
		}
	}
	kinds := func(name string) []string {
		var out []string
		for _, e := range events[name] {
			out = append(out, e.Kind)
		}
		return out
	}

	// Pending is not firing: fired once, for: 4s after it began pending.
	require.Equal(t, []string{model.EventAlertFired}, kinds("FiresAfterFor"), "%v", events["FiresAfterFor"])
	raw, err := prometheus.NewDecoder(nil).Decode(prom.Get(t, prometheus.AlertsPath))
	require.NoError(t, err)
	activeAt := sourcetest.ByName(raw)["FiresAfterFor"].StartsAt.Time()
	// (The Alertmanager's startsAt has whole milliseconds.)
	assert.False(t, events["FiresAfterFor"][0].At.Before(activeAt.Add(4*time.Second-time.Millisecond)),
		"fired at %s, before activeAt %s + for 4s", events["FiresAfterFor"][0].At, activeAt)
	assert.Equal(t, "critical · am, prom", events["FiresAfterFor"][0].Detail)
	assert.Empty(t, events["PendsForever"], "an alert that only pends never fired")

	// A re-fire is an event; each source is listed once.
	flaps := kinds("Flaps")
	fired := 0
	for _, k := range flaps {
		if k == model.EventAlertFired {
			fired++
		}
	}
	assert.GreaterOrEqual(t, fired, 2, "fired again after it resolved: %v", flaps)
	assert.Contains(t, flaps, model.EventAlertResolved)
	both := 0
	for _, e := range events["Flaps"] {
		if e.Kind != model.EventAlertFired {
			continue
		}
		_, list, _ := strings.Cut(e.Detail, " · ")
		srcs := strings.Split(list, ", ")
		assert.ElementsMatch(t, slices.Compact(slices.Sorted(slices.Values(srcs))), srcs, "a source listed twice: %q", e.Detail)
		if e.Detail == "critical · am, prom" {
			both++
		}
	}
	assert.Positive(t, both, "an episode both held lists both: %v", events["Flaps"])

	// Frozen in Prometheus, expired by the Alertmanager: still firing.
	assert.Equal(t, []string{model.EventAlertFired}, kinds("Freezes"), "not resolved while Prometheus still has it firing")
	require.NotNil(t, last)
	var frozen *model.Signal
	for _, s := range last.Signals {
		if s.Name() == "Freezes" {
			frozen = s
		}
	}
	require.NotNil(t, frozen, "the screen still shows the frozen alert")
	assert.Equal(t, model.StateFiring, frozen.State)
	assert.Equal(t, []string{"prom"}, frozen.Sources, "only Prometheus still has it")
}
