// Package uitest runs sitroom's UI on a tcell simulation screen for tests:
// screens, screen text, golden files, a fake feed and a harness that runs
// a whole App, injects keys and waits for it to be idle instead of
// sleeping. It is imported by tests only.
package uitest

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
	"sitroom/ui"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden/ui")

// Timeout bounds every wait of the harness.
const Timeout = 30 * time.Second

// NewScreen returns an initialised simulation screen of w×h cells.
func NewScreen(t testing.TB, w, h int) tcell.SimulationScreen {
	t.Helper()
	s := tcell.NewSimulationScreen("UTF-8")
	if err := s.Init(); err != nil {
		t.Fatalf("simulation screen: %v", err)
	}
	s.SetSize(w, h)
	t.Cleanup(s.Fini)
	return s
}

// ScreenText returns the shown cells as plain text lines, trailing spaces
// trimmed. The second cell of a wide glyph adds nothing.
func ScreenText(s tcell.SimulationScreen) []string {
	cells, w, h := s.GetContents()
	lines := make([]string, h)
	for y := 0; y < h; y++ {
		var b strings.Builder
		for x := 0; x < w; x++ {
			c := cells[y*w+x]
			if len(c.Runes) == 0 {
				if x > 0 && len(cells[y*w+x-1].Runes) > 0 && wideRune(cells[y*w+x-1].Runes[0]) {
					continue
				}
				b.WriteByte(' ')
				continue
			}
			b.WriteString(string(c.Runes))
		}
		lines[y] = strings.TrimRight(b.String(), " ")
	}
	return lines
}

func wideRune(r rune) bool {
	return r >= 0x1100 && (r <= 0x115f || r >= 0x2e80 && r <= 0xa4cf || r >= 0xac00 && r <= 0xd7a3 ||
		r >= 0xf900 && r <= 0xfaff || r >= 0xfe30 && r <= 0xfe4f || r >= 0xff00 && r <= 0xff60 ||
		r >= 0xffe0 && r <= 0xffe6 || r >= 0x1f300 && r <= 0x1faff || r >= 0x20000 && r <= 0x3fffd)
}

// GoldenDir is where golden files live, found from the module root.
func GoldenDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "golden", "ui")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// Golden compares got with testdata/golden/ui/<name>.txt; with -update it
// rewrites the file instead.
func Golden(t testing.TB, name string, got []string) {
	t.Helper()
	path := filepath.Join(GoldenDir(t), name+".txt")
	text := strings.Join(got, "\n") + "\n"
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run go test ./ui/... -update to create it)", name, err)
	}
	if string(want) != text {
		wl := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
		var diff strings.Builder
		for i := 0; i < max(len(wl), len(got)); i++ {
			var a, b string
			if i < len(wl) {
				a = wl[i]
			}
			if i < len(got) {
				b = got[i]
			}
			if a != b {
				diff.WriteString("line " + itoa(i+1) + "\n  want: " + a + "\n  got:  " + b + "\n")
			}
		}
		t.Errorf("screen differs from golden %s (go test ./ui/... -update rewrites it):\n%s", name, diff.String())
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var d []byte
	for ; n > 0; n /= 10 {
		d = append([]byte{byte('0' + n%10)}, d...)
	}
	return string(d)
}

// FakeFeed is a channel-based ui.Feed.
type FakeFeed struct {
	ch        chan *model.Snapshot
	refreshes atomic.Int64
	closeOnce sync.Once
	mu        sync.Mutex
}

// NewFakeFeed returns a feed with a latest-wins channel of capacity 1.
func NewFakeFeed() *FakeFeed { return &FakeFeed{ch: make(chan *model.Snapshot, 1)} }

// Snapshots implements ui.Feed.
func (f *FakeFeed) Snapshots() <-chan *model.Snapshot { return f.ch }

// Refresh implements ui.Feed; it only counts the calls.
func (f *FakeFeed) Refresh() { f.refreshes.Add(1) }

// Refreshes counts Refresh calls.
func (f *FakeFeed) Refreshes() int { return int(f.refreshes.Load()) }

// Push publishes s, replacing a snapshot not yet taken (latest wins).
func (f *FakeFeed) Push(s *model.Snapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		select {
		case f.ch <- s:
			return
		default:
			select {
			case <-f.ch:
			default:
			}
		}
	}
}

