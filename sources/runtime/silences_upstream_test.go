package runtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/actions"
	"sitroom/sources/runtime"
	"sitroom/sources/sourcetest"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// The upstream is the truth for silences, and "acknowledged" has one
// meaning (issue 24, parts 1 and 4), against a real Alertmanager and
// amtool.

// upstreamConsole is a dashboard on the real runtime of one Alertmanager
// polled every second: its runtime, dispatcher and screen.
type upstreamConsole struct {
	rt   *runtime.Runtime
	d    *actions.Dispatcher
	h    *uitest.Harness
	opts runtime.Options
}

func startUpstreamConsole(t *testing.T, amURL string) *upstreamConsole {
	t.Helper()
	dir := t.TempDir()
	opts := runtime.Options{ConfigPath: alertmanagerConfig(t, amURL), DBPath: filepath.Join(dir, "cache.db"),
		LogFile: filepath.Join(dir, "log"), LogLevel: "debug"}
	ctx, cancel := context.WithCancel(context.Background())
	rt, err := runtime.Open(ctx, opts)
	require.NoError(t, err)
	d, err := rt.Dispatcher(false)
	require.NoError(t, err)
	feed := rt.Feed(d)
	done := make(chan struct{})
	go func() {
		defer close(done)
		rt.Run(ctx, d, feed, 0)
	}()
	h := uitest.Start(t, ui.Options{Feed: feed, Actor: d, Operator: d.Operator().User}, 240, 50)
	t.Cleanup(func() { cancel(); <-done; rt.Close() })
	return &upstreamConsole{rt: rt, d: d, h: h, opts: opts}
}

