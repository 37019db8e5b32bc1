package runtime

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// runtimeLogEvery is how often a long-running process logs its runtime
// figures; SITROOM_RUNTIME_LOG_EVERY (a Go duration, "0" for never)
// overrides it.
const runtimeLogEvery = 10 * time.Minute

// runtimeLogInterval reads SITROOM_RUNTIME_LOG_EVERY; an unreadable value
// is logged and the default kept.
func runtimeLogInterval(log *slog.Logger) time.Duration {
	v := os.Getenv("SITROOM_RUNTIME_LOG_EVERY")
	if v == "" {
		return runtimeLogEvery
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		log.Warn("SITROOM_RUNTIME_LOG_EVERY is not a duration; logging runtime figures every "+runtimeLogEvery.String(), "value", v)
		return runtimeLogEvery
	}
	return d
}

// Stats are the figures that show a process growing over weeks on a
// wall screen: goroutines, the heap (live after the last collection, and in
// use now), its objects, and the resident set size.
type Stats struct {
	Goroutines  int
	HeapLive    uint64 // bytes marked live by the last garbage collection
	HeapInuse   uint64 // bytes in in-use heap spans now
	HeapObjects uint64
	RSS         uint64 // bytes; 0 where /proc is not there
}

// ReadStats reads the figures without stopping the world
// (runtime/metrics, not ReadMemStats).
func ReadStats() Stats {
	samples := []metrics.Sample{
		{Name: "/sched/goroutines:goroutines"},
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/gc/heap/objects:objects"},
	}
	metrics.Read(samples)
	u := func(i int) uint64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return samples[i].Value.Uint64()
	}
	st := Stats{
		Goroutines:  int(u(0)),
		HeapLive:    u(1),
		HeapInuse:   u(2) + u(3),
		HeapObjects: u(4),
		RSS:         selfRSS(),
	}
	if st.Goroutines == 0 {
		st.Goroutines = runtime.NumGoroutine()
	}
	return st
}

// selfRSS is VmRSS from /proc/self/status in bytes, or 0.
func selfRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) >= 2 && string(f[0]) == "VmRSS:" {
			kb, err := strconv.ParseUint(string(f[1]), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// LogRuntime logs a "runtime" line at start and then every interval until
// ctx ends; an interval of 0 logs nothing.
func LogRuntime(ctx context.Context, log *slog.Logger) {
	every := runtimeLogInterval(log)
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		st := ReadStats()
		log.Info("runtime", "goroutines", st.Goroutines, "heap_live", st.HeapLive, "heap_inuse", st.HeapInuse,
			"heap_objects", st.HeapObjects, "rss", st.RSS)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ParseStatsLine reads the figures back from a "runtime" line of the log
// (LogRuntime's), as the soak test and anyone grepping the log do; ok is
// false for any other line.
func ParseStatsLine(line string) (st Stats, ok bool) {
	if !strings.Contains(line, " msg=runtime ") {
		return Stats{}, false
	}
	for _, f := range strings.Fields(line) {
		k, v, found := strings.Cut(f, "=")
		if !found {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "goroutines":
			st.Goroutines = int(n)
		case "heap_live":
			st.HeapLive = n
		case "heap_inuse":
			st.HeapInuse = n
		case "heap_objects":
			st.HeapObjects = n
		case "rss":
			st.RSS = n
		}
	}
	return st, st.Goroutines > 0
}
