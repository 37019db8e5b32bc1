package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// acknowledgedSnapshot has two outages: db-main, both alerts silenced
// upstream by silence x1, and web, firing.
func acknowledgedSnapshot() *model.Snapshot {
	lbl := func(name, svc string) map[string]string {
		return map[string]string{"alertname": name, "severity": "critical", "service": svc}
	}
	return model.BuildSnapshot([]*model.AlertRow{
		row("am-eu", model.StateSuppressed, 3*time.Hour, lbl("DBDown", "db-main"), nil, "x1"),
		row("am-eu", model.StateSuppressed, 3*time.Hour, lbl("DBReplicaLag", "db-main"), nil, "x1"),
		row("am-eu", model.StateFiring, 2*time.Hour, lbl("WebErrors", "web"), nil),
	}, []model.SourceStatus{{Name: "am-eu", LastAttempt: fixedNow, LastSuccess: fixedNow}}, model.SnapshotOptions{Now: fixedNow})
}

// An outage someone else silenced upstream is acknowledged, the one
// meaning: the row names the silence's author, `]` passes it by, @acked
// keeps it, and its detail says who, why and until when.
func TestOutageSilencedBySomeoneElseIsAcknowledged(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := startActing(t, a, false)
	b := a.copyBoard()
	b.Silences = map[string]model.Silence{"x1": {Source: "am-eu", ID: "x1", CreatedBy: "change-mgmt",
		Comment: "CHG-4711 planned db maintenance", StartsAt: fixedNow.Add(-time.Hour), EndsAt: fixedNow.Add(time.Hour),
		State: model.SilenceActive}}
	a.publish(b)
	h.Push(acknowledgedSnapshot())
	waitFor(t, h, "SILENCED change-mgmt")

	for range 2 {
		h.Type("]")
		if sel := selectedLine(t, h); !strings.Contains(sel, "web") {
			t.Fatalf("] selects %q, want only the unacked web:\n%s", sel, screen(h))
		}
	}
	waitFor(t, h, "unacked outage 1 of 1")

	h.Type("/@acked=true")
	h.Key(tcell.KeyEnter)
	waitFor(t, h, "Outages 1 of 2 · @acked=true")
	if !h.Contains("db-main") || h.Contains("WebErrors") {
		t.Fatalf("@acked=true should keep db-main only:\n%s", screen(h))
	}
	h.Type("2")
	h.Key(tcell.KeyEnter)
	waitFor(t, h, "acknowledged upstream by change-mgmt")
	waitFor(t, h, "CHG-4711 planned db maintenance")
}

// An ack whose silence ended upstream no longer counts: the row says the
// ack ended, `]` finds the outage, the detail says why and `a` acks again.
func TestAckEndedUpstreamCountsAsUnacknowledged(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := startActing(t, a, false)
	b := a.copyBoard()
	b.Ended = map[string]*model.Ack{"db-main": {Service: "db-main", By: "root", At: fixedNow.Add(-10 * time.Minute),
		Until: fixedNow.Add(time.Hour), Ended: "silence expired by change-mgmt", EndedAt: fixedNow.Add(-time.Minute)}}
	a.publish(b)
	// The silence is gone: db-main fires again.
	snap := model.BuildSnapshot([]*model.AlertRow{
		row("am-eu", model.StateFiring, 3*time.Hour, map[string]string{"alertname": "DBDown", "severity": "critical", "service": "db-main"}, nil),
		row("am-eu", model.StateFiring, 2*time.Hour, map[string]string{"alertname": "WebErrors", "severity": "critical", "service": "web"}, nil),
	}, []model.SourceStatus{{Name: "am-eu", LastAttempt: fixedNow, LastSuccess: fixedNow}}, model.SnapshotOptions{Now: fixedNow})
	h.Push(snap)
	waitFor(t, h, "ACK ENDED upstream")

	seen := map[string]bool{}
	for range 2 {
		h.Type("]")
		sel := selectedLine(t, h)
		for _, svc := range []string{"db-main", "web"} {
			if strings.Contains(sel, svc) {
				seen[svc] = true
			}
		}
	}
	if !seen["db-main"] || !seen["web"] {
		t.Fatalf("] should visit both unacked outages, saw %v:\n%s", seen, screen(h))
	}
	for !strings.Contains(selectedLine(t, h), "db-main") {
		h.Type("]")
	}
	h.Type("2")
	for !strings.Contains(selectedLine(t, h), "DBDown") {
		h.Type("j")
	}
	h.Key(tcell.KeyEnter)
	waitFor(t, h, "ACK ENDED upstream: silence expired by change-mgmt")
	h.Type("q1")
	for !strings.Contains(selectedLine(t, h), "db-main") {
		h.Type("]")
	}
	h.Type("a")
	waitFor(t, h, "Acknowledge outage db-main")
}
