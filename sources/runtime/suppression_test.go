package runtime_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/sourcetest"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// Silenced, inhibited and acknowledged are three states, and sources that
// disagree about one say so: tried against real Alertmanagers.

// inhibitConfig is an Alertmanager config whose inhibit rule lets a
// NodeDown alert suppress every other alert of the same instance.
const inhibitConfig = sourcetest.DefaultAlertmanagerConfig + `inhibit_rules:
  - source_matchers: [alertname="NodeDown"]
    target_matchers: [alertname!="NodeDown"]
    equal: [instance]
`

// pollUntil polls every source of the runtime of cfg until ok accepts the
// snapshot, and returns it.
func pollUntil(t *testing.T, cfg, what string, ok func(*model.Snapshot) error) *model.Snapshot {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	s := openRuntime(t, ctx, cfg, filepath.Join(dir, "cache.db"), filepath.Join(dir, "log"))
	var snap *model.Snapshot
	sourcetest.Eventually(t, 15*time.Second, 100*time.Millisecond, func() error {
		if err := s.Poller.PollOnce(ctx); err != nil {
			return err
		}
		var err error
		if snap, err = s.Poller.Snapshot(); err != nil {
			return err
		}
		if err := ok(snap); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
	return snap
}

func signalNamed(snap *model.Snapshot, name string) *model.Signal {
	for _, s := range snap.Signals {
		if s.Name() == name {
			return s
		}
	}
	return nil
}

// An inhibit rule is not a silence: the Alertmanager reports the three
// alerts of db on n1 inhibited by NodeDown on n1 (inhibitedBy, no
// silencedBy). They read INHIBITED by NodeDown n1, the header counts
// 3 inhibited and 0 silenced, and db's outage is a symptom of node's.
func TestInhibitedAlertsAreNotSilenced(t *testing.T) {
	am := sourcetest.StartAlertmanager(t, sourcetest.WithAlertmanagerConfig(inhibitConfig))
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{
		"alertname": "NodeDown", "instance": "n1", "severity": "critical", "service": "node"}})
	for _, name := range []string{"DBDown", "DiskFull", "SlowQueries"} {
		am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{
			"alertname": name, "instance": "n1", "severity": "critical", "service": "db"}})
	}
	cfg := writeConfig(t, fmt.Sprintf("sources:\n  - {name: am, type: alertmanager, url: %s}\n", am.URL))
	snap := pollUntil(t, cfg, "3 inhibited", func(s *model.Snapshot) error {
		if len(s.Signals) != 4 || s.Counts.Inhibited != 3 {
			return fmt.Errorf("%d alerts, counts %+v", len(s.Signals), s.Counts)
		}
		return nil
	})

	assert.Equal(t, 0, snap.Counts.Silenced, "no silence exists")
	assert.Equal(t, 1, snap.Counts.Firing, "NodeDown pages")
	for _, name := range []string{"DBDown", "DiskFull", "SlowQueries"} {
		sig := signalNamed(snap, name)
		require.NotNil(t, sig, name)
		assert.True(t, sig.Inhibited(), name)
		assert.False(t, sig.Silenced(), name)
		require.Len(t, snap.InhibitorsOf(sig), 1, "%s: the fingerprint resolves to the inhibiting alert", name)
		assert.Equal(t, "NodeDown", snap.InhibitorsOf(sig)[0].Name())
	}
	node, db := snap.Outage("node"), snap.Outage("db")
	require.NotNil(t, node)
	require.NotNil(t, db, "an inhibited critical alert keeps its outage open")
	assert.False(t, db.Silenced, "inhibited is not silenced")
	assert.True(t, db.Inhibited)
	assert.Equal(t, "node", db.ProbableCause)
	assert.True(t, db.CauseInhibits)
	assert.Equal(t, []*model.Outage{db}, node.Symptoms)

	// sitroom poll --once says what the header says.
	var out strings.Builder
	dir := t.TempDir()
	rt := openRuntime(t, context.Background(), cfg, filepath.Join(dir, "cache.db"), filepath.Join(dir, "log"))
	require.NoError(t, rt.PollOnce(context.Background(), &out))
	assert.Contains(t, out.String(), "1 firing, 0 pending, 0 silenced, 3 inhibited")

	h := uitest.Start(t, ui.Options{Operator: "noc1"}, 160, 48)
	h.Push(snap)
	text := strings.Join(h.Text(), "\n")
	assert.Contains(t, text, "0 silenced · 3 inhibited")
	assert.Equal(t, 3, strings.Count(text, "INHIBITED"), "three rows:\n%s", text)
	assert.NotContains(t, text, "SILENCED")
	assert.Regexp(t, `node .*\n.*└ db .* 3 \(3 inhibited\)`, text, "db nested under node:\n%s", text)

	h.Type("2")
	// The first inhibited row, then its detail: which alert inhibits it,
	// and a key that opens that one.
	for i := 0; i < 5 && !selectedRowContains(h, "INHIBITED"); i++ {
		h.Type("j")
	}
	require.True(t, selectedRowContains(h, "INHIBITED"), "an inhibited row is selected")
	h.Key(tcell.KeyEnter)
	text = strings.Join(h.Text(), "\n")
	assert.Regexp(t, `State +INHIBITED`, text)
	assert.Regexp(t, `Inhibited by +NodeDown n1 +\(node, FIRING\) +i: open it`, text)
	assert.Regexp(t, `Silenced by +—`, text)
	h.Type("i")
	assert.True(t, h.Contains("Alert NodeDown"), "i opens the inhibiting alert")
	h.Key(tcell.KeyEscape)
	assert.True(t, h.Contains("Inhibited by"), "Esc returns to the inhibited alert")
}

