package ui_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// fakeDetailer answers AlertAnnotations when the test releases it.
type fakeDetailer struct {
	asked   chan []string
	release chan struct{}
	l       model.Labels
	err     error
}

func (f *fakeDetailer) AlertAnnotations(_ context.Context, key string, sources []string) (model.Labels, error) {
	f.asked <- append([]string{key}, sources...)
	<-f.release
	return f.l, f.err
}

// The snapshot holds only an alert's summary and runbook; its detail
// reads the rest through the AlertDetailer, off the UI goroutine: the
// detail opens at once with "loading…" where the annotations go, and
// shows them (inert) when the read returns.
func TestAlertDetailReadsItsAnnotationsLater(t *testing.T) {
	full := model.LabelsFromMap(map[string]string{
		"summary":     "replica 45s behind primary",
		"runbook_url": "https://rb.example/lag",
		"description": "lag \x1b]0;pwned\x07 [red]grows[-] since the vacuum",
	})
	rows := []*model.AlertRow{row("prom", model.StateFiring, 2*time.Hour,
		map[string]string{"alertname": "ReplicationLag", "severity": "critical", "service": "db-main"}, nil)}
	rows[0].Annotations = model.ShownAnnotations(full)
	snap := model.BuildSnapshot(rows, []model.SourceStatus{{Name: "prom", LastAttempt: fixedNow, LastSuccess: fixedNow}},
		model.SnapshotOptions{Now: fixedNow})

	f := &fakeDetailer{asked: make(chan []string, 1), release: make(chan struct{}), l: full}
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, AlertDetail: f}, 120, 40)
	h.Push(snap)
	h.App.InjectKey(tcell.NewEventKey(tcell.KeyRune, '2', tcell.ModNone))
	h.App.InjectKey(tcell.NewEventKey(tcell.KeyEnter, 0, tcell.ModNone))
	if got := <-f.asked; strings.Join(got, " ") != rows[0].Key+" prom" {
		t.Fatalf("asked for %q", got)
	}
	deadline := time.Now().Add(uitest.Timeout)
	for !h.Contains("loading…") || !h.Contains("Alert ReplicationLag") {
		if time.Now().After(deadline) {
			t.Fatalf("the detail did not open while the read had not returned:\n%s", screen(h))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if h.Contains("vacuum") {
		t.Fatalf("annotations shown before they were read:\n%s", screen(h))
	}
	close(f.release)
	h.WaitIdle()
	text := screen(h)
	if h.Contains("loading…") || !strings.Contains(text, "Annotations (3)") || !strings.Contains(text, "[red]grows[-] since the vacuum") {
		t.Fatalf("the annotations did not replace loading… when read:\n%s", text)
	}
	if strings.ContainsRune(text, 0x1b) {
		t.Fatalf("an annotation reached the screen raw:\n%s", text)
	}

	// Closed and opened again, the detail reads them again; a failed read
	// says why in words.
	h.Key(tcell.KeyEscape)
	f.release, f.err, f.l = make(chan struct{}), errors.New("read alert: database is locked"), model.Labels{}
	close(f.release)
	h.Key(tcell.KeyEnter)
	<-f.asked
	h.WaitIdle()
	if !h.Contains("cannot read them: read alert: database is locked") || h.Contains("loading…") {
		t.Fatalf("a failed read does not say why:\n%s", screen(h))
	}
	if !h.Contains("https://rb.example/lag") {
		t.Fatalf("the runbook the snapshot holds is not shown:\n%s", screen(h))
	}
}
