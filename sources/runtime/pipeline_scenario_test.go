package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/model/config"
	"sitroom/sources"
	"sitroom/sources/runtime"
	"sitroom/sources/runtime/bintest"
	"sitroom/sources/sourcetest"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// joinRules holds JoinBroken, a checkout rule, with the expression expr.
func joinRules(expr string) string {
	return `groups:
  - name: pipeline
    interval: 1s
    rules:
      - alert: JoinBroken
        expr: ` + expr + `
        labels: {severity: critical, service: checkout}
      - alert: AlwaysFiring
        expr: vector(1)
        labels: {severity: warning}
`
}

// brokenJoin fails at every evaluation on Prometheus 2.42: a one-to-many
// join whose "one" side has two series.
const brokenJoin = `vector(1) * on() group_left() (label_replace(vector(1), "a", "x", "", "") or label_replace(vector(2), "a", "y", "", ""))`

// frozenPrometheus is a real Prometheus in the state an SRE finds it in
// after two bad changes: JoinBroken fired, then its rule was changed into
// one that fails at every evaluation (its alert stays frozen as firing in
// /api/v1/alerts), then a reload of an unparsable rules file failed.
func frozenPrometheus(t *testing.T) *sourcetest.Server {
	t.Helper()
	rules := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(rules, []byte(joinRules("vector(1)")), 0o600))
	srv := sourcetest.StartPrometheus(t, []string{rules})
	sourcetest.Eventually(t, 20*time.Second, 200*time.Millisecond, func() error {
		if !strings.Contains(string(srv.Get(t, "/api/v1/alerts")), `"alertname":"JoinBroken"`) {
			return fmt.Errorf("JoinBroken does not fire yet")
		}
		return nil
	})
	require.NoError(t, os.WriteFile(rules, []byte(joinRules(brokenJoin)), 0o600))
	require.NoError(t, srv.Reload(t))
	sourcetest.Eventually(t, 20*time.Second, 200*time.Millisecond, func() error {
		if !strings.Contains(string(srv.Get(t, "/api/v1/rules")), `"health":"err"`) {
			return fmt.Errorf("the rule has not failed yet")
		}
		return nil
	})
	require.NoError(t, os.WriteFile(rules, []byte("groups: [\n"), 0o600))
	require.Error(t, srv.Reload(t), "an unparsable rules file fails the reload")
	require.Contains(t, string(srv.Get(t, "/api/v1/alerts")), `"alertname":"JoinBroken"`,
		"the failing rule's alert stays in Prometheus' alerts, frozen")
	return srv
}