// Close stops the feed.
func (f *FakeFeed) Close() { f.closeOnce.Do(func() { close(f.ch) }) }

// Harness runs a whole App on a simulation screen.
type Harness struct {
	t      testing.TB
	App    *ui.App
	Screen tcell.SimulationScreen
	Feed   *FakeFeed
	errc   chan error
	once   sync.Once
}

// Start runs an App with opts (its Feed replaced by a FakeFeed when nil) on
// a w×h simulation screen and waits for the first frame. The App is
// stopped when the test ends.
func Start(t testing.TB, opts ui.Options, w, h int) *Harness {
	t.Helper()
	hs := &Harness{t: t, errc: make(chan error, 1)}
	if opts.Feed == nil {
		hs.Feed = NewFakeFeed()
		opts.Feed = hs.Feed
	}
	hs.App = ui.New(opts)
	hs.Screen = tcell.NewSimulationScreen("UTF-8")
	hs.App.SetScreen(hs.Screen) // initialises it
	hs.Screen.SetSize(w, h)
	go func() { hs.errc <- hs.App.Run() }()
	t.Cleanup(hs.Stop)
	hs.WaitIdle()
	return hs
}

// WaitIdle waits until the App has handled everything queued and drawn it.
func (h *Harness) WaitIdle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := h.App.WaitIdle(ctx); err != nil {
		h.t.Fatalf("UI not idle after %v", Timeout)
	}
}

// Key injects a special key and waits for its frame.
func (h *Harness) Key(k tcell.Key) {
	h.t.Helper()
	h.App.InjectKey(tcell.NewEventKey(k, 0, tcell.ModNone))
	h.WaitIdle()
}

// Type injects each rune of s as a key press and waits for the frames.
func (h *Harness) Type(s string) {
	h.t.Helper()
	for _, r := range s {
		h.App.InjectKey(tcell.NewEventKey(tcell.KeyRune, r, tcell.ModNone))
	}
	h.WaitIdle()
}

// Push publishes s through the fake feed and waits until it is on screen.
func (h *Harness) Push(s *model.Snapshot) {
	h.t.Helper()
	h.Feed.Push(s)
	deadline := time.Now().Add(Timeout)
	for {
		var cur *model.Snapshot
		h.App.Inspect(func() { cur = h.App.Current() })
		if cur == s {
			break
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("snapshot not shown after %v", Timeout)
		}
		time.Sleep(time.Millisecond)
	}
	h.WaitIdle()
}

// Resize changes the screen size and waits for the new frame.
func (h *Harness) Resize(w, hh int) {
	h.t.Helper()
	h.Screen.SetSize(w, hh)
	h.App.Redraw()
	h.WaitIdle()
}

// Text is the screen as plain text lines, read between frames.
func (h *Harness) Text() []string {
	var lines []string
	h.App.Inspect(func() { lines = ScreenText(h.Screen) })
	return lines
}

// Cells is a copy of the screen's cells and its size, read between
// frames: the simulation screen's own slice is rewritten by every frame,
// so it must not be read outside Inspect.
func (h *Harness) Cells() (cells []tcell.SimCell, w, hh int) {
	h.App.Inspect(func() {
		var front []tcell.SimCell
		front, w, hh = h.Screen.GetContents()
		cells = make([]tcell.SimCell, len(front))
		for i, c := range front {
			c.Runes = append([]rune(nil), c.Runes...)
			c.Bytes = append([]byte(nil), c.Bytes...)
			cells[i] = c
		}
	})
	return cells, w, hh
}

// Contains reports whether any screen line contains sub.
func (h *Harness) Contains(sub string) bool {
	return strings.Contains(strings.Join(h.Text(), "\n"), sub)
}

// Stop stops the App and waits for Run to return.
func (h *Harness) Stop() {
	h.once.Do(func() {
		h.App.Stop()
		select {
		case err := <-h.errc:
			if err != nil {
				h.t.Errorf("Run: %v", err)
			}
		case <-time.After(Timeout):
			h.t.Errorf("Run did not return within %v of Stop", Timeout)
		}
	})
}

// Exited waits for Run to return by itself (for example after the quit key).
func (h *Harness) Exited() bool {
	select {
	case err := <-h.errc:
		h.once.Do(func() {})
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
		return true
	case <-time.After(Timeout):
		return false
	}
}