func (c *upstreamConsole) waitScreen(t *testing.T, timeout time.Duration, sub string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !c.h.Contains(sub) {
		if time.Now().After(deadline) {
			t.Fatalf("screen never showed %q:\n%s", sub, strings.Join(c.h.Text(), "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// selected is the highlighted line of the screen.
func (c *upstreamConsole) selected() string {
	var line string
	c.h.App.Inspect(func() {
		cells, w, hh := c.h.Screen.GetContents()
		for y := 3; y < hh; y++ {
			rev := 0
			for x := 0; x < w; x++ {
				if _, _, a := cells[y*w+x].Style.Decompose(); a&tcell.AttrReverse != 0 {
					rev++
				}
			}
			if rev > 20 {
				line = uitest.ScreenText(c.h.Screen)[y]
				return
			}
		}
	})
	return line
}

// report is the handoff of the last two hours, as `sitroom handoff --since
// 2h --format json` reads it from the cache.
func (c *upstreamConsole) report(t *testing.T) *model.Handoff {
	t.Helper()
	r, err := runtime.Report(c.opts, model.HandoffSpan{Since: 2 * time.Hour}, time.Now())
	require.NoError(t, err)
	b, err := r.JSON()
	require.NoError(t, err)
	var out model.Handoff
	require.NoError(t, json.Unmarshal(b, &out))
	out.Markdown() // the same report renders
	return &out
}

func amtool(t *testing.T, url string, args ...string) string {
	t.Helper()
	bin := sourcetest.RequireBinary(t, "amtool")
	out, err := exec.Command(bin, append([]string{"--alertmanager.url=" + url}, args...)...).CombinedOutput()
	require.NoError(t, err, "amtool %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

type amSilence struct {
	ID        string `json:"id"`
	Comment   string `json:"comment"`
	CreatedBy string `json:"createdBy"`
	Status    struct {
		State string `json:"state"`
	} `json:"status"`
}

func amSilences(t *testing.T, am *sourcetest.Server) []amSilence {
	t.Helper()
	var ss []amSilence
	require.NoError(t, json.Unmarshal(am.Get(t, "/api/v2/silences"), &ss))
	return ss
}

func outageIn(r *model.Handoff, svc string) *model.HandoffOutage {
	for i := range r.Outages {
		if r.Outages[i].Service == svc {
			return &r.Outages[i]
		}
	}
	return nil
}

// Ack db-main in sitroom, then expire its silence with amtool: within one
// poll the ack has ended — the row says so, `]` finds the outage, `a` is
// allowed again, the handoff says the ack ended upstream — and the outbox
// never makes the silence again.
func TestAckEndsWhenItsSilenceIsExpiredUpstream(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	sourcetest.RequireBinary(t, "amtool")
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": "DBDown", "service": "db-main", "severity": "critical"}})
	c := startUpstreamConsole(t, am.URL)
	c.waitScreen(t, 20*time.Second, "db-main")

	c.h.Type("a")
	c.waitScreen(t, 10*time.Second, "Acknowledge outage db-main")
	c.h.Type("failing over")
	c.h.Key(tcell.KeyEnter)
	var id string
	sourcetest.Eventually(t, 20*time.Second, 50*time.Millisecond, func() error {
		for _, s := range amSilences(t, am) {
			if s.Status.State == "active" && strings.Contains(s.Comment, "[sitroom action ") {
				id = s.ID
				return nil
			}
		}
		return fmt.Errorf("no silence from the ack yet")
	})
	c.waitScreen(t, 10*time.Second, "ACK ")
	// The Alertmanager now reports DBDown silenced; the screen follows.
	c.waitScreen(t, 10*time.Second, "1 silenced")

	expired := time.Now()
	amtool(t, am.URL, "silence", "expire", id)
	c.waitScreen(t, 10*time.Second, "ACK ENDED upstream")
	took := time.Since(expired)
	t.Logf("ack ended on screen %s after amtool silence expire (poll interval 1s)", took.Round(time.Millisecond))
	assert.Less(t, took, 4*time.Second, "within one poll, not a slower clock")

	b, err := c.d.Board()
	require.NoError(t, err)
	assert.Nil(t, b.AckOf("db-main"), "the ack no longer counts")
	require.NotNil(t, b.Ended["db-main"])
	assert.Equal(t, "silence expired", b.Ended["db-main"].Ended)

	c.h.Type("]")
	c.waitScreen(t, 5*time.Second, "unacked outage 1 of 1")
	assert.Contains(t, c.selected(), "db-main")
	c.h.Type("a")
	c.waitScreen(t, 5*time.Second, "Acknowledge outage db-main")
	c.h.Key(tcell.KeyEscape)

	r := c.report(t)
	o := outageIn(r, "db-main")
	require.NotNil(t, o, "db-main in the handoff")
	require.Len(t, o.AcksEnded, 1)
	assert.Equal(t, c.d.Operator().User, o.AcksEnded[0].By)
	assert.Contains(t, o.AcksEnded[0].Comment, "ended upstream: silence expired")
	assert.False(t, o.Acknowledged, "an ended ack is no ack")
	var kinds []string
	for _, e := range r.Timeline {
		kinds = append(kinds, e.Kind)
	}
	assert.Contains(t, kinds, model.EventAckEnded)

	// Nothing twice: polls go on, and the ack's silence is not made again.
	time.Sleep(3 * time.Second)
	n := 0
	for _, s := range amSilences(t, am) {
		if strings.Contains(s.Comment, "[sitroom action ") {
			n++
			assert.Equal(t, "expired", s.Status.State)
		}
	}
	assert.Equal(t, 1, n, "one silence, expired")
}

// An outage silenced by someone else (amtool, author change-mgmt, 2h) is
// acknowledged: the author is known in the same poll that reports the
// alert silenced, `]` passes the outage by, @acked keeps it, and the
// handoff lists the silence with author, comment, start and end, also
// among the silences expiring next.
func TestOutageSilencedBySomeoneElseIsAcknowledgedEverywhere(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	sourcetest.RequireBinary(t, "amtool")
	am.PostAlerts(t,
		sourcetest.PostableAlert{Labels: map[string]string{"alertname": "DBDown", "service": "db-main", "severity": "critical"}},
		sourcetest.PostableAlert{Labels: map[string]string{"alertname": "WebErrors", "service": "web", "severity": "critical"}})
	id := amtool(t, am.URL, "silence", "add", "alertname=DBDown", "--author=change-mgmt",
		"--comment=CHG-4711 planned db maintenance", "--duration=2h")
	sourcetest.Eventually(t, 10*time.Second, 50*time.Millisecond, func() error {
		var as []struct {
			Status struct{ SilencedBy []string } `json:"status"`
		}
		if err := json.Unmarshal(am.Get(t, "/api/v2/alerts?silenced=true"), &as); err != nil {
			return err
		}
		for _, a := range as {
			if len(a.Status.SilencedBy) > 0 {
				return nil
			}
		}
		return fmt.Errorf("the Alertmanager does not report DBDown silenced yet")
	})

	// One poll: the snapshot that shows DBDown silenced and the board
	// that names its author come from the same poll.
	dir := t.TempDir()
	ctx := context.Background()
	s := openRuntime(t, ctx, alertmanagerConfig(t, am.URL), filepath.Join(dir, "cache.db"), filepath.Join(dir, "log"))
	snap, d := observedPoll(t, ctx, s)
	b, err := d.Board()
	require.NoError(t, err)
	o := snap.Outage("db-main")
	require.NotNil(t, o)
	ack := model.NewAckView(snap, b).Outage(o)
	assert.True(t, ack.Acked, "acknowledged by the silence")
	require.Equal(t, []string{id}, ack.Silences)
	sil := b.Silences[id]
	assert.Equal(t, "change-mgmt", sil.CreatedBy, "the author, in the same poll")
	assert.Equal(t, "CHG-4711 planned db maintenance", sil.Comment)
	assert.Equal(t, model.SilenceActive, sil.State)
	assert.Equal(t, `{alertname="DBDown"}`, sil.Matchers)
	assert.InDelta(t, (2 * time.Hour).Seconds(), sil.EndsAt.Sub(sil.StartsAt).Seconds(), 1)

	// On screen.
	c := startUpstreamConsole(t, am.URL)
	c.waitScreen(t, 20*time.Second, "SILENCED change-mgmt")
	for range 2 {
		c.h.Type("]")
		assert.Contains(t, c.selected(), "web", "] passes the silenced outage by")
	}
	c.waitScreen(t, 5*time.Second, "unacked outage 1 of 1")
	c.h.Type("/@acked=true")
	c.h.Key(tcell.KeyEnter)
	c.waitScreen(t, 5*time.Second, "Outages 1 of 2 · @acked=true")
	assert.True(t, c.h.Contains("db-main") && !c.h.Contains("WebErrors"), "@acked=true keeps db-main only:\n%s",
		strings.Join(c.h.Text(), "\n"))

	r := c.report(t)
	ho := outageIn(r, "db-main")
	require.NotNil(t, ho, "db-main in the handoff")
	assert.True(t, ho.Acknowledged)
	require.Len(t, ho.Silences, 1)
	hs := ho.Silences[0]
	assert.Equal(t, "change-mgmt", hs.By)
	assert.Equal(t, "CHG-4711 planned db maintenance", hs.Comment)
	assert.Equal(t, id, hs.ID)
	assert.InDelta(t, (2 * time.Hour).Seconds(), hs.Ends.Sub(hs.Starts).Seconds(), 1)
	var expiring []model.ExpiringAck
	for _, e := range r.ExpiringSilences {
		if e.External {
			expiring = append(expiring, e)
		}
	}
	require.Len(t, expiring, 1, "silences expiring next include it")
	assert.Equal(t, "db-main", expiring[0].Service)
	assert.Equal(t, "change-mgmt", expiring[0].By)
	web := outageIn(r, "web")
	require.NotNil(t, web)
	assert.False(t, web.Acknowledged)
}