// A failing rule and a failed reload on a real Prometheus, as a NOC sees
// them: the chip degraded with why, the frozen alert marked FIRING?, the
// failing rule group an outage of the pipeline that names what it leaves
// unwatched and can be acknowledged, and the shift's handoff saying what
// degraded since when.
func TestPipelineOnScreenAndInTheHandoff(t *testing.T) {
	srv := frozenPrometheus(t)
	c := startConsole(t, fmt.Sprintf(`sources:
  - {name: prom, type: prometheus, url: %s, interval: 1s}
services:
  - {name: checkout, match: ['service="checkout"'], owner: team-web}
`, srv.URL))
	snap := c.waitFor(t, 30*time.Second, "a pipeline outage", func(s *model.Snapshot) bool {
		return s.Outage("prom/pipeline rules") != nil
	})
	po := snap.Outage("prom/pipeline rules")
	assert.True(t, po.Pipeline)
	assert.Equal(t, []string{"checkout"}, po.Blinds)
	assert.Equal(t, model.SevCritical, po.Severity, "a rule watching for critical alerts is blind")
	var frozen *model.Signal
	for _, s := range snap.Signals {
		if s.Name() == "JoinBroken" {
			frozen = s
		}
	}
	require.NotNil(t, frozen, "the frozen alert is still shown")
	assert.False(t, frozen.RuleFailingSince().IsZero(), "marked: its rule fails")
	assert.Contains(t, frozen.RuleFailing.Error, "duplicate series")
	for _, s := range snap.Signals {
		if s.Name() == "AlwaysFiring" {
			assert.True(t, s.RuleFailingSince().IsZero(), "an alert of a working rule is not marked")
		}
	}
	require.Len(t, snap.Sources, 1)
	assert.Regexp(t, `^1 rule failing; config reload failed \d+s ago$`, snap.Sources[0].PipelineReason(time.Now()))

	// On screen, at 200x60: the chip, the pipeline outage, the mark.
	s := uitest.NewScreen(t, 200, 60)
	ui.DrawPanel(s, ui.PanelHeader, snap, ui.DrawOptions{Now: time.Now(), Operator: "noc1"})
	header := strings.Join(uitest.ScreenText(s), "\n")
	assert.Contains(t, header, "prom degraded: 1 rule failing; config reload failed")
	s = uitest.NewScreen(t, 200, 60)
	ui.DrawPanel(s, ui.PanelOutages, snap, ui.DrawOptions{Now: time.Now(), Operator: "noc1"})
	outages := strings.Join(uitest.ScreenText(s), "\n")
	assert.Regexp(t, `CRIT prom/pipeline rules +\S+ 1 +prom +\(pipeline\)`, outages)
	s = uitest.NewScreen(t, 200, 60)
	ui.DrawPanel(s, ui.PanelAlerts, snap, ui.DrawOptions{Now: time.Now(), Operator: "noc1"})
	alerts := strings.Join(uitest.ScreenText(s), "\n")
	assert.Regexp(t, `FIRING\? +\S+ JoinBroken +checkout +prom +rule failing since \d\d:\d\d · `, alerts)
	assert.Regexp(t, `FIRING +\S+ AlwaysFiring`, alerts)

	// The pipeline outage is acknowledged like any outage.
	d := dispatcher(t, c.rt)
	d.Observe(snap)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := d.Do(ctx, model.ActionRequest{Verb: model.VerbAck, Service: po.Service, AlertKeys: po.Keys, Comment: "rules fix in review"})
	require.NoError(t, err)
	assert.Equal(t, model.ActionDelivered, res.State, res.Message)
	b, err := d.Board()
	require.NoError(t, err)
	require.NotNil(t, b.AckOf(po.Service), "acked")

	// The handoff says what degraded, since when, and lists the outage.
	r := c.report(t)
	var whats []string
	for _, p := range r.Pipeline {
		assert.Equal(t, "prom", p.Source)
		assert.Nil(t, p.Ended, "still degraded")
		whats = append(whats, p.What)
	}
	assert.ElementsMatch(t, []string{"rule pipeline/JoinBroken failing", "config reload failed"}, whats)
	var services []string
	for _, o := range r.Outages {
		services = append(services, o.Service)
	}
	assert.Contains(t, services, "prom/pipeline rules")
}

// An Alertmanager HA pair whose member b was restarted without its
// --cluster.peer (a gossip split: silences made on one no longer reach
// the other), as the console polling it records it: its chip degraded
// with why, `sitroom check` on the same cache failing with the split, and
// the handoff saying since when.
func TestClusterSplitOnScreenInCheckAndInTheHandoff(t *testing.T) {
	a, b := sourcetest.StartAlertmanagerPair(t)
	body := fmt.Sprintf("sources:\n  - {name: am-a, type: alertmanager, url: %s}\n  - {name: am-b, type: alertmanager, url: %s}\n", a.URL, b.URL)
	cfgPath := writeConfig(t, body)
	cfg, err := config.Load(cfgPath)
	require.NoError(t, err)
	db := filepath.Join(t.TempDir(), "cache.db")
	c, err := cache.Open(db)
	require.NoError(t, err)
	defer c.Close()
	clock := &stepClock{t: time.Now()}
	p := configPoller(t, c, cfg, sources.PollerOptions{Now: clock.Now})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, p.PollOnce(ctx), "both members healthy: each sees 2 peers")
	snap, err := p.Snapshot()
	require.NoError(t, err)
	for _, st := range snap.Sources {
		require.Empty(t, st.Findings, "%s: a healthy pair", st.Name)
	}

	b.RestartWithoutPeers(t)
	sourcetest.Eventually(t, 20*time.Second, 200*time.Millisecond, func() error {
		if !strings.Contains(string(b.Get(t, "/api/v2/status")), `"peers":[{`) {
			return fmt.Errorf("am-b not up yet")
		}
		return nil
	})
	var reason string
	sourcetest.Eventually(t, 20*time.Second, 500*time.Millisecond, func() error {
		clock.Set(clock.Now().Add(sources.HealthEvery + time.Second)) // the next health read is due
		if err := p.PollOnce(ctx); err != nil {
			return err
		}
		snap, err = p.Snapshot()
		if err != nil {
			return err
		}
		for _, st := range snap.Sources {
			if st.Name == "am-b" {
				reason = st.PipelineReason(clock.Now())
			}
		}
		if reason == "" {
			return fmt.Errorf("am-b not found split yet")
		}
		return nil
	})
	assert.Equal(t, "cluster split (1 of 2 peers)", reason)

	s := uitest.NewScreen(t, 200, 60)
	ui.DrawPanel(s, ui.PanelHeader, snap, ui.DrawOptions{Now: clock.Now(), Operator: "noc1"})
	assert.Contains(t, strings.Join(uitest.ScreenText(s), "\n"), "am-b degraded: cluster split (1 of 2 peers)")

	logf := filepath.Join(t.TempDir(), "log")
	code, out, errOut := bintest.Run(t, "check", "--config", cfgPath, "--db", db, "--log-file", logf)
	assert.NotEqual(t, 0, code, out+errOut)
	assert.Contains(t, out, "cluster split (1 of 2 peers)")
	code, out, errOut = bintest.Run(t, "check", "--warn-only", "--config", cfgPath, "--db", db, "--log-file", logf)
	assert.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "cluster split (1 of 2 peers)")

	r, err := runtime.Report(runtime.Options{ConfigPath: cfgPath, DBPath: db}, model.HandoffSpan{Since: time.Hour}, clock.Now().Add(time.Second))
	require.NoError(t, err)
	var split []model.HandoffPipeline
	for _, e := range r.Pipeline {
		if e.Source == "am-b" && e.Kind == "cluster" {
			split = append(split, e)
		}
	}
	require.Len(t, split, 1, "%+v", r.Pipeline)
	assert.Equal(t, "cluster split (1 of 2 peers)", split[0].What)
	assert.Nil(t, split[0].Ended, "still split")
}

