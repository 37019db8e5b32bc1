package ui_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// The silence ids of silencesBoard.
const (
	silMaint   = "6a1f0c2e-silence" // change-mgmt's, covers DiskAlmostFull, ends next shift
	silPair    = "b7d2e4f1-9c3a-4e8b-a1d5-3f6e8c2b9a70"
	silPending = "c0ffee00-aaaa-bbbb-cccc-000000000001"
	silGone    = "dead0000-aaaa-bbbb-cccc-000000000002"
)

// silencesBoard is a board with four silences: one held by both members
// of a pair (recorded once per source), one pending, one expired ten
// minutes ago and change-mgmt's maintenance that ends during the next
// shift (15:00–23:00 UTC; fixedNow is 10:00).
func silencesBoard() *model.Board {
	b := newFakeActor(model.RoleTier1).board
	b.Silences = map[string]model.Silence{
		silMaint: {Source: "am-eu", ID: silMaint, CreatedBy: "change-mgmt", Comment: "CHG-4711 planned db maintenance",
			StartsAt: ago(50 * time.Minute), EndsAt: fixedNow.Add(6 * time.Hour), State: model.SilenceActive,
			Matchers: `{alertname="DiskAlmostFull", instance="db-3"}`},
		"am-eu/" + silPair: {Source: "am-eu", ID: silPair, CreatedBy: "alice", Comment: "checkout 5xx, rolling back " + hostileTag,
			StartsAt: ago(5 * time.Minute), EndsAt: fixedNow.Add(25 * time.Minute), State: model.SilenceActive, UpdatedAt: ago(5 * time.Minute),
			Matchers: `{alertname="HighErrorRate", service="checkout"}`},
		"am-us/" + silPair: {Source: "am-us", ID: silPair, CreatedBy: "alice", Comment: "checkout 5xx, rolling back " + hostileTag,
			StartsAt: ago(5 * time.Minute), EndsAt: fixedNow.Add(25 * time.Minute), State: model.SilenceActive, UpdatedAt: ago(5 * time.Minute),
			Matchers: `{alertname="HighErrorRate", service="checkout"}`},
		silPending: {Source: "am-us", ID: silPending, CreatedBy: "bob", Comment: "payments deploy window " + hostileOSC,
			StartsAt: fixedNow.Add(time.Hour), EndsAt: fixedNow.Add(3 * time.Hour), State: model.SilencePending,
			Matchers: `{service="payments"}`},
		silGone: {Source: "am-eu", ID: silGone, CreatedBy: "alice", Comment: "latency investigation",
			StartsAt: ago(2 * time.Hour), EndsAt: ago(10 * time.Minute), State: model.SilenceExpired,
			Matchers: `{alertname="LatencyHigh"}`},
	}
	return b
}

// startSilences runs the console with a's board holding silencesBoard and
// opens the silences view.
func startSilences(t *testing.T, a *fakeActor, w, h int) *uitest.Harness {
	t.Helper()
	hs := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Actor: a}, w, h)
	hs.Push(fixture())
	b := silencesBoard()
	a.mu.Lock()
	a.board = b
	a.mu.Unlock()
	a.publish(b)
	hs.Type("S")
	waitFor(t, hs, "Silences (4)")
	return hs
}

func TestSilencesViewGoldens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {200, 60}} {
		h := startSilences(t, newFakeActor(model.RoleTier1), size[0], size[1])
		uitest.Golden(t, fmt.Sprintf("silences-%dx%d", size[0], size[1]), h.Text())
	}
}

// The rows read ending soonest first, the expired last; the pair's
// silence is one row naming both members; the maintenance is marked as
// ending next shift and counts the one alert it silences now.
func TestSilencesViewOrderMergeAndMarks(t *testing.T) {
	h := startSilences(t, newFakeActor(model.RoleTier1), 200, 60)
	text := screen(h)
	order := []string{"checkout 5xx", "payments deploy", "CHG-4711", "latency investigation"}
	last := -1
	for _, s := range order {
		i := strings.Index(text, s)
		require.Greater(t, i, last, "%q out of order:\n%s", s, text)
		last = i
	}
	assert.Contains(t, text, "Silences (4) · 2 active · 1 pending · 1 expired · ending next shift: 1")
	assert.Contains(t, text, "am-eu,am-us", "the pair's silence names both members")
	assert.Equal(t, 1, strings.Count(text, "active  in 25m"), "one row for the pair's silence")
	line := lineWith(t, h, "CHG-4711")
	assert.Contains(t, line, "next shift")
	assert.Regexp(t, `in 6h00m\s+next shift\s+1 `, line, "ends in 6h, next shift, covers 1 alert")
	// The detail of the selected (first) silence.
	assert.Contains(t, text, "Silence   "+silPair+" on am-eu, am-us")
	h.Type("G")
	assert.Contains(t, screen(h), "until Thu 09:50 (10m ago)")
}