// selectedRowContains reports whether the line of the alerts panel drawn
// selected (reversed) holds sub.
func selectedRowContains(h *uitest.Harness, sub string) bool {
	cells, w, _ := h.Cells()
	for y := 0; y*w < len(cells); y++ {
		var b strings.Builder
		rev := 0
		for x := 0; x < w; x++ {
			c := cells[y*w+x]
			if _, _, attr := c.Style.Decompose(); attr&tcell.AttrReverse != 0 {
				rev++
			}
			if len(c.Runes) > 0 {
				b.WriteRune(c.Runes[0])
			}
		}
		if rev > w/2 && strings.Contains(b.String(), sub) {
			return true
		}
	}
	return false
}

// Two Alertmanagers that do not share silences, each silencing a
// different alert: each alert still pages from the other one. The rows
// read SILENCED 1/2, count as firing, and the detail names the source
// that still pages. An alert silenced on both reads SILENCED.
func TestSilencedOnOneOfTwoAlertmanagersStillPages(t *testing.T) {
	amA, amB := sourcetest.StartAlertmanager(t), sourcetest.StartAlertmanager(t)
	for _, name := range []string{"SilOnA", "SilOnB", "SilOnBoth"} {
		for _, am := range []*sourcetest.Server{amA, amB} {
			am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{
				"alertname": name, "severity": "critical", "service": "pay"}})
		}
	}
	amA.CreateSilence(t, map[string]string{"alertname": "SilOnA"}, time.Hour, "alice", "on am-a only")
	amB.CreateSilence(t, map[string]string{"alertname": "SilOnB"}, time.Hour, "bob", "on am-b only")
	amA.CreateSilence(t, map[string]string{"alertname": "SilOnBoth"}, time.Hour, "carol", "on both")
	amB.CreateSilence(t, map[string]string{"alertname": "SilOnBoth"}, time.Hour, "carol", "on both")
	cfg := writeConfig(t, fmt.Sprintf("sources:\n  - {name: am-a, type: alertmanager, url: %s}\n  - {name: am-b, type: alertmanager, url: %s}\n",
		amA.URL, amB.URL))
	snap := pollUntil(t, cfg, "every silence seen", func(s *model.Snapshot) error {
		n := 0
		for _, sig := range s.Signals {
			n += int(sig.SilencedIn)
		}
		if len(s.Signals) != 3 || n != 4 {
			return fmt.Errorf("%d alerts, %d silenced rows", len(s.Signals), n)
		}
		return nil
	})

	assert.Equal(t, 2, snap.Counts.Firing, "SilOnA pages from am-b, SilOnB from am-a")
	assert.Equal(t, 1, snap.Counts.Silenced, "SilOnBoth only")
	for name, paging := range map[string]string{"SilOnA": "am-b", "SilOnB": "am-a"} {
		sig := signalNamed(snap, name)
		require.NotNil(t, sig, name)
		assert.Equal(t, model.StateFiring, sig.State, name)
		assert.True(t, sig.Disputed(), name)
		assert.Equal(t, []string{paging}, sig.Paging(), name)
	}
	both := signalNamed(snap, "SilOnBoth")
	assert.True(t, both.Silenced())
	assert.False(t, both.Disputed())
	pay := snap.Outage("pay")
	require.NotNil(t, pay)
	assert.False(t, pay.Silenced, "two of its alerts still page")

	h := uitest.Start(t, ui.Options{Operator: "noc1"}, 160, 48)
	h.Push(snap)
	h.Type("2")
	text := strings.Join(h.Text(), "\n")
	assert.Equal(t, 2, strings.Count(text, "SILENCED 1/2"), "\n%s", text)
	assert.Regexp(t, `2 firing · 2 critical · 1 silenced`, text)
	for i := 0; i < 5 && !selectedRowContains(h, "SilOnA"); i++ {
		h.Type("j")
	}
	require.True(t, selectedRowContains(h, "SilOnA"))
	h.Key(tcell.KeyEnter)
	text = strings.Join(h.Text(), "\n")
	assert.Regexp(t, `State +SILENCED 1/2`, text)
	assert.Regexp(t, `Still paging +from am-b: silenced on 1 of its 2 Alertmanagers only`, text)
	assert.True(t, slices.Equal(signalNamed(snap, "SilOnA").Sources, []string{"am-a", "am-b"}))
}

