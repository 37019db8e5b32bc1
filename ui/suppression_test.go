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

// suppressionFixture is what two Alertmanagers that do not share
// silences report (their replies' silencedBy and inhibitedBy, the
// fingerprints being the Alertmanager's own), with the silences the board
// read from them:
//   - NodeDown on n1 fires on both; an inhibit rule (equal: instance)
//     suppresses DBDown and DiskFull of n1 on both: INHIBITED;
//   - PaymentsErrors is silenced on am-a only and still pages from am-b:
//     SILENCED 1/2, counted as firing;
//   - CheckoutLatency is silenced on both by change-mgmt: SILENCED;
//   - SearchLag is silenced on both by a sitroom ack: ACK.
func suppressionFixture() (*model.Snapshot, *model.Board) {
	statuses := []model.SourceStatus{
		{Name: "am-a", Type: "alertmanager", LastAttempt: ago(2 * time.Second), LastSuccess: ago(2 * time.Second)},
		{Name: "am-b", Type: "alertmanager", LastAttempt: ago(3 * time.Second), LastSuccess: ago(3 * time.Second)},
	}
	node := map[string]string{"alertname": "NodeDown", "instance": "n1", "severity": "critical", "service": "node"}
	nodeFP := model.LabelsKey(model.LabelsFromMap(node), nil)
	search := map[string]string{"alertname": "SearchLag", "severity": "critical", "service": "search"}
	var rows []*model.AlertRow
	both := func(labels, ann map[string]string, started time.Duration, edit func(src string, r *model.AlertRow)) {
		for _, src := range []string{"am-a", "am-b"} {
			r := row(src, model.StateFiring, started, labels, ann)
			if edit != nil {
				edit(src, r)
			}
			rows = append(rows, r)
		}
	}
	inhibited := func(_ string, r *model.AlertRow) {
		r.State, r.Suppressed = model.StateSuppressed, model.Suppress(nil, []string{nodeFP})
	}
	both(node, map[string]string{"summary": "n1 unreachable for 2m"}, 9*time.Minute, nil)
	both(map[string]string{"alertname": "DBDown", "instance": "n1", "severity": "critical", "service": "db"},
		map[string]string{"summary": "postgres on n1 not answering"}, 8*time.Minute, inhibited)
	both(map[string]string{"alertname": "DiskFull", "instance": "n1", "severity": "critical", "service": "db"},
		map[string]string{"summary": "/var on n1 unreadable"}, 8*time.Minute, inhibited)
	both(map[string]string{"alertname": "PaymentsErrors", "severity": "critical", "service": "payments"},
		map[string]string{"summary": "payments 5xx ratio 12%"}, 20*time.Minute, func(src string, r *model.AlertRow) {
			if src == "am-a" {
				r.State, r.Suppressed = model.StateSuppressed, model.Suppress([]string{"a1f3c2d4-0001"}, nil)
			}
		})
	both(map[string]string{"alertname": "CheckoutLatency", "severity": "warning", "service": "checkout"},
		map[string]string{"summary": "checkout p99 3.2s"}, 40*time.Minute, func(src string, r *model.AlertRow) {
			r.State, r.Suppressed = model.StateSuppressed, model.Suppress([]string{map[string]string{"am-a": "a1f3c2d4-0002", "am-b": "b7e9d0c1-0002"}[src]}, nil)
		})
	both(search, map[string]string{"summary": "search index 25m behind"}, time.Hour, func(src string, r *model.AlertRow) {
		r.State, r.Suppressed = model.StateSuppressed, model.Suppress([]string{map[string]string{"am-a": "a1f3c2d4-0003", "am-b": "b7e9d0c1-0003"}[src]}, nil)
	})
	snap := model.BuildSnapshot(rows, statuses, model.SnapshotOptions{Now: fixedNow})
	sil := func(src, id, by, comment string, ends time.Duration) model.Silence {
		return model.Silence{Source: src, ID: id, CreatedBy: by, Comment: comment, StartsAt: ago(time.Hour),
			EndsAt: fixedNow.Add(ends), State: model.SilenceActive}
	}
	b := &model.Board{
		Acks: map[string]*model.Ack{"search": {Service: "search", By: "alice", At: ago(5 * time.Minute), Until: fixedNow.Add(time.Hour),
			AlertKeys: []string{model.LabelsKey(model.LabelsFromMap(search), nil)}, Comment: "reindexing"}},
		Lapsed: map[string]*model.Ack{}, Escalations: map[string]*model.Escalation{}, Deliveries: map[string]model.Deliveries{},
		Silences: map[string]model.Silence{
			"a1f3c2d4-0001": sil("am-a", "a1f3c2d4-0001", "bob", "deploying payments 4.2", 30*time.Minute),
			"a1f3c2d4-0002": sil("am-a", "a1f3c2d4-0002", "change-mgmt", "CHG-4711 planned db maintenance", 2*time.Hour),
			"b7e9d0c1-0002": sil("am-b", "b7e9d0c1-0002", "change-mgmt", "CHG-4711 planned db maintenance", 2*time.Hour),
			"a1f3c2d4-0003": sil("am-a", "a1f3c2d4-0003", "alice", "reindexing", time.Hour),
			"b7e9d0c1-0003": sil("am-b", "b7e9d0c1-0003", "alice", "reindexing", time.Hour),
		},
	}
	return snap, b
}

