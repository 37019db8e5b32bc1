package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
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

// TestQuietScreenSendsOnlyTheClock runs the built dashboard in a
// pseudo-terminal at 80×24 against an Alertmanager whose alerts never
// change, and counts the bytes written to the terminal over a quiet five
// seconds: polls of unchanged data send nothing, only the clock's second
// is redrawn, so the traffic stays under 200 bytes a second.
func TestQuietScreenSendsOnlyTheClock(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sitroom")
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	if out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var polls atomic.Int64
	am := fixedAlertmanager(t, &polls)
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("sources:\n  - {name: am, type: alertmanager, url: '"+am.URL+"', interval: 1s}\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	master, tty := openPTY(t, 80, 24)
	defer master.Close()
	cmd := exec.Command(bin, "--config", cfg, "--db", filepath.Join(dir, "cache.db"), "--log-file", filepath.Join(dir, "sitroom.log"))
	cmd.Env = []string{"TERM=xterm-256color", "HOME=" + dir, "XDG_STATE_HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "LANG=C.UTF-8", "PATH=" + os.Getenv("PATH")}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		_, _ = master.Write([]byte("q"))
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	var mu sync.Mutex
	var out bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	snapshot := func() []byte {
		mu.Lock()
		defer mu.Unlock()
		return append([]byte(nil), out.Bytes()...)
	}

	deadline := time.Now().Add(30 * time.Second)
	for !bytes.Contains(snapshot(), []byte("DiskFull")) && !bytes.Contains(snapshot(), []byte("checkout")) {
		if time.Now().After(deadline) {
			got := snapshot()
			t.Fatalf("no first frame with the alerts after 30s; the terminal got:\n%q", got[:min(len(got), 4000)])
		}
		select {
		case <-exited:
			got := snapshot()
			t.Fatalf("sitroom exited; the terminal got:\n%q", got[:min(len(got), 4000)])
		case <-time.After(50 * time.Millisecond):
		}
	}
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
	t.Logf("%d bytes over a quiet %v (%d unchanged polls): %q", len(sent), quiet, pollsDuring, sent)
}
