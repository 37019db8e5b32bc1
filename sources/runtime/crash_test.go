package runtime_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/sources/alertmanager"
	"sitroom/sources/runtime/bintest"
	"sitroom/sources/sourcetest"
)

// Crash safety: the real binary, killed with SIGKILL while it writes a
// poll and while it delivers an ack, then started again.

// A cache file that is not SQLite: the binary moves it aside, says so on
// stderr and in the log, and works on a fresh cache.
func TestBinaryMovesAForeignCacheAside(t *testing.T) {
	cfg, db, logf := diskFullConfig(t)
	notes := []byte("shift notes the operator saved over the cache by mistake\n")
	require.NoError(t, os.WriteFile(db, notes, 0o600))

	code, out, errOut := bintest.Run(t, "poll", "--once", "--config", cfg, "--db", db, "--log-file", logf)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "1 firing")
	moved, _ := filepath.Glob(db + ".corrupt-*")
	require.Len(t, moved, 1)
	got, err := os.ReadFile(moved[0])
	require.NoError(t, err)
	assert.Equal(t, notes, got, "the file is kept, byte for byte")
	assert.Equal(t, 1, strings.Count(errOut, "moved aside"), errOut)
	assert.Contains(t, errOut, db+" is not a SQLite database")
	assert.Contains(t, errOut, moved[0])
	logText, err := os.ReadFile(logf)
	require.NoError(t, err)
	assert.Contains(t, string(logText), "cache moved aside")

	code, _, errOut = bintest.Run(t, "poll", "--once", "--config", cfg, "--db", db, "--log-file", logf)
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, errOut, "moved aside", "the fresh cache is used as it is")
}

// walStamp is the size and modification time of a file ("" when absent).
func walStamp(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d/%d", fi.Size(), fi.ModTime().UnixNano())
}

// generations reads the cache and returns how many open rows carry each
// generation, their summary (what the cache holds of their annotations).
func generations(t *testing.T, db string) map[string]int {
	t.Helper()
	c, err := cache.Open(db)
	require.NoError(t, err, "the cache opens after the kill")
	defer c.Close()
	rows, _, err := c.Load()
	require.NoError(t, err)
	gens := map[string]int{}
	for _, r := range rows {
		gens[r.Annotations.Get("summary")]++
	}
	return gens
}

