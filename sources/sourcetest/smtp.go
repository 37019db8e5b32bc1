package sourcetest

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sitroom/model"
)

// SMTPServer is Debian's aiosmtpd (python3-aiosmtpd) running on a free
// loopback port: a real SMTP server that prints every message it
// receives. It offers neither STARTTLS nor AUTH, so a client sends plain
// text to it, as to a local relay.
type SMTPServer struct {
	Port int

	mu  sync.Mutex
	out bytes.Buffer
}

// Write collects what the server prints.
func (s *SMTPServer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Write(p)
}

// Output is everything the server printed so far: each message received
// with its envelope.
func (s *SMTPServer) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

const (
	smtpBegin = "---------- MESSAGE FOLLOWS ----------"
	smtpEnd   = "------------ END MESSAGE ------------"
)

// Count is how many complete messages the server received.
func (s *SMTPServer) Count() int { return strings.Count(s.Output(), smtpEnd) }

// Messages waits until the server received n complete messages and
// returns them (envelope options, a blank line, then the message, with
// LF line ends), failing the test after 20 s.
func (s *SMTPServer) Messages(t testing.TB, n int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for s.Count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s expected; aiosmtpd printed:\n%s", model.Plural(n, "message", "messages"), s.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var msgs []string
	for _, m := range strings.Split(s.Output(), smtpBegin)[1:] {
		msgs = append(msgs, strings.ReplaceAll(m[:strings.Index(m, smtpEnd)], "\r\n", "\n"))
	}
	return msgs
}

// StartSMTP runs aiosmtpd on a free loopback port until the test ends and
// waits until it listens. Without it the test is skipped, or fails when
// SITROOM_REQUIRE_INTEGRATION is set.
func StartSMTP(t testing.TB) *SMTPServer {
	t.Helper()
	bin := RequireBinary(t, "aiosmtpd")
	s := &SMTPServer{Port: FreePort(t)}
	addr := "127.0.0.1:" + strconv.Itoa(s.Port)
	cmd := exec.Command(bin, "-n", "-l", addr)
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	cmd.Stdout, cmd.Stderr = s, s
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting aiosmtpd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("aiosmtpd did not listen on %s: %v\n%s", addr, err, s.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
