package runtime

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestLogRuntimeLine(t *testing.T) {
	t.Setenv("SITROOM_RUNTIME_LOG_EVERY", "1h")
	// The live heap is what the last collection marked: none before the
	// first (a test run first in its process saw heap_live=0).
	runtime.GC()
	var buf bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // one line at start, then it returns
	LogRuntime(ctx, slog.New(slog.NewTextHandler(&buf, nil)))
	line := buf.String()
	if strings.Count(line, "msg=runtime") != 1 {
		t.Fatalf("want one runtime line, got:\n%s", line)
	}
	s, ok := ParseStatsLine(line)
	if !ok || s.Goroutines < 1 || s.HeapInuse == 0 || s.HeapLive == 0 || s.HeapObjects == 0 {
		t.Errorf("runtime line without goroutines or heap figures: %s", line)
	}
	for _, k := range []string{"heap_objects=", "rss="} {
		if !strings.Contains(line, k) {
			t.Errorf("runtime line has no %s: %s", k, line)
		}
	}
	if _, err := os.Stat("/proc/self/status"); err == nil && strings.Contains(line, "rss=0\n") {
		t.Errorf("rss is 0 although /proc/self/status is there: %s", line)
	}
}

func TestRuntimeLogInterval(t *testing.T) {
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	for _, c := range []struct {
		env  string
		want time.Duration
	}{
		{"", runtimeLogEvery},
		{"30s", 30 * time.Second},
		{"0", 0},
		{"often", runtimeLogEvery},
		{"-1m", runtimeLogEvery},
	} {
		t.Setenv("SITROOM_RUNTIME_LOG_EVERY", c.env)
		if got := runtimeLogInterval(log); got != c.want {
			t.Errorf("SITROOM_RUNTIME_LOG_EVERY=%q: every %v, want %v", c.env, got, c.want)
		}
	}
}

func TestLogRuntimeOff(t *testing.T) {
	t.Setenv("SITROOM_RUNTIME_LOG_EVERY", "0")
	var buf bytes.Buffer
	LogRuntime(context.Background(), slog.New(slog.NewTextHandler(&buf, nil)))
	if buf.Len() != 0 {
		t.Errorf("SITROOM_RUNTIME_LOG_EVERY=0 still logged:\n%s", buf.String())
	}
}
