package runtime_test

import (
	"bytes"
	"testing"
	"time"

	"sitroom/sources/runtime/bintest"
)

// TestQuietScreenSendsOnlyTheClock runs the built dashboard in a
// pseudo-terminal at 80×24 against an Alertmanager whose alerts never
// change, and counts the bytes written to the terminal over a quiet five
// seconds: polls of unchanged data send nothing, only the clock's second
// is redrawn, so the traffic stays under 200 bytes a second.
func TestQuietScreenSendsOnlyTheClock(t *testing.T) {
	bin := dashboardBinary(t)
	am, polls := fixedAlertmanager(t)
	r := startDashboard(t, bin, []string{"TERM=xterm-256color"}, alertmanagerConfig(t, am.URL))
	snapshot := r.Output
	r.WaitFor(t, "checkout", 30*time.Second)
	time.Sleep(2 * time.Second) // the first frame and the first polls settle

	before, pollsBefore := len(snapshot()), polls.Load()
	const quiet = 5 * time.Second
	time.Sleep(quiet)
	all := snapshot()
	sent := all[before:]
	pollsDuring := polls.Load() - pollsBefore

	if pollsDuring < 2 {
		t.Fatalf("only %d polls in %v: the quiet interval did not exercise unchanged polls", pollsDuring, quiet)
	}
	if limit := 5 * 200; len(sent) >= limit {
		t.Errorf("%d bytes sent to the terminal over a quiet %v with %d unchanged polls (limit %d, the clock's redraws); the first of them:\n%q", len(sent), quiet, pollsDuring, limit, sent[:min(len(sent), 2000)])
	}
	if len(sent) == 0 {
		t.Errorf("nothing sent over %v: the clock did not tick", quiet)
	}
	// Every frame sent carries a change (a cursor move to the cell that
	// changed): a poll of unchanged data sends no empty frame.
	for i, frame := range bytes.Split(sent, []byte("\x1b[?2026h"))[1:] {
		if !bintest.CursorMove.Match(frame) {
			t.Errorf("frame %d of the quiet interval changes nothing: %q", i, frame)
		}
	}
	t.Logf("%d bytes over a quiet %v (%d unchanged polls): %q", len(sent), quiet, pollsDuring, sent)
}