// A real Prometheus whose alerting config names an Alertmanager that is
// down (am-b in the config, so named): the console's health reads see its
// notification errors rise, the chip says "prom degraded: am-b not
// receiving", `sitroom check` on the same cache fails with it, and the
// handoff lists it.
func TestUndeliverableAlertmanagerOnScreenInCheckAndInTheHandoff(t *testing.T) {
	down := fmt.Sprintf("http://127.0.0.1:%d", sourcetest.FreePort(t))
	rules := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(rules, []byte(joinRules("vector(1)")), 0o600))
	srv := sourcetest.StartPrometheus(t, []string{rules}, down)
	body := fmt.Sprintf("sources:\n  - {name: prom, type: prometheus, url: %s}\n  - {name: am-b, type: alertmanager, url: %s}\n", srv.URL, down)
	cfgPath := writeConfig(t, body)
	cfg, err := config.Load(cfgPath)
	require.NoError(t, err)
	db := filepath.Join(t.TempDir(), "cache.db")
	c, err := cache.Open(db)
	require.NoError(t, err)
	defer c.Close()
	clock := &stepClock{t: time.Now()}
	p := configPoller(t, c, cfg, sources.PollerOptions{Now: clock.Now})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var snap *model.Snapshot
	var reason string
	sourcetest.Eventually(t, 30*time.Second, time.Second, func() error {
		_ = p.PollOnce(ctx) // am-b is down: that poll fails, prom's does not
		clock.Set(clock.Now().Add(sources.HealthEvery + time.Second))
		if snap, err = p.Snapshot(); err != nil {
			return err
		}
		for _, st := range snap.Sources {
			if st.Name == "prom" {
				reason = st.PipelineReason(clock.Now())
			}
		}
		// A Prometheus just started may first report alerts dropped
		// before it found its Alertmanagers: wait for the trend.
		if reason != "am-b not receiving" {
			return fmt.Errorf("prom not found sending to am-b in vain yet: %q", reason)
		}
		return nil
	})

	s := uitest.NewScreen(t, 200, 60)
	ui.DrawPanel(s, ui.PanelHeader, snap, ui.DrawOptions{Now: clock.Now(), Operator: "noc1"})
	header := strings.Join(uitest.ScreenText(s), "\n")
	assert.Contains(t, header, "prom degraded: am-b not receiving")
	assert.Contains(t, header, "am-b down")

	logf := filepath.Join(t.TempDir(), "log")
	code, out, errOut := bintest.Run(t, "check", "--config", cfgPath, "--db", db, "--log-file", logf)
	assert.NotEqual(t, 0, code, out+errOut)
	assert.Contains(t, out, "am-b not receiving")

	r, err := runtime.Report(runtime.Options{ConfigPath: cfgPath, DBPath: db}, model.HandoffSpan{Since: time.Hour}, clock.Now().Add(time.Second))
	require.NoError(t, err)
	var whats []string
	for _, e := range r.Pipeline {
		whats = append(whats, e.Source+": "+e.What)
	}
	assert.Contains(t, whats, "prom: am-b not receiving")
}