// The members of a clustered HA pair gossip their silences: a silence
// made on one is on both, so the pair never disagrees and the row reads
// SILENCED, counted as silenced.
func TestClusteredPairAgreesOnSilences(t *testing.T) {
	amA, amB := sourcetest.StartAlertmanagerPair(t)
	for _, am := range []*sourcetest.Server{amA, amB} {
		am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{
			"alertname": "SilOnA", "severity": "critical", "service": "pay"}})
	}
	amA.CreateSilence(t, map[string]string{"alertname": "SilOnA"}, time.Hour, "alice", "made on am-a")
	cfg := writeConfig(t, fmt.Sprintf("sources:\n  - {name: am-a, type: alertmanager, url: %s}\n  - {name: am-b, type: alertmanager, url: %s}\n",
		amA.URL, amB.URL))
	snap := pollUntil(t, cfg, "the silence gossiped to am-b", func(s *model.Snapshot) error {
		if len(s.Signals) != 1 || s.Signals[0].SilencedIn != 2 {
			return fmt.Errorf("%d alerts, counts %+v", len(s.Signals), s.Counts)
		}
		return nil
	})
	sig := snap.Signals[0]
	assert.True(t, sig.Silenced())
	assert.False(t, sig.Disputed())
	assert.Equal(t, 1, snap.Counts.Silenced)
	assert.Equal(t, 0, snap.Counts.Firing)

	h := uitest.Start(t, ui.Options{Operator: "noc1"}, 160, 48)
	h.Push(snap)
	h.Type("2")
	text := strings.Join(h.Text(), "\n")
	assert.Contains(t, text, "SILENCED")
	assert.NotContains(t, text, "SILENCED 1/2")
}
