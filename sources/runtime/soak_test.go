package runtime_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sitroom/sources/runtime"
	"sitroom/sources/runtime/bintest"
)

// soakKeys is what the operator presses, one key a second, round and
// round: panels, moving, opening and closing details, help, a filter and
// the handoff view. No key that acts (a, u, e, t, n) or quits (q) is ever
// pressed where it would be read as a command: the filter's text is "db",
// typed only after three Escs have brought the screen back to the panels.
var soakKeys = []string{
	"\t", "\t", "j", "j", "k",
	"1", "j", "\r", "\x1b", // an outage → its alerts, Esc clears that filter
	"2", "j", "\r", "j", "\x1b", // an alert's detail
	"4", "j", "\r", "j", "\x1b", // a ticket's detail
	"3", "j", "\r", // a dependency → its outage
	"?", "j", "\x1b", "\x1b", "\x1b",
	"/", "d", "b", "\r", "j", "\x1b", // filter "db", kept, then cleared
	"h", "j", "\x1b", "\x1b", "\x1b",
	"v", "v", "s", "g", "G", "r",
}

// soakSample is one reading of the child: the runtime line it logged last
// (goroutines, live heap, heap in use) and its resident set from /proc.
type soakSample struct {
	at         time.Duration
	goroutines int
	heapLive   uint64
	heapInuse  uint64
	rss        uint64
}