// startSuppression runs the dashboard on the fixture with its board, at
// w×h.
func startSuppression(t *testing.T, w, h int) *uitest.Harness {
	t.Helper()
	snap, b := suppressionFixture()
	a := &tableActor{pol: &model.Policy{Levels: []model.EscalationLevel{{Level: 1, Who: "NOC tier 1"}}}, ch: make(chan *model.Board, 1)}
	hs := uitest.Start(t, ui.Options{Actor: a, Operator: "alice", Now: func() time.Time { return fixedNow }}, w, h)
	a.ch <- b
	hs.Push(snap)
	waitFor(t, hs, "ACK 5m alice")
	return hs
}

func TestSuppressionModel(t *testing.T) {
	snap, _ := suppressionFixture()
	assert.Equal(t, model.Counts{Outages: 4, Firing: 2, Critical: 2, Suppressed: 4, Silenced: 2, Inhibited: 2}, snap.Counts,
		"PaymentsErrors pages from am-b, so it fires; DBDown and DiskFull are inhibited, not silenced")
	pay := snap.Outage("payments")
	require.NotNil(t, pay)
	assert.False(t, pay.Silenced)
	db := snap.Outage("db")
	require.NotNil(t, db)
	assert.Equal(t, "node", db.ProbableCause, "inhibited by NodeDown: a symptom of node")
	assert.Equal(t, []*model.Outage{db}, snap.Outage("node").Symptoms)
}

func TestSuppressionGoldens(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		h := startSuppression(t, sz[0], sz[1])
		name := fmt.Sprintf("suppression-%dx%d", sz[0], sz[1])
		uitest.Golden(t, name, h.Text())
		h.Type("2")
		uitest.Golden(t, name+"-alerts", h.Text())
	}
}

func TestSuppressionDetail(t *testing.T) {
	h := startSuppression(t, 80, 24)
	open := func(name string) {
		t.Helper()
		h.Key(tcell.KeyEscape)
		h.Type("/alertname=" + name)
		h.Key(tcell.KeyEnter)
		h.Type("2")
		h.Key(tcell.KeyEnter)
		require.True(t, h.Contains("Alert "+name), "detail of %s:\n%s", name, strings.Join(h.Text(), "\n"))
	}
	open("PaymentsErrors")
	uitest.Golden(t, "suppression-detail-disputed-80x24", h.Text())
	text := strings.Join(h.Text(), "\n")
	assert.Contains(t, text, "SILENCED 1/2")
	assert.Contains(t, text, "from am-b")
	assert.Contains(t, text, "bob until")

	h.Key(tcell.KeyEscape)
	open("CheckoutLatency")
	text = strings.Join(h.Text(), "\n")
	assert.Regexp(t, `Silenced by +change-mgmt until 12:00 \(in 2h00m\): CHG-4711 planned db[\s│]+maintenance · a1f3c2d4-0002 on am-a, b7e9d0c1-0002 on am-b`,
		text, "who silenced it, until when and why: one line for the silence made on both")

	h.Key(tcell.KeyEscape)
	open("DiskFull")
	uitest.Golden(t, "suppression-detail-inhibited-80x24", h.Text())
	assert.Regexp(t, `Inhibited by +NodeDown n1`, strings.Join(h.Text(), "\n"))
	h.Type("i")
	assert.True(t, h.Contains("Alert NodeDown"))
	assert.Regexp(t, `State +FIRING`, strings.Join(h.Text(), "\n"))
	h.Key(tcell.KeyEscape)
	assert.True(t, h.Contains("Alert DiskFull"), "Esc returns to the inhibited alert")
}
