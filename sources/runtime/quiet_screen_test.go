package runtime_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"sitroom/sources/runtime/bintest"
)

// fixedAlertmanager serves the same two alerts on every poll and counts
// the polls.
func fixedAlertmanager(t *testing.T, polls *atomic.Int64) *httptest.Server {
	started := time.Now().Add(-72 * time.Hour).UTC().Format(time.RFC3339)
	alert := func(name, sev, svc string) string {
		return fmt.Sprintf(`{"labels":{"alertname":%q,"severity":%q,"service":%q},"annotations":{"summary":"fixed"},`+
			`"startsAt":%q,"endsAt":"2999-01-01T00:00:00Z","updatedAt":%q,"fingerprint":"%x","generatorURL":"",`+
			`"status":{"state":"active","silencedBy":[],"inhibitedBy":[]},"receivers":[{"name":"x"}]}`, name, sev, svc, started, started, len(name))
	}
	body := "[" + alert("DiskFull", "critical", "checkout") + "," + alert("LatencyHigh", "warning", "payments") + "]"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v2/alerts":
			polls.Add(1)
			fmt.Fprint(w, body)
		case "/api/v2/silences":
			fmt.Fprint(w, "[]")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// alertmanagerConfig writes a config with one Alertmanager polled every
// second and returns its path.
func alertmanagerConfig(t *testing.T, url string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("sources:\n  - {name: am, type: alertmanager, url: '"+url+"', interval: 1s}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestQuietScreenSendsOnlyTheClock runs the built dashboard in a
// pseudo-terminal at 80×24 against an Alertmanager whose alerts never
// change, and counts the bytes written to the terminal over a quiet five
// seconds: polls of unchanged data send nothing, only the clock's second
// is redrawn, so the traffic stays under 200 bytes a second.
func TestQuietScreenSendsOnlyTheClock(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := bintest.Binary(t)
	var polls atomic.Int64
	am := fixedAlertmanager(t, &polls)
	dir := t.TempDir()
	r := bintest.StartInPTY(t, bin, 80, 24, []string{"TERM=xterm-256color"},
		"--config", alertmanagerConfig(t, am.URL), "--db", filepath.Join(dir, "cache.db"), "--log-file", filepath.Join(dir, "sitroom.log"))
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