func lineWith(t *testing.T, h *uitest.Harness, sub string) string {
	t.Helper()
	for _, l := range h.Text() {
		if strings.Contains(l, sub) {
			return l
		}
	}
	t.Fatalf("no line with %q:\n%s", sub, screen(h))
	return ""
}

// / narrows the rows to those holding every word; Esc on the filter line
// clears it; Esc leaves the view, ? comes back to it.
func TestSilencesViewFilterHelpAndBack(t *testing.T) {
	h := startSilences(t, newFakeActor(model.RoleTier1), 120, 40)
	h.Type("/change db")
	h.Key(tcell.KeyEnter)
	text := screen(h)
	assert.Contains(t, text, "Silences 1 of 4 · change db")
	assert.NotContains(t, text, "payments deploy")
	h.Type("/")
	h.Key(tcell.KeyEscape)
	assert.Contains(t, screen(h), "Silences (4)")
	h.Type("?")
	assert.Contains(t, screen(h), "Help")
	h.Type("G")
	assert.Contains(t, screen(h), "expire the selected silence on every Alertmanager holding it")
	h.Key(tcell.KeyEscape)
	assert.Contains(t, screen(h), "Silences (4)", "closing help returns to the view")
	h.Key(tcell.KeyEscape)
	assert.Contains(t, screen(h), "1 Outages", "Esc goes back to the panels")
}

// Enter on a silence shows the alerts its matchers select.
func TestSilencesViewJumpsToItsAlerts(t *testing.T) {
	h := startSilences(t, newFakeActor(model.RoleTier1), 120, 40)
	h.Type("jj") // the maintenance
	h.Key(tcell.KeyEnter)
	text := screen(h)
	assert.Contains(t, text, `alertname=DiskAlmostFull instance=db-3`)
	assert.Contains(t, text, "DiskAlmostFull")
	assert.NotContains(t, text, "LatencyHigh")
	assert.Contains(t, text, "alerts matching silence 6a1f0c2e: 1 alert, 1 silenced by it now")
}

// x expires the selected silence after its form; a tier1 operator may
// expire only their own, a tier2 anyone's.
func TestSilencesViewExpireIsRoleGated(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := startSilences(t, a, 120, 40)
	h.Type("E") // alice's pair silence
	assert.Contains(t, screen(h), "Ends silence "+silPair)
	h.Type("rolled back")
	h.Key(tcell.KeyEnter)
	waitFor(t, h, "expire-silence recorded")
	reqs := a.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, model.VerbExpireSilence, reqs[0].Verb)
	assert.Equal(t, silPair, reqs[0].Silence.ID)
	assert.Equal(t, []string{"am-eu", "am-us"}, reqs[0].Silence.Sources)
	assert.Equal(t, "rolled back", reqs[0].Comment)
	assert.Contains(t, screen(h), "Silences (4)", "back in the view")

	h.Type("jj") // change-mgmt's
	h.Type("E")
	assert.Contains(t, screen(h), "expires only its own silences (this one is change-mgmt's; needs tier2)")
	assert.Len(t, a.requests(), 2, "the refusal is audited")
	assert.Equal(t, model.VerbExpireSilence, a.requests()[1].Verb)

	a2 := newFakeActor(model.RoleTier2)
	h2 := startSilences(t, a2, 120, 40)
	h2.Type("jjE")
	assert.Contains(t, screen(h2), "Ends silence "+silMaint+" (change-mgmt: CHG-4711")
	h2.Key(tcell.KeyEnter)
	waitFor(t, h2, "expire-silence recorded")
	assert.Equal(t, silMaint, a2.requests()[0].Silence.ID)
}

