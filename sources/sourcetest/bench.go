package sourcetest

import (
	"context"
	stdjson "encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"sitroom/model"
	"sitroom/sources"
)

// SynthAlert is what the synthetic alerts of the decode and poll
// benchmarks have whatever their upstream; each source package's payload
// builder puts it in its own wire form, with its own state.
type SynthAlert struct {
	Labels      map[string]string
	Annotations map[string]string
	StartsAt    time.Time
}

var (
	synthSeverities = []string{"critical", "warning", "info"}
	synthBase       = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
)

// Synth returns the i-th synthetic alert, shaped like a real one: 8 to
// 12 labels (alertname, severity, service, instance, job, namespace, pod,
// cluster and up to four more), 2 or 3 annotations (a summary, a runbook
// and every other alert a description) and a start i seconds after
// 2026-11-26 08:00 UTC.
func Synth(i int) SynthAlert {
	l := map[string]string{
		"alertname": fmt.Sprintf("Alert%02d", i%50),
		"severity":  synthSeverities[i%3],
		"service":   fmt.Sprintf("svc-%02d", i%40),
		"instance":  fmt.Sprintf("10.%d.%d.%d:9100", i/65536%256, i/256%256, i%256),
		"job":       fmt.Sprintf("job-%02d", i%20),
		"namespace": fmt.Sprintf("ns-%d", i%10),
		"pod":       fmt.Sprintf("pod-%06d-abcde", i),
		"cluster":   fmt.Sprintf("eu-%d", i%3),
	}
	for k := 0; k < i%5; k++ {
		l[fmt.Sprintf("extra_%d", k)] = fmt.Sprintf("value-%d", (i+k)%7)
	}
	a := map[string]string{
		"summary":     fmt.Sprintf("Instance %s of svc-%02d is failing", l["instance"], i%40),
		"runbook_url": fmt.Sprintf("https://runbooks.example.com/alert%02d", i%50),
	}
	if i%2 == 0 {
		a["description"] = "Error rate above 5% for the last 5 minutes on this instance; check the upstream dependencies."
	}
	return SynthAlert{Labels: l, Annotations: a, StartsAt: synthBase.Add(time.Duration(i) * time.Second)}
}

// ServeJSON starts an HTTP server answering every request with payload
// as application/json; it is closed when the test or benchmark ends.
func ServeJSON(tb testing.TB, payload []byte) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(payload)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// BenchDecode measures decode reading payload, which holds n alerts,
// with one scanner and no ignored labels.
func BenchDecode(b *testing.B, payload []byte, n int, decode DecodeFunc) {
	sc := sources.NewJSONScanner()
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		alerts, err := decode(sc, payload, nil)
		if err != nil || len(alerts) != n {
			b.Fatalf("got %s, err %v", model.Plural(len(alerts), "alert", "alerts"), err)
		}
	}
}

// BenchUnmarshal measures encoding/json reading payload into a T, the
// baseline BenchDecode is compared with.
func BenchUnmarshal[T any](b *testing.B, payload []byte) {
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		var v T
		if err := stdjson.Unmarshal(payload, &v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchFetch measures whole polls of the source newSource returns for an
// HTTP server answering payload, which holds n alerts (see ServeJSON).
func BenchFetch(b *testing.B, payload []byte, n int, newSource func(url string, client *http.Client) Fetcher) {
	srv := ServeJSON(b, payload)
	src := newSource(srv.URL, srv.Client())
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		alerts, err := src.Fetch(context.Background())
		if err != nil || len(alerts) != n {
			b.Fatalf("got %s, err %v", model.Plural(len(alerts), "alert", "alerts"), err)
		}
	}
}
