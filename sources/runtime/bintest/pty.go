package bintest

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// OpenPTY opens a pseudo-terminal pair of cols×rows: the controlling side
// and the terminal the child gets.
func OpenPTY(t testing.TB, cols, rows uint16) (master, tty *os.File) {
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

// CursorMove is a cursor position sequence (CUP), which precedes the
// text of every changed cell.
var CursorMove = regexp.MustCompile(`\x1b\[[0-9]+;[0-9]+H`)

// PTY is the built binary running in a pseudo-terminal, with
// everything it writes to the terminal kept.
type PTY struct {
	master  *os.File
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error

	mu  sync.Mutex
	out bytes.Buffer
}

// StartInPTY runs bin with args in a cols×rows pseudo-terminal, its
// environment reduced to a fresh home and state directory, LANG, PATH and
// env (TERM among them). The process is asked to quit (q), then killed,
// when the test ends.
func StartInPTY(t testing.TB, bin string, cols, rows uint16, env []string, args ...string) *PTY {
	t.Helper()
	dir := t.TempDir()
	master, tty := OpenPTY(t, cols, rows)
	r := &PTY{master: master, exited: make(chan struct{})}
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

// Output returns a copy of everything written to the terminal so far.
func (r *PTY) Output() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.out.Bytes()...)
}

// WaitFor waits until the terminal has received want, failing the test
// with what it got if the process exits or the timeout passes first.
func (r *PTY) WaitFor(t testing.TB, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !bytes.Contains(r.Output(), []byte(want)) {
		got := r.Output()
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

// Quit presses q and returns how the process exited.
func (r *PTY) Quit(t testing.TB) error {
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