// + extends by the duration typed; the form says to when.
func TestSilencesViewExtend(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := startSilences(t, a, 120, 40)
	h.Type("jj+")
	assert.Contains(t, screen(h), "to 17:00 (+1h)")
	h.Key(tcell.KeyTab)
	h.Key(tcell.KeyCtrlU)
	h.Type("soon")
	h.Key(tcell.KeyEnter)
	assert.Contains(t, screen(h), "expiry: a duration such as 30m, 2h or 1h30m")
	h.Key(tcell.KeyCtrlU)
	h.Type("2h30m")
	assert.Contains(t, screen(h), "to 18:30 (+2h30m)")
	h.Key(tcell.KeyEnter)
	waitFor(t, h, "extend-silence recorded")
	r := a.requests()[0]
	assert.Equal(t, model.VerbExtendSilence, r.Verb)
	assert.Equal(t, silMaint, r.Silence.ID)
	assert.Equal(t, 150*time.Minute, r.Expiry)

	h.Type("G+") // the expired one
	assert.Contains(t, screen(h), "the silence has expired: make a new one (m on an alert)")
}

// m on an alert opens the matcher editor on its labels; the form counts
// what the matchers select as they are edited and refuses what
// Alertmanager would not take.
func TestNewSilenceFromAnAlert(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := startSilences(t, a, 120, 40)
	h.Key(tcell.KeyEscape)
	h.Type("m")
	assert.Contains(t, screen(h), "select an alert (2: alerts panel)")
	h.Type("2m") // the first alert: ReplicationLag, from Prometheus only
	assert.Contains(t, screen(h), "m: no Alertmanager holds this alert")
	h.Type("jm") // HighErrorRate, on am-eu and am-us
	text := screen(h)
	assert.Contains(t, text, `{alertname="HighErrorRate", env="prod", service="checkout", severity="critical"}`)
	assert.Contains(t, text, "Matches 1 alert open now (1 firing).")
	assert.Contains(t, text, "Created on am-eu, am-us until 12:00 (2h), as alice.")
	h.Key(tcell.KeyTab)
	h.Key(tcell.KeyCtrlU)
	h.Type(`{service="checkout", severity=~"crit.*|warn`)
	assert.Contains(t, screen(h), "Matchers do not parse")
	h.Key(tcell.KeyEnter)
	assert.Contains(t, screen(h), "matchers: ")
	h.Type(`ing"}`)
	assert.Contains(t, screen(h), "Matches 3 alerts open now (2 firing).")
	h.Key(tcell.KeyEnter)
	assert.Contains(t, screen(h), "a comment is required")
	h.Type("checkout rollback")
	h.Key(tcell.KeyEnter)
	waitFor(t, h, "create-silence recorded")
	r := a.requests()[0]
	assert.Equal(t, model.VerbCreateSilence, r.Verb)
	assert.Equal(t, `{service="checkout", severity=~"crit.*|warning"}`, r.Silence.Matchers)
	assert.Equal(t, []string{"am-eu", "am-us"}, r.Silence.Sources)
	assert.Equal(t, "checkout rollback", r.Comment)
	assert.Equal(t, 2*time.Hour, r.Expiry)
	assert.Equal(t, "checkout", r.Service)
}

// The view's keys are remappable like every other, and a read-only
// console has no acting keys in it.
func TestSilencesViewKeysRemapAndReadOnly(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Actor: a,
		Keys: map[string][]string{"silences": {"F2"}, "expire": {"X"}}}, 120, 40)
	h.Push(fixture())
	b := silencesBoard()
	a.publish(b)
	h.Key(tcell.KeyF2)
	waitFor(t, h, "Silences (4)")
	assert.Contains(t, screen(h), "X expire")
	h.Type("E")
	assert.NotContains(t, screen(h), "Expire silence", "E is no longer expire")
	h.Type("X")
	assert.Contains(t, screen(h), "Expire silence")

	n := 0
	for _, k := range ui.KeyHelp(true) {
		if k[0] == string(ui.ScopeSilences) {
			n++
			assert.False(t, strings.HasPrefix(k[2], "expire") || strings.HasPrefix(k[2], "extend"), "read-only keeps %v", k)
		}
	}
	assert.Positive(t, n, "a read-only console still has the view")
}