// TestSoak runs the dashboard built with the race detector on --demo in a
// pseudo-terminal with a key pressed every second, and samples its
// goroutines, heap and RSS.
//
// SITROOM_SOAK sets the duration (make soak: 30m); SOAK_ARGS adds flags to
// the dashboard's command line; SOAK_RACE=0 builds without the race
// detector, whose shadow memory is otherwise part of the RSS. Without SITROOM_SOAK it runs 45 s: long
// enough for the race detector to see every key's path and the polls, and
// for the liveness check, but too short to tell growth from warm-up, so the
// growth rule is only applied to runs of 10 minutes or more (the short run
// logs its figures).
//
// Growth rule (runs ≥ 10 min): samples from the first 3 minutes are warm-up
// and dropped; the rest are split in thirds. Goroutines: the largest count
// in the last third may exceed the largest in the first third by at most 5
// (a poll or a key may have a goroutine or two in flight). Live heap and
// RSS: the median of the last third may exceed the median of the first
// third by at most 20% plus 4 MiB (heap) or 16 MiB (RSS, which the race
// detector's shadow memory also counts).
//
// Always: the race detector reports nothing (GORACE halt_on_error, reports
// to a file), the process does not exit on its own, a final key still
// changes the screen, and q quits with status 0.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the race-detector binary and runs it")
	}
	dur := 45 * time.Second
	if v := os.Getenv("SITROOM_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("SITROOM_SOAK=%q: want a duration such as 30m", v)
		}
		dur = d
	}
	judgeGrowth := dur >= 10*time.Minute
	sampleEvery := min(max(dur/30, 5*time.Second), time.Minute)
	logEvery := min(sampleEvery/2, 10*time.Second)

	dir := t.TempDir()
	bin := filepath.Join(dir, "sitroom")
	flags, under := []string{"-race"}, "under the race detector"
	if os.Getenv("SOAK_RACE") == "0" {
		flags, under = nil, "without the race detector (SOAK_RACE=0)"
	}
	if err := bintest.Build(bin, flags...); err != nil {
		t.Fatal(err)
	}

	logPath := filepath.Join(dir, "sitroom.log")
	racePrefix := filepath.Join(dir, "race")
	args := append([]string{"--demo", "--db", filepath.Join(dir, "demo.db"), "--log-file", logPath},
		strings.Fields(os.Getenv("SOAK_ARGS"))...)
	master, tty := bintest.OpenPTY(t, 120, 40)
	defer master.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"TERM=xterm-256color", "HOME=" + dir, "XDG_STATE_HOME=" + dir, "XDG_CONFIG_HOME=" + dir,
		"LANG=C.UTF-8", "PATH=" + os.Getenv("PATH"),
		"GORACE=halt_on_error=1 log_path=" + racePrefix,
		"SITROOM_RUNTIME_LOG_EVERY=" + logEvery.String()}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	pid := cmd.Process.Pid
	t.Logf("sitroom %s (pid %d) %s for %v, sampled every %v", strings.Join(args, " "), pid, under, dur, sampleEvery)
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	defer func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	raceReports := func() string {
		files, _ := filepath.Glob(racePrefix + ".*")
		var b strings.Builder
		for _, f := range files {
			data, _ := os.ReadFile(f)
			b.Write(data)
		}
		return b.String()
	}

	// The terminal is drained all along (a child whose writes block would
	// stop); only the last 64 KiB are kept, with a running byte count.
	term := &tail{max: 64 << 10}
	go func() {
		buf := make([]byte, 8192)
		for {
			n, err := master.Read(buf)
			term.write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	died := func(when string) {
		t.Helper()
		<-exited
		t.Fatalf("sitroom exited %s (%v)\nrace reports:\n%s\nlog tail:\n%s\nterminal tail:\n%q",
			when, waitErr, raceReports(), fileTail(logPath, 4000), term.last(2000))
	}

	// Wait for the first frame.
	deadline := time.Now().Add(60 * time.Second)
	for !bytes.Contains(term.last(64<<10), []byte("noc-desk")) {
		if time.Now().After(deadline) {
			t.Fatalf("no first frame after 60s; the terminal got:\n%q", term.last(4000))
		}
		select {
		case <-exited:
			died("before its first frame")
		case <-time.After(100 * time.Millisecond):
		}
	}

	start := time.Now()
	keys := time.NewTicker(time.Second)
	defer keys.Stop()
	sampler := time.NewTicker(sampleEvery)
	defer sampler.Stop()
	end := time.After(dur)
	var samples []soakSample
	pressed := 0
	lr := &logReader{path: logPath}
	sample := func() {
		t.Helper()
		s, ok := lr.latest()
		if !ok {
			t.Fatalf("no runtime line in the log after %v:\n%s", time.Since(start), fileTail(logPath, 4000))
		}
		s.at = time.Since(start).Round(time.Second)
		s.rss = procRSS(pid)
		samples = append(samples, s)
		t.Logf("%8v  goroutines %4d  heap_live %7.1f MiB  heap_inuse %7.1f MiB  rss %7.1f MiB  (%d keys, %d bytes to the terminal)",
			s.at, s.goroutines, mib(s.heapLive), mib(s.heapInuse), mib(s.rss), pressed, term.total())
	}
loop:
	for {
		select {
		case <-exited:
			died(fmt.Sprintf("after %v and %d keys", time.Since(start).Round(time.Second), pressed))
		case <-keys.C:
			if _, err := master.Write([]byte(soakKeys[pressed%len(soakKeys)])); err != nil {
				t.Fatalf("key %d: %v", pressed, err)
			}
			pressed++
		case <-sampler.C:
			sample()
		case <-end:
			break loop
		}
	}
	if len(samples) == 0 || time.Since(start)-samples[len(samples)-1].at > sampleEvery/2 {
		sample()
	}

	// Still answering: back to the panels, then ? must bring up help — or,
	// on the wall screen (--kiosk), which opens no help, flash its hint
	// once the last key's flash has gone.
	for _, k := range []string{"\x1b", "\x1b", "\x1b"} {
		_, _ = master.Write([]byte(k))
		time.Sleep(300 * time.Millisecond)
	}
	time.Sleep(4 * time.Second)
	mark := term.total()
	_, _ = master.Write([]byte("?"))
	deadline = time.Now().Add(10 * time.Second)
	answered := func() bool {
		got := term.since(mark)
		return bytes.Contains(got, []byte("close help")) || bytes.Contains(got, []byte("read-only wall screen"))
	}
	for !answered() {
		if time.Now().After(deadline) {
			t.Fatalf("? changed nothing within 10s after the soak; the terminal got since:\n%q", term.since(mark))
		}
		select {
		case <-exited:
			died("at the final key")
		case <-time.After(100 * time.Millisecond):
		}
	}
	time.Sleep(300 * time.Millisecond)
	_, _ = master.Write([]byte("\x1b"))
	time.Sleep(300 * time.Millisecond)
	_, _ = master.Write([]byte("q"))
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("q did not stop sitroom within 15s")
	}
	if r := raceReports(); r != "" {
		t.Fatalf("the race detector reported:\n%s", r)
	}
	if waitErr != nil {
		t.Fatalf("sitroom exited with %v (66 is the race detector's)\nlog tail:\n%s", waitErr, fileTail(logPath, 4000))
	}

	t.Logf("%d keys pressed over %v; %d samples:", pressed, dur, len(samples))
	t.Logf("%8s %11s %14s %15s %9s", "t", "goroutines", "heap_live MiB", "heap_inuse MiB", "rss MiB")
	for _, s := range samples {
		t.Logf("%8v %11d %14.1f %15.1f %9.1f", s.at, s.goroutines, mib(s.heapLive), mib(s.heapInuse), mib(s.rss))
	}
	if !judgeGrowth {
		t.Logf("growth not judged: %v is shorter than 10m (set SITROOM_SOAK)", dur)
		return
	}
	var kept []soakSample
	for _, s := range samples {
		if s.at >= 3*time.Minute {
			kept = append(kept, s)
		}
	}
	if len(kept) < 6 {
		t.Fatalf("only %d samples after the warm-up", len(kept))
	}
	third := len(kept) / 3
	first, last := kept[:third], kept[len(kept)-third:]
	field := func(ss []soakSample, f func(soakSample) uint64) []uint64 {
		out := make([]uint64, len(ss))
		for i, s := range ss {
			out[i] = f(s)
		}
		return out
	}
	gor := func(s soakSample) uint64 { return uint64(s.goroutines) }
	if a, b := slices.Max(field(first, gor)), slices.Max(field(last, gor)); b > a+5 {
		t.Errorf("goroutines grew: at most %d in the first third after warm-up, %d in the last", a, b)
	}
	for _, m := range []struct {
		name  string
		f     func(soakSample) uint64
		slack uint64
	}{
		{"live heap", func(s soakSample) uint64 { return s.heapLive }, 4 << 20},
		{"RSS", func(s soakSample) uint64 { return s.rss }, 16 << 20},
	} {
		a, b := median(field(first, m.f)), median(field(last, m.f))
		t.Logf("%s: median %.1f MiB in the first third after warm-up, %.1f MiB in the last", m.name, mib(a), mib(b))
		if b > a+a/5+m.slack {
			t.Errorf("%s grew: median %.1f MiB in the first third after warm-up, %.1f MiB in the last (allowed: +20%% +%.0f MiB)",
				m.name, mib(a), mib(b), mib(m.slack))
		}
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// tail keeps the last max bytes written to it and counts them all.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
	n   int
}

func (t *tail) write(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	t.n += len(p)
}

func (t *tail) total() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// last returns up to n of the last bytes.
func (t *tail) last(n int) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.buf[max(0, len(t.buf)-n):])
}

