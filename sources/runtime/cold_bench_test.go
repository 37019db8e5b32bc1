package runtime_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sitroom/model/cache"
	"sitroom/sources/runtime/bintest"
	"sitroom/sources/sourcetest"
)

// BenchmarkMemoryPolling10k is the memory budget while polling (RSS ≤
// 128 MiB): the built binary's `sitroom poll` polling a real Alertmanager
// holding 10k alerts every second, its RSS sampled every 50 ms from
// /proc for 8 s after its first poll is in the cache. It reports the peak
// (VmHWM, start-up and first poll included) and the steady RSS (the
// median of the samples after the first poll), in MiB; sec/op is
// meaningless here.
func BenchmarkMemoryPolling10k(b *testing.B) {
	const n = 10_000
	am := startAlertmanager10k(b, n)
	bin := bintest.Binary(b)
	var peak, steady, top float64
	for b.Loop() {
		peak, steady, top = pollingRSS(b, bin, am.URL, 8*time.Second)
	}
	b.ReportMetric(peak, "peak-RSS-MiB")
	b.ReportMetric(steady, "steady-RSS-MiB")
	b.ReportMetric(top, "max-sampled-RSS-MiB")
	b.ReportMetric(0, "ns/op")
}

// pollingRSS runs `sitroom poll` against url with a 1 s interval and
// samples its memory for d once its first poll is stored.
func pollingRSS(b *testing.B, bin, url string, d time.Duration) (peak, steady, top float64) {
	dir := b.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("sources:\n  - {name: am, type: alertmanager, url: %s, interval: 1s}\n", url)), 0o600); err != nil {
		b.Fatal(err)
	}
	db := filepath.Join(dir, "cache.db")
	cmd := exec.Command(bin, "poll", "--config", cfg, "--db", db, "--log-file", filepath.Join(dir, "log"))
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	// Wait for the first poll to be in the cache (read without its mirror).
	deadline := time.Now().Add(30 * time.Second)
	for {
		if time.Now().After(deadline) {
			b.Fatal("no poll stored within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
		if _, err := os.Stat(db); err != nil {
			continue
		}
		c, err := cache.Open(db)
		if err != nil {
			continue
		}
		pv, err := c.Preview(1)
		c.Close()
		if err == nil && len(pv.Statuses) > 0 && !pv.Statuses[0].LastSuccess.IsZero() {
			break
		}
	}
	var samples []float64
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		rss := procField(b, status, "VmRSS")
		samples = append(samples, rss)
		top = max(top, rss)
	}
	peak = procField(b, status, "VmHWM")
	slices.Sort(samples)
	return peak, samples[len(samples)/2], top
}

// procField reads a memory line (in kB) of a /proc status file, in MiB.
func procField(b *testing.B, path, field string) float64 {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatalf("%s: no %s", path, field)
	return 0
}

// BenchmarkFirstFrameFresh10k is the first frame with fresh data from a
// cold start, beside amtool on the same real Alertmanager holding 10k
// alerts: each iteration starts from nothing, as a console started on a
// new host does (a fresh cache file, a new source with an empty memo and
// a new connection), and takes the dashboard's path (the poller's Run and
// the feed, freshFirstFrame) to a 200×60 frame holding every alert; then
// `amtool alert query` runs, and curl fetches the same reply: the floor,
// the Alertmanager's own serve time. The three take turns at each place
// in the order. It reports the medians, sitroom's ratio to amtool
// (budget ≤ 0.4) and curl's (no client does better; BenchmarkVersusAmtool10k
// is the same with the source's memo and connection kept from one
// iteration to the next).
func BenchmarkFirstFrameFresh10k(b *testing.B) {
	amtool := sourcetest.RequireBinary(b, "amtool")
	curl := sourcetest.RequireBinary(b, "curl")
	const n = 10_000
	am := startAlertmanager10k(b, n)
	screen := benchScreen(b)
	url := am.URL + "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true"
	var ours, theirs, floor []time.Duration
	steps := []func(){
		func() { ours = append(ours, freshFirstFrame(b, screen, am.URL, n, true)) },
		func() { theirs = append(theirs, amtoolQuery(b, amtool, am.URL, n)) },
		func() { floor = append(floor, curlFetch(b, curl, url)) },
	}
	for _, step := range steps { // the server's caches, not ours: every iteration starts cold
		step()
	}
	ours, theirs, floor = nil, nil, nil
	i := 0
	for b.Loop() {
		for k := range steps {
			steps[(i+k)%len(steps)]()
		}
		i++
	}
	mo, mt, mc := median(ours), median(theirs), median(floor)
	b.Logf("median: sitroom %.1f ms, amtool %.1f ms, curl %.1f ms", ms(mo), ms(mt), ms(mc))
	b.ReportMetric(ms(mo), "sitroom-ms")
	b.ReportMetric(ms(mt), "amtool-ms")
	b.ReportMetric(ms(mc), "curl-ms")
	b.ReportMetric(float64(mo)/float64(mt), "ratio")
	b.ReportMetric(float64(mc)/float64(mt), "curl-ratio")
	b.ReportMetric(0, "ns/op")
}
