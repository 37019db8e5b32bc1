package runtime_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sitroom/sources/runtime/bintest"
	"sitroom/sources/sourcetest"
)

// keyedTerminal is the built dashboard in a pseudo-terminal that the test
// types into.
type keyedTerminal struct {
	master *os.File
	mu     sync.Mutex
	out    bytes.Buffer
	exited chan struct{}
}

// startKeyed runs bin on cfg in a cols×rows pseudo-terminal, its cache
// and log in a fresh directory; it is killed when the test ends.
func startKeyed(t *testing.T, bin, cfg string, cols, rows uint16) *keyedTerminal {
	t.Helper()
	dir := t.TempDir()
	master, tty := bintest.OpenPTY(t, cols, rows)
	k := &keyedTerminal{master: master, exited: make(chan struct{})}
	cmd := exec.Command(bin, "--config", cfg, "--db", filepath.Join(dir, "cache.db"), "--log-file", filepath.Join(dir, "sitroom.log"))
	cmd.Env = []string{"TERM=xterm-256color", "HOME=" + dir, "XDG_STATE_HOME=" + dir, "XDG_CONFIG_HOME=" + dir,
		"LANG=C.UTF-8", "PATH=" + os.Getenv("PATH")}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	go func() { _ = cmd.Wait(); close(k.exited) }()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			k.mu.Lock()
			k.out.Write(buf[:n])
			k.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_, _ = master.Write([]byte("q"))
		select {
		case <-k.exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-k.exited
		}
		master.Close()
	})
	return k
}

// since returns what the terminal received after the first n bytes.
func (k *keyedTerminal) since(n int) []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]byte(nil), k.out.Bytes()[min(n, k.out.Len()):]...)
}

func (k *keyedTerminal) mark() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.out.Len()
}

// waitFor waits until the terminal received want after mark.
func (k *keyedTerminal) waitFor(t *testing.T, mark int, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !bytes.Contains(k.since(mark), []byte(want)) {
		select {
		case <-k.exited:
			t.Fatalf("sitroom exited before %q showed", want)
		default:
		}
		if time.Now().After(deadline) {
			got := k.since(mark)
			t.Fatalf("no %q on the terminal; it got:\n%q", want, got[max(len(got)-4000, 0):])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (k *keyedTerminal) press(t *testing.T, keys string) {
	t.Helper()
	if _, err := k.master.Write([]byte(keys)); err != nil {
		t.Fatal(err)
	}
}

// An operator acks an outage held by a real Alertmanager in three steps:
// a, the comment, Enter. The form says what it will silence before the
// comment is typed; the row then shows the ack and the Alertmanager holds
// the silence, with nothing pressed after that one Enter.
func TestAckByKeysIsCommentThenEnterAndSilences(t *testing.T) {
	bin := dashboardBinary(t)
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": "DBDown", "service": "db-main", "severity": "critical"}})
	k := startKeyed(t, bin, alertmanagerConfig(t, am.URL), 80, 24)
	k.waitFor(t, 0, "db-main")

	// The terminal gets only the cells that change, so a space that was
	// already there is not sent: the checks are on single words.
	m := k.mark()
	k.press(t, "a")
	k.waitFor(t, m, "Acknowledge")
	k.waitFor(t, m, "silence")
	m = k.mark()
	k.press(t, "\r")
	k.waitFor(t, m, "required")

	m = k.mark()
	k.press(t, "disk replaced\r")
	k.waitFor(t, m, "ACK")

	type silence struct {
		Comment string `json:"comment"`
		Status  struct {
			State string `json:"state"`
		} `json:"status"`
		Matchers []sourcetest.Matcher `json:"matchers"`
	}
	sourcetest.Eventually(t, 20*time.Second, 100*time.Millisecond, func() error {
		var ss []silence
		if err := json.Unmarshal(am.Get(t, "/api/v2/silences"), &ss); err != nil {
			return err
		}
		for _, s := range ss {
			if s.Status.State == "active" && strings.HasPrefix(s.Comment, "disk replaced [sitroom action ") {
				for _, mt := range s.Matchers {
					if mt.Name == "alertname" && mt.Value == "DBDown" && mt.IsEqual && !mt.IsRegex {
						return nil
					}
				}
			}
		}
		return fmt.Errorf("no active silence of DBDown from the ack: %+v", ss)
	})
}
