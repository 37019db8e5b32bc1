package ui_test

import (
	"strings"
	"testing"
	"time"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// A cache replaced while the console runs is said on the status line,
// over the failing sources (their chips still say they are down), and on
// the ? page.
func TestCacheNoteOnTheStatusLine(t *testing.T) {
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }}, 130, 40)
	s := fixture()
	s.CacheNote = "cache was corrupt at 10:15:00: moved aside to cache.db.corrupt-20261126T101500Z, a fresh one was created with 41 audit rows copied"
	h.Push(s)
	lines := h.Text()
	if status := lines[len(lines)-2]; !strings.HasPrefix(status, "cache was corrupt at 10:15:00: moved aside to cache.db.corrupt-") {
		t.Fatalf("the status line does not say the cache was replaced: %q\n%s", status, screen(h))
	}
	if !h.Contains("prom down") {
		t.Fatalf("the failing source's chip is gone:\n%s", screen(h))
	}
	h.Type("?")
	if !h.Contains("41 audit rows copied") {
		t.Fatalf("the ? page does not hold the note:\n%s", screen(h))
	}
}

// Nothing could be read from the cache and there is nothing to show: the
// header says so instead of zero counts, the status line says why.
func TestCacheErrorWithNothingToShow(t *testing.T) {
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }}, 130, 40)
	h.Push(&model.Snapshot{CacheError: "cache /var/lib/sitroom/cache.db is locked by another process (waited 5s to read cache): database is locked"})
	lines := h.Text()
	if !strings.Contains(lines[0], "no data: cache unreadable") || strings.Contains(lines[0], "0 outages") {
		t.Fatalf("the header does not say there is no data: %q", lines[0])
	}
	if !h.Contains("cache /var/lib/sitroom/cache.db is locked by another process") {
		t.Fatalf("the status line does not say why:\n%s", screen(h))
	}
	// A later complete snapshot clears both.
	h.Push(fixture())
	if h.Contains("cache unreadable") || h.Contains("is locked") {
		t.Fatalf("the cache error outlives a complete snapshot:\n%s", screen(h))
	}
}
