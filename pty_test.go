package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair of cols×rows: the controlling side
// and the terminal the child gets.
func openPTY(t *testing.T, cols, rows uint16) (master, tty *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open tty: %v", err)
	}
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: rows}); err != nil {
		t.Fatalf("set window size: %v", err)
	}
	return master, tty
}

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

// cursorMove is a cursor position sequence (CUP), which precedes the
// text of every changed cell.
var cursorMove = regexp.MustCompile(`\x1b\[[0-9]+;[0-9]+H`)

// ptyRun is the built binary running in a pseudo-terminal, with
// everything it writes to the terminal kept.
type ptyRun struct {
	master  *os.File
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error

	mu  sync.Mutex
	out bytes.Buffer
}

// startInPTY runs bin with args in a cols×rows pseudo-terminal, its
// environment reduced to a fresh home and state directory, LANG, PATH and
// env (TERM among them). The process is asked to quit (q), then killed,
// when the test ends.
func startInPTY(t *testing.T, bin string, cols, rows uint16, env []string, args ...string) *ptyRun {
	t.Helper()
	dir := t.TempDir()
	master, tty := openPTY(t, cols, rows)
	r := &ptyRun{master: master, exited: make(chan struct{})}
	r.cmd = exec.Command(bin, args...)
	r.cmd.Env = append([]string{"HOME=" + dir, "XDG_STATE_HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "LANG=C.UTF-8", "PATH=" + os.Getenv("PATH")}, env...)
	r.cmd.Stdin, r.cmd.Stdout, r.cmd.Stderr = tty, tty, tty
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	go func() { r.waitErr = r.cmd.Wait(); close(r.exited) }()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			r.mu.Lock()
			r.out.Write(buf[:n])
			r.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_, _ = master.Write([]byte("q"))
		select {
		case <-r.exited:
		case <-time.After(5 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.exited
		}
		master.Close()
	})
	return r
}

// output returns a copy of everything written to the terminal so far.
func (r *ptyRun) output() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.out.Bytes()...)
}

// waitFor waits until the terminal has received want, failing the test
// with what it got if the process exits or the timeout passes first.
func (r *ptyRun) waitFor(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !bytes.Contains(r.output(), []byte(want)) {
		got := r.output()
		if time.Now().After(deadline) {
			t.Fatalf("no %q on the terminal after %v; it got:\n%q", want, timeout, got[:min(len(got), 4000)])
		}
		select {
		case <-r.exited:
			t.Fatalf("sitroom exited (%v) before %q showed; the terminal got:\n%q", r.waitErr, want, got[:min(len(got), 4000)])
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// quit presses q and returns how the process exited.
func (r *ptyRun) quit(t *testing.T) error {
	t.Helper()
	if _, err := r.master.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.exited:
		return r.waitErr
	case <-time.After(10 * time.Second):
		t.Fatal("q did not stop sitroom within 10s")
		return nil
	}
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
	bin := sitroomBinary(t)
	var polls atomic.Int64
	am := fixedAlertmanager(t, &polls)
	dir := t.TempDir()
	r := startInPTY(t, bin, 80, 24, []string{"TERM=xterm-256color"},
		"--config", alertmanagerConfig(t, am.URL), "--db", filepath.Join(dir, "cache.db"), "--log-file", filepath.Join(dir, "sitroom.log"))
	snapshot := r.output
	r.waitFor(t, "checkout", 30*time.Second)
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
		if !cursorMove.Match(frame) {
			t.Errorf("frame %d of the quiet interval changes nothing: %q", i, frame)
		}
	}
	t.Logf("%d bytes over a quiet %v (%d unchanged polls): %q", len(sent), quiet, pollsDuring, sent)
}