// kill -9 while a poll is being written: the cache opens, holds exactly
// what was committed (the whole previous poll or the whole new one, never
// a mix), and the next poll --once completes it.
func TestKillDuringIngestLosesNothingCommitted(t *testing.T) {
	const n = 3000
	am := sourcetest.StartAlertmanager(t)
	post := func(gen int) {
		pad := strings.Repeat(fmt.Sprintf("g%d", gen), 300)
		alerts := make([]sourcetest.PostableAlert, n)
		for i := range alerts {
			alerts[i] = sourcetest.PostableAlert{
				Labels:      map[string]string{"alertname": fmt.Sprintf("Big%04d", i), "severity": "warning", "service": "bulk"},
				Annotations: map[string]string{"summary": fmt.Sprint(gen), "description": pad},
			}
		}
		am.PostAlerts(t, alerts...)
	}
	dir := t.TempDir()
	cfg := writeConfig(t, fmt.Sprintf("sources:\n  - {name: am, type: alertmanager, url: %s, timeout: 10s, interval: 10s}\n", am.URL))
	db, logf := filepath.Join(dir, "cache.db"), filepath.Join(dir, "log")
	bin := bintest.Binary(t)
	midWrite := 0
	for gen := 1; gen <= 4; gen++ {
		post(gen)
		before := walStamp(db + "-wal")
		cmd := exec.Command(bin, "poll", "--once", "--config", cfg, "--db", db, "--log-file", logf)
		require.NoError(t, cmd.Start())
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		killed := false
		deadline := time.After(15 * time.Second)
	watch:
		for {
			select {
			case <-exited:
				break watch
			case <-deadline:
				t.Fatal("the poll never wrote to the cache")
			default:
			}
			if walStamp(db+"-wal") != before {
				// The transaction is writing pages: kill it a moment later.
				time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
				killed = cmd.Process.Signal(syscall.SIGKILL) == nil
				<-exited
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
		gens := generations(t, db)
		prev, cur := fmt.Sprint(gen-1), fmt.Sprint(gen)
		switch {
		case gens[cur] == n && len(gens) == 1:
			// the poll committed before the kill
		case gen == 1 && len(gens) == 0, gens[prev] == n && len(gens) == 1:
			midWrite++ // killed before the commit: the previous poll is intact
		default:
			t.Fatalf("generation %d, killed=%v: the cache holds a mix %v; a poll must be written whole or not at all", gen, killed, gens)
		}
		code, out, errOut := bintest.Run(t, "poll", "--once", "--config", cfg, "--db", db, "--log-file", logf)
		require.Equal(t, 0, code, out+errOut)
		assert.NotContains(t, errOut, "moved aside", "a killed write never corrupts the cache")
		assert.Equal(t, map[string]int{cur: n}, generations(t, db), "the restarted poll completes generation %d", gen)
	}
	t.Logf("%d of 4 kills landed before the poll's commit", midWrite)
	assert.Positive(t, midWrite, "at least one kill must land inside the write transaction for this test to mean anything")
	moved, _ := filepath.Glob(db + ".corrupt-*")
	assert.Empty(t, moved)
}

// holdProxy stands in front of an Alertmanager and holds the first silence
// POST until its client goes away; then it forwards that POST anyway (the
// Alertmanager took the silence, the reply was lost with the process).
type holdProxy struct {
	srv       *httptest.Server
	held      chan struct{} // closed when the first POST is held
	forwarded chan struct{} // closed when it reached the Alertmanager
	posts     atomic.Int32
}

func newHoldProxy(t *testing.T, target string) *holdProxy {
	u, err := url.Parse(target)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &holdProxy{held: make(chan struct{}), forwarded: make(chan struct{})}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/api/v2/silences") || p.posts.Add(1) != 1 {
			rp.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		close(p.held)
		<-r.Context().Done()
		resp, err := http.Post(target+r.URL.Path, "application/json", bytes.NewReader(body))
		if err == nil {
			resp.Body.Close()
		}
		close(p.forwarded)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// killPollerMidPost starts the headless poller on cfg and db, kills it
// with SIGKILL while p holds its first silence POST, and waits for p to
// forward that POST: the Alertmanager took the silence, the reply was
// lost with the process.
func (p *holdProxy) killPollerMidPost(t *testing.T, cfg, db, logf string) {
	t.Helper()
	cmd := exec.Command(bintest.Binary(t), "poll", "--config", cfg, "--db", db, "--log-file", logf)
	require.NoError(t, cmd.Start())
	select {
	case <-p.held:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the poller never posted a silence")
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	select {
	case <-p.forwarded:
	case <-time.After(10 * time.Second):
		t.Fatal("the held POST was never forwarded")
	}
}

// kill -9 while an ack's silence is in flight: the next start delivers
// what was left, and each alert ends up with exactly one silence.
func TestKillDuringOutboxDeliveryDeliversOnce(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t,
		sourcetest.PostableAlert{Labels: map[string]string{"alertname": "PayErrors", "severity": "critical", "service": "payments"}},
		sourcetest.PostableAlert{Labels: map[string]string{"alertname": "WebDown", "severity": "critical", "service": "web"}})
	proxy := newHoldProxy(t, am.URL)
	dir := t.TempDir()
	cfg := writeConfig(t, fmt.Sprintf(`sources:
  - {name: am, type: alertmanager, url: %s, interval: 1s}
services:
  - {name: payments, match: ['service="payments"']}
  - {name: web, match: ['service="web"']}
`, proxy.srv.URL))
	db, logf := filepath.Join(dir, "cache.db"), filepath.Join(dir, "log")

	// Two acks recorded by a console, which then goes away before
	// delivering them.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := openRuntime(t, ctx, cfg, db, logf)
	snap, d := observedPoll(t, ctx, s)
	uids := map[string]string{}
	for _, svc := range []string{"payments", "web"} {
		o := snap.Outage(svc)
		require.NotNil(t, o, svc)
		res, err := d.Do(ctx, model.ActionRequest{Verb: model.VerbAck, Service: svc, AlertKeys: o.Keys, Comment: "on it", Expiry: time.Hour})
		require.NoError(t, err)
		require.Equal(t, model.ActionPending, res.State, res.Message)
	}
	log, err := s.Cache.AuditLog(time.Time{})
	require.NoError(t, err)
	for _, e := range log {
		uids[e.Service] = e.UID
	}
	s.Close()

	// The headless poller delivers the outbox; it is killed while the
	// first silence POST is held.
	proxy.killPollerMidPost(t, cfg, db, logf)

	silences := func() map[string]int {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		l, err := alertmanager.NewSilencer(am.URL, nil).List(sctx)
		require.NoError(t, err)
		count := map[string]int{}
		for _, sil := range l {
			for svc, uid := range uids {
				if sil.Live() && strings.Contains(sil.Comment, model.Marker(uid, "")) {
					count[svc]++
				}
			}
		}
		return count
	}

	// Restart: the ack never tried is delivered; the one in flight is
	// still claimed by the dead process, so nothing duplicates it.
	code, out, errOut := bintest.Run(t, "poll", "--once", "--config", cfg, "--db", db, "--log-file", logf)
	require.Equal(t, 0, code, out+errOut)
	assert.Equal(t, map[string]int{"payments": 1, "web": 1}, silences())

	// The dead process's claim lapses (2×timeout+1m after it was taken;
	// moved to now here rather than waited for), and the next start
	// retries it: it finds the silence the Alertmanager took by its
	// marker and creates no second one.
	raw, err := sql.Open("sqlite3", "file:"+db+"?_busy_timeout=5000")
	require.NoError(t, err)
	res, err := raw.Exec(`UPDATE outbox SET next_at = ? WHERE state = 'pending'`, time.Now().UnixNano())
	require.NoError(t, err)
	claimed, _ := res.RowsAffected()
	require.NoError(t, raw.Close())
	assert.EqualValues(t, 1, claimed, "exactly the silence in flight was left pending")
	code, out, errOut = bintest.Run(t, "poll", "--once", "--config", cfg, "--db", db, "--log-file", logf)
	require.Equal(t, 0, code, out+errOut)
	assert.Equal(t, map[string]int{"payments": 1, "web": 1}, silences(), "exactly one silence per ack on the real Alertmanager")

	c, err := cache.Open(db)
	require.NoError(t, err)
	defer c.Close()
	log, err = c.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 2)
	for _, e := range log {
		assert.Equal(t, model.ActionDelivered, e.State, e.Service)
	}
}