// since returns what was written after the running count was mark (as much
// of it as is kept).
func (t *tail) since(mark int) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.buf[max(0, len(t.buf)-(t.n-mark)):])
}

// logReader follows the log file and remembers the last runtime line.
type logReader struct {
	path string
	off  int64
	last soakSample
	seen bool
}

func (r *logReader) latest() (soakSample, bool) {
	f, err := os.Open(r.path)
	if err != nil {
		return r.last, r.seen
	}
	defer f.Close()
	if _, err := f.Seek(r.off, 0); err != nil {
		return r.last, r.seen
	}
	br := bufio.NewReader(f)
	for {
		line, err := br.ReadString('\n')
		if err != nil { // a partial last line is read again next time
			break
		}
		r.off += int64(len(line))
		if s, ok := parseRuntimeLine(line); ok {
			r.last, r.seen = s, true
		}
	}
	return r.last, r.seen
}

// parseRuntimeLine reads the child's runtime log line.
func parseRuntimeLine(line string) (soakSample, bool) {
	st, ok := runtime.ParseStatsLine(line)
	return soakSample{goroutines: st.Goroutines, heapLive: st.HeapLive, heapInuse: st.HeapInuse}, ok
}

// procRSS is VmRSS of the process from /proc, in bytes (0 if unreadable).
func procRSS(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// fileTail is the last n bytes of a file, for failure messages.
func fileTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "(no file)"
	}
	if err != nil {
		return err.Error()
	}
	return string(b[max(0, len(b)-n):])
}
